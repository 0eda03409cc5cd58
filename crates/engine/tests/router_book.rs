//! The router book against a real SQLite file and the demo's simulated
//! routers: stored definitions with secrets from a source, live routers, and
//! the messages that name the fix when a router cannot be used. The secret
//! source here is a map: the keyring one is the app's and is exercised by
//! its window and keyring tests.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::fixture;
use shareguard_detect::Access;
use shareguard_engine::router_book::{RouterBook, SecretLookup, SecretSource};
use shareguard_engine::ErrorKind;
use shareguard_store::NasRecord;

/// Secrets by router name; a router named in `locked` answers as a locked
/// keyring would.
#[derive(Default)]
struct MapSecrets {
    passwords: HashMap<String, String>,
    radius: HashMap<String, String>,
    locked: Vec<String>,
}

impl MapSecrets {
    fn get(
        &self,
        map: &HashMap<String, String>,
        router: &str,
    ) -> Result<Option<String>, SecretLookup> {
        if self.locked.iter().any(|l| l == router) {
            return Err(SecretLookup {
                kind: ErrorKind::KeyringLocked,
                message: "the keyring is locked: unlock it and try again".into(),
            });
        }
        Ok(map.get(router).cloned())
    }
}

impl SecretSource for MapSecrets {
    fn password(&self, router: &str) -> Result<Option<String>, SecretLookup> {
        self.get(&self.passwords, router)
    }

    fn radius_secret(&self, router: &str) -> Result<Option<String>, SecretLookup> {
        self.get(&self.radius, router)
    }
}

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
    let secrets = MapSecrets {
        passwords: [("Main NAS", "pw"), ("No secret", "pw")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .into(),
        radius: [("Main NAS".to_string(), "s3cret".to_string())].into(),
        locked: vec!["Locked".into()],
    };
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
