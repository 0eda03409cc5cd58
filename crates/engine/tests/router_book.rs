//! The router book against a real SQLite file and the demo's simulated
//! routers: stored definitions with secrets from a source, live routers, and
//! the messages that name the fix when a router cannot be used. The secret
//! source here is a map: the keyring one is the app's and is exercised by
//! its window and keyring tests.

mod common;

use std::sync::Arc;

use common::{fixture, MapSecrets};
use shareguard_detect::Access;
use shareguard_engine::router_book::RouterBook;
use shareguard_engine::secrets::Secret;
use shareguard_engine::ErrorKind;
use shareguard_store::NasRecord;

fn record(name: &str, radius_port: Option<u16>) -> NasRecord {
    let mut r = NasRecord::new(name, "127.0.0.1", "admin", Access::Pppoe);
    r.radius_port = radius_port;
    r
}

#[tokio::test]
async fn stored_and_live_routers_resolve_with_their_secrets_or_name_the_fix() {
    let f = fixture().await;
    {
        let mut s = f.store.lock().unwrap();
        for r in [
            record("Main NAS", Some(3799)),
            record("No password", None),
            record("No secret", Some(3799)),
            record("Locked", None),
        ] {
            s.upsert_nas(&r).unwrap();
        }
    }
    let secrets = MapSecrets::with(
        &[
            (Secret::RouterPassword, "Main NAS", "pw"),
            (Secret::RouterPassword, "No secret", "pw"),
            (Secret::RadiusSecret, "Main NAS", "s3cret"),
        ],
        &["Locked"],
    );
    let book = RouterBook::new(f.store.clone(), Arc::new(secrets)).with_live(f.demo.routers());
    let demo_name = f.demo.targets[0].name.clone();

    let main = book.router("Main NAS").await.unwrap();
    assert_eq!(main.target.connect.password, "pw");
    assert!(main.radius.is_some());
    assert_eq!(
        book.router(&demo_name).await.unwrap().target.name,
        demo_name
    );

    let e = book.router("No password").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(
        e.message.contains("edit the router and enter its password"),
        "{e}"
    );
    let e = book.router("No secret").await.unwrap_err();
    assert!(e.message.contains("no shared secret is stored"), "{e}");
    let e = book.router("Locked").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::KeyringLocked);
    let e = book.router("demo-nas-09").await.unwrap_err();
    assert!(e.message.contains("restart the demo"), "{e}");
    let e = book.router("Gone").await.unwrap_err();
    assert!(e.message.contains("no router named \"Gone\""), "{e}");

    // Actions reach the live routers and the usable stored one.
    let names: Vec<String> = book
        .routers()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.target.name)
        .collect();
    assert_eq!(names.len(), f.demo.targets.len() + 1, "{names:?}");
    assert!(names.contains(&"Main NAS".to_string()));
    // Scans reach every stored router; one without a password fails there
    // in the router's own words.
    let targets = book.targets().await.unwrap();
    assert_eq!(targets.len(), f.demo.targets.len() + 4);

    // A subscriber is acted on where a scan last saw them.
    f.scan().await;
    let who = f.demo.network.nas()[1].subscribers()[0].name.clone();
    let r = book.router_of(&who).await.unwrap();
    assert_eq!(r.target.name, f.demo.targets[1].name);
    let e = book.router_of("nobody").await.unwrap_err();
    assert!(e.message.contains("scan or check first"), "{e}");
}

/// Saving: secrets first, then the definition and its audit entry; a
/// definition moved to another host needs its password again; removing
/// forgets the secrets.
#[tokio::test]
async fn routers_are_saved_with_their_secrets_and_removed_with_them() {
    let f = fixture().await;
    let secrets = Arc::new(MapSecrets::default());
    let book = RouterBook::new(f.store.clone(), secrets.clone());

    let e = book
        .save("owner", record("Main NAS", None), None, None)
        .await
        .unwrap_err();
    assert!(e.message.contains("enter the router's API password"), "{e}");
    let e = book
        .save(
            "owner",
            record("demo-nas-01", None),
            Some("pw".into()),
            None,
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("kept for the demo routers"), "{e}");
    let e = book
        .save(
            "owner",
            record("Main NAS", Some(3799)),
            Some("pw".into()),
            None,
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("RADIUS shared secret"), "{e}");
    assert!(book.list().await.unwrap().is_empty(), "nothing half-saved");

    book.save(
        "owner",
        record("Main NAS", Some(3799)),
        Some("pw".into()),
        Some("s3cret".into()),
    )
    .await
    .unwrap();
    let listed = book.list().await.unwrap();
    assert!(listed[0].has_password && listed[0].has_radius_secret);
    // Editing without the password keeps it; moving the router does not.
    book.save("owner", record("Main NAS", Some(3799)), None, None)
        .await
        .unwrap();
    let mut moved = record("Main NAS", Some(3799));
    moved.host = "192.0.2.9".into();
    let e = book.save("owner", moved, None, None).await.unwrap_err();
    assert!(e.message.contains("enter its API password again"), "{e}");
    assert_eq!(
        book.router("Main NAS").await.unwrap().target.connect.host,
        "127.0.0.1"
    );

    book.remove("owner", "Main NAS").await.unwrap();
    assert!(secrets.is_empty(), "secrets forgotten");
    let e = book.remove("owner", "Main NAS").await.unwrap_err();
    assert!(e.message.contains("no router named"), "{e}");
    let audit = f
        .store
        .lock()
        .unwrap()
        .audit_log(&Default::default())
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["nas_removed", "nas_updated", "nas_added"]);
}
