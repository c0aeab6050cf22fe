//! A 3-member TLS etcd cluster started by the test harness, for `bench/compare.sh` to time
//! `preflight` against: `cargo run --release -p etcd-pki-tests --example bench_cluster -- DIR`.
//!
//! It writes `DIR/cluster.env` (shell variables: the connection flags, and a spare address the
//! certificates cover, with its peer and client URLs, for a new member) once the cluster is
//! healthy, and stops the cluster when `DIR/stop` appears (or when it is killed: the members die
//! with it).

use std::path::PathBuf;
use std::time::Duration;

use etcd_pki_tests::cluster::{allocate_ips, Cluster};

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: bench_cluster DIR"));
    let ips = allocate_ips(4);
    let cluster = Cluster::start_fresh_on(&ips[..3], &ips, &ips[3..]);
    let pki = &cluster.pki;
    let env = format!(
        "ENDPOINTS={}\nCACERT={}\nCERT={}\nKEY={}\nPEER_CERT={}\nPEER_KEY={}\nSERVER_CERT={}\nNEW_PEER_URL={}\nNEW_CLIENT_URL={}\n",
        cluster.endpoints(),
        pki.ca.display(),
        pki.client.display(),
        pki.client_key.display(),
        pki.peer.display(),
        pki.peer_key.display(),
        pki.server.display(),
        cluster.peer_url(ips[3]),
        cluster.client_url(ips[3]),
    );
    let file = dir.join("cluster.env");
    std::fs::write(dir.join("cluster.env.tmp"), env).expect("write cluster.env");
    std::fs::rename(dir.join("cluster.env.tmp"), &file).expect("write cluster.env");
    while !dir.join("stop").exists() {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(cluster);
}
