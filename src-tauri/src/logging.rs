//! Logs go to a daily-rotated file in the app's data folder (seven days kept),
//! and to stderr when started from a terminal. One subscriber for the whole
//! process: the engine crates log through `tracing` too.

use std::path::Path;
use std::sync::Mutex;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Keeps the log writer alive (dropping it flushes and stops the writer).
pub struct Guard {
    _writer: Mutex<Option<WorkerGuard>>,
}

impl Guard {
    pub fn new(writer: Option<WorkerGuard>) -> Self {
        Self {
            _writer: Mutex::new(writer),
        }
    }
}

pub fn init(dir: &Path) -> Option<WorkerGuard> {
    let filter =
        || EnvFilter::try_from_env("SHAREGUARD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = std::fs::create_dir_all(dir);
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("shareguard")
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir);
    match file {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(fmt::layer().with_ansi(false).with_writer(writer))
                .with(fmt::layer().with_writer(std::io::stderr))
                .try_init();
            Some(guard)
        }
        Err(e) => {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(fmt::layer().with_writer(std::io::stderr))
                .try_init();
            tracing::warn!(
                "cannot write logs to {}: {e}; logging to the terminal only",
                dir.display()
            );
            None
        }
    }
}
