//! What the stored menus accept: parameter names, actions, connection
//! states and the special interface names, as RouterOS 7 lists them. A
//! client that sends anything else gets the `!trap` a router sends, so a
//! typo in ShareGuard fails in tests instead of on an owner's router.

use crate::nas::Menu;

/// Interface names RouterOS accepts in `in-interface` without an interface
/// of that name: `all-ppp` matches every PPP interface, the server's
/// dynamic sessions and the router's own PPP client uplinks alike.
pub const SPECIAL_INTERFACES: [&str; 4] = ["all-ppp", "all-ethernet", "all-vlan", "all-wireless"];

/// The interface lists of a default configuration.
pub const INTERFACE_LISTS: [&str; 6] = ["all", "none", "dynamic", "static", "LAN", "WAN"];

/// Matchers and settings of `/ip firewall filter` and mangle.
const FIREWALL: &[&str] = &[
    "chain",
    "action",
    "comment",
    "disabled",
    "log",
    "log-prefix",
    "passthrough",
    "jump-target",
    "address-list",
    "address-list-timeout",
    "connection-state",
    "connection-nat-state",
    "connection-type",
    "ttl",
    "in-interface",
    "out-interface",
    "in-interface-list",
    "out-interface-list",
    "in-bridge-port",
    "out-bridge-port",
    "src-address",
    "dst-address",
    "src-address-list",
    "dst-address-list",
    "src-address-type",
    "dst-address-type",
    "src-mac-address",
    "protocol",
    "src-port",
    "dst-port",
    "port",
    "connection-mark",
    "packet-mark",
    "routing-mark",
    "new-connection-mark",
    "new-packet-mark",
    "new-routing-mark",
    "new-dscp",
    "new-ttl",
    "new-mss",
    "new-priority",
    "per-connection-classifier",
    "layer7-protocol",
    "connection-limit",
    "connection-rate",
    "connection-bytes",
    "limit",
    "dst-limit",
    "hotspot",
    "tcp-flags",
    "tcp-mss",
    "packet-size",
    "content",
    "dscp",
    "icmp-options",
    "fragment",
    "ipv4-options",
    "priority",
    "psd",
    "random",
    "nth",
    "time",
    "tls-host",
    "reject-with",
    "hw-offload",
    "ingress-priority",
    "route-dst",
    "sniff-target",
    "sniff-target-port",
    "sniff-id",
    "to-addresses",
    "to-ports",
    "place-before",
];

const ADDRESS_LIST: &[&str] = &["list", "address", "timeout", "comment", "disabled"];

const QUEUE: &[&str] = &[
    "name",
    "target",
    "dst",
    "max-limit",
    "limit-at",
    "burst-limit",
    "burst-threshold",
    "burst-time",
    "priority",
    "parent",
    "packet-marks",
    "queue",
    "comment",
    "disabled",
    "bucket-size",
    "time",
    "total-max-limit",
    "total-limit-at",
    "total-queue",
    "place-before",
];

const LAYER7: &[&str] = &["name", "regexp", "comment", "disabled"];

/// Whether `menu` has a parameter called `key` (`.id`-style arguments aside).
pub fn known(menu: Menu, key: &str) -> bool {
    if matches!(key, ".id" | "numbers" | ".proplist") {
        return true;
    }
    let list = match menu {
        // IPv6 has `hop-limit` where IPv4 has `ttl`, and no IPv4 options.
        Menu::Mangle | Menu::Filter => FIREWALL,
        Menu::Mangle6 | Menu::Filter6 if key == "hop-limit" => return true,
        Menu::Mangle6 | Menu::Filter6 if matches!(key, "ttl" | "ipv4-options") => return false,
        Menu::Mangle6 | Menu::Filter6 => FIREWALL,
        Menu::AddressList | Menu::AddressList6 => ADDRESS_LIST,
        Menu::Queue => QUEUE,
        Menu::Layer7 => LAYER7,
    };
    list.contains(&key)
}

/// `!value` → (`value`, true).
pub fn negated(v: &str) -> (&str, bool) {
    match v.strip_prefix('!') {
        Some(rest) => (rest, true),
        None => (v, false),
    }
}

/// Whether `action` exists in `menu`.
pub fn action_ok(menu: Menu, action: &str) -> bool {
    const COMMON: &[&str] = &[
        "accept",
        "drop",
        "jump",
        "return",
        "passthrough",
        "log",
        "add-src-to-address-list",
        "add-dst-to-address-list",
    ];
    const FILTER: &[&str] = &["reject", "tarpit", "fasttrack-connection"];
    const MANGLE: &[&str] = &[
        "mark-connection",
        "mark-packet",
        "mark-routing",
        "change-ttl",
        "change-mss",
        "change-dscp",
        "set-priority",
        "clear-df",
        "sniff-tzsp",
        "sniff-pc",
        "strip-ipv4-options",
        "route",
    ];
    COMMON.contains(&action)
        || match menu {
            Menu::Filter | Menu::Filter6 => FILTER.contains(&action),
            Menu::Mangle => MANGLE.contains(&action),
            Menu::Mangle6 => action != "change-ttl" && MANGLE.contains(&action),
            _ => true,
        }
}

/// `new,established` and the like.
pub fn states_ok(v: &str) -> bool {
    v.split(',').all(|s| {
        matches!(
            s.trim(),
            "new" | "established" | "related" | "invalid" | "untracked"
        )
    })
}
