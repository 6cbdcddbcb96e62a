//! Payment notifications: when a payment or refund commits, the host POSTs
//! a signed notification to the notify URL the mini-app's manifest
//! declares, retried with backoff until the back-end answers 2xx, kept in
//! the store's outbox so a restart loses none. The back-end here is a real
//! HTTPS server on loopback (the test CA's certificate for `localhost`) that
//! records every request and answers as scripted.

use crate::support::*;
use plaza_host::notify::{
    NOTIFICATION_ID_HEADER, NotificationBody, NotificationKind, SIGNATURE_HEADER,
    verify_notification,
};
use plaza_host::prompt::{PaymentAnswer, ScriptedPayment};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Error, HostConfig, NotifySettings};
use plaza_test_programs::FUZZ_CALLER;
use plaza_test_programs::fuzz_script::Call;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const APP: &str = "test.plaza.fuzz-caller";
const PATH: &str = "/plaza/notify?from=plaza";

/// A request the back-end received.
#[derive(Debug, Clone)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A mini-app's back-end on loopback over HTTPS: answers each request with
/// the next scripted status (200 once the script is used up) and records it.
struct Backend {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Backend {
    /// Serves on `127.0.0.1:port` (0: any free port).
    fn start(port: u16, statuses: &[u16]) -> Backend {
        let acceptor = crate::support::test_tls_acceptor();
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(
            statuses.iter().copied().collect::<VecDeque<_>>(),
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let seen = received.clone();
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
                        let (acceptor, seen, script) =
                            (acceptor.clone(), seen.clone(), script.clone());
                        tokio::spawn(async move {
                            if let Ok(s) = acceptor.accept(stream).await {
                                answer(s, seen, script).await;
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
        Backend {
            addr,
            received,
            _stop: stop,
        }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    seen: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
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
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let status = script.lock().unwrap().pop_front().unwrap_or(200);
    seen.lock().unwrap().push(Received {
        request_line,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    });
    let reply =
        format!("HTTP/1.1 {status} Scripted\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    let _ = s.write_all(reply.as_bytes()).await;
    let _ = s.shutdown().await;
}

/// A free port on loopback, nobody listening on it (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The test hosts' configuration, trusting the test CA, with a quick
/// background delivery.
fn notifying(c: HostConfig) -> HostConfig {
    let mut c = c.notify(
        NotifySettings::default()
            .backoff_base(Duration::from_secs(15))
            .backoff_max(Duration::from_secs(60))
            .interval(Duration::from_millis(20))
            .batch(4)
            .timeout(Duration::from_secs(5)),
    );
    c.network
        .add_root_certificates_pem(include_bytes!("tls/ca.pem"))
        .unwrap();
    c
}

/// The fuzz-caller with a notify URL on `port` of localhost, and that
/// origin declared (or, with `declared` false, another port's).
fn manifest_notifying(port: u16, declared: bool) -> String {
    let origin_port = if declared { port } else { port.wrapping_add(1) };
    manifest_replacing(
        &FUZZ_CALLER,
        "[capabilities.payment]\n",
        &format!(
            "[capabilities.payment]\nnotify = \"https://localhost:{port}{PATH}\"\n\n[capabilities.network]\norigins = [\"https://localhost:{origin_port}\"]\n"
        ),
    )
}

/// A host with the fuzz-caller installed notifying `port`; ann has money.
async fn shop(port: u16) -> (TestHost, String) {
    let t = host_with(notifying);
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    let secret = t
        .host
        .install(package_with_manifest(
            &FUZZ_CALLER,
            &manifest_notifying(port, true),
        ))
        .await
        .unwrap()
        .app_secret
        .unwrap();
    t.host.top_up("ann", 100_000, "CNY").unwrap();
    (t, secret)
}

/// Ann pays `order` in a session; her openid in the mini-app.
async fn pay(t: &TestHost, order: &str, amount: u64) -> String {
    let s = t.host.session("ann", APP).unwrap();
    let page = run_calls(&s, &[fuzz_pay(order, amount), Call::Openid]).await;
    assert!(
        fuzz_result(&page, 1, "pay").starts_with("paid "),
        "{}",
        text(&page)
    );
    let openid = fuzz_result(&page, 2, "openid");
    s.close().await;
    openid.strip_prefix("ok ").unwrap_or(&openid).to_string()
}

/// Checks a received notification: the POST to the notify path, its id
/// header, the host's signature over the id and the body; its body.
fn checked(t: &TestHost, r: &Received) -> NotificationBody {
    assert_eq!(r.request_line, format!("POST {PATH} HTTP/1.1"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let id = r.header(NOTIFICATION_ID_HEADER).expect("an id header");
    let signature = r.header(SIGNATURE_HEADER).expect("a signature header");
    assert!(
        verify_notification(&t.host.public_key(), id, &r.body, signature),
        "the host's signature verifies"
    );
    // Another body, or another id, under the same signature does not.
    assert!(!verify_notification(
        &t.host.public_key(),
        id,
        &r.body.replacen("\"amount\":", "\"amount\":9", 1),
        signature
    ));
    assert!(!verify_notification(
        &t.host.public_key(),
        "ntf-other",
        &r.body,
        signature
    ));
    let body: NotificationBody = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body.id, id);
    assert!(!r.body.contains("ann"), "no user id: {}", r.body);
    body
}

#[tokio::test]
async fn a_notification_is_delivered_signed_after_the_back_end_answers_500_twice() {
    let backend = Backend::start(0, &[500, 500]);
    let (t, _) = shop(backend.port()).await;
    let openid = pay(&t, "o-1", 1_000).await;

    // First attempt: 500; not due again before its backoff.
    let first = t.host.deliver_notifications().await.unwrap();
    assert_eq!((first.claimed, first.delivered, first.failed), (1, 0, 1));
    let pending = &t.host.notifications(APP, 10).unwrap()[0];
    assert_eq!(pending.attempts, 1);
    assert!(pending.last_error.as_deref().unwrap().contains("HTTP 500"));
    t.clock.advance(Duration::from_secs(14));
    assert_eq!(t.host.deliver_notifications().await.unwrap().claimed, 0);
    // Second: 500 again, 15 s later; the wait doubles.
    t.clock.advance(Duration::from_secs(1));
    assert_eq!(t.host.deliver_notifications().await.unwrap().failed, 1);
    t.clock.advance(Duration::from_secs(29));
    assert_eq!(t.host.deliver_notifications().await.unwrap().claimed, 0);
    // Third, 30 s later: 200, delivered.
    t.clock.advance(Duration::from_secs(1));
    let third = t.host.deliver_notifications().await.unwrap();
    assert_eq!((third.claimed, third.delivered), (1, 1));
    // Delivered: never sent again.
    t.clock.advance(Duration::from_secs(3600));
    assert_eq!(t.host.deliver_notifications().await.unwrap().claimed, 0);

    let received = backend.received();
    assert_eq!(received.len(), 3);
    let bodies: Vec<NotificationBody> = received.iter().map(|r| checked(&t, r)).collect();
    // The same notification each time: one id, one body.
    assert!(received.iter().all(|r| r.body == received[0].body));
    let body = &bodies[0];
    assert_eq!(body.kind, NotificationKind::Payment);
    assert_eq!(
        (body.order_id.as_str(), body.amount, body.currency.as_str()),
        ("o-1", 1_000, "CNY")
    );
    assert_eq!(body.openid.as_deref(), Some(openid.as_str()));
    assert_eq!(body.app_id, APP);
    // The receipt inside verifies as any receipt of the host does.
    let receipt = body.receipt.as_ref().unwrap();
    assert_eq!(receipt.transaction_id, body.transaction_id);
    assert!(plaza_host::keys::verify(
        &t.host.public_key(),
        &plaza_host::ledger::receipt_message(receipt),
        &receipt.signature
    ));
    let stored = &t.host.notifications(APP, 10).unwrap()[0];
    assert_eq!(stored.id, body.id);
    assert_eq!(stored.attempts, 3);
    assert!(stored.delivered_at_ms.is_some());
    // Each delivery is in the audit log.
    let delivered = t
        .host
        .audit(&AuditQuery {
            app: Some(APP.into()),
            ..AuditQuery::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "payment.notify" && e.outcome == Outcome::Allowed)
        .count();
    assert_eq!(delivered, 1);
}

#[tokio::test]
async fn a_notification_waits_while_the_back_end_is_down_and_arrives_when_it_is_back() {
    let port = free_port();
    let (t, _) = shop(port).await;
    pay(&t, "o-1", 1_000).await;
    // Nobody listens: the attempt fails and waits its backoff.
    let down = t.host.deliver_notifications().await.unwrap();
    assert_eq!((down.claimed, down.failed), (1, 1));
    let pending = &t.host.notifications(APP, 10).unwrap()[0];
    assert!(
        pending.last_error.as_deref().unwrap().contains("connect"),
        "{:?}",
        pending.last_error
    );
    assert_eq!(pending.delivered_at_ms, None);
    // The back-end comes back on its port.
    let backend = Backend::start(port, &[]);
    t.clock.advance(Duration::from_secs(15));
    let back = t.host.deliver_notifications().await.unwrap();
    assert_eq!((back.claimed, back.delivered), (1, 1));
    let received = backend.received();
    assert_eq!(received.len(), 1);
    let body = checked(&t, &received[0]);
    assert_eq!(body.id, pending.id);
}

#[tokio::test]
async fn a_new_host_over_the_same_store_delivers_what_the_old_one_did_not() {
    let backend = Backend::start(0, &[500]);
    let (t, _) = shop(backend.port()).await;
    pay(&t, "o-1", 1_000).await;
    assert_eq!(t.host.deliver_notifications().await.unwrap().failed, 1);
    let id = t.host.notifications(APP, 10).unwrap()[0].id.clone();
    // The host stops; a new one opens the store and runs the delivery.
    let t = t.reopen(notifying);
    t.clock.advance(Duration::from_secs(15));
    let delivery = t.host.start_notifications();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while t.host.notifications(APP, 10).unwrap()[0]
        .delivered_at_ms
        .is_none()
    {
        assert!(std::time::Instant::now() < deadline, "not delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    delivery.stop();
    let received = backend.received();
    assert_eq!(received.len(), 2);
    for r in &received {
        assert_eq!(checked(&t, r).id, id);
    }
}

#[tokio::test]
async fn a_payment_and_a_refund_each_notify_once_with_a_stable_id() {
    let backend = Backend::start(0, &[]);
    let (t, secret) = shop(backend.port()).await;
    let openid = pay(&t, "o-1", 1_000).await;
    // The payment retried in a new session pays nothing and notifies
    // nothing more.
    pay(&t, "o-1", 1_000).await;
    // A refund from the back-end, retried with its refund id.
    let token = t.host.access_token(APP, &secret).unwrap();
    let api = t.host.publisher_api(&token.access_token).unwrap();
    let refund = api.refund("o-1", "rf-1", 300, "clinic closed").unwrap();
    let again = api.refund("o-1", "rf-1", 300, "clinic closed").unwrap();
    assert_eq!(again.tx_id, refund.tx_id);
    // A refund from the session, without a refund id.
    let s = t.host.session("ann", APP).unwrap();
    let page = run_calls(
        &s,
        &[Call::Refund {
            order: "o-1".into(),
            amount: 200,
            reason: "partly".into(),
        }],
    )
    .await;
    assert!(
        fuzz_result(&page, 1, "refund").starts_with("refunded "),
        "{}",
        text(&page)
    );
    s.close().await;

    let report = t.host.deliver_notifications().await.unwrap();
    assert_eq!((report.claimed, report.delivered), (3, 3));
    assert_eq!(t.host.deliver_notifications().await.unwrap().claimed, 0);
    let bodies: Vec<NotificationBody> = backend.received().iter().map(|r| checked(&t, r)).collect();
    let mut kinds: Vec<(NotificationKind, u64, Option<&str>)> = bodies
        .iter()
        .map(|b| (b.kind, b.amount, b.refund_id.as_deref()))
        .collect();
    kinds.sort_by_key(|k| k.1);
    assert_eq!(
        kinds,
        [
            (NotificationKind::Refund, 200, None),
            (NotificationKind::Refund, 300, Some("rf-1")),
            (NotificationKind::Payment, 1_000, None),
        ]
    );
    assert!(bodies.iter().all(|b| b.openid.as_deref() == Some(&openid)));
    assert!(bodies.iter().all(|b| b.order_id == "o-1"));
    let by_refund = bodies.iter().find(|b| b.amount == 300).unwrap();
    assert_eq!(by_refund.transaction_id, refund.tx_id);
    assert_eq!((by_refund.wallet_part, by_refund.insurance_part), (300, 0));
    // One notification per money movement, each id its own.
    let mut ids: Vec<&str> = bodies.iter().map(|b| b.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(t.host.notifications(APP, 10).unwrap().len(), 3);
}

/// A package file whose notify URL's origin is not declared: made from a
/// good one, its declared origin's port changed (same length).
fn package_notifying_an_undeclared_origin() -> Vec<u8> {
    let good = package_with_manifest(&FUZZ_CALLER, &manifest_notifying(8443, true)).to_bytes();
    let (from, to) = (
        b"origins = [\"https://localhost:8443\"]".as_slice(),
        b"origins = [\"https://localhost:8444\"]".as_slice(),
    );
    let at = good
        .windows(from.len())
        .position(|w| w == from)
        .expect("the declared origin");
    let mut bad = good;
    bad[at..at + to.len()].copy_from_slice(to);
    bad
}

#[tokio::test]
async fn a_notify_url_at_an_undeclared_origin_is_refused_at_install() {
    let t = host_with(notifying);
    let undeclared = |err: &Error| match err {
        Error::NotifyOriginUndeclared { app, url, declared } => {
            assert_eq!(app, APP);
            assert_eq!(url, &format!("https://localhost:8443{PATH}"));
            assert_eq!(declared, &["https://localhost:8444".to_string()]);
            assert!(err.to_string().contains("[capabilities.network] origins"));
        }
        other => panic!("{other}"),
    };
    // Neither a package made from such a manifest nor a package file with
    // one gets to the host.
    let err = plaza_host::package::Package::new(
        &manifest_notifying(8443, false),
        FUZZ_CALLER.component_bytes(),
    )
    .unwrap_err();
    undeclared(&err);
    let file = t.store_file().with_file_name("undeclared.plaza");
    std::fs::write(&file, package_notifying_an_undeclared_origin()).unwrap();
    let err = plaza_host::package::Package::read_file(&file).unwrap_err();
    undeclared(&err);
    assert!(matches!(
        t.host.session("ann", APP).unwrap_err(),
        Error::NotInstalled { .. }
    ));
    // The same package with its origin declared installs.
    t.host
        .install(package_with_manifest(
            &FUZZ_CALLER,
            &manifest_notifying(8443, true),
        ))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_deliver_each_notification_once() {
    let backend = Backend::start(0, &[]);
    let (owner, nodes) = postgres_nodes_with(2, notifying);
    let (a, b) = (&nodes[0], &nodes[1]);
    a.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    a.host
        .install(package_with_manifest(
            &FUZZ_CALLER,
            &manifest_notifying(backend.port(), true),
        ))
        .await
        .unwrap();
    a.host.top_up("ann", 100_000, "CNY").unwrap();
    for i in 0..12 {
        pay(a, &format!("o-{i}"), 100).await;
    }
    // Both nodes deliver at once, a few at a time.
    let pass = |t: &TestHost| {
        let host = t.host.clone();
        async move {
            let mut delivered = 0;
            loop {
                let r = host.deliver_notifications().await.unwrap();
                if r.claimed == 0 {
                    return delivered;
                }
                delivered += r.delivered;
            }
        }
    };
    let (on_a, on_b) = tokio::join!(tokio::spawn(pass(a)), tokio::spawn(pass(b)));
    assert_eq!(on_a.unwrap() + on_b.unwrap(), 12);
    let received = backend.received();
    let mut ids: Vec<String> = received.iter().map(|r| checked(a, r).id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((received.len(), ids.len()), (12, 12), "each sent once");
    drop(nodes);
    drop(owner);
}
