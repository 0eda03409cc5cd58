//! PDF reports, laid out by typst.
//!
//! Each report is typst source built here from a record of
//! [`crate::model`] (see [`markup`] for how data is escaped), plus its charts
//! as SVG files handed to typst from memory. Typst sees only the embedded
//! font and these in-memory files: no system font, no file system, no
//! network. The result is an A4 document with a running header (product,
//! report and scope), page numbers ("Page 2 of 7") and tables whose header
//! row repeats on every page.

mod abuse;
pub mod markup;
mod scan;
mod subscriber;

use chrono::{DateTime, Datelike, Timelike, Utc};
use typst::diag::{Severity, SourceDiagnostic};
use typst::syntax::{DiagSpanKind, Source};
use typst_as_lib::{TypstAsLibError, TypstEngine};
use typst_layout::PagedDocument;

use crate::charts::{Chart, Size, Theme};
use crate::error::ReportError;
use crate::fonts;
use crate::text::when;
use markup::{lit, Table};

pub use abuse::abuse_pdf;
pub use scan::scan_pdf;
pub use subscriber::subscriber_pdf;

/// A laid-out PDF.
#[derive(Debug, Clone)]
pub struct Pdf {
    pub bytes: Vec<u8>,
    pub pages: usize,
}

/// Charts across the page: wide enough for their labels to print at about
/// 7 pt on A4.
const FULL: Size = Size {
    width: 720,
    height: 290,
};
/// Charts in a two-column grid.
const HALF: Size = Size {
    width: 430,
    height: 270,
};

/// Definitions every report shares: colours, badges, figure cards and the
/// table style. Fixed text of this crate; no data is interpolated here.
const PREAMBLE: &str = r##"
#let ink = rgb("#1d2330")
#let muted = rgb("#667085")
#let rule = rgb("#e3e6eb")
#let head-fill = rgb("#eef1f5")
#let stripe = rgb("#f8f9fb")
#let colours = (
  normal: rgb("#6b7280"), low: rgb("#2f7d4f"), medium: rgb("#b7791f"),
  high: rgb("#c2410c"), critical: rgb("#b91c1c"),
  warning: rgb("#b7791f"), throttle: rgb("#c2410c"), ban: rgb("#b91c1c"),
  ok: rgb("#2f7d4f"), failed: rgb("#b91c1c"), timed_out: rgb("#c2410c"),
  cancelled: rgb("#6b7280"), running: rgb("#6b7280"), completed: rgb("#2f7d4f"),
  partial: rgb("#b7791f"), done: rgb("#2f7d4f"), dry_run: rgb("#6b7280"),
  skipped: rgb("#6b7280"), recommended: rgb("#b7791f"), "none": rgb("#9ca3af"),
)
#let badge(key, label: none) = box(
  fill: colours.at(key, default: muted), inset: (x: 3.5pt, y: 0pt), outset: (y: 2pt), radius: 2pt,
  text(fill: white, size: 7pt, weight: "bold", if label == none { key.replace("_", " ") } else { label }),
)
#let note(body) = text(size: 7.5pt, fill: muted, body)
#let cards(..items) = grid(
  columns: (1fr,) * items.pos().len(), column-gutter: 6pt,
  ..items.pos().map(it => block(width: 100%, inset: (x: 9pt, y: 8pt), radius: 3pt, stroke: 0.6pt + rule, {
    text(size: if it.at(0).len() > 10 { 12pt } else { 15pt }, weight: "bold", fill: it.at(2, default: ink), it.at(0))
    linebreak()
    text(size: 7.5pt, fill: muted, it.at(1))
  })),
)
#let callout(body) = block(width: 100%, inset: 10pt, radius: 3pt, fill: stripe, stroke: (left: 2.5pt + muted), text(size: 9pt, body))
#let data-table(columns: auto, align: auto, header: (), ..cells) = table(
  columns: columns, align: align, stroke: none, inset: (x: 4pt, y: 3.6pt),
  fill: (_, y) => if y == 0 { head-fill } else if calc.even(y) { stripe },
  table.header(..header.map(h => text(size: 7.5pt, weight: "bold", fill: muted, h))),
  ..cells,
  table.hline(stroke: 0.6pt + rule),
)
#let entry-grid(columns, align, cells, detail: none) = grid(
  columns: columns, align: align, column-gutter: 8pt, row-gutter: 4pt,
  ..cells,
  ..if detail != none { (grid.cell(colspan: columns.len(), align: left, detail),) } else { () },
)
#let entry-table(columns: (), align: (), header: (), ..entries) = table(
  columns: (1fr,), stroke: none, inset: (x: 4pt, y: 4pt),
  fill: (_, y) => if y == 0 { head-fill },
  table.header(entry-grid(columns, align, header.map(h => text(size: 7.5pt, weight: "bold", fill: muted, h)))),
  ..entries.pos().map(e => (
    block(breakable: false, width: 100%, entry-grid(columns, align, e.at(0), detail: e.at(1))),
    table.hline(stroke: 0.4pt + rule),
  )).flatten(),
)
#let chart(path, width: 100%) = align(center, image(path, width: width))
#let caption(body) = block(above: 3pt, below: 10pt, note(body))
"##;

/// A report document being written: typst source plus the chart files it
/// refers to.
pub(crate) struct Doc {
    src: String,
    files: Vec<(String, Vec<u8>)>,
}

impl Doc {
    /// Starts a document: page setup, running header and footer, and the
    /// title block. `scope` says what the report covers (a scan, a range, a
    /// subscriber).
    pub fn new(title: &str, scope: &str, generated_at: DateTime<Utc>) -> Self {
        let mut src = String::with_capacity(64 * 1024);
        src.push_str(PREAMBLE);
        src.push_str(&format!(
            "#let report-title = {}\n#let report-scope = {}\n#let generated = {}\n",
            lit(title),
            lit(scope),
            lit(&when(&generated_at)),
        ));
        src.push_str(&format!(
            "#set document(title: report-title, author: \"ShareGuard\", \
             date: datetime(year: {}, month: {}, day: {}, hour: {}, minute: {}, second: {}))\n",
            generated_at.year(),
            generated_at.month(),
            generated_at.day(),
            generated_at.hour(),
            generated_at.minute(),
            generated_at.second(),
        ));
        src.push_str(&format!(
            r##"#set text(font: {font}, size: 8.5pt, lang: "en", fill: ink)
#set par(leading: 0.55em, spacing: 0.85em)
#set page(
  paper: "a4",
  margin: (x: 16mm, top: 21mm, bottom: 17mm),
  header: {{
    set text(size: 7.5pt, fill: muted)
    grid(columns: (1fr, auto), [*ShareGuard* #h(3pt) #report-title], report-scope)
    v(-3pt)
    line(length: 100%, stroke: 0.5pt + rule)
  }},
  footer: context {{
    set text(size: 7.5pt, fill: muted)
    grid(
      columns: (1fr, auto),
      [Generated #generated],
      [Page #counter(page).display() of #counter(page).final().first()],
    )
  }},
)
#show heading.where(level: 1): it => block(above: 15pt, below: 7pt, sticky: true, text(size: 11.5pt, weight: "bold", it.body))
#show heading.where(level: 2): it => block(above: 11pt, below: 5pt, sticky: true, text(size: 9.5pt, weight: "bold", it.body))
#block(below: 12pt, {{
  text(size: 19pt, weight: "bold", report-title)
  linebreak()
  v(2pt)
  text(size: 9.5pt, fill: muted, report-scope)
}})
"##,
            font = lit(fonts::TYPST_FAMILY),
        ));
        Self {
            src,
            files: Vec::new(),
        }
    }

    /// A heading (fixed text of this crate).
    pub fn heading(&mut self, level: u8, text: &str) {
        self.src
            .push_str(&format!("#heading(level: {level}, {})\n", lit(text)));
    }

    /// A paragraph of text.
    pub fn para(&mut self, text: &str) {
        self.src.push_str(&format!("#par({})\n", lit(text)));
    }

    /// A small muted line under a chart or a table.
    pub fn caption(&mut self, text: &str) {
        self.src.push_str(&format!("#caption({})\n", lit(text)));
    }

    /// A boxed sentence that stands out (no data, omitted rows).
    pub fn callout(&mut self, text: &str) {
        self.src.push_str(&format!("#callout({})\n", lit(text)));
    }

    /// A row of key figures: `(figure, what it counts, colour key)`.
    pub fn cards(&mut self, items: &[(String, String, Option<&str>)]) {
        let items: Vec<String> = items
            .iter()
            .map(|(v, l, c)| match c {
                Some(c) => format!("({}, {}, colours.at({}))", lit(v), lit(l), lit(c)),
                None => format!("({}, {})", lit(v), lit(l)),
            })
            .collect();
        self.src
            .push_str(&format!("#cards({})\n#v(4pt)\n", items.join(", ")));
    }

    pub fn table(&mut self, t: &Table) {
        self.src.push_str(&t.code());
    }

    /// A chart across the page.
    pub fn chart(&mut self, chart: Chart<'_>) -> Result<(), ReportError> {
        let path = self.add_chart(chart, FULL)?;
        self.src.push_str(&format!("#chart({})\n", lit(&path)));
        Ok(())
    }

    /// Small charts two by two, each under its title.
    pub fn chart_grid(&mut self, charts: &[(String, Chart<'_>)]) -> Result<(), ReportError> {
        let mut cells = Vec::new();
        for (title, chart) in charts {
            let path = self.add_chart(*chart, HALF)?;
            cells.push(format!(
                "block(breakable: false, {{ text(weight: \"bold\", {}); v(2pt); image({}, width: 100%) }})",
                lit(title),
                lit(&path)
            ));
        }
        self.src.push_str(&format!(
            "#grid(columns: (1fr, 1fr), column-gutter: 10pt, row-gutter: 10pt, {})\n",
            cells.join(", ")
        ));
        Ok(())
    }

    fn add_chart(&mut self, chart: Chart<'_>, size: Size) -> Result<String, ReportError> {
        let svg = chart.svg(Theme::Light, size)?;
        let path = format!("/chart-{}.svg", self.files.len());
        self.files.push((path.clone(), svg.into_bytes()));
        Ok(path)
    }

    /// The typst source so far, for tests.
    #[cfg(test)]
    pub fn source(&self) -> &str {
        &self.src
    }

    /// Lays the document out and writes the PDF.
    pub fn render(self) -> Result<Pdf, ReportError> {
        let source = Source::detached(self.src);
        let engine = TypstEngine::builder()
            .main_file(source.clone())
            .fonts([fonts::REGULAR, fonts::BOLD])
            .with_static_file_resolver(
                self.files
                    .iter()
                    .map(|(path, bytes)| (path.as_str(), bytes.clone())),
            )
            .build();
        let warned = engine.compile::<PagedDocument>();
        let doc = warned.output.map_err(|e| match e {
            TypstAsLibError::TypstSource(diagnostics) => {
                ReportError::Pdf(explain(&source, &diagnostics))
            }
            other => ReportError::Pdf(other.to_string()),
        })?;
        let bytes = typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
            .map_err(|errors| ReportError::Pdf(explain(&source, &errors)))?;
        Ok(Pdf {
            pages: doc.pages().len(),
            bytes,
        })
    }
}

/// Typst's complaints with the source line each points at, for a bug report.
fn explain(source: &Source, diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let range = match d.span.get() {
                DiagSpanKind::Number { num, sub_range, .. } => source.range(num, sub_range),
                DiagSpanKind::Range { range, .. } => Some(range),
                DiagSpanKind::Detached => None,
            };
            let line = range
                .and_then(|r| {
                    let text = source.text();
                    let start = text[..r.start].rfind('\n').map_or(0, |i| i + 1);
                    let end = text[r.start..]
                        .find('\n')
                        .map_or(text.len(), |i| r.start + i);
                    text.get(start..end)
                })
                .map(|l| format!(" in `{}`", l.trim().chars().take(160).collect::<String>()))
                .unwrap_or_default();
            format!("{}{line}", d.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the monitor did about a warning, in words.
pub(crate) fn warning_action(action: &str, note: Option<&str>) -> String {
    let done = match action {
        "none" => "no action recorded",
        "recommended" => "action recommended (automatic actions are off)",
        "done" => "acted on",
        "dry_run" => "dry run: would have acted",
        "skipped" => "not acted on",
        "failed" => "action failed",
        other => other,
    };
    match note {
        Some(n) if !n.is_empty() => format!("{done}: {n}"),
        _ => done.to_string(),
    }
}

/// A count and its share of a total: `3,120 (10.4%)`.
pub(crate) fn with_share(n: u64, total: u64) -> String {
    if total == 0 {
        return crate::text::thousands(n);
    }
    format!(
        "{} ({:.1}%)",
        crate::text::thousands(n),
        n as f64 * 100.0 / total as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_never_becomes_markup() {
        let hostile = "#eval(\"panic()\") *b* $x$ ] [ \\ <l> @r";
        let mut doc = Doc::new(hostile, hostile, Utc::now());
        doc.para(hostile);
        doc.caption(hostile);
        let mut t = Table::new(&[("A", "1fr", markup::Align::Left)]);
        t.row(vec![markup::Cell::name(hostile)]);
        doc.table(&t);
        // Only ever inside string literals.
        assert!(!doc.source().contains(&format!("[{hostile}")));
        assert!(doc.source().contains(&lit(hostile)));
        let pdf = doc.render().unwrap();
        assert_eq!(pdf.pages, 1);
        assert!(pdf.bytes.starts_with(b"%PDF-"));
    }
}
