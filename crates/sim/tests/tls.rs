//! api-ssl with a pinned certificate fingerprint, the way ShareGuard talks to
//! routers that only have self-signed certificates.

mod common;

use std::sync::Arc;

use common::*;
use routeros_proto::ReplyKind;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use shareguard_sim::{PopulationSpec, SimConfig, SimNetwork};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[derive(Debug)]
struct Pinned {
    fingerprint: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if got == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("fingerprint mismatch".into()))
        }
    }

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

fn connector(fingerprint: [u8; 32]) -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            fingerprint,
            provider,
        }))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn api_ssl_with_pinned_fingerprint() {
    let net = SimNetwork::start(SimConfig {
        tls: true,
        ..frozen(PopulationSpec::demo())
    })
    .await
    .unwrap();
    let nas = &net.nas()[1];
    let addr = nas.tls_addr().expect("tls enabled");
    let fp = nas.tls_fingerprint_sha256().unwrap();
    assert_ne!(fp, net.nas()[0].tls_fingerprint_sha256().unwrap());

    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector(fp).connect(name.clone(), tcp).await.unwrap();
    let mut c = Client::new(tls);
    assert_eq!(
        kinds(&c.login("admin", "admin").await),
        vec![ReplyKind::Done]
    );
    let r = c.call(&["/system/identity/print"]).await;
    assert_eq!(get(&r[0], "name"), nas.name());
    let r = c
        .call(&["/ip/firewall/connection/print", "=.proplist=src-address"])
        .await;
    assert_eq!(rows(&r).len(), nas.connection_count());

    // A different pin is refused.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut wrong = fp;
    wrong[0] ^= 0xFF;
    assert!(connector(wrong).connect(name, tcp).await.is_err());
    net.shutdown().await;
}

#[tokio::test]
async fn fixed_ports_follow_the_documented_layout() {
    // Pick a free block by binding ephemeral ports first would race; instead
    // use a high block and skip the test if it is taken.
    let first = 41_700;
    let cfg = SimConfig {
        tls: true,
        first_api_port: first,
        first_radius_port: first + 300,
        ..frozen(PopulationSpec::demo())
    };
    let Ok(net) = SimNetwork::start(cfg).await else {
        eprintln!("port block {first} busy; skipped");
        return;
    };
    for (i, nas) in net.nas().iter().enumerate() {
        assert_eq!(nas.api_addr().port(), first + i as u16);
        assert_eq!(nas.tls_addr().unwrap().port(), first + 100 + i as u16);
        assert_eq!(nas.radius_addr().port(), first + 300 + i as u16);
        assert!(nas.api_addr().ip().is_loopback());
    }
    net.shutdown().await;
}

#[tokio::test]
async fn refuses_non_loopback_bind() {
    let cfg = SimConfig {
        bind: "0.0.0.0".parse().unwrap(),
        ..frozen(PopulationSpec::demo())
    };
    assert!(SimNetwork::start(cfg).await.is_err());
}
