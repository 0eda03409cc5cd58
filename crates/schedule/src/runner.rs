//! The loop that waits for the next run.
//!
//! It wakes at least once a minute and re-reads the wall clock, so a computer
//! that slept, or a clock that jumped, neither fires a burst of missed runs
//! nor waits an hour too long: after a jump, the next run is computed again
//! from the new time.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Local};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::Schedule;

/// The longest single sleep; the clock is checked again after it.
const MAX_NAP: Duration = Duration::from_secs(60);

type Now = Arc<dyn Fn() -> DateTime<Local> + Send + Sync>;

/// Runs a job on a schedule that can be changed, paused or cleared while it runs.
pub struct Runner {
    schedule: watch::Sender<Option<Schedule>>,
    paused: watch::Sender<bool>,
    next: watch::Receiver<Option<DateTime<Local>>>,
    stop: CancellationToken,
}

impl Runner {
    /// Starts the loop on the current tokio runtime with the system clock.
    pub fn start<F, Fut>(job: F) -> Self
    where
        F: Fn(DateTime<Local>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send,
    {
        Self::start_with_clock(Arc::new(Local::now), job)
    }

    /// The same with a clock of the caller's (tests move it by hand).
    pub fn start_with_clock<F, Fut>(now: Now, job: F) -> Self
    where
        F: Fn(DateTime<Local>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (schedule, mut schedule_rx) = watch::channel(None::<Schedule>);
        let (paused, mut paused_rx) = watch::channel(false);
        let (next_tx, next) = watch::channel(None);
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            loop {
                let current = schedule_rx.borrow_and_update().clone();
                let is_paused = *paused_rx.borrow_and_update();
                let due = match (&current, is_paused) {
                    (Some(s), false) => s.next_after(&now()),
                    _ => None,
                };
                let _ = next_tx.send(due);
                let nap = due
                    .map(|d| (d - now()).to_std().unwrap_or(Duration::ZERO).min(MAX_NAP))
                    .unwrap_or(MAX_NAP);
                tokio::select! {
                    _ = stopped.cancelled() => return,
                    _ = schedule_rx.changed() => continue,
                    _ = paused_rx.changed() => continue,
                    _ = tokio::time::sleep(nap) => {}
                }
                if let Some(d) = due {
                    let t = now();
                    // Late by more than a nap means the computer slept through
                    // it: skip to the next run rather than firing late.
                    if t >= d && t - d < chrono::Duration::from_std(MAX_NAP * 2).unwrap_or_default()
                    {
                        tracing::info!("scheduled run due at {d}");
                        job(d).await;
                    }
                }
            }
        });
        Self {
            schedule,
            paused,
            next,
            stop,
        }
    }

    /// Sets (or clears, with `None`) the schedule.
    pub fn set_schedule(&self, s: Option<Schedule>) {
        let _ = self.schedule.send(s);
    }

    pub fn set_paused(&self, paused: bool) {
        let _ = self.paused.send(paused);
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// When the next run is due, if any.
    pub fn next_run(&self) -> Option<DateTime<Local>> {
        *self.next.borrow()
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    fn clock(start: DateTime<Local>) -> (Arc<Mutex<DateTime<Local>>>, Now) {
        let t = Arc::new(Mutex::new(start));
        let read = t.clone();
        (t, Arc::new(move || *read.lock().unwrap()))
    }

    async fn pass(t: &Arc<Mutex<DateTime<Local>>>, d: Duration) {
        // Move both clocks in steps no longer than a nap.
        let mut left = d;
        while !left.is_zero() {
            let step = left.min(Duration::from_secs(30));
            *t.lock().unwrap() += chrono::Duration::from_std(step).unwrap();
            tokio::time::advance(step).await;
            tokio::task::yield_now().await;
            left -= step;
        }
    }

    /// A runner whose job only counts its runs.
    fn counting(now: Now) -> (Runner, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let r = Runner::start_with_clock(now, move |_| {
            let c = counter.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
            }
        });
        (r, runs)
    }

    #[tokio::test(start_paused = true)]
    async fn fires_on_schedule_and_not_while_paused_or_cleared() {
        let start = Local::now();
        let (t, now) = clock(start);
        let (r, runs) = counting(now);
        r.set_schedule(Some(Schedule::parse("*/10 * * * *").unwrap()));
        pass(&t, Duration::from_secs(60 * 60)).await;
        let hour = runs.load(Ordering::SeqCst);
        assert!((5..=6).contains(&hour), "six runs an hour, got {hour}");
        assert!(r.next_run().is_some());

        r.set_paused(true);
        tokio::task::yield_now().await;
        pass(&t, Duration::from_secs(60 * 60)).await;
        assert_eq!(runs.load(Ordering::SeqCst), hour, "paused");
        assert_eq!(r.next_run(), None);

        r.set_paused(false);
        r.set_schedule(None);
        tokio::task::yield_now().await;
        pass(&t, Duration::from_secs(60 * 60)).await;
        assert_eq!(runs.load(Ordering::SeqCst), hour, "cleared");
    }

    #[tokio::test(start_paused = true)]
    async fn a_computer_that_slept_through_a_run_does_not_fire_it_late() {
        let start = Local::now();
        let (t, now) = clock(start);
        let (r, runs) = counting(now);
        r.set_schedule(Some(Schedule::parse("0 * * * *").unwrap()));
        tokio::task::yield_now().await;
        // The wall clock jumps three hours while the process sleeps one nap.
        *t.lock().unwrap() += chrono::Duration::hours(3);
        tokio::time::advance(MAX_NAP).await;
        tokio::task::yield_now().await;
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        assert!(r.next_run().unwrap() > start + chrono::Duration::hours(3));
    }
}
