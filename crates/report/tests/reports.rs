//! Reports made from real database files and read back the way a person
//! (or a spreadsheet) would: PDF text through poppler's `pdftotext`, pages
//! rendered with `pdftoppm`, CSV through a CSV reader.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use common::*;
use shareguard_detect::{Level, SubscriberResult};
use shareguard_report::csv_export::{text_cell, BOM};
use shareguard_report::text::thousands;
use shareguard_report::{write_report, Format, ReportError, ReportKind, ReportRequest};
use shareguard_store::Store;

fn scan_req(format: Format) -> ReportRequest {
    ReportRequest::new(
        ReportKind::Scan {
            scan_id: None,
            tag: None,
        },
        format,
    )
}

/// Reads a CSV export: checks the BOM, returns the header and the rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(BOM), "UTF-8 byte-order mark first");
    let mut reader = csv::Reader::from_reader(&bytes[BOM.len()..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

fn flagged(results: &[SubscriberResult]) -> Vec<&SubscriberResult> {
    results.iter().filter(|r| r.is_flagged()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_pdf_of_a_real_scan_shows_the_figures_and_every_flagged_subscriber() {
    if !poppler_or_skip(
        "the_scan_pdf_of_a_real_scan_shows_the_figures_and_every_flagged_subscriber",
    ) {
        return;
    }
    let (db, results) = real_scan(240).await;
    let out = db.dir.path().join("scan.pdf");
    let done = write_report(&db.store, &scan_req(Format::Pdf), &out).unwrap();
    assert!(done.notice.is_none());
    assert_eq!(done.bytes, std::fs::metadata(&out).unwrap().len());
    let pages = done.pages.unwrap();
    assert_eq!(pdf_pages(&out), pages);
    assert!(pages >= 3, "summary, charts, tables: {pages} pages");

    let text = pdf_text(&out);
    let flagged = flagged(&results);
    assert!(
        !flagged.is_empty(),
        "the simulated network has sharing households"
    );
    assert!(text.contains("Scan report"));
    assert!(
        text.contains(&format!("{}\n", thousands(results.len() as u64)))
            || text.contains(&thousands(results.len() as u64))
    );
    assert!(
        text.contains(&format!(
            "{} of {} subscribers checked are flagged",
            thousands(flagged.len() as u64),
            thousands(results.len() as u64)
        )) || text.contains(&format!("{} (", thousands(flagged.len() as u64))),
        "the flagged count is stated:\n{text}"
    );
    for r in &flagged {
        assert!(text.contains(&r.subscriber), "{} is listed", r.subscriber);
    }
    assert_eq!(done.rows, flagged.len() as u64);
    for level in ["medium", "high"] {
        if flagged.iter().any(|r| r.level.as_str() == level) {
            assert!(text.contains(level), "the level {level} appears");
        }
    }
    // A reason of a flagged subscriber, in words.
    let reason = &flagged[0].reasons[0];
    let start: String = reason.chars().take(30).collect();
    assert!(
        flat(&text).contains(&flat(&start)),
        "the reason {reason:?} is printed"
    );
    for nas in ["nas-01", "nas-02", "nas-03"] {
        assert!(text.contains(nas), "router {nas} is in the routers table");
    }
    assert!(text.contains("Settings in force"));
    assert!(text.contains(&format!("Page 1 of {pages}")));
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    // The numbers on the axes of the charts come through as text (SVG drawn in the PDF).
    assert!(text.contains("TTL of the first packet"));

    // Only the bundled font is embedded.
    let fonts = std::process::Command::new("pdffonts")
        .arg(&out)
        .output()
        .unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(fonts.contains("DejaVuSans"), "{fonts}");
    for line in fonts.lines().skip(2) {
        assert!(
            line.contains("DejaVuSans"),
            "only the embedded font: {line}"
        );
        assert!(line.contains(" yes "), "embedded: {line}");
    }

    // The pages render; keep them for a person to look at.
    let keep = artifacts_dir();
    let pngs = render_pages(&out, &keep.join("real-scan"), 1, pages);
    assert_eq!(pngs.len(), pages);
    for png in &pngs {
        let size = std::fs::metadata(png).unwrap().len();
        assert!(
            size > 20_000,
            "{} is a real page ({size} bytes)",
            png.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_csv_lists_every_checked_subscriber_as_stored() {
    let (db, results) = real_scan(240).await;
    let out = db.dir.path().join("scan.csv");
    let done = write_report(&db.store, &scan_req(Format::Csv), &out).unwrap();
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header[..4],
        ["scan_id", "scanned_at", "subscriber", "router"]
    );
    assert_eq!(rows.len(), results.len());
    assert_eq!(done.rows, results.len() as u64);

    let stored: BTreeMap<String, SubscriberResult> = db
        .store
        .results(&Default::default())
        .unwrap()
        .into_iter()
        .map(|r| (r.subscriber.clone(), r))
        .collect();
    assert_eq!(stored.len(), rows.len());
    for row in &rows {
        let r = &stored[&row["subscriber"]];
        assert_eq!(row["router"], r.nas);
        assert_eq!(row["address"], r.address);
        assert_eq!(row["level"], r.level.as_str());
        assert_eq!(row["ttl_status"], r.ttl_status.as_str());
        assert_eq!(row["connections"], r.connections.to_string());
        assert_eq!(row["p2p_connections"], r.p2p_connections.to_string());
        assert_eq!(row["flagged"], r.is_flagged().to_string());
        assert_eq!(row["recommended_action"], r.recommended_action.as_str());
        let ttls: Vec<String> = r.ttl_values.iter().map(u8::to_string).collect();
        assert_eq!(row["ttl_values"], ttls.join(" "));
        assert_eq!(row["reasons"], text_cell(&r.reasons.join(" | ")));
        let at: DateTime<Utc> = row["scanned_at"].parse().unwrap();
        assert!(row["scanned_at"].ends_with('Z'), "ISO 8601 in UTC");
        assert_eq!(at.timestamp(), r.scanned_at.timestamp());
    }
}

#[test]
fn an_empty_database_gives_valid_reports_that_say_there_is_no_data() {
    if !poppler_or_skip("an_empty_database_gives_valid_reports_that_say_there_is_no_data") {
        return;
    }
    let db = empty_db();
    let dir = db.dir.path();

    let pdf = dir.join("scan.pdf");
    let done = write_report(&db.store, &scan_req(Format::Pdf), &pdf).unwrap();
    assert!(done.notice.unwrap().contains("no scan has been stored yet"));
    let text = pdf_text(&pdf);
    assert!(text.contains("No scan has been stored yet"), "{text}");
    assert!(
        text.contains("Settings in force"),
        "the settings that will apply"
    );
    assert_eq!(pdf_pages(&pdf), done.pages.unwrap());

    let csv = dir.join("scan.csv");
    let done = write_report(&db.store, &scan_req(Format::Csv), &csv).unwrap();
    assert_eq!(done.rows, 0);
    let (header, rows) = read_csv(&csv);
    assert!(header.contains(&"subscriber".to_string()) && rows.is_empty());

    let now = Utc::now();
    let abuse = ReportRequest::new(
        ReportKind::Abuse {
            from: now - Duration::days(7),
            to: now,
        },
        Format::Pdf,
    );
    let apdf = dir.join("abuse.pdf");
    write_report(&db.store, &abuse, &apdf).unwrap();
    let text = pdf_text(&apdf);
    assert!(
        text.contains("There is no abuse data for this period"),
        "{text}"
    );
    assert!(text.contains("No warning was opened in this period"));

    let audit = ReportRequest::new(
        ReportKind::Audit {
            from: None,
            to: None,
        },
        Format::Csv,
    );
    let done = write_report(&db.store, &audit, &dir.join("audit.csv")).unwrap();
    assert_eq!(done.rows, 0);
}

#[test]
fn thirty_thousand_results_make_a_complete_csv_and_a_readable_pdf() {
    if !poppler_or_skip("thirty_thousand_results_make_a_complete_csv_and_a_readable_pdf") {
        return;
    }
    let (db, _, results) = populated(30_000, 1);
    let dir = db.dir.path();
    let csv = dir.join("scan.csv");
    let done = write_report(&db.store, &scan_req(Format::Csv), &csv).unwrap();
    assert_eq!(done.rows, 30_000);
    let (_, rows) = read_csv(&csv);
    assert_eq!(rows.len(), 30_000);
    let names: BTreeSet<&str> = rows.iter().map(|r| r["subscriber"].as_str()).collect();
    assert_eq!(names.len(), 30_000, "every subscriber once");
    let flagged_rows = rows.iter().filter(|r| r["flagged"] == "true").count();
    let flagged_count = flagged(&results).len();
    assert_eq!(flagged_rows, flagged_count);

    let pdf = dir.join("scan.pdf");
    let done = write_report(&db.store, &scan_req(Format::Pdf), &pdf).unwrap();
    let text = pdf_text(&pdf);
    assert!(text.contains("30,000"), "the checked count");
    let listed = flagged_count.min(shareguard_report::collect::FLAGGED_IN_PDF);
    assert_eq!(done.rows, listed as u64);
    if flagged_count > listed {
        assert!(
            flat(&text).contains(&format!(
                "{} more flagged subscribers are not listed here",
                thousands((flagged_count - listed) as u64)
            )),
            "the omission is stated:\n{text}"
        );
    }
    assert_eq!(pdf_pages(&pdf), done.pages.unwrap());
    let pngs = render_pages(&pdf, &artifacts_dir().join("scan-30k"), 1, 3);
    assert_eq!(pngs.len(), 3);
}

/// Names a router may well hand over, and which mean something to typst,
/// a spreadsheet or SVG.
const HOSTILE: [&str; 10] = [
    "#eval(\"x\")",
    "*bold*",
    "$x^2$",
    "quote\"in",
    "back\\slash",
    "]close",
    "=cmd|' /C calc'!A0",
    "<tag>&amp;",
    "// not a comment",
    "@ref _under_ `raw`",
];

#[test]
fn hostile_names_are_printed_exactly_as_written() {
    if !poppler_or_skip("hostile_names_are_printed_exactly_as_written") {
        return;
    }
    let mut db = empty_db();
    let mut results = judged(40, 7, t0());
    for (i, name) in HOSTILE.iter().enumerate() {
        results[i].subscriber = (*name).to_string();
        results[i].level = Level::High;
        results[i].whitelisted = false;
        results[i].reasons = vec![format!("reason for {name} #set page(width: 1cm)")];
    }
    let id = store_scan(&mut db.store, &results, t0());
    add_abuse(&mut db.store, &results);
    let dir = db.dir.path();

    let pdf = dir.join("scan.pdf");
    write_report(&db.store, &scan_req(Format::Pdf), &pdf).unwrap();
    let text = pdf_text(&pdf);
    for name in HOSTILE {
        assert!(text.contains(name), "{name:?} printed as written:\n{text}");
        assert!(
            text.contains(&format!("reason for {name}")),
            "reason of {name:?}"
        );
    }
    assert!(
        text.contains("#set page(width: 1cm)"),
        "code in a reason stays text"
    );

    // Each one's evidence pack, too.
    for name in HOSTILE {
        let req = ReportRequest::new(ReportKind::Subscriber { name: name.into() }, Format::Pdf);
        let out = dir.join("one.pdf");
        write_report(&db.store, &req, &out).unwrap();
        assert!(
            pdf_text(&out).contains(&format!("Evidence pack: {name}")),
            "{name:?}"
        );
    }

    // The spreadsheet gets the names, formulas defused.
    let csv = dir.join("scan.csv");
    write_report(&db.store, &scan_req(Format::Csv), &csv).unwrap();
    let (_, rows) = read_csv(&csv);
    let names: BTreeSet<String> = rows.iter().map(|r| r["subscriber"].clone()).collect();
    for name in HOSTILE {
        assert!(names.contains(&text_cell(name)), "{name:?} in the CSV");
    }
    assert!(
        names.contains("'=cmd|' /C calc'!A0"),
        "a formula is not a formula"
    );
    assert!(rows.iter().all(|r| r["scan_id"] == id.to_string()));
}

#[test]
fn the_abuse_report_shows_the_metrics_warnings_and_actions_of_the_range() {
    if !poppler_or_skip("the_abuse_report_shows_the_metrics_warnings_and_actions_of_the_range") {
        return;
    }
    let (db, _, _) = populated(600, 3);
    let dir = db.dir.path();
    let from = t0().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let to = from + Duration::days(4);
    let metrics = db.store.abuse_metrics(from, to).unwrap();
    assert!(metrics.warnings > 0, "the fixture opened warnings");

    let pdf = dir.join("abuse.pdf");
    let done = write_report(
        &db.store,
        &ReportRequest::new(ReportKind::Abuse { from, to }, Format::Pdf),
        &pdf,
    )
    .unwrap();
    render_pages(&pdf, &artifacts_dir().join("abuse"), 1, done.pages.unwrap());
    let text = pdf_text(&pdf);
    assert!(text.contains("Abuse report"));
    assert!(
        text.contains("01 May 2026 – 04 May 2026 (UTC)"),
        "the range:\n{text}"
    );
    assert!(text.contains(&thousands(metrics.warnings.into())));
    for (kind, n) in &metrics.warnings_by_kind {
        if *n > 0 {
            assert!(text.contains(kind.label()), "{} listed", kind.label());
        }
    }
    for o in &metrics.top_offenders {
        assert!(
            text.contains(&o.subscriber),
            "top offender {}",
            o.subscriber
        );
    }
    assert!(text.contains("Actions taken"));
    assert!(text.contains("ban (radius)"), "the ban is listed");
    assert!(text.contains("evening"), "with its reason");
    assert_eq!(pdf_pages(&pdf), done.pages.unwrap());

    let csv = dir.join("warnings.csv");
    let done = write_report(
        &db.store,
        &ReportRequest::new(ReportKind::Abuse { from, to }, Format::Csv),
        &csv,
    )
    .unwrap();
    let (_, rows) = read_csv(&csv);
    assert_eq!(rows.len() as u64, u64::from(metrics.warnings));
    assert_eq!(done.rows, rows.len() as u64);
    let listed = db
        .store
        .warnings(&shareguard_store::WarningQuery {
            from: Some(from),
            to: Some(to),
            limit: 100_000,
            ..Default::default()
        })
        .unwrap();
    let ids: BTreeSet<String> = rows.iter().map(|r| r["id"].clone()).collect();
    let stored: BTreeSet<String> = listed.iter().map(|w| w.id.to_string()).collect();
    assert_eq!(ids, stored);
    let w = &listed[0];
    let row = rows.iter().find(|r| r["id"] == w.id.to_string()).unwrap();
    assert_eq!(row["subscriber"], w.subscriber);
    assert_eq!(row["kind"], w.kind.as_str());
    assert_eq!(row["severity"], w.severity.as_str());
    assert_eq!(row["details"], text_cell(&w.details));
}

#[test]
fn the_evidence_pack_holds_the_history_warnings_actions_and_audit_entries() {
    if !poppler_or_skip("the_evidence_pack_holds_the_history_warnings_actions_and_audit_entries") {
        return;
    }
    let (db, _, results) = populated(600, 3);
    let dir = db.dir.path();
    let mut worst: Vec<&SubscriberResult> = results.iter().collect();
    worst.sort_by_key(|r| std::cmp::Reverse(r.connections));
    let who = &worst[0].subscriber; // banned in the fixture
    let latest = db.store.result(who).unwrap().unwrap();

    let pdf = dir.join("evidence.pdf");
    let done = write_report(
        &db.store,
        &ReportRequest::new(ReportKind::Subscriber { name: who.clone() }, Format::Pdf),
        &pdf,
    )
    .unwrap();
    let text = pdf_text(&pdf);
    assert!(text.contains(&format!("Evidence pack: {who}")));
    assert!(text.contains(latest.level.as_str()));
    assert!(text.contains(&thousands(latest.connections.into())));
    assert!(text.contains("Verdict history") && text.contains("Audit log"));
    assert!(text.contains("ban (radius)"));
    assert!(text.contains("Connection flood"), "its abuse warnings");
    assert!(text.contains("abuse warning"), "audit entries in words");
    assert_eq!(done.rows, 3, "one verdict per scan");
    render_pages(
        &pdf,
        &artifacts_dir().join("evidence"),
        1,
        done.pages.unwrap(),
    );

    let csv = dir.join("history.csv");
    write_report(
        &db.store,
        &ReportRequest::new(ReportKind::Subscriber { name: who.clone() }, Format::Csv),
        &csv,
    )
    .unwrap();
    let (_, rows) = read_csv(&csv);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| &r["subscriber"] == who));

    // The audit CSV has every entry, oldest first.
    let audit = dir.join("audit.csv");
    let done = write_report(
        &db.store,
        &ReportRequest::new(
            ReportKind::Audit {
                from: None,
                to: None,
            },
            Format::Csv,
        ),
        &audit,
    )
    .unwrap();
    let (_, rows) = read_csv(&audit);
    let all = db.store.audit_log(&Default::default()).unwrap();
    assert_eq!(rows.len(), all.len());
    assert_eq!(done.rows, all.len() as u64);
    let times: Vec<&str> = rows.iter().map(|r| r["at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
}

#[test]
fn user_errors_name_the_fix_and_leave_no_file_behind() {
    let (db, id, results) = populated(200, 1);
    let dir = db.dir.path();
    let out = dir.join("report.pdf");
    std::fs::write(&out, b"the previous report").unwrap();

    let almost = results[0].subscriber.clone();
    let typo = &almost[..almost.len() - 1];
    let err = write_report(
        &db.store,
        &ReportRequest::new(ReportKind::Subscriber { name: typo.into() }, Format::Pdf),
        &out,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "not_found");
    let msg = err.to_string();
    assert!(
        msg.contains("check the spelling") && msg.contains(&almost),
        "{msg}"
    );

    let err = write_report(
        &db.store,
        &ReportRequest::new(
            ReportKind::Scan {
                scan_id: Some(id + 100),
                tag: None,
            },
            Format::Pdf,
        ),
        &out,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("the latest scan is {id}")),
        "{err}"
    );

    let now = Utc::now();
    let err = write_report(
        &db.store,
        &ReportRequest::new(
            ReportKind::Abuse {
                from: now,
                to: now - Duration::days(1),
            },
            Format::Csv,
        ),
        &out,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
    assert!(
        err.to_string().contains("give a start before the end"),
        "{err}"
    );

    let err = write_report(
        &db.store,
        &ReportRequest::new(
            ReportKind::Audit {
                from: None,
                to: None,
            },
            Format::Pdf,
        ),
        &out,
    )
    .unwrap_err();
    assert!(err.to_string().contains("CSV only"), "{err}");

    let err = write_report(
        &db.store,
        &scan_req(Format::Pdf),
        &dir.join("missing/report.pdf"),
    )
    .unwrap_err();
    assert!(matches!(err, ReportError::Write { .. }));
    assert!(
        err.to_string().contains("the folder does not exist"),
        "{err}"
    );

    let err = write_report(&db.store, &scan_req(Format::Pdf), dir).unwrap_err();
    assert!(err.to_string().contains("that is a folder"), "{err}");

    // None of that touched the previous report or left temporary files.
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous report");
    let stray: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");

    // A good report replaces it.
    write_report(&db.store, &scan_req(Format::Pdf), &out).unwrap();
    assert!(std::fs::read(&out).unwrap().starts_with(b"%PDF-"));
}

#[test]
fn a_tag_narrows_the_scan_report_to_its_subscribers() {
    let (mut db, _, results) = populated(200, 1);
    let tagged: Vec<&SubscriberResult> = results.iter().filter(|r| r.nas == "nas-02").collect();
    db.store
        .upsert_nas(&shareguard_store::NasRecord {
            id: None,
            name: "nas-02".into(),
            host: "192.0.2.2".into(),
            port: 8728,
            tls: false,
            tls_fingerprint: None,
            username: "admin".into(),
            access: shareguard_detect::Access::Pppoe,
            expected_hops: 1,
            probe_strategy: None,
            probe_interface: None,
            tag: Some("Reseller A".into()),
            radius_port: None,
            created_at: None,
            updated_at: None,
        })
        .unwrap();
    let req = ReportRequest::new(
        ReportKind::Scan {
            scan_id: None,
            tag: Some("Reseller A".into()),
        },
        Format::Csv,
    );
    let out = db.dir.path().join("tagged.csv");
    let done = write_report(&db.store, &req, &out).unwrap();
    assert_eq!(done.rows, tagged.len() as u64);
    let (_, rows) = read_csv(&out);
    assert!(rows
        .iter()
        .all(|r| r["router"] == "nas-02" && r["tag"] == "Reseller A"));

    let report =
        shareguard_report::collect::scan_report(&db.store, None, Some("Reseller A"), Utc::now())
            .unwrap();
    assert_eq!(report.totals.checked, tagged.len() as u64);
    assert_eq!(report.ttl_by_router.len(), 1);
}

#[test]
fn the_report_reads_a_store_opened_elsewhere() {
    // The app and the CLI open the same file; a report needs only a shared borrow.
    let (db, _, _) = populated(50, 1);
    let again = Store::open(&db.path).unwrap();
    let out = db.dir.path().join("again.csv");
    let done = write_report(&again, &scan_req(Format::Csv), &out).unwrap();
    assert_eq!(done.rows, 50);
}

#[test]
fn scheduled_reports_land_in_the_folder_named_by_the_scan_time() {
    if !poppler_or_skip("scheduled_reports_land_in_the_folder_named_by_the_scan_time") {
        return;
    }
    use shareguard_report::scheduled::{write_scheduled, ScheduledReports};
    let (db, last, results) = populated(300, 2);
    let folder = tempfile::tempdir().unwrap();
    let settings = ScheduledReports {
        enabled: true,
        folder: folder.path().display().to_string(),
        pdf: true,
        csv: true,
    };
    let started = t0() + Duration::days(1);
    let written = write_scheduled(&db.store, &settings, last, started);
    assert_eq!(written.len(), 2);
    let mut files = BTreeSet::new();
    for (format, outcome) in written {
        let outcome = outcome.unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let path = outcome.path.unwrap();
        assert_eq!(path.parent(), Some(folder.path()));
        assert_eq!(Format::from_path(&path), Some(format));
        files.insert(path.file_name().unwrap().to_string_lossy().to_string());
    }
    let stamp = started
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d-%H%M");
    assert_eq!(
        files,
        BTreeSet::from([
            format!("shareguard-scan-{stamp}.csv"),
            format!("shareguard-scan-{stamp}.pdf"),
        ])
    );
    // The CSV is the scan that was asked for, every checked subscriber.
    let (_, rows) = read_csv(&folder.path().join(format!("shareguard-scan-{stamp}.csv")));
    assert_eq!(rows.len(), results.len());
    let text = flat(&pdf_text(
        &folder.path().join(format!("shareguard-scan-{stamp}.pdf")),
    ));
    let worst = flagged(&results)[0];
    assert!(text.contains(&worst.subscriber), "{}", worst.subscriber);

    // A second run in the same minute does not overwrite the first.
    let again = write_scheduled(&db.store, &settings, last, started);
    let path = again[0].1.as_ref().unwrap().path.clone().unwrap();
    assert!(path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with(&format!("-{last}.pdf")));
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 4);

    // Off: nothing is written.
    let off = ScheduledReports {
        enabled: false,
        ..settings
    };
    assert!(write_scheduled(&db.store, &off, last, started).is_empty());
}
