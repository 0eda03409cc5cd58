//! With no Secret Service reachable (the session bus points at nothing), every
//! call fails with a message that names what to install, and nothing is
//! written anywhere else.
//!
//! Only where the Secret Service is the store (Linux and the BSDs): Windows'
//! Credential Manager and the macOS Keychain always exist, so there the save
//! would succeed and leave a real credential behind.
#![cfg(all(unix, not(target_os = "macos")))]

use shareguard_secrets::{availability, load, save, SecretKind};

#[test]
fn without_a_keyring_the_error_names_the_fix_and_nothing_is_stored() {
    // This test binary runs alone in its process, so the variables apply
    // before the keyring library first looks for a store.
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/shareguard-test-bus",
    );
    std::env::remove_var("XDG_RUNTIME_DIR");
    let e = save(SecretKind::RouterPassword, "router-1", "pw").unwrap_err();
    assert_eq!(e.kind(), "keyring_unavailable", "{e}");
    let text = e.to_string();
    if cfg!(target_os = "linux") {
        assert!(
            text.contains("gnome-keyring") && text.contains("never stores passwords in plain text"),
            "{text}"
        );
    }
    assert!(availability().is_err());
    assert!(load(SecretKind::RouterPassword, "router-1").is_err());
}
