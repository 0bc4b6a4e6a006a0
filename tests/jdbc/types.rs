//! Every Flink type written to and read back from MariaDB and PostgreSQL.

use sluice::Sluice;

use crate::support::{Db, fresh_table, insert, run, select};

/// The database's column types for the Flink columns below.
fn db_columns(db: Db) -> &'static str {
    match db {
        Db::MySql => {
            "id BIGINT, b BOOLEAN, ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, \
             dc DECIMAL(20, 4), s VARCHAR(100), c CHAR(5), bin VARBINARY(100), dt DATE, \
             tm TIME(3), ts DATETIME(6), ltz TIMESTAMP(3) NULL"
        }
        Db::Postgres => {
            "id BIGINT, b BOOLEAN, ti SMALLINT, si SMALLINT, i INTEGER, bi BIGINT, f REAL, \
             d DOUBLE PRECISION, dc NUMERIC(20, 4), s VARCHAR(100), c CHAR(5), bin BYTEA, \
             dt DATE, tm TIME(3), ts TIMESTAMP(6), ltz TIMESTAMPTZ(3), arr INTEGER[], tags TEXT[]"
        }
    }
}

fn flink_columns(db: Db) -> String {
    let mut cols = "id BIGINT, b BOOLEAN, ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, \
         d DOUBLE, dc DECIMAL(20, 4), s STRING, c CHAR(5), bin BYTES, dt DATE, tm TIME(3), \
         ts TIMESTAMP(6), ltz TIMESTAMP_LTZ(3)"
        .to_string();
    if db == Db::Postgres {
        cols.push_str(", arr ARRAY<INT>, tags ARRAY<STRING>");
    }
    cols
}

fn values(db: Db) -> String {
    let arrays = |a: &str, b: &str| {
        if db == Db::Postgres {
            format!(", {a}, {b}")
        } else {
            String::new()
        }
    };
    format!(
        "(1, TRUE, CAST(-128 AS TINYINT), CAST(32767 AS SMALLINT), 2147483647, \
          9223372036854775807, CAST(1.5 AS FLOAT), 2.25, CAST(12345678.1234 AS DECIMAL(20, 4)), \
          'héllo ✓ ''q''', 'ab', X'00ff10', DATE '2024-02-29', TIME '23:59:59.123', \
          TIMESTAMP '2024-02-29 12:34:56.123456', \
          TO_TIMESTAMP_LTZ(1704103200500, 3){}),
         (2, FALSE, CAST(0 AS TINYINT), CAST(-1 AS SMALLINT), -7, -1, CAST(-0.25 AS FLOAT), \
          -1e300, CAST(-0.0001 AS DECIMAL(20, 4)), '', 'xyz', X'', DATE '1970-01-01', \
          TIME '00:00:00', TIMESTAMP '1999-12-31 23:59:59', \
          TO_TIMESTAMP_LTZ(1000, 3){}),
         (3, CAST(NULL AS BOOLEAN), CAST(NULL AS TINYINT), CAST(NULL AS SMALLINT), \
          CAST(NULL AS INT), CAST(NULL AS BIGINT), CAST(NULL AS FLOAT), CAST(NULL AS DOUBLE), \
          CAST(NULL AS DECIMAL(20, 4)), CAST(NULL AS STRING), CAST(NULL AS CHAR(5)), \
          CASE WHEN FALSE THEN X'00' END, CAST(NULL AS DATE), CASE WHEN FALSE THEN TIME '00:00:00' END, \
          CASE WHEN FALSE THEN TIMESTAMP '2000-01-01 00:00:00' END, TO_TIMESTAMP_LTZ(CAST(NULL AS BIGINT), 3){})",
        arrays("ARRAY[1, CAST(NULL AS INT), 3]", "ARRAY['a', 'b c']"),
        arrays("ARRAY[CAST(NULL AS INT)]", "CASE WHEN FALSE THEN ARRAY['x'] END"),
        arrays("CASE WHEN FALSE THEN ARRAY[1] END", "CASE WHEN FALSE THEN ARRAY['x'] END"),
    )
}

/// What the database's client prints for the three rows.
fn expected_in_db(db: Db) -> Vec<&'static str> {
    match db {
        Db::MySql => vec![
            "1|1|-128|32767|2147483647|9223372036854775807|1.5|2.25|12345678.1234|héllo ✓ 'q'|ab|00FF10|2024-02-29|23:59:59.123|2024-02-29 12:34:56.123456|2024-01-01 10:00:00.500",
            "2|0|0|-1|-7|-1|-0.25|-1e300|-0.0001||xyz||1970-01-01|00:00:00.000|1999-12-31 23:59:59.000000|1970-01-01 00:00:01.000",
            "3|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
        ],
        Db::Postgres => vec![
            "1|t|-128|32767|2147483647|9223372036854775807|1.5|2.25|12345678.1234|héllo ✓ 'q'|ab   |\\x00ff10|2024-02-29|23:59:59.123|2024-02-29 12:34:56.123456|2024-01-01 10:00:00.5+00|{1,NULL,3}|{a,\"b c\"}",
            "2|f|0|-1|-7|-1|-0.25|-1e+300|-0.0001||xyz  |\\x|1970-01-01|00:00:00|1999-12-31 23:59:59|1970-01-01 00:00:01+00|{NULL}|NULL",
            "3|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
        ],
    }
}

/// What Sluice reads back (Flink's print rendering).
fn expected_read_back(db: Db) -> Vec<String> {
    let (arr1, arr2, arr3) = match db {
        Db::Postgres => (", [1, null, 3], [a, b c]", ", [null], null", ", null, null"),
        Db::MySql => ("", "", ""),
    };
    // PostgreSQL's character(5) pads; read as text it is trimmed again.
    let (c1, c2) = ("ab", "xyz");
    vec![
        format!(
            "1, true, -128, 32767, 2147483647, 9223372036854775807, 1.5, 2.25, 12345678.1234, \
             héllo ✓ 'q', {c1}, [0, -1, 16], 2024-02-29, 23:59:59.123, 2024-02-29T12:34:56.123456, \
             2024-01-01T10:00:00.500Z{arr1}"
        ),
        format!(
            "2, false, 0, -1, -7, -1, -0.25, -1.0E300, -0.0001, , {c2}, [], 1970-01-01, 00:00, \
             1999-12-31T23:59:59, 1970-01-01T00:00:01Z{arr2}"
        ),
        format!(
            "3, null, null, null, null, null, null, null, null, null, null, null, null, null, \
             null, null{arr3}"
        ),
    ]
}

async fn round_trip(db: Db, test: &str) {
    let table = fresh_table(db, test);
    db.sql(&format!(
        "CREATE TABLE {} ({})",
        db.quote(&table),
        db_columns(db)
    ));
    let sluice = Sluice::new();
    run(
        &sluice,
        &format!(
            "CREATE TABLE t ({}) WITH ('connector' = 'jdbc', 'url' = '{}', 'table-name' = '{table}', {})",
            flink_columns(db),
            db.url(),
            db.credentials()
        ),
    )
    .await
    .expect("ddl");
    insert(&sluice, &format!("INSERT INTO t VALUES {}", values(db))).await;

    let mut select_list = "id, b, ti, si, i, bi, f, d, dc, s, c".to_string();
    select_list.push_str(match db {
        // `%f` prints microseconds; mysql_millis cuts them to the column's 3.
        Db::MySql => ", HEX(bin), dt, tm, ts, DATE_FORMAT(ltz, '%Y-%m-%d %H:%i:%s.%f')",
        Db::Postgres => ", bin, dt, tm, ts, ltz, arr, tags",
    });
    // The MySQL client shows TIMESTAMP columns in its session's time zone.
    let utc = if db == Db::MySql {
        "SET time_zone = '+00:00'; "
    } else {
        ""
    };
    let in_db = db.sql(&format!(
        "{utc}SELECT {select_list} FROM {} ORDER BY id",
        db.quote(&table)
    ));
    let in_db: Vec<String> = in_db.into_iter().map(|r| mysql_millis(db, r)).collect();
    assert_eq!(in_db, expected_in_db(db));

    let read = select(&sluice, "SELECT * FROM t").await;
    let mut read = read;
    read.sort();
    assert_eq!(read, expected_read_back(db));
    db.sql(&format!("DROP TABLE {}", db.quote(&table)));
}

/// MySQL's `%f` prints microseconds; the column holds milliseconds.
fn mysql_millis(db: Db, row: String) -> String {
    if db != Db::MySql {
        return row;
    }
    match row.rsplit_once('|') {
        Some((head, ltz)) if ltz.len() == 26 => format!("{head}|{}", &ltz[..23]),
        _ => row,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_through_mariadb() {
    round_trip(Db::MySql, "types").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_through_postgres() {
    round_trip(Db::Postgres, "types").await;
}
