//! Go's formatting, for messages that repeat Go's and etcd's word for word: `strconv.Quote` (and
//! so `%q`), exact for ASCII, which is all a certificate's DNS names and an address can hold
//! (other characters are kept when printable and escaped as `\u`/`\U` otherwise, an
//! approximation of Go's `IsPrint` tables); and what `fmt` makes of verbs left in a format
//! string after its arguments are used up (etcd appends a resolver's message to a format
//! string).

/// `s` quoted as Go's `strconv.Quote` (and `%q`) quotes it, for messages that repeat Go's.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_ascii() || !c.is_control() => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub(crate) fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// What Go's `fmt.Sprintf` writes for `text` when it is the tail of a format string whose
/// arguments are all used: each verb becomes `%!v(MISSING)`, `%%` becomes `%`, a `%` at the end
/// `%!(NOVERB)`, a `*` width or precision `%!(BADWIDTH)`/`%!(BADPREC)`. Explicit argument
/// indexes (`%[1]q`) are not emulated: they would print an earlier argument again.
pub(crate) fn go_format_tail(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        while matches!(chars.peek(), Some('#' | '0' | '+' | '-' | ' ')) {
            chars.next();
        }
        if chars.peek() == Some(&'*') {
            chars.next();
            out.push_str("%!(BADWIDTH)");
        } else {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        }
        let mut rest = chars.clone();
        if rest.next() == Some('.') && rest.peek().is_some() {
            chars.next();
            if chars.peek() == Some(&'*') {
                chars.next();
                out.push_str("%!(BADPREC)");
            } else {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
            }
        }
        match chars.next() {
            None => out.push_str("%!(NOVERB)"),
            Some('%') => out.push('%'),
            Some(verb) => out.push_str(&format!("%!{verb}(MISSING)")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_as_go_does() {
        assert_eq!(go_quote("a.example"), r#""a.example""#);
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("\0\x01\t\n\x7f"), r#""\x00\x01\t\n\x7f""#);
        assert_eq!(go_quote("bücher"), "\"bücher\"");
        assert_eq!(go_quote("\u{85}"), r#""\u0085""#);
        assert_eq!(go_quote_list(&["*.a".into(), "b".into()]), r#"["*.a" "b"]"#);
        assert_eq!(go_quote_list(&[]), "[]");
    }

    #[test]
    fn verbs_without_arguments_are_gos() {
        assert_eq!(
            go_format_tail(" (lookup a: no such host)"),
            " (lookup a: no such host)"
        );
        assert_eq!(go_format_tail("a%b c"), "a%!b(MISSING) c");
        assert_eq!(go_format_tail("100%"), "100%!(NOVERB)");
        assert_eq!(go_format_tail("%%"), "%");
        assert_eq!(go_format_tail("%-5.2f!"), "%!f(MISSING)!");
        assert_eq!(go_format_tail("%*d"), "%!(BADWIDTH)%!d(MISSING)");
        assert_eq!(go_format_tail("%.*d"), "%!(BADPREC)%!d(MISSING)");
        assert_eq!(go_format_tail("%."), "%!.(MISSING)");
        assert_eq!(go_format_tail("%é"), "%!é(MISSING)");
    }
}
