//! Connecting to etcd as etcdctl does: endpoints, TLS files, dial and command timeouts.
//!
//! The TLS files are read with pki-core first, so that a missing file, a key that does not match
//! its certificate or an encrypted key is reported as bad input (exit 2) naming the file, before
//! any connection is tried. Cluster-wide requests go to the endpoints one at a time: an endpoint
//! that does not answer within the dial timeout, or fails the TLS handshake, is skipped for the
//! next; when none answers, the error names each endpoint and its cause (exit 3). Every request
//! is bounded by dial + command timeout, whatever the transport does.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use anyhow::anyhow;
use etcd_client::{Certificate, Client, ConnectOptions, Identity, TlsOptions};
use pki_core::display_path;

use crate::cli::ConnectionArgs;
use crate::etcd::errors::{classify, EtcdError};
use crate::exit::{usage, Failure};

/// A way to reach the cluster.
#[derive(Clone)]
pub struct Etcd {
    endpoints: Vec<String>,
    tls: Option<TlsOptions>,
    dial_timeout: Duration,
    command_timeout: Duration,
}

impl Etcd {
    /// Builds the connection settings from etcdctl-style flags.
    pub fn from_args(args: &ConnectionArgs) -> Result<Etcd, Failure> {
        let tls = match (&args.cacert, &args.cert, &args.key) {
            (None, None, None) => None,
            (_, Some(_), None) | (_, None, Some(_)) => {
                return Err(usage(anyhow!(
                    "--cert and --key go together: give both (or neither)"
                )));
            }
            (cacert, cert, key) => {
                let mut tls = TlsOptions::new();
                if let Some(ca) = cacert {
                    let pem = pki_core::read_file(ca)?;
                    pki_core::certificates_from_bytes(&pem).map_err(|e| usage(e.with_path(ca)))?;
                    tls = tls.ca_certificate(Certificate::from_pem(pem));
                }
                if let (Some(cert), Some(key)) = (cert, key) {
                    let cert_pem = pki_core::read_file(cert)?;
                    let certs = pki_core::certificates_from_bytes(&cert_pem)
                        .map_err(|e| usage(e.with_path(cert)))?;
                    let key_pem = zeroize::Zeroizing::new(pki_core::read_file(key)?);
                    let private = pki_core::private_key_from_bytes(&key_pem)
                        .map_err(|e| usage(e.with_path(key)))?;
                    if !private.matches(&certs[0]) {
                        return Err(usage(anyhow!(
                            "{} is not the key of {}: pass the key that belongs to the client certificate",
                            display_path(key),
                            display_path(cert)
                        )));
                    }
                    tls = tls.identity(Identity::from_pem(cert_pem, &key_pem));
                }
                Some(tls)
            }
        };
        let scheme = if tls.is_some() { "https://" } else { "http://" };
        let endpoints: Vec<String> = args
            .endpoints
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                if e.contains("://") {
                    e.to_string()
                } else {
                    format!("{scheme}{e}")
                }
            })
            .collect();
        if endpoints.is_empty() {
            return Err(usage(anyhow!("--endpoints is empty")));
        }
        for e in &endpoints {
            if e.starts_with("http://") && tls.is_some() {
                return Err(usage(anyhow!(
                    "{e} is plain http but TLS files were given: use https:// endpoints (etcd with TLS serves https)"
                )));
            }
            if e.starts_with("https://") && tls.is_none() {
                return Err(usage(anyhow!(
                    "{e} is https but no --cacert/--cert/--key were given: give the cluster's CA and a client certificate"
                )));
            }
        }
        Ok(Etcd {
            endpoints,
            tls,
            dial_timeout: args.dial_timeout,
            command_timeout: args.command_timeout,
        })
    }

    /// The endpoints given.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// `--command-timeout`.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// The bound on one request: dial plus command timeout.
    pub fn request_timeout(&self) -> Duration {
        self.dial_timeout + self.command_timeout
    }

    fn options(&self) -> ConnectOptions {
        let mut options = ConnectOptions::new()
            .with_connect_timeout(self.dial_timeout)
            .with_timeout(self.command_timeout);
        if let Some(tls) = &self.tls {
            options = options.with_tls(tls.clone());
        }
        options
    }

    /// The deadline of one request started now: dial plus command timeout. Commands that
    /// contact several members give all their waits this one deadline, so that a member that
    /// hangs (accepts connections, never answers) costs dial + command timeout once, not once per
    /// step.
    pub fn deadline(&self) -> Deadline {
        Instant::now() + self.request_timeout()
    }

    /// A client for one endpoint, for long streams (snapshots) that bound their own waits.
    pub async fn connect(&self, endpoint: &str) -> Result<Client, EtcdError> {
        match tokio::time::timeout(
            self.dial_timeout,
            Client::connect([endpoint], Some(self.options())),
        )
        .await
        {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(classify(endpoint, e, self)),
            Err(_) => Err(EtcdError::Unreachable {
                endpoint: endpoint.to_string(),
                cause: format!(
                    "no connection within --dial-timeout ({:?})",
                    self.dial_timeout
                ),
            }),
        }
    }

    /// Runs one request against one endpoint, bounded by the timeouts.
    pub async fn on<T, F, Fut>(&self, endpoint: &str, op: F) -> Result<T, EtcdError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        self.on_until(endpoint, self.deadline(), op).await
    }

    /// Runs one request against one endpoint, bounded by `deadline`.
    pub async fn on_until<T, F, Fut>(
        &self,
        endpoint: &str,
        deadline: Deadline,
        op: F,
    ) -> Result<T, EtcdError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let attempt = async {
            let client = Client::connect([endpoint], Some(self.options()))
                .await
                .map_err(|e| classify(endpoint, e, self))?;
            op(client).await.map_err(|e| classify(endpoint, e, self))
        };
        match tokio::time::timeout_at(deadline, attempt).await {
            Ok(result) => result,
            Err(_) => Err(EtcdError::Unreachable {
                endpoint: endpoint.to_string(),
                cause: format!(
                    "no answer within {:?} (--dial-timeout + --command-timeout)",
                    self.request_timeout()
                ),
            }),
        }
    }

    /// Runs a cluster-wide request on the first endpoint that answers before `deadline`, and
    /// says which one it was. Endpoints are tried in order, but a next one does not wait for
    /// an endpoint that hangs: it starts [`STAGGER`] later (or at once when the previous one
    /// failed), and the first answer wins. An answer from etcd, even a refusal, is final.
    pub async fn on_any_until<T, F, Fut>(
        &self,
        deadline: Deadline,
        op: F,
    ) -> Result<(String, T), EtcdError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        use futures_util::stream::{FuturesUnordered, StreamExt};
        let op = &op;
        let mut running = FuturesUnordered::new();
        let mut causes: Vec<(usize, String, String)> = Vec::new();
        let mut next = 0;
        loop {
            if next < self.endpoints.len() {
                let index = next;
                let endpoint = self.endpoints[index].as_str();
                running.push(async move {
                    let result = self.on_until(endpoint, deadline, op).await;
                    (index, endpoint, result)
                });
                next += 1;
            }
            let stagger = tokio::time::sleep(STAGGER);
            tokio::select! {
                Some((index, endpoint, result)) = running.next() => match result {
                    Err(EtcdError::Unreachable { endpoint, cause }) => {
                        causes.push((index, endpoint, cause));
                        if running.is_empty() && next >= self.endpoints.len() {
                            causes.sort();
                            return Err(EtcdError::NoneReachable {
                                causes: causes.into_iter().map(|(_, e, c)| (e, c)).collect(),
                            });
                        }
                    }
                    Ok(t) => return Ok((endpoint.to_string(), t)),
                    Err(other) => return Err(other),
                },
                _ = stagger, if next < self.endpoints.len() => {}
                else => {
                    causes.sort();
                    return Err(EtcdError::NoneReachable {
                        causes: causes.into_iter().map(|(_, e, c)| (e, c)).collect(),
                    });
                }
            }
        }
    }

    /// Runs a request that changes the cluster (member add, remove, promote): on the first
    /// endpoint that answers a status request, once, all within one deadline. It is never
    /// resent to another endpoint, since a request that timed out may still have been applied;
    /// such a failure says so.
    pub async fn change<T, F, Fut>(&self, op: F) -> Result<T, EtcdError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let deadline = self.deadline();
        let (endpoint, _) = self
            .on_any_until(deadline, |mut c| async move { c.status().await })
            .await?;
        self.on_until(&endpoint, deadline, op)
            .await
            .map_err(|e| match e {
                EtcdError::Unreachable { endpoint, cause } => EtcdError::Unreachable {
                    endpoint,
                    cause: format!(
                        "{cause}; the change may still have been applied: check with etcd-pki member list before trying again"
                    ),
                },
                other => other,
            })
    }
}

/// When every wait of an operation ends.
pub type Deadline = tokio::time::Instant;

/// How long a cluster-wide request waits for one endpoint before it asks the next one too.
pub const STAGGER: Duration = Duration::from_millis(300);

/// Runs an async block on a current-thread runtime: only commands that talk to etcd pay for it.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(anyhow!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(future))
}
