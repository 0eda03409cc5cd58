//! What a user can get wrong, and what a broken router can do: each case ends
//! in a clear error naming the fix, never a panic; other routers in the same
//! scan still finish; stored results survive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use routeros_client::{Client, Command, ConnectOptions, Error, TlsMode};
use shareguard_detect::{NasStatus, ScanStatus};
use shareguard_scan::{run_scan, CancellationToken, NasTarget, StrategyChoice};
use shareguard_sim::population::PopulationSpec;
use shareguard_sim::Fault;
use shareguard_store::{ResultFilter, Store};
use shareguard_tests::{request, scan_stored, start_sim, targets};

fn small() -> PopulationSpec {
    PopulationSpec::scaled(300, 2, 5)
}

fn quick(mut t: Vec<NasTarget>) -> Vec<NasTarget> {
    for x in &mut t {
        x.connect.read_timeout = Duration::from_millis(800);
    }
    t
}

async fn scan_with_fault(fault: Fault) -> shareguard_scan::ScanOutput {
    let net = start_sim(small(), false).await;
    net.nas()[0].set_fault(fault);
    let out = run_scan(
        request(quick(targets(&net, StrategyChoice::Auto))),
        CancellationToken::new(),
        None,
    )
    .await;
    assert_eq!(out.summary.status, ScanStatus::Partial);
    assert_eq!(
        out.summary.nas[1].status,
        NasStatus::Ok,
        "the healthy router still finishes"
    );
    assert!(
        out.results.iter().all(|r| r.nas == out.summary.nas[1].nas),
        "no results from the broken router"
    );
    assert!(!out.results.is_empty());
    out
}

fn failure(out: &shareguard_scan::ScanOutput) -> (String, String) {
    let n = &out.summary.nas[0];
    (
        n.error_kind.clone().unwrap_or_default(),
        n.error.clone().unwrap_or_default(),
    )
}

#[tokio::test]
async fn wrong_password_names_the_router_and_the_fix() {
    let net = start_sim(small(), false).await;
    let addr = net.nas()[0].api_addr();
    let opts = ConnectOptions::new(
        addr.ip().to_string(),
        addr.port(),
        "demo",
        "not-the-password",
    );
    let err = Client::connect(&opts).await.err().expect("login refused");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&addr.to_string()) && text.contains("password"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unreachable_router_says_what_to_check() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let opts = ConnectOptions::new("127.0.0.1", port, "demo", "demo");
    let err = Client::connect(&opts).await.err().unwrap();
    assert_eq!(err.kind(), "unreachable");
    assert!(err.to_string().contains("API service is enabled"), "{err}");
}

#[tokio::test]
async fn a_router_that_stalls_mid_print_times_out_while_the_others_finish() {
    let out = scan_with_fault(Fault::StallAfterRows(200)).await;
    let (kind, text) = failure(&out);
    assert_eq!(kind, "timeout");
    assert!(text.contains("stopped answering"), "{text}");
}

#[tokio::test]
async fn a_router_closing_mid_print_is_an_error_not_a_short_table() {
    let (kind, text) = failure(&scan_with_fault(Fault::CloseAfterRows(200)).await);
    assert_eq!(kind, "connection_closed");
    assert!(text.contains("try again"), "{text}");
}

#[tokio::test]
async fn garbage_in_a_reply_is_a_protocol_error() {
    let (kind, text) = failure(&scan_with_fault(Fault::GarbageAfterRows(100)).await);
    assert_eq!(kind, "protocol");
    assert!(text.contains("reserved control byte"), "{text}");
}

#[tokio::test]
async fn an_oversized_word_is_refused_before_it_is_buffered() {
    let (kind, text) = failure(&scan_with_fault(Fault::OversizedWord).await);
    assert_eq!(kind, "protocol");
    assert!(text.contains("limit"), "{text}");
}

#[tokio::test]
async fn fatal_and_malformed_replies_are_reported() {
    let (kind, _) = failure(&scan_with_fault(Fault::FatalOnPrint).await);
    assert_eq!(kind, "fatal");
    let (kind, text) = failure(&scan_with_fault(Fault::MalformedReply).await);
    assert_eq!(kind, "protocol");
    assert!(text.contains("!bogus"), "{text}");
}

#[tokio::test]
async fn a_slow_router_is_given_up_after_its_budget() {
    let net = start_sim(small(), false).await;
    net.nas()[0].set_fault(Fault::SlowLogin(Duration::from_secs(3)));
    let mut t = targets(&net, StrategyChoice::Auto);
    t[0].budget = Duration::from_millis(500);
    let out = run_scan(request(t), CancellationToken::new(), None).await;
    assert_eq!(out.summary.nas[0].status, NasStatus::TimedOut);
    assert!(out.summary.nas[0]
        .error
        .as_deref()
        .unwrap()
        .contains("budget"));
    assert_eq!(out.summary.nas[1].status, NasStatus::Ok);
}

#[tokio::test]
async fn stored_results_survive_a_failing_router() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open(dir.path().join("sg.db")).unwrap()));
    let net = start_sim(small(), false).await;
    let t = quick(targets(&net, StrategyChoice::Auto));
    let first = scan_stored(&store, t.clone()).await;
    net.nas()[0].set_fault(Fault::CloseAfterRows(10));
    let second = scan_stored(&store, t).await;
    assert_eq!(second.summary.status, ScanStatus::Partial);
    let s = store.lock().unwrap();
    let broken = &first.summary.nas[0].nas;
    for r in s
        .results(&ResultFilter {
            nas: Some(broken.clone()),
            ..Default::default()
        })
        .unwrap()
    {
        let before = first
            .results
            .iter()
            .find(|x| x.subscriber == r.subscriber)
            .unwrap();
        assert_eq!(
            r.scanned_at, before.scanned_at,
            "{} kept from the first scan",
            r.subscriber
        );
    }
    assert_eq!(
        s.result_count(&ResultFilter::default()).unwrap() as usize,
        first.results.len()
    );
}

#[tokio::test]
async fn a_changed_tls_certificate_is_refused_with_both_fingerprints() {
    let net = start_sim(small(), true).await;
    let addr = net.nas()[0].tls_addr().unwrap();
    let mut opts = ConnectOptions::new(addr.ip().to_string(), addr.port(), "demo", "demo");
    opts.tls = Some(TlsMode::Pinned([7u8; 32]));
    let err = Client::connect(&opts).await.err().unwrap();
    assert!(matches!(err, Error::FingerprintMismatch { .. }), "{err:?}");
    let real = routeros_client::format_fingerprint(&net.nas()[0].tls_fingerprint_sha256().unwrap());
    assert!(err.to_string().contains(&real), "{err}");

    opts.tls = Some(TlsMode::Verify { extra_ca_pem: None });
    let err = Client::connect(&opts).await.err().unwrap();
    assert_eq!(err.kind(), "tls");
    assert!(err.to_string().contains("--tls-fingerprint"), "{err}");

    let fetched =
        routeros_client::fetch_fingerprint("127.0.0.1", addr.port(), Duration::from_secs(5))
            .await
            .unwrap();
    assert_eq!(routeros_client::format_fingerprint(&fetched), real);
}

#[tokio::test]
async fn a_plain_client_on_the_tls_port_fails_cleanly() {
    let net = start_sim(small(), true).await;
    let addr = net.nas()[0].tls_addr().unwrap();
    let mut opts = ConnectOptions::new(addr.ip().to_string(), addr.port(), "demo", "demo");
    opts.read_timeout = Duration::from_millis(800);
    let err = Client::connect(&opts).await.err().unwrap();
    assert!(
        ["timeout", "protocol", "connection_closed"].contains(&err.kind()),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_addresses_are_refused_before_connecting() {
    for bad in ["", "router:0", "router:70000", "[::1", "two words"] {
        let err = ConnectOptions::parse_router(bad, false).unwrap_err();
        assert_eq!(err.kind(), "invalid_address");
    }
}

#[tokio::test]
async fn streaming_a_million_rows_keeps_memory_bounded() {
    let net = start_sim(
        PopulationSpec::scaled(12_000, 1, 9).with_target_connections(1_000_000),
        false,
    )
    .await;
    let addr = net.nas()[0].api_addr();
    let mut opts = ConnectOptions::new(addr.ip().to_string(), addr.port(), "demo", "demo");
    opts.read_timeout = Duration::from_secs(30);
    let mut c = Client::connect(&opts).await.unwrap();
    let mut rows = c
        .stream(
            Command::new("/ip/firewall/connection/print")
                .proplist(&["src-address", "connection-mark"]),
        )
        .await
        .unwrap();
    let (mut n, mut peak) = (0u64, 0usize);
    while let Some(_row) = rows.next().await.unwrap() {
        n += 1;
        peak = peak.max(rows.buffered_bytes());
        if n % 100_000 == 0 {
            // A slow consumer: the router must wait, not the client buffer.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(n >= 900_000, "{n} rows");
    assert!(peak <= 192 * 1024, "read-ahead peaked at {peak} bytes");
}

#[tokio::test]
async fn a_scan_stuck_on_a_stalled_router_can_be_cancelled() {
    let net = start_sim(small(), false).await;
    net.nas()[0].set_fault(Fault::StallAfterRows(100));
    let mut t = targets(&net, StrategyChoice::Auto);
    t[0].connect.read_timeout = Duration::from_secs(60);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let scan = tokio::spawn(run_scan(request(t), cancel.clone(), Some(tx)));
    // Wait until the healthy router is done, so only the stalled one is left.
    while let Some(e) = rx.recv().await {
        if let shareguard_scan::ScanEvent::NasFinished(o) = e {
            assert_eq!(o.status, NasStatus::Ok);
            break;
        }
    }
    cancel.cancel();
    let out = tokio::time::timeout(Duration::from_secs(10), scan)
        .await
        .expect("cancellation is prompt, not the 60 s read timeout")
        .unwrap();
    assert_eq!(out.summary.status, ScanStatus::Cancelled);
    assert_eq!(out.summary.nas[0].status, NasStatus::Cancelled);
    assert_eq!(out.summary.nas[1].status, NasStatus::Ok);
}
