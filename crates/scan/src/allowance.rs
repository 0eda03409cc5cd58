//! How long one router may take: time that follows the work.
//!
//! A fixed total (the old 10 s) fails exactly the owners with the most
//! subscribers: a mid-range router streaming a 300,000-row table while it
//! serves its customers needs far longer than a small one, and is still
//! working. So a router is given up for two reasons only:
//! - it stops making progress: no byte for the silence limit (the client's
//!   read timeout, `--read-timeout`), which ends the read at once;
//! - it is slower than any working router: before the connection table is
//!   read the router says how many rows it holds (`count-only`), and the
//!   router may take its budget (`--budget`, for logging in and the small
//!   tables) plus that many rows at [`MIN_ROWS_PER_SECOND`], up to
//!   [`CEILING`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The slowest a working router sends its connection table; below this it
/// is overloaded or its link is failing. Real mid-range routers were seen
/// at 20,000 rows per second and more, so this leaves a tenfold margin.
pub const MIN_ROWS_PER_SECOND: u64 = 2_000;

/// No router gets more than this, however large its table.
pub const CEILING: Duration = Duration::from_secs(30 * 60);

/// A router's progress through its connection table, shared between the
/// task reading it and the one watching the time.
#[derive(Debug, Default)]
pub struct Progress {
    /// Rows the router said it holds, plus one; 0 while unknown.
    expected: AtomicU64,
    rows: AtomicU64,
}

impl Progress {
    pub fn set_expected(&self, rows: u64) {
        self.expected
            .store(rows.saturating_add(1), Ordering::Relaxed);
    }

    pub fn expected(&self) -> Option<u64> {
        self.expected.load(Ordering::Relaxed).checked_sub(1)
    }

    pub fn set_rows(&self, rows: u64) {
        self.rows.store(rows, Ordering::Relaxed);
    }

    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }
}

/// Runs `job`, one router's work, until it ends or outlasts the
/// [`allowance`] that `progress` (which `job` updates) earns it. `Err`
/// carries how long it ran when it was given up.
pub async fn within_allowance<T>(
    budget: Duration,
    progress: &Progress,
    job: impl std::future::Future<Output = T>,
) -> Result<T, Duration> {
    let t0 = std::time::Instant::now();
    tokio::pin!(job);
    let mut watch = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            r = &mut job => return Ok(r),
            _ = watch.tick() => {
                let elapsed = t0.elapsed();
                if elapsed > allowance(budget, progress.expected()) {
                    return Err(elapsed);
                }
            }
        }
    }
}

/// The time a router holding `expected` connection rows may take in all.
pub fn allowance(budget: Duration, expected: Option<u64>) -> Duration {
    let table = Duration::from_secs_f64(expected.unwrap_or(0) as f64 / MIN_ROWS_PER_SECOND as f64);
    (budget + table).min(CEILING.max(budget))
}

/// The limits in words, for the settings screen: `silence` is the read
/// timeout, `budget` the per-router budget.
pub fn describe(budget: Duration, silence: Duration) -> String {
    format!(
        "A router is given up when it stays silent for {:.0} s in the middle of a reply, or when it is slower than any working router: it gets {:.0} s to log in and send its small tables, plus one second for every {MIN_ROWS_PER_SECOND} rows its connection table holds (at most {} minutes). A large router gets the time it needs; a stalled one is given up quickly, and the others' results come in regardless.",
        silence.as_secs_f64(),
        budget.as_secs_f64(),
        CEILING.as_secs() / 60,
    )
}

/// [`describe`] for a router with the default budget and read timeout.
pub fn describe_defaults() -> String {
    let defaults = crate::NasTarget::new(
        "",
        routeros_client::ConnectOptions::new("", 0, "", ""),
        shareguard_detect::Access::Pppoe,
    );
    describe(defaults.budget, defaults.connect.read_timeout)
}

/// Why a router was given up after `elapsed`, in words that name the fix.
pub fn given_up(
    name: &str,
    address: &str,
    budget: Duration,
    elapsed: Duration,
    p: &Progress,
) -> String {
    let secs = elapsed.as_secs_f64();
    match p.expected() {
        Some(expected) => {
            let rows = p.rows();
            let percent = if expected == 0 {
                100.0
            } else {
                rows as f64 * 100.0 / expected as f64
            };
            format!(
                "{name} ({address}) was given up after {secs:.0} s with {percent:.0} % of its {expected} connections read ({rows} rows, {:.0} rows/s): a working router sends at least {MIN_ROWS_PER_SECOND} rows per second, so it is overloaded or its link is slow; scan it on its own when it is quieter, or raise the per-router budget",
                rows as f64 / secs.max(0.001),
            )
        }
        None => format!(
            "{name} ({address}) did not get to its connection table within its {:.0} s budget: it answers very slowly; raise the per-router budget or scan it on its own",
            budget.as_secs_f64()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_allowed_follows_the_table() {
        let budget = Duration::from_secs(10);
        assert_eq!(allowance(budget, None), budget);
        assert_eq!(allowance(budget, Some(0)), budget);
        // 300,000 rows at the slowest working rate: 150 s more.
        assert_eq!(allowance(budget, Some(300_000)), Duration::from_secs(160));
        assert_eq!(allowance(budget, Some(100_000_000)), CEILING);
        let long = Duration::from_secs(3600);
        assert_eq!(
            allowance(long, Some(1)),
            long,
            "a budget above the ceiling stands"
        );
    }

    #[test]
    fn the_reason_says_how_far_the_router_got() {
        let p = Progress::default();
        let budget = Duration::from_secs(10);
        let early = given_up("nas-1", "10.0.0.1:8728", budget, budget, &p);
        assert!(
            early.contains("did not get to its connection table within its 10 s budget"),
            "{early}"
        );
        p.set_expected(300_000);
        p.set_rows(90_000);
        let late = given_up(
            "nas-1",
            "10.0.0.1:8728",
            budget,
            Duration::from_secs(160),
            &p,
        );
        assert!(
            late.contains(
                "after 160 s with 30 % of its 300000 connections read (90000 rows, 562 rows/s)"
            ),
            "{late}"
        );
    }
}
