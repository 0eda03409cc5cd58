//! Acting on one subscriber's session on a router.
//!
//! The session is looked up through the API with one filtered query (its
//! `.id`, address and RADIUS session id). With RADIUS set up for the router
//! and a RADIUS-authenticated session, the session is ended by a
//! Disconnect-Request naming it by user name, address and session id, so
//! the accounting record closes properly. Otherwise, or when the NAS gives no
//! answer at all, the session is removed through the API. A NAK is reported
//! as is: the router refused, and forcing it another way would hide why.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use radius_dac::{error_cause_text, Answer, DacClient, DacError, Request, SessionIds};
use routeros_client::{Client, Command, QueryOp};
use serde::Serialize;
use shareguard_detect::Access;
use shareguard_scan::NasTarget;
use shareguard_store::ActionMethod;
use thiserror::Error;

use crate::error_kind::ErrorKind;

/// One online session as the router reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ActiveSession {
    /// The row's `.id` in `/ppp/active` or `/ip/hotspot/active`.
    pub item: String,
    pub user: String,
    pub address: Option<Ipv4Addr>,
    /// Acct-Session-Id (PPP only; hotspot rows carry none).
    pub session_id: Option<String>,
    /// Whether the session was authorised by RADIUS (only those accept
    /// dynamic authorization).
    pub radius: bool,
}

/// What a disconnect did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DisconnectReport {
    pub subscriber: String,
    pub nas: String,
    pub method: ActionMethod,
    pub session: ActiveSession,
    /// RADIUS datagrams sent, when RADIUS was used or tried.
    pub radius_tries: Option<u32>,
    /// Lookup plus action, in milliseconds.
    pub elapsed_ms: f64,
    /// Why the fallback was used, when it was.
    pub note: Option<String>,
    /// Nothing was sent: this is what would have been done.
    pub dry_run: bool,
}

#[derive(Debug, Error)]
pub enum ActionError {
    #[error(transparent)]
    Router(#[from] routeros_client::Error),
    #[error(transparent)]
    Radius(#[from] DacError),
    #[error("{0} is on the whitelist: remove them from it first if they must be acted on")]
    Whitelisted(String),
    #[error("{subscriber} is not online on {nas}: there is no session to end")]
    NotOnline { subscriber: String, nas: String },
    #[error("{nas} refused the {request} for {subscriber}: {why}")]
    Refused {
        subscriber: String,
        nas: String,
        request: &'static str,
        why: String,
    },
    #[error("{nas} refused the {request} for {subscriber}: {why}")]
    Nak {
        subscriber: String,
        nas: String,
        request: &'static str,
        cause: Option<u32>,
        why: String,
    },
    /// The router lacks the firewall rules the step needs: `rules` are the
    /// commands that would install them (also in `why`, for a terminal),
    /// so a window can offer to install them without reading the text.
    #[error("{nas} refused the {request} for {subscriber}: {why}")]
    RuleMissing {
        subscriber: String,
        nas: String,
        request: &'static str,
        why: String,
        rules: Vec<String>,
    },
    #[error("{nas} took the rule, but {why}")]
    Misplaced { nas: String, why: String },
    /// The step cannot be planned (for example the chosen probe interface
    /// does not exist); the message names the fix.
    #[error("{0}")]
    Plan(String),
    #[error("{nas} did not finish the action within {} s: check the link to the router, then look at what the step touches there (the subscriber's session, the firewall rules) before trying again", .after.as_secs())]
    Timeout { nas: String, after: Duration },
    /// The local database failed before anything was sent to a router.
    #[error(transparent)]
    Storage(crate::EngineError),
    /// The router was changed, but the change could not be recorded.
    #[error("the router was changed, but the audit log could not be written: {0}")]
    Record(#[from] crate::EngineError),
}

impl ActionError {
    /// What kind of failure this is, for the window and the exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Router(e) => e.into(),
            Self::Radius(e) => e.into(),
            Self::Whitelisted(_) => ErrorKind::Whitelisted,
            Self::NotOnline { .. } => ErrorKind::NotOnline,
            Self::Refused { .. } | Self::Nak { .. } => ErrorKind::Refused,
            Self::RuleMissing { .. } => ErrorKind::RuleMissing,
            Self::Misplaced { .. } => ErrorKind::Misplaced,
            Self::Plan(_) => ErrorKind::InvalidInput,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Storage(e) | Self::Record(e) => e.kind(),
        }
    }

    /// The rules to install, when that is why the step was refused.
    pub fn missing_rules(&self) -> &[String] {
        match self {
            Self::RuleMissing { rules, .. } => rules,
            _ => &[],
        }
    }
}

/// The menu of a router's online sessions and its user-name field.
fn session_menu(access: Access) -> (&'static str, &'static str) {
    match access {
        Access::Pppoe => ("/ppp/active", "name"),
        Access::Hotspot => ("/ip/hotspot/active", "user"),
    }
}

/// Finds a subscriber's online session with one filtered query.
pub async fn find_session(
    c: &mut Client,
    access: Access,
    subscriber: &str,
) -> Result<Option<ActiveSession>, routeros_client::Error> {
    let (menu, user_field) = session_menu(access);
    let rows = c
        .run(
            Command::new(format!("{menu}/print"))
                .query(QueryOp::Eq(user_field.into(), subscriber.into()))
                .proplist(&[".id", user_field, "address", "session-id", "radius"]),
        )
        .await?;
    Ok(rows.first().and_then(|r| {
        Some(ActiveSession {
            item: r.get_str(".id")?.into_owned(),
            user: r.get_str(user_field)?.into_owned(),
            address: r.get_str("address").and_then(|a| a.parse().ok()),
            session_id: r
                .get_str("session-id")
                .map(|s| s.into_owned())
                .filter(|s| !s.is_empty()),
            radius: r.get_str("radius").is_some_and(|v| v == "true"),
        })
    }))
}

/// How an Acct-Session-Id is written in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionIdForm {
    /// As the router's own RADIUS accounting sends it: `81a0000b`.
    Accounting,
    /// As `/ppp active` prints it: `0x81A0000B`.
    Printed,
}

/// `0x81A0000B` (or `81A0000B`) → `81a0000b`, the form RouterOS's RADIUS
/// accounting uses.
pub fn accounting_session_id(printed: &str) -> String {
    let s = printed.trim();
    s.strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s)
        .to_ascii_lowercase()
}

impl ActiveSession {
    /// The identifiers a RADIUS request names this session by, with the
    /// session id in the accounting form (what the NAS's accounting sent
    /// the RADIUS server, so what a CoA from it would carry).
    pub fn radius_ids(&self) -> SessionIds {
        self.radius_ids_as(SessionIdForm::Accounting)
    }

    /// [`ActiveSession::radius_ids`] with the session id in `form`.
    pub fn radius_ids_as(&self, form: SessionIdForm) -> SessionIds {
        SessionIds {
            user_name: self.user.clone(),
            framed_ip: self.address,
            acct_session_id: self.session_id.as_deref().map(|s| match form {
                SessionIdForm::Accounting => accounting_session_id(s),
                SessionIdForm::Printed => s.to_string(),
            }),
        }
    }
}

/// Runs an action on `nas` within `budget`, so a router that stops answering
/// mid-action ends in a timeout error instead of a hang.
pub(crate) async fn within<T>(
    nas: &str,
    budget: Duration,
    job: impl std::future::Future<Output = Result<T, ActionError>>,
) -> Result<T, ActionError> {
    tokio::time::timeout(budget, job)
        .await
        .map_err(|_| ActionError::Timeout {
            nas: nas.to_string(),
            after: budget,
        })?
}

/// The subscriber's online session, or `NotOnline`.
pub(crate) async fn online(
    c: &mut Client,
    target: &NasTarget,
    subscriber: &str,
) -> Result<ActiveSession, ActionError> {
    find_session(c, target.access, subscriber)
        .await?
        .ok_or_else(|| ActionError::NotOnline {
            subscriber: subscriber.into(),
            nas: target.name.clone(),
        })
}

/// RFC 5176 Error-Cause: the NAS found no session matching the request.
const SESSION_CONTEXT_NOT_FOUND: u32 = 503;

/// Sends a request about `session` with its session id in the accounting
/// form; when the NAS answers "session context not found" (503), which is
/// what a router comparing the id in the other form says, tries the form
/// `/ppp active` prints once. When neither form is found, the answer is
/// [`Sent::Unknown`]. Every step is added to `steps` in words.
pub(crate) async fn send_for_session(
    dac: &DacClient,
    session: &ActiveSession,
    make: impl Fn(SessionIds) -> Request,
    nas: &str,
    steps: &mut Vec<String>,
) -> Result<Sent, ActionError> {
    let first = make(session.radius_ids_as(SessionIdForm::Accounting));
    let answer = match send_request(dac, &first, &session.user, nas).await {
        Err(ActionError::Nak {
            cause: Some(SESSION_CONTEXT_NOT_FOUND),
            ..
        }) if session
            .session_id
            .as_deref()
            .is_some_and(|s| accounting_session_id(s) != s) =>
        {
            let printed = session.session_id.clone().unwrap_or_default();
            steps.push(format!(
                "the {} naming session {} was refused (session context not found); sent again naming it {printed}",
                first.name(),
                accounting_session_id(&printed)
            ));
            send_request(
                dac,
                &make(session.radius_ids_as(SessionIdForm::Printed)),
                &session.user,
                nas,
            )
            .await
        }
        other => other,
    };
    match answer {
        Err(ActionError::Nak {
            cause: Some(SESSION_CONTEXT_NOT_FOUND),
            why,
            ..
        }) => Ok(Sent::Unknown(why)),
        other => other,
    }
}

/// How a RADIUS request went when the NAS did not refuse it.
pub(crate) enum Sent {
    /// Acknowledged after this many datagrams.
    Acked(u32),
    /// No answer at all after this many datagrams; the caller decides
    /// whether the API can do the job instead.
    NoAnswer(u32, DacError),
    /// The NAS knows no session by these names, in either form of the
    /// session id, though the API shows it (the router's answer in words);
    /// the caller decides whether the API can do the job instead.
    Unknown(String),
}

/// Sends one dynamic-authorization request about `subscriber`'s session. A
/// NAK becomes `Refused` with the router's reason in words.
pub(crate) async fn send_request(
    dac: &DacClient,
    request: &Request,
    subscriber: &str,
    nas: &str,
) -> Result<Sent, ActionError> {
    match dac.send(request).await {
        Ok(x) => match x.answer {
            Answer::Ack => Ok(Sent::Acked(x.tries)),
            Answer::Nak { cause } => Err(ActionError::Nak {
                subscriber: subscriber.into(),
                nas: nas.into(),
                request: request.name(),
                cause,
                why: error_cause_text(cause),
            }),
        },
        Err(e @ DacError::NoAnswer { tries, .. }) => {
            tracing::warn!(nas = %nas, "{e}");
            Ok(Sent::NoAnswer(tries, e))
        }
        Err(e) => Err(e.into()),
    }
}

/// Milliseconds since `started`, for reports.
pub(crate) fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// Ends `subscriber`'s session on `target`: by RADIUS when `radius` is given
/// and the session came from RADIUS, otherwise (or when RADIUS gets no
/// answer) through the API. With `dry_run`, only looks the session up.
pub async fn disconnect(
    target: &NasTarget,
    radius: Option<&DacClient>,
    subscriber: &str,
    dry_run: bool,
    budget: Duration,
) -> Result<DisconnectReport, ActionError> {
    within(
        &target.name,
        budget,
        disconnect_inner(target, radius, subscriber, dry_run),
    )
    .await
}

async fn disconnect_inner(
    target: &NasTarget,
    radius: Option<&DacClient>,
    subscriber: &str,
    dry_run: bool,
) -> Result<DisconnectReport, ActionError> {
    let started = Instant::now();
    let mut c = Client::connect(&target.connect).await?;
    let session = online(&mut c, target, subscriber).await?;
    let mut report = DisconnectReport {
        subscriber: subscriber.into(),
        nas: target.name.clone(),
        method: ActionMethod::Api,
        session: session.clone(),
        radius_tries: None,
        elapsed_ms: 0.0,
        note: None,
        dry_run,
    };
    let dac = radius.filter(|_| session.radius);
    if radius.is_some() && !session.radius {
        report.note = Some(
            "the session was not authorised by RADIUS, so it was removed through the API".into(),
        );
    }
    if let Some(dac) = dac {
        report.method = ActionMethod::Radius;
        if dry_run {
            report.elapsed_ms = elapsed_ms(started);
            return Ok(report);
        }
        let mut steps = Vec::new();
        match send_for_session(dac, &session, Request::Disconnect, &target.name, &mut steps).await {
            Ok(Sent::Acked(tries)) => {
                report.radius_tries = Some(tries);
                report.note = (!steps.is_empty()).then(|| steps.join("; "));
                report.elapsed_ms = elapsed_ms(started);
                return Ok(report);
            }
            Ok(Sent::NoAnswer(tries, e)) => {
                report.radius_tries = Some(tries);
                report.method = ActionMethod::Api;
                steps.push(format!(
                    "RADIUS: {e}. The session was removed through the API instead."
                ));
                report.note = Some(steps.join("; "));
            }
            // The router's RADIUS side does not know the session by these
            // names, so the API ends it.
            Ok(Sent::Unknown(why)) => {
                report.method = ActionMethod::Api;
                steps.push(format!(
                    "RADIUS: the router answered {why}, though /ppp active shows the session. The session was removed through the API instead."
                ));
                report.note = Some(steps.join("; "));
            }
            Err(e) => return Err(e),
        }
    }
    if !dry_run {
        let (menu, _) = session_menu(target.access);
        c.run(Command::new(format!("{menu}/remove")).attr(".id", session.item.as_str()))
            .await?;
    }
    report.elapsed_ms = elapsed_ms(started);
    Ok(report)
}
