//! The state of one simulated NAS: sessions, stored menus, compiled mangle
//! rules, faults, and the read-only views the API serves.
//!
//! Everything here is synchronous and guarded by short-lived std locks; the
//! async servers take snapshots and never hold a lock across an await. When
//! both are needed, `tables` is locked before `sessions`.
//!
//! Each session carries its injected [`Load`] and a byte [`Meter`]. Anything
//! that may change a session's effective rate (CoA, load, static queues,
//! filter rules, address lists, disconnect/reconnect) folds the meter and
//! recomputes the rate and ban end from the tables in one place,
//! [`NasState::refresh`], so counters stay consistent between reads.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use crate::bans::{take_timeout, BanSet, ConnCaps, Timeouts};
use crate::clock::{current, SimClock};
use crate::evening::Evening;
use crate::fmt::{datetime_string, duration_string, id_string};
use crate::load::{ConnView, Installed, Load};
use crate::population::{splitmix, Access, Population, SimSubscriber};
use crate::rules::{Compiled, ConnCtx, TtlMatch};
use crate::tables::{item_row, Table};
use crate::usage::{self, Meter, QueueCaps, Rate};

/// A misbehaviour a test can ask a NAS to show once.
///
/// Every fault fires once and then clears itself, so a client's retry sees a
/// healthy router, which is what a reconnect test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// The next connection print sends this many rows, then nothing more,
    /// while the socket stays open.
    StallAfterRows(usize),
    /// The next connection print sends this many rows, then the socket closes.
    CloseAfterRows(usize),
    /// The next connection print sends this many rows, then a reserved
    /// control byte (0xF8) and junk, then closes.
    GarbageAfterRows(usize),
    /// The next connection print announces a 64 MiB word and sends part of it.
    OversizedWord,
    /// The next print of any menu gets `!fatal` and the socket closes.
    FatalOnPrint,
    /// The next print of any menu first gets a sentence opening with `!bogus`.
    MalformedReply,
    /// The next login is answered only after this delay.
    SlowLogin(Duration),
}

/// Which request is asking for a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultPoint {
    ConnectionPrint,
    /// A `count-only` print of the connection table: no rows stream, so
    /// only the faults of every print apply, not those of the row stream.
    ConnectionCount,
    OtherPrint,
    Login,
}

/// RADIUS counters of one NAS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RadiusStats {
    pub received: u64,
    pub acked: u64,
    pub naked: u64,
    /// Requests whose authenticator did not verify with the shared secret.
    pub dropped_bad_auth: u64,
    /// Requests that were not RADIUS, or not Disconnect/CoA requests.
    pub dropped_malformed: u64,
    /// Retransmissions answered from the duplicate cache.
    pub duplicates: u64,
}

#[derive(Debug, Default)]
pub(crate) struct RadiusCounters {
    pub received: AtomicU64,
    pub acked: AtomicU64,
    pub naked: AtomicU64,
    pub dropped_bad_auth: AtomicU64,
    pub dropped_malformed: AtomicU64,
    pub duplicates: AtomicU64,
    /// Replies still to be lost on the way back (the request is applied).
    pub lose_replies: AtomicU64,
}

impl RadiusCounters {
    pub fn snapshot(&self) -> RadiusStats {
        RadiusStats {
            received: self.received.load(Ordering::Relaxed),
            acked: self.acked.load(Ordering::Relaxed),
            naked: self.naked.load(Ordering::Relaxed),
            dropped_bad_auth: self.dropped_bad_auth.load(Ordering::Relaxed),
            dropped_malformed: self.dropped_malformed.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub online: bool,
    /// The address the session holds: the population's at first, another
    /// pool address after a redial.
    pub address: Ipv4Addr,
    pub since_ms: u64,
    pub rate_limit: Option<String>,
    /// Injected abuse load; kept across disconnects, like the household.
    pub load: Option<Installed>,
    pub meter: Meter,
    /// A `connection-limit` cap on the address and when it ends.
    pub conn_cap: Option<(u32, u64)>,
    /// When a client last removed this session's connections from the
    /// connection table (`/ip firewall connection remove`).
    pub flushed_ms: Option<u64>,
    /// The same for the IPv6 table (`/ipv6 firewall connection remove`).
    pub flushed6_ms: Option<u64>,
    /// How often the session was redialled (a new delegated prefix each
    /// time, when prefixes move).
    pub redials: u16,
}

/// `.id`s of dynamic simple queues: `DYNAMIC_QUEUE_BASE + local`.
const DYNAMIC_QUEUE_BASE: u64 = 0x0100_0000;

/// The stored menus of a NAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Menu {
    Mangle,
    Filter,
    AddressList,
    Queue,
    Layer7,
    /// `/ipv6 firewall mangle`, filter and address-list: the same menus
    /// for IPv6, with `hop-limit` where IPv4 has `ttl`.
    Mangle6,
    Filter6,
    AddressList6,
}

impl Menu {
    pub fn from_table_name(name: &str) -> Option<Self> {
        Some(match name {
            "mangle" => Self::Mangle,
            "filter" => Self::Filter,
            "address-list" => Self::AddressList,
            "queue" | "queue-simple" => Self::Queue,
            "layer7-protocol" => Self::Layer7,
            "ipv6-mangle" => Self::Mangle6,
            "ipv6-filter" => Self::Filter6,
            "ipv6-address-list" => Self::AddressList6,
            _ => return None,
        })
    }

    pub fn is_ipv6(self) -> bool {
        matches!(self, Self::Mangle6 | Self::Filter6 | Self::AddressList6)
    }

    pub fn is_address_list(self) -> bool {
        matches!(self, Self::AddressList | Self::AddressList6)
    }
}

struct Tables {
    mangle: Table,
    filter: Table,
    address_list: Table,
    queue: Table,
    layer7: Table,
    mangle6: Table,
    filter6: Table,
    address_list6: Table,
    /// Deadlines of address-list entries added with a timeout.
    timeouts: Timeouts,
    timeouts6: Timeouts,
    /// Dynamic address-list entries removed by a client: (list, address) →
    /// sim time of removal. Only connections that start later add them back.
    suppressed: HashMap<(String, Ipv4Addr), u64>,
    /// Static queues placed before a session's dynamic queue: queue id →
    /// the subscriber whose dynamic queue they sit above.
    queue_anchor: HashMap<u64, usize>,
}

/// What the tables impose on sessions at one moment.
struct Limits {
    caps: QueueCaps,
    bans: BanSet,
    conn_caps: ConnCaps,
}

/// What RouterOS answers for changing the FastTrack counter rule.
pub(crate) const CANNOT_CHANGE_BUILTIN: &str = "failure: cannot change builtin";
/// What it answers for changing a rule a hotspot server added.
pub(crate) const CANNOT_CHANGE_DYNAMIC: &str = "failure: cannot change dynamic";

impl Tables {
    /// The tables of a freshly configured router: with FastTrack, its
    /// builtin counter rules lead filter and mangle and the default
    /// configuration's fast-track and accept rules follow in filter; a
    /// hotspot server adds its dynamic jumps at the top of filter.
    fn seeded(model: &crate::RouterModel, access: Access) -> Self {
        let mut t = Tables {
            mangle: Table::new(1),
            filter: Table::new(0x100),
            address_list: Table::new(0x200),
            queue: Table::new(0x300),
            layer7: Table::new(0x400),
            mangle6: Table::new(0x500),
            filter6: Table::new(0x600),
            address_list6: Table::new(0x700),
            timeouts: Timeouts::default(),
            timeouts6: Timeouts::default(),
            suppressed: HashMap::new(),
            queue_anchor: HashMap::new(),
        };
        const DUMMY: &str = "special dummy rule to show fasttrack counters";
        if model.fasttrack {
            t.filter.add_locked(
                &[
                    ("chain", "forward"),
                    ("action", "passthrough"),
                    ("comment", DUMMY),
                ],
                CANNOT_CHANGE_BUILTIN,
            );
            t.mangle.add_locked(
                &[
                    ("chain", "prerouting"),
                    ("action", "passthrough"),
                    ("comment", DUMMY),
                ],
                CANNOT_CHANGE_BUILTIN,
            );
        }
        if access == Access::Hotspot {
            for (chain, target, hotspot) in [
                ("input", "hs-input", "from-client"),
                ("forward", "hs-unauth", "from-client,!auth"),
            ] {
                t.filter.add_locked(
                    &[
                        ("chain", chain),
                        ("action", "jump"),
                        ("jump-target", target),
                        ("hotspot", hotspot),
                        ("comment", "place hotspot rules here"),
                    ],
                    CANNOT_CHANGE_DYNAMIC,
                );
            }
        }
        if model.fasttrack {
            let add = |t: &mut Table, attrs: &[(&str, &str)]| {
                let attrs: Vec<(String, String)> = attrs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let _ = t.add(&attrs, None, 0);
            };
            add(
                &mut t.filter,
                &[
                    ("chain", "forward"),
                    ("action", "fasttrack-connection"),
                    ("connection-state", "established,related"),
                    ("hw-offload", "true"),
                    ("comment", "defconf: fasttrack"),
                ],
            );
            add(
                &mut t.filter,
                &[
                    ("chain", "forward"),
                    ("action", "accept"),
                    ("connection-state", "established,related,untracked"),
                    ("comment", "defconf: accept established,related, untracked"),
                ],
            );
        }
        if model.ipv6.is_some() {
            t.seed_ipv6(model);
        }
        t
    }

    /// IPv6's default configuration: accept established, related and
    /// untracked in forward. With `ipv6_fasttrack`, FastTrack's builtin
    /// counter rules and a fast-track rule as for IPv4 (RouterOS 7.18
    /// and later; assumed on by default, the stricter case).
    fn seed_ipv6(&mut self, model: &crate::RouterModel) {
        const DUMMY: &str = "special dummy rule to show fasttrack counters";
        let fasttrack = model.fasttrack && model.ipv6_fasttrack;
        if fasttrack {
            for (table, chain) in [
                (&mut self.filter6, "forward"),
                (&mut self.mangle6, "prerouting"),
            ] {
                table.add_locked(
                    &[
                        ("chain", chain),
                        ("action", "passthrough"),
                        ("comment", DUMMY),
                    ],
                    CANNOT_CHANGE_BUILTIN,
                );
            }
        }
        let mut rules: Vec<Vec<(&str, &str)>> = Vec::new();
        if fasttrack {
            rules.push(vec![
                ("chain", "forward"),
                ("action", "fasttrack-connection"),
                ("connection-state", "established,related"),
                ("comment", "defconf: fasttrack6"),
            ]);
        }
        rules.push(vec![
            ("chain", "forward"),
            ("action", "accept"),
            ("connection-state", "established,related,untracked"),
            ("comment", "defconf: accept established,related,untracked"),
        ]);
        for r in rules {
            let attrs: Vec<(String, String)> = r
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let _ = self.filter6.add(&attrs, None, 0);
        }
    }

    /// Forgets address-list entries whose timeout has run out.
    fn purge_expired(&mut self, now: u64) {
        self.timeouts.purge(&mut self.address_list, now);
        self.timeouts6.purge(&mut self.address_list6, now);
    }

    /// The timeouts of an address-list menu's entries.
    fn timeouts_mut(&mut self, m: Menu) -> &mut Timeouts {
        if m.is_ipv6() {
            &mut self.timeouts6
        } else {
            &mut self.timeouts
        }
    }

    fn get_mut(&mut self, m: Menu) -> &mut Table {
        match m {
            Menu::Mangle => &mut self.mangle,
            Menu::Filter => &mut self.filter,
            Menu::AddressList => &mut self.address_list,
            Menu::Queue => &mut self.queue,
            Menu::Layer7 => &mut self.layer7,
            Menu::Mangle6 => &mut self.mangle6,
            Menu::Filter6 => &mut self.filter6,
            Menu::AddressList6 => &mut self.address_list6,
        }
    }

    fn get(&self, m: Menu) -> &Table {
        match m {
            Menu::Mangle => &self.mangle,
            Menu::Filter => &self.filter,
            Menu::AddressList => &self.address_list,
            Menu::Queue => &self.queue,
            Menu::Layer7 => &self.layer7,
            Menu::Mangle6 => &self.mangle6,
            Menu::Filter6 => &self.filter6,
            Menu::AddressList6 => &self.address_list6,
        }
    }
}

/// Settings shared by every NAS of a network.
#[derive(Debug, Clone)]
pub(crate) struct NasSettings {
    pub username: String,
    pub password: String,
    pub ros_version: String,
    pub router: crate::RouterModel,
}

/// One printable row: ordered (name, value) pairs.
pub(crate) type Row = Vec<(String, String)>;

/// A dynamic address-list entry derived from the current connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DynEntry {
    pub id: u64,
    pub list: String,
    pub address: Ipv4Addr,
    pub created_ms: u64,
    pub timeout_left_ms: Option<u64>,
}

pub(crate) struct NasState {
    pub index: usize,
    pub name: String,
    pub access: Access,
    pub pop: Arc<Population>,
    /// Global index of this NAS's first subscriber.
    pub first: usize,
    pub count: usize,
    /// NAS-local number of each subscriber's first slot (for connection ids).
    pub slot_base: Vec<u64>,
    pub total_slots: u64,
    by_name: HashMap<String, usize>,
    by_session: HashMap<String, usize>,
    pub clock: Arc<SimClock>,
    pub settings: NasSettings,
    /// RouterOS 7.18 and later answer an empty print with `!empty`.
    pub sends_empty: bool,
    /// The most connection rows per second the router prints (0: as fast
    /// as it can): a mid-range router serving its subscribers while it
    /// prints a big table is far slower than the simulator.
    pub rows_per_second: std::sync::atomic::AtomicU32,
    pub boot_ms: u64,
    sessions: RwLock<Vec<Session>>,
    tables: Mutex<Tables>,
    compiled: RwLock<Arc<Compiled>>,
    compiled6: RwLock<Arc<Compiled>>,
    fault: Mutex<Fault>,
    pub radius: RadiusCounters,
    /// Next free extra-connection slot number (see [`crate::load`]).
    next_xslot: AtomicU64,
    /// Next free address of the spare pool redials draw from.
    next_spare: AtomicU64,
    /// Addresses sessions held before a redial, for the address-list
    /// entries their connections left behind.
    tenures: Mutex<Vec<Tenure>>,
    /// Second (and further) concurrent sessions of accounts.
    extra_sessions: RwLock<Vec<ExtraSession>>,
    /// Households coming home over the evening (the demo); `None` keeps
    /// every household at its peak.
    evening: RwLock<Option<Evening>>,
}

/// A further concurrent session of an account (`only-one=no`), dialled
/// from another household's router: its own caller-id and address, and that
/// household's connections (the simulator gives it the account's own
/// connection slots again).
#[derive(Debug, Clone)]
pub(crate) struct ExtraSession {
    pub local: usize,
    pub address: Ipv4Addr,
    pub mac: String,
    pub since_ms: u64,
}

/// `.id`s of an extra session's connections start here, between the
/// subscribers' and the uplink's.
pub(crate) const EXTRA_SESSION_ID_BASE: u64 = 1 << 45;

/// An address a session held until it redialled.
#[derive(Debug, Clone, Copy)]
struct Tenure {
    local: usize,
    address: Ipv4Addr,
    from_ms: u64,
    until_ms: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `7.18.2` → (7, 18); anything unparsable counts as the newest.
fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    match (parts.next(), parts.next()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        (Some(a), None) => a > major,
        _ => true,
    }
}

impl NasState {
    pub fn new(
        index: usize,
        pop: Arc<Population>,
        clock: Arc<SimClock>,
        settings: NasSettings,
    ) -> Self {
        let range = pop.nas_range(index);
        let spec = &pop.nas[index];
        let subs = &pop.subscribers[range.clone()];
        let mut slot_base = Vec::with_capacity(subs.len());
        let mut total = 0u64;
        let mut by_name = HashMap::with_capacity(subs.len());
        let mut by_session = HashMap::with_capacity(subs.len());
        let epoch = clock.epoch_ms();
        let mut sessions = Vec::with_capacity(subs.len());
        for (local, s) in subs.iter().enumerate() {
            slot_base.push(total);
            total += s.slots.len() as u64;
            by_name.insert(s.name.clone(), local);
            by_session.insert(s.session_id.to_ascii_lowercase(), local);
            // Sessions have been up between five minutes and three days.
            let up = 300_000 + splitmix(0xA11CE ^ (range.start + local) as u64) % (3 * 86_400_000);
            let since_ms = epoch.saturating_sub(up);
            let global = range.start + local;
            let plan = usage::plan_of(global);
            let rate = usage::effective(plan, usage::normal_share_of(global), plan, plan);
            sessions.push(Session {
                online: true,
                address: s.address,
                since_ms,
                rate_limit: None,
                load: None,
                meter: Meter::started(since_ms, rate),
                conn_cap: None,
                flushed_ms: None,
                flushed6_ms: None,
                redials: 0,
            });
        }
        let tables = Tables::seeded(&settings.router, spec.access);
        let boot_ms = epoch
            .saturating_sub(4 * 86_400_000 + splitmix(0xB007 ^ index as u64) % (30 * 86_400_000));
        Self {
            index,
            name: spec.name.clone(),
            access: spec.access,
            first: range.start,
            count: subs.len(),
            slot_base,
            total_slots: total,
            by_name,
            next_spare: AtomicU64::new(0),
            tenures: Mutex::new(Vec::new()),
            extra_sessions: RwLock::new(Vec::new()),
            evening: RwLock::new(None),
            by_session,
            sends_empty: version_at_least(&settings.ros_version, 7, 18),
            rows_per_second: std::sync::atomic::AtomicU32::new(
                settings.router.rows_per_second.unwrap_or(0),
            ),
            settings,
            clock,
            boot_ms,
            sessions: RwLock::new(sessions),
            tables: Mutex::new(tables),
            compiled: RwLock::new(Arc::new(Compiled::compile(&[], "", |_| None))),
            compiled6: RwLock::new(Arc::new(Compiled::compile(&[], "", |_| None))),
            fault: Mutex::new(Fault::None),
            radius: RadiusCounters::default(),
            next_xslot: AtomicU64::new(0),
            pop,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Lets households come home over `evening` (see [`crate::evening`]).
    pub fn set_evening(&self, evening: Option<Evening>) {
        *self.evening.write().unwrap_or_else(|e| e.into_inner()) = evening;
    }

    pub fn evening(&self) -> Option<Evening> {
        *self.evening.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether slot `k` of subscriber `local`, whose connection began at
    /// `start_ms`, is in the table under `evening` (read once per print).
    #[inline]
    pub fn slot_live(
        &self,
        evening: Option<&Evening>,
        local: usize,
        k: usize,
        start_ms: u64,
    ) -> bool {
        evening.is_none_or(|e| e.live(self.first + local, self.sub(local).slots.len(), k, start_ms))
    }

    /// [`Self::slot_live`] for the connection slot `k` holds at `now`.
    #[inline]
    pub fn slot_live_at(
        &self,
        evening: Option<&Evening>,
        local: usize,
        k: usize,
        now: u64,
    ) -> bool {
        evening.is_none_or(|_| {
            let slot = &self.sub(local).slots[k];
            let start = current(slot, self.first + local, k, now).start_ms;
            self.slot_live(evening, local, k, start)
        })
    }

    /// The slots of subscriber `local` whose connections are in the table
    /// at `now` (all of them without an evening), with their indexes.
    pub fn live_slots(
        &self,
        evening: Option<Evening>,
        local: usize,
        now: u64,
    ) -> impl Iterator<Item = (usize, &crate::population::Slot)> + '_ {
        self.sub(local)
            .slots
            .iter()
            .enumerate()
            .filter(move |(k, _)| self.slot_live_at(evening.as_ref(), local, *k, now))
    }

    pub fn sub(&self, local: usize) -> &SimSubscriber {
        &self.pop.subscribers[self.first + local]
    }

    pub fn local_by_name(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The online session holding `ip` now.
    pub fn local_by_ip(&self, ip: Ipv4Addr) -> Option<usize> {
        self.sessions()
            .iter()
            .position(|s| s.online && s.address == ip)
    }

    /// The address a subscriber's session holds now.
    pub fn address(&self, local: usize) -> Ipv4Addr {
        self.sessions()
            .get(local)
            .map_or_else(|| self.sub(local).address, |s| s.address)
    }

    /// Opens a further concurrent session of the account from `mac`, with
    /// the next address of the spare pool. Returns that address.
    pub fn add_session(&self, local: usize, mac: &str) -> Ipv4Addr {
        let address = self.spare_address();
        self.extra_sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(ExtraSession {
                local,
                address,
                mac: mac.to_string(),
                since_ms: self.now_ms(),
            });
        address
    }

    /// The next address of the router's spare pool (`100.(64+router).y.z`,
    /// which no population address uses), for redials and further sessions.
    fn spare_address(&self) -> Ipv4Addr {
        let n = self.next_spare.fetch_add(1, Ordering::Relaxed);
        Ipv4Addr::new(
            100,
            64 + self.index as u8,
            (n / 250) as u8,
            (2 + n % 250) as u8,
        )
    }

    /// The further concurrent sessions, in the order they were opened.
    pub fn extra_sessions(&self) -> Vec<ExtraSession> {
        self.extra_sessions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Ends a subscriber's session and dials again: the new session gets
    /// `to` (an address nobody online holds) or the next free address of
    /// the router's spare pool, as a redial on a pool does. Returns the new
    /// address; `None` when `to` is held by an online session.
    pub fn redial(&self, local: usize, to: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        if let Some(ip) = to {
            if self.local_by_ip(ip).is_some_and(|l| l != local) {
                return None;
            }
        }
        let address = to.unwrap_or_else(|| self.spare_address());
        let mut old = None;
        self.change_session(local, |s, now| {
            old = Some(Tenure {
                local,
                address: s.address,
                from_ms: s.since_ms,
                until_ms: now,
            });
            s.online = true;
            s.address = address;
            s.since_ms = now;
            s.rate_limit = None;
            s.flushed_ms = None;
            s.flushed6_ms = None;
            s.redials = s.redials.wrapping_add(1);
            s.meter.reset(now);
            true
        });
        if let Some(t) = old {
            let mut tenures = lock(&self.tenures);
            // Probe entries live a day at most; older tenures left nothing.
            tenures.retain(|x| t.until_ms.saturating_sub(x.until_ms) < 2 * 86_400_000);
            tenures.push(t);
        }
        // The tables now say something else about both addresses.
        let mut t = lock(&self.tables);
        self.refresh_all(&mut t);
        Some(address)
    }

    /// The session an incoming Acct-Session-Id names. The accounting form
    /// (`81a00042`) always matches; `0x81A00042` (as `/ppp active` prints
    /// it) and other letter cases only with [`crate::SessionIdMatch::AnyForm`].
    pub fn local_by_session(&self, id: &str) -> Option<usize> {
        match self.settings.router.session_ids {
            crate::SessionIdMatch::AccountingForm => self.by_session.get(id).copied(),
            crate::SessionIdMatch::PrintedForm => id
                .strip_prefix("0x")
                .filter(|hex| hex.bytes().all(|b| !b.is_ascii_lowercase()))
                .and_then(|hex| self.by_session.get(&hex.to_ascii_lowercase()))
                .copied(),
            crate::SessionIdMatch::AnyForm => {
                let id = id.trim();
                let id = id
                    .strip_prefix("0x")
                    .or_else(|| id.strip_prefix("0X"))
                    .unwrap_or(id);
                self.by_session.get(&id.to_ascii_lowercase()).copied()
            }
        }
    }

    /// The dynamic interface (PPPoE) or queue name (hotspot) of a session:
    /// `<pppoe-USER>`, `<hotspot-USER>`.
    pub fn session_interface(&self, local: usize) -> String {
        let name = &self.sub(local).name;
        match self.access {
            Access::Pppoe => format!("<pppoe-{name}>"),
            Access::Hotspot => format!("<hotspot-{name}>"),
        }
    }

    /// Whether a subscriber's household runs some connections over IPv6
    /// (only with IPv6 on, on PPPoE).
    #[inline]
    pub fn dual_stack(&self, local: usize) -> bool {
        self.settings.router.ipv6.is_some()
            && self.access == Access::Pppoe
            && crate::ipv6::dual_stack(self.first + local)
    }

    /// The subscriber a connection `.id` belongs to (a household slot's
    /// or an injected connection's).
    pub fn local_by_connection(&self, id: u64) -> Option<usize> {
        if id >= crate::load::EXTRA_ID_BASE {
            let xslot = (id - crate::load::EXTRA_ID_BASE) & crate::load::XSLOT_MASK;
            return self.sessions().iter().position(|s| {
                s.load.is_some_and(|i| {
                    (i.first_xslot..i.first_xslot + u64::from(i.load.extra_connections))
                        .contains(&xslot)
                })
            });
        }
        let slot = id.checked_sub(1)? % self.total_slots.max(1);
        let local = self
            .slot_base
            .partition_point(|&b| b <= slot)
            .checked_sub(1)?;
        (local < self.count).then_some(local)
    }

    /// `/ip firewall connection remove`: the router forgets the named
    /// connections; the household's next packets start new ones, which the
    /// firewall then sees from the first packet on.
    pub fn remove_connections(&self, ids: &[u64]) -> Result<(), String> {
        let mut locals = Vec::with_capacity(ids.len());
        // The uplink's connections come straight back from the internet, as
        // do a further session's (its household keeps going).
        for &id in ids.iter().filter(|&&id| id < EXTRA_SESSION_ID_BASE) {
            locals.push(
                self.local_by_connection(id)
                    .filter(|&l| self.is_online(l))
                    .ok_or_else(|| "no such item".to_string())?,
            );
        }
        locals.sort_unstable();
        locals.dedup();
        let mut t = lock(&self.tables);
        let now = self.now_ms();
        let limits = self.limits(&mut t, now);
        let mut sessions = self.sessions_mut();
        for local in locals {
            if let Some(s) = sessions.get_mut(local) {
                s.meter.fold(now);
                s.flushed_ms = Some(now);
                self.refresh(&limits, local, s, now);
            }
        }
        Ok(())
    }

    // ---- sessions -------------------------------------------------------

    fn sessions(&self) -> std::sync::RwLockReadGuard<'_, Vec<Session>> {
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn sessions_mut(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Session>> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_online(&self, local: usize) -> bool {
        self.sessions().get(local).is_some_and(|s| s.online)
    }

    /// Takes a subscriber offline; false if it already was.
    pub fn disconnect(&self, local: usize) -> bool {
        self.change_session(local, |s, now| {
            if !s.online {
                return false;
            }
            s.online = false;
            s.rate_limit = None;
            s.meter.reset(now);
            true
        })
    }

    /// Brings a subscriber back with a fresh session; false if it was online.
    pub fn reconnect(&self, local: usize) -> bool {
        self.change_session(local, |s, now| {
            if s.online {
                return false;
            }
            s.online = true;
            s.since_ms = now;
            s.meter.reset(now);
            true
        })
    }

    pub fn rate_limit(&self, local: usize) -> Option<String> {
        self.sessions()
            .get(local)
            .and_then(|s| s.rate_limit.clone())
    }

    pub fn set_rate_limit(&self, local: usize, limit: Option<String>) {
        self.change_session(local, |s, _| {
            s.rate_limit = limit;
            true
        });
    }

    /// Installs (or replaces) a subscriber's injected load. Changing only
    /// the usage share keeps the extra connections and their ids.
    pub fn set_load(&self, local: usize, load: Load) -> bool {
        self.change_session(local, |s, now| {
            s.load = Some(match s.load {
                Some(mut i) if i.same_connections(&load) => {
                    i.load = load;
                    i
                }
                _ => {
                    let n = u64::from(load.extra_connections);
                    Installed {
                        load,
                        first_xslot: self.next_xslot.fetch_add(n, Ordering::Relaxed),
                        since_ms: now,
                    }
                }
            });
            true
        })
    }

    pub fn clear_load(&self, local: usize) -> bool {
        self.change_session(local, |s, _| {
            s.load = None;
            true
        })
    }

    pub fn load(&self, local: usize) -> Option<Load> {
        self.sessions()
            .get(local)
            .and_then(|s| s.load.map(|i| i.load))
    }

    /// (upload, download) bytes of the current session; zero while offline.
    pub fn bytes(&self, local: usize) -> Option<(u64, u64)> {
        let now = self.now_ms();
        self.sessions().get(local).map(|s| s.meter.read(now))
    }

    /// The subscriber's plan, (upload, download) bits per second.
    pub fn plan(&self, local: usize) -> Option<Rate> {
        (local < self.count).then(|| usage::plan_of(self.first + local))
    }

    /// What the session transfers now, bits per second; zero while offline
    /// or banned.
    pub fn effective_rate(&self, local: usize) -> Option<Rate> {
        let now = self.now_ms();
        self.sessions().get(local).map(|s| s.meter.rate_at(now))
    }

    pub fn is_banned(&self, local: usize) -> bool {
        let now = self.now_ms();
        self.sessions()
            .get(local)
            .is_some_and(|s| s.meter.blocked_at(now))
    }

    /// Which subscribers' connections are in the table at `now`, and their
    /// extra connections: taken once per print.
    pub fn conn_view(&self, now: u64) -> ConnView {
        let sessions = self.sessions();
        let mut view = ConnView::with_capacity(sessions.len());
        view.set_evening(self.evening());
        for (local, s) in sessions.iter().enumerate() {
            let visible = s.online && !s.meter.blocked_at(now);
            let sub = self.sub(local);
            let mut extra = s
                .load
                .filter(|_| visible)
                .and_then(|i| i.extra(sub.slots.first().map_or(64, |x| x.seen_ttl)));
            // A connection-limit rule drops new connections past the cap: the
            // injected ones are trimmed to it, the household's own (mostly
            // established) connections are left alone, as on a router. The
            // room counts the household at its peak, also while it is quiet.
            if let (Some(e), Some((cap, until))) = (extra.as_mut(), s.conn_cap) {
                if until > now {
                    let room = (cap as usize).saturating_sub(sub.slots.len());
                    e.count = e.count.min(room as u32);
                }
            }
            view.push(visible, s.address, extra.filter(|e| e.count > 0));
        }
        view
    }

    /// The number of connections in the table right now, the router's own
    /// uplink connections included.
    pub fn connection_count(&self) -> usize {
        let now = self.now_ms();
        let view = self.conn_view(now);
        let subscribers: usize = (0..self.count)
            .filter(|&l| view.visible(l))
            .map(|l| {
                let ds = self.dual_stack(l);
                let v4 = self
                    .live_slots(view.evening().copied(), l, now)
                    .filter(|(k, s)| !crate::ipv6::is_v6(ds, *k, s))
                    .count();
                v4 + view.extra_count(l)
            })
            .sum();
        let extra: usize = self
            .extra_sessions()
            .iter()
            .map(|e| {
                self.live_slots(view.evening().copied(), e.local, now)
                    .count()
            })
            .sum();
        subscribers + extra + crate::uplink::COUNT as usize
    }

    // ---- rates and bans ---------------------------------------------------

    /// Purges expired address-list entries and collects what the tables
    /// impose on sessions now.
    fn limits(&self, t: &mut Tables, now: u64) -> Limits {
        t.purge_expired(now);
        Limits {
            caps: QueueCaps::from_items(
                t.queue.items(),
                |id| t.queue_anchor.get(&id).copied(),
                self.settings.router.dynamic_queues,
            ),
            bans: BanSet::build(&t.filter, &t.address_list, &t.timeouts, now),
            conn_caps: ConnCaps::build(&t.filter, &t.address_list, &t.timeouts, now, "32"),
        }
    }

    /// Folds a session's meter and applies its current rate and ban end.
    fn refresh(&self, limits: &Limits, local: usize, s: &mut Session, now: u64) {
        let rate = if s.online {
            let global = self.first + local;
            let plan = usage::plan_of(global);
            let share = match s.load.and_then(|i| i.load.usage_share) {
                Some(x) => (x, x),
                None => usage::normal_share_of(global),
            };
            let limit = limits
                .caps
                .cap(local, s.address, &self.session_interface(local))
                .unwrap_or_else(|| usage::session_limit(plan, s.rate_limit.as_deref()));
            usage::effective(plan, share, limit, (u64::MAX, u64::MAX))
        } else {
            (0, 0)
        };
        s.meter
            // A session's connections are all newer than its start or the
            // last removal of its connections: a ban from before then meets
            // them at their first packet, fast-tracked or not.
            .set(
                now,
                rate,
                limits
                    .bans
                    .until(s.address, s.flushed_ms.max(Some(s.since_ms))),
            );
        s.conn_cap = limits.conn_caps.cap(s.address);
    }

    /// What `/ipv6 firewall filter` imposes now: bans and per-/64 caps on
    /// the delegated prefixes its address lists hold.
    pub(crate) fn ipv6_limits(&self, now: u64) -> (BanSet, ConnCaps) {
        let mut t = lock(&self.tables);
        t.purge_expired(now);
        (
            BanSet::build(&t.filter6, &t.address_list6, &t.timeouts6, now),
            ConnCaps::build(&t.filter6, &t.address_list6, &t.timeouts6, now, "64"),
        )
    }

    /// The /64 delegated to session `local` now.
    pub(crate) fn delegated_prefix(&self, local: usize) -> std::net::Ipv6Addr {
        let epoch = if self.settings.router.prefix_moves_on_redial {
            self.sessions().get(local).map_or(0, |s| s.redials)
        } else {
            0
        };
        crate::ipv6::prefix(self.index, local, epoch)
    }

    /// When each session's oldest IPv6 connection can have started: its
    /// start or the last removal of its IPv6 connections.
    pub(crate) fn ipv6_fresh_since(&self) -> Vec<Option<u64>> {
        self.sessions()
            .iter()
            .map(|s| s.flushed6_ms.max(Some(s.since_ms)))
            .collect()
    }

    /// `/ipv6 firewall connection remove` for these sessions.
    pub(crate) fn mark_ipv6_flushed(&self, locals: &[usize]) {
        let now = self.now_ms();
        let mut sessions = self.sessions_mut();
        for &l in locals {
            if let Some(s) = sessions.get_mut(l) {
                s.flushed6_ms = Some(now);
            }
        }
    }

    /// Refreshes every session after a table change.
    fn refresh_all(&self, t: &mut Tables) {
        let now = self.now_ms();
        let limits = self.limits(t, now);
        let mut sessions = self.sessions_mut();
        for (local, s) in sessions.iter_mut().enumerate() {
            self.refresh(&limits, local, s, now);
        }
    }

    /// Applies `change` to one session (it returns false to leave the
    /// session alone) and refreshes it. The meter is folded with the old
    /// rate first; `change` may then reset it.
    fn change_session(&self, local: usize, change: impl FnOnce(&mut Session, u64) -> bool) -> bool {
        let mut t = lock(&self.tables);
        // Read under the lock, so concurrent changes fold in time order.
        let now = self.now_ms();
        let limits = self.limits(&mut t, now);
        let mut sessions = self.sessions_mut();
        let Some(s) = sessions.get_mut(local) else {
            return false;
        };
        s.meter.fold(now);
        if !change(s, now) {
            return false;
        }
        self.refresh(&limits, local, s, now);
        true
    }

    // ---- faults ----------------------------------------------------------

    pub fn set_fault(&self, f: Fault) {
        *lock(&self.fault) = f;
    }

    /// Takes the pending fault if it applies at `point`.
    pub fn take_fault(&self, point: FaultPoint) -> Fault {
        let mut f = lock(&self.fault);
        let applies = match (*f, point) {
            (Fault::None, _) => false,
            (Fault::SlowLogin(_), p) => p == FaultPoint::Login,
            (Fault::FatalOnPrint | Fault::MalformedReply, p) => p != FaultPoint::Login,
            (_, p) => p == FaultPoint::ConnectionPrint,
        };
        if applies {
            std::mem::take(&mut *f)
        } else {
            Fault::None
        }
    }

    // ---- stored menus ------------------------------------------------------

    pub fn compiled(&self) -> Arc<Compiled> {
        self.compiled
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The IPv6 mangle chain, compiled (`hop-limit` read as `ttl`).
    pub fn compiled6(&self) -> Arc<Compiled> {
        self.compiled6
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn recompile(&self, tables: &Tables) {
        for (items, slot) in [
            (tables.mangle.items(), &self.compiled),
            (tables.mangle6.items(), &self.compiled6),
        ] {
            let compiled =
                Compiled::compile(items, &self.settings.router.hotspot_interface, |name| {
                    self.local_by_name(name)
                });
            *slot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(compiled);
        }
    }

    /// Refuses what RouterOS refuses: parameters a menu does not have,
    /// interfaces the router does not have, and values it cannot parse,
    /// with RouterOS's words.
    fn validate(&self, menu: Menu, attrs: &[(String, String)]) -> Result<(), String> {
        for (k, v) in attrs {
            if k.is_empty() || !crate::params::known(menu, k) {
                return Err(format!("unknown parameter {k}"));
            }
            let (value, _) = crate::params::negated(v);
            match k.as_str() {
                "in-interface" | "out-interface" if !self.has_interface(value) => {
                    return Err("input does not match any value of interface".into());
                }
                "in-interface-list" | "out-interface-list"
                    if !crate::params::INTERFACE_LISTS.contains(&value) =>
                {
                    return Err("input does not match any value of interface-list".into());
                }
                "action" if !crate::params::action_ok(menu, value) => {
                    return Err(format!("input does not match any value of action: {v}"));
                }
                "connection-state" if !crate::params::states_ok(value) => {
                    return Err(format!("invalid value for argument connection-state: {v}"));
                }
                "ttl" | "hop-limit" if TtlMatch::parse(v).is_none() => {
                    return Err(format!("invalid value for argument {k}: {v}"));
                }
                // An IPv6 list holds IPv6 addresses and prefixes only.
                "address"
                    if menu == Menu::AddressList6
                        && !matches!(
                            crate::bans::NetRange::parse(v),
                            Some(crate::bans::NetRange::V6 { .. })
                        ) =>
                {
                    return Err(format!("invalid value for argument address: {v}"));
                }
                "address-list-timeout" | "timeout" if crate::fmt::parse_duration(v).is_err() => {
                    return Err(format!("invalid value for argument {k}: {v}"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether `name` is one of this router's interfaces or a special name
    /// RouterOS accepts in `in-interface`.
    fn has_interface(&self, name: &str) -> bool {
        if crate::params::SPECIAL_INTERFACES.contains(&name) {
            return true;
        }
        if name == "ether1" || name == crate::UPLINK_INTERFACE {
            return true;
        }
        match self.access {
            Access::Pppoe => {
                name == "ether2"
                    || name
                        .strip_prefix("<pppoe-")
                        .and_then(|n| n.strip_suffix('>'))
                        .and_then(|n| self.local_by_name(n))
                        .is_some_and(|l| self.is_online(l))
            }
            Access::Hotspot => name == self.settings.router.hotspot_interface,
        }
    }

    pub fn table_add(
        &self,
        menu: Menu,
        attrs: &[(String, String)],
        place_before: Option<&str>,
    ) -> Result<u64, String> {
        self.validate(menu, attrs)?;
        let get = |key: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let mut attrs = attrs.to_vec();
        match menu {
            Menu::Mangle | Menu::Filter | Menu::Mangle6 | Menu::Filter6 => {
                if get("chain").is_none_or(str::is_empty) {
                    return Err("failure: chain not set".into());
                }
                if get("action").is_none() {
                    attrs.insert(1.min(attrs.len()), ("action".into(), "accept".into()));
                }
            }
            Menu::AddressList | Menu::AddressList6 => {
                if get("list").is_none_or(str::is_empty) {
                    return Err("missing value(s) of argument(s) list".into());
                }
                if get("address").is_none_or(str::is_empty) {
                    return Err("missing value(s) of argument(s) address".into());
                }
            }
            Menu::Queue => {}
            Menu::Layer7 => {
                if get("name").is_none_or(str::is_empty) || get("regexp").is_none() {
                    return Err("missing value(s) of argument(s) name, regexp".into());
                }
            }
        }
        let timeout = match menu.is_address_list() {
            true => take_timeout(&mut attrs)?,
            false => None,
        };
        let mut t = lock(&self.tables);
        let now = self.now_ms();
        if menu.is_address_list() {
            t.purge_expired(now);
            let dup = t
                .get(menu)
                .items()
                .iter()
                .any(|i| i.get("list") == get("list") && i.get("address") == get("address"));
            if dup {
                return Err("failure: already have such entry".into());
            }
        }
        if menu == Menu::Queue && get("name").is_none() {
            let n = t.queue.items().len() + 1;
            attrs.insert(0, ("name".into(), format!("queue{n}")));
        }
        // A static queue placed before a session's dynamic queue sits right
        // above it, wherever dynamic queues are; one placed before another
        // static queue shares that one's place.
        let mut anchor = None;
        let mut place_before = place_before;
        if menu == Menu::Queue {
            if let Some(id) = place_before.and_then(crate::fmt::parse_id) {
                if let Some(local) = self.local_by_dynamic_queue(id) {
                    if !self.is_online(local) {
                        return Err("no such item".into());
                    }
                    anchor = Some(local);
                    place_before = None;
                } else {
                    anchor = t.queue_anchor.get(&id).copied();
                }
            }
        }
        let id = t.get_mut(menu).add(&attrs, place_before, now)?;
        if let Some(local) = anchor {
            t.queue_anchor.insert(id, local);
        }
        if let Some(timeout) = timeout {
            t.timeouts_mut(menu).apply(id, timeout, now);
        }
        self.after_change(menu, &mut t);
        Ok(id)
    }

    pub fn table_set(
        &self,
        menu: Menu,
        ids: &[u64],
        attrs: &[(String, String)],
    ) -> Result<(), String> {
        self.validate(menu, attrs)?;
        let mut attrs = attrs.to_vec();
        let timeout = match menu.is_address_list() {
            true => take_timeout(&mut attrs)?,
            false => None,
        };
        let mut t = lock(&self.tables);
        let now = self.now_ms();
        self.check_queue_ids(menu, &t, ids)?;
        if menu.is_address_list() {
            t.purge_expired(now);
        }
        t.get_mut(menu).set(ids, &attrs)?;
        if let Some(timeout) = timeout {
            for &id in ids {
                t.timeouts_mut(menu).apply(id, timeout, now);
            }
        }
        self.after_change(menu, &mut t);
        Ok(())
    }

    pub fn table_remove(&self, menu: Menu, ids: &[u64]) -> Result<(), String> {
        if menu == Menu::AddressList {
            return self.address_list_remove(ids);
        }
        if menu == Menu::AddressList6 {
            let mut t = lock(&self.tables);
            t.purge_expired(self.now_ms());
            t.address_list6.remove(ids)?;
            t.timeouts6.forget(ids);
            return Ok(());
        }
        let mut t = lock(&self.tables);
        self.check_queue_ids(menu, &t, ids)?;
        t.get_mut(menu).remove(ids)?;
        for id in ids {
            t.queue_anchor.remove(id);
        }
        self.after_change(menu, &mut t);
        Ok(())
    }

    /// `move`: items go before `destination` (or to the end); nothing moves
    /// above an item the router made, and those do not move at all.
    pub fn table_move(
        &self,
        menu: Menu,
        ids: &[u64],
        destination: Option<&str>,
    ) -> Result<(), String> {
        if menu.is_address_list() {
            return Err("failure: cannot move address list entries".into());
        }
        let mut t = lock(&self.tables);
        self.check_queue_ids(menu, &t, ids)?;
        t.get_mut(menu).move_items(ids, destination)?;
        self.after_change(menu, &mut t);
        Ok(())
    }

    /// Recompiles the mangle chain, or refreshes every session's rate when
    /// a menu that limits or bans changed.
    fn after_change(&self, menu: Menu, t: &mut Tables) {
        match menu {
            Menu::Mangle | Menu::Mangle6 => self.recompile(t),
            Menu::Filter | Menu::AddressList | Menu::Queue => self.refresh_all(t),
            // IPv6 bans and caps are read from the tables at each print.
            Menu::Layer7 | Menu::Filter6 | Menu::AddressList6 => {}
        }
    }

    /// Dynamic queues belong to sessions: a router refuses to change them.
    fn check_queue_ids(&self, menu: Menu, t: &Tables, ids: &[u64]) -> Result<(), String> {
        if menu != Menu::Queue {
            return Ok(());
        }
        let mut dynamic = false;
        for &id in ids {
            if t.queue.position(id).is_some() {
                continue;
            }
            match self.local_by_dynamic_queue(id) {
                Some(local) if self.is_online(local) => dynamic = true,
                _ => return Err("no such item".into()),
            }
        }
        if dynamic {
            return Err("failure: cannot change dynamic queue".into());
        }
        Ok(())
    }

    fn local_by_dynamic_queue(&self, id: u64) -> Option<usize> {
        let local = usize::try_from(id.checked_sub(DYNAMIC_QUEUE_BASE)?).ok()?;
        (local < self.count).then_some(local)
    }

    pub fn table_maps(&self, menu: Menu) -> Vec<BTreeMap<String, String>> {
        match menu {
            Menu::AddressList => self
                .static_address_rows()
                .into_iter()
                .map(|r| r.into_iter().collect())
                .collect(),
            _ => lock(&self.tables).get(menu).maps(),
        }
    }

    pub fn table_rows(&self, menu: Menu) -> Vec<Row> {
        match menu {
            Menu::AddressList => self.address_list_rows(),
            Menu::AddressList6 => self.ipv6_address_list_rows(),
            Menu::Queue => self.queue_rows(),
            _ => lock(&self.tables).get(menu).rows(),
        }
    }

    // ---- address lists ---------------------------------------------------

    /// Dynamic entries: a (list, address) pair exists while some current
    /// connection of an online subscriber hit an `add-src-to-address-list`
    /// rule and, with a timeout, did so recently enough.
    pub fn dynamic_entries(&self, now: u64) -> Vec<DynEntry> {
        let compiled = self.compiled();
        if !compiled.has_add_src() {
            return Vec::new();
        }
        let suppressed = lock(&self.tables).suppressed.clone();
        let view = self.conn_view(now);
        // (list, address) → (first start, last start, timeout)
        let mut found: BTreeMap<(String, Ipv4Addr), (u64, u64, Option<u64>)> = BTreeMap::new();
        let mut walk = |ctx: &ConnCtx| {
            compiled.walk(ctx, |list, timeout| {
                let start = ctx.start_ms;
                if timeout.is_some_and(|t| now.saturating_sub(start) >= t) {
                    return;
                }
                let key = (compiled.list_name(list).to_string(), ctx.src);
                if suppressed.get(&key).is_some_and(|&at| start <= at) {
                    return;
                }
                let e = found.entry(key).or_insert((start, start, timeout));
                e.0 = e.0.min(start);
                if start >= e.1 {
                    e.1 = start;
                    e.2 = timeout;
                }
            });
        };
        // Entries the connections of an earlier session left behind, under
        // the address it held then: they outlive the redial until they time
        // out, whoever holds the address now.
        let tenures: Vec<Tenure> = lock(&self.tenures).clone();
        let evening = view.evening();
        for t in tenures.iter().filter(|t| t.until_ms <= now) {
            let sub = self.sub(t.local);
            for (k, slot) in sub.slots.iter().enumerate() {
                if compiled.idle_for(slot.seen_ttl) {
                    continue;
                }
                let conn = current(slot, self.first + t.local, k, t.until_ms);
                if conn.start_ms >= t.from_ms && self.slot_live(evening, t.local, k, conn.start_ms)
                {
                    walk(&self.ctx(t.local, t.address, slot, conn.start_ms, conn.src_port));
                }
            }
        }
        for local in (0..self.count).filter(|&l| view.visible(l)) {
            let sub = self.sub(local);
            let address = view.address(local);
            let ds = self.dual_stack(local);
            for (k, slot) in sub.slots.iter().enumerate() {
                // IPv4 mangle never sees the IPv6 connections.
                if compiled.idle_for(slot.seen_ttl) || crate::ipv6::is_v6(ds, k, slot) {
                    continue;
                }
                let conn = current(slot, self.first + local, k, now);
                if self.slot_live(evening, local, k, conn.start_ms) {
                    walk(&self.ctx(local, address, slot, conn.start_ms, conn.src_port));
                }
            }
            if let Some(extra) = view.extra(local).filter(|e| !compiled.idle_for(e.ttl)) {
                let pppoe = self.access == Access::Pppoe;
                for j in 0..extra.count {
                    let conn = extra.conn(j, now);
                    walk(&extra.ctx(&conn, local, pppoe, address));
                }
            }
        }
        for e in self.extra_sessions() {
            let sub = self.sub(e.local);
            for (k, slot) in sub.slots.iter().enumerate() {
                if compiled.idle_for(slot.seen_ttl) {
                    continue;
                }
                let conn = current(slot, self.first + e.local, k, now);
                if self.slot_live(evening, e.local, k, conn.start_ms) {
                    walk(&self.ctx(e.local, e.address, slot, conn.start_ms, conn.src_port));
                }
            }
        }
        for c in crate::uplink::conns(self.index, now).filter(|c| !compiled.idle_for(c.ttl)) {
            walk(&c.ctx());
        }
        found
            .into_iter()
            .map(|((list, address), (first, last, timeout))| DynEntry {
                id: dynamic_id(&list, address),
                timeout_left_ms: timeout.map(|t| t.saturating_sub(now.saturating_sub(last))),
                list,
                address,
                created_ms: first,
            })
            .collect()
    }

    /// Stored entries (expired ones purged first); timed ones show their
    /// time left and print as dynamic.
    fn static_address_rows(&self) -> Vec<Row> {
        self.stored_address_rows(Menu::AddressList)
    }

    /// The stored entries of one family's address list.
    pub(crate) fn stored_address_rows(&self, menu: Menu) -> Vec<Row> {
        let mut t = lock(&self.tables);
        let now = self.now_ms();
        t.purge_expired(now);
        let t = &mut *t;
        let timeouts = if menu.is_ipv6() {
            &t.timeouts6
        } else {
            &t.timeouts
        };
        t.get(menu)
            .items()
            .iter()
            .map(|item| {
                let mut row = item_row(item);
                let at = row
                    .iter()
                    .position(|(k, _)| k == "address")
                    .map_or(row.len(), |p| p + 1);
                row.insert(
                    at,
                    ("creation-time".into(), datetime_string(item.created_ms)),
                );
                timeouts.decorate(&mut row, item.id, now);
                row
            })
            .collect()
    }

    fn address_list_rows(&self) -> Vec<Row> {
        let now = self.now_ms();
        let dynamic = self.dynamic_entries(now);
        let mut rows = self.static_address_rows();
        for e in dynamic {
            let mut row: Row = vec![
                (".id".into(), id_string(e.id)),
                ("list".into(), e.list),
                ("address".into(), e.address.to_string()),
                ("creation-time".into(), datetime_string(e.created_ms)),
            ];
            if let Some(t) = e.timeout_left_ms {
                row.push(("timeout".into(), duration_string(t)));
            }
            row.push(("dynamic".into(), "true".into()));
            row.push(("disabled".into(), "false".into()));
            rows.push(row);
        }
        rows
    }

    fn address_list_remove(&self, ids: &[u64]) -> Result<(), String> {
        let now = self.now_ms();
        let dynamic = self.dynamic_entries(now);
        let mut t = lock(&self.tables);
        t.purge_expired(now);
        let mut static_ids = Vec::new();
        let mut dynamic_keys = Vec::new();
        for &id in ids {
            if t.address_list.position(id).is_some() {
                static_ids.push(id);
            } else if let Some(e) = dynamic.iter().find(|e| e.id == id) {
                dynamic_keys.push((e.list.clone(), e.address));
            } else {
                return Err("no such item".into());
            }
        }
        t.address_list.remove(&static_ids)?;
        t.timeouts.forget(&static_ids);
        for key in dynamic_keys {
            t.suppressed.insert(key, now);
        }
        self.refresh_all(&mut t);
        Ok(())
    }

    // ---- views -----------------------------------------------------------

    pub fn ctx(
        &self,
        local: usize,
        src: Ipv4Addr,
        slot: &crate::population::Slot,
        start_ms: u64,
        sport: u16,
    ) -> ConnCtx {
        ConnCtx {
            ttl: slot.seen_ttl,
            start_ms,
            local,
            pppoe: self.access == Access::Pppoe,
            uplink: false,
            src,
            sport,
            dst: *slot.dst.ip(),
            dport: slot.dst.port(),
            proto: slot.protocol,
            p2p: false,
        }
    }

    /// Simple queues in the order the router walks them: one dynamic queue
    /// per online session (as a router creates them for RADIUS-authorised
    /// sessions with a rate limit; every plan has one), each with the
    /// static queues placed right above it, above or below the other static
    /// queues as [`crate::QueuePlacement`] says. A PPPoE session's queue is
    /// named and targeted `<pppoe-USER>`, its interface; a hotspot
    /// session's targets its address. `max-limit` is the plan or the CoA
    /// rate limit; `rate` and `bytes` come from the session's meter.
    fn queue_rows(&self) -> Vec<Row> {
        let (statics, anchors) = {
            let t = lock(&self.tables);
            let rows: Vec<(u64, Row)> = t
                .queue
                .items()
                .iter()
                .map(|i| (i.id, item_row(i)))
                .collect();
            (rows, t.queue_anchor.clone())
        };
        let now = self.now_ms();
        let sessions = self.sessions();
        let online = |local: usize| sessions.get(local).is_some_and(|s| s.online);
        let free: Vec<Row> = statics
            .iter()
            .filter(|(id, _)| anchors.get(id).is_none_or(|&l| !online(l)))
            .map(|(_, r)| r.clone())
            .collect();
        let mut rows = Vec::with_capacity(statics.len() + sessions.len());
        if self.settings.router.dynamic_queues == crate::QueuePlacement::Bottom {
            rows.extend(free.iter().cloned());
        }
        for (local, s) in sessions.iter().enumerate().filter(|(_, s)| s.online) {
            rows.extend(
                statics
                    .iter()
                    .filter(|(id, _)| anchors.get(id) == Some(&local))
                    .map(|(_, r)| r.clone()),
            );
            let name = self.session_interface(local);
            let target = match self.access {
                Access::Pppoe => name.clone(),
                Access::Hotspot => format!("{}/32", s.address),
            };
            let plan = usage::plan_of(self.first + local);
            let limit = usage::session_limit(plan, s.rate_limit.as_deref());
            let rate = s.meter.rate_at(now);
            let bytes = s.meter.read(now);
            rows.push(vec![
                (".id".into(), id_string(DYNAMIC_QUEUE_BASE + local as u64)),
                ("name".into(), name),
                ("target".into(), target),
                ("parent".into(), "none".into()),
                ("limit-at".into(), "0/0".into()),
                ("max-limit".into(), usage::pair_string(limit)),
                ("rate".into(), usage::pair_string(rate)),
                ("bytes".into(), format!("{}/{}", bytes.0, bytes.1)),
                (
                    "packets".into(),
                    format!("{}/{}", bytes.0 / 600, bytes.1 / 1100),
                ),
                ("invalid".into(), "false".into()),
                ("dynamic".into(), "true".into()),
                ("disabled".into(), "false".into()),
            ]);
        }
        if self.settings.router.dynamic_queues == crate::QueuePlacement::First {
            rows.extend(free);
        }
        rows
    }

    /// `.id` of a subscriber's active-session row.
    pub fn session_item_id(&self, local: usize) -> u64 {
        match self.access {
            Access::Pppoe => 0x8000_0000 + local as u64,
            Access::Hotspot => 1 + local as u64,
        }
    }

    pub fn local_by_session_item(&self, id: u64) -> Option<usize> {
        let local = match self.access {
            Access::Pppoe => id.checked_sub(0x8000_0000)?,
            Access::Hotspot => id.checked_sub(1)?,
        } as usize;
        (local < self.count).then_some(local)
    }

    pub fn ppp_active_rows(&self) -> Vec<Row> {
        if self.access != Access::Pppoe {
            return Vec::new();
        }
        let now = self.now_ms();
        let sessions = self.sessions();
        let mut rows = Vec::new();
        for (local, s) in sessions.iter().enumerate().filter(|(_, s)| s.online) {
            let sub = self.sub(local);
            rows.push(ppp_row(
                self.session_item_id(local),
                &sub.name,
                &sub.mac,
                s.address,
                now.saturating_sub(s.since_ms),
                &format!("0x{}", sub.session_id),
            ));
        }
        for (k, e) in self.extra_sessions().iter().enumerate() {
            rows.push(ppp_row(
                0x8800_0000 + k as u64,
                &self.sub(e.local).name,
                &e.mac,
                e.address,
                now.saturating_sub(e.since_ms),
                &format!("0x{:08X}", 0x81B0_0000u32 + k as u32),
            ));
        }
        rows
    }

    pub fn hotspot_active_rows(&self) -> Vec<Row> {
        if self.access != Access::Hotspot {
            return Vec::new();
        }
        let now = self.now_ms();
        let sessions = self.sessions();
        let mut rows = Vec::new();
        for (local, s) in sessions.iter().enumerate().filter(|(_, s)| s.online) {
            let sub = self.sub(local);
            let up_s = now.saturating_sub(s.since_ms) / 1000;
            // In from the subscriber is its upload.
            let (bytes_in, bytes_out) = s.meter.read(now);
            rows.push(vec![
                (".id".into(), id_string(self.session_item_id(local))),
                ("server".into(), "hotspot1".into()),
                ("user".into(), sub.name.clone()),
                ("address".into(), s.address.to_string()),
                ("mac-address".into(), sub.mac.clone()),
                ("login-by".into(), "http-chap".into()),
                ("uptime".into(), duration_string(up_s * 1000)),
                ("idle-time".into(), "0s".into()),
                ("bytes-in".into(), bytes_in.to_string()),
                ("bytes-out".into(), bytes_out.to_string()),
                ("packets-in".into(), (bytes_in / 600).to_string()),
                ("packets-out".into(), (bytes_out / 1100).to_string()),
                ("radius".into(), "true".into()),
            ]);
        }
        rows
    }

    pub fn hotspot_server_rows(&self) -> Vec<Row> {
        if self.access != Access::Hotspot {
            return Vec::new();
        }
        vec![vec![
            (".id".into(), "*1".into()),
            ("name".into(), "hotspot1".into()),
            (
                "interface".into(),
                self.settings.router.hotspot_interface.clone(),
            ),
            ("address-pool".into(), "hs-pool".into()),
            ("profile".into(), "hsprof1".into()),
            ("idle-timeout".into(), "5m".into()),
            ("keepalive-timeout".into(), "none".into()),
            ("login-timeout".into(), "none".into()),
            ("invalid".into(), "false".into()),
            ("disabled".into(), "false".into()),
        ]]
    }

    pub fn interface_rows(&self) -> Vec<Row> {
        let mac = |n: u64| {
            let h = splitmix(0x1F ^ ((self.index as u64) << 8) ^ n);
            format!(
                "48:A9:8A:{:02X}:{:02X}:{:02X}",
                (h >> 16) as u8,
                (h >> 8) as u8,
                h as u8
            )
        };
        let physical = |id: u64, name: &str, kind: &str, comment: &str, mtu: &str| -> Row {
            vec![
                (".id".into(), id_string(id)),
                ("name".into(), name.into()),
                ("default-name".into(), name.into()),
                ("type".into(), kind.into()),
                ("mtu".into(), mtu.into()),
                ("actual-mtu".into(), mtu.into()),
                ("mac-address".into(), mac(id)),
                ("comment".into(), comment.into()),
                ("running".into(), "true".into()),
                ("disabled".into(), "false".into()),
                ("dynamic".into(), "false".into()),
            ]
        };
        let mut rows = vec![physical(1, "ether1", "ether", "wan", "1500")];
        match self.access {
            Access::Pppoe => rows.push(physical(2, "ether2", "ether", "lan", "1500")),
            Access::Hotspot => {
                let name = &self.settings.router.hotspot_interface;
                let mut b = physical(3, name, "bridge", "hotspot", "1500");
                b.retain(|(k, _)| k != "default-name");
                rows.push(b);
            }
        }
        // The router's own uplink to its provider: a PPP interface too.
        rows.push(vec![
            (".id".into(), id_string(4)),
            ("name".into(), crate::UPLINK_INTERFACE.into()),
            ("type".into(), "pppoe-out".into()),
            ("mtu".into(), "1480".into()),
            ("actual-mtu".into(), "1480".into()),
            ("comment".into(), "uplink".into()),
            ("running".into(), "true".into()),
            ("disabled".into(), "false".into()),
            ("dynamic".into(), "false".into()),
        ]);
        if self.access == Access::Pppoe {
            let sessions = self.sessions();
            for (local, _) in sessions.iter().enumerate().filter(|(_, s)| s.online) {
                let sub = self.sub(local);
                rows.push(vec![
                    (".id".into(), id_string(0x00F0_0000 + local as u64)),
                    ("name".into(), format!("<pppoe-{}>", sub.name)),
                    ("type".into(), "pppoe-in".into()),
                    ("mtu".into(), "1480".into()),
                    ("actual-mtu".into(), "1480".into()),
                    ("running".into(), "true".into()),
                    ("disabled".into(), "false".into()),
                    ("dynamic".into(), "true".into()),
                ]);
            }
        }
        rows
    }

    /// `/system/clock`: the router's time and date (UTC), printed as
    /// RouterOS 7.10 and later print them.
    pub fn clock_rows(&self) -> Vec<Row> {
        let now = datetime_string(self.now_ms());
        let (date, time) = now.split_once(' ').unwrap_or((&now, ""));
        vec![vec![
            ("time".into(), time.into()),
            ("date".into(), date.into()),
            ("time-zone-autodetect".into(), "false".into()),
            ("time-zone-name".into(), "UTC".into()),
            ("gmt-offset".into(), "+00:00".into()),
            ("dst-active".into(), "false".into()),
        ]]
    }

    pub fn identity_rows(&self) -> Vec<Row> {
        vec![vec![("name".into(), self.name.clone())]]
    }

    pub fn resource_rows(&self) -> Vec<Row> {
        let now = self.now_ms();
        let conns = self.connection_count() as u64;
        let load = (conns / 20_000 + splitmix(now / 10_000) % 7).min(100);
        vec![vec![
            (
                "uptime".into(),
                duration_string(now.saturating_sub(self.boot_ms)),
            ),
            (
                "version".into(),
                format!("{} (stable)", self.settings.ros_version),
            ),
            ("build-time".into(), "2025-03-04 11:20:18".into()),
            ("factory-software".into(), "7.1".into()),
            (
                "free-memory".into(),
                (3_200_000_000u64 - conns * 320)
                    .max(100_000_000)
                    .to_string(),
            ),
            ("total-memory".into(), "4294967296".into()),
            ("cpu".into(), "ARM64".into()),
            ("cpu-count".into(), "4".into()),
            ("cpu-frequency".into(), "1700".into()),
            ("cpu-load".into(), load.to_string()),
            ("free-hdd-space".into(), "96382976".into()),
            ("total-hdd-space".into(), "134217728".into()),
            ("architecture-name".into(), "arm64".into()),
            ("board-name".into(), "CCR2004-1G-12S+2XS".into()),
            ("platform".into(), "MikroTik".into()),
        ]]
    }
}

/// One `/ppp active` row.
fn ppp_row(id: u64, name: &str, mac: &str, address: Ipv4Addr, up_ms: u64, session_id: &str) -> Row {
    vec![
        (".id".into(), id_string(id)),
        ("name".into(), name.into()),
        ("service".into(), "pppoe".into()),
        ("caller-id".into(), mac.into()),
        ("address".into(), address.to_string()),
        ("uptime".into(), duration_string(up_ms)),
        ("encoding".into(), String::new()),
        ("session-id".into(), session_id.into()),
        ("limit-bytes-in".into(), "0".into()),
        ("limit-bytes-out".into(), "0".into()),
        ("radius".into(), "true".into()),
    ]
}

/// Dynamic entries get ids from a range stored items never reach, derived
/// from the entry itself so the id stays the same between prints.
fn dynamic_id(list: &str, address: Ipv4Addr) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in list.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    0x4000_0000 | (splitmix(h ^ u64::from(u32::from(address))) & 0x0FFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_at_least("7.18.2", 7, 18));
        assert!(version_at_least("7.18", 7, 18));
        assert!(!version_at_least("7.16.2", 7, 18));
        assert!(!version_at_least("6.49", 7, 18));
        assert!(version_at_least("8", 7, 18));
    }
}
