//! What the CLI and the desktop app both do with the engine crates, written once.
//!
//! * [`persist`]: a scan that loads the whitelist and settings from storage,
//!   runs, and stores its outcome atomically.
//! * [`demo`]: the built-in simulated network and the router entries that reach it.
//! * [`routers`]: stored router definitions checked and turned into scan targets.

pub mod demo;
pub mod persist;
pub mod routers;
pub mod settings;

pub use persist::{scan_and_store, EngineError};
