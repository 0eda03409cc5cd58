//! What a notification says, and how it is worded for each channel.
//!
//! The generic webhook gets every field as JSON so scripts can act on them;
//! Telegram gets a few short lines a person reads on a phone.

use serde::Serialize;

/// Telegram refuses longer messages outright, so a long finding would
/// otherwise produce no message at all.
pub(crate) const TELEGRAM_TEXT_LIMIT: usize = 4096;

/// One finding of the abuse monitor, or one action taken automatically.
///
/// The fields are plain strings so this crate does not depend on the
/// detection crates; the caller words them as it wants them shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Event {
    /// One line that says what happened, e.g. "Account shared by 3 devices".
    pub title: String,
    pub subscriber: Option<String>,
    pub router: Option<String>,
    /// e.g. "low", "medium", "high".
    pub severity: String,
    /// A stable machine name for scripts, e.g. "shared_account".
    pub kind: String,
    pub details: String,
    /// What ShareGuard did about it, if anything, e.g. "disconnected".
    pub action: Option<String>,
    /// When it happened, RFC 3339.
    pub at: String,
}

/// The generic webhook body: the event plus a marker, so a receiver that
/// serves several senders can tell these apart.
#[derive(Serialize)]
struct GenericBody<'a> {
    source: &'static str,
    #[serde(flatten)]
    event: &'a Event,
}

impl Event {
    /// The event sent by the settings page's Test button: clearly a test, so
    /// nobody who sees it in a shared group chat goes looking for an abuser.
    pub(crate) fn test_notice(at: String) -> Self {
        Self {
            title: "ShareGuard test notification".to_owned(),
            subscriber: None,
            router: None,
            severity: "info".to_owned(),
            kind: "test".to_owned(),
            details: "This is a test from ShareGuard's notification settings. \
                      If you can read it, notifications reach you; nothing needs to be done."
                .to_owned(),
            action: None,
            at,
        }
    }

    /// The JSON body of the generic webhook.
    pub(crate) fn to_generic_json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(GenericBody {
            source: "shareguard",
            event: self,
        })
    }

    /// The Telegram message: plain text (no parse mode, so a subscriber name
    /// with `*` or `<` cannot break the message), within Telegram's limit.
    pub(crate) fn to_text(&self) -> String {
        let mut lines = Vec::new();
        let title = self.title.trim();
        lines.push(if title.is_empty() {
            "ShareGuard notification".to_owned()
        } else {
            title.to_owned()
        });
        let who: Vec<String> = [("Subscriber", &self.subscriber), ("Router", &self.router)]
            .into_iter()
            .filter_map(|(label, value)| {
                value
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{label}: {v}"))
            })
            .collect();
        if !who.is_empty() {
            lines.push(who.join(" · "));
        }
        let what: Vec<String> = [("Kind", &self.kind), ("Severity", &self.severity)]
            .into_iter()
            .map(|(label, value)| (label, value.trim()))
            .filter(|(_, v)| !v.is_empty())
            .map(|(label, v)| format!("{label}: {v}"))
            .collect();
        if !what.is_empty() {
            lines.push(what.join(" · "));
        }
        if !self.details.trim().is_empty() {
            lines.push(self.details.trim().to_owned());
        }
        if let Some(action) = self.action.as_deref().map(str::trim) {
            if !action.is_empty() {
                lines.push(format!("Action: {action}"));
            }
        }
        truncate(&lines.join("\n"), TELEGRAM_TEXT_LIMIT)
    }
}

/// Shortens `text` to at most `limit` UTF-16 code units, ending in "…" when
/// cut. Telegram measures text in UTF-16 units, so an emoji counts twice;
/// counting that way also keeps the result within `limit` characters. The
/// cut is always between characters, never inside one.
fn truncate(text: &str, limit: usize) -> String {
    if text.encode_utf16().count() <= limit {
        return text.to_owned();
    }
    let budget = limit.saturating_sub(1); // room for the '…'
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        used += c.len_utf16();
        if used > budget {
            break;
        }
        end = at + c.len_utf8();
    }
    let mut cut = text[..end].to_owned();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Event {
        Event {
            title: "Account shared by 3 devices".into(),
            subscriber: Some("alice".into()),
            router: Some("core-1".into()),
            severity: "high".into(),
            kind: "shared_account".into(),
            details: "3 different devices used the account within 10 minutes.".into(),
            action: Some("disconnected".into()),
            at: "2024-05-01T10:00:00Z".into(),
        }
    }

    #[test]
    fn text_has_title_then_who_what_details_action() {
        assert_eq!(
            finding().to_text(),
            "Account shared by 3 devices\n\
             Subscriber: alice · Router: core-1\n\
             Kind: shared_account · Severity: high\n\
             3 different devices used the account within 10 minutes.\n\
             Action: disconnected"
        );
    }

    #[test]
    fn text_leaves_out_missing_parts() {
        let event = Event {
            subscriber: None,
            router: Some("core-1".into()),
            action: None,
            details: "  ".into(),
            ..finding()
        };
        assert_eq!(
            event.to_text(),
            "Account shared by 3 devices\nRouter: core-1\nKind: shared_account · Severity: high"
        );
    }

    #[test]
    fn text_is_never_empty() {
        let event = Event {
            title: String::new(),
            subscriber: None,
            router: None,
            severity: String::new(),
            kind: String::new(),
            details: String::new(),
            action: None,
            at: String::new(),
        };
        assert_eq!(event.to_text(), "ShareGuard notification");
    }

    #[test]
    fn text_is_plain_markup_is_kept_verbatim() {
        let event = Event {
            subscriber: Some("<b>*bob*</b>".into()),
            ..finding()
        };
        assert!(event.to_text().contains("Subscriber: <b>*bob*</b>"));
    }

    #[test]
    fn long_details_are_cut_to_the_telegram_limit() {
        let event = Event {
            details: "x".repeat(10_000),
            ..finding()
        };
        let text = event.to_text();
        assert_eq!(text.encode_utf16().count(), TELEGRAM_TEXT_LIMIT);
        assert!(text.ends_with("x…"));
        assert!(text.starts_with("Account shared by 3 devices\n"));
    }

    #[test]
    fn short_text_is_untouched() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("", 5), "");
    }

    #[test]
    fn cut_lands_between_characters() {
        // 'é' is 2 bytes and 1 UTF-16 unit; the emoji is 4 bytes and 2 units.
        assert_eq!(truncate("ééééé", 4), "ééé…");
        assert_eq!(truncate("😀😀😀", 4), "😀…");
        assert_eq!(truncate("a😀😀", 4), "a😀…");
        assert_eq!(truncate("a😀😀", 3), "a…");
        for limit in 1..12 {
            let cut = truncate("a😀bé😀c😀😀", limit);
            assert!(
                cut.encode_utf16().count() <= limit,
                "limit {limit}: {cut:?}"
            );
        }
    }

    #[test]
    fn generic_body_is_the_event_plus_source() {
        let json = finding().to_generic_json().unwrap();
        assert_eq!(json["source"], "shareguard");
        assert_eq!(json["title"], "Account shared by 3 devices");
        assert_eq!(json["subscriber"], "alice");
        assert_eq!(json["action"], "disconnected");
        assert_eq!(json["at"], "2024-05-01T10:00:00Z");
        assert_eq!(json.as_object().unwrap().len(), 9);
    }

    #[test]
    fn test_notice_says_it_is_a_test() {
        let event = Event::test_notice("2024-05-01T10:00:00Z".into());
        assert_eq!(event.kind, "test");
        assert!(event.to_text().to_lowercase().contains("test"));
    }
}
