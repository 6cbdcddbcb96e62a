//! The host's side of mini-apps' network: how the embedding app lets
//! requests out (root certificates, name overrides, private destinations),
//! the TLS connector, and the address rules that decide where a name may
//! lead. Shared by every session; the per-request decisions and limits are
//! the network capability's (`capabilities/network.rs`).

use crate::manifest::{is_loopback_host, parse_ip};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

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
    /// Answers mini-apps' requests to the origins it claims in place of the
    /// network: a test's stand-in for an agency's back-end (the scenario
    /// runner's HTTP stubs). Only requests the gate allowed reach it, so it
    /// never widens what a manifest allows; nothing connects for them.
    pub interceptor: Option<Arc<dyn Interceptor>>,
}

/// Answers mini-apps' requests to some origins in place of the network
/// ([`NetworkConfig::interceptor`]). The host asks it after the gate and the
/// session's limits allowed a request, reads the request's body (within the
/// session's cap), and gives the guest its answer as a response from the
/// origin (within the response cap).
pub trait Interceptor: Send + Sync {
    /// Whether requests to `scheme://host:port` (host in lower case, an
    /// IPv6 address in brackets) are answered here instead of sent.
    fn intercepts(&self, scheme: &str, host: &str, port: u16) -> bool;

    /// The answer to one request to an origin it intercepts.
    fn answer(&self, request: InterceptedRequest) -> InterceptedResponse;
}

/// A mini-app's request, as an [`Interceptor`] gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterceptedRequest {
    /// The mini-app that sent it.
    pub app: String,
    /// The method, such as `GET`.
    pub method: String,
    /// `https` or `http`.
    pub scheme: String,
    /// The host, in lower case.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The path and the query, such as `/violations?plate=ZB66871`.
    pub path_and_query: String,
    /// The headers, as sent (the host's identity header included).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl InterceptedRequest {
    /// The request's URL: `scheme://host[:port]/path?query`, the port
    /// left out when it is the scheme's default.
    pub fn url(&self) -> String {
        let default = match self.scheme.as_str() {
            "http" => 80,
            _ => 443,
        };
        if self.port == default {
            format!("{}://{}{}", self.scheme, self.host, self.path_and_query)
        } else {
            format!(
                "{}://{}:{}{}",
                self.scheme, self.host, self.port, self.path_and_query
            )
        }
    }
}

/// An [`Interceptor`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterceptedResponse {
    /// The status, such as 200.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
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
            .field("interceptor", &self.interceptor.is_some())
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
    /// Answers requests to the origins it claims instead of the network.
    pub(crate) interceptor: Option<Arc<dyn Interceptor>>,
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
            interceptor: config.interceptor.clone(),
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
            // The denial does not say which address: the mini-app must not
            // learn the host's internal addressing from it.
            tracing::debug!(host, address = %first.ip(), "refused a private destination");
            return Err(Unreachable::Refused(format!(
                "`{host}` resolves only to addresses the host does not connect mini-apps to (loopback, private, link-local or reserved): use a name that leads to a public address"
            )));
        }
        Ok(public)
    }

    /// Connects to `host:port` (host in lower case, an IPv6 address in
    /// brackets) where the address rules let it ([`Network::destinations`]),
    /// trying each address in turn; over TLS, with the host's roots, for
    /// `https`. The one way out for mini-apps' requests and the host's
    /// payment notifications alike.
    pub(crate) async fn connect(
        &self,
        scheme: &str,
        host: &str,
        port: u16,
    ) -> Result<Box<dyn Io>, ConnectError> {
        let addresses = self
            .destinations(host, port)
            .await
            .map_err(ConnectError::Unreachable)?;
        let mut last = None;
        let mut stream = None;
        for address in addresses {
            match tokio::net::TcpStream::connect(address).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some(tcp) = stream else {
            return Err(ConnectError::Connect(last.unwrap_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
            })));
        };
        if scheme != "https" {
            return Ok(Box::new(tcp));
        }
        let name = match parse_ip(host) {
            Some(ip) => rustls_pki_types::ServerName::IpAddress(ip.into()),
            None => rustls_pki_types::ServerName::try_from(host.to_string())
                .map_err(ConnectError::Name)?,
        };
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(ConnectError::Tls)?;
        Ok(Box::new(tls))
    }
}

/// A connection to a server: TCP, or TLS over it.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// Why [`Network::connect`] made no connection.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The address rules refused the name, or it did not resolve.
    Unreachable(Unreachable),
    /// No address answered.
    Connect(std::io::Error),
    /// The host is not a name TLS can check a certificate against.
    Name(rustls_pki_types::InvalidDnsNameError),
    /// The TLS handshake failed (an untrusted certificate, say).
    Tls(std::io::Error),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Unreachable(Unreachable::Refused(why)) => f.write_str(why),
            ConnectError::Unreachable(Unreachable::Dns(e)) => {
                write!(f, "the name does not resolve: {e}")
            }
            ConnectError::Connect(e) => write!(f, "cannot connect: {e}"),
            ConnectError::Name(e) => write!(f, "not a name TLS can check: {e}"),
            ConnectError::Tls(e) => write!(f, "TLS: {e}"),
        }
    }
}

/// Whether an address is one the host connects mini-apps to: globally
/// reachable unicast. Everything the IANA IPv4 and IPv6 Special-Purpose
/// Address Registries mark as not globally reachable is refused (loopback,
/// private, shared, link-local, documentation, benchmarking, reserved,
/// discard, ORCHID and the IETF protocol block), as are multicast,
/// broadcast, unspecified, the deprecated site-local `fec0::/10`, and any
/// IPv6 address that carries an IPv4 one (mapped, IPv4-compatible, NAT64
/// `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`), whose IPv4 part
/// could lead anywhere.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(ip: std::net::Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(ip) & mask) == (u32::from(std::net::Ipv4Addr::from(net)) & mask)
}

fn is_public_v4(v4: std::net::Ipv4Addr) -> bool {
    // The IANA IPv4 Special-Purpose Address Registry's blocks that are not
    // globally reachable, multicast (224/4) and the rest of 240/4.
    const NOT_PUBLIC: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network"
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // shared address space (carrier-grade NAT)
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
        ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
        ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, and the limited broadcast
    ];
    !NOT_PUBLIC.iter().any(|(net, bits)| in_v4(v4, *net, *bits))
}

fn is_public_v6(v6: std::net::Ipv6Addr) -> bool {
    let bits = u128::from(v6);
    let in_v6 = |prefix: u128, len: u32| {
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        bits & mask == prefix & mask
    };
    // Addresses that carry an IPv4 address: only as public as that one,
    // and for NAT64 and 6to4 not even then (the translator or relay may be
    // inside the host's network).
    if let Some(v4) = v6.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if in_v6(0, 96) {
        return false; // ::/128, ::1 and the deprecated IPv4-compatible ::a.b.c.d
    }
    const NOT_PUBLIC: &[(u128, u32)] = &[
        (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96), // NAT64 well-known prefix
        (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // NAT64 local use
        (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // discard-only
        (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // IETF protocol assignments (Teredo, ORCHID, ...)
        (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // documentation
        (0x2002_0000_0000_0000_0000_0000_0000_0000, 16), // 6to4
        (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // documentation
        (0x5f00_0000_0000_0000_0000_0000_0000_0000, 16), // segment routing (SRv6) SIDs
        (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // unique local
        (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // link-local
        (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // site-local (deprecated)
        (0xff00_0000_0000_0000_0000_0000_0000_0000, 8),  // multicast
    ];
    !NOT_PUBLIC.iter().any(|(prefix, len)| in_v6(*prefix, *len))
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
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::",
            "2002:808:808::",
            "2001:db8::1",
            "2001::1",
            "3fff::1",
            "100::1",
            "5f00::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "203.0.114.1",
            "198.20.0.1",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "2606:4700::1111",
            "2400:3200::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn root_certificates_must_be_pem() {
        let mut c = NetworkConfig::default();
        assert!(c.add_root_certificates_pem(b"not a certificate").is_err());
    }
}
