//! Throttles on a router, and lifting them again: a CoA-Request with
//! Mikrotik-Rate-Limit at a share of the plan when the session came from
//! RADIUS (RouterOS then re-shapes the session's dynamic queue); otherwise,
//! or when RADIUS gives no answer, a static simple queue for the subscriber's
//! address placed before its dynamic queue. The plan to restore is read from
//! that queue first, and kept with the action.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use radius_dac::{RateLimit, Request};
use routeros_client::{Client, Command, QueryOp};
use serde::{Deserialize, Serialize};
use shareguard_scan::monitor::read_queues_where;
use shareguard_store::ActionMethod;

use super::error::{within, ActionError};
use super::session::{elapsed_ms, find_session, no_address, online, send_for_session, Sent};
use crate::router::Router;

/// The comment prefix of throttle queues added through the API.
pub const THROTTLE_COMMENT: &str = "shareguard throttle";
/// Never throttle below this: a line slower than this cannot even load the
/// ISP's own notice page.
pub const MIN_THROTTLE_BPS: u64 = 64_000;

/// How a throttle is undone; stored with the action so it can be undone after
/// a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Restore {
    /// Send a CoA with the plan's rate again.
    Coa { rate: String },
    /// Remove the static queue that was added.
    Queue { item: String },
}

/// What a throttle did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ThrottleReport {
    pub subscriber: String,
    pub nas: String,
    pub method: ActionMethod,
    pub address: Option<Ipv4Addr>,
    pub plan: String,
    pub rate: String,
    pub restore: Restore,
    pub radius_tries: Option<u32>,
    pub elapsed_ms: f64,
    pub note: Option<String>,
    pub dry_run: bool,
}

/// The rate `percent` % of `plan`, never below [`MIN_THROTTLE_BPS`].
pub fn throttled_rate(plan: RateLimit, percent: u8) -> RateLimit {
    let cut = |bps: u64| (bps * u64::from(percent) / 100).max(MIN_THROTTLE_BPS);
    RateLimit {
        rx_bps: cut(plan.rx_bps),
        tx_bps: cut(plan.tx_bps),
    }
}

/// Throttles `subscriber` to `percent` % of their plan (or to `rate` when
/// given). With `dry_run`, only looks the session and plan up.
pub async fn throttle(
    router: &Router,
    subscriber: &str,
    percent: u8,
    rate: Option<RateLimit>,
    dry_run: bool,
    budget: Duration,
) -> Result<ThrottleReport, ActionError> {
    within(&router.target.name, budget, async {
        let started = Instant::now();
        let mut c = Client::connect(&router.target.connect).await?;
        let session = online(&mut c, &router.target, subscriber).await?;
        let ip = session.address.ok_or_else(|| no_address(router, subscriber, "lookup"))?;
        let queues = read_queues_where(&mut c, Some((subscriber, ip))).await?;
        let queue = queues.of(subscriber, ip);
        let plan = queue.map(|q| q.max_limit);
        let rate = match (rate, plan) {
            (Some(r), _) => r,
            (None, Some(p)) => throttled_rate(p, percent),
            (None, None) => {
                return Err(ActionError::Refused {
                    subscriber: subscriber.into(),
                    nas: router.target.name.clone(),
                    request: "throttle",
                    why: format!(
                        "no queue on the router gives {ip} a plan rate, so {percent}% of it is unknown; give an explicit rate (for example --rate 1M/2M)"
                    ),
                })
            }
        };
        let plan_text = plan.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into());
        let mut report = ThrottleReport {
            subscriber: subscriber.into(),
            nas: router.target.name.clone(),
            method: ActionMethod::Api,
            address: Some(ip),
            plan: plan_text.clone(),
            rate: rate.to_string(),
            restore: Restore::Queue {
                item: String::new(),
            },
            radius_tries: None,
            elapsed_ms: 0.0,
            note: None,
            dry_run,
        };
        if let (Some(dac), true, Some(plan)) = (router.radius.as_ref(), session.radius, plan) {
            report.method = ActionMethod::Radius;
            report.restore = Restore::Coa {
                rate: plan.to_string(),
            };
            if dry_run {
                report.elapsed_ms = elapsed_ms(started);
                return Ok(report);
            }
            let mut steps = Vec::new();
            let make = |ids| Request::RateLimit(ids, rate);
            match send_for_session(dac, &session, make, &router.target.name, &mut steps).await {
                Ok(Sent::Acked(tries)) => {
                    report.radius_tries = Some(tries);
                    report.note = (!steps.is_empty()).then(|| steps.join("; "));
                    report.elapsed_ms = elapsed_ms(started);
                    return Ok(report);
                }
                Ok(Sent::NoAnswer(tries, e)) => {
                    report.radius_tries = Some(tries);
                    steps.push(format!(
                        "RADIUS: {e}. The throttle was set with a queue through the API instead."
                    ));
                }
                Ok(Sent::Unknown(why)) => steps.push(format!(
                    "RADIUS: the router answered {why}, though it shows the session. The throttle was set with a queue through the API instead."
                )),
                Err(e) => return Err(e),
            }
            report.method = ActionMethod::Api;
            report.restore = Restore::Queue { item: String::new() };
            report.note = Some(steps.join("; "));
        }
        if dry_run {
            report.elapsed_ms = elapsed_ms(started);
            return Ok(report);
        }
        // The session's own queue's target (its `<pppoe-USER>` interface on
        // PPPoE), so the throttle shapes exactly what the plan does.
        let target = queue
            .filter(|q| q.dynamic && !q.target.is_empty())
            .map_or_else(|| format!("{ip}/32"), |q| q.target.clone());
        let mut add = Command::new("/queue/simple/add")
            .attr("name", format!("sg-throttle-{subscriber}"))
            .attr("target", target)
            .attr("max-limit", rate.to_string())
            .attr("comment", format!("{THROTTLE_COMMENT} {subscriber} (plan {plan_text})"));
        if let Some(q) = queue.filter(|q| q.dynamic && !q.item.is_empty()) {
            // Queues match in order: before the dynamic queue, or the plan wins.
            add = add.attr("place-before", q.item.as_str());
        }
        let item = c.execute(add).await?.unwrap_or_default();
        report.restore = Restore::Queue { item };
        report.elapsed_ms = elapsed_ms(started);
        Ok(report)
    })
    .await
}

/// Undoes a throttle. A session that has gone offline since needs nothing:
/// its queue went with it, and a new session starts at the plan.
pub async fn lift_throttle(
    router: &Router,
    subscriber: &str,
    restore: &Restore,
    budget: Duration,
) -> Result<String, ActionError> {
    within(&router.target.name, budget, async {
        let mut c = Client::connect(&router.target.connect).await?;
        match restore {
            Restore::Queue { item } => {
                let exists = !c
                    .run(
                        Command::new("/queue/simple/print")
                            .proplist(&[".id"])
                            .query(QueryOp::Eq(".id".into(), item.clone())),
                    )
                    .await?
                    .is_empty();
                if !exists {
                    return Ok("the throttle queue was already gone".into());
                }
                c.run(Command::new("/queue/simple/remove").attr(".id", item.as_str()))
                    .await?;
                Ok("the throttle queue was removed".into())
            }
            Restore::Coa { rate } => {
                let Some(session) = find_session(&mut c, router.target.access, subscriber).await?
                else {
                    return Ok("the subscriber is offline; a new session starts at the plan".into());
                };
                let rate = RateLimit::parse(rate).map_err(|why| ActionError::Refused {
                    subscriber: subscriber.into(),
                    nas: router.target.name.clone(),
                    request: "CoA-Request",
                    why,
                })?;
                let Some(dac) = router.radius.as_ref() else {
                    return Err(ActionError::Refused {
                        subscriber: subscriber.into(),
                        nas: router.target.name.clone(),
                        request: "CoA-Request",
                        why: "RADIUS is no longer set up for this router, so the plan cannot be restored by CoA; set the RADIUS secret again or reconnect the subscriber".into(),
                    });
                };
                let mut steps = Vec::new();
                let make = |ids| Request::RateLimit(ids, rate);
                match send_for_session(dac, &session, make, &router.target.name, &mut steps).await? {
                    Sent::Acked(_) => {
                        steps.push(format!("the plan {rate} was restored by CoA"));
                        Ok(steps.join("; "))
                    }
                    Sent::NoAnswer(_, e) => Err(e.into()),
                    Sent::Unknown(why) => Err(ActionError::Refused {
                        subscriber: subscriber.into(),
                        nas: router.target.name.clone(),
                        request: "CoA-Request",
                        why,
                    }),
                }
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_is_a_share_of_the_plan_with_a_floor() {
        let plan = RateLimit::parse("10M/20M").unwrap();
        assert_eq!(throttled_rate(plan, 25).to_string(), "2500k/5M");
        let tiny = RateLimit::parse("128k/256k").unwrap();
        assert_eq!(throttled_rate(tiny, 10).to_string(), "64k/64k");
    }

    #[test]
    fn restore_is_stored_as_tagged_json() {
        let r = Restore::Coa {
            rate: "10M/20M".into(),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v, serde_json::json!({"via": "coa", "rate": "10M/20M"}));
        assert_eq!(serde_json::from_value::<Restore>(v).unwrap(), r);
    }
}
