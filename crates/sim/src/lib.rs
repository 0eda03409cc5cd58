//! A simulated network of MikroTik NAS for ShareGuard's integration tests,
//! benchmarks and demo mode.
//!
//! Each simulated NAS speaks the real RouterOS API over TCP (and api-ssl over
//! TLS) on a loopback port, serves sessions and a connection table generated
//! from a seeded, labelled [`population`], applies mangle rules to those
//! connections the way RouterOS does, and answers RADIUS Disconnect/CoA
//! requests (RFC 5176). Because the population carries ground-truth labels,
//! a detector run against the simulator can be scored.
//!
//! For abuse monitoring, every subscriber also has a plan and a byte meter
//! (shown as a dynamic simple queue per session, and as hotspot counters),
//! which CoA rate limits, static queues and bans act on; and a test can
//! inject [`Load`] (extra connections, heavy bandwidth use) into any
//! subscriber without touching the seeded population. Address-list entries
//! with a `timeout` expire on the sim clock, and a `drop`/`reject` filter
//! rule on `src-address-list` bans the addresses on that list.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use shareguard_sim::{SimConfig, SimNetwork};
//! let net = SimNetwork::start(SimConfig::default()).await?;
//! for nas in net.nas() {
//!     println!("{} api={} radius={}", nas.name(), nas.api_addr(), nas.radius_addr());
//! }
//! net.shutdown().await;
//! # Ok(()) }
//! ```

mod api_server;
mod bans;
pub mod clock;
mod conntrack;
pub mod evening;
pub mod fmt;
pub mod ipv6;
mod load;
mod nas;
mod params;
pub mod population;
pub mod query;
pub mod radius;
pub mod rules;
pub mod tables;
mod tls;
mod uplink;
mod usage;

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

pub use clock::SimClock;
pub use evening::Evening;
pub use load::Load;
pub use nas::{Fault, RadiusStats};
pub use population::{
    generate, Access, HouseholdKind, NasSpec, Population, PopulationSpec, Proto, SimSubscriber,
    Slot,
};

use nas::{Menu, NasSettings, NasState};

/// The router's own PPPoE client uplink, next to the subscriber sessions:
/// `in-interface=all-ppp` matches it too.
pub const UPLINK_INTERFACE: &str = "pppoe-out1";

/// Router behaviours that differ between installations, or where what
/// RouterOS does is not certain. The default is the strictest reading: what
/// a real router with FastTrack on and RADIUS-authorised PPPoE shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterModel {
    /// FastTrack as in RouterOS's default configuration: a builtin dynamic
    /// counter rule leads `/ip firewall filter` and mangle (changing it or
    /// placing anything before it is refused with `failure: cannot change
    /// builtin`), followed in filter by `fasttrack-connection` and
    /// `accept` for established connections. Fast-tracked connections skip
    /// the firewall, so a ban's drop rule stops a subscriber's existing
    /// connections only when it is reached before those rules and the
    /// connections are removed from the table after the ban began.
    pub fasttrack: bool,
    /// How an incoming CoA/Disconnect-Request's Acct-Session-Id is compared.
    pub session_ids: SessionIdMatch,
    /// Where a session's dynamic simple queue goes (the PPP profile's
    /// `insert-queue-before`).
    pub dynamic_queues: QueuePlacement,
    /// The hotspot server's interface on a hotspot NAS.
    pub hotspot_interface: String,
    /// IPv6 on PPPoE (delegated prefixes, some connections over IPv6), and
    /// how the IPv6 connection table writes an address with its port;
    /// `None`: no IPv6 package (the `/ipv6` menus do not exist).
    pub ipv6: Option<Ipv6Form>,
    /// With `fasttrack` and IPv6: FastTrack for IPv6 too (RouterOS 7.18
    /// and later), so `/ipv6 firewall` filter and mangle also start with
    /// the builtin counter rule and filter fast-tracks established
    /// connections. Whether a given router has it depends on its version
    /// and configuration; on by default, the stricter case.
    pub ipv6_fasttrack: bool,
    /// A redial gets another delegated prefix (from a pool, as an IPv4
    /// address does); off: the same prefix every time (a binding that
    /// outlives the session, or RADIUS's Delegated-IPv6-Prefix). Which one
    /// an owner's router does depends on its configuration; on by default,
    /// the case bans and limits must follow.
    pub prefix_moves_on_redial: bool,
    /// The most connection rows per second each router prints (`None`:
    /// as fast as the simulator can); [`SimNas::set_rows_per_second`]
    /// changes one router's.
    pub rows_per_second: Option<u32>,
}

impl Default for RouterModel {
    fn default() -> Self {
        Self {
            fasttrack: true,
            session_ids: SessionIdMatch::AccountingForm,
            dynamic_queues: QueuePlacement::First,
            hotspot_interface: "bridge-hotspot".into(),
            ipv6: Some(Ipv6Form::Bracketed),
            ipv6_fasttrack: true,
            prefix_moves_on_redial: true,
            rows_per_second: None,
        }
    }
}

impl RouterModel {
    /// The lenient router the simulator used to be: no FastTrack, session
    /// ids in any form, dynamic queues after the static ones, no IPv6.
    pub fn lenient() -> Self {
        Self {
            fasttrack: false,
            session_ids: SessionIdMatch::AnyForm,
            dynamic_queues: QueuePlacement::Bottom,
            ipv6: None,
            ..Self::default()
        }
    }
}

/// `/ppp active` prints `session-id=0x81A0000B`; the router's RADIUS
/// accounting sends `Acct-Session-Id = "81a0000b"`. Which forms an incoming
/// request may use is not documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionIdMatch {
    /// Only the accounting form (lower-case hex, no `0x`); anything else is
    /// NAKed with Error-Cause 503. Assumed by default.
    AccountingForm,
    /// Only the form `/ppp active` prints (`0x81A0000B`); the other
    /// possibility a client must cope with.
    PrintedForm,
    /// Either form, any letter case.
    AnyForm,
}

/// How the IPv6 connection table prints an address with its port; which
/// one RouterOS uses is not documented, so both are modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Form {
    /// `[2001:db8::1]:443` (assumed).
    Bracketed,
    /// `2001:db8::1.443`.
    Dotted,
}

/// Where RouterOS inserts a session's dynamic simple queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuePlacement {
    /// Above every static queue (`insert-queue-before=first`): a static
    /// queue added at the end never sees the session's traffic.
    First,
    /// Below the static queues (`insert-queue-before=bottom`).
    Bottom,
}

/// How to run a simulated network.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub population: PopulationSpec,
    pub username: String,
    pub password: String,
    pub radius_secret: String,
    /// Decides version-dependent behaviour, e.g. `!empty` from 7.18 on.
    pub ros_version: String,
    /// Sim seconds per real second; 0 freezes time except for explicit advances.
    pub time_scale: f64,
    /// Also serve api-ssl.
    pub tls: bool,
    /// Must be a loopback address: the simulator is never reachable from outside.
    pub bind: IpAddr,
    /// 0 = ephemeral ports. Otherwise NAS `i` listens on `first_api_port + i`
    /// and its api-ssl on `first_api_port + 100 + i`.
    pub first_api_port: u16,
    /// 0 = ephemeral ports. Otherwise NAS `i` answers RADIUS on `first_radius_port + i`.
    pub first_radius_port: u16,
    /// Behaviours that differ between routers; strict by default.
    pub router: RouterModel,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            population: PopulationSpec::demo(),
            username: "admin".into(),
            password: "admin".into(),
            radius_secret: "testing123".into(),
            ros_version: "7.18.2".into(),
            time_scale: 1.0,
            tls: true,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            first_api_port: 0,
            first_radius_port: 0,
            router: RouterModel::default(),
        }
    }
}

/// A running simulated network. Dropping it (or [`SimNetwork::shutdown`])
/// stops every listener and client connection.
pub struct SimNetwork {
    nas: Vec<SimNas>,
    population: Arc<Population>,
    clock: Arc<SimClock>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SimNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNetwork")
            .field("nas", &self.nas)
            .field("subscribers", &self.population.subscribers.len())
            .finish()
    }
}

fn port_at(first: u16, offset: usize) -> io::Result<u16> {
    if first == 0 {
        return Ok(0);
    }
    u16::try_from(offset)
        .ok()
        .and_then(|o| first.checked_add(o))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "port range exceeds 65535"))
}

impl SimNetwork {
    /// Generates the population and starts every NAS.
    pub async fn start(cfg: SimConfig) -> io::Result<SimNetwork> {
        if !cfg.bind.is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the simulator only binds to loopback addresses",
            ));
        }
        let spec = cfg.population.clone();
        // Millions of slots take a moment; keep the runtime's workers free.
        let population = tokio::task::spawn_blocking(move || generate(&spec))
            .await
            .map_err(io::Error::other)?;
        let population = Arc::new(population);
        let clock = Arc::new(SimClock::new(cfg.time_scale));
        let settings = NasSettings {
            username: cfg.username.clone(),
            password: cfg.password.clone(),
            ros_version: cfg.ros_version.clone(),
            router: cfg.router.clone(),
        };
        let mut net = SimNetwork {
            nas: Vec::new(),
            population: Arc::clone(&population),
            clock: Arc::clone(&clock),
            tasks: Vec::new(),
        };
        for i in 0..population.nas.len() {
            let state = Arc::new(NasState::new(
                i,
                Arc::clone(&population),
                Arc::clone(&clock),
                settings.clone(),
            ));
            let api = TcpListener::bind((cfg.bind, port_at(cfg.first_api_port, i)?)).await?;
            let api_addr = api.local_addr()?;
            net.tasks
                .push(tokio::spawn(accept_loop(api, Arc::clone(&state), None)));
            let (tls_addr, fingerprint) = if cfg.tls {
                let tls = tls::make(&state.name)?;
                let port = port_at(cfg.first_api_port, 100 + i)?;
                let listener = TcpListener::bind((cfg.bind, port)).await?;
                let addr = listener.local_addr()?;
                net.tasks.push(tokio::spawn(accept_loop(
                    listener,
                    Arc::clone(&state),
                    Some(tls.acceptor),
                )));
                (Some(addr), Some(tls.fingerprint))
            } else {
                (None, None)
            };
            let udp = UdpSocket::bind((cfg.bind, port_at(cfg.first_radius_port, i)?)).await?;
            let radius_addr = udp.local_addr()?;
            net.tasks.push(tokio::spawn(radius::run(
                udp,
                Arc::clone(&state),
                cfg.radius_secret.clone().into_bytes(),
            )));
            tracing::info!(
                nas = %state.name,
                access = ?state.access,
                subscribers = state.count,
                connections = state.total_slots,
                api = %api_addr,
                api_ssl = ?tls_addr,
                radius = %radius_addr,
                "simulated NAS listening"
            );
            net.nas.push(SimNas {
                state,
                api_addr,
                tls_addr,
                fingerprint,
                radius_addr,
            });
        }
        Ok(net)
    }

    /// The NAS, in population order.
    pub fn nas(&self) -> &[SimNas] {
        &self.nas
    }

    /// The NAS with this name.
    pub fn nas_named(&self, name: &str) -> Option<&SimNas> {
        self.nas.iter().find(|n| n.name() == name)
    }

    /// Ground truth: every subscriber with its label.
    pub fn population(&self) -> &Population {
        &self.population
    }

    /// The NAS the subscriber is homed on.
    pub fn nas_of(&self, subscriber: &str) -> Option<&SimNas> {
        self.nas
            .iter()
            .find(|n| n.state.local_by_name(subscriber).is_some())
    }

    /// [`SimNas::set_load`] on whichever NAS the subscriber is homed on.
    pub fn set_load(&self, subscriber: &str, load: Load) -> bool {
        self.nas_of(subscriber)
            .is_some_and(|n| n.set_load(subscriber, load))
    }

    /// [`SimNas::clear_load`] on whichever NAS the subscriber is homed on.
    pub fn clear_load(&self, subscriber: &str) -> bool {
        self.nas_of(subscriber)
            .is_some_and(|n| n.clear_load(subscriber))
    }

    /// Lets every household come home over `evening` instead of being at
    /// its peak all the time (see [`evening`]); `None` restores the peak.
    pub fn set_evening(&self, evening: Option<Evening>) {
        for n in &self.nas {
            n.state.set_evening(evening);
        }
    }

    /// The subscriber's connections in the table now (IPv4 and IPv6, its
    /// injected load left out): all its slots at the peak, fewer while its
    /// household is quiet.
    pub fn household_connections(&self, subscriber: &str) -> Option<usize> {
        let nas = self.nas_of(subscriber)?;
        let l = nas.state.local_by_name(subscriber)?;
        let s = &nas.state;
        Some(s.live_slots(s.evening(), l, s.now_ms()).count())
    }

    /// Moves the shared clock forward.
    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }

    /// The current sim time, ms since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Stops everything and waits until the tasks are gone, so the ports are
    /// free when this returns.
    pub async fn shutdown(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for SimNetwork {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Accepts clients; the connection tasks live in a [`JoinSet`] owned by
/// this task, so aborting the listener also ends every connection.
async fn accept_loop(listener: TcpListener, nas: Arc<NasState>, tls: Option<TlsAcceptor>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Typically out of file descriptors: back off, keep serving.
                        tracing::warn!(nas = %nas.name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let nas = Arc::clone(&nas);
                match &tls {
                    None => {
                        conns.spawn(api_server::serve(stream, nas));
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        conns.spawn(async move {
                            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                            match handshake.await {
                                Ok(Ok(tls_stream)) => api_server::serve(tls_stream, nas).await,
                                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                                Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
                            }
                        });
                    }
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// A handle to one running NAS.
#[derive(Clone)]
pub struct SimNas {
    state: Arc<NasState>,
    api_addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    fingerprint: Option<[u8; 32]>,
    radius_addr: SocketAddr,
}

impl std::fmt::Debug for SimNas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNas")
            .field("name", &self.state.name)
            .field("access", &self.state.access)
            .field("api_addr", &self.api_addr)
            .field("tls_addr", &self.tls_addr)
            .field("radius_addr", &self.radius_addr)
            .finish()
    }
}

impl SimNas {
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// Index into [`Population::nas`].
    pub fn index(&self) -> usize {
        self.state.index
    }

    pub fn access(&self) -> Access {
        self.state.access
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// SHA-256 of the api-ssl certificate (DER), for pinning.
    pub fn tls_fingerprint_sha256(&self) -> Option<[u8; 32]> {
        self.fingerprint
    }

    pub fn radius_addr(&self) -> SocketAddr {
        self.radius_addr
    }

    /// The subscribers homed on this NAS (online or not).
    pub fn subscribers(&self) -> &[SimSubscriber] {
        self.state.pop.nas_subscribers(self.state.index)
    }

    /// Makes this router print at most `rows` connection rows per second
    /// (`None`: as fast as it can), like a loaded router.
    pub fn set_rows_per_second(&self, rows: Option<u32>) {
        self.state
            .rows_per_second
            .store(rows.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
    }

    /// Arms a one-shot fault (replacing any armed one).
    pub fn set_fault(&self, f: Fault) {
        self.state.set_fault(f);
    }

    /// Installs a rule as if added through the API, e.g. a QoS
    /// `mark-connection` or a `fasttrack-connection` filter a real ISP has.
    /// `table` is `mangle`, `filter`, `address-list` or `queue`. Returns the `.id`.
    ///
    /// # Panics
    /// On an unknown table or attributes the router would refuse; use
    /// [`SimNas::try_add_rule`] to get the error instead.
    pub fn add_rule(&self, table: &str, attrs: &[(&str, &str)]) -> String {
        match self.try_add_rule(table, attrs) {
            Ok(id) => id,
            Err(e) => panic!("cannot add {table} rule {attrs:?}: {e}"),
        }
    }

    /// [`SimNas::add_rule`] returning the router's error message instead of panicking.
    /// `place-before=*ID` is honoured as through the API.
    pub fn try_add_rule(&self, table: &str, attrs: &[(&str, &str)]) -> Result<String, String> {
        let menu = Menu::from_table_name(table).ok_or_else(|| format!("no such table {table}"))?;
        let owned: Vec<(String, String)> = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let place_before = attrs
            .iter()
            .find(|(k, _)| *k == "place-before")
            .map(|(_, v)| *v);
        let props: Vec<(String, String)> = owned
            .into_iter()
            .filter(|(k, _)| k != "place-before")
            .collect();
        self.state
            .table_add(menu, &props, place_before)
            .map(fmt::id_string)
    }

    /// The stored items of a table (`.id` included); empty for an unknown table.
    pub fn rules(&self, table: &str) -> Vec<BTreeMap<String, String>> {
        Menu::from_table_name(table).map_or_else(Vec::new, |m| self.state.table_maps(m))
    }

    /// [`SimNas::rules`] without the items the router made itself
    /// (`dynamic=true`): what the owner and clients added.
    pub fn static_rules(&self, table: &str) -> Vec<BTreeMap<String, String>> {
        self.rules(table)
            .into_iter()
            .filter(|r| r.get("dynamic").map(String::as_str) != Some("true"))
            .collect()
    }

    pub fn is_online(&self, subscriber: &str) -> bool {
        self.state
            .local_by_name(subscriber)
            .is_some_and(|l| self.state.is_online(l))
    }

    /// Ends a session as an API `remove` or RADIUS Disconnect would.
    pub fn disconnect(&self, subscriber: &str) -> bool {
        self.state
            .local_by_name(subscriber)
            .is_some_and(|l| self.state.disconnect(l))
    }

    /// The address the subscriber's session holds now.
    pub fn address(&self, subscriber: &str) -> Option<Ipv4Addr> {
        self.state
            .local_by_name(subscriber)
            .map(|l| self.state.address(l))
    }

    /// Ends the subscriber's session and dials again, as a line that drops
    /// and comes back does: the new session gets the next free address of
    /// the router's spare pool. Returns it.
    pub fn redial(&self, subscriber: &str) -> Option<Ipv4Addr> {
        self.state
            .local_by_name(subscriber)
            .and_then(|l| self.state.redial(l, None))
    }

    /// [`SimNas::redial`] onto `address`, as when the pool hands out the
    /// address another session just gave up; `None` while an online
    /// session holds it.
    pub fn redial_to(&self, subscriber: &str, address: Ipv4Addr) -> Option<Ipv4Addr> {
        self.state
            .local_by_name(subscriber)
            .and_then(|l| self.state.redial(l, Some(address)))
    }

    /// Opens a second concurrent session of the account from another
    /// caller-id (`mac`), as a router with `only-one=no` allows: a second
    /// household dialling with the same login. It gets an address of its
    /// own and a household's worth of connections. Returns the address.
    pub fn add_session(&self, subscriber: &str, mac: &str) -> Option<Ipv4Addr> {
        self.state
            .local_by_name(subscriber)
            .map(|l| self.state.add_session(l, mac))
    }

    /// Brings an offline subscriber back with a fresh session.
    pub fn reconnect(&self, subscriber: &str) -> bool {
        self.state
            .local_by_name(subscriber)
            .is_some_and(|l| self.state.reconnect(l))
    }

    /// The rate limit RADIUS CoA last set for this session.
    pub fn rate_limit(&self, subscriber: &str) -> Option<String> {
        self.state
            .local_by_name(subscriber)
            .and_then(|l| self.state.rate_limit(l))
    }

    /// Loses the next `n` RADIUS replies of this NAS on the way back; the
    /// requests themselves are applied, as when a reply datagram is dropped.
    pub fn lose_radius_replies(&self, n: u64) {
        self.state
            .radius
            .lose_replies
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn radius_stats(&self) -> RadiusStats {
        self.state.radius.snapshot()
    }

    /// Whether the subscriber's household is dual-stack on this router (its
    /// slots that [`ipv6::is_v6`] picks run over IPv6, out of IPv4's sight).
    pub fn is_dual_stack(&self, subscriber: &str) -> bool {
        self.state
            .local_by_name(subscriber)
            .is_some_and(|l| self.state.dual_stack(l))
    }

    /// The /64 delegated to the subscriber's session, when it is online
    /// and dual-stack.
    pub fn delegated_prefix(&self, subscriber: &str) -> Option<std::net::Ipv6Addr> {
        let l = self.state.local_by_name(subscriber)?;
        (self.state.is_online(l) && self.state.dual_stack(l))
            .then(|| self.state.delegated_prefix(l))
    }

    /// How many of the subscriber's household connections run over IPv6
    /// (some of a dual-stack household's; none with IPv6 off).
    pub fn ipv6_slots(&self, subscriber: &str) -> usize {
        self.state.local_by_name(subscriber).map_or(0, |l| {
            let ds = self.state.dual_stack(l);
            self.state
                .sub(l)
                .slots
                .iter()
                .enumerate()
                .filter(|(k, s)| ipv6::is_v6(ds, *k, s))
                .count()
        })
    }

    /// The subscriber's connections in the IPv6 table right now (none while
    /// a ban on the delegated prefix reaches them).
    pub fn ipv6_connections_of(&self, subscriber: &str) -> usize {
        self.state
            .local_by_name(subscriber)
            .map_or(0, |l| self.state.ipv6_connections_of(l))
    }

    /// Connections in the IPv6 table right now.
    pub fn ipv6_connection_count(&self) -> usize {
        self.state.ipv6_connection_count()
    }

    /// Connections in the table right now: all slots and extra connections
    /// of online subscribers that are not banned.
    pub fn connection_count(&self) -> usize {
        self.state.connection_count()
    }

    /// Injects abuse load into a subscriber (replacing any earlier load);
    /// false for a subscriber this NAS does not serve. Setting a load that
    /// differs only in `usage_share` keeps the extra connections as they are.
    pub fn set_load(&self, subscriber: &str, load: Load) -> bool {
        self.state
            .local_by_name(subscriber)
            .is_some_and(|l| self.state.set_load(l, load))
    }

    /// Removes injected load: the extra connections go, usage returns to normal.
    pub fn clear_load(&self, subscriber: &str) -> bool {
        self.state
            .local_by_name(subscriber)
            .is_some_and(|l| self.state.clear_load(l))
    }

    /// The load set by [`SimNas::set_load`], if any.
    pub fn load(&self, subscriber: &str) -> Option<Load> {
        self.state
            .local_by_name(subscriber)
            .and_then(|l| self.state.load(l))
    }

    /// (upload, download) bytes of the subscriber's current session, as its
    /// dynamic queue shows them; zero while offline.
    pub fn bytes(&self, subscriber: &str) -> Option<(u64, u64)> {
        self.state
            .local_by_name(subscriber)
            .and_then(|l| self.state.bytes(l))
    }

    /// The subscriber's plan, (upload, download) in bits per second.
    pub fn plan(&self, subscriber: &str) -> Option<(u64, u64)> {
        self.state
            .local_by_name(subscriber)
            .and_then(|l| self.state.plan(l))
    }

    /// What the subscriber transfers now, (upload, download) in bits per
    /// second: its usage share of the plan, capped by the CoA rate limit and
    /// static queues; zero while offline or banned.
    pub fn effective_rate(&self, subscriber: &str) -> Option<(u64, u64)> {
        self.state
            .local_by_name(subscriber)
            .and_then(|l| self.state.effective_rate(l))
    }

    /// True while the subscriber's address is on a list that an enabled
    /// `drop`/`reject` filter rule matches with `src-address-list`.
    pub fn is_banned(&self, subscriber: &str) -> bool {
        self.state
            .local_by_name(subscriber)
            .is_some_and(|l| self.state.is_banned(l))
    }
}
