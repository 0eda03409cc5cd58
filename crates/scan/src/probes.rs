//! TTL probes: the mangle rules that make a NAS record first-packet TTLs.
//!
//! The router cannot report a connection's TTL by itself, so one rule per TTL
//! of interest tags new connections: either by adding the source to an address
//! list `sg-ttl-<N>` or by marking the connection `sg-ttl-<N>`. Rules carry a
//! comment starting with [`COMMENT_PREFIX`] so they can be found, compared and
//! removed without touching anything else; installing twice changes nothing.
//! Every change is planned first as a list of [`Command`]s, and the same list
//! is what gets shown in the preview and what gets sent.

use chrono::{DateTime, SecondsFormat, Utc};
use routeros_client::{Client, Command, Error, QueryOp};

use crate::placement::{Place, TableItem};
use serde::Serialize;
use shareguard_detect::{Access, ProbeStrategy};

/// The subscriber side of a PPPoE router: RouterOS's builtin interface list
/// `dynamic`, which holds the PPPoE server's session interfaces but not the
/// router's own PPP client uplinks (`in-interface=all-ppp` matches those
/// too, so the internet's scanners would be probed and capped as well).
pub const PPPOE_SESSIONS: &str = "list:dynamic";

/// The matcher that limits a rule to one subscriber side: `list:NAME` is an
/// interface list (`in-interface-list=NAME`), anything else an interface
/// (`in-interface=NAME`).
pub fn side_matcher(side: &str) -> (&'static str, &str) {
    match side.strip_prefix("list:") {
        Some(list) => ("in-interface-list", list),
        None => ("in-interface", side),
    }
}

/// Every probe rule's comment starts with this.
pub const COMMENT_PREFIX: &str = "shareguard ttl-probe";
/// Address-list and connection-mark names: `sg-ttl-63`.
pub const LABEL_PREFIX: &str = "sg-ttl-";
/// How long an address-list entry lives: long enough to span the time between
/// two nightly scans, short enough that last week's devices do not linger.
pub const ADDRESS_LIST_TIMEOUT: &str = "1d";

/// TTLs worth a rule: each OS default down to six routers away, plus one above
/// 64 and 128 to catch routers that rewrite TTLs to 65 or 129.
pub fn probe_ttls() -> Vec<u8> {
    let mut v: Vec<u8> = (58..=65).chain(122..=129).chain(249..=255).collect();
    v.dedup();
    v
}

/// The TTL in a label such as `sg-ttl-63`.
pub fn ttl_from_label(label: &[u8]) -> Option<u8> {
    let digits = label.strip_prefix(LABEL_PREFIX.as_bytes())?;
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    let mut v: u32 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (b - b'0') as u32;
    }
    u8::try_from(v).ok()
}

/// Which firewall a probe rule lives in. IPv6 packets carry a hop limit
/// where IPv4 has a TTL; operating systems start both at the same value
/// (64, 128 or 255) and every router lowers both by one, so a hop-limit
/// rule in `/ipv6 firewall mangle` is the IPv4 probe's twin for a
/// dual-stack household's IPv6 connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Family {
    // Named outright: serde writes "ipv4", while the TypeScript generator's
    // snake case would say "ipv_4".
    #[serde(rename = "ipv4")]
    Ipv4,
    #[serde(rename = "ipv6")]
    Ipv6,
}

impl Family {
    /// The mangle menu of this family.
    pub fn mangle(self) -> &'static str {
        match self {
            Self::Ipv4 => "/ip/firewall/mangle",
            Self::Ipv6 => "/ipv6/firewall/mangle",
        }
    }

    /// The first-packet matcher: `ttl` or `hop-limit`.
    pub fn matcher(self) -> &'static str {
        match self {
            Self::Ipv4 => "ttl",
            Self::Ipv6 => "hop-limit",
        }
    }
}

/// Which strategy to use when installing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum StrategyChoice {
    /// Connection marks (counts per TTL) unless the router already marks
    /// connections for QoS or load balancing, where a second mark would clash:
    /// then address lists.
    Auto,
    Fixed(ProbeStrategy),
}

impl std::str::FromStr for StrategyChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "address-list" | "address_list" => Ok(Self::Fixed(ProbeStrategy::AddressList)),
            "connection-mark" | "connection_mark" => Ok(Self::Fixed(ProbeStrategy::ConnectionMark)),
            other => Err(format!(
                "unknown probe strategy {other:?}: use auto, address-list or connection-mark"
            )),
        }
    }
}

/// One of our rules as found on the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InstalledRule {
    pub id: String,
    pub family: Family,
    pub ttl: u8,
    pub strategy: ProbeStrategy,
    pub interface: String,
    pub disabled: bool,
    pub installed_at: Option<DateTime<Utc>>,
}

/// What the router's firewall looks like from the probes' point of view.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbeState {
    pub rules: Vec<InstalledRule>,
    /// Enabled `fasttrack-connection` filter rules.
    pub fasttrack_rules: usize,
    /// Other people's enabled `mark-connection` mangle rules.
    pub foreign_connection_marks: usize,
    /// The first prerouting mangle rule that is not ours and not made by
    /// the router (probes go before it).
    pub first_foreign_prerouting: Option<String>,
    /// Where the probes go, in words (below the router's dynamic rules).
    pub place: String,
    /// The router has an IPv6 firewall and serves PPPoE, where dual-stack
    /// households get hop-limit probes too.
    pub ipv6: bool,
    /// [`ProbeState::first_foreign_prerouting`] of `/ipv6 firewall mangle`.
    pub first_foreign_prerouting6: Option<String>,
    /// Hotspot server interfaces (for hotspot NAS).
    pub hotspot_interfaces: Vec<String>,
}

impl ProbeState {
    /// The strategy of the enabled rules in force, if any.
    pub fn strategy(&self) -> Option<ProbeStrategy> {
        self.rules.iter().find(|r| !r.disabled).map(|r| r.strategy)
    }

    /// When the probes went in: the oldest install time among our rules.
    pub fn installed_at(&self) -> Option<DateTime<Utc>> {
        self.rules.iter().filter_map(|r| r.installed_at).min()
    }

    /// Things the owner must know about TTL data from this router.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.fasttrack_rules > 0 {
            w.push(
                "FastTrack is on: the TTL probes still see every connection's first packet, but fast-tracked traffic skips simple queues, so a throttle slows only connections that are not fast-tracked. Bans remove the subscriber's connections so their drop rule applies. Exclude subscribers from FastTrack where throttles must bite.".to_string(),
            );
        }
        if self.rules.is_empty() {
            w.push("No TTL probes are installed on this router: only connection counts were judged. Preview and install them in the app (Routers, TTL probes) or with `shareguard probes show` and `shareguard probes install`.".into());
        } else if self.rules.iter().all(|r| r.disabled) {
            w.push("The TTL probes on this router are disabled: enable them or reinstall with `shareguard probes install`.".into());
        } else if self.ipv6 && !self.rules.iter().any(|r| r.family == Family::Ipv6) {
            w.push("Dual-stack households' IPv6 connections are not probed on this router: reinstall the probes (Routers, TTL probes, or `shareguard probes install`) to add their hop-limit twins in /ipv6 firewall mangle.".into());
        }
        if self.strategy() == Some(ProbeStrategy::ConnectionMark)
            && self.foreign_connection_marks > 0
        {
            w.push(format!(
                "The router also marks connections for other purposes ({}); connection-mark probes can clash with QoS or load balancing. Switch with `shareguard probes install --strategy address-list`.",
                shareguard_detect::words::count(self.foreign_connection_marks as u64, "rule")
            ));
        }
        w
    }

    /// The strategy `choice` resolves to here, and why.
    pub fn choose(&self, choice: StrategyChoice) -> (ProbeStrategy, String) {
        match choice {
            StrategyChoice::Fixed(s) => (s, "chosen explicitly".into()),
            StrategyChoice::Auto if self.foreign_connection_marks > 0 => (
                ProbeStrategy::AddressList,
                format!(
                    "the router already marks connections ({}), so address lists are used to leave QoS and load balancing untouched",
                    shareguard_detect::words::count(self.foreign_connection_marks as u64, "rule")
                ),
            ),
            StrategyChoice::Auto => (
                ProbeStrategy::ConnectionMark,
                "no other connection marks on the router, so connection marks are used: they give counts per TTL".into(),
            ),
        }
    }
}

fn text(r: &routeros_client::Reply, key: &str) -> String {
    r.get_str(key).map(|s| s.into_owned()).unwrap_or_default()
}

fn parse_installed(comment: &str) -> Option<DateTime<Utc>> {
    let at = comment
        .split("installed ")
        .nth(1)?
        .split_whitespace()
        .next()?;
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The mangle print a scan sends (fields the probe inspection needs).
pub fn mangle_print(family: Family) -> Command {
    Command::new(format!("{}/print", family.mangle())).proplist(&[
        ".id",
        "chain",
        "action",
        family.matcher(),
        "in-interface",
        "in-interface-list",
        "new-connection-mark",
        "address-list",
        "connection-state",
        "dynamic",
        "builtin",
        "disabled",
        "comment",
    ])
}

/// The filter print a scan sends (to find FastTrack rules).
pub fn filter_print() -> Command {
    Command::new("/ip/firewall/filter/print").proplist(&[".id", "action", "disabled"])
}

/// Reads mangle and filter rules (both small tables) and, on a hotspot, its servers.
pub async fn inspect(client: &mut Client, access: Access) -> Result<ProbeState, Error> {
    let mut state = ProbeState::default();
    let mangle = client.run(mangle_print(Family::Ipv4)).await?;
    let place = read_rules(&mangle, Family::Ipv4, &mut state);
    state.first_foreign_prerouting = place.before.clone();
    state.place = place.describe();
    // Hotspot servers are IPv4-only; a PPPoE router without the IPv6
    // package answers `no such command prefix`.
    if access == Access::Pppoe {
        match client.run(mangle_print(Family::Ipv6)).await {
            Ok(mangle6) => {
                state.ipv6 = true;
                let place6 = read_rules(&mangle6, Family::Ipv6, &mut state);
                state.first_foreign_prerouting6 = place6.before;
            }
            Err(e) if e.kind() == "trap" => {}
            Err(e) => return Err(e),
        }
    }
    let filter = client.run(filter_print()).await?;
    state.fasttrack_rules = filter
        .iter()
        .filter(|r| {
            r.get("action") == Some(b"fasttrack-connection") && r.get("disabled") != Some(b"true")
        })
        .count();
    if access == Access::Hotspot {
        let servers = client
            .run(Command::new("/ip/hotspot/print").proplist(&["name", "interface", "disabled"]))
            .await?;
        state.hotspot_interfaces = servers
            .iter()
            .filter(|r| r.get("disabled") != Some(b"true"))
            .map(|r| text(r, "interface"))
            .filter(|i| !i.is_empty())
            .collect();
        state.hotspot_interfaces.sort();
        state.hotspot_interfaces.dedup();
    }
    Ok(state)
}

/// Collects one mangle table's probe rules (and, for IPv4, other marks)
/// into `state`; returns where new probes go in that table.
fn read_rules(mangle: &[routeros_client::Reply], family: Family, state: &mut ProbeState) -> Place {
    let items: Vec<TableItem> = mangle.iter().map(TableItem::from_reply).collect();
    let place = Place::first(&items, |i| {
        i.chain == "prerouting" && !i.comment.starts_with(COMMENT_PREFIX)
    });
    for r in mangle {
        let comment = text(r, "comment");
        let disabled = r.get("disabled") == Some(b"true");
        let action = text(r, "action");
        let ours = comment.starts_with(COMMENT_PREFIX);
        if ours {
            let strategy = match action.as_str() {
                "mark-connection" => ProbeStrategy::ConnectionMark,
                _ => ProbeStrategy::AddressList,
            };
            let label = match strategy {
                ProbeStrategy::ConnectionMark => text(r, "new-connection-mark"),
                ProbeStrategy::AddressList => text(r, "address-list"),
            };
            if let Some(ttl) = ttl_from_label(label.as_bytes()) {
                state.rules.push(InstalledRule {
                    id: text(r, ".id"),
                    family,
                    ttl,
                    strategy,
                    interface: match text(r, "in-interface-list") {
                        list if !list.is_empty() => format!("list:{list}"),
                        _ => text(r, "in-interface"),
                    },
                    disabled,
                    installed_at: parse_installed(&comment),
                });
            }
            continue;
        }
        if family == Family::Ipv4 && !disabled && action == "mark-connection" {
            state.foreign_connection_marks += 1;
        }
    }
    place
}

/// A planned change to the probes, shown before anything is written.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbePlan {
    pub strategy: Option<ProbeStrategy>,
    pub interfaces: Vec<String>,
    /// Why this strategy and these interfaces.
    pub notes: Vec<String>,
    /// Written as the router's command-line form, one string each.
    #[serde(serialize_with = "serialize_commands")]
    #[cfg_attr(feature = "specta", specta(type = Vec<String>))]
    pub commands: Vec<Command>,
}

fn serialize_commands<S: serde::Serializer>(c: &[Command], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(c.iter().map(|c| c.to_cli()))
}

impl ProbePlan {
    /// True when the router already has exactly what was asked for.
    pub fn is_noop(&self) -> bool {
        self.commands.is_empty()
    }

    /// The commands as typed in a RouterOS terminal.
    pub fn preview(&self) -> Vec<String> {
        self.commands.iter().map(|c| c.to_cli()).collect()
    }
}

/// The interfaces the probes are limited to: the subscriber-facing side only,
/// so the router's own uplink traffic is never counted.
pub fn probe_interfaces(
    access: Access,
    configured: Option<&str>,
    state: &ProbeState,
) -> Result<Vec<String>, String> {
    if let Some(i) = configured {
        return Ok(i
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect());
    }
    match access {
        Access::Pppoe => Ok(vec![PPPOE_SESSIONS.into()]),
        Access::Hotspot if state.hotspot_interfaces.is_empty() => Err(
            "this hotspot router has no enabled hotspot server, so the subscriber-facing interface is unknown: name it with --interface".into(),
        ),
        Access::Hotspot => Ok(state.hotspot_interfaces.clone()),
    }
}

/// The install plan for `target` on a router in `state`: its strategy choice
/// resolved and the rules limited to its subscriber-facing interfaces. Fails
/// (saying why) when those interfaces cannot be known.
pub fn plan_install_for(
    target: &crate::NasTarget,
    state: &ProbeState,
    now: DateTime<Utc>,
) -> Result<ProbePlan, String> {
    let interfaces = probe_interfaces(target.access, target.probe_interface.as_deref(), state)?;
    let (strategy, why) = state.choose(target.strategy);
    Ok(plan_install(state, strategy, why, interfaces, now))
}

/// Plans an idempotent install: nothing if the same rules are already there,
/// otherwise remove ours and add the wanted set at the top of prerouting.
pub fn plan_install(
    state: &ProbeState,
    strategy: ProbeStrategy,
    why: String,
    interfaces: Vec<String>,
    now: DateTime<Utc>,
) -> ProbePlan {
    let ttls = probe_ttls();
    let families: &[Family] = if state.ipv6 {
        &[Family::Ipv4, Family::Ipv6]
    } else {
        &[Family::Ipv4]
    };
    let mut wanted: Vec<(Family, u8, String)> = Vec::new();
    for &f in families {
        for i in &interfaces {
            wanted.extend(ttls.iter().map(|&t| (f, t, i.clone())));
        }
    }
    wanted.sort();
    let mut have: Vec<(Family, u8, String)> = state
        .rules
        .iter()
        .filter(|r| r.strategy == strategy && !r.disabled)
        .map(|r| (r.family, r.ttl, r.interface.clone()))
        .collect();
    have.sort();
    let mut notes = vec![format!("Probes by {}: {why}.", strategy.words())];
    notes.push(format!(
        "Rules are limited to {} (the subscriber-facing side) and match only the first packet of new connections.",
        interfaces.join(", ")
    ));
    if !state.place.is_empty() {
        notes.push(format!("They go {}.", state.place));
    }
    if state.ipv6 {
        notes.push("The router has IPv6: each rule has a twin in /ipv6 firewall mangle matching the hop limit, so dual-stack households' IPv6 connections are probed too.".into());
    }
    if have == wanted && have.len() == state.rules.len() {
        notes.push("The probes are already installed as planned: nothing to change.".into());
        return ProbePlan {
            strategy: Some(strategy),
            interfaces,
            notes,
            commands: Vec::new(),
        };
    }
    let mut commands = remove_commands(state);
    if !commands.is_empty() {
        notes.push(format!(
            "{} replaced.",
            shareguard_detect::words::count(state.rules.len() as u64, "outdated probe rule")
        ));
    }
    let comment = format!(
        "{COMMENT_PREFIX}; installed {}",
        now.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    for (family, ttl, interface) in wanted {
        let label = format!("{LABEL_PREFIX}{ttl}");
        let (key, side) = side_matcher(&interface);
        let mut c = Command::new(format!("{}/add", family.mangle()))
            .attr("chain", "prerouting")
            .attr(key, side)
            .attr("connection-state", "new")
            .attr(family.matcher(), format!("equal:{ttl}"));
        c = match strategy {
            ProbeStrategy::AddressList => c
                .attr("action", "add-src-to-address-list")
                .attr("address-list", label)
                .attr("address-list-timeout", ADDRESS_LIST_TIMEOUT),
            ProbeStrategy::ConnectionMark => c
                .attr("action", "mark-connection")
                .attr("new-connection-mark", label)
                .attr("passthrough", "yes"),
        };
        c = c.attr("comment", comment.clone());
        let before = match family {
            Family::Ipv4 => &state.first_foreign_prerouting,
            Family::Ipv6 => &state.first_foreign_prerouting6,
        };
        if let Some(before) = before {
            c = c.attr("place-before", before.clone());
        }
        commands.push(c);
    }
    ProbePlan {
        strategy: Some(strategy),
        interfaces,
        notes,
        commands,
    }
}

/// One removal per mangle table that holds probe rules.
fn remove_commands(state: &ProbeState) -> Vec<Command> {
    [Family::Ipv4, Family::Ipv6]
        .into_iter()
        .filter_map(|f| {
            let ids: Vec<&str> = state
                .rules
                .iter()
                .filter(|r| r.family == f)
                .map(|r| r.id.as_str())
                .collect();
            (!ids.is_empty())
                .then(|| Command::new(format!("{}/remove", f.mangle())).attr(".id", ids.join(",")))
        })
        .collect()
}

/// Plans removing every probe rule (and nothing else).
pub fn plan_remove(state: &ProbeState) -> ProbePlan {
    let commands = remove_commands(state);
    let notes = if commands.is_empty() {
        vec!["No probe rules are installed: nothing to remove.".into()]
    } else {
        vec![format!(
            "{} removed; address-list entries expire by themselves within {ADDRESS_LIST_TIMEOUT}.",
            shareguard_detect::words::count(state.rules.len() as u64, "probe rule")
        )]
    };
    ProbePlan {
        strategy: None,
        interfaces: Vec::new(),
        notes,
        commands,
    }
}

/// Sends a plan's commands in order. Stops at the first refusal, naming it.
pub async fn apply(client: &mut Client, plan: &ProbePlan) -> Result<(), Error> {
    for c in &plan.commands {
        client.execute(c.clone()).await?;
    }
    Ok(())
}

/// The address-list query for all probe lists: `?list=a ?list=b ?#| ...`,
/// filtered on the router so other (possibly huge) lists are never sent.
pub fn address_list_query(mut cmd: Command) -> Command {
    let ttls = probe_ttls();
    for (i, t) in ttls.iter().enumerate() {
        cmd = cmd.query(QueryOp::Eq("list".into(), format!("{LABEL_PREFIX}{t}")));
        if i > 0 {
            cmd = cmd.query(QueryOp::Or);
        }
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with(rules: Vec<InstalledRule>) -> ProbeState {
        ProbeState {
            rules,
            ..ProbeState::default()
        }
    }

    #[test]
    fn install_on_a_clean_router_adds_one_rule_per_ttl_at_the_top() {
        let s = ProbeState {
            first_foreign_prerouting: Some("*5".into()),
            ..ProbeState::default()
        };
        let plan = plan_install(
            &s,
            ProbeStrategy::AddressList,
            "test".into(),
            vec!["all-ppp".into()],
            Utc::now(),
        );
        assert_eq!(plan.commands.len(), probe_ttls().len());
        let first = plan.preview()[0].clone();
        assert!(first.starts_with("/ip firewall mangle add chain=prerouting in-interface=all-ppp connection-state=new ttl=equal:58 action=add-src-to-address-list address-list=sg-ttl-58"), "{first}");
        assert!(first.contains("place-before=*5"));
    }

    #[test]
    fn installing_what_is_there_changes_nothing() {
        let now = Utc::now();
        let rules = probe_ttls()
            .into_iter()
            .enumerate()
            .map(|(i, ttl)| InstalledRule {
                id: format!("*{i:X}"),
                family: Family::Ipv4,
                ttl,
                strategy: ProbeStrategy::ConnectionMark,
                interface: "all-ppp".into(),
                disabled: false,
                installed_at: Some(now),
            })
            .collect();
        let s = state_with(rules);
        let plan = plan_install(
            &s,
            ProbeStrategy::ConnectionMark,
            "x".into(),
            vec!["all-ppp".into()],
            now,
        );
        assert!(plan.is_noop());
        let switch = plan_install(
            &s,
            ProbeStrategy::AddressList,
            "x".into(),
            vec!["all-ppp".into()],
            now,
        );
        assert!(switch.preview()[0].starts_with("/ip firewall mangle remove numbers=*0,*1"));
    }

    #[test]
    fn auto_avoids_connection_marks_when_the_router_uses_them() {
        let mut s = ProbeState::default();
        assert_eq!(
            s.choose(StrategyChoice::Auto).0,
            ProbeStrategy::ConnectionMark
        );
        s.foreign_connection_marks = 2;
        assert_eq!(s.choose(StrategyChoice::Auto).0, ProbeStrategy::AddressList);
    }

    #[test]
    fn labels_and_comments_parse() {
        assert_eq!(ttl_from_label(b"sg-ttl-126"), Some(126));
        assert_eq!(ttl_from_label(b"pcc-1"), None);
        let at = parse_installed("shareguard ttl-probe; installed 2026-11-21T10:00:00Z").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-21T10:00:00+00:00");
    }
}
