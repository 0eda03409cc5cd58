//! What the owner sees when the app cannot start (its database cannot be
//! opened, the window cannot be made). A release build on Windows is a GUI
//! program with no console, so a message on stderr reaches nobody; the error
//! is shown in the desktop's own message box as well, and logged.

use std::fmt::Display;
use std::path::PathBuf;

/// The title of the message box, also what tests look for.
pub const TITLE: &str = "ShareGuard could not start";

/// The message for a failed start: the error itself, which names its fix,
/// without Tauri's wording around errors from the set-up step.
pub fn message(e: &tauri::Error) -> String {
    match e {
        tauri::Error::Setup(inner) => explain(&inner.to_string()),
        other => explain(&other.to_string()),
    }
}

/// Tauri's words for a failed start, made into the owner's: the set-up
/// step's own error without Tauri's prefix, and a missing WebView2 (Windows)
/// with where to get it.
fn explain(reason: &str) -> String {
    const SETUP: &str = "error encountered during setup hook: ";
    if reason.contains("Could not find the webview runtime") {
        return "Microsoft Edge WebView2, which draws ShareGuard's window, is not installed on \
                this computer: install the WebView2 Runtime (free, from Microsoft: \
                https://go.microsoft.com/fwlink/p/?LinkId=2124703), then start ShareGuard again"
            .to_string();
    }
    reason.strip_prefix(SETUP).unwrap_or(reason).to_string()
}

/// Tauri reports a failed set-up step (the database cannot be opened, the
/// window cannot be made) by panicking inside its event loop with "Failed to
/// setup app: ..." instead of returning it from `run`. This hook shows those
/// panics as a failed start and exits with 1 before unwinding into the
/// windowing system; every other panic goes to the default hook.
pub fn catch_failed_setup() {
    const PREFIX: &str = "Failed to setup app: ";
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        match text.and_then(|t| t.strip_prefix(PREFIX)) {
            Some(reason) => {
                // Windows' message box works from here; GTK's dialog, run
                // from inside GTK's own event loop while it unwinds, does
                // not come up, so Linux gets stderr and the log.
                show(explain(reason), cfg!(not(target_os = "linux")));
                std::process::exit(1);
            }
            None => default(info),
        }
    }));
}

/// The app's data folder and its database, opened. The folder is the local,
/// not the roaming, one (Tauri's `app_local_data_dir`, which is
/// `dirs::data_local_dir()` and the identifier): on Windows the database and
/// logs stay on this computer (%LOCALAPPDATA%), as roaming profiles copy
/// their folder at every sign-in and folder redirection may put it on a
/// network share, where SQLite's locking is not safe. On Linux and macOS
/// both are one folder. The CLI's default database is the same file.
pub fn open_database() -> Result<(PathBuf, shareguard_store::Store), String> {
    let dir = dirs::data_local_dir()
        .ok_or(
            "this account has no local data folder (no home folder?): sign in as a user with one",
        )?
        .join(IDENTIFIER);
    let store =
        shareguard_store::Store::open(dir.join(crate::DB_FILE)).map_err(|e| e.to_string())?;
    Ok((dir, store))
}

/// The app's identifier in `tauri.conf.json`, which names its data folder.
pub const IDENTIFIER: &str = "net.shareguard.app";

/// Reports a failed start on stderr, in the log and in a message box, and
/// returns when the owner has closed the box.
pub fn report(message: impl Display) {
    show(message, true);
}

fn show(message: impl Display, dialog: bool) {
    let text = message.to_string();
    eprintln!("{TITLE}: {text}");
    tracing::error!("{TITLE}: {text}");
    if dialog && desktop_present() {
        rfd::MessageDialog::new()
            .set_level(rfd::MessageLevel::Error)
            .set_title(TITLE)
            .set_description(text)
            .set_buttons(rfd::MessageButtons::Ok)
            .show();
    }
}

/// Windows and macOS always have a desktop to show the box on; elsewhere a
/// start from a terminal without a display (ssh, a service) only gets stderr.
fn desktop_present() -> bool {
    if cfg!(any(windows, target_os = "macos")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_folder_is_named_by_the_configured_identifier() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], IDENTIFIER);
    }

    #[test]
    fn a_set_up_error_is_shown_as_its_own_words() {
        let inner: Box<dyn std::error::Error> =
            "the database is not a ShareGuard database: move it away".into();
        let e = tauri::Error::Setup(inner.into());
        assert_eq!(
            message(&e),
            "the database is not a ShareGuard database: move it away"
        );
        // As the set-up panic carries it.
        assert_eq!(
            explain(&format!("{e}")),
            "the database is not a ShareGuard database: move it away"
        );
    }

    #[test]
    fn a_missing_webview2_says_where_to_get_it() {
        let text =
            explain("runtime error: Could not find the webview runtime, make sure it is installed");
        assert!(text.contains("WebView2 Runtime"), "{text}");
        assert!(
            text.contains("https://go.microsoft.com/fwlink/p/?LinkId=2124703"),
            "{text}"
        );
    }
}
