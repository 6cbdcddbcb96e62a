//! The publisher API over real HTTP: the hospital's back-end signs in with
//! the app secret the operator got at install, finds the day's deposits,
//! messages the patient by openid, refunds a deposit idempotently; a token
//! of another mini-app, an expired one and a forged one reach nothing.

mod support;

use plaza_host::clock::{Clock, ManualClock};
use plaza_host::package::Package;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use support::*;

const OTHER: &str = "cn.hz.other-clinic";

/// A back-end: an HTTP client with its access token.
fn backend(server: &TestServer, app_id: &str, secret: &str) -> Phone {
    let anon = Phone::new(&server.base, "");
    let (s, v) = anon.post(
        "/v1/publisher/token",
        json!({"app_id": app_id, "secret": secret}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["expires_in"], 7200);
    Phone::new(&server.base, v["access_token"].as_str().unwrap())
}

/// The hospital, and the same component unsigned under another app id
/// (developer mode); li-na booked and paid her deposit. The two app secrets.
fn hospital_with_a_paid_deposit(clock: &ManualClock) -> (TestServer, String, String) {
    let clock = clock.clone();
    let server = TestServer::start_with_host(
        |c| c.developer_mode = true,
        move |h| h.clock(Arc::new(clock)),
    );
    let installed = server.install_hospital();
    let secret = installed["app_secret"].as_str().unwrap().to_string();
    let f = plaza_test_programs::HOSPITAL;
    let manifest = f
        .manifest_text()
        .replacen(
            &format!("id = \"{HOSPITAL}\""),
            &format!("id = \"{OTHER}\""),
            1,
        )
        .replacen(
            "id = \"cn.hz.hospitals.maternity\"",
            "id = \"cn.hz.hospitals.other\"",
            1,
        );
    let pkg = Package::new(&manifest, f.component_bytes()).unwrap();
    let (s, v) = server
        .operator()
        .send_bytes("/v1/admin/packages", &pkg.to_bytes());
    assert_eq!(s, 200, "{v}");
    let other_secret = v["app_secret"].as_str().unwrap().to_string();
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");
    book(&phone, yes);
    let (paid, _) = phone.drive(json!({"tap": "deposit:B0001"}), yes);
    assert_eq!(paid["title"], "Deposit", "{paid}");
    (server, secret, other_secret)
}

fn today(clock: &ManualClock) -> String {
    let (y, m, d) = plaza_host::clock::civil_date(clock.now_ms(), 480);
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn the_hospitals_back_end_finds_messages_and_refunds_only_its_own_patients() {
    let clock = ManualClock::new(1_795_000_000_000);
    let (server, secret, other_secret) = hospital_with_a_paid_deposit(&clock);
    let anon = Phone::new(&server.base, "");

    // A wrong secret gets no token; no token or a forged one reaches nothing.
    let (s, v) = anon.post(
        "/v1/publisher/token",
        json!({"app_id": HOSPITAL, "secret": other_secret}),
    );
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (401, Some("wrong-secret")),
        "{v}"
    );
    let day = format!("/v1/publisher/payments?day={}", today(&clock));
    let (s, v) = anon.get(&day);
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (401, Some("missing-token")),
        "{v}"
    );
    let (s, v) = Phone::new(&server.base, "1.0.abc.def.cn.hz.maternity").get(&day);
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (401, Some("invalid-token")),
        "{v}"
    );

    // The day's statement: the deposit, with the payer's openid.
    let api = backend(&server, HOSPITAL, &secret);
    let (s, v) = api.get(&day);
    assert_eq!(s, 200, "{v}");
    let payments = v["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1, "{v}");
    let order = payments[0]["order_id"].as_str().unwrap().to_string();
    let openid = payments[0]["openid"].as_str().unwrap().to_string();
    let (s, one) = api.get(&format!("/v1/publisher/payments/{order}"));
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["openid"], openid.as_str());
    let amount = one["amount"].as_u64().unwrap();

    // Another mini-app's back-end finds neither the patient nor the order.
    let other = backend(&server, OTHER, &other_secret);
    let (s, v) = other.get(&format!("/v1/publisher/payments/{order}"));
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (404, Some("not-found")),
        "{v}"
    );
    let (s, v) = other.post(
        "/v1/publisher/messages",
        json!({"openid": openid, "template": "doctor-ready",
               "fields": {"doctor": "Dr. Chen Li", "room": "3"}}),
    );
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (404, Some("not-found")),
        "{v}"
    );
    let (s, v) = other.post(
        "/v1/publisher/refunds",
        json!({"order_id": order, "refund_id": "x-1", "amount": 1}),
    );
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (404, Some("not-found")),
        "{v}"
    );

    // The reminder was accepted once at booking (the sample no longer sends
    // it then): the back-end sends it once, a second is refused; "doctor
    // ready" is left once: of two racing messages, one is sent.
    let reminder = json!({"openid": openid, "template": "appointment-reminder",
               "fields": {"doctor": "Dr. Chen Li", "time": "tomorrow 09:00"}});
    let (s, v) = api.post("/v1/publisher/messages", reminder.clone());
    assert_eq!(s, 200, "{v}");
    let (s, v) = api.post("/v1/publisher/messages", reminder);
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (403, Some("refused")),
        "{v}"
    );
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let base = api.base.clone();
            let token = api.token.clone();
            let openid = openid.clone();
            std::thread::spawn(move || {
                Phone::new(&base, &token).post(
                    "/v1/publisher/messages",
                    json!({"openid": openid, "template": "doctor-ready",
                           "fields": {"doctor": "Dr. Chen Li", "room": "3"},
                           "link": "/bookings"}),
                )
            })
        })
        .collect();
    let mut statuses: Vec<u16> = racers.into_iter().map(|r| r.join().unwrap().0).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 403]);
    let (s, inbox) = server.phone("li-na").get("/v1/me/inbox");
    assert_eq!(s, 200);
    let ready: Vec<&Value> = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["template_id"] == "doctor-ready")
        .collect();
    assert_eq!(ready.len(), 1, "{inbox}");
    assert_eq!(ready[0]["link"], "/bookings");
    // The phone opens it: the hospital at the patient's bookings.
    let li_na = server.phone("li-na");
    let (s, opened) = li_na.post(
        &format!("/v1/me/inbox/{}/open", ready[0]["id"].as_str().unwrap()),
        json!({}),
    );
    assert_eq!(s, 200, "{opened}");
    assert_eq!(opened["app_id"], HOSPITAL);
    assert_eq!(opened["page"]["title"], "My bookings", "{opened}");
    let (s, v) = server.phone("wang-fang").post(
        &format!("/v1/me/inbox/{}/open", ready[0]["id"].as_str().unwrap()),
        json!({}),
    );
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (404, Some("not-found")),
        "{v}"
    );

    // A refund id retried answers the first refund; one refund moved.
    let before = server.phone("li-na").balance();
    let refund = json!({"order_id": order, "refund_id": "cancel-B0001", "amount": amount, "reason": "clinic closed"});
    let (s, first) = api.post("/v1/publisher/refunds", refund.clone());
    assert_eq!(s, 200, "{first}");
    let (s, again) = api.post("/v1/publisher/refunds", refund);
    assert_eq!(s, 200, "{again}");
    assert_eq!(first, again);
    let after = server.phone("li-na").balance();
    assert_eq!(after - before, first["wallet_part"].as_u64().unwrap());
    let (_, one) = api.get(&format!("/v1/publisher/payments/{order}"));
    assert_eq!(one["refunds"].as_array().unwrap().len(), 1, "{one}");
    server.ledger_is_clean();

    // Two hours on, the token has expired.
    clock.advance(Duration::from_secs(2 * 60 * 60));
    let (s, v) = api.get(&day);
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (401, Some("expired-token")),
        "{v}"
    );
}

#[test]
fn the_back_end_exchanges_a_login_code_and_replies_within_48_hours() {
    let clock = ManualClock::new(1_795_000_000_000);
    let (server, secret, _) = hospital_with_a_paid_deposit(&clock);
    let api = backend(&server, HOSPITAL, &secret);
    let (s, v) = api.post("/v1/publisher/login", json!({"code": "not-a-code"}));
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (400, Some("bad-login-code")),
        "{v}"
    );
    let (_, v) = api.get(&format!("/v1/publisher/payments?day={}", today(&clock)));
    let openid = v["payments"][0]["openid"].as_str().unwrap().to_string();

    // The patient writes from the inbox; the back-end replies in time.
    let (s, v) = api.post(
        "/v1/publisher/replies",
        json!({"openid": openid, "text": "Hello"}),
    );
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (403, Some("refused")),
        "{v}"
    );
    server
        .host
        .write_to_app("citizen-app:li-na", HOSPITAL, "Is parking free?")
        .unwrap();
    let (s, v) = api.post(
        "/v1/publisher/replies",
        json!({"openid": openid, "text": "Yes"}),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = api.post(
        "/v1/publisher/broadcasts",
        json!({"title": "News", "text": "New wing"}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["skipped"], 0);
}

#[test]
fn a_back_end_sets_its_own_mini_apps_settings_and_no_other() {
    let server = TestServer::start(|c| c.developer_mode = true);
    let f = plaza_test_programs::CITY_SERVICES;
    let pkg = Package::new(&f.manifest_text(), f.component_bytes()).expect("package");
    let op = server.operator();
    let (s, v) = op.send_bytes("/v1/admin/packages", &pkg.to_bytes());
    assert_eq!(s, 200, "{v}");
    let city = backend(&server, "cn.gov.hz.city", v["app_secret"].as_str().unwrap());
    let hospital_secret = server.install_hospital()["app_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let hospital = backend(&server, HOSPITAL, &hospital_secret);

    let (s, v) = city.put(
        "/v1/publisher/settings/agency-origin",
        json!({"value": "https://records.hz.gov.cn"}),
    );
    assert_eq!(s, 200, "{v}");
    // A secret by its declaration: sealed, never given back.
    let (s, v) = city.put(
        "/v1/publisher/settings/agency-api-key",
        json!({"value": "city-key-0815"}),
    );
    assert_eq!(s, 200, "{v}");
    let (_, v) = op.get("/v1/admin/apps/cn.gov.hz.city/settings");
    assert_eq!(
        v["settings"][0]["value"], "https://records.hz.gov.cn",
        "{v}"
    );
    assert_eq!(v["settings"][0]["source"], "set", "{v}");
    assert_eq!(
        (&v["settings"][1]["secret"], &v["settings"][1]["value"]),
        (&json!(true), &Value::Null),
        "{v}"
    );
    assert!(!v.to_string().contains("city-key-0815"));
    // The hospital's token reaches only the hospital's settings: it has no
    // `agency-origin`, and the city's stays as the city set it.
    let (s, v) = hospital.put(
        "/v1/publisher/settings/agency-origin",
        json!({"value": "https://evil.example"}),
    );
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (404, Some("unknown-setting")),
        "{v}"
    );
    let (s, v) = city.delete("/v1/publisher/settings/agency-origin");
    assert_eq!((s, v["removed"].as_bool()), (200, Some(true)), "{v}");
    let (_, v) = op.get("/v1/admin/apps/cn.gov.hz.city/settings");
    assert_eq!(v["settings"][0]["source"], "default", "{v}");
}

/// The hospital's back office of `crates/agency-backend`, run against this
/// server over HTTP (`HttpApi`): the sample registers the booking with it
/// over the network capability, the office exchanges the login code, sends
/// the reminder the day before and refunds the deposit of the cancelled
/// clinic once, signing in again when its token has expired.
#[test]
fn the_hospitals_back_office_works_over_http_against_the_server() {
    use plaza_agency_backend::{Backend, HttpApi, Offices};
    // 2026-11-21 09:00 in Hangzhou.
    let clock = ManualClock::new(1_795_222_800_000);
    let offices = Arc::new(Offices::new(480));
    let office = Backend::start_with("127.0.0.1:0", None, Some(offices.clone())).unwrap();
    let addr = office.addr();
    let host_clock = clock.clone();
    let server = TestServer::start_with_host(
        |c| c.developer_mode = true,
        move |h| {
            let mut n = plaza_host::NetworkConfig::default();
            n.resolve_to(plaza_agency_backend::HOST, plaza_agency_backend::PORT, addr);
            h.clock(Arc::new(host_clock)).network(n)
        },
    );
    let secret = server.install_hospital()["app_secret"]
        .as_str()
        .unwrap()
        .to_string();
    offices.connect(Arc::new(HttpApi::new(&server.base, HOSPITAL, &secret)));
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");
    // The earliest time is tomorrow, Sun 22 Nov 08:30.
    let (done, _) = book(&phone, yes);
    assert!(
        notices(&done)
            .iter()
            .any(|n| n.contains("You will be reminded the day before.")),
        "{done}"
    );
    let (paid, _) = phone.drive(json!({"tap": "deposit:B0001"}), yes);
    assert_eq!(paid["title"], "Deposit", "{paid}");
    assert_eq!(phone.balance(), 95_000);
    let user = "citizen-app:li-na";
    assert!(server.host.inbox(user, false, 10).unwrap().is_empty());

    // Today is the day before: the reminder, by openid, once.
    let report = offices
        .run(
            "hospital",
            "send-reminders",
            &Default::default(),
            clock.now_ms(),
        )
        .unwrap();
    assert_eq!(report.done.len(), 1, "{report}");
    let inbox = server.host.inbox(user, false, 10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        inbox[0].body,
        "doctor: Dr. Chen Li\ntime: tomorrow, Sun 22 Nov 08:30"
    );
    let again = offices
        .run(
            "hospital",
            "send-reminders",
            &Default::default(),
            clock.now_ms(),
        )
        .unwrap();
    assert!(again.done.is_empty(), "{again}");

    // The clinic is cancelled: the deposit comes back, once.
    let with = [("doctor", "chen-li"), ("day", "2026-11-22")]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let report = offices
        .run("hospital", "cancel-clinic", &with, clock.now_ms())
        .unwrap();
    assert_eq!(report.done.len(), 1, "{report}");
    assert_eq!(phone.balance(), 100_000);
    // Three hours on, the office's token has expired: it signs in again,
    // and the retried cancellation moves nothing.
    clock.advance(Duration::from_secs(3 * 3600));
    let report = offices
        .run("hospital", "cancel-clinic", &with, clock.now_ms())
        .unwrap();
    assert!(
        report.done.is_empty() && report.failed.is_empty(),
        "{report}"
    );
    assert!(report.skipped[0].contains("already refunded"), "{report}");
    assert_eq!(phone.balance(), 100_000);
    let ledger = server.ledger_is_clean();
    assert_eq!(ledger["report"]["refunds"], 1, "{ledger}");

    // A wrong secret: a typed error, not a panic.
    let wrong = Offices::new(480);
    wrong.connect(Arc::new(HttpApi::new(
        &server.base,
        HOSPITAL,
        "not-the-secret",
    )));
    let err = wrong
        .register(
            "hospital",
            "bookings",
            &[
                ("code", "x"),
                ("number", "B0009"),
                ("doctor", "chen-li"),
                ("doctor_name", "Dr. Chen Li"),
                ("slot", "20261122-0830"),
                ("time", "Sun"),
                ("deposit", ""),
            ]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        )
        .unwrap_err();
    assert!(
        matches!(err, plaza_agency_backend::OfficeError::SignIn(_)),
        "{err}"
    );
}

/// A `plaza-server` process on `store`, its first stdout line read (the
/// address); the rest of its stdout comes through the channel, line by line.
fn spawn_server(
    dir: &std::path::Path,
    store: &std::path::Path,
    stall: bool,
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    use std::io::BufRead;
    let file = dir.join("plaza-server.toml");
    std::fs::write(
        &file,
        format!(
            "store = {store:?}\ncache_dir = \"\"\nadmin_token = \"{ADMIN}\"\nutc_offset_minutes = 480\n[[issuer]]\nname = \"citizen-app\"\nhs256_secret = \"{HS_SECRET}\"\n"
        ),
    )
    .unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_plaza-server"));
    command
        .args(["--config", file.to_str().unwrap()])
        .env("PLAZA_SERVER_LISTEN", "127.0.0.1:0")
        .env_remove("PLAZA_TEST_STALL_AFTER_REFUND_COMMIT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if stall {
        command.env("PLAZA_TEST_STALL_AFTER_REFUND_COMMIT", "1");
    }
    let mut child = command.spawn().expect("start plaza-server");
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let first = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says its address");
    let base = first.trim().trim_end_matches('/').to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");
    (child, base, lines)
}

#[test]
fn a_refund_id_retried_after_a_sigkill_between_commit_and_answer_refunds_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("plaza.db");
    // The hospital installed and li-na's deposit paid, on a store of our own.
    let server = TestServer::start(|c| c.store = store.clone());
    let secret = server.install_hospital()["app_secret"]
        .as_str()
        .unwrap()
        .to_string();
    server.citizen("li-na", 100_000);
    let phone = server.phone("li-na");
    book(&phone, yes);
    let (paid, _) = phone.drive(json!({"tap": "deposit:B0001"}), yes);
    assert_eq!(paid["title"], "Deposit", "{paid}");
    let paid_balance = phone.balance();
    let api = backend(&server, HOSPITAL, &secret);
    let day = plaza_host::clock::civil_date(plaza_host::clock::SystemClock.now_ms(), 480);
    let (s, v) = api.get(&format!(
        "/v1/publisher/payments?day={:04}-{:02}-{:02}",
        day.0, day.1, day.2
    ));
    assert_eq!(s, 200, "{v}");
    let order = v["payments"][0]["order_id"].as_str().unwrap().to_string();
    let amount = v["payments"][0]["amount"].as_u64().unwrap();
    drop(server);

    // The server process commits the refund and stalls before answering;
    // it is killed there: its caller never hears back.
    let refund = json!({"order_id": order, "refund_id": "cancel-B0001", "amount": amount, "reason": "clinic closed"});
    let (mut child, base, lines) = spawn_server(dir.path(), &store, true);
    let api = backend_at(&base, HOSPITAL, &secret);
    let caller = std::thread::spawn({
        let (base, token, refund) = (base.clone(), api.token.clone(), refund.clone());
        move || {
            let agent: ureq::Agent = fresh_connections()
                .timeout_global(Some(Duration::from_secs(120)))
                .build()
                .into();
            agent
                .post(&format!("{base}/v1/publisher/refunds"))
                .header("authorization", &format!("Bearer {token}"))
                .send_json(refund)
                .map(|r| r.status().as_u16())
        }
    });
    let committed = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says the refund committed");
        if let Some(tx) = line.strip_prefix("refund committed: ") {
            break tx.to_string();
        }
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        caller.join().unwrap().is_err(),
        "the caller got no answer to its refund"
    );

    // After a restart, the back-end retries the same refund id: the first
    // refund comes back, and nothing moves again.
    let (mut child, base, _lines) = spawn_server(dir.path(), &store, false);
    let api = backend_at(&base, HOSPITAL, &secret);
    let (s, again) = api.post("/v1/publisher/refunds", refund);
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["tx_id"], committed.as_str(), "{again}");
    let (_, one) = api.get(&format!("/v1/publisher/payments/{order}"));
    assert_eq!(one["refunds"].as_array().unwrap().len(), 1, "{one}");
    let (s, verified) = Phone::new(&base, ADMIN).get("/v1/admin/ledger/verify");
    assert_eq!((s, &verified["clean"]), (200, &json!(true)), "{verified}");
    child.kill().unwrap();
    child.wait().unwrap();
    // The ledger on disk (what `plaza ledger verify` reads) is clean, with
    // the deposit's wallet part back once.
    let host = plaza_host::Host::open(&store, plaza_host::HostConfig::default()).unwrap();
    assert!(host.verify_ledger().unwrap().is_clean());
    let back = again["wallet_part"].as_u64().unwrap();
    assert_eq!(
        host.wallet_balance("citizen-app:li-na").unwrap(),
        paid_balance + back
    );
}

/// A back-end of the server at `base`.
fn backend_at(base: &str, app_id: &str, secret: &str) -> Phone {
    let (s, v) = Phone::new(base, "").post(
        "/v1/publisher/token",
        json!({"app_id": app_id, "secret": secret}),
    );
    assert_eq!(s, 200, "{v}");
    Phone::new(base, v["access_token"].as_str().unwrap())
}

#[test]
fn a_package_notifying_an_undeclared_origin_is_refused_with_422() {
    let server = TestServer::start(|c| c.developer_mode = true);
    let f = plaza_test_programs::FUZZ_CALLER;
    let manifest = f.manifest_text().replacen(
        "[capabilities.payment]\n",
        "[capabilities.payment]\nnotify = \"https://pay.clinic.example.cn/notify\"\n\n[capabilities.network]\norigins = [\"https://pay.clinic.example.cn\"]\n",
        1,
    );
    let good = Package::new(&manifest, f.component_bytes())
        .unwrap()
        .to_bytes();
    // The declared origin changed (same length): the notify URL's is not
    // declared any more.
    let from = b"origins = [\"https://pay.clinic.example.cn\"]";
    let at = good
        .windows(from.len())
        .position(|w| w == from)
        .expect("the declared origin");
    let mut bad = good.clone();
    bad[at..at + from.len()].copy_from_slice(b"origins = [\"https://api.clinic.example.cn\"]");
    let op = server.operator();
    let (s, v) = op.send_bytes("/v1/admin/packages", &bad);
    assert_eq!(
        (s, v["error"]["kind"].as_str()),
        (422, Some("notify-origin-undeclared")),
        "{v}"
    );
    let (_, listed) = op.get("/v1/admin/packages");
    assert!(
        !listed.to_string().contains("test.plaza.fuzz-caller"),
        "{listed}"
    );
    let (s, v) = op.send_bytes("/v1/admin/packages", &good);
    assert_eq!(s, 200, "{v}");
}
