//! Metric families written whole from samples that come one at a time: the text format wants
//! each family's samples together under one `# HELP`/`# TYPE`, but a streamed scan finishes a
//! certificate's samples of every family at once.
//!
//! A [`Spool`] keeps each label set once, rendered, with its value in each of its families, in
//! a temporary file (in memory up to [`IN_MEMORY`] bytes, then on disk: tempfile's
//! `SpooledTempFile`), and at the end writes each family whole from it. A scan of 100,000
//! certificates spools about 40 MB to the temporary directory instead of holding its rows.
//!
//! Prometheus refuses two samples with one label set (a file holding two copies of one
//! certificate would give them): [`Seen`] keeps the first.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use tempfile::SpooledTempFile;

use super::exposition::{number, write_header, write_labels};

/// Bytes a spool keeps in memory before it moves to a temporary file.
pub const IN_MEMORY: usize = 1 << 20;

/// Label sets already written, as hashes (8 bytes a label set, whatever the scan's size).
#[derive(Default)]
pub struct Seen(HashSet<u64>);

impl Seen {
    /// Whether `labels` is new (and remembers it).
    pub fn first(&mut self, labels: &[(&'static str, String)]) -> bool {
        let mut h = DefaultHasher::new();
        labels.hash(&mut h);
        self.0.insert(h.finish())
    }
}

/// The samples of `families` (name and help of each), one label set at a time.
pub struct Spool {
    families: &'static [(&'static str, &'static str)],
    file: BufWriter<SpooledTempFile>,
    seen: Seen,
    samples: usize,
}

impl Spool {
    /// An empty spool of `families`, written in that order.
    pub fn new(families: &'static [(&'static str, &'static str)]) -> Spool {
        Spool {
            families,
            file: BufWriter::new(SpooledTempFile::new(IN_MEMORY)),
            seen: Seen::default(),
            samples: 0,
        }
    }

    /// Adds the sample of `labels` to each family, with `values` in the order of the families;
    /// a label set already added is dropped.
    pub fn add(&mut self, labels: &[(&'static str, String)], values: &[f64]) -> io::Result<()> {
        assert_eq!(values.len(), self.families.len(), "one value a family");
        if !self.seen.first(labels) {
            return Ok(());
        }
        // One line a label set: the rendered labels, then each value after a space. Values
        // hold no space, so a line splits from its end whatever the labels hold.
        write_labels(&mut self.file, labels)?;
        for value in values {
            write!(self.file, " {}", number(*value))?;
        }
        self.file.write_all(b"\n")?;
        self.samples += 1;
        Ok(())
    }

    /// Writes each family that has a sample whole: header, then its samples in the order added.
    pub fn write(self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        if self.samples == 0 {
            return Ok(());
        }
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        let families = self.families.len();
        let mut line = Vec::new();
        for (i, (name, help)) in self.families.iter().enumerate() {
            write_header(out, name, help)?;
            file.seek(SeekFrom::Start(0))?;
            let mut reader = BufReader::new(&mut file);
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                // From the end: the last family's value first, the labels last.
                let fields: Vec<&[u8]> = text.rsplitn(families + 1, |b| *b == b' ').collect();
                let (Some(labels), Some(value)) =
                    (fields.get(families), fields.get(families - 1 - i))
                else {
                    return Err(io::Error::other("a damaged metrics spool line"));
                };
                out.write_all(name.as_bytes())?;
                out.write_all(labels)?;
                out.write_all(b" ")?;
                out.write_all(value)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exposition::{write_sample, Labels};

    const FAMILIES: &[(&str, &str); 2] = &[("a_first", "First"), ("b_second", "Second")];

    /// What a spool writes is what writing each family's samples in turn writes, past the
    /// in-memory limit too; a repeated label set is dropped, and labels may hold spaces.
    #[test]
    fn families_come_out_whole_as_if_written_in_turn() {
        let samples: Vec<(Labels, [f64; 2])> = (0..30_000)
            .map(|i| {
                let labels = vec![
                    ("filepath", format!("/etc/pki dir/{i} \"q\"\n.pem")),
                    ("serial_number", format!("{}", i % 1000)),
                ];
                (labels, [f64::from(i), -0.5 * f64::from(i)])
            })
            .chain([(Vec::new(), [f64::INFINITY, f64::NAN])])
            .collect();
        let repeated = (samples[5].0.clone(), [12345.25, 12345.25]);
        let mut spool = Spool::new(FAMILIES);
        for (labels, values) in samples.iter().chain([&repeated]) {
            spool.add(labels, values).unwrap();
        }
        let mut got = Vec::new();
        spool.write(&mut got).unwrap();
        assert!(got.len() > 2 * IN_MEMORY, "the spool spills to disk");
        assert!(!String::from_utf8_lossy(&got).contains("12345.25"));

        let mut want = Vec::new();
        for (i, (name, help)) in FAMILIES.iter().enumerate() {
            write_header(&mut want, name, help).unwrap();
            let mut seen = Seen::default();
            for (labels, values) in &samples {
                if seen.first(labels) {
                    write_sample(&mut want, name, labels, values[i]).unwrap();
                }
            }
        }
        assert!(got == want, "the spool's output differs");
    }

    #[test]
    fn an_empty_spool_writes_nothing() {
        let mut out = Vec::new();
        Spool::new(FAMILIES).write(&mut out).unwrap();
        assert!(out.is_empty());
    }
}
