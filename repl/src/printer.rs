//! Rendering results the way Flink's SQL client does.
//!
//! Two shapes exist. A finished result (`SHOW`, `DESCRIBE`, and the final
//! table of the `table` result mode) is printed once, so its columns are
//! exactly as wide as their widest value. A streaming `SELECT` prints each row
//! as it arrives, before later rows are known, so its column widths come from
//! the column types instead, and values that do not fit are cut with `...`.
//!
//! Everything here writes to a `dyn Write` and is synchronous, so it can be
//! tested on exact strings; reading the result channel lives in `runner`.

use std::io::Write;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int8Type, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use sluice::{ROW_KIND_COLUMN, Result, RowKind, SluiceError};
use unicode_width::UnicodeWidthStr;

use crate::format::{NULL, format_column};
use crate::live_table::LiveTable;

/// The `SET` key that picks how `SELECT` results are shown.
pub const RESULT_MODE_KEY: &str = "sql-client.execution.result-mode";

/// How a streaming `SELECT` is shown (`sql-client.execution.result-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultMode {
    /// Rows in a bordered table as they arrive, with an `op` column.
    #[default]
    Tableau,
    /// Like tableau without borders: one ` +I | 1 | abc` line per change.
    Changelog,
    /// The result as a table updated in place on a terminal (see
    /// `live_table`); elsewhere, the final table when the query ends.
    Table,
}

impl ResultMode {
    /// The mode named by the option's value; unknown or unset means tableau,
    /// Flink's default.
    pub fn from_config(value: Option<&str>) -> ResultMode {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("changelog") => ResultMode::Changelog,
            Some("table") => ResultMode::Table,
            _ => ResultMode::Tableau,
        }
    }
}

/// One row of a streaming result: its change kind and formatted values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub kind: RowKind,
    pub values: Vec<String>,
}

/// Every row of `batch`, formatted. When `is_changelog`, the kind comes from
/// the row-kind column (found by name, else the trailing column), which is not
/// a value; otherwise every row is an insert.
pub fn batch_rows(batch: &RecordBatch, is_changelog: bool) -> Result<Vec<ChangeRow>> {
    let kind_index = if is_changelog && batch.num_columns() > 0 {
        Some(
            batch
                .schema()
                .index_of(ROW_KIND_COLUMN)
                .unwrap_or(batch.num_columns() - 1),
        )
    } else {
        None
    };
    let kinds: Vec<RowKind> = match kind_index {
        Some(i) => {
            let column = batch.column(i);
            let Some(codes) = column.as_primitive_opt::<Int8Type>() else {
                return Err(SluiceError::execution(format!(
                    "row kind column has type {}, expected Int8",
                    column.data_type()
                )));
            };
            (0..codes.len())
                .map(|r| {
                    let code = if codes.is_null(r) { -1 } else { codes.value(r) };
                    RowKind::from_i8(code).ok_or_else(|| {
                        SluiceError::execution(format!("invalid row kind {code} in row {r}"))
                    })
                })
                .collect::<Result<_>>()?
        }
        None => vec![RowKind::Insert; batch.num_rows()],
    };
    let columns = (0..batch.num_columns())
        .filter(|i| Some(*i) != kind_index)
        .map(|i| format_column(batch.column(i).as_ref()))
        .collect::<Vec<_>>();
    Ok(kinds
        .into_iter()
        .enumerate()
        .map(|(r, kind)| ChangeRow {
            kind,
            values: columns.iter().map(|c| c[r].clone()).collect(),
        })
        .collect())
}

/// Prints a finished result: a table sized to its values, then the row
/// count, or just `Empty set`.
pub fn print_rows(out: &mut dyn Write, schema: &Schema, batches: &[RecordBatch]) -> Result<()> {
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows = Vec::new();
    for batch in batches {
        rows.extend(batch_rows(batch, false)?.into_iter().map(|r| r.values));
    }
    print_table(out, &headers, &rows)
}

/// Prints `rows` under `headers` as a bordered table sized to fit, then
/// `N rows in set`; only `Empty set` when there are no rows.
pub fn print_table(out: &mut dyn Write, headers: &[String], rows: &[Vec<String>]) -> Result<()> {
    if rows.is_empty() {
        writeln!(out, "Empty set")?;
        return Ok(());
    }
    for line in table_lines(headers, rows) {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", count(rows.len(), "in set"))?;
    Ok(())
}

/// The lines of a bordered table of `rows` under `headers`, sized to fit.
pub fn table_lines(headers: &[String], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, v) in widths.iter_mut().zip(row) {
            *w = (*w).max(v.width());
        }
    }
    let border = border(&widths);
    let mut lines = Vec::with_capacity(rows.len() + 4);
    lines.push(border.clone());
    lines.push(bordered_line(&widths, headers));
    lines.push(border.clone());
    lines.extend(rows.iter().map(|row| bordered_line(&widths, row)));
    lines.push(border);
    lines
}

/// Prints a streaming result row by row, and keeps the materialized table for
/// the `table` mode.
#[derive(Debug)]
pub struct StreamPrinter {
    mode: ResultMode,
    headers: Vec<String>,
    /// Widths of the `op` column then of each value column.
    widths: Vec<usize>,
    received: usize,
    /// The result as a table (`table` mode only).
    table: Option<LiveTable>,
}

impl StreamPrinter {
    /// A printer for rows of `schema` (the result columns, without the row
    /// kind).
    pub fn new(schema: &Schema, mode: ResultMode) -> StreamPrinter {
        let mut headers = vec!["op".to_string()];
        let mut widths = vec![2];
        for field in schema.fields() {
            let mut width = field.name().width().max(type_width(field.data_type()));
            if field.is_nullable() {
                width = width.max(NULL.len());
            }
            headers.push(field.name().clone());
            widths.push(width);
        }
        let table = (mode == ResultMode::Table).then(|| LiveTable::new(headers[1..].to_vec()));
        StreamPrinter {
            mode,
            headers,
            widths,
            received: 0,
            table,
        }
    }

    /// In `table` mode, redraws the table in place as it changes (for a
    /// terminal) instead of printing it once at the end.
    pub fn live(mut self, live: bool) -> StreamPrinter {
        if let Some(table) = &mut self.table {
            table.set_live(live);
        }
        self
    }

    /// The table is being redrawn in place: call [`StreamPrinter::refresh`]
    /// now and then.
    pub fn is_live(&self) -> bool {
        self.table.as_ref().is_some_and(LiveTable::is_live)
    }

    /// Redraws a live table if it changed since it was last drawn.
    pub fn refresh(&mut self, out: &mut dyn Write) -> Result<()> {
        match &mut self.table {
            Some(t) => t.refresh(out, self.received),
            None => Ok(()),
        }
    }

    /// Prints the column header, before any row arrives.
    pub fn begin(&mut self, out: &mut dyn Write) -> Result<()> {
        match self.mode {
            ResultMode::Table => return self.refresh(out),
            ResultMode::Tableau => {
                let border = border(&self.widths);
                writeln!(out, "{border}")?;
                writeln!(out, "{}", bordered_line(&self.widths, &self.headers))?;
                writeln!(out, "{border}")?;
            }
            ResultMode::Changelog => {
                writeln!(out, "{}", plain_line(&self.widths, &self.headers))?;
            }
        }
        out.flush()?;
        Ok(())
    }

    /// Prints the rows of one batch as they arrived.
    pub fn batch(
        &mut self,
        out: &mut dyn Write,
        batch: &RecordBatch,
        is_changelog: bool,
    ) -> Result<()> {
        let rows = batch_rows(batch, is_changelog)?;
        self.rows(out, rows)
    }

    /// Prints `rows`, and applies them to the materialized table.
    pub fn rows(&mut self, out: &mut dyn Write, rows: Vec<ChangeRow>) -> Result<()> {
        for row in rows {
            self.received += 1;
            if let Some(table) = &mut self.table {
                table.apply(row);
                continue;
            }
            let mut cells = Vec::with_capacity(self.widths.len());
            cells.push(row.kind.short().to_string());
            cells.extend(row.values.iter().cloned());
            let line = match self.mode {
                ResultMode::Changelog => plain_line(&self.widths, &cells),
                _ => bordered_line(&self.widths, &cells),
            };
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        Ok(())
    }

    /// Prints the footer: `Received a total of N rows` when the result ended,
    /// `Query terminated, received a total of N rows` when it was cancelled.
    /// In `table` mode the materialized table comes first.
    pub fn end(&mut self, out: &mut dyn Write, terminated: bool) -> Result<()> {
        match &mut self.table {
            Some(table) => table.finish(out)?,
            None if self.mode == ResultMode::Tableau => writeln!(out, "{}", border(&self.widths))?,
            None => {}
        }
        if terminated {
            writeln!(
                out,
                "Query terminated, received a total of {}",
                count(self.received, "")
            )?;
        } else {
            writeln!(out, "Received a total of {}", count(self.received, ""))?;
        }
        out.flush()?;
        Ok(())
    }

    /// How many changes were printed.
    #[cfg(test)]
    pub fn received(&self) -> usize {
        self.received
    }

    /// The current rows of the result (`table` mode; empty otherwise).
    #[cfg(test)]
    pub fn materialized(&self) -> &[Vec<String>] {
        self.table.as_ref().map_or(&[], |t| t.rows())
    }
}

/// `N rows <suffix>`, with Flink's singular for one row.
pub(crate) fn count(n: usize, suffix: &str) -> String {
    let noun = if n == 1 { "row" } else { "rows" };
    if suffix.is_empty() {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun} {suffix}")
    }
}

/// The width a streaming column reserves for values of `data_type`: wide
/// enough for any value of the fixed-size types, a fixed 25 for the rest.
fn type_width(data_type: &DataType) -> usize {
    match data_type {
        DataType::Boolean => 5,
        DataType::Int8 | DataType::UInt8 => 4,
        DataType::Int16 | DataType::UInt16 => 6,
        DataType::Int32 | DataType::UInt32 => 11,
        DataType::Int64 | DataType::UInt64 => 20,
        DataType::Float16 | DataType::Float32 => 12,
        DataType::Float64 => 20,
        DataType::Decimal32(p, _)
        | DataType::Decimal64(p, _)
        | DataType::Decimal128(p, _)
        | DataType::Decimal256(p, _) => usize::from(*p) + 2,
        DataType::Date32 | DataType::Date64 => 10,
        DataType::Time32(unit) | DataType::Time64(unit) => 8 + fraction_width(*unit),
        DataType::Timestamp(unit, _) => 19 + fraction_width(*unit),
        _ => 25,
    }
}

/// Characters of the `.fff` part for a time unit.
fn fraction_width(unit: TimeUnit) -> usize {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 4,
        TimeUnit::Microsecond => 7,
        TimeUnit::Nanosecond => 10,
    }
}

/// `+----+-----+`
fn border(widths: &[usize]) -> String {
    let mut s = String::from("+");
    for w in widths {
        s.push_str(&"-".repeat(w + 2));
        s.push('+');
    }
    s
}

/// `| +I |   1 |`: right-aligned cells, as Flink aligns them.
fn bordered_line(widths: &[usize], cells: &[String]) -> String {
    let mut s = String::from("|");
    for (w, cell) in widths.iter().zip(cells) {
        s.push(' ');
        s.push_str(&pad(cell, *w));
        s.push_str(" |");
    }
    s
}

/// ` +I |   1 | abc`: the changelog mode's line, without borders.
fn plain_line(widths: &[usize], cells: &[String]) -> String {
    let padded: Vec<String> = widths.iter().zip(cells).map(|(w, c)| pad(c, *w)).collect();
    format!(" {}", padded.join(" | "))
}

/// `value` right-aligned in `width` columns, cut with `...` if too wide.
fn pad(value: &str, width: usize) -> String {
    let value = truncate(value, width);
    let fill = width.saturating_sub(value.width());
    format!("{}{value}", " ".repeat(fill))
}

/// `value` if it fits in `width` display columns, else its longest prefix
/// that fits with `...` after it.
fn truncate(value: &str, width: usize) -> String {
    if value.width() <= width {
        return value.to_string();
    }
    let ellipsis = if width >= 3 { "..." } else { "" };
    let budget = width - ellipsis.len();
    let mut used = 0;
    let mut s = String::new();
    for c in value.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > budget {
            break;
        }
        used += w;
        s.push(c);
    }
    s.push_str(ellipsis);
    s
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int8Array, Int32Array, StringArray};
    use datafusion::arrow::datatypes::Field;

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Int32, false),
            Field::new("name", DataType::Utf8, true),
        ])
    }

    fn batch(ids: Vec<i32>, names: Vec<Option<&str>>, kinds: Option<Vec<i8>>) -> RecordBatch {
        let mut fields = schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect::<Vec<_>>();
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(ids)),
            Arc::new(StringArray::from(names)),
        ];
        if let Some(kinds) = kinds {
            fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
            columns.push(Arc::new(Int8Array::from(kinds)));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("valid batch")
    }

    fn render(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn finished_result_is_sized_to_its_values() {
        let b = batch(vec![1, 22], vec![Some("orders"), None], None);
        let text = render(|out| print_rows(out, &schema(), &[b]).expect("prints"));
        assert_eq!(
            text,
            "\
+----+--------+
| id |   name |
+----+--------+
|  1 | orders |
| 22 | <NULL> |
+----+--------+
2 rows in set
"
        );
    }

    #[test]
    fn one_row_and_no_rows() {
        let one = batch(vec![7], vec![Some("x")], None);
        let text = render(|out| print_rows(out, &schema(), &[one]).expect("prints"));
        assert!(text.ends_with("+----+------+\n1 row in set\n"), "{text}");
        let text = render(|out| print_rows(out, &schema(), &[]).expect("prints"));
        assert_eq!(text, "Empty set\n");
    }

    #[test]
    fn tableau_streams_with_type_widths() {
        let mut p = StreamPrinter::new(&schema(), ResultMode::Tableau);
        let b = batch(vec![1, 2], vec![Some("abc"), None], None);
        let text = render(|out| {
            p.begin(out).expect("header");
            p.batch(out, &b, false).expect("rows");
            p.end(out, false).expect("footer");
        });
        let border = format!("+----+{}+{}+", "-".repeat(13), "-".repeat(27));
        assert_eq!(
            text,
            format!(
                "{border}\n\
                 | op | {:>11} | {:>25} |\n\
                 {border}\n\
                 | +I | {:>11} | {:>25} |\n\
                 | +I | {:>11} | {:>25} |\n\
                 {border}\n\
                 Received a total of 2 rows\n",
                "id", "name", 1, "abc", 2, "<NULL>"
            )
        );
        assert_eq!(p.received(), 2);
    }

    #[test]
    fn long_values_are_truncated() {
        let long = "x".repeat(40);
        let mut p = StreamPrinter::new(&schema(), ResultMode::Tableau);
        let b = batch(vec![1], vec![Some(&long)], None);
        let text = render(|out| p.batch(out, &b, false).expect("rows"));
        assert_eq!(
            text,
            format!("| +I | {:>11} | {}... |\n", 1, "x".repeat(22))
        );
        assert_eq!(truncate("abcdef", 5), "ab...");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 2), "ab");
        // Wide characters count double.
        assert_eq!(truncate("日本語テキスト", 7), "日本...");
    }

    #[test]
    fn changelog_mode_has_no_borders_and_shows_kinds() {
        let mut p = StreamPrinter::new(&schema(), ResultMode::Changelog);
        let b = batch(vec![1, 1], vec![Some("a"), Some("b")], Some(vec![1, 2]));
        let text = render(|out| {
            p.begin(out).expect("header");
            p.batch(out, &b, true).expect("rows");
            p.end(out, true).expect("footer");
        });
        assert_eq!(
            text,
            format!(
                " op | {:>11} | {:>25}\n -U | {:>11} | {:>25}\n +U | {:>11} | {:>25}\n\
                 Query terminated, received a total of 2 rows\n",
                "id", "name", 1, "a", 1, "b"
            )
        );
    }

    #[test]
    fn table_mode_materializes_updates() {
        let mut p = StreamPrinter::new(&schema(), ResultMode::Table);
        let inserts = batch(vec![1, 2], vec![Some("a"), Some("b")], Some(vec![0, 0]));
        let update = batch(
            vec![1, 1, 2],
            vec![Some("a"), Some("c"), Some("b")],
            Some(vec![1, 2, 3]),
        );
        let text = render(|out| {
            p.batch(out, &inserts, true).expect("rows");
            p.batch(out, &update, true).expect("rows");
            p.end(out, false).expect("footer");
        });
        assert_eq!(p.materialized(), [vec!["1".to_string(), "c".to_string()]]);
        assert!(
            text.ends_with(
                "\
+----+------+
| id | name |
+----+------+
|  1 |    c |
+----+------+
1 row in set
Received a total of 5 rows
"
            ),
            "{text}"
        );
    }

    #[test]
    fn live_table_mode_redraws_in_place() {
        let mut p = StreamPrinter::new(&schema(), ResultMode::Table).live(true);
        let insert = batch(vec![1], vec![Some("a")], Some(vec![0]));
        let update = batch(vec![1, 1], vec![Some("a"), Some("b")], Some(vec![1, 2]));
        let text = render(|out| {
            p.begin(out).expect("empty table");
            p.batch(out, &insert, true).expect("rows");
            p.refresh(out).expect("redraw");
            p.refresh(out).expect("unchanged: nothing drawn");
            p.batch(out, &update, true).expect("rows");
            p.refresh(out).expect("redraw");
            p.end(out, false).expect("final table");
        });
        let table = |row: &str| {
            format!("+----+------+\n| id | name |\n+----+------+\n{row}+----+------+\n")
        };
        let expected = [
            table(""),
            "0 rows, 0 changes received\n".into(),
            "\x1b[5F\x1b[J".into(),
            table("|  1 |    a |\n"),
            "1 row, 1 changes received\n".into(),
            "\x1b[6F\x1b[J".into(),
            table("|  1 |    b |\n"),
            "1 row, 3 changes received\n".into(),
            "\x1b[6F\x1b[J".into(),
            table("|  1 |    b |\n"),
            "1 row in set\nReceived a total of 3 rows\n".into(),
        ]
        .concat();
        assert_eq!(text, expected);
    }

    #[test]
    fn bad_row_kind_is_an_error() {
        let b = batch(vec![1], vec![Some("a")], Some(vec![9]));
        assert!(batch_rows(&b, true).is_err());
    }

    #[test]
    fn result_mode_from_config() {
        assert_eq!(ResultMode::from_config(None), ResultMode::Tableau);
        assert_eq!(
            ResultMode::from_config(Some("CHANGELOG")),
            ResultMode::Changelog
        );
        assert_eq!(ResultMode::from_config(Some("table")), ResultMode::Table);
        assert_eq!(
            ResultMode::from_config(Some("tableau")),
            ResultMode::Tableau
        );
        assert_eq!(ResultMode::from_config(Some("bogus")), ResultMode::Tableau);
    }
}
