//! A 300,000-row connection table streamed through a real socket.

mod common;

use std::time::{Duration, Instant};

use common::*;
use routeros_proto::ReplyKind;
use shareguard_sim::{Access, NasSpec, PopulationSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_300k_rows() {
    let spec = PopulationSpec {
        seed: 9,
        subscribers: 2500,
        nas: vec![NasSpec {
            name: "big".into(),
            access: Access::Pppoe,
        }],
        ..PopulationSpec::demo()
    }
    .with_target_connections(300_000);
    let net = start(spec).await;
    let nas = &net.nas()[0];
    // IPv4 and IPv6 tables together hold the target; the print below reads
    // the IPv4 one.
    let all = nas.connection_count() + nas.ipv6_connection_count();
    println!("connections on the NAS: {all}");
    assert!((295_000..=305_000).contains(&all), "{all}");
    let total = nas.connection_count();
    // Probe rules installed, as during a scan.
    for t in (58..=66).chain(122..=130).chain(250..=255) {
        nas.add_rule(
            "mangle",
            &[
                ("chain", "prerouting"),
                ("action", "mark-connection"),
                ("new-connection-mark", &format!("sg-ttl-{t}")),
                ("ttl", &format!("equal:{t}")),
                ("passthrough", "no"),
            ],
        );
    }
    net.advance(Duration::from_secs(901));

    let mut c = connect(nas.api_addr()).await;
    c.login("admin", "admin").await;
    let started = Instant::now();
    c.send(&[
        "/ip/firewall/connection/print",
        "=.proplist=src-address,dst-address,protocol,connection-mark",
        ".tag=big",
    ])
    .await;
    let mut rows = 0usize;
    let mut marked = 0usize;
    loop {
        let r = c.reply().await.expect("stream continues");
        match r.kind() {
            ReplyKind::Re => {
                rows += 1;
                if r.get("connection-mark").is_some() {
                    marked += 1;
                }
            }
            ReplyKind::Done => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    println!(
        "streamed {rows} rows ({marked} marked) in {:?} ({} build, client decoding included)",
        started.elapsed(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    assert_eq!(rows, total);
    assert_eq!(marked, total, "every ttl of the population is probed");
    let r = c
        .call(&["/ip/firewall/connection/print", "=count-only="])
        .await;
    assert_eq!(get(&r[0], "ret"), total.to_string());
    net.shutdown().await;
}
