//! One side of a member's TLS, client (`--cert-file`, `--trusted-ca-file`, ... on 2379) or peer
//! (`--peer-*` on 2380): whether its URLs need certificates and have them, each file read as
//! etcd reads it, and each certificate checked by pki-core in its role, for the hosts it must
//! cover, against the side's trusted CA file.
//!
//! Which certificate plays which part comes from etcd's `transport.TLSInfo` (3.5.16
//! `client/pkg/transport/listener.go` `baseConfig`, `ServerConfig`, `ClientConfig`): the serving
//! certificate is `--cert-file`/`--peer-cert-file`; what a member presents as a client is
//! `--client-cert-file`/`--peer-client-cert-file` when set (3.5), else the serving one, so that
//! one then needs clientAuth as well (the gRPC gateway dials the member itself with it; other
//! members verify the peer certificate as a client certificate).

use pki_core::{
    certificates_from_bytes, etcd_file_problem, permits, private_key_from_bytes, CertPool,
    Certificate, CheckId, CheckInput, EtcdFile, EtcdFiles, Finding, Host, HostUrl, Remedy, Role,
    Subject, Usage,
};

use super::files::{flag, read_setting, setting_text};
use super::DoctorOptions;
use crate::member_config::{Key, MemberConfig};

/// Client (2379) or peer (2380).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Peer,
}

/// The settings of a side.
pub(crate) struct SideKeys {
    pub(crate) cert: Key,
    pub(crate) key: Key,
    pub(crate) client_cert: Key,
    pub(crate) client_key: Key,
    pub(crate) ca: Key,
    pub(crate) auth: Key,
    pub(crate) auto: Key,
    pub(crate) crl: Key,
    pub(crate) advertise: Key,
    pub(crate) listen: &'static [Key],
}

impl Side {
    pub(crate) fn keys(self) -> SideKeys {
        match self {
            Side::Client => SideKeys {
                cert: Key::CertFile,
                key: Key::KeyFile,
                client_cert: Key::ClientCertFile,
                client_key: Key::ClientKeyFile,
                ca: Key::TrustedCaFile,
                auth: Key::ClientCertAuth,
                auto: Key::AutoTls,
                crl: Key::ClientCrlFile,
                advertise: Key::AdvertiseClientUrls,
                listen: &[Key::ListenClientUrls, Key::ListenClientHttpUrls],
            },
            Side::Peer => SideKeys {
                cert: Key::PeerCertFile,
                key: Key::PeerKeyFile,
                client_cert: Key::PeerClientCertFile,
                client_key: Key::PeerClientKeyFile,
                ca: Key::PeerTrustedCaFile,
                auth: Key::PeerClientCertAuth,
                auto: Key::PeerAutoTls,
                crl: Key::PeerCrlFile,
                advertise: Key::InitialAdvertisePeerUrls,
                listen: &[Key::ListenPeerUrls],
            },
        }
    }

    /// `client` or `peer`, in messages.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Peer => "peer",
        }
    }

    fn serving_subject(self) -> Subject {
        match self {
            Side::Client => Subject::ServerCertificate,
            Side::Peer => Subject::PeerCertificate,
        }
    }

    fn client_subject(self) -> Subject {
        match self {
            Side::Client => Subject::ClientCertificate,
            Side::Peer => Subject::PeerClientCertificate,
        }
    }

    pub(crate) fn ca_subject(self) -> Subject {
        match self {
            Side::Client => Subject::TrustedCa,
            Side::Peer => Subject::PeerTrustedCa,
        }
    }
}

/// What a side's checks found, and what later checks need.
pub(crate) struct SideResult {
    pub(crate) findings: Vec<Finding>,
    /// The chain served on this side (the serving file's certificates, leaf first).
    pub(crate) served: Vec<Certificate>,
    /// The chain presented as a client on this side (leaf first).
    pub(crate) outgoing: Vec<Certificate>,
    /// The side's trusted CA certificates.
    pub(crate) ca: Vec<Certificate>,
    /// Whether the side's URLs use TLS.
    pub(crate) tls: bool,
    /// Whether etcd replaces the side's TLS settings with a self-signed certificate (auto TLS
    /// without certificate files): its CA file, client authentication and CRL are dropped.
    pub(crate) auto: bool,
}

/// The URLs of a side's settings, parsed (unparsable ones are skipped: etcd refuses them, a
/// configuration problem).
pub(crate) fn urls_of(config: &MemberConfig, keys: &[Key]) -> Vec<HostUrl> {
    keys.iter()
        .flat_map(|k| config.list(*k))
        .filter_map(|u| HostUrl::parse(u.trim()).ok())
        .collect()
}

fn is_tls(u: &HostUrl) -> bool {
    u.scheme == "https" || u.scheme == "unixs"
}

/// Whether clients can dial a listen URL's host by name (not `0.0.0.0`, `::` or empty).
pub(crate) fn dialable(host: &Host) -> bool {
    match host {
        Host::Ip(ip) => !ip.is_unspecified(),
        Host::Dns(d) => !d.is_empty(),
    }
}

/// Checks one side (see the module docs).
pub(crate) fn check_side(config: &MemberConfig, side: Side, opts: &DoctorOptions) -> SideResult {
    let k = side.keys();
    let mut findings = Vec::new();
    let advertise = urls_of(config, &[k.advertise]);
    let listen = urls_of(config, k.listen);
    let tls = advertise.iter().chain(&listen).any(is_tls);
    let has_cert = config.get(k.cert).is_some_and(|v| !v.value.is_empty());
    let has_key = config.get(k.key).is_some_and(|v| !v.value.is_empty());
    let mut result = SideResult {
        findings: Vec::new(),
        served: Vec::new(),
        outgoing: Vec::new(),
        ca: Vec::new(),
        tls,
        auto: false,
    };
    if !tls {
        findings.push(
            Finding::warn(
                CheckId::Configuration,
                format!(
                    "the {} URLs are plain http: the traffic is not encrypted and any {} may connect",
                    side.word(),
                    side.word()
                ),
            )
            .about(side.serving_subject())
            .remedy(Remedy::Advice {
                text: format!(
                    "serve https with {} and {}",
                    flag(k.cert),
                    flag(k.key)
                ),
            }),
        );
        result.findings = findings;
        return result;
    }
    if config.flag(k.auto) {
        findings.push(
            Finding::warn(
                CheckId::AutoTls,
                if has_cert || has_key {
                    format!(
                        "{} is set, but certificates are given: etcd ignores it",
                        flag(k.auto)
                    )
                } else {
                    format!(
                        "{}: etcd serves a self-signed certificate (serverAuth only) that no client can verify, and drops {}, {} and the CRL for this side",
                        setting_text(config, k.auto),
                        flag(k.ca),
                        flag(k.auth)
                    )
                },
            )
            .about(side.serving_subject())
            .remedy(Remedy::Advice {
                text: format!(
                    "give certificates from the cluster CA with {} and {}",
                    flag(k.cert),
                    flag(k.key)
                ),
            }),
        );
        if !has_cert && !has_key {
            result.auto = true;
            result.findings = findings;
            return result;
        }
    }
    match (has_cert, has_key) {
        (true, true) => {}
        (false, false) => {
            findings.push(
                Finding::fail(
                    CheckId::Configuration,
                    format!(
                        "the {} URLs are https but neither {} nor {} is set: etcd would not start (\"TLS key/cert must be provided\")",
                        side.word(),
                        flag(k.cert),
                        flag(k.key)
                    ),
                )
                .about(side.serving_subject())
                .remedy(Remedy::Advice {
                    text: format!("set {} and {}", flag(k.cert), flag(k.key)),
                }),
            );
            result.findings = findings;
            return result;
        }
        _ => {
            findings.push(
                Finding::fail(
                    CheckId::Configuration,
                    format!(
                        "only one of {} and {} is set: etcd would not start (\"KeyFile and CertFile must both be present\")",
                        flag(k.cert),
                        flag(k.key)
                    ),
                )
                .about(side.serving_subject())
                .remedy(Remedy::Advice {
                    text: format!("set both {} and {}", flag(k.cert), flag(k.key)),
                }),
            );
        }
    }

    // The trusted CA file.
    let ca_file = read_setting(config, k.ca, &side.ca_subject(), false, &mut findings);
    let roots: Option<CertPool> = ca_file.as_ref().and_then(|f| {
        if let Some(problem) = etcd_file_problem(&f.bytes, EtcdFile::CaBundle) {
            findings.push(
                Finding::fail(
                    CheckId::Format,
                    format!("{}: {problem}", setting_text(config, k.ca)),
                )
                .about(side.ca_subject())
                .remedy(Remedy::FixFileFormat),
            );
        }
        match certificates_from_bytes(&f.bytes) {
            Ok(certs) => {
                result.ca = certs.clone();
                Some(certs.into_iter().collect())
            }
            Err(e) => {
                findings.push(
                    Finding::fail(
                        CheckId::Format,
                        format!("{}: {e}", setting_text(config, k.ca)),
                    )
                    .about(side.ca_subject())
                    .remedy(Remedy::FixFileFormat),
                );
                None
            }
        }
    });

    // The serving certificate, for the hosts its side's clients dial.
    let mut hosts: Vec<Host> = advertise
        .iter()
        .filter(|u| is_tls(u))
        .map(|u| u.host.clone())
        .collect();
    if side == Side::Client {
        hosts.extend(
            listen
                .iter()
                .filter(|u| is_tls(u) && dialable(&u.host))
                .map(|u| u.host.clone()),
        );
    }
    let mut unique: Vec<Host> = Vec::new();
    for h in hosts {
        if !unique.contains(&h) {
            unique.push(h);
        }
    }
    let hosts = unique;
    let separate_client = config
        .get(k.client_cert)
        .is_some_and(|v| !v.value.is_empty());
    // The serving certificate needs clientAuth too when it is also what the member presents as
    // a client and that is verified: to other members (always, for peers), or to itself through
    // the gRPC gateway when client certificates are required.
    let client_auth_required = config.flag(k.auth) || config.get(k.ca).is_some();
    let serves_only = separate_client || (side == Side::Client && !client_auth_required);
    let role = match (side, serves_only) {
        (_, true) => None,
        (Side::Client, false) => Some(Role::Server),
        (Side::Peer, false) => Some(Role::Peer),
    };
    // Other members verify a peer certificate with their peer CA (this member's, in a
    // consistent cluster); a server certificate is verified by clients, with their own CA, so
    // its chain to this member's CA file matters only when the member presents it as a client.
    let serving_roots = match (side, separate_client) {
        (Side::Client, true) => None,
        _ => roots.as_ref(),
    };
    let serving = check_pair(
        config,
        k.cert,
        k.key,
        side.serving_subject(),
        role,
        &hosts,
        serving_roots,
        opts,
        &mut findings,
    );
    if let Some(chain) = &serving {
        if serves_only && !permits(&chain[0], Usage::ServerAuth) {
            findings.push(
                Finding::fail(
                    CheckId::Usage,
                    format!(
                        "{}: no serverAuth in its extended key usage: Go refuses it as a server certificate",
                        setting_text(config, k.cert)
                    ),
                )
                .about(side.serving_subject())
                .remedy(Remedy::IssueWithUsages {
                    usages: vec![Usage::ServerAuth],
                }),
            );
        }
        result.served = chain.clone();
        if !separate_client {
            result.outgoing = chain.clone();
        }
    }

    // The certificate presented as a client (3.5's separate one).
    if separate_client {
        if let Some(chain) = check_pair(
            config,
            k.client_cert,
            k.client_key,
            side.client_subject(),
            Some(Role::Client),
            &[],
            roots.as_ref(),
            opts,
            &mut findings,
        ) {
            if side == Side::Peer {
                // Other members' peer listeners check it against the address this member
                // dials from (etcd's checkCertSAN): its own advertised peer host.
                findings.extend(own_address(config, &chain[0], &advertise, &opts.rules));
            }
            result.outgoing = chain;
        }
    } else if config
        .get(k.client_key)
        .is_some_and(|v| !v.value.is_empty())
    {
        findings.push(
            Finding::fail(
                CheckId::Configuration,
                format!(
                    "{} is set without {}: etcd would not start (\"ClientKeyFile and ClientCertFile must both be present or both absent\")",
                    flag(k.client_key),
                    flag(k.client_cert)
                ),
            )
            .about(side.client_subject()),
        );
    }
    result.findings = findings;
    result
}

/// Reads a certificate file and its key, and checks them with pki-core (key pair, chain to
/// `roots`, usages for `role`, coverage of `hosts`, validity within the window, file format).
/// The certificate chain when it could be read.
#[allow(clippy::too_many_arguments)]
fn check_pair(
    config: &MemberConfig,
    cert_key: Key,
    key_key: Key,
    subject: Subject,
    role: Option<Role>,
    hosts: &[Host],
    roots: Option<&CertPool>,
    opts: &DoctorOptions,
    findings: &mut Vec<Finding>,
) -> Option<Vec<Certificate>> {
    let cert = read_setting(config, cert_key, &subject, false, findings)?;
    let key = read_setting(config, key_key, &subject, true, findings);
    let chain = match certificates_from_bytes(&cert.bytes) {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => return None,
        Err(e) => {
            findings.push(
                Finding::fail(
                    CheckId::Format,
                    format!("{}: {e}", setting_text(config, cert_key)),
                )
                .about(subject)
                .remedy(Remedy::FixFileFormat),
            );
            return None;
        }
    };
    let private = match &key {
        Some(k) => match private_key_from_bytes(&k.bytes) {
            Ok(p) => Some(p),
            Err(e) => {
                findings.push(
                    Finding::fail(
                        CheckId::KeyPair,
                        format!("{}: {e}", setting_text(config, key_key)),
                    )
                    .about(subject.clone())
                    .remedy(Remedy::UseMatchingKey),
                );
                None
            }
        },
        None => None,
    };
    let label = cert
        .configured
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| pki_core::display_path(&cert.configured).into_owned());
    let report = opts.rules.check_input(
        &CheckInput::new(&label, &chain)
            .key(private.as_ref())
            .roots(roots)
            .role(role)
            .hosts(hosts)
            .at(opts.at)
            .files(
                EtcdFiles::default()
                    .certificate(cert.bytes.as_slice())
                    .key(key.as_ref().map(|k| k.bytes.as_slice())),
            )
            .fail_within(Some(opts.expires_within)),
    );
    findings.extend(
        report
            .findings
            .into_iter()
            .map(|f| f.about(subject.clone())),
    );
    Some(chain)
}

/// The certificate a member presents to other members, against the address it connects from,
/// as their peer listeners check it.
fn own_address(
    config: &MemberConfig,
    cert: &Certificate,
    advertise: &[HostUrl],
    rules: &crate::etcd_rules::AppliedRules,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for u in advertise {
        let covered = rules.covers(cert, &u.host);
        out.push(if covered {
            Finding::pass(
                CheckId::SanVerification,
                format!(
                    "{} covers {}, the address this member connects to the others from",
                    flag(Key::PeerClientCertFile),
                    u.host
                ),
            )
        } else {
            Finding::fail(
                CheckId::SanVerification,
                format!(
                    "{} does not cover {}: the other members check the certificate a peer presents against the address it connects from, and refuse it (\"does not match any of\"); {}",
                    setting_text(config, Key::PeerClientCertFile),
                    u.host,
                    cert.sans().to_strings().join(", ")
                ),
            )
            .remedy(Remedy::Reissue {
                add_ips: match &u.host {
                    Host::Ip(ip) => vec![*ip],
                    Host::Dns(_) => vec![],
                },
                add_dns: match &u.host {
                    Host::Dns(d) => vec![d.clone()],
                    Host::Ip(_) => vec![],
                },
            })
        }
        .about(Subject::PeerClientCertificate));
    }
    out
}
