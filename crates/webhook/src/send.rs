//! The notifier the app holds: sends one event to every configured channel
//! and reports, per channel, whether it arrived.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use serde::Serialize;

use crate::answer::{judge_generic, judge_telegram};
use crate::config::{validate_bot_token, GenericHook, TelegramHook, WebhookConfig};
use crate::error::WebhookError;
use crate::event::Event;
use crate::retry::{deliver, Post};

/// How hard to try before reporting a channel as failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Total tries, the first included; 0 is treated as 1.
    pub attempts: u32,
    /// The pause before the second try; each later pause doubles it.
    pub first_delay: Duration,
    /// The limit for one try, from connecting to the end of the answer.
    pub timeout: Duration,
}

impl Default for Retry {
    /// Rides out a receiver's restart or a short network hiccup while still
    /// answering the Test button within about half a minute.
    fn default() -> Self {
        Self {
            attempts: 3,
            first_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }
}

/// A notification channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Generic,
    Telegram,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Generic => "webhook",
            Self::Telegram => "Telegram",
        })
    }
}

/// The receiver accepted the notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryOk {
    /// How many tries it took, so the UI can mention an unsteady receiver.
    pub attempts: u32,
    /// The receiver's HTTP status.
    pub status: u16,
}

/// The outcome for one channel.
#[derive(Debug)]
pub struct Delivery {
    pub target: Target,
    pub result: Result<DeliveryOk, WebhookError>,
}

/// Sends events to the configured channels.
///
/// Cheap to keep for the app's lifetime: it holds one HTTP client whose
/// connections are reused between notifications.
pub struct Notifier {
    config: WebhookConfig,
    telegram_token: Option<String>,
    retry: Retry,
    /// Building the client can fail (e.g. the system's certificates cannot be
    /// read); that is reported per delivery, like every other failure, so
    /// creating a notifier never fails.
    client: Result<reqwest::Client, String>,
}

impl fmt::Debug for Notifier {
    /// Written by hand so the bot token never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("config", &self.config)
            .field(
                "telegram_token",
                &self.telegram_token.as_ref().map(|_| "<redacted>"),
            )
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// `telegram_token` is the bot token from the OS keyring; it is kept
    /// apart from `config` because the config is saved in plain files.
    pub fn new(config: WebhookConfig, telegram_token: Option<String>) -> Self {
        Self {
            config,
            telegram_token: telegram_token
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            retry: Retry::default(),
            client: crate::client::build(),
        }
    }

    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Sends `event` to every configured channel at once, so a slow channel
    /// does not delay the others. Returns one [`Delivery`] per configured
    /// channel (none when nothing is configured); failures are reported,
    /// never panicked on.
    pub async fn send(&self, event: &Event) -> Vec<Delivery> {
        let generic = async {
            let hook = self.config.generic.as_ref()?;
            Some(Delivery {
                target: Target::Generic,
                result: self.send_generic(hook, event).await,
            })
        };
        let telegram = async {
            let hook = self.config.telegram.as_ref()?;
            Some(Delivery {
                target: Target::Telegram,
                result: self.send_telegram(hook, event).await,
            })
        };
        let (generic, telegram) = tokio::join!(generic, telegram);
        generic.into_iter().chain(telegram).collect()
    }

    /// Sends an event that says it is a test, for the settings page's Test
    /// button; the same retries and checks apply as for real events.
    pub async fn test(&self) -> Vec<Delivery> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.send(&Event::test_notice(now)).await
    }

    fn client(&self) -> Result<&reqwest::Client, WebhookError> {
        self.client
            .as_ref()
            .map_err(|e| WebhookError::Internal(e.clone()))
    }

    async fn send_generic(
        &self,
        hook: &GenericHook,
        event: &Event,
    ) -> Result<DeliveryOk, WebhookError> {
        let url = hook.endpoint()?;
        let client = self.client()?;
        let body = event
            .to_generic_json()
            .map_err(|e| WebhookError::Internal(e.to_string()))?;
        let target = format!("the webhook at {}", origin(&url));
        let post = Post {
            url,
            body: &body,
            target: &target,
            secret: None,
        };
        deliver(client, &self.retry, post, |answer| {
            judge_generic(&target, answer)
        })
        .await
    }

    async fn send_telegram(
        &self,
        hook: &TelegramHook,
        event: &Event,
    ) -> Result<DeliveryOk, WebhookError> {
        let chat_id = hook.chat()?;
        let token = self
            .telegram_token
            .as_deref()
            .ok_or(WebhookError::MissingBotToken)?;
        validate_bot_token(token)?;
        let base = hook.api_base_url()?;
        let client = self.client()?;
        let url = Url::parse(&format!(
            "{}/bot{token}/sendMessage",
            base.as_str().trim_end_matches('/')
        ))
        // The parser's message never quotes the input, so the token stays out.
        .map_err(|e| WebhookError::Internal(format!("cannot build the Telegram address: {e}")))?;
        let body = serde_json::json!({ "chat_id": chat_id, "text": event.to_text() });
        let target = format!("Telegram ({})", origin(&base));
        let post = Post {
            url,
            body: &body,
            target: &target,
            secret: Some(token),
        };
        deliver(client, &self.retry, post, |answer| {
            judge_telegram(&target, chat_id, answer)
        })
        .await
    }
}

/// Scheme, host and port only: enough to recognise the receiver, without a
/// path or query that may hold an access key.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}
