//! Go's parsing of flag values, as etcd's flags use it, so that a value etcd refuses is reported
//! with the words etcd prints: `strconv.ParseUint`/`ParseInt` with base 0, `time.ParseDuration`,
//! `net/url.Parse` with etcd's `types.NewURLs` checks, `net.SplitHostPort`, `net.ParseIP`.
//!
//! Sources: golang/go `src/strconv/atoi.go`, `src/time/format.go` (`ParseDuration`),
//! `src/net/url/url.go` (`Parse`: pki-core's port, shared with its `HostUrl`), `src/net/ipsock.go`
//! (`SplitHostPort`), `src/flag/flag.go` (`errParse = "parse error"`, `errRange = "value out of
//! range"`, which Go's own flag values return instead of strconv's errors); etcd
//! `client/pkg/types/urls.go` `NewURLs` (v3.5.16; same rules in v3.4.23 `pkg/types/urls.go`),
//! `pkg/flags/*.go` (v3.4.23, v3.5.16).

use super::keys::FlagType;
use super::parse_go_bool;

/// Why a number did not parse (`strconv.ErrSyntax` / `strconv.ErrRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumError {
    /// `invalid syntax`.
    Syntax,
    /// `value out of range`.
    Range,
}

/// `strconv.ParseUint(s, 0, bits)`: decimal, `0x`/`0o`/`0b` prefixes, a leading `0` for octal,
/// `_` between digits.
pub(crate) fn parse_uint(s: &str, bits: u32) -> Result<u64, NumError> {
    if s.is_empty() {
        return Err(NumError::Syntax);
    }
    let bytes = s.as_bytes();
    let (base, digits): (u64, &[u8]) = if bytes[0] == b'0' {
        match bytes.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if bytes.len() >= 3 => (2, &bytes[2..]),
            Some(b'o') if bytes.len() >= 3 => (8, &bytes[2..]),
            Some(b'x') if bytes.len() >= 3 => (16, &bytes[2..]),
            _ => (8, &bytes[1..]),
        }
    } else {
        (10, bytes)
    };
    let max: u64 = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    let mut out_of_range = false;
    for &c in digits {
        let d = match c {
            b'_' => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'z' => u64::from(c - b'a') + 10,
            b'A'..=b'Z' => u64::from(c - b'A') + 10,
            _ => return Err(NumError::Syntax),
        };
        if d >= base {
            return Err(NumError::Syntax);
        }
        if out_of_range {
            continue;
        }
        match n.checked_mul(base).and_then(|m| m.checked_add(d)) {
            Some(v) if v <= max => n = v,
            _ => out_of_range = true,
        }
    }
    if underscores && !underscore_ok(s) {
        return Err(NumError::Syntax);
    }
    if out_of_range {
        return Err(NumError::Range);
    }
    Ok(n)
}

/// `strconv.ParseInt(s, 0, bits)`: an optional sign, then as [`parse_uint`].
pub(crate) fn parse_int(s: &str, bits: u32) -> Result<i64, NumError> {
    if s.is_empty() {
        return Err(NumError::Syntax);
    }
    let (negative, rest) = match s.as_bytes()[0] {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(rest, 64)?;
    let bits = bits.clamp(1, 64);
    let cutoff: u64 = 1u64 << (bits - 1);
    if !negative && magnitude >= cutoff {
        return Err(NumError::Range);
    }
    if negative && magnitude > cutoff {
        return Err(NumError::Range);
    }
    if negative {
        Ok((magnitude as i128).wrapping_neg() as i64)
    } else {
        Ok(magnitude as i64)
    }
}

/// `strconv.underscoreOK`: underscores only between digits or after a base prefix.
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= i + 2
        && b[i] == b'0'
        && matches!(b[i + 1].to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        hex = b[i + 1].eq_ignore_ascii_case(&b'x');
        i += 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units `ns us µs μs ms s m h`.
/// `Ok(())` when Go accepts it; the error is Go's text.
pub(crate) fn check_duration(orig: &str) -> Result<(), String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig;
    let mut negative = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            negative = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(());
    }
    if s.is_empty() {
        return Err(invalid());
    }
    // Nanoseconds so far, as Go keeps them (a u64, at most 1<<63).
    let mut total: u128 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if s.starts_with('.') {
            s = &s[1..];
            let n = s.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &s[..n];
            s = &s[n..];
            if int_len == 0 && n == 0 {
                return Err(invalid());
            }
        } else if int_len == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(unit),
                    go_quote(orig)
                ))
            }
        };
        // leadingInt: overflow past 1<<63 is an error.
        let mut v: u128 = 0;
        for d in int_part.bytes() {
            v = v * 10 + u128::from(d - b'0');
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        v *= scale;
        if v > 1 << 63 {
            return Err(invalid());
        }
        // leadingFraction: digits past what fits are dropped; the fraction adds below a unit.
        let mut frac: u128 = 0;
        let mut frac_scale: u128 = 1;
        for d in frac_part.bytes() {
            if frac_scale > 1 << 63 {
                break;
            }
            frac = frac * 10 + u128::from(d - b'0');
            frac_scale *= 10;
        }
        v += frac * scale / frac_scale;
        total += v;
        if total > 1 << 63 {
            return Err(invalid());
        }
    }
    if total > (1 << 63) - 1 && !negative {
        return Err(invalid());
    }
    Ok(())
}

/// Go's `%q` of a string (pki-core's port of `strconv.Quote`).
pub(crate) use pki_core::go_quote;

/// `net.SplitHostPort`: `host:port` or `[host]:port`; Go's error words.
pub(crate) fn split_host_port(hostport: &str) -> Result<(&str, &str), String> {
    let err = |why: &str| Err(format!("address {hostport}: {why}"));
    let Some(i) = hostport.rfind(':') else {
        return err("missing port in address");
    };
    let (host, j, k) = if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return err("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return err("missing port in address");
        }
        if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return err("too many colons in address");
            }
            return err("missing port in address");
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..i];
        if host.contains(':') {
            return err("too many colons in address");
        }
        (host, 0, 0)
    };
    if hostport[j..].contains('[') {
        return err("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return err("unexpected ']' in address");
    }
    Ok((host, &hostport[i + 1..]))
}

/// What `net/url.Parse` finds that etcd looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedUrl {
    /// The scheme, lower-cased.
    pub(crate) scheme: String,
    /// The host (and port), percent-decoded.
    pub(crate) host: String,
    /// The path, percent-decoded.
    pub(crate) path: String,
}

/// `net/url.Parse` (pki-core's port, `pki_core::parse_go_url`), reduced to the scheme, host
/// and path. Errors are Go's `parse "<url>": <why>`.
pub(crate) fn parse_url(raw: &str) -> Result<ParsedUrl, String> {
    let url = pki_core::parse_go_url(raw).map_err(|e| e.to_string())?;
    Ok(ParsedUrl {
        scheme: url.scheme,
        host: String::from_utf8_lossy(&url.host).into_owned(),
        path: String::from_utf8_lossy(&url.path).into_owned(),
    })
}

/// etcd's `types.NewURLs(strings.Split(s, ","))`: every item (trimmed) a URL whose scheme is
/// http, https, unix or unixs; http(s) ones `host:port` with no path. The parsed URLs.
pub(crate) fn new_urls(s: &str) -> Result<Vec<ParsedUrl>, String> {
    let mut all = Vec::new();
    for item in s.split(',') {
        let item = item.trim();
        let u = parse_url(item)?;
        match u.scheme.as_str() {
            "http" | "https" => {
                if split_host_port(&u.host).is_err() {
                    return Err(format!(
                        "URL address does not have the form \"host:port\": {item}"
                    ));
                }
                if !u.path.is_empty() {
                    return Err(format!("URL must not contain a path: {item}"));
                }
            }
            "unix" | "unixs" => {}
            _ => {
                return Err(format!(
                    "URL scheme must be http, https, unix, or unixs: {item}"
                ))
            }
        }
        all.push(u);
    }
    Ok(all)
}

/// `net.ParseIP` accepting it (dotted IPv4 without leading zeros, or IPv6 without a zone).
pub(crate) fn is_ip(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

/// What `flag.Value.Set` returns for `text`: `Ok` or the error's words (the `%v` in etcd's
/// `invalid value %q for flag -%s: %v`).
pub(crate) fn check_flag_value(ty: FlagType, text: &str) -> Result<(), String> {
    let go_num = |e: NumError| match e {
        NumError::Syntax => "parse error".to_string(),
        NumError::Range => "value out of range".to_string(),
    };
    match ty {
        FlagType::Bool => parse_go_bool(text)
            .map(|_| ())
            .ok_or_else(|| "parse error".to_string()),
        FlagType::Ignored | FlagType::Str | FlagType::Strings | FlagType::UniqueStrings => Ok(()),
        FlagType::Urls { allowed } => {
            if text == allowed {
                Ok(())
            } else {
                new_urls(text).map(|_| ())
            }
        }
        FlagType::Uint => parse_uint(text, 64).map(|_| ()).map_err(go_num),
        FlagType::Int => parse_int(text, 64).map(|_| ()).map_err(go_num),
        FlagType::EtcdUint32 => parse_uint(text, 32).map(|_| ()).map_err(|e| {
            let why = match e {
                NumError::Syntax => "invalid syntax",
                NumError::Range => "value out of range",
            };
            format!("strconv.ParseUint: parsing {}: {why}", go_quote(text))
        }),
        FlagType::Duration => check_duration(text).map_err(|_| "parse error".to_string()),
        FlagType::Selective(valid) => {
            if valid.contains(&text) {
                Ok(())
            } else {
                Err("invalid value".into())
            }
        }
        FlagType::SelectiveList(valid) => {
            for item in text.split(',') {
                if !valid.contains(&item) {
                    return Err(format!("invalid value {}", go_quote(item)));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_integers() {
        assert_eq!(parse_uint("10", 64), Ok(10));
        assert_eq!(parse_uint("0x1f", 64), Ok(31));
        assert_eq!(parse_uint("0o17", 64), Ok(15));
        assert_eq!(parse_uint("017", 64), Ok(15));
        assert_eq!(parse_uint("0b101", 64), Ok(5));
        assert_eq!(parse_uint("0", 64), Ok(0));
        assert_eq!(parse_uint("1_000", 64), Ok(1000));
        assert_eq!(parse_uint("1__0", 64), Err(NumError::Syntax));
        assert_eq!(parse_uint("_1", 64), Err(NumError::Syntax));
        assert_eq!(parse_uint("08", 64), Err(NumError::Syntax));
        assert_eq!(parse_uint("", 64), Err(NumError::Syntax));
        assert_eq!(parse_uint("+1", 64), Err(NumError::Syntax));
        assert_eq!(parse_uint("4294967296", 32), Err(NumError::Range));
        assert_eq!(parse_uint("4294967295", 32), Ok(4294967295));
        assert_eq!(parse_uint("18446744073709551616", 64), Err(NumError::Range));
        assert_eq!(parse_int("-9223372036854775808", 64), Ok(i64::MIN));
        assert_eq!(parse_int("9223372036854775808", 64), Err(NumError::Range));
        assert_eq!(parse_int("-0x10", 64), Ok(-16));
        assert_eq!(parse_int("abc", 64), Err(NumError::Syntax));
    }

    #[test]
    fn go_durations() {
        for ok in [
            "0", "5s", "1h2m3.5s", "-1.5h", "+3ms", ".5s", "1.s", "300us", "2µs",
        ] {
            assert_eq!(check_duration(ok), Ok(()), "{ok}");
        }
        assert!(check_duration("1e0s").is_err());
        assert!(check_duration("").is_err());
        assert!(check_duration("5").unwrap_err().contains("missing unit"));
        assert!(check_duration("5x").unwrap_err().contains("unknown unit"));
        assert!(check_duration(".s").is_err());
        assert!(check_duration("10000000h").is_err());
        assert!(check_duration("2562047h").is_ok());
    }

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("10.0.0.1:2379"), Ok(("10.0.0.1", "2379")));
        assert_eq!(split_host_port("[::1]:2379"), Ok(("::1", "2379")));
        assert_eq!(split_host_port("host:"), Ok(("host", "")));
        assert!(split_host_port("host")
            .unwrap_err()
            .contains("missing port"));
        assert!(split_host_port("::1:2379")
            .unwrap_err()
            .contains("too many colons"));
        assert!(split_host_port("[::1]")
            .unwrap_err()
            .contains("missing port"));
    }

    #[test]
    fn etcd_urls() {
        assert!(new_urls("https://10.0.0.1:2379,http://127.0.0.1:2379").is_ok());
        assert!(new_urls(" https://10.0.0.1:2379 ").is_ok());
        assert!(new_urls("unix://localhost:2379").is_ok());
        assert_eq!(
            new_urls("https://10.0.0.1").unwrap_err(),
            "URL address does not have the form \"host:port\": https://10.0.0.1"
        );
        assert_eq!(
            new_urls("https://10.0.0.1:2379/").unwrap_err(),
            "URL must not contain a path: https://10.0.0.1:2379/"
        );
        assert_eq!(
            new_urls("localhost:2379").unwrap_err(),
            "URL scheme must be http, https, unix, or unixs: localhost:2379"
        );
        // Go's url.Parse: no scheme (it starts with a digit), and a colon in the first segment.
        assert_eq!(
            new_urls("10.0.0.1:2379").unwrap_err(),
            "parse \"10.0.0.1:2379\": first path segment in URL cannot contain colon"
        );
        assert_eq!(
            new_urls("").unwrap_err(),
            "URL scheme must be http, https, unix, or unixs: "
        );
        assert!(new_urls("https://host:port")
            .unwrap_err()
            .contains("invalid port"));
        assert!(new_urls("://x")
            .unwrap_err()
            .contains("missing protocol scheme"));
        assert_eq!(
            parse_url("HTTPS://[::1]:2379").unwrap(),
            ParsedUrl {
                scheme: "https".into(),
                host: "[::1]:2379".into(),
                path: String::new()
            }
        );
    }

    #[test]
    fn flag_values() {
        assert!(check_flag_value(FlagType::Bool, "True").is_ok());
        assert_eq!(
            check_flag_value(FlagType::Bool, "yes").unwrap_err(),
            "parse error"
        );
        assert!(check_flag_value(FlagType::Urls { allowed: "" }, "").is_ok());
        assert!(check_flag_value(FlagType::Urls { allowed: "*" }, "*").is_ok());
        assert_eq!(
            check_flag_value(FlagType::EtcdUint32, "x").unwrap_err(),
            "strconv.ParseUint: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            check_flag_value(FlagType::Selective(&["new", "existing"]), "old").unwrap_err(),
            "invalid value"
        );
        assert_eq!(
            check_flag_value(FlagType::Duration, "5").unwrap_err(),
            "parse error"
        );
        assert_eq!(go_quote("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
    }
}
