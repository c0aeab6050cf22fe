//! Tests of static pod manifests.

use super::*;
use crate::member_config::Source;

/// A manifest as kubeadm writes it (kubeadm `GetEtcdPodSpec`, etcd 3.5 era).
const KUBEADM: &str = r#"apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://10.0.0.11:2379
  creationTimestamp: null
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://10.0.0.11:2379
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --client-cert-auth=true
    - --data-dir=/var/lib/etcd
    - --experimental-initial-corrupt-check=true
    - --experimental-watch-progress-notify-interval=5s
    - --initial-advertise-peer-urls=https://10.0.0.11:2380
    - --initial-cluster=cp-1=https://10.0.0.11:2380
    - --key-file=/etc/kubernetes/pki/etcd/server.key
    - --listen-client-urls=https://127.0.0.1:2379,https://10.0.0.11:2379
    - --listen-metrics-urls=http://127.0.0.1:2381
    - --listen-peer-urls=https://10.0.0.11:2380
    - --name=cp-1
    - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    - --peer-client-cert-auth=true
    - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
    - --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    - --snapshot-count=10000
    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    image: registry.k8s.io/etcd:3.5.16-0
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 127.0.0.1
        path: /livez
        port: 2381
        scheme: HTTP
    name: etcd
    resources:
      requests:
        cpu: 100m
        memory: 100Mi
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
    - mountPath: /etc/kubernetes/pki/etcd
      name: etcd-certs
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki/etcd
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
status: {}
"#;

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("etcd.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn value(c: &MemberConfig, key: Key) -> Option<&str> {
    c.get(key).map(|s| s.value.as_str())
}

#[test]
fn a_kubeadm_manifest() {
    let (_dir, path) = write(KUBEADM);
    let c = from_manifest(&path).unwrap();
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
    assert_eq!(value(&c, Key::Name), Some("cp-1"));
    assert_eq!(
        value(&c, Key::CertFile),
        Some("/etc/kubernetes/pki/etcd/server.crt")
    );
    assert_eq!(
        value(&c, Key::TrustedCaFile),
        Some("/etc/kubernetes/pki/etcd/ca.crt")
    );
    assert!(c.flag(Key::ClientCertAuth) && c.flag(Key::PeerClientCertAuth));
    assert_eq!(
        value(&c, Key::ListenMetricsUrls),
        Some("http://127.0.0.1:2381")
    );
    assert_eq!(
        c.get(Key::PeerKeyFile).unwrap().source,
        Source::Flag {
            text: "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key".into()
        }
    );
    assert_eq!(c.version.as_deref(), Some("3.5.16"));
    assert_eq!(
        c.mounts,
        vec![
            (
                PathBuf::from("/etc/kubernetes/pki/etcd"),
                PathBuf::from("/etc/kubernetes/pki/etcd")
            ),
            (
                PathBuf::from("/var/lib/etcd"),
                PathBuf::from("/var/lib/etcd")
            ),
        ]
    );
    assert_eq!(
        c.run_as,
        Some(RunAs {
            user: Some("root".into()),
            uid: 0,
            gid: 0,
            groups: vec![]
        })
    );
    assert_eq!(c.root, Path::new("/"));
    assert!(matches!(c.origin, Origin::Manifest { .. }));
}

#[test]
fn volumes_map_container_paths_to_the_host() {
    let text = KUBEADM
        .replace("path: /etc/kubernetes/pki/etcd\n", "path: /srv/pki/etcd\n")
        .replace("    - mountPath: /var/lib/etcd\n      name: etcd-data\n", "    - mountPath: /var/lib/etcd\n      name: etcd-data\n    - mountPath: /etc/kubernetes/pki/etcd/extra\n      name: etcd-data\n      subPath: extra\n");
    let (_dir, path) = write(&text);
    let c = from_manifest(&path).unwrap();
    assert_eq!(
        c.mounts[0].0,
        PathBuf::from("/etc/kubernetes/pki/etcd/extra")
    );
    assert_eq!(c.mounts[0].1, PathBuf::from("/var/lib/etcd/extra"));
    assert_eq!(
        c.host_path(Path::new("/etc/kubernetes/pki/etcd/server.crt")),
        PathBuf::from("/srv/pki/etcd/server.crt")
    );
    assert_eq!(
        c.host_path(Path::new("/etc/kubernetes/pki/etcd/extra/ca.crt")),
        PathBuf::from("/var/lib/etcd/extra/ca.crt")
    );
}

#[test]
fn env_expansion_args_and_security_context() {
    let text = r#"
apiVersion: v1
kind: Pod
spec:
  securityContext:
    runAsUser: 1000
    runAsGroup: 1000
    fsGroup: 2000
    supplementalGroups: [3000]
  containers:
  - name: sidecar
    image: busybox
    command: [sleep, infinity]
  - name: etcd
    image: quay.io/coreos/etcd:v3.4.23@sha256:0123
    command: ["/usr/local/bin/etcd"]
    args: ["--name=$(NAME)", "--data-dir=$$(NAME)", "--initial-cluster=$(UNKNOWN)"]
    env:
    - name: NAME
      value: infra-$(ZONE)
    - name: ZONE
      value: a
    - name: ETCD_CERT_FILE
      value: /certs/server.pem
    - name: ETCD_KEY_FILE
      valueFrom:
        secretKeyRef: {name: x, key: y}
    securityContext:
      runAsUser: 999
"#;
    let (_dir, path) = write(text);
    let c = from_manifest(&path).unwrap();
    // NAME was defined before ZONE: $(ZONE) is kept as written.
    assert_eq!(value(&c, Key::Name), Some("infra-$(ZONE)"));
    assert_eq!(value(&c, Key::DataDir), Some("$(NAME)"));
    assert_eq!(value(&c, Key::InitialCluster), Some("$(UNKNOWN)"));
    assert_eq!(value(&c, Key::CertFile), Some("/certs/server.pem"));
    assert_eq!(
        c.get(Key::CertFile).unwrap().source,
        Source::Env {
            var: "ETCD_CERT_FILE".into(),
            origin: EnvOrigin::Manifest { path: path.clone() }
        }
    );
    assert_eq!(c.version.as_deref(), Some("3.4.23"));
    assert_eq!(
        c.run_as,
        Some(RunAs {
            user: None,
            uid: 999,
            gid: 1000,
            groups: vec![2000, 3000]
        })
    );
    let messages: Vec<&str> = c.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("ETCD_KEY_FILE comes from valueFrom")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("/certs/server.pem is under no hostPath volume")),
        "{messages:?}"
    );
}

#[test]
fn env_and_flag_conflict_in_a_manifest() {
    let text = KUBEADM.replace(
        "    image: registry.k8s.io/etcd:3.5.16-0\n",
        "    image: registry.k8s.io/etcd:3.5.16-0\n    env:\n    - name: ETCD_NAME\n      value: cp-1\n",
    );
    let (_dir, path) = write(&text);
    let c = from_manifest(&path).unwrap();
    assert!(c
        .problems
        .iter()
        .any(|p| p.fatal && p.message.contains("\"ETCD_NAME\" is shadowed")));
}

#[test]
fn etcd_36_flags_in_a_35_manifest_are_refused() {
    let text = KUBEADM.replace(
        "--experimental-initial-corrupt-check=true",
        "--feature-gates=InitialCorruptCheck=true",
    );
    let (_dir, path) = write(&text);
    let c = from_manifest(&path).unwrap();
    assert!(c.problems[0].fatal);
    assert!(c.problems[0]
        .message
        .starts_with("flag provided but not defined: -feature-gates"));
}

#[test]
fn manifest_errors() {
    let (_dir, path) = write("kind: Deployment\nspec: {}\n");
    assert!(matches!(
        from_manifest(&path),
        Err(ConfigError::Manifest { .. })
    ));
    let (_dir, path) =
        write("kind: Pod\nspec:\n  containers:\n  - name: x\n    command: [nginx]\n");
    assert!(matches!(
        from_manifest(&path),
        Err(ConfigError::NoEtcdContainer { .. })
    ));
    let (_dir, path) = write("kind: Pod\nspec: [\n");
    assert!(matches!(
        from_manifest(&path),
        Err(ConfigError::Manifest { .. })
    ));
    let (_dir, path) = write("just text\n");
    assert!(matches!(
        from_manifest(&path),
        Err(ConfigError::Manifest { .. })
    ));
}

#[test]
fn kubernetes_expansion() {
    let env = vec![("A".to_string(), "x".to_string())];
    assert_eq!(expand("$(A)-$$(A)-$(B)-$A-$(A", &env), "x-$(A)-$(B)-$A-$(A");
    assert_eq!(expand("end$", &env), "end$");
}
