//! `shareguard report` as a script would use it: a real demo scan stored
//! in a database file, then reports written from it by the binary.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_shareguard");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SHAREGUARD_LOG")
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The PDF's text as poppler's pdftotext reads it. On Linux the test command
/// installs poppler, so there a missing one fails with the fix; elsewhere
/// (Windows, macOS without poppler) the text checks are skipped with a note
/// and the rest of each test still runs.
fn pdf_text(pdf: &Path) -> Option<String> {
    let o = match Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
    {
        Ok(o) => o,
        Err(e) if cfg!(target_os = "linux") => {
            panic!("pdftotext could not be run ({e}): install poppler-utils")
        }
        Err(e) => {
            eprintln!("the PDF's text is not checked: pdftotext cannot be run here ({e})");
            return None;
        }
    };
    assert!(o.status.success());
    Some(String::from_utf8_lossy(&o.stdout).replace('\u{200b}', ""))
}

/// A database holding the demo's scan of its 600 simulated subscribers.
fn demo_db(dir: &Path) -> (String, Value) {
    let db = dir.join("demo.db");
    let db = db.to_str().unwrap().to_string();
    let o = run(&["demo", "--json", "--db", &db]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    (db, doc)
}

#[test]
fn scan_reports_as_pdf_and_csv_and_errors_that_name_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (db, demo) = demo_db(dir.path());
    let results = demo["results"].as_array().unwrap();
    let flagged: Vec<&str> = results
        .iter()
        .filter(|r| {
            r["whitelisted"] == false
                && ["medium", "high", "critical"].contains(&r["level"].as_str().unwrap())
        })
        .map(|r| r["subscriber"].as_str().unwrap())
        .collect();
    assert!(!flagged.is_empty());

    // PDF
    let pdf = dir.path().join("scan.pdf");
    let o = run(&[
        "report",
        "scan",
        "--format",
        "pdf",
        "--out",
        pdf.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("Wrote the scan report to "),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("PDF, "), "{}", stdout(&o));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains("Scan report") && text.contains("600"));
        for name in &flagged {
            assert!(text.contains(name), "{name} listed");
        }
    }

    // CSV, format taken from the file name, outcome as JSON.
    let csv = dir.path().join("scan.csv");
    let o = run(&[
        "report",
        "scan",
        "--out",
        csv.to_str().unwrap(),
        "--db",
        &db,
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let done: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(done["rows"], 600);
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for spreadsheets");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().clone();
    let at = header.iter().position(|h| h == "subscriber").unwrap();
    let names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[at].to_string())
        .collect();
    assert_eq!(names.len(), 600);
    for r in results {
        assert!(names.iter().any(|n| n == r["subscriber"].as_str().unwrap()));
    }
    assert_eq!(done["bytes"].as_u64().unwrap(), bytes.len() as u64);

    // Errors: each names the fix, exits with its code, and writes nothing.
    let out = dir.path().join("nobody.pdf");
    let o = run(&[
        "report",
        "subscriber",
        "--subscriber",
        "nobody-here",
        "--out",
        out.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("check the spelling"), "{}", stderr(&o));
    assert!(!out.exists());

    let elsewhere = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let o = run(&[
        "report",
        "abuse",
        "--from",
        "2026-13-01",
        "--out",
        &elsewhere("a.pdf"),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("YYYY-MM-DD"), "{}", stderr(&o));

    let o = run(&[
        "report",
        "scan",
        "--out",
        dir.path().join("missing/x.pdf").to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("the folder does not exist"),
        "{}",
        stderr(&o)
    );

    let o = run(&[
        "report",
        "scan",
        "--out",
        &elsewhere("report.txt"),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--format pdf or --format csv"),
        "{}",
        stderr(&o)
    );

    let o = run(&[
        "report",
        "audit",
        "--format",
        "pdf",
        "--out",
        &elsewhere("audit.pdf"),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("CSV only"), "{}", stderr(&o));

    let missing = dir.path().join("none.db");
    let o = run(&[
        "report",
        "scan",
        "--out",
        &elsewhere("x.pdf"),
        "--db",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 8);
    assert!(stderr(&o).contains("run a scan first"), "{}", stderr(&o));
    assert!(!missing.exists(), "a report never creates a database");

    let o = run(&[
        "report",
        "scan",
        "--scan",
        "999",
        "--out",
        &elsewhere("x.pdf"),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("scan 999 is not in this database"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn abuse_subscriber_and_audit_reports_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (db, demo) = demo_db(dir.path());
    let who = demo["results"][0]["subscriber"].as_str().unwrap();

    let pdf = dir.path().join("evidence.pdf");
    let o = run(&[
        "report",
        "subscriber",
        "--subscriber",
        who,
        "--out",
        pdf.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains(&format!("Evidence pack: {who}")));
    }

    // No abuse monitoring in the demo: a valid report that says so, and a note.
    let abuse = dir.path().join("abuse.pdf");
    let o = run(&[
        "report",
        "abuse",
        "--days",
        "30",
        "--out",
        abuse.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: there is no abuse data"),
        "{}",
        stderr(&o)
    );
    if let Some(text) = pdf_text(&abuse) {
        assert!(text.contains("There is no abuse data for this period"));
    }

    let audit = dir.path().join("audit.csv");
    let o = run(&[
        "report",
        "audit",
        "--out",
        audit.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("CSV, "), "{}", stdout(&o));
    let text = String::from_utf8(std::fs::read(&audit).unwrap()).unwrap();
    assert!(text.contains(",scan,"), "the demo scan's audit entry");
}
