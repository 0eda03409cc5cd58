//! The tray icon: Open, Scan now, Pause/Resume scheduled scans, Quit, with
//! the last scan's status as its tooltip. Closing the window keeps the app
//! running here, so scheduled scans go on.
//!
//! Some Linux desktops have no tray (or no appindicator library), and the
//! tray library panics while loading it: the build is guarded, and without a
//! tray the app simply runs without one (closing the window then quits).

use std::panic::AssertUnwindSafe;

use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

use crate::state::lock;
use crate::state::AppState;

pub const TRAY_ID: &str = "main";

/// Builds the tray; `false` when this desktop has none.
pub fn install<R: Runtime>(app: &AppHandle<R>) -> bool {
    match std::panic::catch_unwind(AssertUnwindSafe(|| build(app))) {
        Ok(Ok(_tray)) => true,
        Ok(Err(e)) => {
            tracing::warn!("no tray icon ({e}); closing the window will quit the app");
            false
        }
        Err(_) => {
            tracing::warn!("this desktop has no tray (the appindicator library is missing); closing the window will quit the app");
            false
        }
    }
}

fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let open = MenuItem::with_id(app, "open", "Open ShareGuard", true, None::<&str>)?;
    let scan = MenuItem::with_id(app, "scan", "Scan now", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause scheduled scans", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit ShareGuard", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &scan, &pause, &quit])?;
    let pause_item = pause.clone();
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("ShareGuard: no scan yet")
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id.as_ref() {
            "open" => show_window(app),
            "scan" => {
                // As whoever is at the desk; a locked app opens its window instead.
                let operator = app
                    .state::<AppState>()
                    .require(shareguard_store::Permission::Scan);
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let started = match operator {
                        Ok(op) => {
                            crate::commands::start_scan(
                                &app,
                                &op,
                                shareguard_detect::ScanScope::All,
                                crate::commands::Trigger::Asked,
                            )
                            .await
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = started {
                        set_status(&app, &format!("ShareGuard: {}", e.message));
                        show_window(&app);
                    }
                });
            }
            "pause" => {
                let state = app.state::<AppState>();
                let paused = lock(&state.runner).as_ref().map(|r| {
                    let paused = !r.is_paused();
                    r.set_paused(paused);
                    paused
                });
                if let Some(paused) = paused {
                    let _ = pause_item.set_text(if paused {
                        "Resume scheduled scans"
                    } else {
                        "Pause scheduled scans"
                    });
                }
            }
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)
}

/// Brings the main window back (from the tray, or a second launch).
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// The tray tooltip: the last scan's status in a line.
pub fn set_status<R: Runtime>(app: &AppHandle<R>, text: &str) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(text));
    }
}
