//! `shareguard-bench`: measures what the README reports.
//!
//! The simulated routers run in a child process so the scanner's peak memory
//! is its own. Each scenario compares a real scan with the physical limit on
//! this machine: reading the very same bytes (same commands, same `.proplist`)
//! from the same sockets without decoding them.
//!
//! Usage: `cargo run --release -p shareguard-bench [-- --quick]`.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use routeros_client::ConnectOptions;
use routeros_proto::Command;
use serde::{Deserialize, Serialize};
use shareguard_detect::{
    assess, Access, DetectionSettings, ProbeStrategy, ScanScope, SubscriberObservation, TtlEvidence,
};
use shareguard_engine::demo::{self, DEMO_PASSWORD, DEMO_USER};
use shareguard_scan::{collect, probes, run_scan, CancellationToken, NasTarget, ScanRequest};
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
    fn spawn(subscribers: usize, nas: usize, connections: usize) -> Sim {
        let exe = std::env::current_exe().unwrap();
        let mut child = Process::new(exe)
            .args([
                "serve",
                "--subscribers",
                &subscribers.to_string(),
                "--nas",
                &nas.to_string(),
                "--connections",
                &connections.to_string(),
            ])
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
    for c in [
        probes::mangle_print(),
        probes::filter_print(),
        collect::sessions_print(t.access, None),
        collect::connections_print(true),
    ] {
        send(&mut s, c).await;
        bytes += drain_to_done(&mut s, &mut buf).await;
    }
    bytes
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
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
            let access = demo::access_of(pop.nas[s.nas].access);
            let mut counts = std::collections::BTreeMap::new();
            for slot in &s.slots {
                *counts.entry(slot.seen_ttl).or_insert(0u32) += 1;
            }
            SubscriberObservation {
                subscriber: s.name.clone(),
                nas: pop.nas[s.nas].name.clone(),
                address: s.address.to_string(),
                access,
                expected_hops: access.default_expected_hops(),
                connections: s.slots.len() as u32,
                p2p_connections: s.slots.iter().filter(|x| x.p2p).count() as u32,
                ttl: TtlEvidence {
                    strategy: Some(ProbeStrategy::ConnectionMark),
                    counts,
                    probe_age_secs: Some(3600),
                },
                whitelist: None,
            }
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

async fn run(quick: bool) {
    let (subs, nas, conns, single) = if quick {
        (3_000, 4, 240_000, 30_000)
    } else {
        (30_000, 8, 2_400_000, 300_000)
    };
    let rounds = if quick { 1 } else { 3 };
    let mut report = String::from("| measurement | result |\n|---|---|\n");

    // Full scan.
    let sim = Sim::spawn(subs, nas, conns);
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
    eprintln!(
        "scanner CPU per row: raw read {:.0} ns, scan {:.0} ns",
        raw_cpu / rounds as f64 / seen.1 as f64 * 1e9,
        scan_cpu / rounds as f64 / seen.1 as f64 * 1e9
    );
    let (raw, scan) = (median(raw), median(scan));
    let rss = peak_rss_mb();
    report += &format!(
        "| full scan: {} subscribers, {} connections, {} routers | {:.2} s |\n| raw read of the same {:.0} MB | {:.2} s |\n| full scan / raw read | {:.2}x |\n| scanner peak memory (VmHWM) | {:.0} MB |\n",
        seen.0, seen.1, nas, scan, bytes as f64 / 1e6, raw, scan / raw, rss
    );
    drop(sim);

    // One subscriber on a large router.
    let sim = Sim::spawn(single / 80, 1, single);
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
        "| one-subscriber scan on a {}-connection router | {:.3} s |\n| raw read of that router | {:.3} s |\n| one-subscriber scan / raw read | {:.2}x |\n",
        sim.served.connections, scan, raw, scan / raw
    );
    drop(sim);

    let det = detection_bench(subs);
    report += &format!(
        "| detection rules for {subs} subscribers | {:.1} ms |\n",
        det * 1000.0
    );

    println!("{report}");
    let _ = std::fs::create_dir_all("target");
    let _ = std::fs::write("target/bench-report.md", &report);
}

/// Client-side cost per row with no socket and no simulator: decode, parse
/// and tally a pre-encoded connection table held in memory.
fn decode_cost(rows: usize) -> f64 {
    use routeros_proto::sentence::{encode_attribute, encode_word};
    let mut wire = Vec::with_capacity(rows * 110);
    for i in 0..rows {
        encode_word(b"!re", &mut wire);
        let src = format!(
            "10.1.{}.{}:{}",
            (i / 250) % 250,
            i % 250 + 1,
            1024 + i % 60000
        );
        encode_attribute("src-address", src.as_bytes(), &mut wire);
        encode_attribute("dst-address", b"151.101.12.7:443", &mut wire);
        encode_attribute("protocol", b"tcp", &mut wire);
        encode_attribute("connection-mark", b"sg-ttl-63", &mut wire);
        encode_word(b".tag=9", &mut wire);
        wire.push(0);
    }
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let mut d = routeros_proto::Decoder::default();
        let mut n = 0u64;
        for chunk in wire.chunks(64 * 1024) {
            d.feed(chunk);
            while let Some(s) = d.next_sentence().unwrap() {
                let r = routeros_proto::Reply::parse(s).unwrap();
                if r.tag() == Some(b"9") {
                    n += r.attributes().filter(|(k, _)| *k == b"src-address").count() as u64;
                }
            }
        }
        std::hint::black_box(n);
        runs.push(t0.elapsed().as_secs_f64());
    }
    median(runs) / rows as f64 * 1e9
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("decode") {
        println!("decode+parse: {:.0} ns/row", decode_cost(1_000_000));
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if args.first().map(String::as_str) == Some("serve") {
        rt.block_on(serve(&args[1..]));
    } else {
        rt.block_on(run(args.iter().any(|a| a == "--quick")));
    }
}
