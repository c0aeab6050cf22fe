//! Real TLS etcd clusters on loopback for tests.
//!
//! Each member runs a real `etcd` on its own 127.x.y.z address (so SANs matter), with its own
//! copy of the PKI files as a separate host would have, mutual TLS on both ports
//! (`--client-cert-auth --peer-client-cert-auth`, as the seed runbook runs it), in a temporary
//! directory. The binaries are those in `$TEST_ETCD_BIN_DIR` when it is set, else the
//! `etcd` on `PATH` and the `etcdctl` beside it ([`etcd_binaries`]; [`etcd_version`] says which
//! version runs). The harness installs nothing: `make test` installs Debian's `etcd-server` and
//! `etcd-client` and unpacks trixie's beside them. It waits for health with the real `etcdctl`,
//! and stops only the processes it started, by PID: SIGTERM, a few seconds' grace, then SIGKILL
//! (an etcd whose cluster has a dead member may ignore SIGTERM for a while). Members also die
//! with the test thread that started them (`PR_SET_PDEATHSIG`), so a panicking test leaves
//! nothing behind.

use std::collections::HashSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::Run;

/// The environment variable that names the directory of the etcd binaries the harness runs
/// (`etcd`, `etcdctl`, and `etcdutl` where the version has it). A relative path is taken from
/// the repository root.
pub const ETCD_BIN_DIR_VAR: &str = "TEST_ETCD_BIN_DIR";

/// The etcd binaries every test runs, and their version.
#[derive(Debug)]
pub struct EtcdBinaries {
    /// The directory they are in.
    pub dir: PathBuf,
    /// `etcd`.
    pub etcd: PathBuf,
    /// `etcdctl`.
    pub etcdctl: PathBuf,
    /// `etcdutl` (etcd 3.5 and later), if the directory has it.
    pub etcdutl: Option<PathBuf>,
    /// What `etcd --version` reports, e.g. `3.4.23`.
    pub version: String,
}

/// The etcd binaries: those in `$TEST_ETCD_BIN_DIR`, or else those in the directory of
/// the `etcd` on `PATH` (Debian's, in /usr/bin, which `make test` installs). Looked up, and
/// `etcd --version` run, once per test process; a directory without `etcd` and `etcdctl` fails
/// the test rather than falling back to other binaries.
pub fn etcd_binaries() -> &'static EtcdBinaries {
    static BINARIES: OnceLock<EtcdBinaries> = OnceLock::new();
    BINARIES.get_or_init(|| {
        let dir = match std::env::var_os(ETCD_BIN_DIR_VAR).filter(|v| !v.is_empty()) {
            Some(dir) => crate::repo_root().join(dir),
            None => std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .find(|d| is_executable(&d.join("etcd")))
                .unwrap_or_else(|| PathBuf::from("/usr/bin")),
        };
        let tool = |name: &str| {
            let path = dir.join(name);
            is_executable(&path).then_some(path)
        };
        let need = |name: &str| {
            tool(name).unwrap_or_else(|| {
                panic!(
                    "{}/{name} is not an executable: set {ETCD_BIN_DIR_VAR} to a directory with etcd and etcdctl (make test installs Debian's etcd-server and etcd-client)",
                    dir.display()
                )
            })
        };
        let etcd = need("etcd");
        let etcdctl = need("etcdctl");
        let etcdutl = tool("etcdutl");
        let out = Command::new(&etcd)
            .arg("--version")
            .output()
            .unwrap_or_else(|e| panic!("{} --version: {e}", etcd.display()));
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("etcd Version:"))
            .map(|v| v.trim().to_string())
            .filter(|v| out.status.success() && !v.is_empty())
            .unwrap_or_else(|| panic!("{} --version printed no version:\n{text}", etcd.display()));
        EtcdBinaries {
            dir,
            etcd,
            etcdctl,
            etcdutl,
            version,
        }
    })
}

/// The version of the etcd the tests run, as `etcd --version` reports it (`3.4.23`, `3.5.16`).
pub fn etcd_version() -> &'static str {
    &etcd_binaries().version
}

/// `etcd`, with none of the caller's `ETCD_*` variables (etcd reads its flags from them).
pub fn etcd_command() -> Command {
    let mut cmd = Command::new(&etcd_binaries().etcd);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ETCD_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `etcdctl` speaking the v3 API, with none of the caller's other `ETCDCTL_*` variables.
pub fn etcdctl_command() -> Command {
    let mut cmd = Command::new(&etcd_binaries().etcdctl);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ETCDCTL_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("ETCDCTL_API", "3");
    cmd
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A cluster's client and peer ports, the same on every member's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// The client port (2379 in the runbook).
    pub client: u16,
    /// The peer port (2380 in the runbook).
    pub peer: u16,
}

/// A port pair of its own for each cluster of this process (the range depends on the PID, so
/// parallel test processes differ too), free on every address the test will use.
pub fn allocate_ports(ips: &[IpAddr]) -> Ports {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20000 + (std::process::id() % 500) as u16 * 80;
    for _ in 0..40 {
        let k = NEXT.fetch_add(1, Ordering::SeqCst) % 40;
        let ports = Ports {
            client: base + 2 * k,
            peer: base + 2 * k + 1,
        };
        if ips.iter().all(|ip| free(*ip, ports)) {
            return ports;
        }
    }
    panic!("no free port pair on {ips:?}");
}

/// The PKI files a member (or etcdctl) uses.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The CA certificate (`--trusted-ca-file`, `--peer-trusted-ca-file`, etcdctl `--cacert`).
    pub ca: PathBuf,
    /// The CA key, where the admin host has it.
    pub ca_key: Option<PathBuf>,
    /// `--cert-file`.
    pub server: PathBuf,
    /// `--key-file`.
    pub server_key: PathBuf,
    /// `--peer-cert-file`.
    pub peer: PathBuf,
    /// `--peer-key-file`.
    pub peer_key: PathBuf,
    /// etcdctl `--cert`.
    pub client: PathBuf,
    /// etcdctl `--key`.
    pub client_key: PathBuf,
}

impl Pki {
    /// The cfssl layout in `dir`: ca.pem, ca-key.pem, server.pem, members.pem, client.pem and
    /// their `-key.pem` files.
    pub fn cfssl_layout(dir: &Path) -> Pki {
        Pki {
            ca: dir.join("ca.pem"),
            ca_key: Some(dir.join("ca-key.pem")).filter(|p| p.exists()),
            server: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
            peer: dir.join("members.pem"),
            peer_key: dir.join("members-key.pem"),
            client: dir.join("client.pem"),
            client_key: dir.join("client-key.pem"),
        }
    }

    /// One member's kubeadm layout, as `etcd-pki init --layout kubeadm` writes it under
    /// `dir/NAME`, with the CA key from `dir`.
    pub fn kubeadm_layout(dir: &Path, name: &str) -> Pki {
        let m = dir.join(name);
        Pki {
            ca: m.join("ca.crt"),
            ca_key: Some(dir.join("ca.key")),
            server: m.join("server.crt"),
            server_key: m.join("server.key"),
            peer: m.join("peer.crt"),
            peer_key: m.join("peer.key"),
            client: m.join("healthcheck-client.crt"),
            client_key: m.join("healthcheck-client.key"),
        }
    }

    /// Copies the files into `dir` under the cfssl layout's names (a member's own copy, as on a
    /// separate host).
    pub fn copy_to(&self, dir: &Path) -> Pki {
        fs::create_dir_all(dir).unwrap();
        let copy = |from: &Path, name: &str| {
            let to = dir.join(name);
            if from.exists() {
                fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
            }
            to
        };
        Pki {
            ca: copy(&self.ca, "ca.pem"),
            ca_key: self.ca_key.as_ref().map(|k| copy(k, "ca-key.pem")),
            server: copy(&self.server, "server.pem"),
            server_key: copy(&self.server_key, "server-key.pem"),
            peer: copy(&self.peer, "members.pem"),
            peer_key: copy(&self.peer_key, "members-key.pem"),
            client: copy(&self.client, "client.pem"),
            client_key: copy(&self.client_key, "client-key.pem"),
        }
    }

    /// The seed runbook's certificates from `fixtures/cfssl` (SANs 127.0.0.1, 127.0.0.11-13),
    /// copied into `dir`.
    pub fn seed_fixtures(dir: &Path) -> Pki {
        Pki::cfssl_layout(&crate::fixture("cfssl")).copy_to(dir)
    }

    /// A fresh cfssl PKI in `dir`, made by the real `cfssl` and `cfssljson`, whose shared
    /// `server.pem` and `members.pem` list 127.0.0.1 and `ips` (the runbook's note 1 layout).
    pub fn cfssl(dir: &Path, ips: &[IpAddr]) -> Pki {
        Pki::cfssl_with_names(dir, ips, &[])
    }

    /// [`Pki::cfssl`] whose server and peer certificates also list DNS `names`.
    pub fn cfssl_with_names(dir: &Path, ips: &[IpAddr], names: &[String]) -> Pki {
        fs::create_dir_all(dir).unwrap();
        let hosts: Vec<String> = std::iter::once("127.0.0.1".to_string())
            .chain(ips.iter().map(ToString::to_string))
            .chain(names.iter().cloned())
            .collect();
        let hosts_json = serde_json::to_string(&hosts).unwrap();
        let write = |name: &str, text: String| fs::write(dir.join(name), text).unwrap();
        write(
            "ca-csr.json",
            r#"{"CN":"etcd-ca","key":{"algo":"rsa","size":2048},"names":[{"O":"etcd"}],"ca":{"expiry":"87600h"}}"#.into(),
        );
        write(
            "ca-config.json",
            r#"{"signing":{"default":{"expiry":"8760h"},"profiles":{
                "server":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]},
                "peer":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]},
                "client":{"expiry":"8760h","usages":["signing","key encipherment","client auth"]}}}}"#
                .into(),
        );
        for (name, cn, h) in [
            ("server", "etcd-server", &hosts_json),
            ("members", "etcd-peer", &hosts_json),
        ] {
            write(
                &format!("{name}-csr.json"),
                format!(
                    r#"{{"CN":"{cn}","hosts":{h},"key":{{"algo":"rsa","size":2048}},"names":[{{"O":"etcd"}}]}}"#
                ),
            );
        }
        write(
            "client-csr.json",
            r#"{"CN":"etcd-client","hosts":[],"key":{"algo":"rsa","size":2048},"names":[{"O":"etcd"}]}"#.into(),
        );
        cfssl(dir, &["gencert", "-initca", "ca-csr.json"], "ca");
        for (name, profile) in [
            ("server", "server"),
            ("members", "peer"),
            ("client", "client"),
        ] {
            cfssl(
                dir,
                &[
                    "gencert",
                    "-ca=ca.pem",
                    "-ca-key=ca-key.pem",
                    "-config=ca-config.json",
                    &format!("-profile={profile}"),
                    &format!("{name}-csr.json"),
                ],
                name,
            );
        }
        Pki::cfssl_layout(dir)
    }
}

/// Runs `cfssl ARGS | cfssljson -bare NAME` in `dir`.
fn cfssl(dir: &Path, args: &[&str], bare: &str) {
    let out = Command::new("cfssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cfssl (make test installs golang-cfssl)");
    assert!(
        out.status.success(),
        "cfssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut json = Command::new("cfssljson")
        .args(["-bare", bare])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("run cfssljson");
    use std::io::Write;
    json.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    assert!(json.wait().unwrap().success(), "cfssljson -bare {bare}");
}

/// `etcd-pki init DIR --layout kubeadm` for members `n0`, `n1`, ... on `ips`.
pub fn init_kubeadm(pki_dir: &Path, ips: &[IpAddr]) {
    let mut args = vec![
        "init".to_string(),
        pki_dir.display().to_string(),
        "--layout".into(),
        "kubeadm".into(),
    ];
    for (i, ip) in ips.iter().enumerate() {
        args.push("--member".into());
        args.push(format!("n{i}={ip}"));
    }
    crate::etcd_pki(&args).expect_code(0);
}

/// Addresses handed out in this process, so that parallel tests never share one.
static TAKEN: Mutex<Option<HashSet<Ipv4Addr>>> = Mutex::new(None);

/// `n` loopback addresses, distinct from every other allocation in this process; the second
/// octet depends on the PID so that parallel test processes use different ranges too.
pub fn allocate_ips(n: usize) -> Vec<IpAddr> {
    let mut taken = TAKEN.lock().unwrap();
    let taken = taken.get_or_insert_with(HashSet::new);
    let second = 1 + (std::process::id() % 200) as u8;
    let mut out = Vec::new();
    'outer: for third in 0..=255u8 {
        out.clear();
        for fourth in 10..(10 + n as u8) {
            let ip = Ipv4Addr::new(127, second, third, fourth);
            if taken.contains(&ip) {
                continue 'outer;
            }
            out.push(ip);
        }
        break;
    }
    assert_eq!(out.len(), n, "no free loopback addresses");
    taken.extend(out.iter().copied());
    out.into_iter().map(IpAddr::V4).collect()
}

/// Reserves specific addresses (the seed scenario's 127.0.0.11-14) for one test of this process.
pub fn reserve_ips(ips: &[&str]) -> Vec<IpAddr> {
    let mut taken = TAKEN.lock().unwrap();
    let taken = taken.get_or_insert_with(HashSet::new);
    ips.iter()
        .map(|s| {
            let ip: Ipv4Addr = s.parse().unwrap();
            assert!(
                taken.insert(ip),
                "{ip} is used by another test of this process"
            );
            IpAddr::V4(ip)
        })
        .collect()
}

fn free(ip: IpAddr, ports: Ports) -> bool {
    [ports.client, ports.peer]
        .iter()
        .all(|port| TcpListener::bind((ip, *port)).is_ok())
}

/// One etcd member process.
#[derive(Debug)]
pub struct Member {
    /// `--name`.
    pub name: String,
    /// Its address.
    pub ip: IpAddr,
    /// Its own directory (data, log, PKI copy).
    pub dir: PathBuf,
    /// Its PKI files.
    pub pki: Pki,
    ports: Ports,
    child: Option<Child>,
    recipe: Recipe,
}

/// How a member was started, to start it again the same way.
#[derive(Debug, Clone)]
struct Recipe {
    program: std::ffi::OsString,
    args: Vec<std::ffi::OsString>,
    envs: Vec<(std::ffi::OsString, Option<std::ffi::OsString>)>,
}

impl Recipe {
    fn of(cmd: &Command) -> Recipe {
        Recipe {
            program: cmd.get_program().to_owned(),
            args: cmd.get_args().map(ToOwned::to_owned).collect(),
            envs: cmd
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
                .collect(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        for (k, v) in &self.envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }
}

impl Member {
    /// `https://IP:CLIENT`.
    pub fn client_url(&self) -> String {
        url(self.ip, self.ports.client)
    }
    /// `https://IP:PEER`.
    pub fn peer_url(&self) -> String {
        url(self.ip, self.ports.peer)
    }
    /// Its log file.
    pub fn log(&self) -> PathBuf {
        self.dir.join("etcd.log")
    }
    /// The process ID, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }
}

/// `https://IP:PORT`, with IPv6 in brackets.
pub fn url(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("https://{v4}:{port}"),
        IpAddr::V6(v6) => format!("https://[{v6}]:{port}"),
    }
}

/// How a member starts.
#[derive(Debug, Clone)]
pub enum Start<'a> {
    /// With `--initial-cluster` and `--initial-cluster-state` flags.
    Flags {
        /// `--initial-cluster`.
        initial_cluster: &'a str,
        /// `--initial-cluster-state`: `new` or `existing`.
        state: &'a str,
    },
    /// With the `ETCD_NAME`, `ETCD_INITIAL_CLUSTER`, `ETCD_INITIAL_ADVERTISE_PEER_URLS` and
    /// `ETCD_INITIAL_CLUSTER_STATE` environment that `member add` prints (as the runbook's
    /// etcd.conf does), and no flags for them.
    Env(Vec<(String, String)>),
}

/// How a member is given its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Command-line flags.
    Flags,
    /// `ETCD_*` environment variables only.
    Env,
    /// A `--config-file` YAML.
    ConfigFile,
}

/// etcd's config file for flag settings: TLS settings under the transport-security maps, lists
/// as YAML lists, booleans as `true`.
fn config_yaml(settings: &[(String, String)]) -> String {
    let mut top = String::new();
    let mut client = String::new();
    let mut peer = String::new();
    for (k, v) in settings {
        let value = if v.is_empty() {
            "true".to_string()
        } else {
            format!("'{v}'")
        };
        let (section, key) = match k.as_str() {
            "cert-file" | "key-file" | "client-cert-auth" | "trusted-ca-file" | "auto-tls" => {
                (&mut client, k.as_str())
            }
            "peer-cert-file" => (&mut peer, "cert-file"),
            "peer-key-file" => (&mut peer, "key-file"),
            "peer-client-cert-auth" => (&mut peer, "client-cert-auth"),
            "peer-trusted-ca-file" => (&mut peer, "trusted-ca-file"),
            "log-outputs" => {
                top.push_str(&format!("log-outputs: [{v}]\n"));
                continue;
            }
            "heartbeat-interval" | "election-timeout" => {
                top.push_str(&format!("{k}: {v}\n"));
                continue;
            }
            _ => (&mut top, k.as_str()),
        };
        section.push_str(&format!("{key}: {value}\n"));
    }
    let indent = |s: &str| s.lines().map(|l| format!("  {l}\n")).collect::<String>();
    format!(
        "{top}client-transport-security:\n{}peer-transport-security:\n{}",
        indent(&client),
        indent(&peer)
    )
}

/// A TLS etcd cluster on loopback.
pub struct Cluster {
    root: tempfile::TempDir,
    /// The client and peer ports of every member.
    pub ports: Ports,
    /// The PKI the cluster was made with (the admin host's copy).
    pub pki: Pki,
    /// `--initial-cluster-token`.
    pub token: String,
    /// The members this harness started, in order.
    pub members: Vec<Member>,
    /// DNS names for the members' peer URLs, when the cluster uses names.
    names: Option<Names>,
}

/// DNS names for members' addresses, resolved through a private hosts file: every etcd (and
/// every etcd-pki a test runs against the cluster) runs in a mount namespace of its own
/// (`unshare -m`) in which that file is bind-mounted over /etc/hosts, so the system's is never
/// touched.
#[derive(Debug, Clone)]
pub struct Names {
    /// The hosts file.
    pub hosts: PathBuf,
    /// `(address, name)` pairs.
    pub of: Vec<(IpAddr, String)>,
}

impl Names {
    /// `dN.dns.test` for the N-th address, written to `hosts` (with the usual localhost lines).
    pub fn new(hosts: &Path, ips: &[IpAddr]) -> Names {
        let of: Vec<(IpAddr, String)> = ips
            .iter()
            .enumerate()
            .map(|(i, ip)| (*ip, format!("d{i}.dns.test")))
            .collect();
        let mut text = String::from("127.0.0.1 localhost\n::1 localhost ip6-localhost\n");
        for (ip, name) in &of {
            text.push_str(&format!("{ip} {name}\n"));
        }
        fs::write(hosts, text).unwrap();
        Names {
            hosts: hosts.to_path_buf(),
            of,
        }
    }

    /// The name of an address.
    pub fn name(&self, ip: IpAddr) -> Option<&str> {
        self.of
            .iter()
            .find(|(i, _)| *i == ip)
            .map(|(_, n)| n.as_str())
    }

    /// `program` run inside a mount namespace that sees this hosts file as /etc/hosts.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args([
            "-m",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
        ])
        .arg(&self.hosts)
        .arg(program);
        cmd
    }
}

impl Cluster {
    /// A cluster of `n` members on fresh addresses with a fresh cfssl PKI covering them.
    pub fn start_fresh(n: usize) -> Cluster {
        let ips = allocate_ips(n);
        Cluster::start_fresh_on(&ips, &ips, &[])
    }

    /// A cluster on `ips` (from [`allocate_ips`]) with a fresh cfssl PKI whose shared
    /// certificates list `covered`, members named infra0, infra1, ... Ports are chosen free on
    /// `spare` too, so members can be added there later.
    pub fn start_fresh_on(ips: &[IpAddr], covered: &[IpAddr], spare: &[IpAddr]) -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("etcd-pki-cluster")
            .tempdir()
            .unwrap();
        let pki = Pki::cfssl(&root.path().join("admin-pki"), covered);
        let members: Vec<(String, IpAddr, Pki)> = ips
            .iter()
            .enumerate()
            .map(|(i, ip)| (format!("infra{i}"), *ip, pki.clone()))
            .collect();
        let all: Vec<IpAddr> = ips.iter().chain(covered).chain(spare).copied().collect();
        Cluster::start_with(root, pki, members, allocate_ports(&all), true, None)
    }

    /// A cluster of `n` members whose peer URLs use DNS names (`d0.dns.test`, ...; see
    /// [`Names`]), with `spare` more named addresses for members added later, and a fresh cfssl
    /// PKI whose shared certificates list every name and address.
    pub fn start_fresh_named(n: usize, spare: usize) -> Cluster {
        let ips = allocate_ips(n + spare);
        let root = tempfile::Builder::new()
            .prefix("etcd-pki-cluster")
            .tempdir()
            .unwrap();
        let names = Names::new(&root.path().join("hosts"), &ips);
        let dns: Vec<String> = names.of.iter().map(|(_, n)| n.clone()).collect();
        let pki = Pki::cfssl_with_names(&root.path().join("admin-pki"), &ips, &dns);
        let members: Vec<(String, IpAddr, Pki)> = ips[..n]
            .iter()
            .enumerate()
            .map(|(i, ip)| (format!("infra{i}"), *ip, pki.clone()))
            .collect();
        Cluster::start_with(root, pki, members, allocate_ports(&ips), true, Some(names))
    }

    /// The DNS names of the cluster, when it uses names.
    pub fn names(&self) -> Option<&Names> {
        self.names.as_ref()
    }

    /// A cluster of the given members, all with (their own copy of) the same PKI; `spare` are
    /// addresses members may be added on later (ports are chosen free there too).
    pub fn start(pki: &Pki, members: &[(String, IpAddr)], spare: &[IpAddr]) -> Cluster {
        let with_pki = members
            .iter()
            .map(|(n, ip)| (n.clone(), *ip, pki.clone()))
            .collect();
        Cluster::start_each(pki, with_pki, spare)
    }

    /// A cluster whose members each have their own PKI files (kubeadm's per-member layout);
    /// `admin` is what etcdctl and etcd-pki connect with.
    pub fn start_each(
        admin: &Pki,
        members: Vec<(String, IpAddr, Pki)>,
        spare: &[IpAddr],
    ) -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("etcd-pki-cluster")
            .tempdir()
            .unwrap();
        let pki = admin.copy_to(&root.path().join("admin-pki"));
        let all: Vec<IpAddr> = members
            .iter()
            .map(|m| m.1)
            .chain(spare.iter().copied())
            .collect();
        Cluster::start_with(root, pki, members, allocate_ports(&all), true, None)
    }

    /// A cluster with no member started yet, whose members will be on `ips` (and `spare`):
    /// start them with [`Cluster::start_member_styled`], then wait with
    /// [`Cluster::wait_healthy`]. etcdctl and etcd-pki connect with `admin`.
    pub fn empty(admin: &Pki, ips: &[IpAddr], spare: &[IpAddr]) -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("etcd-pki-cluster")
            .tempdir()
            .unwrap();
        let pki = admin.copy_to(&root.path().join("admin-pki"));
        let all: Vec<IpAddr> = ips.iter().chain(spare).copied().collect();
        let token = format!(
            "etcd-pki-test-{}",
            root.path().file_name().unwrap().to_string_lossy()
        );
        Cluster {
            root,
            ports: allocate_ports(&all),
            pki,
            token,
            members: Vec::new(),
            names: None,
        }
    }

    /// Like [`Cluster::start`], but returns as soon as every member answers, without the
    /// five-second settling etcd's `--strict-reconfig-check` wants (to provoke "unhealthy
    /// cluster").
    pub fn start_unsettled(pki: &Pki, members: &[(String, IpAddr)]) -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("etcd-pki-cluster")
            .tempdir()
            .unwrap();
        let pki = pki.copy_to(&root.path().join("admin-pki"));
        let ips: Vec<IpAddr> = members.iter().map(|m| m.1).collect();
        let with_pki = members
            .iter()
            .map(|(n, ip)| (n.clone(), *ip, pki.clone()))
            .collect();
        Cluster::start_with(root, pki, with_pki, allocate_ports(&ips), false, None)
    }

    fn start_with(
        root: tempfile::TempDir,
        pki: Pki,
        members: Vec<(String, IpAddr, Pki)>,
        ports: Ports,
        settle: bool,
        names: Option<Names>,
    ) -> Cluster {
        let token = format!(
            "etcd-pki-test-{}",
            root.path().file_name().unwrap().to_string_lossy()
        );
        let mut cluster = Cluster {
            root,
            ports,
            pki,
            token,
            members: Vec::new(),
            names,
        };
        let initial = members
            .iter()
            .map(|(name, ip, _)| format!("{name}={}", cluster.peer_url(*ip)))
            .collect::<Vec<_>>()
            .join(",");
        for (name, ip, pki) in &members {
            cluster.start_member(
                name,
                *ip,
                pki,
                &Start::Flags {
                    initial_cluster: &initial,
                    state: "new",
                },
            );
        }
        if settle {
            cluster.wait_healthy(Duration::from_secs(60));
        } else {
            cluster.wait_answering(Duration::from_secs(60));
        }
        cluster
    }

    /// The peer URL a member on `ip` has in this cluster (with its DNS name, when the cluster
    /// uses names).
    pub fn peer_url(&self, ip: IpAddr) -> String {
        match self.names.as_ref().and_then(|n| n.name(ip)) {
            Some(name) => format!("https://{name}:{}", self.ports.peer),
            None => url(ip, self.ports.peer),
        }
    }

    /// The client URL a member on `ip` has in this cluster.
    pub fn client_url(&self, ip: IpAddr) -> String {
        url(ip, self.ports.client)
    }

    /// The temporary directory everything lives in.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Starts one member process with its own copy of `pki`, configured by flags.
    pub fn start_member(
        &mut self,
        name: &str,
        ip: IpAddr,
        pki: &Pki,
        start: &Start<'_>,
    ) -> &mut Member {
        self.start_member_styled(name, ip, pki, start, Style::Flags, &[])
    }

    /// Starts one member process with its own copy of `pki`, configured in `style`, with
    /// `extra` settings (`(flag, value)`; an empty value is a bare boolean flag) besides the
    /// harness's own.
    pub fn start_member_styled(
        &mut self,
        name: &str,
        ip: IpAddr,
        pki: &Pki,
        start: &Start<'_>,
        style: Style,
        extra: &[(&str, &str)],
    ) -> &mut Member {
        let dir = self.root.path().join(name);
        assert!(
            !dir.exists(),
            "member {name} was started before in this cluster"
        );
        let own_pki = pki.copy_to(&dir.join("pki"));
        let log = fs::File::create(dir.join("etcd.log")).unwrap();
        let (client, peer) = (url(ip, self.ports.client), url(ip, self.ports.peer));
        let advertised_peer = self.peer_url(ip);
        let mut cmd = match &self.names {
            Some(names) => {
                let mut cmd = names.command(&etcd_binaries().etcd);
                for (key, _) in std::env::vars_os() {
                    if key.to_string_lossy().starts_with("ETCD_") {
                        cmd.env_remove(key);
                    }
                }
                cmd
            }
            None => etcd_command(),
        };
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ETCD_") {
                cmd.env_remove(key);
            }
        }
        let s = |p: &Path| p.to_str().unwrap().to_string();
        let mut settings: Vec<(String, String)> = Vec::new();
        match start {
            Start::Flags {
                initial_cluster,
                state,
            } => settings.extend([
                ("name".to_string(), name.to_string()),
                (
                    "initial-advertise-peer-urls".into(),
                    advertised_peer.clone(),
                ),
                ("initial-cluster".into(), initial_cluster.to_string()),
                ("initial-cluster-state".into(), state.to_string()),
            ]),
            Start::Env(env) => {
                for (k, v) in env {
                    cmd.env(k, v);
                }
            }
        }
        settings.extend([
            ("data-dir".to_string(), s(&dir.join("data"))),
            ("listen-client-urls".into(), client.clone()),
            ("advertise-client-urls".into(), client.clone()),
            ("listen-peer-urls".into(), peer.clone()),
            ("initial-cluster-token".into(), self.token.clone()),
            ("client-cert-auth".into(), String::new()),
            ("trusted-ca-file".into(), s(&own_pki.ca)),
            ("cert-file".into(), s(&own_pki.server)),
            ("key-file".into(), s(&own_pki.server_key)),
            ("peer-client-cert-auth".into(), String::new()),
            ("peer-trusted-ca-file".into(), s(&own_pki.ca)),
            ("peer-cert-file".into(), s(&own_pki.peer)),
            ("peer-key-file".into(), s(&own_pki.peer_key)),
            ("heartbeat-interval".into(), "100".into()),
            ("election-timeout".into(), "1000".into()),
            ("logger".into(), "zap".into()),
            ("log-outputs".into(), "stderr".into()),
        ]);
        settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        match style {
            Style::Flags => {
                for (k, v) in &settings {
                    if v.is_empty() {
                        cmd.arg(format!("--{k}"));
                    } else {
                        cmd.args([format!("--{k}"), v.clone()]);
                    }
                }
            }
            Style::Env => {
                for (k, v) in &settings {
                    let var = format!("ETCD_{}", k.to_uppercase().replace('-', "_"));
                    cmd.env(var, if v.is_empty() { "true" } else { v.as_str() });
                }
            }
            Style::ConfigFile => {
                let yaml = dir.join("etcd.conf.yml");
                fs::write(&yaml, config_yaml(&settings)).unwrap();
                cmd.arg("--config-file").arg(&yaml);
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let recipe = Recipe::of(&cmd);
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", etcd_binaries().etcd.display()));
        self.members.push(Member {
            name: name.to_string(),
            ip,
            dir,
            pki: own_pki,
            ports: self.ports,
            child: Some(child),
            recipe,
        });
        self.members.last_mut().unwrap()
    }

    /// A member by name.
    pub fn member(&self, name: &str) -> &Member {
        self.members
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("no member {name}"))
    }

    /// Comma-separated client URLs of the running members.
    pub fn endpoints(&self) -> String {
        self.members
            .iter()
            .filter(|m| m.child.is_some())
            .map(Member::client_url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `--endpoints --cacert --cert --key` for etcdctl or etcd-pki, with the client certificate.
    pub fn connection_args(&self) -> Vec<String> {
        vec![
            "--endpoints".into(),
            self.endpoints(),
            "--cacert".into(),
            self.pki.ca.display().to_string(),
            "--cert".into(),
            self.pki.client.display().to_string(),
            "--key".into(),
            self.pki.client_key.display().to_string(),
        ]
    }

    /// Runs `etcd-pki` with this cluster's connection flags after the subcommand words, e.g.
    /// `["member", "list"]`; the client certificate is members.pem (the runbook connects with
    /// it) when `as_peer`, client.pem otherwise.
    pub fn etcd_pki(&self, words: &[&str], as_peer: bool) -> Run {
        let args = self.etcd_pki_args(words, as_peer);
        match &self.names {
            // Inside the namespace where the members' names resolve.
            Some(names) => {
                let mut cmd = names.command(crate::bin());
                cmd.args(args).stdin(Stdio::null());
                for (key, _) in std::env::vars_os() {
                    if key.to_string_lossy().starts_with("ETCDCTL_") {
                        cmd.env_remove(key);
                    }
                }
                let out = cmd.output().expect("run etcd-pki in the hosts namespace");
                Run {
                    code: out.status.code().unwrap_or(-1),
                    stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                }
            }
            None => crate::etcd_pki(args),
        }
    }

    /// [`Cluster::etcd_pki`] in the background, with client.pem.
    pub fn etcd_pki_spawn(&self, words: &[&str]) -> crate::Spawned {
        crate::etcd_pki_spawn(self.etcd_pki_args(words, false))
    }

    fn etcd_pki_args(&self, words: &[&str], as_peer: bool) -> Vec<String> {
        let (cert, key) = if as_peer {
            (&self.pki.peer, &self.pki.peer_key)
        } else {
            (&self.pki.client, &self.pki.client_key)
        };
        let mut args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        args.extend([
            "--endpoints".to_string(),
            self.endpoints(),
            "--cacert".into(),
            self.pki.ca.display().to_string(),
            "--cert".into(),
            cert.display().to_string(),
            "--key".into(),
            key.display().to_string(),
        ]);
        args
    }

    /// Registers and starts a member whose command line the test built (from the files
    /// `etcd-pki` wrote for it, say); its log goes to `<root>/NAME/etcd.log`, and it is stopped
    /// like every other member.
    pub fn start_command(
        &mut self,
        name: &str,
        ip: IpAddr,
        pki: &Pki,
        mut cmd: Command,
    ) -> &mut Member {
        let dir = self.root.path().join(name);
        fs::create_dir_all(&dir).unwrap();
        let log = fs::File::create(dir.join("etcd.log")).unwrap();
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ETCD_") {
                cmd.env_remove(key);
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let recipe = Recipe::of(&cmd);
        die_with_parent(&mut cmd);
        let child = cmd.spawn().expect("start the member's command");
        self.members.push(Member {
            name: name.to_string(),
            ip,
            dir,
            pki: pki.clone(),
            ports: self.ports,
            child: Some(child),
            recipe,
        });
        self.members.last_mut().unwrap()
    }

    /// Runs the real etcdctl (v3 API) against the cluster.
    pub fn etcdctl(&self, args: &[&str]) -> Run {
        let out = etcdctl_command()
            .args(self.connection_args())
            .args(["--dial-timeout", "3s", "--command-timeout", "10s"])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", etcd_binaries().etcdctl.display()));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The members as etcd lists them: `(hex id, name, peer URLs, client URLs, is learner)`.
    pub fn member_list(&self) -> Vec<ListedMember> {
        let run = self.etcdctl(&["member", "list", "-w", "json"]);
        assert_eq!(run.code, 0, "etcdctl member list: {}", run.stderr);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let mut out: Vec<ListedMember> = json["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| ListedMember {
                id: format!("{:x}", m["ID"].as_u64().unwrap_or(0)),
                name: m["name"].as_str().unwrap_or("").to_string(),
                peer_urls: strings(&m["peerURLs"]),
                client_urls: strings(&m["clientURLs"]),
                is_learner: m["isLearner"].as_bool().unwrap_or(false),
            })
            .collect();
        out.sort_by(|a, b| a.peer_urls.cmp(&b.peer_urls));
        out
    }

    /// The name of the current leader, as the members' status reports it.
    pub fn leader_name(&self) -> Option<String> {
        let run = self.etcdctl(&["endpoint", "status", "-w", "json"]);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).ok()?;
        let leader = json
            .as_array()?
            .iter()
            .find_map(|e| e["Status"]["leader"].as_u64())?;
        let hex = format!("{leader:x}");
        self.member_list()
            .into_iter()
            .find(|m| m.id == hex)
            .map(|m| m.name)
    }

    /// Waits until every running member answers `endpoint health`, then until five more seconds
    /// have passed (etcd refuses membership changes until its members have been connected that
    /// long: "unhealthy cluster").
    pub fn wait_healthy(&self, timeout: Duration) {
        self.wait_answering(timeout);
        std::thread::sleep(Duration::from_millis(5500));
    }

    /// Waits until every running member answers `endpoint health`, without settling.
    pub fn wait_answering(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let run = self.etcdctl(&["endpoint", "health"]);
            if run.code == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "cluster not healthy after {timeout:?}: {}\n{}",
                run.stderr,
                self.logs_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Kills a member with SIGKILL (a crashed node).
    pub fn kill_member(&mut self, name: &str) {
        let member = self.members.iter_mut().find(|m| m.name == name).unwrap();
        if let Some(mut child) = member.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops a member as an operator would: SIGTERM, then SIGKILL after a grace period.
    pub fn stop_member(&mut self, name: &str) {
        let member = self.members.iter_mut().find(|m| m.name == name).unwrap();
        if let Some(child) = member.child.take() {
            stop(child);
        }
    }

    /// Restarts a member as `systemctl restart etcd` would: stops it (SIGTERM, then SIGKILL
    /// after a grace period), then starts it again with the same command line and environment
    /// (its files read anew), its log appended to.
    pub fn restart_member(&mut self, name: &str) {
        let member = self.members.iter_mut().find(|m| m.name == name).unwrap();
        if let Some(child) = member.child.take() {
            stop(child);
        }
        let log = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(member.log())
            .unwrap();
        let mut cmd = member.recipe.command();
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        die_with_parent(&mut cmd);
        member.child = Some(cmd.spawn().expect("restart the member"));
    }

    /// Restarts member `name` as [`Cluster::restart_member`] does, on the etcd binary `program`
    /// instead of the one it ran (an upgrade: same flags, same data directory).
    pub fn restart_member_on(&mut self, name: &str, program: &Path) {
        let member = self.members.iter_mut().find(|m| m.name == name).unwrap();
        let old = etcd_binaries().etcd.as_os_str().to_owned();
        let recipe = &mut member.recipe;
        if recipe.program == old {
            recipe.program = program.as_os_str().to_owned();
        }
        for arg in recipe.args.iter_mut().filter(|a| **a == old) {
            *arg = program.as_os_str().to_owned();
        }
        self.restart_member(name);
    }

    /// The last lines of every member's log, for failure messages.
    pub fn logs_tail(&self) -> String {
        self.members
            .iter()
            .map(|m| {
                let text = fs::read_to_string(m.log()).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(8)..].join("\n");
                format!(
                    "--- {} ({}, etcd {}) ---\n{tail}",
                    m.name,
                    m.ip,
                    etcd_version()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The log of one member.
    pub fn log_of(&self, name: &str) -> String {
        fs::read_to_string(self.member(name).log()).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let children: Vec<Child> = self
            .members
            .iter_mut()
            .filter_map(|m| m.child.take())
            .collect();
        // Stop them in parallel: each may take its grace period.
        let handles: Vec<_> = children
            .into_iter()
            .map(|c| std::thread::spawn(move || stop(c)))
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

/// Three members n0-n2 in the kubeadm layout made by `etcd-pki init` (with `init_args` added,
/// e.g. `--days 10`), each member with its own copy of its files (its CA key among them, as on
/// kubeadm's etcd nodes), and a directory of links, one named after each member, to them (what
/// `--members-dir` takes). Returns the cluster, the temporary directory (`pki/`, `members/`),
/// and the members directory.
pub fn kubeadm_members(init_args: &[&str]) -> (Cluster, tempfile::TempDir, PathBuf) {
    let ips = allocate_ips(3);
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    let mut args = vec![
        "init".to_string(),
        pki_dir.display().to_string(),
        "--layout".into(),
        "kubeadm".into(),
    ];
    args.extend(init_args.iter().map(|a| a.to_string()));
    for (i, ip) in ips.iter().enumerate() {
        args.push("--member".into());
        args.push(format!("n{i}={ip}"));
    }
    crate::etcd_pki(&args).expect_code(0);
    let members = (0..3)
        .map(|i| {
            let name = format!("n{i}");
            let pki = Pki::kubeadm_layout(&pki_dir, &name);
            (name, ips[i], pki)
        })
        .collect();
    let cluster = Cluster::start_each(&Pki::kubeadm_layout(&pki_dir, "n0"), members, &[]);
    let links = dir.path().join("members");
    fs::create_dir(&links).unwrap();
    for i in 0..3 {
        let name = format!("n{i}");
        std::os::unix::fs::symlink(cluster.member(&name).dir.join("pki"), links.join(&name))
            .unwrap();
    }
    (cluster, dir, links)
}

/// A member as `etcdctl member list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedMember {
    /// Hex ID.
    pub id: String,
    /// Name (empty until the member has started).
    pub name: String,
    /// Peer URLs.
    pub peer_urls: Vec<String>,
    /// Client URLs (empty until the member has started).
    pub client_urls: Vec<String>,
    /// Whether it is a learner.
    pub is_learner: bool,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The variables of an `EnvironmentFile` (`KEY=value` or `KEY="value"` lines; `#` comments).
pub fn environment_file(path: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: not KEY=value: {l}", path.display()));
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

/// What `systemctl start etcd` runs for the unit and environment file in `node_dir`
/// (`etcd.service`, `etcd.conf`): the unit's `ExecStart` line, with the file's variables in the
/// environment, by bash, which expands `${VAR}` as systemd does for these lines.
pub fn unit_command(node_dir: &Path) -> Command {
    let unit = fs::read_to_string(node_dir.join("etcd.service")).unwrap();
    let start = unit
        .find("ExecStart=")
        .expect("the unit has an ExecStart line");
    let rest = &unit[start + "ExecStart=".len()..];
    // The command runs until the first line that does not end in a backslash.
    let mut exec = String::new();
    for line in rest.lines() {
        exec.push_str(line);
        exec.push('\n');
        if !line.ends_with('\\') {
            break;
        }
    }
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(format!("exec {exec}"));
    cmd.envs(environment_file(&node_dir.join("etcd.conf")));
    cmd
}

/// SIGTERM, up to 5 s grace, SIGKILL; only this PID.
pub fn stop(mut child: Child) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: sending a signal to a process this harness started and has not reaped.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Makes the child die if the thread that started it exits (a panicking test).
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}
