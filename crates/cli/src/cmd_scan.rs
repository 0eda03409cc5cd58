//! `shareguard scan` and `shareguard tls-fingerprint`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Args;
use routeros_client::{fetch_fingerprint, format_fingerprint, ConnectOptions};
use shareguard_detect::{DetectionSettings, NasStatus, ScanScope, ScanStatus, SubscriberResult};
use shareguard_engine::scan_and_store;
use shareguard_scan::{run_scan, CancellationToken, ScanOutput, ScanRequest};
use shareguard_store::Store;

use crate::exit::{self, CliResult, Failure};
use crate::router_args::RouterArgs;
use crate::table;

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub router: RouterArgs,
    /// Install or update the TTL probes first where they are missing (writes to the router).
    #[arg(long)]
    pub install_probes: bool,
    /// Scan only this subscriber (PPPoE name or hotspot user).
    #[arg(long, value_name = "NAME")]
    pub subscriber: Option<String>,
    /// Database file (default: the desktop app's database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Do not store anything: print only.
    #[arg(long, conflicts_with = "db")]
    pub no_store: bool,
    /// Print one JSON document {"scan": ..., "results": [...]} instead of tables.
    #[arg(long)]
    pub json: bool,
    /// List every checked subscriber, not only flagged ones.
    #[arg(long)]
    pub all: bool,
    /// Who is scanning, for the audit log.
    #[arg(long, default_value = "operator", value_name = "NAME")]
    pub operator: String,
    /// Connections for the watch list (default from the database, else 300).
    #[arg(long, value_name = "N")]
    pub connections_low: Option<u32>,
    /// Connections to flag for review (default 500).
    #[arg(long, value_name = "N")]
    pub connections_medium: Option<u32>,
    /// Connections meaning sharing (default 800).
    #[arg(long, value_name = "N")]
    pub connections_high: Option<u32>,
    /// TTL drop (hops below the OS default on PPPoE) meaning a second router (default 2).
    #[arg(long, value_name = "N")]
    pub ttl_threshold: Option<u8>,
}

impl ScanArgs {
    fn settings(&self, base: DetectionSettings) -> Result<DetectionSettings, Failure> {
        let mut s = base;
        if let Some(v) = self.connections_low {
            s.connections_low = v;
        }
        if let Some(v) = self.connections_medium {
            s.connections_medium = v;
        }
        if let Some(v) = self.connections_high {
            s.connections_high = v;
        }
        if let Some(v) = self.ttl_threshold {
            s.ttl_threshold = v;
        }
        s.validate().map_err(Failure::usage)?;
        Ok(s)
    }
}

pub async fn run(a: ScanArgs) -> CliResult {
    let targets = a.router.targets()?;
    let store = if a.no_store {
        None
    } else {
        let path = a.db.clone().unwrap_or_else(crate::default_db);
        Some(Store::open(&path)?)
    };
    let base = match &store {
        Some(s) => s.detection_settings()?,
        None => DetectionSettings::default(),
    };
    let settings = a.settings(base)?;
    let scope = match &a.subscriber {
        Some(s) => ScanScope::Subscriber(s.clone()),
        None => ScanScope::All,
    };
    let req = ScanRequest {
        targets,
        scope,
        settings,
        whitelist: Default::default(),
        lines: Default::default(),
        operator: a.operator.clone(),
        install_probes: a.install_probes,
    };
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let out = match store {
        Some(s) => scan_and_store(Arc::new(Mutex::new(s)), req, cancel, None).await?,
        None => run_scan(req, cancel, None).await,
    };
    if a.json {
        print_json(&out)?;
    } else {
        print_human(&out, a.all);
    }
    Ok(ExitCode::from(scan_exit_code(&out)))
}

fn print_json(out: &ScanOutput) -> Result<(), Failure> {
    let doc = serde_json::json!({ "scan": out.summary, "results": out.results });
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Failure::new(exit::OTHER, format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// The exit code of a scan: 0 when every router answered; otherwise the
/// class of the failure, or `MIXED` when routers failed for different reasons.
pub fn scan_exit_code(out: &ScanOutput) -> u8 {
    if out.summary.status == ScanStatus::Cancelled {
        return exit::CANCELLED;
    }
    let mut codes: Vec<u8> = out
        .summary
        .nas
        .iter()
        .filter(|n| n.status != NasStatus::Ok)
        .map(|n| exit::for_kind(n.error_kind.as_deref().unwrap_or("")))
        .collect();
    codes.sort();
    codes.dedup();
    match codes.as_slice() {
        [] => exit::OK,
        [one] => *one,
        _ => exit::MIXED,
    }
}

pub fn print_human(out: &ScanOutput, all: bool) {
    let s = &out.summary;
    println!(
        "Scan of {} {} at {} by {}: {} checked, {} flagged.",
        s.scope,
        s.status.as_str(),
        s.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        s.operator,
        shareguard_detect::words::count(u64::from(s.checked), "subscriber"),
        shareguard_detect::words::thousands(u64::from(s.flagged))
    );
    println!();
    let rows: Vec<Vec<String>> = s
        .nas
        .iter()
        .map(|n| {
            vec![
                n.nas.clone(),
                n.status.as_str().into(),
                n.sessions.to_string(),
                n.connections.to_string(),
                n.probe_strategy
                    .map(|p| p.as_str())
                    .unwrap_or("none")
                    .into(),
                router_time(n.duration_ms),
                n.rows_per_second
                    .map(|r| format!("{:.0}/s", r))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "ROUTER",
                "STATUS",
                "SESSIONS",
                "CONNECTIONS",
                "PROBES",
                "TIME",
                "ROWS/S"
            ],
            &rows
        )
    );
    for n in &s.nas {
        if let Some(e) = &n.error {
            println!("  {}: {e}", n.nas);
        }
        for w in &n.warnings {
            println!("  {}: warning: {w}", n.nas);
        }
    }
    let shown: Vec<_> = out
        .results
        .iter()
        .filter(|r| all || r.is_flagged())
        .collect();
    println!();
    if shown.is_empty() {
        println!(
            "{}",
            if all {
                "No subscribers were checked."
            } else {
                "No subscriber is flagged."
            }
        );
        return;
    }
    let mut shown = shown;
    shown.sort_by(|a, b| SubscriberResult::most_suspicious_first(a, b));
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|r| {
            let mut cells = table::result_cells(r);
            cells.push(r.reasons.first().cloned().unwrap_or_default());
            cells
        })
        .collect();
    print!(
        "{}",
        table::render(&[&table::RESULT_HEADERS[..], &["WHY"]].concat(), &rows)
    );
}

#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// The router's api-ssl address, HOST or HOST:PORT (default port 8729).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub router: String,
    /// Seconds to wait for the router.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

pub async fn fingerprint(a: FingerprintArgs) -> CliResult {
    let (host, port) =
        ConnectOptions::parse_router(&a.router, true).map_err(|e| Failure::usage(e.to_string()))?;
    let timeout = crate::router_args::seconds("timeout", a.timeout)?;
    let fp = fetch_fingerprint(&host, port, timeout).await?;
    println!("{}", format_fingerprint(&fp));
    eprintln!(
        "Compare this with the router's own display (/certificate print detail, fingerprint) before trusting it; then pass it as --tls-fingerprint."
    );
    Ok(ExitCode::SUCCESS)
}

/// A router's scan time for the table: milliseconds under a second (a
/// small router answers in a few, which `0.0s` would hide), else seconds.
fn router_time(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::router_time;

    #[test]
    fn router_times_read_at_any_size() {
        assert_eq!(router_time(0), "0 ms");
        assert_eq!(router_time(38), "38 ms");
        assert_eq!(router_time(999), "999 ms");
        assert_eq!(router_time(1250), "1.2 s");
        assert_eq!(router_time(61_000), "61.0 s");
    }
}
