//! pki-cluster's public API as an embedder uses it, without a cluster and without an async
//! runtime: connection settings checked before any connection, the membership rules, a new
//! member's URLs and node files, and etcd's refusals as variants.

use std::path::PathBuf;

use pki_cluster::node_files::{cluster_line, node_files, NodeSettings};
use pki_cluster::rules::{check_add, check_remove, quorum, tolerance, LearnerLimit, MemberView};
use pki_cluster::{ConnectOptions, Connection, Error, MemberList, MemberUrls, Refusal};
use pki_core::{CheckId, Remedy, Status};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

#[test]
fn connection_settings_are_checked_before_any_connection() {
    // https without TLS files, http with them, a certificate without its key.
    let https = Connection::new(ConnectOptions::new(["https://127.0.0.1:2379"]));
    assert!(matches!(https, Err(Error::Settings(_))), "{https:?}");
    let http = Connection::new(
        ConnectOptions::new(["http://127.0.0.1:2379"]).ca_file(fixture("cfssl/ca.pem")),
    );
    assert!(matches!(http, Err(Error::Settings(_))), "{http:?}");
    let mut half = ConnectOptions::new(["127.0.0.1:2379"]);
    half.cert_file = Some(fixture("cfssl/client.pem"));
    assert!(matches!(Connection::new(half), Err(Error::Settings(_))));
    // A key that is not the certificate's, a missing CA file: named.
    let mismatch = Connection::new(
        ConnectOptions::new(["127.0.0.1:2379"])
            .ca_file(fixture("cfssl/ca.pem"))
            .client_cert(fixture("cfssl/client.pem"), fixture("cfssl/server-key.pem")),
    );
    assert!(
        matches!(mismatch, Err(Error::KeyMismatch { .. })),
        "{mismatch:?}"
    );
    let missing =
        Connection::new(ConnectOptions::new(["127.0.0.1:2379"]).ca_file(fixture("cfssl/nope.pem")))
            .unwrap_err();
    assert!(missing.to_string().contains("nope.pem"), "{missing}");
    // Good files: endpoints get the scheme TLS implies.
    let ok = Connection::new(
        ConnectOptions::new(["127.0.0.1:2379", " "])
            .ca_file(fixture("cfssl/ca.pem"))
            .client_cert(fixture("cfssl/client.pem"), fixture("cfssl/client-key.pem")),
    )
    .unwrap();
    assert_eq!(ok.endpoints(), ["https://127.0.0.1:2379"]);
}

#[test]
fn the_runbooks_dead_voter_is_refused_and_a_learner_is_not() {
    let members: Vec<MemberView> = (1..=3)
        .map(|i| {
            MemberView::new(
                i,
                format!("infra{i}"),
                vec![format!("https://10.0.0.{i}:2380")],
                false,
                true,
            )
        })
        .collect();
    let url = ["https://10.0.0.4:2380".to_string()];
    let voter = check_add(&members, "infra4", &url, false, LearnerLimit::One);
    let tolerance_finding = voter
        .iter()
        .find(|f| f.check == CheckId::FaultTolerance)
        .unwrap();
    assert_eq!(tolerance_finding.status, Status::Warn);
    assert_eq!(tolerance_finding.remedy, Some(Remedy::AddAsLearner));
    let learner = check_add(&members, "infra4", &url, true, LearnerLimit::One);
    assert!(learner.iter().all(|f| f.status == Status::Pass));
    assert_eq!((quorum(4), tolerance(4, 3)), (3, 0));
    // The leader is not removed unannounced.
    let removal = check_remove(&members, &members[0], Some(1));
    assert!(removal
        .iter()
        .any(|f| f.check == CheckId::NotTheLeader && f.status == Status::Fail));
}

#[test]
fn a_new_nodes_files_list_every_member_once() {
    let urls = MemberUrls::parse(&["https://10.0.12.157:2380"], &[] as &[&str]).unwrap();
    assert_eq!(urls.client[0].url, "https://10.0.12.157:2379");
    let list = MemberList {
        cluster_id: 1,
        member_id: 1,
        raft_term: 1,
        members: Vec::new(),
    };
    let files = node_files("infra3", &urls, &list, &NodeSettings::default());
    let conf = &files
        .files
        .iter()
        .find(|(n, _)| *n == "etcd.conf")
        .unwrap()
        .1;
    assert!(
        conf.contains("CLUSTER=infra3=https://10.0.12.157:2380\n"),
        "{conf}"
    );
    assert_eq!(
        cluster_line(&[
            ("b".into(), vec!["u2".into()]),
            ("a".into(), vec!["u1".into()])
        ]),
        "a=u1,b=u2"
    );
}

#[test]
fn etcds_refusals_are_variants_with_explanations() {
    let r = Refusal::from_message("etcdserver: too many learner members in cluster");
    assert_eq!(r, Refusal::TooManyLearners);
    assert!(r.explanation().unwrap().contains("one learner"));
    let e = Error::Refused {
        endpoint: "https://10.0.0.1:2379".into(),
        refusal: r,
    };
    assert_eq!(e.refusal(), Some(&Refusal::TooManyLearners));
    assert!(!e.is_unreachable());
    assert!(!e.to_string().contains("etcd-pki"), "{e}");
}
