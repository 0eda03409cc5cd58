//! Building Disconnect and CoA requests.

use std::fmt;
use std::net::Ipv4Addr;

use radius::core::code::Code;
use radius::core::packet::Packet;
use radius::core::vsa::StringVSA;
use radius::core::{rfc2865, rfc2866};

use crate::error::DacError;

/// RouterOS listens for dynamic authorization here unless told otherwise
/// (`/radius incoming set port=`).
pub const DEFAULT_PORT: u16 = 3799;
/// MikroTik's IANA enterprise number.
pub const MIKROTIK_VENDOR_ID: u32 = 14988;
/// Mikrotik-Rate-Limit.
pub const MIKROTIK_RATE_LIMIT: u8 = 8;

/// What identifies one session on the NAS. RFC 5176 lets a NAS act on any
/// one identifier, so at least two are required: a stale address alone could
/// name the next subscriber who got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIds {
    /// The login name (PPP `name`, hotspot `user`). Never the MAC address:
    /// on hotspot a MAC User-Name can hit the wireless client instead.
    pub user_name: String,
    pub framed_ip: Option<Ipv4Addr>,
    pub acct_session_id: Option<String>,
}

impl SessionIds {
    fn count(&self) -> usize {
        usize::from(!self.user_name.is_empty())
            + usize::from(self.framed_ip.is_some())
            + usize::from(
                self.acct_session_id
                    .as_deref()
                    .is_some_and(|s| !s.is_empty()),
            )
    }
}

/// A bandwidth limit in bits per second, as Mikrotik-Rate-Limit carries it.
/// `rx` is what the router receives from the subscriber (their upload), `tx`
/// what it sends them (their download).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub rx_bps: u64,
    pub tx_bps: u64,
}

impl RateLimit {
    /// Parses `RX/TX` (or one value for both) with optional `k`/`M`/`G`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a rate: write upload/download such as 2M/8M (k, M and G are allowed)"
            )
        };
        let one = |v: &str| -> Result<u64, String> {
            let v = v.trim();
            let (num, mult) = match v.chars().last() {
                Some('k' | 'K') => (&v[..v.len() - 1], 1_000),
                Some('M') => (&v[..v.len() - 1], 1_000_000),
                Some('G') => (&v[..v.len() - 1], 1_000_000_000),
                _ => (v, 1),
            };
            let n: u64 = num.parse().map_err(|_| bad())?;
            n.checked_mul(mult).filter(|&b| b > 0).ok_or_else(bad)
        };
        let (rx, tx) = match s.split_once('/') {
            Some((rx, tx)) => (one(rx)?, one(tx)?),
            None => {
                let v = one(s)?;
                (v, v)
            }
        };
        Ok(Self {
            rx_bps: rx,
            tx_bps: tx,
        })
    }
}

/// RouterOS notation: the largest unit that divides the value exactly.
fn rate(bps: u64) -> String {
    for (unit, div) in [("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)] {
        if bps >= div && bps % div == 0 {
            return format!("{}{unit}", bps / div);
        }
    }
    bps.to_string()
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", rate(self.rx_bps), rate(self.tx_bps))
    }
}

/// A dynamic authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// End the session.
    Disconnect(SessionIds),
    /// Change the session's rate limit.
    RateLimit(SessionIds, RateLimit),
}

impl Request {
    pub fn ids(&self) -> &SessionIds {
        match self {
            Self::Disconnect(ids) | Self::RateLimit(ids, _) => ids,
        }
    }

    /// "Disconnect" or "CoA", for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Disconnect(_) => "Disconnect-Request",
            Self::RateLimit(..) => "CoA-Request",
        }
    }

    /// The datagram, with the Request Authenticator computed over it and the
    /// secret. Sent unchanged on every retry.
    pub fn encode(&self, secret: &[u8], identifier: u8) -> Result<Vec<u8>, DacError> {
        if secret.is_empty() {
            return Err(DacError::NoSecret);
        }
        let ids = self.ids();
        if ids.count() < 2 {
            return Err(DacError::TooFewIdentifiers {
                subscriber: ids.user_name.clone(),
            });
        }
        let code = match self {
            Self::Disconnect(_) => Code::DisconnectRequest,
            Self::RateLimit(..) => Code::CoARequest,
        };
        let mut p = Packet::new_with_identifier(code, secret, identifier);
        if !ids.user_name.is_empty() {
            rfc2865::add_user_name(&mut p, &ids.user_name);
        }
        if let Some(ip) = &ids.framed_ip {
            rfc2865::add_framed_ip_address(&mut p, ip);
        }
        if let Some(s) = ids.acct_session_id.as_deref().filter(|s| !s.is_empty()) {
            rfc2866::add_acct_session_id(&mut p, s);
        }
        if let Self::RateLimit(_, limit) = self {
            let vsa = StringVSA::new(
                MIKROTIK_VENDOR_ID as i32,
                MIKROTIK_RATE_LIMIT,
                &limit.to_string(),
            );
            rfc2865::add_vsa_attribute(&mut p, &vsa);
        }
        p.encode().map_err(|e| DacError::Encode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> SessionIds {
        SessionIds {
            user_name: "alice".into(),
            framed_ip: Some(Ipv4Addr::new(10, 0, 0, 7)),
            acct_session_id: Some("81a00042".into()),
        }
    }

    #[test]
    fn request_authenticator_is_md5_over_the_packet_with_zeros_and_the_secret() {
        let bytes = Request::Disconnect(ids()).encode(b"s3cret", 7).unwrap();
        assert_eq!(bytes[0], 40);
        assert_eq!(bytes[1], 7);
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
            bytes.len()
        );
        assert!(Packet::is_authentic_request(&bytes, b"s3cret"));
        assert!(!Packet::is_authentic_request(&bytes, b"other"));
        let p = Packet::decode(&bytes, b"s3cret").unwrap();
        assert_eq!(rfc2865::lookup_user_name(&p).unwrap().unwrap(), "alice");
        assert_eq!(
            rfc2865::lookup_framed_ip_address(&p).unwrap().unwrap(),
            Ipv4Addr::new(10, 0, 0, 7)
        );
        assert_eq!(
            rfc2866::lookup_acct_session_id(&p).unwrap().unwrap(),
            "81a00042"
        );
    }

    #[test]
    fn coa_carries_the_mikrotik_rate_limit_vendor_attribute() {
        let limit = RateLimit::parse("512k/2M").unwrap();
        let bytes = Request::RateLimit(ids(), limit).encode(b"k", 1).unwrap();
        assert_eq!(bytes[0], 43);
        let p = Packet::decode(&bytes, b"k").unwrap();
        let vsa = p.lookup(26).unwrap().encode_bytes();
        assert_eq!(&vsa[..4], &MIKROTIK_VENDOR_ID.to_be_bytes());
        assert_eq!(vsa[4], MIKROTIK_RATE_LIMIT);
        assert_eq!(usize::from(vsa[5]), 2 + "512k/2M".len());
        assert_eq!(&vsa[6..], b"512k/2M");
    }

    #[test]
    fn one_identifier_or_no_secret_is_refused() {
        let alone = SessionIds {
            framed_ip: None,
            acct_session_id: Some(String::new()),
            ..ids()
        };
        let e = Request::Disconnect(alone).encode(b"k", 1).unwrap_err();
        assert!(e.to_string().contains("two"), "{e}");
        let e = Request::Disconnect(ids()).encode(b"", 1).unwrap_err();
        assert!(e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn rates_parse_and_print_in_router_notation() {
        let r = RateLimit::parse("1500k/8M").unwrap();
        assert_eq!((r.rx_bps, r.tx_bps), (1_500_000, 8_000_000));
        assert_eq!(r.to_string(), "1500k/8M");
        assert_eq!(RateLimit::parse("2M").unwrap().to_string(), "2M/2M");
        assert_eq!(
            RateLimit {
                rx_bps: 1_234,
                tx_bps: 1_000_000_000
            }
            .to_string(),
            "1234/1G"
        );
        for bad in ["", "x/1M", "0/1M", "1M/", "99999999999G"] {
            assert!(RateLimit::parse(bad).is_err(), "{bad}");
        }
    }
}
