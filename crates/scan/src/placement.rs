//! Where ShareGuard's rules go in firewall tables the router also writes to.
//!
//! RouterOS keeps the items it makes itself (FastTrack's builtin counter
//! rule, a hotspot server's jumps) at the top of `/ip firewall filter` and
//! mangle, shows them with `dynamic=true`, and refuses any change to them,
//! including `place-before` one of them (`failure: cannot change builtin`).
//! So a rule that must come first goes right after that leading run, never
//! before a dynamic item, and every preview names the real place.

use routeros_client::{Client, Command, Error, Reply};
use serde::Serialize;

/// One item of a firewall table, as far as placement is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TableItem {
    pub id: String,
    pub chain: String,
    pub action: String,
    pub comment: String,
    pub connection_state: String,
    /// Made by the router (`dynamic`, `builtin`): nothing can go above it.
    pub dynamic: bool,
    pub disabled: bool,
}

impl TableItem {
    pub fn from_reply(r: &Reply) -> Self {
        let text = |k: &str| r.get_str(k).map(|s| s.into_owned()).unwrap_or_default();
        let flag = |k: &str| r.get(k) == Some(b"true");
        Self {
            id: text(".id"),
            chain: text("chain"),
            action: text("action"),
            comment: text("comment"),
            connection_state: text("connection-state"),
            dynamic: flag("dynamic") || flag("builtin"),
            disabled: flag("disabled"),
        }
    }

    /// Lets established connections through (or fast-tracks them) before a
    /// later rule could see them.
    pub fn passes_established(&self) -> bool {
        !self.disabled
            && matches!(self.action.as_str(), "accept" | "fasttrack-connection")
            && !self.connection_state.starts_with('!')
            && self
                .connection_state
                .split(',')
                .any(|s| s.trim() == "established")
    }
}

/// The print of `menu` (`/ip/firewall/filter`, ...) with what placement needs.
pub fn table_print(menu: &str) -> Command {
    Command::new(format!("{menu}/print")).proplist(&[
        ".id",
        "chain",
        "action",
        "comment",
        "connection-state",
        "dynamic",
        "builtin",
        "disabled",
    ])
}

/// Reads a (small) firewall table in order.
pub async fn read_table(client: &mut Client, menu: &str) -> Result<Vec<TableItem>, Error> {
    Ok(client
        .run(table_print(menu))
        .await?
        .iter()
        .map(TableItem::from_reply)
        .collect())
}

/// Where a new rule goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Place {
    /// The `.id` to place before; `None` appends at the end.
    pub before: Option<String>,
    /// How many items the router made lead the table (the rule goes below them).
    pub dynamic_above: usize,
    /// The item placed before, in words (`chain=forward action=fasttrack-connection`).
    pub before_text: Option<String>,
}

impl Place {
    /// The first item at or after the leading run of dynamic items that
    /// `wanted` accepts and the router did not make; `None` appends.
    pub fn first(items: &[TableItem], wanted: impl Fn(&TableItem) -> bool) -> Self {
        let dynamic_above = items.iter().take_while(|i| i.dynamic).count();
        let target = items[dynamic_above..]
            .iter()
            .find(|i| !i.dynamic && wanted(i));
        Self {
            before: target.map(|i| i.id.clone()),
            dynamic_above,
            before_text: target.map(|i| {
                let mut t = format!("{} (chain={} action={}", i.id, i.chain, i.action);
                if !i.comment.is_empty() {
                    t.push_str(&format!(" comment=\"{}\"", i.comment));
                }
                t.push(')');
                t
            }),
        }
    }

    /// Right after the leading run of dynamic items: above every rule the
    /// owner wrote, so nothing accepts the traffic first.
    pub fn top(items: &[TableItem]) -> Self {
        Self::first(items, |_| true)
    }

    /// The `place-before` attribute for `cmd`, when there is one.
    pub fn apply(&self, cmd: Command) -> Command {
        match &self.before {
            Some(id) => cmd.attr("place-before", id.as_str()),
            None => cmd,
        }
    }

    /// The place in words, for previews.
    pub fn describe(&self) -> String {
        let below = match self.dynamic_above {
            0 => String::new(),
            1 => "below the 1 rule the router keeps at the top (FastTrack's counters or a hotspot's jumps), ".into(),
            n => format!("below the {n} rules the router keeps at the top (FastTrack's counters or a hotspot's jumps), "),
        };
        match &self.before_text {
            Some(t) => format!("{below}before {t}"),
            None => format!("{below}at the end of the table"),
        }
    }
}

/// After an install: the first of `ours` that sits below a rule letting
/// established connections through, in words; `None` when all of ours are
/// reached first.
pub fn reached_after_established(
    items: &[TableItem],
    ours: impl Fn(&TableItem) -> bool,
) -> Option<String> {
    let first_pass = items
        .iter()
        .position(|i| i.chain == "forward" && i.passes_established())?;
    items[first_pass..].iter().find(|i| ours(i)).map(|i| {
        format!(
            "rule {} sits below {} (chain=forward action={}), which lets established connections through first: move it above",
            i.id, items[first_pass].id, items[first_pass].action
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, chain: &str, action: &str, dynamic: bool) -> TableItem {
        TableItem {
            id: id.into(),
            chain: chain.into(),
            action: action.into(),
            comment: String::new(),
            connection_state: if action == "fasttrack-connection" {
                "established,related".into()
            } else {
                String::new()
            },
            dynamic,
            disabled: false,
        }
    }

    #[test]
    fn rules_go_below_what_the_router_made_and_above_the_rest() {
        let items = vec![
            item("*1", "forward", "passthrough", true),
            item("*2", "input", "jump", true),
            item("*3", "forward", "fasttrack-connection", false),
        ];
        let top = Place::top(&items);
        assert_eq!(top.before.as_deref(), Some("*3"));
        assert_eq!(top.dynamic_above, 2);
        assert!(
            top.describe().contains("below the 2 rules"),
            "{}",
            top.describe()
        );
        assert!(top
            .describe()
            .contains("before *3 (chain=forward action=fasttrack-connection)"));
        let none = Place::top(&items[..2]);
        assert_eq!(none.before, None);
        assert!(none.describe().ends_with("at the end of the table"));
        assert_eq!(Place::top(&[]).describe(), "at the end of the table");
    }

    #[test]
    fn a_rule_below_fasttrack_is_named() {
        let mut items = vec![
            item("*1", "forward", "passthrough", true),
            item("*3", "forward", "fasttrack-connection", false),
            item("*9", "forward", "drop", false),
        ];
        items[2].comment = "shareguard ban".into();
        let why = reached_after_established(&items, |i| i.comment == "shareguard ban").unwrap();
        assert!(why.contains("*9 sits below *3"), "{why}");
        items.swap(1, 2);
        assert_eq!(
            reached_after_established(&items, |i| i.comment == "shareguard ban"),
            None
        );
    }
}
