//! The syntax of systemd unit files (systemd.syntax(7); `config_parse` and `parse_line` in
//! systemd's `src/shared/conf-parser.c`): `[Section]` headers, `Key=Value` lines with the
//! whitespace around both stripped, lines whose first non-blank character is `#` or `;` ignored
//! (also in the middle of a continuation), and a line ending in an unescaped backslash joined
//! with the next one, the backslash becoming a space. Also the `%` specifiers of systemd.unit(5)
//! that need no running system.

use std::path::Path;

/// A unit file's assignments, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UnitFile {
    /// `(section, key, value, line)`.
    pub(crate) entries: Vec<(String, String, String, usize)>,
}

impl UnitFile {
    /// Parses a unit file.
    pub(crate) fn parse(text: &str) -> UnitFile {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut entries = Vec::new();
        let mut section: Option<String> = None;
        let mut continuation: Option<String> = None;
        let mut number = 0;
        let mut start = 0;
        let mut lines = text.split('\n').peekable();
        while let Some(raw) = lines.next() {
            if lines.peek().is_none() && raw.is_empty() {
                break;
            }
            number += 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = raw.trim_start_matches([' ', '\t', '\n', '\r']);
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let mut line = match continuation.take() {
                Some(mut c) => {
                    c.push_str(raw);
                    c
                }
                None => {
                    start = number;
                    raw.to_string()
                }
            };
            if ends_escaped(&line) {
                line.pop();
                line.push(' ');
                continuation = Some(line);
                continue;
            }
            parse_line(&line, start, &mut section, &mut entries);
        }
        if let Some(line) = continuation {
            parse_line(&line, start, &mut section, &mut entries);
        }
        UnitFile { entries }
    }

    /// Whether the file has a section of this name.
    pub(crate) fn has_section(&self, name: &str) -> bool {
        self.entries.iter().any(|(s, _, _, _)| s == name)
    }

    /// The values of a key in a section, in order, with their lines.
    pub(crate) fn values<'a>(
        &'a self,
        section: &'a str,
        key: &'a str,
    ) -> impl Iterator<Item = (&'a str, usize)> + 'a {
        self.entries
            .iter()
            .filter(move |(s, k, _, _)| s == section && k == key)
            .map(|(_, _, v, l)| (v.as_str(), *l))
    }

    /// The last value of a key (systemd's single-valued settings: the last one wins).
    pub(crate) fn last(&self, section: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(s, k, _, _)| s == section && k == key)
            .map(|(_, _, v, _)| v.as_str())
    }
}

/// Whether the text ends in a backslash that is not itself escaped.
fn ends_escaped(text: &str) -> bool {
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        }
    }
    escaped
}

fn parse_line(
    line: &str,
    number: usize,
    section: &mut Option<String>,
    entries: &mut Vec<(String, String, String, usize)>,
) {
    let ws: &[char] = &[' ', '\t', '\n', '\r'];
    let l = line.trim_matches(ws);
    if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
        return;
    }
    if let Some(rest) = l.strip_prefix('[') {
        // A malformed header makes systemd refuse the file; keep reading as best as can be.
        *section = rest.strip_suffix(']').map(str::to_string);
        return;
    }
    let Some(section) = section.as_ref() else {
        return;
    };
    let Some((key, value)) = l.split_once('=') else {
        return;
    };
    entries.push((
        section.clone(),
        key.trim_matches(ws).to_string(),
        value.trim_matches(ws).to_string(),
        number,
    ));
}

/// The specifiers systemd.unit(5) defines that depend only on the unit's name and the
/// system's fixed paths; the others are left as written and returned.
pub(crate) fn expand_specifiers(text: &str, unit: &Path) -> (String, Vec<String>) {
    let name = unit
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    let (prefix, instance) = stem.split_once('@').unwrap_or((stem, ""));
    let mut out = String::with_capacity(text.len());
    let mut unknown = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(s) = chars.next() else {
            out.push('%');
            break;
        };
        match s {
            '%' => out.push('%'),
            'n' => out.push_str(&name),
            'N' => out.push_str(stem),
            'p' => out.push_str(prefix),
            'i' | 'I' => out.push_str(instance),
            't' => out.push_str("/run"),
            'S' => out.push_str("/var/lib"),
            'C' => out.push_str("/var/cache"),
            'L' => out.push_str("/var/log"),
            'E' => out.push_str("/etc"),
            'T' => out.push_str("/tmp"),
            'V' => out.push_str("/var/tmp"),
            other => {
                out.push('%');
                out.push(other);
                unknown.push(format!("%{other}"));
            }
        }
    }
    (out, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_and_continuations() {
        let unit = UnitFile::parse(
            "[Unit]\nDescription=Etcd Server\n\n[Service]\n# comment\nUser = etcd\nExecStart=/bin/bash -c \"a \\\n          b \\\n# a comment inside\n          c\"\nEnvironment=A=1\nEnvironment=B=2\n",
        );
        assert!(unit.has_section("Service"));
        assert_eq!(unit.last("Service", "User"), Some("etcd"));
        assert_eq!(
            unit.last("Service", "ExecStart"),
            Some("/bin/bash -c \"a            b            c\"")
        );
        assert_eq!(
            unit.values("Service", "Environment")
                .map(|(v, _)| v)
                .collect::<Vec<_>>(),
            vec!["A=1", "B=2"]
        );
        assert_eq!(unit.values("Service", "ExecStart").next().unwrap().1, 7);
    }

    #[test]
    fn escaped_backslash_does_not_continue() {
        let unit = UnitFile::parse("[Service]\nA=x\\\\\nB=y\n");
        assert_eq!(unit.last("Service", "A"), Some("x\\\\"));
        assert_eq!(unit.last("Service", "B"), Some("y"));
    }

    #[test]
    fn assignments_outside_sections_are_ignored() {
        let unit = UnitFile::parse("A=1\n[Service]\r\nB=2\r\n");
        assert_eq!(unit.entries.len(), 1);
        assert_eq!(unit.last("Service", "B"), Some("2"));
    }

    #[test]
    fn specifiers() {
        let unit = Path::new("/etc/systemd/system/etcd@infra0.service");
        let (text, unknown) = expand_specifiers("%n %N %p %i %% %S/%i %H", unit);
        assert_eq!(
            text,
            "etcd@infra0.service etcd@infra0 etcd infra0 % /var/lib/infra0 %H"
        );
        assert_eq!(unknown, vec!["%H"]);
    }
}
