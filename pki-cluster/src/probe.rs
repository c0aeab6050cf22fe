//! TLS on members' peer ports, outside etcd's API: which certificate chain each existing member
//! actually serves there (a copied or stale file on one node is caught this way), and whether a
//! member accepts a new member's peer certificate as a client certificate (a live handshake,
//! then an HTTP request to its `/version`, since a TLS 1.3 server reports a rejected client
//! certificate only after the handshake).
//!
//! rustls (on aws-lc) does the TLS; the served certificates are recorded, not judged, during the
//! handshake: they are judged afterwards with pki-core, by Go's rules.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use pki_core::{Host, HostUrl};

use crate::connection::Deadline;
use crate::error::Error;

/// Records the chain a server presents and accepts it; the handshake signature is still checked
/// against the recorded certificate's key.
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    chain: Mutex<Vec<Vec<u8>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.to_vec()];
        chain.extend(intermediates.iter().map(|c| c.to_vec()));
        if let Ok(mut recorded) = self.chain.lock() {
            *recorded = chain;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
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
        rustls::crypto::verify_tls13_signature(
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

/// A client identity for the handshake: certificate chain and key, as PEM bytes.
pub struct Identity {
    /// The certificate file's contents (leaf first).
    pub certs_pem: Vec<u8>,
    /// The key file's contents (zeroed when dropped, never printed).
    pub key_pem: zeroize::Zeroizing<Vec<u8>>,
}

impl Identity {
    /// Reads a certificate file and its key file (regular files only; see pki-core).
    ///
    /// # Errors
    /// [`Error::File`] when either cannot be read.
    pub fn from_files(
        cert: impl AsRef<std::path::Path>,
        key: impl AsRef<std::path::Path>,
    ) -> Result<Identity, Error> {
        Ok(Identity {
            certs_pem: pki_core::read_file(cert.as_ref())?,
            key_pem: zeroize::Zeroizing::new(pki_core::read_file(key.as_ref())?),
        })
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("certs_pem", &format_args!("{} bytes", self.certs_pem.len()))
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// What a connection to a peer port showed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PeerProbe {
    /// The chain the member served (DER, leaf first); empty if it sent none.
    pub served: Vec<Vec<u8>>,
    /// With an identity: whether the member accepted it, or why not.
    pub accepted: Result<(), ProbeRefusal>,
    /// The local address the connection came from.
    pub source: Option<SocketAddr>,
    /// The HTTP answer to `GET /version`, when one was asked and given (headers and body).
    pub answer: Option<String>,
}

/// Why a member refused a client certificate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProbeRefusal {
    /// What happened.
    pub reason: String,
    /// Whether the refusal may depend on the address the connection came from (etcd's check
    /// that the client certificate covers it); a TLS alert (unknown CA, bad certificate) does
    /// not.
    pub depends_on_address: bool,
}

impl ProbeRefusal {
    fn alert(reason: String) -> ProbeRefusal {
        ProbeRefusal {
            reason,
            depends_on_address: false,
        }
    }
}

/// Connects to a member's peer URL, optionally from `source` (the new member's own address, so
/// that etcd's check of the connecting address is the one the new member will face) and with a
/// client identity. An error means the port could not be reached at all.
pub async fn probe(
    peer_url: &HostUrl,
    identity: Option<&Identity>,
    source: Option<IpAddr>,
    deadline: Deadline,
) -> Result<PeerProbe, Error> {
    probe_asking(peer_url, identity, source, false, deadline).await
}

/// A TCP connection to `addr`, from `source` when given; the error in words.
async fn connect(
    addr: SocketAddr,
    source: Option<IpAddr>,
) -> std::result::Result<tokio::net::TcpStream, String> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| e.to_string())?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| format!("cannot connect from {ip}: {e}"))?;
    }
    socket
        .connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))
}

/// Whether the member's TLS port at `url` answers a request from a client without a
/// certificate (`false`: it requires one, as `--client-cert-auth` and
/// `--peer-client-cert-auth` make it).
pub(crate) async fn answers_without_certificate(
    url: &HostUrl,
    deadline: Deadline,
) -> Result<bool, Error> {
    Ok(probe_asking(url, None, None, true, deadline)
        .await?
        .accepted
        .is_ok())
}

/// [`probe`]; with `ask`, a request is sent even without an identity.
async fn probe_asking(
    peer_url: &HostUrl,
    identity: Option<&Identity>,
    source: Option<IpAddr>,
    ask: bool,
    deadline: Deadline,
) -> Result<PeerProbe, Error> {
    let started = tokio::time::Instant::now();
    match tokio::time::timeout_at(deadline, probe_inner(peer_url, identity, source, ask)).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            endpoint: peer_url.url.clone(),
            after: deadline.saturating_duration_since(started),
            connected: true,
        }),
    }
}

async fn probe_inner(
    peer_url: &HostUrl,
    identity: Option<&Identity>,
    source: Option<IpAddr>,
    ask: bool,
) -> Result<PeerProbe, Error> {
    let unreachable = |cause: String| Error::Unreachable {
        endpoint: peer_url.url.clone(),
        cause,
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let recorder = Arc::new(Recorder {
        provider: provider.clone(),
        chain: Mutex::new(Vec::new()),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Settings(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone());
    let config = match identity {
        Some(id) => {
            let certs: Vec<CertificateDer<'static>> =
                rustls_pki_types::pem::PemObject::pem_slice_iter(&id.certs_pem)
                    .collect::<Result<_, _>>()
                    .map_err(|e| Error::Settings(format!("the probe's certificate file: {e}")))?;
            let key = <PrivateKeyDer<'static> as rustls_pki_types::pem::PemObject>::from_pem_slice(
                &id.key_pem,
            )
            .map_err(|e| Error::Settings(format!("the probe's key file: {e}")))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| Error::Settings(format!("the probe's certificate and key: {e}")))?
        }
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));

    let port = peer_url.port.unwrap_or(2380);
    // Every address a name resolves to, in order, as Go's dialer tries them: a member that
    // listens only on its IPv4 address must not be reported down for its IPv6 one.
    let addrs: Vec<SocketAddr> = match &peer_url.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, port)],
        Host::Dns(name) => tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|e| unreachable(format!("cannot resolve {name}: {e}")))?
            .collect(),
    };
    let mut failures = Vec::new();
    let mut connected = None;
    for addr in &addrs {
        match connect(*addr, source).await {
            Ok(s) => {
                connected = Some(s);
                break;
            }
            Err(e) => failures.push(e),
        }
    }
    let Some(stream) = connected else {
        return Err(unreachable(if failures.is_empty() {
            format!("{} resolves to no address", peer_url.host)
        } else {
            failures.join("; ")
        }));
    };
    let local = stream.local_addr().ok();
    let server_name = match &peer_url.host {
        Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        Host::Dns(name) => {
            ServerName::try_from(name.clone()).map_err(|e| unreachable(e.to_string()))?
        }
    };
    let handshake = connector.connect(server_name, stream).await;
    let served = recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
    let mut answer = None;
    let accepted = match (identity, handshake) {
        (_, Err(e)) if identity.is_none() => Err(ProbeRefusal::alert(e.to_string())),
        (_, Err(e)) => Err(ProbeRefusal::alert(describe_rejection(&e.to_string()))),
        (None, Ok(_)) if !ask => Ok(()),
        (_, Ok(mut tls)) => {
            // TLS 1.3 servers judge the client certificate after the handshake: ask for /version.
            let host = match &peer_url.host {
                Host::Ip(IpAddr::V6(v6)) => format!("[{v6}]"),
                h => h.to_string(),
            };
            let request = format!(
                "GET /version HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
            );
            let mut buf = [0u8; 64];
            let result = async {
                tls.write_all(request.as_bytes()).await?;
                tls.read(&mut buf).await
            }
            .await;
            match result {
                Ok(n) if buf[..n].starts_with(b"HTTP/1.") => {
                    // The rest of the answer (etcd's /version is a line of JSON), up to 8 KiB:
                    // until its Content-Length is read, as the server may keep the connection.
                    let mut whole = buf[..n].to_vec();
                    let mut more = [0u8; 1024];
                    while whole.len() < 8192 && !answer_complete(&whole) {
                        match tls.read(&mut more).await {
                            Ok(0) | Err(_) => break,
                            Ok(m) => whole.extend_from_slice(&more[..m]),
                        }
                    }
                    answer = Some(String::from_utf8_lossy(&whole).into_owned());
                    Ok(())
                }
                // etcd's peer listener completes the handshake, then checks that the client
                // certificate covers the connecting address and closes the connection if not.
                Ok(0) => Err(ProbeRefusal {
                    reason: format!(
                        "the member completed the TLS handshake, then closed the connection without answering: etcd does that when the peer certificate does not cover the address it connects from ({}; the member logs \"rejected connection\")",
                        local.map_or("this host".to_string(), |a| a.ip().to_string())
                    ),
                    depends_on_address: true,
                }),
                Ok(n) => Err(ProbeRefusal::alert(format!(
                    "unexpected answer: {:?}",
                    String::from_utf8_lossy(&buf[..n])
                ))),
                Err(e) => Err(ProbeRefusal::alert(describe_rejection(&e.to_string()))),
            }
        }
    };
    Ok(PeerProbe {
        served,
        accepted,
        source: local,
        answer,
    })
}

/// etcd's own versions, as `GET /version` on a member's client URL answers them:
/// `(etcdserver, etcdcluster)`, e.g. `("3.5.16", "3.5.0")`; the cluster version is what every
/// member agreed to run at, and moves up only when every member runs the newer minor.
///
/// # Errors
/// The port could not be reached, or answered no version.
pub async fn versions(
    client_url: &HostUrl,
    identity: Option<&Identity>,
    deadline: Deadline,
) -> Result<(String, String), Error> {
    let p = probe_asking(client_url, identity, None, true, deadline).await?;
    let answer = p.answer.unwrap_or_default();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let field = |name: &str| -> Option<String> {
        let key = format!("\"{name}\":\"");
        let start = body.find(&key)? + key.len();
        let end = body[start..].find('"')? + start;
        Some(body[start..end].to_string())
    };
    match (field("etcdserver"), field("etcdcluster")) {
        (Some(server), Some(cluster)) => Ok((server, cluster)),
        _ => Err(Error::Unreachable {
            endpoint: client_url.url.clone(),
            cause: match p.accepted {
                Err(r) => r.reason,
                Ok(()) => format!("no version in its answer to /version: {answer:?}"),
            },
        }),
    }
}

/// Whether an HTTP answer has its headers and as much body as its Content-Length says (an
/// answer without one is complete at its headers' end).
fn answer_complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some(end) = text.find("\r\n\r\n") else {
        return false;
    };
    let length = text[..end].lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    bytes.len() >= end + 4 + length.unwrap_or(0)
}

fn describe_rejection(error: &str) -> String {
    let lower = error.to_ascii_lowercase();
    if lower.contains("badcertificate")
        || lower.contains("bad certificate")
        || lower.contains("certificaterequired")
        || lower.contains("unknownca")
        || lower.contains("unknown ca")
    {
        format!("the member rejected the certificate ({error}): it must chain to the member's --peer-trusted-ca-file, carry clientAuth, and cover the address it connects from")
    } else {
        error.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_complete_at_its_content_length() {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        assert!(!answer_complete(b"HTTP/1.1 200 OK\r\n"));
        assert!(!answer_complete(format!("{head}abc").as_bytes()));
        assert!(answer_complete(format!("{head}abcde").as_bytes()));
        assert!(answer_complete(b"HTTP/1.1 404 Not Found\r\n\r\n"));
    }
}
