//! Outgoing notifications, so the owner hears about account sharing and
//! automatic actions without keeping the app open.
//!
//! * [`config`]: which channels are on (a generic JSON webhook, a Telegram
//!   bot) and the checks the settings page runs before saving them.
//! * [`event`]: what a notification says, as JSON for scripts and as a few
//!   plain lines for Telegram.
//! * [`send`]: the [`Notifier`], which sends to every channel at once with
//!   retries and reports per channel, and the Test button's test event.
//! * [`error`]: failures worded with the fix, and a stable [`WebhookError::kind`].
//!
//! The Telegram bot token is a secret kept in the OS keyring: it is never part
//! of [`WebhookConfig`], never printed by `Debug`, and cut out of every error
//! message even though it is part of the Bot API's address.

mod answer;
mod client;
pub mod config;
pub mod error;
pub mod event;
mod retry;
pub mod send;

pub use config::{
    validate, validate_bot_token, GenericHook, TelegramHook, WebhookConfig, TELEGRAM_API_BASE,
};
pub use error::WebhookError;
pub use event::Event;
pub use send::{Delivery, DeliveryOk, Notifier, Retry, Target};
