//! Allocation-free formatting of numbers and addresses, plus RouterOS
//! durations and timestamps.
//!
//! The connection table is written at hundreds of thousands of rows per
//! print; going through `format!` would allocate per field and dominate the
//! cost, so rows are built from these byte-level writers into one reused buffer.

use std::net::Ipv4Addr;

/// Appends `v` in decimal.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v` in upper-case hex without leading zeros.
#[inline]
pub fn push_hex(out: &mut Vec<u8>, v: u64) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = DIGITS[(v & 0xF) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends a RouterOS item id, `*` and upper-case hex.
#[inline]
pub fn push_id(out: &mut Vec<u8>, v: u64) {
    out.push(b'*');
    push_hex(out, v);
}

pub fn id_string(v: u64) -> String {
    let mut out = Vec::with_capacity(10);
    push_id(&mut out, v);
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `*1A` (the `*` is optional, as RouterOS accepts).
pub fn parse_id(s: &str) -> Option<u64> {
    let hex = s.trim().strip_prefix('*').unwrap_or(s.trim());
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

#[inline]
pub fn push_ip(out: &mut Vec<u8>, ip: Ipv4Addr) {
    let o = ip.octets();
    for (i, b) in o.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_u64(out, u64::from(*b));
    }
}

#[inline]
pub fn push_sockaddr(out: &mut Vec<u8>, ip: Ipv4Addr, port: u16) {
    push_ip(out, ip);
    out.push(b':');
    push_u64(out, u64::from(port));
}

/// A duration the way RouterOS prints it: `1w2d3h4m5s`, `2m59s`, `0s`.
pub fn push_duration(out: &mut Vec<u8>, ms: u64) {
    let mut s = ms / 1000;
    if s == 0 {
        out.extend_from_slice(b"0s");
        return;
    }
    for (unit, len) in [(b'w', 604_800u64), (b'd', 86_400), (b'h', 3600), (b'm', 60)] {
        if s >= len {
            push_u64(out, s / len);
            out.push(unit);
            s %= len;
        }
    }
    if s > 0 {
        push_u64(out, s);
        out.push(b's');
    }
}

pub fn duration_string(ms: u64) -> String {
    let mut out = Vec::new();
    push_duration(&mut out, ms);
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses RouterOS durations: `5m`, `1h30m`, `1d`, `2w`, `500ms`, `90` (seconds),
/// `00:05:00`, `1d00:05:00`. `none-dynamic`, `none-static` and the empty string
/// mean "no timeout" (`Ok(None)`).
pub fn parse_duration(s: &str) -> Result<Option<u64>, String> {
    let s = s.trim();
    if s.is_empty() || s == "none-dynamic" || s == "none-static" {
        return Ok(None);
    }
    let bad = || format!("invalid time value '{s}'");
    let mut total: u64 = 0;
    let mut rest = s;
    // An optional day part before an hh:mm:ss clock.
    if rest.contains(':') {
        if let Some((d, clock)) = rest.split_once('d') {
            total += d.parse::<u64>().map_err(|_| bad())? * 86_400_000;
            rest = clock;
        }
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        let h: u64 = parts[0].parse().map_err(|_| bad())?;
        let m: u64 = parts[1].parse().map_err(|_| bad())?;
        let sec: f64 = parts[2].parse().map_err(|_| bad())?;
        if m >= 60 || !(0.0..60.0).contains(&sec) {
            return Err(bad());
        }
        total += h * 3_600_000 + m * 60_000 + (sec * 1000.0) as u64;
        return Ok(Some(total));
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut any = false;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(bad());
        }
        let n: u64 = rest[start..i].parse().map_err(|_| bad())?;
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let mult = match &rest[unit_start..i] {
            "" | "s" => 1000,
            "ms" => 1,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            _ => return Err(bad()),
        };
        total = total.saturating_add(n.saturating_mul(mult));
        any = true;
    }
    if any {
        Ok(Some(total))
    } else {
        Err(bad())
    }
}

/// `2025-06-01 08:00:00` (UTC): the timestamp form of RouterOS 7.
pub fn datetime_string(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let days = (secs / 86_400) as i64;
    let tod = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn numbers_ids_and_addresses() {
        assert_eq!(s(|o| push_u64(o, 0)), "0");
        assert_eq!(s(|o| push_u64(o, u64::MAX)), u64::MAX.to_string());
        assert_eq!(s(|o| push_id(o, 0x1A)), "*1A");
        assert_eq!(parse_id("*1A"), Some(0x1A));
        assert_eq!(parse_id("*"), None);
        assert_eq!(parse_id("*xyz"), None);
        assert_eq!(
            s(|o| push_sockaddr(o, Ipv4Addr::new(10, 1, 0, 255), 65535)),
            "10.1.0.255:65535"
        );
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(179_000), "2m59s");
        assert_eq!(duration_string(86_381_000), "23h59m41s");
        assert_eq!(duration_string(694_861_000), "1w1d1h1m1s");
        assert_eq!(parse_duration("5m"), Ok(Some(300_000)));
        assert_eq!(parse_duration("1h30m"), Ok(Some(5_400_000)));
        assert_eq!(parse_duration("00:05:00"), Ok(Some(300_000)));
        assert_eq!(parse_duration("1d00:00:01"), Ok(Some(86_401_000)));
        assert_eq!(parse_duration("90"), Ok(Some(90_000)));
        assert_eq!(parse_duration("none-dynamic"), Ok(None));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("1:2").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(datetime_string(0), "1970-01-01 00:00:00");
        assert_eq!(datetime_string(1_748_764_800_000), "2025-06-01 08:00:00");
    }
}
