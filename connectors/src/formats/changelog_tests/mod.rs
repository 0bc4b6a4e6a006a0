//! The raw, canal-json and debezium-json formats through the message API,
//! with samples as Canal and Debezium really emit them.

mod canal;
mod debezium;
mod raw;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::RowKind;
use sluice_engine::display::format_row;
use sluice_engine::runtime::OperatorMetrics;

use super::messages::{Decoded, Messages};
use super::{Format, format_for};

fn options(pairs: &[(&str, &str)]) -> ConnectorOptions {
    let values: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ConnectorOptions::new("t", values)
}

fn schema(fields: &[(&str, DataType)]) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .iter()
            .map(|(n, t)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

fn format(name: &str, pairs: &[(&str, &str)], schema: &SchemaRef) -> Arc<dyn Format> {
    let mut opts = options(pairs);
    let f = format_for(name, &mut opts, schema).expect("valid format");
    opts.finish("test").expect("every option taken");
    f
}

fn messages(payloads: &[Option<&str>]) -> Messages {
    let mut m = Messages::default();
    for p in payloads {
        m.push(p.map(str::as_bytes));
    }
    m
}

fn locate(i: usize) -> String {
    format!("message {i}")
}

/// Each row as `+I[a, b]` (changelog) or `a, b`, with its message index.
fn rows(d: &Decoded) -> Vec<String> {
    let b: &RecordBatch = &d.batch;
    (0..b.num_rows())
        .map(|i| {
            let row = format_row(b.columns(), i);
            let origin = d.origins.value(i);
            match &d.kinds {
                Some(k) => {
                    let kind = RowKind::from_i8(k.value(i)).map_or("?", RowKind::short);
                    format!("{origin}:{kind}[{row}]")
                }
                None => format!("{origin}:{row}"),
            }
        })
        .collect()
}

fn decode(
    f: &Arc<dyn Format>,
    projection: Option<&[usize]>,
    metadata: &[&str],
    payloads: &[Option<&str>],
) -> (sluice_engine::Result<Vec<String>>, u64) {
    let metadata: Vec<String> = metadata.iter().map(|s| s.to_string()).collect();
    let mut d = f
        .message_decoder(projection, &metadata, 1024)
        .expect("decoder");
    let metrics = OperatorMetrics::default();
    let out = d
        .decode(&messages(payloads), &locate, &metrics)
        .map(|d| rows(&d));
    (out, metrics.snapshot().records_skipped)
}
