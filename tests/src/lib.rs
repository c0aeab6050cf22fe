//! Test harness shared by the integration tests: the built `etcd-pki` binary, the committed
//! fixtures, real tools (openssl) for certificates that must be made at test time, and (in
//! [`cluster`]) real etcd clusters on loopback addresses; Go as an oracle ([`go_oracle`]) and
//! the seeded differential runs against it ([`prng`], [`host_gen`], [`host_diff`],
//! [`go_diff_run`]; for key pairs [`keypair_gen`], [`keypair_diff`], [`keypair_run`]).
//!
//! The binary is the one `cargo build` put beside this test executable; `make test` builds it
//! first. A binary older than the sources is refused, so a test never passes against stale code.

pub mod chain_diff;
pub mod chain_gen;
pub mod cluster;
pub mod daemon;
pub mod deploy;
pub mod go_diff_run;
pub mod go_oracle;
pub mod host_diff;
pub mod host_gen;
pub mod keypair_diff;
pub mod keypair_gen;
pub mod keypair_run;
pub mod long_run;
pub mod prng;
pub mod writer;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The result of running `etcd-pki`.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`-1` if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, printing both streams when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts that stdout contains a fragment.
    #[track_caller]
    pub fn stdout_has(&self, fragment: &str) -> &Run {
        assert!(
            self.stdout.contains(fragment),
            "stdout lacks {fragment:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that stderr contains a fragment.
    #[track_caller]
    pub fn stderr_has(&self, fragment: &str) -> &Run {
        assert!(
            self.stderr.contains(fragment),
            "stderr lacks {fragment:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A path inside `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures").join(rel)
}

/// A path as etcd-pki shows it: as it is when UTF-8; otherwise with `\xNN` for each byte that
/// is not valid UTF-8 and `\\` for each backslash (pki-core's `display_path`, restated here so
/// that the tests judge the binary from outside).
pub fn shown(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    if let Some(text) = path.to_str() {
        return text.to_string();
    }
    let mut out = String::new();
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// The JSON etcd-pki writes for a path: a string, or `{"escaped", "base64"}` when the path is not
/// UTF-8 (compared here by its escaped form).
pub fn json_path_is(value: &serde_json::Value, path: &Path) -> bool {
    match value {
        serde_json::Value::String(s) => path.to_str() == Some(s.as_str()),
        serde_json::Value::Object(o) => {
            o.get("escaped").and_then(|e| e.as_str()) == Some(shown(path).as_str())
        }
        _ => false,
    }
}

/// A fixture path as a `&'static str`, convenient in argument lists (leaked: tests only).
pub fn fx(rel: &str) -> &'static str {
    Box::leak(fixture(rel).display().to_string().into_boxed_str())
}

/// The `etcd-pki` binary under test.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let path = std::env::var_os("ETCD_PKI_BIN").map(PathBuf::from).unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("current test executable");
            // target/<profile>/deps/<test> -> target/<profile>/etcd-pki
            exe.parent()
                .and_then(Path::parent)
                .expect("test executable lives in target/<profile>/deps")
                .join("etcd-pki")
        });
        let built = path.metadata().and_then(|m| m.modified()).unwrap_or_else(|_| {
            panic!(
                "{} does not exist: build it first with `cargo build --workspace --bins` (make test does)",
                path.display()
            )
        });
        let newest = newest_source(&repo_root());
        assert!(
            built >= newest,
            "{} is older than the sources: rebuild with `cargo build --workspace --bins` (make test does)",
            path.display()
        );
        path
    })
}

fn newest_source(root: &Path) -> SystemTime {
    newest_in(root, &["pki-core/src", "pki-cluster/src", "pki-cli/src"])
}

/// The newest modification time of the files under `dirs` (relative to `root`).
fn newest_in(root: &Path, dirs: &[&str]) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for dir in dirs {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                    newest = newest.max(t);
                }
            }
        }
    }
    newest
}

/// A built example of a library crate (`target/<profile>/examples/NAME`, which `make test`'s
/// `cargo build --workspace --all-targets` builds), refused when older than the sources.
pub fn example(name: &str) -> PathBuf {
    let path = bin()
        .parent()
        .expect("the binary's directory")
        .join("examples")
        .join(name);
    let built = path.metadata().and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!(
            "{} does not exist: build it with `cargo build --workspace --all-targets` (make test does)",
            path.display()
        )
    });
    // What the example is built from: pki-core's examples depend on pki-core only (cargo does
    // not relink them when another crate changes).
    let core_only = repo_root()
        .join("pki-core/examples")
        .join(format!("{name}.rs"))
        .exists();
    let dirs: &[&str] = if core_only {
        &["pki-core/src", "pki-core/examples"]
    } else {
        &[
            "pki-core/src",
            "pki-cluster/src",
            "pki-core/examples",
            "pki-cluster/examples",
        ]
    };
    let sources = newest_in(&repo_root(), dirs);
    assert!(
        built >= sources,
        "{} is older than the sources: rebuild with `cargo build --workspace --all-targets`",
        path.display()
    );
    path
}

/// Runs `etcd-pki` with arguments, in `cwd` if given, with no `ETCDCTL_*` from the caller.
pub fn etcd_pki<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    etcd_pki_in(None, args)
}

/// The `etcd-pki` command with arguments, no stdin, and none of the caller's `ETCDCTL_*`.
fn command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ETCDCTL_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// [`etcd_pki`] with a working directory.
pub fn etcd_pki_in<I, S>(cwd: Option<&Path>, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = command(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    Run::from_output(cmd.output().expect("run etcd-pki"))
}

/// [`etcd_pki`] with a wall-clock bound: a run still going after `limit` is killed and fails the
/// test (a hang on a FIFO or an endless file is a bug, not a slow test).
#[track_caller]
pub fn etcd_pki_within<I, S>(limit: std::time::Duration, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::io::Read;
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
    let mut child = command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run etcd-pki");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("piped stderr")));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for etcd-pki") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("etcd-pki {args:?} still ran after {limit:?}: killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    Run::from_output(Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    })
}

/// Runs a real tool (openssl, cfssl) and fails the test with its output if it fails.
#[track_caller]
pub fn tool(program: &str, args: &[&str], cwd: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} (is it installed? make test installs it): {e}")
        });
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of `KEY="value"` in output such as `etcdctl member add`'s `ETCD_*` lines.
pub fn env_value(output: &str, key: &str) -> Option<String> {
    output.lines().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
    })
}

/// Every file under `dir` with its bytes and mode, to show that a failed command changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.is_file() {
                // A pipe or a device a test planted: it has no contents to compare (and reading a
                // FIFO would block).
                out.push((path.clone(), Vec::new(), 0));
            } else {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                out.push((path.clone(), std::fs::read(&path).unwrap(), mode));
            }
        }
    }
    out.sort();
    out
}

/// Copies fixture files into `dir`, keeping their names.
pub fn copy_fixtures(dir: &Path, rels: &[&str]) {
    for rel in rels {
        let name = Path::new(rel).file_name().unwrap();
        std::fs::copy(fixture(rel), dir.join(name)).unwrap();
    }
}

/// Makes, with openssl, a P-256 leaf signed by the fixtures' `openssl/ec-ca` that expires in
/// `days` days, with an IP SAN; writes `NAME.crt` and `NAME.key` into `dir`.
pub fn openssl_leaf_expiring_in(dir: &Path, name: &str, days: u32, ip: &str) -> PathBuf {
    openssl_leaf(
        dir,
        name,
        &fixture("openssl/ec-ca.crt"),
        &fixture("openssl/ec-ca.key"),
        days,
        &format!("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:{ip}\n"),
    )
}

/// Makes, with openssl, a P-256 leaf `CN=NAME` signed by `ca`/`ca_key`, valid for `days` days,
/// with the given openssl extension lines; writes `NAME.crt` and `NAME.key` into `dir`.
pub fn openssl_leaf(
    dir: &Path,
    name: &str,
    ca: &Path,
    ca_key: &Path,
    days: u32,
    extensions: &str,
) -> PathBuf {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let crt = format!("{name}.crt");
    tool(
        "openssl",
        &[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            &key,
        ],
        dir,
    );
    tool(
        "openssl",
        &[
            "req",
            "-new",
            "-key",
            &key,
            "-subj",
            &format!("/CN={name}"),
            "-out",
            &csr,
        ],
        dir,
    );
    let ext = format!("{name}.ext");
    std::fs::write(dir.join(&ext), extensions).unwrap();
    tool(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            ca.to_str().unwrap(),
            "-CAkey",
            ca_key.to_str().unwrap(),
            "-CAcreateserial",
            "-CAserial",
            &format!("{name}.srl"),
            "-days",
            &days.to_string(),
            "-sha256",
            "-extfile",
            &ext,
            "-out",
            &crt,
        ],
        dir,
    );
    for leftover in [csr, ext, format!("{name}.srl")] {
        let _ = std::fs::remove_file(dir.join(leftover));
    }
    dir.join(crt)
}

/// An `etcd-pki` process running in the background (a long command such as `scale-out`), its
/// output collected as it comes.
pub struct Spawned {
    child: std::process::Child,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Starts `etcd-pki` with arguments in the background (it dies with the test thread).
pub fn etcd_pki_spawn<I, S>(args: I) -> Spawned
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::io::Read;
    let mut cmd = command(args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cluster::die_with_parent(&mut cmd);
    let mut child = cmd.spawn().expect("run etcd-pki");
    let collect = |mut pipe: Box<dyn Read + Send>| {
        let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = text.clone();
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        (text, handle)
    };
    let (stdout, out_reader) = collect(Box::new(child.stdout.take().unwrap()));
    let (stderr, err_reader) = collect(Box::new(child.stderr.take().unwrap()));
    Spawned {
        child,
        stdout,
        stderr,
        readers: vec![out_reader, err_reader],
    }
}

impl Spawned {
    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it has written to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits until stdout contains `fragment`; fails the test (and kills the process) if the
    /// process exits or the time runs out first.
    #[track_caller]
    pub fn wait_for(&mut self, fragment: &str, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.stdout().contains(fragment) {
                return;
            }
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            if exited || std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                std::thread::sleep(std::time::Duration::from_millis(100));
                panic!(
                    "etcd-pki never printed {fragment:?} ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    if exited { "it exited" } else { "timed out" },
                    self.stdout(),
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// What it has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Kills it with SIGKILL (an interrupted run: a closed terminal, a rebooted admin host).
    pub fn kill(mut self) -> Run {
        let _ = self.child.kill();
        self.finish()
    }

    /// Waits for it to exit and returns what it did.
    pub fn finish(mut self) -> Run {
        let status = self.child.wait().expect("wait for etcd-pki");
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let stdout = self.stdout();
        let stderr = self.stderr.lock().unwrap().clone();
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

/// A per-member PKI made by hand with openssl (`fixtures/openssl-per-member.sh`) in `out`: the
/// CA in `out/ca/etcd-root.{crt,key}`, and for each `(name, ip, dns)` a directory `out/NAME`
/// with `trust-bundle.pem`, `NAME-server.pem`, `NAME-peer.pem`, `NAME-client.pem` and their
/// `.key` files (RSA 2048, PKCS#8).
pub fn openssl_per_member(out: &Path, members: &[(&str, std::net::IpAddr, &str)]) {
    let specs: Vec<String> = members
        .iter()
        .map(|(name, ip, dns)| format!("{name}={ip},{dns}"))
        .collect();
    let script = repo_root().join("fixtures/openssl-per-member.sh");
    let mut args = vec![out.to_str().unwrap()];
    args.extend(specs.iter().map(String::as_str));
    let status = Command::new("bash")
        .arg(&script)
        .args(&args)
        .status()
        .expect("run fixtures/openssl-per-member.sh");
    assert!(status.success(), "{} {args:?}", script.display());
}

/// Makes, with `openssl ca -gencrl`, a PEM CRL signed by `ca`/`ca_key` that revokes `revoked`
/// (certificates issued by that CA), into `out`.
pub fn openssl_crl(ca: &Path, ca_key: &Path, revoked: &[&Path], out: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        d.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca = ca\n[ca]\ndatabase = {db}\ncrlnumber = {crl}\ndefault_md = sha256\ndefault_crl_days = 30\nnew_certs_dir = {dir}\ncertificate = {ca}\nprivate_key = {key}\npolicy = policy\n[policy]\n",
            db = d.join("index.txt").display(),
            crl = d.join("crlnumber").display(),
            dir = d.display(),
            ca = ca.display(),
            key = ca_key.display(),
        ),
    )
    .unwrap();
    let cnf = d.join("ca.cnf").display().to_string();
    for cert in revoked {
        tool(
            "openssl",
            &[
                "ca",
                "-batch",
                "-config",
                &cnf,
                "-revoke",
                cert.to_str().unwrap(),
            ],
            d,
        );
    }
    tool(
        "openssl",
        &[
            "ca",
            "-batch",
            "-config",
            &cnf,
            "-gencrl",
            "-out",
            out.to_str().unwrap(),
        ],
        d,
    );
}

/// The `(status, check, message)` rows of the first member in `doctor -w json`'s output.
pub fn doctor_rows(stdout: &str) -> Vec<(String, String, String)> {
    let json: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("doctor's JSON: {e}: {stdout}"));
    json[0]["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["status"].as_str().unwrap_or_default().to_string(),
                        c["check"].as_str().unwrap_or_default().to_string(),
                        c["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `promtool check metrics` on `text`: Prometheus' parser and linter must accept it silently.
pub fn promtool_accepts(text: &str) {
    let mut child = std::process::Command::new(prometheus_tool("promtool"))
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics refused:\n{}{}\n---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of the sample whose line starts with `prefix` (name and labels).
pub fn metric_sample(text: &str, prefix: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no sample {prefix} in\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// openssl's notAfter of a certificate file, as Unix seconds.
pub fn openssl_not_after(path: &Path) -> i64 {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // notAfter=2126-11-01 12:32:00Z, converted by coreutils' date.
    let value = text.trim().trim_start_matches("notAfter=").to_string();
    let out = Command::new("date")
        .args(["-u", "-d", &value, "+%s"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// Prometheus' `promtool` or `prometheus-node-exporter`: as `make prometheus` (part of `make
/// test`) unpacks them into target/prometheus, else from PATH.
pub fn prometheus_tool(name: &str) -> PathBuf {
    let unpacked = repo_root()
        .join("target/prometheus/root/usr/bin")
        .join(name);
    if unpacked.exists() {
        return unpacked;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.exists());
    on_path.unwrap_or_else(|| {
        panic!("{name} not found: run `make prometheus` (make test does), which unpacks it into target/prometheus")
    })
}
