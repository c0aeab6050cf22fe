//! Before adding a member: does its peer certificate cover it, chain to the cluster's CA, carry
//! the usages a peer needs, and match its key?
//!
//! ```text
//! cargo run -p pki-core --example check_peer -- members.pem members-key.pem ca.pem 10.0.12.157
//! ```
//!
//! Prints one line per finding; exits 1 when one fails.

use pki_core::{CertificateCheck, Role, Status};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cert, key, ca, host] = args.as_slice() else {
        return Err("usage: check_peer CERT KEY CA HOST".into());
    };
    let report = CertificateCheck::new(cert)
        .key_file(key)
        .ca_file(ca)
        .role(Role::Peer)
        .host(host.parse()?)
        .run()?;
    for f in &report.findings {
        let target = f
            .target
            .as_deref()
            .map(|t| format!(" {t}"))
            .unwrap_or_default();
        println!("{} {}{target}: {}", f.status, f.check, f.message);
        if let (Status::Fail, Some(remedy)) = (f.status, &f.remedy) {
            println!("    fix: {remedy}");
        }
    }
    std::process::exit(if report.failed() { 1 } else { 0 });
}
