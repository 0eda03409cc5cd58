//! Per-action latency on loopback: a CoA round trip, a Disconnect round
//! trip, and a whole API disconnect (connect, log in, look the session up,
//! remove it), each against a simulated router in this process.

use std::time::{Duration, Instant};

use radius_dac::{DacClient, RateLimit, Request, SessionIds};
use shareguard_engine::actions::disconnect;
use shareguard_engine::demo;
use shareguard_sim::population::PopulationSpec;

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Report rows: median and 99th percentile of each action.
pub async fn rows(rounds: usize) -> String {
    let d = demo::start(
        PopulationSpec {
            subscribers: 3_000,
            ..PopulationSpec::demo()
        },
        0.0,
    )
    .await
    .expect("simulated routers");
    let router = d.routers().swap_remove(0);
    let nas = &d.network.nas()[0];
    let dac: DacClient = router.radius.clone().expect("demo routers answer RADIUS");
    let subs = nas.subscribers();
    let ids = |i: usize| SessionIds {
        user_name: subs[i].name.clone(),
        framed_ip: Some(subs[i].address),
        acct_session_id: Some(subs[i].session_id.clone()),
    };
    let limit = RateLimit::parse("1M/4M").unwrap();

    let (mut coa, mut disc, mut api) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        let n = i % subs.len();
        let t = Instant::now();
        dac.send(&Request::RateLimit(ids(n), limit))
            .await
            .expect("CoA");
        coa.push(ms(t.elapsed()));

        let t = Instant::now();
        dac.send(&Request::Disconnect(ids(n)))
            .await
            .expect("Disconnect");
        disc.push(ms(t.elapsed()));
        nas.reconnect(&subs[n].name);

        let t = Instant::now();
        disconnect::disconnect(
            &router.target,
            None,
            &subs[n].name,
            false,
            Duration::from_secs(5),
        )
        .await
        .expect("API disconnect");
        api.push(ms(t.elapsed()));
        nas.reconnect(&subs[n].name);
    }
    let row = |what: &str, v: Vec<f64>, target: &str| {
        format!(
            "| {what} (median / 99th percentile of {rounds}) | {:.2} / {:.2} ms | {target} |\n",
            pct(v.clone(), 0.5),
            pct(v, 0.99)
        )
    };
    row("RADIUS CoA-Request round trip", coa, "<= 20 ms")
        + &row("RADIUS Disconnect-Request round trip", disc, "<= 20 ms")
        + &row(
            "API disconnect: connect, log in, find the session, remove it",
            api,
            "<= 100 ms",
        )
}
