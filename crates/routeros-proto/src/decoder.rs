//! A streaming sentence decoder with explicit limits.

use bytes::{Buf, BytesMut};
use thiserror::Error;

use crate::length::{self, Decoded};
use crate::sentence::{Sentence, SentenceRef, Words};

/// Bounds that protect the reader from a broken or hostile peer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest single word accepted. RouterOS rows are short; a multi-megabyte
    /// word means a corrupt stream or something that is not a router.
    pub max_word: usize,
    /// The most words accepted in one sentence.
    pub max_words: usize,
    /// The most bytes one sentence may occupy, prefixes included.
    pub max_sentence: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_word: 1 << 20,
            max_words: 4096,
            max_sentence: 4 << 20,
        }
    }
}

/// Why a byte stream is not a valid RouterOS API stream.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtoError {
    #[error("the router sent a reserved control byte {0:#04x} where a word length was expected")]
    ReservedByte(u8),
    #[error("the router sent a {len}-byte word; the limit is {limit} bytes")]
    WordTooLong { len: usize, limit: usize },
    #[error("the router sent a sentence of more than {limit} words")]
    TooManyWords { limit: usize },
    #[error("the router sent a sentence larger than {limit} bytes")]
    SentenceTooLong { limit: usize },
    #[error("the reply is malformed: {0}")]
    Malformed(String),
}

/// Decodes sentences from bytes fed in chunks of any size.
///
/// Bytes are buffered only until a sentence is complete; completed sentences
/// are split off without copying. Memory therefore stays at about one sentence
/// plus one read chunk, however long the stream is.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: BytesMut,
    limits: Limits,
    /// How far into `buf` the current (incomplete) sentence has been scanned,
    /// so re-scanning after each chunk is linear overall.
    scanned: usize,
    words: Words,
    /// Length (terminator included) of a complete sentence at the front of
    /// `buf` found by `ready` and not yet released.
    lent: usize,
    /// Whether that sentence has been lent out (and may be released).
    borrowed: bool,
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The internal buffer, for readers that want to read straight into it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes received but not yet returned as a sentence.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.lent
    }

    /// Returns the next complete sentence, `Ok(None)` if more bytes are needed,
    /// or an error if the stream is invalid (the stream cannot be resumed then).
    pub fn next_sentence(&mut self) -> Result<Option<Sentence>, ProtoError> {
        if !self.ready()? {
            return Ok(None);
        }
        let total = std::mem::take(&mut self.lent);
        self.borrowed = false;
        let mut frame = self.buf.split_to(total);
        frame.truncate(total - 1);
        self.scanned = 0;
        let words = std::mem::take(&mut self.words);
        Ok(Some(Sentence::from_parts(frame.freeze(), words)))
    }

    /// True when a whole sentence is buffered; it is then available from
    /// [`Decoder::lend`] until the next call to `ready` or `next_sentence`.
    ///
    /// Lending avoids splitting the buffer and reference counting per
    /// sentence, which matters when a table has millions of rows.
    pub fn ready(&mut self) -> Result<bool, ProtoError> {
        if self.lent > 0 {
            if !self.borrowed {
                return Ok(true);
            }
            self.buf.advance(self.lent);
            self.lent = 0;
            self.borrowed = false;
            self.scanned = 0;
            self.words.clear();
        }
        loop {
            let rest = &self.buf[self.scanned..];
            // Most words are shorter than 128 bytes: one length byte, no limits
            // to check beyond the sentence's.
            if let Some(&b0) = rest.first() {
                let len = b0 as usize;
                if b0 > 0
                    && b0 < 0x80
                    && rest.len() > len
                    && len <= self.limits.max_word
                    && self.words.len() < self.limits.max_words
                    && self.scanned + 1 + len <= self.limits.max_sentence
                {
                    let start = self.scanned + 1;
                    self.words.push(start as u32..(start + len) as u32);
                    self.scanned = start + len;
                    continue;
                }
            }
            match length::decode(rest) {
                Decoded::Incomplete => return self.check_incomplete(),
                Decoded::Reserved(b) => return Err(ProtoError::ReservedByte(b)),
                Decoded::Complete { len: 0, prefix } => {
                    self.lent = self.scanned + prefix;
                    return Ok(true);
                }
                Decoded::Complete { len, prefix } => {
                    if len > self.limits.max_word {
                        return Err(ProtoError::WordTooLong {
                            len,
                            limit: self.limits.max_word,
                        });
                    }
                    if self.words.len() >= self.limits.max_words {
                        return Err(ProtoError::TooManyWords {
                            limit: self.limits.max_words,
                        });
                    }
                    if self.scanned + prefix + len > self.limits.max_sentence {
                        return Err(ProtoError::SentenceTooLong {
                            limit: self.limits.max_sentence,
                        });
                    }
                    if rest.len() < prefix + len {
                        return self.check_incomplete();
                    }
                    // Prefixes stay in the buffer; the ranges skip them, so no
                    // byte is moved however many words a sentence has.
                    let start = self.scanned + prefix;
                    self.words.push(start as u32..(start + len) as u32);
                    self.scanned = start + len;
                }
            }
        }
    }

    /// The sentence [`Decoder::ready`] found, borrowed from the buffer; it
    /// is released by the next `ready` or `next_sentence`.
    pub fn lend(&mut self) -> Option<SentenceRef<'_>> {
        if self.lent == 0 {
            return None;
        }
        self.borrowed = true;
        Some(SentenceRef {
            buf: &self.buf[..self.lent - 1],
            words: &self.words,
        })
    }

    fn check_incomplete(&self) -> Result<bool, ProtoError> {
        if self.buf.len() > self.limits.max_sentence + 5 {
            return Err(ProtoError::SentenceTooLong {
                limit: self.limits.max_sentence,
            });
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentence::encode_sentence;

    fn wire(sentences: &[&[&str]]) -> Vec<u8> {
        let mut out = Vec::new();
        for s in sentences {
            encode_sentence(s.iter(), &mut out);
        }
        out
    }

    #[test]
    fn decodes_sentences_fed_one_byte_at_a_time() {
        let long = "x".repeat(300);
        let bytes = wire(&[
            &["!re", "=address=10.0.0.1", &format!("=comment={long}")],
            &["!done"],
        ]);
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for b in bytes {
            d.feed(&[b]);
            while let Some(s) = d.next_sentence().unwrap() {
                got.push(s);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].word(0), Some(&b"!re"[..]));
        assert_eq!(got[0].word(1), Some(&b"=address=10.0.0.1"[..]));
        assert_eq!(got[0].word(2).unwrap().len(), 9 + 300);
        assert_eq!(got[1].words().collect::<Vec<_>>(), vec![&b"!done"[..]]);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn oversized_words_are_refused_before_they_are_buffered() {
        let mut d = Decoder::new(Limits {
            max_word: 16,
            ..Limits::default()
        });
        let mut bytes = Vec::new();
        crate::length::encode(1 << 30, &mut bytes);
        d.feed(&bytes);
        assert_eq!(
            d.next_sentence(),
            Err(ProtoError::WordTooLong {
                len: 1 << 30,
                limit: 16
            })
        );
    }

    #[test]
    fn short_words_over_the_limit_are_refused_however_the_bytes_arrive() {
        // Found by the fuzzer: the one-byte-prefix fast path skipped
        // `max_word` when the whole word was already buffered.
        let limits = Limits {
            max_word: 4,
            ..Limits::default()
        };
        let bytes = wire(&[&["!re", "=comment=too long"]]);
        let want = Err(ProtoError::WordTooLong { len: 17, limit: 4 });
        let mut whole = Decoder::new(limits);
        whole.feed(&bytes);
        assert_eq!(whole.next_sentence(), want);
        let mut trickle = Decoder::new(limits);
        let mut got = Ok(None);
        for b in &bytes {
            trickle.feed(&[*b]);
            got = trickle.next_sentence();
            if got != Ok(None) {
                break;
            }
        }
        assert_eq!(got, want);
    }

    #[test]
    fn reserved_bytes_are_errors() {
        let mut d = Decoder::default();
        d.feed(&[0xF9, 1, 2]);
        assert_eq!(d.next_sentence(), Err(ProtoError::ReservedByte(0xF9)));
    }

    #[test]
    fn too_many_words_is_an_error() {
        let mut d = Decoder::new(Limits {
            max_words: 3,
            ..Limits::default()
        });
        d.feed(&wire(&[&["a", "b", "c", "d"]]));
        assert_eq!(
            d.next_sentence(),
            Err(ProtoError::TooManyWords { limit: 3 })
        );
    }
}
