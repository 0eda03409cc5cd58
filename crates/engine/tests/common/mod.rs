//! The simulated network and database the engine's integration tests act on.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use shareguard_engine::demo::{self, Demo};
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
