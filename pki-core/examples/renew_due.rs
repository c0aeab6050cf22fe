//! A rotation job: renew, in place and with backups, every leaf certificate under some
//! directories that the CA issued and that expires within 30 days (same SANs, same key); leave
//! everything else alone. Interrupted writes found there are finished first.
//!
//! ```text
//! cargo run -p pki-core --example renew_due -- ca.pem ca-key.pem /etc/etcd/pki
//! ```

use pki_core::{renew, CertificateAuthority, RenewOptions, RenewOutcome};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ca_cert, ca_key, dirs @ ..] = args.as_slice() else {
        return Err("usage: renew_due CA CA-KEY DIR...".into());
    };
    let ca = CertificateAuthority::open(ca_cert, ca_key)?;
    let report = renew(
        dirs,
        &ca,
        &RenewOptions::new().expires_within(time::Duration::days(30)),
    )?;
    let mut failed = 0;
    for item in &report.items {
        match &item.outcome {
            RenewOutcome::Renewed { plan, .. } => {
                println!(
                    "renewed {} until {}",
                    item.path.display(),
                    pki_core::rfc3339(plan.not_after)
                )
            }
            RenewOutcome::Failed { error } => {
                failed += 1;
                println!("FAILED {}: {error}", item.path.display());
            }
            _ => {}
        }
    }
    println!("{} files looked at, {failed} failed", report.items.len());
    std::process::exit(if failed > 0 { 1 } else { 0 });
}
