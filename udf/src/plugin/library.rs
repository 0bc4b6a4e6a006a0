//! Opening a plugin library and checking one exported function's
//! descriptor before anything else of it is used.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::Field;
use datafusion::common::Result;
use libloading::Library;
use sluice_udf_plugin::abi::{
    ABI_VERSION, EntryPoint, KIND_AGGREGATE, KIND_SCALAR, KIND_TABLE, SluiceFunction, SluiceStatus,
};
use sluice_udf_plugin::columns::{export_columns, import_array, read_fields};

use super::error::PluginError;
use super::status::Handle;

/// Where `library` (as written in `USING LIBRARY '..'`) is loaded from: a
/// path with a directory part is taken as written (relative to the working
/// directory); a bare file name is looked up in `plugin_dirs`, then in the
/// working directory — never in the system's library search path, so only
/// files the user named can be loaded.
pub fn resolve(library: &str, plugin_dirs: &[PathBuf]) -> Result<PathBuf, PluginError> {
    let given = Path::new(library);
    let candidates: Vec<PathBuf> = if given.components().count() > 1 || given.is_absolute() {
        vec![given.to_path_buf()]
    } else {
        plugin_dirs
            .iter()
            .map(|d| d.join(given))
            .chain([Path::new(".").join(given)])
            .collect()
    };
    candidates
        .iter()
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| PluginError::NotFound {
            library: library.to_string(),
            searched: candidates,
        })
}

/// Opens `path` and checks the descriptor `symbol` returns.
pub fn open(path: &Path, symbol: &str, sql_name: &str) -> Result<Descriptor, PluginError> {
    let at = || (symbol.to_string(), path.to_path_buf());
    // SAFETY: loading runs the library's initializers; the user named the
    // library, which is the trust decision Flink's `USING JAR` makes too.
    let library = unsafe { Library::new(path) }.map_err(|e| PluginError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let library = Arc::new(library);
    // SAFETY: the symbol is called with the ABI's entry-point type; a symbol
    // of another type is the one thing the ABI cannot detect.
    let entry: EntryPoint = unsafe {
        *library
            .get::<EntryPoint>(symbol.as_bytes())
            .map_err(|_| PluginError::MissingSymbol {
                symbol: symbol.to_string(),
                path: path.to_path_buf(),
            })?
    };
    let f = unsafe { entry() };
    if f.is_null() {
        let (symbol, path) = at();
        return Err(PluginError::Malformed {
            symbol,
            path,
            what: "its entry point returned no function".into(),
        });
    }
    // SAFETY: only the first field is read before the version is known.
    let version = unsafe { std::ptr::read(f as *const u32) };
    if version != ABI_VERSION {
        let (symbol, path) = at();
        return Err(PluginError::AbiVersion {
            symbol,
            path,
            found: version,
            expected: ABI_VERSION,
        });
    }
    let handle = Handle::new(library, f, sql_name);
    let d = handle.descriptor();
    let malformed = |what: String| {
        let (symbol, path) = at();
        PluginError::Malformed { symbol, path, what }
    };
    let kind = match (
        d.kind,
        !d.scalar.is_null(),
        !d.aggregate.is_null(),
        !d.table.is_null(),
    ) {
        (KIND_SCALAR, true, false, false) => Kind::Scalar,
        (KIND_AGGREGATE, false, true, false) => Kind::Aggregate,
        (KIND_TABLE, false, false, true) => Kind::Table,
        (k, ..) => {
            return Err(malformed(format!(
                "its kind ({k}) does not match the calls it carries"
            )));
        }
    };
    let arguments = read_schema(&handle, d.arguments, "arguments").map_err(&malformed)?;
    let result = read_schema(&handle, d.result, "result").map_err(&malformed)?;
    let state = match kind {
        Kind::Aggregate => {
            let vt = unsafe { &*d.aggregate };
            read_schema(&handle, vt.state_schema, "state").map_err(&malformed)?
        }
        _ => Vec::new(),
    };
    match kind {
        Kind::Scalar | Kind::Aggregate if result.len() != 1 => {
            return Err(malformed(format!(
                "a {} function declares exactly one result, it declares {}",
                kind.as_str(),
                result.len()
            )));
        }
        Kind::Table if result.is_empty() => {
            return Err(malformed(
                "a table function declares at least one column, it declares none".into(),
            ));
        }
        _ => {}
    }
    let deterministic = d.deterministic;
    Ok(Descriptor {
        handle,
        kind,
        deterministic,
        arguments,
        result,
        state,
    })
}

fn read_schema(
    handle: &Handle,
    getter: unsafe extern "C" fn(*const std::ffi::c_void, *mut FFI_ArrowSchema) -> SluiceStatus,
    what: &str,
) -> Result<Vec<Field>, String> {
    let mut schema = FFI_ArrowSchema::empty();
    let status = unsafe { getter(handle.descriptor().instance, &mut schema) };
    handle
        .check(status)
        .map_err(|e| format!("its {what} could not be read: {e}"))?;
    read_fields(&schema).map_err(|e| format!("its {what} are not a valid schema: {e}"))
}

/// Which kind of function a descriptor exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scalar function.
    Scalar,
    /// An aggregate function.
    Aggregate,
    /// A table function.
    Table,
}

impl Kind {
    /// Flink's name for the kind, as `DESCRIBE FUNCTION` shows it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            Kind::Aggregate => "aggregate",
            Kind::Table => "table",
        }
    }
}

/// A checked descriptor.
pub struct Descriptor {
    pub(super) handle: Handle,
    /// The kind of function.
    pub kind: Kind,
    /// Whether equal arguments always give equal results.
    pub deterministic: bool,
    /// The declared arguments.
    pub arguments: Vec<Field>,
    /// The declared result (one field) or produced columns.
    pub result: Vec<Field>,
    /// An aggregate's state fields.
    pub state: Vec<Field>,
}

impl Descriptor {
    pub(super) fn raw(&self) -> &SluiceFunction {
        self.handle.descriptor()
    }

    /// Calls a scalar or table function's `invoke` with the argument
    /// columns and returns the array it produced.
    pub(super) fn invoke(
        &self,
        invoke: Invoke,
        args: &[ArrayRef],
        rows: usize,
    ) -> Result<ArrayRef> {
        let (mut a, mut s) = export_columns(args, rows)?;
        let (mut out, mut out_schema) = (FFI_ArrowArray::empty(), FFI_ArrowSchema::empty());
        let status = unsafe {
            invoke(
                self.raw().instance,
                &mut a,
                &mut s,
                &mut out,
                &mut out_schema,
            )
        };
        self.handle.check(status)?;
        Ok(unsafe { import_array(&mut out, &mut out_schema) }?)
    }
}

/// The `invoke` of a scalar or table function.
pub(super) type Invoke = unsafe extern "C" fn(
    *const std::ffi::c_void,
    *mut FFI_ArrowArray,
    *mut FFI_ArrowSchema,
    *mut FFI_ArrowArray,
    *mut FFI_ArrowSchema,
) -> SluiceStatus;
