//! Connection limits for suspicious subscribers, the approach hotspot
//! portals use instead of cutting a suspected sharer off: the subscriber
//! keeps a working line, but too little of it to share with a second
//! household.
//!
//! A limited subscriber's address goes on the `sg-limited` address list with
//! a timeout, so the router ends the limit on its own. What the list means
//! depends on the access type:
//!
//! * PPPoE: per-address connection caps in the firewall
//!   (`connection-limit=N,32` on new connections), a low one for the list
//!   and, when configured, a higher one for everyone else. The router
//!   enforces them, with or without ShareGuard running. The rules are
//!   previewed and installed on request, like the ban rule. On a router
//!   with IPv6 they have twins in `/ipv6 firewall filter` counting per
//!   delegated /64 (`connection-limit=N,64`, every device of the household
//!   together), and a limited dual-stack subscriber's prefix goes on the
//!   IPv6 list: each family is capped at N.
//! * Hotspot: the portal's unit is the session (one login, one device):
//!   normal accounts may hold a few at once, limited ones one. RouterOS only
//!   caps sessions per user profile (`shared-users`), which RADIUS-authorised
//!   logins do not let ShareGuard change, so the monitor ends the newest
//!   sessions over the cap each cycle, and `limit` does so at once.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use routeros_client::{Client, Command, QueryOp};
use serde::{Deserialize, Serialize};
use shareguard_detect::Access;
use shareguard_scan::monitor::parse_ros_duration_ms;

use super::error::{within, ActionError};
use super::router_lists::{self, Fw};
use super::session::{elapsed_ms, online};
use crate::router::Router;

/// The address list of limited subscribers.
pub const LIMIT_LIST: &str = "sg-limited";
/// The comment that marks ShareGuard's limit rules and list entries.
pub const LIMIT_COMMENT: &str = "shareguard limit";

/// How much a normal and a limited subscriber may open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct LimitSettings {
    /// PPPoE: concurrent connections per address for everyone not limited;
    /// 0 installs no cap for them. The default is the flood ban threshold:
    /// no household needs more.
    pub pppoe_normal: u32,
    /// PPPoE: concurrent connections per address while limited. The default
    /// is the flood warning threshold: enough for one household.
    pub pppoe_suspicious: u32,
    /// Hotspot: sessions (logged-in devices) per account.
    pub hotspot_normal: u32,
    /// Hotspot: sessions per account while limited.
    pub hotspot_suspicious: u32,
    /// How long a limit lasts unless given.
    pub minutes: u32,
    /// End hotspot sessions over the caps in every monitor cycle.
    pub enforce_hotspot_sessions: bool,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            pppoe_normal: 500,
            pppoe_suspicious: 100,
            hotspot_normal: 3,
            hotspot_suspicious: 1,
            minutes: 24 * 60,
            enforce_hotspot_sessions: true,
        }
    }
}

impl LimitSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(10..=100_000).contains(&self.pppoe_suspicious) {
            return Err(format!(
                "a limited PPPoE line needs 10 to 100000 connections (got {}); the usual value is 100, fewer breaks ordinary browsing",
                self.pppoe_suspicious
            ));
        }
        if self.pppoe_normal != 0 && self.pppoe_normal <= self.pppoe_suspicious {
            return Err(format!(
                "the normal PPPoE cap ({}) must be above the limited one ({}), or 0 for no cap; the usual values are 500 and 100",
                self.pppoe_normal, self.pppoe_suspicious
            ));
        }
        if !(1..=50).contains(&self.hotspot_suspicious)
            || self.hotspot_normal < self.hotspot_suspicious
            || self.hotspot_normal > 50
        {
            return Err(format!(
                "hotspot sessions must be 1 to 50, normal at least the limited number (got {} and {}); the usual values are 3 and 1",
                self.hotspot_normal, self.hotspot_suspicious
            ));
        }
        if !(1..=30 * 24 * 60).contains(&self.minutes) {
            return Err(
                "a limit must last between 1 minute and 30 days; the usual value is 24 hours"
                    .into(),
            );
        }
        Ok(())
    }

    /// (normal, limited) caps and their unit for `access`.
    pub fn caps(&self, access: Access) -> (u32, u32, &'static str) {
        match access {
            Access::Pppoe => (self.pppoe_normal, self.pppoe_suspicious, "connections"),
            Access::Hotspot => (self.hotspot_normal, self.hotspot_suspicious, "sessions"),
        }
    }
}

/// The PPPoE limit rules as they are added: new connections past the cap
/// are dropped, for subscriber-facing interfaces only.
pub fn limit_rules(s: &LimitSettings, interface: &str) -> Vec<Command> {
    limit_rules_in(s, interface, Fw::V4)
}

/// [`limit_rules`] for one family: per address (`/32`) in IPv4, per
/// delegated prefix (`/64`) in IPv6.
fn limit_rules_in(s: &LimitSettings, interface: &str, fw: Fw) -> Vec<Command> {
    let side = shareguard_scan::probes::side_matcher(interface);
    let per = match fw {
        Fw::V4 => 32,
        Fw::V6 => 64,
    };
    let rule = |list: String, cap: u32, who: &str| {
        Command::new(format!("{}/add", fw.filter()))
            .attr("chain", "forward")
            .attr(side.0, side.1)
            .attr("src-address-list", list)
            .attr("connection-state", "new")
            .attr("connection-limit", format!("{cap},{per}"))
            .attr("action", "drop")
            .attr("comment", format!("{LIMIT_COMMENT} {who}"))
    };
    let mut rules = vec![rule(
        LIMIT_LIST.to_string(),
        s.pppoe_suspicious,
        "suspicious",
    )];
    if s.pppoe_normal > 0 {
        rules.push(rule(format!("!{LIMIT_LIST}"), s.pppoe_normal, "normal"));
    }
    rules
}

/// The rules in RouterOS terminal syntax, for the preview: rendered from
/// the very commands that are sent. They go above the owner's first filter
/// rule, right below the rules RouterOS keeps at the top.
/// The IPv6 twins follow, sent only to routers with IPv6.
pub fn limit_rules_preview(s: &LimitSettings, interface: &str) -> Vec<String> {
    limit_rules_in(s, interface, Fw::V4)
        .iter()
        .chain(&limit_rules_in(s, interface, Fw::V6))
        .map(|c| c.to_cli())
        .collect()
}

/// The interface the rules are limited to: the probe interface when the
/// owner set one, else every PPP session.
fn rule_interface(router: &Router) -> String {
    router
        .target
        .probe_interface
        .clone()
        .unwrap_or_else(|| shareguard_scan::probes::PPPOE_SESSIONS.into())
}

/// The preview for `router`; empty on a hotspot, which needs no rules.
pub fn preview_for(router: &Router, s: &LimitSettings) -> Vec<String> {
    match router.target.access {
        Access::Pppoe => limit_rules_preview(s, &rule_interface(router)),
        Access::Hotspot => Vec::new(),
    }
}

/// The `.id`s of one family's limit rules; none on a router without IPv6.
async fn installed_rules(c: &mut Client, fw: Fw) -> Result<Vec<String>, routeros_client::Error> {
    let mut ids =
        router_lists::tagged_rules_in(c, fw, &format!("{LIMIT_COMMENT} suspicious")).await?;
    ids.extend(router_lists::tagged_rules_in(c, fw, &format!("{LIMIT_COMMENT} normal")).await?);
    Ok(ids)
}

/// Installs the PPPoE limit rules with the current caps at the top of the
/// filter list, replacing ShareGuard's earlier ones so a changed cap takes
/// effect. Returns how many rules are now installed (0 on a hotspot).
pub async fn install_limit_rules(router: &Router, s: &LimitSettings) -> Result<usize, ActionError> {
    if router.target.access == Access::Hotspot {
        return Ok(0);
    }
    let mut c = Client::connect(&router.target.connect).await?;
    let mut n = 0;
    for fw in [Fw::V4, Fw::V6] {
        if fw == Fw::V6 && !router_lists::has_ipv6(&mut c).await? {
            continue;
        }
        let old = installed_rules(&mut c, fw).await?;
        if !old.is_empty() {
            c.run(Command::new(format!("{}/remove", fw.filter())).attr(".id", old.join(",")))
                .await?;
        }
        let rules = limit_rules_in(s, &rule_interface(router), fw);
        n += rules.len();
        router_lists::add_rules_on_top_of(&mut c, fw, &router.target.name, rules, LIMIT_COMMENT)
            .await?;
    }
    Ok(n)
}

/// One hotspot session, as far as the session cap is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HotspotSession {
    pub item: String,
    pub user: String,
    pub address: Option<Ipv4Addr>,
    pub uptime_ms: u64,
}

/// The sessions to end so that no account holds more than its cap: the
/// newest ones beyond it, since the oldest is the device the subscriber has
/// been using. `limited` names the accounts on the limit list.
pub fn sessions_over_cap<'a>(
    sessions: &'a [HotspotSession],
    limited: &HashSet<String>,
    normal: u32,
    suspicious: u32,
) -> Vec<&'a HotspotSession> {
    let mut by_user: std::collections::BTreeMap<&str, Vec<&HotspotSession>> = Default::default();
    for s in sessions {
        by_user.entry(&s.user).or_default().push(s);
    }
    let mut over = Vec::new();
    for (user, mut list) in by_user {
        let cap = if limited.contains(user) {
            suspicious
        } else {
            normal
        };
        if list.len() <= cap as usize {
            continue;
        }
        list.sort_by_key(|s| std::cmp::Reverse(s.uptime_ms));
        over.extend(list.into_iter().skip(cap as usize));
    }
    over
}

/// The accounts on the limit list: named in the entries' comments, or
/// found by the listed address.
async fn limited_users(
    c: &mut Client,
    sessions: &[HotspotSession],
) -> Result<HashSet<String>, routeros_client::Error> {
    let rows = c
        .run(
            Command::new("/ip/firewall/address-list/print")
                .proplist(&["address", "comment"])
                .query(QueryOp::Eq("list".into(), LIMIT_LIST.into())),
        )
        .await?;
    let mut users = HashSet::new();
    let prefix = format!("{LIMIT_COMMENT} ");
    for r in &rows {
        if let Some(name) = r
            .get_str("comment")
            .and_then(|c| c.strip_prefix(&prefix).map(str::to_string))
        {
            users.insert(name);
        }
        let addr: Option<Ipv4Addr> = r.get_str("address").and_then(|a| a.parse().ok());
        for s in sessions
            .iter()
            .filter(|s| addr.is_some() && s.address == addr)
        {
            users.insert(s.user.clone());
        }
    }
    Ok(users)
}

async fn hotspot_sessions(
    c: &mut Client,
    user: Option<&str>,
) -> Result<Vec<HotspotSession>, routeros_client::Error> {
    let mut cmd =
        Command::new("/ip/hotspot/active/print").proplist(&[".id", "user", "address", "uptime"]);
    if let Some(u) = user {
        cmd = cmd.query(QueryOp::Eq("user".into(), u.into()));
    }
    let rows = c.run(cmd).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(HotspotSession {
                item: r.get_str(".id")?.into_owned(),
                user: r.get_str("user")?.into_owned(),
                address: r.get_str("address").and_then(|a| a.parse().ok()),
                uptime_ms: r
                    .get_str("uptime")
                    .and_then(|u| parse_ros_duration_ms(&u))
                    .unwrap_or(0),
            })
        })
        .collect())
}

/// Ends the hotspot sessions over the caps on one router (all accounts, or
/// only `user`). Returns the sessions ended.
pub async fn trim_hotspot_sessions(
    c: &mut Client,
    s: &LimitSettings,
    user: Option<&str>,
) -> Result<Vec<HotspotSession>, routeros_client::Error> {
    let sessions = hotspot_sessions(c, user).await?;
    let limited = limited_users(c, &sessions).await?;
    let over: Vec<HotspotSession> =
        sessions_over_cap(&sessions, &limited, s.hotspot_normal, s.hotspot_suspicious)
            .into_iter()
            .cloned()
            .collect();
    for s in &over {
        match c
            .run(Command::new("/ip/hotspot/active/remove").attr(".id", s.item.as_str()))
            .await
        {
            Ok(_) => {}
            // Logged out in the meantime: nothing left to end.
            Err(e) if e.kind() == "trap" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(over)
}

/// What a limit did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LimitReport {
    pub subscriber: String,
    pub nas: String,
    pub address: Ipv4Addr,
    pub list: String,
    pub minutes: u32,
    /// The cap now in force, in `unit`s.
    pub cap: u32,
    pub unit: String,
    pub entry: Option<String>,
    /// The dual-stack subscriber's delegated IPv6 prefix, limited too.
    pub prefix: Option<String>,
    /// Hotspot sessions ended to bring the account down to its cap.
    pub ended_sessions: Vec<String>,
    pub elapsed_ms: f64,
    pub dry_run: bool,
}

/// Limits `subscriber` for `minutes`. On PPPoE the limit rules must be
/// installed first, or the list entry would limit nothing.
pub async fn limit(
    router: &Router,
    subscriber: &str,
    s: &LimitSettings,
    minutes: u32,
    dry_run: bool,
    budget: Duration,
) -> Result<LimitReport, ActionError> {
    within(&router.target.name, budget, async {
        let started = Instant::now();
        let mut c = Client::connect(&router.target.connect).await?;
        let session = online(&mut c, &router.target, subscriber).await?;
        let ip = session
            .address
            .ok_or_else(|| super::session::no_address(router, subscriber, "limit"))?;
        let access = router.target.access;
        if access == Access::Pppoe && installed_rules(&mut c, Fw::V4).await?.is_empty() {
            let place = router_lists::top_of_filter(&mut c).await?;
            let rules = preview_for(router, s);
            return Err(ActionError::RuleMissing {
                subscriber: subscriber.into(),
                nas: router.target.name.clone(),
                request: "limit",
                why: format!(
                    "the connection-limit rules are not installed, so the list would limit nothing; preview and install them first ({}; placed {place})",
                    rules.join("; ")
                ),
                rules,
            });
        }
        let prefix = router_lists::delegated_prefix(&mut c, access, subscriber).await?;
        if prefix.is_some() && installed_rules(&mut c, Fw::V6).await?.is_empty() {
            let rules: Vec<String> = limit_rules_in(s, &rule_interface(router), Fw::V6)
                .iter()
                .map(|c| c.to_cli())
                .collect();
            return Err(ActionError::RuleMissing {
                subscriber: subscriber.into(),
                nas: router.target.name.clone(),
                request: "limit",
                why: format!(
                    "the subscriber is dual-stack (IPv6 prefix {}) and the IPv6 connection-limit rules are not installed, so their IPv6 connections would not be limited; install the limit rules again to add their IPv6 twins ({})",
                    prefix.as_deref().unwrap_or_default(),
                    rules.join("; ")
                ),
                rules,
            });
        }
        let (_, cap, unit) = s.caps(access);
        let mut report = LimitReport {
            subscriber: subscriber.into(),
            nas: router.target.name.clone(),
            address: ip,
            list: LIMIT_LIST.into(),
            minutes,
            cap,
            unit: unit.into(),
            entry: None,
            prefix: prefix.clone(),
            ended_sessions: Vec::new(),
            elapsed_ms: 0.0,
            dry_run,
        };
        if !dry_run {
            let comment = format!("{LIMIT_COMMENT} {subscriber}");
            report.entry =
                Some(router_lists::put_on_list(&mut c, LIMIT_LIST, ip, minutes, &comment).await?);
            if let Some(prefix) = &prefix {
                router_lists::put_prefix_on_list(&mut c, LIMIT_LIST, prefix, minutes, &comment)
                    .await?;
            }
            if access == Access::Hotspot {
                report.ended_sessions = trim_hotspot_sessions(&mut c, s, Some(subscriber))
                    .await?
                    .into_iter()
                    .map(|s| s.item)
                    .collect();
            }
        }
        report.elapsed_ms = elapsed_ms(started);
        Ok(report)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(item: &str, user: &str, uptime_s: u64) -> HotspotSession {
        HotspotSession {
            item: item.into(),
            user: user.into(),
            address: None,
            uptime_ms: uptime_s * 1000,
        }
    }

    #[test]
    fn the_newest_sessions_over_the_cap_end() {
        let sessions = vec![
            session("*1", "ana", 3600),
            session("*2", "ana", 60),
            session("*3", "ana", 600),
            session("*4", "ben", 10),
            session("*5", "ben", 20),
            session("*6", "ben", 30),
            session("*7", "ben", 40),
            session("*8", "cy", 5),
        ];
        let limited: HashSet<String> = ["ana".to_string()].into();
        let over: Vec<&str> = sessions_over_cap(&sessions, &limited, 3, 1)
            .iter()
            .map(|s| s.item.as_str())
            .collect();
        // ana (limited) keeps her oldest session; ben keeps his three oldest.
        assert_eq!(over, vec!["*3", "*2", "*4"]);
        assert!(sessions_over_cap(&sessions, &HashSet::new(), 4, 1).is_empty());
    }

    #[test]
    fn the_rules_cap_new_connections_per_address() {
        let s = LimitSettings::default();
        let lines = limit_rules_preview(&s, "list:dynamic");
        // Two rules, then their IPv6 twins counting per delegated /64.
        assert_eq!(lines.len(), 4);
        assert!(
            lines[2].starts_with("/ipv6 firewall filter add")
                && lines[2].contains("connection-limit=100,64")
                && lines[3].contains(
                    "src-address-list=!sg-limited connection-state=new connection-limit=500,64"
                ),
            "{lines:?}"
        );
        assert!(
            lines[0].contains("chain=forward in-interface-list=dynamic "),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("src-address-list=sg-limited connection-state=new connection-limit=100,32 action=drop"), "{}", lines[0]);
        assert!(
            lines[1].contains(
                "src-address-list=!sg-limited connection-state=new connection-limit=500,32"
            ),
            "{}",
            lines[1]
        );
        let only = LimitSettings {
            pppoe_normal: 0,
            ..s.clone()
        };
        assert_eq!(limit_rules(&only, "all-ppp").len(), 1);
        assert!(s.validate().is_ok());
        let bad = LimitSettings {
            pppoe_normal: 50,
            ..s.clone()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .contains("must be above the limited one"));
        let bad = LimitSettings {
            hotspot_suspicious: 4,
            ..s
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .contains("usual values are 3 and 1"));
    }
}
