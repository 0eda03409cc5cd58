//! The ShareGuard desktop app: a thin Tauri layer. It opens the database in
//! the app's data folder, keeps the app state, and exposes the engine through
//! commands (see `commands` and its siblings); everything it decides comes
//! from the engine crates.

mod abuse;
mod actions;
mod background;
mod charts;
pub mod commands;
mod error;
mod logging;
mod operators;
mod reports;
mod routers;
mod settings;
pub mod state;
mod subscriber;
mod tray;
mod webhooks;

use tauri::{Manager, Runtime};

pub use crate::error::CommandError;
pub use crate::settings::run_scheduled_scan;
use crate::state::AppState;

/// The database file inside the app's data folder (shared with the CLI's default).
pub const DB_FILE: &str = "shareguard.db";

/// The argument the login item starts the app with: straight to the tray.
pub const MINIMISED_ARG: &str = "--minimized";

/// Every IPC command, for the app and for the IPC tests.
pub fn invoke_handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        commands::status,
        commands::start_demo,
        commands::scan,
        commands::cancel_scan,
        commands::results_page,
        commands::clear_results,
        commands::whitelist_add,
        commands::whitelist_remove,
        commands::whitelist_list,
        commands::set_subscriber_tag,
        commands::audit_log,
        operators::list_operators,
        operators::save_operator,
        operators::remove_operator,
        operators::switch_operator,
        operators::lock_app,
        routers::keyring_status,
        routers::list_routers,
        routers::save_router,
        routers::remove_router,
        routers::test_router,
        routers::probes,
        routers::fetch_fingerprint,
        settings::get_settings,
        settings::save_settings,
        settings::preview_schedule,
        settings::set_paused,
        subscriber::subscriber_detail,
        actions::disconnect_subscriber,
        actions::reset_breaker,
        abuse::abuse_overview,
        abuse::save_abuse_settings,
        abuse::run_monitor,
        abuse::throttle_subscriber,
        abuse::ban_subscriber,
        abuse::limit_subscriber,
        routers::p2p_rules,
        webhooks::webhook_settings,
        webhooks::save_webhooks,
        webhooks::test_webhooks,
        reports::export_report,
        reports::save_report,
        reports::pick_folder,
        charts::dashboard_charts,
        charts::abuse_charts,
        charts::subscriber_charts,
        abuse::lift_action,
    ]
}

/// The plugins every build uses (the single-instance one is added by `run`
/// before these, as it must come first).
pub fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![MINIMISED_ARG]),
        ))
}

/// WebKitGTK's accelerated compositing, off unless the owner asked for it.
///
/// With compositing on, WebKit renders the page through OpenGL; on a desktop
/// without a GPU driver (and under Xvfb) that is Mesa's software renderer,
/// which costs the page process about 90 MiB for a window of tables and
/// charts that never animates (measured: 271 MiB against 181 MiB with 30,000
/// results). It is also the usual cause of blank or crashing WebKitGTK
/// windows with NVIDIA's driver. Set before any thread starts, as the
/// environment must be; a value the owner set themselves is kept
/// (`WEBKIT_DISABLE_COMPOSITING_MODE=0` turns compositing back on).
#[cfg(target_os = "linux")]
fn prefer_software_compositing() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(VAR).is_none() {
        std::env::set_var(VAR, "1");
    }
}

pub fn run() {
    #[cfg(target_os = "linux")]
    prefer_software_compositing();
    let minimised = std::env::args().any(|a| a == MINIMISED_ARG);
    // First, so a second launch hands over to this one before anything else starts.
    let builder =
        tauri::Builder::default().plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tray::show_window(app);
        }));
    let result = plugins(builder)
        .setup(move |app| {
            let dir = app.path().app_data_dir()?;
            app.manage(logging::Guard::new(logging::init(&dir.join("logs"))));
            let path = dir.join(DB_FILE);
            let store = shareguard_store::Store::open(&path)?;
            tracing::info!("database: {}", path.display());
            app.manage(AppState::new(store, path.display().to_string())?);
            let state = app.state::<AppState>();
            let runner = settings::start_scheduler(app.handle(), &state).map_err(|e| e.message)?;
            *state::lock(&state.runner) = Some(runner);
            let has_tray = tray::install(app.handle());
            state
                .has_tray
                .store(has_tray, std::sync::atomic::Ordering::Relaxed);
            background::start_clean_up(app.handle());
            abuse::start_monitor(app.handle());
            // Started at login: stay in the tray until the owner opens the window.
            if !(minimised && has_tray) {
                tray::show_window(app.handle());
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                // With a tray (and unless the owner turned it off), closing
                // hides the window and scheduled scans go on.
                if window.state::<AppState>().keeps_running_in_tray() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .invoke_handler(invoke_handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("ShareGuard could not start: {e}");
        std::process::exit(1);
    }
}
