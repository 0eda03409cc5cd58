//! How far a line's legitimate devices are from the NAS, and why.
//!
//! The router setting (one hop on PPPoE, none on a hotspot) is right for most
//! lines but not all: a subscriber who bridges the ISP's modem dials PPPoE
//! from a PC, whose packets arrive untouched at 64/128. Read with the router
//! setting, that honest PC looks like a router resetting TTLs. So each line
//! gets its own distance, in this order of trust:
//!
//! 1. the owner's setting for the subscriber (they know the house);
//! 2. the caller-id's maker: a PC network card dials from a bridged modem
//!    (one hop less), a router maker's MAC means a router dials;
//! 3. the line's history: every TTL an OS default over at least
//!    [`BRIDGED_SCANS`] scans spanning [`BRIDGED_SPAN_HOURS`] is a bridged
//!    line, unless the caller-id says a router dials (then it is a router
//!    resetting TTLs, which the rules flag);
//! 4. the router's setting.

use serde::{Deserialize, Serialize};
use shareguard_oui::VendorClass;

use crate::observation::{Access, SubscriberObservation};
use crate::ttl::{family_of, OS_INITIAL_TTLS};

/// Earlier scans that must agree before a line is learned as bridged.
pub const BRIDGED_SCANS: usize = 3;
/// The time those scans must span, so one evening is not "days".
pub const BRIDGED_SPAN_HOURS: i64 = 20;

/// Where a line's distance came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DistanceSource {
    /// The router's setting for every line on it.
    Router,
    /// The owner's setting for this subscriber.
    Owner,
    /// The caller-id's maker.
    CallerId,
    /// Learned from the line's earlier scans.
    History,
}

impl DistanceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Router => "router",
            Self::Owner => "owner",
            Self::CallerId => "caller_id",
            Self::History => "history",
        }
    }
}

/// The distance a verdict used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LineDistance {
    pub hops: u8,
    pub source: DistanceSource,
    /// One sentence for the evidence section.
    pub why: String,
}

/// `0 hops (devices attached directly)`, `1 hop`, `2 hops`, written straight
/// into the sentence it is part of.
struct HopsWords(u8);

impl std::fmt::Display for HopsWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            0 => f.write_str("0 hops (devices attached directly)"),
            1 => f.write_str("1 hop"),
            n => write!(f, "{n} hops"),
        }
    }
}

fn hops_words(h: u8) -> HopsWords {
    HopsWords(h)
}

/// The caller-ids' common class, with the first caller-id and its maker for
/// the explanation; `None` unless every session's caller-id is registered
/// and all agree.
fn caller_class(obs: &SubscriberObservation) -> Option<(VendorClass, &str, &'static str)> {
    let mut first: Option<(VendorClass, &str, &'static str)> = None;
    for id in obs.caller_ids() {
        let v = shareguard_oui::lookup(id)?;
        match &first {
            None => first = Some((v.class, id, v.name)),
            Some((class, ..)) if *class != v.class => return None,
            Some(_) => {}
        }
    }
    first
}

/// True when every TTL in `ttls` is an OS's initial value, i.e. no router
/// between the sender and the NAS.
fn only_os_defaults<'a>(mut ttls: impl Iterator<Item = &'a u8>) -> bool {
    ttls.all(|t| OS_INITIAL_TTLS.contains(t))
}

/// Resolves the line's distance.
pub fn resolve(obs: &SubscriberObservation) -> LineDistance {
    let router = obs.expected_hops;
    if let Some(h) = obs.line.owner_hops {
        return LineDistance {
            hops: h,
            source: DistanceSource::Owner,
            why: format!(
                "Expected distance {}: set by the owner for this subscriber.",
                hops_words(h)
            ),
        };
    }
    // The router's distance, explained by `why` (formatted only for the
    // distance actually returned: this runs for every subscriber).
    let routers = |why: String| LineDistance {
        hops: router,
        source: DistanceSource::Router,
        why,
    };
    let router_setting = || {
        routers(format!(
            "Expected distance {}: the router's setting for {} lines.",
            hops_words(router),
            obs.access.as_str()
        ))
    };
    if obs.access != Access::Pppoe || router == 0 {
        return router_setting();
    }
    let bridged = router - 1;
    match caller_class(obs) {
        Some((VendorClass::Computer, id, maker)) => {
            // A router that clones a PC's MAC (ISPs that bind lines to a MAC
            // make people do this) dials with the card's caller-id: when TTLs
            // were seen and none left its sender at an OS default, nothing
            // is attached directly, so a router dials after all.
            let seen = &obs.ttl.counts;
            if !seen.is_empty() && !seen.keys().any(|t| OS_INITIAL_TTLS.contains(t)) {
                return routers(format!(
                    "Expected distance {}: the caller-id {id} belongs to {maker}, a PC network card, but no device arrives at an OS's initial TTL, so a router that copied the card's MAC dials.",
                    hops_words(router)
                ));
            }
            return LineDistance {
                hops: bridged,
                source: DistanceSource::CallerId,
                why: format!(
                    "Expected distance {}: the caller-id {id} belongs to {maker}, a PC network card, so the subscriber dials from a PC through a bridged modem.",
                    hops_words(bridged)
                ),
            };
        }
        Some((VendorClass::Router, id, maker)) => {
            return routers(format!(
                "Expected distance {}: the caller-id {id} belongs to {maker}, a router maker, so a router dials and the devices sit behind it.",
                hops_words(router)
            ));
        }
        _ => {}
    }
    let judged: Vec<_> = obs.line.judged().collect();
    let all_defaults = judged.len() >= BRIDGED_SCANS
        && judged.iter().all(|p| only_os_defaults(p.counts.keys()))
        && only_os_defaults(obs.ttl.counts.keys())
        // One PC is one OS: two families at their defaults is a router
        // resetting some TTLs, not a bridged PC.
        && judged
            .iter()
            .flat_map(|p| p.counts.keys())
            .chain(obs.ttl.counts.keys())
            .map(|&t| family_of(t))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == 1;
    let span = match (judged.first(), judged.last()) {
        (Some(newest), Some(oldest)) => (newest.at - oldest.at).num_hours(),
        _ => 0,
    };
    if all_defaults && span >= BRIDGED_SPAN_HOURS {
        return LineDistance {
            hops: bridged,
            source: DistanceSource::History,
            why: format!(
                "Expected distance {}: in {} earlier scans over {} every device arrived at its OS's initial TTL, so this is a bridged line (a PC dials PPPoE itself).",
                hops_words(bridged),
                judged.len(),
                crate::assess::human_duration(span as u64 * 3600)
            ),
        };
    }
    router_setting()
}
