//! Certificates for a new member, modelled on an existing member's directory: what kubeadm,
//! etcdadm and most hand-built clusters need to grow, where each member has its own server,
//! peer and client certificates (see [`issue_member`]).
//!
//! For each certificate of the template member, the new member gets one signed by the same CA
//! with everything of the template's kept (extensions byte for byte, including key usage and
//! extended key usage; the key algorithm and size; the subject's attributes and string types;
//! the validity length, never past the CA's end; the file name, encoding and layout), except:
//!
//! - **the template member's own names**: its IP and DNS SANs are replaced by the new member's
//!   (a DNS SAN that is the template member's name becomes the new member's name). Kept are the
//!   SANs every member has: `127.0.0.1`, `::1`, `localhost`, and any SAN that every sibling
//!   member's certificate of the same kind also has (sibling members are the directories beside
//!   the template's that hold certificates from the same CA, kubeadm's and `init`'s layout);
//! - **the template member's name in the subject and the file names**, as a whole token
//!   (`etcd-1` in `CN=etcd-1.example.com`, not in `etcd-10`), and a subject value that is one of
//!   its own SANs;
//! - **keys**: new ones of the same algorithm and size, in the same format (PKCS#1, SEC1,
//!   PKCS#8; PEM or DER), one for each key file of the template (a key shared by two
//!   certificates stays shared). The CA's key, which kubeadm keeps in the same directory, is
//!   never copied; CA certificate files are copied as they are.
//!
//! A template whose certificates are shared by every member (the seed runbook's `server.pem`
//! and `members.pem`) has no member's own certificate to model: that is
//! [`Error::SharedCertificates`], whose fix is to reissue the shared certificates with the new
//! member's addresses.
//!
//! [`plan_issue`] says what would be issued and signs nothing; [`issue_member`] signs, verifies
//! every certificate (chain to the CA, coverage of the new hosts, usages and key as the
//! template's) and returns the files; [`write_member`] writes them into a new or empty
//! directory, all or none.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use zeroize::Zeroizing;

use crate::ca::CertificateAuthority;
use crate::cert::Certificate;
use crate::coverage::{covers, Coverage};
use crate::dns_name::validate_dns;
use crate::error::{Error, MemberProblem, RequestProblem, Result};
use crate::issue_leaf::{plan_leaf, LeafPlan};
pub use crate::issue_plan::{
    IssuePlan, IssueRequest, NameSource, PlannedCertificate, PlannedContent, PlannedFile,
    SkippedFile,
};
use crate::key::{KeyAlgorithm, KeyFormat, PrivateKey};
use crate::member_siblings::{
    counterpart, read_siblings, refuse_shared, rename_path, template_name,
};
use crate::member_template::{roles, Contents, Encoding, MemberDir};
use crate::reissue::{key_spki, sign_after, Fresh};
use crate::subject::replace_token;
use crate::verify::{find_issuer, verify, CertPool, VerifyOptions};
use crate::write::{write_all_as, FileWrite, Written};

/// A new member's certificates and keys, signed and verified, not yet written.
#[non_exhaustive]
pub struct IssuedMember {
    /// What was issued.
    pub plan: IssuePlan,
    /// The certificates, by path relative to the output directory.
    pub certificates: Vec<(PathBuf, Certificate)>,
    files: Vec<OutFile>,
}

impl std::fmt::Debug for IssuedMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedMember")
            .field("plan", &self.plan)
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

impl IssuedMember {
    /// The files to write under `out`.
    pub fn writes(&self, out: &Path) -> Vec<FileWrite> {
        self.files
            .iter()
            .map(|f| {
                let path = out.join(&f.rel);
                if f.secret {
                    FileWrite::secret(path, f.contents.clone())
                } else {
                    FileWrite::public(path, f.contents.to_vec())
                }
            })
            .collect()
    }
}

struct OutFile {
    rel: PathBuf,
    contents: Zeroizing<Vec<u8>>,
    secret: bool,
}

/// Says what [`issue_member`] would issue, after checking everything it can without signing:
/// the CA signed every template certificate, the template is a member's own, every key can be
/// generated.
pub fn plan_issue(ca: &CertificateAuthority, req: &IssueRequest) -> Result<IssuePlan> {
    Ok(prepare(ca, req)?.plan)
}

/// Issues the new member's certificates and keys (see the module docs), each verified before
/// it is returned: it chains to the CA, covers the new member's hosts when the template's
/// covered its own, and has the template's usages and key algorithm.
pub fn issue_member(ca: &CertificateAuthority, req: &IssueRequest) -> Result<IssuedMember> {
    let prepared = prepare(ca, req)?;
    sign(ca, req, prepared)
}

/// Refuses an output directory that exists and is not empty (or is not a directory).
pub fn check_output_dir(out: impl AsRef<Path>) -> Result<()> {
    let out = out.as_ref();
    match std::fs::metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(Error::Read {
            path: out.to_path_buf(),
            error,
        }),
        Ok(meta) if !meta.is_dir() => Err(Error::OutputNotEmpty {
            dir: out.to_path_buf(),
        }),
        Ok(_) => {
            let mut entries = std::fs::read_dir(out).map_err(|error| Error::Read {
                path: out.to_path_buf(),
                error,
            })?;
            match entries.next() {
                None => Ok(()),
                Some(_) => Err(Error::OutputNotEmpty {
                    dir: out.to_path_buf(),
                }),
            }
        }
    }
}

/// Refuses an output directory inside the template directory (the new member's keys among
/// another member's files, and read as template files next time).
pub fn check_output_outside(out: impl AsRef<Path>, template: impl AsRef<Path>) -> Result<()> {
    let (out, template) = (out.as_ref(), template.as_ref());
    let Ok(template_real) = std::fs::canonicalize(template) else {
        return Ok(());
    };
    // The output may not exist yet: resolve its nearest existing ancestor.
    let mut probe = out.to_path_buf();
    let mut rest = Vec::new();
    let real = loop {
        if let Ok(r) = std::fs::canonicalize(&probe) {
            break r;
        }
        match (probe.file_name().map(|n| n.to_os_string()), probe.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                probe = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => return Ok(()),
        }
    };
    let resolved = rest.iter().rev().fold(real, |p, n| p.join(n));
    if resolved.starts_with(&template_real) {
        return Err(Error::InvalidRequest {
            path: Some(out.to_path_buf()),
            problem: RequestProblem::OutputInsideTemplate {
                template: template.to_path_buf(),
            },
        });
    }
    Ok(())
}

/// Writes an issued member's files into `out`, which must be new or empty and outside the
/// template directory: created (0700, with any subdirectories), then every file written through
/// [`crate::write`], all or none.
pub fn write_member(out: impl AsRef<Path>, issued: &IssuedMember) -> Result<Written> {
    let out = out.as_ref();
    check_output_dir(out)?;
    check_output_outside(out, &issued.plan.template)?;
    let writes = issued.writes(out);
    let mut dirs: Vec<PathBuf> = writes
        .iter()
        .filter_map(|w| w.path.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in std::iter::once(out.to_path_buf()).chain(dirs) {
        create_private_dir(&dir)?;
    }
    write_all_as("issue", &writes)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|error| Error::Write {
            path: dir.to_path_buf(),
            error,
        })
}

/// Everything decided, nothing signed.
struct Prepared {
    plan: IssuePlan,
    template: MemberDir,
    leaves: Vec<LeafPlan>,
    slots: Vec<KeySlot>,
    /// For each template file: its output path, if it is carried over.
    outputs: Vec<Option<PathBuf>>,
}

/// One new key, and where it goes.
struct KeySlot {
    algorithm: KeyAlgorithm,
    format: KeyFormat,
    /// The key file (a template key file's index, or a file of its own beside the certificate),
    /// or `None` when the key lives in its certificate's file.
    file: KeyFile,
}

enum KeyFile {
    Template(usize),
    InCertificateFile(usize),
    Beside(PathBuf),
}

fn invalid(problem: RequestProblem) -> Error {
    Error::InvalidRequest {
        path: None,
        problem,
    }
}

fn prepare(ca: &CertificateAuthority, req: &IssueRequest) -> Result<Prepared> {
    validate(req)?;
    if let Some(e) = crate::member_template::not_a_directory(&req.like) {
        return Err(e);
    }
    let like = std::fs::canonicalize(&req.like).map_err(|error| Error::Read {
        path: req.like.clone(),
        error,
    })?;
    let template = MemberDir::read(&req.like)?;
    if let Some(dir) = template.interrupted.first() {
        return Err(invalid(RequestProblem::TemplateUnfinishedWrite {
            dir: dir.clone(),
        }));
    }
    let pool: CertPool = std::iter::once(ca.certificate().clone()).collect();
    let leaf_indexes: Vec<usize> = template.leaves().map(|(i, _, _)| i).collect();
    if leaf_indexes.is_empty() {
        return Err(Error::InvalidRequest {
            path: Some(req.like.clone()),
            problem: RequestProblem::NoTemplateCertificate,
        });
    }
    for (_, file, leaf) in template.leaves() {
        if let Err(e) = find_issuer(leaf, &pool) {
            return Err(Error::NotIssuedByCa {
                path: Some(file.path.clone()),
                ca: ca.certificate().subject().to_string(),
                reason: e.to_string(),
            });
        }
    }

    let dir_name = like
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Siblings are shown under the directory the template was named in, when it has one.
    let parent = match req.like.components().next_back() {
        Some(Component::Normal(_)) => match req.like.parent() {
            Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
            Some(p) => p.to_path_buf(),
            None => PathBuf::from("."),
        },
        _ => like.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let siblings = read_siblings(&like, &parent, &dir_name, &template, &pool);
    let counterparts: HashMap<usize, Vec<&Certificate>> = leaf_indexes
        .iter()
        .map(|&i| {
            let found = siblings
                .iter()
                .filter_map(|s| counterpart(&template.files[i], s, &dir_name))
                .collect();
            (i, found)
        })
        .collect();

    let mut new_names: Vec<String> = req
        .dns
        .iter()
        .map(|d| d.split('.').next().unwrap_or(d).to_ascii_lowercase())
        .chain([req.name.to_ascii_lowercase()])
        .collect();
    new_names.sort();
    new_names.dedup();
    refuse_shared(
        &req.like,
        req.ips.len(),
        new_names.len(),
        &template,
        &counterparts,
    )?;

    let (template_member, source) = match &req.like_name {
        Some(n) => (Some(n.clone()), Some(NameSource::Given)),
        None => match template_name(&template, &counterparts, &dir_name) {
            Some((n, s)) => (Some(n), Some(s)),
            None => (None, None),
        },
    };
    let rename = |text: &str| -> String {
        match &template_member {
            Some(old) => replace_token(text, old, &req.name).unwrap_or_else(|| text.to_string()),
            None => text.to_string(),
        }
    };

    let mut notes = Vec::new();
    // Output paths: the template's, with the template member's name replaced.
    let outputs: Vec<Option<PathBuf>> = template
        .files
        .iter()
        .map(|f| Some(rename_path(&f.rel, &rename)))
        .collect();

    // Keys: one slot per template key file (or certificate file holding its key).
    let mut slots: Vec<KeySlot> = Vec::new();
    let mut slot_of_file: HashMap<usize, usize> = HashMap::new();
    let mut leaf_slot: HashMap<usize, usize> = HashMap::new();
    for &i in &leaf_indexes {
        let Contents::Leaf { leaf, .. } = &template.files[i].contents else {
            continue;
        };
        if !PrivateKey::can_generate(leaf.key_algorithm()) {
            return Err(Error::UnsupportedKey {
                path: Some(template.files[i].path.clone()),
                algorithm: format!(
                    "cannot generate a new {} key for the new member",
                    leaf.key_algorithm()
                ),
            });
        }
    }
    // First the keys that live in their certificate's file, then the others: a key shared by
    // two certificates stays shared, wherever it lives.
    for &i in &leaf_indexes {
        if let Contents::Leaf {
            leaf, key: Some(k), ..
        } = &template.files[i].contents
        {
            slots.push(KeySlot {
                algorithm: leaf.key_algorithm().clone(),
                format: k.format,
                file: KeyFile::InCertificateFile(i),
            });
            slot_of_file.insert(i, slots.len() - 1);
            leaf_slot.insert(i, slots.len() - 1);
        }
    }
    for &i in &leaf_indexes {
        let Contents::Leaf {
            leaf, key: None, ..
        } = &template.files[i].contents
        else {
            continue;
        };
        let algorithm = leaf.key_algorithm().clone();
        let slot = match template.key_of(i) {
            Some(k) => *slot_of_file.entry(k).or_insert_with(|| {
                let format = match &template.files[k].contents {
                    Contents::Key { key } => key.format(),
                    _ => PrivateKey::conventional_format(&algorithm),
                };
                slots.push(KeySlot {
                    algorithm,
                    format,
                    file: KeyFile::Template(k),
                });
                slots.len() - 1
            }),
            None => {
                let rel = outputs[i].clone().unwrap_or_default();
                let beside = key_path_beside(&rel);
                notes.push(format!(
                    "{}: the template's key is not in its directory (or could not be read); the new key is written to {}",
                    crate::path_text::display_path(&template.files[i].rel),
                    crate::path_text::display_path(&beside)
                ));
                slots.push(KeySlot {
                    algorithm: algorithm.clone(),
                    format: PrivateKey::conventional_format(&algorithm),
                    file: KeyFile::Beside(beside),
                });
                slots.len() - 1
            }
        };
        leaf_slot.insert(i, slot);
    }

    let mut leaves = Vec::new();
    let mut files = Vec::new();
    let mut skipped: Vec<SkippedFile> = template
        .skipped
        .iter()
        .map(|(path, reason)| SkippedFile {
            path: path.clone(),
            reason: reason.clone(),
        })
        .collect();
    let mut outputs = outputs;
    for (i, file) in template.files.iter().enumerate() {
        let out = outputs[i].clone().unwrap_or_default();
        match &file.contents {
            Contents::Trust { certificates, .. } => {
                if !certificates
                    .iter()
                    .any(|c| c.der() == ca.certificate().der())
                {
                    notes.push(format!(
                        "{}: copied as it is, but it does not hold the CA that signs the new certificates ({})",
                        crate::path_text::display_path(&file.rel),
                        ca.certificate().subject()
                    ));
                }
                files.push(PlannedFile {
                    path: out,
                    from: file.rel.clone(),
                    content: PlannedContent::CaCertificates {
                        subjects: certificates
                            .iter()
                            .map(|c| c.subject().to_string())
                            .collect(),
                    },
                });
            }
            Contents::Leaf { leaf, rest, key } => {
                let slot = leaf_slot[&i];
                let (leaf_plan, planned) = plan_leaf(
                    ca,
                    req,
                    file,
                    leaf,
                    &counterparts[&i],
                    template_member.as_deref(),
                    &mut notes,
                )?;
                let key_file = match &slots[slot].file {
                    KeyFile::Template(k) => outputs[*k].clone().unwrap_or_default(),
                    KeyFile::InCertificateFile(f) => outputs[*f].clone().unwrap_or_default(),
                    KeyFile::Beside(p) => p.clone(),
                };
                files.push(PlannedFile {
                    path: out,
                    from: file.rel.clone(),
                    content: PlannedContent::Certificate(PlannedCertificate {
                        key_in_file: key.is_some(),
                        key_file,
                        chain: rest.len(),
                        ..planned
                    }),
                });
                leaves.push(LeafPlan {
                    file: i,
                    slot,
                    ..leaf_plan
                });
            }
            Contents::Key { key } => {
                if let Some(&slot) = slot_of_file.get(&i) {
                    let certificates = leaf_slot
                        .iter()
                        .filter(|(_, s)| **s == slot)
                        .filter_map(|(l, _)| outputs[*l].clone())
                        .collect();
                    files.push(PlannedFile {
                        path: out,
                        from: file.rel.clone(),
                        content: PlannedContent::Key {
                            algorithm: slots[slot].algorithm.to_string(),
                            format: slots[slot].format.to_string(),
                            encoding: file.encoding,
                            certificates,
                        },
                    });
                } else {
                    outputs[i] = None;
                    let reason = if key.matches(ca.certificate()) {
                        "the CA's private key: never copied to a member".to_string()
                    } else {
                        "a private key of no certificate in this directory: not carried over"
                            .to_string()
                    };
                    skipped.push(SkippedFile {
                        path: file.rel.clone(),
                        reason,
                    });
                }
            }
            Contents::Other { reason } => {
                outputs[i] = None;
                skipped.push(SkippedFile {
                    path: file.rel.clone(),
                    reason: format!("not a certificate or key: {reason}"),
                });
            }
        }
    }
    // Key files of their own beside certificates are files too.
    for (slot, s) in slots.iter().enumerate() {
        if let KeyFile::Beside(path) = &s.file {
            let certificates = leaf_slot
                .iter()
                .filter(|(_, x)| **x == slot)
                .filter_map(|(l, _)| outputs[*l].clone())
                .collect();
            files.push(PlannedFile {
                path: path.clone(),
                from: PathBuf::new(),
                content: PlannedContent::Key {
                    algorithm: s.algorithm.to_string(),
                    format: s.format.to_string(),
                    encoding: Encoding::Pem,
                    certificates,
                },
            });
        }
    }
    let mut seen: Vec<&Path> = Vec::new();
    for f in &files {
        if seen.contains(&f.path.as_path()) {
            return Err(invalid(RequestProblem::OutputCollision {
                path: f.path.clone(),
            }));
        }
        seen.push(&f.path);
    }
    let key_file_of = |i: usize| {
        let out = outputs[i].as_ref()?;
        files.iter().find_map(|f| match &f.content {
            PlannedContent::Certificate(c) if &f.path == out => Some(c.key_file.clone()),
            _ => None,
        })
    };
    let roles = roles(
        &template,
        &|i| outputs[i].clone(),
        &key_file_of,
        Some(ca.certificate()),
    );
    let plan = IssuePlan {
        name: req.name.clone(),
        template: req.like.clone(),
        template_member,
        template_member_source: source,
        siblings: siblings.iter().map(|s| s.dir.clone()).collect(),
        ca: ca.certificate().subject().to_string(),
        files,
        skipped,
        roles,
        notes,
    };
    Ok(Prepared {
        plan,
        template,
        leaves,
        slots,
        outputs,
    })
}

fn validate(req: &IssueRequest) -> Result<()> {
    let member = |problem: MemberProblem| {
        invalid(RequestProblem::InvalidMember {
            spec: req.name.clone(),
            problem,
        })
    };
    if !crate::init::name_chars_ok(&req.name) {
        return Err(member(MemberProblem::BadName));
    }
    if req.name.len() > crate::init::MAX_NAME_LEN {
        return Err(member(MemberProblem::NameTooLong {
            len: req.name.len(),
            max: crate::init::MAX_NAME_LEN,
        }));
    }
    if req.ips.is_empty() && req.dns.is_empty() {
        return Err(invalid(RequestProblem::NoHosts));
    }
    for dns in &req.dns {
        validate_dns(dns).map_err(|problem| {
            invalid(RequestProblem::InvalidDnsName {
                name: dns.clone(),
                problem,
            })
        })?;
    }
    if let Some(n) = &req.like_name {
        if n.is_empty() {
            return Err(member(MemberProblem::BadName));
        }
    }
    Ok(())
}

/// `server.crt` -> `server.key`, `server.pem` -> `server-key.pem`, else `NAME.key`.
fn key_path_beside(cert: &Path) -> PathBuf {
    let name = cert
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let key = match name.rsplit_once('.') {
        Some((stem, "crt" | "cer" | "cert")) => format!("{stem}.key"),
        Some((stem, "pem")) => format!("{stem}-key.pem"),
        _ => format!("{name}.key"),
    };
    cert.with_file_name(key)
}

/// Signs and verifies what [`prepare`] decided, and lays out every file's bytes.
fn sign(ca: &CertificateAuthority, req: &IssueRequest, prepared: Prepared) -> Result<IssuedMember> {
    let Prepared {
        plan,
        template,
        leaves,
        slots,
        outputs,
    } = prepared;
    let keys: Vec<PrivateKey> = slots
        .iter()
        .map(|s| PrivateKey::generate(&s.algorithm))
        .collect::<Result<_>>()?;
    let roots: CertPool = std::iter::once(ca.certificate().clone()).collect();
    let mut signed: HashMap<usize, Certificate> = HashMap::new();
    for l in &leaves {
        let file = &template.files[l.file];
        let Contents::Leaf { leaf, rest, .. } = &file.contents else {
            continue;
        };
        let key = &keys[l.slot];
        let spki = key_spki(key)?;
        let cert = sign_after(
            leaf,
            ca,
            &Fresh {
                subject: &l.subject,
                san_value: l.san_value.as_deref(),
                new_spki: Some(&spki),
                not_before: l.not_before,
                not_after: l.not_after,
            },
        )?;
        let rejected = |reason: String| Error::ReissueRejected {
            path: Some(file.path.clone()),
            reason,
        };
        let intermediates: CertPool = rest.iter().cloned().collect();
        verify(
            &cert,
            &intermediates,
            &roots,
            &VerifyOptions::new().at(req.at),
        )
        .map_err(|e| rejected(format!("it does not chain to the CA: {e}")))?;
        for host in &l.expected_hosts {
            if let Coverage::NotCovered(nc) = covers(&cert, host) {
                return Err(rejected(format!("it does not cover {host}: {nc}")));
            }
        }
        if cert.ext_key_usage() != leaf.ext_key_usage()
            || cert.key_usage_bits() != leaf.key_usage_bits()
        {
            return Err(rejected("its key usages differ from the template's".into()));
        }
        if cert.key_algorithm() != leaf.key_algorithm() || !key.matches(&cert) {
            return Err(rejected(
                "its key is not the new key of the template's kind".into(),
            ));
        }
        if cert.raw_subject() != l.subject.as_slice() {
            return Err(rejected("its subject is not the one planned".into()));
        }
        signed.insert(l.file, cert);
    }

    let mut files = Vec::new();
    let mut certificates = Vec::new();
    for (i, file) in template.files.iter().enumerate() {
        let Some(rel) = outputs[i].clone() else {
            continue;
        };
        match &file.contents {
            Contents::Trust { bytes, .. } => files.push(OutFile {
                rel,
                contents: Zeroizing::new(bytes.clone()),
                secret: false,
            }),
            Contents::Leaf { rest, key, .. } => {
                let Some(cert) = signed.remove(&i) else {
                    continue;
                };
                let slot = leaves.iter().find(|l| l.file == i).map(|l| l.slot);
                let contents = match file.encoding {
                    Encoding::Der => Zeroizing::new(cert.der().to_vec()),
                    Encoding::Pem => {
                        let mut text = Zeroizing::new(String::new());
                        let key_pem = match (key, slot) {
                            (Some(k), Some(s)) => Some(keys[s].to_pem(k.format)?),
                            _ => None,
                        };
                        let first = key.as_ref().is_some_and(|k| k.first);
                        if let (true, Some(k)) = (first, &key_pem) {
                            text.push_str(k);
                        }
                        text.push_str(&cert.to_pem());
                        for c in rest {
                            text.push_str(&c.to_pem());
                        }
                        if let (false, Some(k)) = (first, &key_pem) {
                            text.push_str(k);
                        }
                        Zeroizing::new(text.as_bytes().to_vec())
                    }
                };
                files.push(OutFile {
                    rel: rel.clone(),
                    contents,
                    secret: key.is_some(),
                });
                certificates.push((rel, cert));
            }
            Contents::Key { .. } => {
                let Some(slot) = slots
                    .iter()
                    .position(|s| matches!(s.file, KeyFile::Template(k) if k == i))
                else {
                    continue;
                };
                let format = slots[slot].format;
                let contents = match file.encoding {
                    Encoding::Der => keys[slot].to_der(format)?,
                    Encoding::Pem => Zeroizing::new(keys[slot].to_pem(format)?.as_bytes().to_vec()),
                };
                files.push(OutFile {
                    rel,
                    contents,
                    secret: true,
                });
            }
            Contents::Other { .. } => {}
        }
    }
    for (slot, s) in slots.iter().enumerate() {
        if let KeyFile::Beside(rel) = &s.file {
            files.push(OutFile {
                rel: rel.clone(),
                contents: Zeroizing::new(keys[slot].to_pem(s.format)?.as_bytes().to_vec()),
                secret: true,
            });
        }
    }
    Ok(IssuedMember {
        plan,
        certificates,
        files,
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::test_support::copy_fixture_dir;
    use crate::{load_certificates, load_file};

    fn ca_of(dir: &Path, cert: &str, key: &str) -> CertificateAuthority {
        CertificateAuthority::open(dir.join(cert), dir.join(key)).unwrap()
    }

    fn hashes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out: Vec<(PathBuf, Vec<u8>)> = crate::walk::list_files(&[dir.to_path_buf()])
            .unwrap()
            .0
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect();
        out.sort();
        out
    }

    fn certificate<'a>(plan: &'a IssuePlan, path: &str) -> &'a PlannedCertificate {
        plan.files
            .iter()
            .find_map(|f| match &f.content {
                PlannedContent::Certificate(c) if f.path == Path::new(path) => Some(c),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no certificate {path} in {:#?}", plan.files))
    }

    #[test]
    fn a_hand_made_per_member_layout_is_followed() {
        let tmp = tempfile::tempdir().unwrap();
        copy_fixture_dir("per-member", tmp.path());
        let ca = ca_of(tmp.path(), "ca/etcd-root.crt", "ca/etcd-root.key");
        let before = hashes(tmp.path());
        let req = IssueRequest::new("etcd-d", tmp.path().join("etcd-a"))
            .ip("127.0.0.24".parse().unwrap())
            .dns("etcd-d.etcd.test");
        let issued = issue_member(&ca, &req).unwrap();
        let plan = &issued.plan;
        assert_eq!(plan.template_member.as_deref(), Some("etcd-a"));
        assert_eq!(plan.template_member_source, Some(NameSource::DirectoryName));
        assert_eq!(plan.siblings.len(), 2, "{:?}", plan.siblings);
        let names: Vec<&Path> = plan.files.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(
            names,
            [
                "etcd-d-client.key",
                "etcd-d-client.pem",
                "etcd-d-peer.key",
                "etcd-d-peer.pem",
                "etcd-d-server.key",
                "etcd-d-server.pem",
                "trust-bundle.pem"
            ]
            .map(Path::new)
        );
        let server = certificate(plan, "etcd-d-server.pem");
        assert_eq!(
            server.subject,
            "O=Example Corp, OU=etcd server, CN=etcd-d.etcd.test"
        );
        assert_eq!(
            server.sans,
            ["IP:127.0.0.1", "IP:127.0.0.24", "DNS:etcd-d.etcd.test"]
        );
        assert_eq!(server.replaced, ["DNS:etcd-a.etcd.test", "IP:127.0.0.21"]);
        assert_eq!(server.key, "RSA 2048");
        let peer = certificate(plan, "etcd-d-peer.pem");
        assert_eq!(
            peer.sans,
            ["IP:127.0.0.1", "IP:127.0.0.24", "DNS:etcd-d.etcd.test"]
        );
        let client = certificate(plan, "etcd-d-client.pem");
        assert_eq!(client.subject, "O=Example Corp, CN=etcd-d-client");
        assert!(client.sans.is_empty());
        assert_eq!(
            plan.roles.peer.as_ref().map(|p| p.cert.as_path()),
            Some(Path::new("etcd-d-peer.pem"))
        );
        assert_eq!(
            plan.roles.server.as_ref().map(|p| p.key.as_path()),
            Some(Path::new("etcd-d-server.key"))
        );
        assert_eq!(
            plan.roles.trusted_ca.as_deref(),
            Some(Path::new("trust-bundle.pem"))
        );

        let out = tmp.path().join("etcd-d");
        write_member(&out, &issued).unwrap();
        assert_eq!(hashes(&tmp.path().join("etcd-a")), {
            let a = tmp.path().join("etcd-a");
            before
                .iter()
                .filter(|(p, _)| p.starts_with(&a))
                .cloned()
                .collect::<Vec<_>>()
        });
        let key = load_file(out.join("etcd-d-peer.key")).unwrap();
        assert_eq!(key.keys[0].format(), KeyFormat::Pkcs8, "as the template's");
        let peer = load_certificates(out.join("etcd-d-peer.pem"))
            .unwrap()
            .remove(0);
        assert!(key.keys[0].matches(&peer));
        let template = load_certificates(tmp.path().join("etcd-a/etcd-a-peer.pem"))
            .unwrap()
            .remove(0);
        assert_eq!(peer.ext_key_usage(), template.ext_key_usage());
        assert_eq!(peer.key_usage_bits(), template.key_usage_bits());
        assert_eq!(peer.key_algorithm(), template.key_algorithm());
        let mode = |p: &str| std::fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("etcd-d-peer.key"), 0o600);
        assert_eq!(mode("etcd-d-peer.pem"), 0o644);
        assert_eq!(
            std::fs::read(out.join("trust-bundle.pem")).unwrap(),
            std::fs::read(tmp.path().join("etcd-a/trust-bundle.pem")).unwrap()
        );
        // The template and its siblings are untouched; the output is now taken.
        let after: Vec<_> = hashes(tmp.path())
            .into_iter()
            .filter(|(p, _)| !p.starts_with(&out))
            .collect();
        assert_eq!(after, before);
        assert!(matches!(
            write_member(&out, &issued),
            Err(Error::OutputNotEmpty { .. })
        ));
    }

    #[test]
    fn a_lone_kubeadm_directory_keeps_only_localhost_and_never_copies_the_ca_key() {
        let tmp = tempfile::tempdir().unwrap();
        let etcd = tmp.path().join("etcd");
        copy_fixture_dir("kubeadm", &etcd);
        let ca = ca_of(&etcd, "ca.crt", "ca.key");
        let req = IssueRequest::new("cp-4", &etcd).ip("10.0.0.4".parse().unwrap());
        let plan = plan_issue(&ca, &req).unwrap();
        assert!(plan.siblings.is_empty());
        assert_eq!(plan.template_member.as_deref(), Some("node-1"));
        assert_eq!(plan.template_member_source, Some(NameSource::CommonName));
        let peer = certificate(&plan, "peer.crt");
        assert_eq!(peer.subject, "CN=cp-4");
        assert_eq!(
            peer.sans,
            [
                "DNS:localhost",
                "IP:127.0.0.1",
                "IP:::1",
                "IP:10.0.0.4",
                "DNS:cp-4"
            ]
        );
        assert_eq!(peer.replaced, ["DNS:node-1", "IP:127.0.0.41"]);
        assert!(plan.files.iter().all(|f| f.path != Path::new("ca.key")));
        assert!(plan
            .skipped
            .iter()
            .any(|s| s.path == Path::new("ca.key") && s.reason.contains("never copied")));
        let health = certificate(&plan, "healthcheck-client.crt");
        assert_eq!(
            health.subject,
            "O=system:masters, CN=kube-etcd-healthcheck-client"
        );
    }

    #[test]
    fn the_shared_layout_is_refused_with_its_certificates() {
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join("pki");
        std::fs::create_dir(&tmp).unwrap();
        for f in [
            "ca.pem",
            "ca-key.pem",
            "server.pem",
            "server-key.pem",
            "members.pem",
            "members-key.pem",
            "client.pem",
            "client-key.pem",
        ] {
            std::fs::copy(
                crate::test_support::fixture(&format!("cfssl/{f}")),
                tmp.as_path().join(f),
            )
            .unwrap();
        }
        let ca = ca_of(tmp.as_path(), "ca.pem", "ca-key.pem");
        let req = IssueRequest::new("infra3", tmp.as_path()).ip("127.0.0.14".parse().unwrap());
        match plan_issue(&ca, &req) {
            Err(Error::SharedCertificates { certificates, .. }) => {
                let files: Vec<_> = certificates
                    .iter()
                    .map(|c| c.certificate.file_name().unwrap().to_owned())
                    .collect();
                assert_eq!(files, ["members.pem", "server.pem"]);
                assert!(certificates[0]
                    .key
                    .as_ref()
                    .is_some_and(|k| k.ends_with("members-key.pem")));
                assert!(certificates[0].hosts.contains(&"IP:127.0.0.12".to_string()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_requests_are_refused_before_anything_is_signed() {
        let tmp = tempfile::tempdir().unwrap();
        copy_fixture_dir("per-member", tmp.path());
        let ca = ca_of(tmp.path(), "ca/etcd-root.crt", "ca/etcd-root.key");
        let like = tmp.path().join("etcd-a");
        let no_hosts = IssueRequest::new("etcd-d", &like);
        assert!(matches!(
            plan_issue(&ca, &no_hosts),
            Err(Error::InvalidRequest {
                problem: RequestProblem::NoHosts,
                ..
            })
        ));
        let bad_name = IssueRequest::new("etcd d", &like).ip("127.0.0.24".parse().unwrap());
        assert!(matches!(
            plan_issue(&ca, &bad_name),
            Err(Error::InvalidRequest {
                problem: RequestProblem::InvalidMember { .. },
                ..
            })
        ));
        // A template from another CA.
        let kubeadm = tmp.path().join("kubeadm");
        copy_fixture_dir("kubeadm", &kubeadm);
        let other = IssueRequest::new("etcd-d", &kubeadm).ip("127.0.0.24".parse().unwrap());
        assert!(matches!(
            plan_issue(&ca, &other),
            Err(Error::NotIssuedByCa { .. })
        ));
        // A directory without a member's certificate.
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        std::fs::write(empty.join("notes.txt"), "hello").unwrap();
        let none = IssueRequest::new("etcd-d", &empty).ip("127.0.0.24".parse().unwrap());
        assert!(matches!(
            plan_issue(&ca, &none),
            Err(Error::InvalidRequest {
                problem: RequestProblem::NoTemplateCertificate,
                ..
            })
        ));
        // Not a directory.
        let file = IssueRequest::new("etcd-d", like.join("etcd-a-peer.pem"))
            .ip("127.0.0.24".parse().unwrap());
        assert!(matches!(plan_issue(&ca, &file), Err(Error::Read { .. })));
    }

    #[test]
    fn output_directories_must_be_new_or_empty() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(check_output_dir(tmp.path().join("new")).is_ok());
        assert!(check_output_dir(tmp.path()).is_ok());
        std::fs::write(tmp.path().join("x"), "").unwrap();
        assert!(matches!(
            check_output_dir(tmp.path()),
            Err(Error::OutputNotEmpty { .. })
        ));
        assert!(matches!(
            check_output_dir(tmp.path().join("x")),
            Err(Error::OutputNotEmpty { .. })
        ));
    }

    /// DER certificates, a certificate and its key in one file, a key two certificates share,
    /// and a template named by hand: each is carried over in its own shape.
    #[test]
    fn shapes_of_files_are_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let node = tmp.path().join("node");
        copy_fixture_dir("kubeadm", &node);
        let ca = ca_of(&node, "ca.crt", "ca.key");
        // peer.crt as DER.
        let peer = load_certificates(node.join("peer.crt")).unwrap().remove(0);
        std::fs::write(node.join("peer.crt"), peer.der()).unwrap();
        // server.crt with its key in the same file, key first.
        let mut combined = std::fs::read(node.join("server.key")).unwrap();
        combined.extend(std::fs::read(node.join("server.crt")).unwrap());
        std::fs::write(node.join("server.pem"), combined).unwrap();
        std::fs::remove_file(node.join("server.crt")).unwrap();
        std::fs::remove_file(node.join("server.key")).unwrap();
        // A second certificate on the peer key.
        let peer_key = crate::load_private_key(node.join("peer.key")).unwrap();
        let metrics =
            crate::reissue(&peer, Some(&peer_key), &ca, &crate::ReissueRequest::new()).unwrap();
        std::fs::write(node.join("metrics.crt"), metrics.certificate.to_pem()).unwrap();

        let req = IssueRequest::new("cp-4", &node)
            .ip("10.0.0.4".parse().unwrap())
            .like_name("node-1");
        let issued = issue_member(&ca, &req).unwrap();
        assert_eq!(issued.plan.template_member_source, Some(NameSource::Given));
        let key_plan = issued
            .plan
            .files
            .iter()
            .find(|f| f.path == Path::new("peer.key"))
            .unwrap();
        match &key_plan.content {
            PlannedContent::Key { certificates, .. } => {
                let mut c = certificates.clone();
                c.sort();
                assert_eq!(c, [PathBuf::from("metrics.crt"), PathBuf::from("peer.crt")]);
            }
            other => panic!("{other:?}"),
        }
        let out = tmp.path().join("out");
        write_member(&out, &issued).unwrap();
        let der = std::fs::read(out.join("peer.crt")).unwrap();
        assert_eq!(der[0], 0x30, "DER as the template");
        let new_peer = Certificate::from_der(der).unwrap();
        let new_metrics = load_certificates(out.join("metrics.crt"))
            .unwrap()
            .remove(0);
        let new_key = crate::load_private_key(out.join("peer.key")).unwrap();
        assert!(new_key.matches(&new_peer) && new_key.matches(&new_metrics));
        assert_eq!(new_key.format(), KeyFormat::Pkcs1);
        let server = load_file(out.join("server.pem")).unwrap();
        assert_eq!(server.keys.len(), 1);
        assert!(server.keys[0].matches(&server.certificates[0]));
        let text = std::fs::read_to_string(out.join("server.pem")).unwrap();
        assert!(
            text.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
            "key first"
        );
        assert_eq!(
            std::fs::metadata(out.join("server.pem"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600,
            "a file holding a key is a key"
        );
    }

    fn kubeadm_cluster(dir: &Path, names: &[&str]) -> CertificateAuthority {
        let members: Vec<crate::Member> = names
            .iter()
            .enumerate()
            .map(|(i, n)| crate::Member::new(*n, std::net::IpAddr::from([10, 0, 0, i as u8 + 1])))
            .collect();
        let files = crate::init(
            dir,
            &crate::InitRequest::new(crate::Layout::Kubeadm, members),
        )
        .unwrap();
        for f in &files {
            std::fs::create_dir_all(f.write.path.parent().unwrap()).unwrap();
        }
        crate::write::write_all(&files.into_iter().map(|f| f.write).collect::<Vec<_>>()).unwrap();
        ca_of(dir, "ca.crt", "ca.key")
    }

    /// Review findings of the first version, each a regression test.
    #[test]
    fn a_ca_file_holding_a_key_is_never_copied() {
        let tmp = tempfile::tempdir().unwrap();
        let ca = kubeadm_cluster(&tmp.path().join("k"), &["n0", "n1", "n2"]);
        let t = tmp.path().join("t");
        copy_fixture_dir("kubeadm", &t);
        for f in std::fs::read_dir(tmp.path().join("k/n0")).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), t.join(f.file_name())).unwrap();
        }
        for f in [
            "server.crt",
            "server.key",
            "healthcheck-client.crt",
            "healthcheck-client.key",
        ] {
            let _ = std::fs::remove_file(t.join(f));
        }
        std::fs::remove_file(t.join("ca.key")).unwrap();
        let mut bundle = std::fs::read(tmp.path().join("k/ca.crt")).unwrap();
        bundle.extend(std::fs::read(tmp.path().join("k/ca.key")).unwrap());
        std::fs::write(t.join("ca.crt"), bundle).unwrap();
        let req = IssueRequest::new("n3", &t).ip("10.0.0.4".parse().unwrap());
        let issued = issue_member(&ca, &req).unwrap();
        assert!(issued
            .plan
            .files
            .iter()
            .all(|f| f.path != Path::new("ca.crt")));
        assert!(issued
            .plan
            .skipped
            .iter()
            .any(|s| s.path == Path::new("ca.crt") && s.reason.contains("private key")));
        for w in issued.writes(Path::new("out")) {
            let text = String::from_utf8_lossy(&w.contents);
            if text.contains("PRIVATE KEY") {
                assert_eq!(w.secrecy, crate::write::Secrecy::Secret, "{:?}", w.path);
                assert!(!w.path.ends_with("ca.crt"));
            }
        }
    }

    #[test]
    fn kubeadms_directory_name_etcd_is_not_the_member_name() {
        let tmp = tempfile::tempdir().unwrap();
        let ca = kubeadm_cluster(&tmp.path().join("k"), &["etcd-1", "etcd-2", "etcd-3"]);
        let etcd = tmp.path().join("pki/etcd");
        std::fs::create_dir_all(&etcd).unwrap();
        for f in std::fs::read_dir(tmp.path().join("k/etcd-1")).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), etcd.join(f.file_name())).unwrap();
        }
        std::fs::copy(tmp.path().join("k/ca.key"), etcd.join("ca.key")).unwrap();
        let req = IssueRequest::new("etcd-4", &etcd).ip("10.0.0.4".parse().unwrap());
        let plan = plan_issue(&ca, &req).unwrap();
        assert_eq!(plan.template_member.as_deref(), Some("etcd-1"));
        assert_eq!(certificate(&plan, "peer.crt").subject, "CN=etcd-4");
        assert!(certificate(&plan, "peer.crt")
            .sans
            .contains(&"DNS:etcd-4".to_string()));
        assert_eq!(
            certificate(&plan, "healthcheck-client.crt").subject,
            "O=system:masters, CN=kube-etcd-healthcheck-client"
        );
    }

    #[test]
    fn copies_and_rotations_of_the_member_are_not_siblings() {
        let tmp = tempfile::tempdir().unwrap();
        let pki = tmp.path().join("pki");
        copy_fixture_dir("kubeadm", &pki.join("etcd"));
        copy_fixture_dir("kubeadm", &pki.join("etcd.bak"));
        copy_fixture_dir("kubeadm", &pki.join("etcd-2025"));
        let ca = ca_of(&pki.join("etcd"), "ca.crt", "ca.key");
        // etcd-2025 holds an earlier rotation: the same identity, other certificates.
        for c in ["peer", "server", "healthcheck-client"] {
            let file = crate::CertificateFile::open(
                pki.join(format!("etcd-2025/{c}.crt")),
                Some(pki.join(format!("etcd-2025/{c}.key"))),
            )
            .unwrap();
            let done = file
                .reissue(&ca, &crate::ReissueRequest::new().new_key())
                .unwrap();
            std::fs::write(
                pki.join(format!("etcd-2025/{c}.crt")),
                done.certificate.to_pem(),
            )
            .unwrap();
        }
        let req = IssueRequest::new("cp-4", pki.join("etcd")).ip("10.0.0.4".parse().unwrap());
        let plan = plan_issue(&ca, &req).unwrap();
        assert!(plan.siblings.is_empty(), "{:?}", plan.siblings);
        let peer = certificate(&plan, "peer.crt");
        assert_eq!(peer.subject, "CN=cp-4");
        assert!(
            peer.sans.contains(&"IP:10.0.0.4".to_string()),
            "{:?}",
            peer.sans
        );
        assert!(!peer
            .sans
            .iter()
            .any(|s| s.contains("node-1") || s.contains("127.0.0.41")));
    }

    #[test]
    fn a_member_certificate_always_covers_the_new_member() {
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("m");
        copy_fixture_dir("kubeadm", &m);
        let ca = ca_of(&m, "ca.crt", "ca.key");
        // Only what every member has: localhost names.
        for c in ["peer", "server"] {
            let file = crate::CertificateFile::open(
                m.join(format!("{c}.crt")),
                Some(m.join(format!("{c}.key"))),
            )
            .unwrap();
            let req = crate::ReissueRequest::new()
                .remove_ip("127.0.0.41".parse().unwrap())
                .remove_dns("node-1");
            let done = file.reissue(&ca, &req).unwrap();
            std::fs::write(m.join(format!("{c}.crt")), done.certificate.to_pem()).unwrap();
        }
        let req = IssueRequest::new("n2", &m).ip("10.0.0.2".parse().unwrap());
        let issued = issue_member(&ca, &req).unwrap();
        let (_, peer) = issued
            .certificates
            .iter()
            .find(|(p, _)| p == Path::new("peer.crt"))
            .unwrap();
        assert!(matches!(
            crate::covers(peer, &crate::Host::Ip("10.0.0.2".parse().unwrap())),
            crate::Coverage::Covered { .. }
        ));
    }

    #[test]
    fn dns_only_shared_certificates_are_refused_and_outputs_stay_outside() {
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("m");
        copy_fixture_dir("kubeadm", &m);
        let ca = ca_of(&m, "ca.crt", "ca.key");
        let file =
            crate::CertificateFile::open(m.join("peer.crt"), Some(m.join("peer.key"))).unwrap();
        let req = crate::ReissueRequest::new()
            .remove_ip("127.0.0.41".parse().unwrap())
            .remove_dns("node-1")
            .add_dns("infra0.example.com")
            .add_dns("infra1.example.com")
            .add_dns("infra2.example.com");
        let done = file.reissue(&ca, &req).unwrap();
        std::fs::write(m.join("peer.crt"), done.certificate.to_pem()).unwrap();
        let issue = IssueRequest::new("infra3", &m).ip("10.0.0.4".parse().unwrap());
        assert!(matches!(
            plan_issue(&ca, &issue),
            Err(Error::SharedCertificates { .. })
        ));
        assert!(matches!(
            check_output_outside(m.join("new/n3"), &m),
            Err(Error::InvalidRequest {
                problem: RequestProblem::OutputInsideTemplate { .. },
                ..
            })
        ));
        assert!(check_output_outside(tmp.path().join("n3"), &m).is_ok());
    }

    #[test]
    fn a_key_in_a_certificate_file_stays_shared() {
        let tmp = tempfile::tempdir().unwrap();
        let node = tmp.path().join("node");
        copy_fixture_dir("kubeadm", &node);
        let ca = ca_of(&node, "ca.crt", "ca.key");
        let server = load_certificates(node.join("server.crt"))
            .unwrap()
            .remove(0);
        let key = crate::load_private_key(node.join("server.key")).unwrap();
        let metrics =
            crate::reissue(&server, Some(&key), &ca, &crate::ReissueRequest::new()).unwrap();
        std::fs::write(node.join("metrics.crt"), metrics.certificate.to_pem()).unwrap();
        let mut combined = std::fs::read(node.join("server.crt")).unwrap();
        combined.extend(std::fs::read(node.join("server.key")).unwrap());
        std::fs::write(node.join("server.pem"), combined).unwrap();
        std::fs::remove_file(node.join("server.crt")).unwrap();
        std::fs::remove_file(node.join("server.key")).unwrap();
        let req = IssueRequest::new("cp-4", &node).ip("10.0.0.4".parse().unwrap());
        let issued = issue_member(&ca, &req).unwrap();
        assert!(
            issued
                .plan
                .notes
                .iter()
                .all(|n| !n.contains("not in its directory")),
            "{:?}",
            issued.plan.notes
        );
        assert_eq!(
            certificate(&issued.plan, "metrics.crt").key_file,
            Path::new("server.pem")
        );
        let out = tmp.path().join("out");
        write_member(&out, &issued).unwrap();
        let server = load_file(out.join("server.pem")).unwrap();
        let metrics = load_certificates(out.join("metrics.crt"))
            .unwrap()
            .remove(0);
        assert!(server.keys[0].matches(&metrics));
    }
}
