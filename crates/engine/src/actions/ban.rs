//! Temporary bans on a router: an address-list entry with a timeout, so the
//! router lifts it on its own even when ShareGuard is closed, plus one filter
//! rule that drops the list's traffic. The rule is installed once, after a
//! preview. On a router with IPv6, the rule has a twin in `/ipv6 firewall
//! filter` and a dual-stack subscriber's delegated prefix goes on its IPv6
//! list: a ban that left IPv6 flowing would not be a ban.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use routeros_client::{Client, Command};
use serde::Serialize;

use super::error::{within, ActionError};
use super::router_lists::{self, Fw};
use super::session::{elapsed_ms, no_address, online};
use crate::router::Router;

/// The address list a ban puts subscribers on.
pub const BAN_LIST: &str = "sg-banned";
/// The comment that marks ShareGuard's ban rule and entries.
pub const BAN_COMMENT: &str = "shareguard ban";

/// What a ban did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BanReport {
    pub subscriber: String,
    pub nas: String,
    pub address: Ipv4Addr,
    pub list: String,
    pub minutes: u32,
    /// The address-list entry's `.id`.
    pub entry: Option<String>,
    /// Connections of the subscriber removed from the connection table, so
    /// that fast-tracked ones cannot carry on past the drop rule.
    pub connections_removed: usize,
    /// The dual-stack subscriber's delegated IPv6 prefix, banned too.
    pub prefix: Option<String>,
    /// The `.id` of the prefix's IPv6 address-list entry.
    pub prefix_entry: Option<String>,
    /// IPv6 connections removed, as for IPv4.
    pub ipv6_connections_removed: usize,
    pub elapsed_ms: f64,
    pub dry_run: bool,
}

/// The filter rule a ban needs in one family's filter, as it is added.
fn ban_rule_in(fw: Fw) -> Command {
    Command::new(format!("{}/add", fw.filter()))
        .attr("chain", "forward")
        .attr("src-address-list", BAN_LIST)
        .attr("action", "drop")
        .attr("comment", BAN_COMMENT)
}

/// The IPv4 filter rule a ban needs, as it is added.
pub fn ban_rule() -> Command {
    ban_rule_in(Fw::V4)
}

/// The ban rules in RouterOS terminal syntax, for the preview: rendered
/// from the commands that are sent, the IPv4 rule and (on routers with
/// IPv6) its twin, one per line. They go above the owner's first filter
/// rule, right below the rules RouterOS keeps at the top;
/// [`ban_rule_place`] names that place on a given router.
pub fn ban_rule_preview() -> String {
    format!("{}\n{}", ban_rule().to_cli(), ban_rule_in(Fw::V6).to_cli())
}

/// Where the ban rules would go on `router` now, in words.
pub async fn ban_rule_place(router: &Router) -> Result<String, ActionError> {
    let mut c = Client::connect(&router.target.connect).await?;
    let v4 = router_lists::top_of_filter(&mut c).await?;
    Ok(
        match router_lists::top_of_filter_in(&mut c, Fw::V6).await? {
            Some(v6) => format!("{v4}; in /ipv6 firewall filter {v6}"),
            None => format!("{v4}; the router has no IPv6, so the IPv6 rule is not needed"),
        },
    )
}

/// Whether the (IPv4) ban rule is on the router.
pub async fn ban_rule_installed(c: &mut Client) -> Result<bool, routeros_client::Error> {
    Ok(!router_lists::tagged_rules(c, BAN_COMMENT).await?.is_empty())
}

/// Installs the ban rule at the top of the filter list, and its twin at
/// the top of the IPv6 filter on a router with IPv6, where missing.
/// Returns false when both already were.
pub async fn install_ban_rule(router: &Router) -> Result<bool, ActionError> {
    Ok(!install_ban_rules(router).await?.is_empty())
}

/// [`install_ban_rule`], returning the rules it added (as typed in a
/// RouterOS terminal): none, the IPv4 rule, its IPv6 twin, or both.
pub async fn install_ban_rules(router: &Router) -> Result<Vec<String>, ActionError> {
    let mut c = Client::connect(&router.target.connect).await?;
    let mut added = Vec::new();
    for fw in [Fw::V4, Fw::V6] {
        if fw == Fw::V6 && !router_lists::has_ipv6(&mut c).await? {
            continue;
        }
        if !router_lists::tagged_rules_in(&mut c, fw, BAN_COMMENT)
            .await?
            .is_empty()
        {
            continue;
        }
        // Before any accept or fast-track rule, or the drop would never be
        // reached.
        router_lists::add_rules_on_top_of(
            &mut c,
            fw,
            &router.target.name,
            vec![ban_rule_in(fw)],
            BAN_COMMENT,
        )
        .await?;
        added.push(ban_rule_in(fw).to_cli());
    }
    Ok(added)
}

/// Bans `subscriber`'s address for `minutes`. The router lifts the entry on
/// its own when the timeout runs out.
pub async fn ban(
    router: &Router,
    subscriber: &str,
    minutes: u32,
    dry_run: bool,
    budget: Duration,
) -> Result<BanReport, ActionError> {
    within(&router.target.name, budget, async {
        let started = Instant::now();
        let mut c = Client::connect(&router.target.connect).await?;
        let session = online(&mut c, &router.target, subscriber).await?;
        let ip = session.address.ok_or_else(|| no_address(router, subscriber, "lookup"))?;
        if !ban_rule_installed(&mut c).await? {
            let place = router_lists::top_of_filter(&mut c).await?;
            return Err(ActionError::RuleMissing {
                subscriber: subscriber.into(),
                nas: router.target.name.clone(),
                request: "ban",
                why: format!(
                    "the ban rule is not installed, so a ban would not block anything; preview and install it first ({}, placed {place})",
                    ban_rule().to_cli()
                ),
                rules: vec![ban_rule().to_cli()],
            });
        }
        let prefix =
            router_lists::delegated_prefix(&mut c, router.target.access, subscriber).await?;
        if let Some(prefix) = &prefix {
            if router_lists::tagged_rules_in(&mut c, Fw::V6, BAN_COMMENT)
                .await?
                .is_empty()
            {
                return Err(ActionError::RuleMissing {
                    subscriber: subscriber.into(),
                    nas: router.target.name.clone(),
                    request: "ban",
                    why: format!(
                        "the subscriber is dual-stack (IPv6 prefix {prefix}) and the IPv6 ban rule is not installed, so a ban would leave their IPv6 traffic flowing; install the ban rule again to add its IPv6 twin ({})",
                        ban_rule_in(Fw::V6).to_cli()
                    ),
                    rules: vec![ban_rule_in(Fw::V6).to_cli()],
                });
            }
        }
        let mut report = BanReport {
            subscriber: subscriber.into(),
            nas: router.target.name.clone(),
            address: ip,
            list: BAN_LIST.into(),
            minutes,
            entry: None,
            connections_removed: 0,
            prefix: prefix.clone(),
            prefix_entry: None,
            ipv6_connections_removed: 0,
            elapsed_ms: 0.0,
            dry_run,
        };
        if dry_run {
            report.elapsed_ms = elapsed_ms(started);
            return Ok(report);
        }
        let comment = format!("{BAN_COMMENT} {subscriber}");
        let entry = router_lists::put_on_list(&mut c, BAN_LIST, ip, minutes, &comment).await?;
        report.entry = Some(entry);
        // Connections the router fast-tracked before the ban skip the
        // firewall: removed, their next packets meet the drop rule.
        report.connections_removed = router_lists::remove_connections_of(&mut c, ip).await?;
        if let Some(prefix) = &prefix {
            report.prefix_entry = Some(
                router_lists::put_prefix_on_list(&mut c, BAN_LIST, prefix, minutes, &comment)
                    .await?,
            );
            report.ipv6_connections_removed =
                router_lists::remove_ipv6_connections_of(&mut c, prefix).await?;
        }
        report.elapsed_ms = elapsed_ms(started);
        Ok(report)
    })
    .await
}
