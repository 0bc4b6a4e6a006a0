//! The `THBaseService` calls the sink makes, with the struct layouts and
//! field ids of HBase's `hbase-thrift/.../thrift2/hbase.thrift`:
//!
//! ```text
//! void putMultiple(1: binary table, 2: list<TPut> tputs) throws (1: TIOError io)
//! list<TDelete> deleteMultiple(1: binary table, 2: list<TDelete> tdeletes) throws (1: TIOError io)
//! TResult increment(1: binary table, 2: TIncrement tincrement) throws (1: TIOError io)
//!
//! struct TPut { 1: binary row, 2: list<TColumnValue> columnValues, ... }
//! struct TColumnValue { 1: binary family, 2: binary qualifier, 3: binary value, ... }
//! struct TDelete { 1: binary row, 2: optional list<TColumn> columns, ..., 4: TDeleteType deleteType }
//! struct TColumn { 1: binary family, 2: optional binary qualifier, ... }
//! struct TIncrement { 1: binary row, 2: list<TColumnIncrement> columns, ..., 7: bool returnResults }
//! struct TColumnIncrement { 1: binary family, 2: binary qualifier, 3: i64 amount }
//! ```

use super::thrift::{Writer, ty};

pub const PUT_MULTIPLE: &str = "putMultiple";
pub const DELETE_MULTIPLE: &str = "deleteMultiple";
pub const INCREMENT: &str = "increment";

/// `TDeleteType.DELETE_COLUMN`: the latest version of each named column,
/// which is what Flink's `Delete.addColumn` removes.
const DELETE_COLUMN: i32 = 0;

/// Writes the arguments of `putMultiple` / `deleteMultiple` up to the list
/// of mutations; returns where the list size goes.
pub fn multiple_args_begin(w: &mut Writer, table: &[u8]) -> usize {
    w.field(ty::STRING, 1);
    w.binary(table);
    w.field(ty::LIST, 2);
    w.list_begin(ty::STRUCT)
}

/// Ends the argument struct of a call.
pub fn args_end(w: &mut Writer) {
    w.stop();
}

/// Starts a `TPut`; returns where its column-value count goes.
pub fn put_begin(w: &mut Writer, row: &[u8]) -> usize {
    w.field(ty::STRING, 1);
    w.binary(row);
    w.field(ty::LIST, 2);
    w.list_begin(ty::STRUCT)
}

/// One `TColumnValue`.
pub fn column_value(w: &mut Writer, family: &[u8], qualifier: &[u8], value: &[u8]) {
    w.field(ty::STRING, 1);
    w.binary(family);
    w.field(ty::STRING, 2);
    w.binary(qualifier);
    w.field(ty::STRING, 3);
    w.binary(value);
    w.stop();
}

/// Ends a `TPut`.
pub fn put_end(w: &mut Writer) {
    w.stop();
}

/// A whole `TDelete` of the given columns' latest versions.
pub fn delete<'a>(
    w: &mut Writer,
    row: &[u8],
    columns: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
) {
    w.field(ty::STRING, 1);
    w.binary(row);
    w.field(ty::LIST, 2);
    let at = w.list_begin(ty::STRUCT);
    w.patch_i32(at, columns.len() as i32);
    for (family, qualifier) in columns {
        w.field(ty::STRING, 1);
        w.binary(family);
        w.field(ty::STRING, 2);
        w.binary(qualifier);
        w.stop();
    }
    w.field(ty::I32, 4);
    w.i32(DELETE_COLUMN);
    w.stop();
}

/// The arguments of `increment`, a whole `TIncrement` included.
pub fn increment_args<'a>(
    w: &mut Writer,
    table: &[u8],
    row: &[u8],
    columns: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8], i64)>,
) {
    w.field(ty::STRING, 1);
    w.binary(table);
    w.field(ty::STRUCT, 2);
    w.field(ty::STRING, 1);
    w.binary(row);
    w.field(ty::LIST, 2);
    let at = w.list_begin(ty::STRUCT);
    w.patch_i32(at, columns.len() as i32);
    for (family, qualifier, amount) in columns {
        w.field(ty::STRING, 1);
        w.binary(family);
        w.field(ty::STRING, 2);
        w.binary(qualifier);
        w.field(ty::I64, 3);
        w.i64(amount);
        w.stop();
    }
    // returnResults = false: the sink does not read the new values.
    w.field(ty::BOOL, 7);
    w.buf.push(0);
    w.stop();
    w.stop();
}
