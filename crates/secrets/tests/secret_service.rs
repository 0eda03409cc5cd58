//! Against the OS's real credential store. On Linux that is a Secret Service
//! (gnome-keyring in a private D-Bus session, started by
//! scripts/with-keyring.sh), so a plain `cargo test` ignores these there; on
//! Windows (Credential Manager, also under Wine) and macOS (Keychain) the
//! store always exists and they run. Every entry a test writes is deleted
//! when it ends, passed or failed.

use shareguard_secrets::{delete, load, save, SecretKind};

/// Deletes the test router's entries when the test ends, also on a failed
/// assertion, so no test leaves a credential in the user's real store.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for kind in [SecretKind::RouterPassword, SecretKind::RadiusSecret] {
            let _ = delete(kind, &self.0);
        }
    }
}

#[test]
#[cfg_attr(
    all(unix, not(target_os = "macos")),
    ignore = "needs a Secret Service: run through scripts/with-keyring.sh"
)]
fn router_passwords_round_trip_through_the_keyring() {
    let router = format!("test-router-{}", std::process::id());
    let _cleanup = Cleanup(router.clone());
    assert_eq!(load(SecretKind::RouterPassword, &router).unwrap(), None);
    save(
        SecretKind::RouterPassword,
        &router,
        "s3cret with spaces & ünïcode",
    )
    .unwrap();
    save(SecretKind::RadiusSecret, &router, "radius-secret").unwrap();
    assert_eq!(
        load(SecretKind::RouterPassword, &router)
            .unwrap()
            .as_deref(),
        Some("s3cret with spaces & ünïcode")
    );
    assert_eq!(
        load(SecretKind::RadiusSecret, &router).unwrap().as_deref(),
        Some("radius-secret")
    );
    save(SecretKind::RouterPassword, &router, "changed").unwrap();
    assert_eq!(
        load(SecretKind::RouterPassword, &router)
            .unwrap()
            .as_deref(),
        Some("changed")
    );
    delete(SecretKind::RouterPassword, &router).unwrap();
    delete(SecretKind::RouterPassword, &router).unwrap();
    assert_eq!(load(SecretKind::RouterPassword, &router).unwrap(), None);
    assert!(
        load(SecretKind::RadiusSecret, &router).unwrap().is_some(),
        "kinds are separate"
    );
    delete(SecretKind::RadiusSecret, &router).unwrap();
}

#[test]
#[cfg_attr(
    all(unix, not(target_os = "macos")),
    ignore = "needs a Secret Service: run through scripts/with-keyring.sh"
)]
fn empty_passwords_and_nameless_routers_are_refused() {
    assert!(save(SecretKind::RouterPassword, "r", "").is_err());
    assert!(save(SecretKind::RouterPassword, "  ", "x").is_err());
}
