//! The ShareGuard desktop app: a thin Tauri layer. It opens the database in
//! the app's data folder, keeps the app state, and exposes the engine through
//! a handful of commands (see `commands`); everything it decides comes from
//! the engine crates.

mod commands;
mod error;
mod routers;
mod settings;
mod state;

use tauri::Manager;

use crate::state::AppState;

/// The database file inside the app's data folder (shared with the CLI's default).
const DB_FILE: &str = "shareguard.db";

pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHAREGUARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let result = tauri::Builder::default()
        .setup(|app| {
            let dir = app.path().app_data_dir()?;
            let path = dir.join(DB_FILE);
            let store = shareguard_store::Store::open(&path)?;
            tracing::info!("database: {}", path.display());
            app.manage(AppState::new(store, path.display().to_string()));
            let state = app.state::<AppState>();
            let runner = settings::start_scheduler(app.handle(), &state).map_err(|e| e.message)?;
            *state.runner.lock().unwrap_or_else(|p| p.into_inner()) = Some(runner);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::start_demo,
            commands::scan_all,
            commands::cancel_scan,
            commands::results,
            commands::whitelist_add,
            commands::whitelist_remove,
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
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("ShareGuard could not start: {e}");
        std::process::exit(1);
    }
}
