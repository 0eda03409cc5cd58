//! `shareguard p2p-rules show|install|remove`: the router-side P2P
//! classification the abuse monitor reads, previewed before it is sent.

use std::process::ExitCode;

use clap::Subcommand;
use shareguard_engine::p2p_rules::{self, P2pChange};
use shareguard_engine::router::Router;

use crate::cmd_probes::ProbeArgs;
use crate::exit::{CliResult, Failure};

#[derive(Debug, Subcommand)]
pub enum P2pCommand {
    /// Show whether the P2P rule is installed and what `install` would send.
    Show(ProbeArgs),
    /// Install (or replace) the layer-7 protocol and the mangle rule.
    Install(ProbeArgs),
    /// Remove them (and nothing else).
    Remove(ProbeArgs),
}

pub async fn run(cmd: P2pCommand) -> CliResult {
    let (action, a) = match cmd {
        P2pCommand::Show(a) => (None, a),
        P2pCommand::Install(a) => (Some("p2p_rules_installed"), a),
        P2pCommand::Remove(a) => (Some("p2p_rules_removed"), a),
    };
    let mut docs = Vec::new();
    for target in a.router.targets()? {
        let router = Router {
            target,
            radius: None,
        };
        let name = router.target.name.clone();
        let change = match action {
            Some(_) if a.dry_run => None,
            Some("p2p_rules_removed") => Some(P2pChange::Remove),
            Some(_) => Some(P2pChange::Install),
            None => None,
        };
        let (preview, before, applied, installed) = match change {
            Some(change) => {
                let store =
                    std::sync::Arc::new(std::sync::Mutex::new(crate::open_store(a.db.as_deref())?));
                let r = p2p_rules::change(&store, &a.operator, &router, change)
                    .await
                    .map_err(Failure::from)?;
                (r.commands, r.installed_before, r.applied, r.installed)
            }
            None => {
                let preview = p2p_rules::preview(&router).await.map_err(Failure::from)?;
                let now = p2p_rules::state(&router)
                    .await
                    .map_err(Failure::from)?
                    .installed();
                (preview, now, false, now)
            }
        };
        if a.json {
            docs.push(serde_json::json!({
                "router": name,
                "installed_before": before,
                "installed": installed,
                "applied": applied,
                "commands": preview,
            }));
            continue;
        }
        println!("Router {name}:");
        println!(
            "  P2P classification {}.",
            if installed {
                "installed"
            } else {
                "not installed"
            }
        );
        let verb = match (action, applied) {
            (Some("p2p_rules_removed"), true) => "removed",
            (Some(_), true) => "sent",
            (Some(_), false) if a.dry_run => "would send (dry run)",
            _ => "install would send",
        };
        if !(action == Some("p2p_rules_removed") && applied) {
            println!("  {verb}:");
            for line in &preview {
                println!("    {line}");
            }
        }
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&docs).unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
