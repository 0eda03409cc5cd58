//! `shareguard-bench`: measures what the README reports.
//!
//! The simulated routers run in a child process so the scanner's peak memory
//! is its own. Each scenario compares a real scan with the physical limit on
//! this machine: reading the very same bytes (same commands, same `.proplist`)
//! from the same sockets without decoding them.
//!
//! Usage: `cargo run --release -p shareguard-bench [-- --quick]`; one part
//! alone: `-- actions`, `-- monitor [--cycles N]` or `-- report` (the
//! scan report of a 30,000-subscriber scan as PDF and CSV).
//!
//! The full scan is measured twice: with the simulator and the scanner
//! sharing both cores (the simulator's CPU then slows the scanner down,
//! which a real router, being another machine, would not), and with one core
//! each, which is closer to a router and the owner's computer.

mod actions;
mod monitor;
mod report;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use routeros_client::ConnectOptions;
use routeros_proto::Command;
use serde::{Deserialize, Serialize};
use shareguard_detect::{assess, Access, DetectionSettings, ScanScope, SubscriberObservation};
use shareguard_engine::demo::{self, DEMO_PASSWORD, DEMO_USER};
use shareguard_scan::{collect, ipv6, probes, run_scan, CancellationToken, NasTarget, ScanRequest};
use shareguard_sim::population::{self, PopulationSpec};
use shareguard_sim::{SimConfig, SimNetwork};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Serialize, Deserialize)]
struct ServedNas {
    name: String,
    addr: SocketAddr,
    hotspot: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Served {
    nas: Vec<ServedNas>,
    subscribers: usize,
    connections: usize,
    first_subscriber: Vec<String>,
}

/// Restricts this process's threads (those created from now on) to one CPU.
/// Used to give the simulated routers and the scanner a core each, the way a
/// real router and the owner's computer are separate machines.
#[cfg(target_os = "linux")]
fn pin_to_cpu(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the libc macros only
    // set bits inside it; pid 0 means the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!(
                "could not pin to CPU {cpu}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Elsewhere the process runs unpinned, so the "one core each" figures are
/// really shared-core figures; the bench says so.
#[cfg(not(target_os = "linux"))]
fn pin_to_cpu(cpu: usize) {
    eprintln!("CPU pinning is only implemented on Linux: running unpinned instead of on CPU {cpu}");
}

/// Child mode: run simulated routers until stdin closes.
async fn serve(args: &[String]) {
    let num = |flag: &str, default: usize| -> usize {
        args.windows(2)
            .find(|w| w[0] == flag)
            .and_then(|w| w[1].parse().ok())
            .unwrap_or(default)
    };
    let spec = PopulationSpec::scaled(num("--subscribers", 30_000), num("--nas", 8), 42)
        .with_target_connections(num("--connections", 2_400_000));
    let net = SimNetwork::start(SimConfig {
        population: spec,
        username: DEMO_USER.into(),
        password: DEMO_PASSWORD.into(),
        radius_secret: demo::DEMO_RADIUS_SECRET.into(),
        ros_version: "7.18.2".into(),
        // Fast simulated time: every connection is replaced within about a
        // second of the probes going in, as on a router that ran for a while.
        time_scale: 1000.0,
        tls: false,
        bind: std::net::IpAddr::from([127, 0, 0, 1]),
        first_api_port: 0,
        first_radius_port: 0,
        router: shareguard_sim::RouterModel {
            rows_per_second: Some(num("--rows-per-second", 0) as u32).filter(|r| *r > 0),
            ..shareguard_sim::RouterModel::default()
        },
    })
    .await
    .expect("start simulated routers");
    let served = Served {
        nas: net
            .nas()
            .iter()
            .map(|n| ServedNas {
                name: n.name().into(),
                addr: n.api_addr(),
                hotspot: n.access() == population::Access::Hotspot,
            })
            .collect(),
        subscribers: net.population().subscribers.len(),
        connections: net.population().total_slots(),
        first_subscriber: (0..net.nas().len())
            .map(|i| net.population().nas_subscribers(i)[0].name.clone())
            .collect(),
    };
    println!("{}", serde_json::to_string(&served).unwrap());
    std::io::stdout().flush().unwrap();
    // Wait for the parent to close our stdin.
    let _ = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        let _ = std::io::stdin().read_line(&mut s);
    })
    .await;
    net.shutdown().await;
}

struct Sim {
    child: Child,
    served: Served,
}

impl Sim {
    fn spawn(subscribers: usize, nas: usize, connections: usize, cpu: Option<usize>) -> Sim {
        Self::spawn_paced(subscribers, nas, connections, cpu, None)
    }

    /// [`Sim::spawn`] with routers that print at most `rows_per_second`.
    fn spawn_paced(
        subscribers: usize,
        nas: usize,
        connections: usize,
        cpu: Option<usize>,
        rows_per_second: Option<u32>,
    ) -> Sim {
        let exe = std::env::current_exe().unwrap();
        let mut args = vec![
            "serve".to_string(),
            "--subscribers".into(),
            subscribers.to_string(),
            "--nas".into(),
            nas.to_string(),
            "--connections".into(),
            connections.to_string(),
        ];
        if let Some(c) = cpu {
            args.extend(["--cpu".into(), c.to_string()]);
        }
        if let Some(r) = rows_per_second {
            args.extend(["--rows-per-second".into(), r.to_string()]);
        }
        let mut child = Process::new(exe)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the simulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let served: Served = serde_json::from_str(&line).expect("simulator announces its routers");
        Sim { child, served }
    }

    fn targets(&self) -> Vec<NasTarget> {
        self.served
            .nas
            .iter()
            .map(|n| {
                let mut c = ConnectOptions::new(
                    n.addr.ip().to_string(),
                    n.addr.port(),
                    DEMO_USER,
                    DEMO_PASSWORD,
                );
                c.read_timeout = Duration::from_secs(60);
                let access = if n.hotspot {
                    Access::Hotspot
                } else {
                    Access::Pppoe
                };
                let mut t = NasTarget::new(n.name.clone(), c, access);
                t.budget = Duration::from_secs(600);
                t
            })
            .collect()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Reads one reply stream to its `!done` without decoding rows.
async fn drain_to_done(s: &mut TcpStream, buf: &mut [u8]) -> u64 {
    let finder = memchr::memmem::Finder::new(b"\x05!done");
    let mut total = 0u64;
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = s.read(buf).await.expect("read");
        assert!(n > 0, "router closed the connection");
        total += n as u64;
        tail.extend_from_slice(&buf[..n]);
        if finder.find(&tail).is_some() {
            return total;
        }
        let keep = tail.len().min(8);
        tail.drain(..tail.len() - keep);
    }
}

async fn send(s: &mut TcpStream, c: Command) {
    let mut out = Vec::new();
    c.encode_into(&mut out);
    s.write_all(&out).await.unwrap();
}

/// The same requests a scan sends, read as raw bytes.
async fn raw_read(t: NasTarget) -> u64 {
    let mut s = TcpStream::connect((t.connect.host.as_str(), t.connect.port))
        .await
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    send(
        &mut s,
        Command::new("/login")
            .attr("name", DEMO_USER)
            .attr("password", DEMO_PASSWORD),
    )
    .await;
    let mut bytes = drain_to_done(&mut s, &mut buf).await;
    // Exactly the commands a scan sends, from the scanner's own builders.
    let mut commands = vec![
        probes::mangle_print(probes::Family::Ipv4),
        probes::filter_print(),
        collect::sessions_print(t.access, None),
        collect::connections_print(collect::ConnectionFields {
            marks: true,
            ids: false,
        }),
    ];
    // A PPPoE router's IPv6 side, which a scan reads too.
    if t.access == shareguard_detect::Access::Pppoe {
        commands.extend([
            probes::mangle_print(probes::Family::Ipv6),
            ipv6::routes_print(),
            ipv6::connections_print(collect::ConnectionFields {
                marks: true,
                ids: false,
            }),
        ]);
    }
    for c in commands {
        send(&mut s, c).await;
        bytes += drain_to_done(&mut s, &mut buf).await;
    }
    bytes
}

fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// A memory figure of this process from /proc/self/status (`VmRSS:`,
/// `VmHWM:`), in MB.
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU seconds (user + system) this process has used so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn time_raw(targets: &[NasTarget]) -> (f64, u64) {
    let t0 = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for t in targets.iter().cloned() {
        set.spawn(raw_read(t));
    }
    let mut bytes = 0;
    while let Some(b) = set.join_next().await {
        bytes += b.unwrap();
    }
    (t0.elapsed().as_secs_f64(), bytes)
}

async fn time_scan(targets: &[NasTarget], scope: ScanScope) -> (f64, usize, u64) {
    let req = ScanRequest {
        targets: targets.to_vec(),
        scope,
        settings: DetectionSettings::default(),
        whitelist: Default::default(),
        lines: Default::default(),
        operator: "bench".into(),
        install_probes: false,
    };
    let t0 = Instant::now();
    let out = run_scan(req, CancellationToken::new(), None).await;
    let secs = t0.elapsed().as_secs_f64();
    for n in &out.summary.nas {
        assert_eq!(n.status, shareguard_detect::NasStatus::Ok, "{:?}", n.error);
    }
    let conns = out.summary.nas.iter().map(|n| n.connections).sum();
    (secs, out.results.len(), conns)
}

fn detection_bench(subscribers: usize) -> f64 {
    let pop = population::generate(&PopulationSpec::scaled(subscribers, 8, 42));
    let obs: Vec<SubscriberObservation> = pop
        .subscribers
        .iter()
        .map(|s| {
            // A line as a scan of a stored network sees it: its caller-id
            // (a registry lookup per verdict) and a full week of history.
            let mut o = demo::ideal_observation(&pop, s);
            let now = chrono::Utc::now();
            o.line.past = (1..=if std::env::var_os("NOHIST").is_some() {
                0
            } else {
                shareguard_detect::line::HISTORY_SCANS as i64
            })
                .map(|h| shareguard_detect::PastScan {
                    at: now - chrono::Duration::hours(h * 12),
                    counts: o.ttl.counts.clone(),
                })
                .collect();
            o
        })
        .collect();
    let settings = DetectionSettings::default();
    let mut runs = Vec::new();
    for _ in 0..7 {
        let t0 = Instant::now();
        let flagged = obs
            .iter()
            .map(|o| assess(o, &settings))
            .filter(|v| v.level >= shareguard_detect::Level::Medium)
            .count();
        runs.push(t0.elapsed().as_secs_f64());
        std::hint::black_box(flagged);
    }
    median(runs)
}

/// Full scans of the whole simulated network next to raw reads of the same
/// bytes; with `sim_cpu`, the simulator is confined to that CPU (the caller
/// has confined itself to another).
async fn full_scan_rows(
    subs: usize,
    nas: usize,
    conns: usize,
    rounds: usize,
    sim_cpu: Option<usize>,
) -> String {
    let sim = Sim::spawn(subs, nas, conns, sim_cpu);
    let targets = sim.targets();
    demo::install_probes(&targets)
        .await
        .expect("install probes");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut raw, mut scan) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    let mut seen = (0, 0);
    let (mut raw_cpu, mut scan_cpu) = (0.0, 0.0);
    for _ in 0..rounds {
        let c0 = cpu_seconds();
        let (s, b) = time_raw(&targets).await;
        let c1 = cpu_seconds();
        raw.push(s);
        bytes = b;
        let (s, n, c) = time_scan(&targets, ScanScope::All).await;
        let c2 = cpu_seconds();
        scan.push(s);
        seen = (n, c);
        raw_cpu += c1 - c0;
        scan_cpu += c2 - c1;
    }
    let per_row = |cpu: f64| cpu / rounds as f64 / seen.1 as f64 * 1e9;
    let (raw, scan) = (median(raw), median(scan));
    let setup = match sim_cpu {
        None => "simulator and scanner share both cores",
        Some(_) => "simulator on one core, scanner on the other",
    };
    format!(
        "| full scan ({setup}): {} subscribers, {} connections, {nas} routers | {scan:.2} s |\n\
         | raw read of the same {:.0} MB ({setup}) | {raw:.2} s |\n\
         | full scan / raw read ({setup}) | {:.2}x |\n\
         | scanner CPU per connection row, scan / raw read ({setup}) | {:.0} ns / {:.0} ns |\n",
        seen.0,
        seen.1,
        bytes as f64 / 1e6,
        scan / raw,
        per_row(scan_cpu),
        per_row(raw_cpu),
    )
}

fn sizes(quick: bool) -> (usize, usize, usize, usize, usize) {
    if quick {
        (3_000, 4, 240_000, 30_000, 1)
    } else {
        (30_000, 8, 2_400_000, 300_000, 3)
    }
}

async fn run(quick: bool) {
    let (subs, nas, conns, single, rounds) = sizes(quick);
    let mut report = String::from("| measurement | result |\n|---|---|\n");

    report += &full_scan_rows(subs, nas, conns, rounds, None).await;
    report += &format!(
        "| scanner peak memory (VmHWM) | {:.0} MB |\n",
        peak_rss_mb()
    );

    // The same with a core each, in a child process pinned before its runtime starts.
    let mut pinned = Process::new(std::env::current_exe().unwrap());
    pinned.arg("pinned");
    if quick {
        pinned.arg("--quick");
    }
    match pinned.output() {
        Ok(o) if o.status.success() => report += &String::from_utf8_lossy(&o.stdout),
        Ok(o) => eprintln!("pinned run failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => eprintln!("pinned run could not start: {e}"),
    }

    // One subscriber on a large router.
    let sim = Sim::spawn(single / 80, 1, single, None);
    let targets = sim.targets();
    demo::install_probes(&targets)
        .await
        .expect("install probes");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let who = sim.served.first_subscriber[0].clone();
    let (mut raw, mut scan) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(3) {
        raw.push(time_raw(&targets).await.0);
        let (s, n, _) = time_scan(&targets, ScanScope::Subscriber(who.clone())).await;
        assert_eq!(n, 1);
        scan.push(s);
    }
    let (raw, scan) = (median(raw), median(scan));
    report += &format!(
        "| one-subscriber scan on a {}-connection router | {scan:.3} s |\n\
         | raw read of that router | {raw:.3} s |\n\
         | one-subscriber scan / raw read | {:.2}x |\n",
        sim.served.connections,
        scan / raw
    );
    drop(sim);

    // A slow router: the same table sent at 20,000 rows per second, scanned
    // with the limits the app and the CLI use by default.
    let sim = Sim::spawn_paced(single / 80, 1, single, None, Some(20_000));
    let defaults: Vec<NasTarget> = sim
        .targets()
        .into_iter()
        .map(|t| {
            NasTarget::new(
                t.name.clone(),
                ConnectOptions {
                    read_timeout: Duration::from_secs(5),
                    ..t.connect
                },
                t.access,
            )
        })
        .collect();
    let (slow, _, rows) = time_scan(&defaults, ScanScope::All).await;
    report += &format!(
        "| full scan of a {rows}-connection router sending 20000 rows/s, default limits (10 s budget, 5 s silence) | {slow:.1} s, completed |\n"
    );
    drop(sim);

    let det = detection_bench(subs);
    report += &format!(
        "| detection rules for {subs} subscribers (caller-id and 8 earlier scans per line) | {:.1} ms |\n",
        det * 1000.0
    );

    report += &actions::rows(if quick { 50 } else { 500 }).await;
    report += &monitor::rows(subs, nas, if quick { 2 } else { 5 }).await;

    println!("{report}");
    let _ = std::fs::create_dir_all("target");
    let _ = std::fs::write("target/bench-report.md", &report);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str);
    let quick = args.iter().any(|a| a == "--quick");
    if mode == Some("pinned") {
        pin_to_cpu(1);
    }
    if mode == Some("serve") {
        if let Some(cpu) = args
            .windows(2)
            .find(|w| w[0] == "--cpu")
            .and_then(|w| w[1].parse().ok())
        {
            pin_to_cpu(cpu);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match mode {
        Some("serve") => rt.block_on(serve(&args[1..])),
        Some("actions") => println!("{}", rt.block_on(actions::rows(500))),
        Some("detection") => {
            let (subs, ..) = sizes(quick);
            println!(
                "detection rules for {subs} subscribers: {:.1} ms",
                detection_bench(subs) * 1000.0
            );
        }
        Some("report") => {
            let (subs, nas, ..) = sizes(quick);
            println!("{}", rt.block_on(report::rows(subs, nas)));
        }
        Some("monitor") => {
            let cycles = args
                .windows(2)
                .find(|w| w[0] == "--cycles")
                .and_then(|w| w[1].parse().ok())
                .unwrap_or(5);
            let (subs, nas, ..) = sizes(quick);
            println!("{}", rt.block_on(monitor::rows(subs, nas, cycles)));
        }
        Some("pinned") => {
            let (subs, nas, conns, _, rounds) = sizes(quick);
            print!(
                "{}",
                rt.block_on(full_scan_rows(subs, nas, conns, rounds, Some(0)))
            );
        }
        _ => rt.block_on(run(quick)),
    }
}
