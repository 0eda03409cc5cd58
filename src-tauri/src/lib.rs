//! The ShareGuard desktop app: a thin Tauri layer. It opens the database in
//! the app's data folder, keeps the app state, and exposes the engine through
//! a handful of commands (see `commands`); everything it decides comes from
//! the engine crates.

mod commands;
mod error;
mod logging;
mod routers;
mod settings;
mod state;
mod subscriber;
mod tray;

use tauri::Manager;

use crate::state::AppState;

/// The database file inside the app's data folder (shared with the CLI's default).
const DB_FILE: &str = "shareguard.db";

pub fn run() {
    let result = tauri::Builder::default()
        // First, so a second launch hands over to this one before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tray::show_window(app);
        }))
        .setup(|app| {
            let dir = app.path().app_data_dir()?;
            app.manage(logging::Guard::new(logging::init(&dir.join("logs"))));
            let path = dir.join(DB_FILE);
            let store = shareguard_store::Store::open(&path)?;
            tracing::info!("database: {}", path.display());
            app.manage(AppState::new(store, path.display().to_string()));
            let state = app.state::<AppState>();
            let runner = settings::start_scheduler(app.handle(), &state).map_err(|e| e.message)?;
            *state.runner.lock().unwrap_or_else(|p| p.into_inner()) = Some(runner);
            let has_tray = tray::install(app.handle());
            state
                .has_tray
                .store(has_tray, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let state = window.state::<AppState>();
                // With a tray, closing hides the window and scheduled scans go on.
                if state.has_tray.load(std::sync::atomic::Ordering::Relaxed) {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::start_demo,
            commands::scan_all,
            commands::cancel_scan,
            commands::results,
            commands::whitelist_add,
            commands::whitelist_remove,
            commands::whitelist_list,
            commands::audit_log,
            routers::keyring_status,
            routers::list_routers,
            routers::save_router,
            routers::remove_router,
            routers::test_router,
            settings::get_settings,
            settings::save_settings,
            settings::preview_schedule,
            settings::set_paused,
            subscriber::subscriber_detail,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("ShareGuard could not start: {e}");
        std::process::exit(1);
    }
}
