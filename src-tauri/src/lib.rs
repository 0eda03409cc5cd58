//! The ShareGuard desktop app: a thin Tauri layer. It opens the database in
//! the app's data folder, keeps the app state, and exposes the engine through
//! commands (see `commands` and its siblings); everything it decides comes
//! from the engine crates.

mod actions;
mod background;
mod charts;
pub mod commands;
mod error;
mod input;
mod logging;
mod monitor;
mod operators;
mod reports;
mod routers;
mod scanning;
mod settings;
mod startup;
pub mod state;
mod status;
mod subscriber;
mod tray;
mod webhooks;

use tauri::{Manager, Runtime};

pub use crate::error::CommandError;
pub use crate::reports::{write_report_to, ReportAsk};
pub use crate::settings::run_scheduled_scan;
use crate::state::AppState;
pub use shareguard_report::Format as ReportFormat;

/// The database file inside the app's data folder (shared with the CLI's default).
pub const DB_FILE: &str = "shareguard.db";

/// The argument the login item starts the app with: straight to the tray.
pub const MINIMISED_ARG: &str = "--minimized";

/// Every IPC command with its argument and result types: the one list the
/// invoke handler and the generated TypeScript contract
/// (`ui/src/bindings.ts`) are both made from.
pub fn contract<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .error_handling(tauri_specta::ErrorHandlingMode::Throw)
        // What the events carry (`scan-progress`, `scan-results`,
        // `auto-actions`; `scan-finished` and `monitor-cycle` carry types the
        // commands return too).
        .typ::<scanning::ScanProgress>()
        .typ::<scanning::RouterResults>()
        .typ::<actions::AutoActionEvent>()
        .typ::<error::CommandError>()
        .commands(tauri_specta::collect_commands![
            status::status,
            commands::start_demo,
            commands::remove_demo,
            commands::scan::<tauri::Wry>,
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
            settings::save_settings::<tauri::Wry>,
            settings::preview_schedule,
            settings::set_paused,
            subscriber::subscriber_detail,
            subscriber::set_line_distance,
            actions::disconnect_subscriber,
            actions::reset_breaker,
            monitor::monitor_overview,
            monitor::save_monitor_settings,
            monitor::run_monitor::<tauri::Wry>,
            monitor::throttle_subscriber,
            monitor::ban_subscriber,
            monitor::limit_subscriber,
            routers::p2p_rules,
            webhooks::webhook_settings,
            webhooks::save_webhooks,
            webhooks::test_webhooks,
            reports::save_report::<tauri::Wry>,
            reports::pick_folder::<tauri::Wry>,
            charts::dashboard_charts,
            charts::monitor_charts,
            charts::subscriber_charts,
            monitor::lift_action,
        ])
}

/// Every IPC command, for the app and for the IPC tests.
pub fn invoke_handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    contract::<R>().invoke_handler()
}

/// The TypeScript the window is written against: every command's wrapper
/// and every type it takes or returns. `tests/contract.rs` checks that
/// `ui/src/bindings.ts` is exactly this.
pub fn typescript_contract() -> String {
    contract::<tauri::Wry>()
        .export_str(
            specta_typescript::Typescript::default()
                .bigint(specta_typescript::BigIntExportBehavior::Number)
                .header("// Generated from the Rust types by `cargo test -p shareguard-app --test contract` with UPDATE_CONTRACT=1: do not edit.\n// The window's own code is type-checked against it; the generated helpers are not.\n// @ts-nocheck\n"),
        )
        .unwrap_or_else(|e| panic!("the TypeScript contract cannot be generated: {e}"))
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

/// How the app starts WebKitGTK on Linux: environment variables, each set
/// only when the owner has not set it, so any of them can be turned back.
///
/// - `WEBKIT_DISABLE_COMPOSITING_MODE=1`: with compositing, WebKit renders
///   the page through OpenGL; without a GPU driver (and under Xvfb) that is
///   Mesa's software renderer, which cost the page process about 90 MiB
///   (271 against 181 MiB with 30,000 results) for a window of tables and
///   charts that never animates. It is also the usual cause of blank or
///   crashing WebKitGTK windows with NVIDIA's driver. `=0` turns it back on.
/// - `WEBKIT_DISABLE_DMABUF_RENDERER=1`, only while compositing is off: the
///   DMA-BUF renderer shows composited frames, so without compositing it has
///   nothing to do, yet the app process still loaded a GPU driver for it
///   (4 MiB).
/// - `JSC_useJIT=false`: the window's script is small and waits on the store,
///   so JavaScriptCore's interpreter runs it as fast as the JIT did (searches
///   of 30,000 results took the same 20-40 ms), and the page process is
///   6 MiB smaller without the compilers and their code.
#[cfg(target_os = "linux")]
fn webkit_environment(
    owner_set: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Vec<(&'static str, &'static str)> {
    const COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    const DMABUF: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
    const JIT: &str = "JSC_useJIT";
    let mut set = Vec::new();
    let compositing_off = match owner_set(COMPOSITING) {
        None => {
            set.push((COMPOSITING, "1"));
            true
        }
        // WebKit reads any value but "0" as "disable".
        Some(v) => v != "0",
    };
    if compositing_off && owner_set(DMABUF).is_none() {
        set.push((DMABUF, "1"));
    }
    if owner_set(JIT).is_none() {
        set.push((JIT, "false"));
    }
    set
}

/// Applies [`webkit_environment`]. Called first in [`run`], before any
/// thread starts, as changing the environment must be; WebKit's page and
/// network processes inherit it.
#[cfg(target_os = "linux")]
fn tune_webkit() {
    for (var, value) in webkit_environment(|v| std::env::var_os(v)) {
        std::env::set_var(var, value);
    }
}

pub fn run() {
    #[cfg(target_os = "linux")]
    tune_webkit();
    startup::catch_failed_setup();
    // The database opens before any window or event loop exists, so a file
    // that cannot be used is explained in a plain message box on every
    // desktop (inside GTK's event loop a second dialog could not be shown).
    let (dir, store) = match startup::open_database() {
        Ok(opened) => opened,
        Err(message) => {
            startup::report(message);
            std::process::exit(1);
        }
    };
    let mut store = Some(store);
    let minimised = std::env::args().any(|a| a == MINIMISED_ARG);
    // First, so a second launch hands over to this one before anything else starts.
    let builder =
        tauri::Builder::default().plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tray::show_window(app);
        }));
    let result = plugins(builder)
        .setup(move |app| {
            app.manage(logging::Guard::new(logging::init(&dir.join("logs"))));
            let path = dir.join(DB_FILE);
            let store = store.take().ok_or("the app was set up twice")?;
            tracing::info!("database: {}", path.display());
            app.manage(AppState::new(store, path.display().to_string())?);
            let state = app.state::<AppState>();
            let runner = settings::start_scheduler(app.handle(), &state).map_err(|e| e.message)?;
            *state::lock(&state.runner) = Some(runner);
            // Only the tray's status line: an unreadable last scan must not stop the app.
            let last_scan = state::lock(&state.store).last_scan().unwrap_or_else(|e| {
                tracing::warn!("the last scan could not be read for the tray: {e}");
                None
            });
            let has_tray = tray::install(app.handle(), &tray::status_line(last_scan.as_ref()));
            state
                .has_tray
                .store(has_tray, std::sync::atomic::Ordering::Relaxed);
            background::start_clean_up(app.handle());
            monitor::start_monitor(app.handle());
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
                    if tray::host_present() {
                        api.prevent_close();
                        let _ = window.hide();
                    } else {
                        tracing::warn!("closing the window quits: this desktop shows no tray icons to reopen it from");
                    }
                }
            }
        })
        .invoke_handler(invoke_handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        startup::report(startup::message(&e));
        std::process::exit(1);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::webkit_environment;
    use std::ffi::OsString;

    fn decide(owner: &[(&str, &str)]) -> Vec<(&'static str, &'static str)> {
        webkit_environment(|var| {
            owner
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn an_unset_environment_gets_every_default() {
        assert_eq!(
            decide(&[]),
            [
                ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
                ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
                ("JSC_useJIT", "false"),
            ]
        );
    }

    #[test]
    fn compositing_turned_back_on_keeps_the_dmabuf_renderer() {
        assert_eq!(
            decide(&[("WEBKIT_DISABLE_COMPOSITING_MODE", "0")]),
            [("JSC_useJIT", "false")]
        );
    }

    #[test]
    fn values_the_owner_set_are_never_replaced() {
        assert_eq!(
            decide(&[
                ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
                ("WEBKIT_DISABLE_DMABUF_RENDERER", "0"),
                ("JSC_useJIT", "true"),
            ]),
            []
        );
        // Compositing off by the owner's own hand still needs no DMA-BUF renderer.
        assert_eq!(
            decide(&[
                ("WEBKIT_DISABLE_COMPOSITING_MODE", "yes"),
                ("JSC_useJIT", "true")
            ]),
            [("WEBKIT_DISABLE_DMABUF_RENDERER", "1")]
        );
    }
}
