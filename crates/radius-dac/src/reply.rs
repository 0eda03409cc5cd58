//! Reading an answer to a request.

use radius::core::code::Code;
use radius::core::packet::Packet;
use radius::core::rfc3576;

/// What the NAS answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Disconnect-ACK or CoA-ACK: done.
    Ack,
    /// Disconnect-NAK or CoA-NAK, with the RFC 5176 Error-Cause if given.
    Nak { cause: Option<u32> },
}

/// Why a datagram is not the answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Too short, or its length field disagrees with its size.
    Malformed,
    /// Answers another request (identifier differs): keep waiting.
    OtherIdentifier,
    /// The Response Authenticator does not verify: wrong secret or forged.
    BadAuthenticator,
    /// Not an ACK or NAK of the request's kind.
    UnexpectedCode(u8),
}

const HEADER: usize = 20;

/// Checks `datagram` as the answer to `request` (both as sent on the wire).
pub fn check(request: &[u8], datagram: &[u8], secret: &[u8]) -> Result<Answer, Mismatch> {
    if datagram.len() < HEADER || request.len() < HEADER {
        return Err(Mismatch::Malformed);
    }
    let declared = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    if declared < HEADER || declared > datagram.len() {
        return Err(Mismatch::Malformed);
    }
    let datagram = &datagram[..declared];
    if datagram[1] != request[1] {
        return Err(Mismatch::OtherIdentifier);
    }
    if !Packet::is_authentic_response(datagram, request, secret) {
        return Err(Mismatch::BadAuthenticator);
    }
    let (ack, nak) = match Code::from(request[0]) {
        Code::DisconnectRequest => (Code::DisconnectACK, Code::DisconnectNAK),
        _ => (Code::CoAACK, Code::CoANAK),
    };
    let code = Code::from(datagram[0]);
    if code == ack {
        Ok(Answer::Ack)
    } else if code == nak {
        let cause = Packet::decode(datagram, secret)
            .ok()
            .and_then(|p| rfc3576::lookup_error_cause(&p))
            .and_then(Result::ok);
        Ok(Answer::Nak { cause })
    } else {
        Err(Mismatch::UnexpectedCode(datagram[0]))
    }
}

/// An RFC 5176 Error-Cause in words, with what to do about it.
pub fn error_cause_text(cause: Option<u32>) -> String {
    let words = match cause {
        None => "no reason given",
        Some(201) => "the session was removed (residual context)",
        Some(401) => "the router does not support an attribute that was sent",
        Some(402) => "an attribute the router needs is missing",
        Some(403) => "the request named another NAS",
        Some(404) => "the router found the request invalid",
        Some(405) => "the router does not support this service",
        Some(406) => "the router does not support this extension",
        Some(407) => "an attribute value is invalid (check the rate format)",
        Some(501) => "the router's policy forbids this (administratively prohibited)",
        Some(502) => "the request could not be routed to the session's NAS",
        Some(503) => "the session is not on this router any more (the subscriber may have reconnected or logged off)",
        Some(504) => "the router could not remove the session",
        Some(505) => "another server's dynamic authorization is not allowed",
        Some(506) => "the router has no resources to act now; try again",
        Some(507) => "the router has not finished a previous request",
        Some(508) => "several sessions matched; the request named no single one",
        Some(_) => "an error the router did not explain",
    };
    match cause {
        Some(c) => format!("{words} (Error-Cause {c})"),
        None => words.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Request, SessionIds};
    use std::net::Ipv4Addr;

    fn request() -> Vec<u8> {
        Request::Disconnect(SessionIds {
            user_name: "bob".into(),
            framed_ip: Some(Ipv4Addr::new(10, 0, 0, 2)),
            acct_session_id: None,
        })
        .encode(b"secret", 42)
        .unwrap()
    }

    /// The reply a NAS holding `secret` would send.
    fn respond(req: &[u8], code: Code, cause: Option<u32>) -> Vec<u8> {
        let p = Packet::decode(req, b"secret").unwrap();
        let mut r = p.make_response_packet(code);
        if let Some(c) = cause {
            rfc3576::add_error_cause(&mut r, c);
        }
        r.encode().unwrap()
    }

    #[test]
    fn ack_nak_and_cause_are_read_from_an_authentic_reply() {
        let req = request();
        let ack = respond(&req, Code::DisconnectACK, None);
        assert_eq!(check(&req, &ack, b"secret"), Ok(Answer::Ack));
        let nak = respond(&req, Code::DisconnectNAK, Some(503));
        assert_eq!(
            check(&req, &nak, b"secret"),
            Ok(Answer::Nak { cause: Some(503) })
        );
        assert!(error_cause_text(Some(503)).contains("not on this router"));
    }

    #[test]
    fn a_reply_with_another_identifier_authenticator_or_code_is_not_the_answer() {
        let req = request();
        let ack = respond(&req, Code::DisconnectACK, None);
        assert_eq!(
            check(&req, &ack, b"other secret"),
            Err(Mismatch::BadAuthenticator)
        );
        let mut other = ack.clone();
        other[1] = 43;
        assert_eq!(
            check(&req, &other, b"secret"),
            Err(Mismatch::OtherIdentifier)
        );
        let mut forged = ack.clone();
        forged[4] ^= 0xFF;
        assert_eq!(
            check(&req, &forged, b"secret"),
            Err(Mismatch::BadAuthenticator)
        );
        let coa_ack = respond(&req, Code::CoAACK, None);
        assert_eq!(
            check(&req, &coa_ack, b"secret"),
            Err(Mismatch::UnexpectedCode(44))
        );
        assert_eq!(check(&req, &req[..10], b"secret"), Err(Mismatch::Malformed));
        let mut long = ack;
        long[3] = 200;
        assert_eq!(check(&req, &long, b"secret"), Err(Mismatch::Malformed));
    }
}
