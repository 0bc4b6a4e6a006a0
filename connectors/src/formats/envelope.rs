//! What `canal-json` and `debezium-json` share: both wrap table rows in a
//! JSON envelope, which is decoded and encoded by the `json` format itself
//! (so every type is read and written exactly as plain json does), and both
//! turn envelopes into changelog rows by picking, for each output row, a row
//! of the envelope's before/after structs — one `interleave` per column.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int8Array, RecordBatch, StructArray, UInt32Array};
use datafusion::arrow::compute::{interleave, take};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::RowKind;
use sluice_engine::{Result, SluiceError};

use super::Format;
use super::json::JsonFormat;
use super::messages::Decoded;

/// The json options a changelog format shares with plain json, taken under
/// its own prefix (`canal-json.timestamp-format.standard`, ...).
#[derive(Debug, Clone)]
pub(crate) struct EnvelopeOptions {
    /// Skip (and count) malformed messages.
    pub ignore_parse_errors: bool,
    /// The same settings as `json.*` keys, for the inner json format.
    json: BTreeMap<String, String>,
}

impl EnvelopeOptions {
    /// Takes `<prefix>.ignore-parse-errors`, `.timestamp-format.standard`,
    /// `.map-null-key.mode`, `.map-null-key.literal`,
    /// `.encode.decimal-as-plain-number` and `.encode.ignore-null-fields`.
    pub fn from_options(opts: &mut ConnectorOptions, prefix: &str) -> Result<Self> {
        let key = |k: &str| format!("{prefix}.{k}");
        let ignore_parse_errors = opts.bool(&key("ignore-parse-errors"))?.unwrap_or(false);
        let mut json = BTreeMap::new();
        if let Some(v) = opts.one_of(&key("timestamp-format.standard"), &["SQL", "ISO-8601"])? {
            json.insert("json.timestamp-format.standard".to_string(), v);
        }
        if let Some(v) = opts.one_of(&key("map-null-key.mode"), &["FAIL", "DROP", "LITERAL"])? {
            json.insert("json.map-null-key.mode".to_string(), v);
        }
        if let Some(v) = opts.string(&key("map-null-key.literal")) {
            json.insert("json.map-null-key.literal".to_string(), v);
        }
        for flag in [
            "encode.decimal-as-plain-number",
            "encode.ignore-null-fields",
        ] {
            if let Some(v) = opts.bool(&key(flag))? {
                json.insert(format!("json.{flag}"), v.to_string());
            }
        }
        Ok(Self {
            ignore_parse_errors,
            json,
        })
    }

    /// The json format reading and writing `envelope`.
    pub fn json_format(&self, table: &str, envelope: &SchemaRef) -> Result<Arc<dyn Format>> {
        let mut opts = ConnectorOptions::new(table, self.json.clone());
        Ok(Arc::new(JsonFormat::from_options(&mut opts, envelope)?))
    }
}

/// `fields` with every field nullable: in an envelope, the before or after
/// image is absent for some operations, and so are all its fields.
pub(crate) fn nullable(fields: &Fields) -> Fields {
    fields
        .iter()
        .map(|f| Arc::new(f.as_ref().clone().with_nullable(true)))
        .collect()
}

/// TIMESTAMP_LTZ(3), the type of the formats' timestamp metadata.
pub(crate) fn ltz3() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// MAP<STRING, V> with a nullable value.
pub(crate) fn map_of(value: DataType) -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", value, true),
            ])),
            false,
        )),
        false,
    )
}

/// The rows to emit: each picks row `row` of image `image` (an index into the
/// images given to [`Picks::build`]) and comes from envelope `envelope`.
#[derive(Debug, Default)]
pub(crate) struct Picks {
    picks: Vec<(usize, usize)>,
    envelopes: Vec<u32>,
    kinds: Vec<i8>,
}

impl Picks {
    pub fn push(&mut self, image: usize, row: usize, envelope: usize, kind: RowKind) {
        self.picks.push((image, row));
        self.envelopes.push(envelope as u32);
        self.kinds.push(kind as i8);
    }

    /// The output: the physical columns picked from `images` (structs whose
    /// fields are the output's physical columns, in order), then `metadata`
    /// (one array per metadata column, one value per envelope);
    /// `envelope_origins` maps envelopes to messages.
    pub fn build(
        self,
        schema: &SchemaRef,
        images: &[&StructArray],
        metadata: &[ArrayRef],
        envelope_origins: &UInt32Array,
    ) -> Result<Decoded> {
        let physical = schema.fields().len() - metadata.len();
        let mut columns = Vec::with_capacity(schema.fields().len());
        for i in 0..physical {
            let sources: Vec<&dyn Array> = images.iter().map(|s| s.column(i).as_ref()).collect();
            let column = interleave(&sources, &self.picks)?;
            columns.push(cast_to(column, schema.field(i).data_type())?);
        }
        let envelopes = UInt32Array::from(self.envelopes);
        for (m, field) in metadata.iter().zip(schema.fields().iter().skip(physical)) {
            columns.push(cast_to(
                take(m.as_ref(), &envelopes, None)?,
                field.data_type(),
            )?);
        }
        let origins = take(envelope_origins, &envelopes, None)?;
        let origins = origins
            .as_any()
            .downcast_ref::<UInt32Array>()
            .cloned()
            .unwrap_or_else(|| UInt32Array::from(Vec::<u32>::new()));
        let batch = RecordBatch::try_new_with_options(
            schema.clone(),
            columns,
            &datafusion::arrow::array::RecordBatchOptions::new()
                .with_row_count(Some(origins.len())),
        )?;
        Ok(Decoded {
            batch,
            origins,
            kinds: Some(Int8Array::from(self.kinds)),
        })
    }
}

/// `array` as `dt` (the declared type of a metadata column may differ from
/// the natural one, e.g. TIMESTAMP_LTZ(6)).
fn cast_to(array: ArrayRef, dt: &DataType) -> Result<ArrayRef> {
    if array.data_type() == dt {
        Ok(array)
    } else {
        Ok(datafusion::arrow::compute::cast(&array, dt)?)
    }
}

/// A timestamp metadata column from epoch milliseconds.
pub(crate) fn millis_to_ltz(millis: &ArrayRef) -> Result<ArrayRef> {
    let int = datafusion::arrow::compute::cast(millis, &DataType::Int64)?;
    Ok(datafusion::arrow::compute::cast(&int, &ltz3())?)
}

/// The columns of `batch` without the engine's row-kind column, and that
/// column when present (`None`: every row is `+I`).
pub(crate) fn split_row_kind(batch: &RecordBatch) -> Result<(Vec<ArrayRef>, Option<Int8Array>)> {
    let schema = batch.schema();
    let mut columns = batch.columns().to_vec();
    match schema.fields().last() {
        Some(f) if f.name() == sluice_engine::connector::ROW_KIND_COLUMN => {
            let kinds = columns
                .pop()
                .unwrap_or_else(|| Arc::new(Int8Array::from(Vec::<i8>::new())));
            let kinds = kinds
                .as_any()
                .downcast_ref::<Int8Array>()
                .cloned()
                .ok_or_else(|| {
                    sluice_engine::SluiceError::execution(format!(
                        "row-kind column must be Int8, got {}",
                        kinds.data_type()
                    ))
                })?;
            Ok((columns, Some(kinds)))
        }
        _ => Ok((columns, None)),
    }
}

/// Per row: true for `+I`/`+U` (an after image), false for `-U`/`-D`.
pub(crate) fn is_after_image(rows: usize, kinds: Option<&Int8Array>) -> Vec<bool> {
    match kinds {
        None => vec![true; rows],
        Some(k) => k
            .iter()
            .map(|v| {
                !matches!(
                    v.and_then(RowKind::from_i8),
                    Some(RowKind::UpdateBefore | RowKind::Delete)
                )
            })
            .collect(),
    }
}

/// The value of `key` in each row of a MAP<STRING, STRING> column (null when
/// the map is null or lacks the key).
pub(crate) fn map_lookup(map: &dyn Array, key: &str) -> ArrayRef {
    use datafusion::arrow::array::{AsArray, StringBuilder};
    let mut out = StringBuilder::new();
    let Some(map) = map.as_map_opt() else {
        return Arc::new(datafusion::arrow::array::new_null_array(
            &DataType::Utf8,
            map.len(),
        ));
    };
    let keys = map.keys().as_string_opt::<i32>();
    let values = map.values().as_string_opt::<i32>();
    let offsets = map.value_offsets();
    for row in 0..map.len() {
        let mut found = None;
        if let (true, Some(keys), Some(values)) = (map.is_valid(row), keys, values) {
            for e in offsets[row] as usize..offsets[row + 1] as usize {
                if keys.value(e) == key && values.is_valid(e) {
                    found = Some(values.value(e));
                }
            }
        }
        out.append_option(found);
    }
    Arc::new(out.finish())
}

/// What a changelog-envelope decoder outputs and reads, resolved once.
pub(crate) struct DecoderLayout<M> {
    /// The projected physical columns followed by one `value.<key>` column
    /// per requested metadata key.
    pub output: SchemaRef,
    /// Per metadata column: what the format reads for it.
    pub metadata: Vec<M>,
    /// The fields of a row image the json decoder must read. Never empty:
    /// with an empty projection the first column is read and not output.
    pub image: Fields,
}

impl<M> DecoderLayout<M> {
    /// Resolves `metadata` keys through `resolve` (the format's key table)
    /// and their types from `types`; an unknown key is a planning error
    /// naming `format`.
    pub fn new(
        format: &str,
        physical: &SchemaRef,
        projection: Option<&[usize]>,
        metadata: &[String],
        types: &[(&'static str, DataType)],
        resolve: impl Fn(&str) -> Option<M>,
    ) -> Result<Self> {
        let projected = match projection {
            None => physical.clone(),
            Some(p) => Arc::new(physical.project(p)?),
        };
        let mut fields: Vec<Field> = projected
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut meta = Vec::with_capacity(metadata.len());
        for key in metadata {
            let (Some(m), Some((_, dt))) = (resolve(key), types.iter().find(|(k, _)| k == key))
            else {
                return Err(SluiceError::plan(format!(
                    "format '{format}' has no metadata key '{key}'"
                )));
            };
            meta.push(m);
            fields.push(Field::new(format!("value.{key}"), dt.clone(), true));
        }
        let image = if projected.fields().is_empty() {
            physical.fields().iter().take(1).cloned().collect()
        } else {
            projected.fields().clone()
        };
        Ok(Self {
            output: Arc::new(Schema::new(fields)),
            metadata: meta,
            image,
        })
    }
}
