//! Numbers in the owner's sentences: "1 rule", "23 rules", "23,176
//! connections", instead of "23 rule(s)" and "23176". Every crate that
//! writes to the owner (CLI, reports, notes in the app) uses these.

/// `n` with thousands separators: `23176` → `23,176`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun, singular for one: `count(1, "rule")` → `1 rule`,
/// `count(23176, "row")` → `23,176 rows`.
pub fn count(n: u64, noun: &str) -> String {
    count_as(n, noun, &format!("{noun}s"))
}

/// [`count`] for a noun whose plural is not `-s`.
pub fn count_as(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
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
        assert_eq!(count(1, "rule"), "1 rule");
        assert_eq!(count(0, "rule"), "0 rules");
        assert_eq!(count(23_176, "row"), "23,176 rows");
        assert_eq!(count_as(2, "entry", "entries"), "2 entries");
    }
}
