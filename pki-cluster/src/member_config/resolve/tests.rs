//! Tests of etcd's precedence.

use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn env(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn run(a: &[&str], e: &[(&str, &str)], version: Option<&str>) -> MemberConfig {
    resolve(
        &args(a),
        &env(e),
        EnvOrigin::Process,
        Origin::Process { pid: 1 },
        Path::new("/"),
        Some(Path::new("/")),
        version,
    )
}

fn value(c: &MemberConfig, key: Key) -> Option<&str> {
    c.get(key).map(|s| s.value.as_str())
}

fn fatal(c: &MemberConfig) -> Vec<&str> {
    c.problems
        .iter()
        .filter(|p| p.fatal)
        .map(|p| p.message.as_str())
        .collect()
}

#[test]
fn flags_then_env_then_defaults() {
    let c = run(
        &[
            "--name=infra0",
            "--listen-peer-urls=https://10.0.0.1:2380",
            "--initial-advertise-peer-urls",
            "https://10.0.0.1:2380",
            "--client-cert-auth",
        ],
        &[
            ("ETCD_CERT_FILE", "/etc/etcd/server.pem"),
            ("ETCD_KEY_FILE", "/etc/etcd/server-key.pem"),
            ("PATH", "/usr/bin"),
        ],
        Some("3.5.16"),
    );
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(value(&c, Key::Name), Some("infra0"));
    assert_eq!(
        c.get(Key::Name).unwrap().source,
        Source::Flag {
            text: "--name=infra0".into()
        }
    );
    assert_eq!(
        c.get(Key::InitialAdvertisePeerUrls).unwrap().source,
        Source::Flag {
            text: "--initial-advertise-peer-urls https://10.0.0.1:2380".into()
        }
    );
    assert_eq!(value(&c, Key::CertFile), Some("/etc/etcd/server.pem"));
    assert_eq!(
        c.get(Key::CertFile).unwrap().source,
        Source::Env {
            var: "ETCD_CERT_FILE".into(),
            origin: EnvOrigin::Process
        }
    );
    assert!(c.flag(Key::ClientCertAuth));
    assert_eq!(
        value(&c, Key::ListenClientUrls),
        Some("http://localhost:2379")
    );
    assert_eq!(
        c.get(Key::ListenClientUrls).unwrap().source,
        Source::Default
    );
    assert_eq!(
        value(&c, Key::AdvertiseClientUrls),
        Some("http://localhost:2379")
    );
    assert_eq!(value(&c, Key::DataDir), Some("infra0.etcd"));
    assert_eq!(
        value(&c, Key::InitialCluster),
        Some("infra0=https://10.0.0.1:2380")
    );
    assert_eq!(c.version.as_deref(), Some("3.5.16"));
}

#[test]
fn nothing_given_is_all_defaults() {
    let c = run(&[], &[], None);
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(value(&c, Key::Name), Some("default"));
    assert_eq!(c.name(), "default");
    assert_eq!(
        value(&c, Key::ListenPeerUrls),
        Some("http://localhost:2380")
    );
    assert_eq!(
        value(&c, Key::InitialAdvertisePeerUrls),
        Some("http://localhost:2380")
    );
    assert_eq!(value(&c, Key::DataDir), Some("default.etcd"));
    assert_eq!(
        value(&c, Key::InitialCluster),
        Some("default=http://localhost:2380")
    );
    assert!(c.values.values().all(|s| s.source == Source::Default));
}

#[test]
fn flag_and_env_for_the_same_setting_is_fatal() {
    let c = run(
        &["--cert-file=/a.pem"],
        &[("ETCD_CERT_FILE", "/a.pem")],
        Some("3.4.23"),
    );
    let f = fatal(&c);
    assert_eq!(f.len(), 1, "{:?}", c.problems);
    assert!(f[0].starts_with(
        "conflicting environment variable \"ETCD_CERT_FILE\" is shadowed by corresponding command-line flag"
    ));
    assert!(f[0].contains("--cert-file=/a.pem"));
    // Even an empty variable.
    let c = run(&["--cert-file=/a.pem"], &[("ETCD_CERT_FILE", "")], None);
    assert_eq!(fatal(&c).len(), 1);
    // The flag's value is still what etcd parsed.
    assert_eq!(value(&c, Key::CertFile), Some("/a.pem"));
}

#[test]
fn empty_and_unknown_env_are_warnings() {
    let c = run(
        &[],
        &[
            ("ETCD_CERT_FILE", ""),
            ("ETCD_PEER_CERT_FIL", "/x"),
            ("ETCD_CLIENT_CERT_FILE", "/c.pem"),
        ],
        Some("3.4.23"),
    );
    assert!(fatal(&c).is_empty(), "{:?}", c.problems);
    let warnings: Vec<&str> = c.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].contains("ETCD_CERT_FILE=:") && warnings[0].contains("empty value"));
    assert!(warnings[1].starts_with("unrecognized environment variable ETCD_PEER_CERT_FIL=/x"));
    assert!(warnings[2].contains("--client-cert-file is not a flag of etcd 3.4.23"));
    assert_eq!(value(&c, Key::CertFile), None);
    assert_eq!(value(&c, Key::ClientCertFile), None);
    // 3.5 knows it.
    let c = run(&[], &[("ETCD_CLIENT_CERT_FILE", "/c.pem")], Some("3.5.16"));
    assert_eq!(value(&c, Key::ClientCertFile), Some("/c.pem"));
}

#[test]
fn bad_env_value_is_fatal() {
    let c = run(&[], &[("ETCD_CLIENT_CERT_AUTH", "yes")], None);
    assert_eq!(
        fatal(&c),
        vec!["invalid value \"yes\" for ETCD_CLIENT_CERT_AUTH: parse error (etcd exits)"]
    );
}

#[test]
fn first_env_entry_of_a_name_counts() {
    let c = run(
        &[],
        &[("ETCD_NAME", "first"), ("ETCD_NAME", "second")],
        None,
    );
    assert_eq!(value(&c, Key::Name), Some("first"));
}

#[test]
fn etcd_config_file_makes_flags_and_env_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("etcd.yml");
    std::fs::write(
        &file,
        "name: from-file\npeer-transport-security:\n  cert-file: /file/peer.pem\n",
    )
    .unwrap();
    let file_text = file.to_str().unwrap();
    let c = run(
        &["--name=from-flag", "--peer-cert-file=/flag/peer.pem"],
        &[
            ("ETCD_CONFIG_FILE", file_text),
            ("ETCD_PEER_KEY_FILE", "/env/peer-key.pem"),
            // Would conflict without a config file: not checked with one.
            ("ETCD_NAME", "from-env"),
        ],
        Some("3.5.16"),
    );
    assert!(fatal(&c).is_empty(), "{:?}", c.problems);
    assert_eq!(value(&c, Key::Name), Some("from-file"));
    assert_eq!(value(&c, Key::PeerCertFile), Some("/file/peer.pem"));
    assert_eq!(value(&c, Key::PeerKeyFile), None);
    assert_eq!(
        c.get(Key::ConfigFile).unwrap().source,
        Source::Env {
            var: "ETCD_CONFIG_FILE".into(),
            origin: EnvOrigin::Process
        }
    );
    assert_eq!(
        c.get(Key::PeerCertFile).unwrap().source,
        Source::ConfigFile {
            path: file.clone(),
            key: "peer-transport-security.cert-file".into()
        }
    );
    let text: Vec<&str> = c.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        text.iter().any(|m| m
            .contains("these flags do nothing: --name=from-flag --peer-cert-file=/flag/peer.pem")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|m| m
                .contains("these environment variables do nothing: ETCD_PEER_KEY_FILE ETCD_NAME")),
        "{text:?}"
    );
    // Defaults still apply in config-file mode.
    assert_eq!(
        value(&c, Key::ListenClientUrls),
        Some("http://localhost:2379")
    );
}

#[test]
fn config_file_flag_beats_env_and_is_read_relative_to_cwd_through_root() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/etcd")).unwrap();
    std::fs::write(root.path().join("etc/etcd/a.yml"), "name: a\n").unwrap();
    std::fs::write(root.path().join("etc/etcd/b.yml"), "name: b\n").unwrap();
    let c = resolve(
        &args(&["--config-file", "a.yml"]),
        &env(&[("ETCD_CONFIG_FILE", "/etc/etcd/b.yml")]),
        EnvOrigin::Process,
        Origin::Process { pid: 7 },
        root.path(),
        Some(Path::new("/etc/etcd")),
        None,
    );
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(value(&c, Key::Name), Some("a"));
    assert_eq!(
        c.get(Key::Name).unwrap().source,
        Source::ConfigFile {
            path: "/etc/etcd/a.yml".into(),
            key: "name".into()
        }
    );
    // An empty --config-file lets ETCD_CONFIG_FILE in.
    let c = resolve(
        &args(&["--config-file="]),
        &env(&[("ETCD_CONFIG_FILE", "/etc/etcd/b.yml")]),
        EnvOrigin::Process,
        Origin::Process { pid: 7 },
        root.path(),
        None,
        None,
    );
    assert_eq!(value(&c, Key::Name), Some("b"));
}

#[test]
fn missing_config_file_is_fatal() {
    let c = run(&["--config-file=/nonexistent/etcd.yml"], &[], None);
    let f = fatal(&c);
    assert_eq!(f.len(), 1);
    assert!(f[0].starts_with("etcd cannot read its config file /nonexistent/etcd.yml"));
}

#[test]
fn boolean_with_separate_value_is_fatal() {
    let c = run(
        &["--client-cert-auth", "true", "--cert-file=/a.pem"],
        &[],
        None,
    );
    let f = fatal(&c);
    assert_eq!(f.len(), 1);
    assert!(f[0].starts_with("'true' is not a valid flag"));
    assert!(c.flag(Key::ClientCertAuth));
    // Parsing stopped at `true`: what follows was never set.
    assert_eq!(value(&c, Key::CertFile), None);
}

#[test]
fn repeated_flags_last_wins_and_the_url_quirk() {
    let c = run(&["--name=a", "--name=b"], &[], None);
    assert_eq!(value(&c, Key::Name), Some("b"));
    assert_eq!(
        c.get(Key::Name).unwrap().source,
        Source::Flag {
            text: "--name=b".into()
        }
    );
    // UniqueURLs.Set returns early for a value it already holds.
    let c = run(
        &[
            "--listen-peer-urls=https://10.0.0.1:2380,https://10.0.0.2:2380",
            "--listen-peer-urls=https://10.0.0.1:2380",
        ],
        &[],
        None,
    );
    assert_eq!(
        value(&c, Key::ListenPeerUrls),
        Some("https://10.0.0.1:2380,https://10.0.0.2:2380")
    );
    // An empty list keeps what was there.
    let c = run(
        &[
            "--listen-peer-urls=https://10.0.0.1:2380",
            "--listen-peer-urls=",
        ],
        &[],
        None,
    );
    assert_eq!(
        value(&c, Key::ListenPeerUrls),
        Some("https://10.0.0.1:2380")
    );
    // The default given again is given.
    let c = run(&["--listen-peer-urls=http://localhost:2380"], &[], None);
    assert_eq!(
        c.get(Key::ListenPeerUrls).unwrap().source,
        Source::Flag {
            text: "--listen-peer-urls=http://localhost:2380".into()
        }
    );
}

#[test]
fn unknown_flag_is_fatal() {
    let c = run(&["--peer-cert-fil=/p.pem"], &[], None);
    assert_eq!(
        fatal(&c),
        vec!["flag provided but not defined: -peer-cert-fil (etcd exits with status 2)"]
    );
}

#[test]
fn listen_client_without_advertise_client_is_fatal() {
    let c = run(&["--listen-client-urls=https://10.0.0.1:2379"], &[], None);
    assert_eq!(
        fatal(&c),
        vec!["--advertise-client-urls is required when --listen-client-urls is set explicitly (etcd exits)"]
    );
    assert_eq!(value(&c, Key::AdvertiseClientUrls), None);
    // Through the environment too.
    let c = run(
        &[],
        &[("ETCD_LISTEN_CLIENT_URLS", "https://10.0.0.1:2379")],
        None,
    );
    assert_eq!(fatal(&c).len(), 1);
    // Not in proxy mode.
    let c = run(
        &["--listen-client-urls=https://10.0.0.1:2379", "--proxy=on"],
        &[],
        None,
    );
    assert!(fatal(&c).is_empty());
}

#[test]
fn allowed_cn_lists_in_34() {
    let c = run(&["--peer-cert-allowed-cn=a,b"], &[], Some("3.4.23"));
    assert!(c.problems[0]
        .message
        .contains("takes --peer-cert-allowed-cn as one value"));
    let c = run(&["--peer-cert-allowed-cn=a,b"], &[], Some("3.5.16"));
    assert!(c.problems.is_empty());
    assert_eq!(c.list(Key::PeerCertAllowedCn), vec!["a", "b"]);
}

#[test]
fn unmodelled_versions_are_said() {
    let c = run(&["--name=a"], &[], Some("3.6.0"));
    assert_eq!(c.problems.len(), 1);
    assert!(!c.problems[0].fatal);
    assert_eq!(c.version.as_deref(), Some("3.6.0"));
}

#[test]
fn discovery_drops_the_default_cluster() {
    let c = run(&["--name=a", "--discovery-srv=example.com"], &[], None);
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(value(&c, Key::InitialCluster), None);
    let c = run(
        &[
            "--name=a",
            "--discovery-srv=example.com",
            "--initial-cluster=a=https://10.0.0.1:2380",
        ],
        &[],
        None,
    );
    assert!(fatal(&c)[0].starts_with("multiple discovery or bootstrap flags are set"));
}

#[test]
fn bind_urls_with_names_are_fatal() {
    let c = run(&["--listen-peer-urls=https://etcd-0:2380"], &[], None);
    assert!(fatal(&c)[0].contains("expected IP in URL for binding"));
}
