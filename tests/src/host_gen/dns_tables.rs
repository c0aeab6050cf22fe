//! Connections for etcd's listener-side SAN check (`checkCertSAN`): a remote address, often one
//! of the certificate's IP SANs, and the DNS answers etcd would get (PTR names for the address,
//! addresses for the certificate's DNS names), often made from the certificate's DNS SANs so
//! that the reverse and forward fallbacks match as often as they fail.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{ips, names, CertSpec, San};
use crate::prng::Rng;

/// One connection and what DNS says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The client's address.
    pub remote: IpAddr,
    /// PTR names by address (spelled as Go spells it), as a resolver returns them.
    pub ptr: BTreeMap<String, Vec<String>>,
    /// Addresses by name.
    pub forward: BTreeMap<String, Vec<String>>,
}

/// An address spelled as Go's `net.IP.String` spells it (IPv4-mapped as IPv4).
pub fn go_spelling(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// A connection to check `spec` against.
pub fn connection(rng: &mut Rng, spec: &CertSpec) -> Connection {
    let own_ips: Vec<IpAddr> = spec
        .sans
        .iter()
        .filter_map(|s| match s {
            San::Ip(ip) => Some(*ip),
            _ => None,
        })
        .collect();
    let dns: Vec<&String> = spec
        .sans
        .iter()
        .filter_map(|s| match s {
            San::Dns(d) => Some(d),
            _ => None,
        })
        .collect();
    let remote = if !own_ips.is_empty() && rng.chance(50) {
        let ip = *rng.pick(&own_ips);
        match ip {
            IpAddr::V4(v4) if rng.chance(25) => IpAddr::V6(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) if rng.chance(25) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        }
    } else {
        ips::san(rng)
    };
    let key = go_spelling(remote);
    let mut ptr = BTreeMap::new();
    if rng.chance(55) {
        let n = rng.range(1, 3);
        let names: Vec<String> = (0..n).map(|_| ptr_name(rng, &dns)).collect();
        ptr.insert(key.clone(), names);
    }
    let mut forward = BTreeMap::new();
    for name in &dns {
        if rng.chance(45) {
            let mut addrs = Vec::new();
            if rng.chance(50) {
                addrs.push(key.clone());
            }
            if rng.chance(40) {
                addrs.push(go_spelling(ips::san(rng)));
            }
            if rng.chance(5) {
                addrs.push(ips::spelling(rng, remote));
            }
            forward.insert((*name).clone(), addrs);
        }
    }
    Connection {
        remote,
        ptr,
        forward,
    }
}

/// A PTR name: a DNS SAN (its `*` filled with one or more labels, or not), in another case,
/// with or without the trailing dot; or an unrelated name. Never empty (etcd would panic).
fn ptr_name(rng: &mut Rng, dns: &[&String]) -> String {
    let mut name = if !dns.is_empty() && rng.chance(70) {
        let san = rng.pick(dns).to_string();
        match san.strip_prefix('*') {
            Some(rest) if rng.chance(70) => {
                let depth = rng.range(1, 2);
                let labels: Vec<String> = (0..depth).map(|_| names::label(rng)).collect();
                format!("{}{rest}", labels.join("."))
            }
            _ => san,
        }
    } else {
        names::plain(rng)
    };
    name = names::mixed_case(rng, name, 10);
    if rng.chance(70) {
        name.push('.');
    }
    if name.is_empty() {
        name.push('x');
    }
    name
}
