//! Charts, drawn in the backend with plotters: SVG for the desktop window and
//! the PDF reports, PNG for anything that wants pixels.
//!
//! Every chart is a pure function of a record from [`crate::model`] (or a
//! store record the app already has), a [`Theme`] and a [`Size`]; nothing
//! here reads the database. Text is measured and, for PNG, drawn with the
//! embedded font ([`crate::fonts`]), so a chart looks the same everywhere.
//! With no data a chart still draws, saying so in words, so a screen or a
//! page never shows a blank box.
//!
//! The colours are the desktop window's (`ui/src/styles.css`): the level
//! colours mean the same in a badge, a table and a chart.

use std::collections::BTreeSet;

use plotters::coord::types::{RangedCoordf64, RangedCoordu64};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use shareguard_detect::abuse::{AbuseKind, Severity};
use shareguard_detect::ttl;
use shareguard_detect::{DetectionSettings, Level};
use shareguard_store::{HistoryEntry, Offender, TrendPoint};

use crate::error::ReportError;
use crate::fonts::{self, CHART_FAMILY};
use crate::model::{level_index, Bucket, ConnectionHistogram, TtlDistribution, WarningTimeline};
use crate::text::{label, thousands};

/// Light for print and light windows, dark for dark windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

/// A chart's size in pixels (CSS pixels for SVG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Default for Size {
    fn default() -> Self {
        Self {
            width: 800,
            height: 320,
        }
    }
}

impl Size {
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }
}

/// Colours of one theme.
struct Palette {
    background: RGBColor,
    text: RGBColor,
    muted: RGBColor,
    grid: RGBColor,
    axis: RGBColor,
    accent: RGBColor,
    /// In [`Level::ALL`] order.
    levels: [RGBColor; 5],
    /// In [`AbuseKind::ALL`] order.
    kinds: [RGBColor; 5],
}

impl Palette {
    fn of(theme: Theme) -> Self {
        match theme {
            Theme::Light => Self {
                background: RGBColor(0xff, 0xff, 0xff),
                text: RGBColor(0x1d, 0x23, 0x30),
                muted: RGBColor(0x66, 0x70, 0x85),
                grid: RGBColor(0xe3, 0xe6, 0xeb),
                axis: RGBColor(0x98, 0xa2, 0xb3),
                accent: RGBColor(0x24, 0x56, 0xd6),
                levels: [
                    RGBColor(0x6b, 0x72, 0x80),
                    RGBColor(0x2f, 0x7d, 0x4f),
                    RGBColor(0xb7, 0x79, 0x1f),
                    RGBColor(0xc2, 0x41, 0x0c),
                    RGBColor(0xb9, 0x1c, 0x1c),
                ],
                kinds: [
                    RGBColor(0xc2, 0x41, 0x0c),
                    RGBColor(0xb7, 0x79, 0x1f),
                    RGBColor(0x6d, 0x28, 0xd9),
                    RGBColor(0x24, 0x56, 0xd6),
                    RGBColor(0x0f, 0x76, 0x6e),
                ],
            },
            Theme::Dark => Self {
                background: RGBColor(0x1c, 0x20, 0x27),
                text: RGBColor(0xe6, 0xe8, 0xeb),
                muted: RGBColor(0x98, 0xa2, 0xb3),
                grid: RGBColor(0x2b, 0x31, 0x3b),
                axis: RGBColor(0x4a, 0x52, 0x60),
                accent: RGBColor(0x6b, 0x93, 0xff),
                levels: [
                    RGBColor(0x9c, 0xa3, 0xaf),
                    RGBColor(0x4c, 0xae, 0x74),
                    RGBColor(0xd9, 0xa2, 0x3f),
                    RGBColor(0xee, 0x7d, 0x45),
                    RGBColor(0xef, 0x53, 0x50),
                ],
                kinds: [
                    RGBColor(0xee, 0x7d, 0x45),
                    RGBColor(0xd9, 0xa2, 0x3f),
                    RGBColor(0xa7, 0x8b, 0xfa),
                    RGBColor(0x6b, 0x93, 0xff),
                    RGBColor(0x2d, 0xd4, 0xbf),
                ],
            },
        }
    }

    fn level(&self, level: Level) -> RGBColor {
        self.levels[level_index(level)]
    }

    fn severity(&self, s: Severity) -> RGBColor {
        match s {
            Severity::Warning => self.level(Level::Medium),
            Severity::Throttle => self.level(Level::High),
            Severity::Ban => self.level(Level::Critical),
        }
    }
}

/// A chart and the data it shows.
#[derive(Debug, Clone, Copy)]
pub enum Chart<'a> {
    /// Observations per TTL, the expected values in green, lower ones (a
    /// router in between) in orange, higher ones (rewritten) in red.
    TtlDistribution(&'a TtlDistribution),
    /// Flagged, and high or critical, subscribers per scan.
    FlagTrend(&'a [TrendPoint]),
    /// Warnings opened per kind over time, stacked.
    WarningTimeline(&'a WarningTimeline),
    /// Subscribers with the most warnings, coloured by the strictest step.
    TopOffenders(&'a [Offender]),
    /// Subscribers by connection count, the sharing thresholds marked.
    Connections(&'a ConnectionHistogram),
    /// One subscriber's connections per scan, coloured by that scan's
    /// level, the thresholds marked. `history` is newest first, as the store
    /// returns it.
    ConnectionHistory {
        history: &'a [HistoryEntry],
        settings: &'a DetectionSettings,
    },
}

type Drawn = Result<(), String>;

fn fail<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn font(size: f64, color: RGBColor) -> TextStyle<'static> {
    (CHART_FAMILY, size).into_font().color(&color)
}

fn bold(size: f64, color: RGBColor) -> TextStyle<'static> {
    (CHART_FAMILY, size, FontStyle::Bold)
        .into_font()
        .color(&color)
}

impl Chart<'_> {
    /// A short name, for error messages and file names.
    pub fn name(&self) -> &'static str {
        match self {
            Self::TtlDistribution(_) => "TTL distribution",
            Self::FlagTrend(_) => "flagged per scan",
            Self::WarningTimeline(_) => "warnings over time",
            Self::TopOffenders(_) => "top offenders",
            Self::Connections(_) => "connection count",
            Self::ConnectionHistory { .. } => "connection history",
        }
    }

    /// The chart as an SVG document.
    pub fn svg(&self, theme: Theme, size: Size) -> Result<String, ReportError> {
        fonts::ensure_registered().map_err(|detail| self.error(detail))?;
        let mut out = String::new();
        {
            let root =
                SVGBackend::with_string(&mut out, (size.width, size.height)).into_drawing_area();
            self.draw(&root, &Palette::of(theme), Scale::SVG)
                .and_then(|()| root.present().map_err(fail))
                .map_err(|detail| self.error(detail))?;
        }
        Ok(out)
    }

    /// The chart as a PNG image, `scale` times the size in pixels (2 for
    /// sharp output on high-density screens and paper).
    pub fn png(&self, theme: Theme, size: Size, scale: u32) -> Result<Vec<u8>, ReportError> {
        fonts::ensure_registered().map_err(|detail| self.error(detail))?;
        let scale = scale.clamp(1, 4);
        let (w, h) = (size.width * scale, size.height * scale);
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root, &Palette::of(theme), Scale::bitmap(f64::from(scale)))
                .and_then(|()| root.present().map_err(fail))
                .map_err(|detail| self.error(detail))?;
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(|e| self.error(e.to_string()))?;
            writer
                .write_image_data(&rgb)
                .map_err(|e| self.error(e.to_string()))?;
        }
        Ok(out)
    }

    fn error(&self, detail: String) -> ReportError {
        ReportError::Chart {
            chart: self.name(),
            detail,
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        p: &Palette,
        s: Scale,
    ) -> Drawn {
        root.fill(&p.background).map_err(fail)?;
        match *self {
            Self::TtlDistribution(d) => ttl_distribution(root, p, s, d),
            Self::FlagTrend(points) => flag_trend(root, p, s, points),
            Self::WarningTimeline(t) => warning_timeline(root, p, s, t),
            Self::TopOffenders(o) => top_offenders(root, p, s, o),
            Self::Connections(h) => connections(root, p, s, h),
            Self::ConnectionHistory { history, settings } => {
                connection_history(root, p, s, history, settings)
            }
        }
    }
}

/// Sizes for one output. Plotters writes SVG text at its size divided by
/// 1.24 but draws bitmap text at the full size, and measures both at the
/// full size; this keeps text the same size in both and legends aligned.
#[derive(Clone, Copy)]
struct Scale {
    /// Pixels per chart pixel: 1 for SVG, 2 for a sharp PNG.
    px: f64,
    /// Font size per nominal size.
    text: f64,
    /// Rendered text width per measured width.
    measure: f64,
}

impl Scale {
    /// Plotters measures text with ab_glyph scaled so that ascent plus
    /// descent is the size (1.164 em for DejaVu Sans), while SVG renders it
    /// at an em of size / 1.24: the rendered width is 1.164 / 1.24 of the
    /// measured one.
    const SVG: Scale = Scale {
        px: 1.0,
        text: 1.0,
        measure: 1.164 / 1.24,
    };

    fn bitmap(px: f64) -> Self {
        Self {
            px,
            text: px / 1.24,
            measure: 1.0,
        }
    }

    /// A font size.
    fn t(self, v: f64) -> f64 {
        v * self.text
    }
    fn u(self, v: u32) -> u32 {
        (f64::from(v) * self.px).round() as u32
    }
    fn i(self, v: i32) -> i32 {
        (f64::from(v) * self.px).round() as i32
    }
}

const LABEL: f64 = 14.0;
const SMALL: f64 = 13.0;

/// A chart with nothing to show: the message in the middle.
fn empty<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    msg: &str,
) -> Drawn {
    let (w, h) = root.dim_in_pixel();
    let style = font(s.t(16.0), p.muted).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw(&Rectangle::new(
        [(s.i(1), s.i(1)), (w as i32 - s.i(2), h as i32 - s.i(2))],
        p.grid.stroke_width(s.u(1)),
    ))
    .map_err(fail)?;
    root.draw(&Text::new(
        msg.to_string(),
        (w as i32 / 2, h as i32 / 2),
        style,
    ))
    .map_err(fail)
}

/// Coloured squares with labels across the top of a chart, wrapping onto
/// more lines when the chart is narrow; returns the area below them.
/// (Plotters' own legend is a box drawn over the data.)
fn legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    entries: &[(String, RGBColor)],
) -> Result<DrawingArea<DB, Shift>, String> {
    let style = font(s.t(SMALL), p.text);
    let width = root.dim_in_pixel().0 as i32;
    let (left, line) = (s.i(12), s.i(20));
    // Place every entry first, to know how many lines the legend needs.
    let mut placed = Vec::with_capacity(entries.len());
    let (mut x, mut y) = (left, s.i(8));
    for (text, color) in entries {
        let (tw, _) = root.estimate_text_size(text, &style).map_err(fail)?;
        let tw = (f64::from(tw) * s.measure).ceil() as i32;
        if x > left && x + s.i(16) + tw > width - left {
            x = left;
            y += line;
        }
        placed.push((x, y, text, color));
        x += s.i(16) + tw + s.i(20);
    }
    let (top, rest) = root.split_vertically(y + line + s.i(4));
    for (x, y, text, color) in placed {
        top.draw(&Rectangle::new(
            [(x, y + s.i(2)), (x + s.i(11), y + s.i(13))],
            color.filled(),
        ))
        .map_err(fail)?;
        top.draw(&Text::new(
            text.clone(),
            (x + s.i(16), y + s.i(7)),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(fail)?;
    }
    Ok(rest)
}

/// Where a TTL sits against the expected values, read as the detection
/// reads it ([`shareguard_detect::ttl::classify`]), so a chart never calls a
/// value suspicious that a verdict calls normal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TtlClass {
    Expected,
    /// Closer than a device can be: the subscriber's own router (DNS, NTP).
    OwnRouter,
    /// Further away than expected: a router in between.
    Lower,
    /// No device sends it at any plausible distance: rewritten.
    Rewritten,
}

fn classify(ttl: u8, expected: &BTreeSet<u8>) -> TtlClass {
    if expected.contains(&ttl) {
        return TtlClass::Expected;
    }
    // The nearest legitimate distance among the routers in view (a hotspot's
    // 0 hops where one is mixed with PPPoE's 1).
    let hops = expected
        .iter()
        .map(|&e| ttl::family_of(e) - e)
        .min()
        .unwrap_or(1);
    match ttl::classify(ttl, hops) {
        ttl::TtlClass::Expected { .. } => TtlClass::Expected,
        ttl::TtlClass::Edge { .. } => TtlClass::OwnRouter,
        ttl::TtlClass::Lowered { .. } => TtlClass::Lower,
        ttl::TtlClass::Implausible => TtlClass::Rewritten,
    }
}

fn ttl_distribution<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    d: &TtlDistribution,
) -> Drawn {
    let entries: Vec<(u8, u64)> = d
        .counts
        .iter()
        .map(|(&t, &n)| (t, n))
        .filter(|e| e.1 > 0)
        .collect();
    if entries.is_empty() {
        return empty(root, p, s, "No TTL observations yet");
    }
    let expected_color = p.level(Level::Low);
    let own_color = p.level(Level::Normal);
    let lower_color = p.level(Level::High);
    let higher_color = p.level(Level::Critical);
    let classes: Vec<TtlClass> = entries
        .iter()
        .map(|(t, _)| classify(*t, &d.expected))
        .collect();
    let mut keys = vec![(
        format!(
            "Expected ({})",
            d.expected
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        expected_color,
    )];
    if classes.contains(&TtlClass::OwnRouter) {
        keys.push(("Their own router (DNS, NTP)".into(), own_color));
    }
    if classes.contains(&TtlClass::Lower) {
        keys.push(("Lower: another router in between".into(), lower_color));
    }
    if classes.contains(&TtlClass::Rewritten) {
        keys.push(("Rewritten: no device sends it".into(), higher_color));
    }
    let area = legend(root, p, s, &keys)?;

    let n = entries.len();
    let max = entries.iter().map(|e| e.1).max().unwrap_or(1);
    let top = max + max / 8 + 1;
    let names: Vec<String> = entries.iter().map(|e| e.0.to_string()).collect();
    let mut chart = column_axes(
        &area,
        p,
        s,
        Columns {
            labels: &names,
            top,
            x_labels: n.min(40),
            x_desc: "TTL of the first packet".into(),
            y_desc: "Observations",
            margin_right: 16,
            y_label_area: 70,
        },
    )?;
    chart
        .draw_series(
            entries
                .iter()
                .zip(&classes)
                .enumerate()
                .map(|(i, ((_, count), class))| {
                    let color = match class {
                        TtlClass::Expected => expected_color,
                        TtlClass::OwnRouter => own_color,
                        TtlClass::Lower => lower_color,
                        TtlClass::Rewritten => higher_color,
                    };
                    let (left, right) = slot(i, n);
                    Rectangle::new([(left, 0), (right, *count)], color.filled())
                }),
        )
        .map_err(fail)?;
    if n <= 24 {
        let style = font(s.t(SMALL), p.text).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(entries.iter().enumerate().map(|(i, (_, count))| {
                Text::new(thousands(*count), (i as f64, *count), style.clone())
            }))
            .map_err(fail)?;
    }
    Ok(())
}

/// Tick labels for points in time: dates, with the hour when several
/// points share a day.
fn time_labels(times: &[chrono::DateTime<chrono::Utc>]) -> Vec<String> {
    let span = match (times.first(), times.last()) {
        (Some(a), Some(b)) => (*b - *a).num_hours().abs(),
        _ => 0,
    };
    let fmt = if span < 72 { "%d %b %H:%M" } else { "%d %b" };
    times.iter().map(|t| t.format(fmt).to_string()).collect()
}

/// The axes of a column chart: one slot per label along x, counts up to
/// `top` along y, with the grid, fonts and number format every column chart
/// shares. Returns the chart to draw the columns or lines into.
struct Columns<'l> {
    labels: &'l [String],
    top: u64,
    /// At most this many x labels are written.
    x_labels: usize,
    x_desc: String,
    y_desc: &'static str,
    /// Room right of the plot (for labels drawn there) and for the y labels.
    margin_right: i32,
    y_label_area: i32,
}

type ColumnChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordu64>>;

fn column_axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    c: Columns<'_>,
) -> Result<ColumnChart<'a, DB>, String> {
    let n = c.labels.len();
    let mut chart = ChartBuilder::on(area)
        .margin(s.i(10))
        .margin_right(s.i(c.margin_right))
        .x_label_area_size(s.i(44))
        .y_label_area_size(s.i(c.y_label_area))
        .build_cartesian_2d(slots(n), 0u64..c.top)
        .map_err(fail)?;
    let x_label = |v: &f64| {
        index_at(*v, n)
            .map(|i| c.labels[i].clone())
            .unwrap_or_default()
    };
    let y_label = |v: &u64| thousands(*v);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(p.grid.stroke_width(s.u(1)))
        .axis_style(p.axis.stroke_width(s.u(1)))
        .x_labels(c.x_labels)
        .y_labels(6)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(font(s.t(LABEL), p.muted))
        .axis_desc_style(font(s.t(LABEL), p.text))
        .x_desc(c.x_desc)
        .y_desc(c.y_desc)
        .draw()
        .map_err(fail)?;
    Ok(chart)
}

/// An axis with one slot per item, items at 0, 1, 2, ...
fn slots(n: usize) -> std::ops::Range<f64> {
    -0.5..(n.max(1) as f64 - 0.5)
}

/// The extent of item `i`'s bar in its slot: wide bars for a few items,
/// thin gaps for many.
fn slot(i: usize, n: usize) -> (f64, f64) {
    let half = if n > 24 { 0.45 } else { 0.38 };
    (i as f64 - half, i as f64 + half)
}

/// The index of a tick on an evenly spaced axis, if it falls on a point.
fn index_at(v: f64, len: usize) -> Option<usize> {
    let r = v.round();
    ((v - r).abs() < 1e-6 && r >= 0.0 && (r as usize) < len).then_some(r as usize)
}

fn flag_trend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    points: &[TrendPoint],
) -> Drawn {
    if points.is_empty() {
        return empty(root, p, s, "No scans yet");
    }
    let flagged_color = p.level(Level::Medium);
    let high_color = p.level(Level::Critical);
    let area = legend(
        root,
        p,
        s,
        &[
            (
                "Flagged (medium and above, not whitelisted)".into(),
                flagged_color,
            ),
            ("High or critical".into(), high_color),
        ],
    )?;
    let n = points.len();
    let max = points
        .iter()
        .map(|t| u64::from(t.flagged))
        .max()
        .unwrap_or(0);
    let top = (max + max / 8 + 1).max(4);
    let labels = time_labels(&points.iter().map(|t| t.at).collect::<Vec<_>>());
    let mut chart = column_axes(
        &area,
        p,
        s,
        Columns {
            labels: &labels,
            top,
            x_labels: n.min(7),
            x_desc: "Scan".into(),
            y_desc: "Subscribers",
            margin_right: 24,
            y_label_area: 64,
        },
    )?;
    let series = |f: fn(&TrendPoint) -> u32| -> Vec<(f64, u64)> {
        points
            .iter()
            .enumerate()
            .map(|(i, t)| (i as f64, u64::from(f(t))))
            .collect()
    };
    for (data, color, fill) in [
        (series(|t| t.flagged), flagged_color, true),
        (series(|t| t.high), high_color, false),
    ] {
        if fill && n > 1 {
            chart
                .draw_series(AreaSeries::new(data.clone(), 0, color.mix(0.15)))
                .map_err(fail)?;
        }
        chart
            .draw_series(LineSeries::new(data.clone(), color.stroke_width(s.u(2))))
            .map_err(fail)?;
        chart
            .draw_series(
                data.iter()
                    .map(|&pt| Circle::new(pt, s.i(3), color.filled())),
            )
            .map_err(fail)?;
    }
    Ok(())
}

fn bucket_labels(t: &WarningTimeline) -> Vec<String> {
    let fmt = match t.bucket {
        Bucket::Hour => "%d %b %H:00",
        Bucket::Day => "%d %b",
        Bucket::Week => "wk %d %b",
    };
    t.points
        .iter()
        .map(|p| p.0.format(fmt).to_string())
        .collect()
}

fn warning_timeline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    t: &WarningTimeline,
) -> Drawn {
    if t.total() == 0 {
        return empty(root, p, s, "No warnings in this period");
    }
    let keys: Vec<(String, RGBColor)> = AbuseKind::ALL
        .iter()
        .zip(p.kinds)
        .map(|(k, c)| (k.label().to_string(), c))
        .collect();
    let area = legend(root, p, s, &keys)?;
    let n = t.points.len();
    let max = t
        .points
        .iter()
        .map(|pt| pt.1.iter().map(|&c| u64::from(c)).sum::<u64>())
        .max()
        .unwrap_or(0);
    let top = (max + max / 8 + 1).max(4);
    let labels = bucket_labels(t);
    let mut chart = column_axes(
        &area,
        p,
        s,
        Columns {
            labels: &labels,
            top,
            x_labels: n.min(8),
            x_desc: format!("Warnings opened per {}", t.bucket.as_str()),
            y_desc: "Warnings",
            margin_right: 16,
            y_label_area: 64,
        },
    )?;
    for (k, color) in p.kinds.iter().enumerate() {
        chart
            .draw_series(
                t.points
                    .iter()
                    .enumerate()
                    .filter(|(_, pt)| pt.1[k] > 0)
                    .map(|(i, pt)| {
                        let below: u64 = pt.1[..k].iter().map(|&c| u64::from(c)).sum();
                        let (left, right) = slot(i, n);
                        Rectangle::new(
                            [(left, below), (right, below + u64::from(pt.1[k]))],
                            color.filled(),
                        )
                    }),
            )
            .map_err(fail)?;
    }
    Ok(())
}

fn top_offenders<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    offenders: &[Offender],
) -> Drawn {
    if offenders.is_empty() {
        return empty(root, p, s, "No warnings in this period");
    }
    let mut severities: Vec<Severity> = offenders.iter().map(|o| o.worst).collect();
    severities.sort();
    severities.dedup();
    let keys: Vec<(String, RGBColor)> = severities
        .iter()
        .map(|&sev| {
            let name = match sev {
                Severity::Warning => "Strictest step: warning",
                Severity::Throttle => "Strictest step: throttle",
                Severity::Ban => "Strictest step: ban",
            };
            (name.to_string(), p.severity(sev))
        })
        .collect();
    let area = legend(root, p, s, &keys)?;
    let n = offenders.len();
    let names: Vec<String> = offenders.iter().map(|o| label(&o.subscriber, 26)).collect();
    let longest = names.iter().map(|l| l.chars().count()).max().unwrap_or(4) as i32;
    let max = offenders
        .iter()
        .map(|o| u64::from(o.warnings))
        .max()
        .unwrap_or(1);
    let right = max + max / 6 + 1;
    let mut chart = ChartBuilder::on(&area)
        .margin(s.i(10))
        .margin_right(s.i(20))
        .x_label_area_size(s.i(40))
        .y_label_area_size(s.i((longest * 8 + 20).clamp(60, 240)))
        .build_cartesian_2d(0u64..right, slots(n))
        .map_err(fail)?;
    // The first offender at the top.
    let y_label = |v: &f64| {
        index_at(*v, n)
            .map(|i| names[n - 1 - i].clone())
            .unwrap_or_default()
    };
    let x_label = |v: &u64| thousands(*v);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(p.grid.stroke_width(s.u(1)))
        .axis_style(p.axis.stroke_width(s.u(1)))
        .y_labels(offenders.len())
        .x_labels(6)
        .y_label_formatter(&y_label)
        .x_label_formatter(&x_label)
        .label_style(font(s.t(LABEL), p.muted))
        .axis_desc_style(font(s.t(LABEL), p.text))
        .x_desc("Warnings opened")
        .draw()
        .map_err(fail)?;
    chart
        .draw_series(offenders.iter().enumerate().map(|(i, o)| {
            let (bottom, top) = slot(n - 1 - i, n);
            Rectangle::new(
                [(0, bottom), (u64::from(o.warnings), top)],
                p.severity(o.worst).filled(),
            )
        }))
        .map_err(fail)?;
    let style = font(s.t(SMALL), p.text).pos(Pos::new(HPos::Left, VPos::Center));
    let (bx, by) = area.get_base_pixel();
    for (i, o) in offenders.iter().enumerate() {
        // SVG drops leading spaces, so the gap after the bar is in pixels.
        let (x, y) = chart.backend_coord(&(u64::from(o.warnings), (n - 1 - i) as f64));
        area.draw(&Text::new(
            thousands(u64::from(o.warnings)),
            (x - bx + s.i(4), y - by),
            style.clone(),
        ))
        .map_err(fail)?;
    }
    Ok(())
}

/// 1, 2 or 5 times a power of ten, at least `v`.
fn nice_step(v: f64) -> u32 {
    let v = v.max(1.0);
    let exp = v.log10().floor();
    let base = 10f64.powf(exp);
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * base)
        .find(|s| *s >= v)
        .unwrap_or(10.0 * base);
    step.min(f64::from(u32::MAX)) as u32
}

fn connections<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    h: &ConnectionHistogram,
) -> Drawn {
    if h.connections.is_empty() {
        return empty(root, p, s, "No subscribers checked yet");
    }
    let max_seen = h.connections.iter().copied().max().unwrap_or(0);
    // Wide enough to show every threshold, narrow enough that a handful of
    // extreme subscribers does not squash everyone else into one bar; the
    // last bar holds everything beyond the axis.
    let span = f64::from(max_seen.min(h.high.saturating_mul(3))).max(f64::from(h.high) * 1.25);
    let step = nice_step(span / 40.0);
    let buckets = (span / f64::from(step)).ceil() as u32 + 1;
    let right = buckets * step;
    let mut counts = vec![0u64; buckets as usize];
    for &c in &h.connections {
        let i = (c / step).min(buckets - 1);
        counts[i as usize] += 1;
    }
    let band = |start: u32| {
        if start >= h.high {
            p.level(Level::High)
        } else if start >= h.medium {
            p.level(Level::Medium)
        } else if start >= h.low {
            p.level(Level::Low)
        } else {
            p.accent
        }
    };
    let below = h.connections.len() - h.at_or_above(h.low);
    let keys = vec![
        (
            format!(
                "Below {}: {}",
                thousands(h.low.into()),
                thousands(below as u64)
            ),
            p.accent,
        ),
        (
            format!(
                "{}+ (low): {}",
                thousands(h.low.into()),
                thousands((h.at_or_above(h.low) - h.at_or_above(h.medium)) as u64)
            ),
            p.level(Level::Low),
        ),
        (
            format!(
                "{}+ (medium): {}",
                thousands(h.medium.into()),
                thousands((h.at_or_above(h.medium) - h.at_or_above(h.high)) as u64)
            ),
            p.level(Level::Medium),
        ),
        (
            format!(
                "{}+ (high): {}",
                thousands(h.high.into()),
                thousands(h.at_or_above(h.high) as u64)
            ),
            p.level(Level::High),
        ),
    ];
    let area = legend(root, p, s, &keys)?;
    let max = counts.iter().copied().max().unwrap_or(1);
    let top = max + max / 6 + 1;
    let mut chart = ChartBuilder::on(&area)
        .margin(s.i(10))
        .margin_right(s.i(20))
        .x_label_area_size(s.i(44))
        .y_label_area_size(s.i(70))
        .build_cartesian_2d(0u32..right, 0u64..top)
        .map_err(fail)?;
    let x_label = |v: &u32| {
        if *v >= right {
            String::new()
        } else {
            thousands(u64::from(*v))
        }
    };
    let y_label = |v: &u64| thousands(*v);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(p.grid.stroke_width(s.u(1)))
        .axis_style(p.axis.stroke_width(s.u(1)))
        .x_labels(10)
        .y_labels(6)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(font(s.t(LABEL), p.muted))
        .axis_desc_style(font(s.t(LABEL), p.text))
        .x_desc(format!(
            "Connections per subscriber (bars of {}; the last holds {} and more)",
            thousands(step.into()),
            thousands(u64::from((buckets - 1) * step))
        ))
        .y_desc("Subscribers")
        .draw()
        .map_err(fail)?;
    chart
        .draw_series(
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, c)| {
                    let start = i as u32 * step;
                    let mut bar =
                        Rectangle::new([(start, 0), (start + step, *c)], band(start).filled());
                    bar.set_margin(0, 0, s.u(1), s.u(1));
                    bar
                }),
        )
        .map_err(fail)?;
    for (t, level, name) in [
        (h.low, Level::Low, "low"),
        (h.medium, Level::Medium, "medium"),
        (h.high, Level::High, "high"),
    ] {
        if t >= right {
            continue;
        }
        let color = p.level(level);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t, 0), (t, top)],
                color.stroke_width(s.u(2)),
            )))
            .map_err(fail)?;
        // SVG drops leading spaces, so the gap to the line is in pixels.
        let (x, y) = chart.backend_coord(&(t, top));
        let (dx, dy) = area.get_base_pixel();
        area.draw(&Text::new(
            format!("{} {name}", thousands(t.into())),
            (x - dx + s.i(4), y - dy + s.i(2)),
            bold(s.t(SMALL), color).pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(fail)?;
    }
    Ok(())
}

fn connection_history<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Palette,
    s: Scale,
    history: &[HistoryEntry],
    settings: &DetectionSettings,
) -> Drawn {
    if history.is_empty() {
        return empty(root, p, s, "No scans of this subscriber yet");
    }
    let points: Vec<&HistoryEntry> = history.iter().rev().collect();
    let mut seen: Vec<Level> = points.iter().map(|e| e.level).collect();
    seen.sort();
    seen.dedup();
    let keys: Vec<(String, RGBColor)> = seen
        .iter()
        .map(|&l| (format!("Level {}", l.as_str()), p.level(l)))
        .collect();
    let area = legend(root, p, s, &keys)?;
    let n = points.len();
    let max = points.iter().map(|e| e.connections).max().unwrap_or(0);
    let top = u64::from(max.max(settings.connections_high)) * 9 / 8 + 1;
    let labels = time_labels(&points.iter().map(|e| e.scanned_at).collect::<Vec<_>>());
    let mut chart = column_axes(
        &area,
        p,
        s,
        Columns {
            labels: &labels,
            top,
            x_labels: n.min(7),
            x_desc: "Scan".into(),
            y_desc: "Connections",
            margin_right: 90,
            y_label_area: 70,
        },
    )?;
    for (t, level, name) in [
        (settings.connections_low, Level::Low, "low"),
        (settings.connections_medium, Level::Medium, "medium"),
        (settings.connections_high, Level::High, "high"),
    ] {
        let color = p.level(level);
        let y = u64::from(t);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, y), (n as f64 - 0.5, y)],
                color.mix(0.7).stroke_width(s.u(1)),
            )))
            .map_err(fail)?;
        // In the right margin, where no point can sit on it.
        let (x, py) = chart.backend_coord(&(n as f64 - 0.5, y));
        let (bx, by) = area.get_base_pixel();
        area.draw(&Text::new(
            format!("{} {name}", thousands(y)),
            (x - bx + s.i(6), py - by),
            font(s.t(SMALL), color).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(fail)?;
    }
    let data: Vec<(f64, u64)> = points
        .iter()
        .enumerate()
        .map(|(i, e)| (i as f64, u64::from(e.connections)))
        .collect();
    chart
        .draw_series(LineSeries::new(data.clone(), p.muted.stroke_width(s.u(2))))
        .map_err(fail)?;
    chart
        .draw_series(
            data.iter()
                .zip(&points)
                .map(|(&pt, e)| Circle::new(pt, s.i(5), p.level(e.level).filled())),
        )
        .map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_read_against_their_family() {
        let pppoe: BTreeSet<u8> = [63, 127].into();
        assert!(classify(63, &pppoe) == TtlClass::Expected);
        assert!(classify(62, &pppoe) == TtlClass::Lower);
        assert!(classify(64, &pppoe) == TtlClass::OwnRouter);
        assert!(classify(100, &pppoe) == TtlClass::Rewritten);
        assert!(classify(126, &pppoe) == TtlClass::Lower);
        assert!(classify(128, &pppoe) == TtlClass::OwnRouter);
        let both: BTreeSet<u8> = [63, 64, 127, 128].into();
        assert!(classify(64, &both) == TtlClass::Expected);
        assert!(
            classify(65, &both) == TtlClass::Rewritten,
            "65 is 63 hops from Windows' 128: no real network"
        );
        assert!(classify(62, &both) == TtlClass::Lower);
    }

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(nice_step(0.3), 1);
        assert_eq!(nice_step(23.0), 50);
        assert_eq!(nice_step(18.0), 20);
        assert_eq!(nice_step(100.0), 100);
    }
}
