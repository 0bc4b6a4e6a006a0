//! Why a plugin function could not be loaded.

use std::path::PathBuf;

/// A failure to load a plugin function; each names the library and symbol.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The library file does not exist where the user said.
    #[error("plugin library '{library}' not found (looked for {})", searched.iter().map(|p| format!("'{}'", p.display())).collect::<Vec<_>>().join(", "))]
    NotFound {
        library: String,
        searched: Vec<PathBuf>,
    },
    /// The file exists but is not a loadable library.
    #[error("cannot load plugin library '{}': {reason}", path.display())]
    Open { path: PathBuf, reason: String },
    /// The library does not export the symbol.
    #[error(
        "plugin library '{}' has no function '{symbol}' (export it with sluice_udf_plugin::export_scalar!, export_aggregate! or export_table!)",
        path.display()
    )]
    MissingSymbol { symbol: String, path: PathBuf },
    /// The function was built for another ABI version.
    #[error(
        "function '{symbol}' in '{}' was built for plugin ABI version {found}, but this Sluice speaks version {expected}; rebuild the plugin against sluice-udf-plugin for ABI {expected}",
        path.display()
    )]
    AbiVersion {
        symbol: String,
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// The descriptor breaks the ABI's rules.
    #[error("function '{symbol}' in '{}' has a wrong signature: {what}", path.display())]
    Malformed {
        symbol: String,
        path: PathBuf,
        what: String,
    },
}
