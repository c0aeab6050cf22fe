//! A cluster's voting figures as series (`etcd_pki_cluster_*`), from `preflight` and
//! `scan --cluster`: what an alert on lost fault tolerance needs.

use pki_cluster::ClusterFigures;

use super::exposition::{Keep, Metrics};

/// Voters, healthy voters, learners, quorum and fault tolerance.
pub fn add_figures(m: &mut Metrics, c: &ClusterFigures) {
    let figures: [((&'static str, &'static str), f64); 5] = [
        (
            ("etcd_pki_cluster_voters", "Voting members of the cluster"),
            c.voters as f64,
        ),
        (
            (
                "etcd_pki_cluster_healthy_voters",
                "Voting members that answered healthy",
            ),
            c.healthy_voters as f64,
        ),
        (
            (
                "etcd_pki_cluster_learners",
                "Learner members of the cluster",
            ),
            c.learners as f64,
        ),
        (
            (
                "etcd_pki_cluster_quorum",
                "Votes the cluster needs for quorum",
            ),
            c.quorum as f64,
        ),
        (
            (
                "etcd_pki_cluster_fault_tolerance",
                "Voting members that may fail with quorum kept (negative: quorum is lost)",
            ),
            c.fault_tolerance as f64,
        ),
    ];
    for (family, value) in figures {
        m.set(family, Keep::Lowest, Vec::new(), value);
    }
}
