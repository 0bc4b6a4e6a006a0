//! The plugin ABI, version 1: what a plugin library exports and what Sluice
//! calls. Everything that crosses the library boundary is `#[repr(C)]`, and
//! every value is an Arrow array passed through the Arrow C Data Interface,
//! so a plugin and Sluice need not share a compiler, an arrow version or an
//! allocator (each side frees what it allocated: arrays through their
//! `release` callbacks, messages through [`SluiceFunction::free_message`]).
//!
//! # The version rule
//! [`SluiceFunction::abi_version`] is the first field and is read before
//! anything else. Any change to a struct below, or to what a call means,
//! bumps [`ABI_VERSION`]; Sluice loads only functions built for the version
//! it was built with and names both versions when they differ.
//!
//! # Calls
//! Argument columns travel as one struct array (one child per argument, its
//! length the number of rows); results come back as an array plus its
//! schema, which Sluice checks against the declared type. Every call returns
//! a [`SluiceStatus`]; a panic inside the plugin is caught by the SDK and
//! reported as [`STATUS_PANIC`] instead of unwinding across the boundary.

use std::ffi::{c_char, c_void};

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};

/// The ABI version this crate speaks.
pub const ABI_VERSION: u32 = 1;

/// [`SluiceFunction::kind`] of a scalar function.
pub const KIND_SCALAR: u32 = 1;
/// [`SluiceFunction::kind`] of an aggregate function.
pub const KIND_AGGREGATE: u32 = 2;
/// [`SluiceFunction::kind`] of a table function.
pub const KIND_TABLE: u32 = 3;

/// The call succeeded.
pub const STATUS_OK: i32 = 0;
/// The function returned an error; the message says which.
pub const STATUS_ERROR: i32 = 1;
/// The function panicked; the message is the panic's.
pub const STATUS_PANIC: i32 = 2;

/// The outcome of a call. `message` is null on success, otherwise a
/// NUL-terminated UTF-8 string owned by the plugin, to be handed back to
/// [`SluiceFunction::free_message`].
#[repr(C)]
pub struct SluiceStatus {
    /// One of `STATUS_*`.
    pub code: i32,
    /// What went wrong, or null.
    pub message: *mut c_char,
}

/// The type of the symbol a plugin exports for each function:
/// `CREATE FUNCTION f AS 'symbol' USING LIBRARY '..'` looks up `symbol`
/// and calls it once. The returned descriptor lives as long as the library.
pub type EntryPoint = unsafe extern "C" fn() -> *const SluiceFunction;

/// One exported function.
#[repr(C)]
pub struct SluiceFunction {
    /// [`ABI_VERSION`] of the SDK the plugin was built with; always first.
    pub abi_version: u32,
    /// One of `KIND_*`; exactly the matching vtable below is non-null.
    pub kind: u32,
    /// The function's own name (NUL-terminated), for messages.
    pub name: *const c_char,
    /// Whether equal arguments always give equal results.
    pub deterministic: bool,
    /// The plugin's object behind the function, passed back to every call.
    pub instance: *const c_void,
    /// Writes the arguments as a struct schema (one field per argument).
    pub arguments: unsafe extern "C" fn(*const c_void, *mut FFI_ArrowSchema) -> SluiceStatus,
    /// Writes the result as a struct schema: one field for scalar and
    /// aggregate functions, one per produced column for table functions.
    pub result: unsafe extern "C" fn(*const c_void, *mut FFI_ArrowSchema) -> SluiceStatus,
    /// Frees a [`SluiceStatus::message`].
    pub free_message: unsafe extern "C" fn(*mut c_char),
    /// Set for [`KIND_SCALAR`].
    pub scalar: *const ScalarVTable,
    /// Set for [`KIND_AGGREGATE`].
    pub aggregate: *const AggregateVTable,
    /// Set for [`KIND_TABLE`].
    pub table: *const TableVTable,
}

/// A scalar function: `rows` values in, `rows` values out.
#[repr(C)]
pub struct ScalarVTable {
    /// `(instance, args, args_schema, out, out_schema)`: reads the argument
    /// struct (taking ownership of it) and writes one result array of the
    /// same length.
    pub invoke: unsafe extern "C" fn(
        *const c_void,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
    ) -> SluiceStatus,
}

/// An aggregate function with Flink's accumulator contract. An accumulator
/// is an opaque pointer owned by the plugin until `destroy`.
#[repr(C)]
pub struct AggregateVTable {
    /// Writes the accumulator's serialized state as a struct schema.
    pub state_schema: unsafe extern "C" fn(*const c_void, *mut FFI_ArrowSchema) -> SluiceStatus,
    /// Whether `retract` works (needed for updating input and OVER windows).
    pub supports_retract: bool,
    /// Whether `merge` works (needed for HOP/CUMULATE/SESSION panes).
    pub supports_merge: bool,
    /// A new, empty accumulator (null if the plugin failed to make one).
    pub create: unsafe extern "C" fn(*const c_void) -> *mut c_void,
    /// Adds every row of the argument struct.
    pub accumulate: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
    ) -> SluiceStatus,
    /// Removes every row of the argument struct.
    pub retract: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
    ) -> SluiceStatus,
    /// Merges every row of a struct of serialized states (the state schema).
    pub merge: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
    ) -> SluiceStatus,
    /// Writes the accumulator's state as a one-row struct of the state schema.
    pub state: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
    ) -> SluiceStatus,
    /// Writes the current result as a one-row array.
    pub value: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
    ) -> SluiceStatus,
    /// The accumulator's approximate size in bytes.
    pub size: unsafe extern "C" fn(*const c_void, *mut c_void) -> usize,
    /// Frees the accumulator.
    pub destroy: unsafe extern "C" fn(*const c_void, *mut c_void),
}

/// A table function: each input row gives zero or more output rows.
#[repr(C)]
pub struct TableVTable {
    /// `(instance, args, args_schema, out, out_schema)`: writes a struct
    /// whose first child (`UInt32`, non-null) is, for each produced row, the
    /// input row it came from (ascending), followed by the produced columns.
    pub invoke: unsafe extern "C" fn(
        *const c_void,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
    ) -> SluiceStatus,
}
