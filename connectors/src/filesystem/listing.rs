//! Which files a filesystem source reads: the path itself when it is a file,
//! else every file below it, recursively, skipping hidden entries (names
//! starting with `.` or `_`, like Flink: in-progress part files and
//! `_SUCCESS` markers), in sorted order so that every parallel instance sees
//! the same list and can take its share by index.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::ConnectorError;

/// A file to read and what its metadata columns report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in milliseconds since the epoch, when known.
    pub modified_millis: Option<i64>,
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}

fn entry(path: PathBuf, meta: &std::fs::Metadata) -> FileEntry {
    let modified_millis = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_millis()).ok());
    FileEntry {
        path,
        size: meta.len(),
        modified_millis,
    }
}

fn walk(dir: &Path, out: &mut Vec<FileEntry>) -> Result<(), ConnectorError> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| ConnectorError::io(format!("listing directory {}", dir.display()), e))?;
    for item in read {
        let item = item
            .map_err(|e| ConnectorError::io(format!("listing directory {}", dir.display()), e))?;
        let path = item.path();
        if is_hidden(&path) {
            continue;
        }
        // Follows symlinks, like reading the file would.
        let meta = std::fs::metadata(&path).map_err(|e| {
            ConnectorError::io(format!("reading metadata of {}", path.display()), e)
        })?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(entry(path, &meta));
        }
    }
    Ok(())
}

/// Lists the files to read under `root`, sorted by path.
pub fn list_files(root: &Path) -> Result<Vec<FileEntry>, ConnectorError> {
    let meta = std::fs::metadata(root)
        .map_err(|e| ConnectorError::io(format!("cannot read path '{}'", root.display()), e))?;
    if !meta.is_dir() {
        return Ok(vec![entry(root.to_path_buf(), &meta)]);
    }
    let mut out = Vec::new();
    walk(root, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
