//! The bad-input corpus (issue 9): every file is judged by etcd-pki as Go judges it, with Go
//! itself as the oracle (tests/go-oracle, built and asked here). A file Go parses is parsed:
//! `inspect` and `check` exit 0 or 1 and list it, `scan` lists its certificates. A file Go
//! refuses is refused: `inspect` and `check` exit 2 naming it, `scan` lists it among the files it
//! skipped or could not read. Nothing panics and no run takes a second.
//!
//! The committed files are fixtures/bad/ (made by fixtures/bad/regen.sh, listed in
//! fixtures/README.md) and a few of fixtures/openssl/; what cannot be committed is made here:
//! directories, /dev/zero, symbolic link loops, a file over the size limit, file names that are
//! not UTF-8 and FIFOs. robustness.rs holds the older bad-input tests (flags, messages, every
//! fixture through every command).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use etcd_pki_tests::{etcd_pki_within, fixture, go_oracle, json_path_is, shown, Run};
use serde_json::Value;

/// No run may take longer: bad input is refused at once.
const LIMIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Certificate,
    Key,
}

/// One corpus file and what Go is expected to decide about it, so that a case that stopped
/// testing anything (regenerated wrong, or a Go that changed) is noticed.
struct Case {
    /// Under fixtures/.
    rel: &'static str,
    kind: Kind,
    go_accepts: bool,
}

const fn cert(rel: &'static str, go_accepts: bool) -> Case {
    Case {
        rel,
        kind: Kind::Certificate,
        go_accepts,
    }
}

const fn key(rel: &'static str, go_accepts: bool) -> Case {
    Case {
        rel,
        kind: Kind::Key,
        go_accepts,
    }
}

const CASES: &[Case] = &[
    // Controls: what the damaged files are damaged from.
    cert("bad/ok.pem", true),
    cert("bad/ok.der", true),
    key("openssl/leaf-ec-p256.key", true),
    // Files, PEM framing and base64.
    cert("bad/empty.pem", false),
    cert("openssl/garbage.txt", false),
    cert("bad/truncated-no-end.pem", false),
    cert("openssl/truncated.crt", false),
    cert("bad/truncated.der", false),
    cert("bad/bad-base64.pem", false),
    cert("bad/end-crl.pem", false),
    // A good certificate, then a block Go's pem.Decode cannot decode and skips.
    cert("bad/bad-base64-second.pem", true),
    cert("bad/end-crl-second.pem", true),
    cert("bad/no-end-second.pem", true),
    // Labels Go does not read as a certificate.
    cert("bad/trusted.pem", false),
    cert("bad/lowercase.pem", false),
    // A CSR or a CRL given as a certificate.
    cert("openssl/leaf.csr", false),
    cert("bad/csr.der", false),
    cert("bad/csr-as-certificate.pem", false),
    cert("openssl/rsa-ca.crl", false),
    cert("bad/crl.der", false),
    cert("bad/crl-as-certificate.pem", false),
    // ASN.1 lengths.
    cert("bad/length-4gib.der", false),
    cert("bad/length-4gib.pem", false),
    cert("bad/length-9-octets.der", false),
    cert("bad/length-2gib-tbs.der", false),
    cert("bad/indefinite.der", false),
    // Serial numbers.
    cert("bad/serial-negative.pem", true),
    cert("bad/serial-zero.pem", true),
    cert("bad/serial-20-bytes.pem", true),
    cert("bad/serial-21-bytes.pem", true),
    // Extensions.
    cert("openssl/critical-unknown.crt", true),
    cert("bad/duplicate-extension.pem", false),
    cert("bad/san-empty.pem", true),
    cert("bad/sans-5000.pem", true),
    // Names.
    cert("bad/cn-utf8-invalid.pem", false),
    cert("bad/cn-t61.pem", true),
    cert("bad/cn-bmp.pem", true),
    cert("bad/cn-bmp-odd.pem", false),
    cert("bad/cn-universal.pem", false),
    cert("bad/cn-printable-underscore.pem", false),
    // Keys.
    key("bad/key-pkcs1-truncated.pem", false),
    key("bad/key-pkcs1-garbage.pem", false),
    key("bad/key-pkcs1-random.pem", false),
    key("bad/key-pkcs8-unknown-algorithm.pem", false),
    key("bad/key-sec1-p224.pem", true),
    key("bad/key-pkcs8-p224.pem", true),
    key("bad/key-sec1-secp256k1.pem", false),
    key("bad/key-rsa-1024.pem", true),
    key("bad/key-rsa-8192.pem", true),
    key("openssl/encrypted-pkcs8.key", false),
    key("openssl/encrypted-pkcs1.key", false),
    key("bad/key-encrypted-then-plain.pem", false),
];

/// Where etcd-pki knowingly decides otherwise than Go, and why. A divergence is asserted to
/// still be one (etcd-pki's verdict is the opposite of Go's), so that a fix shows up here.
const DIVERGENCES: &[(&str, &str)] = &[
    (
        "bad/key-sec1-p224.pem",
        "P-224 keys: Go parses them and tls.X509KeyPair takes them, but a Go 1.19 server \
         refuses every TLS 1.3 handshake with them (\"tls: unsupported certificate curve \
         (P-224)\"), which is what etcdctl and the members negotiate; etcd-pki refuses the key \
         as unsupported (and aws-lc-rs cannot compute a P-224 public point to match it)",
    ),
    ("bad/key-pkcs8-p224.pem", "P-224 keys, as above"),
    (
        "huge.pem",
        "a file over 4 MiB (load::MAX_FILE_SIZE) is refused unread, by design: Go reads any size",
    ),
];

fn divergence(rel: &str) -> Option<&'static str> {
    DIVERGENCES
        .iter()
        .find(|(name, _)| *name == rel)
        .map(|(_, why)| *why)
}

/// Runs etcd-pki within [`LIMIT`], asserting that it did not panic.
#[track_caller]
fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
    let run = etcd_pki_within(LIMIT, &args);
    assert!(
        run.code != 101 && !run.stderr.contains("panicked"),
        "etcd-pki {args:?} panicked (exit {}):\n{}",
        run.code,
        run.stderr
    );
    run
}

/// What one run of etcd-pki decided about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Parsed: this many certificates (keys: 1).
    Accepted(usize),
    /// Refused with exit 2, naming the file.
    Refused,
}

/// A run's verdict on `file`, or why it is neither a clean acceptance nor a clean refusal.
fn verdict(run: &Run, file: &Path, accepted_codes: &[i32]) -> Result<Verdict, String> {
    let name = shown(file);
    accepted_or_refused(run, file, accepted_codes, &name)
}

/// [`verdict`] where an acceptance is known by `accepted` in stdout rather than the file's name.
fn accepted_or_refused(
    run: &Run,
    file: &Path,
    accepted_codes: &[i32],
    accepted: &str,
) -> Result<Verdict, String> {
    let name = shown(file);
    if accepted_codes.contains(&run.code) && run.stdout.contains(accepted) {
        Ok(Verdict::Accepted(1))
    } else if run.code == 2 && run.stderr.contains(&name) {
        Ok(Verdict::Refused)
    } else {
        Err(format!(
            "exit {} without naming {name} as accepted or refused\n--- stdout ---\n{}\n--- stderr ---\n{}",
            run.code,
            truncate(&run.stdout),
            run.stderr
        ))
    }
}

fn truncate(text: &str) -> &str {
    match text.char_indices().nth(2000) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// `inspect -w json`'s verdict: the certificates (or keys) it lists for the file, or an error
/// entry naming it.
fn json_verdict(run: &Run, file: &Path, kind: Kind) -> Result<Verdict, String> {
    let json: Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("inspect -w json printed no JSON ({e}):\n{}", run.stdout))?;
    let count = |field: &str| {
        json[field].as_array().map_or(0, |a| {
            a.iter().filter(|e| json_path_is(&e["path"], file)).count()
        })
    };
    let listed = match kind {
        Kind::Certificate => count("certificates"),
        Kind::Key => count("private_keys"),
    };
    match (run.code, listed, count("errors")) {
        (0, n, 0) if n > 0 => Ok(Verdict::Accepted(n)),
        (2, 0, 1) => Ok(Verdict::Refused),
        (code, n, errors) => Err(format!(
            "inspect -w json exited {code} listing {n} entries and {errors} errors for it:\n{}",
            truncate(&run.stdout)
        )),
    }
}

/// Go's verdict on a corpus file.
fn go_verdict(file: &Path, kind: Kind) -> (Verdict, String) {
    match kind {
        Kind::Certificate => match go_oracle::parse(file) {
            Ok(n) => (Verdict::Accepted(n), format!("{n} certificate(s)")),
            Err(e) => (Verdict::Refused, e),
        },
        Kind::Key => match go_oracle::parse_key(file) {
            Ok(k) => (Verdict::Accepted(1), k),
            Err(e) => (Verdict::Refused, e),
        },
    }
}

/// The three runs of etcd-pki on one file and their verdicts (each must agree with the others).
fn etcd_pki_verdict(file: &Path, kind: Kind) -> Result<Verdict, String> {
    let inspect = run([OsStr::new("inspect"), file.as_os_str()]);
    let json = run([
        OsStr::new("inspect"),
        OsStr::new("-w"),
        OsStr::new("json"),
        file.as_os_str(),
    ]);
    let check = match kind {
        Kind::Certificate => run([OsStr::new("check"), OsStr::new("--cert"), file.as_os_str()]),
        Kind::Key => run([
            OsStr::new("check"),
            OsStr::new("--cert"),
            fixture("bad/ok.pem").as_os_str(),
            OsStr::new("--key"),
            file.as_os_str(),
        ]),
    };
    let by_inspect = verdict(&inspect, file, &[0]).map_err(|e| format!("inspect: {e}"))?;
    let by_json = json_verdict(&json, file, kind)?;
    let by_check = match kind {
        Kind::Certificate => verdict(&check, file, &[0, 1]),
        // check names the certificate; a key it read is judged in its key-pair row.
        Kind::Key => accepted_or_refused(&check, file, &[0, 1], "key-pair"),
    }
    .map_err(|e| format!("check: {e}"))?;
    let simple = |v: Verdict| match v {
        Verdict::Accepted(_) => Verdict::Accepted(1),
        v => v,
    };
    if simple(by_json) != by_inspect || by_check != by_inspect {
        return Err(format!(
            "the commands disagree: inspect {by_inspect:?}, inspect -w json {by_json:?}, check {by_check:?}"
        ));
    }
    Ok(by_json)
}

#[test]
fn corpus_files_are_judged_as_go_judges_them() {
    let mut findings = Vec::new();
    for case in CASES {
        let file = fixture(case.rel);
        assert!(
            file.is_file(),
            "{} is missing: run fixtures/bad/regen.sh",
            case.rel
        );
        let (go, go_why) = go_verdict(&file, case.kind);
        if matches!(go, Verdict::Accepted(_)) != case.go_accepts {
            findings.push(format!(
                "{}: expected Go to {} it, Go did not ({go_why})",
                case.rel,
                if case.go_accepts { "accept" } else { "refuse" }
            ));
            continue;
        }
        let ours = match etcd_pki_verdict(&file, case.kind) {
            Ok(v) => v,
            Err(e) => {
                findings.push(format!("{}: {e}", case.rel));
                continue;
            }
        };
        let agree = match (go, ours) {
            (Verdict::Accepted(g), Verdict::Accepted(o)) => case.kind == Kind::Key || g == o,
            (g, o) => g == o,
        };
        match (agree, divergence(case.rel)) {
            (true, None) => {}
            (false, Some(_)) => {}
            (true, Some(why)) => findings.push(format!(
                "{}: etcd-pki now agrees with Go ({go:?}): remove it from DIVERGENCES ({why})",
                case.rel
            )),
            (false, None) => findings.push(format!(
                "{}: Go {go:?} ({go_why}), etcd-pki {ours:?}",
                case.rel
            )),
        }
    }
    assert!(
        findings.is_empty(),
        "{} of {} cases:\n{}",
        findings.len(),
        CASES.len(),
        findings.join("\n")
    );
}

/// A copy of every corpus file in one directory, with what cannot be committed beside them: a
/// directory, a symbolic link loop, a link to /dev/zero and a file over the size limit.
struct Corpus {
    dir: tempfile::TempDir,
}

impl Corpus {
    fn new() -> Corpus {
        let dir = tempfile::tempdir().unwrap();
        for case in CASES {
            let from = fixture(case.rel);
            std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
        }
        let sub = dir.path().join("a-directory");
        std::fs::create_dir(&sub).unwrap();
        std::fs::copy(fixture("bad/ok.pem"), sub.join("nested.pem")).unwrap();
        std::os::unix::fs::symlink("loop-b.pem", dir.path().join("loop-a.pem")).unwrap();
        std::os::unix::fs::symlink("loop-a.pem", dir.path().join("loop-b.pem")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.pem")).unwrap();
        write_huge(&dir.path().join("huge.pem"));
        Corpus { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A good certificate padded with blank lines past 4 MiB: Go reads it, etcd-pki refuses to.
fn write_huge(path: &Path) {
    let mut bytes = std::fs::read(fixture("bad/ok.pem")).unwrap();
    bytes.resize(5 * 1024 * 1024, b'\n');
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn scan_lists_every_corpus_file_as_go_judges_it() {
    let corpus = Corpus::new();
    let dir = corpus.dir.path();
    let table = run([OsStr::new("scan"), dir.as_os_str()]);
    let json = run([
        OsStr::new("scan"),
        OsStr::new("-w"),
        OsStr::new("json"),
        dir.as_os_str(),
    ]);
    assert!([0, 1].contains(&table.code), "scan: {}", table.stderr);
    assert_eq!(json.code, table.code, "scan -w json: {}", json.stderr);
    let report = json.json();
    let entries = |field: &str, path: &Path| {
        report[field]
            .as_array()
            .unwrap_or_else(|| panic!("no {field} in {report}"))
            .iter()
            .filter(|e| json_path_is(&e["path"], path))
            .count()
    };
    let mut findings = Vec::new();
    for case in CASES {
        let path = corpus.path(Path::new(case.rel).file_name().unwrap().to_str().unwrap());
        let rows = entries("certificates", &path);
        let not_read = entries("skipped", &path) + entries("malformed", &path);
        let name = shown(&path);
        match (case.kind, go_verdict(&path, case.kind).0) {
            (Kind::Key, _) if rows > 0 => {
                findings.push(format!("{}: a key file listed as a certificate", case.rel))
            }
            (Kind::Key, _) => {}
            (Kind::Certificate, Verdict::Accepted(n)) if rows != n || not_read != 0 => {
                findings.push(format!(
                    "{}: Go reads {n} certificate(s), scan lists {rows} (and skips it {not_read} times)",
                    case.rel
                ))
            }
            (Kind::Certificate, Verdict::Refused) if rows != 0 || not_read != 1 => findings
                .push(format!(
                    "{}: Go refuses it, scan lists {rows} certificate(s) and skips it {not_read} times",
                    case.rel
                )),
            (Kind::Certificate, _) if !table.stdout.contains(&name) => {
                findings.push(format!("{}: the scan table does not name it", case.rel))
            }
            _ => {}
        }
    }
    for (name, why) in [
        ("loop-a.pem", "symbolic link"),
        ("loop-b.pem", "symbolic link"),
        ("zero.pem", "regular file"),
        ("huge.pem", "too large"),
    ] {
        let path = corpus.path(name);
        let reason = report["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| json_path_is(&e["path"], &path))
            .map(|e| e["reason"].as_str().unwrap_or("").to_string());
        match reason {
            Some(r) if r.contains(why) => {}
            other => findings.push(format!("{name}: skipped for {other:?}, not \"{why}\"")),
        }
        if !table.stdout.contains(&shown(&path)) {
            findings.push(format!("{name}: the scan table does not name it"));
        }
    }
    assert_eq!(
        entries("certificates", &corpus.path("a-directory/nested.pem")),
        1,
        "a directory in the tree is scanned"
    );
    assert!(
        findings.is_empty(),
        "{}\n--- scan ---\n{}",
        findings.join("\n"),
        truncate(&table.stdout)
    );
}

/// Directories, /dev/zero, link loops and a file over the limit, where a certificate, a key or
/// a CA file is expected.
#[test]
fn special_files_are_refused_at_once_naming_them() {
    let corpus = Corpus::new();
    let ok = fixture("bad/ok.pem");
    let zero = PathBuf::from("/dev/zero");
    let huge = corpus.path("huge.pem");
    assert_eq!(
        go_oracle::parse(&huge),
        Ok(1),
        "Go reads the huge file: {}",
        divergence("huge.pem").unwrap()
    );
    // What each is called.
    for (file, message) in [
        (corpus.path("a-directory"), "directory"),
        (zero.clone(), ""),
        (corpus.path("zero.pem"), ""),
        (corpus.path("loop-a.pem"), "symbolic links"),
        (huge, "too large"),
    ] {
        for args in [
            vec![OsStr::new("inspect"), file.as_os_str()],
            vec![OsStr::new("check"), OsStr::new("--cert"), file.as_os_str()],
            vec![
                OsStr::new("check"),
                OsStr::new("--cert"),
                ok.as_os_str(),
                OsStr::new("--key"),
                file.as_os_str(),
            ],
            vec![
                OsStr::new("check"),
                OsStr::new("--cert"),
                ok.as_os_str(),
                OsStr::new("--cacert"),
                file.as_os_str(),
            ],
        ] {
            let result = run(&args);
            assert_eq!(result.code, 2, "{args:?}: {}", result.stderr);
            let name = shown(&file);
            for fragment in [name.as_str(), message] {
                assert!(
                    result.stderr.contains(fragment),
                    "{args:?}: stderr lacks {fragment:?}: {}",
                    result.stderr
                );
            }
        }
    }
    // Given to scan as a path of its own, /dev/zero is refused like any other argument.
    assert_refused_as_argument(&zero);
}

/// `scan FILE` on a pipe or a device given as an argument: refused at once (exit 2) naming it,
/// as every command refuses such an argument (inside a tree it is a skipped row instead).
#[track_caller]
fn assert_refused_as_argument(file: &Path) {
    let result = run([
        OsStr::new("scan"),
        OsStr::new("-w"),
        OsStr::new("json"),
        file.as_os_str(),
    ]);
    assert_eq!(result.code, 2, "{}", result.stderr);
    assert!(
        result.stderr.contains(&shown(file)) && result.stderr.contains("not a regular file"),
        "{}",
        result.stderr
    );
}

/// A file name that is not UTF-8 and the bytes it stands for.
fn non_utf8(dir: &Path, name: &[u8], content: &Path) -> PathBuf {
    let path = dir.join(OsStr::from_bytes(name));
    std::fs::copy(content, &path).unwrap();
    path
}

#[test]
fn files_with_non_utf8_names_are_read_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let good = non_utf8(dir.path(), b"\xff.pem", &fixture("bad/ok.pem"));
    let bad = non_utf8(dir.path(), b"\xfe-bad.pem", &fixture("bad/bad-base64.pem"));
    let key = non_utf8(
        dir.path(),
        b"\xfd.key",
        &fixture("openssl/leaf-ec-p256.key"),
    );
    assert_eq!(go_oracle::parse(&good), Ok(1));
    assert!(go_oracle::parse(&bad).is_err());
    assert_eq!(go_oracle::parse_key(&key), Ok("ECDSA P-256".into()));
    for (file, kind) in [(&good, Kind::Certificate), (&key, Kind::Key)] {
        let inspect = run([OsStr::new("inspect"), file.as_os_str()]);
        assert_eq!(
            verdict(&inspect, file, &[0]),
            Ok(Verdict::Accepted(1)),
            "{kind:?}"
        );
    }
    let check = run([OsStr::new("check"), OsStr::new("--cert"), good.as_os_str()]);
    assert_eq!(verdict(&check, &good, &[0, 1]), Ok(Verdict::Accepted(1)));
    let check = run([
        OsStr::new("check"),
        OsStr::new("--cert"),
        fixture("openssl/leaf-ec-p256.crt").as_os_str(),
        OsStr::new("--key"),
        key.as_os_str(),
    ]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    for args in [
        vec![OsStr::new("inspect"), bad.as_os_str()],
        vec![OsStr::new("check"), OsStr::new("--cert"), bad.as_os_str()],
    ] {
        let result = run(&args);
        assert_eq!(verdict(&result, &bad, &[]), Ok(Verdict::Refused));
    }
    let scan = run([OsStr::new("scan"), dir.path().as_os_str()]);
    assert_eq!(
        scan.code, 1,
        "the damaged file is a problem: {}",
        scan.stderr
    );
    for file in [&good, &bad] {
        assert!(scan.stdout.contains(&shown(file)), "{}", scan.stdout);
    }
}

/// Whether some value in `json` holds `bytes` (a file name that is not UTF-8) without loss: as
/// an array of byte values, or in a string as percent-encoding, `\xNN` escapes or base64.
fn holds_losslessly(json: &Value, bytes: &[u8]) -> bool {
    use base64::Engine;
    let escaped = |prefix: &str, upper: bool| {
        bytes
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() && *b != b'%' && *b != b'\\' {
                    (*b as char).to_string()
                } else if upper {
                    format!("{prefix}{b:02X}")
                } else {
                    format!("{prefix}{b:02x}")
                }
            })
            .collect::<String>()
    };
    let forms = [
        escaped("%", true),
        escaped("%", false),
        escaped("\\x", false),
        escaped("\\x", true),
        base64::engine::general_purpose::STANDARD.encode(bytes),
        base64::engine::general_purpose::URL_SAFE.encode(bytes),
    ];
    match json {
        Value::String(s) => forms.iter().any(|f| s.contains(f.as_str())),
        Value::Array(items) => {
            let as_bytes: Option<Vec<u8>> = items
                .iter()
                .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect();
            as_bytes.is_some_and(|b| b.ends_with(bytes))
                || items.iter().any(|v| holds_losslessly(v, bytes))
        }
        Value::Object(map) => map.values().any(|v| holds_losslessly(v, bytes)),
        _ => false,
    }
}

#[test]
fn json_output_names_non_utf8_files_losslessly() {
    let dir = tempfile::tempdir().unwrap();
    let good = non_utf8(dir.path(), b"\xff.pem", &fixture("bad/ok.pem"));
    non_utf8(dir.path(), b"\xfe-bad.pem", &fixture("bad/bad-base64.pem"));
    let plain = dir.path().join("plain.pem");
    std::fs::copy(fixture("bad/ok.pem"), &plain).unwrap();
    let plain_name = Value::String(plain.display().to_string());

    let inspect = run([
        OsStr::new("inspect"),
        OsStr::new("-w"),
        OsStr::new("json"),
        good.as_os_str(),
        plain.as_os_str(),
    ]);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    let json = inspect.json();
    let certs = json["certificates"].as_array().expect("certificates");
    assert_eq!(certs.len(), 2, "{json}");
    assert!(certs.iter().any(|c| c["path"] == plain_name), "{json}");
    assert!(
        certs.iter().any(|c| holds_losslessly(c, b"\xff.pem")),
        "no certificate entry names \\xff.pem losslessly: {json}"
    );

    let scan = run([
        OsStr::new("scan"),
        OsStr::new("-w"),
        OsStr::new("json"),
        dir.path().as_os_str(),
    ]);
    assert_eq!(
        scan.code, 1,
        "the damaged file is a problem: {}",
        scan.stderr
    );
    let json = scan.json();
    let certs = json["certificates"].as_array().expect("certificates");
    assert_eq!(certs.len(), 2, "{json}");
    assert!(certs.iter().any(|c| c["path"] == plain_name), "{json}");
    assert!(
        certs.iter().any(|c| holds_losslessly(c, b"\xff.pem")),
        "no certificate row names \\xff.pem losslessly: {json}"
    );
    let not_read: Vec<&Value> = ["skipped", "malformed"]
        .iter()
        .flat_map(|f| json[*f].as_array().into_iter().flatten())
        .collect();
    assert_eq!(not_read.len(), 1, "{json}");
    assert!(holds_losslessly(not_read[0], b"\xfe-bad.pem"), "{json}");
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

#[test]
fn a_fifo_is_refused_at_once_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.pem");
    mkfifo(&fifo);
    let ok = fixture("bad/ok.pem");
    for args in [
        vec![OsStr::new("inspect"), fifo.as_os_str()],
        vec![OsStr::new("check"), OsStr::new("--cert"), fifo.as_os_str()],
        vec![
            OsStr::new("check"),
            OsStr::new("--cert"),
            ok.as_os_str(),
            OsStr::new("--key"),
            fifo.as_os_str(),
        ],
        vec![
            OsStr::new("check"),
            OsStr::new("--cert"),
            ok.as_os_str(),
            OsStr::new("--cacert"),
            fifo.as_os_str(),
        ],
    ] {
        let result = run(&args);
        assert_eq!(
            verdict(&result, &fifo, &[]),
            Ok(Verdict::Refused),
            "{args:?}"
        );
    }
    assert_refused_as_argument(&fifo);
}

/// In a tree, a FIFO or a link to a device is listed as skipped, without being opened.
#[test]
fn scan_lists_special_files_in_a_tree_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.pem");
    mkfifo(&fifo);
    std::os::unix::fs::symlink(&fifo, dir.path().join("to-fifo.pem")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.path().join("null.pem")).unwrap();
    std::fs::copy(fixture("bad/ok.pem"), dir.path().join("ok.pem")).unwrap();
    let scan = run([
        OsStr::new("scan"),
        OsStr::new("-w"),
        OsStr::new("json"),
        dir.path().as_os_str(),
    ]);
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    let json = scan.json();
    assert_eq!(json["certificates"].as_array().unwrap().len(), 1, "{json}");
    let skipped: Vec<String> = json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    for name in ["fifo.pem", "to-fifo.pem", "null.pem"] {
        let path = dir.path().join(name).display().to_string();
        assert!(skipped.contains(&path), "{name} not skipped: {json}");
    }
}
