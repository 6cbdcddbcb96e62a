//! The scenario file format (TOML): what is installed, who the users are,
//! how prompts are answered, and the steps with their expectations.
//! `docs/scenarios.md` is the reference; this module parses and checks a
//! file, reporting the file, the line and what was expected.

use crate::stubs::{OneOrManySent, RawStub, SentSpec, Stub};
use crate::{Error, Result};
use plaza_host::manifest::Scope;
use plaza_host::prompt::{ConsentAnswer, PaymentAnswer, SubscriptionAnswer};
use plaza_host::scan::ScanAnswer;
use plaza_host::{Page, Session};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// 2026-11-21 09:00 in Hangzhou: where the test clock starts unless a
/// scenario says otherwise.
pub const DEFAULT_START_MS: i64 = 1_795_222_800_000;
/// The host's time zone unless `start` says otherwise: China (UTC+8).
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 480;

/// A parsed, checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (the file's stem unless `name` says otherwise).
    pub name: String,
    /// The file it came from.
    pub file: PathBuf,
    /// What it checks, in words.
    pub description: String,
    /// The test clock's start, ms since the epoch.
    pub start_ms: i64,
    /// The host's time zone, minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// The packages to install, in order.
    pub packages: Vec<PackageSpec>,
    /// The users and their set-up.
    pub users: Vec<UserSpec>,
    /// How prompts are answered at the start.
    pub answers: Answers,
    /// The steps.
    pub steps: Vec<Step>,
    /// The stand-ins for what the mini-apps reach over the network.
    pub stubs: Vec<Stub>,
}

/// A package to install.
#[derive(Debug, Clone)]
pub struct PackageSpec {
    /// A mini-app directory (built and packed) or a `.plaza` file, resolved
    /// against the scenario file's directory.
    pub path: PathBuf,
    /// Register the manifest's publisher as verified and sign the package
    /// with a fresh key (else it installs unsigned, as unverified).
    pub verified: bool,
    /// The mini-app's settings the operator sets after installing it
    /// (`[package.settings]`: name = value).
    pub settings: BTreeMap<String, String>,
    /// Its secret settings (`[package.secrets]`: name = value), sealed
    /// with the scenario host's settings key.
    pub secrets: BTreeMap<String, String>,
    /// The line of the `[[package]]` table.
    pub line: usize,
}

/// A user and what the host knows and holds for them before the first step.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UserSpec {
    /// The user id.
    pub id: String,
    /// The wallet's balance, topped up before the first step (`"CNY 500.00"`).
    #[serde(default)]
    pub wallet: Option<String>,
    /// A bound medical-insurance card.
    #[serde(default)]
    pub insurance: Option<InsuranceSpec>,
    /// Mini-app ids the user follows.
    #[serde(default)]
    pub follows: Vec<String>,
    /// Consent decisions made in the host's settings: app id → scope →
    /// `allow` or `deny`.
    #[serde(default)]
    pub consents: BTreeMap<String, BTreeMap<String, Decision>>,
    /// Identity data.
    #[serde(default)]
    pub profile: Option<ProfileSpec>,
}

/// `allow` or `deny`, as set in the host's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Granted.
    Allow,
    /// Refused.
    Deny,
}

/// A medical-insurance card.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InsuranceSpec {
    /// The card number.
    pub card: String,
    /// The holder's name.
    pub holder: String,
    /// The scheme.
    #[serde(default)]
    pub scheme: String,
    /// Coverage, percent of eligible items.
    pub coverage: u32,
    /// The annual cap (`"CNY 3000.00"`).
    pub annual_cap: String,
}

/// What the host knows of a user.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileSpec {
    /// Nickname.
    #[serde(default)]
    pub nickname: Option<String>,
    /// The avatar's `https:` URL (with the nickname: scope `profile`).
    #[serde(default)]
    pub avatar: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Legal name.
    #[serde(default)]
    pub real_name: Option<String>,
    /// Identity number (with `real-name`).
    #[serde(default)]
    pub id_number: Option<String>,
    /// Whether the real name is verified (default true).
    #[serde(default = "yes")]
    pub verified: bool,
    /// Where the user's device last was (scopes `location`, `precise-location`).
    #[serde(default)]
    pub location: Option<LocationSpec>,
}

/// A location of the user's device.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LocationSpec {
    /// Latitude, degrees (WGS 84).
    pub latitude: f64,
    /// Longitude, degrees (WGS 84).
    pub longitude: f64,
    /// The radius of uncertainty, metres (default 10).
    #[serde(default = "ten_metres")]
    pub accuracy_m: f64,
}

fn ten_metres() -> f64 {
    10.0
}

fn yes() -> bool {
    true
}

/// How the scripted user answers the host's questions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// Per consent scope; scopes not named are dismissed.
    pub consent: Vec<(Scope, ConsentAnswer)>,
    /// Payment confirmations (`None`: unchanged; cancelled at the start).
    pub payment: Option<PaymentAnswer>,
    /// Subscription requests (`None`: unchanged; rejected at the start).
    pub subscription: Option<SubscriptionAnswer>,
    /// The answer to the next photo or file prompt (`None`: none queued;
    /// a prompt without one is cancelled).
    pub upload: Option<Upload>,
    /// The answer to the next scan: `scan = "TEXT"` (a QR code whose text
    /// is TEXT) or `scan = "cancel"` (`None`: none queued; a scan without
    /// one is cancelled).
    pub scan: Option<ScanAnswer>,
    /// The answer to the next offer to open a scanned Plaza link: `true`
    /// opens it (`None`: none queued; an offer without one is declined).
    pub link_offer: Option<bool>,
}

impl Answers {
    /// These answers with the upload's path resolved against `base` (the
    /// scenario's directory); an error if there is no such file.
    fn with_upload_from(mut self, base: &Path) -> std::result::Result<Answers, String> {
        if let Some(Upload::File(path)) = &self.upload {
            let resolved = base.join(path);
            if !resolved.is_file() {
                return Err(format!(
                    "`answers.upload`: no file `{}` (a path is relative to the scenario's directory)",
                    resolved.display()
                ));
            }
            self.upload = Some(Upload::File(resolved));
        }
        Ok(self)
    }
}

/// How the scripted user answers the next photo or file prompt:
/// `upload = "fixtures/id-card.jpg"` (a file, relative to the scenario's
/// directory) or `upload = "cancel"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upload {
    /// Choose this file.
    File(PathBuf),
    /// Close the picker.
    Cancel,
}

/// What a step does; also what a line of `plaza run` does (the CLI parses
/// its prompt's syntax into this, so `--record` writes it as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Launch the mini-app at a path.
    Launch(String),
    /// Tap an action.
    Tap(String),
    /// Submit a form with fields.
    Submit(String, Vec<(String, String)>),
    /// Write a chat message.
    Say(String),
    /// Go back a page.
    Back,
    /// Reach the end of a section that offers more (its load-more action).
    LoadMore(String),
    /// Pull the page down to refresh it.
    Refresh,
    /// Open a link (`plaza://APP-ID/PATH?QUERY`, or the host's https form):
    /// the step's user's session of the link's mini-app, at its page
    /// ([`plaza_host::Host::open_link`]). The step's expectations are of
    /// that mini-app's page; later steps name `app` when it is not the
    /// first package's.
    Open(String),
    /// Move the test clock forward.
    Advance(Duration),
    /// Close the host and open it again on the same store.
    Restart,
    /// A back office of the samples' back-end (`crates/agency-backend`)
    /// runs an action through the publisher API, the clock first moved
    /// forward to `at_ms` if given.
    Backend(BackendAction),
    /// Nothing: check expectations only.
    Check,
}

/// A back office's action in a step: `backend = "hospital"`, `action =
/// "send-reminders"`, `with = { ... }`, `at = 2026-11-23T00:30:00+08:00`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendAction {
    /// The office: `hospital`, `bank` or `city`.
    pub office: String,
    /// Its action, such as `send-reminders`.
    pub action: String,
    /// The action's arguments.
    pub with: BTreeMap<String, String>,
    /// When to run it (ms since the epoch): the clock is moved forward to
    /// it first.
    pub at_ms: Option<i64>,
    /// `at` as written, for the transcript.
    pub at: Option<String>,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        match self {
            Action::Launch(p) => write!(f, "launch = {}", q(p)),
            Action::Tap(a) => write!(f, "tap = {}", q(a)),
            Action::Submit(form, fields) => {
                write!(f, "submit = {}, fields = {{ ", q(form))?;
                let list: Vec<String> = fields
                    .iter()
                    .map(|(n, v)| format!("{n} = {}", q(v)))
                    .collect();
                write!(f, "{} }}", list.join(", "))
            }
            Action::Say(t) => write!(f, "say = {}", q(t)),
            Action::Back => write!(f, "back = true"),
            Action::LoadMore(a) => write!(f, "load-more = {}", q(a)),
            Action::Refresh => write!(f, "refresh = true"),
            Action::Open(link) => write!(f, "open = {}", q(link)),
            Action::Advance(d) => write!(f, "advance = \"{}s\"", d.as_secs()),
            Action::Restart => write!(f, "restart = true"),
            Action::Backend(b) => {
                write!(f, "backend = {}, action = {}", q(&b.office), q(&b.action))?;
                if !b.with.is_empty() {
                    let list: Vec<String> = b
                        .with
                        .iter()
                        .map(|(n, v)| format!("{n} = {}", q(v)))
                        .collect();
                    write!(f, ", with = {{ {} }}", list.join(", "))?;
                }
                if let Some(at) = &b.at {
                    write!(f, ", at = {at}")?;
                }
                Ok(())
            }
            Action::Check => write!(f, "(expectations only)"),
        }
    }
}

impl Action {
    /// Delivers the action to `session` (launch, tap, submit, say, back)
    /// and returns the page it led to: a scenario step and a line of
    /// `plaza run` go through here alike. `Ok(None)` for the actions that
    /// are not a session's (advance, restart, check): the caller carries
    /// those out.
    pub async fn apply(&self, session: &Session) -> plaza_host::Result<Option<Page>> {
        match self {
            Action::Launch(path) => session.launch(path).await.map(Some),
            Action::Tap(action) => session.tap(action).await.map(Some),
            Action::Submit(form, fields) => {
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                session.submit(form, &fields).await.map(Some)
            }
            Action::Say(text) => session.chat(text).await.map(Some),
            Action::Back => session.back().await.map(Some),
            Action::LoadMore(action) => session.load_more(action).await.map(Some),
            Action::Refresh => session.refresh().await.map(Some),
            // A link names its own mini-app: the caller opens it through the
            // host ([`plaza_host::Host::open_link`]).
            Action::Open(_)
            | Action::Advance(_)
            | Action::Restart
            | Action::Backend(_)
            | Action::Check => Ok(None),
        }
    }
}

/// One step.
#[derive(Debug, Clone)]
pub struct Step {
    /// The line of its `[[step]]` table.
    pub line: usize,
    /// The user (default: the first user).
    pub user: String,
    /// The mini-app (default: the first package's).
    pub app: Option<String>,
    /// Answers changed from this step on.
    pub answers: Option<Answers>,
    /// What it does.
    pub action: Action,
    /// What must hold after it.
    pub expect: Vec<Expectation>,
}

/// Something that must hold after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// The page's title.
    Title(String),
    /// Some block of the page (as rendered) contains this text.
    Text(String),
    /// No block of the page contains this text.
    NoText(String),
    /// A field with this label has this value.
    Field(String, String),
    /// A notice contains this text.
    Notice(String),
    /// The step fails with an error containing this text.
    Error(String),
    /// The step's user's wallet balance (`"CNY 950.00"`).
    Wallet(String),
    /// A publisher's merchant balance.
    Merchant(String, String),
    /// A message in the step's user's inbox whose title or body contains this.
    Inbox(String),
    /// How many messages the step's user's inbox holds.
    InboxCount(u64),
    /// An audit entry of the step's user matching all given parts.
    Audit(AuditSpec),
    /// `ledger verify` finds nothing wrong.
    LedgerClean,
    /// The step's back-office action did this many things (messages sent,
    /// refunds made).
    BackendDone(u64),
    /// A request the step's mini-app sent to a stubbed origin.
    Sent(SentSpec),
    /// The step opened this Plaza link after its event (a scanned code the
    /// user chose to open): the page expectations are of the link's page.
    Opened(String),
}

/// An audit entry to look for; unset parts match anything.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuditSpec {
    /// The capability, exactly (`payment`, `identity.real-name`).
    pub capability: String,
    /// `allowed` or `denied`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Text the detail contains.
    #[serde(default)]
    pub detail: Option<String>,
    /// The mini-app (default: the step's).
    #[serde(default)]
    pub app: Option<String>,
}

impl std::fmt::Display for Expectation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expectation::Title(t) => write!(f, "title {t:?}"),
            Expectation::Text(t) => write!(f, "a block containing {t:?}"),
            Expectation::NoText(t) => write!(f, "no block containing {t:?}"),
            Expectation::Field(l, v) => write!(f, "field {l:?} = {v:?}"),
            Expectation::Notice(t) => write!(f, "a notice containing {t:?}"),
            Expectation::Error(t) => write!(f, "the error {t:?}"),
            Expectation::Wallet(m) => write!(f, "wallet {m}"),
            Expectation::Merchant(p, m) => write!(f, "merchant {p} {m}"),
            Expectation::Inbox(t) => write!(f, "an inbox message containing {t:?}"),
            Expectation::InboxCount(n) => write!(f, "{n} inbox messages"),
            Expectation::Audit(a) => {
                write!(f, "an audit entry {}", a.capability)?;
                if let Some(o) = &a.outcome {
                    write!(f, " {o}")?;
                }
                if let Some(d) = &a.detail {
                    write!(f, " with {d:?}")?;
                }
                Ok(())
            }
            Expectation::LedgerClean => write!(f, "ledger verify clean"),
            Expectation::BackendDone(n) => write!(f, "done = {n}"),
            Expectation::Sent(s) => write!(f, "{s}"),
            Expectation::Opened(l) => write!(f, "the link {l} opened"),
        }
    }
}

// ---- the raw file ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScenario {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    start: Option<Spanned<toml::value::Datetime>>,
    #[serde(default, rename = "package")]
    packages: Vec<Spanned<RawPackage>>,
    #[serde(default, rename = "user")]
    users: Vec<Spanned<UserSpec>>,
    #[serde(default)]
    answers: Option<Spanned<RawAnswers>>,
    #[serde(default, rename = "step")]
    steps: Vec<Spanned<RawStep>>,
    #[serde(default, rename = "stub")]
    stubs: Vec<Spanned<RawStub>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPackage {
    path: String,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    settings: BTreeMap<String, String>,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAnswers {
    #[serde(default)]
    consent: BTreeMap<String, String>,
    #[serde(default)]
    payment: Option<String>,
    #[serde(default)]
    subscription: Option<String>,
    #[serde(default)]
    upload: Option<String>,
    #[serde(default)]
    scan: Option<String>,
    #[serde(default)]
    link_offer: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged, expecting = "a string or a list of strings")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStep {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    answers: Option<RawAnswers>,
    // Actions: at most one.
    #[serde(default)]
    launch: Option<String>,
    #[serde(default)]
    tap: Option<String>,
    #[serde(default)]
    submit: Option<String>,
    #[serde(default)]
    fields: Option<BTreeMap<String, String>>,
    #[serde(default)]
    say: Option<String>,
    #[serde(default)]
    back: Option<bool>,
    #[serde(default)]
    load_more: Option<String>,
    #[serde(default)]
    refresh: Option<bool>,
    #[serde(default)]
    open: Option<String>,
    #[serde(default)]
    advance: Option<String>,
    #[serde(default)]
    restart: Option<bool>,
    #[serde(default)]
    backend: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    with: Option<BTreeMap<String, String>>,
    #[serde(default)]
    at: Option<toml::value::Datetime>,
    // Expectations.
    #[serde(default)]
    done: Option<u64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    text: Option<OneOrMany>,
    #[serde(default)]
    no_text: Option<OneOrMany>,
    #[serde(default)]
    field: Option<BTreeMap<String, String>>,
    #[serde(default)]
    notice: Option<OneOrMany>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    wallet: Option<String>,
    #[serde(default)]
    merchant: Option<BTreeMap<String, String>>,
    #[serde(default)]
    inbox: Option<OneOrMany>,
    #[serde(default)]
    inbox_count: Option<u64>,
    #[serde(default)]
    audit: Vec<AuditSpec>,
    #[serde(default)]
    ledger: Option<String>,
    #[serde(default)]
    sent: Option<OneOrManySent>,
    #[serde(default)]
    opened: Option<String>,
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn read_file(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Scenario::parse(path, &text)
    }

    /// Parses and checks a scenario's text; `file` names it in errors and
    /// is where relative package paths start.
    pub fn parse(file: &Path, text: &str) -> Result<Scenario> {
        let bad = |offset: usize, message: String| Error::Parse {
            file: file.to_path_buf(),
            line: line_of(text, offset),
            message,
        };
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let message = e.message().trim().to_string();
            bad(offset, message)
        })?;
        let (start_ms, utc_offset_minutes) = match &raw.start {
            None => (DEFAULT_START_MS, DEFAULT_UTC_OFFSET_MINUTES),
            Some(s) => datetime_ms(s.get_ref()).map_err(|m| bad(s.span().start, m))?,
        };
        if raw.packages.is_empty() {
            return Err(bad(
                0,
                "expected at least one `[[package]]` with a `path`".into(),
            ));
        }
        let base = file.parent().unwrap_or(Path::new("."));
        let packages: Vec<PackageSpec> = raw
            .packages
            .iter()
            .map(|p| PackageSpec {
                path: base.join(&p.get_ref().path),
                verified: p.get_ref().verified,
                settings: p.get_ref().settings.clone(),
                secrets: p.get_ref().secrets.clone(),
                line: line_of(text, p.span().start),
            })
            .collect();
        let mut users = Vec::new();
        for u in &raw.users {
            let spec = u.get_ref().clone();
            let at = u.span().start;
            if spec.id.is_empty() {
                return Err(bad(at, "expected a user `id`".into()));
            }
            if let Some(w) = &spec.wallet {
                parse_money(w).map_err(|m| bad(at, format!("`wallet`: {m}")))?;
            }
            if let Some(card) = &spec.insurance {
                parse_money(&card.annual_cap)
                    .map_err(|m| bad(at, format!("`insurance.annual-cap`: {m}")))?;
                if card.coverage > 100 {
                    return Err(bad(
                        at,
                        "`insurance.coverage` is a percentage: expected 0 to 100".into(),
                    ));
                }
            }
            for scopes in spec.consents.values() {
                for scope in scopes.keys() {
                    parse_scope(scope).map_err(|m| bad(at, m))?;
                }
            }
            users.push(spec);
        }
        let default_user = users
            .first()
            .map(|u| u.id.clone())
            .unwrap_or_else(|| "guest".to_string());
        let answers = match &raw.answers {
            None => Answers::default(),
            Some(a) => answers(a.get_ref())
                .and_then(|a| a.with_upload_from(base))
                .map_err(|m| bad(a.span().start, m))?,
        };
        let mut steps = Vec::new();
        for s in &raw.steps {
            let at = s.span().start;
            let mut step = step(s.get_ref(), &default_user).map_err(|m| bad(at, m))?;
            step.answers = step
                .answers
                .map(|a| a.with_upload_from(base))
                .transpose()
                .map_err(|m| bad(at, m))?;
            steps.push(Step {
                line: line_of(text, at),
                ..step
            });
        }
        if steps.is_empty() {
            return Err(bad(text.len(), "expected at least one `[[step]]`".into()));
        }
        let stubs = crate::stubs::stubs(&raw.stubs, &packages, text)
            .map_err(|(offset, m)| bad(offset, m))?;
        let name = raw.name.clone().unwrap_or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        Ok(Scenario {
            name,
            file: file.to_path_buf(),
            description: raw.description.clone().unwrap_or_default(),
            start_ms,
            utc_offset_minutes,
            packages,
            users,
            answers,
            steps,
            stubs,
        })
    }
}

fn step(raw: &RawStep, default_user: &str) -> std::result::Result<Step, String> {
    let mut actions = Vec::new();
    if let Some(p) = &raw.launch {
        actions.push(Action::Launch(p.clone()));
    }
    if let Some(a) = &raw.tap {
        actions.push(Action::Tap(a.clone()));
    }
    if let Some(form) = &raw.submit {
        let fields = raw.fields.clone().unwrap_or_default().into_iter().collect();
        actions.push(Action::Submit(form.clone(), fields));
    } else if raw.fields.is_some() {
        return Err("`fields` go with `submit = \"FORM\"`".into());
    }
    if let Some(t) = &raw.say {
        actions.push(Action::Say(t.clone()));
    }
    if raw.back == Some(true) {
        actions.push(Action::Back);
    }
    if let Some(a) = &raw.load_more {
        actions.push(Action::LoadMore(a.clone()));
    }
    if raw.refresh == Some(true) {
        actions.push(Action::Refresh);
    }
    if let Some(link) = &raw.open {
        if raw.app.is_some() {
            return Err("`open` names its mini-app in the link: leave `app` out".into());
        }
        actions.push(Action::Open(link.clone()));
    }
    if let Some(d) = &raw.advance {
        actions.push(Action::Advance(parse_duration(d)?));
    }
    if raw.restart == Some(true) {
        actions.push(Action::Restart);
    }
    if let Some(office) = &raw.backend {
        let Some(action) = &raw.action else {
            return Err(
                "`backend` goes with `action = \"ACTION\"` (such as send-reminders)".into(),
            );
        };
        let at_ms = match &raw.at {
            Some(at) => Some(datetime_ms(at).map_err(|e| e.replace("`start`", "`at`"))?.0),
            None => None,
        };
        actions.push(Action::Backend(BackendAction {
            office: office.clone(),
            action: action.clone(),
            with: raw.with.clone().unwrap_or_default(),
            at_ms,
            at: raw.at.as_ref().map(ToString::to_string),
        }));
    } else if raw.action.is_some() || raw.with.is_some() || raw.at.is_some() {
        return Err("`action`, `with` and `at` go with `backend = \"OFFICE\"`".into());
    }
    if raw.done.is_some() && raw.backend.is_none() {
        return Err("`done` goes with `backend = \"OFFICE\"`".into());
    }
    if actions.len() > 1 {
        return Err(
            "expected at most one action in a step (launch, tap, submit, say, back, load-more, refresh, open, advance, restart, backend)"
                .into(),
        );
    }
    let action = actions.pop().unwrap_or(Action::Check);
    let mut expect = Vec::new();
    if let Some(t) = &raw.title {
        expect.push(Expectation::Title(t.clone()));
    }
    let many = |o: &Option<OneOrMany>| {
        o.as_ref().map(|v| match v {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        })
    };
    for t in many(&raw.text).unwrap_or_default() {
        expect.push(Expectation::Text(t));
    }
    for t in many(&raw.no_text).unwrap_or_default() {
        expect.push(Expectation::NoText(t));
    }
    for (l, v) in raw.field.clone().unwrap_or_default() {
        expect.push(Expectation::Field(l, v));
    }
    for t in many(&raw.notice).unwrap_or_default() {
        expect.push(Expectation::Notice(t));
    }
    if let Some(e) = &raw.error {
        expect.push(Expectation::Error(e.clone()));
    }
    if let Some(w) = &raw.wallet {
        parse_money(w).map_err(|m| format!("`wallet`: {m}"))?;
        expect.push(Expectation::Wallet(w.clone()));
    }
    for (p, m) in raw.merchant.clone().unwrap_or_default() {
        parse_money(&m).map_err(|e| format!("`merchant.{p}`: {e}"))?;
        expect.push(Expectation::Merchant(p, m));
    }
    for t in many(&raw.inbox).unwrap_or_default() {
        expect.push(Expectation::Inbox(t));
    }
    if let Some(n) = raw.inbox_count {
        expect.push(Expectation::InboxCount(n));
    }
    if let Some(n) = raw.done {
        expect.push(Expectation::BackendDone(n));
    }
    for a in &raw.audit {
        if let Some(o) = &a.outcome
            && o != "allowed"
            && o != "denied"
        {
            return Err(format!(
                "`audit.outcome`: expected `allowed` or `denied`, found `{o}`"
            ));
        }
        expect.push(Expectation::Audit(a.clone()));
    }
    match raw.ledger.as_deref() {
        None => {}
        Some("clean") => expect.push(Expectation::LedgerClean),
        Some(other) => return Err(format!("`ledger`: expected \"clean\", found {other:?}")),
    }
    if let Some(sent) = &raw.sent {
        expect.extend(sent.clone().into_vec().into_iter().map(Expectation::Sent));
    }
    if let Some(link) = &raw.opened {
        expect.push(Expectation::Opened(link.clone()));
    }
    let answers = raw.answers.as_ref().map(answers).transpose()?;
    Ok(Step {
        line: 0,
        user: raw.user.clone().unwrap_or_else(|| default_user.to_string()),
        app: raw.app.clone(),
        answers,
        action,
        expect,
    })
}

fn answers(raw: &RawAnswers) -> std::result::Result<Answers, String> {
    let mut consent = Vec::new();
    for (scope, answer) in &raw.consent {
        let scope = parse_scope(scope)?;
        let answer = match answer.as_str() {
            "allow" => ConsentAnswer::Allow,
            "deny" => ConsentAnswer::Deny,
            "dismiss" => ConsentAnswer::Dismiss,
            other => {
                return Err(format!(
                    "`answers.consent.{scope}`: expected `allow`, `deny` or `dismiss`, found `{other}`"
                ));
            }
        };
        consent.push((scope, answer));
    }
    let payment = match raw.payment.as_deref() {
        None => None,
        Some("confirm") => Some(PaymentAnswer::Confirm),
        Some("decline") => Some(PaymentAnswer::Decline),
        Some("cancel") => Some(PaymentAnswer::Cancel),
        Some(other) => {
            return Err(format!(
                "`answers.payment`: expected `confirm`, `decline` or `cancel`, found `{other}`"
            ));
        }
    };
    let subscription = match raw.subscription.as_deref() {
        None => None,
        Some("accept") => Some(SubscriptionAnswer::AcceptOnce),
        Some("long-term") => Some(SubscriptionAnswer::AcceptLongTerm),
        Some("reject") => Some(SubscriptionAnswer::Reject),
        Some(other) => {
            return Err(format!(
                "`answers.subscription`: expected `accept`, `long-term` or `reject`, found `{other}`"
            ));
        }
    };
    let upload = match raw.upload.as_deref() {
        None => None,
        Some("cancel") => Some(Upload::Cancel),
        Some("") => {
            return Err(
                "`answers.upload`: expected a file's path or `cancel`, found an empty string"
                    .to_string(),
            );
        }
        Some(path) => Some(Upload::File(PathBuf::from(path))),
    };
    let scan = match raw.scan.as_deref() {
        None => None,
        Some("cancel") => Some(ScanAnswer::Cancel),
        Some("") => {
            return Err(
                "`answers.scan`: expected the scanned code's text or `cancel`, found an empty string"
                    .to_string(),
            );
        }
        Some(text) => Some(ScanAnswer::Code {
            text: text.to_string(),
            kind: plaza_host::scan::CodeKind::Qr,
        }),
    };
    let link_offer = match raw.link_offer.as_deref() {
        None => None,
        Some("open") => Some(true),
        Some("stay") => Some(false),
        Some(other) => {
            return Err(format!(
                "`answers.link-offer`: expected `open` or `stay`, found `{other}`"
            ));
        }
    };
    Ok(Answers {
        consent,
        payment,
        subscription,
        upload,
        scan,
        link_offer,
    })
}

fn parse_scope(name: &str) -> std::result::Result<Scope, String> {
    Scope::parse(name).ok_or_else(|| {
        let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        format!(
            "unknown consent scope `{name}`: expected one of {}",
            all.join(", ")
        )
    })
}

/// Parses `"CNY 12.50"` into (currency, minor units).
pub fn parse_money(s: &str) -> std::result::Result<(String, u64), String> {
    let expected = || format!("expected an amount such as \"CNY 12.50\", found {s:?}");
    let (currency, amount) = s.trim().split_once(' ').ok_or_else(expected)?;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(expected());
    }
    let minor = plaza_host::ledger::parse_money(amount.trim()).ok_or_else(expected)?;
    Ok((currency.to_string(), minor))
}

/// Parses `"90s"`, `"30m"`, `"2h"`, `"1d"`, or several (`"1h30m"`).
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let expected =
        || format!("`advance`: expected a duration such as \"30m\", \"2h\", \"1d2h\", found {s:?}");
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| expected())?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(expected()),
        };
        // A duration past u64 seconds is a typo, not a reason to panic.
        total = n
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(|| format!("`advance`: {s:?} is too long a duration"))?;
    }
    if !num.is_empty() || total == 0 {
        return Err(expected());
    }
    Ok(Duration::from_secs(total))
}

fn datetime_ms(dt: &toml::value::Datetime) -> std::result::Result<(i64, i32), String> {
    let expected = || {
        "`start`: expected a date and time with an offset, such as 2026-11-21T09:00:00+08:00"
            .to_string()
    };
    let (Some(date), Some(time), Some(offset)) = (dt.date, dt.time, dt.offset) else {
        return Err(expected());
    };
    let offset_min = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => minutes as i32,
    };
    let days = days_from_civil(date.year as i64, date.month as i64, date.day as i64);
    let secs =
        days * 86_400 + time.hour as i64 * 3600 + time.minute as i64 * 60 + time.second as i64
            - offset_min as i64 * 60;
    Ok((secs * 1000, offset_min))
}

/// Days since 1970-01-01 (Howard Hinnant's days-from-civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_answers_and_the_opened_expectation_parse_and_typos_are_refused() {
        let text = "[[package]]\npath = \"app\"\n[[step]]\nanswers = { scan = \"plaza://cn.hz.maternity/checkin?clinic=obstetrics\", link-offer = \"open\" }\ntap = \"scan\"\nopened = \"plaza://cn.hz.maternity/checkin?clinic=obstetrics\"\n";
        let s = Scenario::parse(Path::new("t.toml"), text).unwrap();
        let answers = s.steps[0].answers.clone().unwrap();
        assert_eq!(
            answers.scan,
            Some(ScanAnswer::Code {
                text: "plaza://cn.hz.maternity/checkin?clinic=obstetrics".into(),
                kind: plaza_host::scan::CodeKind::Qr
            })
        );
        assert_eq!(answers.link_offer, Some(true));
        assert_eq!(
            s.steps[0].expect,
            vec![Expectation::Opened(
                "plaza://cn.hz.maternity/checkin?clinic=obstetrics".into()
            )]
        );
        let cancel = text.replace("link-offer = \"open\"", "link-offer = \"stay\"");
        let cancel = cancel.replace(
            "scan = \"plaza://cn.hz.maternity/checkin?clinic=obstetrics\"",
            "scan = \"cancel\"",
        );
        let s = Scenario::parse(Path::new("t.toml"), &cancel).unwrap();
        let answers = s.steps[0].answers.clone().unwrap();
        assert_eq!(
            (answers.scan, answers.link_offer),
            (Some(ScanAnswer::Cancel), Some(false))
        );
        let typo = text.replace("link-offer = \"open\"", "link-offer = \"yes\"");
        let e = Scenario::parse(Path::new("t.toml"), &typo)
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected `open` or `stay`, found `yes`"), "{e}");
        let empty = text.replace(
            "scan = \"plaza://cn.hz.maternity/checkin?clinic=obstetrics\"",
            "scan = \"\"",
        );
        let e = Scenario::parse(Path::new("t.toml"), &empty)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`answers.scan`"), "{e}");
    }

    #[test]
    fn the_default_start_is_nine_in_hangzhou() {
        let dt: toml::value::Datetime = "2026-11-21T09:00:00+08:00".parse().unwrap();
        assert_eq!(datetime_ms(&dt).unwrap(), (DEFAULT_START_MS, 480));
    }

    #[test]
    fn durations_and_money() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5").is_err());
        assert_eq!(parse_money("CNY 12.50").unwrap(), ("CNY".into(), 1250));
        assert!(parse_money("12.50").is_err());
    }

    #[test]
    fn a_duration_too_long_to_count_is_refused_not_a_panic() {
        // Found by the property test: 307445734561825861 minutes overflow u64 seconds.
        let e = parse_duration("307445734561825861m").unwrap_err();
        assert!(e.contains("too long"), "{e}");
        assert!(parse_duration("18446744073709551615s1s").is_err());
        assert_eq!(
            parse_duration("18446744073709551615s").unwrap(),
            Duration::from_secs(u64::MAX)
        );
    }
}
