//! `shareguard disconnect`: ends a subscriber's session through the same
//! path as the desktop app (RADIUS Disconnect-Request when a secret is
//! given, else the API) and records it in the database.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Args;
use radius_dac::{DacClient, DEFAULT_PORT};
use shareguard_engine::sharing_actions::{disconnect_and_record, DisconnectError, Router};
use shareguard_store::Store;

use crate::exit::{self, CliResult, Failure};
use crate::router_args::RouterArgs;

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    #[command(flatten)]
    pub router: RouterArgs,
    /// The subscriber's login name (PPP name or hotspot user).
    #[arg(long, value_name = "NAME")]
    pub subscriber: String,
    /// Name of the environment variable holding the RADIUS shared secret; with it the session is ended by a RADIUS Disconnect-Request.
    #[arg(long, value_name = "VAR")]
    pub radius_secret_env: Option<String>,
    /// The router's RADIUS dynamic-authorization port (/radius incoming).
    #[arg(long, default_value_t = DEFAULT_PORT, value_name = "P")]
    pub coa_port: u16,
    /// Why, for the audit log.
    #[arg(long, default_value = "disconnected from the command line")]
    pub reason: String,
    /// Look the session up and say what would be done, without ending it.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Database for the action and the audit log (default: the desktop app's database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Who acts, for the audit log.
    #[arg(long, default_value = "operator", value_name = "NAME")]
    pub operator: String,
}

impl From<DisconnectError> for Failure {
    fn from(e: DisconnectError) -> Self {
        let code = match e.kind() {
            "not_online" | "whitelisted" | "refused" => exit::REFUSED,
            "storage" => exit::STORAGE,
            "no_secret" | "too_few_identifiers" => exit::USAGE,
            "no_answer" => exit::TIMEOUT,
            "resolve" => exit::UNREACHABLE,
            k => exit::for_kind(k),
        };
        Failure::new(code, e.to_string())
    }
}

pub async fn disconnect(a: DisconnectArgs) -> CliResult {
    let mut targets = a.router.targets()?;
    if targets.len() != 1 {
        return Err(Failure::usage(
            "name exactly one --router: the one the subscriber is on",
        ));
    }
    let target = targets.remove(0);
    if a.coa_port == 0 {
        return Err(Failure::usage(
            "--coa-port must be 1 to 65535 (3799 on RouterOS)",
        ));
    }
    let radius = match &a.radius_secret_env {
        None => None,
        Some(var) => {
            let secret = std::env::var(var).map_err(|_| {
                Failure::usage(format!(
                    "the environment variable {var} is not set: export {var}='...' with the secret from /radius on the router"
                ))
            })?;
            Some(
                DacClient::resolve(&target.connect.host, a.coa_port, secret)
                    .await
                    .map_err(|e| Failure::new(exit::UNREACHABLE, e.to_string()))?,
            )
        }
    };
    let store = Arc::new(Mutex::new(Store::open(
        a.db.clone().unwrap_or_else(crate::default_db),
    )?));
    let router = Router { target, radius };
    let report = disconnect_and_record(
        &store,
        &router,
        &a.subscriber,
        &a.operator,
        &a.reason,
        a.dry_run,
    )
    .await?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report)
                .map_err(|e| Failure::new(exit::OTHER, e.to_string()))?
        );
    } else {
        let how = match (report.method, report.radius_tries) {
            (shareguard_store::ActionMethod::Radius, Some(n)) => {
                format!(
                    "RADIUS Disconnect-Request ({n} {})",
                    if n == 1 { "try" } else { "tries" }
                )
            }
            _ => "the API".into(),
        };
        let address = report
            .session
            .address
            .map(|a| a.to_string())
            .unwrap_or_else(|| "no address".into());
        if report.dry_run {
            println!(
                "dry run: {} is online on {} ({address}); would disconnect through {how}",
                report.subscriber, report.nas
            );
        } else {
            println!(
                "{} disconnected on {} ({address}) through {how} in {:.0} ms",
                report.subscriber, report.nas, report.elapsed_ms
            );
        }
        if let Some(note) = &report.note {
            println!("note: {note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
