//! What the owner sees when the app cannot start (its database cannot be
//! opened, the window cannot be made). A release build on Windows is a GUI
//! program with no console, so a message on stderr reaches nobody; the error
//! is shown in the desktop's own message box as well, and logged.

use std::fmt::Display;

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
                report(explain(reason));
                std::process::exit(1);
            }
            None => default(info),
        }
    }));
}

/// Reports a failed start on stderr, in the log and in a message box, and
/// returns when the owner has closed the box.
pub fn report(message: impl Display) {
    let text = message.to_string();
    eprintln!("{TITLE}: {text}");
    tracing::error!("{TITLE}: {text}");
    if desktop_present() {
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
        let text = explain(
            "runtime error: Could not find the webview runtime, make sure it is installed",
        );
        assert!(text.contains("WebView2 Runtime"), "{text}");
        assert!(text.contains("https://go.microsoft.com/fwlink/p/?LinkId=2124703"), "{text}");
    }
}
