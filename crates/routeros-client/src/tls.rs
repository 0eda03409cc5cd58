//! TLS for api-ssl: certificate verification against the system's roots (plus
//! an optional CA of the owner's), or an explicit SHA-256 pin of a self-signed
//! router certificate (trust on first use, confirmed by the owner).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error::Error;

/// A SHA-256 fingerprint of a certificate's DER encoding.
pub type Fingerprint = [u8; 32];

/// How the router's certificate is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Chain to the system's trust store, or to `extra_ca_pem` (PEM text of the
    /// owner's own CA), and match the host name.
    Verify { extra_ca_pem: Option<String> },
    /// Accept exactly the certificate with this fingerprint, whatever signs it.
    Pinned(Fingerprint),
}

/// Parses `AB:CD:...`, `abcd...` or `sha256:...` (64 hex digits).
pub fn parse_fingerprint(s: &str) -> Result<Fingerprint, String> {
    let t = s.trim();
    let t = t
        .strip_prefix("sha256:")
        .or_else(|| t.strip_prefix("SHA256:"))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != ':' && *c != ' ').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{s:?} is not a SHA-256 fingerprint: expected 64 hexadecimal digits, optionally separated by colons"
        ));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// `AB:CD:...`, the form routers and browsers show.
pub fn format_fingerprint(fp: &Fingerprint) -> String {
    fp.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn fingerprint_of(cert: &CertificateDer<'_>) -> Fingerprint {
    Sha256::digest(cert.as_ref()).into()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts one exact certificate; remembers what it saw so a mismatch can be
/// reported with both fingerprints. `expected = None` accepts anything (used
/// only to read a fingerprint for the owner to confirm).
#[derive(Debug)]
struct PinVerifier {
    expected: Option<Fingerprint>,
    seen: Mutex<Option<Fingerprint>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = fingerprint_of(end_entity);
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(fp);
        match self.expected {
            None => Ok(ServerCertVerified::assertion()),
            Some(expected) if expected == fp => Ok(ServerCertVerified::assertion()),
            Some(_) => Err(rustls::Error::General(
                "certificate fingerprint mismatch".into(),
            )),
        }
    }

    // The pin replaces chain validation, not proof of key possession: the
    // handshake signature is still checked against the pinned certificate.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn server_name(host: &str, addr: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.trim_matches(['[', ']']).to_string()).map_err(|_| {
        Error::InvalidAddress(format!(
            "{host:?} is not a valid host name for TLS ({addr}): use the router's DNS name or IP address"
        ))
    })
}

fn verifying_config(extra_ca_pem: Option<&str>, addr: &str) -> Result<ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(pem) = extra_ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| Error::Tls {
                addr: addr.into(),
                reason: format!(
                    "the CA file is not valid PEM ({e}): export the CA certificate as PEM"
                ),
            })?;
            roots.add(cert).map_err(|e| Error::Tls {
                addr: addr.into(),
                reason: format!("the CA certificate cannot be used ({e})"),
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::Tls {
                addr: addr.into(),
                reason: "the CA file holds no certificate: export the CA certificate as PEM".into(),
            });
        }
    }
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls {
            addr: addr.into(),
            reason: e.to_string(),
        })
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

fn pinned_config(verifier: Arc<PinVerifier>, addr: &str) -> Result<ClientConfig, Error> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls {
            addr: addr.into(),
            reason: e.to_string(),
        })
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth()
        })
}

/// Wraps a connected TCP stream in TLS according to `mode`.
pub(crate) async fn handshake(
    tcp: TcpStream,
    host: &str,
    addr: &str,
    mode: &TlsMode,
) -> Result<TlsStream<TcpStream>, Error> {
    let name = server_name(host, addr)?;
    let (config, pin) = match mode {
        TlsMode::Verify { extra_ca_pem } => {
            (verifying_config(extra_ca_pem.as_deref(), addr)?, None)
        }
        TlsMode::Pinned(fp) => {
            let v = Arc::new(PinVerifier {
                expected: Some(*fp),
                seen: Mutex::new(None),
                provider: provider(),
            });
            (pinned_config(v.clone(), addr)?, Some(v))
        }
    };
    match TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
    {
        Ok(s) => Ok(s),
        Err(e) => Err(explain_handshake_error(e, addr, pin.as_deref())),
    }
}

fn explain_handshake_error(e: std::io::Error, addr: &str, pin: Option<&PinVerifier>) -> Error {
    if let Some(v) = pin {
        let seen = *v.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(expected), Some(actual)) = (v.expected, seen) {
            if expected != actual {
                return Error::FingerprintMismatch {
                    addr: addr.into(),
                    expected: format_fingerprint(&expected),
                    actual: format_fingerprint(&actual),
                };
            }
        }
    }
    let text = e.to_string();
    let reason = if text.contains("UnknownIssuer") || text.contains("invalid peer certificate") {
        format!("the router's certificate is not trusted ({text}). For a self-signed certificate, read its fingerprint on the router (/certificate print detail) or with `shareguard tls-fingerprint`, and pin it with --tls-fingerprint; or add your CA with --ca-file")
    } else if text.contains("HandshakeFailure") || text.contains("PeerIncompatible") {
        format!("no common cipher ({text}). api-ssl without a certificate only offers anonymous ciphers, which are not safe: create and assign a certificate on the router (/certificate add, sign, then /ip service set api-ssl certificate=...)")
    } else if text.contains("eof") || text.contains("reset") {
        format!("the router closed the connection during the TLS handshake ({text}): check that this port is api-ssl (8729), not plain api (8728)")
    } else {
        text
    };
    Error::Tls {
        addr: addr.into(),
        reason,
    }
}

/// Connects once and returns the fingerprint of the certificate the router
/// presents, without trusting it: the owner compares it with the router's own
/// display before pinning it.
pub async fn fetch_fingerprint(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Fingerprint, Error> {
    let addr = crate::client::join_addr(host, port);
    let tcp = crate::client::connect_tcp(&addr, timeout).await?;
    let v = Arc::new(PinVerifier {
        expected: None,
        seen: Mutex::new(None),
        provider: provider(),
    });
    let config = pinned_config(v.clone(), &addr)?;
    let name = server_name(host, &addr)?;
    let result = tokio::time::timeout(
        timeout,
        TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await;
    let seen = *v.seen.lock().unwrap_or_else(|p| p.into_inner());
    match (seen, result) {
        (Some(fp), _) => Ok(fp),
        (None, Err(_)) => Err(Error::ConnectTimeout {
            addr,
            after: timeout,
        }),
        (None, Ok(Err(e))) => Err(explain_handshake_error(e, &addr, None)),
        (None, Ok(Ok(_))) => Err(Error::Tls {
            addr,
            reason: "the router presented no certificate".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_the_usual_spellings() {
        let colon = (0..32)
            .map(|i| format!("{i:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let fp = parse_fingerprint(&colon).unwrap();
        assert_eq!(fp[31], 31);
        assert_eq!(format_fingerprint(&fp), colon);
        assert_eq!(
            parse_fingerprint(&format!("sha256:{}", colon.replace(':', "").to_lowercase()))
                .unwrap(),
            fp
        );
        assert!(parse_fingerprint("abc")
            .unwrap_err()
            .contains("64 hexadecimal"));
    }
}
