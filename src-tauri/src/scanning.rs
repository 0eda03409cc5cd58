//! A scan started from the window, the tray or the schedule, and what the
//! app does with it: the progress events the window draws, storing the
//! results, the tray's status line (through the `scan-finished` event), the
//! notification about new flags, the automatic actions after a scan and the
//! scheduled reports.

use serde::Serialize;
use shareguard_detect::{NasOutcome, ScanScope, SubscriberResult};
use shareguard_engine::scan_and_store;
use shareguard_scan::{CancellationToken, ScanEvent, ScanRequest};
use shareguard_store::{ResultFilter, ResultLine};
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::error::{CommandError, CommandResult};
use crate::state::{blocking, lock, AppState};

/// One router's progress through a scan (the `scan-progress` event).
#[derive(Clone, Serialize, specta::Type)]
pub struct ScanProgress {
    pub nas: String,
    pub stage: ScanStage,
    pub rows: u64,
    /// The rows the router said it holds, while reading.
    pub expected: Option<u64>,
    pub outcome: Option<NasOutcome>,
}

/// Where a router is in a scan.
#[derive(Clone, Copy, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ScanStage {
    Started,
    Reading,
    Finished,
}

/// Why a scan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Someone asked: the window, the tray.
    Asked,
    /// The schedule: the scheduled reports are written after it.
    Scheduled,
}

/// Starts a scan on behalf of `operator` (`system` for scheduled scans);
/// used by the command, the tray and the scheduler.
pub async fn start_scan<R: Runtime>(
    app: &AppHandle<R>,
    operator: &str,
    scope: ScanScope,
    trigger: Trigger,
) -> CommandResult<()> {
    let state = app.state::<AppState>();
    let mut targets = state.router_book().await.targets().await?;
    if let ScanScope::Nas(name) = &scope {
        targets.retain(|t| &t.name == name);
        if targets.is_empty() {
            return Err(CommandError::invalid(format!(
                "there is no router named {name:?}"
            )));
        }
    }
    if targets.is_empty() {
        return Err(CommandError::invalid(
            "there is no router to scan yet: start the demo or add a router first",
        ));
    }
    let cancel = {
        let mut slot = lock(&state.scan);
        if slot.is_some() {
            return Err(CommandError::invalid(
                "a scan is already running: wait for it to finish or cancel it",
            ));
        }
        let c = CancellationToken::new();
        *slot = Some(c.clone());
        c
    };
    let store = state.store.clone();
    let desktop = lock(&state.desktop).clone();
    let prepared = {
        let s = store.clone();
        let min = desktop.notify_min_level;
        let notify = desktop.notify_on_flag;
        blocking(move || {
            let s = lock(&s);
            // Who was flagged before, only when new flags will be announced.
            let mut flagged_before = std::collections::HashSet::new();
            if notify {
                flagged_before.extend(
                    s.result_lines(&ResultFilter {
                        min_level: Some(min),
                        ..Default::default()
                    })?
                    .into_iter()
                    .filter(|r| !r.whitelisted)
                    .map(|r| r.subscriber),
                );
            }
            Ok((s.detection_settings()?, flagged_before))
        })
        .await
    };
    let (settings, flagged_before) = match prepared {
        Ok(p) => p,
        Err(e) => {
            *lock(&state.scan) = None;
            return Err(e);
        }
    };
    let req = ScanRequest {
        targets,
        scope,
        settings,
        whitelist: Default::default(),
        lines: Default::default(),
        operator: operator.into(),
        install_probes: false,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<ScanEvent>(256);
    tauri::async_runtime::spawn(forward_events(app.clone(), rx));
    let done = app.clone();
    tauri::async_runtime::spawn(async move {
        let out = scan_and_store(store, req, cancel, Some(tx)).await;
        let state = done.state::<AppState>();
        *lock(&state.scan) = None;
        match out {
            Ok(out) => {
                if desktop.notify_on_flag {
                    crate::background::notify_new_flags(
                        &done,
                        &flagged_before,
                        &out.results,
                        desktop.notify_min_level,
                    )
                    .await;
                }
                let _ = done.emit("scan-finished", &out.summary);
                crate::actions::after_scan(&done, &out.results).await;
                if trigger == Trigger::Scheduled {
                    crate::background::write_scheduled_reports(&done, &out.summary).await;
                }
                if out.results.len() > 1000 {
                    drop(out);
                    release_memory_soon();
                }
            }
            Err(e) => {
                tracing::error!("scan could not be stored: {e}");
                let _ = done.emit("scan-failed", e.to_string());
            }
        }
    });
    Ok(())
}

/// Turns the scanner's events into the UI's.
async fn forward_events<R: Runtime>(
    app: AppHandle<R>,
    mut rx: tokio::sync::mpsc::Receiver<ScanEvent>,
) {
    while let Some(e) = rx.recv().await {
        let progress = |nas: String, stage, rows, outcome| ScanProgress {
            nas,
            stage,
            rows,
            expected: None,
            outcome,
        };
        let _ = match e {
            ScanEvent::NasStarted { nas } => {
                app.emit("scan-progress", progress(nas, ScanStage::Started, 0, None))
            }
            ScanEvent::NasRows {
                nas,
                rows,
                expected,
            } => app.emit(
                "scan-progress",
                ScanProgress {
                    expected,
                    ..progress(nas, ScanStage::Reading, rows, None)
                },
            ),
            ScanEvent::NasResults { nas, results } => {
                app.emit("scan-results", RouterResults::new(nas, &results))
            }
            ScanEvent::NasFinished(o) => app.emit(
                "scan-progress",
                progress(o.nas.clone(), ScanStage::Finished, o.connections, Some(o)),
            ),
        };
    }
}

/// Most flagged subscribers a router's finished event lists; the table has
/// them all once the scan is stored.
const LIVE_FLAGGED: usize = 50;

/// One router's part of a running scan, as soon as the router is done: its
/// counts and the subscribers it flagged, shown under its progress bar. The
/// table itself reads the store, which takes a scan's results in one
/// transaction when the scan ends (a cancelled scan changes nothing).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RouterResults {
    pub nas: String,
    pub checked: usize,
    /// How many it flagged; `flagged_rows` lists the first of them.
    pub flagged: usize,
    pub flagged_rows: Vec<ResultLine>,
}

impl RouterResults {
    fn new(nas: String, results: &[SubscriberResult]) -> Self {
        let mut flagged: Vec<&SubscriberResult> =
            results.iter().filter(|r| r.is_flagged()).collect();
        flagged.sort_by(|a, b| {
            SubscriberResult::most_suspicious_first(a, b)
                .then_with(|| a.subscriber.cmp(&b.subscriber))
        });
        Self {
            nas,
            checked: results.len(),
            flagged: flagged.len(),
            flagged_rows: flagged
                .into_iter()
                .take(LIVE_FLAGGED)
                .map(ResultLine::from)
                .collect(),
        }
    }
}

/// Gives the heap freed after a large scan back to the system. glibc keeps
/// freed memory in its arenas, so without this the tens of megabytes a
/// 30,000-subscriber scan passes through stay resident for as long as the
/// app sits in the tray.
fn release_memory_soon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tauri::async_runtime::spawn(async {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        // SAFETY: malloc_trim only returns free pages to the OS; it touches
        // no memory that is in use.
        unsafe {
            libc::malloc_trim(0);
        }
    });
}
