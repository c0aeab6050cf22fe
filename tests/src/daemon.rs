//! A Prometheus daemon a test starts on a free port of 127.0.0.1 (node_exporter, Pushgateway),
//! asked over plain HTTP, and killed by its PID when dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::prometheus_tool;

/// A daemon this test started.
pub struct Daemon {
    child: Child,
    log: tempfile::NamedTempFile,
    /// `127.0.0.1:PORT`.
    pub address: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    /// Starts Prometheus' `program` (see [`prometheus_tool`]) with
    /// `--web.listen-address=127.0.0.1:PORT` and `args`.
    pub fn start(program: &str, args: &[String]) -> Daemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(prometheus_tool(program))
            .arg(format!("--web.listen-address={address}"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        Daemon {
            child,
            log,
            address,
        }
    }

    /// node_exporter with only its textfile collector, reading `dir`.
    pub fn node_exporter(dir: &std::path::Path) -> Daemon {
        Daemon::start(
            "prometheus-node-exporter",
            &[
                "--collector.disable-defaults".into(),
                "--collector.textfile".into(),
                format!("--collector.textfile.directory={}", dir.display()),
            ],
        )
    }

    /// What it logged so far (Prometheus' daemons log to stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// GET `path`, retried until it answers 200 (10 s at most): the response, headers and body.
    pub fn get(&self, path: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(&self.address) {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let request = format!(
                    "GET {path} HTTP/1.0\r\nHost: {}\r\nAccept: text/plain\r\n\r\n",
                    self.address
                );
                s.write_all(request.as_bytes()).unwrap();
                let mut body = String::new();
                if s.read_to_string(&mut body).is_ok() && body.starts_with("HTTP/1.0 200") {
                    return body;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer {path}",
                self.address
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
