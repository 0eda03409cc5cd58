//! `shareguard probes show|install|remove`: every change is previewed as the
//! exact RouterOS commands before it is sent.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use shareguard_engine::probe_ops::{self, ProbeAction};
use shareguard_scan::probes::{ProbePlan, ProbeState};
use shareguard_scan::NasTarget;

use crate::exit::{CliResult, Failure};
use crate::router_args::RouterArgs;

#[derive(Debug, Subcommand)]
pub enum ProbesCommand {
    /// Show the probes in force and what `install` would send.
    Show(ProbeArgs),
    /// Install or update the probes (idempotent).
    Install(ProbeArgs),
    /// Remove the probes (and nothing else).
    Remove(ProbeArgs),
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub router: RouterArgs,
    /// Print the commands without sending them.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Database for the audit log (default: the desktop app's database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Who makes the change, for the audit log.
    #[arg(long, default_value = "operator", value_name = "NAME")]
    pub operator: String,
}

enum Mode {
    Show,
    Install,
    Remove,
}

pub async fn run(cmd: ProbesCommand) -> CliResult {
    let (mode, a) = match cmd {
        ProbesCommand::Show(a) => (Mode::Show, a),
        ProbesCommand::Install(a) => (Mode::Install, a),
        ProbesCommand::Remove(a) => (Mode::Remove, a),
    };
    let targets = a.router.targets()?;
    let apply = !matches!(mode, Mode::Show) && !a.dry_run;
    // Changes are recorded in the database; looking needs none.
    let store = if apply {
        Some(std::sync::Arc::new(std::sync::Mutex::new(
            crate::open_store(a.db.as_deref())?,
        )))
    } else {
        None
    };
    let mut docs = Vec::new();
    for t in &targets {
        let action = match mode {
            Mode::Remove => ProbeAction::Remove,
            _ => ProbeAction::Install,
        };
        let r = match &store {
            Some(store) => probe_ops::change_probes(store, &a.operator, t, action).await,
            None => probe_ops::probes(t, action, false).await,
        }
        .map_err(|e| Failure::new(crate::exit::for_error(e.kind()), e.to_string()))?;
        let (state, plan, applied) = (r.state, r.plan, r.applied);
        if a.json {
            docs.push(serde_json::json!({
                "router": t.name,
                "installed": state.rules.len(),
                "strategy": state.strategy(),
                "installed_at": state.installed_at(),
                "warnings": state.warnings(),
                "plan": plan,
                "applied": applied,
            }));
        } else {
            print_human(t, &state, &plan, &mode, applied, a.dry_run);
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

fn print_human(
    t: &NasTarget,
    state: &ProbeState,
    plan: &ProbePlan,
    mode: &Mode,
    applied: bool,
    dry_run: bool,
) {
    println!("Router {}:", t.name);
    match (state.strategy(), state.installed_at()) {
        (Some(s), at) => println!(
            "  {} in force, strategy {}{}.",
            shareguard_detect::words::count(state.rules.len() as u64, "probe rule"),
            s.as_str(),
            at.map(|a| format!(", installed {}", a.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default()
        ),
        (None, _) if !state.rules.is_empty() => {
            println!(
                "  {}, all disabled.",
                shareguard_detect::words::count(state.rules.len() as u64, "probe rule")
            )
        }
        (None, _) => println!("  No probe rules installed."),
    }
    for w in state.warnings() {
        if !(applied && w.starts_with("No TTL probes")) {
            println!("  warning: {w}");
        }
    }
    for n in &plan.notes {
        println!("  {n}");
    }
    if plan.is_noop() {
        return;
    }
    let verb = match (mode, applied, dry_run) {
        (_, true, _) => "Sent",
        (Mode::Show, ..) => "`shareguard probes install` would send",
        _ => "Would send (dry run)",
    };
    println!("  {verb}:");
    for line in plan.preview() {
        println!("    {line}");
    }
}
