//! The window is written against `ui/src/bindings.ts`, generated from the
//! Rust types of every command. A renamed field or command, a changed type or
//! a new command that was not regenerated fails here, not in the window.
//! `UPDATE_CONTRACT=1 cargo test -p shareguard-app --test contract` writes it.

use std::path::Path;

#[test]
fn the_windows_typescript_contract_matches_the_rust_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let generated = shareguard_app::typescript_contract();
    if std::env::var_os("UPDATE_CONTRACT").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "ui/src/bindings.ts is not what the Rust types say: run `UPDATE_CONTRACT=1 cargo test -p shareguard-app --test contract`, then fix the window's use of what changed (npm run build type-checks it)"
    );
}

/// serde's snake case leaves digits alone (`P2p` → "p2p"), the generator's
/// splits them ("p_2p"), so such a variant needs an explicit
/// `#[serde(rename)]`; without it the window would compare with a value
/// the backend never sends.
#[test]
fn no_generated_literal_splits_a_word_before_a_digit() {
    let generated = shareguard_app::typescript_contract();
    let split: Vec<&str> = generated
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|lit| {
            let b = lit.as_bytes();
            b.windows(3)
                .any(|w| w[0].is_ascii_lowercase() && w[1] == b'_' && w[2].is_ascii_digit())
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        })
        .collect();
    assert!(
        split.is_empty(),
        "rename these variants explicitly: {split:?}"
    );
}
