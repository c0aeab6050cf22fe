//! etcd's listener-side check of a client certificate against the address the client connects
//! from: `checkCertSAN` and `isHostInDNS`, ported from etcd v3.4.23
//! `pkg/transport/listener_tls.go` (the same code in v3.5.16
//! `client/pkg/transport/listener_tls.go`). etcd runs it on the first certificate a client
//! presents to an https peer listener (unless `--experimental-peer-skip-client-san-verification`)
//! and to a client listener with client certificate authentication.
//!
//! - A certificate with neither IP nor DNS SANs passes.
//! - With IP SANs, the remote IP must be one of them (Go's `VerifyHostname`); if it is not and
//!   there are no DNS SANs, that is the error.
//! - With DNS SANs, etcd asks DNS: the remote IP's PTR names (one trailing dot dropped) must
//!   equal a DNS SAN, or end with what follows the `*` of a `*.`-SAN (any depth, case-sensitive:
//!   not Go's wildcard rule); else a non-wildcard DNS SAN must resolve to the remote IP.
//!
//! DNS is the caller's, through [`PeerResolver`], so that the decision is testable offline and a
//! tool can say what it looked up.

use std::net::IpAddr;

use crate::cert::Certificate;
use crate::coverage::{covers, go_ip_string, Coverage};
use crate::go_fmt::{go_format_tail, go_quote, go_quote_list};
use crate::host::Host;

/// The lookups etcd makes through Go's `net.DefaultResolver`.
pub trait PeerResolver {
    /// The PTR names of an address (spelled as Go's `net.IP.String` spells it), as a resolver
    /// returns them (with their trailing dot), or the resolver's error message.
    fn lookup_addr(&self, addr: &str) -> Result<Vec<String>, String>;

    /// The addresses a name resolves to, spelled as Go spells them, or the resolver's error
    /// message.
    fn lookup_host(&self, name: &str) -> Result<Vec<String>, String>;
}

/// Whether etcd's listener accepts `cert` from a client connecting from `remote`, with etcd's
/// error when it does not. The remote address is spelled as Go spells it (an IPv4-mapped
/// address as IPv4), as etcd takes it from the connection.
pub fn check_cert_san(
    cert: &Certificate,
    remote: IpAddr,
    resolver: &dyn PeerResolver,
) -> Result<(), String> {
    let sans = cert.sans();
    if sans.ip.is_empty() && sans.dns.is_empty() {
        return Ok(());
    }
    let h = go_ip_string(&remote);
    if !sans.ip.is_empty() {
        // What Go's VerifyHostname(h) decides for an IP host, h being an IP.
        let host = Host::Ip(h.parse().expect("Go's spelling of an IP parses"));
        match covers(cert, &host) {
            Coverage::Covered { .. } => return Ok(()),
            Coverage::NotCovered(nc) if sans.dns.is_empty() => return Err(nc.to_string()),
            Coverage::NotCovered(_) => {}
        }
    }
    let (ok, err) = is_host_in_dns(&h, &sans.dns, resolver);
    if ok {
        return Ok(());
    }
    // etcd appends the lookup error to its format string, where Go's fmt reads any '%' in it.
    let err_str = err.map_or(String::new(), |e| go_format_tail(&format!(" ({e})")));
    Err(format!(
        "tls: {} does not match any of DNSNames {}{err_str}",
        go_quote(&h),
        go_quote_list(&sans.dns)
    ))
}

/// etcd's `isHostInDNS`: whether DNS ties `host` to one of `dns_names`, and the last lookup
/// error.
fn is_host_in_dns(
    host: &str,
    dns_names: &[String],
    resolver: &dyn PeerResolver,
) -> (bool, Option<String>) {
    let (wildcards, names): (Vec<&str>, Vec<&str>) = {
        let mut wildcards = Vec::new();
        let mut names = Vec::new();
        for dns in dns_names {
            match dns.strip_prefix('*') {
                Some(rest) if rest.starts_with('.') => wildcards.push(rest),
                _ => names.push(dns.as_str()),
            }
        }
        (wildcards, names)
    };
    let (ptr_names, mut err) = match resolver.lookup_addr(host) {
        Ok(names) => (names, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    for name in &ptr_names {
        let name = name.strip_suffix('.').unwrap_or(name);
        if wildcards.iter().any(|wc| name.ends_with(wc)) || names.contains(&name) {
            return (true, None);
        }
    }
    for dns in &names {
        match resolver.lookup_host(dns) {
            Err(e) => err = Some(e),
            Ok(addrs) => {
                if addrs.iter().any(|a| a == host) {
                    return (true, None);
                }
            }
        }
    }
    (false, err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::cert;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Table {
        ptr: HashMap<String, Vec<String>>,
        forward: HashMap<String, Vec<String>>,
    }

    impl PeerResolver for Table {
        fn lookup_addr(&self, addr: &str) -> Result<Vec<String>, String> {
            self.ptr
                .get(addr)
                .cloned()
                .ok_or_else(|| format!("lookup {addr}: no such host"))
        }
        fn lookup_host(&self, name: &str) -> Result<Vec<String>, String> {
            self.forward
                .get(name)
                .cloned()
                .ok_or_else(|| format!("lookup {name}: no such host"))
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ip_sans_must_list_the_remote_address() {
        let members = cert("cfssl/members.pem");
        let dns = Table::default();
        assert_eq!(check_cert_san(&members, ip("127.0.0.11"), &dns), Ok(()));
        assert_eq!(
            check_cert_san(&members, ip("::ffff:127.0.0.12"), &dns),
            Ok(()),
            "an IPv4 client on a dual-stack listener"
        );
        assert_eq!(
            check_cert_san(&members, ip("127.0.0.14"), &dns).unwrap_err(),
            "x509: certificate is valid for 127.0.0.1, 127.0.0.11, 127.0.0.12, 127.0.0.13, not 127.0.0.14"
        );
    }

    #[test]
    fn no_sans_pass_and_dns_sans_ask_dns() {
        let dns = Table::default();
        assert_eq!(
            check_cert_san(&cert("openssl/cn-only.crt"), ip("10.9.9.9"), &dns),
            Ok(())
        );
        let wildcard = cert("openssl/wildcard.crt");
        assert_eq!(
            check_cert_san(&wildcard, ip("127.0.0.1"), &dns).unwrap_err(),
            r#"tls: "127.0.0.1" does not match any of DNSNames ["*.etcd.example.com" "etcd.example.com"] (lookup etcd.example.com: no such host)"#
        );
        let mut by_ptr = Table::default();
        by_ptr
            .ptr
            .insert("127.0.0.1".into(), vec!["a.b.etcd.example.com.".into()]);
        assert_eq!(
            check_cert_san(&wildcard, ip("127.0.0.1"), &by_ptr),
            Ok(()),
            "etcd's wildcard is a suffix match, at any depth"
        );
        let mut by_name = Table::default();
        by_name
            .forward
            .insert("etcd.example.com".into(), vec!["127.0.0.1".into()]);
        assert_eq!(check_cert_san(&wildcard, ip("127.0.0.1"), &by_name), Ok(()));
    }
}
