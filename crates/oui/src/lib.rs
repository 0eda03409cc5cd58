//! Who made a MAC address, and what kind of box it therefore is.
//!
//! A PPPoE session's caller-id is the MAC of whatever dials: a home router
//! on most lines, a PC's network card where the subscriber has bridged the
//! ISP's modem. The difference decides how far the subscriber's devices are
//! from the NAS (one router away, or none), so the detector asks here.
//!
//! The data is the IEEE's MA-L registry (24-bit OUIs, about 40,000 entries)
//! shipped in `data/ma-l.tsv` and compiled in, so a lookup never touches the
//! network or the disk. `scripts/update-oui.sh` rebuilds the file from the
//! IEEE's published `oui.csv`; nothing downloads it at build or run time.
//!
//! Makers are put in a [`VendorClass`] by a short hand-kept table
//! ([`classify`]): vendors that make (almost) only routers and CPE, and
//! vendors that make (almost) only PCs and their network cards. Everyone
//! else, including makers of both (ASUS, Qualcomm Atheros), stays
//! [`VendorClass::Unknown`], so the caller-id only ever moves the verdict when
//! it is unambiguous.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The registry as shipped: `OUI<TAB>organisation`, one per line, sorted.
const MA_L: &str = include_str!("../data/ma-l.tsv");

/// What a maker's boxes are, as far as dialling PPPoE goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorClass {
    /// Routers, ONTs and other CPE: a router dials, devices sit behind it.
    Router,
    /// PCs and their network cards: a PC dials through a bridged modem.
    Computer,
    /// Not in the registry, a locally administered (random or cloned) MAC,
    /// or a maker of both kinds.
    Unknown,
}

impl VendorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Router => "router",
            Self::Computer => "computer",
            Self::Unknown => "unknown",
        }
    }
}

/// A caller-id's maker. The name points into the compiled-in registry, so a
/// lookup allocates nothing (it runs once per subscriber per scan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Vendor {
    /// The organisation as registered with the IEEE.
    pub name: &'static str,
    pub class: VendorClass,
}

/// Sorted `(oui, name)` pairs, parsed once on first use (a few milliseconds).
fn index() -> &'static [(u32, &'static str)] {
    static INDEX: OnceLock<Vec<(u32, &'static str)>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut v: Vec<(u32, &'static str)> = MA_L
            .lines()
            .filter_map(|line| {
                let (hex, name) = line.split_once('\t')?;
                Some((u32::from_str_radix(hex, 16).ok()?, name.trim()))
            })
            .collect();
        v.sort_unstable_by_key(|e| e.0);
        v
    })
}

/// The first three octets of a MAC written `AA:BB:CC:..`, `AA-BB-CC-..`,
/// `AABB.CC..` or bare hex.
fn oui_of(mac: &str) -> Option<u32> {
    let hex: String = mac
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .take(12)
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(&hex[..6], 16).ok()
}

/// True when the MAC's locally-administered bit is set: a randomised or
/// hand-set address that says nothing about its maker.
pub fn is_locally_administered(mac: &str) -> bool {
    oui_of(mac).is_some_and(|o| (o >> 16) & 0x02 != 0)
}

/// The maker of `mac` as registered, or `None` for an unparsable,
/// unregistered or locally administered address.
pub fn lookup(mac: &str) -> Option<Vendor> {
    let oui = oui_of(mac)?;
    if (oui >> 16) & 0x02 != 0 {
        return None;
    }
    let idx = index();
    let i = idx.binary_search_by_key(&oui, |e| e.0).ok()?;
    let name = idx[i].1;
    Some(Vendor {
        name,
        class: classify(name),
    })
}

/// Registered names (lower case) of makers of routers and CPE. Matched at the
/// start of the name, so "Intelbras" is not "Intel".
const ROUTER_MAKERS: &[&str] = &[
    "routerboard",
    "mikrotik",
    "tp-link",
    "d-link",
    "ubiquiti",
    "netgear",
    "tenda",
    "mercusys",
    "cudy",
    "zyxel",
    "avm gmbh",
    "sagemcom",
    "technicolor",
    "arcadyan",
    "huawei",
    "zte",
    "fiberhome",
    "linksys",
    "belkin",
    "cambium",
    "zioncom",
    "totolink",
    "xiaomi",
    "intelbras",
    "shenzhen bilian",
    "grandstream",
    "cisco meraki",
    "tozed",
];

/// Registered names (lower case) of makers of PCs, their motherboards and
/// network cards.
const COMPUTER_MAKERS: &[&str] = &[
    "intel corporate",
    "intel corporation",
    "realtek",
    "micro-star",
    "giga-byte",
    "asrock",
    "liteon",
    "dell",
    "lenovo",
    "hewlett packard",
    "hp inc",
    "azurewave",
    "rivet networks",
    "apple",
    "microsoft",
    "wistron",
    "quanta",
    "compal",
    "hon hai",
    "chicony",
];

/// The class of a registered organisation name.
pub fn classify(name: &str) -> VendorClass {
    let n = name.trim().to_ascii_lowercase();
    let starts = |keys: &[&str]| keys.iter().any(|k| n.starts_with(k));
    if starts(ROUTER_MAKERS) {
        VendorClass::Router
    } else if starts(COMPUTER_MAKERS) {
        VendorClass::Computer
    } else {
        VendorClass::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_complete_and_sorted_once() {
        assert!(index().len() > 35_000, "{}", index().len());
        assert!(index().windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn routers_and_network_cards_are_told_apart() {
        let v = lookup("D4:CA:6D:12:34:56").unwrap();
        assert_eq!(v.name, "Routerboard.com");
        assert_eq!(v.class, VendorClass::Router);
        assert_eq!(
            lookup("50-C7-BF-00-00-01").unwrap().class,
            VendorClass::Router
        );
        let nic = lookup("00e0.4c12.3456").unwrap();
        assert_eq!(nic.class, VendorClass::Computer, "{}", nic.name);
        assert_eq!(
            lookup("00:12:F0:AA:BB:CC").unwrap().class,
            VendorClass::Computer
        );
    }

    #[test]
    fn unknown_random_and_malformed_addresses_say_nothing() {
        // The locally administered bit (0x02 in the first octet).
        assert!(is_locally_administered("D6:CA:6D:12:34:56"));
        assert_eq!(lookup("D6:CA:6D:12:34:56"), None);
        assert_eq!(lookup("not a mac"), None);
        assert_eq!(lookup("00:12:F0"), None);
        assert_eq!(classify("Intelbras"), VendorClass::Router);
        assert_eq!(classify("ASUSTek COMPUTER INC."), VendorClass::Unknown);
    }
}
