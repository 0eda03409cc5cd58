//! How figures, times and names are written in charts and reports, so a
//! number or a date reads the same in a chart label, a PDF table and the
//! desktop window.

use chrono::{DateTime, Utc};

/// `27012` as `27,012`: the same writing as everywhere else the owner reads.
pub use shareguard_detect::words::thousands;

/// A time for people: `2026-05-01 14:30 UTC`.
pub fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A time for machines: ISO 8601 in UTC to the second, `2026-05-01T14:30:00Z`.
pub fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A file size for people: `812 kB`, `3.4 MB`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1_000 => format!("{b} bytes"),
        b if b < 1_000_000 => format!("{:.0} kB", b as f64 / 1e3),
        b => format!("{:.1} MB", b as f64 / 1e6),
    }
}

/// A snake_case name (`router_detected`) in words (`router detected`).
pub fn words(name: &str) -> String {
    name.replace('_', " ")
}

/// A name fit for a chart label: control characters dropped (they are not
/// allowed in SVG text) and at most `max` characters, with an ellipsis.
pub fn label(name: &str, max: usize) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let mut s: String = clean.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(27_012), "27,012");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(size(812_345), "812 kB");
        assert_eq!(size(3_400_000), "3.4 MB");
    }

    #[test]
    fn labels_lose_control_characters_and_length() {
        assert_eq!(label("a\u{1}b\nc", 10), "abc");
        assert_eq!(label("abcdefghij", 5), "abcd…");
        assert_eq!(
            label("<b>&", 10),
            "<b>&",
            "XML escaping is the backend's job"
        );
    }
}
