//! Timed address-list entries and the tagged filter rules that give a list
//! its meaning. Bans and connection limits both work this way: the entry's
//! timeout lets the router lift the measure on its own, even while
//! ShareGuard is closed, and the rule is installed once, after a preview.

use std::net::Ipv4Addr;
use std::time::Duration;

use routeros_client::{Client, Command, QueryOp};
use shareguard_scan::collect::parse_ipv4_port;
use shareguard_scan::placement::{reached_after_established, read_table, Place};

use crate::enforce::{within, ActionError};

const FILTER: &str = "/ip/firewall/filter";
use crate::sharing_actions::Router;

/// The `.id` of `ip`'s entry on `list`, if any.
pub(crate) async fn list_entry(
    c: &mut Client,
    list: &str,
    ip: Ipv4Addr,
) -> Result<Option<String>, routeros_client::Error> {
    let rows = c
        .run(
            Command::new("/ip/firewall/address-list/print")
                .proplist(&[".id"])
                .query(QueryOp::Eq("list".into(), list.into()))
                .query(QueryOp::Eq("address".into(), ip.to_string()))
                .query(QueryOp::And),
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.get_str(".id").map(|s| s.into_owned())))
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
    let timeout = format!("{minutes}m");
    match list_entry(c, list, ip).await? {
        Some(id) => {
            c.run(
                Command::new("/ip/firewall/address-list/set")
                    .attr(".id", id.as_str())
                    .attr("timeout", timeout),
            )
            .await?;
            Ok(id)
        }
        None => Ok(c
            .execute(
                Command::new("/ip/firewall/address-list/add")
                    .attr("list", list)
                    .attr("address", ip.to_string())
                    .attr("timeout", timeout)
                    .attr("comment", comment),
            )
            .await?
            .unwrap_or_default()),
    }
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
    c.run(Command::new("/ip/firewall/address-list/remove").attr(".id", id.as_str()))
        .await?;
    Ok(true)
}

/// The (`.id`, address) of the entries on `list` tagged `comment`.
pub(crate) async fn tagged_entries(
    c: &mut Client,
    list: &str,
    comment: &str,
) -> Result<Vec<(String, Option<Ipv4Addr>)>, routeros_client::Error> {
    let rows = c
        .run(
            Command::new("/ip/firewall/address-list/print")
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
            Some((id, r.get_str("address").and_then(|a| a.parse().ok())))
        })
        .collect())
}

/// Removes the address-list entries `ids` (nothing when there are none).
pub(crate) async fn remove_entries(
    c: &mut Client,
    ids: &[&str],
) -> Result<(), routeros_client::Error> {
    if !ids.is_empty() {
        c.run(Command::new("/ip/firewall/address-list/remove").attr(".id", ids.join(",")))
            .await?;
    }
    Ok(())
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
        let entries = tagged_entries(&mut c, list, comment).await?;
        if !entries.is_empty() {
            let ids: Vec<&str> = entries.iter().map(|(id, _)| id.as_str()).collect();
            remove_entries(&mut c, &ids).await?;
            return Ok(ids.len());
        }
        Ok(match fallback {
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
    // Entries can vanish on their own between the print and the removal.
    for chunk in ids.chunks(200) {
        match c
            .run(Command::new("/ip/firewall/connection/remove").attr(".id", chunk.join(",")))
            .await
        {
            Ok(_) => {}
            Err(e) if e.kind() == "trap" => {
                for id in chunk {
                    let _ = c
                        .run(
                            Command::new("/ip/firewall/connection/remove").attr(".id", id.as_str()),
                        )
                        .await;
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(ids.len())
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

/// Adds `rules` in order at the top of the filter list, right below the
/// items the router keeps there itself (which refuse anything placed above
/// them), so no accept or fast-track rule lets the traffic through first.
/// Then reads the table again and refuses to call it done when the router
/// put one of them below such a rule. Returns where they went, in words.
pub(crate) async fn add_rules_on_top(
    c: &mut Client,
    nas: &str,
    rules: Vec<Command>,
    comment_prefix: &str,
) -> Result<String, ActionError> {
    let place = Place::top(&read_table(c, FILTER).await?);
    for add in rules {
        c.run(place.apply(add)).await?;
    }
    let after = read_table(c, FILTER).await?;
    if let Some(why) = reached_after_established(&after, |i| i.comment.starts_with(comment_prefix))
    {
        return Err(ActionError::Misplaced {
            nas: nas.to_string(),
            why,
        });
    }
    Ok(place.describe())
}

/// Where [`add_rules_on_top`] would put rules on this router now, in words.
pub(crate) async fn top_of_filter(c: &mut Client) -> Result<String, routeros_client::Error> {
    Ok(Place::top(&read_table(c, FILTER).await?).describe())
}
