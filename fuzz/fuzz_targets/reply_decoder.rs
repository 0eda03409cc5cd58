//! Feeds arbitrary bytes to the reply decoder in arbitrary chunks.
//!
//! Input layout: 8 header bytes, then the stream.
//! * bytes 0..3 choose small `Limits` (so the limit checks are reached often);
//! * bytes 3..8 are a cycle of chunk sizes (1..=64) for feeding the stream.
//!
//! Besides "never panics", it checks that:
//! * every sentence returned respects the limits;
//! * after `Ok(None)` the decoder holds at most one sentence's worth of bytes;
//! * the result (sentences, then error or leftover bytes) does not depend on
//!   how the stream was chunked: the same bytes fed in one piece give the same;
//! * the lending path (`ready` + `lend`, used for big tables) gives the same
//!   sentences and outcome as `next_sentence`, and `SentenceRef`'s `tag` and
//!   `attributes` agree with `Reply`'s;
//! * a sentence re-encoded and decoded again has the same words.
#![no_main]

use libfuzzer_sys::fuzz_target;
use routeros_proto::{Decoder, Limits, ProtoError, Reply, Sentence, SentenceRef};

const HEADER: usize = 8;

#[derive(Debug, PartialEq)]
enum End {
    Error(ProtoError),
    Pending(usize),
}

fn words(s: &Sentence) -> Vec<Vec<u8>> {
    s.words().map(<[u8]>::to_vec).collect()
}

/// Decodes `body` fed in chunks of `sizes` (cycled); `None` means one piece.
fn decode(limits: Limits, body: &[u8], sizes: Option<&[usize]>) -> (Vec<Sentence>, End) {
    let mut d = Decoder::new(limits);
    let mut out = Vec::new();
    let mut rest = body;
    let mut i = 0;
    loop {
        let n = match sizes {
            Some(s) => s[i % s.len()].min(rest.len()),
            None => rest.len(),
        };
        i += 1;
        d.feed(&rest[..n]);
        rest = &rest[n..];
        loop {
            match d.next_sentence() {
                Ok(Some(s)) => {
                    check_limits(&limits, &s);
                    out.push(s);
                }
                Ok(None) => {
                    assert!(
                        d.pending() <= limits.max_sentence + 5,
                        "{} bytes held for an incomplete sentence, limit {}",
                        d.pending(),
                        limits.max_sentence
                    );
                    break;
                }
                // The stream cannot be resumed after an error.
                Err(e) => return (out, End::Error(e)),
            }
        }
        if rest.is_empty() {
            return (out, End::Pending(d.pending()));
        }
    }
}

/// Decodes `body` fed in chunks of `sizes` (cycled) through `ready`/`lend`.
fn decode_lent(limits: Limits, body: &[u8], sizes: &[usize]) -> (Vec<Vec<Vec<u8>>>, End) {
    let mut d = Decoder::new(limits);
    let mut out = Vec::new();
    let mut rest = body;
    let mut i = 0;
    loop {
        let n = sizes[i % sizes.len()].min(rest.len());
        i += 1;
        d.feed(&rest[..n]);
        rest = &rest[n..];
        loop {
            match d.ready() {
                Ok(true) => {
                    if out.len() % 2 == 1 {
                        // Asking again before lending must not skip the sentence.
                        assert_eq!(d.ready(), Ok(true));
                    }
                    let pending = d.pending();
                    let s = d.lend().expect("ready() said a sentence is buffered");
                    let w: Vec<Vec<u8>> = s.words().map(<[u8]>::to_vec).collect();
                    assert_eq!(w.len(), s.len());
                    assert!(w.len() <= limits.max_words, "{} words", w.len());
                    assert!(w
                        .iter()
                        .all(|w| !w.is_empty() && w.len() <= limits.max_word));
                    assert!(w.iter().map(Vec::len).sum::<usize>() <= limits.max_sentence);
                    exercise_ref(s);
                    assert_eq!(d.pending(), pending);
                    out.push(w);
                }
                Ok(false) => {
                    assert!(d.lend().is_none(), "nothing to lend after Ok(false)");
                    assert!(d.pending() <= limits.max_sentence + 5);
                    break;
                }
                Err(e) => return (out, End::Error(e)),
            }
        }
        if rest.is_empty() {
            return (out, End::Pending(d.pending()));
        }
    }
}

/// The borrowed sentence agrees with an owned copy and with `Reply`.
fn exercise_ref(s: SentenceRef<'_>) {
    let owned = s.to_owned();
    assert_eq!(
        words(&owned),
        s.words().map(<[u8]>::to_vec).collect::<Vec<_>>()
    );
    for i in 0..=s.len() {
        assert_eq!(s.word(i), owned.word(i));
    }
    let tag = s.tag();
    let attrs: Vec<(&[u8], &[u8])> = s.attributes().collect();
    let _ = format!("{s:?}");
    if let Ok(reply) = Reply::parse(owned) {
        assert_eq!(reply.tag(), tag);
        assert_eq!(reply.attributes().collect::<Vec<_>>(), attrs);
    }
}

fn check_limits(limits: &Limits, s: &Sentence) {
    assert!(s.len() <= limits.max_words, "{} words", s.len());
    let mut total = 0;
    for w in s.words() {
        assert!(w.len() <= limits.max_word, "{}-byte word", w.len());
        assert!(!w.is_empty(), "an empty word ends a sentence");
        total += w.len();
    }
    assert!(total <= limits.max_sentence, "{total}-byte sentence");
}

fn exercise(s: Sentence) {
    // Re-encoding and decoding again gives the same words.
    let mut wire = Vec::new();
    s.encode_into(&mut wire);
    let mut d = Decoder::default();
    d.feed(&wire);
    let again = d
        .next_sentence()
        .expect("re-encoded sentence decodes")
        .expect("complete");
    assert_eq!(words(&again), words(&s));
    assert_eq!(d.pending(), 0);

    let Ok(reply) = Reply::parse(s) else { return };
    let kind = reply.kind();
    let _ = kind.as_word();
    let _ = kind.ends_command();
    let _ = reply.tag();
    let _ = reply.message();
    let _ = reply.category();
    let _ = reply.get("message");
    let _ = reply.get("");
    let _ = reply.get_str("ret");
    let attrs: Vec<(Vec<u8>, Vec<u8>)> = reply
        .attributes()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    for (k, _) in &attrs {
        if let Ok(key) = std::str::from_utf8(k) {
            // `get` finds the first attribute with that key.
            let first = attrs
                .iter()
                .find(|(k2, _)| k2 == k)
                .map(|(_, v)| v.as_slice());
            assert_eq!(reply.get(key), first);
        }
    }
    let _ = format!("{:?}", reply.sentence());
}

fuzz_target!(|data: &[u8]| {
    if data.len() < HEADER {
        return;
    }
    let (head, body) = data.split_at(HEADER);
    let limits = Limits {
        max_word: 1 + head[0] as usize,
        max_words: 1 + (head[1] % 16) as usize,
        max_sentence: 1 + head[2] as usize * 2,
    };
    let sizes: Vec<usize> = head[3..].iter().map(|&b| 1 + (b % 64) as usize).collect();

    let (chunked, end) = decode(limits, body, Some(&sizes));
    let (whole, whole_end) = decode(limits, body, None);
    assert_eq!(end, whole_end, "chunking changed the outcome");
    assert_eq!(
        chunked.len(),
        whole.len(),
        "chunking changed the sentence count"
    );
    for (a, b) in chunked.iter().zip(&whole) {
        assert_eq!(words(a), words(b), "chunking changed a sentence");
    }
    let (lent, lent_end) = decode_lent(limits, body, &sizes);
    assert_eq!(lent_end, end, "lending changed the outcome");
    assert_eq!(
        lent,
        chunked.iter().map(words).collect::<Vec<_>>(),
        "lending changed the sentences"
    );

    for s in chunked {
        exercise(s);
    }
});
