//! The scan of directory trees: [`scan_each`] hands over every certificate's row as soon as it
//! is finished, in the order of [`scan`] (by path, then position in the file), so that memory
//! is bounded by the CAs and the list of files, never by the rows; [`scan`] collects them into a
//! [`ScanReport`].
//!
//! The files come from [`crate::walk`], which follows symbolic links without entering a directory
//! twice. Anything that is not a certificate is listed as skipped with the reason, never fatal.
//! An issuer can sit in any file, so no row can be finished before every CA is known, and the
//! scan reads the files twice:
//!
//! 1. The first pass reads and parses every file and keeps only what the second needs: the CAs
//!    (certificates that may issue, whole), what each key is (the fingerprint of its public half,
//!    or why it cannot be used; [`crate::scan_file::KeyFact`]), which files hold certificates,
//!    and the files skipped or damaged.
//! 2. The second pass reads the certificate files again and makes their rows: the issuer as Go
//!    selects parents ([`crate::issuer_match`]), and the key beside each.
//!
//! Each pass takes the files in path order, in chunks read in parallel (rayon): the first pass
//! [`CHUNK`] files at a time, the second as many files as hold at most [`CHUNK`] certificates
//! (a bundle of more is a chunk alone). It hands each chunk's results over in order, on the
//! calling thread, while the pool reads the next chunk: at most two chunks' rows are held. Reading twice costs a second read and parse of every certificate (the files are in the
//! page cache by then, and keys are not parsed again): about 40% more CPU time than one pass
//! that held every row (BENCHMARKS.md). It is what keeps a scan of 100,000 certificates under
//! 64 MB with a streamed output (`etcd-pki scan -w jsonl`, `-w prometheus`). A file that
//! changes between the passes is reported as the second pass reads it, with the CAs as the
//! first pass read them.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cert::Certificate;
use crate::error::Error;
use crate::journal::interrupted_writes;
use crate::scan::{row, Cas, ScanOptions, ScanReport, ScanTail, ScannedCertificate};
use crate::scan_file::{key_candidates, read_certificates, KeyFact, NotCertificates};
use crate::verify::may_issue;
use crate::walk::{files_to_scan, Listing, Skipped};

/// How many files the first pass, and how many certificates the second, reads in parallel
/// before it hands their results over.
pub(crate) const CHUNK: usize = 1024;

/// Scans the trees under `roots`, collecting every row.
///
/// # Errors
/// A root that does not exist or cannot be read is an error (it is the operator's input);
/// everything below a root is reported in the result instead.
pub fn scan(
    roots: impl IntoIterator<Item = impl AsRef<Path>>,
    opts: &ScanOptions,
) -> Result<ScanReport, Error> {
    let mut certificates = Vec::new();
    let tail = scan_each(roots, opts, |row| {
        certificates.push(row);
        Ok::<(), Error>(())
    })?;
    Ok(ScanReport {
        certificates,
        malformed: tail.malformed,
        skipped: tail.skipped,
        interrupted: tail.interrupted,
    })
}

/// Scans the trees under `roots`, calling `each` with every certificate's row in the order of
/// [`scan`] as soon as it is finished, and returns what follows the rows.
///
/// # Errors
/// As [`scan`]; and the first error `each` returns, which ends the scan.
pub fn scan_each<E: From<Error>>(
    roots: impl IntoIterator<Item = impl AsRef<Path>>,
    opts: &ScanOptions,
    mut each: impl FnMut(ScannedCertificate) -> Result<(), E>,
) -> Result<ScanTail, E> {
    let roots: Vec<PathBuf> = roots
        .into_iter()
        .map(|r| r.as_ref().to_path_buf())
        .collect();
    let Listing {
        files,
        mut skipped,
        interrupted_dirs,
    } = files_to_scan(&roots)?;
    let interrupted = interrupted_dirs
        .iter()
        .flat_map(interrupted_writes)
        .collect();
    let mut malformed = Vec::new();
    let mut not_certificates = |path: &Path, what: NotCertificates| match what {
        NotCertificates::Skipped(reason) => skipped.push(Skipped {
            path: path.to_path_buf(),
            reason,
        }),
        NotCertificates::Malformed(reason) => malformed.push(Skipped {
            path: path.to_path_buf(),
            reason,
        }),
        // A key alone is no certificate file, and not listed.
        NotCertificates::Key(_) => {}
    };

    let first = first_pass(&files, &mut not_certificates);
    in_chunks(
        chunks_by_weight(&first.certificate_files, |&(_, certificates)| certificates),
        |&(i, _)| rows_of(&files, i, &first, opts),
        |&(i, _), rows| {
            match rows {
                Ok(rows) => rows.into_iter().try_for_each(&mut each)?,
                Err(other) => not_certificates(&files[i], other),
            }
            Ok::<(), E>(())
        },
    )?;
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    malformed.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ScanTail {
        malformed,
        skipped,
        interrupted,
    })
}

/// What the first pass keeps for the second.
struct FirstPass {
    cas: Cas,
    /// The files that hold certificates, as indices into the sorted list of files, and how
    /// many each holds.
    certificate_files: Vec<(usize, usize)>,
    /// The key in a certificate's own file, by the file's index.
    own_keys: HashMap<usize, KeyFact>,
    /// The files that hold a key and no certificate, by index.
    key_files: HashMap<usize, KeyFact>,
}

/// Reads every file of `files` (sorted): the CAs and keys, which files hold certificates, and
/// what the others are (to `not_certificates`).
fn first_pass(
    files: &[PathBuf],
    not_certificates: &mut impl FnMut(&Path, NotCertificates),
) -> FirstPass {
    let mut first = FirstPass {
        cas: Cas::default(),
        certificate_files: Vec::new(),
        own_keys: HashMap::new(),
        key_files: HashMap::new(),
    };
    let indices: Vec<usize> = (0..files.len()).collect();
    let read = |&i: &usize| {
        read_certificates(&files[i], true).map(|(certs, key)| {
            let count = certs.len();
            let cas: Vec<Certificate> = certs.into_iter().filter(may_issue).collect();
            (count, cas, key)
        })
    };
    let Ok(()) = in_chunks(chunks_by_weight(&indices, |_| 1), read, |&i, result| {
        match result {
            Ok((count, cas, key)) => {
                for ca in cas {
                    first.cas.add(&files[i], count == 1, ca);
                }
                if let Some(key) = key {
                    first.own_keys.insert(i, key);
                }
                first.certificate_files.push((i, count));
            }
            Err(NotCertificates::Key(key)) => {
                first.key_files.insert(i, key);
            }
            Err(other) => not_certificates(&files[i], other),
        }
        Ok::<(), Infallible>(())
    });
    first
}

/// The rows of the certificates in `files[i]`, read again; or what the file is now.
fn rows_of(
    files: &[PathBuf],
    i: usize,
    first: &FirstPass,
    opts: &ScanOptions,
) -> Result<Vec<ScannedCertificate>, NotCertificates> {
    let path = &files[i];
    let (certs, _) = read_certificates(path, false)?;
    let key = first
        .own_keys
        .get(&i)
        .map(|k| (path.clone(), k))
        .or_else(|| {
            key_candidates(path).into_iter().find_map(|p| {
                let j = files.binary_search(&p).ok()?;
                first.key_files.get(&j).map(|k| (p, k))
            })
        });
    Ok(certs
        .iter()
        .enumerate()
        .map(|(index, cert)| {
            // The key beside a bundle is its first certificate's.
            let key = if index == 0 { key.clone() } else { None };
            row(path, index, cert, key, &first.cas, opts)
        })
        .collect())
}

/// `items` in runs of consecutive items whose weights add up to at most [`CHUNK`]; an item that
/// weighs more is a run alone.
fn chunks_by_weight<T>(items: &[T], weight: impl Fn(&T) -> usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut total = 0;
        let end = rest
            .iter()
            .position(|item| {
                total += weight(item);
                total > CHUNK
            })
            .unwrap_or(rest.len())
            .max(1);
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

/// Maps the items of `chunks` with `map`, a chunk at a time in parallel, and hands each item and
/// its result to `each` in order; stops at the first error of `each`. While `each` takes one
/// chunk's results on this thread, the pool maps the next chunk: at most two chunks' results
/// are held.
fn in_chunks<'a, T: Sync + 'a, R: Send, E>(
    mut chunks: impl Iterator<Item = &'a [T]>,
    map: impl Fn(&T) -> R + Sync,
    mut each: impl FnMut(&T, R) -> Result<(), E>,
) -> Result<(), E> {
    let map_chunk = |chunk: &[T]| -> Vec<R> { chunk.par_iter().map(&map).collect() };
    let mut current = chunks.next().map(|chunk| (chunk, map_chunk(chunk)));
    while let Some((chunk, results)) = current.take() {
        let next_chunk = chunks.next();
        let mut next = None;
        let handed = rayon::in_place_scope(|scope| {
            if let Some(chunk) = next_chunk {
                let (next, map_chunk) = (&mut next, &map_chunk);
                scope.spawn(move |_| *next = Some((chunk, map_chunk(chunk))));
            }
            chunk
                .iter()
                .zip(results)
                .try_for_each(|(item, result)| each(item, result))
        });
        handed?;
        current = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use time::Duration;

    use super::*;
    use crate::scan::Issuer;
    use crate::test_support::fixture;

    const LEAVES: usize = 2 * CHUNK + 300;

    /// Three chunks of leaves, each a copy of cfssl's `members.pem` in `a/`; the CA that issued
    /// them in `z/`, read last; the key of the first and of the last leaf beside it.
    fn two_chunks() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let (a, z) = (tmp.path().join("a"), tmp.path().join("z"));
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&z).unwrap();
        let leaf = fs::read(fixture("cfssl/members.pem")).unwrap();
        for i in 0..LEAVES {
            fs::write(a.join(format!("{i:04}.pem")), &leaf).unwrap();
        }
        for i in [0, LEAVES - 1] {
            fs::copy(
                fixture("cfssl/members-key.pem"),
                a.join(format!("{i:04}-key.pem")),
            )
            .unwrap();
        }
        fs::copy(fixture("cfssl/ca.pem"), z.join("ca.pem")).unwrap();
        tmp
    }

    fn opts() -> ScanOptions {
        ScanOptions::new()
            .at(crate::test_support::cert("cfssl/members.pem").not_before() + Duration::days(1))
            .expires_within(Duration::days(30))
    }

    /// Rows come by path across chunk boundaries, each finished against every CA in the trees
    /// (the CA is read in the last chunk) and with the key beside it; and `scan` holds exactly
    /// the rows `scan_each` hands over.
    #[test]
    fn rows_come_in_path_order_finished_against_every_ca() {
        let tmp = two_chunks();
        let mut rows = Vec::new();
        let tail = scan_each([tmp.path()], &opts(), |row| {
            rows.push(row);
            Ok::<(), Error>(())
        })
        .unwrap();
        assert_eq!(rows.len(), LEAVES + 1);
        assert!(rows
            .windows(2)
            .all(|w| (&w[0].path, w[0].index) < (&w[1].path, w[1].index)));
        let ca = tmp.path().join("z/ca.pem");
        for row in &rows[..LEAVES] {
            assert!(
                matches!(&row.issuer, Issuer::Found { path, .. } if *path == ca),
                "{}: {:?}",
                row.path.display(),
                row.issuer
            );
            assert!(row.problems.is_empty(), "{:?}", row.problems);
        }
        assert_eq!(rows[LEAVES].issuer, Issuer::SelfSigned);
        let keyed: Vec<usize> = (0..LEAVES).filter(|&i| rows[i].key.is_some()).collect();
        assert_eq!(keyed, [0, LEAVES - 1]);
        assert!(tail.skipped.is_empty() && !tail.has_problems());

        let report = scan([tmp.path()], &opts()).unwrap();
        let json = |rows: &[ScannedCertificate]| serde_json::to_string(rows).unwrap();
        assert_eq!(json(&report.certificates), json(&rows));
    }

    /// Rows are handed over as each chunk is finished, while the next chunk is read again and
    /// before the chunk after it is: a leaf of the third chunk removed while the first row is
    /// handed over is reported as the second pass found it, gone, and no row of it comes.
    #[test]
    fn rows_are_handed_over_before_later_files_are_read_again() {
        let tmp = two_chunks();
        let last = tmp.path().join(format!("a/{:04}.pem", LEAVES - 1));
        let mut rows = Vec::new();
        let tail = scan_each([tmp.path()], &opts(), |row| {
            if rows.is_empty() {
                fs::remove_file(&last).unwrap();
            }
            rows.push(row.path);
            Ok::<(), Error>(())
        })
        .unwrap();
        assert_eq!(rows.len(), LEAVES);
        assert!(!rows.contains(&last));
        assert_eq!(tail.skipped.len(), 1, "{:?}", tail.skipped);
        assert_eq!(tail.skipped[0].path, last);
        assert!(tail.skipped[0].reason.starts_with("cannot read"));
    }

    /// Runs weigh at most a chunk; a heavier item is a run alone.
    #[test]
    fn chunks_weigh_at_most_a_chunk() {
        let sizes = |weights: &[usize]| -> Vec<Vec<usize>> {
            chunks_by_weight(weights, |&w| w)
                .map(<[usize]>::to_vec)
                .collect()
        };
        let ones: Vec<Vec<usize>> = chunks_by_weight(&[1; 2500], |&w| w)
            .map(|c| vec![c.len()])
            .collect();
        assert_eq!(ones, [[CHUNK], [CHUNK], [2500 - 2 * CHUNK]]);
        assert_eq!(
            sizes(&[500, 600, 3000, 1, 1]),
            [vec![500], vec![600], vec![3000], vec![1, 1]]
        );
        assert_eq!(sizes(&[512, 512, 1]), [vec![512, 512], vec![1]]);
        assert!(sizes(&[]).is_empty());
    }

    /// The first error of the receiver ends the scan, and is what it returns.
    #[test]
    fn an_error_of_the_receiver_ends_the_scan() {
        let tmp = two_chunks();
        let mut handed = 0;
        let err = scan_each([tmp.path()], &opts(), |_| {
            handed += 1;
            if handed == 3 {
                return Err(StopOr::Stop("stop"));
            }
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, StopOr::Stop("stop")));
        assert_eq!(handed, 3);
    }

    /// A receiver's own error, or the scan's.
    #[derive(Debug)]
    enum StopOr {
        Stop(&'static str),
        Scan(#[allow(dead_code)] Error),
    }

    impl From<Error> for StopOr {
        fn from(e: Error) -> StopOr {
            StopOr::Scan(e)
        }
    }
}
