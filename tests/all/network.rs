//! Network: outbound HTTP through `wasi:http`, only to the origins the
//! manifest lists, within the session's limits, with the host's identity
//! header (capabilities::network). Every server here runs on loopback and
//! counts the connections it accepts, so "refused without a connection"
//! means the server saw none.

use crate::support::*;
use plaza_host::HostConfig;
use plaza_host::capabilities::network::IDENTITY_HEADER;
use plaza_host::sandbox::SandboxLimits;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_test_programs::HTTP_PROBE;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const APP: &str = "test.plaza.http-probe";
const PLACEHOLDER: &str = "\"http://localhost:1\"";

/// How a test server answers.
#[derive(Clone)]
enum Answer {
    /// 200 with the request's head (request line and headers) as the body.
    Echo,
    /// The same, after a pause.
    EchoAfter(Duration),
    /// 302 to this location.
    Redirect(String),
    /// Reads the request and never answers.
    Silent,
    /// 200 with this many bytes of body, no length declared.
    Big(usize),
}

/// A server on loopback that counts the connections it accepts.
struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    fn start(answer: Answer) -> Server {
        Server::start_with(answer, None)
    }

    fn start_tls(answer: Answer) -> Server {
        Server::start_with(answer, Some(crate::support::test_tls_acceptor()))
    }

    fn start_with(answer: Answer, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (c, h) = (connections.clone(), heads.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        c.fetch_add(1, Ordering::SeqCst);
                        let (answer, heads, tls) = (answer.clone(), h.clone(), tls.clone());
                        tokio::spawn(async move {
                            match tls {
                                Some(acceptor) => {
                                    if let Ok(s) = acceptor.accept(stream).await {
                                        serve(s, answer, heads).await;
                                    }
                                }
                                None => serve(stream, answer, heads).await,
                            }
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Server {
            addr,
            connections,
            heads,
            _stop: stop,
        }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    answer: Answer,
    heads: Arc<Mutex<Vec<String>>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < length {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => have += n,
        }
    }
    heads.lock().unwrap().push(head.clone());
    let ok = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    match answer {
        Answer::Echo => {
            let _ = s.write_all(ok(&head).as_bytes()).await;
        }
        Answer::EchoAfter(pause) => {
            tokio::time::sleep(pause).await;
            let _ = s.write_all(ok(&head).as_bytes()).await;
        }
        Answer::Redirect(location) => {
            let _ = s
                .write_all(
                    format!(
                        "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                )
                .await;
        }
        Answer::Silent => {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Answer::Big(n) => {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
                .await;
            let block = vec![b'y'; 64 * 1024];
            let mut left = n;
            while left > 0 {
                let k = left.min(block.len());
                if s.write_all(&block[..k]).await.is_err() {
                    return;
                }
                left -= k;
            }
        }
    }
    let _ = s.shutdown().await;
}

/// The probe's manifest, declaring these origins.
fn manifest(origins: &[String]) -> String {
    let list: Vec<String> = origins.iter().map(|o| format!("{o:?}")).collect();
    manifest_replacing(&HTTP_PROBE, PLACEHOLDER, &list.join(", "))
}

/// A developer-mode host with the probe allowed `origins`.
async fn probe_host(origins: &[String], limits: impl FnOnce(&mut SandboxLimits)) -> TestHost {
    let t = host_with(|mut c| {
        limits(&mut c.limits);
        c
    });
    t.host
        .install(package_with_manifest(&HTTP_PROBE, &manifest(origins)))
        .await
        .expect("install the probe");
    t
}

/// A production-mode host (signed packages only) with the probe allowed
/// `origins`, its network configured by `network`.
async fn production_host(origins: &[String], network: impl FnOnce(&mut HostConfig)) -> TestHost {
    let t = host_with(|mut c| {
        c.developer_mode = false;
        network(&mut c);
        c
    });
    let key = register_publisher(&t, &HTTP_PROBE, false);
    t.host
        .install(signed_package(&HTTP_PROBE, &manifest(origins), &key))
        .await
        .expect("install the signed probe");
    t
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Launches the probe with `query` (`url` and the rest, unencoded); returns
/// the page's fields by label.
async fn probe(t: &TestHost, user: &str, query: &[(&str, &str)]) -> plaza_host::Page {
    let q: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let s = t.host.session(user, APP).unwrap();
    s.launch(&format!("/?{}", q.join("&"))).await.unwrap()
}

fn outcome(page: &plaza_host::Page, i: usize) -> String {
    field(page, &format!("request {i}"))
        .unwrap_or_else(|| panic!("no request {i} on the page:\n{}", text(page)))
}

fn network_audit(t: &TestHost) -> Vec<(Outcome, String)> {
    t.host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "network")
        .map(|e| (e.outcome, e.detail))
        .collect()
}

#[tokio::test]
async fn an_allowed_origin_works_and_carries_the_hosts_identity_header() {
    let server = Server::start(Answer::Echo);
    let origin = format!("http://localhost:{}", server.port());
    let t = probe_host(std::slice::from_ref(&origin), |_| {}).await;
    let page = probe(
        &t,
        "alice",
        &[("url", &format!("{origin}/records?plate=ZB1"))],
    )
    .await;
    assert!(outcome(&page, 1).starts_with("ok 200"), "{}", text(&page));
    let echoed = field(&page, "body 1").unwrap();
    assert!(
        echoed.starts_with("GET /records?plate=ZB1 HTTP/1.1"),
        "{echoed}"
    );
    assert!(
        echoed.contains(&format!("{IDENTITY_HEADER}: {APP}/0.1.0")),
        "{echoed}"
    );
    // Nothing of the user's: no cookie, no authorization.
    let lower = echoed.to_ascii_lowercase();
    assert!(
        !lower.contains("cookie") && !lower.contains("authorization"),
        "{echoed}"
    );
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn the_identity_header_cannot_be_set_or_overridden() {
    let server = Server::start(Answer::Echo);
    let origin = format!("http://localhost:{}", server.port());
    let t = probe_host(std::slice::from_ref(&origin), |_| {}).await;
    for forged in [
        "plaza-mini-app: cn.gov.hz.city/9.9.9",
        "Plaza-Mini-App: cn.gov.hz.city/9.9.9",
    ] {
        let page = probe(&t, "alice", &[("url", &origin), ("header", forged)]).await;
        let o = outcome(&page, 1);
        assert!(
            o.starts_with("denied: the header") && o.contains("is the host's"),
            "{o}"
        );
    }
    // Refused when the guest set it: nothing was sent.
    assert_eq!(server.connections(), 0);
    // Other headers of the mini-app's own go through, beside the host's.
    let page = probe(
        &t,
        "alice",
        &[
            ("url", &origin),
            ("header", "authorization: Bearer app-own-token"),
        ],
    )
    .await;
    let echoed = field(&page, "body 1").unwrap();
    assert!(
        echoed.contains("authorization: Bearer app-own-token"),
        "{echoed}"
    );
    assert_eq!(
        echoed.matches(IDENTITY_HEADER).count(),
        1,
        "one identity header: {echoed}"
    );
    assert!(echoed.contains(&format!("{IDENTITY_HEADER}: {APP}/0.1.0")));
    assert!(!echoed.contains("9.9.9"));
}

#[tokio::test]
async fn a_request_refused_in_a_loop_is_audited_once_per_event() {
    let server = Server::start(Answer::Echo);
    let t = probe_host(&[format!("http://localhost:{}", server.port())], |_| {}).await;
    // The same server by its IP address, eight times in one event.
    let url = format!("http://127.0.0.1:{}/", server.port());
    let page = probe(&t, "alice", &[("url", &url), ("n", "8")]).await;
    for i in 1..=8 {
        let o = outcome(&page, i);
        assert!(o.starts_with("denied: "), "request {i}: {o}");
    }
    assert_eq!(server.connections(), 0);
    assert_eq!(network_audit(&t).len(), 1, "{:?}", network_audit(&t));
    // The next event's refusal is written again, once.
    probe(&t, "alice", &[("url", &url), ("n", "8")]).await;
    assert_eq!(network_audit(&t).len(), 2);
}

#[tokio::test]
async fn other_hosts_ports_and_ip_addresses_are_refused_without_a_connection() {
    let allowed = Server::start(Answer::Echo);
    let other_port = Server::start(Answer::Echo);
    let origin = format!("http://localhost:{}", allowed.port());
    let t = probe_host(std::slice::from_ref(&origin), |_| {}).await;
    for url in [
        // A different host that is loopback too: the refusal, not DNS.
        format!("http://agency.localhost:{}/", allowed.port()),
        // The same server by its IP address.
        format!("http://127.0.0.1:{}/", allowed.port()),
        // A different port on the same host.
        format!("http://localhost:{}/", other_port.port()),
        // https to the http origin.
        format!("https://localhost:{}/", allowed.port()),
    ] {
        let page = probe(&t, "alice", &[("url", &url)]).await;
        let o = outcome(&page, 1);
        let shown = url.trim_end_matches('/');
        assert!(o.starts_with("denied: "), "{url}: {o}");
        assert!(
            o.contains(&format!("`{shown}`")),
            "the denial names the origin: {o}"
        );
        assert!(o.contains("not one the manifest declares"), "{url}: {o}");
        assert!(
            o.contains(&origin),
            "the denial lists the declared origins: {o}"
        );
    }
    assert_eq!(
        allowed.connections(),
        0,
        "the allowed server saw a connection"
    );
    assert_eq!(
        other_port.connections(),
        0,
        "the other port saw a connection"
    );
    // Each decision is in the audit log with its origin, never the path.
    let audit = network_audit(&t);
    assert_eq!(audit.len(), 4, "{audit:?}");
    assert!(audit.iter().all(|(o, _)| *o == Outcome::Denied));
    assert!(audit[0].1.starts_with(&format!(
        "GET http://agency.localhost:{}: the origin",
        allowed.port()
    )));
    assert!(
        audit[1]
            .1
            .contains(&format!("http://127.0.0.1:{}", allowed.port()))
    );
    assert!(
        audit[2]
            .1
            .contains(&format!("http://localhost:{}", other_port.port()))
    );
}

#[tokio::test]
async fn plain_http_and_ip_addresses_are_refused_in_production_mode() {
    let server = Server::start(Answer::Echo);
    let origins = vec![
        format!("http://localhost:{}", server.port()),
        format!("https://127.0.0.1:{}", server.port()),
    ];
    let t = production_host(&origins, |_| {}).await;
    let page = probe(&t, "alice", &[("url", &origins[0])]).await;
    let o = outcome(&page, 1);
    assert!(
        o.starts_with("denied: ") && o.contains("plain HTTP is allowed only in developer mode"),
        "{o}"
    );
    let page = probe(&t, "alice", &[("url", &origins[1])]).await;
    let o = outcome(&page, 1);
    assert!(
        o.starts_with("denied: ") && o.contains("an IP address is allowed only in developer mode"),
        "{o}"
    );
    assert_eq!(server.connections(), 0);
    let audit = network_audit(&t);
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit.iter().all(|(o, _)| *o == Outcome::Denied));

    // The same package in developer mode reaches the server.
    let dev = probe_host(&origins, |_| {}).await;
    let page = probe(&dev, "alice", &[("url", &origins[0])]).await;
    assert!(outcome(&page, 1).starts_with("ok 200"), "{}", text(&page));
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn https_to_an_allowed_origin_works_in_production_mode_with_the_apps_root_certificate() {
    let server = Server::start_tls(Answer::Echo);
    let origin = format!("https://localhost:{}", server.port());
    let ca = include_bytes!("tls/ca.pem");
    let t = production_host(std::slice::from_ref(&origin), |c| {
        c.network.add_root_certificates_pem(ca).unwrap();
        c.network.allow_private_destinations = true;
    })
    .await;
    let page = probe(&t, "alice", &[("url", &format!("{origin}/bills"))]).await;
    assert!(outcome(&page, 1).starts_with("ok 200"), "{}", text(&page));
    assert!(
        field(&page, "body 1")
            .unwrap()
            .starts_with("GET /bills HTTP/1.1")
    );
    assert_eq!(server.connections(), 1);

    // Without the test CA the certificate is not trusted.
    let untrusted = production_host(std::slice::from_ref(&origin), |c| {
        c.network.allow_private_destinations = true;
    })
    .await;
    let page = probe(&untrusted, "alice", &[("url", &origin)]).await;
    let o = outcome(&page, 1);
    assert_eq!(o, "unavailable: ErrorCode::TlsCertificateError");
    assert_eq!(
        server.heads().len(),
        1,
        "no request went over the untrusted connection"
    );

    // Without leave to reach private addresses, a name that leads to
    // loopback is refused before connecting.
    let before = server.connections();
    let guarded = production_host(std::slice::from_ref(&origin), |c| {
        c.network.add_root_certificates_pem(ca).unwrap();
    })
    .await;
    let page = probe(&guarded, "alice", &[("url", &origin)]).await;
    let o = outcome(&page, 1);
    assert!(
        o.starts_with("denied: `localhost` resolves only to addresses the host does not connect"),
        "{o}"
    );
    assert!(
        !o.contains("127.0.0.1"),
        "the internal address is not named: {o}"
    );
    assert_eq!(server.connections(), before);
}

#[tokio::test]
async fn a_redirect_to_a_foreign_origin_is_refused() {
    let foreign = Server::start(Answer::Echo);
    let redirecting = Server::start(Answer::Redirect(format!(
        "http://localhost:{}/steal",
        foreign.port()
    )));
    let origin = format!("http://localhost:{}", redirecting.port());
    let t = probe_host(std::slice::from_ref(&origin), |_| {}).await;
    let page = probe(&t, "alice", &[("url", &origin), ("follow", "3")]).await;
    assert_eq!(
        field(&page, "hop 1").unwrap(),
        format!("302 http://localhost:{}/steal", foreign.port())
    );
    let o = outcome(&page, 1);
    assert!(o.starts_with("denied: the origin"), "{o}");
    assert!(
        o.contains(&format!("http://localhost:{}", foreign.port())),
        "{o}"
    );
    assert_eq!(redirecting.connections(), 1);
    assert_eq!(
        foreign.connections(),
        0,
        "the redirect reached a foreign origin"
    );
    let audit = network_audit(&t);
    assert_eq!(
        audit.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
        vec![Outcome::Allowed, Outcome::Denied]
    );
}

#[tokio::test]
async fn a_slow_server_hits_the_timeout() {
    let server = Server::start(Answer::Silent);
    let origin = format!("http://localhost:{}", server.port());
    let t = probe_host(std::slice::from_ref(&origin), |l| {
        l.http_timeout = Duration::from_millis(300)
    })
    .await;
    let started = std::time::Instant::now();
    let page = probe(&t, "alice", &[("url", &origin)]).await;
    let o = outcome(&page, 1);
    assert!(
        o.starts_with("limit-exceeded: no complete answer within 300 ms"),
        "{o}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(server.connections(), 1);
    let audit = network_audit(&t);
    assert_eq!(audit.last().unwrap().0, Outcome::Denied);
    assert!(
        audit.last().unwrap().1.contains("limit-exceeded"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn an_oversized_response_is_cut_off() {
    let server = Server::start(Answer::Big(3 * 1024 * 1024));
    let origin = format!("http://localhost:{}", server.port());
    let t = probe_host(std::slice::from_ref(&origin), |l| {
        l.http_response_bytes = 1024 * 1024
    })
    .await;
    let page = probe(&t, "alice", &[("url", &origin)]).await;
    let o = outcome(&page, 1);
    assert!(
        o.starts_with("limit-exceeded: the response body is longer than 1048576 bytes"),
        "{o}"
    );
    // An oversized request body is refused before it is sent.
    let page = probe(
        &t,
        "alice",
        &[("url", &origin), ("method", "POST"), ("body", "2000000")],
    )
    .await;
    let o = outcome(&page, 1);
    assert!(
        o.starts_with("limit-exceeded: the request body is 2000000 bytes"),
        "{o}"
    );
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn the_eleventh_request_in_flight_fails_at_once() {
    let server = Server::start(Answer::EchoAfter(Duration::from_millis(400)));
    let origin = format!("http://localhost:{}", server.port());
    let t = probe_host(std::slice::from_ref(&origin), |_| {}).await;
    let page = probe(&t, "alice", &[("url", &origin), ("n", "11")]).await;
    for i in 1..=10 {
        assert!(outcome(&page, i).starts_with("ok 200"), "{}", text(&page));
    }
    let o = outcome(&page, 11);
    assert!(
        o.starts_with("limit-exceeded: 10 requests are in flight already"),
        "{o}"
    );
    assert_eq!(server.connections(), 10);
    // Another session has its own ten.
    let page = probe(&t, "bob", &[("url", &origin), ("n", "10")]).await;
    assert!(outcome(&page, 10).starts_with("ok 200"), "{}", text(&page));
    // Once they are done, the session sends again.
    let page = probe(&t, "alice", &[("url", &origin)]).await;
    assert!(outcome(&page, 1).starts_with("ok 200"), "{}", text(&page));
}

#[tokio::test]
async fn an_install_that_imports_http_without_declaring_an_origin_is_refused() {
    let t = host();
    let without = manifest_replacing(
        &HTTP_PROBE,
        &format!("[capabilities.network]\norigins = [{PLACEHOLDER}]"),
        "",
    );
    let e = t
        .host
        .install(package_with_manifest(&HTTP_PROBE, &without))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("imports wasi:http/") && e.contains("[capabilities.network]"),
        "{e}"
    );
    for (origins, why) in [
        ("", "must list at least one origin"),
        (
            "\"http://api.hz.gov.cn\"",
            "plain HTTP is allowed only for loopback",
        ),
        (
            "\"https://10.0.0.1\"",
            "IP addresses are allowed only for loopback",
        ),
        ("\"https://*.cn\"", "whole top-level domain"),
        ("\"ftp://files.hz.gov.cn\"", "use https"),
        ("\"https://api.hz.gov.cn/v1\"", "no path"),
    ] {
        let m = manifest_replacing(&HTTP_PROBE, PLACEHOLDER, origins);
        let e = plaza_host::package::Package::new(&m, HTTP_PROBE.component_bytes())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains(why), "{origins}: {e}");
    }
    assert!(t.host.installed().unwrap().is_empty());
}

#[tokio::test]
async fn a_wildcard_origin_allows_subdomains_only() {
    let server = Server::start(Answer::Echo);
    let t = probe_host(&[format!("http://*.localhost:{}", server.port())], |_| {}).await;
    let page = probe(
        &t,
        "alice",
        &[(
            "url",
            &format!("http://fines.agency.localhost:{}/", server.port()),
        )],
    )
    .await;
    assert!(outcome(&page, 1).starts_with("ok 200"), "{}", text(&page));
    let page = probe(
        &t,
        "alice",
        &[("url", &format!("http://localhost:{}/", server.port()))],
    )
    .await;
    assert!(outcome(&page, 1).starts_with("denied: "), "{}", text(&page));
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn a_server_that_is_down_is_unavailable_not_a_crash() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let origin = format!("http://localhost:{port}");
    let t = probe_host(std::slice::from_ref(&origin), |_| {}).await;
    let page = probe(&t, "alice", &[("url", &origin)]).await;
    assert!(
        outcome(&page, 1).starts_with("unavailable: "),
        "{}",
        text(&page)
    );
}

/// The leaker's session (its launch page offers `leak-fields:...`) and the
/// outcome of tapping `action` `times` times: the held counts of the events
/// that answered, and how the session ended, if it did.
async fn leak(
    t: &TestHost,
    action: &str,
    times: usize,
    bystander: &plaza_host::Session,
    origin: &str,
) -> (Vec<usize>, Option<plaza_host::Error>) {
    let s = t.host.session("mallory", APP).unwrap();
    let n = action.trim_start_matches("leak-fields:");
    s.launch(&format!("/?leak={}", enc(n))).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..times {
        let result = s.tap(action).await;
        // The bystander's session keeps answering, from the same instance.
        let before = bystander.instance_id().await;
        let page = bystander
            .launch(&format!("/?url={}", enc(&format!("{origin}/ok"))))
            .await
            .expect("the bystander's session answers");
        assert!(outcome(&page, 1).starts_with("ok 200"), "{}", text(&page));
        assert_eq!(bystander.instance_id().await, before, "same instance");
        match result {
            Ok(page) => held.push(field(&page, "fields held").unwrap().parse().unwrap()),
            Err(e) => return (held, Some(e)),
        }
    }
    (held, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_leaker_ends_at_the_resource_cap_while_a_bystander_answers() {
    let server = Server::start(Answer::Echo);
    let origin = format!("http://localhost:{}", server.port());
    let t = probe_host(std::slice::from_ref(&origin), |_| {}).await;
    let cap = SandboxLimits::default().max_resources;
    let bea = t.host.session("bea", APP).unwrap();
    bea.launch(&format!("/?url={}", enc(&format!("{origin}/ok"))))
        .await
        .unwrap();
    // 500 fields of 15,000 bytes an event, kept: without the cap, 3,000
    // fields (45 MB of host memory) after six events.
    let (held, ended) = leak(&t, "leak-fields:500", 6, &bea, &origin).await;
    assert_eq!(held, [500, 1000, 1500, 2000], "{ended:?}");
    match ended {
        Some(plaza_host::Error::SessionEnded { fault, .. }) => {
            assert_eq!(fault, plaza_host::GuestFault::ResourceLimit { limit: cap })
        }
        other => panic!("expected the leaker's session to end at the cap, got {other:?}"),
    }
    let ended: Vec<_> = t
        .host
        .audit(&AuditQuery {
            app: Some(APP.into()),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "session.ended")
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].user, "mallory");
    assert!(
        ended[0]
            .detail
            .contains(&format!("more than {cap} host resources")),
        "{}",
        ended[0].detail
    );
    // The next event starts afresh.
    let s = t.host.session("mallory", APP).unwrap();
    let page = s.launch("/?leak=1").await.unwrap();
    assert_eq!(field(&page, "fields held").as_deref(), Some("0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_fields_over_their_cap_end_the_session_while_a_bystander_answers() {
    let server = Server::start(Answer::Echo);
    let origin = format!("http://localhost:{}", server.port());
    let t = probe_host(std::slice::from_ref(&origin), |_| {}).await;
    let cap = SandboxLimits::default().http_fields_bytes;
    let bea = t.host.session("bea", APP).unwrap();
    bea.launch(&format!("/?url={}", enc(&format!("{origin}/ok"))))
        .await
        .unwrap();
    // One header of 100,000 bytes: Wasmtime's own cap is 128 KiB a set.
    let (held, ended) = leak(&t, "leak-fields:1:100000", 1, &bea, &origin).await;
    assert!(held.is_empty());
    match ended {
        Some(plaza_host::Error::SessionEnded { fault, .. }) => assert_eq!(
            fault,
            plaza_host::GuestFault::HttpFieldsLimit { limit_bytes: cap }
        ),
        other => panic!("expected the session to end at the fields cap, got {other:?}"),
    }
}

#[tokio::test]
async fn an_origin_named_by_a_setting_is_the_only_one_it_adds_read_when_a_session_starts() {
    let (a, b) = (Server::start(Answer::Echo), Server::start(Answer::Echo));
    let (origin_a, origin_b) = (
        format!("http://localhost:{}", a.port()),
        format!("http://localhost:{}", b.port()),
    );
    let manifest = format!(
        "{}\n[[settings]]\nname = \"records\"\n",
        manifest_replacing(&HTTP_PROBE, PLACEHOLDER, "\"${records}\"")
    );
    let t = host();
    t.host
        .install(package_with_manifest(&HTTP_PROBE, &manifest))
        .await
        .expect("install the probe");
    // Not set: the setting adds no origin.
    let page = probe(&t, "alice", &[("url", &origin_a)]).await;
    assert!(outcome(&page, 1).starts_with("denied:"), "{}", text(&page));
    // A value that is not an origin is refused when it is set.
    let e = t
        .host
        .set_setting(APP, "records", "localhost:1/path", false)
        .unwrap_err();
    assert!(matches!(e, plaza_host::Error::InvalidSetting { .. }), "{e}");
    // Set to A: A, and nothing else, from the next session.
    t.host
        .set_setting(APP, "records", &origin_a, false)
        .unwrap();
    let s = t.host.session("alice", APP).unwrap();
    s.close().await;
    let page = probe(&t, "alice", &[("url", &format!("{origin_a}/ok"))]).await;
    assert!(outcome(&page, 1).starts_with("ok 200"), "{}", text(&page));
    let page = probe(&t, "alice", &[("url", &origin_b)]).await;
    assert!(outcome(&page, 1).starts_with("denied:"), "{}", text(&page));
    assert_eq!(b.connections(), 0);
    // Moved to B: the next session may call B, and A no more.
    t.host
        .set_setting(APP, "records", &origin_b, false)
        .unwrap();
    t.host.session("alice", APP).unwrap().close().await;
    let page = probe(&t, "alice", &[("url", &origin_b)]).await;
    assert!(outcome(&page, 1).starts_with("ok 200"), "{}", text(&page));
    let connections_a = a.connections();
    let page = probe(&t, "alice", &[("url", &origin_a)]).await;
    assert!(outcome(&page, 1).starts_with("denied:"), "{}", text(&page));
    assert_eq!(a.connections(), connections_a);
    // A changed origin forgets users' consent decisions: audited.
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "consent.reset" && e.detail.contains("`records`")),
        "{audit:?}"
    );
}
