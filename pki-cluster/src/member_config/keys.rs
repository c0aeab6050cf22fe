//! The settings `doctor` interprets ([`Key`]): their flag, environment variable and config-file
//! key, and the etcd releases that have them; and the complete table of etcd's command-line
//! flags, which the argument parser needs to tell a flag's value from the next flag (booleans
//! take none) and to refuse flags etcd does not know.
//!
//! The flag table is etcd's own registrations: `etcdmain/config.go` `newConfig()` in every
//! v3.4.x tag (v3.4.0 to v3.4.45) and `server/etcdmain/config.go` in every v3.5.x tag (v3.5.0 to
//! v3.5.33), read from the etcd repository, with the first patch release of each line that
//! registers the flag. The legacy flags of the `ignored` list (same files) are registered as
//! `flags.IgnoredFlag`, a boolean-like value that accepts anything and does nothing
//! (`pkg/flags/ignored.go`).

use super::version::{self, Version};
use super::{Key, KeyInfo, Kind};

impl Key {
    /// Where the setting lives, and since when.
    pub fn info(self) -> KeyInfo {
        use Kind::{Bool, List, Str, Urls};
        let (flag, yaml, kind, since_34, since_35) = match self {
            Key::Name => (Some("name"), Some("name"), Str, Some(0), Some(0)),
            Key::DataDir => (Some("data-dir"), Some("data-dir"), Str, Some(0), Some(0)),
            Key::ListenClientUrls => (
                Some("listen-client-urls"),
                Some("listen-client-urls"),
                Urls,
                Some(0),
                Some(0),
            ),
            Key::ListenClientHttpUrls => (
                Some("listen-client-http-urls"),
                Some("listen-client-http-urls"),
                Urls,
                Some(25),
                Some(8),
            ),
            Key::AdvertiseClientUrls => (
                Some("advertise-client-urls"),
                Some("advertise-client-urls"),
                Urls,
                Some(0),
                Some(0),
            ),
            Key::ListenPeerUrls => (
                Some("listen-peer-urls"),
                Some("listen-peer-urls"),
                Urls,
                Some(0),
                Some(0),
            ),
            Key::InitialAdvertisePeerUrls => (
                Some("initial-advertise-peer-urls"),
                Some("initial-advertise-peer-urls"),
                Urls,
                Some(0),
                Some(0),
            ),
            Key::ListenMetricsUrls => (
                Some("listen-metrics-urls"),
                Some("listen-metrics-urls"),
                Urls,
                Some(0),
                Some(0),
            ),
            Key::InitialCluster => (
                Some("initial-cluster"),
                Some("initial-cluster"),
                Str,
                Some(0),
                Some(0),
            ),
            Key::CertFile => (
                Some("cert-file"),
                Some("client-transport-security.cert-file"),
                Str,
                Some(0),
                Some(0),
            ),
            Key::KeyFile => (
                Some("key-file"),
                Some("client-transport-security.key-file"),
                Str,
                Some(0),
                Some(0),
            ),
            Key::ClientCertFile => (
                Some("client-cert-file"),
                Some("client-transport-security.client-cert-file"),
                Str,
                None,
                Some(0),
            ),
            Key::ClientKeyFile => (
                Some("client-key-file"),
                Some("client-transport-security.client-key-file"),
                Str,
                None,
                Some(0),
            ),
            Key::ClientCertAuth => (
                Some("client-cert-auth"),
                Some("client-transport-security.client-cert-auth"),
                Bool,
                Some(0),
                Some(0),
            ),
            Key::TrustedCaFile => (
                Some("trusted-ca-file"),
                Some("client-transport-security.trusted-ca-file"),
                Str,
                Some(0),
                Some(0),
            ),
            Key::AutoTls => (
                Some("auto-tls"),
                Some("client-transport-security.auto-tls"),
                Bool,
                Some(0),
                Some(0),
            ),
            Key::ClientCrlFile => (Some("client-crl-file"), None, Str, Some(0), Some(0)),
            Key::ClientCertAllowedHostname => (
                Some("client-cert-allowed-hostname"),
                Some("client-transport-security.allowed-hostname"),
                List,
                Some(0),
                Some(0),
            ),
            Key::ClientCertAllowedCn => (
                None,
                Some("client-transport-security.allowed-cn"),
                List,
                None,
                Some(14),
            ),
            Key::PeerCertFile => (
                Some("peer-cert-file"),
                Some("peer-transport-security.cert-file"),
                Str,
                Some(0),
                Some(0),
            ),
            Key::PeerKeyFile => (
                Some("peer-key-file"),
                Some("peer-transport-security.key-file"),
                Str,
                Some(0),
                Some(0),
            ),
            Key::PeerClientCertFile => (
                Some("peer-client-cert-file"),
                Some("peer-transport-security.client-cert-file"),
                Str,
                None,
                Some(0),
            ),
            Key::PeerClientKeyFile => (
                Some("peer-client-key-file"),
                Some("peer-transport-security.client-key-file"),
                Str,
                None,
                Some(0),
            ),
            Key::PeerClientCertAuth => (
                Some("peer-client-cert-auth"),
                Some("peer-transport-security.client-cert-auth"),
                Bool,
                Some(0),
                Some(0),
            ),
            Key::PeerTrustedCaFile => (
                Some("peer-trusted-ca-file"),
                Some("peer-transport-security.trusted-ca-file"),
                Str,
                Some(0),
                Some(0),
            ),
            Key::PeerAutoTls => (
                Some("peer-auto-tls"),
                Some("peer-transport-security.auto-tls"),
                Bool,
                Some(0),
                Some(0),
            ),
            Key::PeerCrlFile => (Some("peer-crl-file"), None, Str, Some(0), Some(0)),
            Key::PeerCertAllowedCn => (
                Some("peer-cert-allowed-cn"),
                Some("peer-transport-security.allowed-cn"),
                List,
                Some(0),
                Some(0),
            ),
            Key::PeerCertAllowedHostname => (
                Some("peer-cert-allowed-hostname"),
                Some("peer-transport-security.allowed-hostname"),
                List,
                Some(0),
                Some(0),
            ),
            Key::PeerSkipClientSanVerification => (
                Some("experimental-peer-skip-client-san-verification"),
                None,
                Bool,
                Some(0),
                Some(0),
            ),
            Key::CipherSuites => (
                Some("cipher-suites"),
                Some("cipher-suites"),
                List,
                Some(0),
                Some(0),
            ),
            Key::TlsMinVersion => (
                Some("tls-min-version"),
                Some("tls-min-version"),
                Str,
                Some(25),
                Some(8),
            ),
            Key::TlsMaxVersion => (
                Some("tls-max-version"),
                Some("tls-max-version"),
                Str,
                Some(25),
                Some(8),
            ),
            Key::ConfigFile => (Some("config-file"), None, Str, Some(0), Some(0)),
        };
        KeyInfo {
            flag,
            yaml,
            kind,
            since_34,
            since_35,
        }
    }

    /// The first 3.4.x and 3.5.x whose config file has the key [`KeyInfo::yaml`] (`None`: no
    /// release of that line), where it differs from the flag's: the allowed-CN and
    /// allowed-hostname keys came in 3.5.14 (a single string; a YAML list from 3.5.15), years
    /// after their flags (`server/embed/config.go` `securityConfig` at v3.5.14 and v3.5.15; no
    /// 3.4 release has them).
    pub fn yaml_since(self) -> (Option<u32>, Option<u32>) {
        let info = self.info();
        if info.yaml.is_none() {
            return (None, None);
        }
        match self {
            Key::ClientCertAllowedHostname
            | Key::ClientCertAllowedCn
            | Key::PeerCertAllowedCn
            | Key::PeerCertAllowedHostname => (None, Some(14)),
            _ => (info.since_34, info.since_35),
        }
    }

    /// Every key, in declaration order.
    pub fn all() -> &'static [Key] {
        &[
            Key::Name,
            Key::DataDir,
            Key::ListenClientUrls,
            Key::ListenClientHttpUrls,
            Key::AdvertiseClientUrls,
            Key::ListenPeerUrls,
            Key::InitialAdvertisePeerUrls,
            Key::ListenMetricsUrls,
            Key::InitialCluster,
            Key::CertFile,
            Key::KeyFile,
            Key::ClientCertFile,
            Key::ClientKeyFile,
            Key::ClientCertAuth,
            Key::TrustedCaFile,
            Key::AutoTls,
            Key::ClientCrlFile,
            Key::ClientCertAllowedHostname,
            Key::ClientCertAllowedCn,
            Key::PeerCertFile,
            Key::PeerKeyFile,
            Key::PeerClientCertFile,
            Key::PeerClientKeyFile,
            Key::PeerClientCertAuth,
            Key::PeerTrustedCaFile,
            Key::PeerAutoTls,
            Key::PeerCrlFile,
            Key::PeerCertAllowedCn,
            Key::PeerCertAllowedHostname,
            Key::PeerSkipClientSanVerification,
            Key::CipherSuites,
            Key::TlsMinVersion,
            Key::TlsMaxVersion,
            Key::ConfigFile,
        ]
    }

    /// The environment variable etcd reads for the flag: `ETCD_` and the flag upper-cased with
    /// `-` as `_` (`pkg/flags/flag.go` `FlagToEnv`, v3.4.23 and v3.5.16). `None` for a key
    /// without a flag.
    pub fn env_var(self) -> Option<String> {
        self.info().flag.map(flag_to_env)
    }

    /// The key whose flag this is.
    pub(crate) fn from_flag(flag: &str) -> Option<Key> {
        Key::all()
            .iter()
            .copied()
            .find(|k| k.info().flag == Some(flag))
    }

    /// Whether the flag exists in `version` (unknown: it does).
    pub(crate) fn flag_in(self, version: Option<Version>) -> bool {
        let info = self.info();
        info.flag.is_some() && version::has(version, info.since_34, info.since_35)
    }
}

/// `pkg/flags/flag.go` `FlagToEnv("ETCD", name)`: `"ETCD_" + strings.ToUpper(strings.Replace(name,
/// "-", "_", -1))`. Go's `ToUpper` maps Unicode letters too; every etcd flag is ASCII.
pub(crate) fn flag_to_env(name: &str) -> String {
    format!("ETCD_{}", name.replace('-', "_").to_uppercase())
}

/// How etcd's flag value parses its text (`flag.Value.Set`), which decides the errors it
/// refuses to start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagType {
    /// Go `flag.BoolVar`: `strconv.ParseBool`; needs no separate value.
    Bool,
    /// `flags.IgnoredFlag`: boolean-like, any value accepted and dropped.
    Ignored,
    /// Go `flag.StringVar`: anything.
    Str,
    /// `flags.UniqueURLs` (`pkg/flags/unique_urls.go`): a comma-separated URL list checked by
    /// `types.NewURLs`; the text `allowed` is accepted as it is.
    Urls {
        /// The exception `NewUniqueURLsWithExceptions` was given.
        allowed: &'static str,
    },
    /// `flags.StringsValue` (`pkg/flags/strings.go`), or a plain string before 3.5.15 for the
    /// allowed-CN/hostname flags: anything.
    Strings,
    /// `flags.UniqueStringsValue`: anything.
    UniqueStrings,
    /// Go `flag.UintVar` / `Uint64Var`: `strconv.ParseUint(s, 0, 64)`.
    Uint,
    /// Go `flag.IntVar` / `Int64Var`: `strconv.ParseInt(s, 0, 64)`.
    Int,
    /// etcd's `uint32Value` (`pkg/flags/uint32.go`): `strconv.ParseUint(s, 0, 32)`, its error
    /// returned as it is.
    EtcdUint32,
    /// Go `flag.DurationVar`: `time.ParseDuration`.
    Duration,
    /// `flags.SelectiveStringValue`: one of these.
    Selective(&'static [&'static str]),
    /// `flags.SelectiveStringsValue`: a comma-separated list of these.
    SelectiveList(&'static [&'static str]),
}

/// One registered etcd flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlagSpec {
    /// The name, without dashes.
    pub(crate) name: &'static str,
    /// Its value's type.
    pub(crate) ty: FlagType,
    /// The first 3.4.x that registers it (`None`: no 3.4 release).
    pub(crate) since_34: Option<u32>,
    /// The first 3.5.x that registers it (`None`: no 3.5 release).
    pub(crate) since_35: Option<u32>,
}

impl FlagSpec {
    /// Whether a boolean (Go's `boolFlag` with `IsBoolFlag() == true`): it takes no separate
    /// value.
    pub(crate) fn is_bool(&self) -> bool {
        matches!(self.ty, FlagType::Bool | FlagType::Ignored)
    }

    /// Whether `version` registers it (unknown version: yes).
    pub(crate) fn in_version(&self, version: Option<Version>) -> bool {
        version::has(version, self.since_34, self.since_35)
    }
}

const fn spec(
    name: &'static str,
    ty: FlagType,
    since_34: Option<u32>,
    since_35: Option<u32>,
) -> FlagSpec {
    FlagSpec {
        name,
        ty,
        since_34,
        since_35,
    }
}

/// The flag named `name` (without dashes), in any release of 3.4 or 3.5.
pub(crate) fn flag_spec(name: &str) -> Option<&'static FlagSpec> {
    FLAGS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .and_then(|i| FLAGS.get(i))
}

/// Every flag any 3.4.x or 3.5.x registers, sorted by name (Go's `FlagSet.VisitAll` order,
/// which is also the order `SetFlagsFromEnv` reads the environment in).
pub(crate) fn all_flags() -> &'static [FlagSpec] {
    FLAGS
}

use FlagType::{
    Bool, Duration, EtcdUint32, Ignored, Int, Selective, SelectiveList, Str, Strings, Uint,
    UniqueStrings, Urls,
};

/// Generated from the `fs.*Var` registrations of every v3.4.x and v3.5.x tag (see the module
/// doc); sorted by name.
static FLAGS: &[FlagSpec] = &[
    spec(
        "advertise-client-urls",
        Urls { allowed: "" },
        Some(0),
        Some(0),
    ),
    spec("auth-token", Str, Some(0), Some(0)),
    spec("auth-token-ttl", Uint, Some(10), Some(0)),
    spec("auto-compaction-mode", Str, Some(0), Some(0)),
    spec("auto-compaction-retention", Str, Some(0), Some(0)),
    spec("auto-tls", Bool, Some(0), Some(0)),
    spec("backend-batch-interval", Duration, Some(0), Some(0)),
    spec("backend-batch-limit", Int, Some(0), Some(0)),
    spec("backend-bbolt-freelist-type", Str, None, Some(0)),
    spec("bcrypt-cost", Uint, Some(0), Some(0)),
    spec("cert-file", Str, Some(0), Some(0)),
    spec("cipher-suites", Strings, Some(0), Some(0)),
    spec("client-cert-allowed-hostname", Strings, Some(0), Some(0)),
    spec("client-cert-auth", Bool, Some(0), Some(0)),
    spec("client-cert-file", Str, None, Some(0)),
    spec("client-crl-file", Str, Some(0), Some(0)),
    spec("client-key-file", Str, None, Some(0)),
    spec("cluster-active-size", Ignored, Some(0), Some(0)),
    spec("cluster-remove-delay", Ignored, Some(0), Some(0)),
    spec("cluster-sync-interval", Ignored, Some(0), Some(0)),
    spec("config", Ignored, Some(0), Some(0)),
    spec("config-file", Str, Some(0), Some(0)),
    spec("cors", Urls { allowed: "*" }, Some(0), Some(0)),
    spec("data-dir", Str, Some(0), Some(0)),
    spec("debug", Bool, Some(0), None),
    spec("discovery", Str, Some(0), Some(0)),
    spec(
        "discovery-fallback",
        Selective(&["proxy", "exit"]),
        Some(0),
        Some(0),
    ),
    spec("discovery-proxy", Str, Some(0), Some(0)),
    spec("discovery-srv", Str, Some(0), Some(0)),
    spec("discovery-srv-name", Str, Some(0), Some(0)),
    spec("election-timeout", Uint, Some(0), Some(0)),
    spec("enable-grpc-gateway", Bool, Some(0), Some(0)),
    spec("enable-log-rotation", Bool, None, Some(0)),
    spec("enable-pprof", Bool, Some(0), Some(0)),
    spec("enable-v2", Bool, Some(0), Some(0)),
    spec(
        "experimental-backend-bbolt-freelist-type",
        Str,
        Some(0),
        None,
    ),
    spec(
        "experimental-bootstrap-defrag-threshold-megabytes",
        Uint,
        None,
        Some(0),
    ),
    spec(
        "experimental-compact-hash-check-enabled",
        Bool,
        None,
        Some(5),
    ),
    spec(
        "experimental-compact-hash-check-time",
        Duration,
        None,
        Some(5),
    ),
    spec("experimental-compaction-batch-limit", Int, Some(0), Some(0)),
    spec(
        "experimental-compaction-sleep-interval",
        Duration,
        None,
        Some(16),
    ),
    spec(
        "experimental-corrupt-check-time",
        Duration,
        Some(0),
        Some(0),
    ),
    spec(
        "experimental-distributed-tracing-address",
        Str,
        None,
        Some(0),
    ),
    spec(
        "experimental-distributed-tracing-instance-id",
        Str,
        None,
        Some(0),
    ),
    spec(
        "experimental-distributed-tracing-sampling-rate",
        Int,
        None,
        Some(11),
    ),
    spec(
        "experimental-distributed-tracing-service-name",
        Str,
        None,
        Some(0),
    ),
    spec("experimental-downgrade-check-time", Duration, None, Some(0)),
    spec(
        "experimental-enable-distributed-tracing",
        Bool,
        None,
        Some(0),
    ),
    spec(
        "experimental-enable-lease-checkpoint",
        Bool,
        Some(0),
        Some(0),
    ),
    spec(
        "experimental-enable-lease-checkpoint-persist",
        Bool,
        Some(20),
        Some(2),
    ),
    spec("experimental-enable-v2v3", Str, Some(0), Some(0)),
    spec("experimental-initial-corrupt-check", Bool, Some(0), Some(0)),
    spec("experimental-memory-mlock", Bool, None, Some(0)),
    spec(
        "experimental-peer-skip-client-san-verification",
        Bool,
        Some(0),
        Some(0),
    ),
    spec(
        "experimental-snapshot-catchup-entries",
        Uint,
        None,
        Some(14),
    ),
    spec(
        "experimental-stop-grpc-service-on-defrag",
        Bool,
        None,
        Some(14),
    ),
    spec(
        "experimental-txn-mode-write-with-shared-buffer",
        Bool,
        None,
        Some(0),
    ),
    spec(
        "experimental-warning-apply-duration",
        Duration,
        Some(16),
        Some(0),
    ),
    spec(
        "experimental-watch-progress-notify-interval",
        Duration,
        Some(11),
        Some(0),
    ),
    spec("force", Ignored, Some(0), Some(0)),
    spec("force-new-cluster", Bool, Some(0), Some(0)),
    spec("grpc-keepalive-interval", Duration, Some(0), Some(0)),
    spec("grpc-keepalive-min-time", Duration, Some(0), Some(0)),
    spec("grpc-keepalive-timeout", Duration, Some(0), Some(0)),
    spec("heartbeat-interval", Uint, Some(0), Some(0)),
    spec("host-whitelist", UniqueStrings, Some(0), Some(0)),
    spec(
        "initial-advertise-peer-urls",
        Urls { allowed: "" },
        Some(0),
        Some(0),
    ),
    spec("initial-cluster", Str, Some(0), Some(0)),
    spec(
        "initial-cluster-state",
        Selective(&["new", "existing"]),
        Some(0),
        Some(0),
    ),
    spec("initial-cluster-token", Str, Some(0), Some(0)),
    spec("initial-election-tick-advance", Bool, Some(0), Some(0)),
    spec("key-file", Str, Some(0), Some(0)),
    spec(
        "listen-client-http-urls",
        Urls { allowed: "" },
        Some(25),
        Some(8),
    ),
    spec("listen-client-urls", Urls { allowed: "" }, Some(0), Some(0)),
    spec(
        "listen-metrics-urls",
        Urls { allowed: "" },
        Some(0),
        Some(0),
    ),
    spec("listen-peer-urls", Urls { allowed: "" }, Some(0), Some(0)),
    spec("log-level", Str, Some(0), Some(0)),
    spec("log-output", UniqueStrings, Some(0), None),
    spec("log-outputs", UniqueStrings, Some(0), Some(0)),
    spec("log-package-levels", Str, Some(0), None),
    spec("log-rotation-config-json", Str, None, Some(0)),
    spec("logger", Str, Some(0), Some(0)),
    spec("max-concurrent-streams", EtcdUint32, Some(20), Some(5)),
    spec("max-request-bytes", Uint, Some(0), Some(0)),
    spec("max-result-buffer", Ignored, Some(0), Some(0)),
    spec("max-retry-attempts", Ignored, Some(0), Some(0)),
    spec("max-snapshots", Uint, Some(0), Some(0)),
    spec("max-txn-ops", Uint, Some(0), Some(0)),
    spec("max-wals", Uint, Some(0), Some(0)),
    spec("metrics", Str, Some(0), Some(0)),
    spec("name", Str, Some(0), Some(0)),
    spec("next-cluster-version-compatible", Bool, Some(31), None),
    spec("peer-auto-tls", Bool, Some(0), Some(0)),
    spec("peer-cert-allowed-cn", Strings, Some(0), Some(0)),
    spec("peer-cert-allowed-hostname", Strings, Some(0), Some(0)),
    spec("peer-cert-file", Str, Some(0), Some(0)),
    spec("peer-client-cert-auth", Bool, Some(0), Some(0)),
    spec("peer-client-cert-file", Str, None, Some(0)),
    spec("peer-client-key-file", Str, None, Some(0)),
    spec("peer-crl-file", Str, Some(0), Some(0)),
    spec("peer-election-timeout", Ignored, Some(0), Some(0)),
    spec("peer-heartbeat-interval", Ignored, Some(0), Some(0)),
    spec("peer-key-file", Str, Some(0), Some(0)),
    spec("peer-trusted-ca-file", Str, Some(0), Some(0)),
    spec("pre-vote", Bool, Some(0), Some(0)),
    spec(
        "proxy",
        Selective(&["off", "readonly", "on"]),
        Some(0),
        Some(0),
    ),
    spec("proxy-dial-timeout", Uint, Some(0), Some(0)),
    spec("proxy-failure-wait", Uint, Some(0), Some(0)),
    spec("proxy-read-timeout", Uint, Some(0), Some(0)),
    spec("proxy-refresh-interval", Uint, Some(0), Some(0)),
    spec("proxy-write-timeout", Uint, Some(0), Some(0)),
    spec("quota-backend-bytes", Int, Some(0), Some(0)),
    spec("raft-read-timeout", Duration, None, Some(0)),
    spec("raft-write-timeout", Duration, None, Some(0)),
    spec("retry-interval", Ignored, Some(0), Some(0)),
    spec("self-signed-cert-validity", Uint, None, Some(0)),
    spec("snapshot", Ignored, Some(0), Some(0)),
    spec("snapshot-count", Uint, Some(0), Some(0)),
    spec("socket-reuse-address", Bool, None, Some(0)),
    spec("socket-reuse-port", Bool, None, Some(0)),
    spec("strict-reconfig-check", Bool, Some(0), Some(0)),
    spec("test.coverprofile", Ignored, Some(0), Some(0)),
    spec("test.outputdir", Ignored, Some(0), Some(0)),
    spec("tls-max-version", Str, Some(25), Some(8)),
    spec("tls-min-version", Str, Some(25), Some(8)),
    spec("trusted-ca-file", Str, Some(0), Some(0)),
    spec("unsafe-no-fsync", Bool, Some(10), Some(0)),
    spec("v", Ignored, Some(0), Some(0)),
    spec(
        "v2-deprecation",
        SelectiveList(&["not-yet", "write-only", "write-only-drop-data", "gone"]),
        None,
        Some(0),
    ),
    spec("version", Bool, Some(0), Some(0)),
    spec("vv", Ignored, Some(0), Some(0)),
    spec("wal-dir", Str, Some(0), Some(0)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in FLAGS.windows(2) {
            assert!(pair[0].name < pair[1].name, "{:?}", pair);
        }
    }

    #[test]
    fn every_key_with_a_flag_is_registered_with_matching_versions() {
        for key in Key::all() {
            let info = key.info();
            let Some(flag) = info.flag else { continue };
            let spec = flag_spec(flag).unwrap_or_else(|| panic!("{flag} not in the table"));
            assert_eq!(
                (spec.since_34, spec.since_35),
                (info.since_34, info.since_35),
                "{flag}"
            );
            assert_eq!(spec.is_bool(), info.kind == Kind::Bool, "{flag}");
            assert_eq!(Key::from_flag(flag), Some(*key));
        }
    }

    #[test]
    fn all_lists_every_key_once() {
        let mut keys = Key::all().to_vec();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Key::all().len());
        assert_eq!(keys.len(), 34);
    }

    #[test]
    fn env_var_names() {
        assert_eq!(
            Key::PeerCertFile.env_var().as_deref(),
            Some("ETCD_PEER_CERT_FILE")
        );
        assert_eq!(
            Key::PeerSkipClientSanVerification.env_var().as_deref(),
            Some("ETCD_EXPERIMENTAL_PEER_SKIP_CLIENT_SAN_VERIFICATION")
        );
        assert_eq!(Key::ClientCertAllowedCn.env_var(), None);
        assert_eq!(
            Key::ConfigFile.env_var().as_deref(),
            Some("ETCD_CONFIG_FILE")
        );
    }

    #[test]
    fn version_specific_flags() {
        let v34 = Version::parse("3.4.23");
        let v35 = Version::parse("3.5.16");
        let client_cert = flag_spec("client-cert-file").unwrap();
        assert!(!client_cert.in_version(v34));
        assert!(client_cert.in_version(v35));
        assert!(client_cert.in_version(None));
        let debug = flag_spec("debug").unwrap();
        assert!(debug.in_version(v34) && !debug.in_version(v35));
        let tls_min = flag_spec("tls-min-version").unwrap();
        assert!(!tls_min.in_version(v34));
        assert!(tls_min.in_version(Version::parse("3.4.25")));
        assert!(flag_spec("config").unwrap().is_bool());
        assert!(flag_spec("v").unwrap().is_bool());
        assert!(!flag_spec("name").unwrap().is_bool());
        assert!(flag_spec("peer-cert-fil").is_none());
    }

    #[test]
    fn yaml_since_differs_for_allowed_lists() {
        assert_eq!(Key::PeerCertAllowedCn.yaml_since(), (None, Some(14)));
        assert_eq!(Key::PeerCertAllowedCn.info().since_34, Some(0));
        assert_eq!(Key::ClientCrlFile.yaml_since(), (None, None));
        assert_eq!(Key::TlsMinVersion.yaml_since(), (Some(25), Some(8)));
    }
}
