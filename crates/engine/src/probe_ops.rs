//! Looking at, installing and removing a router's TTL probes, the same way
//! from the CLI and the app: inspect, plan, and only then (if asked) send
//! exactly the previewed commands and inspect again.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use routeros_client::Client;
use serde::Serialize;
use shareguard_scan::probes::{self, ProbePlan, ProbeState};
use shareguard_scan::NasTarget;
use shareguard_store::{action as audit_action, AuditEntry, Store};

use crate::actions::error::{within, ActionError};
use crate::persist::store_task;

/// What to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeAction {
    Install,
    Remove,
}

/// The router's probes and the plan; `applied` when the plan was sent, and
/// then `state` is the state after it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbeReport {
    pub state: ProbeState,
    /// What the owner should know about the router's firewall (FastTrack,
    /// other connection marks, no probes yet), in words.
    pub warnings: Vec<String>,
    pub plan: ProbePlan,
    pub applied: bool,
}

/// Plans `action` on `t`, and sends the plan when `apply` is true, within
/// the router's budget.
pub async fn probes(
    t: &NasTarget,
    action: ProbeAction,
    apply: bool,
) -> Result<ProbeReport, ActionError> {
    within(&t.name, t.budget, plan_and_apply(t, action, apply)).await
}

async fn plan_and_apply(
    t: &NasTarget,
    action: ProbeAction,
    apply: bool,
) -> Result<ProbeReport, ActionError> {
    let mut client = Client::connect(&t.connect).await?;
    let state = probes::inspect(&mut client, t.access).await?;
    let plan = match action {
        ProbeAction::Remove => probes::plan_remove(&state),
        ProbeAction::Install => {
            probes::plan_install_for(t, &state, Utc::now()).map_err(ActionError::Plan)?
        }
    };
    if !apply {
        return Ok(ProbeReport {
            warnings: state.warnings(),
            state,
            plan,
            applied: false,
        });
    }
    probes::apply(&mut client, &plan).await?;
    let state = probes::inspect(&mut client, t.access).await?;
    Ok(ProbeReport {
        warnings: state.warnings(),
        state,
        plan,
        applied: true,
    })
}

/// Sends the plan for `action` to `t` and records it in the audit log as
/// `operator` (`probes_installed` or `probes_removed`, with the commands
/// sent) unless there was nothing to change: the one path the CLI and the
/// app change probes by.
pub async fn change_probes(
    store: &Arc<Mutex<Store>>,
    operator: &str,
    t: &NasTarget,
    action: ProbeAction,
) -> Result<ProbeReport, ActionError> {
    let report = probes(t, action, true).await?;
    if !report.plan.is_noop() {
        let name = match action {
            ProbeAction::Install => audit_action::PROBES_INSTALLED,
            ProbeAction::Remove => audit_action::PROBES_REMOVED,
        };
        let entry = AuditEntry::new(operator, name)
            .subject(&t.name)
            .details(serde_json::json!({ "commands": report.plan.preview() }));
        store_task(store, move |s| s.audit(&entry).map(|_| ())).await?;
    }
    Ok(report)
}
