//! `shareguard monitor`: the abuse monitor without the desktop app. Reads
//! its settings from the database (the ones the app's Abuse screen edits),
//! runs a cycle every interval (or once), and prints what it found and did.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use shareguard_engine::monitor::{CycleReport, Monitor, MonitorSettings, MONITOR_KEY};
use shareguard_engine::router::Router;

use crate::exit::{self, CliResult, Failure};
use crate::router_args::{RadiusArgs, RouterArgs};

#[derive(Debug, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub router: RouterArgs,
    #[command(flatten)]
    pub radius: RadiusArgs,
    /// Run one cycle and exit. The new-connection rate needs two snapshots, so
    /// a single cycle reads the tables twice, --interval apart (at most 5 s).
    #[arg(long)]
    pub once: bool,
    /// Seconds between cycles (default: the stored setting, 60).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<u32>,
    /// Record what automatic actions would do without doing them.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object per cycle.
    #[arg(long)]
    pub json: bool,
    /// Database for warnings, actions and settings (default: the desktop app's database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

pub async fn run(a: MonitorArgs) -> CliResult {
    let store = Arc::new(Mutex::new(crate::open_store(a.db.as_deref())?));
    let mut settings: MonitorSettings = store
        .lock()
        .map_err(|_| Failure::new(exit::OTHER, "the database lock was poisoned"))?
        .get_setting(MONITOR_KEY)?
        .unwrap_or_default();
    if let Some(i) = a.interval {
        settings.interval_s = i;
    }
    settings.dry_run |= a.dry_run;
    settings.validate().map_err(Failure::usage)?;
    let routers = routers(&a).await?;
    let mut monitor = Monitor::new();
    let interval = Duration::from_secs(u64::from(settings.interval_s));
    if a.once {
        // A first read to compare with, so the burst detector has a rate.
        monitor.cycle(&store, &routers, &settings).await?;
        tokio::time::sleep(interval.min(Duration::from_secs(5))).await;
        let report = monitor.cycle(&store, &routers, &settings).await?;
        print(&report, a.json)?;
        return Ok(exit_code(&report));
    }
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
            _ = tick.tick() => {
                let report = monitor.cycle(&store, &routers, &settings).await?;
                print(&report, a.json)?;
            }
        }
    }
}

async fn routers(a: &MonitorArgs) -> Result<Vec<Router>, Failure> {
    let mut out = Vec::new();
    for target in a.router.targets()? {
        let radius = a.radius.client(&target.connect.host).await?;
        out.push(Router { target, radius });
    }
    Ok(out)
}

/// Failure only when no router could be read at all.
fn exit_code(r: &CycleReport) -> ExitCode {
    if !r.routers.is_empty() && r.routers.iter().all(|x| !x.ok) {
        let kind = r.routers[0].error_kind.as_deref().unwrap_or("other");
        return ExitCode::from(exit::for_kind(kind));
    }
    ExitCode::SUCCESS
}

fn print(r: &CycleReport, json: bool) -> Result<(), Failure> {
    if json {
        println!(
            "{}",
            serde_json::to_string(r).map_err(|e| Failure::new(exit::OTHER, e.to_string()))?
        );
        return Ok(());
    }
    let opened = r.opened().count();
    println!(
        "{}  {} routers, {} subscribers online, {} warnings ({} new), {} actions, {} ms",
        r.at.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S"),
        r.routers.len(),
        r.subscribers,
        r.warnings.len(),
        opened,
        r.actions.len(),
        r.elapsed_ms
    );
    // Routers are read at once: the slowest sets the pace of the cycle.
    if let Some(s) = r.slowest().filter(|_| r.routers.len() > 1) {
        println!(
            "  slowest router: {} ({} ms, {} table rows)",
            s.nas, s.elapsed_ms, s.table_rows
        );
    }
    for x in r.routers.iter().filter(|x| !x.ok) {
        println!(
            "  router {}: {}",
            x.nas,
            x.error.as_deref().unwrap_or("failed")
        );
    }
    for w in r.opened() {
        println!(
            "  new {:<8} {:<22} {} on {}: {}",
            w.severity.as_str(),
            w.kind.label(),
            w.subscriber,
            w.nas,
            w.details
        );
    }
    for x in &r.actions {
        println!("  {:<11} {}: {}", x.outcome, x.subscriber, x.note);
    }
    for l in &r.lifted {
        println!(
            "  lifted      {} {} on {}: {}",
            l.kind.as_str(),
            l.subscriber,
            l.nas,
            l.note
        );
    }
    if let Some(t) = &r.tripped {
        println!(
            "  circuit breaker tripped: {} subscribers at once, the cap is {}; automatic actions are paused until the owner resumes them",
            t.candidates, t.cap
        );
    } else if r.paused {
        println!("  automatic actions are paused (circuit breaker)");
    }
    Ok(())
}
