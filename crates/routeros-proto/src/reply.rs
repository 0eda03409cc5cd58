//! Reply sentences, parsed as one unit each.
//!
//! Attribute lookup works on the whole sentence, never on word positions: a
//! reply's attributes come in any order and a row may lack fields.

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::decoder::ProtoError;
use crate::sentence::Sentence;

/// The reply word that opens a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// `!re`: one row of data.
    Re,
    /// `!done`: the command finished (may carry `=ret=`).
    Done,
    /// `!trap`: the command failed; `=message=` says why.
    Trap,
    /// `!fatal`: the router is closing the connection.
    Fatal,
    /// `!empty`: the command finished without rows (RouterOS 7.18 and later).
    Empty,
}

impl ReplyKind {
    fn from_word(w: &[u8]) -> Option<Self> {
        Some(match w {
            b"!re" => Self::Re,
            b"!done" => Self::Done,
            b"!trap" => Self::Trap,
            b"!fatal" => Self::Fatal,
            b"!empty" => Self::Empty,
            _ => return None,
        })
    }

    pub fn as_word(self) -> &'static str {
        match self {
            Self::Re => "!re",
            Self::Done => "!done",
            Self::Trap => "!trap",
            Self::Fatal => "!fatal",
            Self::Empty => "!empty",
        }
    }

    /// True when no further reply for the same tag follows.
    pub fn ends_command(self) -> bool {
        !matches!(self, Self::Re)
    }
}

/// One parsed reply sentence.
///
/// Parsing locates every attribute's `=` separator and the `.tag` once, so
/// lookups afterwards do not scan bytes again: a connection table is read at
/// millions of rows per scan.
#[derive(Debug, Clone)]
pub struct Reply {
    kind: ReplyKind,
    sentence: Sentence,
    /// For each word after the first: the offset of the `=` between key and
    /// value for `=key=value` words, 0 for any other word.
    separators: SmallVec<[u32; 8]>,
    /// The index of the `.tag=` word.
    tag: Option<u32>,
}

impl Reply {
    /// Parses a sentence as a reply. Fails if the first word is not a reply word
    /// or an attribute word lacks its key.
    pub fn parse(sentence: Sentence) -> Result<Self, ProtoError> {
        let first = sentence
            .word(0)
            .ok_or_else(|| ProtoError::Malformed("empty sentence".into()))?;
        let kind = ReplyKind::from_word(first).ok_or_else(|| {
            ProtoError::Malformed(format!(
                "unknown reply type {:?}",
                String::from_utf8_lossy(&first[..first.len().min(32)])
            ))
        })?;
        let mut separators = SmallVec::new();
        let mut tag = None;
        for (i, w) in sentence.words().enumerate().skip(1) {
            let mut sep = 0;
            if w.first() == Some(&b'=') {
                match w[1..].iter().position(|&b| b == b'=') {
                    Some(p) => sep = p as u32 + 1,
                    None => {
                        return Err(ProtoError::Malformed(format!(
                            "attribute word without a value separator: {:?}",
                            String::from_utf8_lossy(&w[..w.len().min(32)])
                        )))
                    }
                }
            } else if w.starts_with(b".tag=") {
                tag = Some(i as u32);
            }
            separators.push(sep);
        }
        Ok(Self {
            kind,
            sentence,
            separators,
            tag,
        })
    }

    pub fn kind(&self) -> ReplyKind {
        self.kind
    }

    /// The raw sentence.
    pub fn sentence(&self) -> &Sentence {
        &self.sentence
    }

    /// The `.tag` this reply belongs to, if any.
    pub fn tag(&self) -> Option<&[u8]> {
        let w = self.sentence.word(self.tag? as usize)?;
        w.get(5..)
    }

    /// The value of attribute `key` (`=key=value`; `.id`-style API
    /// attributes are looked up with their dot).
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        let key = key.as_bytes();
        self.attributes().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// [`Reply::get`] as text (invalid UTF-8 is replaced, never an error).
    pub fn get_str(&self, key: &str) -> Option<Cow<'_, str>> {
        self.get(key).map(String::from_utf8_lossy)
    }

    /// All `=key=value` attributes in the order they came.
    pub fn attributes(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.sentence
            .words()
            .skip(1)
            .zip(self.separators.iter())
            .filter(|(_, &sep)| sep > 0)
            .map(|(w, &sep)| (&w[1..sep as usize], &w[sep as usize + 1..]))
    }

    /// The human-readable error of a `!trap` or `!fatal` reply.
    pub fn message(&self) -> Option<Cow<'_, str>> {
        if let Some(m) = self.get_str("message") {
            return Some(m);
        }
        if self.kind == ReplyKind::Fatal {
            // `!fatal` carries its reason as a bare word.
            return self
                .sentence
                .words()
                .skip(1)
                .find(|w| !w.starts_with(b"=") && !w.starts_with(b"."))
                .map(String::from_utf8_lossy);
        }
        None
    }

    /// The numeric `=category=` of a `!trap` (see RouterOS API docs: 0 missing
    /// item, 1 argument error, 2 interrupted, 3 script, 4 general, 5 API, 6 TTY,
    /// 7 `:return`).
    pub fn category(&self) -> Option<u32> {
        std::str::from_utf8(self.get("category")?)
            .ok()?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(words: &[&str]) -> Result<Reply, ProtoError> {
        Reply::parse(Sentence::from_words(words))
    }

    #[test]
    fn attributes_are_found_by_name_in_any_order() {
        let r = reply(&[
            "!re",
            "=src-address=10.0.0.7:5000",
            ".tag=3",
            "=connection-mark=sg-ttl-63",
        ])
        .unwrap();
        assert_eq!(r.kind(), ReplyKind::Re);
        assert_eq!(r.get("connection-mark"), Some(&b"sg-ttl-63"[..]));
        assert_eq!(r.get("src-address"), Some(&b"10.0.0.7:5000"[..]));
        assert_eq!(r.get("src"), None, "a key prefix must not match");
        assert_eq!(r.tag(), Some(&b"3"[..]));
    }

    #[test]
    fn values_may_contain_equals_signs() {
        let r = reply(&["!re", "=comment=a=b=c"]).unwrap();
        assert_eq!(r.get("comment"), Some(&b"a=b=c"[..]));
    }

    #[test]
    fn trap_and_fatal_messages_are_read() {
        let t = reply(&["!trap", "=category=1", "=message=no such command"]).unwrap();
        assert_eq!(t.message().as_deref(), Some("no such command"));
        assert_eq!(t.category(), Some(1));
        let f = reply(&["!fatal", "session terminated on request"]).unwrap();
        assert_eq!(
            f.message().as_deref(),
            Some("session terminated on request")
        );
        assert!(reply(&["!empty"]).unwrap().kind().ends_command());
    }

    #[test]
    fn unknown_reply_words_and_broken_attributes_are_malformed() {
        assert!(matches!(reply(&["!bogus"]), Err(ProtoError::Malformed(_))));
        assert!(matches!(
            reply(&["!re", "=novalue"]),
            Err(ProtoError::Malformed(_))
        ));
        assert!(matches!(reply(&[]), Err(ProtoError::Malformed(_))));
    }
}
