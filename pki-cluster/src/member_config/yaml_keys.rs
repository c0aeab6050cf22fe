//! The keys of etcd's config file: the Go `json:` tags of `embed.Config`, `configJSON` and
//! `securityConfig` (`embed/config.go` in every v3.4.x tag, `server/embed/config.go` in every
//! v3.5.x tag), and of etcdmain's `configProxy` (`etcdmain/config.go`, the same in all), with
//! their Go types (which decide what YAML value each accepts) and the first patch release of
//! each line that has them.

use super::version::{self, Version};

/// The Go type a key decodes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum YamlType {
    /// `string` (and `V2DeprecationEnum`): YAML numbers and booleans become their text.
    Str,
    /// `bool`.
    Bool,
    /// `uint`/`uint32`/`uint64` of so many bits.
    Uint(u32),
    /// `int`/`int64`/`time.Duration` (nanoseconds): a number, never `5s`.
    Int(u32),
    /// `[]string`: a YAML list.
    Strings,
    /// `securityConfig`: a mapping of [`SECURITY`] keys.
    Security,
    /// A struct this tool does not look into (`socket-options`).
    Opaque,
}

/// One config-file key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct YamlKey {
    /// The json tag.
    pub(crate) name: &'static str,
    /// Its Go type.
    pub(crate) ty: YamlType,
    /// First 3.4.x that has it.
    pub(crate) since_34: Option<u32>,
    /// First 3.5.x that has it.
    pub(crate) since_35: Option<u32>,
}

impl YamlKey {
    /// Whether `version` has the key (unknown: yes).
    pub(crate) fn in_version(&self, version: Option<Version>) -> bool {
        version::has(version, self.since_34, self.since_35)
    }
}

/// Go `encoding/json`'s case-insensitive key match (`foldName`): ASCII letters fold, and so do
/// the Kelvin sign (to `k`) and the long s (to `s`); every tag here is ASCII.
pub(crate) fn fold_eq(key: &str, tag: &str) -> bool {
    let fold = |c: char| match c {
        '\u{212a}' => 'k',
        '\u{17f}' => 's',
        c => c.to_ascii_lowercase(),
    };
    key.chars().count() == tag.len() && key.chars().map(fold).eq(tag.chars())
}

/// The key of `table` that `key` selects in `version`, exact match first (as `encoding/json`).
pub(crate) fn find(
    table: &'static [YamlKey],
    key: &str,
    version: Option<Version>,
) -> Option<&'static YamlKey> {
    let present = |k: &&YamlKey| k.in_version(version);
    table
        .iter()
        .filter(present)
        .find(|k| k.name == key)
        .or_else(|| table.iter().filter(present).find(|k| fold_eq(key, k.name)))
}

const fn yk(
    name: &'static str,
    ty: YamlType,
    since_34: Option<u32>,
    since_35: Option<u32>,
) -> YamlKey {
    YamlKey {
        name,
        ty,
        since_34,
        since_35,
    }
}

use YamlType::{Bool, Int, Opaque, Security, Str, Strings, Uint};

/// Top-level keys, `Config` and `configJSON` (generated from the tags, see the module doc), and
/// `configProxy`.
pub(crate) static TOP: &[YamlKey] = &[
    yk("advertise-client-urls", Str, Some(0), Some(0)),
    yk("auth-token", Str, Some(0), Some(0)),
    yk("auth-token-ttl", Uint(64), Some(10), Some(0)),
    yk("auto-compaction-mode", Str, Some(0), Some(0)),
    yk("auto-compaction-retention", Str, Some(0), Some(0)),
    yk("backend-batch-interval", Int(64), Some(0), Some(0)),
    yk("backend-batch-limit", Int(64), Some(0), Some(0)),
    yk("backend-bbolt-freelist-type", Str, None, Some(0)),
    yk("bcrypt-cost", Uint(64), Some(0), Some(0)),
    yk("cipher-suites", Strings, Some(0), Some(0)),
    yk("client-transport-security", Security, Some(0), Some(0)),
    yk("cors", Str, Some(0), Some(0)),
    yk("data-dir", Str, Some(0), Some(0)),
    yk("debug", Bool, Some(0), None),
    yk("discovery", Str, Some(0), Some(0)),
    yk("discovery-proxy", Str, Some(0), Some(0)),
    yk("discovery-srv", Str, Some(0), Some(0)),
    yk("discovery-srv-name", Str, Some(0), Some(0)),
    yk("election-timeout", Uint(64), Some(0), Some(0)),
    yk("enable-grpc-gateway", Bool, Some(0), Some(0)),
    yk("enable-log-rotation", Bool, None, Some(0)),
    yk("enable-pprof", Bool, Some(0), Some(0)),
    yk("enable-v2", Bool, Some(0), Some(0)),
    yk(
        "experimental-backend-bbolt-freelist-type",
        Str,
        Some(0),
        None,
    ),
    yk(
        "experimental-bootstrap-defrag-threshold-megabytes",
        Uint(64),
        None,
        Some(0),
    ),
    yk(
        "experimental-compact-hash-check-enabled",
        Bool,
        None,
        Some(5),
    ),
    yk(
        "experimental-compact-hash-check-time",
        Int(64),
        None,
        Some(5),
    ),
    yk(
        "experimental-compaction-batch-limit",
        Int(64),
        Some(0),
        Some(0),
    ),
    yk(
        "experimental-compaction-sleep-interval",
        Int(64),
        None,
        Some(16),
    ),
    yk("experimental-corrupt-check-time", Int(64), Some(0), Some(0)),
    yk(
        "experimental-distributed-tracing-address",
        Str,
        None,
        Some(0),
    ),
    yk(
        "experimental-distributed-tracing-instance-id",
        Str,
        None,
        Some(0),
    ),
    yk(
        "experimental-distributed-tracing-sampling-rate",
        Int(64),
        None,
        Some(11),
    ),
    yk(
        "experimental-distributed-tracing-service-name",
        Str,
        None,
        Some(0),
    ),
    yk("experimental-downgrade-check-time", Int(64), None, Some(0)),
    yk(
        "experimental-enable-distributed-tracing",
        Bool,
        None,
        Some(0),
    ),
    yk(
        "experimental-enable-lease-checkpoint",
        Bool,
        Some(0),
        Some(0),
    ),
    yk(
        "experimental-enable-lease-checkpoint-persist",
        Bool,
        Some(20),
        Some(2),
    ),
    yk("experimental-enable-v2v3", Str, Some(0), Some(0)),
    yk("experimental-initial-corrupt-check", Bool, Some(0), Some(0)),
    yk("experimental-memory-mlock", Bool, None, Some(0)),
    yk(
        "experimental-snapshot-catch-up-entries",
        Uint(64),
        None,
        Some(14),
    ),
    yk(
        "experimental-stop-grpc-service-on-defrag",
        Bool,
        None,
        Some(14),
    ),
    yk(
        "experimental-txn-mode-write-with-shared-buffer",
        Bool,
        None,
        Some(0),
    ),
    yk(
        "experimental-warning-apply-duration",
        Int(64),
        Some(16),
        Some(0),
    ),
    yk(
        "experimental-watch-progress-notify-interval",
        Int(64),
        Some(11),
        Some(0),
    ),
    yk("force-new-cluster", Bool, Some(0), Some(0)),
    yk("grpc-keepalive-interval", Int(64), Some(0), Some(0)),
    yk("grpc-keepalive-min-time", Int(64), Some(0), Some(0)),
    yk("grpc-keepalive-timeout", Int(64), Some(0), Some(0)),
    yk("heartbeat-interval", Uint(64), Some(0), Some(0)),
    yk("host-whitelist", Str, Some(0), Some(0)),
    yk("initial-advertise-peer-urls", Str, Some(0), Some(0)),
    yk("initial-cluster", Str, Some(0), Some(0)),
    yk("initial-cluster-state", Str, Some(0), Some(0)),
    yk("initial-cluster-token", Str, Some(0), Some(0)),
    yk("initial-election-tick-advance", Bool, Some(0), Some(0)),
    yk("listen-client-http-urls", Str, Some(25), Some(8)),
    yk("listen-client-urls", Str, Some(0), Some(0)),
    yk("listen-metrics-urls", Str, Some(0), Some(0)),
    yk("listen-peer-urls", Str, Some(0), Some(0)),
    yk("log-level", Str, Some(0), Some(0)),
    yk("log-output", Strings, Some(0), None),
    yk("log-outputs", Strings, Some(0), Some(0)),
    yk("log-package-levels", Str, Some(0), None),
    yk("log-rotation-config-json", Str, None, Some(0)),
    yk("logger", Str, Some(0), Some(0)),
    yk("max-concurrent-streams", Uint(32), Some(20), Some(5)),
    yk("max-request-bytes", Uint(64), Some(0), Some(0)),
    yk("max-snapshots", Uint(64), Some(0), Some(0)),
    yk("max-txn-ops", Uint(64), Some(0), Some(0)),
    yk("max-wals", Uint(64), Some(0), Some(0)),
    yk("metrics", Str, Some(0), Some(0)),
    yk("name", Str, Some(0), Some(0)),
    yk("next-cluster-version-compatible", Bool, Some(31), None),
    yk("peer-transport-security", Security, Some(0), Some(0)),
    yk("pre-vote", Bool, Some(0), Some(0)),
    yk("quota-backend-bytes", Int(64), Some(0), Some(0)),
    yk("self-signed-cert-validity", Uint(64), None, Some(1)),
    yk("snapshot-count", Uint(64), Some(0), Some(0)),
    yk("socket-options", Opaque, None, Some(10)),
    yk("strict-reconfig-check", Bool, Some(0), Some(0)),
    yk("tls-max-version", Str, Some(25), Some(8)),
    yk("tls-min-version", Str, Some(25), Some(8)),
    yk("unsafe-no-fsync", Bool, Some(10), Some(0)),
    yk("v2-deprecation", Str, None, Some(0)),
    yk("wal-dir", Str, Some(0), Some(0)),
    yk("proxy", Str, Some(0), Some(0)),
    yk("discovery-fallback", Str, Some(0), Some(0)),
    yk("proxy-failure-wait", Uint(64), Some(0), Some(0)),
    yk("proxy-refresh-interval", Uint(64), Some(0), Some(0)),
    yk("proxy-dial-timeout", Uint(64), Some(0), Some(0)),
    yk("proxy-write-timeout", Uint(64), Some(0), Some(0)),
    yk("proxy-read-timeout", Uint(64), Some(0), Some(0)),
];

/// The keys of `client-transport-security` and `peer-transport-security` (`securityConfig`).
/// `allowed-cn`/`allowed-hostname` are a `string` in 3.5.14 and a `[]string` from 3.5.15.
pub(crate) static SECURITY: &[YamlKey] = &[
    yk("allowed-cn", Strings, None, Some(14)),
    yk("allowed-hostname", Strings, None, Some(14)),
    yk("auto-tls", Bool, Some(0), Some(0)),
    yk("cert-file", Str, Some(0), Some(0)),
    yk("client-cert-auth", Bool, Some(0), Some(0)),
    yk("client-cert-file", Str, None, Some(0)),
    yk("client-key-file", Str, None, Some(0)),
    yk("key-file", Str, Some(0), Some(0)),
    yk("trusted-ca-file", Str, Some(0), Some(0)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_case_insensitively_and_by_version() {
        assert_eq!(find(TOP, "Name", None).map(|k| k.name), Some("name"));
        assert_eq!(
            find(TOP, "PEER-TRANSPORT-SECURITY", None).map(|k| k.name),
            Some("peer-transport-security")
        );
        assert!(find(TOP, "peer_transport_security", None).is_none());
        assert!(find(SECURITY, "client-cert-file", Version::parse("3.4.23")).is_none());
        assert!(find(SECURITY, "client-cert-file", Version::parse("3.5.0")).is_some());
        assert!(find(TOP, "tls-min-version", Version::parse("3.5.7")).is_none());
        assert!(find(TOP, "tls-min-version", Version::parse("3.5.8")).is_some());
        assert!(fold_eq("\u{212a}ey", "key"));
    }
}
