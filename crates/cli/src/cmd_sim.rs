//! `shareguard sim` (simulated routers that run until stopped) and
//! `shareguard demo` (a whole scan against them, start to finish).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Args;
use routeros_client::format_fingerprint;
use shareguard_detect::{DetectionSettings, ScanScope};
use shareguard_engine::demo::{self, DEMO_PASSWORD, DEMO_USER};
use shareguard_engine::scan_and_store;
use shareguard_scan::{run_scan, CancellationToken, ScanRequest};
use shareguard_sim::population::PopulationSpec;
use shareguard_sim::{RouterModel, SimConfig, SimNetwork};
use shareguard_store::Store;

use crate::cmd_scan::{print_human, scan_exit_code};
use crate::exit::{self, CliResult, Failure};

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Subscribers to simulate (default: the 600-subscriber demo population).
    #[arg(long)]
    pub subscribers: Option<usize>,
    /// Number of simulated routers (one in four is a hotspot); with
    /// --subscribers (default 3).
    #[arg(long)]
    pub nas: Option<usize>,
    /// Seed of the population: the same seed gives the same subscribers
    /// (default: 1 with --subscribers, the demo's own otherwise).
    #[arg(long)]
    pub seed: Option<u64>,
    /// First API port; router i listens on PORT+i (api-ssl on PORT+100+i). 0 picks free ports.
    #[arg(long, default_value_t = 8728)]
    pub port: u16,
    /// First RADIUS dynamic-authorization port; router i listens on PORT+i.
    #[arg(long, default_value_t = 3799)]
    pub radius_port: u16,
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// API user name.
    #[arg(long, default_value = DEMO_USER)]
    pub user: String,
    /// Environment variable with the API password (default password: "demo").
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Environment variable with the RADIUS shared secret (default: "demo-secret").
    #[arg(long, value_name = "VAR")]
    pub radius_secret_env: Option<String>,
    /// Also serve api-ssl with a self-signed certificate.
    #[arg(long)]
    pub tls: bool,
    /// Simulate a lenient router instead of a strict one: no FastTrack,
    /// session ids accepted in any form, dynamic queues below static ones.
    #[arg(long)]
    pub lenient: bool,
    /// Print at most this many connection rows per second, like a loaded
    /// router (a mid-range MikroTik may send 20000 or fewer).
    #[arg(long, value_name = "ROWS")]
    pub rows_per_second: Option<u32>,
    /// Simulated seconds per real second (connections are replaced faster).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// RouterOS version to report (7.18 and later answer empty prints with !empty).
    #[arg(long, default_value = "7.18.2")]
    pub ros_version: String,
}

fn env_or(var: &Option<String>, default: &str) -> Result<String, Failure> {
    match var {
        None => Ok(default.to_string()),
        Some(v) => {
            crate::router_args::secret_from_env(v, "to give the simulated routers that secret")
        }
    }
}

pub async fn sim(a: SimArgs) -> CliResult {
    if !a.bind.is_loopback() {
        return Err(Failure::usage(
            "the simulator only listens on loopback addresses (127.0.0.1 or ::1)",
        ));
    }
    if !(a.time_scale.is_finite() && a.time_scale > 0.0 && a.time_scale <= 10_000.0) {
        return Err(Failure::usage("--time-scale must be between 0 and 10000"));
    }
    let nas = a.nas.unwrap_or(3);
    let mut population = match a.subscribers {
        // The demo population has its own three routers: say so instead of
        // ignoring --nas.
        None if a.nas.is_some() => {
            return Err(Failure::usage(
                "--nas needs --subscribers N: without it the simulator runs the 600-subscriber demo population on its 3 routers",
            ))
        }
        None => PopulationSpec::demo(),
        Some(n) if n == 0 || nas == 0 || nas > 64 || n.div_ceil(nas) > 60_000 => {
            return Err(Failure::usage(
                "use 1 to 64 routers with at most 60000 subscribers each",
            ))
        }
        Some(n) => PopulationSpec::scaled(n, nas, a.seed.unwrap_or(1)),
    };
    // A seed also reshuffles the demo population's households.
    if let Some(seed) = a.seed {
        population.seed = seed;
    }
    let cfg = SimConfig {
        population,
        username: a.user.clone(),
        password: env_or(&a.password_env, DEMO_PASSWORD)?,
        radius_secret: env_or(&a.radius_secret_env, demo::DEMO_RADIUS_SECRET)?,
        ros_version: a.ros_version.clone(),
        time_scale: a.time_scale,
        tls: a.tls,
        bind: a.bind,
        first_api_port: a.port,
        first_radius_port: a.radius_port,
        router: RouterModel {
            rows_per_second: a.rows_per_second.filter(|r| *r > 0),
            ..if a.lenient {
                RouterModel::lenient()
            } else {
                RouterModel::default()
            }
        },
    };
    let net = SimNetwork::start(cfg).await.map_err(|e| {
        Failure::new(
            exit::OTHER,
            format!("cannot start the simulated routers: {e} (is port {} already in use? pick another with --port, or --port 0)", a.port),
        )
    })?;
    println!("Simulated routers (user {:?}), Ctrl-C to stop:", a.user);
    for n in net.nas() {
        let tls = match (n.tls_addr(), n.tls_fingerprint_sha256()) {
            (Some(addr), Some(fp)) => {
                format!("  api-ssl {addr} (fingerprint {})", format_fingerprint(&fp))
            }
            _ => String::new(),
        };
        println!(
            "  {:<8} {:<8} api {}  radius {}{tls}",
            n.name(),
            format!("{:?}", n.access()).to_lowercase(),
            n.api_addr(),
            n.radius_addr()
        );
    }
    println!(
        "{} subscribers, {} connections.",
        net.population().subscribers.len(),
        net.population().total_slots()
    );
    let _ = tokio::signal::ctrl_c().await;
    net.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Store the demo scan in this database (default: nothing is stored).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Seed of the demo population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON like `shareguard scan --json`.
    #[arg(long)]
    pub json: bool,
    /// List every subscriber, not only flagged ones.
    #[arg(long)]
    pub all: bool,
    /// Simulate this many subscribers on 8 routers instead of the
    /// 600-subscriber demo (for trying ShareGuard at a large ISP's scale).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=480_000))]
    pub subscribers: Option<u32>,
}

pub async fn demo(a: DemoArgs) -> CliResult {
    let mut spec = match a.subscribers {
        Some(n) => PopulationSpec::scaled(n as usize, 8, a.seed),
        None => PopulationSpec::demo(),
    };
    spec.seed = a.seed;
    let demo = demo::start(spec, 1.0).await.map_err(|e| {
        Failure::new(
            exit::OTHER,
            format!("cannot start the simulated routers: {e}"),
        )
    })?;
    if !a.json {
        println!(
            "Started {} simulated routers with {} subscribers. Installing TTL probes...",
            demo.network.nas().len(),
            demo.network.population().subscribers.len()
        );
    }
    // Probes only see connections opened after they were installed; let the
    // simulated routers live through the next quarter hour.
    demo::warm_up(&demo).await.map_err(Failure::from)?;
    if !a.json {
        println!("Simulated 15 minutes for evidence to build up. Scanning...\n");
    }
    let settings = DetectionSettings::default();
    let req = ScanRequest {
        targets: demo.targets.clone(),
        scope: ScanScope::All,
        settings,
        whitelist: Default::default(),
        lines: Default::default(),
        operator: "demo".into(),
        install_probes: false,
    };
    let out = match &a.db {
        Some(path) => {
            let store = Store::open(path)?;
            scan_and_store(
                Arc::new(Mutex::new(store)),
                req,
                CancellationToken::new(),
                None,
            )
            .await?
        }
        None => run_scan(req, CancellationToken::new(), None).await,
    };
    if a.json {
        let doc = serde_json::json!({ "scan": out.summary, "results": out.results });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print_human(&out, a.all);
    }
    let code = scan_exit_code(&out);
    demo.network.shutdown().await;
    Ok(ExitCode::from(code))
}
