//! Disconnects against the simulated routers: the session looked up over the
//! RouterOS API (TCP), ended by RADIUS (UDP) or through the API, and stored
//! with its audit entry in a real SQLite file.

mod common;

use common::{fixture, fixture_with, Fixture};

use std::time::Duration;

use shareguard_detect::Level;
use shareguard_engine::actions::disconnect::disconnect_and_record;
use shareguard_engine::auto_disconnect::{auto_disconnect, SharingActions};
use shareguard_engine::breaker::{self, Breaker, BREAKER_KEY};
use shareguard_engine::router::Router;
use shareguard_store::{ActionKind, ActionMethod, AuditFilter};

impl Fixture {
    fn router(&self, i: usize, with_radius: bool) -> Router {
        let mut r = self.demo.routers().swap_remove(i);
        if !with_radius {
            r.radius = None;
        }
        r
    }

    fn subscriber(&self, nas: usize, i: usize) -> String {
        self.demo.network.nas()[nas].subscribers()[i].name.clone()
    }

    fn online(&self, nas: usize, name: &str) -> bool {
        self.demo.network.nas()[nas].is_online(name)
    }
}

#[tokio::test]
async fn radius_disconnect_ends_the_session_and_is_recorded_with_the_operator() {
    let f = fixture().await;
    f.scan().await;
    let name = f.subscriber(0, 3);
    assert!(f.online(0, &name));
    let r = disconnect_and_record(
        &f.store,
        &f.router(0, true),
        &name,
        "owner",
        "checked by phone",
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.method, ActionMethod::Radius);
    assert_eq!(r.radius_tries, Some(1));
    assert!(r.session.address.is_some() && r.session.session_id.is_some());
    assert!(!f.online(0, &name));
    assert_eq!(f.demo.network.nas()[0].radius_stats().acked, 1);

    {
        let s = f.store.lock().unwrap();
        let actions = s.actions_for(&name, 10).unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].kind, ActionKind::Disconnect);
        assert_eq!(actions[0].operator, "owner");
        assert_eq!(actions[0].reason, "checked by phone");
        assert!(s.disconnected_at(&name).unwrap().is_some());
        let audit = s
            .audit_log(&AuditFilter {
                action: Some("disconnect".into()),
                ..AuditFilter::default()
            })
            .unwrap();
        assert_eq!(audit[0].subject.as_deref(), Some(name.as_str()));
        assert_eq!(audit[0].details["method"], "radius");
    }

    // Once a scan sees the subscriber online again, the mark goes.
    assert!(f.demo.network.nas()[0].reconnect(&name));
    f.scan().await;
    assert!(f
        .store
        .lock()
        .unwrap()
        .disconnected_at(&name)
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn without_radius_the_session_is_removed_through_the_api_on_ppp_and_hotspot() {
    let f = fixture().await;
    for nas in [0, 2] {
        let name = f.subscriber(nas, 1);
        let r = disconnect_and_record(
            &f.store,
            &f.router(nas, false),
            &name,
            "owner",
            "test",
            false,
        )
        .await
        .unwrap();
        assert_eq!(r.method, ActionMethod::Api, "nas {nas}");
        assert!(!f.online(nas, &name), "nas {nas}");
        assert_eq!(f.demo.network.nas()[nas].radius_stats().received, 0);
    }
}

#[tokio::test]
async fn a_wrong_secret_falls_back_to_the_api_and_says_why() {
    let f = fixture().await;
    let name = f.subscriber(1, 2);
    let mut router = f.router(1, true);
    let addr = router.radius.as_ref().unwrap().addr;
    router.radius =
        Some(radius_dac::DacClient::new(addr, "wrong").with_retries(Duration::from_millis(100), 2));
    let r = disconnect_and_record(&f.store, &router, &name, "owner", "test", false)
        .await
        .unwrap();
    assert_eq!(r.method, ActionMethod::Api);
    assert_eq!(r.radius_tries, Some(2));
    assert!(
        r.note.as_deref().unwrap().contains("shared secret"),
        "{:?}",
        r.note
    );
    assert!(!f.online(1, &name));
    assert_eq!(f.demo.network.nas()[1].radius_stats().dropped_bad_auth, 2);
}

#[tokio::test]
async fn whitelisted_offline_and_dry_run_subscribers_are_left_alone() {
    let f = fixture().await;
    let router = f.router(0, true);
    let excused = f.subscriber(0, 4);
    f.store
        .lock()
        .unwrap()
        .whitelist_add(&excused, "owner's cousin", "owner", None)
        .unwrap();
    let e = disconnect_and_record(&f.store, &router, &excused, "owner", "test", false)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), shareguard_engine::ErrorKind::Whitelisted);
    assert!(e.to_string().contains("whitelist"));
    assert!(f.online(0, &excused));

    let name = f.subscriber(0, 5);
    let r = disconnect_and_record(&f.store, &router, &name, "owner", "test", true)
        .await
        .unwrap();
    assert!(r.dry_run);
    assert!(f.online(0, &name));
    assert_eq!(f.demo.network.nas()[0].radius_stats().received, 0);
    assert!(f
        .store
        .lock()
        .unwrap()
        .actions_for(&name, 5)
        .unwrap()
        .is_empty());

    f.demo.network.nas()[0].disconnect(&name);
    let e = disconnect_and_record(&f.store, &router, &name, "owner", "test", false)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), shareguard_engine::ErrorKind::NotOnline);
    assert!(e.to_string().contains("not online"));
}

#[tokio::test]
async fn automatic_disconnect_trips_the_breaker_or_acts_within_the_cap() {
    let f = fixture().await;
    let results = f.scan().await;
    let critical: Vec<_> = results
        .iter()
        .filter(|r| r.level >= Level::High && !r.whitelisted)
        .collect();
    assert!(critical.len() > 1, "the demo has high and critical sharers");
    let routers = f.demo.routers();
    let on = SharingActions {
        auto_disconnect: true,
        min_level: Level::High,
        dry_run: false,
    };
    {
        let mut s = f.store.lock().unwrap();
        // A cap of one: more critical verdicts than that trip the breaker.
        s.set_setting(
            BREAKER_KEY,
            &Breaker {
                max_subscribers: 1,
                ..Breaker::default()
            },
        )
        .unwrap();
    }
    let out = auto_disconnect(&f.store, &on, &routers, &results)
        .await
        .unwrap();
    let trip = out.tripped.expect("tripped");
    assert_eq!((trip.candidates, trip.cap), (critical.len(), 1));
    assert!(out.disconnected.is_empty());
    assert!(critical.iter().all(|r| f
        .demo
        .network
        .nas_named(r.nas.trim_start_matches("demo-"))
        .unwrap()
        .is_online(&r.subscriber)));
    // Paused until the owner resets it.
    let again = auto_disconnect(&f.store, &on, &routers, &results)
        .await
        .unwrap();
    assert!(again.paused);

    {
        let mut s = f.store.lock().unwrap();
        assert!(breaker::reset_breaker(&mut s, "owner").unwrap());
        let roomy = Breaker {
            max_subscribers: 1000,
            max_percent: 100.0,
            tripped: None,
        };
        s.set_setting(BREAKER_KEY, &roomy).unwrap();
    }
    let out = auto_disconnect(&f.store, &on, &routers, &results)
        .await
        .unwrap();
    assert_eq!(out.disconnected.len(), critical.len(), "{:?}", out.failed);
    for r in &critical {
        let nas = f
            .demo
            .network
            .nas_named(r.nas.trim_start_matches("demo-"))
            .unwrap();
        assert!(!nas.is_online(&r.subscriber));
        let a = f
            .store
            .lock()
            .unwrap()
            .actions_for(&r.subscriber, 1)
            .unwrap();
        assert_eq!(a[0].operator, "system");
        assert!(a[0].reason.starts_with("automatic: "), "{}", a[0].reason);
    }
    let s = f.store.lock().unwrap();
    for action in ["breaker_tripped", "breaker_reset"] {
        let n = s
            .audit_log(&AuditFilter {
                action: Some(action.into()),
                ..AuditFilter::default()
            })
            .unwrap()
            .len();
        assert_eq!(n, 1, "{action}");
    }
}

/// Whatever form of Acct-Session-Id a router compares, the session ends by
/// RADIUS: the accounting form first, the printed one after a 503.
#[tokio::test]
async fn a_disconnect_finds_the_session_whichever_session_id_form_the_router_compares() {
    use shareguard_sim::{RouterModel, SessionIdMatch};
    for (ids, tries, retried) in [
        (SessionIdMatch::AccountingForm, 1, false),
        (SessionIdMatch::PrintedForm, 2, true),
        (SessionIdMatch::AnyForm, 1, false),
    ] {
        let f = fixture_with(RouterModel {
            session_ids: ids,
            ..RouterModel::default()
        })
        .await;
        let name = f.subscriber(0, 7);
        let r = disconnect_and_record(&f.store, &f.router(0, true), &name, "owner", "test", false)
            .await
            .unwrap();
        assert_eq!(r.method, ActionMethod::Radius, "{ids:?}: {:?}", r.note);
        assert!(!f.online(0, &name), "{ids:?}");
        let stats = f.demo.network.nas()[0].radius_stats();
        assert_eq!((stats.acked, stats.naked), (1, tries - 1), "{ids:?}");
        assert_eq!(
            r.note
                .as_deref()
                .is_some_and(|n| n.contains("session context not found")),
            retried,
            "{ids:?}: {:?}",
            r.note
        );
    }
}
