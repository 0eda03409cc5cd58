//! Word-length prefixes: RouterOS encodes each word's length in 1 to 5 bytes.
//!
//! | length          | bytes | first byte |
//! |-----------------|-------|------------|
//! | < 0x80          | 1     | `0xxxxxxx` |
//! | < 0x4000        | 2     | `10xxxxxx` |
//! | < 0x20_0000     | 3     | `110xxxxx` |
//! | < 0x1000_0000   | 4     | `1110xxxx` |
//! | otherwise       | 5     | `11110000` |
//!
//! First bytes `0xF8..=0xFF` are reserved control bytes and never valid here.

/// Appends the length prefix for a word of `len` bytes.
pub fn encode(len: usize, out: &mut Vec<u8>) {
    let len = len as u64;
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x4000 {
        out.extend_from_slice(&((len as u16) | 0x8000).to_be_bytes());
    } else if len < 0x20_0000 {
        let v = (len as u32) | 0xC0_0000;
        out.extend_from_slice(&v.to_be_bytes()[1..]);
    } else if len < 0x1000_0000 {
        out.extend_from_slice(&((len as u32) | 0xE000_0000).to_be_bytes());
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// The result of reading a length prefix from the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// The prefix is complete: the word is `len` bytes and the prefix took `prefix` bytes.
    Complete { len: usize, prefix: usize },
    /// More bytes are needed before the prefix can be read.
    Incomplete,
    /// The first byte is a reserved control byte (`0xF8..=0xFF`).
    Reserved(u8),
}

/// Reads a length prefix from the start of `buf` without consuming it.
pub fn decode(buf: &[u8]) -> Decoded {
    let Some(&b0) = buf.first() else {
        return Decoded::Incomplete;
    };
    let (prefix, mask) = match b0 {
        0x00..=0x7F => (1, 0x7F),
        0x80..=0xBF => (2, 0x3F),
        0xC0..=0xDF => (3, 0x1F),
        0xE0..=0xEF => (4, 0x0F),
        0xF0 => (5, 0x00),
        other => return Decoded::Reserved(other),
    };
    if buf.len() < prefix {
        return Decoded::Incomplete;
    }
    let mut len = (b0 & mask) as u64;
    for &b in &buf[1..prefix] {
        len = (len << 8) | b as u64;
    }
    Decoded::Complete {
        len: len as usize,
        prefix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(len: usize) -> (Vec<u8>, Decoded) {
        let mut out = Vec::new();
        encode(len, &mut out);
        let d = decode(&out);
        (out, d)
    }

    #[test]
    fn each_boundary_uses_the_documented_width() {
        for (len, width) in [
            (0usize, 1usize),
            (0x7F, 1),
            (0x80, 2),
            (0x3FFF, 2),
            (0x4000, 3),
            (0x1F_FFFF, 3),
            (0x20_0000, 4),
            (0x0FFF_FFFF, 4),
            (0x1000_0000, 5),
            (u32::MAX as usize, 5),
        ] {
            let (bytes, d) = roundtrip(len);
            assert_eq!(bytes.len(), width, "width for {len:#x}");
            assert_eq!(
                d,
                Decoded::Complete { len, prefix: width },
                "decode {len:#x}"
            );
        }
    }

    #[test]
    fn known_encodings_match_the_router() {
        let mut out = Vec::new();
        encode(0x80, &mut out);
        assert_eq!(out, [0x80, 0x80]);
        out.clear();
        encode(0x4000, &mut out);
        assert_eq!(out, [0xC0, 0x40, 0x00]);
    }

    #[test]
    fn partial_prefixes_ask_for_more_and_control_bytes_are_refused() {
        assert_eq!(decode(&[]), Decoded::Incomplete);
        assert_eq!(decode(&[0xC0, 0x40]), Decoded::Incomplete);
        assert_eq!(decode(&[0xF8]), Decoded::Reserved(0xF8));
        assert_eq!(decode(&[0xFF, 0, 0]), Decoded::Reserved(0xFF));
    }
}
