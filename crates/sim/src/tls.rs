//! api-ssl: a self-signed certificate per NAS, made at start.
//!
//! Small ISPs rarely have CA-signed certificates on their routers, so clients
//! pin the certificate's SHA-256 fingerprint; the simulator exposes it so a
//! test can pin it the same way.

use std::io;
use std::sync::Arc;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

/// A ready acceptor and the fingerprint of its certificate.
pub(crate) struct NasTls {
    pub acceptor: TlsAcceptor,
    pub fingerprint: [u8; 32],
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Makes a certificate with CN = the NAS name.
pub(crate) fn make(nas_name: &str) -> io::Result<NasTls> {
    let key = KeyPair::generate().map_err(other)?;
    let loopback = vec!["127.0.0.1".to_string(), "::1".to_string()];
    let mut names = loopback.clone();
    names.push(nas_name.to_string());
    // A NAS name need not be a valid DNS name; then only loopback SANs are used.
    let mut params = CertificateParams::new(names)
        .or_else(|_| CertificateParams::new(loopback))
        .map_err(other)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, nas_name);
    params.distinguished_name = dn;
    let cert = params.self_signed(&key).map_err(other)?;
    let der: CertificateDer<'static> = cert.der().clone();
    let fingerprint: [u8; 32] = Sha256::digest(der.as_ref()).into();
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(other)?
            .with_no_client_auth()
            .with_single_cert(vec![der], key_der)
            .map_err(other)?;
    Ok(NasTls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        fingerprint,
    })
}
