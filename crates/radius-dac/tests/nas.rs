//! The client against the simulated NAS over real UDP on loopback.

use std::time::Duration;

use radius_dac::{Answer, DacClient, DacError, RateLimit, Request, SessionIds};
use shareguard_sim::population::PopulationSpec;
use shareguard_sim::{SimConfig, SimNetwork};

const SECRET: &str = "testing123";

async fn network() -> SimNetwork {
    SimNetwork::start(SimConfig {
        population: PopulationSpec {
            subscribers: 30,
            ..PopulationSpec::demo()
        },
        tls: false,
        time_scale: 0.0,
        radius_secret: SECRET.into(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn ids_of(net: &SimNetwork, i: usize) -> SessionIds {
    let s = &net.nas()[0].subscribers()[i];
    SessionIds {
        user_name: s.name.clone(),
        framed_ip: Some(s.address),
        // The accounting form, as the router's RADIUS accounting sends it.
        acct_session_id: Some(s.session_id.to_ascii_lowercase()),
    }
}

fn quick(client: DacClient, tries: u32) -> DacClient {
    client.with_retries(Duration::from_millis(200), tries)
}

#[tokio::test]
async fn disconnect_is_acknowledged_and_the_session_ends() {
    let net = network().await;
    let nas = &net.nas()[0];
    let ids = ids_of(&net, 0);
    assert!(nas.is_online(&ids.user_name));
    let client = DacClient::new(nas.radius_addr(), SECRET);
    let x = client
        .send(&Request::Disconnect(ids.clone()))
        .await
        .unwrap();
    assert_eq!(x.answer, Answer::Ack);
    assert_eq!(x.tries, 1);
    assert!(!nas.is_online(&ids.user_name));
    // The session is gone now: the NAS says so with Error-Cause 503.
    let again = client.send(&Request::Disconnect(ids)).await.unwrap();
    assert_eq!(again.answer, Answer::Nak { cause: Some(503) });
}

#[tokio::test]
async fn coa_sets_the_rate_limit() {
    let net = network().await;
    let nas = &net.nas()[0];
    let ids = ids_of(&net, 1);
    let limit = RateLimit::parse("1M/4M").unwrap();
    let client = DacClient::new(nas.radius_addr(), SECRET);
    let x = client
        .send(&Request::RateLimit(ids.clone(), limit))
        .await
        .unwrap();
    assert_eq!(x.answer, Answer::Ack);
    assert_eq!(nas.rate_limit(&ids.user_name).as_deref(), Some("1M/4M"));
}

#[tokio::test]
async fn a_lost_reply_is_retried_with_the_same_datagram_and_applied_once() {
    let net = network().await;
    let nas = &net.nas()[0];
    nas.lose_radius_replies(1);
    let ids = ids_of(&net, 2);
    let client = quick(DacClient::new(nas.radius_addr(), SECRET), 3);
    let x = client.send(&Request::Disconnect(ids)).await.unwrap();
    // Without the same identifier and authenticator the NAS would apply the
    // retry as a new request and NAK it, the session being gone.
    assert_eq!(x.answer, Answer::Ack);
    assert_eq!(x.tries, 2);
    let stats = nas.radius_stats();
    assert_eq!((stats.received, stats.acked, stats.duplicates), (2, 1, 1));
}

#[tokio::test]
async fn a_wrong_secret_gets_no_answer_and_the_error_says_what_to_check() {
    let net = network().await;
    let nas = &net.nas()[0];
    let ids = ids_of(&net, 3);
    let client = quick(DacClient::new(nas.radius_addr(), "not-the-secret"), 2);
    let e = client
        .send(&Request::Disconnect(ids.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, DacError::NoAnswer { tries: 2, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("shared secret") && msg.contains("accept=yes"),
        "{msg}"
    );
    assert_eq!(nas.radius_stats().dropped_bad_auth, 2);
    assert!(nas.is_online(&ids.user_name));
}

#[tokio::test]
async fn mismatched_identifiers_are_refused_with_a_nak() {
    let net = network().await;
    let nas = &net.nas()[0];
    let mut ids = ids_of(&net, 4);
    // The address of another subscriber: the NAS must not guess.
    ids.framed_ip = Some(nas.subscribers()[5].address);
    let client = DacClient::new(nas.radius_addr(), SECRET);
    let x = client
        .send(&Request::Disconnect(ids.clone()))
        .await
        .unwrap();
    assert_eq!(x.answer, Answer::Nak { cause: Some(503) });
    assert!(nas.is_online(&ids.user_name));
}

#[tokio::test]
async fn nothing_listening_is_no_answer_not_a_hang() {
    // A port nobody listens on: ICMP unreachable or silence, both end in NoAnswer.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    drop(sock);
    let client = quick(DacClient::new(addr, SECRET), 2);
    let net = network().await;
    let e = client
        .send(&Request::Disconnect(ids_of(&net, 0)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "no_answer");
}

#[tokio::test]
async fn the_session_id_as_ppp_active_prints_it_is_not_found_on_a_strict_nas() {
    let net = network().await;
    let nas = &net.nas()[0];
    let s = &nas.subscribers()[4];
    let client = quick(DacClient::new(nas.radius_addr(), SECRET), 2);
    for printed in [format!("0x{}", s.session_id), s.session_id.clone()] {
        let ids = SessionIds {
            acct_session_id: Some(printed.clone()),
            ..ids_of(&net, 4)
        };
        let x = client.send(&Request::Disconnect(ids)).await.unwrap();
        assert_eq!(x.answer, Answer::Nak { cause: Some(503) }, "{printed}");
    }
    assert!(nas.is_online(&s.name));
    let x = client
        .send(&Request::Disconnect(ids_of(&net, 4)))
        .await
        .unwrap();
    assert_eq!(x.answer, Answer::Ack);
}
