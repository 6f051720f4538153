//! The one corio runtime of the process.
//!
//! Every Node environment (the main thread and each `worker_thread`) loads this addon into the
//! same process image, so a process-wide `OnceLock` gives them one shared multi-thread runtime:
//! sockets opened in a worker are driven by the same reactor and worker threads as the main
//! thread's. It starts lazily on the first native operation; `configure()` may change its
//! settings only before that. The runtime is never shut down: it lives until the process exits,
//! and environments that go away cancel their own operations instead (see `bridge::env`).

use std::sync::{Mutex, OnceLock};

use corio::runtime::{Builder, Handle, Runtime};

/// Settings applied when the runtime starts.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Config {
    /// Worker threads; `None` = the core's default (one per CPU).
    pub(crate) worker_threads: Option<usize>,
}

/// `Some` until the runtime starts; `configure` edits it, `start` takes it.
static PENDING_CONFIG: Mutex<Option<Config>> = Mutex::new(Some(Config {
    worker_threads: None,
}));
static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// Why `configure` refused.
pub(crate) enum ConfigureError {
    AlreadyStarted,
}

/// Records settings for the runtime; fails once the runtime has started.
pub(crate) fn configure(config: Config) -> Result<(), ConfigureError> {
    let mut pending = PENDING_CONFIG.lock().unwrap_or_else(|p| p.into_inner());
    match pending.as_mut() {
        Some(c) => {
            *c = config;
            Ok(())
        }
        None => Err(ConfigureError::AlreadyStarted),
    }
}

/// The runtime's handle, starting the runtime on first use.
pub(crate) fn handle() -> Result<&'static Handle, String> {
    let rt = RUNTIME.get_or_init(|| {
        // Taking the config under its lock closes the window in which a concurrent configure()
        // (from another worker thread) could succeed after the runtime read its settings.
        let config = PENDING_CONFIG
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        let mut builder = Builder::new_multi_thread();
        builder.enable_all().thread_name("corio-worker");
        if let Some(n) = config.worker_threads {
            builder.worker_threads(n);
        }
        builder
            .build()
            .map_err(|e| format!("failed to start the corio runtime: {e}"))
    });
    match rt {
        Ok(rt) => Ok(rt.handle()),
        Err(e) => Err(e.clone()),
    }
}

/// The runtime if it has started (metrics must not start it).
pub(crate) fn started() -> Option<&'static Runtime> {
    match RUNTIME.get() {
        Some(Ok(rt)) => Some(rt),
        _ => None,
    }
}
