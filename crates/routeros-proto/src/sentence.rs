//! Sentences: a run of words closed by an empty word.

use bytes::Bytes;
use smallvec::SmallVec;
use std::ops::Range;

use crate::length;

/// One decoded sentence. The words are kept as ranges into one shared buffer,
/// so decoding a row costs one small allocation however many words it has.
#[derive(Clone, PartialEq, Eq)]
pub struct Sentence {
    buf: Bytes,
    words: Words,
}

/// Word ranges; rows rarely have more than eight words, so they live inline.
pub(crate) type Words = SmallVec<[Range<u32>; 8]>;

impl Sentence {
    pub(crate) fn from_parts(buf: Bytes, words: Words) -> Self {
        Self { buf, words }
    }

    /// Builds a sentence from owned words (used by tests and the simulator).
    pub fn from_words<I, W>(words: I) -> Self
    where
        I: IntoIterator<Item = W>,
        W: AsRef<[u8]>,
    {
        let mut buf = Vec::new();
        let mut ranges = Words::new();
        for w in words {
            let w = w.as_ref();
            let start = buf.len() as u32;
            buf.extend_from_slice(w);
            ranges.push(start..buf.len() as u32);
        }
        Self {
            buf: Bytes::from(buf),
            words: ranges,
        }
    }

    /// The number of words (the closing empty word is not counted).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True for a sentence without words (RouterOS never sends one; peers may).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The `i`-th word.
    pub fn word(&self, i: usize) -> Option<&[u8]> {
        self.words
            .get(i)
            .map(|r| &self.buf[r.start as usize..r.end as usize])
    }

    /// All words in order.
    pub fn words(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.words
            .iter()
            .map(|r| &self.buf[r.start as usize..r.end as usize])
    }

    /// Appends the wire form of this sentence to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        encode_sentence(self.words(), out);
    }
}

impl std::fmt::Debug for Sentence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.words().map(String::from_utf8_lossy))
            .finish()
    }
}

/// A sentence borrowed from the decoder's buffer (see [`crate::Decoder::lend`]).
#[derive(Clone, Copy)]
pub struct SentenceRef<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) words: &'a [Range<u32>],
}

impl<'a> SentenceRef<'a> {
    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn word(&self, i: usize) -> Option<&'a [u8]> {
        let buf = self.buf;
        self.words
            .get(i)
            .map(|r| &buf[r.start as usize..r.end as usize])
    }

    pub fn words(&self) -> impl DoubleEndedIterator<Item = &'a [u8]> + ExactSizeIterator + 'a {
        let buf = self.buf;
        self.words
            .iter()
            .map(move |r| &buf[r.start as usize..r.end as usize])
    }

    /// `=key=value` attributes, split on the fly (words that are not
    /// attributes are skipped).
    pub fn attributes(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.words().skip(1).filter_map(|w| {
            let rest = w.strip_prefix(b"=")?;
            let eq = rest.iter().position(|&b| b == b'=')?;
            Some((&rest[..eq], &rest[eq + 1..]))
        })
    }

    /// The `.tag` word's value. RouterOS sends it last, so the search runs
    /// from the end.
    pub fn tag(&self) -> Option<&'a [u8]> {
        self.words()
            .skip(1)
            .rev()
            .find_map(|w| w.strip_prefix(b".tag="))
    }

    /// An owned copy, for the rare sentences kept beyond the next read.
    pub fn to_owned(&self) -> Sentence {
        Sentence::from_words(self.words())
    }
}

impl std::fmt::Debug for SentenceRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.words().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Appends the wire form of `words` followed by the closing empty word.
pub fn encode_sentence<I, W>(words: I, out: &mut Vec<u8>)
where
    I: IntoIterator<Item = W>,
    W: AsRef<[u8]>,
{
    for w in words {
        let w = w.as_ref();
        length::encode(w.len(), out);
        out.extend_from_slice(w);
    }
    out.push(0);
}

/// Appends one word (prefix and bytes) to `out`; the caller closes the sentence
/// with a single `0` byte. Used by writers that build rows field by field.
pub fn encode_word(word: &[u8], out: &mut Vec<u8>) {
    length::encode(word.len(), out);
    out.extend_from_slice(word);
}

/// Appends an attribute word `=key=value` without building it in a temporary.
pub fn encode_attribute(key: &str, value: &[u8], out: &mut Vec<u8>) {
    length::encode(key.len() + value.len() + 2, out);
    out.push(b'=');
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value);
}
