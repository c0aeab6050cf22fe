//! Every disagreement the differential runs (and the reviews before them) found between
//! etcd-pki and Go, kept by name: the certificate's SANs, the host as given to
//! `etcd-pki check --host`, what each Go decides, and how etcd-pki now compares. Each case is
//! asked of both oracles, so that the table stays Go's, and of etcd-pki under the matching
//! rules. RESULTS.md says which run or review found each.

use base64::Engine;
use etcd_pki_tests::go_oracle::{oracle_for, GoVersion};
use etcd_pki_tests::host_diff::{
    as_url, compare, go_verdict, pki_verdict, rules_for, GoVerdict, Outcome,
};
use etcd_pki_tests::host_gen::{CertSpec, San};
use serde_json::json;

/// What Go decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Go {
    Covered,
    NotCovered,
    /// The URL is refused before any host check.
    Refused,
}

/// How etcd-pki compares now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Now {
    /// The same verdict (and message).
    Agrees,
    /// Refused or read differently on purpose: the name in DELIBERATE.md.
    Deliberate(&'static str),
}

struct Case {
    name: &'static str,
    sans: &'static [&'static str],
    host: &'static str,
    go119: Go,
    go124: Go,
    now: Now,
}

use Go::{Covered, NotCovered, Refused};
use Now::{Agrees, Deliberate};

const CASES: &[Case] = &[
    Case {
        name: "a DNS SAN of exactly * covers a one-label host in Go 1.19 only",
        sans: &["DNS:*"],
        host: "etcd-peer",
        go119: Covered,
        go124: NotCovered,
        now: Agrees,
    },
    Case {
        name: "Go strips brackets only around an IP",
        sans: &["DNS:node-1.cluster.local"],
        host: "[node-1.cluster.local]",
        go119: NotCovered,
        go124: NotCovered,
        now: Agrees,
    },
    Case {
        name: "Go 1.19's ParseIP reads an IPv6 group of five hex digits",
        sans: &["IP:fd00::1"],
        host: "0fd00:0:0:0:0:0:0:1",
        go119: Covered,
        go124: NotCovered,
        now: Agrees,
    },
    Case {
        name: "Go 1.19 takes 0FD00:: as an IP, which no DNS SAN covers (message)",
        sans: &["DNS:*"],
        host: "0FD00:0:0:0:0:0:0:14",
        go119: NotCovered,
        go124: NotCovered,
        now: Agrees,
    },
    Case {
        name: "Go 1.19 judges a long-group IPv6 against the IP SANs only (message)",
        sans: &["DNS:fD00::1", "IP:255.255.255.255"],
        host: "0fd00:0:0:1:0:0:0:0",
        go119: NotCovered,
        go124: NotCovered,
        now: Agrees,
    },
    Case {
        name: "a single empty DNS SAN is no name in Go's message",
        sans: &["IP:2001:db8::1:0:0:1", "DNS:"],
        host: "etcd-1.example.com",
        go119: NotCovered,
        go124: NotCovered,
        now: Agrees,
    },
    Case {
        name: "%25 in a URL's host is a '%'",
        sans: &["DNS:a%b"],
        host: "https://a%25b:2380",
        go119: Covered,
        go124: Covered,
        now: Agrees,
    },
    Case {
        name: "an escaped ASCII byte in a URL's host is refused by url.Parse",
        sans: &["DNS:A.test"],
        host: "https://%41.test",
        go119: Refused,
        go124: Refused,
        now: Agrees,
    },
    Case {
        name: "a bad escape in a URL's path is refused by url.Parse",
        sans: &["DNS:h.example"],
        host: "https://h.example/%zz",
        go119: Refused,
        go124: Refused,
        now: Agrees,
    },
    Case {
        name: "a userinfo character url.Parse refuses",
        sans: &["DNS:h.example"],
        host: "https://u^@h.example",
        go119: Refused,
        go124: Refused,
        now: Agrees,
    },
    Case {
        name: "net/http dials a Unicode URL host by its IDNA form",
        sans: &["DNS:xn--bcher-kva.example"],
        host: "https://bücher.example:2380",
        go119: Covered,
        go124: Covered,
        now: Deliberate("non-ASCII host in a URL (IDNA)"),
    },
    Case {
        name: "a percent-encoded Unicode URL host is decoded, then mapped by IDNA",
        sans: &["DNS:xn--bcher-kva.example"],
        host: "https://b%C3%BCcher.example",
        go119: Covered,
        go124: Covered,
        now: Deliberate("non-ASCII host in a URL (IDNA)"),
    },
    Case {
        name: "surrounding whitespace: Go compares it as written",
        sans: &["IP:10.0.0.1"],
        host: " 10.0.0.1",
        go119: NotCovered,
        go124: NotCovered,
        now: Deliberate("surrounding whitespace"),
    },
    Case {
        name: "a name in brackets in a URL: Go takes the name",
        sans: &["DNS:name"],
        host: "https://[name]:2380",
        go119: Covered,
        go124: Covered,
        now: Deliberate("non-IP in brackets in a URL"),
    },
];

fn spec(sans: &[&str]) -> CertSpec {
    CertSpec::with_sans(
        sans.iter()
            .map(|s| match s.strip_prefix("IP:") {
                Some(ip) => San::Ip(ip.parse().expect("an IP")),
                None => San::Dns(s.strip_prefix("DNS:").unwrap_or(s).to_string()),
            })
            .collect(),
    )
}

#[test]
fn every_disagreement_found_stays_fixed() {
    let mut failures = Vec::new();
    for version in GoVersion::ALL {
        let mut oracle = oracle_for(version);
        for case in CASES {
            let der = spec(case.sans).der();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
            let request = match as_url(case.host) {
                Some(url) => json!({"op": "verify_hostname", "der": b64, "urls": [url]}),
                None => json!({"op": "verify_hostname", "der": b64, "hosts": [case.host]}),
            };
            let answer = oracle.ask(&request);
            let one = if as_url(case.host).is_some() {
                &answer["urls"][0]
            } else {
                &answer["hosts"][0]
            };
            let go = go_verdict(one, case.host);
            let expected = match version {
                GoVersion::Go119 => case.go119,
                GoVersion::Go124 => case.go124,
            };
            let got = match go {
                GoVerdict::Covered => Covered,
                GoVerdict::NotCovered { .. } => NotCovered,
                GoVerdict::Refused(_) => Refused,
            };
            if got != expected {
                failures.push(format!(
                    "{}: {version} decides {got:?} ({go:?}), the table says {expected:?}",
                    case.name
                ));
            }
            let pki = pki_verdict(&der, case.host, rules_for(version)).expect("a certificate");
            let now = match compare(&go, &pki, case.host) {
                Outcome::Agree => Agrees,
                Outcome::Deliberate(name) => Deliberate(name),
                Outcome::Disagree(what) => {
                    failures.push(format!("{} ({version}): {what}", case.name));
                    continue;
                }
            };
            if now != case.now {
                failures.push(format!(
                    "{} ({version}): etcd-pki {now:?}, the table says {:?}",
                    case.name, case.now
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
