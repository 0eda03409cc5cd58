//! RADIUS Dynamic Authorization (RFC 5176) as a MikroTik NAS answers it:
//! Disconnect-Request ends a session, CoA-Request with Mikrotik-Rate-Limit
//! changes its rate (the dynamic queue's `max-limit`, and so how fast its
//! byte counters grow).
//!
//! ShareGuard acts on a verdict through these packets, so the simulator
//! enforces what a real NAS does: a bad authenticator gets no answer at all,
//! an unknown session gets a NAK with Error-Cause 503, and a retransmission
//! is answered from a cache rather than applied twice.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use radius::core::code::Code;
use radius::core::packet::Packet;
use radius::core::{rfc2865, rfc2866, rfc3576};
use tokio::net::UdpSocket;

use crate::nas::NasState;

/// MikroTik's IANA enterprise number.
pub const MIKROTIK_VENDOR_ID: u32 = 14988;
/// Mikrotik-Rate-Limit vendor attribute type.
pub const MIKROTIK_RATE_LIMIT: u8 = 8;
/// RFC 5176 Error-Cause values used here.
pub const ERROR_MISSING_ATTRIBUTE: u32 = 402;
pub const ERROR_SESSION_CONTEXT_NOT_FOUND: u32 = 503;

/// How long a reply is kept for answering retransmissions.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(30);
const HEADER: usize = 20;
const VENDOR_SPECIFIC: u8 = 26;

type DupKey = (SocketAddr, u8, [u8; 16]);

/// Serves Disconnect and CoA requests until the task is aborted.
pub(crate) async fn run(socket: UdpSocket, nas: Arc<NasState>, secret: Vec<u8>) {
    let mut buf = vec![0u8; 4096];
    let mut cache: HashMap<DupKey, (Instant, Vec<u8>)> = HashMap::new();
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(error = %e, "radius receive failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        nas.radius.received.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        cache.retain(|_, (at, _)| now.duration_since(*at) < DUPLICATE_WINDOW);
        let Some(reply) = answer(&nas, &secret, &buf[..n], peer, &mut cache, now) else {
            continue;
        };
        let lost = nas
            .radius
            .lose_replies
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if lost {
            tracing::debug!(nas = %nas.name, %peer, "radius reply lost on purpose");
            continue;
        }
        if let Err(e) = socket.send_to(&reply, peer).await {
            tracing::debug!(error = %e, %peer, "radius send failed");
        }
    }
}

/// The reply to one datagram, or `None` when it must be dropped silently.
fn answer(
    nas: &NasState,
    secret: &[u8],
    datagram: &[u8],
    peer: SocketAddr,
    cache: &mut HashMap<DupKey, (Instant, Vec<u8>)>,
    now: Instant,
) -> Option<Vec<u8>> {
    let malformed = || {
        nas.radius.dropped_malformed.fetch_add(1, Ordering::Relaxed);
        None
    };
    if datagram.len() < HEADER {
        return malformed();
    }
    let declared = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    if declared < HEADER || declared > datagram.len() {
        return malformed();
    }
    let pkt = &datagram[..declared];
    if !matches!(
        Code::from(pkt[0]),
        Code::DisconnectRequest | Code::CoARequest
    ) {
        return malformed();
    }
    if !Packet::is_authentic_request(pkt, secret) {
        nas.radius.dropped_bad_auth.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(nas = %nas.name, %peer, "radius request with a bad authenticator dropped");
        return None;
    }
    let mut auth = [0u8; 16];
    auth.copy_from_slice(&pkt[4..HEADER]);
    let key = (peer, pkt[1], auth);
    if let Some((_, reply)) = cache.get(&key) {
        nas.radius.duplicates.fetch_add(1, Ordering::Relaxed);
        return Some(reply.clone());
    }
    let Ok(req) = Packet::decode(pkt, secret) else {
        return malformed();
    };
    let (ack, cause) = apply(nas, &req);
    let code = match (req.get_code(), ack) {
        (Code::DisconnectRequest, true) => Code::DisconnectACK,
        (Code::DisconnectRequest, false) => Code::DisconnectNAK,
        (_, true) => Code::CoAACK,
        (_, false) => Code::CoANAK,
    };
    let mut resp = req.make_response_packet(code);
    if let Some(c) = cause {
        rfc3576::add_error_cause(&mut resp, c);
    }
    let Ok(bytes) = resp.encode() else {
        return malformed();
    };
    if ack {
        nas.radius.acked.fetch_add(1, Ordering::Relaxed);
    } else {
        nas.radius.naked.fetch_add(1, Ordering::Relaxed);
    }
    cache.insert(key, (now, bytes.clone()));
    Some(bytes)
}

/// Applies a request; returns (acknowledged, error cause).
fn apply(nas: &NasState, req: &Packet) -> (bool, Option<u32>) {
    let mut found: Vec<Option<usize>> = Vec::new();
    if let Some(v) = rfc2865::lookup_user_name(req) {
        found.push(v.ok().and_then(|n| nas.local_by_name(&n)));
    }
    if let Some(v) = rfc2865::lookup_framed_ip_address(req) {
        found.push(v.ok().and_then(|ip| nas.local_by_ip(ip)));
    }
    if let Some(v) = rfc2866::lookup_acct_session_id(req) {
        found.push(v.ok().and_then(|s| nas.local_by_session(&s)));
    }
    let Some(&first) = found.first() else {
        return (false, Some(ERROR_MISSING_ATTRIBUTE));
    };
    // Every identifier given must name the same, online session.
    let local = match first {
        Some(l) if found.iter().all(|f| *f == Some(l)) && nas.is_online(l) => l,
        _ => return (false, Some(ERROR_SESSION_CONTEXT_NOT_FOUND)),
    };
    if req.get_code() == Code::DisconnectRequest {
        nas.disconnect(local);
        tracing::debug!(nas = %nas.name, subscriber = %nas.sub(local).name, "radius disconnect");
    } else if let Some(limit) = rate_limit(req) {
        tracing::debug!(nas = %nas.name, subscriber = %nas.sub(local).name, %limit, "radius rate change");
        nas.set_rate_limit(local, Some(limit));
    }
    (true, None)
}

/// Finds Mikrotik-Rate-Limit among the vendor-specific attributes.
fn rate_limit(req: &Packet) -> Option<String> {
    for avp in req.lookup_all(VENDOR_SPECIFIC) {
        let v = avp.encode_bytes();
        if v.len() < 4 || u32::from_be_bytes([v[0], v[1], v[2], v[3]]) != MIKROTIK_VENDOR_ID {
            continue;
        }
        let mut rest = &v[4..];
        while rest.len() >= 2 {
            let (typ, len) = (rest[0], usize::from(rest[1]));
            if len < 2 || len > rest.len() {
                break;
            }
            if typ == MIKROTIK_RATE_LIMIT {
                return Some(String::from_utf8_lossy(&rest[2..len]).into_owned());
            }
            rest = &rest[len..];
        }
    }
    None
}
