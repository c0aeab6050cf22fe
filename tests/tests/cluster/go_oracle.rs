//! Differential tests with Go as the oracle: for certificates at the edges of Go's rules, a real
//! etcd serves each one and the real etcdctl (Go's crypto/tls and crypto/x509) connects to it;
//! `etcd-pki check` must reach the same verdict. This is what "decides exactly as Go decides"
//! means, tested rather than asserted.

use std::net::{IpAddr, TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{
    allocate_ips, die_with_parent, etcd_command, etcdctl_command, stop, url,
};
use etcd_pki_tests::{etcd_pki, fixture};

/// One certificate served by etcd and checked by etcdctl.
struct Case {
    name: &'static str,
    cert: &'static str,
    key: &'static str,
    ca: &'static str,
    /// Where etcd listens.
    listen: IpAddr,
    /// The host etcdctl dials (and `check --host` names): the listen IP, or `localhost`.
    host: Option<&'static str>,
    /// What Go is expected to decide, so that a case that stopped testing anything is noticed.
    go_accepts: bool,
}

fn free_port(ip: IpAddr) -> u16 {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Go's verdict: etcd starts with the certificate and etcdctl can read through TLS. A port taken
/// between choosing it and etcd binding it (another test's connection) is no verdict: tried
/// again on other ports.
fn go_verdict(case: &Case) -> (bool, String) {
    let mut attempt = 0;
    loop {
        let verdict = go_verdict_once(case);
        attempt += 1;
        if verdict.1.contains("address already in use") && attempt < 3 {
            continue;
        }
        return verdict;
    }
}

fn go_verdict_once(case: &Case) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let client_port = free_port(case.listen);
    let peer = format!(
        "http://127.0.0.1:{}",
        free_port("127.0.0.1".parse().unwrap())
    );
    let listen = url(case.listen, client_port);
    let mut cmd = etcd_command();
    cmd.args([
        "--name",
        "oracle",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--listen-client-urls",
        &listen,
        "--advertise-client-urls",
        &listen,
        "--listen-peer-urls",
        &peer,
        "--initial-advertise-peer-urls",
        &peer,
        "--initial-cluster",
        &format!("oracle={peer}"),
        "--cert-file",
        fixture(case.cert).to_str().unwrap(),
        "--key-file",
        fixture(case.key).to_str().unwrap(),
        "--logger",
        "zap",
        "--log-outputs",
        "stderr",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(dir.path().join("etcd.log")).unwrap());
    die_with_parent(&mut cmd);
    let mut child = cmd.spawn().expect("start etcd");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.path().join("etcd.log")).unwrap_or_default();
            let why = log
                .lines()
                .rev()
                .find(|l| l.contains("error") || l.contains("fatal"))
                .unwrap_or("")
                .to_string();
            return (false, format!("etcd did not start: {why}"));
        }
        // Serving, not just listening: a single member elects itself first, and under load that
        // can take longer than etcdctl's timeouts would allow for.
        let ready = std::fs::read_to_string(dir.path().join("etcd.log")).is_ok_and(|log| {
            log.contains("published local member to cluster")
                || log.contains("ready to serve client requests")
        });
        if ready && TcpStream::connect((case.listen, client_port)).is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}: etcd neither started nor failed",
            case.name
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let dial = match case.host {
        Some(host) => format!("https://{host}:{client_port}"),
        None => listen.clone(),
    };
    let out = etcdctl_command()
        .args([
            "--endpoints",
            &dial,
            "--cacert",
            fixture(case.ca).to_str().unwrap(),
            "--dial-timeout",
            "3s",
            "--command-timeout",
            "5s",
            "get",
            "oracle",
        ])
        .output()
        .expect("run etcdctl");
    stop(child);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string(),
    )
}

/// etcd-pki's verdict on the same question: the certificate as a server certificate for the
/// dialled host (serverAuth; etcd's own need for clientAuth is not part of this question).
fn our_verdict(case: &Case) -> (bool, String) {
    let host = case.host.map_or(case.listen.to_string(), str::to_string);
    let run = etcd_pki([
        "check",
        "--role",
        "server",
        "--host",
        &host,
        "-w",
        "json",
        "--cert",
        fixture(case.cert).to_str().unwrap(),
        "--key",
        fixture(case.key).to_str().unwrap(),
        "--cacert",
        fixture(case.ca).to_str().unwrap(),
    ]);
    assert!([0, 1].contains(&run.code), "{}: {}", case.name, run.stderr);
    let json = run.json();
    let failures: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["status"] == "FAIL" && !(f["check"] == "usage" && f["target"] == "clientAuth")
        })
        .map(|f| format!("{}: {}", f["check"], f["message"]))
        .collect();
    (failures.is_empty(), failures.join("; "))
}

fn run_cases(cases: Vec<Case>) {
    let handles: Vec<_> = cases
        .into_iter()
        .map(|case| {
            std::thread::spawn(move || {
                let (go, go_why) = go_verdict(&case);
                let (ours, our_why) = our_verdict(&case);
                (case.name, case.go_accepts, go, go_why, ours, our_why)
            })
        })
        .collect();
    let mut problems = Vec::new();
    for h in handles {
        let (name, expected, go, go_why, ours, our_why) = h.join().unwrap();
        if go != expected {
            problems.push(format!(
                "{name}: expected Go to {} it, Go did not ({go_why})",
                if expected { "accept" } else { "refuse" }
            ));
        }
        if ours != go {
            problems.push(format!(
                "{name}: Go {} ({go_why}), etcd-pki {} ({our_why})",
                verdict(go),
                verdict(ours)
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "verdicts differ:\n{}",
        problems.join("\n")
    );
}

fn verdict(accepts: bool) -> &'static str {
    if accepts {
        "accepts"
    } else {
        "refuses"
    }
}

fn lo() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

#[test]
fn names_and_keys_agree_with_go() {
    let elsewhere = allocate_ips(1)[0];
    run_cases(vec![
        Case {
            name: "seed peer certificate on a listed IP",
            cert: "cfssl/members.pem",
            key: "cfssl/members-key.pem",
            ca: "cfssl/ca.pem",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "seed peer certificate on an unlisted IP",
            cert: "cfssl/members.pem",
            key: "cfssl/members-key.pem",
            ca: "cfssl/ca.pem",
            listen: elsewhere,
            host: None,
            go_accepts: false,
        },
        Case {
            name: "the Common Name is not a SAN",
            cert: "openssl/cn-only.crt",
            key: "openssl/cn-only.key",
            ca: "openssl/ec-ca.crt",
            listen: "127.0.0.14".parse().unwrap(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "a DNS SAN for localhost",
            cert: "kubeadm/peer.crt",
            key: "kubeadm/peer.key",
            ca: "kubeadm/ca.crt",
            listen: lo(),
            host: Some("localhost"),
            go_accepts: true,
        },
        Case {
            name: "a DNS SAN does not cover an IP",
            cert: "openssl/wildcard.crt",
            key: "openssl/wildcard.key",
            ca: "openssl/ec-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "an IPv6 SAN",
            cert: "openssl/ipv6.crt",
            key: "openssl/ipv6.key",
            ca: "openssl/ec-ca.crt",
            listen: "::1".parse().unwrap(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "a key that is not the certificate's",
            cert: "openssl/mismatch.crt",
            key: "openssl/mismatch.key",
            ca: "openssl/ec-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "an EC key without its public point",
            cert: "openssl/leaf-ec-p256.crt",
            key: "openssl/leaf-ec-p256-nopub.key",
            ca: "openssl/ec-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "a DER certificate file",
            cert: "openssl/leaf-ec-p256.der",
            key: "openssl/leaf-ec-p256.key",
            ca: "openssl/ec-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "ECDSA P-384 with a PKCS#8 key",
            cert: "openssl/leaf-ec-p384.crt",
            key: "openssl/leaf-ec-p384.key",
            ca: "openssl/ec-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "Ed25519",
            cert: "openssl/leaf-ed25519.crt",
            key: "openssl/leaf-ed25519.key",
            ca: "openssl/ed25519-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "no extended key usage",
            cert: "openssl/no-eku.crt",
            key: "openssl/no-eku.key",
            ca: "openssl/ec-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
    ]);
}

#[test]
fn chains_agree_with_go() {
    run_cases(vec![
        Case {
            name: "expired",
            cert: "openssl/expired.crt",
            key: "openssl/expired.key",
            ca: "openssl/rsa-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "valid 1950 to 9999",
            cert: "openssl/longlife.crt",
            key: "openssl/longlife.key",
            ca: "openssl/rsa-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "another CA",
            cert: "cfssl/foreign-members.pem",
            key: "cfssl/foreign-members-key.pem",
            ca: "cfssl/ca.pem",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "a same-named impostor CA",
            cert: "cfssl/impostor-members.pem",
            key: "cfssl/impostor-members-key.pem",
            ca: "cfssl/ca.pem",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "intermediate sent by the server",
            cert: "openssl/leaf-via-intermediate-chain.pem",
            key: "openssl/leaf-via-intermediate.key",
            ca: "openssl/root-ca.crt",
            listen: "127.0.0.31".parse().unwrap(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "intermediate missing",
            cert: "openssl/leaf-via-intermediate.crt",
            key: "openssl/leaf-via-intermediate.key",
            ca: "openssl/root-ca.crt",
            listen: "127.0.0.31".parse().unwrap(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "intermediate in the CA file is an anchor",
            cert: "openssl/leaf-via-intermediate.crt",
            key: "openssl/leaf-via-intermediate.key",
            ca: "openssl/root-and-intermediate.pem",
            listen: "127.0.0.31".parse().unwrap(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "a v1 root",
            cert: "openssl/leaf-via-v1.crt",
            key: "openssl/leaf-via-v1.key",
            ca: "openssl/v1-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "SHA-1 signature on the leaf",
            cert: "openssl/sha1-leaf.crt",
            key: "openssl/sha1-leaf.key",
            ca: "openssl/sha1-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "SHA-1 only on the root's own signature",
            cert: "openssl/under-sha1-root.crt",
            key: "openssl/under-sha1-root.key",
            ca: "openssl/sha1-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "an unknown critical extension",
            cert: "openssl/critical-unknown.crt",
            key: "openssl/critical-unknown.key",
            ca: "openssl/ec-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "a CA without keyCertSign",
            cert: "openssl/under-no-certsign.crt",
            key: "openssl/under-no-certsign.key",
            ca: "openssl/no-certsign-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "a leaf marked CA:TRUE",
            cert: "openssl/ca-true-leaf.crt",
            key: "openssl/ca-true-leaf.key",
            ca: "openssl/ec-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: true,
        },
        Case {
            name: "outside the intermediate's name constraints",
            cert: "openssl/nc-outside-chain.pem",
            key: "openssl/nc-outside.key",
            ca: "openssl/root-ca.crt",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
        Case {
            name: "a key inside the CA file",
            cert: "openssl/leaf-ec-p256.crt",
            key: "openssl/leaf-ec-p256.key",
            ca: "openssl/combined.pem",
            listen: lo(),
            host: None,
            go_accepts: false,
        },
    ]);
}
