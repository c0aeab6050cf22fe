//! Every parser here on arbitrary text: no panic, no hang (deterministic pseudo-random inputs
//! built from the characters each syntax gives meaning to).

use std::collections::BTreeMap;
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn text(&mut self, alphabet: &[&str], max: usize) -> String {
        let len = (self.next() % max as u64) as usize;
        (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
            .collect()
    }
}

const ALPHABET: &[&str] = &[
    "a",
    "Z",
    "0",
    "9",
    "_",
    "-",
    "--",
    "=",
    " ",
    "\t",
    "\n",
    "\r",
    "\\",
    "'",
    "\"",
    "$",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    ";",
    "&",
    "|",
    "<",
    ">",
    "#",
    "%",
    "@",
    "!",
    "+",
    ",",
    ".",
    "/",
    "*",
    "?",
    "`",
    "~",
    "é",
    "\u{212a}",
    "\0",
    "name",
    "ETCD_",
    "etcd",
    "sh",
    "-c",
    "cert-file",
    "peer-transport-security",
    "<<",
    "&a",
    "*a",
    "- ",
    ": ",
    "!!str",
    "0x",
    "1e9",
    ".inf",
    "yes",
    "http://",
    "https://[::1]:2379",
    "${",
    "$(",
    "\\x4",
    "\\u12",
];

#[test]
fn parsers_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let env: BTreeMap<String, String> = [("A".to_string(), "x y".to_string())].into();
    for _ in 0..20_000 {
        let text = rng.text(ALPHABET, 60);
        let words: Vec<String> = text.split(' ').map(str::to_string).collect();
        let _ = super::args::parse_args(&words, None);
        let _ = super::yaml::read_config(&text, Path::new("/x.yml"), None);
        let _ = super::yaml::read_config(
            &text,
            Path::new("/x.yml"),
            super::version::Version::parse("3.5.14"),
        );
        let _ = super::env_file::parse_env_file(text.as_bytes());
        if let Ok(commands) = super::exec::parse_exec(&text) {
            for c in commands {
                let _ = super::exec::expand_argv(&c.argv, &env);
            }
        }
        let _ = super::shell::run_script(&text, &env, &words);
        let _ = super::command::find_etcd(&words, &env);
        let _ = super::unit_file::UnitFile::parse(&text);
        let _ = super::unit_file::expand_specifiers(&text, Path::new("/a@b.service"));
        let _ = super::manifest::expand(&text, &[("A".into(), "1".into())]);
        let _ = super::go_values::new_urls(&text);
        let _ = super::go_values::check_duration(&text);
        let _ = super::go_values::parse_int(&text, 64);
        let _ = super::resolve(
            &words,
            &[("ETCD_NAME".into(), text.clone())],
            super::EnvOrigin::Given,
            super::Origin::Args,
            Path::new("/nonexistent"),
            None,
            None,
        );
    }
}
