//! The RouterOS API wire format, without sockets.
//!
//! Everything here is a pure transformation between bytes and values, so the
//! client, the simulated router and the fuzz tests share one codec:
//!
//! * [`length`]: the 1–5 byte word-length prefix.
//! * [`Decoder`]: a streaming decoder fed arbitrary chunks of bytes; it yields
//!   whole [`Sentence`]s and enforces size limits so a hostile or broken peer
//!   cannot make it allocate without bound.
//! * [`Reply`]: one reply sentence (`!re`, `!done`, `!trap`, `!fatal`, `!empty`)
//!   parsed as a unit, with its `.tag` and `=key=value` attributes.
//! * [`Command`]: a request sentence (`/path/verb`, attributes, queries,
//!   `.proplist`, `.tag`) that can also be rendered as terminal syntax for
//!   previews.

pub mod command;
pub mod decoder;
pub mod length;
pub mod reply;
pub mod sentence;

pub use command::{Command, QueryOp};
pub use decoder::{Decoder, Limits, ProtoError};
pub use reply::{Reply, ReplyKind};
pub use sentence::{encode_sentence, Sentence, SentenceRef};
