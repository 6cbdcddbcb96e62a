//! The host's side of mini-apps' network: how the embedding app lets
//! requests out (root certificates, name overrides, private destinations),
//! the TLS connector, and the address rules that decide where a name may
//! lead. Shared by every session; the per-request decisions and limits are
//! the network capability's (`capabilities/network.rs`).

use crate::manifest::{is_loopback_host, parse_ip};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// How the embedding app lets mini-apps' requests out. The per-session limits
/// (in flight, timeout, body sizes) are in
/// `SandboxLimits`.
#[derive(Clone, Default)]
pub struct NetworkConfig {
    /// Root certificates (DER) trusted besides the public web roots
    /// (Mozilla's, from `webpki-roots`): an agency's private CA, or a test
    /// CA. See [`NetworkConfig::add_root_certificates_pem`].
    pub root_certificates: Vec<Vec<u8>>,
    /// Host names the host resolves itself, as `host:port` to a socket
    /// address, like curl's `--resolve`: a staging backend, or a test server
    /// on an ephemeral port. The gate still checks the origin by its name;
    /// only where the connection goes changes.
    pub resolve: HashMap<String, SocketAddr>,
    /// Whether names may resolve to loopback, private or link-local
    /// addresses (default no: an agency's public name must not lead into the
    /// host's own network). In developer mode, loopback origins always may.
    pub allow_private_destinations: bool,
}

impl std::fmt::Debug for NetworkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkConfig")
            .field("root_certificates", &self.root_certificates.len())
            .field("resolve", &self.resolve)
            .field(
                "allow_private_destinations",
                &self.allow_private_destinations,
            )
            .finish()
    }
}

impl NetworkConfig {
    /// Adds every certificate of a PEM text to the trusted roots; returns
    /// how many.
    pub fn add_root_certificates_pem(&mut self, pem: &[u8]) -> crate::Result<usize> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| crate::Error::NetworkConfig {
                message: format!("a root certificate is not valid PEM: {e}"),
                source: Some(e.into()),
            })?;
            self.root_certificates.push(cert.to_vec());
            n += 1;
        }
        if n == 0 {
            return Err(crate::Error::NetworkConfig {
                message: "the PEM text holds no certificate (`-----BEGIN CERTIFICATE-----`)".into(),
                source: None,
            });
        }
        Ok(n)
    }

    /// Sends requests for `host:port` to `address` (see
    /// [`NetworkConfig::resolve`]).
    pub fn resolve_to(&mut self, host: &str, port: u16, address: SocketAddr) -> &mut Self {
        self.resolve
            .insert(format!("{}:{port}", host.to_ascii_lowercase()), address);
        self
    }
}

/// The host's side of the network: TLS settings and address rules, shared by
/// every session.
pub(crate) struct Network {
    tls: tokio_rustls::TlsConnector,
    resolve: HashMap<String, SocketAddr>,
    allow_private: bool,
    /// Whether plain HTTP and IP addresses may reach loopback.
    pub(crate) developer_mode: bool,
}

impl Network {
    pub(crate) fn new(config: &NetworkConfig, developer_mode: bool) -> crate::Result<Network> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        for (i, der) in config.root_certificates.iter().enumerate() {
            roots
                .add(rustls_pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| crate::Error::NetworkConfig {
                    message: format!("root certificate {} cannot be used: {e}", i + 1),
                    source: Some(e.into()),
                })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| crate::Error::NetworkConfig {
                message: format!("TLS: {e}"),
                source: Some(e.into()),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Network {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
            resolve: config
                .resolve
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), *v))
                .collect(),
            allow_private: config.allow_private_destinations,
            developer_mode,
        })
    }
}

/// Why the host does not connect to a name.
#[derive(Debug)]
pub(crate) enum Unreachable {
    /// The name resolves only to addresses the host does not connect
    /// mini-apps to (loopback, private, link-local); audited as a denial.
    Refused(String),
    /// The name could not be resolved.
    Dns(String),
}

impl Network {
    /// Where to connect for `host:port`, with the address rules applied.
    pub(crate) async fn destinations(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, Unreachable> {
        if let Some(address) = self.resolve.get(&format!("{host}:{port}")) {
            return Ok(vec![*address]);
        }
        let loopback_origin = is_loopback_host(host);
        let found: Vec<SocketAddr> = if loopback_origin && parse_ip(host).is_none() {
            // RFC 6761: `localhost` and names under it are loopback, never
            // asked of DNS.
            vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)]
        } else if let Some(ip) = parse_ip(host) {
            vec![SocketAddr::new(ip, port)]
        } else {
            tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| Unreachable::Dns(e.to_string()))?
                .collect()
        };
        if self.allow_private || (self.developer_mode && loopback_origin) {
            return Ok(found);
        }
        let (public, private): (Vec<SocketAddr>, Vec<SocketAddr>) =
            found.into_iter().partition(|a| is_public(a.ip()));
        if public.is_empty()
            && let Some(first) = private.first()
        {
            return Err(Unreachable::Refused(format!(
                "`{host}` resolves to {}, a loopback, private or link-local address: the host does not connect mini-apps there",
                first.ip()
            )));
        }
        Ok(public)
    }

    /// The TLS connector (the public web roots and the embedding app's).
    pub(crate) fn tls(&self) -> &tokio_rustls::TlsConnector {
        &self.tls
    }
}

/// Whether an address is on the public internet (not loopback, private,
/// link-local, shared, unspecified, broadcast, multicast or documentation).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "203.0.114.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn root_certificates_must_be_pem() {
        let mut c = NetworkConfig::default();
        assert!(c.add_root_certificates_pem(b"not a certificate").is_err());
    }
}
