//! The simulated network and database the engine's integration tests act on.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shareguard_engine::demo::{self, Demo};
use shareguard_engine::secrets::{Secret, SecretSource};
use shareguard_engine::{ErrorKind, Failure};
use shareguard_sim::population::PopulationSpec;
use shareguard_store::Store;

pub struct Fixture {
    pub demo: Demo,
    pub store: Arc<Mutex<Store>>,
    /// Holds `sg.db`, the store's file.
    pub dir: tempfile::TempDir,
}

/// 300 subscribers on the demo's three routers (sim time stands still until
/// a test advances it), probes installed ten minutes ago, and a database in
/// a temporary folder.
pub async fn fixture() -> Fixture {
    fixture_with(shareguard_sim::RouterModel::default()).await
}

/// [`fixture`] on routers that behave as `router` says.
pub async fn fixture_with(router: shareguard_sim::RouterModel) -> Fixture {
    let demo = demo::start_with(
        PopulationSpec {
            subscribers: 300,
            ..PopulationSpec::demo()
        },
        0.0,
        router,
    )
    .await
    .unwrap();
    demo::install_probes(&demo.targets).await.unwrap();
    demo.network.advance(Duration::from_secs(600));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open(dir.path().join("sg.db")).unwrap()));
    Fixture { demo, store, dir }
}

impl Fixture {
    /// Scans every demo router with the default settings and stores the results.
    pub async fn scan(&self) -> Vec<shareguard_detect::SubscriberResult> {
        let req = shareguard_scan::ScanRequest {
            targets: self.demo.targets.clone(),
            scope: shareguard_detect::ScanScope::All,
            settings: shareguard_detect::DetectionSettings::default(),
            whitelist: Default::default(),
            lines: Default::default(),
            operator: "owner".into(),
            install_probes: false,
        };
        shareguard_engine::scan_and_store(
            self.store.clone(),
            req,
            shareguard_scan::CancellationToken::new(),
            None,
        )
        .await
        .unwrap()
        .results
    }
}

/// Secrets by kind and owner, in memory (a test double for the app's OS
/// keyring, which its own keyring tests exercise); an owner named in
/// `locked` answers as a locked keyring would.
#[derive(Default)]
pub struct MapSecrets {
    map: Mutex<HashMap<(Secret, String), String>>,
    locked: Vec<String>,
}

impl MapSecrets {
    pub fn with(entries: &[(Secret, &str, &str)], locked: &[&str]) -> Self {
        let s = Self {
            locked: locked.iter().map(|l| l.to_string()).collect(),
            ..Default::default()
        };
        for (which, router, secret) in entries {
            s.save(*which, router, secret).unwrap();
        }
        s
    }

    fn refuse(&self, router: &str) -> Result<(), Failure> {
        if self.locked.iter().any(|l| l == router) {
            return Err(Failure::new(
                ErrorKind::KeyringLocked,
                "the keyring is locked: unlock it and try again",
            ));
        }
        Ok(())
    }

    /// Whether no secret is kept at all.
    pub fn is_empty(&self) -> bool {
        self.map.lock().unwrap().is_empty()
    }

    /// Forgets a secret the way a keyring that lost it would.
    pub fn delete_for_test(&self, which: Secret, owner: &str) {
        self.map.lock().unwrap().remove(&key(which, owner));
    }

    /// The secret kept, read without the lock check.
    pub fn get(&self, which: Secret, owner: &str) -> Option<String> {
        self.map.lock().unwrap().get(&key(which, owner)).cloned()
    }
}

fn key(which: Secret, owner: &str) -> (Secret, String) {
    (which, owner.to_string())
}

impl SecretSource for MapSecrets {
    fn load(&self, which: Secret, router: &str) -> Result<Option<String>, Failure> {
        self.refuse(router)?;
        Ok(self.map.lock().unwrap().get(&key(which, router)).cloned())
    }

    fn save(&self, which: Secret, router: &str, secret: &str) -> Result<(), Failure> {
        self.refuse(router)?;
        self.map
            .lock()
            .unwrap()
            .insert(key(which, router), secret.to_string());
        Ok(())
    }

    fn delete(&self, which: Secret, router: &str) -> Result<(), Failure> {
        self.refuse(router)?;
        self.map.lock().unwrap().remove(&key(which, router));
        Ok(())
    }
}
