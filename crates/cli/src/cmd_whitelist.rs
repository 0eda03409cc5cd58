//! `shareguard whitelist add|remove|list`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::{Args, Subcommand};
use shareguard_store::Store;

use crate::exit::{CliResult, Failure};
use crate::table;

#[derive(Debug, Args)]
pub struct DbArgs {
    /// Database file (default: the desktop app's database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Who makes the change, for the audit log.
    #[arg(long, default_value = "operator", value_name = "NAME")]
    pub operator: String,
}

#[derive(Debug, Subcommand)]
pub enum WhitelistCommand {
    /// Excuse a subscriber: scans still record them, but never flag them.
    Add {
        subscriber: String,
        /// Why (shown next to their results).
        #[arg(long)]
        reason: String,
        /// Until when: a date (2026-12-31) or a span (30d, 12h).
        #[arg(long, value_name = "WHEN", value_parser = parse_expiry)]
        expires: Option<DateTime<Utc>>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Take a subscriber off the whitelist.
    Remove {
        subscriber: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List whitelisted subscribers.
    List {
        /// Include expired entries.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `2026-12-31` (end of that day, UTC) or `30d` / `12h` from now.
pub fn parse_expiry(s: &str) -> Result<DateTime<Utc>, String> {
    let bad = || format!("{s:?} is not a date or span: use e.g. 2026-12-31, 30d or 12h");
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let end = d.and_hms_opt(23, 59, 59).ok_or_else(bad)?;
        return Ok(end.and_utc());
    }
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| bad())?;
    if n <= 0 || n > 36_500 {
        return Err(bad());
    }
    let span = match unit {
        "d" => Duration::days(n),
        "h" => Duration::hours(n),
        "w" => Duration::weeks(n),
        _ => return Err(bad()),
    };
    Ok(Utc::now() + span)
}

impl DbArgs {
    /// The database the arguments name (the desktop app's by default).
    pub fn open(&self) -> Result<Store, Failure> {
        crate::open_store(self.db.as_deref())
    }
}

pub fn run(cmd: WhitelistCommand) -> CliResult {
    match cmd {
        WhitelistCommand::Add {
            subscriber,
            reason,
            expires,
            db,
        } => {
            let mut store = db.open()?;
            store.whitelist_add(&subscriber, &reason, &db.operator, expires)?;
            println!(
                "{subscriber} is whitelisted{}.",
                expires
                    .map(|e| format!(" until {}", e.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            );
        }
        WhitelistCommand::Remove { subscriber, db } => {
            let mut store = db.open()?;
            if store.whitelist_remove(&subscriber, &db.operator)? {
                println!("{subscriber} is no longer whitelisted.");
            } else {
                return Err(Failure::usage(format!(
                    "{subscriber} is not on the whitelist (see `shareguard whitelist list`)"
                )));
            }
        }
        WhitelistCommand::List { all, json, db } => {
            let store = db.open()?;
            let entries = store.whitelist_list(all)?;
            table::print_listing(
                json,
                &entries,
                &["SUBSCRIBER", "REASON", "BY", "ADDED", "EXPIRES"],
                |e| {
                    vec![
                        e.subscriber.clone(),
                        e.reason.clone(),
                        e.added_by.clone(),
                        e.added_at.format("%Y-%m-%d").to_string(),
                        e.expires_at
                            .map(|x| x.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_else(|| "never".into()),
                    ]
                },
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
