//! Numbers in the owner's sentences: "1 rule", "23 rules", "23,176
//! connections", instead of "23 rule(s)" and "23176". Every crate that
//! writes to the owner (CLI, reports, notes in the app) uses these.

/// `n` with thousands separators: `23176` → `23,176`.
///
/// Verdicts call this several times each, for every subscriber of a scan, so
/// the digits go through a stack buffer and the result is one allocation.
pub fn thousands(n: u64) -> String {
    let mut out = String::with_capacity(32);
    push_thousands(&mut out, n);
    out
}

fn push_thousands(out: &mut String, mut n: u64) {
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in (0..len).rev() {
        out.push(char::from(digits[i]));
        if i > 0 && i % 3 == 0 {
            out.push(',');
        }
    }
}

/// `n` and the noun, singular for one: `count(1, "rule")` → `1 rule`,
/// `count(23176, "row")` → `23,176 rows`.
pub fn count(n: u64, noun: &str) -> String {
    let mut out = count_as(n, noun, noun);
    if n != 1 {
        out.push('s');
    }
    out
}

/// [`count`] for a noun whose plural is not `-s`.
pub fn count_as(n: u64, one: &str, many: &str) -> String {
    let mut out = String::with_capacity(32 + many.len());
    push_thousands(&mut out, n);
    out.push(' ');
    out.push_str(if n == 1 { one } else { many });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_words_do() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(23_176), "23,176");
        assert_eq!(thousands(2_400_040), "2,400,040");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(count(1, "rule"), "1 rule");
        assert_eq!(count(0, "rule"), "0 rules");
        assert_eq!(count(23_176, "row"), "23,176 rows");
        assert_eq!(count_as(2, "entry", "entries"), "2 entries");
    }
}
