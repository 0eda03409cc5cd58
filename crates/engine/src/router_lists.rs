//! Timed address-list entries and the tagged filter rules that give a list
//! its meaning. Bans and connection limits both work this way: the entry's
//! timeout lets the router lift the measure on its own, even while
//! ShareGuard is closed, and the rule is installed once, after a preview.

use std::net::Ipv4Addr;
use std::time::Duration;

use routeros_client::{Client, Command, QueryOp};

use crate::enforce::{within, ActionError};
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

/// Ends a ban or limit before its timeout by taking `address` off `list`
/// on `router`. False when the router had already removed the entry.
pub(crate) async fn unlist(
    router: &Router,
    list: &str,
    address: Ipv4Addr,
    budget: Duration,
) -> Result<bool, ActionError> {
    within(&router.target.name, budget, async {
        let mut c = Client::connect(&router.target.connect).await?;
        Ok(take_off_list(&mut c, list, address).await?)
    })
    .await
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
    tagged(c, "/ip/firewall/filter", comment).await
}

/// Adds `rules` at the top of the filter list, in order, so no accept rule
/// above them lets the traffic through first.
pub(crate) async fn add_rules_on_top(
    c: &mut Client,
    rules: Vec<Command>,
) -> Result<(), routeros_client::Error> {
    let first = c
        .run(Command::new("/ip/firewall/filter/print").proplist(&[".id"]))
        .await?
        .first()
        .and_then(|r| r.get_str(".id").map(|s| s.into_owned()));
    for mut add in rules {
        if let Some(first) = &first {
            add = add.attr("place-before", first.as_str());
        }
        c.run(add).await?;
    }
    Ok(())
}
