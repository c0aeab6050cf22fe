//! Host inputs as an operator types them after `--host`, or as they come out of a URL: most are
//! made from the certificate's own SANs and Common Name (so that matches are common), then
//! mutated: case, trailing and leading dots, a wildcard's `*` replaced by a label, a label added
//! or dropped, IDNA swapped, brackets, `:port`, whitespace, percent-encoding, or put in a URL
//! with a scheme, userinfo, port, path, query or fragment.

use super::{ips, names, CertSpec, San};
use crate::prng::Rng;

/// `count` host inputs for a certificate.
pub fn for_cert(rng: &mut Rng, spec: &CertSpec, count: usize) -> Vec<String> {
    (0..count).map(|_| one(rng, spec)).collect()
}

/// One host input.
pub fn one(rng: &mut Rng, spec: &CertSpec) -> String {
    let own: Vec<&San> = spec
        .sans
        .iter()
        .filter(|s| !matches!(s, San::Other(_)))
        .collect();
    let base = match rng.weighted(&[60, 8, 16, 12, 4]) {
        0 if !own.is_empty() => {
            let san = (*rng.pick(&own)).clone();
            from_san(rng, san)
        }
        1 if spec.common_name.is_some() => spec.common_name.clone().unwrap_or_default(),
        2 => names::plain(rng),
        3 => ips::any_spelling(rng),
        4 => rng
            .pick(&[
                "",
                " ",
                "*",
                ".",
                "..",
                "[]",
                "[",
                "]",
                ":",
                "%",
                "localhost",
            ])
            .to_string(),
        _ => names::plain(rng),
    };
    mutate(rng, base)
}

/// A host made from a SAN: a DNS SAN with its `*` filled in, an IP SAN in some spelling.
fn from_san(rng: &mut Rng, san: San) -> String {
    match san {
        San::Dns(name) => {
            if rng.chance(60) {
                if let Some(rest) = name.strip_prefix("*.") {
                    return format!("{}.{rest}", names::label(rng));
                }
            }
            name
        }
        San::Ip(ip) => ips::spelling(rng, ip),
        San::Other(o) => o,
    }
}

/// `host` changed 0 to 3 times.
fn mutate(rng: &mut Rng, mut host: String) -> String {
    let n = rng.weighted(&[40, 35, 18, 7]);
    for _ in 0..n {
        host = mutate_once(rng, host);
    }
    if rng.chance(22) {
        host = urlify(rng, host);
    }
    host
}

fn mutate_once(rng: &mut Rng, host: String) -> String {
    match rng.weighted(&[14, 10, 4, 6, 6, 6, 8, 8, 6, 5, 4, 4, 3]) {
        0 => names::mixed_case(rng, host, 100),
        1 => format!("{host}."),
        2 => format!(".{host}"),
        3 => format!("{}.{host}", names::label(rng)),
        4 => host
            .split_once('.')
            .map_or(host.clone(), |(_, rest)| rest.to_string()),
        5 => names::idna_swap(&host).unwrap_or(host),
        6 => format!("[{host}]"),
        7 => format!(
            "{host}:{}",
            rng.pick(&["2380", "2379", "0", "", "x", "65536"])
        ),
        8 => {
            let ws = rng.pick(&[" ", "\t", "\n", "\u{a0}", "  "]);
            match rng.below(3) {
                0 => format!("{ws}{host}"),
                1 => format!("{host}{ws}"),
                _ => host.replacen('.', &format!("{ws}."), 1),
            }
        }
        9 => percent_encode_one(rng, &host),
        10 => host.replacen('.', "..", 1),
        11 => host.replace('*', &names::label(rng)),
        _ => {
            let i = rng.below(host.chars().count().max(1));
            host.chars()
                .enumerate()
                .map(|(j, c)| {
                    if j == i {
                        *rng.pick(&['é', 'ı', 'K', '\u{212a}', '_', '-', '%'])
                    } else {
                        c
                    }
                })
                .collect()
        }
    }
}

/// One character of `host` as `%XX` (its UTF-8 bytes), or a stray `%`.
fn percent_encode_one(rng: &mut Rng, host: &str) -> String {
    let chars: Vec<char> = host.chars().collect();
    if chars.is_empty() || rng.chance(15) {
        return format!("{host}{}", rng.pick(&["%", "%2", "%zz", "%25", "%2e"]));
    }
    let i = rng.below(chars.len());
    let mut buf = [0u8; 4];
    let encoded: String = chars[i]
        .encode_utf8(&mut buf)
        .bytes()
        .map(|b| {
            if rng.chance(50) {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            }
        })
        .collect();
    let mut out: String = chars[..i].iter().collect();
    out.push_str(&encoded);
    out.extend(&chars[i + 1..]);
    out
}

/// `host` as the host of a URL.
fn urlify(rng: &mut Rng, host: String) -> String {
    let scheme = rng.pick(&[
        "https", "https", "https", "http", "HTTPS", "unix", "unixs", "ftp", "",
    ]);
    let userinfo = match rng.below(12) {
        0 => "user@",
        1 => "u:p@",
        2 => "u^@",
        3 => "a@b@",
        _ => "",
    };
    let bracketed = if host.contains(':') && !host.starts_with('[') && rng.chance(70) {
        format!("[{host}]")
    } else {
        host
    };
    let port = rng.pick(&[":2380", ":2380", ":2379", "", "", ":", ":99999", ":0x1"]);
    let tail = match rng.below(14) {
        0 => "/",
        1 => "/path",
        2 => "/%zz",
        3 => "?q=1",
        4 => "#frag",
        5 => "#%",
        6 => "/a b",
        _ => "",
    };
    format!("{scheme}://{userinfo}{bracketed}{port}{tail}")
}
