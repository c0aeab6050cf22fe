//! Snapshots of the offline commands that write or would write, in each output format they
//! offer: `reissue` (dry runs and real writes), `renew`, `init` and `recover`. Each runs in a
//! temporary directory holding copies of the fixtures it needs at the same relative paths
//! (`fixtures/cfssl/members.pem`), and each snapshot holds the exit code, stdout and stderr.
//! What a write produced is snapshotted too (`inspect` or `scan` of the new files, and the
//! directory's file names).
//!
//! New certificates get a new serial, fingerprint and dates, backups a time stamp: those are
//! redacted (see `snap.rs`). To review and accept a change of output, see `help.rs`:
//! `cargo insta test -p etcd-pki-tests --test cli --review`, or
//! `INSTA_UPDATE=always cargo test -p etcd-pki-tests --test cli` and review `git diff`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::snap::{snapshot, Stage};

/// The cfssl layout of the seed runbook, and kubeadm's peer certificate with its CA.
const CFSSL_AND_KUBEADM: &[&str] = &[
    "cfssl/ca.pem",
    "cfssl/ca-key.pem",
    "cfssl/members.pem",
    "cfssl/members-key.pem",
    "cfssl/foreign-members.pem",
    "kubeadm/ca.crt",
    "kubeadm/ca.key",
    "kubeadm/peer.crt",
    "kubeadm/peer.key",
];

/// The CA and peer files of `reissue`, as flags.
const MEMBERS: &[&str] = &[
    "--cacert",
    "fixtures/cfssl/ca.pem",
    "--ca-key",
    "fixtures/cfssl/ca-key.pem",
    "--cert",
    "fixtures/cfssl/members.pem",
    "--key",
    "fixtures/cfssl/members-key.pem",
];

/// `[first, rest...]` as one argument list.
fn args<'a>(first: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    let mut all = first.to_vec();
    all.extend_from_slice(rest);
    all
}

/// Snapshots the names of the files under `dir` (relative, sorted), after a write.
fn snapshot_files(name: &str, stage: &Stage, dir: &str) {
    let mut files: Vec<(String, u32)> = Vec::new();
    let mut stack = vec![stage.path().join(dir)];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(stage.path()).unwrap();
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
                files.push((rel.display().to_string(), mode));
            }
        }
    }
    files.sort();
    let listing: Vec<String> = files
        .iter()
        .map(|(rel, mode)| format!("{mode:04o} {rel}"))
        .collect();
    stage.settings().bind(|| {
        insta::assert_snapshot!(name, listing.join("\n"));
    });
}

#[test]
fn reissue_dry_runs() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    let cases: &[(&str, &[&str])] = &[
        // The seed runbook's fix, before adding infra3 at 127.0.0.14.
        ("reissue_dry_run_add_ip", &["--add-ip", "127.0.0.14"]),
        (
            "reissue_dry_run_add_and_remove",
            &[
                "--add-ip",
                "127.0.0.14",
                "--add-dns",
                "etcd-3.example.com",
                "--remove-ip",
                "127.0.0.13",
                "--days",
                "30",
            ],
        ),
        (
            "reissue_dry_run_already_present",
            &["--add-ip", "127.0.0.11"],
        ),
        ("reissue_dry_run_new_key", &["--new-key", "--days", "365"]),
    ];
    for (name, extra) in cases {
        for format in ["simple", "json"] {
            let all = args(&args(&["reissue", "--dry-run"], MEMBERS), extra);
            let all = args(&all, &["-w", format]);
            snapshot!(
                format!("{name}_{format}"),
                stage.etcd_pki(&all),
                stage.settings()
            );
        }
    }
    for format in ["simple", "json"] {
        snapshot!(
            format!("reissue_dry_run_kubeadm_{format}"),
            stage.etcd_pki(&[
                "reissue",
                "--dry-run",
                "--cacert",
                "fixtures/kubeadm/ca.crt",
                "--ca-key",
                "fixtures/kubeadm/ca.key",
                "--cert",
                "fixtures/kubeadm/peer.crt",
                "--key",
                "fixtures/kubeadm/peer.key",
                "--remove-dns",
                "localhost",
                "--remove-ip",
                "::1",
                "--add-dns",
                "*.node-1.example.com",
                "--add-ip",
                "fd00::41",
                "-w",
                format,
            ]),
            stage.settings()
        );
    }
    snapshot_files("reissue_dry_run_files", &stage, "fixtures");
}

#[test]
fn reissue_refusals() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    let cases: &[(&str, &[&str])] = &[
        ("reissue_remove_absent_san", &["--remove-ip", "10.9.9.9"]),
        (
            "reissue_remove_every_san",
            &[
                "--remove-ip",
                "127.0.0.1",
                "--remove-ip",
                "127.0.0.11",
                "--remove-ip",
                "127.0.0.12",
                "--remove-ip",
                "127.0.0.13",
            ],
        ),
        ("reissue_zero_days", &["--days", "0"]),
    ];
    for (name, extra) in cases {
        for format in ["simple", "json"] {
            let all = args(&args(&["reissue"], MEMBERS), extra);
            let all = args(&all, &["-w", format]);
            snapshot!(
                format!("{name}_{format}"),
                stage.etcd_pki(&all),
                stage.settings()
            );
        }
    }
    snapshot!(
        "reissue_other_ca",
        stage.etcd_pki(&[
            "reissue",
            "--cacert",
            "fixtures/cfssl/ca.pem",
            "--ca-key",
            "fixtures/cfssl/ca-key.pem",
            "--cert",
            "fixtures/cfssl/foreign-members.pem",
            "--add-ip",
            "127.0.0.14",
        ]),
        stage.settings()
    );
    snapshot!(
        "reissue_ca_key_mismatch",
        stage.etcd_pki(&[
            "reissue",
            "--cacert",
            "fixtures/cfssl/ca.pem",
            "--ca-key",
            "fixtures/kubeadm/ca.key",
            "--cert",
            "fixtures/cfssl/members.pem",
            "--add-ip",
            "127.0.0.14",
        ]),
        stage.settings()
    );
    // A write that fails midway (the crash tests' failpoint) leaves every file as it was.
    let mut failing = stage.etcd_pki(&args(
        &args(&["reissue"], MEMBERS),
        &["--new-key", "--add-ip", "127.0.0.14"],
    ));
    failing.env("ETCD_PKI_FAILPOINT", "rename:2");
    snapshot!("reissue_failing_midway", failing, stage.settings());
    snapshot_files("reissue_refusals_files", &stage, "fixtures");
}

#[test]
fn reissue_warns_about_a_ca_key_others_can_read() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    std::fs::set_permissions(
        stage.path().join("fixtures/cfssl/ca-key.pem"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    for format in ["simple", "json"] {
        let all = args(
            &args(&["reissue", "--dry-run"], MEMBERS),
            &["--add-ip", "127.0.0.14", "-w", format],
        );
        snapshot!(
            format!("reissue_readable_ca_key_{format}"),
            stage.etcd_pki(&all),
            stage.settings()
        );
    }
}

#[test]
fn reissue_in_place() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    snapshot!(
        "reissue_add_ip_simple",
        stage.etcd_pki(&args(
            &args(&["reissue"], MEMBERS),
            &["--add-ip", "127.0.0.14"]
        )),
        stage.settings()
    );
    snapshot!(
        "reissue_add_ip_result",
        stage.etcd_pki(&["inspect", "fixtures/cfssl/members.pem"]),
        stage.settings()
    );
    snapshot_files("reissue_add_ip_files", &stage, "fixtures/cfssl");
}

#[test]
fn reissue_in_place_with_a_new_key_json() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    snapshot!(
        "reissue_new_key_json",
        stage.etcd_pki(&args(
            &args(&["reissue"], MEMBERS),
            &[
                "--new-key",
                "--remove-ip",
                "127.0.0.13",
                "--days",
                "90",
                "-w",
                "json"
            ],
        )),
        stage.settings()
    );
    snapshot!(
        "reissue_new_key_result",
        stage.etcd_pki(&[
            "inspect",
            "-w",
            "json",
            "fixtures/cfssl/members.pem",
            "fixtures/cfssl/members-key.pem",
        ]),
        stage.settings()
    );
    snapshot_files("reissue_new_key_files", &stage, "fixtures/cfssl");
}

#[test]
fn reissue_to_other_files() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    for format in ["simple", "json"] {
        snapshot!(
            format!("reissue_out_{format}"),
            stage.etcd_pki(&args(
                &args(&["reissue"], MEMBERS),
                &[
                    "--add-ip",
                    "127.0.0.14",
                    "--new-key",
                    "--out",
                    &format!("fixtures/cfssl/infra3-{format}.pem"),
                    "--out-key",
                    &format!("fixtures/cfssl/infra3-{format}-key.pem"),
                    "-w",
                    format,
                ],
            )),
            stage.settings()
        );
    }
    snapshot_files("reissue_out_files", &stage, "fixtures/cfssl");
}

/// The rsa-ca, a certificate it issued that expired in 2021, one it issued that is not due, and
/// one another CA issued.
const RENEWABLE: &[&str] = &[
    "openssl/rsa-ca.crt",
    "openssl/rsa-ca.key",
    "openssl/expired.crt",
    "openssl/expired.key",
    "openssl/leaf-rsa-pkcs1.crt",
    "openssl/leaf-rsa-pkcs1.key",
    "openssl/leaf-ec-p256.crt",
];

const RENEW: &[&str] = &[
    "renew",
    "fixtures/openssl",
    "--cacert",
    "fixtures/openssl/rsa-ca.crt",
    "--ca-key",
    "fixtures/openssl/rsa-ca.key",
];

#[test]
fn renew_dry_runs() {
    let stage = Stage::new(RENEWABLE);
    for format in ["table", "json"] {
        snapshot!(
            format!("renew_dry_run_{format}"),
            stage.etcd_pki(&args(RENEW, &["--dry-run", "-w", format])),
            stage.settings()
        );
    }
    snapshot_files("renew_dry_run_files", &stage, "fixtures");
}

#[test]
fn renew_writes() {
    for format in ["table", "json"] {
        let stage = Stage::new(RENEWABLE);
        snapshot!(
            format!("renew_{format}"),
            stage.etcd_pki(&args(RENEW, &["-w", format])),
            stage.settings()
        );
        snapshot_files(&format!("renew_{format}_files"), &stage, "fixtures");
    }
    let stage = Stage::new(RENEWABLE);
    stage.etcd_pki(RENEW).output().unwrap();
    snapshot!(
        "renew_result",
        stage.etcd_pki(&["inspect", "fixtures/openssl/expired.crt"]),
        stage.settings()
    );
}

#[test]
fn renew_nothing_due_and_everything_due() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    let kubeadm = [
        "renew",
        "fixtures/kubeadm",
        "--cacert",
        "fixtures/kubeadm/ca.crt",
        "--ca-key",
        "fixtures/kubeadm/ca.key",
    ];
    for format in ["table", "json"] {
        snapshot!(
            format!("renew_nothing_due_{format}"),
            stage.etcd_pki(&args(&kubeadm, &["-w", format])),
            stage.settings()
        );
    }
    // A window longer than the certificates' lifetime: the peer certificate is due.
    snapshot!(
        "renew_everything_due_table",
        stage.etcd_pki(&args(&kubeadm, &["--expires-within", "36500d"])),
        stage.settings()
    );
    snapshot_files("renew_everything_due_files", &stage, "fixtures/kubeadm");
    snapshot!(
        "renew_wrong_ca_key",
        stage.etcd_pki(&[
            "renew",
            "fixtures/cfssl",
            "--cacert",
            "fixtures/cfssl/ca.pem",
            "--ca-key",
            "fixtures/cfssl/members-key.pem",
            "--dry-run",
        ]),
        stage.settings()
    );
}

const MEMBERS_3: &[&str] = &[
    "--member",
    "infra0=10.0.11.36",
    "--member",
    "infra1=10.0.12.21,etcd-1.example.com",
    "--member",
    "infra2=10.0.13.126",
];

#[test]
fn init_cfssl() {
    for format in ["simple", "json"] {
        let stage = Stage::new(&[]);
        snapshot!(
            format!("init_cfssl_{format}"),
            stage.etcd_pki(&args(&args(&["init", "pki"], MEMBERS_3), &["-w", format])),
            stage.settings()
        );
        if format == "simple" {
            snapshot_files("init_cfssl_files", &stage, "pki");
            snapshot!(
                "init_cfssl_scan",
                stage.etcd_pki(&["scan", "--verify", "pki"]),
                stage.settings()
            );
            snapshot!(
                "init_cfssl_check_peer",
                stage.etcd_pki(&[
                    "check",
                    "--role",
                    "peer",
                    "--url",
                    "https://10.0.12.21:2380",
                    "--host",
                    "etcd-1.example.com",
                    "--cert",
                    "pki/members.pem",
                    "--key",
                    "pki/members-key.pem",
                    "--cacert",
                    "pki/ca.pem",
                ]),
                stage.settings()
            );
            // A second init in the same directory is refused.
            for format in ["simple", "json"] {
                snapshot!(
                    format!("init_refuses_existing_pki_{format}"),
                    stage.etcd_pki(&args(&args(&["init", "pki"], MEMBERS_3), &["-w", format])),
                    stage.settings()
                );
            }
        }
    }
}

#[test]
fn init_kubeadm() {
    for format in ["simple", "json"] {
        let stage = Stage::new(&[]);
        snapshot!(
            format!("init_kubeadm_{format}"),
            stage.etcd_pki(&args(
                &args(
                    &["init", "pki", "--layout", "kubeadm", "--algo", "ed25519"],
                    MEMBERS_3
                ),
                &[
                    "--days",
                    "90",
                    "--ca-days",
                    "730",
                    "--ca-name",
                    "kube-etcd-ca",
                    "-w",
                    format
                ],
            )),
            stage.settings()
        );
        if format == "simple" {
            snapshot_files("init_kubeadm_files", &stage, "pki");
            snapshot!(
                "init_kubeadm_scan",
                stage.etcd_pki(&["scan", "--verify", "pki"]),
                stage.settings()
            );
        }
    }
}

#[test]
fn init_refusals() {
    let stage = Stage::new(&[]);
    let cases: &[(&str, &[&str])] = &[
        ("init_member_without_ip", &["--member", "infra0"]),
        ("init_member_bad_ip", &["--member", "infra0=10.0.0"]),
        (
            "init_member_twice",
            &["--member", "infra0=10.0.0.1", "--member", "infra0=10.0.0.2"],
        ),
    ];
    for (name, members) in cases {
        snapshot!(
            *name,
            stage.etcd_pki(&args(&["init", "pki"], members)),
            stage.settings()
        );
    }
    assert!(
        !stage.path().join("pki").join("ca.pem").exists(),
        "a refused init wrote a CA"
    );
}

/// Plants the temporary file of a write killed long ago (a PID above Linux's highest).
fn plant_orphan(dir: &Path) {
    std::fs::write(dir.join(".x.pem.tmp-4194305-1"), "half a certificate").unwrap();
}

#[test]
fn recover() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    for format in ["simple", "json"] {
        snapshot!(
            format!("recover_clean_{format}"),
            stage.etcd_pki(&[
                "recover",
                "fixtures/cfssl",
                "fixtures/kubeadm",
                "-w",
                format
            ]),
            stage.settings()
        );
        snapshot!(
            format!("recover_current_dir_{format}"),
            stage.etcd_pki(&["recover", "-w", format]),
            stage.settings()
        );
        snapshot!(
            format!("recover_not_a_dir_{format}"),
            stage.etcd_pki(&["recover", "fixtures/no-such-dir", "-w", format]),
            stage.settings()
        );
    }
    for format in ["simple", "json"] {
        plant_orphan(&stage.path().join("fixtures/cfssl"));
        snapshot!(
            format!("recover_orphan_temporary_{format}"),
            stage.etcd_pki(&["recover", "fixtures/cfssl", "-w", format]),
            stage.settings()
        );
    }
    snapshot_files("recover_files", &stage, "fixtures/cfssl");
}

/// A read-only command beside an unfinished write says so and exits 1; a write recovers first.
#[test]
fn commands_beside_an_unfinished_write() {
    let stage = Stage::new(CFSSL_AND_KUBEADM);
    plant_orphan(&stage.path().join("fixtures/cfssl"));
    let cases: &[(&str, &[&str])] = &[
        ("orphan_inspect", &["inspect", "fixtures/cfssl/members.pem"]),
        (
            "orphan_check",
            &[
                "check",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--cacert",
                "fixtures/cfssl/ca.pem",
            ],
        ),
        ("orphan_scan_table", &["scan", "fixtures/cfssl"]),
        (
            "orphan_scan_json",
            &["scan", "fixtures/cfssl", "-w", "json"],
        ),
        (
            "orphan_reissue_dry_run",
            &[
                "reissue",
                "--dry-run",
                "--cacert",
                "fixtures/cfssl/ca.pem",
                "--ca-key",
                "fixtures/cfssl/ca-key.pem",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--add-ip",
                "127.0.0.14",
            ],
        ),
        (
            "orphan_reissue",
            &[
                "reissue",
                "--cacert",
                "fixtures/cfssl/ca.pem",
                "--ca-key",
                "fixtures/cfssl/ca-key.pem",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--add-ip",
                "127.0.0.14",
            ],
        ),
    ];
    for (name, args) in cases {
        snapshot!(*name, stage.etcd_pki(args), stage.settings());
    }
    snapshot_files("orphan_files", &stage, "fixtures/cfssl");
}

/// The per-member layout made by hand with openssl, and kubeadm's lone member directory.
const PER_MEMBER_AND_KUBEADM: &[&str] = &[
    "per-member/ca/etcd-root.crt",
    "per-member/ca/etcd-root.key",
    "per-member/etcd-a/trust-bundle.pem",
    "per-member/etcd-a/etcd-a-server.pem",
    "per-member/etcd-a/etcd-a-server.key",
    "per-member/etcd-a/etcd-a-peer.pem",
    "per-member/etcd-a/etcd-a-peer.key",
    "per-member/etcd-a/etcd-a-client.pem",
    "per-member/etcd-a/etcd-a-client.key",
    "per-member/etcd-b/etcd-b-server.pem",
    "per-member/etcd-b/etcd-b-peer.pem",
    "per-member/etcd-b/etcd-b-client.pem",
    "kubeadm/ca.crt",
    "kubeadm/ca.key",
    "kubeadm/server.crt",
    "kubeadm/server.key",
    "kubeadm/peer.crt",
    "kubeadm/peer.key",
    "kubeadm/healthcheck-client.crt",
    "kubeadm/healthcheck-client.key",
];

/// `issue` for a member of the hand-made layout (siblings etcd-b) and of kubeadm's lone
/// directory (no siblings, the CA key beside the member's files): dry runs in both formats, a
/// real write, and refusals.
#[test]
fn issue_dry_runs_writes_and_refusals() {
    let stage = Stage::new(PER_MEMBER_AND_KUBEADM);
    let per_member: &[&str] = &[
        "issue",
        "etcd-d",
        "--ip",
        "127.0.0.24",
        "--dns",
        "etcd-d.etcd.test",
        "--cacert",
        "fixtures/per-member/ca/etcd-root.crt",
        "--ca-key",
        "fixtures/per-member/ca/etcd-root.key",
        "--like",
        "fixtures/per-member/etcd-a",
        "--out",
        "fixtures/per-member/etcd-d",
    ];
    let kubeadm: &[&str] = &[
        "issue",
        "cp-4",
        "--ip",
        "10.0.0.4",
        "--cacert",
        "fixtures/kubeadm/ca.crt",
        "--ca-key",
        "fixtures/kubeadm/ca.key",
        "--like",
        "fixtures/kubeadm",
        "--out",
        "cp-4",
    ];
    for format in ["simple", "json"] {
        snapshot!(
            format!("issue_dry_run_per_member_{format}"),
            stage.etcd_pki(&args(per_member, &["--dry-run", "-w", format])),
            stage.settings()
        );
        snapshot!(
            format!("issue_dry_run_kubeadm_{format}"),
            stage.etcd_pki(&args(kubeadm, &["--dry-run", "-w", format])),
            stage.settings()
        );
    }
    snapshot!(
        "issue_per_member_simple",
        stage.etcd_pki(per_member),
        stage.settings()
    );
    snapshot!(
        "issue_per_member_result",
        stage.etcd_pki(&[
            "inspect",
            "fixtures/per-member/etcd-d/etcd-d-peer.pem",
            "fixtures/per-member/etcd-d/etcd-d-peer.key"
        ]),
        stage.settings()
    );
    snapshot!(
        "issue_kubeadm_json",
        stage.etcd_pki(&args(kubeadm, &["-w", "json"])),
        stage.settings()
    );
    snapshot!(
        "issue_out_not_empty",
        stage.etcd_pki(per_member),
        stage.settings()
    );
    snapshot!(
        "issue_template_of_another_ca",
        stage.etcd_pki(&[
            "issue",
            "etcd-d",
            "--ip",
            "127.0.0.24",
            "--cacert",
            "fixtures/kubeadm/ca.crt",
            "--ca-key",
            "fixtures/kubeadm/ca.key",
            "--like",
            "fixtures/per-member/etcd-a",
            "--out",
            "elsewhere",
        ]),
        stage.settings()
    );
    snapshot_files("issue_files", &stage, ".");
}
