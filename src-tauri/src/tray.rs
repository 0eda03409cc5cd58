//! The tray icon: Open, Scan now, Pause/Resume scheduled scans, Quit, with
//! the last scan's status as its tooltip and as the menu's first line (the
//! Linux tray protocol has no tooltips). Closing the window keeps the app
//! running here, so scheduled scans go on.
//!
//! Some Linux desktops have no tray (or no appindicator library), and the
//! tray library panics while loading it: the build is guarded, and without a
//! tray the app simply runs without one (closing the window then quits).

use std::panic::AssertUnwindSafe;

use shareguard_detect::ScanSummary;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Listener, Manager, Runtime};

use crate::state::lock;
use crate::state::AppState;

pub const TRAY_ID: &str = "main";

/// The menu's status line, kept to be updated after each scan.
struct StatusLine<R: Runtime>(MenuItem<R>);

/// The last scan in a line, for the tray: when, how it ended, the counts.
pub fn status_line(scan: Option<&ScanSummary>) -> String {
    match scan {
        None => "No scan yet".into(),
        Some(s) => format!(
            "Last scan {} ({}): {} checked, {} flagged",
            s.started_at
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M"),
            s.status.as_str(),
            s.checked,
            s.flagged
        ),
    }
}

/// Builds the tray, showing `status` (see [`status_line`]); `false` when
/// this desktop has none.
pub fn install<R: Runtime>(app: &AppHandle<R>, status: &str) -> bool {
    match std::panic::catch_unwind(AssertUnwindSafe(|| build(app, status))) {
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

fn build<R: Runtime>(app: &AppHandle<R>, status: &str) -> tauri::Result<TrayIcon<R>> {
    let status_item = MenuItem::with_id(app, "status", status, false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open ShareGuard", true, None::<&str>)?;
    let scan = MenuItem::with_id(app, "scan", "Scan now", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause scheduled scans", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit ShareGuard", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(
        app,
        &[&status_item, &separator, &open, &scan, &pause, &quit],
    )?;
    app.manage(StatusLine(status_item));
    // Every stored scan, whoever started it, updates the status line.
    let listener = app.clone();
    app.listen("scan-finished", move |event| {
        match serde_json::from_str::<ScanSummary>(event.payload()) {
            Ok(scan) => set_status(&listener, &status_line(Some(&scan))),
            Err(e) => tracing::warn!("the tray could not read a finished scan: {e}"),
        }
    });
    let pause_item = pause.clone();
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(format!("ShareGuard: {status}"))
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
                            crate::scanning::start_scan(
                                &app,
                                &op,
                                shareguard_detect::ScanScope::All,
                                crate::scanning::Trigger::Asked,
                            )
                            .await
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = started {
                        set_status(&app, &e.message);
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

/// Whether something on this desktop shows tray icons right now: a
/// StatusNotifierItem host (KDE, XFCE, MATE, Cinnamon, GNOME with the
/// AppIndicator extension) or an XEmbed tray. The appindicator library
/// registers the icon either way, so without this check closing the window
/// on a plain GNOME desktop would hide the app where no one can reach it.
/// Asked at each close, as a panel can come and go while the app runs; must
/// run on the main thread (window events do).
#[cfg(target_os = "linux")]
pub fn host_present() -> bool {
    use gio::prelude::*;
    let watcher = gio::bus_get_sync(gio::BusType::Session, gio::Cancellable::NONE)
        .ok()
        .and_then(|bus| {
            bus.call_sync(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "NameHasOwner",
                Some(&("org.kde.StatusNotifierWatcher",).to_variant()),
                Some(gio::glib::VariantTy::new("(b)").ok()?),
                gio::DBusCallFlags::NONE,
                1000,
                gio::Cancellable::NONE,
            )
            .ok()
        })
        .and_then(|reply| reply.get::<(bool,)>())
        .is_some_and(|(owned,)| owned);
    watcher || gdk::selection_owner_get(&gdk::Atom::intern("_NET_SYSTEM_TRAY_S0")).is_some()
}

/// Other platforms always have a tray (the menu bar on macOS).
#[cfg(not(target_os = "linux"))]
pub fn host_present() -> bool {
    true
}

/// Brings the main window back (from the tray, or a second launch).
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// Shows `text` (the last scan, or why a scan from the tray did not start)
/// as the tray's tooltip and its menu's first line.
pub fn set_status<R: Runtime>(app: &AppHandle<R>, text: &str) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(format!("ShareGuard: {text}")));
    }
    if let Some(line) = app.try_state::<StatusLine<R>>() {
        let _ = line.0.set_text(text);
    }
}
