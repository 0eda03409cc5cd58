//! Reading a receiver's answer: delivered, worth another try, or a final
//! refusal. No sockets here, so each rule is unit-tested on its own.
//!
//! Only failures that may pass by themselves are retried (a busy or broken
//! server, rate limiting, the network): repeating a request the receiver
//! refused as wrong would only delay the report of what to fix.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use crate::error::WebhookError;

/// The longest wait a receiver may ask for between attempts: the owner is
/// waiting on the Test button, and an alert that old is stale anyway.
pub(crate) const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

/// What the receiver answered, already read off the connection.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    pub status: u16,
    /// From a `Retry-After: <seconds>` header, capped.
    pub retry_after: Option<Duration>,
    /// From a `Location` header.
    pub location: Option<String>,
    pub body: String,
}

#[derive(Debug)]
pub(crate) enum Verdict {
    Delivered,
    /// Try again after `wait` (or the usual back-off when `None`); if no
    /// attempts are left, report `failure`.
    Retry {
        wait: Option<Duration>,
        failure: Failure,
    },
    Refused(WebhookError),
}

/// A failure that may pass by itself; it becomes an error only when it is
/// still there on the last attempt.
#[derive(Debug)]
pub(crate) enum Failure {
    Timeout,
    Unreachable(String),
    Server(String),
    RateLimited,
}

impl Failure {
    pub(crate) fn into_error(self, target: &str, attempts: u32, timeout: Duration) -> WebhookError {
        let target = target.to_owned();
        match self {
            Self::Timeout => WebhookError::Timeout {
                target,
                attempts,
                timeout,
            },
            Self::Unreachable(reason) => WebhookError::Unreachable {
                target,
                attempts,
                reason,
            },
            Self::Server(answer) => WebhookError::ServerError {
                target,
                attempts,
                answer,
            },
            Self::RateLimited => WebhookError::RateLimited { target, attempts },
        }
    }
}

/// Reads `Retry-After` in its seconds form. The HTTP-date form is ignored
/// (the usual back-off applies): receivers of webhooks practically never
/// send it, and the local clock may be wrong.
pub(crate) fn retry_after_seconds(value: &str) -> Option<Duration> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(|secs| Duration::from_secs(secs).min(RETRY_AFTER_CAP))
}

/// The rules for an address of the owner's choosing.
pub(crate) fn judge_generic(target: &str, answer: &Answer) -> Verdict {
    let status = answer.status;
    let line = || status_line(status, body_snippet(&answer.body).as_deref());
    match status {
        200..=299 => Verdict::Delivered,
        300..=399 => Verdict::Refused(WebhookError::Redirected {
            target: target.to_owned(),
            answer: status_line(status, None),
            location: answer.location.clone().unwrap_or_default(),
        }),
        429 => Verdict::Retry {
            wait: answer.retry_after,
            failure: Failure::RateLimited,
        },
        401 | 403 => Verdict::Refused(WebhookError::Unauthorized {
            target: target.to_owned(),
            answer: line(),
        }),
        400..=499 => Verdict::Refused(WebhookError::Rejected {
            target: target.to_owned(),
            answer: line(),
            hint: "check the address and that the receiving service accepts a JSON POST",
        }),
        _ => Verdict::Retry {
            wait: answer.retry_after,
            failure: Failure::Server(line()),
        },
    }
}

/// The parts of a Bot API answer that say what went wrong.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
struct BotReply {
    ok: Option<bool>,
    description: Option<String>,
    parameters: Option<BotReplyParameters>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
struct BotReplyParameters {
    retry_after: Option<u64>,
}

/// The rules for Telegram's Bot API, which explains refusals in a JSON
/// `description` and flood limits in `parameters.retry_after`.
pub(crate) fn judge_telegram(target: &str, chat_id: &str, answer: &Answer) -> Verdict {
    let reply: BotReply = serde_json::from_str(&answer.body).unwrap_or_default();
    let from_bot_api = reply.ok == Some(false);
    let status = answer.status;
    let line = status_line(status, reply.description.as_deref());
    let rejected = |hint| {
        Verdict::Refused(WebhookError::Rejected {
            target: target.to_owned(),
            answer: line.clone(),
            hint,
        })
    };
    match status {
        200..=299 if reply.ok != Some(false) => Verdict::Delivered,
        200..=299 => rejected("check the chat id and that the bot may post in the chat"),
        429 => Verdict::Retry {
            wait: reply
                .parameters
                .and_then(|p| p.retry_after)
                .map(|secs| Duration::from_secs(secs).min(RETRY_AFTER_CAP))
                .or(answer.retry_after),
            failure: Failure::RateLimited,
        },
        401 => Verdict::Refused(WebhookError::TelegramUnauthorized { answer: line }),
        // The Bot API answers 404 for a token that belongs to no bot.
        404 if from_bot_api => {
            Verdict::Refused(WebhookError::TelegramUnauthorized { answer: line })
        }
        403 => Verdict::Refused(WebhookError::TelegramForbidden {
            chat_id: chat_id.to_owned(),
            answer: line,
        }),
        400 if line.to_ascii_lowercase().contains("chat not found") => {
            Verdict::Refused(WebhookError::ChatNotFound {
                chat_id: chat_id.to_owned(),
                answer: line,
            })
        }
        404 => rejected("check the Telegram API address"),
        300..=499 => rejected("check the chat id and that the bot may post in the chat"),
        _ => Verdict::Retry {
            wait: answer.retry_after,
            failure: Failure::Server(line),
        },
    }
}

/// "400 Bad Request: <detail>", without repeating the reason phrase when
/// the detail already starts with it (Telegram's descriptions do).
fn status_line(status: u16, detail: Option<&str>) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let detail = detail.map(str::trim).filter(|d| !d.is_empty());
    match detail {
        None if reason.is_empty() => status.to_string(),
        None => format!("{status} {reason}"),
        Some(d) if !reason.is_empty() && starts_with_ignore_case(d, reason) => {
            format!("{status} {d}")
        }
        Some(d) if reason.is_empty() => format!("{status}: {d}"),
        Some(d) => format!("{status} {reason}: {d}"),
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The start of a receiver's explanation, on one line. HTML error pages are
/// left out: their markup would drown the message.
fn body_snippet(body: &str) -> Option<String> {
    const MAX_CHARS: usize = 200;
    let body = body.trim();
    if body.is_empty() || body.starts_with('<') {
        return None;
    }
    let line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut snippet: String = line.chars().take(MAX_CHARS).collect();
    if line.chars().count() > MAX_CHARS {
        snippet.push('…');
    }
    Some(snippet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_owned(),
            ..Answer::default()
        }
    }

    fn refused(verdict: Verdict) -> WebhookError {
        match verdict {
            Verdict::Refused(e) => e,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn retry_after_header() {
        assert_eq!(retry_after_seconds("1"), Some(Duration::from_secs(1)));
        assert_eq!(retry_after_seconds(" 0 "), Some(Duration::ZERO));
        assert_eq!(retry_after_seconds("120"), Some(RETRY_AFTER_CAP));
        assert_eq!(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after_seconds("-1"), None);
    }

    #[test]
    fn generic_rules() {
        assert!(matches!(
            judge_generic("t", &answer(204, "")),
            Verdict::Delivered
        ));
        assert!(matches!(
            judge_generic("t", &answer(503, "")),
            Verdict::Retry {
                failure: Failure::Server(_),
                ..
            }
        ));
        assert!(matches!(
            judge_generic("t", &answer(429, "")),
            Verdict::Retry {
                failure: Failure::RateLimited,
                ..
            }
        ));
        assert_eq!(
            refused(judge_generic("t", &answer(400, ""))).kind(),
            "rejected"
        );
        assert_eq!(
            refused(judge_generic("t", &answer(404, ""))).kind(),
            "rejected"
        );
        assert_eq!(
            refused(judge_generic("t", &answer(401, ""))).kind(),
            "unauthorized"
        );
        assert_eq!(
            refused(judge_generic("t", &answer(302, ""))).kind(),
            "rejected"
        );
    }

    #[test]
    fn generic_retry_after_is_passed_on() {
        let a = Answer {
            status: 429,
            retry_after: Some(Duration::from_secs(2)),
            ..Answer::default()
        };
        assert!(matches!(
            judge_generic("t", &a),
            Verdict::Retry { wait: Some(w), .. } if w == Duration::from_secs(2)
        ));
    }

    #[test]
    fn generic_refusal_quotes_a_short_explanation() {
        let err = refused(judge_generic(
            "the webhook at https://x",
            &answer(400, "missing\n field  'text'"),
        ));
        assert!(
            err.to_string()
                .starts_with("the webhook at https://x rejected the notification (400 Bad Request: missing field 'text')"),
            "{err}"
        );
        let err = refused(judge_generic(
            "t",
            &answer(400, "<html><body>x</body></html>"),
        ));
        assert!(err.to_string().contains("(400 Bad Request)"), "{err}");
    }

    #[test]
    fn telegram_rules() {
        let ok = r#"{"ok":true,"result":{}}"#;
        assert!(matches!(
            judge_telegram("T", "1", &answer(200, ok)),
            Verdict::Delivered
        ));

        let err = refused(judge_telegram(
            "T",
            "1",
            &answer(
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            ),
        ));
        assert_eq!(err.kind(), "unauthorized");
        assert!(err.to_string().contains("(401 Unauthorized)"), "{err}");

        let err = refused(judge_telegram(
            "T",
            "42",
            &answer(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
            ),
        ));
        assert!(matches!(err, WebhookError::ChatNotFound { .. }), "{err:?}");
        assert!(err
            .to_string()
            .starts_with("chat not found (400 Bad Request: chat not found): check the chat id"));

        let err = refused(judge_telegram(
            "T",
            "42",
            &answer(
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
            ),
        ));
        assert!(
            matches!(err, WebhookError::TelegramForbidden { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("bot was blocked by the user"));

        let err = refused(judge_telegram(
            "T",
            "42",
            &answer(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}"#,
            ),
        ));
        assert_eq!(err.kind(), "rejected");
        assert!(err.to_string().contains("message text is empty"));

        let err = refused(judge_telegram("T", "42", &answer(404, "not json")));
        assert_eq!(err.kind(), "rejected");
        assert!(err.to_string().contains("Telegram API address"));
    }

    #[test]
    fn telegram_ok_false_is_not_delivered() {
        let err = refused(judge_telegram(
            "T",
            "1",
            &answer(200, r#"{"ok":false,"description":"odd"}"#),
        ));
        assert_eq!(err.kind(), "rejected");
    }

    #[test]
    fn telegram_flood_wait_comes_from_the_json() {
        let a = answer(
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#,
        );
        assert!(matches!(
            judge_telegram("T", "1", &a),
            Verdict::Retry { wait: Some(w), failure: Failure::RateLimited } if w == Duration::from_secs(7)
        ));
        let a = answer(429, r#"{"ok":false,"parameters":{"retry_after":3600}}"#);
        assert!(matches!(
            judge_telegram("T", "1", &a),
            Verdict::Retry { wait: Some(w), .. } if w == RETRY_AFTER_CAP
        ));
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_line(401, Some("Unauthorized")), "401 Unauthorized");
        assert_eq!(status_line(401, None), "401 Unauthorized");
        assert_eq!(
            status_line(500, Some("boom")),
            "500 Internal Server Error: boom"
        );
        assert_eq!(status_line(599, None), "599");
        assert_eq!(status_line(599, Some("x")), "599: x");
    }
}
