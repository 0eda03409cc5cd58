//! RADIUS Dynamic Authorization client (RFC 5176) for MikroTik NAS.
//!
//! * [`request`]: Disconnect-Request and CoA-Request packets (with
//!   Mikrotik-Rate-Limit) built from a session's identifiers; no sockets.
//! * [`reply`]: checks an answer against the request it answers (identifier,
//!   Response Authenticator) and reads ACK, NAK and Error-Cause; no sockets.
//! * [`client`]: one request over UDP with retransmissions.
//!
//! Packet encoding and the authenticators come from the `radius` crate. Its
//! own client is not used: it binds a new socket per call, does not retry and
//! returns whatever datagram arrives first without checking the identifier or
//! the Response Authenticator. A retry must be the same datagram from the same
//! port, or the NAS cannot recognise it as a retransmission and applies the
//! request twice (a second Disconnect then NAKs because the session is gone).

pub mod client;
pub mod error;
pub mod reply;
pub mod request;

pub use client::{DacClient, Exchange};
pub use error::DacError;
pub use reply::{error_cause_text, Answer};
pub use request::{RateLimit, Request, SessionIds, DEFAULT_PORT};
