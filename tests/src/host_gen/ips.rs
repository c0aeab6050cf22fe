//! IP addresses for SANs, and every way an operator or a URL spells one: short and
//! leading-zero IPv4 (`127.1`, `127.000.000.001`), hex (`0x7f.1`), integers, IPv4-mapped and
//! -compatible IPv6, expanded and upper-case IPv6, zones, brackets, trailing dots.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::prng::Rng;

/// An IP SAN: loopback and private addresses, zero and broadcast, IPv6, IPv4-mapped IPv6.
pub fn san(rng: &mut Rng) -> IpAddr {
    match rng.weighted(&[35, 10, 6, 6, 15, 10, 6, 4, 4, 4]) {
        0 => IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
            rng.pick(&[1, 2, 11, 12, 13, 14, 255]).to_owned(),
        )),
        1 => IpAddr::V4(Ipv4Addr::new(
            10,
            rng.below(3) as u8,
            rng.below(3) as u8,
            rng.below(20) as u8,
        )),
        2 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        3 => IpAddr::V4(Ipv4Addr::BROADCAST),
        4 => IpAddr::V6(*rng.pick(&[
            Ipv6Addr::LOCALHOST,
            Ipv6Addr::UNSPECIFIED,
            "fd00::1".parse().unwrap(),
            "fd00::14".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
            "fe80::1".parse().unwrap(),
            "1::".parse().unwrap(),
            "2001:db8:0:0:1:0:0:1".parse().unwrap(),
            "fd00:0:0:1::".parse().unwrap(),
        ])),
        5 => IpAddr::V6(Ipv4Addr::new(127, 0, 0, rng.range(1, 13) as u8).to_ipv6_mapped()),
        6 => IpAddr::V6(Ipv4Addr::new(0, 0, 0, 0).to_ipv6_mapped()),
        7 => IpAddr::V6(Ipv4Addr::new(127, 0, 0, 1).to_ipv6_compatible()),
        8 => IpAddr::V6(Ipv4Addr::BROADCAST.to_ipv6_mapped()),
        _ => IpAddr::V4(Ipv4Addr::new(
            192,
            168,
            rng.below(2) as u8,
            rng.below(3) as u8,
        )),
    }
}

/// A random address in a random spelling.
pub fn any_spelling(rng: &mut Rng) -> String {
    let ip = san(rng);
    spelling(rng, ip)
}

/// `ip` spelled one of the ways hosts come: mostly as Go prints it, else as a person or a tool
/// might write it (many of which Go's `net.ParseIP` refuses, making them DNS names).
pub fn spelling(rng: &mut Rng, ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4_spelling(rng, v4),
        IpAddr::V6(v6) => v6_spelling(rng, v6),
    }
}

fn v4_spelling(rng: &mut Rng, v4: Ipv4Addr) -> String {
    let [a, b, c, d] = v4.octets();
    match rng.weighted(&[40, 6, 6, 4, 4, 4, 8, 3, 4, 4, 3, 3, 3, 2, 2]) {
        0 => v4.to_string(),
        1 => format!(
            "{a}.{}",
            u32::from(b) << 16 | u32::from(c) << 8 | u32::from(d)
        ),
        2 => format!("{a:03}.{b:03}.{c:03}.{d:03}"),
        3 => format!("0{a}.{b}.{c}.{d}"),
        4 => format!("0x{a:x}.{b}.{c}.{d}"),
        5 => format!("{}", u32::from(v4)),
        6 => format!("::ffff:{v4}"),
        7 => format!("::FFFF:{v4}"),
        8 => format!("::{v4}"),
        9 => format!("{v4}."),
        10 => format!(
            "0:0:0:0:0:ffff:{:x}:{:x}",
            u16::from_be_bytes([a, b]),
            u16::from_be_bytes([c, d])
        ),
        11 => format!(
            "0x{a:x}.{}",
            u32::from(b) << 16 | u32::from(c) << 8 | u32::from(d)
        ),
        _ => format!("{a}.{b}.{c}.{d}.{}", rng.below(3)),
    }
}

fn v6_spelling(rng: &mut Rng, v6: Ipv6Addr) -> String {
    let segments = v6.segments();
    let full: Vec<String> = segments.iter().map(|s| format!("{s:x}")).collect();
    match rng.weighted(&[40, 10, 8, 6, 6, 6, 6, 6, 4, 3, 3, 2]) {
        0 => v6.to_string(),
        1 => full.join(":"),
        2 => v6.to_string().to_uppercase(),
        3 => segments
            .iter()
            .map(|s| format!("{s:04x}"))
            .collect::<Vec<_>>()
            .join(":"),
        4 => format!("{v6}%{}", rng.pick(&["eth0", "1", "lo", "25"])),
        5 => v6
            .to_ipv4_mapped()
            .map_or_else(|| format!("{v6}:0"), |v4| format!("::ffff:{v4}")),
        6 => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        7 => format!("{}::", full[..2].join(":")),
        8 => format!("0{}", full.join(":")),
        // "::" standing for one group, or for none (Go refuses that).
        9 => format!("{}::", full[..7].join(":")),
        10 => format!("{}::{}", full[..4].join(":"), full[4..].join(":")),
        _ => {
            let [a, b, c, d] = v6.octets()[12..] else {
                unreachable!()
            };
            format!("{}:{a}.{b}.{c}.{d}", full[..6].join(":"))
        }
    }
}
