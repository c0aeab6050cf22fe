//! etcd's command line as Go's `flag` package parses it (golang/go `src/flag/flag.go`
//! `FlagSet.parseOne`, the same in the Go 1.17 that builds etcd 3.4.23 and the Go 1.22 that
//! builds 3.5.16), with etcd's `FlagSet` (`flag.NewFlagSet("etcd", flag.ContinueOnError)`) and
//! what `config.parse` does with the outcome (`etcdmain/config.go` v3.4.23 lines 278–300,
//! `server/etcdmain/config.go` v3.5.16 lines 320–340):
//!
//! * `-f`, `--f`, `-f=v`, `--f=v`, and `-f v` / `--f v` for flags that are not booleans (the next
//!   argument is the value whatever it looks like, even `--other`);
//! * a boolean given bare is true; `--f true` leaves `true` as a positional argument;
//! * parsing stops at the first argument that is not a flag (`-` is not), or after `--`; any
//!   argument left then makes etcd fail with `'X' is not a valid flag` (exit 1);
//! * an unknown flag, a bad value, `---f` or `-=v` stop parsing with Go's message and exit 2;
//!   `-h`/`-help` (not etcd flags) print the usage and exit 0; `--version` prints the version
//!   and exits 0;
//! * a flag may repeat: each occurrence is set in order, so the last one wins.

use super::go_values::{check_flag_value, go_quote};
use super::keys::{flag_spec, FlagSpec};
use super::version::Version;
use super::{parse_go_bool, ConfigProblem};

/// One flag occurrence on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlagUse {
    /// The flag's registration.
    pub(crate) spec: &'static FlagSpec,
    /// The value etcd's `flag.Value.Set` received (`true` for a bare boolean).
    pub(crate) value: String,
    /// The argument(s) as written: `--cert-file=/x`, `--name infra0`, `-client-cert-auth`.
    pub(crate) text: String,
}

/// The outcome of parsing etcd's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedArgs {
    /// The flags parsed, in command-line order (up to a parse error, where Go stops).
    pub(crate) flags: Vec<FlagUse>,
    /// What etcd refuses (or does instead of starting).
    pub(crate) problems: Vec<ConfigProblem>,
}

impl ParsedArgs {
    /// The last occurrence of a flag (the one that wins).
    pub(crate) fn last(&self, name: &str) -> Option<&FlagUse> {
        self.flags.iter().rev().find(|f| f.spec.name == name)
    }

    /// Whether the flag was given (Go's `FlagSet.Visit` sees it).
    pub(crate) fn is_set(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f.spec.name == name)
    }
}

/// Parses etcd's arguments (without the program name). With `version`, a flag that release does
/// not register is unknown; without, any flag of 3.4 or 3.5 is accepted.
pub(crate) fn parse_args(args: &[String], version: Option<Version>) -> ParsedArgs {
    let mut out = ParsedArgs::default();
    let mut i = 0;
    let leftovers: &[String] = loop {
        let Some(s) = args.get(i) else {
            break &[];
        };
        if s.len() < 2 || !s.starts_with('-') {
            break &args[i..];
        }
        let dashes = if s.as_bytes()[1] == b'-' {
            if s.len() == 2 {
                break &args[i + 1..];
            }
            2
        } else {
            1
        };
        let body = &s[dashes..];
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            out.problems.push(exit2(format!("bad flag syntax: {s}")));
            return out;
        }
        i += 1;
        // `name=value`: the first `=` after the first character.
        let (name, value) = match body.bytes().skip(1).position(|b| b == b'=') {
            Some(at) => (&body[..at + 1], Some(&body[at + 2..])),
            None => (body, None),
        };
        let spec = match flag_spec(name).filter(|f| f.in_version(version)) {
            Some(spec) => spec,
            None => {
                if name == "help" || name == "h" {
                    out.problems.push(ConfigProblem::fatal(format!(
                        "{s} makes etcd print its usage and exit (status 0) without starting"
                    )));
                } else {
                    out.problems.push(unknown_flag(name, version));
                }
                return out;
            }
        };
        if spec.is_bool() {
            let value = value.unwrap_or("true");
            if parse_go_bool(value).is_none() && spec.ty == super::keys::FlagType::Bool {
                out.problems.push(exit2(format!(
                    "invalid boolean value {} for -{name}: parse error",
                    go_quote(value)
                )));
                return out;
            }
            if spec.ty == super::keys::FlagType::Ignored {
                let hint = if name == "config" {
                    ": the config file is --config-file"
                } else {
                    ""
                };
                out.problems.push(ConfigProblem::warning(format!(
                    "{s} is a flag etcd accepts and ignores (no longer supported){hint}"
                )));
            }
            out.flags.push(FlagUse {
                spec,
                value: value.to_string(),
                text: s.clone(),
            });
            continue;
        }
        let (value, text) = match value {
            Some(v) => (v.to_string(), s.clone()),
            None => match args.get(i) {
                Some(next) => {
                    i += 1;
                    (next.clone(), format!("{s} {next}"))
                }
                None => {
                    out.problems
                        .push(exit2(format!("flag needs an argument: -{name}")));
                    return out;
                }
            },
        };
        if let Err(why) = check_flag_value(spec.ty, &value) {
            out.problems.push(exit2(format!(
                "invalid value {} for flag -{name}: {why}",
                go_quote(&value)
            )));
            return out;
        }
        out.flags.push(FlagUse { spec, value, text });
    };
    if let Some(first) = leftovers.first() {
        let mut message = format!("'{first}' is not a valid flag");
        if let Some(before) = out.flags.last().filter(|f| f.spec.is_bool()) {
            if parse_go_bool(first).is_some() && !before.text.contains('=') {
                message.push_str(&format!(
                    " ({} takes no separate value: write --{}={first})",
                    before.text, before.spec.name
                ));
            }
        }
        message.push_str(": etcd exits (status 1) when an argument is left after its flags");
        out.problems.push(ConfigProblem::fatal(message));
    }
    if out
        .last("version")
        .is_some_and(|f| parse_go_bool(&f.value) == Some(true))
    {
        out.problems.push(ConfigProblem::fatal(
            "--version makes etcd print its version and exit (status 0) without starting".into(),
        ));
    }
    out
}

/// A parse error: Go prints it with the usage, and etcd exits with status 2.
fn exit2(message: String) -> ConfigProblem {
    ConfigProblem::fatal(format!("{message} (etcd exits with status 2)"))
}

fn unknown_flag(name: &str, version: Option<Version>) -> ConfigProblem {
    let mut message = format!("flag provided but not defined: -{name}");
    if let (Some(v), Some(spec)) = (version, flag_spec(name)) {
        let hint = match (v.minor, spec.since_34, spec.since_35) {
            (4, Some(s), _) => Some(format!("came with etcd 3.4.{s}")),
            (4, None, Some(s)) => Some(format!("came with etcd 3.5.{s}")),
            (5, _, Some(s)) => Some(format!("came with etcd 3.5.{s}")),
            (5, Some(_), None) => Some("exists in etcd 3.4 only".to_string()),
            _ => None,
        };
        if let Some(hint) = hint {
            message.push_str(&format!(" (--{name} {hint}; this member runs etcd {v})"));
        }
    }
    exit2(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn parse(list: &[&str]) -> ParsedArgs {
        parse_args(&args(list), None)
    }

    fn values(p: &ParsedArgs) -> Vec<(&str, &str)> {
        p.flags
            .iter()
            .map(|f| (f.spec.name, f.value.as_str()))
            .collect()
    }

    #[test]
    fn all_go_forms() {
        let p = parse(&[
            "-name",
            "infra0",
            "--data-dir=/var/lib/etcd",
            "-cert-file=/a.pem",
            "--key-file",
            "/a-key.pem",
            "-client-cert-auth",
            "--peer-client-cert-auth=false",
        ]);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(
            values(&p),
            vec![
                ("name", "infra0"),
                ("data-dir", "/var/lib/etcd"),
                ("cert-file", "/a.pem"),
                ("key-file", "/a-key.pem"),
                ("client-cert-auth", "true"),
                ("peer-client-cert-auth", "false"),
            ]
        );
        assert_eq!(p.flags[0].text, "-name infra0");
        assert_eq!(p.flags[3].text, "--key-file /a-key.pem");
        assert_eq!(p.flags[4].text, "-client-cert-auth");
    }

    #[test]
    fn boolean_forms() {
        for (arg, value) in [
            ("--client-cert-auth", "true"),
            ("--client-cert-auth=true", "true"),
            ("--client-cert-auth=1", "1"),
            ("--client-cert-auth=T", "T"),
            ("--client-cert-auth=False", "False"),
            ("-client-cert-auth=0", "0"),
        ] {
            let p = parse(&[arg]);
            assert!(p.problems.is_empty(), "{arg}");
            assert_eq!(values(&p), vec![("client-cert-auth", value)]);
        }
        let p = parse(&["--client-cert-auth=yes"]);
        assert_eq!(
            p.problems[0].message,
            "invalid boolean value \"yes\" for -client-cert-auth: parse error (etcd exits with status 2)"
        );
        assert!(p.problems[0].fatal);
        let p = parse(&["--client-cert-auth="]);
        assert!(p.problems[0]
            .message
            .starts_with("invalid boolean value \"\""));
    }

    #[test]
    fn boolean_with_separate_value_is_a_positional_argument() {
        let p = parse(&["--client-cert-auth", "true", "--cert-file=/a.pem"]);
        assert_eq!(values(&p), vec![("client-cert-auth", "true")]);
        assert_eq!(p.problems.len(), 1);
        assert!(p.problems[0].fatal);
        assert!(
            p.problems[0]
                .message
                .starts_with("'true' is not a valid flag"),
            "{}",
            p.problems[0].message
        );
        assert!(p.problems[0]
            .message
            .contains("write --client-cert-auth=true"));
    }

    #[test]
    fn value_taken_even_when_it_looks_like_a_flag() {
        let p = parse(&["--name", "--data-dir=/x"]);
        assert!(p.problems.is_empty());
        assert_eq!(values(&p), vec![("name", "--data-dir=/x")]);
    }

    #[test]
    fn repeated_flags_in_order() {
        let p = parse(&["--name=a", "--name", "b"]);
        assert_eq!(values(&p), vec![("name", "a"), ("name", "b")]);
        assert_eq!(p.last("name").map(|f| f.value.as_str()), Some("b"));
    }

    #[test]
    fn unknown_flag_is_fatal_and_stops_parsing() {
        let p = parse(&["--peer-cert-fil=/x", "--name=a"]);
        assert!(p.flags.is_empty());
        assert_eq!(
            p.problems,
            vec![ConfigProblem::fatal(
                "flag provided but not defined: -peer-cert-fil (etcd exits with status 2)".into()
            )]
        );
    }

    #[test]
    fn version_aware() {
        let list = args(&["--client-cert-file=/c.pem"]);
        assert!(parse_args(&list, None).problems.is_empty());
        assert!(parse_args(&list, Version::parse("3.5.16"))
            .problems
            .is_empty());
        let p = parse_args(&list, Version::parse("3.4.23"));
        assert!(p.problems[0].fatal);
        assert!(p.problems[0]
            .message
            .starts_with("flag provided but not defined: -client-cert-file"));
        assert!(
            p.problems[0].message.contains("etcd 3.5.0"),
            "{}",
            p.problems[0].message
        );
        let p = parse_args(&args(&["--debug"]), Version::parse("3.5.16"));
        assert!(
            p.problems[0].message.contains("3.4 only"),
            "{}",
            p.problems[0].message
        );
        let p = parse_args(
            &args(&["--tls-min-version=TLS1.3"]),
            Version::parse("3.4.24"),
        );
        assert!(
            p.problems[0].message.contains("etcd 3.4.25"),
            "{}",
            p.problems[0].message
        );
    }

    #[test]
    fn syntax_errors() {
        assert!(parse(&["---name=a"]).problems[0]
            .message
            .starts_with("bad flag syntax: ---name=a"));
        assert!(parse(&["-=a"]).problems[0]
            .message
            .starts_with("bad flag syntax: -=a"));
        assert!(parse(&["--name"]).problems[0]
            .message
            .starts_with("flag needs an argument: -name"));
        assert!(parse(&["--listen-client-urls=localhost:2379"]).problems[0]
            .message
            .starts_with(
                "invalid value \"localhost:2379\" for flag -listen-client-urls: URL scheme must be"
            ));
        assert!(parse(&["--initial-cluster-state=old"]).problems[0]
            .message
            .starts_with("invalid value \"old\" for flag -initial-cluster-state: invalid value"));
        assert!(parse(&["--heartbeat-interval=1s"]).problems[0]
            .message
            .contains("parse error"));
        assert!(parse(&["--listen-client-urls="]).problems.is_empty());
    }

    #[test]
    fn terminators_and_positionals() {
        let p = parse(&["--name=a", "--"]);
        assert!(p.problems.is_empty());
        let p = parse(&["--name=a", "--", "--data-dir=/x"]);
        assert!(p.problems[0]
            .message
            .starts_with("'--data-dir=/x' is not a valid flag"));
        let p = parse(&["-", "--name=a"]);
        assert!(p.problems[0].message.starts_with("'-' is not a valid flag"));
        let p = parse(&["etcd", "--name=a"]);
        assert!(p.problems[0]
            .message
            .starts_with("'etcd' is not a valid flag"));
        let p = parse(&[""]);
        assert!(p.problems[0].message.starts_with("'' is not a valid flag"));
    }

    #[test]
    fn ignored_legacy_flags() {
        let p = parse(&["--config=/etc/etcd.yml", "-v", "--name=a"]);
        assert_eq!(p.problems.len(), 2);
        assert!(p.problems.iter().all(|p| !p.fatal));
        assert!(p.problems[0]
            .message
            .contains("the config file is --config-file"));
        assert_eq!(values(&p)[0], ("config", "/etc/etcd.yml"));
        let p = parse(&["--config", "/etc/etcd.yml"]);
        assert!(p.problems[1]
            .message
            .starts_with("'/etc/etcd.yml' is not a valid flag"));
        assert!(p.problems[1].fatal);
    }

    #[test]
    fn help_and_version() {
        let p = parse(&["-h"]);
        assert!(p.problems[0].fatal && p.problems[0].message.contains("usage"));
        let p = parse(&["--help=1"]);
        assert!(p.problems[0].message.contains("usage"));
        let p = parse(&["--version"]);
        assert!(p.problems[0].message.contains("print its version"));
        assert!(parse(&["--version=false"]).problems.is_empty());
    }
}
