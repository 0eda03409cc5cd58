//! The flags that say how to reach routers, shared by every command that talks to one.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use routeros_client::{parse_fingerprint, ConnectOptions, TlsMode};
use shareguard_detect::Access;
use shareguard_scan::{NasTarget, StrategyChoice};

use crate::exit::Failure;

#[derive(Debug, Clone, Args)]
pub struct RouterArgs {
    /// Router to talk to, as HOST or HOST:PORT (repeat for several; they are scanned in parallel).
    #[arg(long = "router", value_name = "HOST[:PORT]", required = true)]
    pub routers: Vec<String>,
    /// API user name.
    #[arg(long, default_value = "admin")]
    pub user: String,
    /// Name of the environment variable holding the password (never pass a password on the command line).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Use api-ssl (default port 8729) instead of plain api (8728).
    #[arg(long)]
    pub tls: bool,
    /// Trust exactly this certificate (SHA-256, e.g. from `shareguard tls-fingerprint`); implies --tls.
    #[arg(long, value_name = "SHA256")]
    pub tls_fingerprint: Option<String>,
    /// Trust certificates issued by this CA (PEM) as well as the system's; implies --tls.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// How subscribers reach these routers.
    #[arg(long, default_value = "pppoe", value_parser = parse_access)]
    pub access: Access,
    /// Hops between a legitimate device and the router (default: 1 for pppoe, 0 for hotspot).
    #[arg(long, value_name = "N")]
    pub expected_hops: Option<u8>,
    /// Seconds to wait for a connection to open.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub connect_timeout: f64,
    /// Seconds a router may stay silent in the middle of a reply.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub read_timeout: f64,
    /// Seconds a router gets to log in and send its small tables; in a scan
    /// or a monitor cycle it earns one more second for every 2000 rows of
    /// its connection table (at most 30 minutes), so only a router slower
    /// than any working one is given up. The whole time an action may take.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub budget: f64,
    /// TTL probe strategy when installing: auto, address-list or connection-mark.
    #[arg(long, default_value = "auto", value_parser = parse_strategy)]
    pub strategy: StrategyChoice,
    /// Subscriber-facing interface(s) the probes are limited to; `list:NAME` names an interface list (default: list:dynamic, the PPPoE sessions without the router's own PPP uplinks, or the hotspot's interface).
    #[arg(long, value_name = "IFACE[,IFACE]")]
    pub interface: Option<String>,
}

/// How to reach routers' RADIUS dynamic-authorization service.
#[derive(Debug, Clone, Args)]
pub struct RadiusArgs {
    /// Name of the environment variable holding the RADIUS shared secret; with it sessions are ended or re-rated by RADIUS Disconnect- and CoA-Requests instead of through the API.
    #[arg(long, value_name = "VAR")]
    pub radius_secret_env: Option<String>,
    /// The routers' RADIUS dynamic-authorization port (/radius incoming).
    #[arg(long, default_value_t = radius_dac::DEFAULT_PORT, value_name = "P")]
    pub coa_port: u16,
}

impl RadiusArgs {
    /// A RADIUS client for the router at `host`, when a secret was named.
    pub async fn client(&self, host: &str) -> Result<Option<radius_dac::DacClient>, Failure> {
        if self.coa_port == 0 {
            return Err(Failure::usage(
                "--coa-port must be 1 to 65535 (3799 on RouterOS)",
            ));
        }
        let Some(var) = &self.radius_secret_env else {
            return Ok(None);
        };
        let secret = secret_from_env(var, "with the secret from /radius on the router")?;
        radius_dac::DacClient::resolve(host, self.coa_port, secret)
            .await
            .map(Some)
            .map_err(|e| Failure::new(crate::exit::UNREACHABLE, e.to_string()))
    }
}

/// A secret from the environment variable `var`; unset and empty are both
/// refused (an empty value is nearly always a typo in the export, and a
/// router would only answer with a confusing login failure). `how` ends
/// the advice: `export VAR='...' {how}`.
pub fn secret_from_env(var: &str, how: &str) -> Result<String, Failure> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(Failure::usage(format!(
            "the environment variable {var} is empty: export {var}='...' {how}"
        ))),
        Err(_) => Err(Failure::usage(format!(
            "the environment variable {var} is not set: export {var}='...' {how}"
        ))),
    }
}

fn parse_access(s: &str) -> Result<Access, String> {
    s.parse()
}

fn parse_strategy(s: &str) -> Result<StrategyChoice, String> {
    s.parse()
}

/// A positive number of seconds from flag `--name`, at most an hour.
pub fn seconds(name: &str, v: f64) -> Result<Duration, Failure> {
    if v.is_finite() && v > 0.0 && v <= 3600.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(Failure::usage(format!(
            "--{name} must be a number of seconds between 0 and 3600 (got {v})"
        )))
    }
}

impl RouterArgs {
    /// The password from the named environment variable.
    pub fn password(&self) -> Result<String, Failure> {
        match &self.password_env {
            None => Err(Failure::usage(
                "no password given: put it in an environment variable and name it with --password-env VAR (it is never read from the command line, where other users could see it)",
            )),
            Some(var) => secret_from_env(
                var,
                "before running, or name another variable with --password-env",
            ),
        }
    }

    fn tls_mode(&self) -> Result<Option<TlsMode>, Failure> {
        if let Some(fp) = &self.tls_fingerprint {
            return Ok(Some(TlsMode::Pinned(
                parse_fingerprint(fp).map_err(Failure::usage)?,
            )));
        }
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                Failure::usage(format!("cannot read the CA file {}: {e}", path.display()))
            })?;
            return Ok(Some(TlsMode::Verify {
                extra_ca_pem: Some(pem),
            }));
        }
        Ok(self.tls.then_some(TlsMode::Verify { extra_ca_pem: None }))
    }

    /// One scan target per `--router`, validated before anything is sent.
    pub fn targets(&self) -> Result<Vec<NasTarget>, Failure> {
        let password = self.password()?;
        let tls = self.tls_mode()?;
        let connect_timeout = seconds("connect-timeout", self.connect_timeout)?;
        let read_timeout = seconds("read-timeout", self.read_timeout)?;
        let budget = seconds("budget", self.budget)?;
        let mut out = Vec::new();
        for spec in &self.routers {
            let (host, port) = ConnectOptions::parse_router(spec, tls.is_some())
                .map_err(|e| Failure::usage(e.to_string()))?;
            let mut connect = ConnectOptions::new(host, port, self.user.clone(), password.clone());
            connect.tls = tls.clone();
            connect.connect_timeout = connect_timeout;
            connect.read_timeout = read_timeout;
            let mut t = NasTarget::new(String::new(), connect, self.access);
            t.name = t.address();
            if let Some(h) = self.expected_hops {
                t.expected_hops = h;
            }
            t.strategy = self.strategy;
            t.probe_interface = self.interface.clone();
            t.budget = budget;
            out.push(t);
        }
        Ok(out)
    }
}
