//! The built-in simulated network, so anyone can try the product without a
//! router. Its router entries are clearly named as demo routers.

use chrono::Utc;
use radius_dac::DacClient;
use routeros_client::{Client, ConnectOptions};
use shareguard_detect::{Access, ProbeStrategy, SubscriberObservation, TtlEvidence};
use shareguard_scan::{probes, NasTarget};
use shareguard_sim::population::{self, Population, PopulationSpec, SimSubscriber};
use shareguard_sim::{SimConfig, SimNetwork};
use shareguard_store::DEMO_ROUTER_PREFIX;

use crate::router::Router;

/// The simulated routers' API user. Not a secret: the routers exist only on loopback.
pub const DEMO_USER: &str = "demo";
/// The simulated routers' API password.
pub const DEMO_PASSWORD: &str = "demo";
/// The simulated routers' RADIUS shared secret.
pub const DEMO_RADIUS_SECRET: &str = "demo-secret";

/// A running demo network and the scan targets that reach it.
pub struct Demo {
    pub network: SimNetwork,
    pub targets: Vec<NasTarget>,
}

/// Maps the simulator's access type onto the engine's.
pub fn access_of(a: population::Access) -> Access {
    match a {
        population::Access::Pppoe => Access::Pppoe,
        population::Access::Hotspot => Access::Hotspot,
    }
}

/// What a scan with every connection marked would observe of simulated
/// subscriber `s` of `pop`: each slot's TTL counted as a connection-mark
/// observation. For benchmarks and tests that need verdicts of a realistic
/// population without routers.
pub fn ideal_observation(pop: &Population, s: &SimSubscriber) -> SubscriberObservation {
    let access = access_of(pop.nas[s.nas].access);
    let mut counts = std::collections::BTreeMap::new();
    for slot in &s.slots {
        *counts.entry(slot.seen_ttl).or_insert(0u32) += 1;
    }
    SubscriberObservation {
        subscriber: s.name.clone(),
        nas: pop.nas[s.nas].name.clone(),
        address: s.address.to_string(),
        access,
        expected_hops: access.default_expected_hops(),
        connections: s.slots.len() as u32,
        p2p_connections: s.slots.iter().filter(|x| x.p2p).count() as u32,
        ttl: TtlEvidence {
            strategy: Some(ProbeStrategy::ConnectionMark),
            counts,
            probe_age_secs: Some(3600),
            ..Default::default()
        },
        whitelist: None,
        // One session dialled with the household's caller-id, as a scan sees it.
        sessions: vec![shareguard_detect::SessionSeen {
            address: s.address.to_string(),
            caller_id: Some(s.mac.clone()),
        }],
        line: Default::default(),
    }
}

/// Scan targets for every router of a simulated network.
pub fn targets_for(net: &SimNetwork, user: &str, password: &str) -> Vec<NasTarget> {
    net.nas()
        .iter()
        .map(|n| {
            let addr = n.api_addr();
            let connect = ConnectOptions::new(addr.ip().to_string(), addr.port(), user, password);
            NasTarget::new(
                format!("{DEMO_ROUTER_PREFIX}{}", n.name()),
                connect,
                access_of(n.access()),
            )
        })
        .collect()
}

impl Demo {
    /// The demo routers as actions reach them: API and RADIUS.
    pub fn routers(&self) -> Vec<Router> {
        routers_for(&self.network, &self.targets, DEMO_RADIUS_SECRET)
    }
}

/// Pairs scan targets (from [`targets_for`]) with the RADIUS endpoint of
/// the same simulated router.
pub fn routers_for(net: &SimNetwork, targets: &[NasTarget], radius_secret: &str) -> Vec<Router> {
    net.nas()
        .iter()
        .zip(targets)
        .map(|(n, t)| Router {
            target: t.clone(),
            radius: Some(DacClient::new(n.radius_addr(), radius_secret)),
        })
        .collect()
}

/// Starts the simulated routers on free loopback ports, behaving as an
/// ISP's routers do: FastTrack on, RADIUS-form session ids.
pub async fn start(spec: PopulationSpec, time_scale: f64) -> std::io::Result<Demo> {
    start_with(spec, time_scale, shareguard_sim::RouterModel::default()).await
}

/// [`start`] with routers that behave as `router` says.
pub async fn start_with(
    spec: PopulationSpec,
    time_scale: f64,
    router: shareguard_sim::RouterModel,
) -> std::io::Result<Demo> {
    let cfg = SimConfig {
        population: spec,
        username: DEMO_USER.into(),
        password: DEMO_PASSWORD.into(),
        radius_secret: DEMO_RADIUS_SECRET.into(),
        ros_version: "7.18.2".into(),
        time_scale,
        tls: false,
        bind: std::net::IpAddr::from([127, 0, 0, 1]),
        first_api_port: 0,
        first_radius_port: 0,
        router,
    };
    let network = SimNetwork::start(cfg).await?;
    let targets = targets_for(&network, DEMO_USER, DEMO_PASSWORD);
    Ok(Demo { network, targets })
}

/// How much simulated time the demo lets pass between installing the probes
/// and its first scan: probes only see connections opened after them.
pub const WARM_UP: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Installs the TTL probes on every target with its strategy choice.
pub async fn install_probes(targets: &[NasTarget]) -> Result<(), routeros_client::Error> {
    install_probes_at(targets, Utc::now()).await
}

/// Installs the probes, then lets [`WARM_UP`] of simulated time pass on the
/// demo's routers, so the first scan has evidence. The probes are stamped
/// as installed that long ago, so the evidence's "installed 15 min ago"
/// tells the same story as the simulated routers' connections, not the few
/// seconds of real time the start took.
pub async fn warm_up(demo: &Demo) -> Result<(), routeros_client::Error> {
    let lead = chrono::Duration::from_std(WARM_UP).unwrap_or_default();
    install_probes_at(&demo.targets, Utc::now() - lead).await?;
    demo.network.advance(WARM_UP);
    Ok(())
}

/// Over how much simulated time the demo's households come home after
/// [`begin_evening`]: one cycle of the abuse monitor a minute sees the
/// warnings build up over about this long.
pub const EVENING: std::time::Duration = std::time::Duration::from_secs(45 * 60);

/// The most connections a demo household has open before it comes home:
/// below the abuse monitor's first flood threshold (100).
pub const QUIET_CONNECTIONS: u32 = 60;

/// How far the demo's evening is under way when the owner first looks:
/// about one household in nine is already home, so the monitor's first
/// check has a few warnings of each kind to show.
pub const EVENING_UNDER_WAY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Starts the demo's evening: every household is quiet (a sample of its
/// devices' connections, the mix of TTLs kept) and comes home at its own
/// moment within [`EVENING`], which began [`EVENING_UNDER_WAY`] ago. The
/// app's demo runs the abuse monitor, which then tells a story: a few
/// warnings at first, more as households reach their peak, instead of every
/// warning of the network in its first cycle. The CLI's one-shot demo scans
/// at the peak and does not call this.
pub fn begin_evening(demo: &Demo) {
    let under_way = EVENING_UNDER_WAY.as_millis() as u64;
    demo.network.set_evening(Some(shareguard_sim::Evening {
        from_ms: demo.network.now_ms().saturating_sub(under_way),
        spread_ms: EVENING.as_millis() as u64,
        quiet_connections: QUIET_CONNECTIONS,
    }));
}

/// The app's demo: what an earlier demo left in `store` removed (as
/// `operator`), the simulated routers started and warmed up, and their
/// evening begun.
pub async fn start_evening(
    store: &std::sync::Arc<std::sync::Mutex<shareguard_store::Store>>,
    operator: &str,
) -> Result<Demo, crate::Failure> {
    let who = operator.to_string();
    crate::persist::store_task(store, move |s| {
        if s.demo_result_count()? > 0 {
            s.remove_demo_data(&who)?;
        }
        Ok(())
    })
    .await?;
    let demo = start(PopulationSpec::demo(), 1.0).await.map_err(|e| {
        crate::Failure::new(
            crate::ErrorKind::Demo,
            format!("the simulated routers could not start: {e}"),
        )
    })?;
    warm_up(&demo)
        .await
        .map_err(|e| crate::Failure::new((&e).into(), e.to_string()))?;
    begin_evening(&demo);
    Ok(demo)
}

async fn install_probes_at(
    targets: &[NasTarget],
    installed: chrono::DateTime<Utc>,
) -> Result<(), routeros_client::Error> {
    for t in targets {
        let mut c = Client::connect(&t.connect).await?;
        let state = probes::inspect(&mut c, t.access).await?;
        match probes::plan_install_for(t, &state, installed) {
            Ok(plan) => probes::apply(&mut c, &plan).await?,
            Err(why) => tracing::warn!("{}: probes skipped: {why}", t.name),
        }
    }
    Ok(())
}
