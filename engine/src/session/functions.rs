//! The session's user functions: `CREATE FUNCTION .. USING LIBRARY` (run-time
//! plugins), `DROP FUNCTION`, `SHOW USER FUNCTIONS` and `DESCRIBE FUNCTION`,
//! and the record the Rust API's `register_*` calls leave for them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, MutexGuard};

use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::sql::sqlparser::ast::ObjectName;
use sluice_udf::plugin::{self, LoadedFunction, PluginError, PluginFunction};

use super::show::string_table;
use super::{Session, StatementResult, ok};
use crate::catalog::resolve_name;
use crate::error::{Position, Result, SluiceError};
use crate::sql::{CreateFunction, FunctionResource};

/// User functions by lower-cased name (Flink resolves names ignoring case).
pub(super) type UserFunctions = BTreeMap<String, UserFunction>;

/// A function the user added, with what `DESCRIBE FUNCTION` shows of it.
#[derive(Debug, Clone)]
pub(super) struct UserFunction {
    name: String,
    kind: &'static str,
    temporary: bool,
    system: bool,
    symbol: Option<String>,
    library: Option<PathBuf>,
    signature: Option<String>,
    deterministic: bool,
    /// The built-in a `SYSTEM` function replaced, restored by DROP.
    shadowed: Option<Shadowed>,
}

#[derive(Debug, Clone)]
enum Shadowed {
    Scalar(Arc<ScalarUDF>),
    Aggregate(Arc<AggregateUDF>),
}

impl UserFunction {
    /// A function registered through the Rust API (Flink's
    /// `createTemporarySystemFunction`).
    pub(super) fn registered(name: &str, kind: &'static str) -> Self {
        UserFunction {
            name: name.to_string(),
            kind,
            temporary: true,
            system: true,
            symbol: None,
            library: None,
            signature: None,
            deterministic: true,
            shadowed: None,
        }
    }
}

impl Session {
    pub(super) fn user_functions(&self) -> MutexGuard<'_, UserFunctions> {
        self.inner
            .functions
            .lock()
            .expect("function list lock poisoned")
    }

    /// Whether `lower` names a function Sluice itself provides.
    fn is_builtin(&self, lower: &str) -> bool {
        !self.user_functions().contains_key(lower)
            && self.function_names().iter().any(|n| n == lower)
    }

    pub(super) fn create_function(&self, f: CreateFunction) -> Result<StatementResult> {
        let name = resolve_name(&f.name)?;
        let lower = name.to_ascii_lowercase();
        let at = f.position;
        if let Some(l) = f.language.as_deref().filter(|l| *l != "RUST") {
            return Err(SluiceError::not_supported(format!(
                "CREATE FUNCTION {name} at {at}: LANGUAGE {l} functions (Sluice loads Rust \
                 plugins: LANGUAGE RUST USING LIBRARY '/path/libname.so', see docs/udf.md)"
            )));
        }
        if self.user_functions().contains_key(&lower) {
            if f.if_not_exists {
                return Ok(ok());
            }
            return Err(SluiceError::Catalog(format!(
                "Could not execute CreateFunction at {at}: function '{name}' already exists"
            )));
        }
        if !f.system && self.is_builtin(&lower) {
            return Err(SluiceError::Catalog(format!(
                "Could not execute CreateFunction at {at}: '{name}' is a built-in function; \
                 choose another name or replace it with CREATE TEMPORARY SYSTEM FUNCTION"
            )));
        }
        let dirs = self.config().plugin_dirs();
        let loaded = match &f.using {
            Some(FunctionResource::Jar(jar)) => {
                return Err(SluiceError::not_supported(format!(
                    "CREATE FUNCTION {name} at {at} USING JAR '{jar}': Sluice cannot run Java \
                     classes; build the function as a Rust plugin and load it with USING \
                     LIBRARY '/path/libname.so' (docs/udf.md)"
                )));
            }
            Some(FunctionResource::Library(library)) => {
                plugin::load(library, &f.symbol, &name, &dirs)
            }
            None => search_plugin_dirs(&f.symbol, &name, &dirs, at)?,
        }
        .map_err(|e| SluiceError::plan(format!("CREATE FUNCTION {name} at {at}: {e}")))?;
        self.add_plugin_function(&name, f.temporary, f.system, loaded);
        Ok(ok())
    }

    fn add_plugin_function(&self, name: &str, temporary: bool, system: bool, p: PluginFunction) {
        let PluginFunction {
            kind,
            library,
            symbol,
            signature,
            deterministic,
            function,
        } = p;
        let shadowed = self.with_state(|s| match function {
            LoadedFunction::Scalar(f) => s
                .register_udf(Arc::new(f))
                .ok()
                .flatten()
                .map(Shadowed::Scalar),
            LoadedFunction::Aggregate(f) => s
                .register_udaf(Arc::new(f))
                .ok()
                .flatten()
                .map(Shadowed::Aggregate),
            LoadedFunction::Table(f) => {
                s.register_udtf(name, Arc::new(f.clone()));
                s.register_udtf(&name.to_ascii_lowercase(), Arc::new(f));
                None
            }
        });
        self.user_functions().insert(
            name.to_ascii_lowercase(),
            UserFunction {
                name: name.to_string(),
                kind: match kind {
                    plugin::Kind::Scalar => "SCALAR",
                    plugin::Kind::Aggregate => "AGGREGATE",
                    plugin::Kind::Table => "TABLE",
                },
                temporary,
                system,
                symbol: Some(symbol),
                library: Some(library),
                signature: Some(signature),
                deterministic,
                shadowed,
            },
        );
    }

    pub(super) fn drop_function(
        &self,
        name: &ObjectName,
        if_exists: bool,
    ) -> Result<StatementResult> {
        let name = resolve_name(name)?;
        let lower = name.to_ascii_lowercase();
        let Some(f) = self.user_functions().remove(&lower) else {
            if self.is_builtin(&lower) {
                return Err(SluiceError::Catalog(format!(
                    "Could not execute DropFunction: '{name}' is a built-in function"
                )));
            }
            if if_exists {
                return Ok(ok());
            }
            return Err(SluiceError::Catalog(format!(
                "Could not execute DropFunction: function '{name}' does not exist"
            )));
        };
        self.with_state(|s| -> Result<()> {
            match f.kind {
                "TABLE" => {
                    s.deregister_udtf(&f.name)?;
                    s.deregister_udtf(&lower)?;
                }
                "AGGREGATE" => {
                    s.deregister_udaf(&f.name)?;
                }
                _ => {
                    s.deregister_udf(&f.name)?;
                }
            }
            match f.shadowed {
                Some(Shadowed::Scalar(b)) => {
                    s.register_udf(b)?;
                }
                Some(Shadowed::Aggregate(b)) => {
                    s.register_udaf(b)?;
                }
                None => {}
            }
            Ok(())
        })?;
        Ok(ok())
    }

    /// `SHOW USER FUNCTIONS`: the names of the functions users added.
    pub(super) fn user_function_names(&self) -> Vec<String> {
        self.user_functions()
            .values()
            .map(|f| f.name.clone())
            .collect()
    }

    /// `DESCRIBE FUNCTION [EXTENDED] f`, in Flink's `info name`/`info value` rows.
    pub(super) fn describe_function(
        &self,
        name: &ObjectName,
        extended: bool,
    ) -> Result<StatementResult> {
        let name = resolve_name(name)?;
        let lower = name.to_ascii_lowercase();
        let row = |k: &str, v: String| vec![k.to_string(), v];
        let rows = if let Some(f) = self.user_functions().get(&lower).cloned() {
            let mut rows = vec![
                row("is system function", f.system.to_string()),
                row("is temporary", f.temporary.to_string()),
                row("class name", f.symbol.clone().unwrap_or_default()),
                row("function language", "RUST".into()),
                row(
                    "resource uris",
                    format!(
                        "[{}]",
                        f.library
                            .as_ref()
                            .map(|l| l.display().to_string())
                            .unwrap_or_default()
                    ),
                ),
            ];
            if extended {
                rows.push(row("kind", f.kind.into()));
                rows.push(row("is deterministic", f.deterministic.to_string()));
                if let Some(sig) = &f.signature {
                    rows.push(row("signature", format!("{}{sig}", f.name)));
                }
            }
            rows
        } else if self.is_builtin(&lower) {
            let mut rows = vec![
                row("is system function", "true".into()),
                row("is temporary", "false".into()),
            ];
            if extended {
                rows.push(row("kind", self.builtin_kind(&lower).into()));
            }
            rows
        } else {
            return Err(SluiceError::Catalog(format!(
                "Function '{name}' does not exist"
            )));
        };
        Ok(string_table(&["info name", "info value"], rows))
    }

    fn builtin_kind(&self, lower: &str) -> &'static str {
        let s = self.state();
        if s.scalar_functions().contains_key(lower) {
            "SCALAR"
        } else if s.aggregate_functions().contains_key(lower) {
            "AGGREGATE"
        } else if s.table_functions().contains_key(lower) {
            "TABLE"
        } else {
            "OTHER"
        }
    }
}

/// Without `USING LIBRARY`, the symbol is looked for in every library of
/// `sluice.udf.plugin-dirs` (Flink looks on the class path).
fn search_plugin_dirs(
    symbol: &str,
    name: &str,
    dirs: &[PathBuf],
    at: Position,
) -> Result<std::result::Result<PluginFunction, PluginError>> {
    if dirs.is_empty() {
        return Err(SluiceError::plan(format!(
            "CREATE FUNCTION {name} at {at}: say where the function is with USING LIBRARY \
             '/path/libname.so', or set 'sluice.udf.plugin-dirs'"
        )));
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut libraries: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "so" || e == "dylib" || e == "dll")
            })
            .collect();
        libraries.sort();
        for library in libraries {
            match plugin::load(&library.to_string_lossy(), symbol, name, dirs) {
                Err(PluginError::MissingSymbol { .. }) => continue,
                other => return Ok(other),
            }
        }
    }
    Err(SluiceError::plan(format!(
        "CREATE FUNCTION {name} at {at}: no library in 'sluice.udf.plugin-dirs' ({}) exports \
         '{symbol}'",
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
