//! What the app keeps while it runs: the database, the demo network when it
//! is on, the routers to scan, the scan in progress (to cancel it), who is at
//! the desk, and the desktop settings the window events need at once.

use shareguard_engine::notification_channels::Channels;
use shareguard_engine::router_book::RouterBook;
use shareguard_engine::secrets::{Secret, SecretSource};
use shareguard_engine::Failure;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use shareguard_engine::access::Session;
use shareguard_engine::demo::Demo;
use shareguard_engine::monitor::Monitor;
use shareguard_engine::monitor_overview::CycleSummary;
use shareguard_engine::settings::{DesktopSettings, DESKTOP_KEY};
use shareguard_scan::CancellationToken;
use shareguard_schedule::Runner;
use shareguard_store::{Permission, Store, StoreError};

use crate::error::{CommandError, CommandResult};

pub struct AppState {
    pub store: Arc<Mutex<Store>>,
    pub db_path: String,
    pub demo: tokio::sync::Mutex<Option<Demo>>,
    pub scan: Mutex<Option<CancellationToken>>,
    /// Scheduled scans; set once the app has started.
    pub runner: Mutex<Option<Runner>>,
    /// Whether a tray icon exists (closing the window can then hide it).
    pub has_tray: AtomicBool,
    /// Who is using the app and what they may do.
    pub session: Arc<Mutex<Session>>,
    pub desktop: Mutex<DesktopSettings>,
    /// The abuse monitor's memory between cycles; one cycle at a time.
    pub monitor: tokio::sync::Mutex<Monitor>,
    pub last_cycle: Mutex<Option<CycleSummary>>,
}

/// Locks a mutex, carrying on after a panic elsewhere (the data is plain
/// values that stay consistent).
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs blocking work (SQLite, the keyring) on the blocking pool, never on
/// the async runtime that serves the window.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        CommandError::new(
            shareguard_engine::ErrorKind::Internal,
            format!("a background task failed: {e}"),
        )
    })?
}

/// Opens a second connection to the database at `db_path` for a long read
/// (a report of 30,000 results takes seconds), so the window's commands are
/// not held up behind it: in WAL mode it reads while the app writes.
pub fn open_reader(db_path: &str) -> CommandResult<Store> {
    Ok(Store::open(db_path)?)
}

impl AppState {
    pub fn new(mut store: Store, db_path: String) -> Result<Self, StoreError> {
        // A scan the last run could not finish (killed, power cut) stops
        // showing as running.
        if let Err(e) = store.close_abandoned_scans(chrono::Utc::now()) {
            tracing::warn!("could not close scans left running: {e}");
        }
        let session = Session::start(&store)?;
        let desktop = store.get_setting(DESKTOP_KEY)?.unwrap_or_default();
        Ok(Self {
            store: Arc::new(Mutex::new(store)),
            db_path,
            demo: tokio::sync::Mutex::new(None),
            scan: Mutex::new(None),
            runner: Mutex::new(None),
            has_tray: AtomicBool::new(false),
            session: Arc::new(Mutex::new(session)),
            desktop: Mutex::new(desktop),
            monitor: tokio::sync::Mutex::new(Monitor::new()),
            last_cycle: Mutex::new(None),
        })
    }

    /// Runs `f` with the database on the blocking pool: how commands reach
    /// SQLite (one lock, never held across an await).
    pub async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> CommandResult<T> + Send + 'static,
    ) -> CommandResult<T> {
        let store = self.store.clone();
        blocking(move || f(&mut lock(&store))).await
    }

    /// The current operator's name if they may do `p` (for the audit log).
    pub fn require(&self, p: Permission) -> CommandResult<String> {
        Ok(lock(&self.session).require(p)?)
    }

    /// Whether closing the window should keep the app in the tray.
    pub fn keeps_running_in_tray(&self) -> bool {
        self.has_tray.load(Ordering::Relaxed) && lock(&self.desktop).close_to_tray
    }

    /// The routers this app knows: the demo's while it runs, then the stored
    /// ones with their secrets from the OS keyring.
    pub async fn router_book(&self) -> RouterBook<KeyringSecrets> {
        let live = self
            .demo
            .lock()
            .await
            .as_ref()
            .map(|d| d.routers())
            .unwrap_or_default();
        RouterBook::new(self.store.clone(), Arc::new(KeyringSecrets)).with_live(live)
    }

    /// Where notifications go, with their secrets in the OS keyring.
    pub fn channels(&self) -> Channels<KeyringSecrets> {
        channels(self.store.clone())
    }
}

/// The notification channels of `store` (for background tasks, which hold
/// the store rather than the state).
pub fn channels(store: Arc<Mutex<Store>>) -> Channels<KeyringSecrets> {
    Channels::new(store, Arc::new(KeyringSecrets))
}

/// The app keeps its secrets in the OS keyring.
pub struct KeyringSecrets;

fn keyring_kind(which: Secret) -> shareguard_secrets::SecretKind {
    use shareguard_secrets::SecretKind;
    match which {
        Secret::RouterPassword => SecretKind::RouterPassword,
        Secret::RadiusSecret => SecretKind::RadiusSecret,
        Secret::TelegramToken => SecretKind::TelegramToken,
        Secret::WebhookUrl => SecretKind::WebhookUrl,
    }
}

fn lookup(e: shareguard_secrets::SecretError) -> Failure {
    Failure::new(
        shareguard_engine::ErrorKind::from_class(e.kind()),
        e.to_string(),
    )
}

impl SecretSource for KeyringSecrets {
    fn load(&self, which: Secret, owner: &str) -> Result<Option<String>, Failure> {
        shareguard_secrets::load(keyring_kind(which), owner).map_err(lookup)
    }

    fn save(&self, which: Secret, owner: &str, secret: &str) -> Result<(), Failure> {
        shareguard_secrets::save(keyring_kind(which), owner, secret).map_err(lookup)
    }

    fn delete(&self, which: Secret, owner: &str) -> Result<(), Failure> {
        shareguard_secrets::delete(keyring_kind(which), owner).map_err(lookup)
    }

    fn unavailable(&self) -> Option<String> {
        shareguard_secrets::availability()
            .err()
            .map(|e| e.to_string())
    }
}
