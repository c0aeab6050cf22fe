//! The fix for a certificate that does not cover a new member: reissue it from its CA with the
//! new member's IP added, keeping everything else (subject, other SANs, usages, key), in place,
//! atomically, with a backup of the old file.
//!
//! ```text
//! cargo run -p pki-core --example reissue_add_ip -- ca.pem ca-key.pem members.pem members-key.pem 10.0.12.157
//! ```

use pki_core::{reissue_file, CertificateAuthority, ReissueRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ca_cert, ca_key, cert, key, ip] = args.as_slice() else {
        return Err("usage: reissue_add_ip CA CA-KEY CERT KEY IP".into());
    };
    let ca = CertificateAuthority::open(ca_cert, ca_key)?;
    let done = reissue_file(
        cert,
        Some(key),
        &ca,
        &ReissueRequest::new().add_ip(ip.parse()?),
    )?;
    println!(
        "added {}; SANs now {}",
        done.plan.added.join(", "),
        done.plan.sans_after.join(", ")
    );
    for (file, backup) in &done.written.backups {
        println!("{} (the old file is {})", file.display(), backup.display());
    }
    Ok(())
}
