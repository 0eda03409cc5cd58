//! Every step on one subscriber: where it is executed on the router, and
//! where it is recorded. Where it is decided lives elsewhere: the owner
//! (a command), the automatic disconnect after a scan (`auto_disconnect`)
//! and the abuse monitor (`monitor`), each within the breaker.
//!
//! * [`disconnect`]: ending a session (RADIUS first, the API as fallback),
//!   recorded as one action.
//! * [`throttle`], [`ban`], [`limit`]: changing the router for a penalty,
//!   and undoing it.
//! * [`records`]: a penalty as a recorded action with its expiry, and
//!   lifting it by hand or on expiry (also after a restart).
//! * [`session`]: finding the subscriber's session and sending it a RADIUS
//!   request; [`error`]: what can go wrong, and the time budget every step
//!   runs within.

pub mod ban;
pub mod disconnect;
pub mod error;
pub mod limit;
pub mod records;
pub(crate) mod router_lists;
pub mod session;
pub mod throttle;

pub use error::ActionError;
