//! Timed address-list entries and the tagged filter rules that give a list
//! its meaning. Bans and connection limits both work this way: the entry's
//! timeout lets the router lift the measure on its own, even while
//! ShareGuard is closed, and the rule is installed once, after a preview.

use std::net::Ipv4Addr;
use std::time::Duration;

use routeros_client::{Client, Command, QueryOp};
use shareguard_scan::collect::parse_ipv4_port;
use shareguard_scan::placement::{reached_after_established, read_table, Place};

use super::error::{within, ActionError};

const FILTER: &str = "/ip/firewall/filter";
const FILTER6: &str = "/ipv6/firewall/filter";
const LIST6: &str = "/ipv6/firewall/address-list";
use crate::router::Router;

/// The address-list menus of the two families.
const LIST4: &str = "/ip/firewall/address-list";

/// The `.id` of `address`'s entry on `list` in the list menu `menu`.
async fn entry_in(
    c: &mut Client,
    menu: &str,
    list: &str,
    address: &str,
) -> Result<Option<String>, routeros_client::Error> {
    let rows = c
        .run(
            Command::new(format!("{menu}/print"))
                .proplist(&[".id"])
                .query(QueryOp::Eq("list".into(), list.into()))
                .query(QueryOp::Eq("address".into(), address.into()))
                .query(QueryOp::And),
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.get_str(".id").map(|s| s.into_owned())))
}

/// The `.id` of `ip`'s entry on `list`, if any.
pub(crate) async fn list_entry(
    c: &mut Client,
    list: &str,
    ip: Ipv4Addr,
) -> Result<Option<String>, routeros_client::Error> {
    entry_in(c, LIST4, list, &ip.to_string()).await
}

/// Puts `address` on `list` in the list menu `menu` for `minutes`, or
/// renews the timeout of the entry that is there. Returns the entry's `.id`.
async fn put_in(
    c: &mut Client,
    menu: &str,
    list: &str,
    address: &str,
    minutes: u32,
    comment: &str,
) -> Result<String, routeros_client::Error> {
    let timeout = format!("{minutes}m");
    match entry_in(c, menu, list, address).await? {
        Some(id) => {
            c.run(
                Command::new(format!("{menu}/set"))
                    .attr(".id", id.as_str())
                    .attr("timeout", timeout),
            )
            .await?;
            Ok(id)
        }
        None => Ok(c
            .execute(
                Command::new(format!("{menu}/add"))
                    .attr("list", list)
                    .attr("address", address)
                    .attr("timeout", timeout)
                    .attr("comment", comment),
            )
            .await?
            .unwrap_or_default()),
    }
}

/// Puts `ip` on `list` for `minutes`, or renews the timeout of the entry
/// that is there. Returns the entry's `.id`.
pub(crate) async fn put_on_list(
    c: &mut Client,
    list: &str,
    ip: Ipv4Addr,
    minutes: u32,
    comment: &str,
) -> Result<String, routeros_client::Error> {
    put_in(c, LIST4, list, &ip.to_string(), minutes, comment).await
}

/// Takes `ip` off `list`. False when it was not there (for example because
/// the router's timeout already removed it).
pub(crate) async fn take_off_list(
    c: &mut Client,
    list: &str,
    ip: Ipv4Addr,
) -> Result<bool, routeros_client::Error> {
    let Some(id) = list_entry(c, list, ip).await? else {
        return Ok(false);
    };
    remove_in(c, LIST4, &[id.as_str()]).await?;
    Ok(true)
}

/// The (`.id`, address) of the entries on `list` tagged `comment` in the
/// list menu `menu`.
async fn tagged_in(
    c: &mut Client,
    menu: &str,
    list: &str,
    comment: &str,
) -> Result<Vec<(String, String)>, routeros_client::Error> {
    let rows = c
        .run(
            Command::new(format!("{menu}/print"))
                .proplist(&[".id", "address"])
                .query(QueryOp::Eq("list".into(), list.into()))
                .query(QueryOp::Eq("comment".into(), comment.into()))
                .query(QueryOp::And),
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let id = r.get_str(".id")?.into_owned();
            Some((id, r.get_str("address").unwrap_or_default().into_owned()))
        })
        .collect())
}

/// The (`.id`, address) of the entries on `list` tagged `comment`.
pub(crate) async fn tagged_entries(
    c: &mut Client,
    list: &str,
    comment: &str,
) -> Result<Vec<(String, Option<Ipv4Addr>)>, routeros_client::Error> {
    Ok(tagged_in(c, LIST4, list, comment)
        .await?
        .into_iter()
        .map(|(id, address)| (id, address.parse().ok()))
        .collect())
}

/// Removes the entries `ids` of the list menu `menu` (nothing when there
/// are none).
async fn remove_in(c: &mut Client, menu: &str, ids: &[&str]) -> Result<(), routeros_client::Error> {
    if !ids.is_empty() {
        c.run(Command::new(format!("{menu}/remove")).attr(".id", ids.join(",")))
            .await?;
    }
    Ok(())
}

/// Removes the address-list entries `ids` (nothing when there are none).
pub(crate) async fn remove_entries(
    c: &mut Client,
    ids: &[&str],
) -> Result<(), routeros_client::Error> {
    remove_in(c, LIST4, ids).await
}

/// Ends a ban or limit on `router` by taking its entries off `list`: every
/// entry tagged `comment` (the subscriber's, under whichever addresses they
/// held), else the one for `fallback` (entries from before comments named
/// the subscriber). Returns how many were removed; 0 when the router's
/// timeout had already removed them.
pub(crate) async fn unlist(
    router: &Router,
    list: &str,
    comment: &str,
    fallback: Option<Ipv4Addr>,
    budget: Duration,
) -> Result<usize, ActionError> {
    within(&router.target.name, budget, async {
        let mut c = Client::connect(&router.target.connect).await?;
        // The delegated prefixes of a dual-stack subscriber come off too.
        let entries6 = tagged_entries6(&mut c, list, comment).await?;
        let ids6: Vec<&str> = entries6.iter().map(|(id, _)| id.as_str()).collect();
        remove_entries6(&mut c, &ids6).await?;
        let entries = tagged_entries(&mut c, list, comment).await?;
        if !entries.is_empty() {
            let ids: Vec<&str> = entries.iter().map(|(id, _)| id.as_str()).collect();
            remove_entries(&mut c, &ids).await?;
            return Ok(ids.len() + ids6.len());
        }
        Ok(ids6.len()
            + match fallback {
                Some(ip) => usize::from(take_off_list(&mut c, list, ip).await?),
                None => 0,
            })
    })
    .await
}

/// Removes every connection from or to `ip` from the router's connection
/// table (read once, `.id` and addresses only; the API cannot filter on an
/// address without its port). Returns how many were removed.
pub(crate) async fn remove_connections_of(
    c: &mut Client,
    ip: Ipv4Addr,
) -> Result<usize, routeros_client::Error> {
    let mut ids = Vec::new();
    {
        let mut rows = c
            .stream(Command::new("/ip/firewall/connection/print").proplist(&[
                ".id",
                "src-address",
                "dst-address",
            ]))
            .await?;
        // The scanner's own reading of `ip:port` (or `ip` on ICMP and GRE rows).
        let ip = u32::from(ip);
        let host = |v: Option<&[u8]>| v.and_then(parse_ipv4_port).map(|(h, _)| h);
        while let Some(r) = rows.next().await? {
            if host(r.get("src-address")) == Some(ip) || host(r.get("dst-address")) == Some(ip) {
                if let Some(id) = r.get_str(".id") {
                    ids.push(id.into_owned());
                }
            }
        }
    }
    remove_connection_ids(c, "/ip/firewall/connection", &ids).await?;
    Ok(ids.len())
}

/// Which firewall a rule or list entry belongs to: a household's IPv4
/// address, or the IPv6 prefix delegated to its session (every device of a
/// dual-stack household has an address in it, so bans and limits name the
/// prefix, as `connection-limit=N,64` counts per prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fw {
    V4,
    V6,
}

impl Fw {
    pub(crate) fn filter(self) -> &'static str {
        match self {
            Self::V4 => FILTER,
            Self::V6 => FILTER6,
        }
    }
}

/// The IPv6 side of a PPPoE session: the prefix delegated to it, as the
/// router's dynamic route through `<pppoe-USER>` shows it
/// (`2001:db8:1:2a::/64`). `None` without IPv6 (no package: the menu is
/// missing), on hotspot routers (IPv4 only) and for IPv4-only sessions.
pub(crate) async fn delegated_prefix(
    c: &mut Client,
    access: shareguard_detect::Access,
    subscriber: &str,
) -> Result<Option<String>, routeros_client::Error> {
    Ok(delegated_prefixes(c, access)
        .await?
        .and_then(|mut m| m.remove(subscriber)))
}

/// Every PPPoE session's delegated prefix, by user name, from one read of
/// the dynamic IPv6 routes; `None` without IPv6 or on a hotspot.
pub(crate) async fn delegated_prefixes(
    c: &mut Client,
    access: shareguard_detect::Access,
) -> Result<Option<std::collections::HashMap<String, String>>, routeros_client::Error> {
    if access != shareguard_detect::Access::Pppoe {
        return Ok(None);
    }
    let rows = match c.run(shareguard_scan::ipv6::routes_print()).await {
        Ok(rows) => rows,
        Err(e) if e.kind() == "trap" => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(
        rows.iter()
            .filter_map(|r| {
                let gateway = r.get_str("gateway")?;
                let user = shareguard_scan::ipv6::gateway_user(&gateway)?.to_string();
                Some((user, r.get_str("dst-address")?.into_owned()))
            })
            .collect(),
    ))
}

/// Whether the router has an IPv6 firewall (the IPv6 package).
pub(crate) async fn has_ipv6(c: &mut Client) -> Result<bool, routeros_client::Error> {
    match read_table(c, FILTER6).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == "trap" => Ok(false),
        Err(e) => Err(e),
    }
}

/// Puts `prefix` on the IPv6 `list` for `minutes` (or renews its entry).
pub(crate) async fn put_prefix_on_list(
    c: &mut Client,
    list: &str,
    prefix: &str,
    minutes: u32,
    comment: &str,
) -> Result<String, routeros_client::Error> {
    put_in(c, LIST6, list, prefix, minutes, comment).await
}

/// The (`.id`, address) of the IPv6 entries on `list` tagged `comment`;
/// none on a router without IPv6.
pub(crate) async fn tagged_entries6(
    c: &mut Client,
    list: &str,
    comment: &str,
) -> Result<Vec<(String, String)>, routeros_client::Error> {
    match tagged_in(c, LIST6, list, comment).await {
        Err(e) if e.kind() == "trap" => Ok(Vec::new()),
        other => other,
    }
}

/// Removes the IPv6 address-list entries `ids` (nothing when there are none).
pub(crate) async fn remove_entries6(
    c: &mut Client,
    ids: &[&str],
) -> Result<(), routeros_client::Error> {
    remove_in(c, LIST6, ids).await
}

/// Removes every IPv6 connection from or to an address in `prefix`
/// (`2001:db8:1:2a::/64`) from the router's IPv6 connection table, read
/// once. Returns how many were removed.
pub(crate) async fn remove_ipv6_connections_of(
    c: &mut Client,
    prefix: &str,
) -> Result<usize, routeros_client::Error> {
    let Some((net, len)) = shareguard_scan::ipv6::parse_prefix(prefix) else {
        return Ok(0);
    };
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    let inside = |v: Option<std::borrow::Cow<'_, str>>| {
        v.and_then(|s| shareguard_scan::ipv6::parse_ipv6_port(&s))
            .is_some_and(|(a, _)| u128::from(a) & mask == u128::from(net) & mask)
    };
    let mut ids = Vec::new();
    {
        let mut rows = c
            .stream(Command::new("/ipv6/firewall/connection/print").proplist(&[
                ".id",
                "src-address",
                "dst-address",
            ]))
            .await?;
        while let Some(r) = rows.next().await? {
            if inside(r.get_str("src-address")) || inside(r.get_str("dst-address")) {
                if let Some(id) = r.get_str(".id") {
                    ids.push(id.into_owned());
                }
            }
        }
    }
    remove_connection_ids(c, "/ipv6/firewall/connection", &ids).await?;
    Ok(ids.len())
}

/// Removes connections by `.id` in chunks; a chunk the router refuses
/// (one of them ended between the print and the removal) is retried one
/// by one, ignoring the gone ones.
async fn remove_connection_ids(
    c: &mut Client,
    menu: &str,
    ids: &[String],
) -> Result<(), routeros_client::Error> {
    for chunk in ids.chunks(200) {
        match c
            .run(Command::new(format!("{menu}/remove")).attr(".id", chunk.join(",")))
            .await
        {
            Ok(_) => {}
            Err(e) if e.kind() == "trap" => {
                for id in chunk {
                    let _ = c
                        .run(Command::new(format!("{menu}/remove")).attr(".id", id.as_str()))
                        .await;
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The `.id`s of the items of `menu` (`/ip/firewall/filter`, `.../mangle`,
/// ...) tagged with `comment`.
pub(crate) async fn tagged(
    c: &mut Client,
    menu: &str,
    comment: &str,
) -> Result<Vec<String>, routeros_client::Error> {
    let rows = c
        .run(
            Command::new(format!("{menu}/print"))
                .proplist(&[".id"])
                .query(QueryOp::Eq("comment".into(), comment.into())),
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.get_str(".id").map(|s| s.into_owned()))
        .collect())
}

/// The `.id`s of the filter rules tagged with `comment`.
pub(crate) async fn tagged_rules(
    c: &mut Client,
    comment: &str,
) -> Result<Vec<String>, routeros_client::Error> {
    tagged(c, FILTER, comment).await
}

/// The `.id`s of one family's filter rules tagged with `comment`; none on
/// a router without IPv6.
pub(crate) async fn tagged_rules_in(
    c: &mut Client,
    fw: Fw,
    comment: &str,
) -> Result<Vec<String>, routeros_client::Error> {
    match tagged(c, fw.filter(), comment).await {
        Err(e) if fw == Fw::V6 && e.kind() == "trap" => Ok(Vec::new()),
        other => other,
    }
}

/// Adds `rules` in order at the top of one family's filter list, right
/// below the items the router keeps there itself (which refuse anything
/// placed above them), so no accept or fast-track rule lets the traffic
/// through first. Then reads the table again and refuses to call it done
/// when the router put one of them below such a rule. Returns where they
/// went, in words.
pub(crate) async fn add_rules_on_top_of(
    c: &mut Client,
    fw: Fw,
    nas: &str,
    rules: Vec<Command>,
    comment_prefix: &str,
) -> Result<String, ActionError> {
    let menu = fw.filter();
    let place = Place::top(&read_table(c, menu).await?);
    for add in rules {
        c.run(place.apply(add)).await?;
    }
    let after = read_table(c, menu).await?;
    if let Some(why) = reached_after_established(&after, |i| i.comment.starts_with(comment_prefix))
    {
        return Err(ActionError::Misplaced {
            nas: nas.to_string(),
            why,
        });
    }
    Ok(place.describe())
}

/// Where [`add_rules_on_top_of`] would put rules on this router now, in words.
pub(crate) async fn top_of_filter(c: &mut Client) -> Result<String, routeros_client::Error> {
    Ok(Place::top(&read_table(c, FILTER).await?).describe())
}

/// [`top_of_filter`] for one family; `None` when the router has no IPv6.
pub(crate) async fn top_of_filter_in(
    c: &mut Client,
    fw: Fw,
) -> Result<Option<String>, routeros_client::Error> {
    match read_table(c, fw.filter()).await {
        Ok(items) => Ok(Some(Place::top(&items).describe())),
        Err(e) if fw == Fw::V6 && e.kind() == "trap" => Ok(None),
        Err(e) => Err(e),
    }
}
