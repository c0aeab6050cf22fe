//! A member's URLs, parsed: the peer URLs it is added with, and the client URLs it will serve
//! (given, or the peer hosts on port 2379, as etcd's runbook sets them up).

use std::net::IpAddr;

use pki_core::{Host, HostUrl};

/// A member's peer and client URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberUrls {
    /// Peer URLs.
    pub peer: Vec<HostUrl>,
    /// Client URLs (given, or the peer hosts on port 2379).
    pub client: Vec<HostUrl>,
}

impl MemberUrls {
    /// Parses peer and client URLs; without client URLs, the peer hosts on port 2379.
    ///
    /// # Errors
    /// A URL that does not parse ([`pki_core::Error::InvalidHost`]).
    pub fn parse<P, C>(peer: &[P], client: &[C]) -> pki_core::Result<MemberUrls>
    where
        P: AsRef<str>,
        C: AsRef<str>,
    {
        let peer = peer
            .iter()
            .map(|u| HostUrl::parse(u.as_ref()))
            .collect::<pki_core::Result<Vec<_>>>()?;
        let client = if client.is_empty() {
            default_client_urls(&peer)
        } else {
            client
                .iter()
                .map(|u| HostUrl::parse(u.as_ref()))
                .collect::<pki_core::Result<Vec<_>>>()?
        };
        Ok(MemberUrls { peer, client })
    }

    /// The hosts of the peer URLs.
    pub fn peer_hosts(&self) -> Vec<Host> {
        self.peer.iter().map(|u| u.host.clone()).collect()
    }

    /// The hosts of the client URLs.
    pub fn client_hosts(&self) -> Vec<Host> {
        self.client.iter().map(|u| u.host.clone()).collect()
    }

    /// The peer URLs as text.
    pub fn peer_strings(&self) -> Vec<String> {
        self.peer.iter().map(|u| u.url.clone()).collect()
    }
}

/// Client URLs for a node given only peer URLs: the same hosts and scheme on port 2379.
pub fn default_client_urls(peer_urls: &[HostUrl]) -> Vec<HostUrl> {
    peer_urls
        .iter()
        .filter_map(|u| {
            let host = match &u.host {
                Host::Ip(IpAddr::V6(v6)) => format!("[{v6}]"),
                h => h.to_string(),
            };
            HostUrl::parse(&format!("{}://{host}:2379", u.scheme)).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_urls_default_to_the_peer_hosts_on_2379() {
        let urls = MemberUrls::parse(&["https://[fd00::1]:2380"], &[] as &[&str]).unwrap();
        assert_eq!(urls.client[0].url, "https://[fd00::1]:2379");
        let urls =
            MemberUrls::parse(&["https://10.0.0.1:2380"], &["https://10.0.0.1:12379"]).unwrap();
        assert_eq!(urls.client[0].port, Some(12379));
        assert!(MemberUrls::parse(&["ftp://x"], &[] as &[&str]).is_err());
    }
}
