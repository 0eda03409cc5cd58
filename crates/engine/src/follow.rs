//! Bans and limits follow the account, not the address.
//!
//! A ban or limit is an address-list entry, and PPPoE and hotspot addresses
//! come from pools: a subscriber who redials gets another address, and the
//! old one goes to whoever dials next. So at the start of every monitor
//! cycle each ban and limit in force is checked against its subscriber's
//! session: the new address goes on the list (with the time left), entries
//! under addresses the subscriber no longer holds come off, and a banned
//! subscriber's connections are removed so fast-tracked ones meet the drop
//! rule. Entries are found by their comment, which names the subscriber.
//! A dual-stack subscriber's delegated IPv6 prefix is followed the same
//! way on the IPv6 list, since a redial can bring another prefix too.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use routeros_client::Client;
use serde::Serialize;
use serde_json::json;
use shareguard_scan::collect::read_sessions;
use shareguard_store::{Action, ActionKind, AuditEntry, Store, SYSTEM_OPERATOR};

use crate::actions::error::{within, ActionError};
use crate::actions::{ban, limit, router_lists};
use crate::persist::{store_task, EngineError};
use crate::router::Router;

/// One ban or limit moved to where its subscriber is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Moved {
    pub action_id: i64,
    pub subscriber: String,
    pub nas: String,
    pub kind: ActionKind,
    /// Addresses taken off the list (the subscriber no longer holds them).
    pub from: Vec<Ipv4Addr>,
    /// The address put on the list; `None` while the subscriber is offline.
    pub to: Option<Ipv4Addr>,
    /// IPv6 prefixes taken off the IPv6 list.
    pub from_prefixes: Vec<String>,
    /// The delegated prefix put on the IPv6 list.
    pub to_prefix: Option<String>,
}

/// The list and the entry comment of a ban or limit of `subscriber`.
pub(crate) fn list_and_comment(
    kind: ActionKind,
    subscriber: &str,
) -> Option<(&'static str, String)> {
    match kind {
        ActionKind::Ban => Some((ban::BAN_LIST, format!("{} {subscriber}", ban::BAN_COMMENT))),
        ActionKind::Limit => Some((
            limit::LIMIT_LIST,
            format!("{} {subscriber}", limit::LIMIT_COMMENT),
        )),
        _ => None,
    }
}

/// Moves the bans and limits in force on `router` to their subscribers'
/// current addresses.
async fn follow_on(
    router: &Router,
    actions: &[&Action],
    now: DateTime<Utc>,
) -> Result<Vec<Moved>, ActionError> {
    let mut c = Client::connect(&router.target.connect).await?;
    let sessions: HashMap<String, Ipv4Addr> = read_sessions(&mut c, router.target.access, None)
        .await?
        .into_iter()
        .map(|s| (s.subscriber, s.address))
        .collect();
    let prefixes = router_lists::delegated_prefixes(&mut c, router.target.access).await?;
    let mut moved = Vec::new();
    for a in actions {
        let Some((list, comment)) = list_and_comment(a.kind, &a.subscriber) else {
            continue;
        };
        let left = a.expires_at.map_or(60, |e| (e - now).num_seconds().max(60));
        let minutes = u32::try_from((left + 59) / 60).unwrap_or(u32::MAX);
        let entries = router_lists::tagged_entries(&mut c, list, &comment).await?;
        let current = sessions.get(&a.subscriber).copied();
        let stale: Vec<&(String, Option<Ipv4Addr>)> =
            entries.iter().filter(|(_, ip)| *ip != current).collect();
        let listed = current.is_some_and(|ip| entries.iter().any(|(_, e)| *e == Some(ip)));
        let mut m = Moved {
            action_id: a.id.unwrap_or_default(),
            subscriber: a.subscriber.clone(),
            nas: router.target.name.clone(),
            kind: a.kind,
            from: stale.iter().filter_map(|(_, ip)| *ip).collect(),
            to: None,
            from_prefixes: Vec::new(),
            to_prefix: None,
        };
        if !(stale.is_empty() && (listed || current.is_none())) {
            let ids: Vec<&str> = stale.iter().map(|(id, _)| id.as_str()).collect();
            router_lists::remove_entries(&mut c, &ids).await?;
            if let (Some(ip), false) = (current, listed) {
                router_lists::put_on_list(&mut c, list, ip, minutes, &comment).await?;
                if a.kind == ActionKind::Ban {
                    router_lists::remove_connections_of(&mut c, ip).await?;
                }
                m.to = Some(ip);
            }
        }
        // The same for the delegated prefix, on routers with IPv6.
        if let Some(prefixes) = &prefixes {
            let entries6 = router_lists::tagged_entries6(&mut c, list, &comment).await?;
            let current6 = current.and(prefixes.get(&a.subscriber));
            let stale6: Vec<&(String, String)> = entries6
                .iter()
                .filter(|(_, p)| Some(p) != current6)
                .collect();
            let ids: Vec<&str> = stale6.iter().map(|(id, _)| id.as_str()).collect();
            router_lists::remove_entries6(&mut c, &ids).await?;
            m.from_prefixes = stale6.iter().map(|(_, p)| p.clone()).collect();
            if let Some(prefix) = current6.filter(|p| !entries6.iter().any(|(_, e)| e == *p)) {
                router_lists::put_prefix_on_list(&mut c, list, prefix, minutes, &comment).await?;
                if a.kind == ActionKind::Ban {
                    router_lists::remove_ipv6_connections_of(&mut c, prefix).await?;
                }
                m.to_prefix = Some(prefix.clone());
            }
        }
        let changed = !m.from.is_empty()
            || m.to.is_some()
            || !m.from_prefixes.is_empty()
            || m.to_prefix.is_some();
        if changed {
            moved.push(m);
        }
    }
    Ok(moved)
}

/// Checks every ban and limit in force against its subscriber's session and
/// moves it where needed, each move in the audit log. A router that cannot
/// be reached keeps its entries for the next cycle (the failures are
/// returned with the router's name).
pub async fn follow_sessions(
    store: &Arc<Mutex<Store>>,
    routers: &[Router],
    now: DateTime<Utc>,
) -> Result<(Vec<Moved>, Vec<(String, String)>), EngineError> {
    let actions: Vec<Action> = store_task(store, |s| s.actions_in_force())
        .await?
        .into_iter()
        .filter(|a| matches!(a.kind, ActionKind::Ban | ActionKind::Limit))
        .filter(|a| a.expires_at.is_none_or(|t| t > now))
        .collect();
    let mut moved = Vec::new();
    let mut failed = Vec::new();
    for router in routers {
        let here: Vec<&Action> = actions
            .iter()
            .filter(|a| a.nas == router.target.name)
            .collect();
        if here.is_empty() {
            continue;
        }
        match within(
            &router.target.name,
            router.target.budget,
            follow_on(router, &here, now),
        )
        .await
        {
            Ok(m) => moved.extend(m),
            Err(e) => {
                tracing::warn!(nas = %router.target.name, "could not check its bans and limits: {e}");
                failed.push((router.target.name.clone(), e.to_string()));
            }
        }
    }
    for m in &moved {
        let entry = AuditEntry::new(SYSTEM_OPERATOR, format!("{}_moved", m.kind.as_str()))
            .subject(&m.subscriber)
            .details(json!({
                "action": m.action_id,
                "nas": m.nas,
                "from": m.from,
                "to": m.to,
                "from_prefixes": m.from_prefixes,
                "to_prefix": m.to_prefix,
            }));
        store_task(store, move |s| s.audit(&entry).map(|_| ())).await?;
    }
    Ok((moved, failed))
}
