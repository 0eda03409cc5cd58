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
    let (change, a) = match cmd {
        P2pCommand::Show(a) => (None, a),
        P2pCommand::Install(a) => (Some(P2pChange::Install), a),
        P2pCommand::Remove(a) => (Some(P2pChange::Remove), a),
    };
    // A dry run looks and says what would be sent; only a change is
    // recorded, so only a change opens the database.
    let apply = change.filter(|_| !a.dry_run);
    let store = match apply {
        Some(_) => Some(std::sync::Arc::new(std::sync::Mutex::new(
            crate::open_store(a.db.as_deref())?,
        ))),
        None => None,
    };
    let mut docs = Vec::new();
    for target in a.router.targets()? {
        let router = Router {
            target,
            radius: None,
        };
        let name = router.target.name.clone();
        let r = match (apply, &store) {
            (Some(change), Some(store)) => {
                p2p_rules::change(store, &a.operator, &router, change).await
            }
            _ => p2p_rules::look(&router).await,
        }
        .map_err(Failure::from)?;
        let (preview, before, applied, installed) =
            (r.commands, r.installed_before, r.applied, r.installed);
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
        let verb = match (change, applied) {
            (Some(P2pChange::Remove), true) => "removed",
            (Some(_), true) => "sent",
            (Some(_), false) if a.dry_run => "would send (dry run)",
            _ => "install would send",
        };
        if !(change == Some(P2pChange::Remove) && applied) {
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
