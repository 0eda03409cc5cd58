//! What the app keeps while it runs: the database, the demo network when it
//! is on, the routers to scan, and the scan in progress (to cancel it).

use std::sync::{Arc, Mutex};

use shareguard_engine::demo::Demo;
use shareguard_scan::{CancellationToken, NasTarget};
use shareguard_schedule::Runner;
use shareguard_store::Store;

pub struct AppState {
    pub store: Arc<Mutex<Store>>,
    pub db_path: String,
    pub demo: tokio::sync::Mutex<Option<Demo>>,
    pub targets: Mutex<Vec<NasTarget>>,
    pub scan: Mutex<Option<CancellationToken>>,
    /// Scheduled scans; set once the app has started.
    pub runner: Mutex<Option<Runner>>,
    /// Whether a tray icon exists (closing the window then hides it).
    pub has_tray: std::sync::atomic::AtomicBool,
}

impl AppState {
    pub fn new(store: Store, db_path: String) -> Self {
        Self {
            store: Arc::new(Mutex::new(store)),
            db_path,
            demo: tokio::sync::Mutex::new(None),
            targets: Mutex::new(Vec::new()),
            scan: Mutex::new(None),
            runner: Mutex::new(None),
            has_tray: std::sync::atomic::AtomicBool::new(false),
        }
    }
}
