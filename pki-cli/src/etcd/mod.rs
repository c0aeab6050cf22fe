//! Everything that talks to etcd (crate `etcd-client`, TLS through rustls on aws-lc). Nothing
//! here is used by the offline commands, which never start an async runtime.

pub mod connect;
pub mod errors;
pub mod leader;
pub mod peer_tls;
pub mod snapshot;
pub mod state;
