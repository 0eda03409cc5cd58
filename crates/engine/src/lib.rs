//! What the CLI and the desktop app both do with the engine crates, written once.
//!
//! * [`persist`]: a scan that loads the whitelist and settings from storage,
//!   runs, and stores its outcome atomically.
//! * [`demo`]: the built-in simulated network and the router entries that reach it.
//! * [`access`]: the current operator, permissions and the PIN throttle.
//! * [`probe_ops`]: probe preview, install and removal for the CLI and the app.
//! * [`notify`]: which results are new flags worth a desktop notification.
//! * [`enforce`]: ending one subscriber's session, by RADIUS or through the API.
//! * [`router`]: a router as every action reaches it (API and RADIUS).
//! * [`breaker`]: the circuit breaker on automatic actions.
//! * [`sharing_actions`]: "Disconnect now" and the automatic disconnect after
//!   a scan, within the breaker.
//! * [`penalties`]: throttles (CoA or a queue) and temporary bans (address
//!   list with a timeout plus one filter rule), and lifting them.
//! * [`monitor`]: the abuse monitor's cycle: read, detect, store warnings,
//!   act within the breaker.
//! * [`monitor_overview`]: a cycle in a few numbers and the Abuse screen's
//!   picture in one read.
//! * [`penalty_records`]: throttles and bans as recorded actions, and the
//!   sweep that lifts them on expiry (also after a restart).
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
pub mod breaker;
pub mod demo;
pub mod enforce;
pub mod error_kind;
pub mod follow;
pub mod limits;
pub mod monitor;
pub mod monitor_overview;
pub mod notification_channels;
pub mod notify;
pub mod p2p_rules;
pub mod penalties;
pub mod penalty_records;
pub mod persist;
pub mod probe_ops;
pub mod router;
pub mod router_book;
mod router_lists;
pub mod routers;
pub mod secrets;
pub mod settings;
pub mod sharing_actions;
#[cfg(test)]
mod test_support;

pub use error_kind::{ErrorKind, Failure};
pub use persist::{scan_and_store, EngineError};
