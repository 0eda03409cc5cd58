//! `shareguard p2p-rules show|install|remove`: the router-side P2P
//! classification the abuse monitor reads, previewed before it is sent.

use std::process::ExitCode;

use clap::Subcommand;
use shareguard_engine::p2p_rules;
use shareguard_engine::router::Router;
use shareguard_store::AuditEntry;

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
        let preview = p2p_rules::preview(&router).await.map_err(Failure::from)?;
        let before = p2p_rules::state(&router).await.map_err(Failure::from)?;
        let applied = match action {
            Some(_) if a.dry_run => false,
            Some("p2p_rules_removed") => {
                p2p_rules::remove(&router).await.map_err(Failure::from)? > 0
            }
            Some(_) => {
                p2p_rules::install(&router).await.map_err(Failure::from)?;
                true
            }
            None => false,
        };
        if let (Some(what), true) = (action, applied) {
            let mut store = crate::open_store(a.db.as_deref())?;
            store.audit(
                &AuditEntry::new(&a.operator, what)
                    .subject(&name)
                    .details(serde_json::json!({ "commands": preview })),
            )?;
        }
        let after = p2p_rules::state(&router).await.map_err(Failure::from)?;
        if a.json {
            docs.push(serde_json::json!({
                "router": name,
                "installed_before": before.installed(),
                "installed": after.installed(),
                "applied": applied,
                "commands": preview,
            }));
            continue;
        }
        println!("Router {name}:");
        println!(
            "  P2P classification {}.",
            if after.installed() {
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
