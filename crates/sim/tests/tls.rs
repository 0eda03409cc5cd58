//! api-ssl with a pinned certificate fingerprint, the way ShareGuard talks to
//! routers that only have self-signed certificates.

mod common;

use common::*;
use routeros_client::{Client as ApiClient, Command, ConnectOptions, TlsMode};
use shareguard_sim::{PopulationSpec, SimConfig, SimNetwork};

#[tokio::test]
async fn api_ssl_with_pinned_fingerprint() {
    let net = SimNetwork::start(SimConfig {
        tls: true,
        ..frozen(PopulationSpec::demo())
    })
    .await
    .unwrap();
    let nas = &net.nas()[1];
    let addr = nas.tls_addr().expect("tls enabled");
    let fp = nas.tls_fingerprint_sha256().unwrap();
    assert_ne!(fp, net.nas()[0].tls_fingerprint_sha256().unwrap());

    let connect = |pin: [u8; 32]| {
        let mut o = ConnectOptions::new("127.0.0.1", addr.port(), "admin", "admin");
        o.tls = Some(TlsMode::Pinned(pin));
        o
    };
    let mut c = ApiClient::connect(&connect(fp)).await.unwrap();
    let r = c.run(Command::new("/system/identity/print")).await.unwrap();
    assert_eq!(r[0].get_str("name").as_deref(), Some(nas.name()));
    let r = c
        .run(Command::new("/ip/firewall/connection/print").proplist(&["src-address"]))
        .await
        .unwrap();
    assert_eq!(r.len(), nas.connection_count());

    // A different pin is refused.
    let mut wrong = fp;
    wrong[0] ^= 0xFF;
    assert!(ApiClient::connect(&connect(wrong)).await.is_err());
    net.shutdown().await;
}

#[tokio::test]
async fn fixed_ports_follow_the_documented_layout() {
    // Pick a free block by binding ephemeral ports first would race; instead
    // use a high block and skip the test if it is taken.
    let first = 41_700;
    let cfg = SimConfig {
        tls: true,
        first_api_port: first,
        first_radius_port: first + 300,
        ..frozen(PopulationSpec::demo())
    };
    let Ok(net) = SimNetwork::start(cfg).await else {
        eprintln!("port block {first} busy; skipped");
        return;
    };
    for (i, nas) in net.nas().iter().enumerate() {
        assert_eq!(nas.api_addr().port(), first + i as u16);
        assert_eq!(nas.tls_addr().unwrap().port(), first + 100 + i as u16);
        assert_eq!(nas.radius_addr().port(), first + 300 + i as u16);
        assert!(nas.api_addr().ip().is_loopback());
    }
    net.shutdown().await;
}

#[tokio::test]
async fn refuses_non_loopback_bind() {
    let cfg = SimConfig {
        bind: "0.0.0.0".parse().unwrap(),
        ..frozen(PopulationSpec::demo())
    };
    assert!(SimNetwork::start(cfg).await.is_err());
}
