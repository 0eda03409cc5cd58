//! Reading one observed TTL.
//!
//! Operating systems start packets at 64 (Linux, Android, Apple), 128 (Windows)
//! or 255 (network equipment); every router takes one off. Knowing how many
//! hops a legitimate device is from the NAS (per NAS: one on PPPoE, where the
//! customer's router sits; none on a hotspot), each TTL says how far its sender is.

/// Initial TTLs of the OS families, ascending.
pub const OS_INITIAL_TTLS: [u8; 3] = [64, 128, 255];

/// More extra hops than this inside a customer's premises is not a network
/// anyone builds: such a TTL was set by hand.
pub const MAX_PLAUSIBLE_EXTRA_HOPS: u8 = 6;

/// The reading of one TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlClass {
    /// A device at exactly the expected distance.
    Expected { family: u8 },
    /// Closer than any device behind the expected hops can be: the subscriber's
    /// own router talking (DNS, NTP), or a router that resets TTLs to an OS default.
    Edge { family: u8 },
    /// A device `extra` routers further away than expected.
    Lowered { family: u8, extra: u8 },
    /// No device produces this at any plausible distance (65, 129, 100 ...): a
    /// router rewrites TTLs to a fixed value.
    Implausible,
}

/// The OS family whose initial TTL is the smallest one at or above `ttl`.
pub fn family_of(ttl: u8) -> u8 {
    OS_INITIAL_TTLS
        .into_iter()
        .find(|&b| ttl <= b)
        .unwrap_or(255)
}

/// A short name of an OS family for explanations.
pub fn family_name(family: u8) -> &'static str {
    match family {
        64 => "Linux/Android/Apple",
        128 => "Windows",
        _ => "network equipment",
    }
}

/// Classifies `ttl` for a line whose legitimate devices are `expected_hops` away.
pub fn classify(ttl: u8, expected_hops: u8) -> TtlClass {
    let family = family_of(ttl);
    let hops = family - ttl;
    if hops < expected_hops {
        return TtlClass::Edge { family };
    }
    let extra = hops - expected_hops;
    if extra == 0 {
        TtlClass::Expected { family }
    } else if extra <= MAX_PLAUSIBLE_EXTRA_HOPS {
        TtlClass::Lowered { family, extra }
    } else {
        TtlClass::Implausible
    }
}

/// The TTL a legitimate device of `family` shows at the NAS.
pub fn expected_ttl(family: u8, expected_hops: u8) -> u8 {
    family.saturating_sub(expected_hops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pppoe_readings() {
        assert_eq!(classify(63, 1), TtlClass::Expected { family: 64 });
        assert_eq!(classify(127, 1), TtlClass::Expected { family: 128 });
        assert_eq!(
            classify(62, 1),
            TtlClass::Lowered {
                family: 64,
                extra: 1
            }
        );
        assert_eq!(
            classify(125, 1),
            TtlClass::Lowered {
                family: 128,
                extra: 2
            }
        );
        assert_eq!(classify(64, 1), TtlClass::Edge { family: 64 });
        assert_eq!(classify(128, 1), TtlClass::Edge { family: 128 });
        assert_eq!(classify(65, 1), TtlClass::Implausible);
        assert_eq!(classify(129, 1), TtlClass::Implausible);
        assert_eq!(classify(100, 1), TtlClass::Implausible);
    }

    #[test]
    fn hotspot_readings() {
        assert_eq!(classify(64, 0), TtlClass::Expected { family: 64 });
        assert_eq!(
            classify(63, 0),
            TtlClass::Lowered {
                family: 64,
                extra: 1
            }
        );
        assert_eq!(classify(65, 0), TtlClass::Implausible);
        assert_eq!(classify(255, 0), TtlClass::Expected { family: 255 });
    }
}
