//! Finding one subscriber's online session on a router and sending it a
//! RADIUS request: what every action on a subscriber starts with.

use std::net::Ipv4Addr;
use std::time::Instant;

use radius_dac::{error_cause_text, Answer, DacClient, DacError, Request, SessionIds};
use routeros_client::{Client, Command, QueryOp};
use serde::Serialize;
use shareguard_detect::Access;
use shareguard_scan::NasTarget;

use super::error::ActionError;

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

/// The menu of a router's online sessions and its user-name field.
pub(crate) fn session_menu(access: Access) -> (&'static str, &'static str) {
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

/// The refusal for a session that has no address to act on yet.
pub(crate) fn no_address(
    router: &crate::router::Router,
    subscriber: &str,
    request: &'static str,
) -> ActionError {
    ActionError::Refused {
        subscriber: subscriber.into(),
        nas: router.target.name.clone(),
        request,
        why: "the session has no IPv4 address yet; try again once it is fully connected".into(),
    }
}
