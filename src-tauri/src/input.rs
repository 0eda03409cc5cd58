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

/// The longest reason or note kept with an action, an excuse or a distance.
pub const MAX_REASON: usize = 500;

/// A reason or note as the window sends it, trimmed; blank gives `default`
/// (`None`: a reason is required, and `missing` says what to write).
pub fn reason_of(
    text: Option<&str>,
    default: Option<&str>,
    missing: &str,
) -> CommandResult<String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text.or(default) else {
        return Err(CommandError::invalid(missing));
    };
    if text.len() > MAX_REASON {
        return Err(CommandError::invalid(format!(
            "keep it under {MAX_REASON} characters"
        )));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_defaulted_and_bounded() {
        assert_eq!(
            reason_of(Some("  late payer "), None, "why").unwrap(),
            "late payer"
        );
        assert_eq!(
            reason_of(Some("  "), Some("from the app"), "why").unwrap(),
            "from the app"
        );
        assert_eq!(
            reason_of(None, None, "say why").unwrap_err().message,
            "say why"
        );
        let long = "x".repeat(MAX_REASON + 1);
        assert!(reason_of(Some(&long), None, "why")
            .unwrap_err()
            .message
            .contains("under 500"));
    }
}
