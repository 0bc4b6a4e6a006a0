//! A loaded function's handle: the descriptor, the library kept loaded for
//! as long as anything uses it, and the translation of call statuses into
//! errors that name the function.

use std::ffi::CStr;
use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use libloading::Library;
use sluice_udf_plugin::abi::{STATUS_OK, STATUS_PANIC, SluiceFunction, SluiceStatus};

/// A descriptor and its library.
pub struct Handle {
    /// Points into the library, which stays loaded while any handle lives.
    f: *const SluiceFunction,
    _library: Arc<Library>,
    /// The name SQL calls the function by.
    pub name: String,
}

// SAFETY: the descriptor is immutable after the entry point returned it and
// the SDK's calls are thread-safe (its functions are `Send + Sync`).
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Handle {
    pub(super) fn new(library: Arc<Library>, f: *const SluiceFunction, name: &str) -> Self {
        Handle {
            f,
            _library: library,
            name: name.to_string(),
        }
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &SluiceFunction {
        // SAFETY: non-null (checked on load) and alive while the library is.
        unsafe { &*self.f }
    }

    /// `Ok` for a successful call, otherwise the plugin's message (freed
    /// here) as an execution error naming the function.
    pub fn check(&self, status: SluiceStatus) -> Result<()> {
        if status.code == STATUS_OK {
            return Ok(());
        }
        let message = if status.message.is_null() {
            "(no message)".to_string()
        } else {
            let m = unsafe { CStr::from_ptr(status.message) }
                .to_string_lossy()
                .into_owned();
            unsafe { (self.descriptor().free_message)(status.message) };
            m
        };
        let what = if status.code == STATUS_PANIC {
            "panicked"
        } else {
            "failed"
        };
        Err(DataFusionError::Execution(format!(
            "user-defined function '{}' {what}: {message}",
            self.name
        )))
    }
}
