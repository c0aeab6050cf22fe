//! The part of the POSIX shell language (XCU "Shell Command Language", §2.2–2.6, 2.9.1) that a
//! unit's `sh -c '...'` / `bash -c "..."` needs to be followed to the etcd it starts: simple
//! commands separated by `;`, `&`, `&&`, `||`, `|` and newlines; leading `NAME=value`
//! assignments (for that command's environment, or for the shell's variables when nothing
//! follows); `export`, `unset`, `exec`, `cd`; quoting (`'...'`, `"..."`, `\`), backslash-newline
//! continuation, comments; `$VAR`, `${VAR}`, `${VAR:-word}` and its siblings, `$1`..,
//! `"$@"`, `$*`, `$#`; field splitting of unquoted expansions; redirections dropped.
//!
//! Command substitution (`$(...)`, backquotes), arithmetic, other parameter operations and
//! special parameters (`$$`, `$?`, ...) are not evaluated: their text is kept as written and
//! noted. Globbing, tilde expansion, aliases, functions and compound commands (`if`, `for`,
//! `case`, subshells) are not modelled; their keywords are skipped, so that the commands inside
//! are still seen.

use std::collections::BTreeMap;

/// A simple command the script runs, with what it is run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShellCommand {
    /// The command's own `NAME=value` prefix assignments (added to its environment).
    pub(crate) assigns: Vec<(String, String)>,
    /// The words, expanded.
    pub(crate) argv: Vec<String>,
    /// The exported variables at that point (the environment the command inherits).
    pub(crate) env: BTreeMap<String, String>,
    /// The working directory, when the script changed it with `cd /absolute/path`.
    pub(crate) cwd: Option<String>,
    /// Parts of its words or assignments not evaluated (`$(nproc)`), as written.
    pub(crate) opaque: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Unquoted text.
    Lit(String),
    /// Quoted text (no splitting).
    Quoted(String),
    /// A parameter.
    Param {
        name: String,
        quoted: bool,
        op: Option<(String, Vec<Part>)>,
    },
    /// Something not evaluated, as written.
    Opaque { text: String, quoted: bool },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Word {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(Word),
    /// `;`, `&`, `|`, `&&`, `||`, `(`, `)`, newline.
    Separator,
    /// `<`, `>`, `>>`, ...: the next word is its target.
    Redirect,
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 32;

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn tokens(&mut self) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut word = Word::default();
        let mut started = false;
        let finish = |tokens: &mut Vec<Token>, word: &mut Word, started: &mut bool| {
            if *started {
                tokens.push(Token::Word(std::mem::take(word)));
                *started = false;
            }
        };
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' => {
                    finish(&mut tokens, &mut word, &mut started);
                    self.pos += 1;
                }
                '\n' | ';' | '&' | '|' | '(' | ')' => {
                    // An all-digit word before `>&`... is an fd number: `2>&1`.
                    if c == '&' && self.peek(1) == Some('>') {
                        finish(&mut tokens, &mut word, &mut started);
                        self.pos += 2;
                        if self.peek(0) == Some('>') {
                            self.pos += 1;
                        }
                        tokens.push(Token::Redirect);
                        continue;
                    }
                    finish(&mut tokens, &mut word, &mut started);
                    self.pos += 1;
                    if matches!(
                        (c, self.peek(0)),
                        ('&', Some('&')) | ('|', Some('|')) | (';', Some(';'))
                    ) {
                        self.pos += 1;
                    }
                    tokens.push(Token::Separator);
                }
                '<' | '>' => {
                    let digits = word.parts.len() == 1
                        && matches!(&word.parts[0], Part::Lit(s) if s.chars().all(|c| c.is_ascii_digit()));
                    if digits {
                        word = Word::default();
                        started = false;
                    } else {
                        finish(&mut tokens, &mut word, &mut started);
                    }
                    self.pos += 1;
                    while matches!(self.peek(0), Some('<' | '>' | '&' | '|' | '-')) {
                        self.pos += 1;
                    }
                    tokens.push(Token::Redirect);
                }
                '#' if !started => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                _ => {
                    started = true;
                    self.word_part(&mut word.parts, false);
                }
            }
        }
        finish(&mut tokens, &mut word, &mut started);
        tokens
    }

    /// One piece of a word at `pos`; `in_braces`: inside `${...:-word}`, where `}` ends it.
    fn word_part(&mut self, parts: &mut Vec<Part>, in_braces: bool) {
        let Some(c) = self.peek(0) else { return };
        match c {
            '\\' => {
                self.pos += 1;
                match self.peek(0) {
                    Some('\n') => self.pos += 1,
                    Some(n) => {
                        self.pos += 1;
                        parts.push(Part::Quoted(n.to_string()));
                    }
                    None => parts.push(Part::Lit("\\".into())),
                }
            }
            '\'' => {
                self.pos += 1;
                let start = self.pos;
                while self.peek(0).is_some_and(|c| c != '\'') {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                self.pos = (self.pos + 1).min(self.chars.len());
                parts.push(Part::Quoted(text));
            }
            '"' => {
                self.pos += 1;
                self.double_quoted(parts);
            }
            '$' => self.dollar(parts, false),
            '`' => {
                let text = self.backquoted();
                parts.push(Part::Opaque {
                    text,
                    quoted: false,
                });
            }
            _ => {
                let mut text = String::new();
                while let Some(c) = self.peek(0) {
                    if matches!(
                        c,
                        ' ' | '\t'
                            | '\n'
                            | ';'
                            | '&'
                            | '|'
                            | '('
                            | ')'
                            | '<'
                            | '>'
                            | '\\'
                            | '\''
                            | '"'
                            | '$'
                            | '`'
                    ) || (in_braces && c == '}')
                    {
                        break;
                    }
                    text.push(c);
                    self.pos += 1;
                }
                if text.is_empty() {
                    // A character that ends words, met where a word part was expected.
                    text.push(c);
                    self.pos += 1;
                }
                parts.push(Part::Lit(text));
            }
        }
    }

    fn double_quoted(&mut self, parts: &mut Vec<Part>) {
        let mut text = String::new();
        let flush = |text: &mut String, parts: &mut Vec<Part>| {
            if !text.is_empty() {
                parts.push(Part::Quoted(std::mem::take(text)));
            }
        };
        // An empty "" still makes a word.
        parts.push(Part::Quoted(String::new()));
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.pos += 1;
                    break;
                }
                '\\' => {
                    self.pos += 1;
                    match self.peek(0) {
                        Some('\n') => self.pos += 1,
                        Some(n @ ('$' | '`' | '"' | '\\')) => {
                            self.pos += 1;
                            text.push(n);
                        }
                        _ => text.push('\\'),
                    }
                }
                '$' => {
                    flush(&mut text, parts);
                    self.dollar(parts, true);
                }
                '`' => {
                    flush(&mut text, parts);
                    let t = self.backquoted();
                    parts.push(Part::Opaque {
                        text: t,
                        quoted: true,
                    });
                }
                c => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut text, parts);
    }

    fn backquoted(&mut self) -> String {
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            if c == '\\' {
                self.pos += 1;
            } else if c == '`' {
                break;
            }
        }
        self.pos = self.pos.min(self.chars.len());
        self.chars[start..self.pos].iter().collect()
    }

    /// The text from `pos` through the parenthesis matching the one before it.
    fn until_close_paren(&mut self, start: usize) -> String {
        let mut depth = 1usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), '\\') | (None, '\\') => self.pos += 1,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        self.pos = self.pos.min(self.chars.len());
        self.chars[start..self.pos].iter().collect()
    }

    fn dollar(&mut self, parts: &mut Vec<Part>, quoted: bool) {
        let start = self.pos;
        self.pos += 1;
        match self.peek(0) {
            Some('(') => {
                self.pos += 1;
                let text = self.until_close_paren(start);
                parts.push(Part::Opaque { text, quoted });
            }
            Some('{') => {
                self.pos += 1;
                self.braced(parts, quoted, start);
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let mut name = String::new();
                while let Some(c) = self
                    .peek(0)
                    .filter(|c| *c == '_' || c.is_ascii_alphanumeric())
                {
                    name.push(c);
                    self.pos += 1;
                }
                parts.push(Part::Param {
                    name,
                    quoted,
                    op: None,
                });
            }
            Some(c) if c.is_ascii_digit() || matches!(c, '@' | '*' | '#') => {
                self.pos += 1;
                parts.push(Part::Param {
                    name: c.to_string(),
                    quoted,
                    op: None,
                });
            }
            Some(c @ ('?' | '$' | '!' | '-')) => {
                self.pos += 1;
                parts.push(Part::Opaque {
                    text: format!("${c}"),
                    quoted,
                });
            }
            _ => parts.push(if quoted {
                Part::Quoted("$".into())
            } else {
                Part::Lit("$".into())
            }),
        }
    }

    /// `${...}` after the brace.
    fn braced(&mut self, parts: &mut Vec<Part>, quoted: bool, start: usize) {
        let mut name = String::new();
        if let Some(c) = self.peek(0).filter(|c| matches!(c, '@' | '*' | '#')) {
            if self.peek(1) == Some('}') {
                name.push(c);
                self.pos += 1;
            }
        }
        while name.is_empty() || !matches!(name.as_str(), "@" | "*" | "#") {
            match self.peek(0) {
                Some(c) if c == '_' || c.is_ascii_alphanumeric() => {
                    name.push(c);
                    self.pos += 1;
                }
                _ => break,
            }
        }
        let valid = !name.is_empty()
            && (name.chars().all(|c| c.is_ascii_digit())
                || matches!(name.as_str(), "@" | "*" | "#")
                || !name.starts_with(|c: char| c.is_ascii_digit()));
        if valid && self.peek(0) == Some('}') {
            self.pos += 1;
            parts.push(Part::Param {
                name,
                quoted,
                op: None,
            });
            return;
        }
        let op = match (self.peek(0), self.peek(1)) {
            (Some(':'), Some(o @ ('-' | '=' | '+' | '?'))) => Some(format!(":{o}")),
            (Some(o @ ('-' | '=' | '+' | '?')), _) => Some(o.to_string()),
            _ => None,
        };
        if let (true, Some(op)) = (valid && self.depth < MAX_DEPTH, op) {
            self.pos += op.len();
            self.depth += 1;
            let mut word = Vec::new();
            while self.peek(0).is_some_and(|c| c != '}') {
                let before = self.pos;
                self.word_part(&mut word, true);
                if self.pos == before {
                    self.pos += 1;
                }
            }
            self.depth -= 1;
            self.pos = (self.pos + 1).min(self.chars.len());
            parts.push(Part::Param {
                name,
                quoted,
                op: Some((op, word)),
            });
            return;
        }
        // Anything else (`${#x}`, `${x%y}`, ...): kept as written.
        let mut depth = 1;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            if c == '{' {
                depth += 1;
            } else if c == '}' {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
        }
        let text = self.chars[start..self.pos.min(self.chars.len())]
            .iter()
            .collect();
        parts.push(Part::Opaque { text, quoted });
    }
}

/// The shell's variables: value, exported.
type Vars = BTreeMap<String, (String, bool)>;

struct Expander<'a> {
    vars: &'a mut Vars,
    positional: &'a [String],
    opaque: Vec<String>,
}

impl Expander<'_> {
    /// A parameter's value; `None` when unset.
    fn param(&self, name: &str) -> Option<String> {
        match name {
            "@" | "*" => Some(self.positional.get(1..).unwrap_or_default().join(" ")),
            "#" => Some(self.positional.len().saturating_sub(1).to_string()),
            n if n.chars().all(|c| c.is_ascii_digit()) => n
                .parse::<usize>()
                .ok()
                .and_then(|i| self.positional.get(i).cloned()),
            n => self.vars.get(n).map(|(v, _)| v.clone()),
        }
    }

    /// Expands a word into fields (`split`: field splitting of unquoted expansions).
    fn fields(&mut self, parts: &[Part], split: bool) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut keep = false;
        for part in parts {
            match part {
                Part::Lit(s) => current.push_str(s),
                Part::Quoted(s) => {
                    current.push_str(s);
                    keep = true;
                }
                Part::Opaque { text, quoted } => {
                    self.opaque.push(text.clone());
                    current.push_str(text);
                    keep |= *quoted;
                }
                Part::Param { name, quoted, op } => {
                    if name == "@" && *quoted && op.is_none() {
                        let params = self.positional.get(1..).unwrap_or_default();
                        for (i, p) in params.iter().enumerate() {
                            current.push_str(p);
                            if i + 1 < params.len() {
                                fields.push(std::mem::take(&mut current));
                            }
                        }
                        keep |= !params.is_empty();
                        continue;
                    }
                    let value = self.param_value(name, op.as_ref());
                    if *quoted || !split {
                        current.push_str(&value);
                        keep |= *quoted;
                    } else {
                        let mut pieces = value.split([' ', '\t', '\n']);
                        if let Some(first) = pieces.next() {
                            current.push_str(first);
                        }
                        for piece in pieces {
                            if !current.is_empty() || keep {
                                fields.push(std::mem::take(&mut current));
                                keep = false;
                            }
                            current.push_str(piece);
                        }
                    }
                }
            }
        }
        if !current.is_empty() || keep {
            fields.push(current);
        }
        if !split {
            return vec![fields.join(" ")];
        }
        fields
    }

    fn param_value(&mut self, name: &str, op: Option<&(String, Vec<Part>)>) -> String {
        let value = self.param(name);
        let Some((op, word)) = op else {
            return value.unwrap_or_default();
        };
        let colon = op.starts_with(':');
        let unset = value.is_none() || (colon && value.as_deref() == Some(""));
        match op.trim_start_matches(':') {
            "-" if unset => self.fields(word, false).join(" "),
            "=" if unset => {
                let v = self.fields(word, false).join(" ");
                let exported = self.vars.get(name).is_some_and(|(_, e)| *e);
                self.vars.insert(name.to_string(), (v.clone(), exported));
                v
            }
            "+" if !unset => self.fields(word, false).join(" "),
            "+" => String::new(),
            "?" if unset => {
                self.opaque
                    .push(format!("${{{name}{op}...}} (unset: the shell stops)"));
                String::new()
            }
            _ => value.unwrap_or_default(),
        }
    }
}

/// Whether a word is `NAME=...` (the name unquoted and valid).
fn assignment(word: &Word) -> Option<(String, Vec<Part>)> {
    let Some(Part::Lit(first)) = word.parts.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if !super::env_file::valid_name(name) {
        return None;
    }
    let mut value = Vec::with_capacity(word.parts.len());
    if !rest.is_empty() {
        value.push(Part::Lit(rest.to_string()));
    }
    value.extend(word.parts[1..].iter().cloned());
    Some((name.to_string(), value))
}

fn literal(word: &Word) -> Option<String> {
    let mut s = String::new();
    for p in &word.parts {
        match p {
            Part::Lit(t) | Part::Quoted(t) => s.push_str(t),
            _ => return None,
        }
    }
    Some(s)
}

/// Follows a script: every simple command it runs, in order. `env` is the shell's environment;
/// `positional` is `$0`, `$1`, ... (the words after the script in `sh -c SCRIPT ...`).
pub(crate) fn run_script(
    script: &str,
    env: &BTreeMap<String, String>,
    positional: &[String],
) -> Vec<ShellCommand> {
    let mut lexer = Lexer {
        chars: script.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let tokens = lexer.tokens();
    let mut vars: Vars = env
        .iter()
        .map(|(k, v)| (k.clone(), (v.clone(), true)))
        .collect();
    let mut cwd: Option<String> = None;
    let mut commands = Vec::new();
    let mut simple: Vec<Word> = Vec::new();
    let mut skip_next = false;
    let mut iter = tokens.into_iter().peekable();
    loop {
        let token = iter.next();
        match token {
            Some(Token::Word(w)) => {
                if skip_next {
                    skip_next = false;
                } else {
                    simple.push(w);
                }
                continue;
            }
            Some(Token::Redirect) => {
                skip_next = true;
                continue;
            }
            Some(Token::Separator) | None => {}
        }
        skip_next = false;
        let words = std::mem::take(&mut simple);
        if !words.is_empty() {
            if let Some(c) = run_simple(words, &mut vars, positional, &mut cwd) {
                commands.push(c);
            }
        }
        if token.is_none() {
            break;
        }
    }
    commands
}

/// One simple command: its assignments and expansions made, builtins that change the shell
/// applied.
fn run_simple(
    words: Vec<Word>,
    vars: &mut Vars,
    positional: &[String],
    cwd: &mut Option<String>,
) -> Option<ShellCommand> {
    let mut words: &[Word] = &words;
    // Reserved words of compound commands: skipped, so that the commands inside are seen.
    while let Some(first) = words.first().and_then(literal) {
        match first.as_str() {
            "!" | "{" | "}" | "then" | "do" | "else" | "if" | "elif" | "while" | "until" | "fi"
            | "done" | "esac" | "time" => words = &words[1..],
            "for" | "case" | "function" => return None,
            _ => break,
        }
    }
    let mut assigns_raw = Vec::new();
    while let Some(a) = words.first().and_then(assignment) {
        assigns_raw.push(a);
        words = &words[1..];
    }
    let mut ex = Expander {
        vars,
        positional,
        opaque: Vec::new(),
    };
    let mut argv = Vec::new();
    for w in words {
        argv.extend(ex.fields(&w.parts, true));
    }
    let assigns: Vec<(String, String)> = assigns_raw
        .iter()
        .map(|(n, v)| (n.clone(), ex.fields(v, false).join("")))
        .collect();
    let opaque = std::mem::take(&mut ex.opaque);
    if argv.is_empty() {
        for (name, value) in assigns {
            let exported = vars.get(&name).is_some_and(|(_, e)| *e);
            vars.insert(name, (value, exported));
        }
        return None;
    }
    match argv[0].as_str() {
        "export" | "readonly" | "declare" | "typeset" | "local" => {
            let export = argv[0] == "export";
            for arg in argv.iter().skip(1).filter(|a| !a.starts_with('-')) {
                match arg.split_once('=') {
                    Some((n, v)) if super::env_file::valid_name(n) => {
                        let exported = export || vars.get(n).is_some_and(|(_, e)| *e);
                        vars.insert(n.to_string(), (v.to_string(), exported));
                    }
                    _ if export => {
                        if let Some(entry) = vars.get_mut(arg) {
                            entry.1 = true;
                        } else {
                            vars.insert(arg.clone(), (String::new(), true));
                        }
                    }
                    _ => {}
                }
            }
            return None;
        }
        "unset" => {
            for arg in argv.iter().skip(1).filter(|a| !a.starts_with('-')) {
                vars.remove(arg);
            }
            return None;
        }
        "cd" => {
            match argv.get(1) {
                Some(dir) if dir.starts_with('/') => *cwd = Some(dir.clone()),
                Some(dir) => {
                    *cwd = cwd
                        .as_ref()
                        .map(|c| format!("{}/{dir}", c.trim_end_matches('/')));
                }
                None => {}
            }
            return None;
        }
        _ => {}
    }
    if argv[0] == "exec" {
        argv.remove(0);
        while let Some(opt) = argv.first().cloned() {
            match opt.as_str() {
                "-a" => {
                    argv.drain(..argv.len().min(2));
                }
                "-c" | "-l" | "-cl" | "-lc" => {
                    argv.remove(0);
                }
                "--" => {
                    argv.remove(0);
                    break;
                }
                _ => break,
            }
        }
        if argv.is_empty() {
            return None;
        }
    }
    let env = vars
        .iter()
        .filter(|(_, (_, exported))| *exported)
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect();
    Some(ShellCommand {
        assigns,
        argv,
        env,
        cwd: cwd.clone(),
        opaque,
    })
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

    fn run(script: &str, e: &[(&str, &str)]) -> Vec<ShellCommand> {
        run_script(script, &env(e), &["sh".to_string()])
    }

    #[test]
    fn the_seed_script() {
        // What systemd hands bash for the seed unit: `${VAR}` already substituted, the
        // backslash-newlines turned into spaces by the unit-file reader.
        let script = "GOMAXPROCS=$(nproc) /opt/etcd/etcd            --data-dir /data/etcd            --name infra3            --client-cert-auth";
        let c = run(script, &[]);
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].assigns,
            vec![("GOMAXPROCS".to_string(), "$(nproc)".to_string())]
        );
        assert_eq!(
            c[0].argv,
            vec![
                "/opt/etcd/etcd",
                "--data-dir",
                "/data/etcd",
                "--name",
                "infra3",
                "--client-cert-auth"
            ]
        );
        assert_eq!(c[0].opaque, vec!["$(nproc)"]);
    }

    #[test]
    fn variables_quotes_and_continuations() {
        let c = run(
            "exec etcd --name $NAME \\\n  --initial-cluster \"${CLUSTER}\" --x='a b' --y=\"$A\"'$A' \\$NAME $UNSET --d=${D:-/var/lib/etcd} --s=$SPLIT",
            &[("NAME", "infra0"), ("CLUSTER", "a=https://1.2.3.4:2380"), ("A", "v"), ("SPLIT", "p q")],
        );
        assert_eq!(
            c[0].argv,
            vec![
                "etcd",
                "--name",
                "infra0",
                "--initial-cluster",
                "a=https://1.2.3.4:2380",
                "--x=a b",
                "--y=v$A",
                "$NAME",
                "--d=/var/lib/etcd",
                "--s=p",
                "q"
            ]
        );
    }

    #[test]
    fn assignments_exports_and_sequences() {
        let c = run(
            "set -e; ETCD_NAME=local; export ETCD_DATA_DIR=/d; X=1 Y=2; cd /var/lib/etcd && ETCD_LISTEN=a /usr/bin/etcd --z=$X 2>&1 >/var/log/etcd.log; echo done",
            &[("ETCD_NAME", "from-env")],
        );
        let etcd = &c[1];
        assert_eq!(etcd.argv, vec!["/usr/bin/etcd", "--z=1"]);
        assert_eq!(
            etcd.assigns,
            vec![("ETCD_LISTEN".to_string(), "a".to_string())]
        );
        // ETCD_NAME came from the environment, so the new value is exported; X is not.
        assert_eq!(etcd.env.get("ETCD_NAME").map(String::as_str), Some("local"));
        assert_eq!(
            etcd.env.get("ETCD_DATA_DIR").map(String::as_str),
            Some("/d")
        );
        assert!(!etcd.env.contains_key("X"));
        assert_eq!(etcd.cwd.as_deref(), Some("/var/lib/etcd"));
        assert_eq!(c[2].argv, vec!["echo", "done"]);
    }

    #[test]
    fn positional_parameters() {
        let c = run_script(
            "exec /usr/local/bin/etcd \"$@\"",
            &BTreeMap::new(),
            &["etcd".into(), "--name".into(), "a b".into()],
        );
        assert_eq!(c[0].argv, vec!["/usr/local/bin/etcd", "--name", "a b"]);
        let c = run_script(
            "etcd $1 ${2}",
            &BTreeMap::new(),
            &["x".into(), "--a".into(), "--b".into()],
        );
        assert_eq!(c[0].argv, vec!["etcd", "--a", "--b"]);
    }

    #[test]
    fn comments_keywords_and_opaque_parts() {
        let c = run(
            "# start etcd\nif [ -f /x ]; then\n  etcd --name `hostname` --t=$((1+2)) --u=${#X} # trailing\nfi",
            &[],
        );
        assert_eq!(c[0].argv, vec!["[", "-f", "/x", "]"]);
        assert_eq!(
            c[1].argv,
            vec!["etcd", "--name", "`hostname`", "--t=$((1+2))", "--u=${#X}"]
        );
        assert_eq!(c[1].opaque.len(), 3);
    }

    #[test]
    fn empty_quotes_make_a_word_and_empty_expansions_none() {
        let c = run("etcd \"\" $EMPTY ''", &[("EMPTY", "")]);
        assert_eq!(c[0].argv, vec!["etcd", "", ""]);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "$", "${", "${x", "$(", "\"", "'", "\\", "`", "${x:-", "a=b", "exec", "exec -a", ">",
            "2>", "${@}", "${1x}", "$((", "&&||;;",
        ] {
            let _ = run(s, &[]);
        }
    }
}
