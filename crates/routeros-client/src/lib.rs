//! An async client for the RouterOS API, built for reading very large tables.
//!
//! Why not a general-purpose client: a scan reads a NAS's whole connection
//! table (hundreds of thousands of rows) in one pass. Rows are pulled from the
//! socket only as fast as the caller consumes them, so memory stays at one read
//! buffer however large the table is; every read has a deadline; a dropped
//! connection is an error, never a silently short table; TLS supports pinning a
//! self-signed router certificate. ARCHITECTURE.md records the measurements
//! behind this choice.

mod client;
mod error;
mod tls;

pub use client::{join_addr, Client, ConnectOptions, Rows};
pub use error::Error;
pub use routeros_proto::{Command, QueryOp, Reply, ReplyKind, SentenceRef};
pub use tls::{fetch_fingerprint, format_fingerprint, parse_fingerprint, Fingerprint, TlsMode};
