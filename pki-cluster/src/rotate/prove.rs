//! The proof that a member uses its renewed certificates and the cluster is still whole, all
//! within one deadline: the new certificate served on every port it is served on, the member
//! healthy, a fresh peer handshake with a renewed peer certificate accepted by every other
//! member, and every member caught up with what the leader had committed.

use std::time::Duration;

use pki_core::{Certificate, HostUrl};
use tokio::time::Instant;

use super::{RotateEvent, RotationFile, Serves};
use crate::connection::{Connection, Deadline};
use crate::probe::{probe, Identity};
use crate::state::{client_endpoint, health_until, status_until, MemberInfo};

/// How often a served certificate is looked at while waiting for it to change.
const POLL: Duration = Duration::from_millis(250);

/// The URLs a file is served on by a member.
fn served_urls(m: &MemberInfo, serves: Serves) -> Vec<HostUrl> {
    let urls: Vec<&String> = match serves {
        Serves::Client => m.client_urls.iter().collect(),
        Serves::Peer => m.peer_urls.iter().collect(),
        Serves::Both => m.client_urls.iter().chain(&m.peer_urls).collect(),
        Serves::Nowhere => return Vec::new(),
    };
    urls.into_iter()
        .filter_map(|u| HostUrl::parse(u).ok())
        .filter(|u| u.scheme == "https")
        .collect()
}

/// The serial of the leaf `url` serves now, or why it could not be had.
async fn served_serial(
    url: &HostUrl,
    identity: Option<&Identity>,
    deadline: Deadline,
) -> Result<String, String> {
    let p = probe(url, identity, None, deadline)
        .await
        .map_err(|e| e.to_string())?;
    p.served
        .first()
        .and_then(|der| Certificate::from_der(der.clone()).ok())
        .map(|c| c.serial_hex())
        .ok_or_else(|| "it sent no certificate".to_string())
}

/// Waits until `url` serves `serial`, until `deadline`; the last serial seen otherwise.
async fn wait_serial(
    url: &HostUrl,
    serial: &str,
    identity: Option<&Identity>,
    deadline: Deadline,
) -> Result<(), String> {
    loop {
        let last = match served_serial(url, identity, deadline).await {
            Ok(s) if s == serial => return Ok(()),
            Ok(s) => format!("serial {s}"),
            Err(e) => e,
        };
        if Instant::now() + POLL >= deadline {
            return Err(last);
        }
        tokio::time::sleep(POLL).await;
    }
}

fn connection_identity(conn: &Connection) -> Option<Identity> {
    conn.client_files()
        .and_then(|(c, k)| Identity::from_files(c, k).ok())
}

/// Proves the member uses the renewed certificates and the cluster is whole (see the module
/// docs); why not, otherwise.
pub(crate) async fn prove_member(
    conn: &Connection,
    m: &MemberInfo,
    all: &[MemberInfo],
    renewed: &[(&RotationFile, Certificate, Certificate)],
    timeout: Duration,
    events: &mut impl FnMut(RotateEvent),
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let identity = connection_identity(conn);
    let proven = |what: String| RotateEvent::Proven {
        member: m.name.clone(),
        what,
    };
    // The new certificate on every port it is served on.
    for (file, old, new) in renewed {
        for url in served_urls(m, file.serves) {
            wait_serial(&url, &new.serial_hex(), identity.as_ref(), deadline)
                .await
                .map_err(|last| {
                    format!(
                        "{} still serves {last} (the renewed {} has serial {}, the old one {}) after {timeout:?}: the member does not read the renewed file (is it the file it was started with, on its host?)",
                        url.url,
                        pki_core::display_path(&file.cert),
                        new.serial_hex(),
                        old.serial_hex()
                    )
                })?;
            events(proven(format!(
                "{} serves the renewed certificate (serial {})",
                url.url,
                new.serial_hex()
            )));
        }
    }
    // Healthy.
    let endpoint = client_endpoint(m)
        .ok_or_else(|| format!("{} has no client URL to check its health at", m.label()))?
        .to_string();
    let health = health_until(conn, &endpoint, deadline).await;
    if !health.health {
        return Err(format!(
            "{endpoint} is not healthy after the rotation: {}",
            health
                .error
                .map_or_else(|| "no answer".to_string(), |e| e.to_string())
        ));
    }
    events(proven(format!("{endpoint} is healthy")));
    // A fresh handshake with a renewed peer certificate, to every other member.
    for (file, _, _) in renewed
        .iter()
        .filter(|(f, _, _)| matches!(f.serves, Serves::Peer | Serves::Both))
    {
        let Some(key) = &file.key else { continue };
        let id = Identity::from_files(&file.cert, key).map_err(|e| e.to_string())?;
        for other in all.iter().filter(|o| o.id != m.id && o.started()) {
            for url in served_urls(other, Serves::Peer) {
                let p = probe(&url, Some(&id), None, deadline)
                    .await
                    .map_err(|e| format!("{}: {e}", url.url))?;
                if let Err(refusal) = p.accepted {
                    return Err(format!(
                        "{} refused the renewed peer certificate in a fresh handshake: {}",
                        url.url, refusal.reason
                    ));
                }
                events(proven(format!(
                    "{} ({}) accepts the renewed peer certificate in a fresh handshake",
                    url.url,
                    other.label()
                )));
            }
        }
    }
    // Every member answers and catches up with the leader.
    keeps_up(conn, all, deadline).await.map(|index| {
        events(proven(format!(
            "every member has applied the leader's log up to index {index}"
        )))
    })
}

/// Every started member answers status, and applies what the leader had committed; the
/// leader's index.
pub(crate) async fn keeps_up(
    conn: &Connection,
    all: &[MemberInfo],
    deadline: Deadline,
) -> Result<u64, String> {
    let endpoints: Vec<String> = all
        .iter()
        .filter(|m| m.started())
        .filter_map(|m| client_endpoint(m).map(str::to_string))
        .collect();
    let mut leader_index = None;
    loop {
        let mut statuses = Vec::new();
        for e in &endpoints {
            statuses.push((e.clone(), status_until(conn, e, deadline).await));
        }
        let mut problems = Vec::new();
        let mut applied = Vec::new();
        for (e, s) in &statuses {
            match &s.status {
                Ok(st) => {
                    if st.leader == 0 {
                        problems.push(format!("{e} has no leader"));
                    }
                    if st.member_id == st.leader {
                        leader_index.get_or_insert(st.raft_index);
                    }
                    applied.push((e.clone(), st.raft_applied_index));
                }
                Err(err) => problems.push(format!("{e}: {err}")),
            }
        }
        if let (true, Some(l)) = (problems.is_empty(), leader_index) {
            let behind: Vec<String> = applied
                .iter()
                .filter(|(_, a)| *a < l)
                .map(|(e, a)| format!("{e} at {a}"))
                .collect();
            if behind.is_empty() {
                return Ok(l);
            }
            problems.push(format!(
                "behind the leader's index {l}: {}",
                behind.join(", ")
            ));
        }
        if Instant::now() + POLL >= deadline {
            return Err(format!(
                "the cluster is not whole after the rotation: {}",
                problems.join("; ")
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// After a restore: waits until the member serves the old certificates again; why not.
pub(crate) async fn wait_served_again(
    conn: &Connection,
    m: &MemberInfo,
    renewed: &[(&RotationFile, Certificate, Certificate)],
    timeout: Duration,
) -> Option<String> {
    let deadline = Instant::now() + timeout;
    let identity = connection_identity(conn);
    for (file, old, _) in renewed {
        for url in served_urls(m, file.serves) {
            if let Err(last) =
                wait_serial(&url, &old.serial_hex(), identity.as_ref(), deadline).await
            {
                return Some(format!(
                    "{} serves {last}, not the restored serial {}",
                    url.url,
                    old.serial_hex()
                ));
            }
        }
    }
    None
}
