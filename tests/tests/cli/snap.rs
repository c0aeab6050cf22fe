//! What the snapshot tests (`help.rs`, `outputs.rs`, `writes.rs`) share: the `etcd-pki` command
//! with a fixed environment, temporary directories that hold copies of fixtures, and the insta
//! filters that redact what changes from run to run.
//!
//! The redactions (each replaces what it matches, everywhere in stdout and stderr):
//!
//! | what | becomes |
//! | --- | --- |
//! | the temporary directory of a test | `[TEMP]` |
//! | the repository's path | `[REPO]` |
//! | an RFC 3339 timestamp that no committed fixture holds (now, a new certificate's validity) | `YYYY-MM-DDTHH:MM:SSZ` |
//! | the stamp of a backup, `NAME.bak.20261130T101743Z[.N]` | `NAME.bak.YYYYMMDDTHHMMSSZ` |
//! | a residual counted in years (`99y`, `(99y left)`), which changes as time passes | `[Y]` |
//! | JSON `residual_seconds` | `"[SECONDS]"` |
//! | the serial, SHA-256 fingerprint or key identifier of a certificate made during the test | `[SERIAL]`, `[SHA-256]`, `[KEY-ID]` |
//! | the PID and nanoseconds in the name of a temporary file or journal of a write | `[PID]-[NANOS]`, `[ID]` |
//!
//! Timestamps and stamps become placeholders of the same width, so that tables stay aligned.
//! The serials, fingerprints, key identifiers and dates of the committed fixtures do not change,
//! so they stay: they are read from the fixtures (`etcd-pki inspect -w json` of every certificate
//! file in `fixtures/{cfssl,kubeadm,openssl,bad}`) and shielded from the generic redactions.
//! Residuals counted in days or less are left as they are: only certificates made during a test,
//! whose lifetime is fixed (`364d` for 365 days), have them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use etcd_pki_tests::{bin, fixture, repo_root};

/// Asserts a snapshot of a command's exit code, stdout and stderr (insta-cmd), named `$name`,
/// with the redactions of this module, or with the insta settings given (`Stage::settings`,
/// `unfiltered()`).
macro_rules! snapshot {
    ($name:expr, $cmd:expr) => {
        snapshot!($name, $cmd, $crate::snap::settings(None))
    };
    ($name:expr, $cmd:expr, $settings:expr) => {{
        let mut cmd: ::std::process::Command = $cmd;
        let settings: ::insta::Settings = $settings;
        settings.bind(|| {
            ::insta_cmd::assert_cmd_snapshot!($name, cmd);
        });
    }};
}
pub(crate) use snapshot;

/// Environment variables that would change what `etcd-pki` prints: the `ETCDCTL_*` defaults shown
/// in help, the terminal width (help is wrapped to it, at most 80 columns), colours, backtraces and
/// the write failpoint of the crash tests.
const VOLATILE_ENV: &[&str] = &[
    "COLUMNS",
    "LINES",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "NO_COLOR",
    "TERM",
    "RUST_BACKTRACE",
    "RUST_LIB_BACKTRACE",
    "ETCD_PKI_FAILPOINT",
];

/// `etcd-pki ARGS` in `cwd`, with no stdin and none of [`VOLATILE_ENV`] or `ETCDCTL_*`.
pub fn etcd_pki_in(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(cwd).args(args).stdin(Stdio::null());
    for key in VOLATILE_ENV {
        cmd.env_remove(key);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ETCDCTL_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `etcd-pki ARGS` run from the repository root, so that fixtures are named as
/// `fixtures/cfssl/members.pem`.
pub fn etcd_pki(args: &[&str]) -> Command {
    etcd_pki_in(&repo_root(), args)
}

/// A temporary directory holding copies of fixtures at the same relative paths
/// (`fixtures/cfssl/ca.pem`), for the commands that write; removed when dropped.
///
/// It is made in `/tmp` with a name of fixed length, so that the tables that show a path inside
/// it (renew's BACKUP column) have the same width on every machine. Copied keys get mode 0600
/// and other files 0644, whatever the umask of the checkout (reissue and renew warn about a
/// CA key that others can read).
pub struct Stage {
    dir: tempfile::TempDir,
}

impl Stage {
    /// A directory with copies of `fixtures/REL` for each of `rels`.
    pub fn new(rels: &[&str]) -> Stage {
        let dir = tempfile::Builder::new()
            .prefix("etcd-pki-snap.")
            .rand_bytes(8)
            .tempdir_in("/tmp")
            .expect("a temporary directory in /tmp");
        let stage = Stage { dir };
        for rel in rels {
            let to = stage.path().join("fixtures").join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(fixture(rel), &to).unwrap();
            let mode = if rel.ends_with(".key") || rel.ends_with("-key.pem") {
                0o600
            } else {
                0o644
            };
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        stage
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The insta settings of a snapshot of a command run here: [`settings`] with the directory.
    pub fn settings(&self) -> insta::Settings {
        settings(Some(self.path()))
    }

    /// `etcd-pki ARGS` run in the directory.
    pub fn etcd_pki(&self, args: &[&str]) -> Command {
        etcd_pki_in(self.path(), args)
    }
}

/// The insta settings of a snapshot: this module's filters, and the temporary directory's.
pub fn settings(temp: Option<&Path>) -> insta::Settings {
    // Compiling the filters takes tens of milliseconds (the fixtures' values make one large
    // regular expression): once, not once per snapshot.
    static BASE: OnceLock<insta::Settings> = OnceLock::new();
    let mut settings = BASE
        .get_or_init(|| {
            let mut settings = insta::Settings::new();
            for (regex, replacement) in filters() {
                settings.add_filter(&regex, replacement);
            }
            settings
        })
        .clone();
    if let Some(temp) = temp {
        // After the others, which cannot match inside its name (letters and digits after
        // `/tmp/etcd-pki-snap.`).
        for form in path_forms(temp) {
            settings.add_filter(&escape(&form), "[TEMP]");
        }
    }
    settings
}

/// The insta settings of a snapshot that needs no redaction (help texts).
pub fn unfiltered() -> insta::Settings {
    insta::Settings::new()
}

/// Marks a value of a committed fixture so that the generic redactions pass it by; removed last.
const KEEP_OPEN: char = '\u{1}';
const KEEP_CLOSE: char = '\u{2}';

/// The filters but the temporary directory's, in the order insta applies them.
fn filters() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for form in path_forms(&repo_root()) {
        out.push((escape(&form), "[REPO]".into()));
    }
    // Shield the committed fixtures' dates, fingerprints and key identifiers, and their serials
    // where a serial is shown (a serial can be as short as `fb`, or empty for serial 0).
    let values = fixture_values();
    out.push((
        format!(r"\b(?:{})\b", values.other.join("|")),
        format!("{KEEP_OPEN}${{0}}{KEEP_CLOSE}"),
    ));
    out.push((
        format!(
            r#"(?m)(Serial:[ ]+|"serial": ")((?:{})(?:$|"))"#,
            values.serials.join("|")
        ),
        format!("${{1}}{KEEP_OPEN}${{2}}{KEEP_CLOSE}"),
    ));
    // Backup stamps (with the `.N` a second backup in the same second gets).
    out.push((
        r"\.bak\.\d{8}T\d{6}Z(?:\.\d+)?".into(),
        ".bak.YYYYMMDDTHHMMSSZ".into(),
    ));
    // Generic redactions; each refuses to start right after a shield.
    out.push((
        r"(^|[^\x01\d])\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z".into(),
        "${1}YYYY-MM-DDTHH:MM:SSZ".into(),
    ));
    out.push((
        r"(^|[^\x01:0-9A-F])(?:[0-9A-F]{2}:){31}[0-9A-F]{2}".into(),
        "${1}[SHA-256]".into(),
    ));
    out.push((
        r"(^|[^\x01:0-9a-f])(?:[0-9a-f]{2}:){19}[0-9a-f]{2}".into(),
        "${1}[KEY-ID]".into(),
    ));
    out.push((
        r"(?m)^(\s*Serial:\s+)[0-9a-f]+$".into(),
        "${1}[SERIAL]".into(),
    ));
    out.push((
        r#""serial": "[0-9a-f]+""#.into(),
        r#""serial": "[SERIAL]""#.into(),
    ));
    // Residuals in years: simple and check lines, JSON, and table cells (same width for 99y).
    out.push((r"\(\d+y left\)".into(), "([Y] left)".into()));
    out.push((
        r#""residual": "\d+y""#.into(),
        r#""residual": "[Y]""#.into(),
    ));
    out.push((r"\| \d+y( +)\|".into(), "| [Y]$1|".into()));
    out.push((
        r#""residual_seconds": -?\d+"#.into(),
        r#""residual_seconds": "[SECONDS]""#.into(),
    ));
    // Temporary files and journals of writes: `.NAME.tmp-PID-NANOS`, `.etcd-pki-journal.ID`.
    // (A PID and a count planted by a test, such as `.x.pem.tmp-4194305-1`, stay.)
    out.push((
        r"\.(tmp|restore)-\d+-\d{10,}".into(),
        ".$1-[PID]-[NANOS]".into(),
    ));
    out.push((
        r"\.etcd-pki-journal\.[0-9-]+".into(),
        ".etcd-pki-journal.[ID]".into(),
    ));
    // Drop the shields.
    out.push((format!("[{KEEP_OPEN}{KEEP_CLOSE}]"), String::new()));
    out
}

/// A path as given and as the kernel resolves it (they differ when it goes through a symbolic
/// link), longest first.
fn path_forms(path: &Path) -> Vec<String> {
    let mut forms = vec![path.display().to_string()];
    if let Ok(real) = std::fs::canonicalize(path) {
        let real = real.display().to_string();
        if !forms.contains(&real) {
            forms.push(real);
        }
    }
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
}

/// `text` as a regular expression that matches it literally.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The values of the committed fixture certificates that the generic redactions would hide, as
/// regular expressions.
struct FixtureValues {
    /// Serial numbers.
    serials: Vec<String>,
    /// Dates, fingerprints and key identifiers.
    other: Vec<String>,
}

/// Every date, serial, fingerprint and key identifier of the committed fixture certificates (read
/// once with `etcd-pki inspect -w json`).
fn fixture_values() -> &'static FixtureValues {
    static VALUES: OnceLock<FixtureValues> = OnceLock::new();
    VALUES.get_or_init(|| {
        let root = repo_root();
        let mut files: Vec<PathBuf> = Vec::new();
        for dir in ["cfssl", "kubeadm", "openssl", "bad"] {
            for entry in std::fs::read_dir(fixture(dir)).unwrap() {
                let path = entry.unwrap().path();
                if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("pem" | "crt" | "der")
                ) {
                    files.push(path);
                }
            }
        }
        files.sort();
        // Some of those files hold no certificate (keys, an empty file): inspect reports them
        // in "errors" and exits 2, and still lists every certificate it read.
        let mut cmd = etcd_pki_in(&root, &["inspect", "-w", "json"]);
        let out = cmd.args(&files).output().expect("run etcd-pki inspect");
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("inspect -w json prints JSON");
        let mut values = FixtureValues {
            serials: Vec::new(),
            // Instants the tests pass (--at) and the help texts give as examples.
            other: [
                "2027-01-01T00:00:00Z",
                "2030-01-01T00:00:00Z",
                "2127-01-01T00:00:00Z",
            ]
            .map(escape)
            .to_vec(),
        };
        for cert in json["certificates"].as_array().expect("certificates") {
            if let Some(serial) = cert["serial"].as_str() {
                values.serials.push(escape(serial));
            }
            for field in [
                "not_before",
                "not_after",
                "fingerprint_sha256",
                "subject_key_id",
                "authority_key_id",
            ] {
                match cert[field].as_str() {
                    Some(value) if !value.is_empty() => values.other.push(escape(value)),
                    _ => {}
                }
            }
        }
        assert!(
            values.serials.len() > 50 && values.other.len() > 100,
            "too few fixture values read from {files:?}"
        );
        for list in [&mut values.serials, &mut values.other] {
            list.sort();
            list.dedup();
        }
        values
    })
}
