//! Scans over the client API: a mini-app's scan prompt reaches the phone,
//! which answers it with what its scanner read (or cancels); a scanned
//! Plaza link to an installed mini-app is offered as a `link` prompt and,
//! answered `open`, the phone gets that mini-app's page with `opened`.

mod support;

use serde_json::{Value, json};
use support::*;

const APP: &str = "test.plaza.scan-probe";

/// Installs the scan probe (signed by its registered publisher).
fn install_probe(server: &TestServer) {
    install_fixture(server, &plaza_test_programs::SCAN_PROBE);
}

/// The scan prompt a tap on `action` raises.
fn scan_prompt(phone: &Phone, action: &str) -> Value {
    prompt_after_tap(phone, APP, action, "scan")
}

fn answer(phone: &Phone, prompt: &Value, answer: Value) -> (u16, Value) {
    phone.post(
        &format!("/v1/prompts/{}", prompt["id"].as_str().unwrap()),
        json!({ "answer": answer }),
    )
}

#[test]
fn a_scan_prompt_is_answered_with_the_text_or_cancelled() {
    let server = TestServer::start(|_| {});
    install_probe(&server);
    let phone = server.phone("li-na");

    let prompt = scan_prompt(&phone, "scan");
    assert_eq!(prompt["purpose"], "The code on the clinic's wall");
    assert_eq!(prompt["kinds"], json!(["qr", "barcode"]));
    assert_eq!(prompt["app_name"], "Scan probe");
    let (s, v) = answer(
        &phone,
        &prompt,
        json!({"text": "9787020002207", "kind": "barcode"}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(field(&v["page"], "Text").as_deref(), Some("9787020002207"));
    assert_eq!(field(&v["page"], "Kind").as_deref(), Some("barcode"));
    assert!(v.get("opened").is_none(), "{v}");

    // Closing the scanner: the mini-app gets `cancelled`.
    let prompt = scan_prompt(&phone, "scan");
    let (s, v) = phone.answer(prompt["id"].as_str().unwrap(), "cancel");
    assert_eq!(s, 200, "{v}");
    assert_eq!(field(&v["page"], "Result").as_deref(), Some("cancelled"));

    // An answer of another kind, an unknown code kind or an empty text does
    // not fit.
    let prompt = scan_prompt(&phone, "scan");
    for wrong in [
        json!("allow"),
        json!({"text": "x", "kind": "datamatrix"}),
        json!({"text": ""}),
        json!({"text": "x", "colour": "red"}),
    ] {
        let (s, v) = answer(&phone, &prompt, wrong);
        assert_eq!(
            (s, v["error"]["kind"].as_str()),
            (400, Some("bad-answer")),
            "{v}"
        );
    }
    let (s, _) = answer(&phone, &prompt, json!({"text": "QR-1"}));
    assert_eq!(s, 200);
}

#[test]
fn a_scanned_link_the_user_opens_answers_with_that_page() {
    let server = TestServer::start(|_| {});
    install_probe(&server);
    let phone = server.phone("li-na");

    let prompt = scan_prompt(&phone, "scan");
    let link = "plaza://test.plaza.scan-probe/checkin?clinic=obstetrics";
    let (s, v) = answer(&phone, &prompt, json!({ "text": link }));
    assert_eq!(s, 200, "{v}");
    // The host offers to open it.
    let offer = v["prompt"].clone();
    assert_eq!(offer["kind"], "link", "{v}");
    assert_eq!(offer["link"], link);
    assert_eq!(offer["target_app_id"], APP);
    assert_eq!(offer["target_app_name"], "Scan probe");
    assert_eq!(offer["target"], "/checkin?clinic=obstetrics");
    let (s, v) = phone.answer(offer["id"].as_str().unwrap(), "open");
    assert_eq!(s, 200, "{v}");
    // The phone shows the link's page, and is told what opened.
    assert_eq!(v["app_id"], APP, "{v}");
    assert_eq!(v["opened"]["link"], link);
    assert_eq!(v["opened"]["from"], APP);
    assert_eq!(v["page"]["title"], "Opened", "{v}");
    assert_eq!(
        field(&v["page"], "Path").as_deref(),
        Some("/checkin?clinic=obstetrics")
    );
    let (s, audit) = phone.get("/v1/me/audit");
    assert_eq!(s, 200, "{audit}");
    let text = audit.to_string();
    assert!(
        text.contains("link.open") && text.contains("opened /checkin?clinic=obstetrics"),
        "{audit}"
    );

    // Answered `stay`, or a malformed link: the mini-app's own page.
    let prompt = scan_prompt(&phone, "scan");
    let (_, v) = answer(&phone, &prompt, json!({ "text": link }));
    let (s, v) = phone.answer(v["prompt"]["id"].as_str().unwrap(), "stay");
    assert_eq!(s, 200, "{v}");
    assert!(v.get("opened").is_none(), "{v}");
    assert_eq!(field(&v["page"], "Text").as_deref(), Some(link));
    let prompt = scan_prompt(&phone, "scan");
    let (s, v) = answer(
        &phone,
        &prompt,
        json!({ "text": "plaza://test.plaza.scan-probe/check in" }),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["page"]["title"], "Scanned", "{v}");
    assert_eq!(
        field(&v["page"], "Text").as_deref(),
        Some("plaza://test.plaza.scan-probe/check in")
    );
}
