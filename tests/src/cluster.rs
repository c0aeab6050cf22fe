//! Real TLS etcd clusters on loopback for tests.
//!
//! Each member runs Debian's `etcd` on its own 127.x.y.z address (so SANs matter), with its own
//! copy of the PKI files as a separate host would have, mutual TLS on both ports
//! (`--client-cert-auth --peer-client-cert-auth`, as the seed runbook runs it), in a temporary
//! directory. The harness installs nothing: `make test` installs `etcd-server` and
//! `etcd-client`. It waits for health with the real `etcdctl`, and stops only the processes it
//! started, by PID: SIGTERM, a few seconds' grace, then SIGKILL (an etcd whose cluster has a
//! dead member may ignore SIGTERM for a while). Members also die with the test thread that
//! started them (`PR_SET_PDEATHSIG`), so a panicking test leaves nothing behind.

use std::collections::HashSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Run;

/// Client and peer ports, as the runbook uses them; every member has its own IP.
pub const CLIENT_PORT: u16 = 2379;
/// See [`CLIENT_PORT`].
pub const PEER_PORT: u16 = 2380;

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
        fs::create_dir_all(dir).unwrap();
        let hosts: Vec<String> = std::iter::once("127.0.0.1".to_string())
            .chain(ips.iter().map(ToString::to_string))
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

/// Addresses handed out in this process, so that parallel tests never share one.
static TAKEN: Mutex<Option<HashSet<Ipv4Addr>>> = Mutex::new(None);

/// `n` loopback addresses nobody listens on at the etcd ports, distinct from every other
/// allocation in this process; the second octet depends on the PID so that parallel test
/// processes use different ranges too.
pub fn allocate_ips(n: usize) -> Vec<IpAddr> {
    let mut taken = TAKEN.lock().unwrap();
    let taken = taken.get_or_insert_with(HashSet::new);
    let second = 1 + (std::process::id() % 200) as u8;
    let mut out = Vec::new();
    'outer: for third in 0..=255u8 {
        out.clear();
        for fourth in 10..(10 + n as u8) {
            let ip = Ipv4Addr::new(127, second, third, fourth);
            if taken.contains(&ip) || !free(ip) {
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

/// Reserves specific addresses (the seed scenario's 127.0.0.11-14), failing clearly if they are
/// in use.
pub fn reserve_ips(ips: &[&str]) -> Vec<IpAddr> {
    let mut taken = TAKEN.lock().unwrap();
    let taken = taken.get_or_insert_with(HashSet::new);
    ips.iter()
        .map(|s| {
            let ip: Ipv4Addr = s.parse().unwrap();
            assert!(
                taken.insert(ip) && free(ip),
                "{ip}:{CLIENT_PORT} or :{PEER_PORT} is already in use: another etcd is running there"
            );
            IpAddr::V4(ip)
        })
        .collect()
}

fn free(ip: Ipv4Addr) -> bool {
    [CLIENT_PORT, PEER_PORT]
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
    child: Option<Child>,
}

impl Member {
    /// `https://IP:2379`.
    pub fn client_url(&self) -> String {
        format!("https://{}:{CLIENT_PORT}", self.ip)
    }
    /// `https://IP:2380`.
    pub fn peer_url(&self) -> String {
        format!("https://{}:{PEER_PORT}", self.ip)
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

/// How a member starts.
#[derive(Debug, Clone)]
pub struct Start<'a> {
    /// `--initial-cluster`.
    pub initial_cluster: &'a str,
    /// `--initial-cluster-state`: `new` or `existing`.
    pub state: &'a str,
    /// Extra environment (the `ETCD_*` variables `etcd-pki member add` prints).
    pub env: Vec<(String, String)>,
}

/// A TLS etcd cluster on loopback.
pub struct Cluster {
    root: tempfile::TempDir,
    /// The PKI the cluster was made with (the admin host's copy).
    pub pki: Pki,
    /// `--initial-cluster-token`.
    pub token: String,
    /// The members this harness started, in order.
    pub members: Vec<Member>,
}

impl Cluster {
    /// A cluster of `n` members on fresh addresses with a fresh cfssl PKI covering them.
    pub fn start_fresh(n: usize) -> Cluster {
        Cluster::start_fresh_on(&allocate_ips(n))
    }

    /// A cluster on the given addresses (from [`allocate_ips`]) with a fresh cfssl PKI covering
    /// exactly them, members named infra0, infra1, ...
    pub fn start_fresh_on(ips: &[IpAddr]) -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("etcd-pki-cluster")
            .tempdir()
            .unwrap();
        let pki = Pki::cfssl(&root.path().join("admin-pki"), ips);
        let members: Vec<(String, IpAddr, Pki)> = ips
            .iter()
            .enumerate()
            .map(|(i, ip)| (format!("infra{i}"), *ip, pki.clone()))
            .collect();
        Cluster::start_with(root, pki, members)
    }

    /// A cluster of the given members, all with (their own copy of) the same PKI.
    pub fn start(pki: &Pki, members: &[(String, IpAddr)]) -> Cluster {
        let with_pki = members
            .iter()
            .map(|(n, ip)| (n.clone(), *ip, pki.clone()))
            .collect();
        Cluster::start_each(pki, with_pki)
    }

    /// A cluster whose members each have their own PKI files (kubeadm's per-member layout);
    /// `admin` is what etcdctl and etcd-pki connect with.
    pub fn start_each(admin: &Pki, members: Vec<(String, IpAddr, Pki)>) -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("etcd-pki-cluster")
            .tempdir()
            .unwrap();
        let pki = admin.copy_to(&root.path().join("admin-pki"));
        Cluster::start_with(root, pki, members)
    }

    fn start_with(
        root: tempfile::TempDir,
        pki: Pki,
        members: Vec<(String, IpAddr, Pki)>,
    ) -> Cluster {
        let token = format!(
            "etcd-pki-test-{}",
            root.path().file_name().unwrap().to_string_lossy()
        );
        let mut cluster = Cluster {
            root,
            pki,
            token,
            members: Vec::new(),
        };
        let initial = members
            .iter()
            .map(|(name, ip, _)| format!("{name}=https://{ip}:{PEER_PORT}"))
            .collect::<Vec<_>>()
            .join(",");
        for (name, ip, pki) in &members {
            cluster.start_member(
                name,
                *ip,
                pki,
                &Start {
                    initial_cluster: &initial,
                    state: "new",
                    env: vec![],
                },
            );
        }
        cluster.wait_healthy(Duration::from_secs(60));
        cluster
    }

    /// The temporary directory everything lives in.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Starts one member process with its own copy of `pki`.
    pub fn start_member(
        &mut self,
        name: &str,
        ip: IpAddr,
        pki: &Pki,
        start: &Start<'_>,
    ) -> &mut Member {
        let dir = self.root.path().join(name);
        assert!(
            !dir.exists(),
            "member {name} was started before in this cluster"
        );
        let own_pki = pki.copy_to(&dir.join("pki"));
        let log = fs::File::create(dir.join("etcd.log")).unwrap();
        let mut cmd = Command::new("etcd");
        cmd.args([
            "--name",
            name,
            "--data-dir",
            dir.join("data").to_str().unwrap(),
            "--listen-client-urls",
            &format!("https://{ip}:{CLIENT_PORT}"),
            "--advertise-client-urls",
            &format!("https://{ip}:{CLIENT_PORT}"),
            "--listen-peer-urls",
            &format!("https://{ip}:{PEER_PORT}"),
            "--initial-advertise-peer-urls",
            &format!("https://{ip}:{PEER_PORT}"),
            "--initial-cluster",
            start.initial_cluster,
            "--initial-cluster-state",
            start.state,
            "--initial-cluster-token",
            &self.token,
            "--client-cert-auth",
            "--trusted-ca-file",
            own_pki.ca.to_str().unwrap(),
            "--cert-file",
            own_pki.server.to_str().unwrap(),
            "--key-file",
            own_pki.server_key.to_str().unwrap(),
            "--peer-client-cert-auth",
            "--peer-trusted-ca-file",
            own_pki.ca.to_str().unwrap(),
            "--peer-cert-file",
            own_pki.peer.to_str().unwrap(),
            "--peer-key-file",
            own_pki.peer_key.to_str().unwrap(),
            "--heartbeat-interval",
            "100",
            "--election-timeout",
            "1000",
            "--logger",
            "zap",
            "--log-outputs",
            "stderr",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
        for (k, v) in &start.env {
            cmd.env(k, v);
        }
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .expect("start etcd (make test installs etcd-server)");
        self.members.push(Member {
            name: name.to_string(),
            ip,
            dir,
            pki: own_pki,
            child: Some(child),
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

    /// Runs the real etcdctl (v3 API) against the cluster.
    pub fn etcdctl(&self, args: &[&str]) -> Run {
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .args(self.connection_args())
            .args(["--dial-timeout", "3s", "--command-timeout", "10s"])
            .args(args)
            .output()
            .expect("run etcdctl (make test installs etcd-client)");
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

    /// Waits until every running member answers `endpoint health`, then until five more seconds
    /// have passed (etcd refuses membership changes until its members have been connected that
    /// long: "unhealthy cluster").
    pub fn wait_healthy(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let run = self.etcdctl(&["endpoint", "health"]);
            if run.code == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "cluster not healthy after {timeout:?}: {}\n{}",
                run.stderr,
                self.logs_tail()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        std::thread::sleep(Duration::from_millis(5500));
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

    /// The last lines of every member's log, for failure messages.
    pub fn logs_tail(&self) -> String {
        self.members
            .iter()
            .map(|m| {
                let text = fs::read_to_string(m.log()).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(8)..].join("\n");
                format!("--- {} ({}) ---\n{tail}", m.name, m.ip)
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

/// SIGTERM, up to 5 s grace, SIGKILL; only this PID.
fn stop(mut child: Child) {
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
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}
