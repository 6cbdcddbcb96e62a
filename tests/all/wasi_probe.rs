//! WASI is linked with nothing behind it: a guest sees no files, no
//! environment, no arguments, no sockets and no name lookup.

use crate::support::*;
use plaza_test_programs::WASI_PROBE;

#[tokio::test]
async fn every_way_out_through_wasi_is_refused() {
    // Something really listens on loopback, so a refused connection is the
    // sandbox's doing, not an empty port's.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();

    let t = host();
    let report = install(&t, &WASI_PROBE).await;
    assert!(
        report
            .imports
            .iter()
            .any(|i| i.starts_with("wasi:sockets/")),
        "the probe must import sockets for this test to mean anything: {:?}",
        report.imports
    );
    assert!(
        report
            .imports
            .iter()
            .any(|i| i.starts_with("wasi:filesystem/"))
    );
    let s = t.host.session("alice", "test.plaza.wasi-probe").unwrap();
    let page = s.launch(&format!("/?port={port}")).await.unwrap();
    let page_text = text(&page);
    let value = |label: &str| {
        field(&page, label)
            .unwrap_or_else(|| panic!("no `{label}` probe on the page:\n{page_text}"))
    };
    for probe in [
        "read-dir /",
        "read-dir .",
        "open /etc/passwd",
        "create file /tmp/x",
        "tcp connect 127.0.0.1",
        "tcp connect [::1]",
        "udp bind 0.0.0.0:0",
        "dns lookup localhost",
        "tcp listen 127.0.0.1:0",
    ] {
        let v = value(probe);
        assert!(
            v.starts_with("err"),
            "{probe} must fail, got `{v}`\n{page_text}"
        );
    }
    // Nobody connected to the listener.
    assert!(
        listener.accept().is_err(),
        "the guest reached a loopback port"
    );
    assert_eq!(value("env"), "ok: 0");
    assert_eq!(value("args"), "ok: 0");
    assert_eq!(value("stdin"), "ok: 0 bytes");
    assert!(value("random").starts_with("ok"), "{page_text}");
    // WASI's wall clock is the host's (test) clock.
    assert_eq!(
        value("wall clock"),
        format!("ok: {START_MS} ms since the epoch")
    );
}
