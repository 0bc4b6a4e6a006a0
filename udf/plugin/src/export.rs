//! The plugin side of the ABI: turns a [`ScalarUdf`], [`AggregateUdf`] or
//! [`TableUdf`] into the descriptor and `extern "C"` calls Sluice expects.
//! Every call catches panics, so a bug in a function becomes an error that
//! names it rather than an abort of the whole process.

use std::any::Any;
use std::ffi::{CString, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{Array, ArrayRef, StructArray};
use arrow_schema::{DataType, Field, Fields};

use crate::abi::*;
use crate::columns::{import_columns, write_array, write_fields};
use crate::function::{Accumulator, AggregateUdf, Result, ScalarUdf, TableUdf};

/// An exported function: its descriptor and everything the descriptor
/// points at. Lives in a `static` of the plugin (see the `export_*!` macros).
pub struct Exported {
    descriptor: SluiceFunction,
    _name: CString,
    _instance: Box<dyn Any + Send + Sync>,
    _scalar: Option<Box<ScalarVTable>>,
    _aggregate: Option<Box<AggregateVTable>>,
    _table: Option<Box<TableVTable>>,
}

// SAFETY: the raw pointers in the descriptor point into the boxes owned
// alongside it, which are never mutated after construction.
unsafe impl Send for Exported {}
unsafe impl Sync for Exported {}

impl Exported {
    /// The descriptor the entry point returns.
    pub fn as_ptr(&self) -> *const SluiceFunction {
        &self.descriptor
    }

    /// For tests of the loader: lets a fixture break its own descriptor.
    #[doc(hidden)]
    pub fn descriptor_mut(&mut self) -> &mut SluiceFunction {
        &mut self.descriptor
    }

    fn new<U: Send + Sync + 'static>(
        name: &str,
        kind: u32,
        deterministic: bool,
        instance: Instance<U>,
    ) -> Self {
        let name = CString::new(name).unwrap_or_default();
        let instance = Box::new(instance);
        let descriptor = SluiceFunction {
            abi_version: ABI_VERSION,
            kind,
            name: name.as_ptr(),
            deterministic,
            instance: &*instance as *const Instance<U> as *const c_void,
            arguments: declared_arguments::<U>,
            result: declared_result::<U>,
            free_message,
            scalar: std::ptr::null(),
            aggregate: std::ptr::null(),
            table: std::ptr::null(),
        };
        Exported {
            descriptor,
            _name: name,
            _instance: instance,
            _scalar: None,
            _aggregate: None,
            _table: None,
        }
    }
}

/// What the descriptor's `instance` points at: the function and its
/// signature, declared once when it is exported rather than on every call.
struct Instance<U> {
    udf: U,
    arguments: Vec<Field>,
    result: Vec<Field>,
    /// An aggregate's state fields (empty for other kinds).
    state: Vec<Field>,
}

/// Exports a scalar function under `name`.
pub fn scalar<U: ScalarUdf>(name: &str, udf: U) -> Exported {
    let deterministic = udf.deterministic();
    let instance = Instance {
        arguments: udf.arguments(),
        result: vec![udf.result()],
        state: Vec::new(),
        udf,
    };
    let mut e = Exported::new(name, KIND_SCALAR, deterministic, instance);
    let vt = Box::new(ScalarVTable {
        invoke: scalar_invoke::<U>,
    });
    e.descriptor.scalar = &*vt;
    e._scalar = Some(vt);
    e
}

/// Exports an aggregate function under `name`.
pub fn aggregate<U: AggregateUdf>(name: &str, udf: U) -> Exported {
    let (retract, merge) = (udf.supports_retract(), udf.supports_merge());
    let instance = Instance {
        arguments: udf.arguments(),
        result: vec![udf.result()],
        state: udf.state(),
        udf,
    };
    let mut e = Exported::new(name, KIND_AGGREGATE, true, instance);
    let vt = Box::new(AggregateVTable {
        state_schema: declared_state::<U>,
        supports_retract: retract,
        supports_merge: merge,
        create: agg_create::<U>,
        accumulate: agg_accumulate::<U>,
        retract: agg_retract::<U>,
        merge: agg_merge::<U>,
        state: agg_state::<U>,
        value: agg_value::<U>,
        size: agg_size::<U>,
        destroy: agg_destroy::<U>,
    });
    e.descriptor.aggregate = &*vt;
    e._aggregate = Some(vt);
    e
}

/// Exports a table function under `name`.
pub fn table<U: TableUdf>(name: &str, udf: U) -> Exported {
    let deterministic = udf.deterministic();
    let instance = Instance {
        arguments: udf.arguments(),
        result: udf.columns(),
        state: Vec::new(),
        udf,
    };
    let mut e = Exported::new(name, KIND_TABLE, deterministic, instance);
    let vt = Box::new(TableVTable {
        invoke: table_invoke::<U>,
    });
    e.descriptor.table = &*vt;
    e._table = Some(vt);
    e
}

/// Runs `f`, turning its error or panic into a status.
fn call(f: impl FnOnce() -> Result<()>) -> SluiceStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => SluiceStatus {
            code: STATUS_OK,
            message: std::ptr::null_mut(),
        },
        Ok(Err(e)) => status(STATUS_ERROR, e.to_string()),
        Err(payload) => status(STATUS_PANIC, panic_message(payload.as_ref())),
    }
}

/// The message a panic was raised with (`panic!("..")` gives a `&str` or a
/// `String`; anything else has none).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

fn status(code: i32, message: String) -> SluiceStatus {
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    SluiceStatus {
        code,
        message: message.into_raw(),
    }
}

unsafe extern "C" fn free_message(message: *mut c_char) {
    if !message.is_null() {
        drop(unsafe { CString::from_raw(message) });
    }
}

/// # Safety
/// `instance` is the [`Instance`] an [`Exported`] of `U` points at.
unsafe fn instance<'a, U>(instance: *const c_void) -> &'a Instance<U> {
    unsafe { &*(instance as *const Instance<U>) }
}

/// # Safety
/// As for [`instance`].
unsafe fn udf<'a, U>(i: *const c_void) -> &'a U {
    unsafe { &instance::<U>(i).udf }
}

fn write_schema(fields: Vec<Field>, out: *mut FFI_ArrowSchema) -> SluiceStatus {
    call(|| Ok(unsafe { write_fields(fields, out) }?))
}

unsafe extern "C" fn declared_arguments<U>(
    i: *const c_void,
    out: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    write_schema(unsafe { instance::<U>(i) }.arguments.clone(), out)
}

unsafe extern "C" fn declared_result<U>(
    i: *const c_void,
    out: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    write_schema(unsafe { instance::<U>(i) }.result.clone(), out)
}

unsafe extern "C" fn declared_state<U>(
    i: *const c_void,
    out: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    write_schema(unsafe { instance::<U>(i) }.state.clone(), out)
}

unsafe extern "C" fn scalar_invoke<U: ScalarUdf>(
    i: *const c_void,
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    call(|| {
        let (args, rows) = unsafe { import_columns(args, args_schema) }?;
        let result = unsafe { udf::<U>(i) }.invoke(&args, rows)?;
        unsafe { write_array(result.as_ref(), out, out_schema) }?;
        Ok(())
    })
}

unsafe extern "C" fn agg_create<U: AggregateUdf>(i: *const c_void) -> *mut c_void {
    let made = catch_unwind(AssertUnwindSafe(|| {
        Box::new(unsafe { udf::<U>(i) }.create_accumulator())
    }));
    match made {
        Ok(acc) => Box::into_raw(acc) as *mut c_void,
        Err(_) => std::ptr::null_mut(),
    }
}

/// # Safety
/// `acc` came from `agg_create::<U>` and was not destroyed.
unsafe fn acc<'a, U: AggregateUdf>(acc: *mut c_void) -> &'a mut U::Accumulator {
    unsafe { &mut *(acc as *mut U::Accumulator) }
}

/// Hands the columns at `columns`/`schema` to accumulator `a`.
///
/// # Safety
/// As for [`acc`] and [`import_columns`].
unsafe fn feed<U: AggregateUdf>(
    a: *mut c_void,
    columns: *mut FFI_ArrowArray,
    schema: *mut FFI_ArrowSchema,
    f: impl FnOnce(&mut U::Accumulator, &[ArrayRef]) -> Result<()>,
) -> SluiceStatus {
    call(|| {
        let (columns, _) = unsafe { import_columns(columns, schema) }?;
        f(unsafe { acc::<U>(a) }, &columns)
    })
}

unsafe extern "C" fn agg_accumulate<U: AggregateUdf>(
    _i: *const c_void,
    a: *mut c_void,
    args: *mut FFI_ArrowArray,
    schema: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    unsafe { feed::<U>(a, args, schema, |acc, columns| acc.accumulate(columns)) }
}

unsafe extern "C" fn agg_retract<U: AggregateUdf>(
    _i: *const c_void,
    a: *mut c_void,
    args: *mut FFI_ArrowArray,
    schema: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    unsafe { feed::<U>(a, args, schema, |acc, columns| acc.retract(columns)) }
}

unsafe extern "C" fn agg_merge<U: AggregateUdf>(
    _i: *const c_void,
    a: *mut c_void,
    states: *mut FFI_ArrowArray,
    schema: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    unsafe { feed::<U>(a, states, schema, |acc, columns| acc.merge(columns)) }
}

unsafe extern "C" fn agg_state<U: AggregateUdf>(
    i: *const c_void,
    a: *mut c_void,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    call(|| {
        let columns = unsafe { acc::<U>(a) }.state()?;
        let fields: Fields = unsafe { instance::<U>(i) }
            .state
            .iter()
            .cloned()
            .zip(&columns)
            .map(|(f, c)| f.with_data_type(c.data_type().clone()).with_nullable(true))
            .collect();
        let state = StructArray::try_new_with_length(fields, columns, None, 1)?;
        unsafe { write_array(&state, out, out_schema) }?;
        Ok(())
    })
}

unsafe extern "C" fn agg_value<U: AggregateUdf>(
    _i: *const c_void,
    a: *mut c_void,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    call(|| {
        let value = unsafe { acc::<U>(a) }.value()?;
        unsafe { write_array(value.as_ref(), out, out_schema) }?;
        Ok(())
    })
}

unsafe extern "C" fn agg_size<U: AggregateUdf>(_i: *const c_void, a: *mut c_void) -> usize {
    catch_unwind(AssertUnwindSafe(|| unsafe { acc::<U>(a) }.size())).unwrap_or(0)
}

unsafe extern "C" fn agg_destroy<U: AggregateUdf>(_i: *const c_void, a: *mut c_void) {
    if !a.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            drop(unsafe { Box::from_raw(a as *mut U::Accumulator) })
        }));
    }
}

unsafe extern "C" fn table_invoke<U: TableUdf>(
    i: *const c_void,
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> SluiceStatus {
    call(|| {
        let (args, rows) = unsafe { import_columns(args, args_schema) }?;
        let (input_rows, columns) = unsafe { udf::<U>(i) }.invoke(&args, rows)?;
        let produced = input_rows.len();
        let mut fields = vec![Field::new("input_row", DataType::UInt32, false)];
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(input_rows)];
        for (n, c) in columns.into_iter().enumerate() {
            fields.push(Field::new(format!("c{n}"), c.data_type().clone(), true));
            arrays.push(c);
        }
        let out_rows = StructArray::try_new_with_length(fields.into(), arrays, None, produced)?;
        unsafe { write_array(&out_rows, out, out_schema) }?;
        Ok(())
    })
}
