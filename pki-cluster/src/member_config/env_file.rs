//! systemd's `EnvironmentFile=` format, as systemd reads it: `parse_env_file_internal` in
//! `src/basic/env-file.c` (systemd v254 and later), the state machine described in
//! systemd.exec(5) "Environment":
//!
//! * blank lines, lines without `=`, and lines whose first non-blank character is `#` or `;`
//!   are ignored; whitespace around the key and before the value is dropped, whitespace inside
//!   the key kept (which makes the name invalid);
//! * an unquoted value keeps inner whitespace, loses trailing whitespace, and takes `\x` as
//!   `x` (a backslash before the newline joins the next line);
//! * `'...'` keeps everything up to the next `'`, newlines included; `"..."` takes `\"`, `\\`,
//!   `` \` `` and `\$` as the character, drops `\` + newline, and keeps `\` before anything
//!   else; quotes may follow one another (`A="x"'y'` is `xy`);
//! * no `$VAR` expansion, and no `export ` prefix: `export A=b` has the key `export A`, an
//!   invalid name, and is dropped (systemd logs "Ignoring invalid environment assignment");
//! * a file that is not UTF-8 fails (`check_utf8ness_and_warn`); a NUL ends the text;
//! * the last assignment of a name wins. A comment ending in `\` does not continue onto the
//!   next line (it did before v254).

/// A file's assignments in order (later ones of a name replace earlier ones), and the ones
/// systemd drops for their names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EnvFile {
    /// The valid assignments.
    pub(crate) vars: Vec<(String, String)>,
    /// `key=value` of assignments systemd ignores (invalid names).
    pub(crate) ignored: Vec<String>,
}

/// Whether systemd accepts a variable name (systemd.exec(5): ASCII letters, digits and `_`,
/// not empty, not starting with a digit).
pub(crate) fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    SingleQuote,
    DoubleQuote,
    DoubleQuoteEscape,
    Comment,
    CommentEscape,
}

/// Parses an environment file; `Err` with systemd's reason when systemd refuses it.
pub(crate) fn parse_env_file(bytes: &[u8]) -> Result<EnvFile, String> {
    let bytes = match bytes.iter().position(|&b| b == 0) {
        Some(nul) => &bytes[..nul],
        None => bytes,
    };
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    let is_nl = |c: u8| matches!(c, b'\n' | b'\r');
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    let mut value: Vec<u8> = Vec::new();
    let mut last_key_ws: Option<usize> = None;
    let mut last_value_ws: Option<usize> = None;
    let mut state = State::PreKey;
    let mut push = |key: &mut Vec<u8>,
                    value: &mut Vec<u8>,
                    last_key_ws: Option<usize>,
                    last_value_ws: Option<usize>| {
        if let Some(at) = last_value_ws {
            value.truncate(at);
        }
        if let Some(at) = last_key_ws {
            key.truncate(at);
        }
        pairs.push((std::mem::take(key), std::mem::take(value)));
    };
    for &c in bytes {
        match state {
            State::PreKey => {
                if c == b'#' || c == b';' {
                    state = State::Comment;
                } else if !is_ws(c) {
                    state = State::Key;
                    last_key_ws = None;
                    key.push(c);
                }
            }
            State::Key => {
                if is_nl(c) {
                    state = State::PreKey;
                    key.clear();
                } else if c == b'=' {
                    state = State::PreValue;
                    last_value_ws = None;
                } else {
                    if !is_ws(c) {
                        last_key_ws = None;
                    } else if last_key_ws.is_none() {
                        last_key_ws = Some(key.len());
                    }
                    key.push(c);
                }
            }
            State::PreValue => {
                if is_nl(c) {
                    state = State::PreKey;
                    push(&mut key, &mut value, last_key_ws, None);
                } else if c == b'\'' {
                    state = State::SingleQuote;
                } else if c == b'"' {
                    state = State::DoubleQuote;
                } else if c == b'\\' {
                    state = State::ValueEscape;
                } else if !is_ws(c) {
                    state = State::Value;
                    value.push(c);
                }
            }
            State::Value => {
                if is_nl(c) {
                    state = State::PreKey;
                    push(&mut key, &mut value, last_key_ws, last_value_ws);
                } else if c == b'\\' {
                    state = State::ValueEscape;
                    last_value_ws = None;
                } else {
                    if !is_ws(c) {
                        last_value_ws = None;
                    } else if last_value_ws.is_none() {
                        last_value_ws = Some(value.len());
                    }
                    value.push(c);
                }
            }
            State::ValueEscape => {
                state = State::Value;
                if !is_nl(c) {
                    value.push(c);
                }
            }
            State::SingleQuote => {
                if c == b'\'' {
                    state = State::PreValue;
                } else {
                    value.push(c);
                }
            }
            State::DoubleQuote => {
                if c == b'"' {
                    state = State::PreValue;
                } else if c == b'\\' {
                    state = State::DoubleQuoteEscape;
                } else {
                    value.push(c);
                }
            }
            State::DoubleQuoteEscape => {
                state = State::DoubleQuote;
                if matches!(c, b'"' | b'\\' | b'`' | b'$') {
                    value.push(c);
                } else if c != b'\n' {
                    value.push(b'\\');
                    value.push(c);
                }
            }
            State::Comment => {
                if c == b'\\' {
                    state = State::CommentEscape;
                } else if is_nl(c) {
                    state = State::PreKey;
                }
            }
            State::CommentEscape => {
                state = if is_nl(c) {
                    State::PreKey
                } else {
                    State::Comment
                };
            }
        }
    }
    match state {
        State::PreValue
        | State::ValueEscape
        | State::SingleQuote
        | State::DoubleQuote
        | State::DoubleQuoteEscape => push(&mut key, &mut value, last_key_ws, None),
        State::Value => push(&mut key, &mut value, last_key_ws, last_value_ws),
        _ => {}
    }
    let mut out = EnvFile::default();
    for (key, value) in pairs {
        let (Ok(key), Ok(value)) = (String::from_utf8(key), String::from_utf8(value)) else {
            return Err("invalid UTF-8 in a key or value".into());
        };
        if !valid_name(&key) {
            out.ignored.push(format!("{key}={value}"));
            continue;
        }
        out.vars.retain(|(k, _)| *k != key);
        out.vars.push((key, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> Vec<(String, String)> {
        parse_env_file(text.as_bytes()).unwrap().vars
    }

    fn one(text: &str) -> String {
        let v = vars(text);
        assert_eq!(v.len(), 1, "{text:?}: {v:?}");
        v[0].1.clone()
    }

    #[test]
    fn the_seed_file() {
        let text = "DATA_DIR=/data/etcd\nHOST_NAME=infra3\nHOST_IP=10.0.12.157\nCLUSTER=infra0=https://10.0.11.36:2380,infra1=https://10.0.12.21:2380,infra2=https://10.0.13.126:2380,infra3=https://10.0.12.157:2380\nCLUSTER_STATE=existing\nTOKEN=ea8cfe2bfe85b7e6c66fe190f9225838\n";
        let v = vars(text);
        assert_eq!(v.len(), 6);
        assert_eq!(v[3].0, "CLUSTER");
        assert!(v[3].1.starts_with("infra0=https://10.0.11.36:2380,"));
    }

    #[test]
    fn unquoted_values() {
        assert_eq!(one("A=b c  \n"), "b c");
        assert_eq!(one("  A  =   b\n"), "b");
        assert_eq!(one("A=b\\ \n"), "b ");
        assert_eq!(one("A=a\\\\b\n"), "a\\b");
        assert_eq!(one("A=a\\\nb\n"), "ab");
        assert_eq!(one("A=\"x\"y\n"), "xy");
        assert_eq!(one("A=x\"y\"\n"), "x\"y\"");
        assert_eq!(one("A=$HOME/x\n"), "$HOME/x");
        assert_eq!(one("A=\n"), "");
        assert_eq!(one("A=last"), "last");
        assert_eq!(one("A=#not a comment\n"), "#not a comment");
    }

    #[test]
    fn single_quotes() {
        assert_eq!(one("A='b \\n c'\n"), "b \\n c");
        assert_eq!(one("A='multi\nline'\n"), "multi\nline");
        assert_eq!(one("A=  'x'  \n"), "x");
        assert_eq!(one("A='x'\"y\"\n"), "xy");
    }

    #[test]
    fn double_quotes() {
        assert_eq!(
            one("A=\"a \\\"b\\\" \\$c \\\\ \\` \\n\"\n"),
            "a \"b\" $c \\ ` \\n"
        );
        assert_eq!(one("A=\"one\\\ntwo\"\n"), "onetwo");
        assert_eq!(one("A=\"multi\nline\"\n"), "multi\nline");
        assert_eq!(one("A=\"unterminated"), "unterminated");
    }

    #[test]
    fn comments_and_junk() {
        let v =
            vars("# comment\n; also\n   # indented\nnot an assignment\nA=1\n#comment \\\nB=2\n");
        assert_eq!(v, vec![("A".into(), "1".into()), ("B".into(), "2".into())]);
    }

    #[test]
    fn invalid_names_and_export() {
        let f = parse_env_file(b"export A=1\n1A=2\nA B=3\nOK_1=4\n").unwrap();
        assert_eq!(f.vars, vec![("OK_1".into(), "4".into())]);
        assert_eq!(f.ignored, vec!["export A=1", "1A=2", "A B=3"]);
    }

    #[test]
    fn later_wins_and_nul_ends() {
        assert_eq!(
            vars("A=1\nB=2\nA=3\n"),
            vec![("B".into(), "2".into()), ("A".into(), "3".into())]
        );
        assert_eq!(vars("A=1\0\nB=2\n"), vec![("A".into(), "1".into())]);
    }

    #[test]
    fn not_utf8_fails() {
        assert!(parse_env_file(b"A=\xff\n").is_err());
    }
}
