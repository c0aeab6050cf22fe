//! systemd's `ExecStart=` command lines (systemd.service(5) "Command lines"; `config_parse_exec`
//! in `src/core/load-fragment.c`, `extract_first_word` in `src/basic/extract-word.c`,
//! `replace_env_argv` in `src/basic/env-util.c`):
//!
//! * the prefixes `-`, `@`, `:`, `+`, `!`, `!!` before the program (`@`: the next word is
//!   argv\[0\]; `:`: no variable substitution);
//! * words split on whitespace, `"..."` and `'...'` quoting (anywhere in a word), C escapes
//!   (`\n`, `\t`, `\xNN`, `\NNN`, `\uNNNN`, `\s`, `\\`, `\"`, `\'`, ...) inside and outside
//!   quotes; a lone `;` separates commands;
//! * then, at start, `${VAR}` anywhere in a word replaced by the value as it is (one word),
//!   `$VAR` as a whole word by the value split at whitespace (quotes respected; zero words when
//!   unset), `$$` by `$`; any other `$` stays. Unknown variables are empty.
//!
//! Specifiers (`%n`, `%%`, ...) are expanded before all this ([`super::unit_file`]).

use std::collections::BTreeMap;

/// One command of an `ExecStart=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecCommand {
    /// The program path.
    pub(crate) path: String,
    /// The arguments, argv\[0\] first, before variable substitution.
    pub(crate) argv: Vec<String>,
    /// The `:` prefix: no substitution.
    pub(crate) no_env_expand: bool,
    /// The `+` or `!` (`!!`) prefix: `User=`, `Group=` and `SupplementaryGroups=` are not applied,
    /// the command runs as root (systemd.service(5), "Command lines", the prefix table).
    pub(crate) full_privileges: bool,
}

/// Splits an `ExecStart=` value into its commands.
pub(crate) fn parse_exec(value: &str) -> Result<Vec<ExecCommand>, String> {
    let mut commands = Vec::new();
    let mut rest = value;
    while let Some(first) = next_word(&mut rest, true)? {
        if first == ";" {
            continue;
        }
        let mut program = first.as_str();
        let mut separate_argv0 = false;
        let mut no_env_expand = false;
        let mut full_privileges = false;
        loop {
            if let Some(p) = program.strip_prefix("!!") {
                full_privileges = true;
                program = p;
            } else if let Some(p) = program.strip_prefix(['+', '!']) {
                full_privileges = true;
                program = p;
            } else if let Some(p) = program.strip_prefix(['-', '|']) {
                program = p;
            } else if let Some(p) = program.strip_prefix('@') {
                separate_argv0 = true;
                program = p;
            } else if let Some(p) = program.strip_prefix(':') {
                no_env_expand = true;
                program = p;
            } else {
                break;
            }
        }
        let path = program.to_string();
        let mut argv = Vec::new();
        if separate_argv0 {
            match next_word(&mut rest, true)? {
                Some(a) => argv.push(a),
                None => return Err("the @ prefix needs an argv[0] after the program".into()),
            }
        } else {
            argv.push(path.clone());
        }
        loop {
            let trimmed = rest.trim_start_matches(WHITESPACE);
            if let Some(after) = trimmed.strip_prefix(';') {
                if after.is_empty() || after.starts_with(WHITESPACE) {
                    rest = after;
                    break;
                }
            }
            if let Some(after) = trimmed.strip_prefix("\\;") {
                if after.is_empty() || after.starts_with(WHITESPACE) {
                    argv.push(";".into());
                    rest = after;
                    continue;
                }
            }
            rest = trimmed;
            match next_word(&mut rest, true)? {
                Some(word) => argv.push(word),
                None => break,
            }
        }
        commands.push(ExecCommand {
            full_privileges,
            path,
            argv,
            no_env_expand,
        });
    }
    Ok(commands)
}

const WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// `extract_first_word(p, WHITESPACE, EXTRACT_UNQUOTE | (cunescape? EXTRACT_CUNESCAPE))`.
pub(crate) fn next_word(rest: &mut &str, cunescape: bool) -> Result<Option<String>, String> {
    let s = rest.trim_start_matches(WHITESPACE);
    if s.is_empty() {
        *rest = s;
        return Ok(None);
    }
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.char_indices().peekable();
    let mut end = s.len();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            let Some((j, next)) = chars.next() else {
                return Err(format!("a trailing backslash in {s:?}"));
            };
            if cunescape {
                let tail = &s[j..];
                match cunescape_one(tail) {
                    Some((decoded, used)) => {
                        word.push_str(&decoded);
                        // `used` counts bytes after the backslash, `next` included.
                        for _ in 1..tail[..used].chars().count() {
                            chars.next();
                        }
                    }
                    None if WHITESPACE.contains(&next) => word.push(next),
                    None => return Err(format!("an invalid escape \\{next} in {s:?}")),
                }
            } else {
                word.push(next);
            }
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '\'' || c == '"' => quote = Some(c),
            None if WHITESPACE.contains(&c) => {
                end = i;
                break;
            }
            None => word.push(c),
        }
    }
    if quote.is_some() {
        return Err(format!("an unterminated quote in {s:?}"));
    }
    *rest = &s[end..];
    Ok(Some(word))
}

/// `cunescape_one`: the character(s) of the escape that `s` (what follows the backslash)
/// starts with, and how many bytes of `s` it takes.
fn cunescape_one(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let simple = |c: char| Some((c.to_string(), 1));
    match *b.first()? {
        b'a' => simple('\x07'),
        b'b' => simple('\x08'),
        b'f' => simple('\x0c'),
        b'n' => simple('\n'),
        b'r' => simple('\r'),
        b't' => simple('\t'),
        b'v' => simple('\x0b'),
        b'\\' => simple('\\'),
        b'"' => simple('"'),
        b'\'' => simple('\''),
        b's' => simple(' '),
        b'x' => {
            let hex = s.get(1..3)?;
            let v = u8::from_str_radix(hex, 16).ok()?;
            if v == 0 {
                return None;
            }
            Some((char::from(v).to_string(), 3))
        }
        b'u' | b'U' => {
            let n = if b[0] == b'u' { 4 } else { 8 };
            let hex = s.get(1..1 + n)?;
            let v = u32::from_str_radix(hex, 16).ok()?;
            let c = char::from_u32(v).filter(|c| *c != '\0')?;
            Some((c.to_string(), 1 + n))
        }
        b'0'..=b'3' => {
            let oct = s.get(0..3)?;
            let v = u8::from_str_radix(oct, 8).ok()?;
            if v == 0 {
                return None;
            }
            Some((char::from(v).to_string(), 3))
        }
        _ => None,
    }
}

/// `replace_env_argv`: the variable substitution systemd makes when it starts the command.
pub(crate) fn expand_argv(argv: &[String], env: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    for word in argv {
        if let Some(name) = word.strip_prefix('$') {
            if !name.starts_with('{') && !name.starts_with('$') {
                if let Some(value) = env.get(name) {
                    // Split at whitespace, quotes respected and removed.
                    let mut rest = value.as_str();
                    while let Ok(Some(w)) = next_word(&mut rest, false) {
                        out.push(w);
                    }
                }
                continue;
            }
        }
        out.push(replace_env(word, env));
    }
    out
}

/// `replace_env`: `${VAR}` and `$$` in a word.
pub(crate) fn replace_env(word: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(more) = after.strip_prefix('$') {
            out.push('$');
            rest = more;
        } else if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(close) => {
                    if let Some(v) = env.get(&inner[..close]) {
                        out.push_str(v);
                    }
                    rest = &inner[close + 1..];
                }
                None => {
                    // An unterminated `${`: kept as written.
                    out.push_str(&rest[at..]);
                    rest = "";
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn words_quotes_and_escapes() {
        let c = parse_exec(r#"/usr/bin/etcd --name "infra 0" 'a b'c --x=\"q\" \x41\101\t"\n" \s"#)
            .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].argv,
            vec![
                "/usr/bin/etcd",
                "--name",
                "infra 0",
                "a bc",
                "--x=\"q\"",
                "AA\t\n",
                " "
            ]
        );
        assert!(parse_exec("/usr/bin/etcd \"unterminated").is_err());
        assert!(parse_exec(r"/usr/bin/etcd \d").is_err());
    }

    #[test]
    fn prefixes() {
        let c = parse_exec("-@/usr/bin/etcd etcd-main --name=a").unwrap();
        assert_eq!(c[0].path, "/usr/bin/etcd");
        assert_eq!(c[0].argv, vec!["etcd-main", "--name=a"]);
        let c = parse_exec(":+!/usr/bin/etcd $X").unwrap();
        assert!(c[0].no_env_expand);
        assert_eq!(c[0].path, "/usr/bin/etcd");
        let c = parse_exec("!!/usr/bin/etcd").unwrap();
        assert_eq!(c[0].path, "/usr/bin/etcd");
    }

    #[test]
    fn semicolons_separate_commands() {
        let c = parse_exec("/bin/true ; /usr/bin/etcd --name a \\; b").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].argv, vec!["/usr/bin/etcd", "--name", "a", ";", "b"]);
    }

    #[test]
    fn variable_substitution() {
        let e = env(&[("ONE", "one"), ("TWO", "two two"), ("Q", "'a b' c")]);
        let argv: Vec<String> = [
            "/bin/echo",
            "$ONE",
            "$TWO",
            "${TWO}",
            "x${ONE}y",
            "$$ONE",
            "$UNSET",
            "${UNSET}z",
            "a$ONE",
            "$Q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            expand_argv(&argv, &e),
            vec![
                "/bin/echo",
                "one",
                "two",
                "two",
                "two two",
                "xoney",
                "$ONE",
                "z",
                "a$ONE",
                "a b",
                "c"
            ]
        );
    }
}
