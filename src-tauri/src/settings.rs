//! Settings commands and the scheduler that acts on them.

use chrono::Local;
use serde::{Deserialize, Serialize};
use shareguard_detect::DetectionSettings;
use shareguard_engine::auto_disconnect::{SharingActions, SHARING_ACTIONS_KEY};
use shareguard_engine::breaker::{Breaker, BREAKER_KEY};
use shareguard_engine::settings::{DesktopSettings, ScheduleSettings, DESKTOP_KEY, SCHEDULE_KEY};
use shareguard_report::scheduled::{ScheduledReports, SCHEDULED_REPORTS_KEY};
use shareguard_schedule::{Runner, Schedule};
use shareguard_store::{
    AuditEntry, Permission, Retention, Store, StoreError, RETENTION_KEY, SYSTEM_OPERATOR,
};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_autostart::ManagerExt;

use crate::error::{CommandError, CommandResult};
use crate::state::{blocking, lock, AppState};

#[derive(Debug, Serialize, Deserialize, specta::Type)]
pub struct Settings {
    pub detection: DetectionSettings,
    pub schedule: ScheduleSettings,
    pub desktop: DesktopSettings,
    pub retention: Retention,
    /// Automatic disconnect after a scan.
    pub actions: SharingActions,
    /// The circuit breaker's caps; its tripped state is only changed by the
    /// engine and by "Resume" (`reset_breaker`), never by saving settings.
    pub breaker: Breaker,
    /// Reports written after each scheduled scan.
    pub reports: ScheduledReports,
}

#[derive(Debug, Serialize, specta::Type)]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: Settings,
    /// The next scheduled scans (local time, ISO 8601), when scanning is on.
    pub next_runs: Vec<String>,
    pub paused: bool,
    /// How long a router may take in a scan, in words.
    pub time_limits: String,
}

#[derive(Debug, Serialize, specta::Type)]
pub struct SchedulePreview {
    pub description: String,
    pub next_runs: Vec<String>,
}

fn load(store: &std::sync::Mutex<shareguard_store::Store>) -> CommandResult<Settings> {
    let s = lock(store);
    Ok(Settings {
        detection: s.detection_settings()?,
        schedule: s.get_setting(SCHEDULE_KEY)?.unwrap_or_default(),
        desktop: s.get_setting(DESKTOP_KEY)?.unwrap_or_default(),
        retention: s.get_setting(RETENTION_KEY)?.unwrap_or_default(),
        actions: s.get_setting(SHARING_ACTIONS_KEY)?.unwrap_or_default(),
        breaker: s.get_setting(BREAKER_KEY)?.unwrap_or_default(),
        reports: s.get_setting(SCHEDULED_REPORTS_KEY)?.unwrap_or_default(),
    })
}

/// What the scheduler runs when a scan is due: every router, as `system`,
/// then the scheduled reports.
pub async fn run_scheduled_scan<R: Runtime>(app: AppHandle<R>) {
    if let Err(e) = crate::scanning::start_scan(
        &app,
        SYSTEM_OPERATOR,
        shareguard_detect::ScanScope::All,
        crate::scanning::Trigger::Scheduled,
    )
    .await
    {
        tracing::warn!("scheduled scan did not start: {}", e.message);
    }
}

/// Starts the scheduler with what is stored.
pub fn start_scheduler<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> CommandResult<Runner> {
    let handle = app.clone();
    let runner = tauri::async_runtime::block_on(async move {
        Runner::start(move |_due| run_scheduled_scan(handle.clone()))
    });
    let stored = load(&state.store)?;
    match stored.schedule.schedule() {
        Ok(s) => runner.set_schedule(s),
        Err(e) => tracing::warn!("the stored schedule is not valid ({e}); automatic scans are off"),
    }
    Ok(runner)
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<SettingsView> {
    state.require(Permission::View)?;
    let store = state.store.clone();
    let settings = blocking(move || load(&store)).await?;
    // No runner yet (the app is starting): no runs to show either.
    let (started, paused) = match lock(&state.runner).as_ref() {
        Some(r) => (true, r.is_paused()),
        None => (false, false),
    };
    Ok(SettingsView {
        next_runs: settings
            .schedule
            .next_runs(&Local::now(), paused || !started, 3),
        paused,
        settings,
        time_limits: shareguard_scan::allowance::describe_defaults(),
    })
}

/// A schedule in plain words with its next runs, for the form's preview.
#[tauri::command]
#[specta::specta]
pub fn preview_schedule(cron: String) -> CommandResult<SchedulePreview> {
    let s = Schedule::parse(&cron).map_err(CommandError::invalid)?;
    Ok(SchedulePreview {
        description: s.describe().trim_end_matches('.').to_string(),
        next_runs: s
            .upcoming(&Local::now(), 3)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect(),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    settings: Settings,
) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    let schedule = settings.check().await?;
    // Start at login first: if the system refuses, nothing is saved.
    set_start_at_login(&app, settings.desktop.start_at_login)?;
    let desktop = settings.desktop.clone();
    state
        .with_store(move |s| Ok(settings.store(s, &operator)?))
        .await?;
    *lock(&state.desktop) = desktop;
    if let Some(r) = lock(&state.runner).as_ref() {
        r.set_schedule(schedule);
    }
    Ok(())
}

impl Settings {
    /// Checks every part, the reports' folder included; the schedule they
    /// describe (none when scanning on a schedule is off) when all are valid.
    async fn check(&self) -> CommandResult<Option<Schedule>> {
        let parts = [
            self.detection.validate(),
            self.desktop.validate(),
            self.retention.validate(),
            self.actions.validate(),
            self.breaker.validate(),
            self.reports.validate(),
        ];
        for part in parts {
            part.map_err(CommandError::invalid)?;
        }
        let reports = self.reports.clone();
        blocking(move || reports.check_folder().map_err(CommandError::invalid)).await?;
        self.schedule.schedule().map_err(CommandError::invalid)
    }

    /// Stores every part and records the change as `operator`. The breaker
    /// keeps its tripped state: only "Resume" clears that.
    fn store(&self, s: &mut Store, operator: &str) -> Result<(), StoreError> {
        s.set_detection_settings(&self.detection)?;
        s.set_setting(SCHEDULE_KEY, &self.schedule)?;
        s.set_setting(DESKTOP_KEY, &self.desktop)?;
        s.set_setting(RETENTION_KEY, &self.retention)?;
        s.set_setting(SHARING_ACTIONS_KEY, &self.actions)?;
        s.set_setting(SCHEDULED_REPORTS_KEY, &self.reports)?;
        let stored: Breaker = s.get_setting(BREAKER_KEY)?.unwrap_or_default();
        s.set_setting(
            BREAKER_KEY,
            &Breaker {
                tripped: stored.tripped,
                ..self.breaker.clone()
            },
        )?;
        s.audit(
            &AuditEntry::new(operator, "settings_changed")
                .details(serde_json::to_value(self).unwrap_or_default()),
        )?;
        Ok(())
    }
}

/// Registers (or removes) ShareGuard as a login item that starts minimised.
fn set_start_at_login<R: Runtime>(app: &AppHandle<R>, on: bool) -> CommandResult<()> {
    let launcher = app.autolaunch();
    let now = launcher.is_enabled().unwrap_or(false);
    let result = match (on, now) {
        (true, false) => launcher.enable(),
        (false, true) => launcher.disable(),
        _ => Ok(()),
    };
    result.map_err(|e| {
        CommandError::new(
            shareguard_engine::ErrorKind::System,
            format!("the login item could not be changed ({e}); check that your user may add startup applications"),
        )
    })
}

/// Pauses or resumes scheduled work (from the tray or the settings panel).
#[tauri::command]
#[specta::specta]
pub fn set_paused(state: State<'_, AppState>, paused: bool) -> CommandResult<()> {
    state.require(Permission::Scan)?;
    if let Some(r) = lock(&state.runner).as_ref() {
        r.set_paused(paused);
    }
    Ok(())
}
