//! Stored configuration menus (mangle, filter, address-list, simple queues):
//! ordered items with `.id`s and free-form string attributes.
//!
//! Items are generic on purpose: the simulator must accept whatever a real
//! router would store, and only the parts it simulates give attributes
//! meaning: mangle matching ([`crate::rules`]), queue `target`/`max-limit`
//! caps, and address-list `timeout`s with the `drop` filter rules that ban
//! a list (see the `bans` and `usage` modules).

use std::collections::BTreeMap;

use crate::fmt::{id_string, parse_id};

/// One stored item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: u64,
    /// Attributes in the order they were first set.
    pub attrs: Vec<(String, String)>,
    /// Sim time of creation. For mangle rules this decides which connections
    /// the rule could have seen.
    pub created_ms: u64,
    /// Set on items the router made itself (FastTrack's counter rule, a
    /// hotspot's jumps): the refusal a client gets for changing, moving or
    /// placing anything before them. They print as `dynamic=true`.
    pub locked: Option<&'static str>,
}

impl Item {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, key: &str, value: &str) {
        let value = normalize(key, value);
        match self.attrs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((key.to_string(), value)),
        }
    }

    pub fn is_disabled(&self) -> bool {
        matches!(self.get("disabled"), Some("true" | "yes"))
    }

    /// Whether the router made this item (it prints `dynamic=true`).
    pub fn is_dynamic(&self) -> bool {
        self.locked.is_some() || self.get("dynamic") == Some("true")
    }
}

/// RouterOS prints booleans as `true`/`false` whatever was typed.
fn normalize(key: &str, value: &str) -> String {
    match (key, value) {
        ("disabled" | "passthrough" | "log", "yes") => "true".into(),
        ("disabled" | "passthrough" | "log", "no") => "false".into(),
        _ => value.to_string(),
    }
}

/// The attributes RouterOS shows on every item of these menus even when unset.
const DEFAULT_FLAGS: [(&str, &str); 3] = [
    ("invalid", "false"),
    ("dynamic", "false"),
    ("disabled", "false"),
];

/// Attributes the API treats as command arguments rather than item properties.
fn is_argument(key: &str) -> bool {
    matches!(key, ".id" | "numbers" | "place-before" | ".proplist")
}

/// An ordered menu.
#[derive(Debug, Clone)]
pub struct Table {
    items: Vec<Item>,
    next_id: u64,
}

impl Table {
    /// Ids start at `first_id` so different menus do not share ids, as on a router.
    pub fn new(first_id: u64) -> Self {
        Self {
            items: Vec::new(),
            next_id: first_id,
        }
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn position(&self, id: u64) -> Option<usize> {
        self.items.iter().position(|i| i.id == id)
    }

    /// Adds an item, before `place_before` when given. Returns the new id.
    pub fn add(
        &mut self,
        attrs: &[(String, String)],
        place_before: Option<&str>,
        now_ms: u64,
    ) -> Result<u64, String> {
        let at = match place_before {
            None => self.items.len(),
            Some(p) => self.destination(p)?,
        };
        let id = self.next_id;
        self.next_id += 1;
        let mut item = Item {
            id,
            attrs: Vec::new(),
            created_ms: now_ms,
            locked: None,
        };
        for (k, v) in attrs {
            if !is_argument(k) {
                item.set(k, v);
            }
        }
        self.items.insert(at, item);
        Ok(id)
    }

    /// Adds an item the router made itself at the end of the table: it
    /// refuses every change with `refusal`.
    pub fn add_locked(&mut self, attrs: &[(&str, &str)], refusal: &'static str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut attrs: Vec<(String, String)> = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        attrs.push(("dynamic".into(), "true".into()));
        self.items.push(Item {
            id,
            attrs,
            created_ms: 0,
            locked: Some(refusal),
        });
        id
    }

    /// Where `place-before`/`destination` puts an item: before the named
    /// item, which must not be one the router made (nothing goes above
    /// those).
    fn destination(&self, p: &str) -> Result<usize, String> {
        let id = parse_id(p).ok_or_else(|| format!("invalid value of place-before: {p}"))?;
        let at = self
            .position(id)
            .ok_or_else(|| "no such item".to_string())?;
        match self.items[at].locked {
            Some(refusal) => Err(refusal.to_string()),
            None => Ok(at),
        }
    }

    /// Moves items (in the order given) before `destination`, or to the end.
    pub fn move_items(&mut self, ids: &[u64], destination: Option<&str>) -> Result<(), String> {
        self.positions(ids)?;
        if let Some(dest) = destination {
            self.destination(dest)?;
        }
        let moving: Vec<Item> = ids
            .iter()
            .filter_map(|id| self.position(*id).map(|p| self.items.remove(p)))
            .collect();
        let at = match destination {
            Some(dest) => self.destination(dest).unwrap_or(self.items.len()),
            None => self.items.len(),
        };
        for (k, item) in moving.into_iter().enumerate() {
            self.items.insert(at + k, item);
        }
        Ok(())
    }

    /// Sets attributes on every listed item; nothing changes if any id is unknown.
    pub fn set(&mut self, ids: &[u64], attrs: &[(String, String)]) -> Result<(), String> {
        let positions = self.positions(ids)?;
        for p in positions {
            for (k, v) in attrs {
                if !is_argument(k) {
                    self.items[p].set(k, v);
                }
            }
        }
        Ok(())
    }

    /// Removes every listed item; nothing changes if any id is unknown.
    pub fn remove(&mut self, ids: &[u64]) -> Result<(), String> {
        self.positions(ids)?;
        self.items.retain(|i| !ids.contains(&i.id));
        Ok(())
    }

    /// The positions of `ids`: refused when one is unknown or made by the router.
    fn positions(&self, ids: &[u64]) -> Result<Vec<usize>, String> {
        ids.iter()
            .map(|&id| {
                let p = self
                    .position(id)
                    .ok_or_else(|| "no such item".to_string())?;
                match self.items[p].locked {
                    Some(refusal) => Err(refusal.to_string()),
                    None => Ok(p),
                }
            })
            .collect()
    }

    /// Items as printable rows: `.id`, the attributes, then the default flags.
    pub fn rows(&self) -> Vec<Vec<(String, String)>> {
        self.items.iter().map(item_row).collect()
    }

    /// Items as maps, for the Rust API.
    pub fn maps(&self) -> Vec<BTreeMap<String, String>> {
        self.rows()
            .into_iter()
            .map(|r| r.into_iter().collect())
            .collect()
    }
}

pub fn item_row(item: &Item) -> Vec<(String, String)> {
    let mut row = Vec::with_capacity(item.attrs.len() + 4);
    row.push((".id".to_string(), id_string(item.id)));
    row.extend(item.attrs.iter().cloned());
    for (k, v) in DEFAULT_FLAGS {
        if item.get(k).is_none() {
            row.push((k.to_string(), v.to_string()));
        }
    }
    row
}

/// Parses a `.id`/`numbers` list such as `*1,*2`.
pub fn parse_id_list(s: &str) -> Result<Vec<u64>, String> {
    let ids: Result<Vec<u64>, String> = s
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| parse_id(p).ok_or_else(|| format!("invalid internal item number {p}")))
        .collect();
    let ids = ids?;
    if ids.is_empty() {
        return Err("no such item".into());
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn add_place_before_set_and_remove() {
        let mut t = Table::new(1);
        let a = t.add(&attrs(&[("chain", "prerouting")]), None, 0).unwrap();
        let b = t.add(&attrs(&[("chain", "forward")]), None, 0).unwrap();
        let c = t
            .add(&attrs(&[("chain", "input")]), Some(&id_string(b)), 0)
            .unwrap();
        let order: Vec<u64> = t.items().iter().map(|i| i.id).collect();
        assert_eq!(order, vec![a, c, b]);
        t.set(&[c], &attrs(&[("disabled", "yes"), ("comment", "x")]))
            .unwrap();
        assert!(t.items()[1].is_disabled());
        assert_eq!(t.remove(&[a, 999]), Err("no such item".into()));
        assert_eq!(t.items().len(), 3);
        t.remove(&[a, b]).unwrap();
        assert_eq!(t.items().len(), 1);
        let row = &t.rows()[0];
        assert_eq!(row[0], (".id".into(), id_string(c)));
        assert!(row.contains(&("dynamic".into(), "false".into())));
        assert!(row.contains(&("disabled".into(), "true".into())));
        assert!(t.add(&[], Some("*FFFF"), 0).is_err());
    }

    #[test]
    fn id_lists() {
        assert_eq!(parse_id_list("*1,*A"), Ok(vec![1, 10]));
        assert!(parse_id_list("").is_err());
        assert!(parse_id_list("*1,zz").is_err());
    }
}
