//! Looking at, installing and removing a router's TTL probes, the same way
//! from the CLI and the app: inspect, plan, and only then (if asked) send
//! exactly the previewed commands and inspect again.

use chrono::Utc;
use routeros_client::Client;
use serde::Serialize;
use shareguard_scan::probes::{self, ProbePlan, ProbeState};
use shareguard_scan::NasTarget;

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

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    Router(#[from] routeros_client::Error),
    /// The plan cannot be made (for example the chosen interface does not exist).
    #[error("{0}")]
    Plan(String),
}

impl ProbeError {
    /// What kind of failure this is, for the window and the exit code.
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            Self::Router(e) => e.into(),
            Self::Plan(_) => crate::ErrorKind::InvalidInput,
        }
    }
}

/// Plans `action` on `t`, and sends the plan when `apply` is true.
pub async fn probes(
    t: &NasTarget,
    action: ProbeAction,
    apply: bool,
) -> Result<ProbeReport, ProbeError> {
    let mut client = Client::connect(&t.connect).await?;
    let state = probes::inspect(&mut client, t.access).await?;
    let plan = match action {
        ProbeAction::Remove => probes::plan_remove(&state),
        ProbeAction::Install => {
            probes::plan_install_for(t, &state, Utc::now()).map_err(ProbeError::Plan)?
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
