//! The router-side P2P classification the abuse monitor reads: a layer-7
//! protocol that recognises BitTorrent handshakes, tracker requests and DHT
//! queries, and one mangle rule that puts the source of such a connection
//! on the `sg-p2p` address list for ten minutes.
//!
//! An address list, not a connection mark: a connection holds one mark, and
//! a P2P mark would overwrite the TTL probes' marks (or be overwritten by
//! them, or by the owner's QoS marks). A list entry per subscriber is all
//! the monitor needs, and it sits next to any mark-based setup.
//!
//! Layer-7 matching inspects the first packets of every connection through
//! the rule and costs router CPU, so these rules are optional: without
//! them the monitor still finds P2P from the connection table's shape.

use routeros_client::{Client, Command};
use serde::Serialize;
use shareguard_detect::Access;
use shareguard_scan::monitor::P2P_LIST;

use crate::actions::error::{within, ActionError};
use crate::actions::router_lists;
use crate::router::Router;
use shareguard_scan::placement::{read_table, Place};

/// The layer-7 protocol's name on the router.
pub const P2P_PROTOCOL: &str = "sg-bittorrent";
/// The comment that marks ShareGuard's P2P rule and protocol.
pub const P2P_COMMENT: &str = "shareguard p2p";
/// BitTorrent peer handshake, Azureus handshake, tracker scrape and
/// announce, and a DHT query; RouterOS matches layer-7 case-insensitively.
pub const P2P_REGEXP: &str = r"^(\x13bittorrent protocol|azver\x01$|get /scrape\?info_hash=|get /announce\?info_hash=|d1:ad2:id20:)";

/// What is on the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct P2pRulesState {
    pub protocol: bool,
    pub rule: bool,
}

impl P2pRulesState {
    pub fn installed(&self) -> bool {
        self.protocol && self.rule
    }
}

/// The interface the rule watches: the probe interface when the owner set
/// one, else every PPP session or the interfaces of the router's enabled
/// hotspot servers, as `/ip hotspot` names them.
async fn interface(c: &mut Client, router: &Router) -> Result<String, ActionError> {
    if let Some(i) = &router.target.probe_interface {
        return Ok(i.clone());
    }
    match router.target.access {
        Access::Pppoe => Ok(shareguard_scan::probes::PPPOE_SESSIONS.into()),
        Access::Hotspot => {
            let state = shareguard_scan::probes::inspect(c, Access::Hotspot).await?;
            shareguard_scan::probes::probe_interfaces(Access::Hotspot, None, &state)
                .map(|i| i.join(","))
                .map_err(|why| ActionError::Refused {
                    subscriber: String::new(),
                    nas: router.target.name.clone(),
                    request: "P2P rule",
                    why,
                })
        }
    }
}

/// The protocol and the rule. The rule sits in the forward chain, which
/// sees both directions of a connection: layer-7 matching needs both
/// (MikroTik's Layer7 page), and a prerouting rule would need a twin in
/// postrouting. It goes above the owner's first forward mangle rule, below
/// what the router keeps at the top.
fn commands(interface: &str, place: &Place) -> (Command, Command) {
    let side = shareguard_scan::probes::side_matcher(interface);
    let protocol = Command::new("/ip/firewall/layer7-protocol/add")
        .attr("name", P2P_PROTOCOL)
        .attr("regexp", P2P_REGEXP)
        .attr("comment", P2P_COMMENT);
    let rule = Command::new("/ip/firewall/mangle/add")
        .attr("chain", "forward")
        .attr(side.0, side.1)
        .attr("layer7-protocol", P2P_PROTOCOL)
        .attr("action", "add-src-to-address-list")
        .attr("address-list", P2P_LIST)
        .attr("address-list-timeout", "10m")
        .attr("comment", P2P_COMMENT);
    (protocol, place.apply(rule))
}

/// The commands for `router` as they would be sent now.
async fn planned(c: &mut Client, router: &Router) -> Result<(Command, Command), ActionError> {
    let interface = interface(c, router).await?;
    let mangle = read_table(c, MANGLE).await?;
    let place = Place::first(&mangle, |i| {
        i.chain == "forward" && i.comment != P2P_COMMENT
    });
    Ok(commands(&interface, &place))
}

/// The protocol and rule in RouterOS terminal syntax, for the preview:
/// rendered from the commands that would be sent to `router` now (its
/// hotspot interface, the rule's real place), so the regexp is escaped for
/// the terminal (`\\`, `\$`) exactly as it must be typed.
pub async fn preview(router: &Router) -> Result<Vec<String>, ActionError> {
    let mut c = Client::connect(&router.target.connect).await?;
    let (protocol, rule) = planned(&mut c, router).await?;
    Ok(vec![protocol.to_cli(), rule.to_cli()])
}

const PROTOCOLS: &str = "/ip/firewall/layer7-protocol";
const MANGLE: &str = "/ip/firewall/mangle";

/// Whether the protocol and rule are on the router.
pub async fn state(router: &Router) -> Result<P2pRulesState, ActionError> {
    let mut c = Client::connect(&router.target.connect).await?;
    Ok(P2pRulesState {
        protocol: !router_lists::tagged(&mut c, PROTOCOLS, P2P_COMMENT)
            .await?
            .is_empty(),
        rule: !router_lists::tagged(&mut c, MANGLE, P2P_COMMENT)
            .await?
            .is_empty(),
    })
}

/// Removes ShareGuard's P2P rule and protocol (the rule first, since the
/// router refuses to remove a protocol a rule uses). Returns how many items
/// were removed.
pub async fn remove(router: &Router) -> Result<usize, ActionError> {
    let mut c = Client::connect(&router.target.connect).await?;
    remove_on(&mut c).await
}

async fn remove_on(c: &mut Client) -> Result<usize, ActionError> {
    let mut n = 0;
    for menu in [MANGLE, PROTOCOLS] {
        let ids = router_lists::tagged(c, menu, P2P_COMMENT).await?;
        if !ids.is_empty() {
            c.run(Command::new(format!("{menu}/remove")).attr(".id", ids.join(",")))
                .await?;
            n += ids.len();
        }
    }
    Ok(n)
}

/// Installs the protocol and rule, replacing earlier ones.
pub async fn install(router: &Router) -> Result<P2pRulesState, ActionError> {
    let mut c = Client::connect(&router.target.connect).await?;
    remove_on(&mut c).await?;
    let (protocol, rule) = planned(&mut c, router).await?;
    c.run(protocol).await?;
    c.run(rule).await?;
    Ok(P2pRulesState {
        protocol: true,
        rule: true,
    })
}

/// A change to the P2P classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum P2pChange {
    Install,
    Remove,
}

/// The classification on one router, and what a change did to it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct P2pRulesReport {
    /// What installing sends (or sent).
    pub commands: Vec<String>,
    /// Whether the router was changed (removing what is not there is not).
    pub applied: bool,
    pub installed_before: bool,
    pub installed: bool,
}

/// The classification on `router` and what installing it would send,
/// changing nothing; within the router's budget.
pub async fn look(router: &Router) -> Result<P2pRulesReport, ActionError> {
    within(&router.target.name, router.target.budget, async {
        let installed = state(router).await?.installed();
        Ok(P2pRulesReport {
            commands: preview(router).await?,
            applied: false,
            installed_before: installed,
            installed,
        })
    })
    .await
}

/// Installs or removes the classification on `router` and records it in
/// the audit log as `operator` (`p2p_rules_installed` or
/// `p2p_rules_removed`, with the commands) when the router was changed:
/// the one path the CLI and the app change it by. The router's part runs
/// within its budget.
pub async fn change(
    store: &std::sync::Arc<std::sync::Mutex<shareguard_store::Store>>,
    operator: &str,
    router: &Router,
    change: P2pChange,
) -> Result<P2pRulesReport, ActionError> {
    use shareguard_store::{action, AuditEntry};
    let (commands, installed_before, applied, installed) =
        within(&router.target.name, router.target.budget, async {
            let commands = preview(router).await?;
            let installed_before = state(router).await?.installed();
            let applied = match change {
                P2pChange::Install => {
                    install(router).await?;
                    true
                }
                P2pChange::Remove => remove(router).await? > 0,
            };
            let installed = state(router).await?.installed();
            Ok((commands, installed_before, applied, installed))
        })
        .await?;
    if applied {
        let name = match change {
            P2pChange::Install => action::P2P_RULES_INSTALLED,
            P2pChange::Remove => action::P2P_RULES_REMOVED,
        };
        let entry = AuditEntry::new(operator, name)
            .subject(&router.target.name)
            .details(serde_json::json!({ "commands": commands }));
        crate::persist::store_task(store, move |s| s.audit(&entry).map(|_| ())).await?;
    }
    Ok(P2pRulesReport {
        commands,
        applied,
        installed_before,
        installed,
    })
}
