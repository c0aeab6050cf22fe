//! `etcd-pki ca rotate` without a cluster: input refused before anything is written or any
//! member is contacted.

use etcd_pki_tests::{etcd_pki, snapshot};

fn args<'a>(action: &'a str, members: &'a str, new_ca: &'a str, new_key: &'a str) -> Vec<&'a str> {
    vec![
        "ca",
        "rotate",
        action,
        "--members-dir",
        members,
        "--new-ca",
        new_ca,
        "--new-ca-key",
        new_key,
        "--endpoints",
        "127.0.0.1:1",
    ]
}

#[test]
fn apply_needs_a_restart_hook() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let new_ca = format!("{d}/new.pem");
    let new_key = format!("{d}/new-key.pem");
    etcd_pki(args("apply", d, &new_ca, &new_key))
        .expect_code(2)
        .stderr_has("give --restart-cmd")
        .stderr_has("reads its trusted CA files only at start");
}

#[test]
fn the_new_ca_must_stay_out_of_the_members_files() {
    let dir = tempfile::tempdir().unwrap();
    let members = dir.path().join("members");
    std::fs::create_dir(&members).unwrap();
    std::fs::write(members.join("keep.txt"), "x").unwrap();
    let before = snapshot(dir.path());
    let m = members.to_str().unwrap();
    let new_ca = format!("{m}/new-ca.pem");
    let new_key = format!("{m}/new-ca-key.pem");
    let mut a = args("apply", m, &new_ca, &new_key);
    a.extend(["--restart-cmd", "true"]);
    etcd_pki(&a)
        .expect_code(2)
        .stderr_has("is inside")
        .stderr_has("keep the new CA outside the members' files");
    assert_eq!(snapshot(dir.path()), before, "nothing was written");
}

#[test]
fn bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (new_ca, new_key) = (format!("{d}/n.pem"), format!("{d}/n-key.pem"));
    let mut a = args("plan", d, &new_ca, &new_key);
    a.extend(["--client-cert", "client.pem:"]);
    etcd_pki(&a)
        .expect_code(2)
        .stderr_has("give CERT or CERT:KEY");
    let mut a = args("apply", d, &new_ca, &new_key);
    a.extend(["--through-phase", "4"]);
    etcd_pki(&a).expect_code(2).stderr_has("--through-phase");
    let mut a = args("status", "/nonexistent-members", &new_ca, &new_key);
    a.extend(["--restart-cmd", "true"]);
    etcd_pki(&a)
        .expect_code(2)
        .stderr_has("/nonexistent-members");
}
