//! What the window sends, checked before anything uses it.

use crate::error::{CommandError, CommandResult};

/// A subscriber's login name as the window sends it, trimmed: 1 to 128
/// printable characters.
pub fn check_subscriber(s: &str) -> CommandResult<String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 128 || s.chars().any(char::is_control) {
        return Err(CommandError::invalid(
            "give the subscriber's login name (1 to 128 printable characters)",
        ));
    }
    Ok(s.to_string())
}

/// A reseller/area tag as the window sends it: blank means none.
pub fn tag_of(tag: Option<String>) -> Option<String> {
    tag.filter(|t| !t.trim().is_empty())
}
