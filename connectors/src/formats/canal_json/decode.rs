//! Reading Canal events: the envelopes of a batch of messages are decoded by
//! the json decoder in one pass; then every element of `data` becomes a row,
//! and each UPDATE element also a `-U` row built column-wise from `old` with
//! its missing (null) fields taken from `data`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, StructArray, UInt32Array};
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::{is_not_null, take};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use regex::Regex;
use sluice_engine::Result;
use sluice_engine::connector::RowKind;
use sluice_engine::runtime::OperatorMetrics;

use super::metadata_keys;
use crate::ConnectorError;
use crate::formats::envelope::{
    DecoderLayout, EnvelopeOptions, Picks, map_of, millis_to_ltz, nullable,
};
use crate::formats::messages::{Decoded, LineMessages, Locate, MessageDecoder, Messages};

/// Picks index of the `data` elements.
const DATA: usize = 0;
/// Picks index of the completed `old` elements.
const OLD: usize = 1;

/// `canal-json.database.include` / `.table.include`.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub database: Option<Regex>,
    pub table: Option<Regex>,
}

/// Which envelope field each metadata key reads.
fn json_field(key: &str) -> Option<&'static str> {
    Some(match key {
        "database" => "database",
        "table" => "table",
        "sql-type" => "sqlType",
        "pk-names" => "pkNames",
        "ingestion-timestamp" => "ts",
        "event-timestamp" => "es",
        _ => return None,
    })
}

/// Decodes Canal events into `+I/-U/+U/-D` rows.
pub struct CanalDecoder {
    /// Projected physical columns, then metadata columns.
    schema: SchemaRef,
    /// Per metadata column: the envelope field it reads.
    metadata: Vec<&'static str>,
    envelopes: LineMessages,
    filters: Filters,
    ignore_parse_errors: bool,
}

impl CanalDecoder {
    pub fn new(
        table: &str,
        physical: &SchemaRef,
        projection: Option<&[usize]>,
        metadata: &[String],
        options: &EnvelopeOptions,
        filters: Filters,
        batch_size: usize,
    ) -> Result<Self> {
        let layout = DecoderLayout::new(
            "canal-json",
            physical,
            projection,
            metadata,
            &metadata_keys(),
            json_field,
        )?;
        let meta = layout.metadata;
        let envelope = envelope_schema(&layout.image, &meta);
        let inner = options
            .json_format(table, &envelope)?
            .decoder(None, batch_size)?;
        Ok(Self {
            schema: layout.output,
            metadata: meta,
            envelopes: LineMessages::new(inner, options.ignore_parse_errors),
            filters,
            ignore_parse_errors: options.ignore_parse_errors,
        })
    }

    /// The metadata column read from envelope field `json`.
    fn metadata_column(
        envelopes: &datafusion::arrow::array::RecordBatch,
        json: &str,
    ) -> Result<ArrayRef> {
        let column = envelopes.column_by_name(json).cloned().ok_or_else(|| {
            sluice_engine::SluiceError::execution(format!("canal envelope lacks '{json}'"))
        })?;
        match json {
            "ts" | "es" => millis_to_ltz(&column),
            _ => Ok(column),
        }
    }
}

/// The json schema of an event: `data`, `old`, `type`, `database`, `table`,
/// `isDdl` and the fields the requested metadata needs.
fn envelope_schema(image: &Fields, meta: &[&str]) -> SchemaRef {
    let element = Arc::new(Field::new(
        "element",
        DataType::Struct(nullable(image)),
        true,
    ));
    let mut fields = vec![
        Field::new("data", DataType::List(element.clone()), true),
        Field::new("old", DataType::List(element), true),
        Field::new("type", DataType::Utf8, true),
        Field::new("database", DataType::Utf8, true),
        Field::new("table", DataType::Utf8, true),
        Field::new("isDdl", DataType::Boolean, true),
    ];
    for json in meta {
        let dt = match *json {
            "ts" | "es" => DataType::Int64,
            "sqlType" => map_of(DataType::Int32),
            "pkNames" => DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
            _ => continue,
        };
        if !fields.iter().any(|f| f.name() == json) {
            fields.push(Field::new(*json, dt, true));
        }
    }
    Arc::new(Schema::new(fields))
}

/// Row `e` of an optional text column.
fn text_at(a: &Option<datafusion::arrow::array::StringArray>, e: usize) -> Option<&str> {
    a.as_ref().filter(|a| a.is_valid(e)).map(|a| a.value(e))
}

/// True when `value` passes `pattern` (no pattern: everything passes).
fn included(pattern: &Option<Regex>, value: Option<&str>) -> bool {
    match pattern {
        None => true,
        Some(p) => value.is_some_and(|v| p.is_match(v)),
    }
}

/// The `-U` images: per UPDATE element, the `old` element with every null
/// field taken from the `data` element.
fn before_images(
    data: &StructArray,
    old: &StructArray,
    data_rows: Vec<u32>,
    old_rows: Vec<Option<u32>>,
) -> Result<StructArray> {
    let data_rows = UInt32Array::from(data_rows);
    let old_rows = UInt32Array::from(old_rows);
    let mut columns = Vec::with_capacity(data.num_columns());
    for (after, before) in data.columns().iter().zip(old.columns()) {
        let after = take(after.as_ref(), &data_rows, None)?;
        let before = take(before.as_ref(), &old_rows, None)?;
        let changed = is_not_null(before.as_ref())?;
        columns.push(zip(&changed, &before, &after)?);
    }
    Ok(StructArray::try_new_with_length(
        data.fields().clone(),
        columns,
        None,
        data_rows.len(),
    )?)
}

impl MessageDecoder for CanalDecoder {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn decode(
        &mut self,
        messages: &Messages,
        locate: Locate<'_>,
        metrics: &OperatorMetrics,
    ) -> Result<Decoded> {
        let env = self.envelopes.decode(messages, locate, metrics)?;
        if env.batch.num_rows() == 0 {
            return Ok(Decoded::empty(self.schema.clone(), true));
        }
        let b = &env.batch;
        let list = |name: &str| -> Result<ListArray> {
            b.column_by_name(name)
                .and_then(|c| c.as_list_opt::<i32>().cloned())
                .ok_or_else(|| {
                    sluice_engine::SluiceError::execution(format!("canal envelope lacks '{name}'"))
                })
        };
        let text = |name: &str| {
            b.column_by_name(name)
                .and_then(|c| c.as_string_opt::<i32>().cloned())
        };
        let (data, old) = (list("data")?, list("old")?);
        let data_values = data.values().as_struct().clone();
        let old_values = old.values().as_struct().clone();
        let kind = text("type");
        let (database, table) = (text("database"), text("table"));
        let ddl = b
            .column_by_name("isDdl")
            .and_then(|c| c.as_boolean_opt().cloned());
        let origins = env.origins.values();

        let mut picks = Picks::default();
        let (mut update_data, mut update_old) = (Vec::new(), Vec::new());
        for e in 0..b.num_rows() {
            if ddl.as_ref().is_some_and(|d| d.is_valid(e) && d.value(e))
                || !included(&self.filters.database, text_at(&database, e))
                || !included(&self.filters.table, text_at(&table, e))
            {
                continue;
            }
            let kind = text_at(&kind, e).unwrap_or("");
            let problem = match kind {
                "INSERT" | "UPDATE" | "DELETE" if data.is_null(e) => {
                    Some(format!("the \"data\" field of a {kind} event is null"))
                }
                "INSERT" | "DELETE" => {
                    let row_kind = if kind == "INSERT" {
                        RowKind::Insert
                    } else {
                        RowKind::Delete
                    };
                    let offsets = data.value_offsets();
                    for r in offsets[e]..offsets[e + 1] {
                        picks.push(DATA, r as usize, e, row_kind);
                    }
                    None
                }
                "UPDATE" => {
                    let offsets = data.value_offsets();
                    let old_offsets = old.value_offsets();
                    for (k, r) in (offsets[e]..offsets[e + 1]).enumerate() {
                        let o = old_offsets[e] + k as i32;
                        let old_row =
                            (old.is_valid(e) && o < old_offsets[e + 1]).then_some(o as u32);
                        picks.push(OLD, update_data.len(), e, RowKind::UpdateBefore);
                        picks.push(DATA, r as usize, e, RowKind::UpdateAfter);
                        update_data.push(r as u32);
                        update_old.push(old_row);
                    }
                    None
                }
                // A DDL event that does not say so in `isDdl`.
                "CREATE" => None,
                other => Some(format!("Unknown \"type\" value \"{other}\"")),
            };
            if let Some(reason) = problem {
                if self.ignore_parse_errors {
                    metrics.add_skipped(1);
                    continue;
                }
                return Err(ConnectorError::Malformed {
                    location: locate(origins[e] as usize),
                    reason,
                }
                .into());
            }
        }
        let before = before_images(&data_values, &old_values, update_data, update_old)?;
        let metadata = self
            .metadata
            .iter()
            .map(|json| Self::metadata_column(b, json))
            .collect::<Result<Vec<_>>>()?;
        picks.build(
            &self.schema,
            &[&data_values, &before],
            &metadata,
            &env.origins,
        )
    }
}
