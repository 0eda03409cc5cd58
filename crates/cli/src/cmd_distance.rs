//! `shareguard distance set|clear|list`: the owner's word on how far a
//! subscriber's devices are from the router, which overrides the router's
//! setting and anything learned when the next scan reads their TTLs.

use std::process::ExitCode;

use clap::Subcommand;
use shareguard_store::MAX_LINE_HOPS;

use crate::cmd_whitelist::DbArgs;
use crate::exit::{CliResult, Failure};
use crate::table;

#[derive(Debug, Subcommand)]
pub enum DistanceCommand {
    /// Set a subscriber's distance: 0 for a PC dialling through a bridged
    /// modem, 1 for a home router, 2 for a router behind the ISP's router.
    Set {
        subscriber: String,
        /// Hops between the subscriber's devices and the router.
        #[arg(value_parser = clap::value_parser!(u8).range(0..=i64::from(MAX_LINE_HOPS)))]
        hops: u8,
        /// Why (shown in the audit log and the list).
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Go back to the router's setting and what the scans learn.
    Clear {
        subscriber: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the distances the owner set.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run(cmd: DistanceCommand) -> CliResult {
    match cmd {
        DistanceCommand::Set {
            subscriber,
            hops,
            note,
            db,
        } => {
            let mut store = db.open()?;
            store.line_distance_set(&subscriber, hops, &note, &db.operator)?;
            println!(
                "{subscriber}'s devices are taken to be {} from the router from the next scan on.",
                shareguard_detect::words::count(u64::from(hops), "hop")
            );
        }
        DistanceCommand::Clear { subscriber, db } => {
            let mut store = db.open()?;
            if store.line_distance_clear(&subscriber, &db.operator)? {
                println!("{subscriber}'s distance is the router's setting again (or what the scans learn).");
            } else {
                return Err(Failure::usage(format!(
                    "no distance is set for {subscriber} (see `shareguard distance list`)"
                )));
            }
        }
        DistanceCommand::List { json, db } => {
            let store = db.open()?;
            let entries = store.line_distances()?;
            table::print_listing(
                json,
                &entries,
                &["SUBSCRIBER", "HOPS", "NOTE", "BY", "SET"],
                |e| {
                    vec![
                        e.subscriber.clone(),
                        e.hops.to_string(),
                        e.note.clone(),
                        e.set_by.clone(),
                        e.set_at.format("%Y-%m-%d").to_string(),
                    ]
                },
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
