//! What the CLI and the desktop app both do with the engine crates, written once.
//!
//! * [`persist`]: a scan that loads the whitelist and settings from storage,
//!   runs, and stores its outcome atomically.
//! * [`demo`]: the built-in simulated network and the router entries that reach it.
//! * [`access`]: the current operator, permissions and the PIN throttle.
//! * [`probe_ops`]: probe preview, install and removal for the CLI and the app.
//! * [`notify`]: which results are new flags worth a desktop notification.
//! * [`actions`]: every step on one subscriber, one module per family
//!   (disconnect, throttle, ban, limit), executed on the router and recorded
//!   (`actions::records`) in one call each.
//! * [`router`]: a router as every action reaches it (API and RADIUS).
//! * [`breaker`]: the circuit breaker on automatic actions.
//! * [`auto_disconnect`]: the owner's automatic-disconnect settings and the
//!   disconnects after a scan, within the breaker.
//! * [`monitor`]: the abuse monitor's cycle: read, detect, store warnings,
//!   act within the breaker.
//! * [`monitor_overview`]: a cycle in a few numbers and the Abuse screen's
//!   picture in one read.
//! * [`routers`]: stored router definitions checked and turned into scan targets.
//! * [`router_book`]: which routers a front end knows, with their secrets
//!   from wherever that front end keeps them.
//! * [`secrets`]: the secrets a front end keeps (router passwords, RADIUS
//!   secrets, the bot token, the webhook's address) behind one trait.
//! * [`notification_channels`]: the webhook and Telegram settings with their
//!   secrets, test messages and deliveries with failures recorded.
//! * [`error_kind`]: the one vocabulary of failures the window and the CLI's
//!   exit codes both read.

pub mod access;
pub mod actions;
pub mod auto_disconnect;
pub mod breaker;
pub mod demo;
pub mod error_kind;
pub mod follow;
pub mod monitor;
pub mod monitor_overview;
pub mod notification_channels;
pub mod notify;
pub mod p2p_rules;
pub mod persist;
pub mod probe_ops;
pub mod router;
pub mod router_book;
pub mod routers;
pub mod secrets;
pub mod settings;
#[cfg(test)]
mod test_support;

pub use error_kind::{ErrorKind, Failure};
pub use persist::{scan_and_store, EngineError};
