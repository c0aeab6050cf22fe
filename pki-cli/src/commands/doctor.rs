//! `etcd-pki doctor`: each etcd member's own TLS configuration, found on this host (or given),
//! resolved as etcd resolves it and checked as etcd uses it (pki-cluster's `member_config` and
//! `doctor`), with the live checks when the cluster can be reached.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use pki_cluster::doctor::{diagnose, diagnose_live, DoctorOptions, MemberDiagnosis};
use pki_cluster::member_config::{self, EnvOrigin, Key, MemberConfig, Origin, Source};
use pki_cluster::{AppliedRules, Connection, RulesSource};
use pki_core::{display_path, CheckId, Finding, Status};
use serde::Serialize;

use crate::cli::{ConnectionArgs, DoctorArgs, ReportFormat};
use crate::connection::{block_on, connect};
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::metrics::{self, exposition::Metrics, findings};
use crate::output::{print, print_json, Table};
use crate::render::{rows, rows_text, summary, FixContext, FixFiles, Row};

#[derive(Serialize)]
struct MemberJson<'a> {
    name: String,
    status: Status,
    #[serde(flatten)]
    config: &'a MemberConfig,
    checks: Vec<Row>,
}

pub fn run(args: &DoctorArgs) -> Result<Outcome> {
    let configs = find(args)?;
    let opts = DoctorOptions::default().expires_within(args.expires_within);
    let explicit = explicit_connection(&args.connection);
    let choice = args.etcd_version.choice();
    let mut diagnoses = Vec::new();
    for config in &configs {
        // Hosts are judged by the Go rules of the etcd the cluster runs (its members judge this
        // member's certificates), else by the member's own version, else the default.
        let own = || AppliedRules::of_member(choice, &config.name(), config.version.as_deref());
        let conn = if args.offline {
            None
        } else if explicit {
            Some(connect(&args.connection)?)
        } else {
            derived_connection(config, &args.connection)
        };
        let rules = match &conn {
            Some(c) => match block_on(AppliedRules::ask(c, choice))? {
                r if r.source == RulesSource::Default && config.version.is_some() => own(),
                r => r,
            },
            None => own(),
        };
        let mut d = diagnose(config, &opts.clone().rules(rules.clone()));
        if args.offline {
            diagnoses.push(d);
            continue;
        }
        let Some(conn) = conn else {
            d.findings.push(Finding::warn(
                CheckId::ClusterRecord,
                "no https client URL and client certificate to reach the cluster with: the live checks were skipped (give --endpoints, --cacert, --cert and --key)",
            ));
            diagnoses.push(d);
            continue;
        };
        {
            let d = &mut d;
            let live = block_on(diagnose_live(&conn, &d.config, &rules))?;
            let unreachable = live.iter().any(|f| {
                f.check == CheckId::ClusterRecord
                    && f.status == Status::Fail
                    && f.message.starts_with("the cluster could not be asked")
            });
            if unreachable && explicit {
                return Err(Failure {
                    code: Code::Etcd,
                    error: anyhow!(
                        "{}",
                        live.iter()
                            .find(|f| f.check == CheckId::ClusterRecord)
                            .map_or(String::new(), |f| f.message.clone())
                    ),
                });
            }
            if unreachable {
                // The member's own files could not reach it: say so, without failing the run
                // for it (the member may be the one that is down).
                d.findings.extend(live.into_iter().map(|mut f| {
                    if f.check == CheckId::ClusterRecord && f.status == Status::Fail {
                        f.status = Status::Warn;
                        f.message = format!(
                            "{}; the checks against the member list were skipped (give --endpoints, --cacert, --cert and --key to ask through other members)",
                            f.message
                        );
                    }
                    f
                }));
            } else {
                d.findings.extend(live);
            }
        }
        diagnoses.push(d);
    }
    render(args, &diagnoses)?;
    Ok(if diagnoses.iter().any(|d| d.status() == Status::Fail) {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
}

/// The configurations to check, as the arguments say.
fn find(args: &DoctorArgs) -> Result<Vec<MemberConfig>> {
    let bad = |e: member_config::ConfigError| usage(anyhow!("{e}"));
    if let Some(pid) = args.pid {
        return Ok(vec![member_config::from_pid(pid).map_err(bad)?]);
    }
    if let Some(file) = &args.config_file {
        return Ok(vec![member_config::from_config_file(file).map_err(bad)?]);
    }
    if let Some(file) = &args.manifest {
        return Ok(vec![member_config::from_manifest(file).map_err(bad)?]);
    }
    if let Some(file) = &args.unit {
        return Ok(vec![
            member_config::from_unit(file, &args.env_files).map_err(bad)?
        ]);
    }
    if !args.etcd_flags.is_empty() {
        return Ok(vec![member_config::from_flags(&args.etcd_flags)]);
    }
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for r in member_config::discover() {
        match r {
            Ok(c) => found.push(c),
            Err(e) => errors.push(e.to_string()),
        }
    }
    for e in &errors {
        eprintln!("etcd-pki: warning: {e}");
    }
    if found.is_empty() {
        return Err(usage(anyhow!(
            "no etcd process was found on this host{}; give --pid PID, --config-file FILE, --manifest FILE, --unit FILE, or etcd's flags after --",
            if errors.is_empty() {
                String::new()
            } else {
                format!(" that could be read ({} could not)", errors.len())
            }
        )));
    }
    Ok(found)
}

/// Whether connection flags (or `ETCDCTL_*`) were given, rather than etcdctl's defaults.
fn explicit_connection(c: &ConnectionArgs) -> bool {
    std::env::var_os("ETCDCTL_ENDPOINTS").is_some()
        || c.endpoints != ["127.0.0.1:2379"]
        || c.cacert.is_some()
        || c.cert.is_some()
        || c.key.is_some()
}

/// A connection from the member's own files: its advertised https client URLs, its trusted CA,
/// and the certificate it presents as a client.
fn derived_connection(config: &MemberConfig, flags: &ConnectionArgs) -> Option<Connection> {
    let endpoints: Vec<String> = config
        .list(Key::AdvertiseClientUrls)
        .into_iter()
        .filter(|u| u.starts_with("https://"))
        .collect();
    if endpoints.is_empty() {
        return None;
    }
    crate::connection::member_connection(config, endpoints, flags, None)
}

fn render(args: &DoctorArgs, diagnoses: &[MemberDiagnosis]) -> Result<()> {
    let member_rows: Vec<Vec<Row>> = diagnoses
        .iter()
        .map(|d| rows(&d.findings, &fix_context_paths(&d.config).context()))
        .collect();
    match args.write_out {
        ReportFormat::Json => {
            let out: Vec<MemberJson> = diagnoses
                .iter()
                .zip(&member_rows)
                .map(|(d, r)| MemberJson {
                    name: d.config.name(),
                    status: d.status(),
                    config: &d.config,
                    checks: r.clone(),
                })
                .collect();
            print_json(&out)?;
        }
        ReportFormat::Prometheus => {
            let mut m = Metrics::new();
            for d in diagnoses {
                let name = d.config.name();
                findings::add(
                    &mut m,
                    findings::Context {
                        command: "doctor",
                        member: &name,
                        role: "",
                        extra: None,
                    },
                    &d.findings,
                );
            }
            metrics::emit("doctor", args.metrics.textfile.as_deref(), |out| {
                m.write(out)
            })?;
        }
        ReportFormat::Table => {
            let mut table = Table::new(["MEMBER", "STATUS", "CHECK", "EVIDENCE", "FIX"]);
            for (d, rs) in diagnoses.iter().zip(&member_rows) {
                for r in rs {
                    table.row([
                        d.config.name(),
                        r.status.to_string(),
                        r.check.clone(),
                        r.message.clone(),
                        r.fix.clone().unwrap_or_else(|| "-".into()),
                    ]);
                }
            }
            print(&table.render())?;
        }
        ReportFormat::Simple => {
            let mut text = String::new();
            for (d, rs) in diagnoses.iter().zip(&member_rows) {
                text.push_str(&header(&d.config));
                text.push_str(&settings_text(&d.config));
                text.push_str(&rows_text(rs));
                text.push_str(&format!("{}\n\n", summary(rs)));
            }
            let failed = diagnoses
                .iter()
                .filter(|d| d.status() == Status::Fail)
                .count();
            text.push_str(&format!(
                "{} member(s) checked, {failed} with failures\n",
                diagnoses.len()
            ));
            print(&text)?;
        }
    }
    Ok(())
}

/// `member infra0 (process 1234, etcd 3.5.16)`.
fn header(config: &MemberConfig) -> String {
    let origin = match &config.origin {
        Origin::Process { pid } => format!("process {pid}"),
        Origin::ConfigFile { path } => format!("config file {}", display_path(path)),
        Origin::Manifest { path } => format!("manifest {}", display_path(path)),
        Origin::Unit { path } => format!("unit {}", display_path(path)),
        Origin::Args => "flags given".into(),
        _ => "given".into(),
    };
    let version = config
        .version
        .as_deref()
        .map_or(String::new(), |v| format!(", etcd {v}"));
    let root = if config.root != Path::new("/") {
        format!(", files read through {}", display_path(&config.root))
    } else {
        String::new()
    };
    format!("member {} ({origin}{version}{root}):\n", config.name())
}

/// The TLS and URL settings with where each came from.
fn settings_text(config: &MemberConfig) -> String {
    let mut text = String::from("  settings:\n");
    for (key, value) in &config.values {
        let name = key
            .info()
            .flag
            .map_or_else(|| format!("{key:?}"), |f| format!("--{f}"));
        text.push_str(&format!(
            "    {name:<34} {:<48} {}\n",
            value.value,
            source_text(&value.source)
        ));
    }
    text
}

fn source_text(source: &Source) -> String {
    match source {
        Source::Flag { .. } => "flag".into(),
        Source::Env { var, origin } => match origin {
            EnvOrigin::Process => format!("{var} (environment)"),
            EnvOrigin::Unit { path } => format!("{var} (Environment= in {})", display_path(path)),
            EnvOrigin::EnvironmentFile { path } => format!("{var} (in {})", display_path(path)),
            EnvOrigin::Manifest { path } => format!("{var} (env: in {})", display_path(path)),
            _ => var.clone(),
        },
        Source::ConfigFile { path, key } => format!("{key} in {}", display_path(path)),
        Source::Default => "etcd's default".into(),
        _ => String::new(),
    }
}

/// The files the fix commands name for a member: its server and peer certificates and CA, as
/// this host sees them.
struct MemberFixFiles {
    server: Option<PathBuf>,
    server_key: Option<PathBuf>,
    peer: Option<PathBuf>,
    peer_key: Option<PathBuf>,
    ca: Option<PathBuf>,
    peer_ca: Option<PathBuf>,
}

impl MemberFixFiles {
    fn context(&self) -> FixContext<'_> {
        FixContext {
            peer: FixFiles {
                cert: self.peer.as_deref(),
                key: self.peer_key.as_deref(),
                cacert: self.peer_ca.as_deref().or(self.ca.as_deref()),
            },
            server: FixFiles {
                cert: self.server.as_deref(),
                key: self.server_key.as_deref(),
                cacert: self.ca.as_deref(),
            },
        }
    }
}

fn fix_context_paths(config: &MemberConfig) -> MemberFixFiles {
    let path = |k: Key| {
        config
            .get(k)
            .filter(|v| !v.value.is_empty())
            .map(|v| config.host_path(Path::new(&v.value)))
    };
    MemberFixFiles {
        server: path(Key::CertFile),
        server_key: path(Key::KeyFile),
        peer: path(Key::PeerCertFile),
        peer_key: path(Key::PeerKeyFile),
        ca: path(Key::TrustedCaFile),
        peer_ca: path(Key::PeerTrustedCaFile),
    }
}
