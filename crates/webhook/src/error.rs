//! Errors, each worded with the fix, because the owner reads them next to the
//! Test button and must know what to change without a manual.
//!
//! No variant holds a full address: generic webhook URLs often carry an access
//! key in their path, and the Telegram address carries the bot token. Errors
//! name the receiver by its origin (scheme, host and port) only.

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum WebhookError {
    #[error("the {what} {url:?} is not a valid http(s) address: {reason}")]
    InvalidUrl {
        /// "webhook URL" or "Telegram API address".
        what: &'static str,
        url: String,
        reason: String,
    },
    #[error("the Telegram chat id {chat_id:?} is not valid: enter the numeric chat id (for example 123456789, or -1001234567890 for a group or channel) or the channel's @username")]
    InvalidChatId { chat_id: String },
    #[error("the Telegram bot token is not in the form <digits>:<letters>: copy the whole token that @BotFather gave you")]
    InvalidBotToken,
    #[error("no Telegram bot token is stored: enter the token from @BotFather in the notification settings")]
    MissingBotToken,
    #[error("Telegram refused the bot token ({answer}): check the token from @BotFather")]
    TelegramUnauthorized { answer: String },
    #[error("chat not found ({answer}): check the chat id {chat_id:?} and that the bot was added to the chat")]
    ChatNotFound { chat_id: String, answer: String },
    #[error("Telegram does not let the bot post to chat {chat_id:?} ({answer}): add the bot to the group (as an administrator for a channel), or open the bot in Telegram and press Start for a private chat")]
    TelegramForbidden { chat_id: String, answer: String },
    #[error("{target} refused the request ({answer}): check that the URL includes the access key the receiving service expects")]
    Unauthorized { target: String, answer: String },
    #[error("{target} rejected the notification ({answer}): {hint}")]
    Rejected {
        target: String,
        answer: String,
        hint: &'static str,
    },
    #[error("{target} answered with a redirect ({answer}) to {location:?}: enter the final address as the webhook URL")]
    Redirected {
        target: String,
        answer: String,
        location: String,
    },
    #[error("{target} answered {answer} to all {attempts} attempts: the receiving service has a problem; try again later or ask its operator")]
    ServerError {
        target: String,
        attempts: u32,
        answer: String,
    },
    #[error("{target} still asked to slow down (429 Too Many Requests) after {attempts} attempts: send fewer notifications or try again in a minute")]
    RateLimited { target: String, attempts: u32 },
    #[error("no answer from {target} after {attempts} attempts (timed out after {} s each): check the address and that the server is reachable", .timeout.as_secs_f64())]
    Timeout {
        target: String,
        attempts: u32,
        timeout: Duration,
    },
    #[error("cannot reach {target} after {attempts} attempts ({reason}): check the address, that the server is running and that this computer is online")]
    Unreachable {
        target: String,
        attempts: u32,
        reason: String,
    },
    #[error("cannot prepare the notification: {0}")]
    Internal(String),
}

impl WebhookError {
    /// A stable class name for scripts, storage and the UI's icon choice;
    /// the message text may be reworded, this may not.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. }
            | Self::InvalidChatId { .. }
            | Self::InvalidBotToken
            | Self::MissingBotToken => "invalid_config",
            Self::TelegramUnauthorized { .. } | Self::Unauthorized { .. } => "unauthorized",
            Self::ChatNotFound { .. }
            | Self::TelegramForbidden { .. }
            | Self::Rejected { .. }
            | Self::Redirected { .. } => "rejected",
            Self::ServerError { .. } => "server_error",
            Self::RateLimited { .. } => "rate_limited",
            Self::Timeout { .. } => "timeout",
            Self::Unreachable { .. } => "unreachable",
            Self::Internal(_) => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_message_names_attempts_and_seconds() {
        let err = WebhookError::Timeout {
            target: "Telegram (https://api.telegram.org)".into(),
            attempts: 3,
            timeout: Duration::from_secs(10),
        };
        assert_eq!(
            err.to_string(),
            "no answer from Telegram (https://api.telegram.org) after 3 attempts \
             (timed out after 10 s each): check the address and that the server is reachable"
        );
        assert_eq!(err.kind(), "timeout");
    }

    #[test]
    fn unauthorized_message_points_to_botfather() {
        let err = WebhookError::TelegramUnauthorized {
            answer: "401 Unauthorized".into(),
        };
        assert_eq!(
            err.to_string(),
            "Telegram refused the bot token (401 Unauthorized): check the token from @BotFather"
        );
        assert_eq!(err.kind(), "unauthorized");
    }
}
