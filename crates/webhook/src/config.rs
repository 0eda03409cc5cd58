//! What the owner configures, and the checks run before anything is sent.
//!
//! The configuration is stored with the app's settings, so it holds nothing
//! secret: the Telegram bot token lives in the OS keyring and is handed to
//! [`crate::Notifier::new`] separately.

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::error::WebhookError;

/// Where Telegram's Bot API lives unless [`TelegramHook::api_base`] says
/// otherwise.
pub const TELEGRAM_API_BASE: &str = "https://api.telegram.org";

/// Every notification channel the owner may turn on; `None` means off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct WebhookConfig {
    pub generic: Option<GenericHook>,
    pub telegram: Option<TelegramHook>,
}

/// A JSON POST to an address of the owner's choosing, for home-made scripts,
/// chat bridges and automation services.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GenericHook {
    pub url: String,
}

/// A message from the owner's own Telegram bot, because that is where many
/// small ISP owners already talk to their staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TelegramHook {
    /// A numeric chat id (negative for groups and channels) or `@channelname`.
    pub chat_id: String,
    /// Another Bot API server (a self-hosted one, or a local one in tests);
    /// `None` means [`TELEGRAM_API_BASE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
}

/// Checks every configured hook without sending anything, so the settings
/// page can refuse a typo when it is saved rather than when abuse happens.
pub fn validate(config: &WebhookConfig) -> Result<(), WebhookError> {
    if let Some(hook) = &config.generic {
        hook.endpoint()?;
    }
    if let Some(hook) = &config.telegram {
        hook.chat()?;
        hook.api_base_url()?;
    }
    Ok(())
}

/// Checks that a bot token looks like `<bot id>:<secret>` before it is stored.
///
/// The secret's length is not checked because Telegram has never promised
/// one; its characters are, because the token becomes part of the request
/// path and a `/` or `?` in it would send the message somewhere else.
/// Surrounding whitespace (a common copy-paste accident) is ignored.
pub fn validate_bot_token(token: &str) -> Result<(), WebhookError> {
    let (id, secret) = token
        .trim()
        .split_once(':')
        .ok_or(WebhookError::InvalidBotToken)?;
    let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    let secret_ok = !secret.is_empty()
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if id_ok && secret_ok {
        Ok(())
    } else {
        Err(WebhookError::InvalidBotToken)
    }
}

impl GenericHook {
    /// The parsed address to POST to.
    pub(crate) fn endpoint(&self) -> Result<Url, WebhookError> {
        parse_http_url("webhook URL", &self.url)
    }
}

impl TelegramHook {
    /// The chat id as Telegram expects it, surrounding whitespace removed.
    pub(crate) fn chat(&self) -> Result<&str, WebhookError> {
        let chat_id = self.chat_id.trim();
        if is_chat_id(chat_id) {
            Ok(chat_id)
        } else {
            Err(WebhookError::InvalidChatId {
                chat_id: self.chat_id.clone(),
            })
        }
    }

    /// The Bot API server to talk to. Another one than Telegram's must be
    /// https (the bot token travels in every request path), or plain http
    /// to this computer (a local Bot API server).
    pub(crate) fn api_base_url(&self) -> Result<Url, WebhookError> {
        let base = self.api_base.as_deref().unwrap_or(TELEGRAM_API_BASE);
        let url = parse_http_url("Telegram API address", base)?;
        let host = url.host_str().unwrap_or_default();
        let local = host.eq_ignore_ascii_case("localhost")
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback());
        if url.scheme() != "https" && !local {
            return Err(WebhookError::InvalidUrl {
                what: "Telegram API address",
                url: base.to_owned(),
                reason: "the bot token would travel in clear text: use https://, or http:// only to a Bot API server on this computer".to_owned(),
            });
        }
        Ok(url)
    }
}

impl WebhookConfig {
    /// The configuration with its addresses cut to scheme and host, for
    /// whoever may see that notifications go somewhere but not where
    /// exactly: a webhook URL often carries its key in the path or query,
    /// and audit entries and their exports are kept for good.
    pub fn redacted(&self) -> WebhookConfig {
        WebhookConfig {
            generic: self.generic.as_ref().map(|g| GenericHook {
                url: redact_url(&g.url),
            }),
            telegram: self.telegram.as_ref().map(|t| TelegramHook {
                chat_id: t.chat_id.clone(),
                api_base: t.api_base.as_deref().map(redact_url),
            }),
        }
    }
}

impl WebhookConfig {
    /// What the settings keep: the webhook's address cut to scheme and host
    /// (its full form belongs in the keyring), the rest as it is.
    pub fn for_storage(&self) -> WebhookConfig {
        let mut kept = self.clone();
        if let Some(hook) = kept.generic.as_mut() {
            hook.url = redact_url(&hook.url);
        }
        kept
    }
}

impl GenericHook {
    /// True when the address is already cut to scheme and host (as stored),
    /// so the full one must come from the keyring.
    pub fn is_cut(&self) -> bool {
        self.url == redact_url(&self.url)
    }
}

/// `https://hooks.example.com/T0/B1/secret?k=v` → `https://hooks.example.com/…`.
pub fn redact_url(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(u) if u.host_str().is_some() => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}/…",
                u.scheme(),
                u.host_str().unwrap_or_default()
            )
        }
        _ => "…".to_owned(),
    }
}

/// A number (negative for groups and channels) or `@` and a public username.
fn is_chat_id(chat_id: &str) -> bool {
    if let Some(name) = chat_id.strip_prefix('@') {
        return !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    }
    let digits = chat_id.strip_prefix('-').unwrap_or(chat_id);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Accepts only absolute http(s) addresses with a host: anything else either
/// cannot be sent by an HTTP client or is a typo that would fail silently.
fn parse_http_url(what: &'static str, text: &str) -> Result<Url, WebhookError> {
    let invalid = |reason: String| WebhookError::InvalidUrl {
        what,
        url: text.to_owned(),
        reason,
    };
    let url = Url::parse(text.trim()).map_err(|e| {
        invalid(if text.contains("://") {
            format!("{e}; check it for typos")
        } else {
            "it does not start with https:// or http://; enter the full address".to_owned()
        })
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(format!(
            "it starts with {}: instead of https: or http:",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(
            "it has no host name; enter the full address, e.g. https://hooks.example.com/..."
                .to_owned(),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keeps_the_webhooks_host_and_the_telegram_server() {
        let config = WebhookConfig {
            generic: Some(GenericHook {
                url: "https://hooks.example.com:8443/T0/secret?k=v".into(),
            }),
            telegram: Some(TelegramHook {
                chat_id: "42".into(),
                api_base: Some("https://bots.example.net/api".into()),
            }),
        };
        assert!(!config.generic.as_ref().unwrap().is_cut());
        let kept = config.for_storage();
        let hook = kept.generic.as_ref().unwrap();
        assert_eq!(hook.url, "https://hooks.example.com:8443/…");
        assert!(hook.is_cut());
        assert_eq!(kept.telegram, config.telegram);
    }

    #[test]
    fn chat_ids() {
        for good in ["123456789", "-1001234567890", "@my_channel", " 42 "] {
            let hook = TelegramHook {
                chat_id: good.into(),
                api_base: None,
            };
            assert!(hook.chat().is_ok(), "{good:?} should be accepted");
        }
        for bad in ["", "  ", "-", "@", "12a", "@bad name", "https://t.me/x"] {
            let hook = TelegramHook {
                chat_id: bad.into(),
                api_base: None,
            };
            assert!(hook.chat().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn chat_is_trimmed() {
        let hook = TelegramHook {
            chat_id: " -100 ".into(),
            api_base: None,
        };
        assert_eq!(hook.chat().unwrap(), "-100");
    }

    #[test]
    fn urls() {
        assert!(parse_http_url("webhook URL", "https://hooks.example.com/a?b=c").is_ok());
        assert!(parse_http_url("webhook URL", "http://127.0.0.1:8080").is_ok());
        for bad in [
            "ftp://x",
            "not a url",
            "",
            "https://",
            "mailto:a@b.c",
            "file:///etc",
        ] {
            let err = parse_http_url("webhook URL", bad).unwrap_err();
            assert_eq!(err.kind(), "invalid_config", "{bad:?}");
        }
    }

    #[test]
    fn another_telegram_server_must_be_https_or_on_this_computer() {
        let hook = |base: &str| TelegramHook {
            chat_id: "42".into(),
            api_base: Some(base.into()),
        };
        for ok in [
            "https://bots.example.com",
            "http://127.0.0.1:8081",
            "http://localhost:8081",
            "http://[::1]:8081",
        ] {
            assert!(hook(ok).api_base_url().is_ok(), "{ok}");
        }
        let err = hook("http://evil.example.com").api_base_url().unwrap_err();
        assert!(err.to_string().contains("clear text"), "{err}");
    }

    #[test]
    fn redacted_addresses_keep_only_scheme_and_host() {
        let c = WebhookConfig {
            generic: Some(GenericHook {
                url: "https://hooks.example.com:8443/T0/B1/s3cret?key=abc".into(),
            }),
            telegram: Some(TelegramHook {
                chat_id: "42".into(),
                api_base: Some("https://bots.example.com/x".into()),
            }),
        };
        let r = c.redacted();
        assert_eq!(r.generic.unwrap().url, "https://hooks.example.com:8443/…");
        let t = r.telegram.unwrap();
        assert_eq!(t.api_base.as_deref(), Some("https://bots.example.com/…"));
        assert_eq!(t.chat_id, "42");
        assert_eq!(redact_url("nonsense"), "…");
    }

    #[test]
    fn scheme_error_names_the_scheme() {
        let err = parse_http_url("webhook URL", "ftp://x").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("the webhook URL \"ftp://x\" is not a valid http(s) address"));
        assert!(text.contains("ftp"), "{text}");
    }

    #[test]
    fn api_base_defaults_to_telegram() {
        let hook = TelegramHook {
            chat_id: "1".into(),
            api_base: None,
        };
        assert_eq!(
            hook.api_base_url().unwrap().as_str(),
            "https://api.telegram.org/"
        );
    }

    #[test]
    fn config_round_trips_and_tolerates_missing_fields() {
        let config: WebhookConfig =
            serde_json::from_str(r#"{"telegram":{"chat_id":"5"}}"#).unwrap();
        assert_eq!(config.generic, None);
        assert_eq!(config.telegram.as_ref().unwrap().api_base, None);
        let text = serde_json::to_string(&config).unwrap();
        assert_eq!(
            serde_json::from_str::<WebhookConfig>(&text).unwrap(),
            config
        );
        assert_eq!(
            serde_json::from_str::<WebhookConfig>("{}").unwrap(),
            WebhookConfig::default()
        );
    }
}
