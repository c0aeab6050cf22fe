//! Go's `net.ParseIP`, which decides whether `VerifyHostname` takes a host as an IP: it differs
//! between the Gos of etcd 3.4 and 3.5.
//!
//! - Go 1.19 (`net/ip.go`, ported here line for line): the first `.` or `:` decides the family;
//!   an IPv4 octet is decimal without leading zeros; an IPv6 group is any number of hex digits
//!   worth at most 0xFFFF (`0fd00::1` and `00000001::` are addresses).
//! - Go 1.24 (`netip.ParseAddr`, no zone): an IPv6 group has at most four hex digits, which is
//!   also what Rust's parser accepts; the differential tests hold the two to the same answers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::go_rules::GoRules;

/// `net.ParseIP(s)` of the Go of `rules`.
pub(crate) fn go_parse_ip(s: &str, rules: GoRules) -> Option<IpAddr> {
    match rules {
        GoRules::Go119 => parse_ip_go119(s.as_bytes()),
        GoRules::Go124 => s.parse().ok(),
    }
}

/// Go 1.19's `ParseIP`.
fn parse_ip_go119(s: &[u8]) -> Option<IpAddr> {
    match s.iter().find(|&&c| c == b'.' || c == b':')? {
        b'.' => parse_ipv4(s).map(IpAddr::V4),
        _ => parse_ipv6(s).map(IpAddr::V6),
    }
}

/// Go's `big`: numbers stop being read at this size.
const BIG: u32 = 0xFF_FFFF;

/// Go's `dtoi`: a decimal number at the start of `s`, the digits read, and whether it is one.
fn dtoi(s: &[u8]) -> (u32, usize, bool) {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n * 10 + u32::from(s[i] - b'0');
        if n >= BIG {
            return (BIG, i, false);
        }
        i += 1;
    }
    (n, i, i > 0)
}

/// Go's `xtoi`: the same in hex.
fn xtoi(s: &[u8]) -> (u32, usize, bool) {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(16) else {
            break;
        };
        n = n * 16 + d;
        if n >= BIG {
            return (0, i, false);
        }
        i += 1;
    }
    (n, i, i > 0)
}

/// Go 1.19's `parseIPv4`.
fn parse_ipv4(mut s: &[u8]) -> Option<Ipv4Addr> {
    let mut p = [0u8; 4];
    for (i, octet) in p.iter_mut().enumerate() {
        if s.is_empty() {
            return None;
        }
        if i > 0 {
            if s[0] != b'.' {
                return None;
            }
            s = &s[1..];
        }
        let (n, c, ok) = dtoi(s);
        if !ok || n > 0xFF || (c > 1 && s[0] == b'0') {
            return None;
        }
        s = &s[c..];
        *octet = n as u8;
    }
    s.is_empty().then_some(Ipv4Addr::from(p))
}

/// Go 1.19's `parseIPv6`.
fn parse_ipv6(mut s: &[u8]) -> Option<Ipv6Addr> {
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.starts_with(b"::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Some(Ipv6Addr::from(ip));
        }
    }
    let mut i = 0;
    while i < 16 {
        let (n, c, ok) = xtoi(s);
        if !ok || n > 0xFFFF {
            return None;
        }
        if c < s.len() && s[c] == b'.' {
            if (ellipsis.is_none() && i != 12) || i + 4 > 16 {
                return None;
            }
            let ip4 = parse_ipv4(s)?;
            ip[i..i + 4].copy_from_slice(&ip4.octets());
            s = b"";
            i += 4;
            break;
        }
        ip[i] = (n >> 8) as u8;
        ip[i + 1] = n as u8;
        i += 2;
        s = &s[c..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return None;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return None;
    }
    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        ip.copy_within(e..i, e + n);
        ip[e..e + n].fill(0);
    } else if ellipsis.is_some() {
        return None;
    }
    Some(Ipv6Addr::from(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(s: &str) -> (Option<IpAddr>, Option<IpAddr>) {
        (
            go_parse_ip(s, GoRules::Go119),
            go_parse_ip(s, GoRules::Go124),
        )
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_gos_agree_on_ordinary_addresses() {
        for s in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "fd00::14",
            "FD00:0:0:0:0:0:0:14",
            "::ffff:127.0.0.1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:1.2.3.4",
            "::1.2.3.4",
        ] {
            assert_eq!(both(s), (ip(s), ip(s)), "{s}");
        }
        for s in [
            "127.1",
            "127.000.0.1",
            "01.2.3.4",
            "256.1.1.1",
            "1.2.3.4.",
            "0x7f.0.0.1",
            "fe80::1%eth0",
            "1:2:3:4:5:6:7::8",
            "1::2::3",
            "::1:",
            ":1::",
            "1:2:3:4:5:6:7:8:9",
            "",
            "localhost",
            "::ffff:01.2.3.4",
            "1.2.3.4::",
        ] {
            assert_eq!(both(s), (None, None), "{s}");
        }
    }

    #[test]
    fn go_1_19_reads_long_ipv6_groups() {
        assert_eq!(both("0fd00::1"), (ip("fd00::1"), None));
        assert_eq!(both("00000001::"), (ip("1::"), None));
        assert_eq!(both("::0ffff:1.2.3.4").0, ip("::ffff:1.2.3.4"));
        assert_eq!(both("1ffff::"), (None, None), "above 0xFFFF");
    }
}
