//! The checks etcd makes on its resolved configuration before it starts, where they concern
//! URLs, bootstrapping and TLS versions: `Config.Validate()` (`embed/config.go` v3.4.23 lines
//! 579–650, `server/embed/config.go` v3.5.16 lines 675–782) and `checkBindURLs` /
//! `checkHostURLs` (same files). Each failure makes etcd exit; etcd reports only the first, this
//! reports every one. Checks of other settings (heartbeat, compaction, ...) are not made.

use std::collections::BTreeMap;

use super::go_values::{is_ip, new_urls, split_host_port};
use super::version::{self, Version};
use super::{ConfigProblem, Key, Sourced};

/// What the checks need besides the interpreted values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bootstrap {
    /// `--discovery` / `discovery`.
    pub(crate) discovery: String,
    /// `--discovery-srv` / `discovery-srv`.
    pub(crate) discovery_srv: String,
    /// `--initial-cluster-state` / `initial-cluster-state` (empty: `new`).
    pub(crate) cluster_state: String,
}

/// The problems etcd's `Validate()` would stop at.
pub(crate) fn validate(
    values: &BTreeMap<Key, Sourced>,
    bootstrap: &Bootstrap,
    version: Option<Version>,
) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let exits = |m: String| ConfigProblem::fatal(format!("{m} (etcd exits)"));
    let get = |k: Key| values.get(&k).map(|s| s.value.as_str()).unwrap_or("");
    for key in [
        Key::ListenPeerUrls,
        Key::ListenClientUrls,
        Key::ListenClientHttpUrls,
        Key::ListenMetricsUrls,
    ] {
        if let Err(e) = check_bind_urls(get(key)) {
            problems.push(exits(format!(
                "--{}: {e}",
                key.info().flag.unwrap_or_default()
            )));
        }
    }
    for key in [Key::InitialAdvertisePeerUrls, Key::AdvertiseClientUrls] {
        let text = get(key);
        if let Err(e) = check_host_urls(text) {
            problems.push(exits(format!(
                "--{} \"{text}\" must be \"host:port\" ({e})",
                key.info().flag.unwrap_or_default()
            )));
        }
    }
    let state = bootstrap.cluster_state.as_str();
    if !state.is_empty() && state != "new" && state != "existing" {
        problems.push(exits(format!("unexpected clusterState \"{state}\"")));
    }
    let set = [
        !bootstrap.discovery.is_empty(),
        !get(Key::InitialCluster).is_empty(),
        !bootstrap.discovery_srv.is_empty(),
    ];
    if set.iter().filter(|s| **s).count() > 1 {
        problems.push(exits(
            "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", \"discovery\" or \"discovery-srv\"".into(),
        ));
    }
    // Since 3.4.25 and 3.5.8 (`tlsutil.GetTLSVersion`, `client/pkg/tlsutil/versions.go`).
    if version::has(version, Some(25), Some(8)) {
        let tls = |k: Key| {
            let v = get(k);
            match v {
                "" => Ok(0),
                "TLS1.2" => Ok(12),
                "TLS1.3" => Ok(13),
                _ => Err(format!(
                    "unexpected TLS version \"{v}\" (must be one of: TLS1.2, TLS1.3)"
                )),
            }
        };
        match (tls(Key::TlsMinVersion), tls(Key::TlsMaxVersion)) {
            (Err(e), _) | (_, Err(e)) => problems.push(exits(e)),
            (Ok(min), Ok(max)) => {
                if max != 0 && min > max {
                    problems.push(exits(format!(
                        "min version ({}) is greater than max version ({})",
                        get(Key::TlsMinVersion),
                        get(Key::TlsMaxVersion)
                    )));
                }
                if min == 13 && !get(Key::CipherSuites).is_empty() {
                    problems.push(exits(
                        "cipher suites cannot be configured when only TLS1.3 is enabled".into(),
                    ));
                }
            }
        }
    }
    problems
}

/// `checkBindURLs`: a listen URL's host is `localhost` or an IP address (not a name).
fn check_bind_urls(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    for (raw, url) in text.split(',').zip(new_urls(text)?) {
        if url.scheme == "unix" || url.scheme == "unixs" {
            continue;
        }
        let (host, _) = split_host_port(&url.host)?;
        if host != "localhost" && !is_ip(host) {
            return Err(format!("expected IP in URL for binding ({})", raw.trim()));
        }
    }
    Ok(())
}

/// `checkHostURLs`: an advertised URL has a host.
fn check_host_urls(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    for (raw, url) in text.split(',').zip(new_urls(text)?) {
        let (host, _) = split_host_port(&url.host)?;
        if host.is_empty() {
            return Err(format!("unexpected empty host ({})", raw.trim()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::member_config::Source;

    fn values(pairs: &[(Key, &str)]) -> BTreeMap<Key, Sourced> {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    Sourced {
                        value: v.to_string(),
                        source: Source::Default,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn bind_urls_need_ips() {
        let p = validate(
            &values(&[(Key::ListenPeerUrls, "https://etcd-0.example.com:2380")]),
            &Bootstrap::default(),
            None,
        );
        assert_eq!(p.len(), 1);
        assert!(p[0]
            .message
            .contains("expected IP in URL for binding (https://etcd-0.example.com:2380)"));
        let p = validate(
            &values(&[
                (
                    Key::ListenPeerUrls,
                    "https://10.0.0.1:2380,http://localhost:2380,https://[::1]:2380",
                ),
                (Key::AdvertiseClientUrls, "https://etcd-0.example.com:2379"),
            ]),
            &Bootstrap::default(),
            None,
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn advertised_urls_need_a_host() {
        let p = validate(
            &values(&[(Key::AdvertiseClientUrls, "https://:2379")]),
            &Bootstrap::default(),
            None,
        );
        assert!(p[0]
            .message
            .contains("must be \"host:port\" (unexpected empty host"));
    }

    #[test]
    fn one_bootstrap_method() {
        let b = Bootstrap {
            discovery_srv: "example.com".into(),
            ..Bootstrap::default()
        };
        let p = validate(
            &values(&[(Key::InitialCluster, "a=https://10.0.0.1:2380")]),
            &b,
            None,
        );
        assert!(p[0]
            .message
            .starts_with("multiple discovery or bootstrap flags are set"));
    }

    #[test]
    fn tls_versions() {
        let p = validate(
            &values(&[
                (Key::TlsMinVersion, "TLS1.3"),
                (Key::CipherSuites, "TLS_AES_128_GCM_SHA256"),
            ]),
            &Bootstrap::default(),
            Version::parse("3.5.16"),
        );
        assert!(p[0]
            .message
            .starts_with("cipher suites cannot be configured"));
        let p = validate(
            &values(&[
                (Key::TlsMinVersion, "TLS1.3"),
                (Key::TlsMaxVersion, "TLS1.2"),
            ]),
            &Bootstrap::default(),
            None,
        );
        assert!(p[0]
            .message
            .starts_with("min version (TLS1.3) is greater than max version (TLS1.2)"));
        let p = validate(
            &values(&[(Key::TlsMinVersion, "tls1.2")]),
            &Bootstrap::default(),
            None,
        );
        assert!(p[0]
            .message
            .starts_with("unexpected TLS version \"tls1.2\""));
        // 3.4.23 has no such setting.
        assert!(validate(
            &values(&[(Key::TlsMinVersion, "tls1.2")]),
            &Bootstrap::default(),
            Version::parse("3.4.23"),
        )
        .is_empty());
    }
}
