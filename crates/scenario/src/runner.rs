//! Running one scenario: a host on a temporary store with a manual clock,
//! sequential ids and scripted answers; each step, then its expectations.

use crate::format::{Action, Answers, Expectation, Scenario, Upload, parse_money};
use crate::stubs::{StubServer, declared_origins, undeclared};
use crate::{Components, Failure, Outcome, ScenarioResult};
use plaza_host::clock::{ManualClock, SequentialIds};
use plaza_host::ledger::format_money;
use plaza_host::page::render_text;
use plaza_host::prompt::{MediaAnswer, ScriptedPayment, ScriptedPrompter};
use plaza_host::store::{AuditQuery, RealNameRecord, UserProfile};
use plaza_host::{Block, Host, HostConfig, Page, Session};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// What a scenario run holds between steps.
struct Run<'a> {
    scenario: &'a Scenario,
    store: PathBuf,
    config: HostConfig,
    clock: ManualClock,
    prompter: Arc<ScriptedPrompter>,
    host: Host,
    /// The first installed mini-app: where steps go unless they say.
    default_app: String,
    sessions: HashMap<(String, String), Session>,
    /// The last page each session showed.
    pages: HashMap<(String, String), Page>,
    /// Each step and the page it led to, as text.
    transcript: String,
    /// The samples' back-end of this run, with its back offices.
    offices: Arc<plaza_agency_backend::Offices>,
    _backend: plaza_agency_backend::Backend,
    /// Each installed mini-app's id and app secret, to connect its back
    /// office (again after a restart).
    secrets: Vec<(String, String)>,
    /// What the last back-office step did.
    last_backend: Option<plaza_agency_backend::ActionReport>,
    /// The scenario's HTTP stubs, answering its stubbed origins.
    stubs: Option<Arc<StubServer>>,
    /// How many requests reached the stubs before the current step.
    step_mark: usize,
}

/// Runs one scenario to its first failure.
pub(crate) async fn run(
    scenario: &Scenario,
    components: &Components,
    cache_dir: Option<PathBuf>,
    postgres: Option<&str>,
) -> ScenarioResult {
    let started = Instant::now();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            return result(
                scenario,
                started,
                0,
                Some(setup_failure(0, format!("temporary store: {e}"))),
            );
        }
    };
    // On PostgreSQL: a database of the scenario's own, dropped with `_db`
    // after the run's host.
    let (_db, store) = match postgres {
        None => (None, dir.path().join("plaza.db")),
        Some(server) => match plaza_host::store::PostgresStore::open_throwaway(server) {
            Ok(db) => {
                let url = PathBuf::from(db.url());
                (Some(db), url)
            }
            Err(e) => {
                return result(
                    scenario,
                    started,
                    0,
                    Some(setup_failure(0, format!("temporary PostgreSQL store: {e}"))),
                );
            }
        },
    };
    let mut transcript = String::new();
    let key_file = dir.path().join("plaza.settings-key");
    let outcome = match setup(scenario, components, cache_dir, store, key_file).await {
        Err(f) => (0, Some(f)),
        Ok(mut run) => {
            let mut done = 0;
            let mut failure = None;
            for i in 0..scenario.steps.len() {
                if let Err(f) = run.step(i).await {
                    failure = Some(f);
                    break;
                }
                done += 1;
            }
            if failure.is_none() {
                failure = run.stub_counts();
            }
            for s in run.sessions.values() {
                s.close().await;
            }
            transcript = std::mem::take(&mut run.transcript);
            (done, failure)
        }
    };
    let mut r = result(scenario, started, outcome.0, outcome.1);
    r.transcript = transcript;
    r
}

fn result(
    scenario: &Scenario,
    started: Instant,
    steps_passed: usize,
    failure: Option<Failure>,
) -> ScenarioResult {
    ScenarioResult {
        name: scenario.name.clone(),
        file: scenario.file.clone(),
        steps: scenario.steps.len(),
        steps_passed,
        outcome: if failure.is_some() {
            Outcome::Failed
        } else {
            Outcome::Passed
        },
        failure,
        duration: started.elapsed(),
        transcript: String::new(),
    }
}

fn setup_failure(line: usize, message: String) -> Failure {
    Failure {
        step: None,
        line,
        action: "set-up".into(),
        expected: "the set-up to succeed".into(),
        found: message,
        page: None,
    }
}

fn apply_answers(prompter: &ScriptedPrompter, answers: &Answers) -> Result<(), String> {
    for (scope, answer) in &answers.consent {
        prompter.answer_consent(*scope, *answer);
    }
    if let Some(p) = answers.payment {
        prompter.answer_payments(ScriptedPayment::Answer(p));
    }
    if let Some(s) = answers.subscription {
        prompter.answer_subscriptions(s);
    }
    if let Some(scan) = &answers.scan {
        prompter.answer_scan(scan.clone());
    }
    if let Some(open) = answers.link_offer {
        prompter.answer_link_offer(open);
    }
    match &answers.upload {
        None => {}
        Some(Upload::Cancel) => prompter.answer_media(MediaAnswer::Cancel),
        Some(Upload::File(path)) => {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("reading the upload {}: {e}", path.display()))?;
            prompter.answer_media(MediaAnswer::File {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                bytes,
            });
        }
    }
    Ok(())
}

async fn setup<'a>(
    scenario: &'a Scenario,
    components: &Components,
    cache_dir: Option<PathBuf>,
    store: PathBuf,
    settings_key_file: PathBuf,
) -> Result<Run<'a>, Failure> {
    let fail = |line: usize, message: String| setup_failure(line, message);
    let clock = ManualClock::new(scenario.start_ms);
    let prompter = Arc::new(ScriptedPrompter::new());
    apply_answers(&prompter, &scenario.answers).map_err(|m| fail(0, m))?;
    let mut config = HostConfig::default()
        .cache_dir(cache_dir)
        .clock(Arc::new(clock.clone()))
        .ids(Arc::new(SequentialIds::default()))
        .prompter(prompter.clone())
        .utc_offset_minutes(scenario.utc_offset_minutes)
        .developer_mode(true)
        // Secret settings are sealed with a key file of the run (beside
        // the store file on SQLite).
        .settings_key(Some(plaza_host::settings::SettingsKey::file(
            settings_key_file,
        )))
        // Sessions end only when a step restarts the host.
        .idle_timeout(None);
    // The samples' back-end (the city's agency records, the institutions'
    // back offices): one per run, on an ephemeral port, where the host
    // sends the samples' origin.
    let offices = Arc::new(plaza_agency_backend::Offices::new(
        scenario.utc_offset_minutes,
    ));
    let backend =
        plaza_agency_backend::Backend::start_with("127.0.0.1:0", None, Some(offices.clone()))
            .map_err(|e| fail(0, format!("the samples' back-end: {e}")))?;
    config.network.resolve_to(
        plaza_agency_backend::HOST,
        plaza_agency_backend::PORT,
        backend.addr(),
    );
    // The stubs answer their origins in place of the network (and of the
    // samples' back-end).
    let stubs =
        (!scenario.stubs.is_empty()).then(|| Arc::new(StubServer::new(scenario.stubs.clone())));
    if let Some(s) = &stubs {
        config.network.interceptor = Some(s.clone());
    }
    let mut declared = Vec::new();
    let mut secrets = Vec::new();
    let host = Host::open(&store, config.clone()).map_err(|e| fail(0, e.to_string()))?;
    let mut default_app = String::new();
    for p in &scenario.packages {
        let mut package = components
            .package(&p.path)
            .map_err(|e| fail(p.line, format!("package {}: {e}", p.path.display())))?;
        declared.extend(declared_origins(&package.manifest, &p.settings));
        if p.verified {
            let key = plaza_host::package::PublisherKey::generate()
                .map_err(|e| fail(p.line, e.to_string()))?;
            let m = &package.manifest.publisher;
            host.add_publisher(plaza_host::store::PublisherRecord {
                id: m.id.clone(),
                name: m.name.clone(),
                category: m.category,
                verified: true,
                public_key: key.public_key_hex(),
                added_at_ms: 0,
            })
            .map_err(|e| fail(p.line, e.to_string()))?;
            package
                .sign(&key)
                .map_err(|e| fail(p.line, e.to_string()))?;
        }
        let report = host
            .install(package)
            .await
            .map_err(|e| fail(p.line, format!("installing {}: {e}", p.path.display())))?;
        let settings = p.settings.iter().map(|s| (s, false));
        for ((name, value), secret) in settings.chain(p.secrets.iter().map(|s| (s, true))) {
            host.set_setting(&report.app_id, name, value, secret)
                .map_err(|e| fail(p.line, format!("setting {name}: {e}")))?;
        }
        if let Some(secret) = &report.app_secret {
            secrets.push((report.app_id.clone(), secret.clone()));
        }
        if default_app.is_empty() {
            default_app = report.app_id;
        }
    }
    // A stub never widens what a manifest allows.
    for s in &scenario.stubs {
        if let Some(why) = undeclared(s, &declared) {
            return Err(fail(s.line, why));
        }
    }
    for u in &scenario.users {
        let f = |e: plaza_host::Error| fail(0, format!("user {}: {e}", u.id));
        if let Some(w) = &u.wallet {
            let (currency, amount) = parse_money(w).map_err(|m| fail(0, m))?;
            if amount > 0 {
                host.top_up(&u.id, amount, &currency).map_err(f)?;
            }
        }
        if let Some(card) = &u.insurance {
            let (_, cap) = parse_money(&card.annual_cap).map_err(|m| fail(0, m))?;
            host.bind_insurance_card(
                &u.id,
                &card.card,
                &card.holder,
                &card.scheme,
                card.coverage * 100,
                cap,
            )
            .map_err(f)?;
        }
        if let Some(p) = &u.profile {
            let real_name = p.real_name.as_ref().map(|name| RealNameRecord {
                name: name.clone(),
                id_number: p.id_number.clone().unwrap_or_default(),
                verified: p.verified,
            });
            host.set_user_profile(
                &u.id,
                UserProfile {
                    nickname: p.nickname.clone(),
                    avatar_url: p.avatar.clone(),
                    phone: p.phone.clone(),
                    real_name,
                    location: p.location.map(|l| plaza_host::store::GeoPoint {
                        latitude: l.latitude,
                        longitude: l.longitude,
                        accuracy_m: l.accuracy_m,
                    }),
                },
            )
            .map_err(f)?;
        }
        for app in &u.follows {
            host.follow(&u.id, app, true).map_err(f)?;
        }
        for (app, scopes) in &u.consents {
            for (scope, decision) in scopes {
                let scope = plaza_host::manifest::Scope::parse(scope)
                    .ok_or_else(|| fail(0, format!("unknown scope {scope}")))?;
                host.set_consent(
                    &u.id,
                    app,
                    scope,
                    *decision == crate::format::Decision::Allow,
                )
                .map_err(f)?;
            }
        }
    }
    let run = Run {
        scenario,
        store,
        config,
        clock,
        prompter,
        host,
        default_app,
        sessions: HashMap::new(),
        pages: HashMap::new(),
        transcript: String::new(),
        offices,
        _backend: backend,
        secrets,
        last_backend: None,
        stubs,
        step_mark: 0,
    };
    run.connect_offices();
    Ok(run)
}

impl Run<'_> {
    /// The first stub called another number of times than its `times`.
    fn stub_counts(&self) -> Option<Failure> {
        let stubs = self.stubs.as_ref()?;
        let (stub, calls) = stubs.wrong_counts().into_iter().next()?;
        let times = |n: u64| format!("{n} time{}", if n == 1 { "" } else { "s" });
        Some(Failure {
            step: None,
            line: stub.line,
            action: "the stubs, after the last step".into(),
            expected: format!(
                "the stub {} called {}",
                stub.describe(),
                times(stub.times.unwrap_or(0))
            ),
            found: format!("called {}", times(calls)),
            page: None,
        })
    }

    /// Connects each installed mini-app's back office to the host.
    fn connect_offices(&self) {
        for (app, secret) in &self.secrets {
            self.offices
                .connect(Arc::new(plaza_agency_backend::InProcessApi::new(
                    self.host.clone(),
                    app,
                    secret,
                )));
        }
    }

    fn session(&mut self, user: &str, app: &str) -> plaza_host::Result<Session> {
        let key = (user.to_string(), app.to_string());
        if let Some(s) = self.sessions.get(&key) {
            return Ok(s.clone());
        }
        let s = self.host.session(user, app)?;
        self.sessions.insert(key, s.clone());
        Ok(s)
    }

    async fn step(&mut self, index: usize) -> Result<(), Failure> {
        let step = &self.scenario.steps[index];
        let mut app = match &step.action {
            // A link names its mini-app (a malformed one fails below).
            Action::Open(link) => self
                .host
                .parse_link(link)
                .map(|l| l.app_id)
                .unwrap_or_else(|_| self.default_app.clone()),
            _ => step.app.clone().unwrap_or_else(|| self.default_app.clone()),
        };
        let mut key = (step.user.clone(), app.clone());
        // The link the step's event opened (a scanned code the user chose
        // to open), if any.
        let mut opened: Option<String> = None;
        if let Some(s) = &self.stubs {
            self.step_mark = s.request_count();
        }
        let failure = |expected: String, found: String, page: Option<&Page>| Failure {
            step: Some(index + 1),
            line: step.line,
            action: step.action.to_string(),
            expected,
            found,
            page: page.map(render_text),
        };
        if let Some(a) = &step.answers {
            apply_answers(&self.prompter, a)
                .map_err(|m| failure("the step's answers to apply".into(), m, None))?;
        }
        let outcome: plaza_host::Result<Option<Page>> = match &step.action {
            Action::Check => Ok(None),
            Action::Advance(d) => {
                self.clock.advance(*d);
                Ok(None)
            }
            Action::Restart => {
                for s in self.sessions.values() {
                    s.close().await;
                }
                self.sessions.clear();
                self.pages.clear();
                match Host::open(&self.store, self.config.clone()) {
                    Ok(h) => {
                        self.host = h;
                        self.connect_offices();
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
            Action::Backend(b) => {
                use plaza_host::clock::Clock;
                let now = self.clock.now_ms();
                match b.at_ms {
                    Some(at) if at < now => Err(plaza_host::Error::InvalidRequest(format!(
                        "`at` is before the scenario's clock ({} ms earlier)",
                        now - at
                    ))),
                    at => {
                        if let Some(at) = at {
                            self.clock.set(at);
                        }
                        let offices = self.offices.clone();
                        let (office, action, with) =
                            (b.office.clone(), b.action.clone(), b.with.clone());
                        let now = self.clock.now_ms();
                        self.last_backend = None;
                        let outcome = tokio::task::spawn_blocking(move || {
                            offices.run(&office, &action, &with, now)
                        })
                        .await;
                        match outcome {
                            Ok(Ok(report)) => {
                                self.last_backend = Some(report);
                                Ok(None)
                            }
                            Ok(Err(e)) => Err(plaza_host::Error::InvalidRequest(format!(
                                "the {} back office: {e}",
                                b.office
                            ))),
                            Err(e) => Err(plaza_host::Error::InvalidRequest(e.to_string())),
                        }
                    }
                }
            }
            Action::Open(link) => match self.host.open_link(&step.user, link).await {
                Ok((session, page)) => {
                    self.sessions.insert(key.clone(), session);
                    Ok(Some(page))
                }
                Err(e) => Err(e),
            },
            action => match self.session(&step.user, &app) {
                Err(e) => Err(e),
                Ok(s) => match action.apply(&s).await {
                    // A link the user chose to open while the event was
                    // handled opens now: its page is the step's.
                    Ok(Some(page)) => match self.host.follow_link(&s).await {
                        Ok(Some((link, session, shown))) => {
                            app = link.app_id.clone();
                            key = (step.user.clone(), app.clone());
                            self.sessions.insert(key.clone(), session);
                            opened = Some(link.to_string());
                            Ok(Some(shown))
                        }
                        Ok(None) => Ok(Some(page)),
                        Err(e) => Err(e),
                    },
                    other => other,
                },
            },
        };
        if !matches!(step.action, Action::Check) {
            let who = if self.scenario.users.len() > 1 {
                format!("{} ", step.user)
            } else {
                String::new()
            };
            self.transcript
                .push_str(&format!("{who}> {}\n", step.action));
            if let Some(link) = &opened {
                self.transcript.push_str(&format!("(opened {link})\n"));
            }
            match &outcome {
                Ok(Some(page)) => {
                    self.transcript.push_str(&render_text(page));
                    self.transcript.push('\n');
                }
                Ok(None) => {
                    if let (Action::Backend(_), Some(r)) = (&step.action, &self.last_backend) {
                        self.transcript.push_str(&format!("{r}\n\n"));
                    }
                }
                Err(e) => self.transcript.push_str(&format!("error: {e}\n\n")),
            }
        }
        // A request to a stubbed origin that no stub answers fails the step.
        let unmatched = self
            .stubs
            .as_ref()
            .map(|s| s.take_unmatched())
            .unwrap_or_default();
        if !unmatched.is_empty() {
            let page = match &outcome {
                Ok(Some(page)) => Some(page.clone()),
                _ => self.current_page(&key).await,
            };
            return Err(failure(
                "every request to a stubbed origin to match a stub".into(),
                unmatched.join("\n            "),
                page.as_ref(),
            ));
        }
        let expects_error = step.expect.iter().find_map(|e| match e {
            Expectation::Error(m) => Some(m.clone()),
            _ => None,
        });
        match (&outcome, &expects_error) {
            (Ok(Some(page)), _) => {
                self.pages.insert(key.clone(), page.clone());
            }
            (Err(e), None) => {
                let page = self.current_page(&key).await;
                return Err(failure(
                    "the step to succeed".into(),
                    format!("error: {e}"),
                    page.as_ref(),
                ));
            }
            _ => {}
        }
        if let Some(expected) = &expects_error {
            match &outcome {
                Err(e) if e.to_string().contains(expected.as_str()) => {}
                Err(e) => {
                    let page = self.current_page(&key).await;
                    return Err(failure(
                        format!("the error {expected:?}"),
                        format!("error: {e}"),
                        page.as_ref(),
                    ));
                }
                Ok(page) => {
                    return Err(failure(
                        format!("the error {expected:?}"),
                        "no error".into(),
                        page.as_ref(),
                    ));
                }
            }
        }
        if outcome.is_err() {
            // The page expectations apply to the page left showing.
            if let Some(p) = self.current_page(&key).await {
                self.pages.insert(key.clone(), p);
            }
        }
        let page = self.pages.get(&key).cloned();
        for e in &step.expect {
            if let Expectation::Opened(link) = e {
                let same = opened
                    .as_deref()
                    .is_some_and(|o| self.host.parse_link(link).is_ok_and(|l| l.to_string() == o));
                if !same {
                    let found = match &opened {
                        Some(o) => format!("the link {o} opened"),
                        None => "no link opened".to_string(),
                    };
                    return Err(failure(e.to_string(), found, page.as_ref()));
                }
                continue;
            }
            if let Err(found) = self.check(e, &step.user, &app, page.as_ref()) {
                return Err(failure(e.to_string(), found, page.as_ref()));
            }
        }
        Ok(())
    }

    async fn current_page(&self, key: &(String, String)) -> Option<Page> {
        match self.sessions.get(key) {
            Some(s) => s.current_page().await,
            None => None,
        }
    }

    /// Checks one expectation; on failure, what was there instead.
    fn check(
        &self,
        e: &Expectation,
        user: &str,
        app: &str,
        page: Option<&Page>,
    ) -> Result<(), String> {
        let need_page = || page.ok_or_else(|| "no page: the session shows none".to_string());
        match e {
            Expectation::Error(_) => Ok(()),
            Expectation::Title(t) => {
                let p = need_page()?;
                if &p.title == t {
                    Ok(())
                } else {
                    Err(format!("title {:?}", p.title))
                }
            }
            Expectation::Text(t) => {
                let p = need_page()?;
                if block_texts(p).iter().any(|b| b.contains(t.as_str())) || p.title.contains(t) {
                    Ok(())
                } else {
                    Err("no block contains it".into())
                }
            }
            Expectation::NoText(t) => {
                let p = need_page()?;
                match block_texts(p).into_iter().find(|b| b.contains(t.as_str())) {
                    None => Ok(()),
                    Some(b) => Err(format!("the block {:?}", b.trim_end())),
                }
            }
            Expectation::Field(label, value) => {
                let p = need_page()?;
                let found = p.blocks.iter().find_map(|b| match b {
                    Block::Field(f) if &f.label == label => Some(f.value.clone()),
                    Block::Input(i) if &i.name == label || &i.label == label => {
                        Some(i.value.clone())
                    }
                    _ => None,
                });
                match found {
                    Some(v) if &v == value => Ok(()),
                    Some(v) => Err(format!("field {label:?} = {v:?}")),
                    None => Err(format!("no field {label:?}")),
                }
            }
            Expectation::Notice(t) => {
                let p = need_page()?;
                let notices: Vec<String> = p
                    .blocks
                    .iter()
                    .filter_map(|b| match b {
                        Block::Notice(n) => Some(n.text.clone()),
                        _ => None,
                    })
                    .collect();
                if notices.iter().any(|n| n.contains(t.as_str())) {
                    Ok(())
                } else if notices.is_empty() {
                    Err("no notice".into())
                } else {
                    Err(format!("notices {notices:?}"))
                }
            }
            Expectation::Wallet(m) => {
                let (currency, want) = parse_money(m)?;
                let have = self.host.wallet_balance(user).map_err(|e| e.to_string())?;
                if have == want {
                    Ok(())
                } else {
                    Err(format!("wallet {}", format_money(have as i64, &currency)))
                }
            }
            Expectation::Merchant(publisher, m) => {
                let (currency, want) = parse_money(m)?;
                let have = self
                    .host
                    .merchant_balance(publisher)
                    .map_err(|e| e.to_string())?;
                if have == want {
                    Ok(())
                } else {
                    Err(format!(
                        "merchant {publisher} {}",
                        format_money(have as i64, &currency)
                    ))
                }
            }
            Expectation::Inbox(t) => {
                let inbox = self
                    .host
                    .inbox(user, false, 1000)
                    .map_err(|e| e.to_string())?;
                if inbox
                    .iter()
                    .any(|m| m.title.contains(t.as_str()) || m.body.contains(t.as_str()))
                {
                    Ok(())
                } else {
                    Err(format!("inbox {:?}", inbox_lines(&inbox)))
                }
            }
            Expectation::InboxCount(n) => {
                let inbox = self
                    .host
                    .inbox(user, false, 1000)
                    .map_err(|e| e.to_string())?;
                if inbox.len() as u64 == *n {
                    Ok(())
                } else {
                    Err(format!(
                        "{} messages: {:?}",
                        inbox.len(),
                        inbox_lines(&inbox)
                    ))
                }
            }
            Expectation::Audit(spec) => {
                let entries = self
                    .host
                    .audit(&AuditQuery {
                        user: Some(user.to_string()),
                        app: Some(spec.app.clone().unwrap_or_else(|| app.to_string())),
                        limit: 0,
                    })
                    .map_err(|e| e.to_string())?;
                let hit = entries.iter().any(|a| {
                    a.capability == spec.capability
                        && spec
                            .outcome
                            .as_deref()
                            .is_none_or(|o| o == a.outcome.as_str())
                        && spec.detail.as_deref().is_none_or(|d| a.detail.contains(d))
                });
                if hit {
                    Ok(())
                } else {
                    let list: Vec<String> = entries
                        .iter()
                        .rev()
                        .take(12)
                        .map(|a| format!("{} {} {}", a.capability, a.outcome.as_str(), a.detail))
                        .collect();
                    Err(format!("the latest audit entries: {list:?}"))
                }
            }
            Expectation::Sent(spec) => match &self.stubs {
                Some(s) => s.check_sent(self.step_mark, spec),
                None => Err("the scenario has no `[[stub]]`: no request is recorded".into()),
            },
            Expectation::BackendDone(n) => match &self.last_backend {
                Some(r) if r.done.len() as u64 == *n => Ok(()),
                Some(r) => Err(r.to_string()),
                None => Err("no back-office action ran".into()),
            },
            // Checked by the step, which knows what it opened.
            Expectation::Opened(_) => Ok(()),
            Expectation::LedgerClean => {
                let report = self.host.verify_ledger().map_err(|e| e.to_string())?;
                if report.is_clean() {
                    Ok(())
                } else {
                    Err(format!("problems: {:?}", report.problems))
                }
            }
        }
    }
}

fn inbox_lines(inbox: &[plaza_host::store::InboxMessage]) -> Vec<String> {
    inbox
        .iter()
        .map(|m| format!("{}: {}", m.title, m.body.replace('\n', "; ")))
        .collect()
}

/// Each block of a page as its rendered text.
fn block_texts(page: &Page) -> Vec<String> {
    page.blocks
        .iter()
        .map(|b| {
            let one = Page {
                title: String::new(),
                blocks: vec![b.clone()],
                navigation: page.navigation,
                refreshable: false,
            };
            // Skip the title line and its underline.
            render_text(&one)
                .lines()
                .skip(2)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}
