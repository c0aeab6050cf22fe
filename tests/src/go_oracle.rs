//! Go as a test oracle: the program in `tests/go-oracle/` (standard library only), built once per
//! test process with the installed `go` (Debian bookworm's golang-go, Go 1.19.8, the Go of
//! Debian's etcd 3.4; `make deps` installs it) and run as one process that answers JSON-lines
//! requests for the whole run. Its protocol is described in `tests/go-oracle/main.go`; new
//! questions (host names, chain verification, key pairs) are new ops there and, here, new
//! convenience functions beside [`parse`] and [`parse_key`].

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
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

/// The oracle of this test process, built and started at the first call.
pub fn oracle() -> std::sync::MutexGuard<'static, GoOracle> {
    static ORACLE: OnceLock<Mutex<GoOracle>> = OnceLock::new();
    ORACLE
        .get_or_init(|| Mutex::new(start()))
        .lock()
        // A test that panicked while asking leaves the oracle usable: every answer is one line.
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn start() -> GoOracle {
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
    let binary = dir.join(format!("go-oracle-{}", std::process::id()));
    let mut build = Command::new("go");
    build
        .args(["build", "-trimpath", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(&source)
        // The oracle has no dependencies: nothing may be downloaded.
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0");
    if std::env::var_os("GOCACHE").is_none()
        && std::env::var_os("HOME").is_none()
        && std::env::var_os("XDG_CACHE_HOME").is_none()
    {
        build.env("GOCACHE", dir.join("cache"));
    }
    let out = build.output().unwrap_or_else(|e| {
        panic!("cannot run `go` to build the Go oracle (install golang-go; make deps does): {e}")
    });
    assert!(
        out.status.success(),
        "go build of {} failed:\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(&binary)
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
