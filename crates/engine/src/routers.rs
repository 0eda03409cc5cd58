//! Stored router definitions turned into scan targets. The record holds
//! everything but the password, which the caller brings from the keyring.

use std::time::Duration;

use routeros_client::{parse_fingerprint, Client, ConnectOptions, TlsMode};
use shareguard_scan::{probes, NasTarget, StrategyChoice};
use shareguard_store::NasRecord;

/// Whether an edit points a saved router at another router or login: a
/// different host, port, user or TLS setting. Its stored password and
/// RADIUS secret must not follow such an edit (they would be sent to a host
/// they were never meant for), so the form asks for them again.
pub fn connection_changed(old: &NasRecord, new: &NasRecord) -> bool {
    !old.host.trim().eq_ignore_ascii_case(new.host.trim())
        || old.port != new.port
        || old.username != new.username
        || old.tls != new.tls
        || old.tls_fingerprint != new.tls_fingerprint
}

/// Checks a router definition the owner entered; the message names the field.
pub fn validate(rec: &NasRecord) -> Result<(), String> {
    let name = rec.name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err("give the router a name of 1 to 64 characters".into());
    }
    ConnectOptions::parse_router(&rec.host, rec.tls).map_err(|e| e.to_string())?;
    if rec.host.contains(':') && !rec.host.starts_with('[') && rec.host.matches(':').count() == 1 {
        return Err("put the port in the port field, not after the address".into());
    }
    if rec.port == 0 {
        return Err("the API port must be 1 to 65535 (8728 for api, 8729 for api-ssl)".into());
    }
    if rec.radius_port == Some(0) {
        return Err(
            "the RADIUS port must be 1 to 65535 (3799 on RouterOS: /radius incoming)".into(),
        );
    }
    if rec.username.trim().is_empty() {
        return Err("give the API user name".into());
    }
    if rec.expected_hops > 8 {
        return Err("the expected hop count is usually 1 (PPPoE) or 0 (hotspot); at most 8".into());
    }
    if let Some(fp) = &rec.tls_fingerprint {
        parse_fingerprint(fp)?;
    }
    if let Some(tag) = &rec.tag {
        shareguard_store::tags::check_tag(tag).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The scan target for a stored router.
pub fn target(rec: &NasRecord, password: String) -> Result<NasTarget, String> {
    validate(rec)?;
    let mut connect = ConnectOptions::new(rec.host.trim(), rec.port, rec.username.trim(), password);
    connect.tls = match (&rec.tls_fingerprint, rec.tls) {
        (Some(fp), _) => Some(TlsMode::Pinned(parse_fingerprint(fp)?)),
        (None, true) => Some(TlsMode::Verify { extra_ca_pem: None }),
        (None, false) => None,
    };
    let mut t = NasTarget::new(rec.name.trim(), connect, rec.access);
    t.expected_hops = rec.expected_hops;
    t.strategy = rec
        .probe_strategy
        .map_or(StrategyChoice::Auto, StrategyChoice::Fixed);
    t.probe_interface = rec.probe_interface.clone();
    Ok(t)
}

/// What "Test connection" shows: the router answered, and what it runs.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConnectionCheck {
    pub version: String,
    pub board: String,
    pub identity: String,
    pub probes_installed: usize,
    pub warnings: Vec<String>,
}

/// Logs in and reads the router's version and probe state, within `timeout`.
pub async fn check_connection(
    t: &NasTarget,
    timeout: Duration,
) -> Result<ConnectionCheck, routeros_client::Error> {
    let run = async {
        let mut c = Client::connect(&t.connect).await?;
        let res = c
            .run(
                routeros_client::Command::new("/system/resource/print")
                    .proplist(&["version", "board-name"]),
            )
            .await?;
        let ident = c
            .run(routeros_client::Command::new("/system/identity/print"))
            .await?;
        let state = probes::inspect(&mut c, t.access).await?;
        let get = |rows: &[routeros_client::Reply], k: &str| {
            rows.first()
                .and_then(|r| r.get_str(k).map(|s| s.into_owned()))
                .unwrap_or_default()
        };
        Ok(ConnectionCheck {
            version: get(&res, "version"),
            board: get(&res, "board-name"),
            identity: get(&ident, "name"),
            probes_installed: state.rules.len(),
            warnings: state.warnings(),
        })
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(routeros_client::Error::ReadTimeout {
            addr: t.address(),
            after: timeout,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shareguard_detect::Access;

    #[test]
    fn pointing_a_router_elsewhere_is_a_connection_change() {
        let old = NasRecord::new("Main NAS", "192.0.2.1", "admin", Access::Pppoe);
        let same = NasRecord {
            host: " 192.0.2.1 ".into(),
            tag: Some("north".into()),
            expected_hops: 2,
            ..old.clone()
        };
        assert!(
            !connection_changed(&old, &same),
            "a tag or hop count is not"
        );
        for moved in [
            NasRecord {
                host: "198.51.100.7".into(),
                ..old.clone()
            },
            NasRecord {
                port: 8729,
                ..old.clone()
            },
            NasRecord {
                username: "other".into(),
                ..old.clone()
            },
            NasRecord {
                tls: true,
                ..old.clone()
            },
            NasRecord {
                tls_fingerprint: Some("ab".repeat(32)),
                ..old.clone()
            },
        ] {
            assert!(connection_changed(&old, &moved), "{moved:?}");
        }
    }

    #[test]
    fn router_records_are_checked_field_by_field() {
        let ok = NasRecord::new("Main NAS", "192.0.2.1", "admin", Access::Pppoe);
        assert!(validate(&ok).is_ok());
        let t = target(&ok, "pw".into()).unwrap();
        assert_eq!(t.address(), "192.0.2.1:8728");
        assert_eq!(t.expected_hops, 1);
        for (bad, hint) in [
            (
                NasRecord {
                    name: "".into(),
                    ..ok.clone()
                },
                "name",
            ),
            (
                NasRecord {
                    host: "a b".into(),
                    ..ok.clone()
                },
                "HOST",
            ),
            (
                NasRecord {
                    host: "192.0.2.1:8728".into(),
                    ..ok.clone()
                },
                "port field",
            ),
            (
                NasRecord {
                    port: 0,
                    ..ok.clone()
                },
                "port",
            ),
            (
                NasRecord {
                    radius_port: Some(0),
                    ..ok.clone()
                },
                "RADIUS port",
            ),
            (
                NasRecord {
                    username: " ".into(),
                    ..ok.clone()
                },
                "user",
            ),
            (
                NasRecord {
                    tls_fingerprint: Some("abc".into()),
                    ..ok.clone()
                },
                "64 hexadecimal",
            ),
            (
                NasRecord {
                    tag: Some("x".repeat(65)),
                    ..ok.clone()
                },
                "1 to 64 characters",
            ),
        ] {
            let e = validate(&bad).unwrap_err();
            assert!(e.contains(hint), "{e}");
        }
    }
}
