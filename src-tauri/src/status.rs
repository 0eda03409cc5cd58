//! What every screen needs first: who is at the desk, the routers (the
//! demo's and the stored ones), the latest scan and the counts around it.

use serde::Serialize;
use shareguard_detect::ScanSummary;
use shareguard_store::{Operator, ResultFilter};
use tauri::State;

use crate::error::CommandResult;
use crate::state::{lock, AppState};

#[derive(Serialize, specta::Type)]
pub struct RouterInfo {
    name: String,
    address: String,
    access: &'static str,
    tag: Option<String>,
    demo: bool,
}

#[derive(Serialize, specta::Type)]
pub struct Status {
    demo_running: bool,
    routers: Vec<RouterInfo>,
    last_scan: Option<ScanSummary>,
    result_count: u64,
    /// Of `result_count`, the results of the demo's routers (running or
    /// left from an earlier start), which the window labels as the demo's.
    demo_results: u64,
    scanning: bool,
    database: String,
    /// Who is at the desk; `None` while the app is locked.
    operator: Option<Operator>,
    /// Profile names for the lock screen (empty: no profiles, owner only).
    profiles: Vec<String>,
    /// Reseller/area tags in use.
    tags: Vec<String>,
    /// The next scheduled scan (local time, RFC 3339), if any.
    next_scan: Option<String>,
}

/// What every screen needs first. Answers even while locked (with no data),
/// so the lock screen can list the profiles.
#[tauri::command]
#[specta::specta]
pub async fn status(state: State<'_, AppState>) -> CommandResult<Status> {
    Status::of(&state).await
}

impl Status {
    async fn of(state: &AppState) -> CommandResult<Self> {
        let operator = lock(&state.session).current().cloned();
        let demo: Option<Vec<_>> = state.demo.lock().await.as_ref().map(|d| d.targets.clone());
        let next_scan = lock(&state.runner)
            .as_ref()
            .and_then(|r| r.next_run())
            .map(|t| t.to_rfc3339());
        let unlocked = operator.is_some();
        let (profiles, stored) = state
            .with_store(move |s| {
                let profiles = s.operators()?.into_iter().map(|o| o.name).collect();
                Ok((profiles, unlocked.then(|| Stored::read(s)).transpose()?))
            })
            .await?;
        let stored = stored.unwrap_or_default();
        let demo_running = demo.is_some();
        let mut routers: Vec<RouterInfo> = match (unlocked, demo) {
            (true, Some(targets)) => targets.iter().map(RouterInfo::demo).collect(),
            _ => Vec::new(),
        };
        routers.extend(stored.routers.into_iter().map(RouterInfo::stored));
        Ok(Self {
            demo_running,
            routers,
            last_scan: stored.last_scan,
            result_count: stored.result_count,
            demo_results: stored.demo_results,
            scanning: lock(&state.scan).is_some(),
            database: state.db_path.clone(),
            operator,
            profiles,
            tags: stored.tags,
            next_scan,
        })
    }
}

/// What the status shows of the database once someone is signed in.
#[derive(Default)]
struct Stored {
    routers: Vec<shareguard_store::NasRecord>,
    last_scan: Option<ScanSummary>,
    result_count: u64,
    demo_results: u64,
    tags: Vec<String>,
}

impl Stored {
    fn read(s: &shareguard_store::Store) -> Result<Self, shareguard_store::StoreError> {
        Ok(Self {
            routers: s.list_nas()?,
            last_scan: s.last_scan()?,
            result_count: s.result_count(&ResultFilter::default())?,
            demo_results: s.demo_result_count()?,
            tags: s.tags()?,
        })
    }
}

impl RouterInfo {
    fn demo(t: &shareguard_scan::NasTarget) -> Self {
        Self {
            name: t.name.clone(),
            address: t.address(),
            access: t.access.as_str(),
            tag: None,
            demo: true,
        }
    }

    fn stored(r: shareguard_store::NasRecord) -> Self {
        Self {
            address: routeros_client::join_addr(&r.host, r.port),
            name: r.name,
            access: r.access.as_str(),
            tag: r.tag,
            demo: false,
        }
    }
}
