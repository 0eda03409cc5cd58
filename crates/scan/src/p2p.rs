//! Telling peer-to-peer connections apart in a connection table.
//!
//! File-sharing clients talk to hundreds of peers, mostly over UDP between two
//! unprivileged ports, or over TCP to the BitTorrent range. Connection counts
//! inflated that way say nothing about a second household, so the rules report
//! them separately. Known services on high UDP ports (VPNs, STUN/WebRTC, VoIP,
//! games) are excluded so a video call is not mistaken for file sharing.

/// UDP destination ports of common non-P2P services above 1023.
const KNOWN_UDP_SERVICES: &[(u16, u16)] = &[
    (1194, 1194),   // OpenVPN
    (1701, 1701),   // L2TP
    (3074, 3074),   // Xbox Live
    (3478, 3481),   // STUN/TURN, Teams
    (4500, 4500),   // IPsec NAT-T
    (5060, 5061),   // SIP
    (8801, 8810),   // Zoom
    (19302, 19309), // Google STUN (Meet)
    (27000, 27050), // Steam
    (51820, 51820), // WireGuard
];

/// BitTorrent's customary TCP listening range.
const BITTORRENT_TCP: (u16, u16) = (6881, 6999);

/// True when a connection looks like peer-to-peer traffic.
pub fn looks_p2p(protocol: &[u8], src_port: u16, dst_port: u16) -> bool {
    match protocol {
        b"udp" => {
            src_port >= 1024
                && dst_port >= 1024
                && !KNOWN_UDP_SERVICES
                    .iter()
                    .any(|&(lo, hi)| (lo..=hi).contains(&dst_port))
        }
        b"tcp" => (BITTORRENT_TCP.0..=BITTORRENT_TCP.1).contains(&dst_port),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::looks_p2p;

    #[test]
    fn web_dns_vpn_and_calls_are_not_p2p() {
        assert!(!looks_p2p(b"tcp", 50000, 443));
        assert!(!looks_p2p(b"udp", 50000, 443));
        assert!(!looks_p2p(b"udp", 50000, 53));
        assert!(!looks_p2p(b"udp", 50000, 51820));
        assert!(!looks_p2p(b"udp", 50000, 3478));
    }

    #[test]
    fn high_port_udp_peers_and_bittorrent_tcp_are_p2p() {
        assert!(looks_p2p(b"udp", 51413, 40312));
        assert!(looks_p2p(b"tcp", 50000, 6881));
        assert!(!looks_p2p(b"icmp", 0, 0));
    }
}
