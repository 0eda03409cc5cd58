//! Against a real Secret Service (gnome-keyring in a private D-Bus session,
//! started by scripts/with-keyring.sh); ignored in a plain `cargo test`,
//! where no such service exists.

use shareguard_secrets::{delete, load, save, SecretKind};

#[test]
#[ignore = "needs a Secret Service: run through scripts/with-keyring.sh"]
fn router_passwords_round_trip_through_the_keyring() {
    let router = format!("test-router-{}", std::process::id());
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
#[ignore = "needs a Secret Service: run through scripts/with-keyring.sh"]
fn empty_passwords_and_nameless_routers_are_refused() {
    assert!(save(SecretKind::RouterPassword, "r", "").is_err());
    assert!(save(SecretKind::RouterPassword, "  ", "x").is_err());
}
