//! The Prometheus text exposition format (0.0.4), as node_exporter's textfile collector and
//! `promtool check metrics` read it: per metric family one `# HELP` and one `# TYPE` line, then
//! its samples, every label set once; no timestamps (the textfile collector refuses them).
//!
//! Written by hand rather than through the `prometheus-client` crate: its registry keeps every
//! label set of every series in memory, which a scan of 100,000 certificates cannot afford, and
//! the format is a few lines. [`write_header`] and [`write_sample`] stream ([`super::spool`]
//! keeps streamed samples until their families can be written whole); [`Metrics`] collects the
//! series of a report (a few hundred at most), merging repeated label sets by a rule of the
//! family's, and writes them in the order the families were declared.

use std::collections::BTreeMap;
use std::io::{self, Write};

/// Label names and values of one sample, in the order written.
pub type Labels = Vec<(&'static str, String)>;

/// Which value a family keeps when the same label set is set twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The lowest: for 1 = good, 0 = bad gauges, the worst.
    Lowest,
    /// The highest: for severities (0 pass, 1 warn, 2 fail), the worst.
    Highest,
}

struct Family {
    name: &'static str,
    help: &'static str,
    keep: Keep,
    samples: BTreeMap<Labels, f64>,
}

/// The series of one report, by family.
#[derive(Default)]
pub struct Metrics {
    families: Vec<Family>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Sets a gauge sample of family `name`, declared with `help` and `keep` on first use.
    pub fn set(
        &mut self,
        (name, help): (&'static str, &'static str),
        keep: Keep,
        labels: Labels,
        value: f64,
    ) {
        let index = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name,
                    help,
                    keep,
                    samples: BTreeMap::new(),
                });
                self.families.len() - 1
            }
        };
        let family = &mut self.families[index];
        let keep = family.keep;
        family
            .samples
            .entry(labels)
            .and_modify(|old| {
                *old = match keep {
                    Keep::Lowest => old.min(value),
                    Keep::Highest => old.max(value),
                }
            })
            .or_insert(value);
    }

    /// Writes every family that has a sample.
    pub fn write(&self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        for family in &self.families {
            if family.samples.is_empty() {
                continue;
            }
            write_header(out, family.name, family.help)?;
            for (labels, value) in &family.samples {
                write_sample(out, family.name, labels, *value)?;
            }
        }
        Ok(())
    }
}

/// The `# HELP` and `# TYPE ... gauge` lines of a family.
pub fn write_header(out: &mut (impl Write + ?Sized), name: &str, help: &str) -> io::Result<()> {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge")
}

/// One sample line.
pub fn write_sample(
    out: &mut (impl Write + ?Sized),
    name: &str,
    labels: &[(&'static str, String)],
    value: f64,
) -> io::Result<()> {
    out.write_all(name.as_bytes())?;
    write_labels(out, labels)?;
    writeln!(out, " {}", number(value))
}

/// The `{label="value",...}` of a sample (nothing when there are no labels).
pub fn write_labels(
    out: &mut (impl Write + ?Sized),
    labels: &[(&'static str, String)],
) -> io::Result<()> {
    if labels.is_empty() {
        return Ok(());
    }
    out.write_all(b"{")?;
    for (i, (label, text)) in labels.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, "{label}=\"")?;
        write_escaped(out, text)?;
        out.write_all(b"\"")?;
    }
    out.write_all(b"}")
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn write_escaped(out: &mut (impl Write + ?Sized), text: &str) -> io::Result<()> {
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let escaped = match c {
            '\\' => "\\\\",
            '"' => "\\\"",
            '\n' => "\\n",
            _ => continue,
        };
        out.write_all(&text.as_bytes()[start..i])?;
        out.write_all(escaped.as_bytes())?;
        start = i + c.len_utf8();
    }
    out.write_all(&text.as_bytes()[start..])
}

/// A value as the format writes it: integers without a fraction, `NaN`, `+Inf`, `-Inf`.
pub fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = Vec::new();
        write_sample(
            &mut out,
            "x",
            &[("filepath", "a\\b\"c\nd/é".into()), ("e", String::new())],
            1.0,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x{filepath=\"a\\\\b\\\"c\\nd/é\",e=\"\"} 1\n"
        );
    }

    #[test]
    fn numbers_print_as_the_format_wants() {
        assert_eq!(number(1_764_000_000.0), "1764000000");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn repeated_label_sets_keep_the_worst_and_families_keep_their_order() {
        let mut m = Metrics::new();
        let ok = ("b_ok", "1 when ok");
        let sev = ("a_severity", "0 pass, 2 fail");
        m.set(ok, Keep::Lowest, vec![("k", "v".into())], 1.0);
        m.set(sev, Keep::Highest, vec![], 2.0);
        m.set(ok, Keep::Lowest, vec![("k", "v".into())], 0.0);
        m.set(ok, Keep::Lowest, vec![("k", "v".into())], 1.0);
        m.set(sev, Keep::Highest, vec![], 0.0);
        let mut out = Vec::new();
        m.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP b_ok 1 when ok\n# TYPE b_ok gauge\nb_ok{k=\"v\"} 0\n\
             # HELP a_severity 0 pass, 2 fail\n# TYPE a_severity gauge\na_severity 2\n"
        );
    }
}
