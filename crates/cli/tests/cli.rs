//! The `shareguard` binary as a script would use it: real processes, real
//! simulated routers on loopback, real database files.

use std::process::{Command, Output};

use serde_json::Value;
use shareguard_sim::population::PopulationSpec;
use shareguard_sim::{Fault, SimConfig, SimNetwork};

const BIN: &str = env!("CARGO_BIN_EXE_shareguard");

async fn sim(tls: bool) -> SimNetwork {
    SimNetwork::start(SimConfig {
        population: PopulationSpec::scaled(200, 2, 21),
        username: "admin".into(),
        password: "s3cret".into(),
        radius_secret: "radius".into(),
        ros_version: "7.18.2".into(),
        time_scale: 1.0,
        tls,
        bind: std::net::IpAddr::from([127, 0, 0, 1]),
        first_api_port: 0,
        first_radius_port: 0,
        router: shareguard_sim::RouterModel::default(),
    })
    .await
    .unwrap()
}

/// Runs the binary off the async runtime so the in-process routers keep serving.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .env("SG_PASSWORD", "s3cret")
            .env("SG_WRONG", "nope")
            .env("SG_EMPTY", "")
            .env("SG_RADIUS", "radius")
            .env_remove("SHAREGUARD_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// An action on one subscriber of the router at `api`, recorded in `db`.
fn act(verb: &str, api: &str, who: &str, db: &std::path::Path) -> Vec<String> {
    args(&[
        verb,
        "--router",
        api,
        "--password-env",
        "SG_PASSWORD",
        "--subscriber",
        who,
        "--db",
        db.to_str().unwrap(),
    ])
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_scan_of_two_routers_lists_every_checked_subscriber() {
    let net = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let (a, b) = (
        net.nas()[0].api_addr().to_string(),
        net.nas()[1].api_addr().to_string(),
    );
    let o = run(args(&[
        "scan",
        "--router",
        &a,
        "--router",
        &b,
        "--user",
        "admin",
        "--password-env",
        "SG_PASSWORD",
        "--install-probes",
        "--json",
        "--db",
        db.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(doc["scan"]["status"], "completed");
    assert_eq!(doc["scan"]["nas"].as_array().unwrap().len(), 2);
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), net.population().subscribers.len());
    for r in results {
        for k in [
            "subscriber",
            "nas",
            "address",
            "connections",
            "ttl_values",
            "ttl_status",
            "level",
            "reasons",
            "recommended_action",
        ] {
            assert!(r.get(k).is_some(), "missing {k} in {r}");
        }
        let ttls: Vec<u64> = r["ttl_values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert!(ttls.windows(2).all(|w| w[0] < w[1]), "sorted: {ttls:?}");
    }

    // The stored results and the audit log are there for `results` and `audit`.
    let o = run(args(&[
        "results",
        "--db",
        db.to_str().unwrap(),
        "--json",
        "--limit",
        "5000",
    ]))
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let stored: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(stored["total"].as_u64().unwrap() as usize, results.len());
    let o = run(args(&[
        "audit",
        "--db",
        db.to_str().unwrap(),
        "--action",
        "scan",
        "--json",
    ]))
    .await;
    let log: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(log.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_exits_3_and_names_the_fix() {
    let net = sim(false).await;
    let good = net.nas()[0].api_addr().to_string();
    let o = run(args(&[
        "scan",
        "--router",
        &good,
        "--password-env",
        "SG_WRONG",
        "--no-store",
    ]))
    .await;
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stdout));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("rejected user \"admin\"") && out.contains("check the user name and password"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unreachable_router_among_two_exits_4_with_the_others_results() {
    let net = sim(false).await;
    let good = net.nas()[0].api_addr().to_string();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let o = run(args(&[
        "scan",
        "--router",
        &good,
        "--router",
        &closed,
        "--user",
        "admin",
        "--password-env",
        "SG_PASSWORD",
        "--no-store",
        "--json",
    ]))
    .await;
    assert_eq!(code(&o), 4);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["scan"]["status"], "partial");
    assert_eq!(doc["scan"]["nas"][1]["error_kind"], "unreachable");
    assert!(!doc["results"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_router_exits_5() {
    let net = sim(false).await;
    net.nas()[0].set_fault(Fault::StallAfterRows(50));
    let r = net.nas()[0].api_addr().to_string();
    let o = run(args(&[
        "scan",
        "--router",
        &r,
        "--user",
        "admin",
        "--password-env",
        "SG_PASSWORD",
        "--no-store",
        "--read-timeout",
        "0.5",
    ]))
    .await;
    assert_eq!(code(&o), 5, "{}", String::from_utf8_lossy(&o.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_fingerprint_mismatch_exits_6_and_a_match_scans() {
    let net = sim(true).await;
    let tls = net.nas()[0].tls_addr().unwrap().to_string();
    let wrong = "AA".repeat(32);
    let o = run(args(&[
        "scan",
        "--router",
        &tls,
        "--user",
        "admin",
        "--password-env",
        "SG_PASSWORD",
        "--no-store",
        "--tls-fingerprint",
        &wrong,
    ]))
    .await;
    assert_eq!(code(&o), 6);
    let o = run(args(&["tls-fingerprint", "--router", &tls])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let fp = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let o = run(args(&[
        "scan",
        "--router",
        &tls,
        "--user",
        "admin",
        "--password-env",
        "SG_PASSWORD",
        "--no-store",
        "--tls-fingerprint",
        &fp,
    ]))
    .await;
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_command_lines_exit_2_with_the_fix() {
    for (a, hint) in [
        (
            args(&[
                "scan",
                "--router",
                "10.0.0.1:99999",
                "--password-env",
                "SG_PASSWORD",
                "--no-store",
            ]),
            "HOST:PORT",
        ),
        (
            args(&[
                "scan",
                "--router",
                "127.0.0.1",
                "--password-env",
                "NOT_SET_ANYWHERE",
                "--no-store",
            ]),
            "is not set",
        ),
        (
            args(&["scan", "--router", "127.0.0.1", "--no-store"]),
            "--password-env",
        ),
        (
            args(&[
                "scan",
                "--router",
                "127.0.0.1",
                "--password-env",
                "SG_PASSWORD",
                "--no-store",
                "--tls-fingerprint",
                "xyz",
            ]),
            "64 hexadecimal",
        ),
        (
            args(&[
                "scan",
                "--router",
                "127.0.0.1",
                "--password-env",
                "SG_PASSWORD",
                "--no-store",
                "--access",
                "dsl",
            ]),
            "pppoe or hotspot",
        ),
        (
            args(&[
                "scan",
                "--router",
                "127.0.0.1",
                "--password-env",
                "SG_PASSWORD",
                "--no-store",
                "--connections-low",
                "900",
            ]),
            "rise from low to high",
        ),
    ] {
        let o = run(a.clone()).await;
        assert_eq!(code(&o), 2, "{a:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(hint), "{a:?}: {}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_are_previewed_installed_idempotently_and_removed() {
    let net = sim(false).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let r = net.nas()[0].api_addr().to_string();
    let base = [
        "--router",
        &r,
        "--user",
        "admin",
        "--password-env",
        "SG_PASSWORD",
        "--db",
        db.to_str().unwrap(),
    ];
    let with = |verb: &str, extra: &[&str]| {
        let mut v = args(&["probes", verb]);
        v.extend(args(&base));
        v.extend(args(extra));
        v
    };
    let show = run(with("show", &[])).await;
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("No probe rules installed"), "{text}");
    assert!(text.contains("/ip firewall mangle add chain=prerouting in-interface-list=dynamic connection-state=new ttl=equal:63"), "{text}");
    assert_eq!(
        net.nas()[0].static_rules("mangle").len(),
        0,
        "show writes nothing"
    );

    let dry = run(with("install", &["--dry-run"])).await;
    assert!(String::from_utf8_lossy(&dry.stdout).contains("Would send (dry run)"));
    assert_eq!(net.nas()[0].static_rules("mangle").len(), 0);

    let inst = run(with("install", &[])).await;
    assert_eq!(code(&inst), 0, "{}", stderr(&inst));
    let n = net.nas()[0].static_rules("mangle").len();
    assert!(n >= 20);
    let again = run(with("install", &[])).await;
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to change"));
    assert_eq!(net.nas()[0].static_rules("mangle").len(), n);

    let rm = run(with("remove", &[])).await;
    assert_eq!(code(&rm), 0);
    assert_eq!(net.nas()[0].static_rules("mangle").len(), 0);
    let log = run(args(&["audit", "--db", db.to_str().unwrap(), "--json"])).await;
    let log: Value = serde_json::from_slice(&log.stdout).unwrap();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["probes_removed", "probes_installed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitelist_and_clearing_results_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let d = db.to_str().unwrap();
    let o = run(args(&[
        "whitelist",
        "add",
        "sub-00001",
        "--reason",
        "IT office",
        "--expires",
        "30d",
        "--db",
        d,
    ]))
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(args(&["whitelist", "list", "--json", "--db", d])).await;
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list[0]["subscriber"], "sub-00001");
    assert_eq!(list[0]["reason"], "IT office");
    let o = run(args(&[
        "whitelist",
        "add",
        "x",
        "--reason",
        "r",
        "--expires",
        "someday",
        "--db",
        d,
    ]))
    .await;
    assert_eq!(code(&o), 2);
    let o = run(args(&["whitelist", "remove", "sub-00001", "--db", d])).await;
    assert_eq!(code(&o), 0);
    let o = run(args(&["whitelist", "remove", "sub-00001", "--db", d])).await;
    assert_eq!(code(&o), 2, "removing twice says it is not there");
    let o = run(args(&["results", "--clear", "--db", d])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--yes"));
    let o = run(args(&["results", "--clear", "--yes", "--db", d])).await;
    assert_eq!(code(&o), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_is_not_sqlite_exits_8_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.db");
    std::fs::write(&db, b"these are my notes, not a database").unwrap();
    let o = run(args(&["results", "--db", db.to_str().unwrap()])).await;
    assert_eq!(code(&o), 8);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        b"these are my notes, not a database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_start_to_finish() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let o = run(args(&["demo", "--json", "--db", db.to_str().unwrap()])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["results"].as_array().unwrap().len(), 600);
    assert!(doc["scan"]["flagged"].as_u64().unwrap() > 0);
}

/// SIGPIPE's number, the same on every Unix ShareGuard builds for.
#[cfg(unix)]
const SIGPIPE: i32 = 13;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piping_a_long_listing_into_head_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    {
        let mut store = shareguard_store::Store::open(&db).unwrap();
        for i in 0..5_000 {
            store
                .whitelist_add(
                    &format!("subscriber-{i:05}"),
                    "bulk import for the test",
                    "owner",
                    None,
                )
                .unwrap();
        }
    }
    // More output than a pipe holds, into a reader that leaves after one
    // line, as `| head -n 1` does: read a line, close the pipe, wait. No shell,
    // so the same test runs on Windows, where the closed pipe is another error.
    let o = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut child = Command::new(BIN)
            .args(["whitelist", "list", "--db", db.to_str().unwrap()])
            .env_remove("SHAREGUARD_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        (first, child.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    let (first, o) = o;
    // Unix tools end by SIGPIPE when their reader leaves, as the CLI does;
    // on Windows, which has no such signal, it exits 0.
    #[cfg(unix)]
    let ended_quietly = {
        use std::os::unix::process::ExitStatusExt;
        o.status.success() || o.status.signal() == Some(SIGPIPE)
    };
    #[cfg(not(unix))]
    let ended_quietly = o.status.success();
    assert!(ended_quietly, "{o:?}");
    assert!(!first.trim().is_empty());
    let err = stderr(&o);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_by_radius_or_api_with_dry_run_and_refusals() {
    let net = sim(false).await;
    let nas = &net.nas()[0];
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let api = nas.api_addr().to_string();
    let base = |who: &str| act("disconnect", &api, who, &db);
    let subs = nas.subscribers();

    // Dry run: found, nothing sent.
    let mut a = base(&subs[0].name);
    a.push("--dry-run".into());
    let o = run(a).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("dry run"));
    assert!(nas.is_online(&subs[0].name));
    // With RADIUS set up, the dry run names the way it would take, as its
    // JSON does.
    let mut a = base(&subs[0].name);
    a.extend(args(&[
        "--dry-run",
        "--radius-secret-env",
        "SG_PASSWORD",
        "--coa-port",
        &nas.radius_addr().port().to_string(),
    ]));
    let o = run(a).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("would disconnect through a RADIUS Disconnect-Request"),
        "{out}"
    );
    assert!(nas.is_online(&subs[0].name));

    // RADIUS, with the secret from the environment and the port given.
    let mut a = base(&subs[0].name);
    a.extend(args(&[
        "--radius-secret-env",
        "SG_RADIUS",
        "--coa-port",
        &nas.radius_addr().port().to_string(),
        "--json",
        "--reason",
        "shared with the shop next door",
    ]));
    let o = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&a)
            .env("SG_PASSWORD", "s3cret")
            .env("SG_RADIUS", "radius")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["method"], "radius");
    assert!(!nas.is_online(&subs[0].name));

    // Through the API without a secret.
    let o = run(base(&subs[1].name)).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("through the API"));
    assert!(!nas.is_online(&subs[1].name));

    // Not online any more: exit 10 with the reason in words.
    let o = run(base(&subs[1].name)).await;
    assert_eq!(code(&o), 10);
    assert!(stderr(&o).contains("not online"), "{}", stderr(&o));

    // The database has both actions with their reasons.
    let store = shareguard_store::Store::open(&db).unwrap();
    let a = store.actions_for(&subs[0].name, 5).unwrap();
    assert_eq!(a[0].reason, "shared with the shop next door");
    assert_eq!(store.actions_for(&subs[1].name, 5).unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttle_ban_unban_and_one_monitor_cycle() {
    let net = sim(false).await;
    let nas = &net.nas()[0];
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let api = nas.api_addr().to_string();
    let subs = nas.subscribers();
    let base = |verb: &str, who: &str| act(verb, &api, who, &db);

    // Throttle through the API (no RADIUS secret given) for two hours.
    let mut a = base("throttle", &subs[2].name);
    a.extend(args(&["--for", "2h", "--reason", "flooding"]));
    let o = run(a).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("throttled to") && out.contains("via api"),
        "{out}"
    );
    let (_, down) = nas.plan(&subs[2].name).unwrap();
    assert!(nas.effective_rate(&subs[2].name).unwrap().1 <= down / 4);
    let mut bad = base("throttle", &subs[2].name);
    bad.extend(args(&["--for", "soon"]));
    let o = run(bad).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("30m, 2h, 1d"), "{}", stderr(&o));

    // A ban needs its rule: refused with the rule to install, then installed.
    let o = run(base("ban", &subs[3].name)).await;
    assert_eq!(code(&o), 10, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ban rule is not installed"),
        "{}",
        stderr(&o)
    );
    // Its real place: below FastTrack's builtin rule, above the fast-track rule.
    assert!(
        stderr(&o).contains("placed below the 1 rule the router keeps at the top"),
        "{}",
        stderr(&o)
    );
    let mut a = base("ban", &subs[3].name);
    a.push("--preview-rule".into());
    let o = run(a).await;
    let preview = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        preview.contains("src-address-list=sg-banned action=drop"),
        "{preview}"
    );
    assert!(
        preview.contains("# placed below the 1 rule")
            && preview.contains("action=fasttrack-connection"),
        "{preview}"
    );
    let mut a = base("ban", &subs[3].name);
    a.extend(args(&["--install-rule", "--for", "45m", "--json"]));
    let o = run(a).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "ban");
    assert_eq!(v["report"]["minutes"], 45);
    assert!(nas.is_banned(&subs[3].name));
    let o = run(base("unban", &subs[3].name)).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!nas.is_banned(&subs[3].name));
    let o = run(base("unban", &subs[3].name)).await;
    assert_eq!(code(&o), 10);
    assert!(stderr(&o).contains("no ban in force"), "{}", stderr(&o));

    // A limit on PPPoE needs its connection-limit rules: previewed, refused
    // without them, installed, then lifted.
    let mut a = base("limit", &subs[5].name);
    a.push("--preview-rules".into());
    let o = run(a).await;
    let preview = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        preview
            .contains("src-address-list=sg-limited connection-state=new connection-limit=100,32"),
        "{preview}"
    );
    assert!(
        preview
            .contains("src-address-list=!sg-limited connection-state=new connection-limit=500,32"),
        "{preview}"
    );
    let o = run(base("limit", &subs[5].name)).await;
    assert_eq!(code(&o), 10, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("connection-limit rules are not installed"),
        "{}",
        stderr(&o)
    );
    let mut a = base("limit", &subs[5].name);
    a.extend(args(&["--install-rules", "--for", "2h", "--json"]));
    let o = run(a).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "limit");
    assert_eq!(v["report"]["cap"], 100);
    assert_eq!(v["report"]["unit"], "connections");
    assert_eq!(
        nas.rules("filter")
            .iter()
            .filter(|r| r["comment"].starts_with("shareguard limit"))
            .count(),
        2
    );
    // The installs are in the audit log, as when the app installs them.
    {
        let store = shareguard_store::Store::open(&db).unwrap();
        let audit = store
            .audit_log(&shareguard_store::AuditFilter::default())
            .unwrap();
        for action in ["ban_rule_installed", "limit_rules_installed"] {
            assert!(audit.iter().any(|e| e.action == action), "{action}");
        }
    }
    let mut a = base("limit", &subs[5].name);
    a.push("--lift".into());
    let o = run(a.clone()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("limit lifted (the limit list entry was removed)"));
    let o = run(a).await;
    assert_eq!(code(&o), 10);
    assert!(stderr(&o).contains("no limit in force"), "{}", stderr(&o));

    // The P2P classification: shown, installed (audited), removed.
    let p2p = |verb: &str| {
        args(&[
            "p2p-rules",
            verb,
            "--router",
            &api,
            "--password-env",
            "SG_PASSWORD",
            "--db",
            db.to_str().unwrap(),
        ])
    };
    let o = run(p2p("show")).await;
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("P2P classification not installed")
            && out.contains("layer7-protocol=sg-bittorrent"),
        "{out}"
    );
    let o = run(p2p("install")).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(nas.rules("layer7-protocol").len(), 1);
    let mut show = p2p("show");
    show.push("--json".into());
    let v: Value = serde_json::from_slice(&run(show).await.stdout).unwrap();
    assert_eq!(v[0]["installed"], true);
    let o = run(p2p("remove")).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(nas.rules("layer7-protocol").is_empty());
    let audit = shareguard_store::Store::open(&db)
        .unwrap()
        .audit_log(&Default::default())
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "p2p_rules_installed"));

    // One monitor cycle: a flooder is found and stored, nothing is done
    // (automatic actions are off by default).
    net.set_load(
        &subs[4].name,
        shareguard_sim::Load {
            extra_connections: 600,
            lifetime_s: 86_400,
            ..Default::default()
        },
    );
    let o = run(args(&[
        "monitor",
        "--router",
        &api,
        "--password-env",
        "SG_PASSWORD",
        "--once",
        "--interval",
        "10",
        "--json",
        "--db",
        db.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["routers"][0]["ok"], true);
    let flood = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["subscriber"] == subs[4].name.as_str())
        .expect("the flooder is warned about");
    assert_eq!(flood["kind"], "connection_flood");
    assert_eq!(flood["severity"], "ban");
    let store = shareguard_store::Store::open(&db).unwrap();
    let kinds: Vec<_> = store
        .actions_in_force()
        .unwrap()
        .into_iter()
        .map(|a| (a.subscriber, a.kind))
        .collect();
    assert_eq!(
        kinds,
        [(subs[2].name.clone(), shareguard_store::ActionKind::Throttle)],
        "the flooder was only warned about"
    );
}

#[tokio::test]
async fn an_empty_password_variable_is_refused_with_the_fix() {
    let o = run(args(&[
        "scan",
        "--router",
        "127.0.0.1:1",
        "--password-env",
        "SG_EMPTY",
        "--no-store",
    ]))
    .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the environment variable SG_EMPTY is empty: export SG_EMPTY='...'"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn sim_refuses_a_router_count_it_would_ignore() {
    let o = run(args(&[
        "sim",
        "--nas",
        "4",
        "--port",
        "0",
        "--radius-port",
        "0",
    ]))
    .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--nas needs --subscribers N"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_honour_the_budget() {
    let net = sim(false).await;
    let nas = &net.nas()[0];
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let api = nas.api_addr().to_string();
    let who = nas.subscribers()[0].name.clone();
    // A router that takes 3 s to log in: over a 1 s budget...
    nas.set_fault(Fault::SlowLogin(std::time::Duration::from_secs(3)));
    let mut a = act("disconnect", &api, &who, &db);
    a.extend(args(&["--dry-run", "--budget", "1"]));
    let o = run(a).await;
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did not finish the action within 1 s"),
        "{}",
        stderr(&o)
    );
    // ... and within the default one.
    nas.set_fault(Fault::SlowLogin(std::time::Duration::from_secs(3)));
    let mut a = act("disconnect", &api, &who, &db);
    a.push("--dry-run".into());
    let o = run(a).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_and_p2p_steps_honour_the_budget() {
    let net = sim(false).await;
    let nas = &net.nas()[0];
    let api = nas.api_addr().to_string();
    for (step, said) in [
        (["probes", "show"], "did not finish the action within 1 s"),
        (
            ["p2p-rules", "show"],
            "did not finish the action within 1 s",
        ),
    ] {
        // A router that takes 3 s to log in, over a 1 s budget.
        nas.set_fault(Fault::SlowLogin(std::time::Duration::from_secs(3)));
        let mut a = args(&step);
        a.extend(args(&[
            "--router",
            &api,
            "--password-env",
            "SG_PASSWORD",
            "--budget",
            "1",
        ]));
        let o = run(a).await;
        assert_eq!(code(&o), 5, "{step:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(said), "{step:?}: {}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_cycle_names_the_router_that_held_it_up() {
    let net = sim(false).await;
    let (fast, slow) = (&net.nas()[0], &net.nas()[1]);
    // Its table at 20,000 rows per second: a second or two, where the
    // other router takes milliseconds.
    slow.set_rows_per_second(Some(20_000));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let (a, b) = (fast.api_addr().to_string(), slow.api_addr().to_string());
    let o = run(args(&[
        "monitor",
        "--router",
        &a,
        "--router",
        &b,
        "--password-env",
        "SG_PASSWORD",
        "--once",
        "--db",
        db.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains(&format!("slowest router: {b} (")), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_sets_a_lines_distance_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let d = db.to_str().unwrap();
    let o = run(args(&[
        "distance",
        "set",
        "sub-00007",
        "0",
        "--note",
        "bridged modem",
        "--db",
        d,
    ]))
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(said.contains("0 hops"), "{said}");
    let o = run(args(&["distance", "list", "--json", "--db", d])).await;
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list[0]["subscriber"], "sub-00007");
    assert_eq!(list[0]["hops"], 0);
    assert_eq!(list[0]["note"], "bridged modem");
    let o = run(args(&["distance", "set", "sub-00007", "9", "--db", d])).await;
    assert_eq!(code(&o), 2, "more than 8 hops is refused");
    let o = run(args(&["audit", "--json", "--db", d])).await;
    let log = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(log.contains("line_distance_set"), "{log}");
    let o = run(args(&["distance", "clear", "sub-00007", "--db", d])).await;
    assert_eq!(code(&o), 0);
    let o = run(args(&["distance", "clear", "sub-00007", "--db", d])).await;
    assert_eq!(code(&o), 2, "clearing twice says there is none");
}

/// Every action through the command line, one after the other: the audit
/// log must read as `tests/fixtures/action-audit.txt`, the same file the
/// app's IPC test holds its audit log to, so both front ends record each
/// action alike (they call the same engine functions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_leaves_the_audit_entries_the_app_leaves() {
    let net = sim(false).await;
    let nas = &net.nas()[0];
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sg.db");
    let api = nas.api_addr().to_string();
    let subs = nas.subscribers();
    // Sessions are ended and re-rated by RADIUS, as the app does on the
    // demo's routers.
    let radius_port = nas.radius_addr().port().to_string();
    let on = |verb: &str, who: &str, extra: &[&str]| {
        let mut a = act(verb, &api, who, &db);
        if matches!(verb, "disconnect" | "throttle") {
            a.extend(args(&[
                "--radius-secret-env",
                "SG_RADIUS",
                "--coa-port",
                &radius_port,
            ]));
        }
        a.extend(args(extra));
        a
    };
    let router = |cmd: &[&str]| {
        let mut a = args(cmd);
        a.extend(args(&[
            "--router",
            &api,
            "--user",
            "admin",
            "--password-env",
            "SG_PASSWORD",
            "--db",
        ]));
        a.push(db.to_str().unwrap().into());
        a
    };
    for step in [
        on("disconnect", &subs[0].name, &["--reason", "shared"]),
        on(
            "throttle",
            &subs[1].name,
            &["--for", "30m", "--reason", "flooding"],
        ),
        on(
            "ban",
            &subs[2].name,
            &["--install-rule", "--for", "30m", "--reason", "flooding"],
        ),
        on("unban", &subs[2].name, &[]),
        on(
            "limit",
            &subs[3].name,
            &["--install-rules", "--for", "30m", "--reason", "suspicious"],
        ),
        on("limit", &subs[3].name, &["--lift"]),
        router(&["probes", "install"]),
        router(&["probes", "remove"]),
        router(&["p2p-rules", "install"]),
        router(&["p2p-rules", "remove"]),
    ] {
        let o = run(step.clone()).await;
        assert_eq!(code(&o), 0, "{step:?}: {}", stderr(&o));
    }
    let mut audit = shareguard_store::Store::open(&db)
        .unwrap()
        .audit_log(&Default::default())
        .unwrap();
    audit.reverse();
    // Each entry as its action and the names of its details: the values
    // (subscribers, addresses, routers) differ between the two networks.
    let got: Vec<String> = audit
        .into_iter()
        .map(|e| {
            let keys: Vec<&String> = e
                .details
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            format!(
                "{}: {}",
                e.action,
                keys.iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let mut got = got;
    got.sort();
    let mut want: Vec<&str> = include_str!("../../../tests/fixtures/action-audit.txt")
        .lines()
        .collect();
    want.sort();
    assert_eq!(got, want, "the command line's audit log");
}
