//! Tests of units: the seed runbook's, and systemd's rules one by one.

use super::*;
use crate::member_config::{Key, Source};

/// The unit of the seed runbook (shared/seed/scale_etcd.md), as written there.
const SEED_UNIT: &str = r#"[Unit]
Description=Etcd Server
After=network.target
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
WorkingDirectory=/data/etcd
EnvironmentFile=-/etc/etcd/etcd.conf
User=etcd
# set GOMAXPROCS to number of processors
ExecStart=/bin/bash -c "GOMAXPROCS=$(nproc) /opt/etcd/etcd \
          --data-dir ${DATA_DIR} \
          --name ${HOST_NAME} \
          --initial-advertise-peer-urls https://${HOST_IP}:2380 \
          --listen-peer-urls https://${HOST_IP}:2380 \
          --advertise-client-urls https://${HOST_IP}:2379 \
          --listen-client-urls https://127.0.0.1:2379,https://${HOST_IP}:2379 \
          --listen-metrics-urls=http://127.0.0.1:2381 \
          --initial-cluster ${CLUSTER} \
          --initial-cluster-state ${CLUSTER_STATE} \
          --initial-cluster-token ${TOKEN} \
          --client-cert-auth \
          --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.pem \
          --cert-file=/etc/kubernetes/pki/etcd/server.pem \
          --key-file=/etc/kubernetes/pki/etcd/server-key.pem \
          --peer-client-cert-auth \
          --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.pem \
          --peer-cert-file=/etc/kubernetes/pki/etcd/members.pem \
          --peer-key-file=/etc/kubernetes/pki/etcd/members-key.pem"
Restart=on-failure
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
"#;

const SEED_CONF: &str = "DATA_DIR=/data/etcd
HOST_NAME=infra3
HOST_IP=10.0.12.157
CLUSTER=infra0=https://10.0.11.36:2380,infra1=https://10.0.12.21:2380,infra2=https://10.0.13.126:2380,infra3=https://10.0.12.157:2380
CLUSTER_STATE=existing
TOKEN=ea8cfe2bfe85b7e6c66fe190f9225838
";

const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/bash\netcd:x:998:997:etcd:/var/lib/etcd:/sbin/nologin\n";
const GROUP: &str = "root:x:0:\nadm:x:4:syslog,etcd\netcd:x:997:\n";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("root/etc")).unwrap();
        std::fs::write(dir.path().join("root/etc/passwd"), PASSWD).unwrap();
        std::fs::write(dir.path().join("root/etc/group"), GROUP).unwrap();
        Fixture { dir }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn unit(&self, text: &str, env_files: &[PathBuf]) -> Result<MemberConfig, ConfigError> {
        let unit = self.file("etcd.service", text);
        from_unit_with(&unit, env_files, &self.dir.path().join("root"))
    }
}

fn value(c: &MemberConfig, key: Key) -> Option<&str> {
    c.get(key).map(|s| s.value.as_str())
}

#[test]
fn the_seed_unit_resolves_to_its_flags() {
    let f = Fixture::new();
    let conf = f.file("etcd.conf", SEED_CONF);
    let c = f.unit(SEED_UNIT, &[conf]).unwrap();
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
    let expect = [
        (Key::DataDir, "/data/etcd"),
        (Key::Name, "infra3"),
        (Key::InitialAdvertisePeerUrls, "https://10.0.12.157:2380"),
        (Key::ListenPeerUrls, "https://10.0.12.157:2380"),
        (Key::AdvertiseClientUrls, "https://10.0.12.157:2379"),
        (Key::ListenClientUrls, "https://127.0.0.1:2379,https://10.0.12.157:2379"),
        (Key::ListenMetricsUrls, "http://127.0.0.1:2381"),
        (Key::InitialCluster, "infra0=https://10.0.11.36:2380,infra1=https://10.0.12.21:2380,infra2=https://10.0.13.126:2380,infra3=https://10.0.12.157:2380"),
        (Key::ClientCertAuth, "true"),
        (Key::TrustedCaFile, "/etc/kubernetes/pki/etcd/ca.pem"),
        (Key::CertFile, "/etc/kubernetes/pki/etcd/server.pem"),
        (Key::KeyFile, "/etc/kubernetes/pki/etcd/server-key.pem"),
        (Key::PeerClientCertAuth, "true"),
        (Key::PeerTrustedCaFile, "/etc/kubernetes/pki/etcd/ca.pem"),
        (Key::PeerCertFile, "/etc/kubernetes/pki/etcd/members.pem"),
        (Key::PeerKeyFile, "/etc/kubernetes/pki/etcd/members-key.pem"),
    ];
    for (key, v) in expect {
        assert_eq!(value(&c, key), Some(v), "{key:?}");
        assert!(
            matches!(c.get(key).unwrap().source, Source::Flag { .. }),
            "{key:?}"
        );
    }
    assert_eq!(
        c.get(Key::Name).unwrap().source,
        Source::Flag {
            text: "--name infra3".into()
        }
    );
    assert_eq!(
        c.get(Key::ListenMetricsUrls).unwrap().source,
        Source::Flag {
            text: "--listen-metrics-urls=http://127.0.0.1:2381".into()
        }
    );
    assert_eq!(c.values.len(), expect.len());
    assert_eq!(c.cwd.as_deref(), Some(Path::new("/data/etcd")));
    assert_eq!(c.root, Path::new("/"));
    assert_eq!(
        c.run_as,
        Some(RunAs {
            user: Some("etcd".into()),
            uid: 998,
            gid: 997,
            groups: vec![4, 997],
        })
    );
    assert!(matches!(c.origin, Origin::Unit { .. }));
    assert_eq!(c.version, None);
}

#[test]
fn the_seed_unit_without_its_environment_file() {
    let f = Fixture::new();
    // The unit's own EnvironmentFile=-/etc/etcd/etcd.conf is optional; without it every
    // ${VAR} is empty and etcd's command line falls apart.
    let c = f
        .unit(
            &SEED_UNIT.replace("/etc/etcd/etcd.conf", "/nonexistent/etcd.conf"),
            &[],
        )
        .unwrap();
    assert!(c.problems.iter().any(|p| p.fatal), "{:#?}", c.problems);
}

#[test]
fn environment_quoting_and_origins() {
    let f = Fixture::new();
    let env_file = f.file(
        "env",
        "ETCD_CERT_FILE=\"/etc/etcd/server cert.pem\"\nexport ETCD_KEY_FILE=/k.pem\nETCD_NAME='file'\n",
    );
    let unit = format!(
        "[Service]\nEnvironment=\"ETCD_NAME=unit\" 'ETCD_DATA_DIR=/var/lib/etcd data' ETCD_TRUSTED_CA_FILE=/ca.pem\nEnvironmentFile={}\nExecStart=/usr/bin/etcd\n",
        env_file.display()
    );
    let c = f.unit(&unit, &[]).unwrap();
    assert_eq!(value(&c, Key::Name), Some("file"));
    assert_eq!(
        c.get(Key::Name).unwrap().source,
        Source::Env {
            var: "ETCD_NAME".into(),
            origin: EnvOrigin::EnvironmentFile {
                path: env_file.clone()
            }
        }
    );
    assert_eq!(value(&c, Key::DataDir), Some("/var/lib/etcd data"));
    assert!(matches!(
        c.get(Key::DataDir).unwrap().source,
        Source::Env {
            origin: EnvOrigin::Unit { .. },
            ..
        }
    ));
    assert_eq!(value(&c, Key::CertFile), Some("/etc/etcd/server cert.pem"));
    assert_eq!(value(&c, Key::KeyFile), None);
    assert!(c
        .problems
        .iter()
        .any(|p| !p.fatal && p.message.contains("\"export ETCD_KEY_FILE=/k.pem\"")));
    // No User=: root, working directory /.
    assert_eq!(c.run_as.as_ref().map(|r| r.uid), Some(0));
    assert_eq!(c.cwd.as_deref(), Some(Path::new("/")));
}

#[test]
fn dollar_var_splits_and_braces_do_not() {
    let f = Fixture::new();
    let unit = "[Service]\nEnvironment=\"OPTS=--name infra1 --data-dir /d\" \"CLUSTER=a=https://10.0.0.1:2380\"\nExecStart=/usr/bin/etcd $OPTS --initial-cluster ${CLUSTER}\n";
    let c = f.unit(unit, &[]).unwrap();
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
    assert_eq!(value(&c, Key::Name), Some("infra1"));
    assert_eq!(value(&c, Key::DataDir), Some("/d"));
    assert_eq!(
        value(&c, Key::InitialCluster),
        Some("a=https://10.0.0.1:2380")
    );
    // As one word, ${OPTS} is a single argument: `--name infra1 --data-dir /d` as the value
    // of... nothing: it is a flag name with spaces, unknown to etcd.
    let unit = "[Service]\nEnvironment=\"OPTS=--name infra1\"\nExecStart=/usr/bin/etcd ${OPTS}\n";
    let c = f.unit(unit, &[]).unwrap();
    assert!(c.problems[0].fatal);
    assert!(c.problems[0]
        .message
        .starts_with("flag provided but not defined: -name infra1"));
}

#[test]
fn flag_and_environment_file_conflict() {
    let f = Fixture::new();
    let env_file = f.file("env", "ETCD_NAME=infra0\n");
    let c = f
        .unit(
            "[Service]\nExecStart=/usr/bin/etcd --name infra0\n",
            &[env_file],
        )
        .unwrap();
    assert_eq!(c.problems.len(), 1);
    assert!(c.problems[0].fatal);
    assert!(c.problems[0].message.contains("\"ETCD_NAME\" is shadowed"));
}

#[test]
fn environment_resets_and_later_files_win() {
    let f = Fixture::new();
    let a = f.file("a.env", "ETCD_NAME=a\nETCD_DATA_DIR=/a\n");
    let b = f.file("b.env", "ETCD_NAME=b\n");
    let unit = format!(
        "[Service]\nEnvironment=ETCD_CERT_FILE=/gone.pem\nEnvironment=\nEnvironmentFile=/nonexistent\nEnvironmentFile=\nEnvironmentFile={}\nEnvironmentFile=-{}\nEnvironmentFile=-/nonexistent/optional\nExecStart=/usr/bin/etcd\n",
        a.display(),
        b.display()
    );
    let c = f.unit(&unit, &[]).unwrap();
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
    assert_eq!(value(&c, Key::Name), Some("b"));
    assert_eq!(value(&c, Key::DataDir), Some("/a"));
    assert_eq!(value(&c, Key::CertFile), None);
}

#[test]
fn a_missing_required_environment_file_stops_systemd() {
    let f = Fixture::new();
    let c = f
        .unit(
            "[Service]\nEnvironmentFile=/nonexistent/etcd.env\nExecStart=/usr/bin/etcd\n",
            &[],
        )
        .unwrap();
    assert_eq!(c.problems.len(), 1);
    assert!(c.problems[0].fatal);
    // A file given by the caller must exist.
    assert!(matches!(
        f.unit(
            "[Service]\nExecStart=/usr/bin/etcd\n",
            &[PathBuf::from("/nonexistent/x")]
        ),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn environment_file_globs() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.dir.path().join("env.d")).unwrap();
    f.file("env.d/10-name.conf", "ETCD_NAME=ten\n");
    f.file("env.d/20-name.conf", "ETCD_NAME=twenty\n");
    f.file("env.d/other.txt", "ETCD_NAME=other\n");
    let unit = format!(
        "[Service]\nEnvironmentFile={}/env.d/*.conf\nExecStart=/usr/bin/etcd\n",
        f.dir.path().display()
    );
    let c = f.unit(&unit, &[]).unwrap();
    assert_eq!(value(&c, Key::Name), Some("twenty"));
    assert!(fnmatch(b"[0-9]*.conf", b"10-a.conf"));
    assert!(!fnmatch(b"[!0-9]*", b"10"));
    assert!(fnmatch(b"a?c", b"abc"));
}

#[test]
fn unit_errors() {
    let f = Fixture::new();
    assert!(matches!(
        f.unit("[Unit]\nDescription=x\n", &[]),
        Err(ConfigError::NoService { .. })
    ));
    assert!(matches!(
        f.unit("[Service]\nType=notify\nExecStart=\n", &[]),
        Err(ConfigError::NoExecStart { .. })
    ));
    let e = f
        .unit(
            "[Service]\nExecStart=/usr/bin/etcdctl endpoint health\n",
            &[],
        )
        .unwrap_err();
    assert!(matches!(e, ConfigError::NoEtcdInUnit { .. }));
    assert!(e
        .to_string()
        .contains("ExecStart=/usr/bin/etcdctl endpoint health does not run etcd"));
    assert!(matches!(
        from_unit(Path::new("/nonexistent/etcd.service"), &[]),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn users_groups_and_directories() {
    let f = Fixture::new();
    let c = f
        .unit(
            "[Service]\nUser=998\nGroup=adm\nSupplementaryGroups=root 4242\nWorkingDirectory=~\nExecStart=/usr/bin/etcd\n",
            &[],
        )
        .unwrap();
    assert_eq!(
        c.run_as,
        Some(RunAs {
            user: Some("etcd".into()),
            uid: 998,
            gid: 4,
            groups: vec![0, 4, 4242],
        })
    );
    assert_eq!(c.cwd.as_deref(), Some(Path::new("/var/lib/etcd")));
    let c = f
        .unit(
            "[Service]\nUser=nobody-here\nExecStart=/usr/bin/etcd\n",
            &[],
        )
        .unwrap();
    assert_eq!(c.run_as, None);
    assert!(c.problems[0]
        .message
        .contains("User=nobody-here is not in /etc/passwd"));
    let c = f
        .unit(
            "[Service]\nDynamicUser=yes\nRootDirectory=/srv/etcd-root\nExecStart=/usr/bin/etcd\n",
            &[],
        )
        .unwrap();
    assert_eq!(c.run_as, None);
    assert_eq!(c.root, Path::new("/srv/etcd-root"));
}

#[test]
fn exec_prefixes_specifiers_and_dollars() {
    let f = Fixture::new();
    let c = f
        .unit(
            "[Service]\nEnvironment=N=x\nExecStart=-@/usr/local/bin/etcd etcd-%N --name=$$N --data-dir=%S/etcd\n",
            &[],
        )
        .unwrap();
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
    assert_eq!(value(&c, Key::Name), Some("$N"));
    assert_eq!(value(&c, Key::DataDir), Some("/var/lib/etcd"));
    let c = f
        .unit(
            "[Service]\nEnvironment=N=x\nExecStart=:/usr/bin/etcd --name=${N}\n",
            &[],
        )
        .unwrap();
    assert_eq!(value(&c, Key::Name), Some("${N}"));
}

#[test]
fn shell_with_exec_and_cd() {
    let f = Fixture::new();
    let c = f
        .unit(
            "[Service]\nEnvironment=ETCD_OPTS=--name=from-opts\nExecStart=/bin/sh -c 'cd /var/lib/etcd && exec /usr/bin/etcd $ETCD_OPTS --config-file=etcd.yml'\n",
            &[],
        )
        .unwrap();
    // ETCD_OPTS is not a flag: warned about; the config file is relative to the cd.
    assert_eq!(value(&c, Key::ConfigFile), Some("etcd.yml"));
    assert_eq!(c.cwd.as_deref(), Some(Path::new("/var/lib/etcd")));
    assert!(
        c.problems
            .iter()
            .any(|p| p.fatal && p.message.contains("/var/lib/etcd/etcd.yml")),
        "{:#?}",
        c.problems
    );
}
