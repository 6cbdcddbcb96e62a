//! The Plaza server over real HTTP on loopback: each test starts a server
//! in-process on an ephemeral port, mints its users' tokens, installs the
//! hospital through the operator API and drives it as a phone would.

mod support;

use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, Instant};
use support::*;

#[test]
fn hospital_booking_deposit_and_insured_bill_page_by_page() {
    let server = TestServer::start(|_| {});
    let installed = server.install_hospital();
    assert_eq!(installed["app_id"], HOSPITAL);
    assert_eq!(installed["signed"], true);
    assert!(
        installed["app_secret"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{installed}"
    );
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");

    let (done, prompts) = book(&phone, yes);
    // The real name was asked (consent), then the reminders (subscription).
    let kinds: Vec<&str> = prompts.iter().filter_map(|p| p["kind"].as_str()).collect();
    assert_eq!(kinds, ["consent", "subscription"], "{prompts:?}");
    assert_eq!(prompts[0]["scope"], "real-name");
    assert_eq!(prompts[0]["publisher_name"], "Hangzhou Maternity Hospital");
    assert_eq!(prompts[0]["publisher_verified"], true);
    assert_eq!(prompts[1]["templates"][0]["id"], "appointment-reminder");
    // No back office runs beside this server: the booking stands, and the
    // patient is told the reminder could not be arranged.
    assert!(
        notices(&done)
            .iter()
            .any(|n| n.contains("The reminder could not be arranged")),
        "{done}"
    );

    // The deposit: a payment prompt, answered by the phone.
    let (deposit, prompts) = phone.drive(json!({"tap": "deposit:B0001"}), yes);
    assert_eq!(prompts.len(), 1, "{prompts:?}");
    let p = &prompts[0];
    assert_eq!(p["kind"], "payment");
    assert_eq!(p["payee"], "Hangzhou Maternity Hospital");
    assert_eq!(p["amount"], "CNY 50.00");
    assert_eq!(p["amount_minor"], 5000);
    assert_eq!(deposit["title"], "Deposit", "{deposit}");
    assert_eq!(field(&deposit, "Paid by you").as_deref(), Some("CNY 50.00"));
    assert_eq!(phone.balance(), 95_000);

    // The bill: the insurance card is asked for, then the payment: 70 % of
    // the eligible 170.00 from insurance, the patient pays 56.00.
    phone.page(json!({"tap": "booking:B0001"}));
    let (bill, prompts) = phone.drive(json!({"tap": "bill:B0001"}), yes);
    let kinds: Vec<&str> = prompts.iter().filter_map(|p| p["kind"].as_str()).collect();
    assert_eq!(kinds, ["consent", "payment"], "{prompts:?}");
    assert_eq!(prompts[0]["scope"], "insurance-card");
    assert_eq!(prompts[1]["insurance_part"], "CNY 119.00");
    assert_eq!(prompts[1]["wallet_part"], "CNY 56.00");
    assert_eq!(bill["title"], "Consultation bill", "{bill}");
    assert_eq!(
        field(&bill, "Paid by insurance").as_deref(),
        Some("CNY 119.00")
    );
    assert_eq!(field(&bill, "Paid by you").as_deref(), Some("CNY 56.00"));
    assert_eq!(phone.balance(), 95_000 - 5_600);

    // The user's own views.
    let (s, wallet) = phone.get("/v1/me/wallet");
    assert_eq!(s, 200);
    assert_eq!(
        wallet["history"].as_array().map(Vec::len),
        Some(3),
        "{wallet}"
    );
    assert_eq!(wallet["insurance"]["cap_left"], "CNY 2881.00", "{wallet}");
    let (_, grants) = phone.get("/v1/me/grants");
    assert_eq!(
        grants["grants"].as_array().map(Vec::len),
        Some(2),
        "{grants}"
    );
    // No reminder at booking: the hospital's back-end sends it, by the
    // openid it finds on the day's payments.
    let (_, inbox) = phone.get("/v1/me/inbox");
    assert_eq!(inbox["unread"], 0, "{inbox}");
    let secret = installed["app_secret"].as_str().unwrap();
    let token = server.host.access_token(HOSPITAL, secret).unwrap();
    let api = server.host.publisher_api(&token.access_token).unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let openid = [-1i64, 0, 1]
        .iter()
        .find_map(|d| {
            let (y, m, day) = plaza_host::clock::civil_date(now_ms + d * 86_400_000, 0);
            let statement = api.statement(&format!("{y:04}-{m:02}-{day:02}")).ok()?;
            statement.payments.into_iter().find_map(|p| p.openid)
        })
        .expect("the day's payments name the patient");
    let fields = vec![
        ("doctor".to_string(), "Dr. Chen Li".to_string()),
        ("time".to_string(), "tomorrow, 08:30".to_string()),
    ];
    api.send_message(&openid, "appointment-reminder", &fields, Some("/bookings"))
        .unwrap();
    let (_, inbox) = phone.get("/v1/me/inbox");
    assert_eq!(inbox["unread"], 1, "{inbox}");
    let id = inbox["messages"][0]["id"].as_str().unwrap().to_string();
    let (s, _) = phone.post(&format!("/v1/me/inbox/{id}/read"), json!({}));
    assert_eq!(s, 200);
    assert_eq!(phone.get("/v1/me/inbox").1["unread"], 0);
    let (s, v) = phone.get("/v1/me/inbox?limit=many");
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (400, Some("bad-request")),
        "{v}"
    );
    let (_, audit) = phone.get("/v1/me/audit");
    assert!(
        audit["entries"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["capability"] == "payment")),
        "{audit}"
    );
    let report = server.ledger_is_clean();
    assert_eq!(report["report"]["payments"], 2);
}

#[test]
fn consent_denied_then_allowed_after_the_user_forgets_the_decision() {
    let server = TestServer::start(|_| {});
    server.install_hospital();
    server.citizen("li-na", 0);
    let phone = server.phone("li-na");
    let deny = |p: &Value| {
        if p["kind"] == "consent" {
            "deny"
        } else {
            "reject"
        }
    };
    phone.page(json!({"launch": {"path": "/", "query": {}}}));
    phone.page(json!({"tap": "dept:obstetrics"}));
    phone.page(json!({"tap": "doctor:chen-li"}));
    let (confirm, prompts) = phone.drive(json!({"tap": "earliest:chen-li"}), deny);
    assert_eq!(prompts.len(), 1);
    assert!(
        notices(&confirm)
            .iter()
            .any(|n| n.contains("Please type the patient's name")),
        "{confirm}"
    );
    // Denied is remembered: no question the second time.
    phone.page(json!({"back": {}}));
    let again = phone.page(json!({"tap": "earliest:chen-li"}));
    assert_eq!(again["title"], "Confirm booking");
    let (_, grants) = phone.get("/v1/me/grants");
    assert_eq!(grants["grants"][0]["granted"], false, "{grants}");
    // Both refusals (asked, then remembered) count in /metrics.
    let denials = denial_count(&phone, "identity.real-name");
    assert!(denials >= 2, "{denials}");

    // The user forgets the decision in the host's settings; asked again, allows.
    let (s, v) = phone.delete(&format!("/v1/me/grants/{HOSPITAL}/real-name"));
    assert_eq!(s, 200, "{v}");
    let (s, v) = phone.delete(&format!("/v1/me/grants/{HOSPITAL}/real-name"));
    assert_eq!(s, 404, "{v}");
    phone.page(json!({"back": {}}));
    let (confirm, prompts) = phone.drive(json!({"tap": "earliest:chen-li"}), yes);
    assert_eq!(prompts.len(), 1);
    assert!(
        notices(&confirm)
            .iter()
            .any(|n| n.contains("Registered as Li Na")),
        "{confirm}"
    );
}

/// `plaza_host_call_denials_total` of `capability` in /metrics (0 if absent).
fn denial_count(phone: &Phone, capability: &str) -> u64 {
    let (s, metrics) = Phone::new(&phone.base, "").get("/metrics");
    assert_eq!(s, 200);
    let text = metrics.as_str().unwrap_or_default();
    let line = format!("plaza_host_call_denials_total{{capability=\"{capability}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .map(|n| n.parse().expect("a count"))
        .unwrap_or(0)
}

#[test]
fn a_path_parameter_that_does_not_read_is_a_json_error() {
    let server = TestServer::start(|_| {});
    let phone = server.phone("li-na");
    // Not UTF-8 once percent-decoded.
    let (s, v) = phone.post("/v1/me/inbox/%FF%FE/read", json!({}));
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["kind"], "bad-path", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    let (s, v) = server
        .operator()
        .post("/v1/admin/wallets/%C3%28/top-up", json!({"fen": 1}));
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (400, Some("bad-path")),
        "{v}"
    );
}

/// Books and opens the deposit up to its payment prompt; answers its id.
fn deposit_prompt(phone: &Phone) -> String {
    book(phone, |p| {
        if p["kind"] == "consent" {
            "allow"
        } else {
            "reject"
        }
    });
    let (s, v) = phone.event(json!({"tap": "deposit:B0001"}));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["prompt"]["kind"], "payment", "{v}");
    v["prompt"]["id"].as_str().unwrap().to_string()
}

#[test]
fn an_unanswered_payment_times_out_and_moves_nothing() {
    let server = TestServer::start(|c| c.prompt_timeout_secs = 2);
    server.install_hospital();
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");
    let id = deposit_prompt(&phone);
    // While it waits, another event of the session is busy, naming it.
    let (s, v) = phone.event(json!({"tap": "booking:B0001"}));
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"]["kind"], "busy");
    assert_eq!(v["error"]["prompt"]["id"], id.as_str());
    std::thread::sleep(Duration::from_millis(2_600));
    let (s, v) = phone.answer(&id, "confirm");
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"]["kind"], "prompt-timed-out");
    assert_eq!(phone.balance(), 100_000);
    // The mini-app was told `timed-out`: its page says so.
    let (s, v) = phone.get("/v1/me/prompts");
    assert_eq!((s, v["prompts"].as_array().map(Vec::len)), (200, Some(0)));
    let page = phone.page(json!({"tap": "booking:B0001"}));
    assert_eq!(
        field(&page, "Deposit").as_deref(),
        Some("not paid"),
        "{page}"
    );
    server.ledger_is_clean();
}

#[test]
fn a_prompt_answered_twice_is_a_conflict_and_pays_once() {
    let server = TestServer::start(|_| {});
    server.install_hospital();
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");
    let id = deposit_prompt(&phone);
    let (s, v) = phone.answer(&id, "confirm");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["page"]["title"], "Deposit");
    let (s, v) = phone.answer(&id, "confirm");
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"]["kind"], "prompt-answered");
    let (s, v) = phone.answer(&id, "decline");
    assert_eq!(s, 409, "{v}");
    assert_eq!(phone.balance(), 95_000);
    server.ledger_is_clean();
}

#[test]
fn another_users_prompt_cannot_be_answered() {
    let server = TestServer::start(|_| {});
    server.install_hospital();
    server.citizen("li-na", 100_000);
    server.citizen("wang-fang", 100_000);
    let li = server.phone("li-na");
    let wang = server.phone("wang-fang");
    let id = deposit_prompt(&li);
    let (s, v) = wang.answer(&id, "confirm");
    assert_eq!(s, 404, "{v}");
    assert_eq!(v["error"]["kind"], "no-such-prompt");
    assert_eq!(wang.get("/v1/me/prompts").1["prompts"], json!([]));
    // Still Li Na's to answer; she declines, nothing moves.
    let (s, v) = li.answer(&id, "decline");
    assert_eq!(s, 200, "{v}");
    assert!(
        notices(&v["page"]).iter().any(|n| n.contains("declined")),
        "{v}"
    );
    assert_eq!(li.balance(), 100_000);
    assert_eq!(wang.balance(), 100_000);
}

#[test]
fn a_phone_that_disconnects_while_paying_pays_whole_after_a_late_answer() {
    let server = TestServer::start(|_| {});
    server.install_hospital();
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");
    book(&phone, |p| {
        if p["kind"] == "consent" {
            "allow"
        } else {
            "reject"
        }
    });
    // The deposit event over a raw connection that goes away before its
    // answer arrives.
    let addr = server.base.trim_start_matches("http://").to_string();
    let body = json!({"tap": "deposit:B0001"}).to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /v1/apps/{HOSPITAL}/events HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        phone.token,
        body.len()
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        let (_, v) = phone.get("/v1/me/prompts");
        if let Some(id) = v["prompts"][0]["id"].as_str() {
            break id.to_string();
        }
        assert!(Instant::now() < deadline, "no prompt came: {v}");
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(conn);
    std::thread::sleep(Duration::from_millis(200));
    // The phone comes back and confirms: the payment is made whole.
    let (s, v) = phone.answer(&id, "confirm");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["page"]["title"], "Deposit", "{v}");
    assert_eq!(phone.balance(), 95_000);
    let report = server.ledger_is_clean();
    assert_eq!(report["report"]["payments"], 1);
}

#[test]
fn each_bad_token_is_refused_with_its_reason() {
    let server = TestServer::start(|_| {});
    let base = &server.base;
    let later = now_s() + 3600;
    let cases = [
        (None, "missing-token"),
        (Some("not-a-jwt".to_string()), "malformed-token"),
        (
            Some(hs_token("citizen-app", "li-na", HS_SECRET, now_s() - 3600)),
            "expired-token",
        ),
        (
            Some(hs_token(
                "citizen-app",
                "li-na",
                "another-secret-of-at-least-32-bytes!!",
                later,
            )),
            "bad-signature",
        ),
        (
            Some(ed_token("wallet-app", "li-na", &[9; 32], later)),
            "bad-signature",
        ),
        (
            Some(hs_token("weibo", "li-na", HS_SECRET, later)),
            "unknown-issuer",
        ),
    ];
    for (token, kind) in cases {
        let mut req = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent()
            .get(&format!("{base}/v1/me/wallet"));
        if let Some(t) = &token {
            req = req.header("authorization", &format!("Bearer {t}"));
        }
        let mut r = req.call().unwrap();
        assert_eq!(r.status().as_u16(), 401, "{kind}");
        let v: Value = r.body_mut().read_json().unwrap();
        assert_eq!(v["error"]["kind"], kind, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // The operator API does not take a user's token, nor users the admin's.
    let (s, v) = server.phone("li-na").get("/v1/admin/ledger/verify");
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (401, Some("not-operator"))
    );
    let (s, _) = server.operator().get("/v1/me/wallet");
    assert_eq!(s, 401);

    // A good EdDSA token of wallet-app is the same user as citizen-app's:
    // the operator mapped both issuers to one namespace.
    server.citizen("li-na", 12_300);
    let ed = Phone::new(base, &ed_token("wallet-app", "li-na", &ED_SEED, later));
    assert_eq!(ed.balance(), 12_300);
    assert_eq!(server.phone("li-na").balance(), 12_300);
}

#[test]
fn a_body_over_the_cap_is_413_and_a_user_over_the_rate_is_429() {
    let server = TestServer::start(|c| {
        c.max_body_bytes = 4096;
        c.user_requests_per_minute = 5;
    });
    let phone = server.phone("li-na");
    let (s, v) = phone.event(json!({"chat": "x".repeat(10_000)}));
    assert_eq!(s, 413, "{v}");
    assert_eq!(v["error"]["kind"], "body-too-large");
    let (s, v) = phone.event(json!({"dance": true}));
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["kind"], "bad-request");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(phone.get("/v1/me/wallet").0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let (s, v) = phone.get("/v1/me/wallet");
    assert_eq!(s, 429, "{v}");
    assert_eq!(v["error"]["kind"], "rate-limited");
    // Another user is not slowed.
    assert_eq!(server.phone("wang-fang").get("/v1/me/wallet").0, 200);
}

#[test]
fn the_operator_sets_a_mini_apps_settings_and_a_secret_never_comes_back() {
    let server = TestServer::start(|c| c.developer_mode = true);
    let f = plaza_test_programs::CITY_SERVICES;
    let pkg = plaza_host::package::Package::new(&f.manifest_text(), f.component_bytes())
        .expect("package");
    let op = server.operator();
    let (s, v) = op.send_bytes("/v1/admin/packages", &pkg.to_bytes());
    assert_eq!(s, 200, "{v}");
    let app = "/v1/admin/apps/cn.gov.hz.city/settings";
    // Installed with its required secret unset: listed as missing.
    let (s, v) = op.get("/v1/admin/packages");
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["packages"][0]["missing_settings"],
        json!(["agency-api-key"]),
        "{v}"
    );
    let (s, v) = op.put(
        &format!("{app}/agency-api-key"),
        json!({"value": "op-secret-4711"}),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = op.put(
        &format!("{app}/agency-origin"),
        json!({"value": "https://records.hz.gov.cn"}),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = op.get(app);
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["settings"],
        json!([
            {"name": "agency-origin", "secret": false, "value": "https://records.hz.gov.cn",
             "source": "set", "updated_at_ms": v["settings"][0]["updated_at_ms"]},
            {"name": "agency-api-key", "secret": true, "value": null,
             "source": "set", "updated_at_ms": v["settings"][1]["updated_at_ms"]},
        ])
    );
    assert!(!v.to_string().contains("op-secret-4711"));
    // Refusals are typed, and never quote the value.
    let (s, v) = op.put(&format!("{app}/colour"), json!({"value": "red"}));
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (404, Some("unknown-setting"))
    );
    let (s, v) = op.put(
        &format!("{app}/agency-origin"),
        json!({"value": "ftp://op-secret-4711"}),
    );
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (400, Some("invalid-setting")),
        "{v}"
    );
    let (s, v) = op.delete(&format!("{app}/agency-origin"));
    assert_eq!((s, v["removed"].as_bool()), (200, Some(true)), "{v}");
    let (_, v) = op.get(app);
    assert_eq!(v["settings"][0]["source"], "default");
    // Only the operator.
    let (s, _) = server.phone("li-na").get(app);
    assert_eq!(s, 401);
}

#[test]
fn the_openapi_document_lists_exactly_the_routes_that_answer() {
    let server = TestServer::start(|_| {});
    let anon = Phone::new(&server.base, "");
    let (s, doc) = anon.get("/v1/openapi.json");
    assert_eq!(s, 200);
    let paths = doc["paths"].as_object().expect("paths");
    for want in [
        "/v1/apps/{app_id}/events",
        "/v1/prompts/{id}",
        "/v1/me/inbox",
        "/v1/me/inbox/{id}/read",
        "/v1/me/inbox/{id}/open",
        "/v1/me/wallet",
        "/v1/me/grants",
        "/v1/me/grants/{app_id}/{scope}",
        "/v1/me/audit",
        "/v1/admin/packages",
        "/v1/admin/packages/{app_id}",
        "/v1/admin/publishers",
        "/v1/admin/policy",
        "/v1/admin/wallets/{user}/top-up",
        "/v1/admin/ledger/verify",
        "/v1/admin/apps/{app_id}/settings",
        "/v1/admin/apps/{app_id}/settings/{name}",
        "/v1/publisher/token",
        "/v1/publisher/login",
        "/v1/publisher/messages",
        "/v1/publisher/broadcasts",
        "/v1/publisher/replies",
        "/v1/publisher/payments",
        "/v1/publisher/payments/{order_id}",
        "/v1/publisher/refunds",
        "/v1/publisher/settings/{name}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(want), "{want} is not documented");
    }
    let http = fresh_connections().build().new_agent();
    let mut checked = 0;
    for (path, ops) in paths {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x:y" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in ops.as_object().unwrap().keys() {
            let url = format!("{}{concrete}", server.base);
            let r = match method.as_str() {
                "get" => http.get(&url).call(),
                "delete" => http.delete(&url).call(),
                "post" => http.post(&url).send_json(json!({})),
                "put" => http.put(&url).send_json(json!({})),
                other => panic!("{other}"),
            };
            let mut r = r.unwrap();
            let v: Value = r.body_mut().read_json().unwrap_or(Value::Null);
            let kind = v["error"]["kind"].as_str().unwrap_or_default();
            assert!(
                kind != "no-route" && kind != "method-not-allowed",
                "{method} {path} is documented but not routed: {v}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    // And an undocumented route is not there.
    let (s, v) = anon.get("/v1/nothing");
    assert_eq!((s, v["error"]["kind"].as_str()), (404, Some("no-route")));
    let (s, _) = anon.get("/metrics");
    assert_eq!(s, 200);
}

#[test]
fn two_hundred_users_book_at_once_with_every_page_checked() {
    let server = TestServer::start(|c| c.request_timeout_secs = 300);
    server.install_hospital();
    let users: Vec<String> = (0..200).map(|i| format!("citizen-{i:03}")).collect();
    let started = Instant::now();
    let threads: Vec<_> = users
        .iter()
        .map(|sub| {
            let phone = server.phone(sub);
            std::thread::spawn(move || {
                // No real name set: the consent is dismissed, the name typed.
                let (done, prompts) = book(&phone, |p| {
                    if p["kind"] == "consent" {
                        "dismiss"
                    } else {
                        "reject"
                    }
                });
                assert_eq!(prompts.len(), 2, "{prompts:?}");
                let list = phone.page(json!({"launch": {"path": "/bookings", "query": {}}}));
                assert_eq!(list["title"], "My bookings");
                let items: Vec<&Value> = blocks(&list, "item").collect();
                assert_eq!(items.len(), 1, "{list}");
                assert_eq!(items[0]["action"], "booking:B0001");
                done
            })
        })
        .collect();
    for t in threads {
        let done = t.join().expect("a user's booking");
        assert_eq!(done["title"], "Booking confirmed");
    }
    eprintln!("200 bookings in {:?}", started.elapsed());
    let (_, metrics) = Phone::new(&server.base, "").get("/metrics");
    let text = metrics.as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("plaza_events_total{kind=\"tap\",outcome=\"page\"}"),
        "{text}"
    );
}

#[test]
fn shutdown_declines_a_waiting_payment_and_moves_nothing() {
    let mut server = TestServer::start(|_| {});
    server.install_hospital();
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");
    let id = deposit_prompt(&phone);
    let host = server.host.clone();
    server.stop();
    let _ = id;
    assert_eq!(host.wallet_balance("citizen-app:li-na").unwrap(), 100_000);
    assert!(host.verify_ledger().unwrap().is_clean());
}

#[test]
fn the_binary_prints_its_settings_reads_the_environment_and_stops_on_sigterm() {
    let exe = env!("CARGO_BIN_EXE_plaza-server");
    let out = std::process::Command::new(exe)
        .arg("--print-config")
        .output()
        .expect("run plaza-server");
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    for setting in [
        "listen = \"127.0.0.1:8080\"",
        "store = \"plaza.db\"",
        "developer_mode = false",
        "admin_token = \"\"",
        "tls_cert = \"\"",
        "tls_key = \"\"",
    ] {
        assert!(printed.contains(setting), "{setting}:\n{printed}");
    }
    assert!(
        printed.contains("# The operator API's bearer token"),
        "{printed}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plaza-server.toml");
    std::fs::write(
        &file,
        format!(
            "store = {:?}\ncache_dir = \"\"\n[[issuer]]\nname = \"citizen-app\"\nhs256_secret = \"{HS_SECRET}\"\n",
            dir.path().join("plaza.db")
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(exe)
        .args(["--config", file.to_str().unwrap()])
        .env("PLAZA_SERVER_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start plaza-server");
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let base = first.trim().trim_end_matches('/').to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");
    let phone = Phone::new(
        &base,
        &hs_token("citizen-app", "li-na", HS_SECRET, now_s() + 60),
    );
    assert_eq!(phone.get("/healthz").0, 200);
    assert_eq!(phone.get("/v1/me/wallet").0, 200);
    // The operator API is off without an admin token.
    assert_eq!(phone.get("/v1/admin/packages").0, 401);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    // JSON log lines, each request with its id.
    let answered: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "answered")
        .collect();
    assert!(answered.len() >= 3, "{logs}");
    assert!(
        answered
            .iter()
            .all(|v| v["span"]["id"].as_str().is_some_and(|id| !id.is_empty())),
        "{logs}"
    );
}

#[test]
fn the_operator_sets_the_policy_lists_and_uninstalls() {
    let server = TestServer::start(|_| {});
    server.install_hospital();
    server.citizen("li-na", 100_000);
    let op = server.operator();
    let (s, v) = op.get("/v1/admin/packages");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["packages"][0]["app_id"], HOSPITAL, "{v}");
    // Medical publishers lose the payment capability.
    let (s, mut policy) = op.get("/v1/admin/policy");
    assert_eq!(s, 200, "{policy}");
    let medical = policy["capabilities"]["medical"].as_array_mut().unwrap();
    medical.retain(|c| c != "payment");
    let (s, v) = op.put("/v1/admin/policy", policy.clone());
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, policy);
    let phone = server.phone("li-na");
    book(&phone, |p| {
        if p["kind"] == "consent" {
            "allow"
        } else {
            "reject"
        }
    });
    let deposit = phone.page(json!({"tap": "deposit:B0001"}));
    assert!(
        blocks(&deposit, "notice").any(|n| n["level"] == "error"),
        "{deposit}"
    );
    assert_eq!(phone.balance(), 100_000);
    // Uninstalled, the app is gone for its users.
    let (s, v) = op.delete(&format!("/v1/admin/packages/{HOSPITAL}"));
    assert_eq!(s, 200, "{v}");
    let (s, v) = phone.event(json!({"launch": {"path": "/", "query": {}}}));
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (404, Some("not-installed")),
        "{v}"
    );
    server.ledger_is_clean();
}

#[test]
fn https_with_the_settings_certificate_answers_healthz() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let server = TestServer::start(|c| {
        c.tls_cert = fixtures.join("localhost.crt");
        c.tls_key = fixtures.join("localhost.key");
    });
    let addr = server
        .base
        .strip_prefix("http://")
        .expect("an address")
        .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let response = runtime.block_on(async {
        use rustls_pki_types::pem::PemObject;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let cert = rustls_pki_types::CertificateDer::from_pem_file(fixtures.join("localhost.crt"))
            .expect("the certificate");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).expect("a root");
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("a name");
        let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("the handshake, trusting the settings' certificate");
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .expect("send");
        let mut response = Vec::new();
        tls.read_to_end(&mut response).await.expect("read");
        String::from_utf8_lossy(&response).to_string()
    });
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("{\"ok\":true}"), "{response}");
}

#[test]
fn a_user_reports_exports_and_erases_what_a_mini_app_holds_over_the_api() {
    let server = TestServer::start(|_| {});
    server.install_hospital();
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");
    book(&phone, yes);

    // The report: what the hospital accessed for her, by capability.
    let (s, report) = phone.post("/v1/me/privacy/report", json!({}));
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["apps"][0]["app_id"], HOSPITAL, "{report}");
    let lines = report["apps"][0]["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["capability"] == "identity" && l["scope"] == "real-name"),
        "{report}"
    );
    // The export: her booking in the hospital's storage.
    let (s, export) = phone.post("/v1/me/privacy/export", json!({"app": HOSPITAL}));
    assert_eq!(s, 200, "{export}");
    assert_eq!(export["apps"][0]["app_id"], HOSPITAL, "{export}");
    assert!(
        !export["apps"][0]["storage"].as_array().unwrap().is_empty(),
        "{export}"
    );
    // Another user's report holds nothing of hers.
    let (_, theirs) = server
        .phone("wang-wei")
        .post("/v1/me/privacy/report", json!({}));
    assert_eq!(theirs["apps"], json!([]), "{theirs}");

    // The erasure names its mini-app; then the hospital sees a new user,
    // whose real name it must ask for again.
    let (s, refused) = phone.post("/v1/me/privacy/erase", json!({}));
    assert_eq!(
        (s, refused["error"]["kind"].as_str()),
        (400, Some("bad-request"))
    );
    let (s, erased) = phone.post("/v1/me/privacy/erase", json!({"app": HOSPITAL}));
    assert_eq!(s, 200, "{erased}");
    let (_, grants) = phone.get("/v1/me/grants");
    assert_eq!(grants["grants"], json!([]), "{grants}");
    let (_, audit) = phone.get("/v1/me/audit");
    let audited: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["capability"].as_str())
        .collect();
    for what in ["privacy.report", "privacy.export", "privacy.erase"] {
        assert!(audited.contains(&what), "{what} not in {audited:?}");
    }
    let (_, prompts) = book(&phone, yes);
    assert_eq!(prompts[0]["scope"], "real-name", "{prompts:?}");
}

#[test]
fn an_issuer_with_an_empty_namespace_signs_in_plain_user_ids() {
    const SOLO: &str = "solo-app-secret-of-at-least-32-bytes!!!";
    let server = TestServer::start(|c| {
        c.issuers.push(plaza_server::config::IssuerConfig {
            name: "solo".into(),
            hs256_secret: Some(SOLO.into()),
            ed25519_public_key: None,
            namespace: Some(String::new()),
        });
    });
    let (s, v) = server.operator().post(
        "/v1/admin/wallets/li-na/top-up",
        json!({"amount": 1250, "currency": "CNY"}),
    );
    assert_eq!(s, 200, "{v}");
    let token = |sub: &str| {
        plaza_server::auth::mint_hs256("solo", SOLO, sub, Duration::from_secs(60)).unwrap()
    };
    // Her id is `li-na` itself: the wallet the operator topped up.
    let (s, wallet) = Phone::new(&server.base, &token("li-na")).get("/v1/me/wallet");
    assert_eq!(s, 200, "{wallet}");
    assert_eq!(wallet["balance_minor"], 1250, "{wallet}");
    // A `sub` with a `:` could name another issuer's user: refused.
    let (s, refused) = Phone::new(&server.base, &token("citizen-app:li-na")).get("/v1/me/wallet");
    assert_eq!(s, 401, "{refused}");
    assert_eq!(refused["error"]["kind"], "malformed-token", "{refused}");
}

/// A TCP proxy to the database that the test can cut and restore: what a
/// node sees when PostgreSQL (or the network to it) goes away and comes
/// back.
struct DatabaseProxy {
    port: u16,
    upstream: std::net::SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
    runtime: tokio::runtime::Runtime,
}

impl DatabaseProxy {
    fn start(upstream: std::net::SocketAddr) -> DatabaseProxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut proxy = DatabaseProxy {
            port: 0,
            upstream,
            task: None,
            runtime,
        };
        proxy.restore();
        proxy
    }

    /// Listens again (on the same port after the first time), passing each
    /// connection through.
    fn restore(&mut self) {
        let upstream = self.upstream;
        let listener = self
            .runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", self.port)))
            .expect("bind the proxy");
        self.port = listener.local_addr().unwrap().port();
        self.task = Some(self.runtime.spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                links.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    /// Closes the listener and every connection through it.
    fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = self.runtime.block_on(t);
        }
    }
}

/// A node whose database went away answers `503 unavailable` with a
/// `Retry-After` (never a 500, never a wrong answer), and `/readyz` says so
/// too; once the database is back the same node serves again.
#[test]
fn a_store_outage_is_503_unavailable_with_retry_after_then_the_node_recovers() {
    let server_url = plaza_host::store::test_server_url().expect("PostgreSQL for the tests");
    let db = plaza_host::store::PostgresStore::open_throwaway(&server_url).unwrap();
    // postgres://user@127.0.0.1:PORT/db, rerouted through the proxy.
    let url = db.url().to_string();
    let at = url.rfind('@').unwrap() + 1;
    let slash = at + url[at..].find('/').unwrap();
    let mut proxy = DatabaseProxy::start(url[at..slash].parse().unwrap());
    let through = format!("{}127.0.0.1:{}{}", &url[..at], proxy.port, &url[slash..]);
    let mut server = TestServer::start(|c| c.store = through.into());
    server.citizen("li-na", 1_000);
    let phone = server.phone("li-na");
    assert_eq!(phone.balance(), 1_000);

    proxy.cut();
    let http = fresh_connections().build().new_agent();
    let get = |path: &str, bearer: &str| {
        let mut r = http
            .get(&format!("{}{path}", server.base))
            .header("authorization", &format!("Bearer {bearer}"))
            .call()
            .unwrap();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        (r.status().as_u16(), retry_after, body)
    };
    let (status, retry_after, body) = get("/v1/me/wallet", &phone.token);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["kind"], "unavailable", "{body}");
    assert_eq!(retry_after.as_deref(), Some("2"));
    let (status, _, body) = get("/readyz", "");
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );

    proxy.restore();
    assert_eq!(phone.balance(), 1_000);
    let (status, _, _) = get("/readyz", "");
    assert_eq!(status, 200);
    server.stop();
    drop(server);
    drop(db);
    proxy.cut();
}
