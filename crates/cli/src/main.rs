//! `shareguard`: the headless face of the engine. Everything the desktop app
//! does to routers and the database can be done from here, by a person or a
//! script (see `exit` for the exit codes).

mod cmd_act;
mod cmd_distance;
mod cmd_monitor;
mod cmd_p2p;
mod cmd_probes;
mod cmd_report;
mod cmd_results;
mod cmd_scan;
mod cmd_sim;
mod cmd_whitelist;
mod exit;
mod router_args;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Failure;

#[derive(Debug, Parser)]
#[command(
    name = "shareguard",
    version,
    about = "Find subscribers who share one paid account, on MikroTik routers",
    long_about = None
)]
struct Cli {
    /// Log details to stderr (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan routers for shared accounts.
    Scan(cmd_scan::ScanArgs),
    /// Show, install or remove the TTL probe rules on routers.
    Probes {
        #[command(subcommand)]
        action: cmd_probes::ProbesCommand,
    },
    /// Show stored results, or clear them.
    Results(cmd_results::ResultsArgs),
    /// Excuse subscribers from flagging.
    Whitelist {
        #[command(subcommand)]
        action: cmd_whitelist::WhitelistCommand,
    },
    /// Set how far a subscriber's devices are from the router (a bridged modem, a router behind the ISP's).
    Distance {
        #[command(subcommand)]
        action: cmd_distance::DistanceCommand,
    },
    /// Show the audit log.
    Audit(cmd_results::AuditArgs),
    /// Print the SHA-256 fingerprint of a router's api-ssl certificate, to pin it after checking it on the router.
    TlsFingerprint(cmd_scan::FingerprintArgs),
    /// Run simulated MikroTik routers on this computer (for trying ShareGuard without hardware).
    Sim(cmd_sim::SimArgs),
    /// End a subscriber's session now (RADIUS Disconnect-Request, or through the API).
    Disconnect(cmd_act::DisconnectArgs),
    /// Lower a subscriber's rate for a while (RADIUS CoA with Mikrotik-Rate-Limit, or a queue through the API).
    Throttle(cmd_act::ThrottleArgs),
    /// Block a subscriber's address for a while (address list with a timeout plus one filter rule).
    Ban(cmd_act::BanArgs),
    /// Lift a subscriber's ban before it runs out.
    Unban(cmd_act::UnbanArgs),
    /// Show, install or remove the router-side P2P classification the abuse monitor reads (layer-7, previewed first).
    P2pRules {
        #[command(subcommand)]
        action: cmd_p2p::P2pCommand,
    },
    /// Cap a suspicious subscriber's connections (PPPoE) or sessions (hotspot) for a while; `--lift` ends it.
    Limit(cmd_act::LimitArgs),
    /// Watch routers for abuse (connection floods, bursts, P2P, hogging, tethering) and act as the settings allow.
    Monitor(cmd_monitor::MonitorArgs),
    /// Start simulated routers, install probes, scan them and show the results.
    Demo(cmd_sim::DemoArgs),
    /// Write a PDF report or a CSV export: a scan, abuse over a period, one subscriber, the audit log.
    Report {
        #[command(subcommand)]
        action: cmd_report::ReportCommand,
    },
}

/// Opens the database at `db`, or the desktop app's when none is given.
pub fn open_store(db: Option<&std::path::Path>) -> Result<shareguard_store::Store, exit::Failure> {
    Ok(shareguard_store::Store::open(
        db.map_or_else(default_db, std::path::Path::to_path_buf),
    )?)
}

/// The database used when `--db` is not given, the desktop app's own. It is
/// in the local data folder: `%LOCALAPPDATA%` on Windows, where the app keeps
/// it; on Linux and macOS the local and the roaming folder are one.
pub fn default_db() -> PathBuf {
    dirs::data_local_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("net.shareguard.app")
        .join("shareguard.db")
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHAREGUARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Lets `shareguard results | head` end quietly: with the default Rust
/// setting a closed pipe makes every print fail (and panic); a command-line
/// tool should simply stop, as `ls` or `grep` do.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread
    // starts; no Rust invariant depends on SIGPIPE being ignored.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Windows has no SIGPIPE: a print to a closed pipe fails, and println!
    // panics. That one panic ends the program quietly instead.
    #[cfg(not(unix))]
    {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if is_closed_pipe_print(message) {
                std::process::exit(0);
            }
            default(info)
        }));
    }
}

/// Whether a panic message is println!'s for a reader that went away (the
/// pipe closed), as opposed to a real output error such as a full disk.
#[cfg_attr(unix, allow(dead_code))]
fn is_closed_pipe_print(message: &str) -> bool {
    let Some(why) = message.strip_prefix("failed printing to stdout: ") else {
        return false;
    };
    let why = why.to_ascii_lowercase();
    why.contains("pipe") || why.contains("os error 232") || why.contains("os error 109")
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Scan(a) => cmd_scan::run(a).await,
            Command::Probes { action } => cmd_probes::run(action).await,
            Command::Results(a) => cmd_results::results(a),
            Command::Whitelist { action } => cmd_whitelist::run(action),
            Command::Distance { action } => cmd_distance::run(action),
            Command::Audit(a) => cmd_results::audit(a),
            Command::TlsFingerprint(a) => cmd_scan::fingerprint(a).await,
            Command::Sim(a) => cmd_sim::sim(a).await,
            Command::Demo(a) => cmd_sim::demo(a).await,
            Command::Disconnect(a) => cmd_act::disconnect(a).await,
            Command::Throttle(a) => cmd_act::throttle(a).await,
            Command::Ban(a) => cmd_act::ban(a).await,
            Command::Unban(a) => cmd_act::unban(a).await,
            Command::Limit(a) => cmd_act::limit(a).await,
            Command::P2pRules { action } => cmd_p2p::run(action).await,
            Command::Monitor(a) => cmd_monitor::run(a).await,
            Command::Report { action } => cmd_report::run(action),
        }
    });
    match result {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_closed_pipe_print;

    /// Windows: the database is in %LOCALAPPDATA% (machine-local), not in
    /// %APPDATA% (roaming), where the desktop app keeps it too.
    #[cfg(windows)]
    #[test]
    fn the_default_database_is_in_the_local_app_data_folder() {
        let local = std::path::PathBuf::from(std::env::var_os("LOCALAPPDATA").unwrap());
        let db = super::default_db();
        assert!(db.starts_with(&local), "{}", db.display());
        assert!(
            db.ends_with("net.shareguard.app/shareguard.db"),
            "{}",
            db.display()
        );
    }

    #[test]
    fn only_a_closed_pipe_ends_the_program_quietly() {
        for closed in [
            "failed printing to stdout: Pipe not connected",
            "failed printing to stdout: The pipe is being closed. (os error 232)",
            "failed printing to stdout: The pipe has been ended. (os error 109)",
            "failed printing to stdout: Broken pipe (os error 32)",
        ] {
            assert!(is_closed_pipe_print(closed), "{closed}");
        }
        for other in [
            "failed printing to stdout: There is not enough space on the disk. (os error 112)",
            "index out of bounds",
            "failed printing to stderr: Broken pipe (os error 32)",
        ] {
            assert!(!is_closed_pipe_print(other), "{other}");
        }
    }
}
