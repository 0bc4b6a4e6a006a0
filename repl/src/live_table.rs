//! The `table` result mode: the result kept as a table that changes in
//! place, as Flink's SQL client shows it. On a terminal the table is redrawn
//! where it stands (the cursor moves back over the previous drawing) at most
//! once per refresh; when the output is not a terminal there is nothing to
//! redraw, so only the final table is printed, when the query ends.

use std::io::Write;

use sluice::{Result, RowKind};

use crate::printer::{ChangeRow, count, print_table, table_lines};

/// Rows the live view shows at most: lines scrolled off the screen cannot
/// be redrawn. The final table has every row.
const VIEW_ROWS: usize = 40;

/// The current rows of an updating result and what is on screen of them.
#[derive(Debug)]
pub struct LiveTable {
    headers: Vec<String>,
    /// Inserts add a row, retractions remove an equal one.
    rows: Vec<Vec<String>>,
    /// Redraw on a terminal; otherwise print only at the end.
    live: bool,
    /// Lines of the last drawing, to move back over.
    drawn: usize,
    /// Changed since the last drawing.
    dirty: bool,
}

impl LiveTable {
    /// A table printed once, at the end, until [`LiveTable::set_live`].
    pub fn new(headers: Vec<String>) -> Self {
        LiveTable {
            headers,
            rows: Vec::new(),
            live: false,
            drawn: 0,
            dirty: true,
        }
    }

    /// Redraw in place as the table changes (the output is a terminal).
    pub fn set_live(&mut self, live: bool) {
        self.live = live;
    }

    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The current rows.
    #[cfg(test)]
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// Applies one change.
    pub fn apply(&mut self, row: ChangeRow) {
        self.dirty = true;
        match row.kind {
            RowKind::Insert | RowKind::UpdateAfter => self.rows.push(row.values),
            RowKind::UpdateBefore | RowKind::Delete => {
                // Retract one equal row. Formatted values are equal exactly
                // when the values are, which is all a retraction needs.
                if let Some(i) = self.rows.iter().position(|r| *r == row.values) {
                    self.rows.remove(i);
                }
            }
        }
    }

    /// Redraws the table in place if it changed (a terminal only).
    pub fn refresh(&mut self, out: &mut dyn Write, received: usize) -> Result<()> {
        if !self.live || !self.dirty {
            return Ok(());
        }
        self.clear(out)?;
        let shown = &self.rows[..self.rows.len().min(VIEW_ROWS)];
        let mut lines = table_lines(&self.headers, shown);
        let more = if shown.len() < self.rows.len() {
            format!(", the first {VIEW_ROWS} shown")
        } else {
            String::new()
        };
        lines.push(format!(
            "{}, {received} changes received{more}",
            count(self.rows.len(), "")
        ));
        for line in &lines {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        self.drawn = lines.len();
        self.dirty = false;
        Ok(())
    }

    /// Replaces the live view with the final table.
    pub fn finish(&mut self, out: &mut dyn Write) -> Result<()> {
        self.clear(out)?;
        print_table(out, &self.headers, &self.rows)
    }

    /// Moves the cursor back to where the last drawing began and erases it.
    fn clear(&mut self, out: &mut dyn Write) -> Result<()> {
        if self.drawn > 0 {
            write!(out, "\x1b[{}F\x1b[J", self.drawn)?;
            self.drawn = 0;
        }
        Ok(())
    }
}
