//! `plaza serve` end to end in headless Chromium, driven over WebDriver by
//! chromedriver (Debian's `chromium` and `chromium-driver`;
//! `scripts/ensure-browser.sh` installs them and `scripts/test.sh` runs it
//! first). A missing browser fails these tests with that advice.
//!
//! - a patient books at the hospital (signed, publisher verified in the
//!   store's registry under a name that differs from the manifest's),
//!   allows the consent dialogs, accepts reminders, pays the bill with
//!   insurance, sees the receipt, the money in the wallet panel and the
//!   doctor-ready message in the inbox panel, and revokes a grant from the panel;
//! - markup and script in every kind of block show as literal text and run
//!   nothing;
//! - the test clock and the user switch;
//! - `--watch` rebuilds a changed mini-app and reloads the page, keeping
//!   the user and the store;
//! - the hospital's date picker, bounded by the host; every new block and
//!   input (choices, switches, read-only and hidden fields, constraints,
//!   sections, load more, refresh, the tab bar, the locale);
//! - the marriage appointment's ID-card photo: the simulator's picker for
//!   the host's media prompt (cancelled, a file the host refuses with its
//!   reason, the photo), and the photo shown on the page.

mod common;

use plaza_test_programs::{
    CITY_SERVICES, FORM_PROBE, Fixture, GUESTS_TARGET_DIR, HOSPITAL, SIM_PROBE,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One browser at a time: the machine has two cores.
static BROWSER: Mutex<()> = Mutex::new(());

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// A headless Chromium session over the W3C WebDriver protocol: a dozen
/// commands, each one JSON request to chromedriver.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let (Some(chromium), Some(chromedriver)) = (
            find_program(&["chromium", "chromium-browser"]),
            find_program(&["chromedriver"]),
        ) else {
            panic!(
                "headless Chromium and chromedriver are needed for the simulator's browser tests \
                 and were not found: run scripts/ensure-browser.sh (it installs Debian's chromium \
                 and chromium-driver)"
            );
        };
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
        let base = format!("http://127.0.0.1:{port}");
        let http = agent();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http
                .get(&format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            http,
            _profile: profile,
        };
        let v = browser.post("/session", caps);
        browser.session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        browser
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.http.get(&url).call(),
            ("DELETE", _) => self.http.delete(&url).call(),
            (_, Some(b)) => self.http.post(&url).send_json(b),
            (_, None) => self.http.post(&url).send_json(json!({})),
        };
        let mut r = response.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let v: Value = r.body_mut().read_json().unwrap_or(Value::Null);
        if !r.status().is_success() {
            panic!("WebDriver {method} {path} failed: {v}");
        }
        v
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.request("POST", path, Some(body))
    }

    fn cmd(&self, path: &str, body: Value) -> Value {
        let mut v = self.post(&format!("/session/{}{path}", self.session), body);
        v["value"].take()
    }

    fn goto(&self, url: &str) {
        self.cmd("/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page.
    fn js(&self, script: &str, args: Value) -> Value {
        self.cmd("/execute/sync", json!({ "script": script, "args": args }))
    }

    fn element(&self, css: &str) -> Option<String> {
        let v = self.post(
            &format!("/session/{}/elements", self.session),
            json!({"using": "css selector", "value": css}),
        );
        v["value"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|e| e[ELEMENT].as_str())
            .map(str::to_string)
    }

    /// Clicks the element `css` (waiting for it), as a user's mouse does.
    fn click(&self, css: &str) {
        let id = self.wait_for(css);
        self.cmd(&format!("/element/{id}/click"), json!({}));
    }

    /// Types into the element `css`, replacing what it holds.
    fn type_into(&self, css: &str, text: &str) {
        let id = self.wait_for(css);
        self.cmd(&format!("/element/{id}/clear"), json!({}));
        self.cmd(&format!("/element/{id}/value"), json!({ "text": text }));
    }

    /// Chooses the file at `path` in the file input `css`, as a user's
    /// file picker does.
    fn choose_file(&self, css: &str, path: &Path) {
        let id = self.wait_for(css);
        self.cmd(
            &format!("/element/{id}/value"),
            json!({ "text": path.to_str().unwrap() }),
        );
    }

    fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(id) = self.element(css) {
                return id;
            }
            if Instant::now() > deadline {
                panic!(
                    "no `{css}` on the page after 30 s; the phone shows:\n{}",
                    self.text("#phone")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The text of the first element `css` ("" if there is none).
    fn text(&self, css: &str) -> String {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
            json!([css]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Waits until the text of `css` contains `needle`; returns the text.
    fn wait_text(&self, css: &str, needle: &str) -> String {
        self.wait_until(&format!("`{css}` to contain `{needle}`"), || {
            let t = self.text(css);
            t.contains(needle).then_some(t)
        })
    }

    fn wait_until<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited 60 s for {what}; the phone shows:\n{}\n\nthe panels show:\n{}",
                    self.text("#phone"),
                    self.text("#panels")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The value of the phone's field `label`.
    fn field(&self, label: &str) -> Option<String> {
        self.js(
            "for (const f of document.querySelectorAll('#screen .mp-field')) {
               if (f.querySelector('.mp-label').textContent === arguments[0])
                 return f.querySelector('.mp-value').textContent;
             }
             return null;",
            json!([label]),
        )
        .as_str()
        .map(str::to_string)
    }

    fn wait_field(&self, label: &str, value: &str) {
        self.wait_until(&format!("field {label} = {value}"), || {
            (self.field(label).as_deref() == Some(value)).then_some(())
        });
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .http
                .delete(&format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A running `plaza serve`.
struct Simulator {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Simulator {
    /// Starts `plaza serve --port 0 ARGS` with `env`; waits for its URL.
    fn start(tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> Simulator {
        let log = tmp.join("serve.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plaza"));
        cmd.arg("serve")
            .args(["--port", "0"])
            .args(args)
            .env("PLAZA_STORE", tmp.join("default.db"))
            .env("RUST_LIB_BACKTRACE", "0")
            .env_remove("PLAZA_DEVELOPER_MODE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start plaza serve");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first.trim().to_string();
        if !url.starts_with("http://127.0.0.1:") {
            let _ = child.wait();
            panic!(
                "plaza serve printed `{url}` instead of its URL; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        Simulator { child, url, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // SIGTERM first: the simulator stops and removes its temporary
        // store; SIGKILL if it has not stopped in five seconds.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("plaza serve's log:\n{}", self.log());
        }
    }
}

fn plaza_ok(store: &Path, args: &[&str]) -> String {
    let o = common::plaza_signed_only(store, args);
    assert!(
        o.status.success(),
        "plaza {args:?} failed: {}",
        common::err(&o)
    );
    common::out(&o)
}

fn dir_of(f: &Fixture) -> PathBuf {
    Path::new(f.manifest).parent().unwrap().to_path_buf()
}

fn pack(tmp: &Path, f: &Fixture) -> PathBuf {
    let out = tmp.join(format!("{}.plaza", f.name));
    plaza_ok(
        &tmp.join("unused.db"),
        &[
            "pack",
            dir_of(f).to_str().unwrap(),
            "--component",
            f.component,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    out
}

/// Parses `CNY 12.34` into fen.
fn fen(s: &str) -> i64 {
    let n = s.trim().trim_start_matches("CNY").trim();
    let (w, f) = n.split_once('.').unwrap_or((n, "0"));
    let sign = if w.starts_with('-') { -1 } else { 1 };
    sign * (w.trim_start_matches('-').parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap())
}

/// The name the host operator registered the hospital under: not the
/// manifest's ("Hangzhou Maternity Hospital"), so the dialogs prove where
/// their payee and asker come from.
const REGISTERED_NAME: &str = "Women's Hospital, Zhejiang University";

#[test]
fn a_patient_books_consents_pays_with_insurance_and_sees_receipt_wallet_and_inbox() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let s = store.to_str().unwrap();
    // The publisher signs; the host operator registers and verifies it.
    let pkg = pack(tmp.path(), &HOSPITAL);
    let key = tmp.path().join("hospital.key");
    plaza_ok(&store, &["keygen", "-o", key.to_str().unwrap()]);
    plaza_ok(
        &store,
        &[
            "publisher",
            "add",
            "cn.hz.hospitals.maternity",
            "--name",
            REGISTERED_NAME,
            "--category",
            "medical",
            "--key",
            &format!("{}.pub", key.display()),
            "--verified",
        ],
    );
    plaza_ok(
        &store,
        &[
            "sign",
            pkg.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    let sim = Simulator::start(tmp.path(), &["--store", s, pkg.to_str().unwrap()], &[]);
    let b = Browser::start();
    let started = Instant::now();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");

    // The host makes the user a citizen with a verified name, an insurance
    // card and money.
    b.click("#citizen-make");
    b.wait_text("#wallet-balance", "CNY 500.00");
    b.wait_text("#insurance-card", "70 %");

    // The home screen shows the publisher as the registry knows it.
    b.wait_text("#screen", REGISTERED_NAME);
    b.click("#screen [data-app='cn.hz.maternity']");
    b.wait_text("#nav-title", "Hangzhou Maternity Hospital");
    b.click("#screen [data-action='dept:obstetrics']");
    b.click("#screen [data-action='doctor:chen-li']");
    b.click("#screen [data-action='earliest:chen-li']");

    // Consent: the registry's name and the manifest's purpose.
    b.wait_for("#dialog[data-kind='consent']");
    assert_eq!(b.text("#dialog-publisher"), REGISTERED_NAME);
    assert_eq!(
        b.text("#dialog-purpose"),
        "To register you as a patient with your legal name"
    );
    assert!(b.text("#dialog").contains("verified by the host"));
    assert!(b.text("#dialog-scope").contains("real name"));
    b.click("#dialog-allow");
    b.wait_text("#nav-title", "Confirm booking");
    b.wait_text("#screen", "Registered as Li Na");
    b.type_into(
        "#screen form[data-form='patient'] input[name='phone']",
        "13800138000",
    );
    b.click("#screen form[data-form='patient'] .mp-submit");

    // Reminders: accept both templates.
    b.wait_for("#dialog[data-kind='subscription']");
    assert_eq!(b.text("#dialog-publisher"), REGISTERED_NAME);
    assert!(b.text("#dialog").contains("Appointment reminder"));
    b.click("#dialog-accept");
    b.wait_text("#nav-title", "Booking confirmed");
    let number = b.field("Booking number").expect("a booking number");

    // The bill: insurance consent, then the payment with its split.
    b.click("#screen [data-action='bookings']");
    b.click(&format!("#screen [data-action='booking:{number}']"));
    b.click(&format!("#screen [data-action='bill:{number}']"));
    b.wait_for("#dialog[data-kind='consent']");
    assert_eq!(
        b.text("#dialog-purpose"),
        "To settle your bill with your medical insurance"
    );
    b.click("#dialog-allow");
    b.wait_for("#dialog[data-kind='payment']");
    assert_eq!(b.text("#dialog-payee"), REGISTERED_NAME);
    let items = b.text("#dialog-items");
    for item in ["Consultation", "Ultrasound scan", "Medical record booklet"] {
        assert!(items.contains(item), "{items}");
    }
    let amount = fen(&b.text("#dialog-amount"));
    let insurance = fen(&b.text("#dialog-insurance"));
    let wallet = fen(&b.text("#dialog-wallet"));
    assert!(
        insurance > 0,
        "insurance pays nothing: {}",
        b.text("#dialog")
    );
    assert_eq!(insurance + wallet, amount);
    b.click("#dialog-confirm");

    // The receipt, the wallet and ledger, the inbox.
    b.wait_text("#nav-title", "Consultation bill");
    b.wait_text("#screen", &format!("to {REGISTERED_NAME}."));
    assert_eq!(fen(&b.field("Paid by insurance").unwrap()), insurance);
    assert_eq!(fen(&b.field("Paid by you").unwrap()), wallet);
    let balance = b.wait_until("the wallet to be charged", || {
        let bal = fen(&b.text("#wallet-balance"));
        (bal == 50_000 - wallet).then_some(bal)
    });
    assert_eq!(balance, 50_000 - wallet);
    let ledger = b.text("#ledger");
    assert!(
        ledger.contains(&format!("CNY -{}.{:02}", wallet / 100, wallet % 100)),
        "{ledger}"
    );
    assert!(ledger.contains("Hangzhou Maternity Hospital"), "{ledger}");
    // The reminder comes from the hospital's back office the day before,
    // not at booking; checking in sends "the doctor is ready".
    assert!(!b.text("#inbox").contains("Appointment reminder"));
    b.click(&format!("#screen [data-action='booking:{number}']"));
    b.click(&format!("#screen [data-action='arrived:{number}']"));
    b.wait_text("#nav-title", "Checked in");
    let inbox = b.wait_text("#inbox", "The doctor is ready");
    assert!(inbox.contains("Dr. Chen Li"), "{inbox}");

    // Grants: both decisions are listed; revoking one removes it and is
    // audited.
    b.wait_for("#grants li[data-scope='insurance-card']");
    b.click("#grants li[data-scope='real-name'] button.revoke");
    b.wait_until("the real-name grant to go", || {
        b.element("#grants li[data-scope='real-name']")
            .is_none()
            .then_some(())
    });
    assert!(
        b.element("#grants li[data-scope='insurance-card']")
            .is_some()
    );
    b.wait_text("#audit", "consent.revoked.real-name");
    eprintln!(
        "hospital flow in the browser: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(b);
    drop(sim);
    // The store agrees with the panels.
    let grants = plaza_ok(&store, &["grants", "list", "--user", "guest"]);
    assert!(
        grants.contains("insurance-card") && !grants.contains("real-name"),
        "{grants}"
    );
}

#[test]
fn markup_and_script_from_a_mini_app_show_as_text_and_never_run() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let pkg = pack(tmp.path(), &SIM_PROBE);
    let sim = Simulator::start(
        tmp.path(),
        &["--developer-mode", pkg.to_str().unwrap()],
        &[],
    );

    // The policy forbids inline script, as a second line of defence.
    let mut r = agent().get(&sim.url).call().unwrap();
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let html = r.body_mut().read_to_string().unwrap();
    assert!(!html.contains("<script>"), "the page has an inline script");
    // Another site cannot drive it: not through a rebound host name, not
    // with a form post.
    let r = agent()
        .get(&format!("{}simulator/state", sim.url))
        .header("Host", "evil.example")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 421);
    let r = agent()
        .post(&format!("{}simulator/token", sim.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("user=mallory")
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);

    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    b.wait_text("#screen", "unverified");
    b.click("#screen [data-app='test.plaza.sim-probe']");
    b.wait_field("Visits", "1");

    let literal = [
        "<script>window.plazaInjected = 2</script>",
        r#"<img src=x onerror="window.plazaInjected=3">"#,
        r#"<h1 id="injected-heading">Injected</h1>"#,
        r#"<a href="javascript:window.plazaInjected=4">value</a>"#,
        r#"<u onclick="window.plazaInjected=5">item</u>"#,
        r#"<svg onload="window.plazaInjected=6">"#,
        "</div><script>window.plazaInjected=7</script>",
        r#"<iframe src="javascript:window.plazaInjected=8">"#,
    ];
    let check = |when: &str| {
        let screen = b.text("#screen");
        for l in literal {
            assert!(
                screen.contains(l),
                "{when}: `{l}` is not shown as text:\n{screen}"
            );
        }
        assert_eq!(
            b.text("#nav-title"),
            "<b>Probe</b><script>window.plazaInjected=1</script>"
        );
        let found = b.js(
            "return {
               injected: window.plazaInjected === undefined ? null : window.plazaInjected,
               elements: document.querySelectorAll(
                 '#phone script, #phone img, #phone svg, #phone iframe, #phone a, #phone u, #phone i, #phone b, #phone h1, #injected-heading'
               ).length,
               scripts: Array.from(document.scripts).map((s) => s.src),
             };",
            json!([]),
        );
        assert_eq!(
            found["injected"],
            Value::Null,
            "{when}: a mini-app's script ran"
        );
        assert_eq!(
            found["elements"], 0,
            "{when}: a mini-app's markup became elements"
        );
        let scripts = found["scripts"].as_array().unwrap();
        assert_eq!(scripts.len(), 1, "{when}: {scripts:?}");
        assert!(scripts[0].as_str().unwrap().ends_with("/assets/app.js"));
    };
    check("after launch");

    // Tapping the markup-labelled button and item works as any other.
    b.click("#screen button[data-action='again']");
    b.wait_field("Visits", "2");
    b.click("#screen .mp-item[data-action='again']");
    b.wait_field("Visits", "3");
    // What the user types comes back as text too.
    b.type_into(
        "#screen form[data-form='note'] input[name='text']",
        r#"<img src=x onerror="window.plazaInjected=9">"#,
    );
    b.click("#screen form[data-form='note'] .mp-submit");
    b.wait_text(
        "#screen",
        r#"You wrote: <img src=x onerror="window.plazaInjected=9">"#,
    );
    check("after a tap, a link and a form");
}

#[test]
fn the_test_clock_advances_and_users_switch_keeping_their_sessions() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let pkg = pack(tmp.path(), &SIM_PROBE);
    let sim = Simulator::start(
        tmp.path(),
        &["--developer-mode", "--user", "alice", pkg.to_str().unwrap()],
        &[],
    );
    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    b.wait_text("#user-name", "alice");
    b.click("#screen [data-app='test.plaza.sim-probe']");
    b.wait_field("Visits", "1");
    let before: i64 = b.field("Now").unwrap().parse().unwrap();

    // A day later, by the test clock: the mini-app's clock says so too.
    b.click("button.advance[data-advance='86400000']");
    b.wait_text("#clock-offset", "1 d 0 h ahead");
    b.click("#screen button[data-action='again']");
    b.wait_field("Visits", "2");
    let after: i64 = b.field("Now").unwrap().parse().unwrap();
    let moved = after - before;
    assert!(
        (86_400_000..86_400_000 + 120_000).contains(&moved),
        "the clock moved {moved} ms"
    );

    // Bob starts on the home screen with his own storage.
    b.type_into("#user-input", "bob");
    b.click("#user-switch");
    b.wait_text("#user-name", "bob");
    b.wait_text("#nav-title", "Plaza");
    b.click("#screen [data-app='test.plaza.sim-probe']");
    b.wait_field("Visits", "1");

    // Alice finds her page as she left it, and her session goes on.
    b.type_into("#user-input", "alice");
    b.click("#user-switch");
    b.wait_text("#user-name", "alice");
    b.wait_field("Visits", "2");
    b.click("#screen button[data-action='again']");
    b.wait_field("Visits", "3");
    // Back with nothing to go back to is the home screen.
    b.click("#nav-back");
    b.wait_text("#nav-title", "Plaza");

    // Stopped, the simulator removes its temporary store.
    drop(b);
    let log = sim.log();
    let store = log
        .lines()
        .find_map(|l| l.strip_prefix("store: ")?.strip_suffix(" (temporary)"))
        .unwrap_or_else(|| panic!("no temporary store in the log:\n{log}"))
        .to_string();
    assert!(Path::new(&store).exists());
    drop(sim);
    assert!(!Path::new(&store).exists(), "{store} is left behind");
}

/// The sim-probe crate copied out of the guests' workspace under another
/// package name, building into the guests' target directory (so its
/// dependencies are already built).
fn copy_probe(tmp: &Path, name: &str) -> PathBuf {
    let src = dir_of(&SIM_PROBE);
    let dir = tmp.join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(src.join("src/lib.rs"), dir.join("src/lib.rs")).unwrap();
    std::fs::copy(src.join("plaza.toml"), dir.join("plaza.toml")).unwrap();
    std::fs::copy(src.join("../Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let sdk = src.join("../../../sdk").canonicalize().unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             publish = false\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\
             plaza-sdk = {{ path = {sdk:?} }}\n\n[workspace]\n\n[profile.release]\n\
             opt-level = \"s\"\nlto = true\ncodegen-units = 1\nstrip = true\npanic = \"abort\"\n",
            sdk = sdk.display().to_string()
        ),
    )
    .unwrap();
    dir
}

#[test]
fn watch_rebuilds_a_changed_mini_app_and_reloads_the_page_keeping_user_and_store() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let project = copy_probe(tmp.path(), "sim-probe-watch");
    let sim = Simulator::start(
        tmp.path(),
        &[
            "--watch",
            "--user",
            "carol",
            "--watch-interval",
            "200",
            project.to_str().unwrap(),
        ],
        &[("CARGO_TARGET_DIR", GUESTS_TARGET_DIR)],
    );
    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    // A project is signed by the simulator as a verified publisher.
    b.wait_text("#screen", "Plaza Test Fixtures \u{2713} verified");
    b.click("#screen [data-app='test.plaza.sim-probe']");
    b.wait_field("Build", "build-one");
    b.click("#screen button[data-action='again']");
    b.wait_field("Visits", "2");
    b.js("window.beforeReload = true; return null;", json!([]));

    let lib = project.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, source.replace("\"build-one\"", "\"build-two\"")).unwrap();
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(300);
    while b.field("Build").as_deref() != Some("build-two") {
        assert!(
            Instant::now() < deadline,
            "the page never showed the new build; the simulator's log:\n{}",
            sim.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "rebuild and reload after a change: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The browser reloaded; the user, their storage and their place are kept.
    assert_eq!(
        b.js("return window.beforeReload === undefined;", json!([])),
        true
    );
    b.wait_text("#user-name", "carol");
    b.wait_field("Visits", "3");
    assert!(
        sim.log().contains("reinstalled test.plaza.sim-probe"),
        "{}",
        sim.log()
    );

    // A change that does not build: the page says so, and the previous
    // build keeps running.
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, source.replace("struct Probe;", "struct Probe")).unwrap();
    b.wait_text("#build-error", "failed (the previous build keeps running)");
    b.click("#screen button[data-action='again']");
    b.wait_field("Visits", "4");
    assert_eq!(b.field("Build").as_deref(), Some("build-two"));
}

#[test]
fn bad_arguments_get_a_clear_error() {
    // It builds in the guests' target directory too: one at a time.
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    // A project on a store of the user's own: the simulator does not add to
    // its registry unasked.
    let project = copy_probe(tmp.path(), "sim-probe-registry");
    let o = Command::new(env!("CARGO_BIN_EXE_plaza"))
        .args(["serve", "--port", "0", "--store"])
        .arg(tmp.path().join("mine.db"))
        .arg(&project)
        .env("CARGO_TARGET_DIR", GUESTS_TARGET_DIR)
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = common::err(&o);
    assert!(
        err.contains("publisher test.plaza is not in the registry of this store")
            && err.contains("--register-publishers"),
        "{err}"
    );
    let o = common::plaza(
        &tmp.path().join("plaza.db"),
        &["serve", "--port", "0", "/no/such/thing.plaza"],
    );
    assert!(!o.status.success());
    assert!(
        common::err(&o).contains("is neither a package file nor a mini-app directory"),
        "{}",
        common::err(&o)
    );
    let o = common::plaza(
        &tmp.path().join("plaza.db"),
        &["serve", "--port", "0", "--watch"],
    );
    assert!(!o.status.success());
    assert!(
        common::err(&o).contains("--watch rebuilds"),
        "{}",
        common::err(&o)
    );
    // An unsigned package outside developer mode: install's own advice.
    let pkg = pack(tmp.path(), &SIM_PROBE);
    let o = common::plaza_signed_only(
        &tmp.path().join("plaza.db"),
        &["serve", "--port", "0", pkg.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(
        common::err(&o).contains("is not signed") && common::err(&o).contains("--developer-mode"),
        "{}",
        common::err(&o)
    );
    // A setting none of the served mini-apps declares, or not NAME=VALUE.
    for (flag, said) in [
        (
            "colour=red",
            "no served mini-app declares the setting `colour`",
        ),
        ("colour", "`colour` is not NAME=VALUE"),
    ] {
        let o = common::plaza(
            &tmp.path().join("plaza.db"),
            &[
                "serve",
                "--port",
                "0",
                "--secret",
                flag,
                pkg.to_str().unwrap(),
            ],
        );
        assert!(!o.status.success());
        assert!(common::err(&o).contains(said), "{}", common::err(&o));
    }
}

/// A server on loopback that counts the connections made to it (and answers
/// each with a tiny GIF, so a browser that did connect would show it).
fn counting_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = s.read(&mut [0; 1024]);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: 6\r\nConnection: close\r\n\r\nGIF89a",
            );
        }
    });
    (port, count)
}

#[test]
fn images_come_only_from_the_simulator() {
    use std::sync::atomic::Ordering;
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (port, connections) = counting_server();
    let tmp = tempfile::tempdir().unwrap();
    let pkg = pack(tmp.path(), &SIM_PROBE);
    let sim = Simulator::start(
        tmp.path(),
        &["--developer-mode", pkg.to_str().unwrap()],
        &[],
    );
    // The policy lets images come only from the simulator itself.
    let r = agent().get(&sim.url).call().unwrap();
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // Besides the simulator, `blob:` URLs: the page's own copies of the
    // photos a user gave, fetched from the simulator with the user's token.
    assert!(
        csp.contains("img-src 'self' blob:;") && !csp.contains("https:") && !csp.contains("data:"),
        "{csp}"
    );
    // The simulator serves the package's assets with their media type.
    let mut r = agent()
        .get(&format!(
            "{}v1/apps/test.plaza.sim-probe/assets/probe.png",
            sim.url
        ))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers().get("content-type").unwrap().to_str().unwrap(),
        "image/png"
    );
    assert!(r.body_mut().read_to_vec().unwrap().starts_with(b"\x89PNG"));
    let r = agent()
        .get(&format!(
            "{}v1/apps/test.plaza.sim-probe/assets/other.png",
            sim.url
        ))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    b.click("#screen [data-app='test.plaza.sim-probe']");
    b.wait_field("Visits", "1");
    let open = |path: &str| {
        b.js(
            "return window.plazaSimulator.openApp('test.plaza.sim-probe', arguments[0]);",
            json!([path]),
        )
    };
    // A page with an image pointing at the local server is refused by the
    // host, naming the origin; the simulator shows the refusal.
    let answer = open(&format!(
        "/?image=http%3A%2F%2F127.0.0.1%3A{port}%2Fx.png%3Fphone%3D13800138000"
    ));
    let error = answer["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains(&format!(
            "is from `http://127.0.0.1:{port}`, which the manifest does not declare"
        )),
        "{answer}"
    );
    b.wait_text("#screen", "which the manifest does not declare");
    // A mini-app cannot name a `blob:` URL, nor a file the user gave
    // without declaring media: the host refuses both pages.
    for (image, refusal) in [
        (
            format!("blob:http://127.0.0.1:{port}/x"),
            "is neither `asset:NAME` nor an https URL",
        ),
        ("media:m-1".to_string(), "needs `[capabilities.media]`"),
    ] {
        let answer = open(&format!(
            "/?image={}",
            image.replace(':', "%3A").replace('/', "%2F")
        ));
        let error = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(error.contains(refusal), "{image}: {answer}");
        b.wait_text("#screen", refusal);
    }
    // Even an image the page itself made is not loaded: the policy blocks it.
    let loaded = b.js(
        "const i = new Image();
         const done = new Promise((r) => { i.onload = () => r('loaded'); i.onerror = () => r('blocked'); });
         i.src = 'http://127.0.0.1:' + arguments[0] + '/direct.gif';
         document.body.append(i);
         return done;",
        json!([port]),
    );
    assert_eq!(loaded, "blocked");
    // The package's own image renders, from the simulator.
    let answer = open("/?image=asset:probe.png");
    assert!(answer["page"].is_object(), "{answer}");
    b.wait_for("#screen img.mp-image");
    let width = b.wait_until("the asset image to load", || {
        let v = b.js(
            "const i = document.querySelector('#screen img.mp-image');
             return i && i.complete ? {w: i.naturalWidth, src: i.getAttribute('src')} : null;",
            json!([]),
        );
        (!v.is_null()).then_some(v)
    });
    assert_eq!(width["w"], 4, "{width}");
    assert_eq!(
        width["src"],
        "/v1/apps/test.plaza.sim-probe/assets/probe.png"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the browser contacted the server a mini-app's page pointed at"
    );
    // The counting server does count (the check above is not vacuous).
    drop(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    let deadline = Instant::now() + Duration::from_secs(5);
    while connections.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn the_privacy_panel_reports_exports_and_erases_what_a_mini_app_holds() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let pkg = pack(tmp.path(), &SIM_PROBE);
    let sim = Simulator::start(
        tmp.path(),
        &["--developer-mode", pkg.to_str().unwrap()],
        &[],
    );
    let app = "test.plaza.sim-probe";
    // The page's user, signed in as the simulator signs its users in.
    let token = agent()
        .post(&format!("{}simulator/token", sim.url))
        .send_json(json!({"user": "guest"}))
        .unwrap()
        .body_mut()
        .read_json::<Value>()
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let post = |path: &str, content_type: &str, body: &str| {
        agent()
            .post(&format!("{}v1/me/privacy/{path}", sim.url))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .send(body)
            .unwrap()
    };
    // Another site's form cannot erase anything: JSON bodies only.
    let form = post("erase", "application/x-www-form-urlencoded", "app=x");
    assert_eq!(form.status().as_u16(), 415);

    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    b.click(&format!("#screen [data-app='{app}']"));
    b.wait_field("Visits", "1");
    b.click("#privacy-report");
    b.wait_for(&format!("#privacy li[data-app='{app}']"));
    b.wait_text("#privacy", "storage");

    // The export the page saves, as it fetches it.
    let mut r = post("export", "application/json", "{}");
    assert_eq!(r.status().as_u16(), 200);
    let export: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(export["apps"][0]["app_id"], app);
    assert_eq!(export["apps"][0]["storage"][0]["key"], "visits");
    assert_eq!(export["apps"][0]["storage"][0]["text"], "1");

    // Erase: the mini-app starts over with a new user (its launch count
    // was in its storage).
    b.click(&format!("#privacy button.erase[data-app='{app}']"));
    b.wait_text("#toast", "now sees a new user");
    b.click("#nav-home");
    b.click(&format!("#screen [data-app='{app}']"));
    b.wait_field("Visits", "1");
    b.wait_text("#audit", "privacy.erase");
}

/// The hospital's date picker: a date input bounded to the next 14 days by
/// the page; a day past them is refused by the host, its reason shown under
/// the field with the user's entry kept; the last day of the range shows
/// that day's free times as a section, and one of them books.
#[test]
fn the_hospitals_date_picker_is_bounded_by_the_host_and_books_a_later_day() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let pkg = pack(tmp.path(), &HOSPITAL);
    let sim = Simulator::start(
        tmp.path(),
        &["--developer-mode", pkg.to_str().unwrap()],
        &[],
    );
    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    b.click("#screen [data-app='cn.hz.maternity']");
    b.click("#screen [data-action='dept:obstetrics']");
    b.click("#screen [data-action='doctor:chen-li']");
    let picker = "#screen form[data-form='day:chen-li'] input[name='day']";
    b.wait_for(picker);
    let attrs = b.js(
        "const i = document.querySelector(arguments[0]);
         return [i.type, i.min, i.max, i.value, i.required];",
        json!([picker]),
    );
    let (min, max) = (
        attrs[1].as_str().unwrap().to_string(),
        attrs[2].as_str().unwrap().to_string(),
    );
    assert_eq!(attrs[0], "date", "{attrs}");
    assert_eq!(
        attrs[3],
        min.as_str(),
        "it starts on the first day: {attrs}"
    );
    assert_eq!(attrs[4], true);
    assert!(min.len() == 10 && max.len() == 10 && min < max, "{attrs}");

    // A day past the range: the host refuses it, and says why under it.
    b.js(
        "document.querySelector(arguments[0]).value = '2099-01-01';",
        json!([picker]),
    );
    b.click("#screen form[data-form='day:chen-li'] .mp-submit");
    let why = b.wait_text(
        "#screen [data-field='day'] .mp-field-error",
        &format!("must be on or before {max}"),
    );
    assert!(why.starts_with("Day "), "{why}");
    assert_eq!(b.text("#nav-title"), "Dr. Chen Li");
    let kept = b.js(
        "return document.querySelector(arguments[0]).value;",
        json!([picker]),
    );
    assert_eq!(kept, "2099-01-01", "the user's entry is kept");

    // The last day of the range: its free times, as a section.
    b.js(
        "document.querySelector(arguments[0]).value = arguments[1];",
        json!([picker, max]),
    );
    b.click("#screen form[data-form='day:chen-li'] .mp-submit");
    b.wait_text("#nav-title", "Free times");
    let day: u32 = max[8..10].parse().unwrap();
    let heading = b.text("#screen .mp-section-heading");
    assert!(heading.contains(&format!(" {day} ")), "{heading} for {max}");
    assert!(
        b.text("#screen .mp-section .mp-trailing")
            .starts_with("CNY ")
    );
    b.click("#screen .mp-section [data-action^='slot:chen-li:']");
    b.wait_text("#nav-title", "Confirm booking");
    let time = b.field("Time").unwrap();
    assert!(time.contains(&format!(" {day} ")), "{time} for {max}");
}

/// The hospital's "Scan the clinic's code" in the simulator: the scan
/// dialog (the code's text typed, the simulator having no camera) closed,
/// then answered with the clinic's check-in link; the host's offer to open
/// it declined (the hospital shows the clinic), then accepted (the phone
/// shows the check-in page).
#[test]
fn a_scanned_check_in_link_is_offered_and_opens_its_page_in_the_simulator() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let pkg = pack(tmp.path(), &HOSPITAL);
    let sim = Simulator::start(
        tmp.path(),
        &["--developer-mode", pkg.to_str().unwrap()],
        &[],
    );
    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    b.click("#screen [data-app='cn.hz.maternity']");
    let link = "plaza://cn.hz.maternity/checkin?clinic=obstetrics";

    // The scanner closed: the home page says so.
    b.click("#screen [data-action='scan']");
    b.wait_for("#dialog[data-kind='scan']");
    assert_eq!(
        b.text("#dialog-purpose"),
        "The QR code on the clinic's wall"
    );
    b.click("#dialog-cancel");
    b.wait_text("#screen", "No code was scanned.");

    // Scanned, the offer declined: the hospital shows the clinic.
    b.click("#screen [data-action='scan']");
    b.type_into("#dialog-scan-text", link);
    b.click("#dialog-scan");
    b.wait_for("#dialog[data-kind='link']");
    assert_eq!(b.text("#dialog-link"), link);
    assert!(b.text("#dialog").contains("Hangzhou Maternity Hospital"));
    b.click("#dialog-stay");
    b.wait_text("#nav-title", "Clinic code");
    b.wait_text("#screen", "This is the check-in code of Obstetrics.");

    // Scanned again, the offer accepted: the check-in page.
    b.click("#screen [data-action='home']");
    b.click("#screen [data-action='scan']");
    b.type_into("#dialog-scan-text", link);
    b.click("#dialog-scan");
    b.click("#dialog-open");
    b.wait_text("#nav-title", "No booking today");
    b.wait_text("#screen", "You have no booking at Obstetrics today");
}

/// Every new block and input in the simulator, with the form probe: the
/// tab bar of its manifest, each kind of input as its control (radio
/// buttons, a picker, checkboxes, a switch, a read-only field, no hidden
/// one), a value the host refuses with the reason under its field, the
/// values the controls submit, the browser's language as the locale, and a
/// section with its thumbnail, trailing values, "load more" and
/// pull-to-refresh.
#[test]
fn every_new_block_and_input_renders_and_answers_in_the_simulator() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let pkg = pack(tmp.path(), &FORM_PROBE);
    let sim = Simulator::start(
        tmp.path(),
        &["--developer-mode", pkg.to_str().unwrap()],
        &[],
    );
    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    b.click("#screen [data-app='test.plaza.form-probe']");
    b.wait_text("#nav-title", "Form probe");
    let locale = b.js("return navigator.language;", json!([]));
    // The title is the mini-app's name before its page arrives too: wait
    // for the page's field.
    b.wait_field("Locale", locale.as_str().unwrap());
    assert_eq!(b.text("#tabbar"), "FormList");
    assert_eq!(b.text("#tabbar .tab.active"), "Form");

    let form = "#screen form[data-form='probe']";
    let controls = b.js(
        "const f = document.querySelector(arguments[0]);
         const q = (s) => f.querySelectorAll(s).length;
         return {
           radios: q('[data-field=currency] input[type=radio]'),
           options: q('[data-field=city] select option'),
           checkboxes: q('[data-field=extras] input[type=checkbox]'),
           switchOn: f.querySelector('[data-field=notify] input[role=switch]').checked,
           hidden: q('[data-field=token]'),
           readOnly: f.querySelector('[data-field=ref] input').readOnly,
           dayType: f.querySelector('[data-field=day] input').type,
           dayMin: f.querySelector('[data-field=day] input').min,
           ageMax: f.querySelector('[data-field=age] input').max,
           nameMax: f.querySelector('[data-field=name] input').maxLength,
         };",
        json!([form]),
    );
    assert_eq!(
        controls,
        json!({"radios": 3, "options": 8, "checkboxes": 3, "switchOn": true, "hidden": 0,
               "readOnly": true, "dayType": "date", "dayMin": "2026-12-04", "ageMax": "150",
               "nameMax": 10}),
    );

    // A plate the pattern refuses: the reason under the field.
    b.type_into(&format!("{form} input[name='name']"), "Li Na");
    b.type_into(&format!("{form} input[name='plate']"), "XX1");
    b.click(&format!("{form} .mp-submit"));
    b.wait_text(
        "#screen [data-field='plate'] .mp-field-error",
        "Plate must match the pattern",
    );
    // Fixed, with a choice, a pick, two checkboxes and the switch off: what
    // the controls hold reaches the probe.
    b.js(
        "document.querySelector(arguments[0] + ' input[name=plate]').value = '浙A12345';",
        json!([form]),
    );
    b.click(&format!("{form} [data-field=currency] input[value='EUR']"));
    b.js(
        "const s = document.querySelector(arguments[0] + ' select[name=city]');
         s.value = 'wh';",
        json!([form]),
    );
    b.click(&format!("{form} [data-field=extras] input[value='wechat']"));
    b.click(&format!("{form} [data-field=extras] input[value='sms']"));
    b.click(&format!("{form} [data-field=notify] input"));
    b.click(&format!("{form} .mp-submit"));
    b.wait_text("#nav-title", "Received");
    for (name, value) in [
        ("name", "Li Na"),
        ("plate", "浙A12345"),
        ("currency", "EUR"),
        ("city", "wh"),
        ("extras", "sms,wechat"),
        ("notify", "false"),
        ("token", "t-123"),
        ("ref", "REF-9"),
    ] {
        assert_eq!(b.field(name).as_deref(), Some(value), "{name}");
    }

    // The second tab: a section, its thumbnail from the package, "load
    // more" and pull-to-refresh.
    b.click("#tabbar [data-tab='/list']");
    b.wait_text("#nav-title", "List");
    assert_eq!(b.text("#tabbar .tab.active"), "List");
    assert_eq!(b.text("#screen .mp-section-heading"), "Today");
    let first = b.js(
        "const i = document.querySelector('#screen .mp-section .mp-item');
         return [i.querySelector('img.mp-thumbnail').getAttribute('src'),
                 i.querySelector('.mp-trailing').textContent, i.dataset.action];",
        json!([]),
    );
    assert_eq!(
        first,
        json!([
            "/v1/apps/test.plaza.form-probe/assets/dot.png",
            "3 left",
            "slot:1"
        ])
    );
    let count = || {
        b.js(
            "return document.querySelectorAll('#screen .mp-section .mp-item').length;",
            json!([]),
        )
    };
    assert_eq!(count(), 2);
    b.click("#screen .mp-load-more");
    b.wait_until("two more items", || (count() == 4).then_some(()));
    b.click("#screen .mp-load-more");
    b.wait_until("the last items", || (count() == 6).then_some(()));
    assert!(b.element("#screen .mp-load-more").is_none());
    b.click("#pull-refresh");
    b.wait_field("Refreshed", "1");
}

/// Whether no dialog is open.
const LAYER_HIDDEN: &str = "return document.getElementById('dialog-layer').hidden;";

/// The file input of the media picker open now (a closed one stays in the
/// page, hidden, until the next dialog replaces it).
const PICKER: &str = "#dialog-layer:not([hidden]) #dialog[data-kind='media'] #dialog-file";

/// The marriage appointment's photo of the partner's ID card (city
/// services), in the simulator's picker for the host's media prompt: the
/// picker says who asks, why, and what the host takes; closing it is the
/// mini-app's "no photo"; a text file named like a photo and a photo over
/// the mini-app's cap are refused by the host, whose reason the picker
/// shows; the committed photo is kept and shown on the appointment, fetched
/// with the user's token, to that user alone.
#[test]
fn the_marriage_appointment_takes_the_id_card_photo_in_the_simulators_picker() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let pkg = pack(tmp.path(), &CITY_SERVICES);
    let sim = Simulator::start(
        tmp.path(),
        &["--developer-mode", pkg.to_str().unwrap()],
        &[],
    );
    let photo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios/fixtures/partner-id-card.jpg")
        .canonicalize()
        .unwrap();
    let text = tmp.path().join("notes.jpg");
    std::fs::write(&text, "these are notes, not the bytes of a photo").unwrap();
    // A JPEG by its first bytes, over the mini-app's 2 MiB cap.
    let big = tmp.path().join("scan.jpg");
    let mut bytes = std::fs::read(&photo).unwrap();
    bytes.resize(3 * 1024 * 1024, 0);
    std::fs::write(&big, &bytes).unwrap();

    let b = Browser::start();
    b.goto(&sim.url);
    b.wait_for("body[data-ready]");
    b.click("#screen [data-app='cn.gov.hz.city']");
    b.click("#screen [data-action='marriage']");
    b.click("#screen [data-action='marriage-day:earliest']");
    let form = "#screen form[data-form='marriage']";
    b.type_into(&format!("{form} input[name='name']"), "Li Na");
    b.type_into(&format!("{form} input[name='partner']"), "Zhang Wei");
    b.type_into(
        &format!("{form} input[name='partner-id']"),
        "33010619920202003X",
    );
    b.click(&format!("{form} .mp-submit"));
    b.wait_text("#nav-title", "Appointment booked");
    b.wait_field("Partner's ID card", "not added yet");

    // The picker: who asks, why, what the host takes.
    let add = "#screen [data-action='marriage-id-card']";
    b.click(add);
    b.wait_for(PICKER);
    let picker = b.js(
        "const i = document.querySelector('#dialog-file');
         return {accept: i.accept, capture: i.getAttribute('capture'),
                 purpose: document.querySelector('#dialog-purpose').textContent,
                 limits: document.querySelector('#dialog-media-limits').textContent,
                 dialog: document.querySelector('#dialog').textContent};",
        json!([]),
    );
    assert_eq!(picker["accept"], "image/jpeg,image/png", "{picker}");
    assert_eq!(picker["capture"], Value::Null, "camera or album: {picker}");
    assert_eq!(
        picker["purpose"],
        "Your partner's ID card, front side, for the registry to check before you come"
    );
    assert!(
        picker["limits"]
            .as_str()
            .unwrap()
            .starts_with("JPEG or PNG, at most 2 MiB"),
        "{picker}"
    );
    assert!(
        picker["dialog"]
            .as_str()
            .unwrap()
            .contains("Hangzhou City Services"),
        "{picker}"
    );

    // Closed: the mini-app says no photo was chosen.
    b.click("#dialog-cancel");
    b.wait_text("#screen", "No photo was chosen.");
    assert_eq!(b.js(LAYER_HIDDEN, json!([])), true);
    b.wait_field("Partner's ID card", "not added yet");

    // A text file named like a photo, then a photo over the cap: the host
    // refuses each, and the picker shows its reason (as the mini-app's page
    // does).
    for (file, reason) in [
        (
            &text,
            "`notes.jpg` is not a JPEG, PNG or PDF file by its content; JPEG or PNG was asked for",
        ),
        (
            &big,
            "`scan.jpg` is 3145728 bytes; this mini-app takes files of at most 2097152 bytes",
        ),
    ] {
        b.click(add);
        b.choose_file(PICKER, file);
        b.click("#dialog-send");
        b.wait_text("#dialog[data-kind='media-refused'] #dialog-refused", reason);
        b.wait_text("#screen", &format!("The photo was not added: {reason}"));
        b.click("#dialog-ok");
        b.wait_until("the dialog to close", || {
            (b.js(LAYER_HIDDEN, json!([])) == true).then_some(())
        });
        b.wait_field("Partner's ID card", "not added yet");
    }

    // The photo: kept, and shown on the appointment.
    b.click(add);
    b.choose_file(PICKER, &photo);
    b.click("#dialog-send");
    b.wait_text("#nav-title", "ID card added");
    b.wait_field("Partner's ID card", "added");
    let shown = |b: &Browser| {
        b.wait_until("the ID card's photo to load", || {
            let v = b.js(
                "const i = document.querySelector('#screen img.mp-media');
                 return i && i.complete && i.naturalWidth > 0
                   ? {w: i.naturalWidth, h: i.naturalHeight, src: i.getAttribute('src'),
                      url: i.dataset.media, alt: i.alt}
                   : null;",
                json!([]),
            );
            (!v.is_null()).then_some(v)
        })
    };
    let image = shown(&b);
    assert_eq!(
        (image["w"].as_u64(), image["h"].as_u64()),
        (Some(32), Some(16))
    );
    assert!(
        image["src"].as_str().unwrap().starts_with("blob:"),
        "{image}"
    );
    assert_eq!(image["alt"], "Your partner's ID card");
    assert!(b.element("#screen .mp-media-missing").is_none());
    b.wait_text(
        "#audit",
        "the user gave `partner-id-card.jpg` (JPEG, 183 bytes)",
    );
    assert_eq!(b.js(LAYER_HIDDEN, json!([])), true);

    // The file is served to its user alone: without her token, or with
    // another user's, the simulator does not give it.
    let id = image["url"]
        .as_str()
        .unwrap()
        .strip_prefix("media:")
        .unwrap()
        .to_string();
    let src = format!("{}v1/apps/cn.gov.hz.city/media/{id}", sim.url);
    let token = |user: &str| {
        agent()
            .post(&format!("{}simulator/token", sim.url))
            .send_json(json!({ "user": user }))
            .unwrap()
            .body_mut()
            .read_json::<Value>()
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(agent().get(&src).call().unwrap().status().as_u16(), 401);
    let get = |user: &str| {
        agent()
            .get(&src)
            .header("Authorization", &format!("Bearer {}", token(user)))
            .call()
            .unwrap()
    };
    assert_eq!(get("wang-fang").status().as_u16(), 404);
    let mut mine = get("guest");
    assert_eq!(mine.status().as_u16(), 200);
    assert_eq!(
        mine.body_mut().read_to_vec().unwrap(),
        std::fs::read(&photo).unwrap()
    );

    // The appointment, opened again, has the photo.
    b.click("#screen [data-action='home']");
    b.click("#screen [data-action='marriage']");
    b.wait_text("#nav-title", "Marriage registration");
    b.wait_field("Partner", "Zhang Wei");
    b.wait_field("Partner's ID card", "added");
    assert_eq!(shown(&b)["w"], 32);
}
