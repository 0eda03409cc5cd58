//! Property-based fuzzing of the reply decoder: whatever bytes a peer sends,
//! in whatever chunks, decoding ends in sentences or an error, never a panic,
//! and valid streams survive any chunking unchanged.

use proptest::prelude::*;
use routeros_proto::{encode_sentence, Decoder, Limits, Reply};

fn decode_all(chunks: &[Vec<u8>], limits: Limits) -> Result<Vec<Vec<Vec<u8>>>, ()> {
    let mut d = Decoder::new(limits);
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        loop {
            match d.next_sentence() {
                Ok(Some(s)) => {
                    // Parsing as a reply must not panic either.
                    let _ = Reply::parse(s.clone()).map(|r| {
                        let _ = (r.tag(), r.message(), r.category(), r.attributes().count());
                    });
                    out.push(s.words().map(|w| w.to_vec()).collect());
                }
                Ok(None) => break,
                Err(_) => return Err(()),
            }
        }
    }
    Ok(out)
}

fn chunked(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|w| bytes[w[0]..w[1]].to_vec())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096),
                                   cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let limits = Limits { max_word: 512, max_words: 64, max_sentence: 2048 };
        let _ = decode_all(&chunked(&bytes, &cuts), limits);
    }

    #[test]
    fn valid_streams_decode_identically_under_any_chunking(
        sentences in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 1..12), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut wire = Vec::new();
        for s in &sentences {
            encode_sentence(s, &mut wire);
        }
        let got = decode_all(&chunked(&wire, &cuts), Limits::default()).expect("valid stream");
        prop_assert_eq!(got, sentences);
    }

    #[test]
    fn lending_and_owning_decoders_agree(
        sentences in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 1..12), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut wire = Vec::new();
        for s in &sentences {
            encode_sentence(s, &mut wire);
        }
        let mut d = Decoder::default();
        let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
        for c in chunked(&wire, &cuts) {
            d.feed(&c);
            while d.ready().expect("valid stream") {
                // Asking twice without lending must not skip the sentence.
                prop_assert!(d.ready().unwrap());
                let s = d.lend().unwrap();
                got.push(s.words().map(|w| w.to_vec()).collect());
            }
        }
        prop_assert_eq!(got, sentences);
        prop_assert_eq!(d.pending(), 0);
    }

    #[test]
    fn mutated_valid_streams_never_panic(
        words in proptest::collection::vec("[!=.a-z0-9-]{1,40}", 1..10),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let mut wire = Vec::new();
        encode_sentence(&words, &mut wire);
        for (i, b) in flips {
            let n = wire.len();
            wire[i % n] = b;
        }
        let _ = decode_all(&[wire], Limits::default());
    }
}
