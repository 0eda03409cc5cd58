//! Scans that leave a record.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use shareguard_scan::{run_scan, CancellationToken, ScanEvent, ScanOutput, ScanRequest};
use shareguard_store::{Store, StoreError};
use thiserror::Error;
use tokio::sync::mpsc;

#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// The store's kind (a refused value is the caller's to fix); a
    /// poisoned lock or a lost blocking task is the database's failure, as
    /// the owner sees it.
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            Self::Store(e) => e.into(),
            Self::Internal(_) => crate::ErrorKind::Storage,
        }
    }
}

fn with_store<T>(
    store: &Arc<Mutex<Store>>,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
) -> Result<T, EngineError> {
    let mut guard = store
        .lock()
        .map_err(|_| EngineError::Internal("the database lock was poisoned".into()))?;
    Ok(f(&mut guard)?)
}

/// Runs `f` on the store on the blocking pool, so SQLite never stalls the
/// async workers.
pub(crate) async fn store_task<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, EngineError> {
    let s = store.clone();
    tokio::task::spawn_blocking(move || with_store(&s, f))
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))?
}

/// Runs `req` and stores it: the scan row first (so a crash mid-scan still
/// shows that a scan started), then outcome and results in one transaction.
/// The whitelist in force and each line's memory (the owner's distance, its
/// recent scans) are read from storage and merged into `req`'s.
pub async fn scan_and_store(
    store: Arc<Mutex<Store>>,
    mut req: ScanRequest,
    cancel: CancellationToken,
    events: Option<mpsc::Sender<ScanEvent>>,
) -> Result<ScanOutput, EngineError> {
    let now = Utc::now();
    let (scan_id, whitelist, lines) = {
        let (op, scope, settings) = (
            req.operator.clone(),
            req.scope.clone(),
            req.settings.clone(),
        );
        store_task(&store, move |st| {
            let id = st.begin_scan(&op, &scope, &settings, now)?;
            let wl = st.active_whitelist(now)?;
            let lines = st.line_memory(now)?;
            Ok((id, wl, lines))
        })
        .await?
    };
    for (k, v) in whitelist {
        req.whitelist.entry(k).or_insert(v);
    }
    for (k, v) in lines {
        req.lines.entry(k).or_insert(v);
    }
    let mut out = run_scan(req, cancel, events).await;
    out.summary.id = Some(scan_id);
    let summary = out.summary.clone();
    let results = std::mem::take(&mut out.results);
    let results = store_task(&store, move |st| {
        st.finish_scan(&summary, &results).map(|_| results)
    })
    .await?;
    out.results = results;
    Ok(out)
}
