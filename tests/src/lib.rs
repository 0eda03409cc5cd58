//! Shared set-up for the end-to-end tests: simulated routers on loopback and
//! scan requests against them.

use std::time::Duration;

use shareguard_detect::{DetectionSettings, ScanScope};
use shareguard_engine::demo::{self, DEMO_PASSWORD, DEMO_USER};
use shareguard_scan::{NasTarget, ScanRequest, StrategyChoice};
use shareguard_sim::population::PopulationSpec;
use shareguard_sim::{SimConfig, SimNetwork};

/// Starts simulated routers for `spec` on free loopback ports, strict ones
/// (FastTrack on, RADIUS-form session ids).
pub async fn start_sim(spec: PopulationSpec, tls: bool) -> SimNetwork {
    start_sim_with(spec, tls, shareguard_sim::RouterModel::default()).await
}

/// [`start_sim`] with routers that behave as `router` says.
pub async fn start_sim_with(
    spec: PopulationSpec,
    tls: bool,
    router: shareguard_sim::RouterModel,
) -> SimNetwork {
    SimNetwork::start(SimConfig {
        population: spec,
        username: DEMO_USER.into(),
        password: DEMO_PASSWORD.into(),
        radius_secret: demo::DEMO_RADIUS_SECRET.into(),
        ros_version: "7.18.2".into(),
        time_scale: 1.0,
        tls,
        bind: std::net::IpAddr::from([127, 0, 0, 1]),
        first_api_port: 0,
        first_radius_port: 0,
        router,
    })
    .await
    .expect("simulated routers start")
}

/// Targets for every simulated router; budgets are generous because tests run
/// unoptimised on a shared machine (the budget itself is tested separately).
pub fn targets(net: &SimNetwork, strategy: StrategyChoice) -> Vec<NasTarget> {
    demo::targets_for(net, DEMO_USER, DEMO_PASSWORD)
        .into_iter()
        .map(|mut t| {
            t.strategy = strategy;
            t.budget = Duration::from_secs(300);
            t.connect.read_timeout = Duration::from_secs(30);
            t
        })
        .collect()
}

/// A whole-network scan request.
pub fn request(targets: Vec<NasTarget>) -> ScanRequest {
    ScanRequest {
        targets,
        scope: ScanScope::All,
        settings: DetectionSettings::default(),
        whitelist: Default::default(),
        lines: Default::default(),
        operator: "tester".into(),
        install_probes: false,
    }
}

/// Installs probes, then lets simulated time pass so every connection slot
/// has been replaced since (probes only see new connections).
pub async fn install_and_wait(net: &SimNetwork, targets: &[NasTarget]) {
    demo::install_probes(targets).await.expect("probes install");
    net.advance(Duration::from_secs(20 * 60));
}

/// A scan of every target stored in `store`, unwrapped (tests want the outcome).
pub async fn scan_stored(
    store: &std::sync::Arc<std::sync::Mutex<shareguard_store::Store>>,
    targets: Vec<NasTarget>,
) -> shareguard_scan::ScanOutput {
    shareguard_engine::scan_and_store(
        store.clone(),
        request(targets),
        shareguard_scan::CancellationToken::new(),
        None,
    )
    .await
    .expect("the scan is stored")
}
