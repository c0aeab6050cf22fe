//! Connecting to etcd as etcdctl does: endpoints, TLS files, dial and command timeouts.
//!
//! [`ConnectOptions`] is a plain struct (a front end fills it from its flags and `ETCDCTL_*`).
//! [`Connection::new`] reads the TLS files with pki-core first, so that a missing file, a key
//! that does not match its certificate or an encrypted key is an error naming the file before
//! any connection is tried. The files are read again for every new connection: a rotation job
//! that replaces the client certificate it connects with keeps working.
//!
//! Every request has a deadline (dial plus command timeout), whatever the transport does.
//! A cluster-wide request goes to the endpoints in order, but does not wait for one that hangs:
//! the next starts [`STAGGER`] later (at once after a failure) and the first answer wins; when
//! none answers, the error names each endpoint and its cause. Operations that ask several
//! members give all their waits one [`Deadline`].

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use etcd_client::{Certificate, Client, Identity, TlsOptions};
use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::error::{classify, Error, Result};

/// When every wait of an operation ends.
pub type Deadline = tokio::time::Instant;

/// How long a cluster-wide request waits for one endpoint before it asks the next one too.
pub const STAGGER: Duration = Duration::from_millis(300);

/// How to reach a cluster: etcdctl's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// gRPC endpoints; without a scheme, `https://` when TLS files are given, else `http://`.
    pub endpoints: Vec<String>,
    /// The CA bundle that verifies the servers' certificates (etcdctl `--cacert`).
    pub ca_file: Option<PathBuf>,
    /// The client certificate (etcdctl `--cert`).
    pub cert_file: Option<PathBuf>,
    /// The client certificate's key (etcdctl `--key`).
    pub key_file: Option<PathBuf>,
    /// How long to wait for a connection (etcdctl's default: 2 s).
    pub dial_timeout: Duration,
    /// How long a request may take once connected (etcdctl's default: 5 s).
    pub command_timeout: Duration,
}

impl ConnectOptions {
    /// Plain connections to `endpoints` with etcdctl's default timeouts.
    pub fn new<I, S>(endpoints: I) -> ConnectOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ConnectOptions {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            ca_file: None,
            cert_file: None,
            key_file: None,
            dial_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(5),
        }
    }

    /// The CA bundle that verifies the servers.
    #[must_use]
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> ConnectOptions {
        self.ca_file = Some(path.as_ref().to_path_buf());
        self
    }

    /// The client certificate and its key.
    #[must_use]
    pub fn client_cert(mut self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> ConnectOptions {
        self.cert_file = Some(cert.as_ref().to_path_buf());
        self.key_file = Some(key.as_ref().to_path_buf());
        self
    }

    /// How long to wait for a connection.
    #[must_use]
    pub fn dial_timeout(mut self, timeout: Duration) -> ConnectOptions {
        self.dial_timeout = timeout;
        self
    }

    /// How long a request may take once connected.
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> ConnectOptions {
        self.command_timeout = timeout;
        self
    }
}

/// A way to reach the cluster: checked settings. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Connection {
    options: ConnectOptions,
    endpoints: Vec<String>,
    tls: bool,
}

impl Connection {
    /// Checks the settings and reads the TLS files once (see the module docs).
    ///
    /// # Errors
    /// [`Error::File`] for a TLS file that is missing or unusable, [`Error::KeyMismatch`],
    /// [`Error::Settings`] for endpoints that cannot work with the files given.
    pub fn new(options: ConnectOptions) -> Result<Connection> {
        let tls = match (&options.ca_file, &options.cert_file, &options.key_file) {
            (None, None, None) => false,
            (_, Some(_), None) | (_, None, Some(_)) => {
                return Err(Error::Settings(
                    "a client certificate needs its key, and a key its certificate: give both or neither".into(),
                ));
            }
            _ => true,
        };
        let scheme = if tls { "https://" } else { "http://" };
        let endpoints: Vec<String> = options
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
            return Err(Error::Settings("no endpoint given".into()));
        }
        for e in &endpoints {
            if e.starts_with("http://") && tls {
                return Err(Error::Settings(format!(
                    "{e} is plain http but TLS files were given: use https:// endpoints (etcd with TLS serves https)"
                )));
            }
            if e.starts_with("https://") && !tls {
                return Err(Error::Settings(format!(
                    "{e} is https but no TLS files were given: give the cluster's CA and a client certificate and key"
                )));
            }
        }
        let connection = Connection {
            options,
            endpoints,
            tls,
        };
        connection.tls_options()?;
        Ok(connection)
    }

    /// The settings it was made from.
    pub fn options(&self) -> &ConnectOptions {
        &self.options
    }

    /// The endpoints, with their schemes.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The client identity's files, when given.
    pub fn client_files(&self) -> Option<(&Path, &Path)> {
        match (&self.options.cert_file, &self.options.key_file) {
            (Some(c), Some(k)) => Some((c, k)),
            _ => None,
        }
    }

    /// The command timeout.
    pub fn command_timeout(&self) -> Duration {
        self.options.command_timeout
    }

    /// The bound on one request: dial plus command timeout.
    pub fn request_timeout(&self) -> Duration {
        self.options.dial_timeout + self.options.command_timeout
    }

    /// The deadline of one request started now: dial plus command timeout. Operations that
    /// contact several members give all their waits this one deadline, so that a member that
    /// hangs (accepts connections, never answers) costs it once, not once per step.
    pub fn deadline(&self) -> Deadline {
        Instant::now() + self.request_timeout()
    }

    /// The TLS settings, from the files as they are now.
    fn tls_options(&self) -> Result<Option<TlsOptions>> {
        if !self.tls {
            return Ok(None);
        }
        let mut tls = TlsOptions::new();
        if let Some(ca) = &self.options.ca_file {
            let pem = pki_core::read_file(ca)?;
            pki_core::certificates_from_bytes(&pem).map_err(|e| e.with_path(ca))?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        if let Some((cert, key)) = self.client_files() {
            let cert_pem = pki_core::read_file(cert)?;
            let certs =
                pki_core::certificates_from_bytes(&cert_pem).map_err(|e| e.with_path(cert))?;
            let key_pem = Zeroizing::new(pki_core::read_file(key)?);
            let private =
                pki_core::private_key_from_bytes(&key_pem).map_err(|e| e.with_path(key))?;
            if !private.matches(&certs[0]) {
                return Err(Error::KeyMismatch {
                    cert: cert.to_path_buf(),
                    key: key.to_path_buf(),
                });
            }
            tls = tls.identity(Identity::from_pem(cert_pem, &key_pem));
        }
        Ok(Some(tls))
    }

    fn client_options(&self) -> Result<etcd_client::ConnectOptions> {
        let mut options = etcd_client::ConnectOptions::new()
            .with_connect_timeout(self.options.dial_timeout)
            .with_timeout(self.options.command_timeout);
        if let Some(tls) = self.tls_options()? {
            options = options.with_tls(tls);
        }
        Ok(options)
    }

    fn timeout(&self, endpoint: &str, connected: bool) -> Error {
        Error::Timeout {
            endpoint: endpoint.to_string(),
            after: self.request_timeout(),
            connected,
        }
    }

    /// A client for one endpoint, for long streams (snapshots) that bound their own waits.
    pub async fn connect(&self, endpoint: &str) -> Result<Client> {
        let options = self.client_options()?;
        match tokio::time::timeout(
            self.options.dial_timeout,
            Client::connect([endpoint], Some(options)),
        )
        .await
        {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(classify(endpoint, e, self.options.command_timeout)),
            Err(_) => Err(Error::Timeout {
                endpoint: endpoint.to_string(),
                after: self.options.dial_timeout,
                connected: false,
            }),
        }
    }

    /// Runs one request against one endpoint, bounded by the timeouts.
    pub async fn on<T, F, Fut>(&self, endpoint: &str, op: F) -> Result<T>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        self.on_until(endpoint, self.deadline(), op).await
    }

    /// Runs one request against one endpoint, bounded by `deadline`.
    pub async fn on_until<T, F, Fut>(&self, endpoint: &str, deadline: Deadline, op: F) -> Result<T>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let options = self.client_options()?;
        let connected = std::sync::atomic::AtomicBool::new(false);
        let attempt = async {
            let client = Client::connect([endpoint], Some(options))
                .await
                .map_err(|e| classify(endpoint, e, self.options.command_timeout))?;
            connected.store(true, std::sync::atomic::Ordering::Relaxed);
            op(client)
                .await
                .map_err(|e| classify(endpoint, e, self.options.command_timeout))
        };
        match tokio::time::timeout_at(deadline, attempt).await {
            Ok(result) => result,
            Err(_) => Err(self.timeout(
                endpoint,
                connected.load(std::sync::atomic::Ordering::Relaxed),
            )),
        }
    }

    /// Runs a cluster-wide request on the first endpoint that answers before `deadline`, and
    /// says which one it was (see the module docs). An answer from etcd, even a refusal, is
    /// final.
    pub async fn on_any_until<T, F, Fut>(&self, deadline: Deadline, op: F) -> Result<(String, T)>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        use futures_util::stream::{FuturesUnordered, StreamExt};
        let op = &op;
        let mut running = FuturesUnordered::new();
        let mut causes: Vec<(usize, Error)> = Vec::new();
        let mut next = 0;
        let none_reachable = |mut causes: Vec<(usize, Error)>| {
            causes.sort_by_key(|(i, _)| *i);
            Error::NoneReachable {
                causes: causes.into_iter().map(|(_, e)| e).collect(),
            }
        };
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
                    Err(e) if e.is_unreachable() => {
                        causes.push((index, e));
                        if running.is_empty() && next >= self.endpoints.len() {
                            return Err(none_reachable(causes));
                        }
                    }
                    Ok(t) => return Ok((endpoint.to_string(), t)),
                    Err(other) => return Err(other),
                },
                _ = stagger, if next < self.endpoints.len() => {}
                else => return Err(none_reachable(causes)),
            }
        }
    }

    /// [`Connection::on_any_until`] with a deadline of its own.
    pub async fn on_any<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        self.on_any_until(self.deadline(), op).await.map(|(_, t)| t)
    }

    /// Runs a request that changes the cluster (member add, remove, promote): on the first
    /// endpoint that answers a status request, once, all within one deadline. It is never
    /// resent to another endpoint, since a request that timed out may still have been applied:
    /// such a failure is [`Error::MaybeApplied`].
    pub async fn change<T, F, Fut>(&self, op: F) -> Result<T>
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
                e if e.is_unreachable() => Error::MaybeApplied { cause: Box::new(e) },
                other => other,
            })
    }
}
