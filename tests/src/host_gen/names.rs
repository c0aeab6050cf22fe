//! DNS names for SANs, Common Names and hosts: ordinary names, wildcards in every position,
//! IDNA (punycode and the Unicode it stands for), mixed case, trailing dots, empty labels, and
//! the odd characters operators and tools put in names.

use crate::prng::Rng;

/// Labels names are made of.
const LABELS: &[&str] = &[
    "etcd",
    "etcd-0",
    "etcd-1",
    "node-1",
    "peer",
    "a",
    "b",
    "x_y",
    "m1",
    "123",
    "0",
    "a-b",
    "localhost",
    "etcd-peer",
    "infra3",
    "db",
    "xn--bcher-kva",
    "xn--hxargifdar",
    "xn--e1afmkfd",
    "EtCd",
    "NODE-1",
];

/// Labels that are not valid host name labels (Go compares names holding them exactly).
const ODD_LABELS: &[&str] = &[
    "-lead", "trail-", "a b", "a:1", "a%b", "a%41", "a/b", "[a]", "a*", "*a", "**", "a$", "\"q\"",
    "a\\b", "a~b", "a+b", "a!b", "'", "x\t", "a@b", "%", "%25",
];

/// Domains names end in.
const DOMAINS: &[&str] = &[
    "example.com",
    "cluster.local",
    "svc",
    "test",
    "xn--p1ai",
    "local",
    "com",
    "example.test",
    "etcd.example.com",
];

/// Unicode labels, each the IDNA form of a punycode label above or a look-alike of an ASCII one.
const UNICODE_LABELS: &[&str] = &[
    "bücher",
    "BÜCHER",
    "ελληνικά",
    "пример",
    "étcd",
    "e\u{301}tcd",
    "\u{212a}",
    "ıstanbul",
    "ß",
    "ｅｔｃｄ",
    "日本",
];

/// An ordinary name of 1 to 4 labels.
pub fn plain(rng: &mut Rng) -> String {
    let n = rng.weighted(&[15, 30, 35, 20]) + 1;
    let mut labels: Vec<String> = (0..n - 1).map(|_| rng.pick(LABELS).to_string()).collect();
    if rng.chance(70) {
        labels.push(rng.pick(DOMAINS).to_string());
    } else {
        labels.push(rng.pick(LABELS).to_string());
    }
    labels.join(".")
}

/// A DNS SAN: mostly valid names, and every shape of wildcard and damage.
pub fn san(rng: &mut Rng) -> String {
    let base = plain(rng);
    let name = match rng.weighted(&[30, 25, 6, 8, 8, 6, 6, 4, 4, 3]) {
        0 => base,
        1 => wildcard(rng, &base),
        2 => format!("{base}."),
        3 => empty_labels(rng, &base),
        4 => odd(rng, &base),
        5 => looks_like_ip(rng),
        6 => rng
            .pick(&["*", "*.", ".", "", "**", "*.*", "a"])
            .to_string(),
        7 => with_label(rng, &base, UNICODE_LABELS),
        8 => format!("{}.{}", rng.pick(UNICODE_LABELS), rng.pick(DOMAINS)),
        _ => rng.pick(LABELS).to_string(),
    };
    mixed_case(rng, name, 20)
}

/// `name` with a wildcard somewhere: `*.a.b`, `a.*.b`, `*a.b`, `a*.b`, `**.a`, `*.*.a`,
/// `.*.a`, `*..a`, `*.a.`.
pub fn wildcard(rng: &mut Rng, name: &str) -> String {
    let labels: Vec<&str> = name.split('.').collect();
    let rest = labels[1..].join(".");
    match rng.below(10) {
        0..=3 => format!("*.{name}"),
        4 => format!("*.{rest}"),
        5 if labels.len() > 1 => format!("{}.*.{rest}", labels[0]),
        6 => format!("{}*.{rest}", labels[0]),
        7 => format!("*{name}"),
        8 => format!("{}.{name}", rng.pick(&["**", "*.*", ".*", "*.", "*-"])),
        _ => format!("*.{name}."),
    }
}

/// `name` with an empty label: `a..b`, `.a`, `a.`.
fn empty_labels(rng: &mut Rng, name: &str) -> String {
    match rng.below(4) {
        0 => name.replacen('.', "..", 1),
        1 => format!(".{name}"),
        2 => format!("{name}.."),
        _ => format!("{name}.."),
    }
}

/// `name` with a label Go's validHostname refuses.
fn odd(rng: &mut Rng, name: &str) -> String {
    with_label(rng, name, ODD_LABELS)
}

/// `name` with its first label replaced by one of `labels`, or one of them put in front.
fn with_label(rng: &mut Rng, name: &str, labels: &[&str]) -> String {
    let label = rng.pick(labels);
    match name.split_once('.') {
        Some((_, rest)) if rng.chance(50) => format!("{label}.{rest}"),
        _ => format!("{label}.{name}"),
    }
}

/// A DNS SAN that reads like an address: `127.0.0.1`, `127.1`, `::1`, `[::1]`.
fn looks_like_ip(rng: &mut Rng) -> String {
    rng.pick(&[
        "127.0.0.1",
        "127.1",
        "10.0.0.1",
        "::1",
        "[::1]",
        "0.0.0.0",
        "fd00::1",
        "127.0.0.1.",
        "1.2.3.4.example.com",
        "0x7f.0.0.1",
        "127.000.000.001",
    ])
    .to_string()
}

/// `name` with some ASCII letters upper-cased, `percent` of the time.
pub fn mixed_case(rng: &mut Rng, name: String, percent: u32) -> String {
    if !rng.chance(percent) {
        return name;
    }
    let all = rng.chance(30);
    name.chars()
        .map(|c| {
            if all || rng.chance(50) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// The Unicode form of a punycode label in `name`, or the punycode of a Unicode one, when
/// `name` holds one of a few known pairs; else `None`. (Go's net/http maps Unicode hosts to
/// punycode; the oracle says what it makes of them.)
pub fn idna_swap(name: &str) -> Option<String> {
    const PAIRS: &[(&str, &str)] = &[
        ("xn--bcher-kva", "bücher"),
        ("xn--hxargifdar", "ελληνικά"),
        ("xn--e1afmkfd", "пример"),
        ("xn--p1ai", "рф"),
    ];
    let lower = name.to_lowercase();
    for (puny, uni) in PAIRS {
        if lower.contains(puny) {
            return Some(lower.replace(puny, uni));
        }
        if lower.contains(uni) {
            return Some(lower.replace(uni, puny));
        }
    }
    None
}

/// A random label, for replacing a wildcard's `*`.
pub fn label(rng: &mut Rng) -> String {
    rng.pick(LABELS).to_string()
}
