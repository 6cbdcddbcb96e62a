//! WASI is linked with nothing behind it: a guest sees no files, no
//! environment, no arguments, no sockets and no name lookup.

use crate::support::*;
use plaza_test_programs::WASI_PROBE;

#[tokio::test]
async fn every_way_out_through_wasi_is_refused() {
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
    let page = s.launch("/").await.unwrap();
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
        "tcp connect 127.0.0.1:80",
        "tcp connect [::1]:80",
        "udp bind 0.0.0.0:0",
        "dns lookup example.com:443",
        "tcp listen 127.0.0.1:0",
    ] {
        let v = value(probe);
        assert!(
            v.starts_with("err"),
            "{probe} must fail, got `{v}`\n{page_text}"
        );
    }
    assert!(value("env").starts_with("ok: 0"), "{page_text}");
    assert!(value("args").starts_with("ok: 0"), "{page_text}");
    // Stdin is empty; randomness and the wall clock work.
    assert!(value("stdin").starts_with("ok"), "{page_text}");
    assert!(value("random").starts_with("ok"), "{page_text}");
    assert!(value("wall clock").starts_with("ok"), "{page_text}");
}
