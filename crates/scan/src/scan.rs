//! Running a scan over many NAS at once.
//!
//! Each NAS gets its own task, connection and time limit (one that follows
//! the size of its table, see [`crate::allowance`]); one router that
//! refuses, stalls or sends garbage ends as a failed part of the scan while
//! the others finish. Cancelling stops every task at its next await point and
//! drops its connection.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use routeros_client::{Client, Error};
use shareguard_detect::{
    assess, Access, DetectionSettings, LineMemory, NasOutcome, NasStatus, ProbeStrategy, ScanScope,
    ScanStatus, ScanSummary, SessionSeen, SubscriberObservation, SubscriberResult, TtlEvidence,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::allowance::{given_up, within_allowance, Progress};
use crate::collect::{
    count_connections, read_address_lists, read_connections, read_sessions, Session, Tallies, Tally,
};
use crate::probes::{self, ProbeState};
use crate::target::NasTarget;

/// Everything a scan needs.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub targets: Vec<NasTarget>,
    pub scope: ScanScope,
    pub settings: DetectionSettings,
    /// Whitelisted subscribers and their reasons.
    pub whitelist: HashMap<String, String>,
    /// What is known of each line beyond this scan (the owner's distance,
    /// earlier scans); lines not in it are judged on this scan alone.
    pub lines: HashMap<String, LineMemory>,
    /// Who started the scan (`system` for scheduled scans).
    pub operator: String,
    /// Install (or update) TTL probes before reading, where missing.
    pub install_probes: bool,
}

/// Progress, for a UI or a terminal.
#[derive(Debug, Clone)]
pub enum ScanEvent {
    NasStarted {
        nas: String,
    },
    /// Connection-table rows read so far on one NAS, and how many the
    /// router said it holds (when it said).
    NasRows {
        nas: String,
        rows: u64,
        expected: Option<u64>,
    },
    /// One NAS's results, as soon as that NAS is done.
    NasResults {
        nas: String,
        results: Vec<SubscriberResult>,
    },
    NasFinished(NasOutcome),
}

/// A finished scan: its summary and one result per checked subscriber.
#[derive(Debug, Clone)]
pub struct ScanOutput {
    pub summary: ScanSummary,
    pub results: Vec<SubscriberResult>,
}

struct NasWork {
    outcome: NasOutcome,
    results: Vec<SubscriberResult>,
}

/// Scans every target in parallel. Never fails as a whole: each NAS's failure
/// is recorded in its outcome with a message that names the fix.
pub async fn run_scan(
    req: ScanRequest,
    cancel: CancellationToken,
    events: Option<mpsc::Sender<ScanEvent>>,
) -> ScanOutput {
    let started_at = Utc::now();
    let shared = Arc::new(Job {
        settings: req.settings.clone(),
        whitelist: req.whitelist,
        lines: req.lines,
        scope: req.scope.clone(),
        install: req.install_probes,
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (i, target) in req.targets.into_iter().enumerate() {
        let shared = shared.clone();
        let cancel = cancel.clone();
        let events = events.clone();
        tasks.spawn(async move {
            let work = scan_one(&target, &shared, &cancel, events.as_ref()).await;
            (i, work)
        });
    }
    let mut parts: Vec<(usize, NasWork)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(part) => parts.push(part),
            Err(e) => tracing::error!("a NAS scan task failed: {e}"),
        }
    }
    parts.sort_by_key(|(i, _)| *i);

    let mut outcomes = Vec::with_capacity(parts.len());
    let mut results = Vec::new();
    for (_, w) in parts {
        outcomes.push(w.outcome);
        results.extend(w.results);
    }
    let ok = outcomes
        .iter()
        .filter(|o| o.status == NasStatus::Ok)
        .count();
    let status = if cancel.is_cancelled() {
        ScanStatus::Cancelled
    } else if ok == outcomes.len() {
        ScanStatus::Completed
    } else if ok == 0 {
        ScanStatus::Failed
    } else {
        ScanStatus::Partial
    };
    let summary = ScanSummary {
        id: None,
        started_at,
        finished_at: Some(Utc::now()),
        operator: req.operator,
        scope: req.scope,
        status,
        checked: results.len() as u32,
        flagged: results.iter().filter(|r| r.is_flagged()).count() as u32,
        nas: outcomes,
        settings: req.settings,
    };
    ScanOutput { summary, results }
}

async fn emit(events: Option<&mpsc::Sender<ScanEvent>>, e: ScanEvent) {
    if let Some(tx) = events {
        // A closed receiver only means nobody is watching.
        let _ = tx.send(e).await;
    }
}

/// What every router of one scan is asked for.
struct Job {
    settings: DetectionSettings,
    whitelist: HashMap<String, String>,
    lines: HashMap<String, LineMemory>,
    scope: ScanScope,
    /// Install (or update) the TTL probes first.
    install: bool,
}

async fn scan_one(
    target: &NasTarget,
    job: &Job,
    cancel: &CancellationToken,
    events: Option<&mpsc::Sender<ScanEvent>>,
) -> NasWork {
    let t0 = Instant::now();
    emit(
        events,
        ScanEvent::NasStarted {
            nas: target.name.clone(),
        },
    )
    .await;
    let mut outcome = NasOutcome {
        nas: target.name.clone(),
        address: target.address(),
        status: NasStatus::Ok,
        error: None,
        error_kind: None,
        sessions: 0,
        connections: 0,
        checked: 0,
        flagged: 0,
        duration_ms: 0,
        probe_strategy: None,
        warnings: Vec::new(),
        expected_rows: None,
        rows_per_second: None,
    };
    let progress = Progress::default();
    let read = {
        let reading = read_nas(target, job, events, &progress, &mut outcome);
        // The router may take longer the more rows it says it holds; a
        // stall is caught sooner by the client's silence limit.
        tokio::select! {
            _ = cancel.cancelled() => None,
            r = within_allowance(target.budget, &progress, reading) => Some(r),
        }
    };
    outcome.expected_rows = progress.expected();
    let results = match read {
        None => {
            outcome.status = NasStatus::Cancelled;
            outcome.error = Some("the scan was cancelled".into());
            outcome.error_kind = Some("cancelled".into());
            Vec::new()
        }
        Some(Err(elapsed)) => {
            outcome.status = NasStatus::TimedOut;
            outcome.error = Some(given_up(
                &target.name,
                &target.address(),
                target.budget,
                elapsed,
                &progress,
            ));
            outcome.error_kind = Some("timeout".into());
            Vec::new()
        }
        Some(Ok(Err(e))) => {
            outcome.status = NasStatus::Failed;
            outcome.error_kind = Some(e.kind().into());
            outcome.error = Some(e.to_string());
            Vec::new()
        }
        Some(Ok(Ok(r))) => r,
    };
    if outcome.status != NasStatus::Ok {
        // Partial counts from an aborted read would mislead.
        outcome.sessions = 0;
        outcome.connections = 0;
    }
    outcome.duration_ms = t0.elapsed().as_millis() as u64;
    outcome.checked = results.len() as u32;
    outcome.flagged = results.iter().filter(|r| r.is_flagged()).count() as u32;
    if !results.is_empty() {
        emit(
            events,
            ScanEvent::NasResults {
                nas: target.name.clone(),
                results: results.clone(),
            },
        )
        .await;
    }
    emit(events, ScanEvent::NasFinished(outcome.clone())).await;
    NasWork { outcome, results }
}

async fn read_nas(
    target: &NasTarget,
    job: &Job,
    events: Option<&mpsc::Sender<ScanEvent>>,
    progress: &Progress,
    outcome: &mut NasOutcome,
) -> Result<Vec<SubscriberResult>, Error> {
    let Job {
        settings,
        whitelist,
        lines,
        scope,
        install,
    } = job;
    let install = *install;
    if matches!(scope, ScanScope::Nas(n) if *n != target.name) {
        return Ok(Vec::new());
    }
    let mut client = Client::connect(&target.connect).await?;
    let mut state = probes::inspect(&mut client, target.access).await?;
    if install {
        state = install_probes(&mut client, target, state, outcome).await?;
    }
    let strategy = state.strategy();
    outcome.probe_strategy = strategy;
    outcome.warnings.extend(state.warnings());

    let only = match scope {
        ScanScope::Subscriber(s) => Some(s.as_str()),
        _ => None,
    };
    let sessions = read_sessions(&mut client, target.access, only).await?;
    outcome.sessions = sessions.len() as u32;
    if sessions.is_empty() {
        if matches!(scope, ScanScope::All) {
            let (menu, other) = match target.access {
                Access::Pppoe => ("/ppp/active", "hotspot"),
                Access::Hotspot => ("/ip/hotspot/active", "pppoe"),
            };
            outcome.warnings.push(format!(
                "No online sessions in {menu}: if this router serves {other} subscribers, set its access type to {other}."
            ));
        }
        return Ok(Vec::new());
    }
    let mut tallies = Tallies::for_sessions(&sessions);
    tallies.own_traffic = target.access == Access::Pppoe;
    if strategy == Some(ProbeStrategy::AddressList) {
        let one = (sessions.len() == 1).then(|| sessions[0].address);
        read_address_lists(&mut client, &mut tallies, one).await?;
    }
    let nas = target.name.clone();
    let tx = events.cloned();
    // How many rows are coming sets how long the router may take.
    let expected = count_connections(&mut client).await?;
    if let Some(n) = expected {
        progress.set_expected(n);
    }
    let started = Instant::now();
    let pass = read_connections(
        &mut client,
        &mut tallies,
        strategy == Some(ProbeStrategy::ConnectionMark),
        |rows| {
            progress.set_rows(rows);
            if let Some(tx) = &tx {
                let _ = tx.try_send(ScanEvent::NasRows {
                    nas: nas.clone(),
                    rows,
                    expected,
                });
            }
        },
    )
    .await?;
    let secs = started.elapsed().as_secs_f64();
    outcome.rows_per_second = (secs > 0.0).then(|| pass.rows as f64 / secs);
    outcome.connections = pass.rows;
    outcome.connections += crate::ipv6::read_ipv6_side(
        &mut client,
        target.access,
        &sessions,
        &mut tallies,
        strategy,
        None,
    )
    .await?;

    let now = Utc::now();
    let probe_age_secs = state
        .installed_at()
        .map(|at| (now - at).num_seconds().max(0) as u64);
    let results = accounts(sessions, tallies.tallies)
        .into_iter()
        .map(|(sessions, t)| {
            let first = &sessions[0];
            let obs = SubscriberObservation {
                whitelist: whitelist.get(&first.subscriber).cloned(),
                line: lines.get(&first.subscriber).cloned().unwrap_or_default(),
                subscriber: first.subscriber.clone(),
                nas: target.name.clone(),
                address: first.address.to_string(),
                access: target.access,
                expected_hops: target.expected_hops,
                connections: t.connections,
                p2p_connections: t.p2p,
                ttl: TtlEvidence {
                    strategy,
                    counts: t.ttl.into_iter().collect::<BTreeMap<_, _>>(),
                    probe_age_secs,
                    router_own: t.own.into_iter().collect(),
                },
                sessions: sessions
                    .iter()
                    .map(|s| SessionSeen {
                        address: s.address.to_string(),
                        caller_id: s.mac.clone(),
                    })
                    .collect(),
            };
            let v = assess(&obs, settings);
            SubscriberResult::new(obs, v, now)
        })
        .collect();
    Ok(results)
}

/// The sessions grouped per account, in the order accounts first appear,
/// with the tallies of an account's sessions added up: a second concurrent
/// session's connections and TTLs are the account's too, and one result per
/// account keeps the store (keyed by the login) from losing one of them.
fn accounts(sessions: Vec<Session>, tallies: Vec<Tally>) -> Vec<(Vec<Session>, Tally)> {
    let mut out: Vec<(Vec<Session>, Tally)> = Vec::with_capacity(sessions.len());
    let mut at: std::collections::HashMap<String, usize> =
        std::collections::HashMap::with_capacity(sessions.len());
    for (s, t) in sessions.into_iter().zip(tallies) {
        match at.get(&s.subscriber) {
            Some(&i) => {
                out[i].0.push(s);
                out[i].1.add(t);
            }
            None => {
                at.insert(s.subscriber.clone(), out.len());
                out.push((vec![s], t));
            }
        }
    }
    out
}

async fn install_probes(
    client: &mut Client,
    target: &NasTarget,
    state: ProbeState,
    outcome: &mut NasOutcome,
) -> Result<ProbeState, Error> {
    let plan = match probes::plan_install_for(target, &state, Utc::now()) {
        Ok(plan) => plan,
        Err(why) => {
            outcome
                .warnings
                .push(format!("TTL probes were not installed: {why}."));
            return Ok(state);
        }
    };
    if plan.is_noop() {
        return Ok(state);
    }
    probes::apply(client, &plan).await?;
    outcome.warnings.push(
        "TTL probes were just installed: they only see connections opened from now on, so TTL evidence builds up over the next minutes.".into(),
    );
    probes::inspect(client, target.access).await
}
