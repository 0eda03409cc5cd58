mod common;

use std::time::{Duration, Instant};

use common::*;
use routeros_proto::{ProtoError, ReplyKind};
use shareguard_sim::{Fault, PopulationSpec, SimNetwork};

async fn logged_in(net: &SimNetwork) -> Client<tokio::net::TcpStream> {
    let mut c = connect(net.nas()[0].api_addr()).await;
    assert_eq!(
        kinds(&c.login("admin", "admin").await),
        vec![ReplyKind::Done]
    );
    c
}

/// After a fault fired, the NAS serves a normal print again.
async fn healthy_again(net: &SimNetwork) {
    let mut c = logged_in(net).await;
    let r = c
        .call(&["/ip/firewall/connection/print", "=.proplist=.id"])
        .await;
    assert_eq!(rows(&r).len(), net.nas()[0].connection_count());
    assert_eq!(r.last().unwrap().kind(), ReplyKind::Done);
}

#[tokio::test]
async fn stall_after_rows_keeps_the_socket_open_and_silent() {
    let net = start(PopulationSpec::demo()).await;
    net.nas()[0].set_fault(Fault::StallAfterRows(5));
    let mut c = logged_in(&net).await;
    c.send(&["/ip/firewall/connection/print"]).await;
    for _ in 0..5 {
        assert_eq!(c.reply().await.unwrap().kind(), ReplyKind::Re);
    }
    let more = tokio::time::timeout(Duration::from_millis(300), c.sentence()).await;
    assert!(more.is_err(), "nothing after the stall");
    healthy_again(&net).await;
    net.shutdown().await;
}

#[tokio::test]
async fn close_after_rows_ends_the_stream() {
    let net = start(PopulationSpec::demo()).await;
    net.nas()[0].set_fault(Fault::CloseAfterRows(7));
    let mut c = logged_in(&net).await;
    c.send(&["/ip/firewall/connection/print", ".tag=1"]).await;
    let mut n = 0;
    while let Some(s) = c.sentence().await {
        assert_eq!(s.word(0), Some(&b"!re"[..]));
        n += 1;
    }
    assert_eq!(n, 7);
    healthy_again(&net).await;
    net.shutdown().await;
}

#[tokio::test]
async fn garbage_after_rows_is_a_protocol_error() {
    let net = start(PopulationSpec::demo()).await;
    net.nas()[0].set_fault(Fault::GarbageAfterRows(3));
    let mut c = logged_in(&net).await;
    c.send(&["/ip/firewall/connection/print"]).await;
    for _ in 0..3 {
        assert_eq!(c.reply().await.unwrap().kind(), ReplyKind::Re);
    }
    assert_eq!(c.try_sentence().await, Err(ProtoError::ReservedByte(0xF8)));
    healthy_again(&net).await;
    net.shutdown().await;
}

#[tokio::test]
async fn oversized_word_is_announced() {
    let net = start(PopulationSpec::demo()).await;
    net.nas()[0].set_fault(Fault::OversizedWord);
    let mut c = logged_in(&net).await;
    c.send(&["/ip/firewall/connection/print"]).await;
    match c.try_sentence().await {
        Err(ProtoError::WordTooLong { len, .. }) => assert_eq!(len, 64 << 20),
        other => panic!("expected an oversized word, got {other:?}"),
    }
    healthy_again(&net).await;
    net.shutdown().await;
}

#[tokio::test]
async fn fatal_on_print_closes_the_session() {
    let net = start(PopulationSpec::demo()).await;
    net.nas()[0].set_fault(Fault::FatalOnPrint);
    let mut c = logged_in(&net).await;
    // Not a print: unaffected.
    let r = c
        .call(&["/ip/firewall/mangle/add", "=chain=prerouting"])
        .await;
    assert_eq!(r[0].kind(), ReplyKind::Done);
    let r = c.call(&["/ppp/active/print"]).await;
    assert_eq!(kinds(&r), vec![ReplyKind::Fatal]);
    assert!(r[0].message().is_some());
    assert!(c.is_closed().await);
    healthy_again(&net).await;
    net.shutdown().await;
}

#[tokio::test]
async fn malformed_reply_opens_with_bogus_word() {
    let net = start(PopulationSpec::demo()).await;
    net.nas()[0].set_fault(Fault::MalformedReply);
    let mut c = logged_in(&net).await;
    c.send(&["/system/identity/print", ".tag=9"]).await;
    let s = c.sentence().await.unwrap();
    assert_eq!(s.word(0), Some(&b"!bogus"[..]));
    // The rest of the reply follows as usual.
    let r = c.collect().await;
    assert_eq!(kinds(&r), vec![ReplyKind::Re, ReplyKind::Done]);
    net.nas()[0].set_fault(Fault::MalformedReply);
    c.send(&["/ip/firewall/connection/print", "=count-only="])
        .await;
    let s = c.sentence().await.unwrap();
    assert_eq!(s.word(0), Some(&b"!bogus"[..]));
    let r = c.collect().await;
    assert_eq!(kinds(&r), vec![ReplyKind::Done]);
    net.shutdown().await;
}

#[tokio::test]
async fn slow_login_delays_only_the_next_login() {
    let net = start(PopulationSpec::demo()).await;
    net.nas()[0].set_fault(Fault::SlowLogin(Duration::from_millis(200)));
    let started = Instant::now();
    let _c = logged_in(&net).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    let _c = logged_in(&net).await;
    net.shutdown().await;
}
