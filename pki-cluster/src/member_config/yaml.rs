//! etcd's config file (`--config-file`): how etcd 3.4 and 3.5 read it, with the source of each
//! value.
//!
//! etcd decodes the file with `sigs.k8s.io/yaml` into `configYAML` (`embed.Config` plus
//! `configJSON`), then again into etcdmain's `configProxy` (`embed/config.go` `configFromFile`
//! v3.4.23 lines 474–562, `server/embed/config.go` v3.5.16 lines 544–647;
//! `etcdmain/config.go` / `server/etcdmain/config.go` `configFromFile`). That is YAML turned into
//! JSON (map keys sorted), then Go's `encoding/json` without `DisallowUnknownFields`:
//!
//! * keys match the json tags case-insensitively (exact match preferred); of two spellings of
//!   one key the later in byte order wins, as JSON objects are written with sorted keys;
//! * unknown keys are ignored without a word: this is how `peer-cert-file:` at the top level,
//!   `cipher-suites:` under `peer-transport-security:` (etcd issues #12887, #13117, #11587), or a
//!   3.5-only key in a 3.4 file do nothing. Keys that look like misplaced TLS settings are
//!   reported here as warnings;
//! * a value of the wrong JSON type (a list for a string, `"true"` for a boolean, `5s` for a
//!   duration) fails the whole file, and etcd exits;
//! * URL keys are comma-separated strings checked by `types.NewURLs`; `cipher-suites`, and the
//!   allowed-CN/hostname lists of 3.5.15+, are YAML lists;
//! * the TLS settings live under `client-transport-security:` and `peer-transport-security:`;
//!   there is no key for the CRL files, `experimental-peer-skip-client-san-verification`, or (in
//!   3.4, and 3.5 before 3.5.14) the allowed-CN/hostname settings.

use std::collections::BTreeMap;
use std::path::Path;

use pki_core::display_path;

use super::go_values::new_urls;
use super::keys::flag_spec;
use super::version::{self, Version};
use super::yaml_keys::{self, find, YamlKey, YamlType, SECURITY, TOP};
use super::yaml_tree::{self, Node};
use super::{ConfigProblem, Key, Kind, Source, Sourced};

/// What a config file sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileConfig {
    /// The interpreted settings it sets (empty strings left out: etcd treats them as unset).
    pub(crate) values: BTreeMap<Key, Sourced>,
    /// Every top-level string key it sets, by json tag (for the checks etcd makes afterwards:
    /// `discovery`, `initial-cluster-state`, ...).
    pub(crate) top: BTreeMap<&'static str, String>,
    /// What etcd refuses, and keys it ignores that look like TLS settings.
    pub(crate) problems: Vec<ConfigProblem>,
}

/// The settings of the two transport-security sections.
#[derive(Default)]
struct Sections {
    client: BTreeMap<&'static str, String>,
    peer: BTreeMap<&'static str, String>,
}

struct Reader<'a> {
    shown: String,
    version: Option<Version>,
    out: &'a mut FileConfig,
    sections: Sections,
}

/// Reads a config file's text. `path` is the file as etcd names it (for the sources).
pub(crate) fn read_config(text: &str, path: &Path, version: Option<Version>) -> FileConfig {
    let mut out = FileConfig::default();
    let shown = display_path(path).into_owned();
    let root = match yaml_tree::parse(text) {
        Ok(root) => root,
        Err(e) => {
            out.problems.push(ConfigProblem::fatal(format!(
                "{shown}: etcd cannot read its config file ({e}), and exits"
            )));
            return out;
        }
    };
    let pairs = match root {
        Node::Null => Vec::new(),
        Node::Map(pairs) => pairs,
        other => {
            out.problems.push(ConfigProblem::fatal(format!(
                "{shown}: the config file is a YAML {} where etcd expects a mapping of keys, and etcd exits",
                other.json_kind()
            )));
            return out;
        }
    };
    let mut reader = Reader {
        shown,
        version,
        out: &mut out,
        sections: Sections::default(),
    };
    let object = reader.json_object(pairs, "");
    for (key, node) in object {
        match find(TOP, &key, version) {
            Some(spec) => reader.top_key(spec, &key, node),
            None => {
                reader.check_marshal(&node, &key);
                reader.misplaced_top(&key);
            }
        }
    }
    let sections = std::mem::take(&mut reader.sections);
    reader.collect(&sections);
    reader.check_urls();
    out
}

impl Reader<'_> {
    fn fatal(&mut self, message: String) {
        self.out
            .problems
            .push(ConfigProblem::fatal(format!("{}: {message}", self.shown)));
    }

    fn warn(&mut self, message: String) {
        self.out
            .problems
            .push(ConfigProblem::warning(format!("{}: {message}", self.shown)));
    }

    fn type_error(&mut self, key: &str, node: &Node, expected: &str) {
        self.fatal(format!(
            "`{key}` holds a {} where etcd expects {expected}: etcd cannot load the file, and exits",
            node.json_kind()
        ));
    }

    /// A mapping as the JSON object `sigs.k8s.io/yaml` writes: keys made strings (a null or
    /// collection key fails the file), the later of equal keys kept, sorted.
    fn json_object(&mut self, pairs: Vec<(Node, Node)>, at: &str) -> BTreeMap<String, Node> {
        let mut object = BTreeMap::new();
        for (key, value) in pairs {
            match key.json_key() {
                Some(k) => {
                    object.insert(k, value);
                }
                None => self.fatal(format!(
                    "a {} is used as a key{}: etcd cannot turn the file into JSON (unsupported map key), and exits",
                    key.json_kind(),
                    if at.is_empty() { String::new() } else { format!(" under `{at}`") }
                )),
            }
        }
        object
    }

    /// What JSON cannot hold anywhere, even under keys etcd ignores: infinities and NaN, and
    /// keys that are not scalars.
    fn check_marshal(&mut self, node: &Node, at: &str) {
        match node {
            Node::Float(f) if !f.is_finite() => self.fatal(format!(
                "`{at}` is {f}, which JSON cannot hold (json: unsupported value): etcd cannot load the file, and exits"
            )),
            Node::Seq(items) => {
                for item in items {
                    self.check_marshal(item, at);
                }
            }
            Node::Map(pairs) => {
                let pairs = pairs.clone();
                let object = self.json_object(pairs, at);
                for (k, v) in object {
                    self.check_marshal(&v, &format!("{at}.{k}"));
                }
            }
            _ => {}
        }
    }

    /// A string for a Go `string` field; `None` for null (the field keeps its default).
    fn string(&mut self, key: &str, node: &Node) -> Option<String> {
        match node {
            Node::Seq(_) | Node::Map(_) => {
                self.type_error(key, node, "a string");
                None
            }
            other => other.go_string(),
        }
    }

    /// A `[]string` field, joined with commas; null empties it.
    fn strings(&mut self, key: &str, node: &Node) -> Option<String> {
        match node {
            Node::Null => Some(String::new()),
            Node::Seq(items) => {
                let mut all = Vec::new();
                for item in items {
                    match item {
                        Node::Seq(_) | Node::Map(_) => {
                            self.type_error(key, item, "a string in the list");
                            return None;
                        }
                        other => all.push(other.go_string().unwrap_or_default()),
                    }
                }
                Some(all.join(","))
            }
            other => {
                self.type_error(key, other, "a YAML list");
                None
            }
        }
    }

    fn boolean(&mut self, key: &str, node: &Node) -> Option<String> {
        match node {
            Node::Null => None,
            Node::Bool(b) => Some(b.to_string()),
            other => {
                self.type_error(key, other, "true or false");
                None
            }
        }
    }

    /// A Go integer field: a YAML integer in range, or an integral float JSON writes without an
    /// exponent.
    fn integer(&mut self, key: &str, node: &Node, signed: bool, bits: u32) {
        let value = match node {
            Node::Null => return,
            Node::Int(i) => Some(*i),
            Node::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 => {
                Some(*f as i128)
            }
            _ => None,
        };
        let (min, max): (i128, i128) = if signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        };
        match value {
            Some(v) if v >= min && v <= max => {}
            Some(_) => self.fatal(format!(
                "`{key}` is out of range for etcd's {}{bits}: etcd cannot load the file, and exits",
                if signed { "int" } else { "uint" }
            )),
            None => self.type_error(
                key,
                node,
                "a whole number (durations are nanoseconds in a config file)",
            ),
        }
    }

    fn top_key(&mut self, spec: &'static YamlKey, written: &str, node: Node) {
        let name = spec.name;
        let value = match spec.ty {
            YamlType::Str => self.string(written, &node),
            YamlType::Bool => self.boolean(written, &node),
            YamlType::Strings => self.strings(written, &node),
            YamlType::Uint(bits) => {
                self.integer(written, &node, false, bits);
                None
            }
            YamlType::Int(bits) => {
                self.integer(written, &node, true, bits);
                None
            }
            YamlType::Opaque => {
                self.check_marshal(&node, written);
                None
            }
            YamlType::Security => {
                self.section(name, written, node);
                None
            }
        };
        if let Some(value) = value {
            self.out.top.insert(name, value);
        }
    }

    /// A `securityConfig` mapping; a second spelling of the section adds to the first (JSON
    /// decoding into the same struct).
    fn section(&mut self, name: &'static str, written: &str, node: Node) {
        let pairs = match node {
            Node::Null => return,
            Node::Map(pairs) => pairs,
            other => {
                self.type_error(written, &other, "a mapping");
                return;
            }
        };
        let object = self.json_object(pairs, written);
        let mut settings = BTreeMap::new();
        for (key, node) in object {
            let at = format!("{name}.{key}");
            let Some(spec) = find(SECURITY, &key, self.version) else {
                self.check_marshal(&node, &at);
                self.misplaced_in_section(name, &key);
                continue;
            };
            let value = match (spec.ty, spec.name) {
                (YamlType::Strings, _) => match self.version {
                    // 3.5.14: `AllowedCN string`; 3.5.15 on: `AllowedCNs []string`.
                    Some(v) if v.minor == 5 && v.patch == 14 => self.string(&at, &node),
                    Some(_) => self.strings(&at, &node),
                    None => match node {
                        Node::Seq(_) | Node::Null => self.strings(&at, &node),
                        _ => self.string(&at, &node),
                    },
                },
                (YamlType::Bool, _) => self.boolean(&at, &node),
                _ => self.string(&at, &node),
            };
            if let Some(value) = value {
                // 3.5.14's `AllowedCN string`: one name, commas and all.
                let single = self.version.is_some_and(|v| v.minor == 5 && v.patch == 14);
                if single && spec.ty == YamlType::Strings && value.contains(',') {
                    self.warn(format!(
                        "etcd 3.5.14 takes `{at}` as one value, not a list: \"{value}\" is a single name with commas in it (lists came with 3.5.15)"
                    ));
                }
                settings.insert(spec.name, value);
            }
        }
        let side = if name == "client-transport-security" {
            &mut self.sections.client
        } else {
            &mut self.sections.peer
        };
        side.extend(settings);
    }

    /// The interpreted keys' values, with their sources.
    fn collect(&mut self, sections: &Sections) {
        for &key in Key::all() {
            let info = key.info();
            let Some(yaml) = info.yaml else { continue };
            let (s34, s35) = key.yaml_since();
            if !version::has(self.version, s34, s35) {
                continue;
            }
            let value = match yaml.split_once('.') {
                Some(("client-transport-security", sub)) => sections.client.get(sub),
                Some(("peer-transport-security", sub)) => sections.peer.get(sub),
                Some(_) => None,
                None => self.out.top.get(yaml),
            };
            let Some(value) = value else { continue };
            if value.is_empty() && info.kind != Kind::Bool {
                continue;
            }
            self.out.values.insert(
                key,
                Sourced {
                    value: value.clone(),
                    source: Source::ConfigFile {
                        path: self.shown.clone().into(),
                        key: yaml.to_string(),
                    },
                },
            );
        }
    }

    /// `types.NewURLs` on the URL keys (etcd prints `unexpected error setting up <key>` and
    /// exits), `cors` (an invalid one panics etcd in `NewUniqueURLsWithExceptions`), and the
    /// values `configProxy` accepts.
    fn check_urls(&mut self) {
        for key in [
            "listen-peer-urls",
            "listen-client-urls",
            "listen-client-http-urls",
            "initial-advertise-peer-urls",
            "advertise-client-urls",
            "listen-metrics-urls",
        ] {
            if let Some(value) = self.out.top.get(key).filter(|v| !v.is_empty()).cloned() {
                if let Err(e) = new_urls(&value) {
                    self.fatal(format!(
                        "`{key}: {value}`: unexpected error setting up {key}: {e} (etcd exits)"
                    ));
                }
            }
        }
        if let Some(cors) = self.out.top.get("cors").filter(|v| !v.is_empty()).cloned() {
            if cors != "*" {
                if let Err(e) = new_urls(&cors) {
                    self.fatal(format!("`cors: {cors}`: {e} (etcd panics at start)"));
                }
            }
        }
        for (key, valid) in [
            ("proxy", &["off", "readonly", "on"][..]),
            ("discovery-fallback", &["proxy", "exit"][..]),
        ] {
            if let Some(value) = self.out.top.get(key).filter(|v| !v.is_empty()).cloned() {
                if !valid.contains(&value.as_str()) {
                    self.fatal(format!(
                        "`{key}: {value}` is not one of {}: etcd exits (unexpected error setting up {key})",
                        valid.join(", ")
                    ));
                }
            }
        }
    }

    /// A top-level key etcd ignores: reported when it looks like a TLS setting.
    fn misplaced_top(&mut self, key: &str) {
        let norm = key.to_ascii_lowercase().replace('_', "-");
        let spelled = if norm != key.to_ascii_lowercase() {
            " (config-file keys are written with `-`)"
        } else {
            ""
        };
        if let Some(spec) = find(TOP, &norm, None) {
            if find(TOP, &norm, self.version).is_none() {
                let v = self.version.map(|v| v.to_string()).unwrap_or_default();
                self.warn(format!(
                    "etcd {v} has no config-file key `{}`: it ignores `{key}`",
                    spec.name
                ));
            } else if !spelled.is_empty() && is_tls_word(&norm) {
                self.warn(format!(
                    "`{key}` is not a config-file key, so etcd ignores it: write `{}`{spelled}",
                    spec.name
                ));
            }
            return;
        }
        if let Some(k) = Key::from_flag(&norm) {
            match k.info().yaml {
                Some(yaml) => match yaml.split_once('.') {
                    Some((section, sub)) => self.warn(format!(
                        "`{key}` is the name of a flag, not a config-file key: etcd ignores it without a word; write `{sub}` under `{section}`"
                    )),
                    None => self.warn(format!(
                        "`{key}` is not a config-file key, so etcd ignores it: write `{yaml}`{spelled}"
                    )),
                },
                None => self.warn(no_yaml_key(k, key)),
            }
            return;
        }
        if let Some(spec) = find(SECURITY, &norm, None) {
            self.warn(format!(
                "`{key}` belongs under `client-transport-security` or `peer-transport-security`: at the top level etcd ignores it (as `{}`)",
                spec.name
            ));
            return;
        }
        if yaml_keys::fold_eq(key, "clienttlsinfo") || yaml_keys::fold_eq(key, "peertlsinfo") {
            self.warn(format!(
                "`{key}` is not a documented key: Go's JSON decoding fills etcd's internal TLS settings from it (fields such as CRLFile or SkipClientSANVerify would take effect, while CertFile, KeyFile, TrustedCAFile and ClientCertAuth are overwritten from the transport-security sections); this tool does not interpret it"
            ));
            return;
        }
        if flag_spec(&norm).is_some() {
            // A flag that is not a TLS setting (etcd also ignores it): nothing TLS to say.
            return;
        }
        if is_tls_word(&norm) {
            self.warn(format!(
                "`{key}` is not a key etcd knows, and it ignores it: TLS settings go under `client-transport-security` / `peer-transport-security` (cert-file, key-file, trusted-ca-file, client-cert-auth, auto-tls), or at the top level as cipher-suites, tls-min-version, tls-max-version"
            ));
        }
    }

    /// A key of a transport-security section etcd ignores.
    fn misplaced_in_section(&mut self, section: &str, key: &str) {
        let norm = key.to_ascii_lowercase().replace('_', "-");
        let at = format!("{section}.{key}");
        if let Some(spec) = find(SECURITY, &norm, None) {
            if find(SECURITY, &norm, self.version).is_none() {
                let v = self.version.map(|v| v.to_string()).unwrap_or_default();
                let since = spec
                    .since_35
                    .map(|s| format!(" (it came with 3.5.{s})"))
                    .unwrap_or_default();
                self.warn(format!(
                    "etcd {v} has no `{section}.{}`{since}: it ignores `{at}`",
                    spec.name
                ));
            } else {
                self.warn(format!(
                    "`{at}` is not a key etcd knows, so it ignores it: write `{}` (with `-`)",
                    spec.name
                ));
            }
            return;
        }
        for prefix in ["peer-", "client-"] {
            if let Some(stripped) = norm.strip_prefix(prefix) {
                if let Some(spec) = find(SECURITY, stripped, self.version) {
                    self.warn(format!(
                        "`{at}` is not a key etcd knows: it ignores it without a word (etcd issues #12887, #13117); the key is `{}`",
                        spec.name
                    ));
                    return;
                }
            }
        }
        if let Some(spec) = find(TOP, &norm, None) {
            self.warn(format!(
                "`{at}` is a top-level key, not a key of `{section}`: there etcd ignores it (etcd issue #11587); write `{}` at the top level",
                spec.name
            ));
            return;
        }
        if let Some(k) = Key::from_flag(&norm).or_else(|| {
            ["peer-", "client-"]
                .iter()
                .find_map(|p| Key::from_flag(&format!("{p}{norm}")))
        }) {
            if k.info().yaml.is_none() {
                self.warn(no_yaml_key(k, &at));
                return;
            }
        }
        self.warn(format!(
            "`{at}` is not a key etcd knows, and it ignores it (the keys are cert-file, key-file, client-cert-file, client-key-file, client-cert-auth, trusted-ca-file, auto-tls, allowed-cn, allowed-hostname)"
        ));
    }
}

/// Words that make an unknown key look like a TLS setting.
fn is_tls_word(norm: &str) -> bool {
    [
        "cert", "key-file", "tls", "cipher", "ca-file", "crl", "ssl", "san", "allowed", "auth",
    ]
    .iter()
    .any(|w| norm.contains(w))
}

/// For a setting that only a flag (or environment variable) can make.
fn no_yaml_key(key: Key, written: &str) -> String {
    let flag = key.info().flag.unwrap_or_default();
    format!(
        "`{written}` is ignored: etcd has no config-file key for --{flag}, and with a config file it ignores flags and ETCD_* variables, so this setting cannot be made at all"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, version: Option<&str>) -> FileConfig {
        read_config(
            text,
            Path::new("/etc/etcd/etcd.conf.yml"),
            version.and_then(Version::parse),
        )
    }

    fn value(c: &FileConfig, key: Key) -> Option<&str> {
        c.values.get(&key).map(|s| s.value.as_str())
    }

    const SAMPLE_35: &str = "\
name: infra1
data-dir: /var/lib/etcd
listen-peer-urls: https://10.0.0.1:2380
listen-client-urls: https://10.0.0.1:2379,https://127.0.0.1:2379
advertise-client-urls: https://10.0.0.1:2379
initial-advertise-peer-urls: https://10.0.0.1:2380
initial-cluster: infra1=https://10.0.0.1:2380
cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
tls-min-version: TLS1.2
client-transport-security:
  cert-file: /etc/etcd/server.pem
  key-file: /etc/etcd/server-key.pem
  client-cert-auth: true
  trusted-ca-file: /etc/etcd/ca.pem
  allowed-cn:
    - root
    - kube-apiserver-etcd-client
peer-transport-security:
  cert-file: /etc/etcd/peer.pem
  key-file: /etc/etcd/peer-key.pem
  client-cert-file: /etc/etcd/peer-client.pem
  client-key-file: /etc/etcd/peer-client-key.pem
  client-cert-auth: yes
  trusted-ca-file: /etc/etcd/ca.pem
  allowed-hostname: [infra1.example.com, infra2.example.com]
";

    #[test]
    fn a_35_file_with_allowed_cn_lists() {
        let c = read(SAMPLE_35, Some("3.5.16"));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(value(&c, Key::Name), Some("infra1"));
        assert_eq!(
            value(&c, Key::ClientCertAllowedCn),
            Some("root,kube-apiserver-etcd-client")
        );
        assert_eq!(
            value(&c, Key::PeerCertAllowedHostname),
            Some("infra1.example.com,infra2.example.com")
        );
        assert_eq!(value(&c, Key::PeerClientCertAuth), Some("true"));
        assert_eq!(
            value(&c, Key::PeerClientCertFile),
            Some("/etc/etcd/peer-client.pem")
        );
        assert_eq!(
            value(&c, Key::CipherSuites),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        );
        assert_eq!(value(&c, Key::TlsMinVersion), Some("TLS1.2"));
        assert_eq!(
            c.values[&Key::PeerCertFile].source,
            Source::ConfigFile {
                path: "/etc/etcd/etcd.conf.yml".into(),
                key: "peer-transport-security.cert-file".into()
            }
        );
        // Unknown version: the union.
        let c = read(SAMPLE_35, None);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(
            value(&c, Key::PeerCertAllowedHostname).map(|v| v.len()),
            Some(37)
        );
    }

    #[test]
    fn the_same_file_read_by_34_ignores_35_keys() {
        let c = read(SAMPLE_35, Some("3.4.23"));
        assert_eq!(value(&c, Key::ClientCertAllowedCn), None);
        assert_eq!(value(&c, Key::PeerClientCertFile), None);
        assert_eq!(value(&c, Key::TlsMinVersion), None);
        assert!(c.problems.iter().all(|p| !p.fatal));
        let text = c
            .problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            text.contains("etcd 3.4.23 has no `peer-transport-security.client-cert-file`"),
            "{text}"
        );
        assert!(
            text.contains("etcd 3.4.23 has no config-file key `tls-min-version`"),
            "{text}"
        );
        assert!(text.contains("allowed-cn"), "{text}");
    }

    #[test]
    fn allowed_cn_scalar_in_3514_and_list_later() {
        let text = "peer-transport-security:\n  allowed-cn: etcd-peer\n";
        let c = read(text, Some("3.5.14"));
        assert!(c.problems.is_empty());
        assert_eq!(value(&c, Key::PeerCertAllowedCn), Some("etcd-peer"));
        let c = read(text, Some("3.5.16"));
        assert!(c.problems[0].fatal, "{:?}", c.problems);
        assert!(c.problems[0].message.contains("expects a YAML list"));
        let c = read(
            "peer-transport-security:\n  allowed-cn: a,b\n",
            Some("3.5.14"),
        );
        assert!(c.problems[0].message.contains("one value, not a list"));
        let c = read(text, Some("3.5.13"));
        assert_eq!(value(&c, Key::PeerCertAllowedCn), None);
        assert!(!c.problems[0].fatal);
    }

    #[test]
    fn keys_are_case_insensitive_and_the_later_spelling_wins() {
        let c = read(
            "NAME: upper\nPeer-Transport-Security:\n  Cert-File: /a.pem\npeer-transport-security:\n  key-file: /a-key.pem\n",
            Some("3.5.16"),
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(value(&c, Key::Name), Some("upper"));
        assert_eq!(value(&c, Key::PeerCertFile), Some("/a.pem"));
        assert_eq!(value(&c, Key::PeerKeyFile), Some("/a-key.pem"));
        let c = read("Name: first\nname: second\n", None);
        assert_eq!(value(&c, Key::Name), Some("second"));
    }

    #[test]
    fn misplaced_tls_settings_are_warned_about() {
        let c = read(
            "peer-cert-file: /p.pem\npeer-transport-security:\n  peer-cert-file: /p.pem\n  cipher-suites: [TLS_AES_128_GCM_SHA256]\n  crl-file: /crl.pem\npeer-crl-file: /crl.pem\ncert-file: /s.pem\nheartbeat-interval: 100\nsnapshot-count: 10000\nfoo: bar\n",
            Some("3.5.16"),
        );
        let messages: Vec<&str> = c.problems.iter().map(|p| p.message.as_str()).collect();
        assert!(c.problems.iter().all(|p| !p.fatal), "{messages:?}");
        assert_eq!(messages.len(), 6, "{messages:#?}");
        assert!(messages
            .iter()
            .any(|m| m.contains("`peer-cert-file` is the name of a flag")
                && m.contains("write `cert-file` under `peer-transport-security`")));
        assert!(messages
            .iter()
            .any(|m| m.contains("`peer-transport-security.peer-cert-file`")
                && m.contains("the key is `cert-file`")));
        assert!(messages.iter().any(|m| m
            .contains("`peer-transport-security.cipher-suites` is a top-level key")
            && m.contains("#11587")));
        assert!(messages
            .iter()
            .any(|m| m.contains("no config-file key for --peer-crl-file")));
        assert!(messages
            .iter()
            .any(|m| m.contains("`cert-file` is the name of a flag")
                && m.contains("client-transport-security")));
        assert_eq!(value(&c, Key::PeerCertFile), None);
        assert_eq!(value(&c, Key::CipherSuites), None);
    }

    #[test]
    fn wrong_types_fail_the_file() {
        for (text, expect) in [
            (
                "client-transport-security:\n  client-cert-auth: \"true\"\n",
                "holds a string where etcd expects true or false",
            ),
            ("name: [a, b]\n", "holds a array"),
            ("heartbeat-interval: 100ms\n", "whole number"),
            ("heartbeat-interval: -1\n", "out of range"),
            (
                "cipher-suites: TLS_AES_128_GCM_SHA256\n",
                "expects a YAML list",
            ),
            (
                "client-transport-security: /etc/etcd\n",
                "expects a mapping",
            ),
            ("listen-client-urls: [https://a:1]\n", "holds a array"),
            ("- a\n- b\n", "a mapping of keys"),
            ("foo: .inf\n", "json: unsupported value"),
            ("? [a]\n: b\n", "unsupported map key"),
            (
                "listen-client-urls: localhost:2379\n",
                "unexpected error setting up listen-client-urls: URL scheme",
            ),
            ("proxy: maybe\n", "not one of off, readonly, on"),
            ("name: [\n", "cannot read its config file"),
        ] {
            let c = read(text, Some("3.5.16"));
            assert!(
                c.problems
                    .iter()
                    .any(|p| p.fatal && p.message.contains(expect)),
                "{text:?}: {:?}",
                c.problems
            );
        }
    }

    #[test]
    fn go_conversions_of_scalars_into_strings() {
        let c = read("name: 0x10\ndata-dir: yes\ninitial-cluster: ~\n", None);
        assert!(c.problems.is_empty());
        assert_eq!(value(&c, Key::Name), Some("16"));
        assert_eq!(value(&c, Key::DataDir), Some("true"));
        assert_eq!(value(&c, Key::InitialCluster), None);
        let c = read("heartbeat-interval: 1e2\nelection-timeout: 1000\n", None);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
    }

    #[test]
    fn empty_file_and_empty_values() {
        let c = read("", None);
        assert!(c.values.is_empty() && c.problems.is_empty());
        let c = read(
            "client-transport-security:\n  cert-file: ''\n  client-cert-auth: false\n",
            None,
        );
        assert_eq!(value(&c, Key::CertFile), None);
        assert_eq!(value(&c, Key::ClientCertAuth), Some("false"));
    }

    #[test]
    fn internal_tls_info_keys_are_flagged() {
        let c = read("PeerTLSInfo:\n  CRLFile: /crl.pem\n", None);
        assert_eq!(c.problems.len(), 1);
        assert!(!c.problems[0].fatal);
        assert!(c.problems[0].message.contains("CRLFile"));
    }
}
