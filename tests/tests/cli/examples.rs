//! pki-core's examples, built by the test command, run on real-tool fixtures as an embedder
//! would run them: the check before adding a member, the fix, and a rotation job.

use std::process::Command;

use etcd_pki_tests::{copy_fixtures, example, openssl_leaf_expiring_in};

fn run(name: &str, args: &[&str], dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(example(name))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run the example");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn check_then_fix_then_check_again() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixtures(
        dir.path(),
        &[
            "cfssl/ca.pem",
            "cfssl/ca-key.pem",
            "cfssl/members.pem",
            "cfssl/members-key.pem",
        ],
    );
    let check = ["members.pem", "members-key.pem", "ca.pem", "127.0.0.14"];
    let (code, text) = run("check_peer", &check, dir.path());
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL coverage 127.0.0.14"), "{text}");
    assert!(
        text.contains("fix: reissue the certificate from its CA with 127.0.0.14 added"),
        "{text}"
    );

    let (code, text) = run(
        "reissue_add_ip",
        &[
            "ca.pem",
            "ca-key.pem",
            "members.pem",
            "members-key.pem",
            "127.0.0.14",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("added IP:127.0.0.14"), "{text}");
    assert!(text.contains("the old file is "), "{text}");

    let (code, text) = run("check_peer", &check, dir.path());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("PASS coverage 127.0.0.14"), "{text}");
}

#[test]
fn the_rotation_job_renews_what_is_due_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    openssl_leaf_expiring_in(&pki, "due", 10, "127.0.0.21");
    openssl_leaf_expiring_in(&pki, "later", 90, "127.0.0.22");
    copy_fixtures(dir.path(), &["openssl/ec-ca.crt", "openssl/ec-ca.key"]);
    let (code, text) = run("renew_due", &["ec-ca.crt", "ec-ca.key", "pki"], dir.path());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("renewed pki/due.crt"), "{text}");
    assert!(!text.contains("later.crt"), "{text}");
    assert!(
        std::fs::read_dir(&pki).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("due.crt.bak.")),
        "the old certificate is kept as a backup"
    );
}
