//! Every chart, in both themes, as the desktop window and the reports get
//! it: well-formed SVG with the data in it, and PNG of the asked size.

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use shareguard_detect::abuse::{AbuseKind, Severity};
use shareguard_detect::{DetectionSettings, Level, TtlStatus};
use shareguard_report::charts::{Chart, Size, Theme};
use shareguard_report::model::{ConnectionHistogram, TtlDistribution, WarningTimeline};
use shareguard_store::{HistoryEntry, Offender, TrendPoint};

struct Data {
    ttl: TtlDistribution,
    trend: Vec<TrendPoint>,
    timeline: WarningTimeline,
    offenders: Vec<Offender>,
    connections: ConnectionHistogram,
    history: Vec<HistoryEntry>,
    settings: DetectionSettings,
}

fn data() -> Data {
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 2, 0, 0).unwrap();
    let mut timeline = WarningTimeline::new(t0, t0 + Duration::days(10));
    for i in 0..400 {
        timeline.add(
            t0 + Duration::minutes(i * 31),
            AbuseKind::ALL[(i % 5) as usize],
        );
    }
    let settings = DetectionSettings::default();
    let mut connections = ConnectionHistogram::new(&settings);
    connections.connections = (0..5000u32)
        .map(|i| (i * 7919) % 260 + (i % 97) * 9)
        .collect();
    Data {
        ttl: TtlDistribution {
            counts: [
                (61, 40),
                (62, 1_200),
                (63, 23_000),
                (64, 310),
                (100, 12),
                (127, 9_000),
            ]
            .into(),
            expected: [63, 127].into(),
        },
        trend: (0..12)
            .map(|i| TrendPoint {
                scan_id: i,
                at: t0 + Duration::days(i),
                checked: 5000,
                flagged: 600 + (i as u32 * 37) % 90,
                high: 120 + (i as u32 * 13) % 40,
            })
            .collect(),
        timeline,
        offenders: (0..10)
            .map(|i| Offender {
                subscriber: format!("sub-{i:05} <&> \"q\" \u{1}"),
                nas: "nas-01".into(),
                warnings: 40 - i * 3,
                worst: [Severity::Warning, Severity::Throttle, Severity::Ban][(i % 3) as usize],
            })
            .collect(),
        connections,
        history: (0..8)
            .map(|i| HistoryEntry {
                scan_id: 8 - i,
                subscriber: "sub-00001".into(),
                nas: "nas-01".into(),
                scanned_at: t0 + Duration::days(8 - i),
                level: Level::ALL[(i % 5) as usize],
                ttl_status: TtlStatus::RouterDetected,
                whitelisted: false,
                connections: 200 + i as u32 * 90,
                p2p_connections: 3,
                ttl_values: vec![62, 63],
                reasons: vec![],
            })
            .collect(),
        settings,
    }
}

fn all<'a>(d: &'a Data) -> Vec<Chart<'a>> {
    vec![
        Chart::TtlDistribution(&d.ttl),
        Chart::FlagTrend(&d.trend),
        Chart::WarningTimeline(&d.timeline),
        Chart::TopOffenders(&d.offenders),
        Chart::Connections(&d.connections),
        Chart::ConnectionHistory {
            history: &d.history,
            settings: &d.settings,
        },
    ]
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

/// Where the charts are left for a person to look at
/// (`target/report-pages/charts/` under the build directory).
fn keep_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("report-pages").join("charts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_chart_is_well_formed_svg_in_both_themes() {
    let d = data();
    let keep = keep_dir();
    for theme in [Theme::Light, Theme::Dark] {
        for chart in all(&d) {
            let svg = chart.svg(theme, Size::default()).unwrap();
            let name = format!("{}-{theme:?}.svg", chart.name().replace(' ', "-"));
            std::fs::write(keep.join(name.to_lowercase()), &svg).unwrap();
            let doc = roxmltree::Document::parse(&svg)
                .unwrap_or_else(|e| panic!("{} ({theme:?}): {e}", chart.name()));
            let root = doc.root_element();
            assert_eq!(root.attribute("width"), Some("800"));
            assert_eq!(root.attribute("height"), Some("320"));
            let background = match theme {
                Theme::Light => "#FFFFFF",
                Theme::Dark => "#1C2027",
            };
            assert!(
                svg.contains(&format!("fill=\"{background}\"")),
                "{} {theme:?} background",
                chart.name()
            );
            // Text is left to the window's sans-serif (typst maps it to the embedded font).
            assert!(svg.contains("font-family=\"sans-serif\""));
            assert!(texts(&svg).len() > 5, "{} has labels", chart.name());
        }
    }
}

#[test]
fn the_ttl_chart_marks_the_expected_values_and_labels_every_ttl() {
    let d = data();
    let svg = Chart::TtlDistribution(&d.ttl)
        .svg(Theme::Light, Size::default())
        .unwrap();
    let t = texts(&svg);
    for ttl in ["61", "62", "63", "64", "100", "127"] {
        assert!(t.iter().any(|x| x == ttl), "TTL {ttl} labelled: {t:?}");
    }
    assert!(t.iter().any(|x| x == "23,000"), "counts on the bars");
    assert!(t.iter().any(|x| x == "Expected (63, 127)"));
    assert!(t.iter().any(|x| x.starts_with("Lower")));
    // Read as the verdicts read them: 64 on PPPoE is the subscriber's own
    // router, 100 is sent by no device.
    assert!(
        t.iter().any(|x| x == "Their own router (DNS, NTP)"),
        "{t:?}"
    );
    assert!(t.iter().any(|x| x.starts_with("Rewritten")), "{t:?}");
    // The expected bars are green, the others are not.
    assert!(svg.contains("#2F7D4F"));
    assert!(svg.contains("#C2410C"));
}

#[test]
fn the_connection_chart_marks_the_thresholds_with_their_counts() {
    let d = data();
    let svg = Chart::Connections(&d.connections)
        .svg(Theme::Dark, Size::default())
        .unwrap();
    let t = texts(&svg);
    for label in ["300 low", "500 medium", "800 high"] {
        assert!(t.iter().any(|x| x == label), "{label}: {t:?}");
    }
    let above = d.connections.at_or_above(800);
    let above = shareguard_report::text::thousands(above as u64);
    assert!(
        t.iter().any(|x| x == &format!("800+ (high): {above}")),
        "{t:?}"
    );
}

#[test]
fn names_are_escaped_and_cleaned_in_svg() {
    let d = data();
    let svg = Chart::TopOffenders(&d.offenders)
        .svg(Theme::Light, Size::default())
        .unwrap();
    let t = texts(&svg);
    assert!(t.iter().any(|x| x == "sub-00000 <&> \"q\""), "{t:?}");
    assert!(!svg.contains('\u{1}'), "control characters are dropped");
}

#[test]
fn charts_without_data_say_so() {
    let s = DetectionSettings::default();
    let no_ttl = TtlDistribution::default();
    let cases: Vec<(Chart<'_>, &str)> = vec![
        (Chart::TtlDistribution(&no_ttl), "No TTL observations yet"),
        (Chart::FlagTrend(&[]), "No scans yet"),
        (Chart::TopOffenders(&[]), "No warnings in this period"),
        (
            Chart::ConnectionHistory {
                history: &[],
                settings: &s,
            },
            "No scans of this subscriber yet",
        ),
    ];
    for (chart, words) in cases {
        let svg = chart.svg(Theme::Dark, Size::new(400, 200)).unwrap();
        assert_eq!(texts(&svg), [words]);
    }
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let empty = WarningTimeline::new(t0, t0 + Duration::days(1));
    assert_eq!(
        texts(
            &Chart::WarningTimeline(&empty)
                .svg(Theme::Light, Size::default())
                .unwrap()
        ),
        ["No warnings in this period"]
    );
}

#[test]
fn png_charts_have_the_asked_size_and_real_content() {
    let d = data();
    for theme in [Theme::Light, Theme::Dark] {
        for chart in all(&d) {
            let png = chart.png(theme, Size::new(600, 260), 2).unwrap();
            let decoder = png::Decoder::new(std::io::Cursor::new(png));
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (1200, 520));
            let colours: BTreeSet<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
            assert!(
                colours.len() > 20,
                "{} {theme:?}: {} colours",
                chart.name(),
                colours.len()
            );
        }
    }
}
