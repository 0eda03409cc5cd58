mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::start;
use radius::core::avp::AVP;
use radius::core::code::Code;
use radius::core::packet::Packet;
use radius::core::{rfc2865, rfc2866, rfc3576};
use shareguard_sim::radius::{MIKROTIK_RATE_LIMIT, MIKROTIK_VENDOR_ID};
use shareguard_sim::PopulationSpec;
use tokio::net::UdpSocket;

const SECRET: &[u8] = b"testing123";

struct Dac {
    sock: UdpSocket,
    nas: SocketAddr,
}

impl Dac {
    async fn new(nas: SocketAddr) -> Self {
        Self {
            sock: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            nas,
        }
    }

    /// Sends a request and waits briefly for the answer; `None` if none came.
    async fn exchange(&self, request: &[u8]) -> Option<Vec<u8>> {
        self.sock.send_to(request, self.nas).await.unwrap();
        let mut buf = vec![0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(300), self.sock.recv_from(&mut buf)).await
        {
            Ok(Ok((n, _))) => Some(buf[..n].to_vec()),
            _ => None,
        }
    }
}

fn request(code: Code, id: u8, secret: &[u8], build: impl FnOnce(&mut Packet)) -> Vec<u8> {
    let mut p = Packet::new_with_identifier(code, secret, id);
    build(&mut p);
    p.encode().unwrap()
}

fn rate_limit_vsa(limit: &str) -> AVP {
    let mut v = MIKROTIK_VENDOR_ID.to_be_bytes().to_vec();
    v.push(MIKROTIK_RATE_LIMIT);
    v.push(2 + limit.len() as u8);
    v.extend_from_slice(limit.as_bytes());
    AVP::from_bytes(26, &v)
}

fn check(resp: &[u8], req: &[u8], code: Code) -> Packet {
    assert!(
        Packet::is_authentic_response(resp, req, SECRET),
        "response authenticator"
    );
    let p = Packet::decode(resp, SECRET).unwrap();
    assert_eq!(p.get_code(), code);
    assert_eq!(p.get_identifier(), req[1]);
    p
}

#[tokio::test]
async fn disconnect_ack_takes_the_subscriber_offline() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let sub = nas.subscribers()[3].clone();
    let dac = Dac::new(nas.radius_addr()).await;
    let req = request(Code::DisconnectRequest, 1, SECRET, |p| {
        rfc2865::add_user_name(p, &sub.name);
        rfc2865::add_framed_ip_address(p, &sub.address);
        rfc2866::add_acct_session_id(p, &sub.session_id.to_lowercase());
    });
    let resp = dac.exchange(&req).await.expect("reply");
    check(&resp, &req, Code::DisconnectACK);
    assert!(!nas.is_online(&sub.name));

    // A retransmission is answered identically and not applied again.
    nas.reconnect(&sub.name);
    let again = dac.exchange(&req).await.expect("reply");
    assert_eq!(again, resp);
    assert!(nas.is_online(&sub.name));

    // A new request for an offline session is refused.
    nas.disconnect(&sub.name);
    let req = request(Code::DisconnectRequest, 2, SECRET, |p| {
        rfc2865::add_user_name(p, &sub.name);
    });
    let resp = dac.exchange(&req).await.expect("reply");
    let p = check(&resp, &req, Code::DisconnectNAK);
    assert_eq!(rfc3576::lookup_error_cause(&p).unwrap().unwrap(), 503);

    let stats = nas.radius_stats();
    assert_eq!(stats.received, 3);
    assert_eq!(stats.acked, 1);
    assert_eq!(stats.naked, 1);
    assert_eq!(stats.duplicates, 1);
    net.shutdown().await;
}

#[tokio::test]
async fn unknown_or_inconsistent_sessions_get_nak_503() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let a = nas.subscribers()[0].clone();
    let b = nas.subscribers()[1].clone();
    let dac = Dac::new(nas.radius_addr()).await;

    let req = request(Code::DisconnectRequest, 10, SECRET, |p| {
        rfc2865::add_user_name(p, "nobody");
    });
    let p = check(
        &dac.exchange(&req).await.unwrap(),
        &req,
        Code::DisconnectNAK,
    );
    assert_eq!(rfc3576::lookup_error_cause(&p).unwrap().unwrap(), 503);

    // Identifiers that name different sessions.
    let req = request(Code::CoARequest, 11, SECRET, |p| {
        rfc2865::add_user_name(p, &a.name);
        rfc2865::add_framed_ip_address(p, &b.address);
    });
    let p = check(&dac.exchange(&req).await.unwrap(), &req, Code::CoANAK);
    assert_eq!(rfc3576::lookup_error_cause(&p).unwrap().unwrap(), 503);

    // A subscriber of another NAS is unknown here.
    let other = net.nas()[1].subscribers()[0].clone();
    let req = request(Code::DisconnectRequest, 12, SECRET, |p| {
        rfc2865::add_user_name(p, &other.name);
    });
    check(
        &dac.exchange(&req).await.unwrap(),
        &req,
        Code::DisconnectNAK,
    );
    assert!(net.nas()[1].is_online(&other.name));
    assert!(nas.is_online(&a.name) && nas.is_online(&b.name));
    net.shutdown().await;
}

#[tokio::test]
async fn coa_sets_the_rate_limit() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[2];
    let sub = nas.subscribers()[7].clone();
    let dac = Dac::new(nas.radius_addr()).await;
    assert_eq!(nas.rate_limit(&sub.name), None);
    let req = request(Code::CoARequest, 200, SECRET, |p| {
        rfc2865::add_framed_ip_address(p, &sub.address);
        p.add(rate_limit_vsa("1M/2M"));
    });
    check(&dac.exchange(&req).await.unwrap(), &req, Code::CoAACK);
    assert_eq!(nas.rate_limit(&sub.name).as_deref(), Some("1M/2M"));
    assert!(nas.is_online(&sub.name));
    // The router shows it on the session's dynamic simple queue.
    let mut c = common::connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let target = format!("?target={}/32", sub.address);
    let r = c
        .call(&["/queue/simple/print", "?dynamic=true", &target])
        .await;
    let q = common::rows(&r);
    assert_eq!(q.len(), 1);
    assert_eq!(common::get(q[0], "max-limit"), "1000000/2000000");
    assert_eq!(common::get(q[0], "name"), format!("<hotspot-{}>", sub.name));
    net.shutdown().await;
}

#[tokio::test]
async fn wrong_secret_gets_no_reply() {
    let net = start(PopulationSpec::demo()).await;
    let nas = &net.nas()[0];
    let sub = nas.subscribers()[0].clone();
    let dac = Dac::new(nas.radius_addr()).await;
    let req = request(Code::DisconnectRequest, 5, b"not-the-secret", |p| {
        rfc2865::add_user_name(p, &sub.name);
    });
    assert_eq!(dac.exchange(&req).await, None);
    assert!(nas.is_online(&sub.name));
    // Garbage is dropped too.
    assert_eq!(dac.exchange(&[40, 1, 0]).await, None);
    assert_eq!(
        dac.exchange(&[1, 1, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
            .await,
        None
    );
    let stats = nas.radius_stats();
    assert_eq!(stats.dropped_bad_auth, 1);
    assert_eq!(stats.dropped_malformed, 2);
    assert_eq!(stats.acked + stats.naked, 0);
    net.shutdown().await;
}
