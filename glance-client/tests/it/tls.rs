//! TLS options against a local TLS server: CA bundle, client certificate,
//! insecure mode.

use std::path::PathBuf;
use std::sync::Arc;

use glance_client::{Client, Error, RetryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn certs(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(fixture(name))
        .expect("readable")
        .collect::<Result<_, _>>()
        .expect("certificates")
}

/// An HTTPS server answering every request with a version document;
/// `client_auth` makes it demand a client certificate from the test CA.
async fn tls_server(client_auth: bool) -> String {
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("server key");
    let builder = ServerConfig::builder();
    let builder = if client_auth {
        let mut roots = RootCertStore::empty();
        for c in certs("ca.pem") {
            roots.add(c).expect("CA");
        }
        let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .expect("verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(certs("server.pem"), key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"versions": [{"id": "v2.17", "status": "CURRENT", "links": []}]}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://localhost:{port}")
}

fn builder(url: &str) -> glance_client::ClientBuilder {
    Client::builder()
        .endpoint(url)
        .retry(RetryConfig::disabled())
}

#[tokio::test]
async fn a_ca_bundle_file_makes_the_server_trusted() {
    let url = tls_server(false).await;
    let err = builder(&url)
        .build()
        .expect("builds")
        .versions()
        .await
        .expect_err("unknown CA");
    assert!(matches!(err, Error::Transport(_)), "{err}");

    let client = builder(&url)
        .ca_cert_file(fixture("ca.pem"))
        .build()
        .expect("builds");
    assert_eq!(client.versions().await.expect("trusted")[0].id, "v2.17");

    let pem = std::fs::read(fixture("ca.pem")).expect("readable");
    let client = builder(&url).ca_cert_pem(pem).build().expect("builds");
    client.versions().await.expect("trusted from memory");
}

#[tokio::test]
async fn insecure_skips_verification() {
    let url = tls_server(false).await;
    let client = builder(&url)
        .danger_accept_invalid_certs(true)
        .build()
        .expect("builds");
    client.versions().await.expect("not verified");
}

#[tokio::test]
async fn a_client_certificate_is_presented() {
    let url = tls_server(true).await;
    let without = builder(&url)
        .ca_cert_file(fixture("ca.pem"))
        .build()
        .expect("builds");
    assert!(
        without.versions().await.is_err(),
        "the server demands a certificate"
    );

    let with = builder(&url)
        .ca_cert_file(fixture("ca.pem"))
        .client_cert_file(fixture("client.pem"), fixture("client.key"))
        .build()
        .expect("builds");
    assert_eq!(with.versions().await.expect("accepted")[0].id, "v2.17");

    let mut pem = std::fs::read(fixture("client.pem")).expect("readable");
    pem.extend(std::fs::read(fixture("client.key")).expect("readable"));
    let with = builder(&url)
        .ca_cert_file(fixture("ca.pem"))
        .client_identity_pem(pem)
        .build()
        .expect("builds");
    with.versions().await.expect("accepted from memory");
}

#[test]
fn a_certificate_without_its_key_is_refused() {
    let err = Client::builder()
        .endpoint("https://localhost")
        .client_identity_pem(std::fs::read(fixture("client.pem")).expect("readable"))
        .build()
        .expect_err("no key");
    assert!(matches!(err, Error::Config(_)), "{err}");
}
