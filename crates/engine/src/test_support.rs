//! Fixtures shared by the engine's unit tests.

use shareguard_detect::{
    Access, Evidence, EvidenceStatus, Level, RecommendedAction, SubscriberResult, TtlStatus,
};

/// A judged subscriber with the given level, otherwise plain.
pub fn result(name: &str, level: Level, whitelisted: bool) -> SubscriberResult {
    SubscriberResult {
        subscriber: name.into(),
        nas: "tower".into(),
        address: "10.0.0.1".into(),
        access: Access::Pppoe,
        connections: 10,
        p2p_connections: 0,
        ttl_values: vec![],
        ttl_counts: Default::default(),
        ttl_status: TtlStatus::Normal,
        level,
        assessed_level: level,
        whitelisted,
        reasons: vec![format!("{name}'s reason")],
        recommended_action: RecommendedAction::None,
        evidence: Evidence::new(EvidenceStatus::Sufficient, 1, None, None),
        scanned_at: chrono::Utc::now(),
    }
}
