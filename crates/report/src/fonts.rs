//! The one typeface of every chart and report, compiled into the binary.
//!
//! Charts and PDFs must look the same on a Windows laptop, a Mac and a
//! headless Linux box without fontconfig, so nothing here asks the operating
//! system for fonts: DejaVu Sans (regular and bold, Bitstream Vera licence,
//! see `assets/DejaVu-LICENSE.txt`) is embedded and handed to plotters and to
//! typst directly.

use std::sync::OnceLock;

use plotters::style::FontStyle;

/// DejaVu Sans, regular.
pub const REGULAR: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// DejaVu Sans, bold.
pub const BOLD: &[u8] = include_bytes!("../assets/DejaVuSans-Bold.ttf");

/// The family name typst knows the embedded font by.
pub(crate) const TYPST_FAMILY: &str = "DejaVu Sans";

/// The family name charts use. It is registered with plotters under the
/// generic name, so an SVG chart says `font-family="sans-serif"`: the desktop
/// window then draws it with its own sans-serif font, and typst (which
/// resolves generic families to the document's font) with DejaVu Sans.
pub(crate) const CHART_FAMILY: &str = "sans-serif";

static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the embedded font with plotters, once per process. Plotters
/// cannot measure or draw text without it, even for SVG.
pub(crate) fn ensure_registered() -> Result<(), String> {
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(CHART_FAMILY, FontStyle::Normal, REGULAR)
                .map_err(|_| "the embedded regular font could not be read".to_string())?;
            plotters::style::register_font(CHART_FAMILY, FontStyle::Bold, BOLD)
                .map_err(|_| "the embedded bold font could not be read".to_string())
        })
        .clone()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_fonts_register() {
        super::ensure_registered().unwrap();
        super::ensure_registered().unwrap();
    }
}
