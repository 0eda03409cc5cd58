//! `shareguard results` and `shareguard audit`: reading what was stored.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use shareguard_detect::Level;
use shareguard_store::{AuditFilter, ResultFilter, Store};

use crate::exit::{self, CliResult, Failure};
use crate::table;

#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// Database file (default: the desktop app's database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Only this level and above (normal, low, medium, high, critical).
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Level>,
    /// Only flagged subscribers (medium and above, not whitelisted).
    #[arg(long)]
    pub flagged: bool,
    /// Only subscribers on this router.
    #[arg(long, value_name = "NAME")]
    pub router: Option<String>,
    /// Only subscribers whose name, address or router contains this text.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only subscribers with this reseller/area tag (their own, else their router's).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 200)]
    pub limit: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Delete the stored results (history and audit log are kept). Needs --yes.
    #[arg(long)]
    pub clear: bool,
    /// Confirm --clear.
    #[arg(long)]
    pub yes: bool,
    /// Who clears, for the audit log.
    #[arg(long, default_value = "operator", value_name = "NAME")]
    pub operator: String,
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse()
}

fn open(db: &Option<PathBuf>) -> Result<Store, Failure> {
    crate::open_store(db.as_deref())
}

pub fn results(a: ResultsArgs) -> CliResult {
    let mut store = open(&a.db)?;
    if a.clear {
        if !a.yes {
            return Err(Failure::usage(
                "clearing results cannot be undone: add --yes to confirm",
            ));
        }
        let n = store.clear_results(&a.operator)?;
        if a.json {
            println!("{}", serde_json::json!({ "cleared": n }));
        } else {
            println!(
                "Cleared {}. Scan history and the audit log are kept.",
                shareguard_detect::words::count(n, "stored result")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let filter = ResultFilter {
        min_level: a.level,
        nas: a.router.clone(),
        search: a.search.clone(),
        flagged_only: a.flagged,
        tag: a.tag.clone(),
        limit: Some(a.limit),
        ..Default::default()
    };
    let rows = store.results(&filter)?;
    let total = store.result_count(&ResultFilter {
        limit: None,
        ..filter.clone()
    })?;
    let last = store.last_scan()?;
    if a.json {
        let doc = serde_json::json!({ "last_scan": last, "total": total, "results": rows });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc)
                .map_err(|e| Failure::new(exit::OTHER, e.to_string()))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    match &last {
        Some(s) => println!(
            "Last scan: {} ({}), {} checked, {} flagged.",
            s.started_at.format("%Y-%m-%d %H:%M UTC"),
            s.status.as_str(),
            s.checked,
            s.flagged
        ),
        None => {
            println!("No scan has been stored yet: run `shareguard scan` or `shareguard demo`.")
        }
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = table::result_cells(r);
            cells.insert(2, r.address.clone());
            cells.push(r.scanned_at.format("%Y-%m-%d %H:%M").to_string());
            cells
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "SUBSCRIBER",
                "ROUTER",
                "ADDRESS",
                "CONNS",
                "TTLS",
                "TTL STATUS",
                "LEVEL",
                "ACTION",
                "SCANNED"
            ],
            &cells
        )
    );
    println!(
        "{} of {} shown.",
        shareguard_detect::words::thousands(rows.len() as u64),
        shareguard_detect::words::count(total, "result")
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Database file (default: the desktop app's database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Only entries by this operator.
    #[arg(long)]
    pub operator: Option<String>,
    /// Only this action (scan, flag, whitelist_add, ...).
    #[arg(long)]
    pub action: Option<String>,
    /// Only entries about this subscriber or router.
    #[arg(long)]
    pub subject: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

pub fn audit(a: AuditArgs) -> CliResult {
    let store = open(&a.db)?;
    let entries = store.audit_log(&AuditFilter {
        operator: a.operator,
        action: a.action,
        subject: a.subject,
        since: None,
        until: None,
        limit: Some(a.limit),
    })?;
    table::print_listing(
        a.json,
        &entries,
        &["WHEN (UTC)", "WHO", "ACTION", "SUBJECT", "DETAILS"],
        |e| {
            vec![
                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                e.operator.clone(),
                e.action.clone(),
                e.subject.clone().unwrap_or_default(),
                e.details.to_string(),
            ]
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
