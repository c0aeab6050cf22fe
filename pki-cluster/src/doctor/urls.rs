//! Listen against advertise URLs: each advertised URL must be served by a listener of the same
//! scheme on that host (or on all addresses), else clients and peers dial what nobody answers,
//! or answers in plain text.

use pki_core::{CheckId, Finding, Host, Remedy};

use super::files::flag;
use super::side::{urls_of, Side};
use crate::member_config::{MemberConfig, Origin};

/// Where the configuration came from, in a few words.
pub(crate) fn resolved_from(config: &MemberConfig) -> String {
    match &config.origin {
        Origin::Process { pid } => format!("from process {pid}"),
        Origin::ConfigFile { path } => format!("from {}", pki_core::display_path(path)),
        Origin::Manifest { path } => format!("from the manifest {}", pki_core::display_path(path)),
        Origin::Unit { path } => format!("from the unit {}", pki_core::display_path(path)),
        Origin::Args => "from the flags given".into(),
    }
}

/// Listen against advertise URLs, for both sides.
pub(crate) fn check(config: &MemberConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for side in [Side::Client, Side::Peer] {
        let k = side.keys();
        let advertise = urls_of(config, &[k.advertise]);
        let listen = urls_of(config, k.listen);
        if advertise.is_empty() || listen.is_empty() {
            continue;
        }
        let mut bad = Vec::new();
        for a in &advertise {
            let served = listen.iter().any(|l| {
                l.scheme == a.scheme
                    && l.port == a.port
                    && (same_host(&l.host, &a.host) || unspecified(&l.host) || a_is_name(&a.host))
            });
            if !served {
                bad.push(a);
            }
        }
        if bad.is_empty() {
            out.push(Finding::pass(
                CheckId::ListenUrls,
                format!(
                    "every advertised {} URL ({}) has a listener of its scheme and port",
                    side.word(),
                    advertise
                        .iter()
                        .map(|u| u.url.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        } else {
            for a in bad {
                out.push(
                    Finding::fail(
                        CheckId::ListenUrls,
                        format!(
                            "{} advertises {} but listens on {}: nothing answers it as advertised (scheme, host and port must match a listener, or the listener must be on all addresses)",
                            flag(k.advertise),
                            a.url,
                            listen
                                .iter()
                                .map(|u| u.url.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .target(a.url.clone())
                    .remedy(Remedy::Advice {
                        text: format!(
                            "make {} and {} agree",
                            flag(k.advertise),
                            flag(k.listen[0])
                        ),
                    }),
                );
            }
        }
    }
    out
}

fn same_host(a: &Host, b: &Host) -> bool {
    match (a, b) {
        (Host::Ip(x), Host::Ip(y)) => pki_core::ip_equal(x, y),
        (Host::Dns(x), Host::Dns(y)) => x.eq_ignore_ascii_case(y),
        // localhost resolves to the loopback addresses.
        (Host::Dns(d), Host::Ip(ip)) | (Host::Ip(ip), Host::Dns(d)) => {
            d.eq_ignore_ascii_case("localhost") && ip.is_loopback()
        }
    }
}

fn unspecified(h: &Host) -> bool {
    matches!(h, Host::Ip(ip) if ip.is_unspecified())
}

/// A DNS name resolves to whatever this host listens on: not judged here.
fn a_is_name(h: &Host) -> bool {
    matches!(h, Host::Dns(d) if d != "localhost")
}
