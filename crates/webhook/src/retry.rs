//! One notification to one receiver: POST, read the answer, and try again
//! while the failure may pass by itself.

use std::time::Duration;

use reqwest::header::{LOCATION, RETRY_AFTER};
use reqwest::Url;

use crate::answer::{retry_after_seconds, Answer, Failure, Verdict};
use crate::error::WebhookError;
use crate::send::{DeliveryOk, Retry};

/// Enough of a receiver's answer to explain a refusal; a misbehaving server
/// cannot make us hold megabytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Where to send, and how to talk about it.
pub(crate) struct Post<'a> {
    pub url: Url,
    pub body: &'a serde_json::Value,
    /// How errors and logs name the receiver, e.g. "Telegram (https://api.telegram.org)".
    pub target: &'a str,
    /// A secret inside `url` (the bot token) to cut out of every message.
    pub secret: Option<&'a str>,
}

/// Sends `post` up to `retry.attempts` times, waiting `first_delay`, then
/// twice as long each time (or as long as the receiver asked).
pub(crate) async fn deliver(
    client: &reqwest::Client,
    retry: &Retry,
    post: Post<'_>,
    judge: impl Fn(&Answer) -> Verdict,
) -> Result<DeliveryOk, WebhookError> {
    let attempts = retry.attempts.max(1);
    let mut backoff = retry.first_delay;
    let mut attempt = 1;
    loop {
        let (status, verdict) = match send_once(client, retry.timeout, &post).await {
            Ok(answer) => (answer.status, judge(&answer)),
            Err(verdict) => (0, verdict),
        };
        let (wait, failure) = match verdict {
            Verdict::Delivered => {
                tracing::debug!(
                    receiver = post.target,
                    attempt,
                    status,
                    "notification delivered"
                );
                return Ok(DeliveryOk {
                    attempts: attempt,
                    status,
                });
            }
            Verdict::Refused(error) => {
                tracing::warn!(receiver = post.target, attempt, %error, "notification refused");
                return Err(error);
            }
            Verdict::Retry { wait, failure } => (wait, failure),
        };
        if attempt >= attempts {
            let error = failure.into_error(post.target, attempts, retry.timeout);
            tracing::warn!(receiver = post.target, %error, "notification not delivered");
            return Err(error);
        }
        let pause = wait.unwrap_or(backoff);
        tracing::info!(
            receiver = post.target,
            attempt,
            failure = ?failure,
            pause_ms = pause.as_millis() as u64,
            "notification attempt failed, trying again"
        );
        tokio::time::sleep(pause).await;
        backoff = backoff.saturating_mul(2);
        attempt += 1;
    }
}

/// One POST. A failure to get an answer at all becomes a retry verdict.
async fn send_once(
    client: &reqwest::Client,
    timeout: Duration,
    post: &Post<'_>,
) -> Result<Answer, Verdict> {
    let transport = |err: reqwest::Error| {
        let failure = if err.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Unreachable(redact(&describe(err), post.secret))
        };
        Verdict::Retry {
            wait: None,
            failure,
        }
    };
    let mut response = client
        .post(post.url.clone())
        .timeout(timeout)
        .json(post.body)
        .send()
        .await
        .map_err(transport)?;
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut answer = Answer {
        status: response.status().as_u16(),
        retry_after: header(RETRY_AFTER).as_deref().and_then(retry_after_seconds),
        location: header(LOCATION),
        body: String::new(),
    };
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        let room = MAX_BODY_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_BODY_BYTES {
            break;
        }
    }
    answer.body = redact(&String::from_utf8_lossy(&body), post.secret);
    Ok(answer)
}

/// The most specific cause of a transport error ("Connection refused",
/// "failed to lookup address information: …"), which is what the owner can
/// act on; reqwest's own top line is always the vague "error sending
/// request". The URL is dropped first, as it may hold a secret.
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut cause: &dyn std::error::Error = &err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// Replaces every occurrence of `secret` with `<token>`.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "<token>"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_every_occurrence() {
        assert_eq!(
            redact("/bot1:abc/sendMessage and 1:abc", Some("1:abc")),
            "/bot<token>/sendMessage and <token>"
        );
        assert_eq!(redact("nothing here", Some("1:abc")), "nothing here");
        assert_eq!(redact("x", Some("")), "x");
        assert_eq!(redact("x", None), "x");
    }
}
