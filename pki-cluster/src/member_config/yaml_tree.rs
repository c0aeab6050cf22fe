//! YAML read as etcd's YAML library reads it: `sigs.k8s.io/yaml` (v1.1.0 for etcd 3.4.23, v1.2.0
//! for 3.5.16) decodes with `gopkg.in/yaml.v2` v2.4.0 into `interface{}`, whose plain scalars
//! resolve by YAML 1.1 rules (`yaml.v2` `resolve.go`): `yes`/`no`/`on`/`off`/`y`/`n` are
//! booleans, `~`/`null`/empty are null, `0x1f`/`017`/`0b1`/`1_000` are integers,
//! `.inf`/`.nan` floats, `<<` a merge key; quoted and block scalars are strings. Only the first
//! document is read (`yaml.Unmarshal`). The syntax itself is parsed by `yaml-rust2`.
//!
//! Aliases are expanded with a budget (no "billion laughs"), and nesting is bounded.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// A YAML value after `yaml.v2`'s resolution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// `~`, `null`, empty.
    Null,
    /// A YAML 1.1 boolean.
    Bool(bool),
    /// An integer (`int`, `int64` or `uint64` in Go).
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order, merge keys expanded.
    Map(Vec<(Node, Node)>),
}

/// Nodes a document may expand to, aliases included.
const MAX_NODES: usize = 200_000;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 200;

impl Node {
    fn size(&self) -> usize {
        match self {
            Node::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Node::Map(pairs) => {
                1 + pairs
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }

    /// What the value is, in the words of Go's JSON errors.
    pub(crate) fn json_kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "bool",
            Node::Int(_) | Node::Float(_) => "number",
            Node::Str(_) => "string",
            Node::Seq(_) => "array",
            Node::Map(_) => "object",
        }
    }

    /// The string `sigs.k8s.io/yaml` makes of a scalar bound for a Go string
    /// (`convertToJSONableObject`: ints with `FormatInt`, floats with `FormatFloat(f, 'g', -1,
    /// 32)`, booleans as `true`/`false`); `None` for null (a JSON null leaves the field as it
    /// was) and for collections (a JSON type error).
    pub(crate) fn go_string(&self) -> Option<String> {
        match self {
            Node::Str(s) => Some(s.clone()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) => Some(format_g32(*f)),
            Node::Bool(b) => Some(b.to_string()),
            Node::Null | Node::Seq(_) | Node::Map(_) => None,
        }
    }

    /// The JSON object key `sigs.k8s.io/yaml` makes of a mapping key; `None` for keys it refuses
    /// (`unsupported map key`: null, collections).
    pub(crate) fn json_key(&self) -> Option<String> {
        match self {
            Node::Float(f) => Some(match format_g32(*f).as_str() {
                "+Inf" => ".inf".to_string(),
                "-Inf" => "-.inf".to_string(),
                "NaN" => ".nan".to_string(),
                other => other.to_string(),
            }),
            Node::Null | Node::Seq(_) | Node::Map(_) => None,
            other => other.go_string(),
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`.
pub(crate) fn format_g32(f: f64) -> String {
    let v = f as f32;
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as Go's shortest formatting.
    let e = format!("{:e}", v);
    let (neg, e) = match e.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, e.as_str()),
    };
    let (mantissa, exp) = e.split_once('e').unwrap_or((e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let nd = digits.len() as i32;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if exp >= 0 {
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exp - 1) as usize));
        out.push_str(&digits);
    }
    out
}

/// A plain scalar as `yaml.v2` `resolve("", in)` makes it.
fn resolve_plain(s: &str) -> Node {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Node::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Node::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Node::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Node::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Node::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Node::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        if is_yaml_float(s) {
            if let Ok(f) = s.parse::<f64>() {
                return Node::Float(f);
            }
        }
        return Node::Str(s.to_string());
    }
    if first == b'+' || first == b'-' || first.is_ascii_digit() {
        let plain: String = s.chars().filter(|&c| c != '_').collect();
        if let Ok(i) = super::go_values::parse_int(&plain, 64) {
            return Node::Int(i128::from(i));
        }
        if let Ok(u) = super::go_values::parse_uint(&plain, 64) {
            return Node::Int(i128::from(u));
        }
        if is_yaml_float(&plain) {
            if let Ok(f) = plain.parse::<f64>() {
                return Node::Float(f);
            }
        }
        if let Some(bin) = plain.strip_prefix("-0b") {
            if let Ok(v) = i64::from_str_radix(bin, 2) {
                return Node::Int(-i128::from(v));
            }
        }
    }
    Node::Str(s.to_string())
}

/// `yaml.v2`'s `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A scalar with its tag, as `yaml.v2` resolves it; `Err` for a value its tag refuses.
fn scalar(
    value: String,
    style: TScalarStyle,
    tag: Option<(String, String)>,
) -> Result<Node, String> {
    let plain = style == TScalarStyle::Plain;
    let short = tag.as_ref().map(|(handle, suffix)| {
        if handle == "!!" || handle == "tag:yaml.org,2002:" {
            format!("!!{suffix}")
        } else {
            format!("{handle}{suffix}")
        }
    });
    match short.as_deref() {
        None if plain => Ok(resolve_plain(&value)),
        None => Ok(Node::Str(value)),
        Some("!!str") | Some("!") => Ok(Node::Str(value)),
        Some(t @ ("!!int" | "!!bool" | "!!null" | "!!float")) => {
            let node = resolve_plain(&value);
            let ok = matches!(
                (t, &node),
                ("!!int", Node::Int(_))
                    | ("!!bool", Node::Bool(_))
                    | ("!!null", Node::Null)
                    | ("!!float", Node::Float(_) | Node::Int(_))
            );
            if ok {
                Ok(match (t, node) {
                    ("!!float", Node::Int(i)) => Node::Float(i as f64),
                    (_, n) => n,
                })
            } else {
                Err(format!("cannot decode `{value}` as a {t}"))
            }
        }
        // Other tags: yaml.v2 keeps the text.
        Some(_) => Ok(Node::Str(value)),
    }
}

enum Frame {
    Seq(Vec<Node>, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize),
}

/// Parses the first document of `text`. An empty stream is [`Node::Null`].
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut nodes = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| e.to_string())?;
        let (node, anchor) = match event {
            Event::StreamEnd | Event::DocumentEnd if stack.is_empty() => return Ok(Node::Null),
            Event::StreamStart | Event::DocumentStart | Event::Nothing => continue,
            Event::StreamEnd | Event::DocumentEnd => {
                return Err(format!(
                    "unexpected end of document at line {}",
                    mark.line()
                ))
            }
            Event::Alias(id) => {
                let (node, size) = anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| format!("unknown anchor at line {}", mark.line()))?;
                nodes += size;
                if nodes > MAX_NODES {
                    return Err("document expands to too many values (aliases)".into());
                }
                (node, 0)
            }
            Event::Scalar(value, style, anchor, tag) => {
                nodes += 1;
                let tag = tag.map(|t| (t.handle, t.suffix));
                (
                    scalar(value, style, tag)
                        .map_err(|e| format!("{e} at line {}", mark.line()))?,
                    anchor,
                )
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), anchor));
                if stack.len() > MAX_DEPTH {
                    return Err("document nests too deeply".into());
                }
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(Vec::new(), None, anchor));
                if stack.len() > MAX_DEPTH {
                    return Err("document nests too deeply".into());
                }
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, anchor)) => {
                    nodes += 1;
                    (Node::Seq(items), anchor)
                }
                _ => return Err("unbalanced sequence".into()),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(pairs, None, anchor)) => {
                    nodes += 1;
                    (Node::Map(pairs), anchor)
                }
                _ => return Err("unbalanced mapping".into()),
            },
        };
        if nodes > MAX_NODES {
            return Err("document has too many values".into());
        }
        if anchor > 0 {
            let size = node.size();
            anchors.insert(anchor, (node.clone(), size));
        }
        match stack.last_mut() {
            None => return Ok(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(pairs, pending, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if key == Node::Str("<<".into()) || is_merge(&key) {
                        merge(pairs, node)?;
                    } else {
                        pairs.push((key, node));
                    }
                }
            },
        }
    }
}

fn is_merge(key: &Node) -> bool {
    matches!(key, Node::Str(s) if s == "<<")
}

/// `yaml.v2` `decoder.merge`: a mapping's pairs, or each mapping of a sequence (the first one
/// winning, as the list is merged from its end), inserted where the merge key stands.
fn merge(pairs: &mut Vec<(Node, Node)>, value: Node) -> Result<(), String> {
    match value {
        Node::Map(more) => {
            pairs.extend(more);
            Ok(())
        }
        Node::Seq(items) => {
            for item in items.into_iter().rev() {
                match item {
                    Node::Map(more) => pairs.extend(more),
                    _ => {
                        return Err("map merge requires map or sequence of maps as the value".into())
                    }
                }
            }
            Ok(())
        }
        _ => Err("map merge requires map or sequence of maps as the value".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Vec<(Node, Node)> {
        match parse(text).unwrap() {
            Node::Map(pairs) => pairs,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yaml_1_1_scalars() {
        let pairs = map("a: yes\nb: 'yes'\nc: 0x1F\nd: 017\ne: 1_000\nf: ~\ng:\nh: 1.5\ni: .inf\nj: off\nk: \"12\"\nl: 2024-01-01\nm: -0b11\nn: 18446744073709551615\n");
        let values: Vec<Node> = pairs.into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            values,
            vec![
                Node::Bool(true),
                Node::Str("yes".into()),
                Node::Int(31),
                Node::Int(15),
                Node::Int(1000),
                Node::Null,
                Node::Null,
                Node::Float(1.5),
                Node::Float(f64::INFINITY),
                Node::Bool(false),
                Node::Str("12".into()),
                Node::Str("2024-01-01".into()),
                Node::Int(-3),
                Node::Int(18446744073709551615),
            ]
        );
    }

    #[test]
    fn tags() {
        let pairs = map("a: !!str 123\nb: !!int '7'\n");
        assert_eq!(pairs[0].1, Node::Str("123".into()));
        assert_eq!(pairs[1].1, Node::Int(7));
        assert!(parse("a: !!int abc\n").is_err());
    }

    #[test]
    fn aliases_and_merge_keys() {
        let pairs = map("base: &b {x: 1}\nother:\n  <<: *b\n  z: 2\n  y: 3\n");
        assert_eq!(
            pairs[1].1,
            Node::Map(vec![
                (Node::Str("x".into()), Node::Int(1)),
                (Node::Str("z".into()), Node::Int(2)),
                // YAML 1.1: `y` is a boolean, even as a key.
                (Node::Bool(true), Node::Int(3)),
            ])
        );
    }

    #[test]
    fn first_document_only_and_empty() {
        assert_eq!(parse("").unwrap(), Node::Null);
        assert_eq!(parse("# only a comment\n").unwrap(), Node::Null);
        let pairs = map("a: 1\n---\nb: 2\n");
        assert_eq!(pairs.len(), 1);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        assert!(parse(&doc).unwrap_err().contains("too many"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = "[".repeat(5000) + &"]".repeat(5000);
        assert!(parse(&doc).is_err());
    }

    #[test]
    fn syntax_errors_are_errors() {
        assert!(parse("a: [1, 2\n").is_err());
        assert!(parse("a: b: c\n").is_err());
    }

    #[test]
    fn go_float_strings() {
        assert_eq!(format_g32(1000.0), "1000");
        assert_eq!(format_g32(1e6), "1e+06");
        assert_eq!(format_g32(1.5), "1.5");
        assert_eq!(format_g32(0.0001), "0.0001");
        assert_eq!(format_g32(0.00001), "1e-05");
        assert_eq!(format_g32(123456.0), "123456");
        assert_eq!(format_g32(1234567.0), "1.234567e+06");
        assert_eq!(format_g32(0.1), "0.1");
        assert_eq!(format_g32(-2.5), "-2.5");
        assert_eq!(format_g32(f64::INFINITY), "+Inf");
        assert_eq!(format_g32(0.0), "0");
    }
}
