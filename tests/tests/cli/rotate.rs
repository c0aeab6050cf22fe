//! `etcd-pki rotate` without a cluster: its systemd units, and bad input.

use etcd_pki_tests::etcd_pki;

#[test]
fn print_units_gives_a_service_running_the_same_command_and_a_daily_timer() {
    let run = etcd_pki([
        "rotate",
        "--print-units",
        "--members-dir",
        "/etc/etcd/members",
        "--ca-key",
        "/etc/etcd/ca.key",
        "--cacert",
        "/etc/etcd/ca.pem",
        "--sync-cmd",
        "rsync -a {dir}/ {host}:/etc/etcd/pki/ # 100% $HOME",
    ]);
    run.expect_code(0)
        .stdout_has("[Service]\nType=oneshot\nExecStart=")
        .stdout_has(" rotate --members-dir /etc/etcd/members --ca-key /etc/etcd/ca.key --cacert /etc/etcd/ca.pem --sync-cmd ")
        .stdout_has("100%% $$HOME")
        .stdout_has(" -w json\n")
        .stdout_has("[Timer]\nOnCalendar=daily")
        .stdout_has("WantedBy=timers.target");
    assert!(!run.stdout.contains("--print-units"), "{}", run.stdout);
}

#[test]
fn bad_input_exits_2() {
    etcd_pki([
        "rotate",
        "--expires-within",
        "30x",
        "--ca-key",
        "k",
        "--cacert",
        "c",
        "--members-dir",
        ".",
    ])
    .expect_code(2)
    .stderr_has("--expires-within");
    etcd_pki(["rotate", "--members-dir", "."]).expect_code(2);
}
