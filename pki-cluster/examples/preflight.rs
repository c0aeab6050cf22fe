//! The pre-flight check before adding a member, against a live cluster: what an operator or a
//! provisioning tool runs before `member add`.
//!
//! ```text
//! cargo run -p pki-cluster --example preflight -- \
//!     ENDPOINT CA CERT KEY NEW-NAME NEW-PEER-URL NEW-PEER-CERT NEW-PEER-KEY
//! ```
//!
//! Prints one line per finding and exits 1 when a check fails.

use pki_cluster::{
    preflight, ConnectOptions, Connection, MemberUrls, NewMemberFiles, PreflightRequest,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, ca, cert, key, name, peer_url, peer_cert, peer_key] = args.as_slice() else {
        return Err("usage: preflight ENDPOINT CA CERT KEY NEW-NAME NEW-PEER-URL NEW-PEER-CERT NEW-PEER-KEY".into());
    };

    // How to reach the cluster, as etcdctl's flags say it.
    let conn = Connection::new(
        ConnectOptions::new([endpoint.as_str()])
            .ca_file(ca)
            .client_cert(cert, key),
    )?;
    // The new member: its URLs and the files it will use.
    let urls = MemberUrls::parse(&[peer_url.as_str()], &[] as &[&str])?;
    let files = NewMemberFiles::new()
        .peer_cert(peer_cert)
        .peer_key(peer_key)
        .peer_ca(ca);
    let report = preflight(
        &conn,
        &PreflightRequest::new(name.as_str(), urls).files(files),
    )
    .await?;

    for finding in &report.findings {
        let about = finding
            .subject
            .as_ref()
            .map(|s| format!("{s:?} "))
            .unwrap_or_default();
        println!(
            "{} {about}{}: {}",
            finding.status, finding.check, finding.message
        );
        if let Some(remedy) = &finding.remedy {
            println!("    fix: {remedy}");
        }
    }
    println!(
        "{}",
        if report.passed() {
            "can join"
        } else {
            "cannot join"
        }
    );
    std::process::exit(if report.passed() { 0 } else { 1 });
}
