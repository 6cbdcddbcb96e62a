//! The institutions' back offices: what the hospital's, the bank's and the
//! city's own servers do through the host's publisher API, without a user's
//! session.
//!
//! The sample mini-apps tell their back office what the user did (a booking,
//! a card to remind about, a lottery entry) over the network capability,
//! with a fresh login code (`identity.login`); the office exchanges the code
//! for the user's openid through the publisher API and keeps the record.
//! Its actions then reach the user by that openid:
//!
//! | office | action | what it does |
//! |---|---|---|
//! | `hospital` | `send-reminders` | "your appointment is tomorrow" (template `appointment-reminder`), from the day before the appointment on the host's clock, once per booking |
//! | `hospital` | `cancel-clinic` (`doctor`, `day`) | refunds what is left of the deposit of every booking with that doctor on that day, each refund with the refund id `clinic-<order id>`, so running it again refunds nothing twice |
//! | `bank` | `send-reminders` | the repayment reminder (template `repayment-due`), from three days before the due date, once per card and due date |
//! | `city` | `announce-lottery` | after each draw, its result to every entrant (template `lottery-result`), once per entry |
//!
//! The office reaches the host through a [`PublisherApi`]: in the same
//! process ([`InProcessApi`], `Host::publisher_api`) or over HTTP
//! ([`HttpApi`], `/v1/publisher/...` of a `plaza-server`). Both sign in with
//! the mini-app's app secret and get a new access token when the one they
//! hold has expired.
//!
//! The records live in the office's memory: a restarted back-end knows the
//! bookings registered since.

use plaza_host::clock::{civil_date, day_start_ms};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The hospital sample's app id.
pub const HOSPITAL_APP: &str = "cn.hz.maternity";
/// The bank sample's app id.
pub const BANK_APP: &str = "cn.westlake.bank";
/// The city-services sample's app id.
pub const CITY_APP: &str = "cn.gov.hz.city";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Why a call of the publisher API, or an office's action, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfficeError {
    /// The host knows no such user, order or login code for this mini-app.
    #[error("not found: {0}")]
    NotFound(String),
    /// The host refused the call (no acceptance of the template left, a
    /// refund id used for another refund).
    #[error("refused: {0}")]
    Refused(String),
    /// The host would not sign the back-end in (a wrong secret, a mini-app
    /// not installed).
    #[error("not signed in: {0}")]
    SignIn(String),
    /// The request was wrong (bad input to an action, to the API).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The host could not be reached or failed.
    #[error("the host failed: {0}")]
    Host(String),
    /// No back office of that name, no such action, or the office's
    /// mini-app is not connected.
    #[error("{0}")]
    NoSuchOffice(String),
}

/// A payment as an office needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The order id.
    pub order_id: String,
    /// The amount paid, minor units.
    pub amount: u64,
    /// Refunded so far, minor units.
    pub refunded: u64,
    /// The refund ids of its refunds that carry one.
    pub refund_ids: Vec<String>,
}

/// A refund made (or, for a retried refund id, the first one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The refund's transaction.
    pub tx_id: String,
    /// The amount returned.
    pub amount: u64,
}

/// The calls of the host's publisher API an office makes, as one mini-app's
/// back-end.
pub trait PublisherApi: Send + Sync {
    /// The mini-app it is the back-end of.
    fn app_id(&self) -> &str;
    /// The openid of the user a login code was made for (single use).
    fn login(&self, code: &str) -> Result<String, OfficeError>;
    /// Sends a subscription message by openid; returns its id.
    fn send_message(
        &self,
        openid: &str,
        template: &str,
        fields: &[(String, String)],
        link: Option<&str>,
    ) -> Result<String, OfficeError>;
    /// The payment of an order.
    fn payment(&self, order_id: &str) -> Result<Payment, OfficeError>;
    /// Refunds `amount` of an order, idempotently by `refund_id`.
    fn refund(
        &self,
        order_id: &str,
        refund_id: &str,
        amount: u64,
        reason: &str,
    ) -> Result<Refund, OfficeError>;
}

fn host_error(e: plaza_host::Error) -> OfficeError {
    use plaza_host::Error as E;
    match e {
        E::NotFound(m) => OfficeError::NotFound(m),
        E::Refused(m) => OfficeError::Refused(m),
        e @ (E::WrongAppSecret { .. } | E::NotInstalled { .. }) => {
            OfficeError::SignIn(e.to_string())
        }
        E::InvalidRequest(m) => OfficeError::Invalid(m),
        e => OfficeError::Host(e.to_string()),
    }
}

/// The publisher API of a host in this process (`Host::publisher_api`).
#[derive(Debug)]
pub struct InProcessApi {
    host: plaza_host::Host,
    app_id: String,
    secret: String,
    token: Mutex<Option<String>>,
}

impl InProcessApi {
    /// The back-end of `app_id`, signing in with its app secret.
    pub fn new(host: plaza_host::Host, app_id: &str, secret: &str) -> InProcessApi {
        InProcessApi {
            host,
            app_id: app_id.to_string(),
            secret: secret.to_string(),
            token: Mutex::new(None),
        }
    }

    /// Runs `call` with the back-end's handle; signs in again once when the
    /// token it holds has expired (or was ended by a new secret).
    fn with<T>(
        &self,
        call: impl Fn(&plaza_host::Publisher) -> plaza_host::Result<T>,
    ) -> Result<T, OfficeError> {
        let mut token = self.token.lock().unwrap_or_else(|p| p.into_inner());
        for fresh in [false, true] {
            if fresh || token.is_none() {
                let t = self
                    .host
                    .access_token(&self.app_id, &self.secret)
                    .map_err(host_error)?;
                *token = Some(t.access_token);
            }
            let held = token.as_deref().unwrap_or_default();
            match self.host.publisher_api(held) {
                Ok(api) => return call(&api).map_err(host_error),
                Err(
                    plaza_host::Error::AccessTokenExpired { .. }
                    | plaza_host::Error::InvalidAccessToken,
                ) if !fresh => continue,
                Err(e) => return Err(host_error(e)),
            }
        }
        Err(OfficeError::Host("no access token".into()))
    }
}

impl PublisherApi for InProcessApi {
    fn app_id(&self) -> &str {
        &self.app_id
    }

    fn login(&self, code: &str) -> Result<String, OfficeError> {
        self.with(|api| api.exchange_login_code(code).map(|l| l.openid))
    }

    fn send_message(
        &self,
        openid: &str,
        template: &str,
        fields: &[(String, String)],
        link: Option<&str>,
    ) -> Result<String, OfficeError> {
        self.with(|api| api.send_message(openid, template, fields, link))
    }

    fn payment(&self, order_id: &str) -> Result<Payment, OfficeError> {
        self.with(|api| {
            api.payment(order_id).map(|p| Payment {
                order_id: p.order_id,
                amount: p.amount,
                refunded: p.refunded,
                refund_ids: p.refunds.into_iter().filter_map(|r| r.refund_id).collect(),
            })
        })
    }

    fn refund(
        &self,
        order_id: &str,
        refund_id: &str,
        amount: u64,
        reason: &str,
    ) -> Result<Refund, OfficeError> {
        self.with(|api| {
            api.refund(order_id, refund_id, amount, reason)
                .map(|r| Refund {
                    tx_id: r.tx_id,
                    amount: r.amount,
                })
        })
    }
}

/// The publisher API of a `plaza-server`, over HTTP: `POST
/// /v1/publisher/token` for the access token, then the calls with it as the
/// bearer token. `http://` URLs only (a server on this machine or its
/// network; put TLS in front of both otherwise).
#[derive(Debug)]
pub struct HttpApi {
    base: String,
    app_id: String,
    secret: String,
    agent: ureq::Agent,
    token: Mutex<Option<String>>,
}

impl HttpApi {
    /// The back-end of `app_id` on the server at `base` (such as
    /// `http://127.0.0.1:8080`), signing in with its app secret.
    pub fn new(base: &str, app_id: &str, secret: &str) -> HttpApi {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A new connection a request: the server may close one after
            // answering before it read the body.
            .max_idle_connections(0)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build()
            .into();
        HttpApi {
            base: base.trim_end_matches('/').to_string(),
            app_id: app_id.to_string(),
            secret: secret.to_string(),
            agent,
            token: Mutex::new(None),
        }
    }

    /// One request: the status and the JSON answer.
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), OfficeError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |e: ureq::Error| OfficeError::Host(format!("{url}: {e}"));
        let auth = token.map(|t| format!("Bearer {t}"));
        let response = match (method, body) {
            ("GET", _) => {
                let mut r = self.agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("authorization", a);
                }
                r.call()
            }
            (_, body) => {
                let mut r = self.agent.post(&url);
                if let Some(a) = &auth {
                    r = r.header("authorization", a);
                }
                r.send_json(body.unwrap_or(serde_json::Value::Null))
            }
        };
        let mut response = response.map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(unreachable)?;
        let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Ok((status, value))
    }

    /// A call with the access token; signs in again once when the token is
    /// expired or no longer valid.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, OfficeError> {
        let mut token = self.token.lock().unwrap_or_else(|p| p.into_inner());
        for fresh in [false, true] {
            if fresh || token.is_none() {
                let (status, v) = self.send(
                    "POST",
                    "/v1/publisher/token",
                    None,
                    Some(serde_json::json!({"app_id": self.app_id, "secret": self.secret})),
                )?;
                match v["access_token"].as_str() {
                    Some(t) if status == 200 => *token = Some(t.to_string()),
                    _ => return Err(OfficeError::SignIn(error_message(status, &v))),
                }
            }
            let (status, v) = self.send(method, path, token.as_deref(), body.clone())?;
            let kind = v["error"]["kind"].as_str().unwrap_or_default();
            return match status {
                200..=299 => Ok(v),
                401 if !fresh && matches!(kind, "expired-token" | "invalid-token") => continue,
                404 => Err(OfficeError::NotFound(error_message(status, &v))),
                403 => Err(OfficeError::Refused(error_message(status, &v))),
                400 => Err(OfficeError::Invalid(error_message(status, &v))),
                401 => Err(OfficeError::SignIn(error_message(status, &v))),
                _ => Err(OfficeError::Host(error_message(status, &v))),
            };
        }
        Err(OfficeError::Host("no access token".into()))
    }
}

fn error_message(status: u16, v: &serde_json::Value) -> String {
    match v["error"]["message"].as_str() {
        Some(m) => format!("{status}: {m}"),
        None => format!("{status}: {v}"),
    }
}

fn text_of(v: &serde_json::Value, name: &str) -> Result<String, OfficeError> {
    v[name]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| OfficeError::Host(format!("the answer has no `{name}`: {v}")))
}

fn number_of(v: &serde_json::Value, name: &str) -> Result<u64, OfficeError> {
    v[name]
        .as_u64()
        .ok_or_else(|| OfficeError::Host(format!("the answer has no `{name}`: {v}")))
}

/// Escapes a path segment (an order id) for a URL.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl PublisherApi for HttpApi {
    fn app_id(&self) -> &str {
        &self.app_id
    }

    fn login(&self, code: &str) -> Result<String, OfficeError> {
        let v = self.call(
            "POST",
            "/v1/publisher/login",
            Some(serde_json::json!({ "code": code })),
        )?;
        text_of(&v, "openid")
    }

    fn send_message(
        &self,
        openid: &str,
        template: &str,
        fields: &[(String, String)],
        link: Option<&str>,
    ) -> Result<String, OfficeError> {
        let fields: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let mut body =
            serde_json::json!({"openid": openid, "template": template, "fields": fields});
        if let Some(link) = link {
            body["link"] = link.into();
        }
        let v = self.call("POST", "/v1/publisher/messages", Some(body))?;
        text_of(&v, "message_id")
    }

    fn payment(&self, order_id: &str) -> Result<Payment, OfficeError> {
        let v = self.call(
            "GET",
            &format!("/v1/publisher/payments/{}", path_segment(order_id)),
            None,
        )?;
        Ok(Payment {
            order_id: text_of(&v, "order_id")?,
            amount: number_of(&v, "amount")?,
            refunded: number_of(&v, "refunded")?,
            refund_ids: v["refunds"]
                .as_array()
                .map(|rs| {
                    rs.iter()
                        .filter_map(|r| r["refund_id"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    fn refund(
        &self,
        order_id: &str,
        refund_id: &str,
        amount: u64,
        reason: &str,
    ) -> Result<Refund, OfficeError> {
        let v = self.call(
            "POST",
            "/v1/publisher/refunds",
            Some(
                serde_json::json!({"order_id": order_id, "refund_id": refund_id,
                "amount": amount, "reason": reason}),
            ),
        )?;
        Ok(Refund {
            tx_id: text_of(&v, "tx_id")?,
            amount: number_of(&v, "amount")?,
        })
    }
}

/// What an action did: a line per record acted on, and a line per record
/// it left (and why).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionReport {
    /// What it did, a line each (a message sent, a refund made).
    pub done: Vec<String>,
    /// What it left, a line each, with the reason.
    pub skipped: Vec<String>,
    /// What failed and will be tried again at the next run, a line each.
    pub failed: Vec<String>,
}

impl std::fmt::Display for ActionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} done, {} skipped, {} failed",
            self.done.len(),
            self.skipped.len(),
            self.failed.len()
        )?;
        for (what, lines) in [
            ("done", &self.done),
            ("skipped", &self.skipped),
            ("failed", &self.failed),
        ] {
            for l in lines {
                write!(f, "\n{what}: {l}")?;
            }
        }
        Ok(())
    }
}

/// A booking the hospital's back office knows.
#[derive(Debug, Clone)]
struct Booking {
    openid: String,
    number: String,
    doctor: String,
    doctor_name: String,
    /// `YYYYMMDD-HHMM`, hospital time.
    slot: String,
    time: String,
    deposit_order: Option<String>,
    reminded: bool,
    cancelled: bool,
}

/// A card the bank reminds about, for one due date.
#[derive(Debug, Clone)]
struct Card {
    openid: String,
    card: String,
    amount: String,
    /// `YYYY-MM-DD`.
    due: String,
    due_label: String,
    reminded: bool,
}

/// An entry of the plate lottery.
#[derive(Debug, Clone)]
struct Entry {
    openid: String,
    application: String,
    draw_ms: i64,
    announced: bool,
}

#[derive(Debug, Default)]
struct Records {
    bookings: Vec<Booking>,
    cards: Vec<Card>,
    entries: Vec<Entry>,
}

/// The three institutions' back offices: their records, and the publisher
/// API of each connected mini-app.
pub struct Offices {
    apis: Mutex<BTreeMap<String, Arc<dyn PublisherApi>>>,
    records: Mutex<Records>,
    utc_offset_minutes: i32,
}

impl std::fmt::Debug for Offices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let apis = self.apis.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("Offices")
            .field("connected", &apis.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The office names and the mini-app each serves.
pub const OFFICES: [(&str, &str); 3] = [
    ("hospital", HOSPITAL_APP),
    ("bank", BANK_APP),
    ("city", CITY_APP),
];

/// The actions each office runs on a schedule (`--every`).
pub const PERIODIC: [(&str, &str); 3] = [
    ("hospital", "send-reminders"),
    ("bank", "send-reminders"),
    ("city", "announce-lottery"),
];

fn app_of(office: &str) -> Result<&'static str, OfficeError> {
    OFFICES
        .iter()
        .find(|(o, _)| *o == office)
        .map(|(_, app)| *app)
        .ok_or_else(|| {
            OfficeError::NoSuchOffice(format!(
                "no back office `{}`: hospital, bank or city",
                office.chars().take(32).collect::<String>()
            ))
        })
}

/// The fields of a registration: `name=value` lines.
pub fn parse_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn required<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, OfficeError> {
    match fields.get(name).map(String::as_str) {
        Some(v) if !v.is_empty() && v.len() <= 256 => Ok(v),
        _ => Err(OfficeError::Invalid(format!(
            "`{name}` is missing (or longer than 256 bytes)"
        ))),
    }
}

/// A local date `YYYY-MM-DD`.
fn date_of(ms: i64, utc_offset_minutes: i32) -> String {
    let (y, m, d) = civil_date(ms, utc_offset_minutes);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A refund id from an order id: `clinic-` and the order id's letters,
/// digits and `-_.:`, at most 64 characters.
fn clinic_refund_id(order_id: &str) -> String {
    let clean: String = order_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.:".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("clinic-{clean}").chars().take(64).collect()
}

/// Whether an application is drawn: one in five, by its number (the same
/// rule the city-services sample shows on its lottery page).
pub fn drawn(application: &str) -> bool {
    crate::records::hash(application).is_multiple_of(5)
}

impl Offices {
    /// Offices with no mini-app connected, in the host's time zone.
    pub fn new(utc_offset_minutes: i32) -> Offices {
        Offices {
            apis: Mutex::new(BTreeMap::new()),
            records: Mutex::new(Records::default()),
            utc_offset_minutes,
        }
    }

    /// Connects a mini-app's back-end (replacing the one it had): the
    /// office serving that app id acts through it.
    pub fn connect(&self, api: Arc<dyn PublisherApi>) {
        let mut apis = self.apis.lock().unwrap_or_else(|p| p.into_inner());
        apis.insert(api.app_id().to_string(), api);
    }

    fn api(&self, office: &str) -> Result<Arc<dyn PublisherApi>, OfficeError> {
        let app = app_of(office)?;
        let apis = self.apis.lock().unwrap_or_else(|p| p.into_inner());
        apis.get(app).cloned().ok_or_else(|| {
            OfficeError::NoSuchOffice(format!(
                "the {office} office has no publisher API: connect {app}'s back-end (its app secret)"
            ))
        })
    }

    fn records(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A registration from a mini-app (`POST /<office>/<kind>`): the fields,
    /// with the user's login code as `code`. Returns what to answer.
    pub fn register(
        &self,
        office: &str,
        kind: &str,
        fields: &BTreeMap<String, String>,
    ) -> Result<String, OfficeError> {
        let api = self.api(office)?;
        let code = required(fields, "code")?;
        let get = |n: &str| required(fields, n).map(str::to_string);
        match (office, kind) {
            ("hospital", "bookings") => {
                let (number, doctor, slot) = (get("number")?, get("doctor")?, get("slot")?);
                let digits =
                    |r: std::ops::Range<usize>| slot.as_bytes()[r].iter().all(u8::is_ascii_digit);
                if slot.len() != 13
                    || !slot.is_ascii()
                    || !digits(0..8)
                    || &slot[8..9] != "-"
                    || !digits(9..13)
                {
                    return Err(OfficeError::Invalid("slot=YYYYMMDD-HHMM".into()));
                }
                let booking = Booking {
                    openid: String::new(),
                    number,
                    doctor,
                    doctor_name: get("doctor_name")?,
                    slot,
                    time: get("time")?,
                    deposit_order: fields.get("deposit").filter(|d| !d.is_empty()).cloned(),
                    reminded: false,
                    cancelled: false,
                };
                let openid = api.login(code)?;
                let mut r = self.records();
                let number = booking.number.clone();
                // Registered again (a retried request): the same booking,
                // reminded or not as before.
                let before = r
                    .bookings
                    .iter()
                    .position(|b| b.openid == openid && b.number == number);
                let reminded = before.is_some_and(|i| r.bookings[i].reminded);
                if let Some(i) = before {
                    r.bookings.remove(i);
                }
                r.bookings.push(Booking {
                    openid,
                    reminded,
                    ..booking
                });
                Ok(format!("booking {number} registered"))
            }
            ("hospital", "cancellations") => {
                let number = get("number")?;
                let openid = api.login(code)?;
                let mut r = self.records();
                let found = r
                    .bookings
                    .iter_mut()
                    .filter(|b| b.openid == openid && b.number == number)
                    .map(|b| b.cancelled = true)
                    .count();
                Ok(if found > 0 {
                    format!("booking {number} cancelled")
                } else {
                    format!("no booking {number}")
                })
            }
            ("bank", "reminders") => {
                let (card, amount, due, due_label) =
                    (get("card")?, get("amount")?, get("due")?, get("due_label")?);
                if day_start_ms(&due, self.utc_offset_minutes).is_none() {
                    return Err(OfficeError::Invalid("due=YYYY-MM-DD".into()));
                }
                let openid = api.login(code)?;
                let mut r = self.records();
                // Registered again: the new amount, reminded or not as before.
                let before = r
                    .cards
                    .iter()
                    .position(|c| c.openid == openid && c.card == card && c.due == due);
                let reminded = before.is_some_and(|i| r.cards[i].reminded);
                if let Some(i) = before {
                    r.cards.remove(i);
                }
                r.cards.push(Card {
                    openid,
                    card: card.clone(),
                    amount,
                    due: due.clone(),
                    due_label,
                    reminded,
                });
                Ok(format!("card {card} will be reminded before {due}"))
            }
            ("city", "lottery") => {
                let application = get("application")?;
                let draw_ms: i64 = get("draw")?
                    .parse()
                    .map_err(|_| OfficeError::Invalid("draw=<ms since the epoch>".into()))?;
                let openid = api.login(code)?;
                let mut r = self.records();
                if !r
                    .entries
                    .iter()
                    .any(|e| e.openid == openid && e.application == application)
                {
                    r.entries.push(Entry {
                        openid,
                        application: application.clone(),
                        draw_ms,
                        announced: false,
                    });
                }
                Ok(format!("application {application} entered"))
            }
            _ => Err(OfficeError::NoSuchOffice(format!(
                "the {office} office takes no `{}`",
                kind.chars().take(32).collect::<String>()
            ))),
        }
    }

    /// Runs an office's action at `now_ms` (the host's clock), with its
    /// arguments.
    pub fn run(
        &self,
        office: &str,
        action: &str,
        with: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<ActionReport, OfficeError> {
        app_of(office)?;
        match (office, action) {
            ("hospital", "send-reminders") => self.hospital_reminders(now_ms),
            ("hospital", "cancel-clinic") => {
                let doctor = required(with, "doctor")?;
                let day = required(with, "day")?;
                self.cancel_clinic(doctor, day)
            }
            ("bank", "send-reminders") => self.bank_reminders(now_ms),
            ("city", "announce-lottery") => self.announce_lottery(now_ms),
            _ => Err(OfficeError::NoSuchOffice(format!(
                "the {office} office has no action `{}` (hospital: send-reminders, cancel-clinic; bank: send-reminders; city: announce-lottery)",
                action.chars().take(32).collect::<String>()
            ))),
        }
    }

    /// Sends one message; whether the record is settled (sent, or never to
    /// be sent), with the report's line.
    fn deliver(
        api: &dyn PublisherApi,
        report: &mut ActionReport,
        what: &str,
        openid: &str,
        template: &str,
        fields: &[(&str, &str)],
        link: &str,
    ) -> bool {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        match api.send_message(openid, template, &fields, Some(link)) {
            Ok(id) => {
                report.done.push(format!("{what}: sent {id}"));
                true
            }
            // No acceptance left, or a user the mini-app no longer knows:
            // the office does not ask again.
            Err(e @ (OfficeError::Refused(_) | OfficeError::NotFound(_))) => {
                report.skipped.push(format!("{what}: {e}"));
                true
            }
            Err(e) => {
                report.failed.push(format!("{what}: {e}"));
                false
            }
        }
    }

    /// `hospital send-reminders`: from local midnight of the day before an
    /// appointment until it starts, "your appointment is tomorrow", once.
    pub fn hospital_reminders(&self, now_ms: i64) -> Result<ActionReport, OfficeError> {
        let api = self.api("hospital")?;
        let offset = self.utc_offset_minutes;
        let due: Vec<Booking> = self
            .records()
            .bookings
            .iter()
            .filter(|b| !b.reminded && !b.cancelled)
            .filter(|b| {
                let day = format!("{}-{}-{}", &b.slot[..4], &b.slot[4..6], &b.slot[6..8]);
                let (Some(start), Ok(hour), Ok(minute)) = (
                    day_start_ms(&day, offset),
                    b.slot[9..11].parse::<i64>(),
                    b.slot[11..13].parse::<i64>(),
                ) else {
                    return false;
                };
                let at = start + (hour * 60 + minute) * 60_000;
                (start - DAY_MS..at).contains(&now_ms)
            })
            .cloned()
            .collect();
        let mut report = ActionReport::default();
        for b in due {
            let time = format!("tomorrow, {}", b.time);
            let settled = Self::deliver(
                &*api,
                &mut report,
                &format!("booking {} with {}", b.number, b.doctor_name),
                &b.openid,
                "appointment-reminder",
                &[("doctor", &b.doctor_name), ("time", &time)],
                &format!("/booking/{}", b.number),
            );
            if settled {
                let mut r = self.records();
                for k in r
                    .bookings
                    .iter_mut()
                    .filter(|k| k.openid == b.openid && k.number == b.number)
                {
                    k.reminded = true;
                }
            }
        }
        Ok(report)
    }

    /// `hospital cancel-clinic`: the doctor's clinic of `day` (`YYYY-MM-DD`)
    /// is cancelled: every booking of it is, and what is left of its deposit
    /// is refunded with the refund id `clinic-<order id>`.
    pub fn cancel_clinic(&self, doctor: &str, day: &str) -> Result<ActionReport, OfficeError> {
        let api = self.api("hospital")?;
        if day_start_ms(day, self.utc_offset_minutes).is_none() {
            return Err(OfficeError::Invalid(format!(
                "`{}` is not a day: write it YYYY-MM-DD",
                day.chars().take(32).collect::<String>()
            )));
        }
        let compact = day.replace('-', "");
        let affected: Vec<Booking> = {
            let mut r = self.records();
            r.bookings
                .iter_mut()
                .filter(|b| b.doctor == doctor && b.slot.starts_with(&compact))
                .map(|b| {
                    b.cancelled = true;
                    b.clone()
                })
                .collect()
        };
        let mut report = ActionReport::default();
        for b in affected {
            let what = format!("booking {} with {} on {day}", b.number, b.doctor_name);
            let Some(order) = &b.deposit_order else {
                report.skipped.push(format!("{what}: no deposit"));
                continue;
            };
            let paid = match api.payment(order) {
                Ok(p) => p,
                Err(OfficeError::NotFound(_)) => {
                    report
                        .skipped
                        .push(format!("{what}: the deposit was not paid"));
                    continue;
                }
                Err(e) => {
                    report.failed.push(format!("{what}: {e}"));
                    continue;
                }
            };
            let refund_id = clinic_refund_id(order);
            let left = paid.amount.saturating_sub(paid.refunded);
            if paid.refund_ids.contains(&refund_id) {
                report
                    .skipped
                    .push(format!("{what}: already refunded ({refund_id})"));
                continue;
            }
            if left == 0 {
                report
                    .skipped
                    .push(format!("{what}: the deposit was refunded before"));
                continue;
            }
            let reason = format!("the clinic of {} on {day} is cancelled", b.doctor_name);
            match api.refund(order, &refund_id, left, &reason) {
                Ok(r) => report.done.push(format!(
                    "{what}: refunded {} ({}, refund id {refund_id})",
                    r.amount, r.tx_id
                )),
                Err(e) => report.failed.push(format!("{what}: {e}")),
            }
        }
        Ok(report)
    }

    /// `bank send-reminders`: from three days before a card's due date until
    /// it, the repayment reminder, once per card and due date.
    pub fn bank_reminders(&self, now_ms: i64) -> Result<ActionReport, OfficeError> {
        let api = self.api("bank")?;
        let offset = self.utc_offset_minutes;
        let due: Vec<Card> = self
            .records()
            .cards
            .iter()
            .filter(|c| !c.reminded)
            .filter(|c| {
                day_start_ms(&c.due, offset)
                    .is_some_and(|start| (start - 3 * DAY_MS..start + DAY_MS).contains(&now_ms))
            })
            .cloned()
            .collect();
        let mut report = ActionReport::default();
        for c in due {
            let settled = Self::deliver(
                &*api,
                &mut report,
                &format!("card {} due {}", c.card, c.due),
                &c.openid,
                "repayment-due",
                &[
                    ("card", &c.card),
                    ("amount", &c.amount),
                    ("due", &c.due_label),
                ],
                "/statement",
            );
            if settled {
                let mut r = self.records();
                for k in r
                    .cards
                    .iter_mut()
                    .filter(|k| k.openid == c.openid && k.card == c.card && k.due == c.due)
                {
                    k.reminded = true;
                }
            }
        }
        Ok(report)
    }

    /// `city announce-lottery`: after each draw, its result to every entry
    /// of it, once.
    pub fn announce_lottery(&self, now_ms: i64) -> Result<ActionReport, OfficeError> {
        let api = self.api("city")?;
        let drawn_entries: Vec<Entry> = self
            .records()
            .entries
            .iter()
            .filter(|e| !e.announced && e.draw_ms <= now_ms)
            .cloned()
            .collect();
        let mut report = ActionReport::default();
        for e in drawn_entries {
            let result = if drawn(&e.application) {
                "Drawn: register your new car within 6 months"
            } else {
                "Not drawn this time: you may apply for the next draw"
            };
            let settled = Self::deliver(
                &*api,
                &mut report,
                &format!(
                    "application {} (draw of {})",
                    e.application,
                    date_of(e.draw_ms, self.utc_offset_minutes)
                ),
                &e.openid,
                "lottery-result",
                &[("application", &e.application), ("result", result)],
                "/lottery",
            );
            if settled {
                let mut r = self.records();
                for k in r
                    .entries
                    .iter_mut()
                    .filter(|k| k.openid == e.openid && k.application == e.application)
                {
                    k.announced = true;
                }
            }
        }
        Ok(report)
    }

    /// Runs every periodic action ([`PERIODIC`]) of the connected offices.
    pub fn run_periodic(&self, now_ms: i64) -> Vec<(String, Result<ActionReport, OfficeError>)> {
        let connected: Vec<String> = self
            .apis
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        PERIODIC
            .iter()
            .filter(|(office, _)| app_of(office).is_ok_and(|a| connected.iter().any(|c| c == a)))
            .map(|(office, action)| {
                (
                    format!("{office} {action}"),
                    self.run(office, action, &BTreeMap::new(), now_ms),
                )
            })
            .collect()
    }
}
