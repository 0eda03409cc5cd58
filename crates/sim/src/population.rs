//! A seeded, labelled subscriber population.
//!
//! The generator is pure: the same [`PopulationSpec`] always yields the same
//! [`Population`], so a benchmark or a test can report precision and recall
//! against the `kind` labels and get the same figures on every run.
//!
//! Each subscriber is described only by "slots": connections that are always
//! present but whose concrete instance (source port, start time) is replaced
//! over time by the clock model in [`crate::clock`]. Storing slots instead of
//! connections is what lets a NAS with hundreds of thousands of connections be
//! simulated without a per-connection table.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;

use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How subscribers attach to a NAS. It decides which TTLs are legitimate: a
/// PPPoE subscriber always has a home router one hop away, a hotspot user does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Pppoe,
    Hotspot,
}

/// The ground-truth label of one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdKind {
    SingleDevice,
    MixedOsFamily,
    HeavyHousehold,
    VpnUser,
    MeshWifi,
    P2pUser,
    RouterBehindRouter,
    SeveralHouseholds,
    TtlRewriter,
    HotspotTethering,
    /// The ISP's modem bridged: a PC dials PPPoE itself, so its packets
    /// arrive untouched (64/128) and the caller-id is its network card's.
    BridgedPc,
    /// A bridged PC that shares its connection (Windows mobile hotspot or
    /// ICS): the PC at 128, phones at 63 and laptops at 127 behind it.
    BridgedSharingPc,
    /// A household with devices that start at 255 (cameras, set-top boxes)
    /// and often an ONT-router whose own traffic leaves at 255.
    NetworkGear,
    /// A console or gaming PC with a few hundred connections of its own.
    GamingHousehold,
    /// A second router feeding a neighbour who uses only a handful of
    /// connections.
    LightSecondRouter,
    /// A hotspot phone tethering one laptop that does little.
    LightTethering,
}

impl HouseholdKind {
    pub const ALL: [Self; 16] = [
        Self::SingleDevice,
        Self::MixedOsFamily,
        Self::HeavyHousehold,
        Self::VpnUser,
        Self::MeshWifi,
        Self::P2pUser,
        Self::BridgedPc,
        Self::NetworkGear,
        Self::GamingHousehold,
        Self::RouterBehindRouter,
        Self::SeveralHouseholds,
        Self::TtlRewriter,
        Self::HotspotTethering,
        Self::BridgedSharingPc,
        Self::LightSecondRouter,
        Self::LightTethering,
    ];

    /// True for the kinds an operator wants flagged: more than one paying
    /// household's worth of devices behind one account.
    pub fn is_sharing(self) -> bool {
        matches!(
            self,
            Self::RouterBehindRouter
                | Self::SeveralHouseholds
                | Self::TtlRewriter
                | Self::HotspotTethering
                | Self::BridgedSharingPc
                | Self::LightSecondRouter
                | Self::LightTethering
        )
    }

    /// The snake_case name, identical to the serde form.
    pub fn label(self) -> &'static str {
        match self {
            Self::SingleDevice => "single_device",
            Self::MixedOsFamily => "mixed_os_family",
            Self::HeavyHousehold => "heavy_household",
            Self::VpnUser => "vpn_user",
            Self::MeshWifi => "mesh_wifi",
            Self::P2pUser => "p2p_user",
            Self::RouterBehindRouter => "router_behind_router",
            Self::SeveralHouseholds => "several_households",
            Self::TtlRewriter => "ttl_rewriter",
            Self::HotspotTethering => "hotspot_tethering",
            Self::BridgedPc => "bridged_pc",
            Self::BridgedSharingPc => "bridged_sharing_pc",
            Self::NetworkGear => "network_gear",
            Self::GamingHousehold => "gaming_household",
            Self::LightSecondRouter => "light_second_router",
            Self::LightTethering => "light_tethering",
        }
    }
}

/// One simulated router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NasSpec {
    pub name: String,
    pub access: Access,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopulationSpec {
    pub seed: u64,
    pub subscribers: usize,
    pub nas: Vec<NasSpec>,
    /// Fraction of subscribers on each NAS that share their account.
    pub sharing_share: f64,
    /// Multiplies every household's connection count (router self-traffic excepted).
    pub connection_scale: f64,
}

/// Average connections per subscriber that [`PopulationSpec::scaled`] aims
/// for; about what a busy small-ISP NAS shows at the evening peak.
pub const SCALED_CONNECTIONS_PER_SUBSCRIBER: usize = 80;

impl Default for PopulationSpec {
    fn default() -> Self {
        Self::demo()
    }
}

impl PopulationSpec {
    /// A small network for the demo mode: 600 subscribers, two PPPoE NAS and one hotspot.
    pub fn demo() -> Self {
        Self {
            seed: 42,
            subscribers: 600,
            nas: vec![
                NasSpec {
                    name: "nas-01".into(),
                    access: Access::Pppoe,
                },
                NasSpec {
                    name: "nas-02".into(),
                    access: Access::Pppoe,
                },
                NasSpec {
                    name: "nas-03".into(),
                    access: Access::Hotspot,
                },
            ],
            sharing_share: 0.12,
            connection_scale: 1.0,
        }
    }

    /// A network of any size for benchmarks: every fourth NAS is a hotspot, and
    /// the connection scale is tuned to about
    /// [`SCALED_CONNECTIONS_PER_SUBSCRIBER`] connections per subscriber.
    pub fn scaled(subscribers: usize, nas_count: usize, seed: u64) -> Self {
        let nas = (0..nas_count)
            .map(|i| NasSpec {
                name: format!("nas-{:02}", i + 1),
                access: if i % 4 == 3 {
                    Access::Hotspot
                } else {
                    Access::Pppoe
                },
            })
            .collect();
        Self {
            seed,
            subscribers,
            nas,
            sharing_share: 0.12,
            connection_scale: 1.0,
        }
        .with_target_connections(subscribers * SCALED_CONNECTIONS_PER_SUBSCRIBER)
    }

    /// Sets `connection_scale` so the generated population has about `target`
    /// slots in total. Only the cheap planning pass runs, so this is fast even
    /// for millions of slots.
    pub fn with_target_connections(mut self, target: usize) -> Self {
        self.connection_scale = 1.0;
        // Rounding and per-household minimums make the total slightly
        // non-linear in the scale; two correction passes settle it.
        for _ in 0..3 {
            let total = planned_total(&self);
            if total == 0 {
                break;
            }
            self.connection_scale *= target as f64 / total as f64;
        }
        self
    }
}

/// The transport protocol of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    Tcp,
    Udp,
    /// Pings: the connection table shows addresses without ports.
    Icmp,
    /// PPTP's tunnel: addresses without ports too.
    Gre,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Icmp => "icmp",
            Self::Gre => "gre",
        }
    }

    /// Whether connections of this protocol have ports.
    pub fn has_ports(self) -> bool {
        matches!(self, Self::Tcp | Self::Udp)
    }
}

/// One always-present connection whose instance is replaced every `lifetime_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The TTL of the connection's first packet as it arrives in the NAS's
    /// prerouting chain, i.e. after every hop between device and NAS.
    pub seen_ttl: u8,
    pub protocol: Proto,
    pub dst: SocketAddrV4,
    pub p2p: bool,
    pub lifetime_s: u32,
    pub phase_s: u32,
}

/// One subscriber account and its ground-truth label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimSubscriber {
    pub name: String,
    /// Index into [`Population::nas`].
    pub nas: usize,
    pub address: Ipv4Addr,
    pub mac: String,
    /// Upper-case hex, as MikroTik prints it after `0x`.
    pub session_id: String,
    pub kind: HouseholdKind,
    pub slots: Vec<Slot>,
}

/// The generated network. Subscribers are ordered by NAS, so each NAS owns a
/// contiguous range (see [`Population::nas_range`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Population {
    pub subscribers: Vec<SimSubscriber>,
    pub nas: Vec<NasSpec>,
}

impl Population {
    /// All slots of all subscribers.
    pub fn total_slots(&self) -> usize {
        self.subscribers.iter().map(|s| s.slots.len()).sum()
    }

    /// The range of [`Population::subscribers`] that belongs to NAS `nas`.
    pub fn nas_range(&self, nas: usize) -> Range<usize> {
        let start = self.subscribers.partition_point(|s| s.nas < nas);
        let end = self.subscribers.partition_point(|s| s.nas <= nas);
        start..end
    }

    /// The subscribers of NAS `nas`.
    pub fn nas_subscribers(&self, nas: usize) -> &[SimSubscriber] {
        &self.subscribers[self.nas_range(nas)]
    }

    pub fn subscriber(&self, name: &str) -> Option<&SimSubscriber> {
        self.subscribers.iter().find(|s| s.name == name)
    }

    /// How many subscribers carry each label, in [`HouseholdKind::ALL`] order.
    pub fn kind_counts(&self) -> Vec<(HouseholdKind, usize)> {
        HouseholdKind::ALL
            .iter()
            .map(|&k| (k, self.subscribers.iter().filter(|s| s.kind == k).count()))
            .collect()
    }
}

/// Maximum subscribers per NAS: the address plan gives each NAS one /16 and
/// uses 250 host addresses of each /24.
pub const MAX_SUBSCRIBERS_PER_NAS: usize = 256 * 250;

/// Generates the population described by `spec`.
///
/// # Panics
/// If a NAS would get more than [`MAX_SUBSCRIBERS_PER_NAS`] subscribers or there
/// are more than 254 NAS: the 10.(nas+1).y.z address plan cannot express them.
pub fn generate(spec: &PopulationSpec) -> Population {
    let plans = plan_all(spec);
    let mut subscribers = Vec::with_capacity(plans.len());
    for (global, (nas, local, plan)) in plans.into_iter().enumerate() {
        let mut rng = sub_rng(spec.seed, global, 2);
        let slots = build_slots(&plan, &mut rng);
        subscribers.push(SimSubscriber {
            name: format!("sub-{global:05}"),
            nas,
            address: subscriber_address(nas, local),
            mac: mac_for(spec.seed, global, plan.kind),
            session_id: format!("{:08X}", 0x81A0_0000u32.wrapping_add(global as u32)),
            kind: plan.kind,
            slots,
        });
    }
    Population {
        subscribers,
        nas: spec.nas.clone(),
    }
}

fn subscriber_address(nas: usize, local: usize) -> Ipv4Addr {
    assert!(nas < 254, "at most 254 NAS fit the 10.(nas+1).y.z plan");
    assert!(
        local < MAX_SUBSCRIBERS_PER_NAS,
        "at most {MAX_SUBSCRIBERS_PER_NAS} subscribers fit one NAS"
    );
    Ipv4Addr::new(
        10,
        (nas + 1) as u8,
        (local / 250) as u8,
        (2 + local % 250) as u8,
    )
}

/// Vendor prefixes of common CPE routers, so caller-ids look like real ones.
const CPE_OUIS: [[u8; 3]; 6] = [
    [0xD4, 0xCA, 0x6D], // MikroTik
    [0x50, 0xC7, 0xBF], // TP-Link
    [0xE4, 0x8D, 0x8C], // MikroTik
    [0x00, 0x1E, 0x58], // D-Link
    [0xF0, 0x9F, 0xC2], // Ubiquiti
    [0x18, 0xE8, 0x29], // Ubiquiti
];

/// Makers of PC network cards (Intel, Realtek, Micro-Star, Giga-Byte) and
/// one maker of both boards and routers (ASUSTek), whose MAC says nothing:
/// the caller-ids of bridged lines.
const PC_OUIS: [[u8; 3]; 5] = [
    [0x00, 0x12, 0xF0], // Intel
    [0x00, 0xE0, 0x4C], // Realtek
    [0x00, 0x0C, 0x76], // Micro-Star
    [0x00, 0x0D, 0x61], // Giga-Byte
    [0x00, 0x0C, 0x6E], // ASUSTek
];

fn mac_for(seed: u64, global: usize, kind: HouseholdKind) -> String {
    let h = splitmix(seed ^ 0x4D41_4300 ^ global as u64);
    let oui = match kind {
        HouseholdKind::BridgedPc | HouseholdKind::BridgedSharingPc => {
            PC_OUIS[(h % PC_OUIS.len() as u64) as usize]
        }
        _ => CPE_OUIS[(h % CPE_OUIS.len() as u64) as usize],
    };
    // Multiplying by an odd constant is a bijection modulo 2^24, so the low
    // three octets are unique per subscriber while still looking random.
    let low = (global as u32).wrapping_mul(0x9E37_79B1) & 0x00FF_FFFF;
    format!(
        "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
        oui[0],
        oui[1],
        oui[2],
        (low >> 16) as u8,
        (low >> 8) as u8,
        low as u8
    )
}

pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Each subscriber gets independent random streams, so one household's draws
/// never shift another's and the plan (kind and counts) is independent of the
/// slot details.
fn sub_rng(seed: u64, global: usize, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix(splitmix(seed ^ (stream << 56)) ^ global as u64))
}

/// What kind of traffic a group of slots carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Normal,
    Vpn,
    P2p,
    /// The home router's own DNS forwarding and NTP.
    RouterSelf,
}

#[derive(Debug, Clone, Copy)]
struct Group {
    seen_ttl: u8,
    count: u32,
    flavor: Flavor,
}

#[derive(Debug, Clone)]
struct Plan {
    kind: HouseholdKind,
    groups: Vec<Group>,
}

impl Plan {
    fn total(&self) -> usize {
        self.groups.iter().map(|g| g.count as usize).sum()
    }
}

/// Relative kind weights on a PPPoE NAS (legitimate, then sharing).
const PPPOE_LEGIT: [(HouseholdKind, f64); 9] = [
    (HouseholdKind::SingleDevice, 30.0),
    (HouseholdKind::MixedOsFamily, 30.0),
    (HouseholdKind::HeavyHousehold, 7.0),
    (HouseholdKind::VpnUser, 9.0),
    (HouseholdKind::MeshWifi, 10.0),
    (HouseholdKind::P2pUser, 3.0),
    (HouseholdKind::BridgedPc, 6.0),
    (HouseholdKind::NetworkGear, 8.0),
    (HouseholdKind::GamingHousehold, 6.0),
];
const PPPOE_SHARING: [(HouseholdKind, f64); 5] = [
    (HouseholdKind::RouterBehindRouter, 35.0),
    (HouseholdKind::SeveralHouseholds, 18.0),
    (HouseholdKind::TtlRewriter, 27.0),
    (HouseholdKind::BridgedSharingPc, 10.0),
    (HouseholdKind::LightSecondRouter, 10.0),
];

/// Plans every subscriber: (nas, index within nas, plan), in NAS order.
fn plan_all(spec: &PopulationSpec) -> Vec<(usize, usize, Plan)> {
    let nas_count = spec.nas.len();
    if nas_count == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(spec.subscribers);
    let share = spec.sharing_share.clamp(0.0, 1.0);
    for (nas, nas_spec) in spec.nas.iter().enumerate() {
        let n = spec.subscribers / nas_count + usize::from(nas < spec.subscribers % nas_count);
        // Kinds are assigned by exact quota and then shuffled, so every NAS has
        // the configured mix exactly (up to rounding) rather than by chance.
        let mut kinds = match nas_spec.access {
            Access::Pppoe => {
                let mut weights: Vec<(HouseholdKind, f64)> = Vec::new();
                let legit_sum: f64 = PPPOE_LEGIT.iter().map(|w| w.1).sum();
                let sharing_sum: f64 = PPPOE_SHARING.iter().map(|w| w.1).sum();
                weights.extend(
                    PPPOE_LEGIT
                        .iter()
                        .map(|&(k, w)| (k, (1.0 - share) * w / legit_sum)),
                );
                weights.extend(
                    PPPOE_SHARING
                        .iter()
                        .map(|&(k, w)| (k, share * w / sharing_sum)),
                );
                quota(n, &weights)
            }
            Access::Hotspot => quota(
                n,
                &[
                    (HouseholdKind::SingleDevice, 1.0 - share),
                    (HouseholdKind::HotspotTethering, share * 0.7),
                    (HouseholdKind::LightTethering, share * 0.3),
                ],
            ),
        };
        let mut nas_rng = ChaCha8Rng::seed_from_u64(splitmix(spec.seed ^ 0x4E41_5300 ^ nas as u64));
        kinds.shuffle(&mut nas_rng);
        for (local, kind) in kinds.into_iter().enumerate() {
            let global = out.len();
            let mut rng = sub_rng(spec.seed, global, 1);
            let plan = plan_household(kind, nas_spec.access, spec.connection_scale, &mut rng);
            out.push((nas, local, plan));
        }
    }
    out
}

fn planned_total(spec: &PopulationSpec) -> usize {
    plan_all(spec).iter().map(|(_, _, p)| p.total()).sum()
}

/// Largest-remainder apportionment of `n` items over `weights` (summing to 1).
fn quota(n: usize, weights: &[(HouseholdKind, f64)]) -> Vec<HouseholdKind> {
    let total: f64 = weights.iter().map(|w| w.1).sum();
    if total <= 0.0 {
        return vec![HouseholdKind::SingleDevice; n];
    }
    let exact: Vec<f64> = weights.iter().map(|w| w.1 / total * n as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.partial_cmp(&ra).unwrap_or(std::cmp::Ordering::Equal)
    });
    // Flooring loses less than one item per weight, so one pass suffices.
    let missing = n.saturating_sub(counts.iter().sum());
    for &i in order.iter().take(missing) {
        counts[i] += 1;
    }
    let mut out = Vec::with_capacity(n);
    for (i, &(k, _)) in weights.iter().enumerate() {
        out.extend(std::iter::repeat_n(k, counts[i]));
    }
    out.truncate(n);
    out
}

/// A draw in `lo..=hi` skewed towards the low end with a long tail, the shape
/// real per-household connection counts have.
fn draw(rng: &mut ChaCha8Rng, lo: u32, hi: u32) -> u32 {
    let u: f64 = rng.gen();
    let v = lo as f64 * (hi as f64 / lo as f64).powf(u.powf(2.5));
    (v.round() as u32).clamp(lo, hi)
}

fn scale(n: u32, s: f64) -> u32 {
    ((n as f64 * s).round() as u32).max(1)
}

/// An OS family's initial TTL: 64 for Linux/Android/iOS/macOS, 128 for Windows.
fn family(rng: &mut ChaCha8Rng, p64: f64) -> u8 {
    if rng.gen_bool(p64) {
        64
    } else {
        128
    }
}

/// Splits `total` slots over devices with random weights; every device gets at
/// least one slot while there are slots to give.
fn spread(rng: &mut ChaCha8Rng, total: u32, ttls: &[u8], flavor: Flavor, out: &mut Vec<Group>) {
    if ttls.is_empty() || total == 0 {
        return;
    }
    let weights: Vec<f64> = ttls.iter().map(|_| rng.gen_range(1.0..4.0)).collect();
    let sum: f64 = weights.iter().sum();
    let mut given = 0u32;
    for (i, (&ttl, w)) in ttls.iter().zip(&weights).enumerate() {
        let remaining_devices = (ttls.len() - i - 1) as u32;
        let count = if remaining_devices == 0 {
            total - given
        } else {
            let share = ((total as f64) * w / sum).round() as u32;
            share
                .max(1)
                .min(total.saturating_sub(given + remaining_devices))
        };
        if count > 0 {
            out.push(Group {
                seen_ttl: ttl,
                count,
                flavor,
            });
        }
        given += count;
    }
}

/// Home-router self-traffic: the router's DNS forwarder and NTP client speak
/// from the router itself, so they arrive with an undecremented TTL.
fn router_self(rng: &mut ChaCha8Rng, ttl: u8, out: &mut Vec<Group>) {
    out.push(Group {
        seen_ttl: ttl,
        count: rng.gen_range(1..=3),
        flavor: Flavor::RouterSelf,
    });
}

fn devices(rng: &mut ChaCha8Rng, n: usize, hops: u8, mixed: bool) -> Vec<u8> {
    (0..n)
        .map(|i| {
            let fam = if mixed && i == 0 {
                64
            } else if mixed && i == 1 {
                128
            } else {
                family(rng, 0.65)
            };
            fam - hops
        })
        .collect()
}

fn plan_household(kind: HouseholdKind, access: Access, s: f64, rng: &mut ChaCha8Rng) -> Plan {
    let mut g = Vec::new();
    match (kind, access) {
        (HouseholdKind::SingleDevice, Access::Hotspot) => {
            let fam = family(rng, 0.7);
            let n = scale(draw(rng, 10, 60), s);
            g.push(Group {
                seen_ttl: fam,
                count: n,
                flavor: Flavor::Normal,
            });
        }
        (HouseholdKind::HotspotTethering, _) => {
            let total = scale(draw(rng, 40, 300), s);
            let phone = ((rng.gen_range(0..=8) as f64 * s).round() as u32).min(total - 1);
            let n_tethered = rng.gen_range(1..=3);
            let tethered = devices(rng, n_tethered, 1, false);
            if phone > 0 {
                g.push(Group {
                    seen_ttl: 64,
                    count: phone,
                    flavor: Flavor::Normal,
                });
            }
            spread(rng, total - phone, &tethered, Flavor::Normal, &mut g);
        }
        (HouseholdKind::SingleDevice, Access::Pppoe) => {
            let fam = family(rng, 0.7);
            let n = scale(draw(rng, 10, 50), s);
            g.push(Group {
                seen_ttl: fam - 1,
                count: n,
                flavor: Flavor::Normal,
            });
            router_self(rng, 64, &mut g);
        }
        (HouseholdKind::MixedOsFamily, _) => {
            let d = rng.gen_range(3..=6);
            let mut ttls = devices(rng, d, 1, true);
            // Some families run a virtual machine behind its host's NAT: one
            // more hop for that "device", with nobody else in the house.
            if rng.gen_bool(0.04) {
                ttls.push(family(rng, 0.5) - 2);
            }
            let n = scale(draw(rng, 30, 150), s);
            spread(rng, n, &ttls, Flavor::Normal, &mut g);
            router_self(rng, 64, &mut g);
        }
        (HouseholdKind::HeavyHousehold, _) => {
            let d = rng.gen_range(6..=15);
            let ttls = devices(rng, d, 1, true);
            // A long tail: a few large families do cross the panel's 800.
            let n = scale(draw(rng, 250, 850), s);
            spread(rng, n, &ttls, Flavor::Normal, &mut g);
            router_self(rng, 64, &mut g);
        }
        (HouseholdKind::VpnUser, _) => {
            let n = scale(draw(rng, 3, 20), s);
            if rng.gen_bool(0.2) {
                // The tunnel runs on the home router: every packet the NAS sees
                // is the router's own, at an OS default TTL.
                g.push(Group {
                    seen_ttl: 64,
                    count: n,
                    flavor: Flavor::Vpn,
                });
            } else {
                let fam = family(rng, 0.7);
                g.push(Group {
                    seen_ttl: fam - 1,
                    count: n,
                    flavor: Flavor::Vpn,
                });
                router_self(rng, 64, &mut g);
            }
        }
        (HouseholdKind::MeshWifi, _) => {
            let d = rng.gen_range(2..=6);
            let mut ttls = devices(rng, d, 2, false);
            // Often the main router serves a device or two itself while the
            // mesh (in router mode) serves the rest: two distances, one home.
            if rng.gen_bool(0.3) {
                let on_main = rng.gen_range(1..=2);
                ttls.extend(devices(rng, on_main, 1, false));
            }
            let n = scale(draw(rng, 30, 250), s);
            spread(rng, n, &ttls, Flavor::Normal, &mut g);
            router_self(rng, 64, &mut g);
        }
        (HouseholdKind::P2pUser, _) => {
            let d = rng.gen_range(1..=3);
            let ttls = devices(rng, d, 1, false);
            let normal = scale(draw(rng, 30, 150), s);
            let p2p = scale(draw(rng, 300, 1800), s);
            spread(rng, normal, &ttls, Flavor::Normal, &mut g);
            g.push(Group {
                seen_ttl: ttls[0],
                count: p2p,
                flavor: Flavor::P2p,
            });
            router_self(rng, 64, &mut g);
        }
        (HouseholdKind::RouterBehindRouter, _) => {
            let home_n = rng.gen_range(2..=4);
            let home = devices(rng, home_n, 1, false);
            let second_n = rng.gen_range(1..=4);
            let second = devices(rng, second_n, 2, false);
            let total = scale(draw(rng, 200, 700), s).max(8);
            let mut own = Vec::new();
            router_self(rng, 64, &mut own);
            // Usually a real second household; sometimes one that is nearly
            // idle at scan time and shows only a few connections.
            let f: f64 = if rng.gen_bool(0.1) {
                rng.gen_range(0.02..0.08)
            } else {
                rng.gen_range(0.3..0.7)
            };
            let n2 = ((total as f64 * f).ceil() as u32).clamp(1, total - 1);
            spread(rng, total - n2, &home, Flavor::Normal, &mut g);
            spread(rng, n2, &second, Flavor::Normal, &mut g);
            g.extend(own);
        }
        (HouseholdKind::SeveralHouseholds, _) => {
            let home_n = rng.gen_range(1..=3);
            let home = devices(rng, home_n, 1, false);
            let households = rng.gen_range(2..=4usize);
            let total = scale(draw(rng, 400, 1500), s).max(households as u32 + 1);
            let home_share: f64 = rng.gen_range(0.15..0.4);
            let n_home =
                ((total as f64 * home_share).round() as u32).clamp(1, total - households as u32);
            spread(rng, n_home, &home, Flavor::Normal, &mut g);
            let weights: Vec<f64> = (0..households).map(|_| rng.gen_range(1.0..3.0)).collect();
            let wsum: f64 = weights.iter().sum();
            let rest = total - n_home;
            let mut given = 0u32;
            for (h, w) in weights.iter().enumerate() {
                // Both depths always occur: one neighbour two routers away, one three.
                let hops = match h {
                    0 => 2,
                    1 => 3,
                    _ => rng.gen_range(2..=3),
                };
                let nd = rng.gen_range(1..=4);
                let ttls = devices(rng, nd, hops, false);
                let count = if h + 1 == households {
                    rest - given
                } else {
                    ((rest as f64 * w / wsum).round() as u32)
                        .max(1)
                        .min(rest.saturating_sub(given + (households - h - 1) as u32))
                };
                spread(rng, count, &ttls, Flavor::Normal, &mut g);
                given += count;
            }
            router_self(rng, 64, &mut g);
        }
        (HouseholdKind::BridgedPc, _) => {
            let fam = family(rng, 0.3);
            let n = scale(draw(rng, 20, 250), s);
            g.push(Group {
                seen_ttl: fam,
                count: n,
                flavor: Flavor::Normal,
            });
        }
        (HouseholdKind::BridgedSharingPc, _) => {
            // Windows shares: the PC's own traffic at 128, its clients one
            // hop behind it.
            let own = scale(draw(rng, 20, 120), s);
            g.push(Group {
                seen_ttl: 128,
                count: own,
                flavor: Flavor::Normal,
            });
            let n_clients = rng.gen_range(1..=4);
            let clients = devices(rng, n_clients, 1, false);
            let n = scale(draw(rng, 40, 300), s).max(n_clients as u32);
            spread(rng, n, &clients, Flavor::Normal, &mut g);
        }
        (HouseholdKind::NetworkGear, _) => {
            let d = rng.gen_range(2..=5);
            let mut ttls = devices(rng, d, 1, false);
            let gear = rng.gen_range(1..=3);
            ttls.extend(std::iter::repeat_n(254, gear));
            let n = scale(draw(rng, 30, 200), s);
            spread(rng, n, &ttls, Flavor::Normal, &mut g);
            // Some ONT-routers send their own traffic at 255.
            let own = if rng.gen_bool(0.3) { 255 } else { 64 };
            router_self(rng, own, &mut g);
        }
        (HouseholdKind::GamingHousehold, _) => {
            let console = family(rng, 0.4) - 1;
            let n = scale(draw(rng, 200, 700), s);
            g.push(Group {
                seen_ttl: console,
                count: n,
                flavor: Flavor::Normal,
            });
            let d = rng.gen_range(1..=3);
            let others = devices(rng, d, 1, false);
            let m = scale(draw(rng, 20, 80), s);
            spread(rng, m, &others, Flavor::Normal, &mut g);
            router_self(rng, 64, &mut g);
        }
        (HouseholdKind::LightSecondRouter, _) => {
            let home_n = rng.gen_range(2..=4);
            let home = devices(rng, home_n, 1, false);
            let n = scale(draw(rng, 30, 150), s);
            spread(rng, n, &home, Flavor::Normal, &mut g);
            let nb = rng.gen_range(1..=2);
            let neighbour = devices(rng, nb, 2, false);
            let few = rng.gen_range(nb as u32..=4);
            spread(rng, few, &neighbour, Flavor::Normal, &mut g);
            router_self(rng, 64, &mut g);
        }
        (HouseholdKind::LightTethering, _) => {
            let phone = scale(draw(rng, 5, 40), s);
            g.push(Group {
                seen_ttl: 64,
                count: phone,
                flavor: Flavor::Normal,
            });
            let laptop = family(rng, 0.5) - 1;
            g.push(Group {
                seen_ttl: laptop,
                count: rng.gen_range(2..=8),
                flavor: Flavor::Normal,
            });
        }
        (HouseholdKind::TtlRewriter, _) => {
            let v = [(64u8, 4u32), (65, 3), (128, 2), (129, 1)];
            let pick = rng.gen_range(0..10);
            let mut acc = 0;
            let mut ttl = 64;
            for (value, weight) in v {
                acc += weight;
                if pick < acc {
                    ttl = value;
                    break;
                }
            }
            let n = scale(draw(rng, 150, 1000), s);
            g.push(Group {
                seen_ttl: ttl,
                count: n,
                flavor: Flavor::Normal,
            });
            // The rewriter touches the router's own packets too.
            router_self(rng, ttl, &mut g);
        }
    }
    Plan { kind, groups: g }
}

/// Public-looking /16 prefixes for ordinary web and QUIC traffic (CDNs and
/// large services). Only strings in a table: nothing is ever sent to them.
const WEB_PREFIXES: [[u8; 2]; 8] = [
    [93, 184],
    [151, 101],
    [104, 16],
    [142, 250],
    [157, 240],
    [13, 107],
    [23, 200],
    [185, 199],
];
const RESOLVERS: [[u8; 4]; 3] = [[1, 1, 1, 1], [8, 8, 8, 8], [9, 9, 9, 9]];
const NTP_SERVERS: [[u8; 4]; 2] = [[162, 159, 200, 1], [216, 239, 35, 0]];
/// The ISP's resolver and TR-069 ACS, in the shared address space an ISP
/// uses inside its own network.
const ISP_RESOLVER: [u8; 4] = [100, 64, 0, 53];
const ISP_ACS: [u8; 4] = [100, 64, 0, 10];
/// Ports a detector may whitelist as VPN or voice; p2p peers avoid them so
/// the p2p label is not confused with those.
pub(crate) const RESERVED_P2P_PORTS: [u16; 10] =
    [1194, 1701, 1723, 3478, 3479, 4500, 5060, 5061, 500, 51820];

fn web_addr(rng: &mut ChaCha8Rng) -> Ipv4Addr {
    let p = WEB_PREFIXES[rng.gen_range(0..WEB_PREFIXES.len())];
    Ipv4Addr::new(p[0], p[1], rng.gen(), rng.gen_range(1..255))
}

/// A random unicast address outside private, shared, loopback, link-local,
/// documentation, benchmark and multicast space.
fn peer_addr(rng: &mut ChaCha8Rng) -> Ipv4Addr {
    loop {
        let a: u8 = rng.gen_range(1..=223);
        if matches!(a, 10 | 100 | 127 | 169 | 172 | 192 | 198 | 203) {
            continue;
        }
        return Ipv4Addr::new(a, rng.gen(), rng.gen(), rng.gen_range(1..255));
    }
}

fn build_slots(plan: &Plan, rng: &mut ChaCha8Rng) -> Vec<Slot> {
    let mut slots = Vec::with_capacity(plan.total());
    // A VPN user talks to one server for the whole session.
    let vpn_server = {
        let addr = peer_addr(rng);
        let (proto, port) = match rng.gen_range(0..4) {
            0 => (Proto::Udp, 51820),
            1 => (Proto::Udp, 1194),
            2 => (Proto::Gre, 0),
            _ => (Proto::Tcp, 443),
        };
        (proto, SocketAddrV4::new(addr, port))
    };
    // "A handful" of resolvers per household: ISP DNS plus maybe a public one.
    let household_resolvers: Vec<Ipv4Addr> = (0..rng.gen_range(1..=3))
        .map(|_| RESOLVERS[rng.gen_range(0..RESOLVERS.len())].into())
        .collect();
    for group in &plan.groups {
        for _ in 0..group.count {
            let (protocol, dst, p2p) = match group.flavor {
                Flavor::Normal => {
                    let r: f64 = rng.gen();
                    if r < 0.60 {
                        (Proto::Tcp, SocketAddrV4::new(web_addr(rng), 443), false)
                    } else if r < 0.75 {
                        (Proto::Tcp, SocketAddrV4::new(web_addr(rng), 80), false)
                    } else if r < 0.90 {
                        (Proto::Udp, SocketAddrV4::new(web_addr(rng), 443), false)
                    } else {
                        let ip = household_resolvers[rng.gen_range(0..household_resolvers.len())];
                        (Proto::Udp, SocketAddrV4::new(ip, 53), false)
                    }
                }
                Flavor::Vpn => (vpn_server.0, vpn_server.1, false),
                Flavor::P2p => {
                    let r: f64 = rng.gen();
                    if r < 0.2 {
                        // Encrypted BitTorrent and other clients over TCP on
                        // random ports: P2P that a port heuristic misses.
                        let port = loop {
                            let p: u16 = rng.gen_range(10_000..=65_535);
                            if !RESERVED_P2P_PORTS.contains(&p) {
                                break p;
                            }
                        };
                        (Proto::Tcp, SocketAddrV4::new(peer_addr(rng), port), true)
                    } else if r < 0.9 {
                        let port = loop {
                            let p: u16 = rng.gen_range(1025..=65535);
                            if !RESERVED_P2P_PORTS.contains(&p) {
                                break p;
                            }
                        };
                        (Proto::Udp, SocketAddrV4::new(peer_addr(rng), port), true)
                    } else {
                        let port = rng.gen_range(6881..=6999);
                        (Proto::Tcp, SocketAddrV4::new(peer_addr(rng), port), true)
                    }
                }
                Flavor::RouterSelf => {
                    // One draw decides, as `gen_bool(0.7)` would: DNS (to
                    // the ISP's resolver that PPPoE hands out, or the
                    // household's own), else NTP, else (the top 2%) a
                    // connectivity ping; and some routers keep a TR-069
                    // session with the ISP's ACS.
                    let v = rng.next_u64();
                    if v < (0.08 * 18_446_744_073_709_551_616.0) as u64 {
                        (Proto::Tcp, SocketAddrV4::new(ISP_ACS.into(), 7547), false)
                    } else if v < (0.35 * 18_446_744_073_709_551_616.0) as u64 {
                        (
                            Proto::Udp,
                            SocketAddrV4::new(ISP_RESOLVER.into(), 53),
                            false,
                        )
                    } else if v < (0.7 * 18_446_744_073_709_551_616.0) as u64 {
                        let ip = household_resolvers[rng.gen_range(0..household_resolvers.len())];
                        (Proto::Udp, SocketAddrV4::new(ip, 53), false)
                    } else {
                        let ip: Ipv4Addr = NTP_SERVERS[rng.gen_range(0..NTP_SERVERS.len())].into();
                        if v < (0.98 * 18_446_744_073_709_551_616.0) as u64 {
                            (Proto::Udp, SocketAddrV4::new(ip, 123), false)
                        } else {
                            (Proto::Icmp, SocketAddrV4::new(ip, 0), false)
                        }
                    }
                }
            };
            let lifetime_s = rng.gen_range(60..=900);
            let phase_s = rng.gen_range(0..lifetime_s);
            slots.push(Slot {
                seen_ttl: group.seen_ttl,
                protocol,
                dst,
                p2p,
                lifetime_s,
                phase_s,
            });
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ttls(s: &SimSubscriber) -> BTreeSet<u8> {
        s.slots.iter().map(|x| x.seen_ttl).collect()
    }

    #[test]
    fn same_seed_same_population_other_seed_differs() {
        let a = generate(&PopulationSpec::demo());
        let b = generate(&PopulationSpec::demo());
        assert_eq!(a, b);
        let c = generate(&PopulationSpec {
            seed: 7,
            ..PopulationSpec::demo()
        });
        assert_ne!(a, c);
    }

    #[test]
    fn addresses_macs_names_and_session_ids_are_unique() {
        let p = generate(&PopulationSpec::scaled(3000, 4, 3));
        assert_eq!(p.subscribers.len(), 3000);
        for f in [
            |s: &SimSubscriber| s.address.to_string(),
            |s: &SimSubscriber| s.mac.clone(),
            |s: &SimSubscriber| s.name.clone(),
            |s: &SimSubscriber| s.session_id.clone(),
        ] {
            let set: BTreeSet<String> = p.subscribers.iter().map(f).collect();
            assert_eq!(set.len(), 3000);
        }
        for s in &p.subscribers {
            assert_eq!(s.address.octets()[1] as usize, s.nas + 1);
        }
    }

    #[test]
    fn kind_shares_follow_the_spec() {
        let spec = PopulationSpec::scaled(4000, 4, 11);
        let p = generate(&spec);
        for nas in 0..4 {
            let subs = p.nas_subscribers(nas);
            assert_eq!(subs.len(), 1000);
            let sharing = subs.iter().filter(|s| s.kind.is_sharing()).count();
            assert_eq!(sharing, 120, "nas {nas}");
            match p.nas[nas].access {
                Access::Hotspot => assert!(subs.iter().all(|s| matches!(
                    s.kind,
                    HouseholdKind::SingleDevice
                        | HouseholdKind::HotspotTethering
                        | HouseholdKind::LightTethering
                ))),
                Access::Pppoe => {
                    assert!(subs
                        .iter()
                        .all(|s| s.kind != HouseholdKind::HotspotTethering));
                    let single = subs
                        .iter()
                        .filter(|s| s.kind == HouseholdKind::SingleDevice)
                        .count();
                    // 880 legitimate × 30/109.
                    assert!((236..=248).contains(&single), "{single}");
                }
            }
        }
    }

    #[test]
    fn ttl_signatures_match_each_kind() {
        let p = generate(&PopulationSpec::scaled(6000, 4, 5));
        for s in &p.subscribers {
            let t = ttls(s);
            let hotspot = p.nas[s.nas].access == Access::Hotspot;
            let home = |x: &u8| matches!(x, 63 | 127);
            match s.kind {
                HouseholdKind::SingleDevice if hotspot => {
                    assert_eq!(t.len(), 1);
                    assert!(t.iter().all(|x| matches!(x, 64 | 128)));
                }
                HouseholdKind::SingleDevice => {
                    assert!(t.contains(&64));
                    assert_eq!(t.iter().filter(|x| home(x)).count(), 1);
                    assert_eq!(t.len(), 2);
                }
                HouseholdKind::VpnUser => {
                    assert!(t.contains(&64));
                    assert!(t.iter().filter(|x| home(x)).count() <= 1);
                }
                HouseholdKind::MixedOsFamily | HouseholdKind::HeavyHousehold => {
                    assert!(t.contains(&63) && t.contains(&127) && t.contains(&64));
                    assert!(t.iter().all(|x| matches!(x, 62 | 63 | 64 | 126 | 127)));
                    if s.kind == HouseholdKind::HeavyHousehold {
                        assert_eq!(t.len(), 3);
                        assert!(s.slots.len() <= 860);
                    }
                }
                HouseholdKind::MeshWifi => {
                    assert!(t.iter().all(|x| matches!(x, 62 | 63 | 126 | 127 | 64)));
                    assert!(t.iter().any(|x| matches!(x, 62 | 126)));
                }
                HouseholdKind::P2pUser => {
                    let p2p = s.slots.iter().filter(|x| x.p2p).count();
                    assert!(p2p >= 200);
                    assert!(t.iter().all(|x| matches!(x, 63 | 127 | 64)));
                }
                HouseholdKind::RouterBehindRouter => {
                    let second = s
                        .slots
                        .iter()
                        .filter(|x| matches!(x.seen_ttl, 62 | 126))
                        .count();
                    assert!(second >= 1);
                    assert!(t.iter().all(|x| matches!(x, 63 | 127 | 62 | 126 | 64)));
                }
                HouseholdKind::SeveralHouseholds => {
                    assert!(t.iter().any(|x| matches!(x, 62 | 126)));
                    assert!(t.iter().any(|x| matches!(x, 61 | 125)));
                }
                HouseholdKind::TtlRewriter => {
                    assert_eq!(t.len(), 1);
                    assert!(t.iter().all(|x| matches!(x, 64 | 65 | 128 | 129)));
                }
                HouseholdKind::HotspotTethering | HouseholdKind::LightTethering => {
                    assert!(hotspot);
                    assert!(t.iter().all(|x| matches!(x, 64 | 63 | 127)));
                    assert!(t.iter().any(|x| matches!(x, 63 | 127)));
                    if s.kind == HouseholdKind::LightTethering {
                        let tethered = s.slots.iter().filter(|x| x.seen_ttl != 64).count();
                        assert!((2..=8).contains(&tethered), "{tethered}");
                    }
                }
                HouseholdKind::BridgedPc => {
                    assert_eq!(t.len(), 1);
                    assert!(t.iter().all(|x| matches!(x, 64 | 128)));
                    assert!(PC_OUIS.iter().any(|o| s
                        .mac
                        .starts_with(&format!("{:02X}:{:02X}:{:02X}", o[0], o[1], o[2]))));
                }
                HouseholdKind::BridgedSharingPc => {
                    assert!(t.contains(&128));
                    assert!(t.iter().any(|x| matches!(x, 63 | 127)));
                    assert!(t.iter().all(|x| matches!(x, 128 | 63 | 127)));
                }
                HouseholdKind::NetworkGear => {
                    assert!(t.contains(&254));
                    assert!(t.contains(&64) || t.contains(&255));
                    assert!(t.iter().all(|x| matches!(x, 63 | 127 | 254 | 64 | 255)));
                }
                HouseholdKind::GamingHousehold => {
                    // The console carries most of the household's connections.
                    let top = t
                        .iter()
                        .map(|v| s.slots.iter().filter(|x| x.seen_ttl == *v).count())
                        .max()
                        .unwrap_or(0);
                    assert!(top * 3 >= s.slots.len() * 2, "{top} of {}", s.slots.len());
                    assert!(t.iter().all(|x| matches!(x, 63 | 127 | 64)));
                }
                HouseholdKind::LightSecondRouter => {
                    let neighbour = s
                        .slots
                        .iter()
                        .filter(|x| matches!(x.seen_ttl, 62 | 126))
                        .count();
                    assert!((1..=4).contains(&neighbour), "{neighbour}");
                }
            }
            for slot in &s.slots {
                assert!((60..=900).contains(&slot.lifetime_s));
                assert!(slot.phase_s < slot.lifetime_s);
                if slot.p2p {
                    assert!(slot.dst.port() > 1024);
                    assert!(!RESERVED_P2P_PORTS.contains(&slot.dst.port()));
                }
            }
        }
    }

    #[test]
    fn scaled_population_size_is_in_the_benchmark_range() {
        let unscaled = planned_total(&PopulationSpec {
            connection_scale: 1.0,
            ..PopulationSpec::scaled(30_000, 8, 1)
        });
        let spec = PopulationSpec::scaled(30_000, 8, 1);
        let p = generate(&spec);
        let total = p.total_slots();
        println!(
            "scaled(30000, 8, 1): {total} slots at connection_scale {:.3}; {unscaled} at 1.0",
            spec.connection_scale
        );
        assert!((2_000_000..=3_000_000).contains(&unscaled), "{unscaled}");
        assert!((2_300_000..=2_500_000).contains(&total), "{total}");
    }

    #[test]
    fn target_connections_are_met() {
        let spec = PopulationSpec {
            subscribers: 2000,
            nas: vec![NasSpec {
                name: "big".into(),
                access: Access::Pppoe,
            }],
            ..PopulationSpec::demo()
        }
        .with_target_connections(300_000);
        let total = generate(&spec).total_slots();
        assert!((297_000..=303_000).contains(&total), "{total}");
    }
}
