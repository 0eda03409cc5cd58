//! Typst source built from Rust, with every piece of data escaped.
//!
//! Subscriber names, reasons, notes and router errors come from routers and
//! operators, so they are never pasted into markup, where `#`, `*`, `$`, `[`,
//! `<` or `@` would be read as code, emphasis, maths, content, labels or
//! references. Every one of them goes into the document as a typst *string
//! literal* ([`lit`]), which typst shows exactly as written. Only the fixed
//! text of this crate is written as markup.

use shareguard_detect::Level;

/// A typst string literal that reads back as exactly `s`.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Zero-width spaces in long unbroken runs (login names, MAC-like
/// identifiers, JSON), so a narrow table column wraps them instead of
/// letting them run into the next column.
pub fn breakable(s: &str) -> String {
    const RUN: usize = 14;
    let mut out = String::with_capacity(s.len() + s.len() / RUN * 3);
    let mut run = 0;
    for c in s.chars() {
        out.push(c);
        if c.is_whitespace() || c == '-' {
            run = 0;
        } else if matches!(c, '_' | '.' | '@' | '/' | ',' | ':' | '=') {
            out.push('\u{200b}');
            run = 0;
        } else {
            run += 1;
            if run >= RUN {
                out.push('\u{200b}');
                run = 0;
            }
        }
    }
    out
}

/// One cell of a [`Table`].
#[derive(Debug, Clone)]
pub enum Cell {
    /// Text as it is.
    Text(String),
    /// Text that may be long and unbroken (names, identifiers).
    Name(String),
    /// Smaller, muted text.
    Note(String),
    /// A coloured badge with a level, a step or a status name; `label`
    /// overrides the text shown.
    Badge { key: String, label: Option<String> },
    /// Several lines of small text (reasons).
    Lines(Vec<String>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }
    pub fn name(s: impl Into<String>) -> Self {
        Self::Name(s.into())
    }
    pub fn note(s: impl Into<String>) -> Self {
        Self::Note(s.into())
    }
    pub fn level(l: Level) -> Self {
        Self::Badge {
            key: l.as_str().into(),
            label: None,
        }
    }
    pub fn badge(key: &str, label: &str) -> Self {
        Self::Badge {
            key: key.into(),
            label: Some(label.into()),
        }
    }

    fn code(&self) -> String {
        match self {
            Self::Text(s) => lit(s),
            Self::Name(s) => lit(&breakable(s)),
            Self::Note(s) => format!("note({})", lit(&breakable(s))),
            Self::Badge { key, label } => match label {
                Some(l) => format!("badge({}, label: {})", lit(key), lit(l)),
                None => format!("badge({})", lit(key)),
            },
            Self::Lines(lines) => {
                let joined: Vec<String> = lines.iter().map(|l| breakable(l)).collect();
                format!("note({})", lit(&joined.join("\n")))
            }
        }
    }
}

/// Column alignment.
#[derive(Debug, Clone, Copy)]
pub enum Align {
    Left,
    Right,
    Center,
}

/// A table with a header row that repeats on every page.
#[derive(Debug, Clone)]
pub struct Table {
    /// `(header, width, alignment)`; widths in typst (`auto`, `1fr`, `22mm`).
    columns: Vec<(&'static str, &'static str, Align)>,
    /// Each row, with lines of detail printed under it across the table.
    rows: Vec<(Vec<Cell>, Vec<String>)>,
}

impl Table {
    pub fn new(columns: &[(&'static str, &'static str, Align)]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push((cells, Vec::new()));
    }

    /// A row with lines of detail (reasons) under it, spanning the whole
    /// width, so long text does not squeeze the columns.
    pub fn row_with_detail(&mut self, cells: Vec<Cell>, detail: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push((cells, detail));
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The typst code (a `data-table` call, see the preamble).
    pub fn code(&self) -> String {
        let widths: Vec<&str> = self.columns.iter().map(|c| c.1).collect();
        let aligns: Vec<&str> = self
            .columns
            .iter()
            .map(|c| match c.2 {
                Align::Left => "left",
                Align::Right => "right",
                Align::Center => "center",
            })
            .collect();
        let headers: Vec<String> = self.columns.iter().map(|c| lit(c.0)).collect();
        let detailed = self.rows.iter().any(|(_, d)| !d.is_empty());
        if detailed {
            return self.entry_code(&widths, &aligns, &headers);
        }
        // A short table stays on one page rather than leave a lone row behind.
        let keep = self.rows.len() <= 15;
        let mut out = format!(
            "{}data-table(columns: ({},), align: ({},), header: ({},),\n",
            if keep {
                "#block(breakable: false, "
            } else {
                "#"
            },
            widths.join(", "),
            aligns.join(", "),
            headers.join(", "),
        );
        for (cells, _) in &self.rows {
            out.push_str("  ");
            for cell in cells {
                out.push_str(&cell.code());
                out.push_str(", ");
            }
            out.push('\n');
        }
        out.push_str(if keep { "))\n" } else { ")\n" });
        out
    }
}

impl Table {
    /// Rows with detail lines: each row and its detail are one entry that
    /// never splits across pages (an `entry-table`, see the preamble). The
    /// columns must be fixed or `fr` widths so every entry lines up.
    fn entry_code(&self, widths: &[&str], aligns: &[&str], headers: &[String]) -> String {
        debug_assert!(
            widths.iter().all(|w| *w != "auto"),
            "entries need fixed widths"
        );
        let mut out = format!(
            "#entry-table(columns: ({},), align: ({},), header: ({},),\n",
            widths.join(", "),
            aligns.join(", "),
            headers.join(", "),
        );
        for (cells, detail) in &self.rows {
            let cells: Vec<String> = cells.iter().map(Cell::code).collect();
            let detail = if detail.is_empty() {
                "none".to_string()
            } else {
                Cell::Lines(detail.clone()).code()
            };
            out.push_str(&format!("  (({},), {detail}),\n", cells.join(", ")));
        }
        out.push_str(")\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(lit("plain"), "\"plain\"");
        assert_eq!(lit(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(lit("x\ny\u{7}"), "\"x\\ny\\u{7}\"");
        assert_eq!(
            lit("#eval(\"x\") *b* $ ] [ <l> @r // /*"),
            "\"#eval(\\\"x\\\") *b* $ ] [ <l> @r // /*\""
        );
    }

    #[test]
    fn long_runs_get_break_opportunities() {
        let s = breakable("averyveryverylongloginname_with.parts");
        assert!(s.contains('\u{200b}'));
        assert_eq!(
            s.replace('\u{200b}', ""),
            "averyveryverylongloginname_with.parts"
        );
        assert_eq!(breakable("short name"), "short name");
    }
}
