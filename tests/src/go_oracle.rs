//! Go as a test oracle: the program in `tests/go-oracle/` (standard library only), built once per
//! test process and Go version, and run as one process per version that answers JSON-lines
//! requests for the whole run. Its protocol is described in `tests/go-oracle/main.go`; new
//! questions are new ops there and, here, new convenience functions beside [`parse`] and
//! [`parse_key`] (or requests sent with [`GoOracle::ask`]).
//!
//! Two Gos, one per etcd ([`GoVersion`]): the installed `go` (Debian bookworm's golang-go, Go
//! 1.19.8, the Go of Debian's etcd 3.4.23; `make deps` installs it) and Go 1.24 (trixie's
//! golang-1.24-go, unpacked into `target/go-1.24` by `make go124`; etcd 3.5.16 is built with Go
//! 1.24.0). Each oracle runs with the `DefaultGODEBUG` of its etcd binary as `GODEBUG`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

/// A running oracle.
pub struct GoOracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl GoOracle {
    /// Sends one request and returns its answer.
    #[track_caller]
    pub fn ask(&mut self, request: &Value) -> Value {
        let mut line = serde_json::to_string(request).expect("a request serialises");
        line.push('\n');
        if let Err(e) = self
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
        {
            let status = self.child.try_wait();
            panic!("the Go oracle does not take requests ({e}; exit status {status:?})");
        }
        let mut answer = String::new();
        let read = self.stdout.read_line(&mut answer).unwrap_or(0);
        assert!(read > 0, "the Go oracle ended without answering {request}");
        serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("the Go oracle answered {answer:?}, not JSON: {e}"))
    }
}

/// A Go that an etcd release is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoVersion {
    /// Go 1.19 (the installed golang-go, 1.19.8): etcd 3.4.23's.
    Go119,
    /// Go 1.24 (trixie's golang-1.24-go, 1.24.4, in `target/go-1.24`): etcd 3.5.16's (1.24.0).
    Go124,
}

/// `DefaultGODEBUG` of trixie's etcd 3.5.16 (`go version -m target/etcd-3.5/root/usr/bin/etcd`),
/// which the Go 1.24 oracle runs with as `GODEBUG`. Debian's etcd 3.4.23, built with Go 1.19,
/// records none (Go 1.21 introduced it).
pub const ETCD_3_5_16_DEFAULT_GODEBUG: &str = "asynctimerchan=1,gotestjsonbuildtext=1,gotypesalias=0,httplaxcontentlength=1,httpmuxgo121=1,httpservecontentkeepheaders=1,multipathtcp=0,netedns0=0,panicnil=1,randseednop=0,rsa1024min=0,tls10server=1,tls3des=1,tlsmlkem=0,tlsrsakex=1,tlsunsafeekm=1,winreadlinkvolume=0,winsymlink=0,x509keypairleaf=0,x509negativeserial=1,x509rsacrt=0,x509usepolicies=0";

impl GoVersion {
    /// Both, oldest first.
    pub const ALL: [GoVersion; 2] = [GoVersion::Go119, GoVersion::Go124];

    /// The prefix of `runtime.Version()` this Go reports (`go1.19.`).
    pub fn version_prefix(self) -> &'static str {
        match self {
            GoVersion::Go119 => "go1.19.",
            GoVersion::Go124 => "go1.24.",
        }
    }

    /// The etcd minor version built with it.
    pub fn etcd(self) -> &'static str {
        match self {
            GoVersion::Go119 => "3.4",
            GoVersion::Go124 => "3.5",
        }
    }

    /// The `GODEBUG` its etcd binary runs with by default.
    pub fn etcd_godebug(self) -> &'static str {
        match self {
            GoVersion::Go119 => "",
            GoVersion::Go124 => ETCD_3_5_16_DEFAULT_GODEBUG,
        }
    }

    /// The `go` command and the `GOROOT` it needs (none for the installed one). Go 1.24 is
    /// `$GO124` if set, else `target/go-1.24` of the repository (`make go124`).
    pub fn go_command(self) -> (PathBuf, Option<PathBuf>) {
        match self {
            GoVersion::Go119 => (PathBuf::from("go"), None),
            GoVersion::Go124 => {
                let go = std::env::var_os("GO124")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        crate::repo_root().join("target/go-1.24/root/usr/lib/go-1.24/bin/go")
                    });
                assert!(
                    go.is_file(),
                    "Go 1.24 is not at {}: run `make go124` (it unpacks trixie's golang-1.24-go \
                     there) or set GO124 to a Go 1.24 `go`",
                    go.display()
                );
                let goroot = go
                    .parent()
                    .and_then(Path::parent)
                    .expect("go lives in GOROOT/bin")
                    .to_path_buf();
                (go, Some(goroot))
            }
        }
    }
}

impl std::fmt::Display for GoVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GoVersion::Go119 => f.write_str("Go 1.19"),
            GoVersion::Go124 => f.write_str("Go 1.24"),
        }
    }
}

/// The Go 1.19 oracle of this test process (what [`parse`] and [`parse_key`] ask), built and
/// started at the first call.
pub fn oracle() -> std::sync::MutexGuard<'static, GoOracle> {
    oracle_for(GoVersion::Go119)
}

/// The oracle of this test process for `version`, built and started at the first call.
pub fn oracle_for(version: GoVersion) -> std::sync::MutexGuard<'static, GoOracle> {
    static ORACLES: [OnceLock<Mutex<GoOracle>>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = match version {
        GoVersion::Go119 => &ORACLES[0],
        GoVersion::Go124 => &ORACLES[1],
    };
    slot.get_or_init(|| Mutex::new(GoOracle::for_go(version)))
        .lock()
        // A test that panicked while asking leaves the oracle usable: every answer is one line.
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GoOracle {
    /// Builds the oracle with `version`'s Go and starts it with its etcd's `GODEBUG`; checks
    /// that it reports that Go.
    pub fn for_go(version: GoVersion) -> GoOracle {
        let mut oracle = start(version);
        let v = oracle.ask(&json!({"op": "version"}));
        let go = v["go"].as_str().unwrap_or("?");
        assert!(
            go.starts_with(version.version_prefix()),
            "the {version} oracle was built with {go}"
        );
        oracle
    }
}

fn start(version: GoVersion) -> GoOracle {
    let source = crate::repo_root().join("tests/go-oracle");
    // Beside the test executable (target/<profile>/deps/..), one binary per process so that two
    // test executables building at once do not race on one file.
    let exe = std::env::current_exe().expect("current test executable");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps")
        .join("go-oracle");
    std::fs::create_dir_all(&dir).expect("create target/<profile>/go-oracle");
    let binary = dir.join(format!(
        "go-oracle-{}-{}",
        version.version_prefix().trim_end_matches('.'),
        std::process::id()
    ));
    let (go, goroot) = version.go_command();
    let mut build = Command::new(&go);
    if let Some(goroot) = &goroot {
        build.env("GOROOT", goroot);
    }
    build
        .args(["build", "-trimpath", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(&source)
        // The oracle has no dependencies: nothing may be downloaded.
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .env("CGO_ENABLED", "0");
    if std::env::var_os("GOCACHE").is_none()
        && std::env::var_os("HOME").is_none()
        && std::env::var_os("XDG_CACHE_HOME").is_none()
    {
        build.env("GOCACHE", dir.join("cache"));
    }
    let out = build.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {} to build the Go oracle (install golang-go, make deps does; for Go 1.24, make go124): {e}",
            go.display()
        )
    });
    assert!(
        out.status.success(),
        "go build of {} failed:\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(&binary)
        .env("GODEBUG", version.etcd_godebug())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the Go oracle");
    // Running, it needs no file: the next build writes its own.
    let _ = std::fs::remove_file(&binary);
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut oracle = GoOracle {
        child,
        stdin,
        stdout,
    };
    let hello = oracle.ask(&json!({"op": "no such op", "id": 0}));
    assert_eq!(hello["ok"], json!(false), "the Go oracle answers: {hello}");
    oracle
}

/// How a request names a file: `file` when the path is UTF-8, `file_b64` (its bytes) otherwise.
pub fn file_fields(path: &Path) -> (&'static str, String) {
    use std::os::unix::ffi::OsStrExt;
    match path.to_str() {
        Some(s) => ("file", s.to_string()),
        None => {
            use base64::Engine;
            (
                "file_b64",
                base64::engine::general_purpose::STANDARD.encode(path.as_os_str().as_bytes()),
            )
        }
    }
}

fn ask_about(op: &str, path: &Path) -> Value {
    let (field, value) = file_fields(path);
    let mut request = json!({ "op": op });
    request[field] = json!(value);
    oracle().ask(&request)
}

/// Go's verdict on a file as a certificate file: the number of certificates it parses, or why
/// it refuses the file.
pub fn parse(path: &Path) -> Result<usize, String> {
    let answer = ask_about("parse", path);
    match answer["ok"].as_bool() {
        Some(true) => Ok(answer["certs"].as_u64().expect("certs in the answer") as usize),
        _ => Err(answer["error"].as_str().unwrap_or("?").to_string()),
    }
}

/// Go's verdict on a file as a private key file (tls.X509KeyPair's key parsing): the key's
/// algorithm (`RSA 2048`, `ECDSA P-256`, `Ed25519`), or why it refuses the file.
pub fn parse_key(path: &Path) -> Result<String, String> {
    let answer = ask_about("parse_key", path);
    match answer["ok"].as_bool() {
        Some(true) => Ok(answer["key"]
            .as_str()
            .expect("key in the answer")
            .to_string()),
        _ => Err(answer["error"].as_str().unwrap_or("?").to_string()),
    }
}
