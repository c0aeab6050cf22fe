//! Why a member's configuration could not be found at all. What etcd itself would refuse is not
//! an error here but a [`ConfigProblem`](super::ConfigProblem) of the configuration found.

use std::io;
use std::path::PathBuf;

use pki_core::display_path;

/// A configuration that could not be read. Each variant names the file or process it is about
/// and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be opened or read.
    #[error("cannot read {}: {source}: check the path, and that this tool may read it (another user's files need root)", display_path(.path))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A path that is not a regular file (a directory, a FIFO, a device, a socket).
    #[error("{} is {kind}, not a regular file: give the file itself", display_path(.path))]
    NotRegularFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// A file larger than this tool reads.
    #[error("{} is {size} bytes, more than the {limit} bytes this tool reads: give the configuration file itself", display_path(.path))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A unit file without a `[Service]` section.
    #[error("{} has no [Service] section: give the unit that starts etcd (a .service file)", display_path(.path))]
    NoService {
        /// The unit file.
        path: PathBuf,
    },
    /// A unit whose `[Service]` has no `ExecStart=`.
    #[error("{} has no ExecStart= in [Service]: give the unit that starts etcd", display_path(.path))]
    NoExecStart {
        /// The unit file.
        path: PathBuf,
    },
    /// A unit whose command line does not run etcd.
    #[error("{}: ExecStart={command} does not run etcd (no program named etcd in it, directly or through a shell's -c): give the unit that starts etcd", display_path(.path))]
    NoEtcdInUnit {
        /// The unit file.
        path: PathBuf,
        /// The command line, as written.
        command: String,
    },
    /// A manifest that is not a pod manifest.
    #[error("{} is not a pod manifest: {message}: give etcd's static pod manifest (kubeadm writes /etc/kubernetes/manifests/etcd.yaml)", display_path(.path))]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A pod manifest none of whose containers runs etcd.
    #[error("{} has no container whose command runs etcd: give etcd's static pod manifest (kubeadm writes /etc/kubernetes/manifests/etcd.yaml)", display_path(.path))]
    NoEtcdContainer {
        /// The manifest.
        path: PathBuf,
    },
    /// A process that exited while it was read.
    #[error("process {pid} is gone (it exited, or never existed): give the pid of a running etcd")]
    ProcessGone {
        /// The pid.
        pid: u32,
    },
    /// A process whose command line could not be read.
    #[error("cannot read /proc/{pid}/{what}: {source}: run as root, or as the user etcd runs as")]
    ProcessUnreadable {
        /// The pid.
        pid: u32,
        /// The file under `/proc/PID`.
        what: &'static str,
        /// Why.
        #[source]
        source: io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_what_to_do() {
        let e = ConfigError::NoExecStart {
            path: "/etc/systemd/system/etcd.service".into(),
        };
        assert_eq!(
            e.to_string(),
            "/etc/systemd/system/etcd.service has no ExecStart= in [Service]: give the unit that starts etcd"
        );
        let e = ConfigError::ProcessGone { pid: 42 };
        assert!(e.to_string().starts_with("process 42 is gone"));
        let e = ConfigError::Read {
            path: "/nope".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert!(e.to_string().starts_with("cannot read /nope: "));
    }
}
