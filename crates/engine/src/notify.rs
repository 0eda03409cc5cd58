//! Which results deserve a desktop notification: subscribers flagged at or
//! above the owner's level who were not flagged at that level before the
//! scan. A subscriber who stays flagged scan after scan notifies once, not
//! every night.

use std::collections::HashSet;

use shareguard_detect::{Level, SubscriberResult};

/// Subscribers in `results` newly at or above `min_level`, given who was
/// already there before the scan (`before`). Whitelisted results never notify.
pub fn newly_flagged<'a>(
    before: &HashSet<String>,
    results: &'a [SubscriberResult],
    min_level: Level,
) -> Vec<&'a SubscriberResult> {
    let mut out: Vec<&SubscriberResult> = results
        .iter()
        .filter(|r| !r.whitelisted && r.level >= min_level && !before.contains(&r.subscriber))
        .collect();
    out.sort_by(|a, b| b.level.cmp(&a.level).then(a.subscriber.cmp(&b.subscriber)));
    out
}

/// The notification's title and body.
pub fn message(new: &[&SubscriberResult]) -> Option<(String, String)> {
    let first = new.first()?;
    let title = match new.len() {
        1 => format!("{} flagged {}", first.subscriber, first.level),
        n => format!("{n} subscribers newly flagged"),
    };
    let names: Vec<&str> = new.iter().take(3).map(|r| r.subscriber.as_str()).collect();
    let more = new.len().saturating_sub(names.len());
    let body = if new.len() == 1 {
        first
            .reasons
            .first()
            .cloned()
            .unwrap_or_else(|| format!("on {}", first.nas))
    } else if more > 0 {
        format!(
            "{} and {more} more. Open ShareGuard to review.",
            names.join(", ")
        )
    } else {
        format!("{}. Open ShareGuard to review.", names.join(", "))
    };
    Some((title, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::result as r;

    #[test]
    fn only_new_flags_at_the_level_notify() {
        let results = vec![
            r("ann", Level::High, false),
            r("bob", Level::Critical, false),
            r("cy", Level::Medium, false),
            r("dee", Level::Critical, true),
            r("eve", Level::High, false),
        ];
        let before: HashSet<String> = ["eve".to_string()].into();
        let new = newly_flagged(&before, &results, Level::High);
        let names: Vec<&str> = new.iter().map(|r| r.subscriber.as_str()).collect();
        assert_eq!(
            names,
            ["bob", "ann"],
            "most severe first; eve was flagged already"
        );
        let (title, body) = message(&new).unwrap();
        assert_eq!(title, "2 subscribers newly flagged");
        assert_eq!(body, "bob, ann. Open ShareGuard to review.");

        let one = newly_flagged(&before, &results[..1], Level::High);
        assert_eq!(
            message(&one).unwrap(),
            ("ann flagged high".into(), "ann's reason".into())
        );
        assert!(message(&[]).is_none());

        let many: Vec<SubscriberResult> = (0..5)
            .map(|i| r(&format!("s{i}"), Level::High, false))
            .collect();
        let new = newly_flagged(&HashSet::new(), &many, Level::Medium);
        assert_eq!(
            message(&new).unwrap().1,
            "s0, s1, s2 and 2 more. Open ShareGuard to review."
        );
    }
}
