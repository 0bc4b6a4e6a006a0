use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use sluice_engine::catalog::ConnectorOptions;
use sluice_engine::connector::{ChangelogMode, Connector, ConnectorTable, TableContext};

use super::schema::HBaseSchema;
use super::service;
use super::thrift::{ParseError, Reader, Reply, Writer, read_reply, ty};
use super::*;

fn family(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        family(
            "cf",
            vec![
                Field::new("a", DataType::Utf8, true),
                Field::new("n", DataType::Int64, true),
            ],
        ),
        Field::new("rk", DataType::Utf8, false),
        family("f2", vec![Field::new("c", DataType::Int64, true)]),
    ]))
}

fn create(
    name: &str,
    schema: SchemaRef,
    pk: &[&str],
    options: &[(&str, &str)],
) -> sluice_engine::Result<Arc<dyn ConnectorTable>> {
    let mut opts = ConnectorOptions::new(
        "t",
        options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let pk: Vec<String> = pk.iter().map(|s| s.to_string()).collect();
    let factory = HBaseConnector::all()
        .into_iter()
        .find(|c| c.name() == name)
        .unwrap();
    factory.create(TableContext {
        table_name: "t",
        physical_schema: schema,
        metadata_columns: &[],
        primary_key: &pk,
        partition_keys: &[],
        options: &mut opts,
    })
}

const BASE: [(&str, &str); 2] = [("table-name", "ns:t"), ("thrift.address", "h:9090")];

fn error(schema: SchemaRef, extra: &[(&str, &str)]) -> String {
    let mut o = BASE.to_vec();
    o.extend_from_slice(extra);
    create("hbase-2.2", schema, &[], &o)
        .unwrap_err()
        .to_string()
}

#[test]
fn maps_the_row_key_and_families() {
    let m = HBaseSchema::new(&schema(), false).unwrap();
    assert_eq!(m.row_key, 1);
    assert_eq!(m.families.len(), 2);
    assert_eq!(m.families[0].name, b"cf");
    assert_eq!(m.families[0].qualifiers[1].name, b"n");
    assert_eq!(m.cells(), 3);
    let two_keys = Schema::new(vec![
        Field::new("a", DataType::Utf8, false),
        Field::new("b", DataType::Utf8, false),
    ]);
    assert!(
        HBaseSchema::new(&two_keys, false)
            .unwrap_err()
            .contains("multiple times")
    );
    let no_family = Schema::new(vec![Field::new("a", DataType::Utf8, false)]);
    assert!(
        HBaseSchema::new(&no_family, false)
            .unwrap_err()
            .contains("column family")
    );
    let micro = Schema::new(vec![
        Field::new("k", DataType::Utf8, false),
        family(
            "f",
            vec![Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            )],
        ),
    ]);
    assert!(
        HBaseSchema::new(&micro, false)
            .unwrap_err()
            .contains("TIMESTAMP(3)")
    );
    // Counters must all be BIGINT.
    assert!(
        HBaseSchema::new(&schema(), true)
            .unwrap_err()
            .contains("'cf.a'")
    );
}

#[test]
fn options_follow_flink_with_a_thrift_address() {
    let t = create("hbase", schema(), &["rk"], &BASE).unwrap();
    assert_eq!(
        t.sink().unwrap().accepted_changelog(),
        ChangelogMode::Upsert(vec!["rk".into()])
    );
    assert!(t.source().is_none());
    let zk = error(schema(), &[("zookeeper.quorum", "zk:2181")]);
    assert!(
        zk.contains("'zookeeper.quorum'") && zk.contains("thrift.address"),
        "{zk}"
    );
    assert!(
        error(schema(), &[("sink.buffer-flush.max-rowz", "1")])
            .contains("'sink.buffer-flush.max-rowz'")
    );
    assert!(error(schema(), &[("lookup.cache.max-rows", "1")]).contains("not supported yet"));
    assert!(error(schema(), &[("properties.hbase.x", "1")]).contains("not supported yet"));
    assert!(error(schema(), &[("sink.write-mode", "append")]).contains("put, increment"));
    let missing = create("hbase", schema(), &[], &[("table-name", "t")])
        .unwrap_err()
        .to_string();
    assert!(missing.contains("thrift.address"), "{missing}");
    let pk = create("hbase", schema(), &["cf"], &BASE)
        .unwrap_err()
        .to_string();
    assert!(pk.contains("must be the row key"), "{pk}");
    let counters = Arc::new(Schema::new(vec![
        Field::new("rk", DataType::Utf8, false),
        family("c", vec![Field::new("hits", DataType::Int64, true)]),
    ]));
    let mut o = BASE.to_vec();
    o.push(("sink.write-mode", "increment"));
    let t = create("hbase-2.2", counters, &[], &o).unwrap();
    assert_eq!(
        t.sink().unwrap().accepted_changelog(),
        ChangelogMode::Retract
    );
    // Every key Flink and Sluice define is accepted.
    let mut all = BASE.to_vec();
    all.extend_from_slice(&[
        ("thrift.framed", "true"),
        ("thrift.timeout", "5s"),
        ("null-string-literal", "NULL"),
        ("sink.buffer-flush.max-size", "1mb"),
        ("sink.buffer-flush.max-rows", "10"),
        ("sink.buffer-flush.interval", "0"),
        ("sink.ignore-null-value", "true"),
        ("sink.max-retries", "1"),
        ("sink.ignore-errors", "true"),
        ("sink.parallelism", "2"),
        ("sink.write-mode", "put"),
    ]);
    create("hbase", schema(), &[], &all).unwrap();
}

#[test]
fn thrift_addresses() {
    let addr = |a: &str| {
        let mut o = ConnectorOptions::new(
            "t",
            [("thrift.address".to_string(), a.to_string())]
                .into_iter()
                .collect(),
        );
        take_address(&mut o)
    };
    assert_eq!(addr("h:9091").unwrap(), "h:9091");
    assert_eq!(addr("h").unwrap(), "h:9090");
    assert_eq!(addr("[::1]:9").unwrap(), "[::1]:9");
    assert!(addr("h:x").is_err());
}

#[test]
fn put_multiple_is_encoded_with_hbase_field_ids() {
    let mut w = Writer::default();
    w.begin_call(service::PUT_MULTIPLE, 7);
    let at = service::multiple_args_begin(&mut w, b"t");
    let cells = service::put_begin(&mut w, b"r");
    service::column_value(&mut w, b"f", b"q", b"v");
    w.patch_i32(cells, 1);
    service::put_end(&mut w);
    w.patch_i32(at, 1);
    service::args_end(&mut w);
    let mut want = vec![0x80, 0x01, 0x00, 0x01, 0, 0, 0, 11];
    want.extend_from_slice(b"putMultiple");
    want.extend_from_slice(&[0, 0, 0, 7]);
    // 1: table
    want.extend_from_slice(&[ty::STRING, 0, 1, 0, 0, 0, 1, b't']);
    // 2: list<TPut> of 1
    want.extend_from_slice(&[ty::LIST, 0, 2, ty::STRUCT, 0, 0, 0, 1]);
    // TPut.1 row, TPut.2 list<TColumnValue> of 1
    want.extend_from_slice(&[ty::STRING, 0, 1, 0, 0, 0, 1, b'r']);
    want.extend_from_slice(&[ty::LIST, 0, 2, ty::STRUCT, 0, 0, 0, 1]);
    for (id, v) in [(1u8, b'f'), (2, b'q'), (3, b'v')] {
        want.extend_from_slice(&[ty::STRING, 0, id, 0, 0, 0, 1, v]);
    }
    want.extend_from_slice(&[0, 0, 0]);
    assert_eq!(w.buf, want);
}

fn reply_bytes(name: &str, kind: u8, seqid: i32, body: &[u8]) -> Vec<u8> {
    let mut b = (0x8001_0000u32 | u32::from(kind)).to_be_bytes().to_vec();
    b.extend_from_slice(&(name.len() as i32).to_be_bytes());
    b.extend_from_slice(name.as_bytes());
    b.extend_from_slice(&seqid.to_be_bytes());
    b.extend_from_slice(body);
    b
}

#[test]
fn replies_are_decoded() {
    // void success: an empty result struct.
    let ok = reply_bytes("putMultiple", 2, 3, &[0]);
    assert_eq!(
        read_reply(&mut Reader::new(&ok), "putMultiple", 3),
        Ok(Reply::Ok)
    );
    // Incomplete until the last byte arrives.
    assert_eq!(
        read_reply(&mut Reader::new(&ok[..ok.len() - 1]), "putMultiple", 3),
        Err(ParseError::Incomplete)
    );
    // deleteMultiple's success: an empty list in field 0 (skipped).
    let list = reply_bytes(
        "deleteMultiple",
        2,
        4,
        &[ty::LIST, 0, 0, ty::STRUCT, 0, 0, 0, 0, 0],
    );
    assert_eq!(
        read_reply(&mut Reader::new(&list), "deleteMultiple", 4),
        Ok(Reply::Ok)
    );
    // TIOError in field 1.
    let mut io = vec![ty::STRUCT, 0, 1, ty::STRING, 0, 1, 0, 0, 0, 4];
    io.extend_from_slice(b"boom");
    io.extend_from_slice(&[ty::BOOL, 0, 2, 1, 0, 0]);
    let io = reply_bytes("increment", 2, 5, &io);
    assert_eq!(
        read_reply(&mut Reader::new(&io), "increment", 5),
        Ok(Reply::IoError {
            message: "boom".into(),
            can_retry: Some(true)
        })
    );
    // A reply to another call is refused.
    assert!(matches!(
        read_reply(&mut Reader::new(&ok), "putMultiple", 4),
        Err(ParseError::Invalid(_))
    ));
    // TApplicationException.
    let mut app = vec![ty::STRING, 0, 1, 0, 0, 0, 3];
    app.extend_from_slice(b"bad");
    app.extend_from_slice(&[ty::I32, 0, 2, 0, 0, 0, 1, 0]);
    let app = reply_bytes("putMultiple", 3, 1, &app);
    assert_eq!(
        read_reply(&mut Reader::new(&app), "putMultiple", 1),
        Ok(Reply::Application {
            message: "bad".into(),
            kind: 1
        })
    );
}
