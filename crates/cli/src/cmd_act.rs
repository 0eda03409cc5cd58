//! `shareguard disconnect|throttle|ban|unban`: act on one subscriber through
//! the same paths as the desktop app (RADIUS when a secret is given, else the
//! API) and record the action in the database.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Args;
use radius_dac::RateLimit;
use serde::Serialize;
use shareguard_engine::actions::ban;
use shareguard_engine::actions::disconnect::disconnect_and_record;
use shareguard_engine::actions::limit::{self, LimitSettings};
use shareguard_engine::actions::records::{self, Penalty};
use shareguard_engine::monitor::{MonitorSettings, MONITOR_KEY};
use shareguard_engine::router::Router;
use shareguard_store::{ActionKind, Store};

use crate::exit::{self, CliResult, Failure};
use crate::router_args::{RadiusArgs, RouterArgs};

/// What every action on one subscriber needs.
#[derive(Debug, Args)]
pub struct ActArgs {
    #[command(flatten)]
    pub router: RouterArgs,
    /// The subscriber's login name (PPP name or hotspot user).
    #[arg(long, value_name = "NAME")]
    pub subscriber: String,
    #[command(flatten)]
    pub radius: RadiusArgs,
    /// Why, for the audit log.
    #[arg(long)]
    pub reason: Option<String>,
    /// Look the session up and say what would be done, without doing it.
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

impl ActArgs {
    /// The one router named, with RADIUS when a secret variable is given.
    async fn router(&self) -> Result<Router, Failure> {
        let mut targets = self.router.targets()?;
        if targets.len() != 1 {
            return Err(Failure::usage(
                "name exactly one --router: the one the subscriber is on",
            ));
        }
        let target = targets.remove(0);
        let radius = self.radius.client(&target.connect.host).await?;
        Ok(Router { target, radius })
    }

    fn store(&self) -> Result<Arc<Mutex<Store>>, Failure> {
        Ok(Arc::new(Mutex::new(crate::open_store(self.db.as_deref())?)))
    }

    fn reason_or(&self, default: &str) -> String {
        self.reason.clone().unwrap_or_else(|| default.into())
    }
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    #[command(flatten)]
    pub act: ActArgs,
}

#[derive(Debug, Args)]
pub struct ThrottleArgs {
    #[command(flatten)]
    pub act: ActArgs,
    /// The rate to set, upload/download (e.g. 1M/4M); default: --percent of the plan.
    #[arg(long, value_name = "RX/TX")]
    pub rate: Option<String>,
    /// Share of the plan to keep when no --rate is given.
    #[arg(long, default_value_t = 25, value_name = "PERCENT")]
    pub percent: u8,
    /// How long (30m, 2h, 1d); the plan is restored by the monitor (app or `shareguard monitor`) when it ends.
    #[arg(long = "for", default_value = "30m", value_name = "DURATION")]
    pub duration: String,
}

#[derive(Debug, Args)]
pub struct BanArgs {
    #[command(flatten)]
    pub act: ActArgs,
    /// How long (30m, 2h, 1d); the router lifts the ban on its own.
    #[arg(long = "for", default_value = "30m", value_name = "DURATION")]
    pub duration: String,
    /// Install the one filter rule bans need if it is missing (see `--preview-rule`).
    #[arg(long)]
    pub install_rule: bool,
    /// Print the filter rule bans need and exit.
    #[arg(long)]
    pub preview_rule: bool,
}

#[derive(Debug, Args)]
pub struct LimitArgs {
    #[command(flatten)]
    pub act: ActArgs,
    /// How long (30m, 2h, 1d); the router ends the limit on its own. Default: the monitor settings' (24h).
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
    /// Install (or update) the connection-limit rules PPPoE limits need (see `--preview-rules`).
    #[arg(long)]
    pub install_rules: bool,
    /// Print the connection-limit rules for this router and exit.
    #[arg(long)]
    pub preview_rules: bool,
    /// End the subscriber's limit now instead.
    #[arg(long)]
    pub lift: bool,
}

#[derive(Debug, Args)]
pub struct UnbanArgs {
    #[command(flatten)]
    pub act: ActArgs,
}

/// Parses `30m`, `2h`, `1d`, `1h30m` or plain minutes into minutes.
pub fn parse_minutes(s: &str) -> Result<u32, Failure> {
    let bad = || {
        Failure::usage(format!(
            "{s:?} is not a duration: write minutes, hours or days such as 30m, 2h, 1d or 1h30m"
        ))
    };
    let s = s.trim();
    if let Ok(m) = s.parse::<u32>() {
        return (m > 0).then_some(m).ok_or_else(bad);
    }
    let (mut total, mut num) = (0u64, String::new());
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            'm' => 1,
            'h' => 60,
            'd' => 24 * 60,
            _ => return Err(bad()),
        };
        let n: u64 = num.parse().map_err(|_| bad())?;
        total += n * unit;
        num.clear();
    }
    if !num.is_empty() || total == 0 || total > 30 * 24 * 60 {
        return Err(bad());
    }
    Ok(total as u32)
}

fn print_json<T: Serialize>(v: &T) -> Result<(), Failure> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).map_err(|e| Failure::new(exit::OTHER, e.to_string()))?
    );
    Ok(())
}

pub async fn disconnect(a: DisconnectArgs) -> CliResult {
    let a = a.act;
    let router = a.router().await?;
    let store = a.store()?;
    let report = disconnect_and_record(
        &store,
        &router,
        &a.subscriber,
        &a.operator,
        &a.reason_or("disconnected from the command line"),
        a.dry_run,
    )
    .await?;
    if a.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let how = match (report.method, report.radius_tries) {
        (shareguard_store::ActionMethod::Radius, Some(n)) => {
            format!(
                "RADIUS Disconnect-Request ({n} {})",
                if n == 1 { "try" } else { "tries" }
            )
        }
        // A dry run sent nothing, but says the way it would take.
        (shareguard_store::ActionMethod::Radius, None) => "a RADIUS Disconnect-Request".into(),
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
    Ok(ExitCode::SUCCESS)
}

fn penalty(a: &ActArgs, minutes: u32, default_reason: &str) -> Penalty {
    Penalty {
        subscriber: a.subscriber.clone(),
        operator: a.operator.clone(),
        reason: a.reason_or(default_reason),
        minutes,
        dry_run: a.dry_run,
        warnings: Vec::new(),
        escalated: false,
    }
}

pub async fn throttle(t: ThrottleArgs) -> CliResult {
    let minutes = parse_minutes(&t.duration)?;
    if !(1..=90).contains(&t.percent) {
        return Err(Failure::usage(
            "--percent must be 1 to 90: the share of the plan the subscriber keeps",
        ));
    }
    let rate = t
        .rate
        .as_deref()
        .map(RateLimit::parse)
        .transpose()
        .map_err(Failure::usage)?;
    let a = &t.act;
    let router = a.router().await?;
    let store = a.store()?;
    let p = penalty(a, minutes, "throttled from the command line");
    let report = records::throttle_and_record(&store, &router, &p, t.percent, rate).await?;
    if a.json {
        print_json(&report)?;
    } else {
        println!("{}", report.summary());
        if let records::PenaltyReport::Throttle { report: r, .. } = &report {
            if let Some(note) = &r.note {
                println!("note: {note}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn ban(b: BanArgs) -> CliResult {
    if b.preview_rule {
        println!("{}", ban::ban_rule_preview());
        // Where it would go on this router, when the router is reachable.
        if let Ok(router) = b.act.router().await {
            match ban::ban_rule_place(&router).await {
                Ok(place) => println!("# placed {place}"),
                Err(e) => println!("# its place on {} is unknown: {e}", router.target.name),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let minutes = parse_minutes(&b.duration)?;
    let a = &b.act;
    let router = a.router().await?;
    let store = a.store()?;
    let p = penalty(a, minutes, "banned from the command line");
    if b.install_rule && !a.dry_run {
        let added = records::install_ban_rule_and_record(&store, &router, &p.operator).await?;
        if !a.json {
            for rule in &added {
                println!("installed: {rule}");
            }
        }
    }
    let report = records::ban_and_record(&store, &router, &p).await?;
    if a.json {
        print_json(&report)?;
    } else {
        println!("{}", report.summary());
    }
    Ok(ExitCode::SUCCESS)
}

/// Lifts the subscriber's bans in force (or, with none recorded, removes
/// their address from the ban list if they are online).
pub async fn unban(u: UnbanArgs) -> CliResult {
    lift_in_force(&u.act, ActionKind::Ban).await
}

/// The limit settings in force: the monitor's, as saved in the database.
fn limit_settings(store: &Arc<Mutex<Store>>) -> Result<LimitSettings, Failure> {
    let saved: Option<MonitorSettings> = store
        .lock()
        .map_err(|_| Failure::new(exit::OTHER, "the database lock was poisoned"))?
        .get_setting(MONITOR_KEY)?;
    Ok(saved.unwrap_or_default().limits)
}

/// Limits a subscriber's connections (PPPoE) or sessions (hotspot).
pub async fn limit(l: LimitArgs) -> CliResult {
    let a = &l.act;
    if l.lift {
        return lift_in_force(a, ActionKind::Limit).await;
    }
    let store = a.store()?;
    let settings = limit_settings(&store)?;
    let router = a.router().await?;
    if l.preview_rules {
        let lines = limit::preview_for(&router, &settings);
        if lines.is_empty() {
            println!(
                "{} is a hotspot: limits end extra sessions and need no firewall rule",
                router.target.name
            );
        }
        for line in lines {
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let minutes = match &l.duration {
        Some(d) => parse_minutes(d)?,
        None => settings.minutes,
    };
    let p = penalty(a, minutes, "limited from the command line");
    if l.install_rules && !a.dry_run {
        let n = records::install_limit_rules_and_record(&store, &router, &settings, &p.operator)
            .await?;
        if !a.json {
            for line in limit::preview_for(&router, &settings).iter().take(n) {
                println!("installed: {line}");
            }
        }
    }
    let report = records::limit_and_record(&store, &router, &p, &settings).await?;
    if a.json {
        print_json(&report)?;
    } else {
        println!("{}", report.summary());
    }
    Ok(ExitCode::SUCCESS)
}

/// Lifts the subscriber's actions of `kind` in force on the router.
async fn lift_in_force(a: &ActArgs, kind: ActionKind) -> CliResult {
    let router = a.router().await?;
    let store = a.store()?;
    let name = a.subscriber.clone();
    let found: Vec<_> = store
        .lock()
        .map_err(|_| Failure::new(exit::OTHER, "the database lock was poisoned"))?
        .actions_in_force()?
        .into_iter()
        .filter(|x| x.subscriber == name && x.kind == kind && x.nas == router.target.name)
        .collect();
    let what = kind.as_str();
    if found.is_empty() {
        return Err(Failure::new(
            exit::REFUSED,
            format!(
                "{} has no {what} in force on {}: nothing to lift",
                a.subscriber, router.target.name
            ),
        ));
    }
    let mut lifted = Vec::new();
    for x in &found {
        if a.dry_run {
            continue;
        }
        let l = records::lift(
            &store,
            std::slice::from_ref(&router),
            x,
            &a.operator,
            &a.reason_or("lifted from the command line"),
        )
        .await?;
        lifted.push(l);
    }
    if a.json {
        print_json(&lifted)?;
    } else if a.dry_run {
        println!(
            "dry run: would lift {} of {}",
            shareguard_detect::words::count(found.len() as u64, what),
            a.subscriber
        );
    } else {
        for l in &lifted {
            println!("{}: {what} lifted ({})", l.subscriber, l.note);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_minutes;

    #[test]
    fn durations() {
        assert_eq!(parse_minutes("30m").unwrap(), 30);
        assert_eq!(parse_minutes("2h").unwrap(), 120);
        assert_eq!(parse_minutes("1d").unwrap(), 1440);
        assert_eq!(parse_minutes("1h30m").unwrap(), 90);
        assert_eq!(parse_minutes("45").unwrap(), 45);
        for bad in ["", "0", "m", "3x", "2h5", "31d"] {
            assert!(parse_minutes(bad).is_err(), "{bad}");
        }
    }
}
