//! Go's `net/url.Parse`, as far as it decides whether a URL is accepted and what its scheme,
//! host and path are: ported from `net/url/url.go` of Go 1.19 (the parsing is the same in Go
//! 1.24). etcd parses its `--*-urls` flags with it, and Go's `net/http` dials what it yields, so
//! [`crate::HostUrl`] accepts a URL only where Go does and takes the host Go takes, and
//! pki-cluster reads etcd's flags with it.
//!
//! What is checked, as Go checks it: control characters (before any `#`), the scheme's syntax,
//! `%` escapes in the path and fragment, the userinfo's characters and escapes, and the host:
//! its characters (`shouldEscape` in host mode), escapes (only for non-ASCII bytes, or `%25`),
//! the port after it (digits only), and RFC 6874 zones in brackets.

use std::fmt;

use crate::go_fmt::go_quote;

/// What Go's `url.Parse` yields that matters to etcd: scheme, host and path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GoUrl {
    /// The scheme, lowercased (empty when there is none).
    pub scheme: String,
    /// `URL.Host`, unescaped: `host`, `host:port`, `[v6]:port` (bytes: an escape may make it
    /// anything).
    pub host: Vec<u8>,
    /// `URL.Path`, unescaped.
    pub path: Vec<u8>,
}

impl GoUrl {
    /// `URL.Hostname()`: the host without port and brackets.
    pub fn hostname(&self) -> &[u8] {
        split_host_port(&self.host).0
    }

    /// `URL.Port()`.
    pub fn port(&self) -> &[u8] {
        split_host_port(&self.host).1
    }
}

/// Why Go's `url.Parse` refuses a URL: Go's `*url.Error`, whose text is `parse "URL": reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoUrlError {
    /// The URL as Go's message names it (without its fragment, unless the fragment is wrong).
    pub url: String,
    /// Go's reason (`invalid URL escape "%41"`).
    pub reason: String,
}

impl fmt::Display for GoUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parse {}: {}", go_quote(&self.url), self.reason)
    }
}

impl std::error::Error for GoUrlError {}

/// Go's `url.Parse` (the same in Go 1.19 and 1.24), as far as it decides acceptance, scheme,
/// host and path.
pub fn parse_go_url(raw: &str) -> Result<GoUrl, GoUrlError> {
    let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
    let fail = |url: &str, reason: String| GoUrlError {
        url: url.to_string(),
        reason,
    };
    let url = parse_reference(u.as_bytes()).map_err(|r| fail(u, r))?;
    if !frag.is_empty() {
        unescape(frag.as_bytes(), Mode::Fragment).map_err(|r| fail(raw, r))?;
    }
    Ok(url)
}

/// Go's `parse(rawURL, viaRequest=false)`.
fn parse_reference(raw: &[u8]) -> Result<GoUrl, String> {
    if raw.iter().any(|&b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    if raw == b"*" {
        return Ok(GoUrl {
            scheme: String::new(),
            host: Vec::new(),
            path: b"*".to_vec(),
        });
    }
    let (scheme, mut rest) = get_scheme(raw)?;
    let scheme = String::from_utf8_lossy(scheme).to_ascii_lowercase();
    if rest.ends_with(b"?") && rest.iter().filter(|&&b| b == b'?').count() == 1 {
        rest = &rest[..rest.len() - 1];
    } else if let Some(q) = rest.iter().position(|&b| b == b'?') {
        rest = &rest[..q];
    }
    if !rest.starts_with(b"/") {
        if !scheme.is_empty() {
            // Opaque: `https:host`.
            return Ok(GoUrl {
                scheme,
                host: Vec::new(),
                path: Vec::new(),
            });
        }
        let segment = rest.split(|&b| b == b'/').next().unwrap_or(b"");
        if segment.contains(&b':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    let mut host = Vec::new();
    if (!scheme.is_empty() || !rest.starts_with(b"///")) && rest.starts_with(b"//") {
        let authority_and_path = &rest[2..];
        let slash = authority_and_path
            .iter()
            .position(|&b| b == b'/')
            .unwrap_or(authority_and_path.len());
        let (authority, path) = authority_and_path.split_at(slash);
        host = parse_authority(authority)?;
        rest = path;
    }
    let path = unescape(rest, Mode::Path)?;
    Ok(GoUrl { scheme, host, path })
}

/// Go's `getScheme`.
fn get_scheme(raw: &[u8]) -> Result<(&[u8], &[u8]), String> {
    for (i, &c) in raw.iter().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok((b"", raw)),
        }
    }
    Ok((b"", raw))
}

/// Go's `parseAuthority`: the unescaped host.
fn parse_authority(authority: &[u8]) -> Result<Vec<u8>, String> {
    let at = authority.iter().rposition(|&b| b == b'@');
    let host = parse_host(at.map_or(authority, |i| &authority[i + 1..]))?;
    if let Some(i) = at {
        let userinfo = &authority[..i];
        let valid = std::str::from_utf8(userinfo).is_ok_and(|s| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c))
        });
        if !valid {
            return Err("net/url: invalid userinfo".into());
        }
        for part in userinfo.splitn(2, |&b| b == b':') {
            unescape(part, Mode::UserPassword)?;
        }
    }
    Ok(host)
}

/// Go's `parseHost`.
fn parse_host(host: &[u8]) -> Result<Vec<u8>, String> {
    if host.starts_with(b"[") {
        let Some(i) = host.iter().rposition(|&b| b == b']') else {
            return Err("missing ']' in host".into());
        };
        let colon_port = &host[i + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!(
                "invalid port {} after host",
                go_quote(&String::from_utf8_lossy(colon_port))
            ));
        }
        if let Some(zone) = find(&host[..i], b"%25") {
            let mut out = unescape(&host[..zone], Mode::Host)?;
            out.extend(unescape(&host[zone..i], Mode::Zone)?);
            out.extend(unescape(&host[i..], Mode::Host)?);
            return Ok(out);
        }
    } else if let Some(i) = host.iter().rposition(|&b| b == b':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!(
                "invalid port {} after host",
                go_quote(&String::from_utf8_lossy(colon_port))
            ));
        }
    }
    unescape(host, Mode::Host)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Go's `validOptionalPort`: empty, or `:` and digits.
fn valid_optional_port(port: &[u8]) -> bool {
    port.is_empty() || (port[0] == b':' && port[1..].iter().all(u8::is_ascii_digit))
}

/// Go's `splitHostPort` (behind `Hostname` and `Port`).
fn split_host_port(host_port: &[u8]) -> (&[u8], &[u8]) {
    let (mut host, mut port): (&[u8], &[u8]) = (host_port, b"");
    if let Some(colon) = host.iter().rposition(|&b| b == b':') {
        if valid_optional_port(&host[colon..]) {
            (host, port) = (&host_port[..colon], &host_port[colon + 1..]);
        }
    }
    if host.len() >= 2 && host.starts_with(b"[") && host.ends_with(b"]") {
        host = &host[1..host.len() - 1];
    }
    (host, port)
}

/// The parts of a URL Go unescapes differently.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// Go's `shouldEscape` for the modes whose escapes `unescape` checks.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone) && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Go's `unescape` (no query mode: '+' stays '+').
fn unescape(s: &[u8], mode: Mode) -> Result<Vec<u8>, String> {
    let quote = |b: &[u8]| go_quote(&String::from_utf8_lossy(b));
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                if i + 2 >= s.len()
                    || !s[i + 1].is_ascii_hexdigit()
                    || !s[i + 2].is_ascii_hexdigit()
                {
                    let end = (i + 3).min(s.len());
                    return Err(format!("invalid URL escape {}", quote(&s[i..end])));
                }
                let escape = &s[i..i + 3];
                if mode == Mode::Host && unhex(s[i + 1]) < 8 && escape != b"%25" {
                    return Err(format!("invalid URL escape {}", quote(escape)));
                }
                let v = unhex(s[i + 1]) << 4 | unhex(s[i + 2]);
                if mode == Mode::Zone
                    && escape != b"%25"
                    && v != b' '
                    && should_escape(v, Mode::Host)
                {
                    return Err(format!("invalid URL escape {}", quote(escape)));
                }
                out.push(v);
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!("invalid character {} in host name", quote(&[c])));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<GoUrl, String> {
        parse_go_url(raw).map_err(|e| e.reason)
    }

    fn hostname(raw: &str) -> Result<String, String> {
        parse(raw).map(|u| String::from_utf8_lossy(u.hostname()).into_owned())
    }

    #[test]
    fn hosts_are_what_go_takes() {
        assert_eq!(hostname("https://127.0.0.1:2380").unwrap(), "127.0.0.1");
        assert_eq!(hostname("https://[fd00::1]:2380/").unwrap(), "fd00::1");
        assert_eq!(hostname("https://fd00::1:2380").unwrap(), "fd00::1");
        assert_eq!(hostname("https://u:p@h#frag").unwrap(), "h");
        assert_eq!(hostname("https://b%C3%BCcher.test").unwrap(), "bücher.test");
        assert_eq!(hostname("https://a%25b").unwrap(), "a%b");
        assert_eq!(
            hostname("https://[fe80::1%25eth0]:1").unwrap(),
            "fe80::1%eth0"
        );
        assert_eq!(hostname("https://[name]:1").unwrap(), "name");
        assert_eq!(parse("HTTPS://h").unwrap().scheme, "https");
        assert_eq!(parse("https://h:2380").unwrap().port(), b"2380");
    }

    #[test]
    fn go_refusals_are_refused_with_gos_words() {
        for (raw, message) in [
            ("https://%41.test", r#"invalid URL escape "%41""#),
            ("https://a b", r#"invalid character " " in host name"#),
            ("https://h:x", r#"invalid port ":x" after host"#),
            ("https://[::1", "missing ']' in host"),
            ("https://h/%zz", r#"invalid URL escape "%zz""#),
            ("https://h#%", r#"invalid URL escape "%""#),
            ("https://h\x01", "net/url: invalid control character in URL"),
            ("https://a/b@h", r#"invalid URL escape "%zz""#),
            ("https://u^@h", "net/url: invalid userinfo"),
            ("://h", "missing protocol scheme"),
        ] {
            if raw == "https://a/b@h" {
                // The userinfo ends at the first '/': this is host `a` and a path.
                assert_eq!(hostname(raw).unwrap(), "a");
                continue;
            }
            assert_eq!(parse(raw).unwrap_err(), message, "{raw:?}");
        }
        assert!(
            parse("https://h#\x01").is_ok(),
            "Go checks no CTL after '#'"
        );
    }
}
