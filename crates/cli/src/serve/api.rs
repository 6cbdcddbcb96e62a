//! The simulator's HTTP routes: the page (HTML, CSS, script, each from a
//! file embedded in the binary), and a small JSON API the page calls.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the simulator page |
//! | `GET /api/state` | everything the page shows: user, apps, the open mini-app's page, pending dialogs, the host's panels, clock, version numbers |
//! | `POST /api/open` `{app, path}` | launch a mini-app |
//! | `POST /api/event` `{kind: tap\|submit\|back\|chat, ...}` | an event in the open mini-app; answers when the mini-app has answered (after any dialog) |
//! | `POST /api/home` `{}` | close the open mini-app (the session lives on) |
//! | `POST /api/prompt` `{id, answer}` | answer a dialog of the current user |
//! | `POST /api/user` `{user}` | switch user |
//! | `POST /api/clock` `{advance_ms}` | advance the test clock |
//! | `POST /api/grants/revoke` `{app, scope}` | revoke a consent decision |
//! | `POST /api/wallet/topup` `{amount}` | top up the wallet (major units) |
//! | `POST /api/citizen` `{name}` | give the user a verified real name, an insurance card and money |
//! | `POST /api/inbox/read` `{id}` | mark a message read |
//! | `POST /api/privacy/report` `{app?}` | what each mini-app accessed for the user (audited) |
//! | `POST /api/privacy/export` `{app?}` | everything held about the user, as JSON to save (audited) |
//! | `POST /api/privacy/erase` `{app}` | erase what a mini-app holds about the user (audited) |
//! | `GET /api/assets/{app}/{name}` | an image of a mini-app's package (what its pages show as `asset:NAME`) |
//!
//! Every response carries a Content-Security-Policy without inline script;
//! requests must name a loopback host when the simulator listens on one (no
//! DNS rebinding), and every request but a `GET` must say
//! `Content-Type: application/json` and carry a JSON body, or it is refused
//! (415, 400) before any route sees it: a cross-site form cannot send that
//! type, and a cross-site script cannot without a preflight the simulator
//! does not answer. The routes that change something are [`post_routes`].
//!
//! The dialogs are per user: the state lists the current user's, and
//! answering another user's is refused (403).

use super::prompts::{Answer, AnswerError};
use super::state::{Outcome, Sim};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use plaza_host::ledger::{format_money, parse_money};
use plaza_host::prompt::{ConsentAnswer, PaymentAnswer, SubscriptionAnswer};
use plaza_host::store::{AuditQuery, RealNameRecord};
use plaza_host::{Error as HostError, Page};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// The policy every response carries: scripts, styles and images only from
/// the simulator itself (no inline script, no `eval`; a mini-app's images
/// are its package's assets, served at `/api/assets/...`, so a page cannot
/// make the browser contact anyone else), nothing framed, no plugins, no
/// forms posted.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'none'";

/// The routes that change something: each a `POST` of a JSON object.
pub fn post_routes() -> Vec<(&'static str, MethodRouter<Sim>)> {
    vec![
        ("/api/open", post(open)),
        ("/api/event", post(event)),
        ("/api/home", post(home)),
        ("/api/prompt", post(prompt)),
        ("/api/user", post(user)),
        ("/api/clock", post(clock)),
        ("/api/grants/revoke", post(revoke)),
        ("/api/wallet/topup", post(topup)),
        ("/api/citizen", post(citizen)),
        ("/api/inbox/read", post(read)),
        ("/api/privacy/report", post(privacy_report)),
        ("/api/privacy/export", post(privacy_export)),
        ("/api/privacy/erase", post(privacy_erase)),
    ]
}

/// The routes.
pub fn router(sim: Sim, local: SocketAddr) -> Router {
    let mut router = Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route("/api/state", get(state))
        .route("/api/assets/{app}/{name}", get(app_asset));
    for (path, route) in post_routes() {
        router = router.route(path, route);
    }
    router
        .with_state(sim)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            guard(local, req, next)
        }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Whether the request says its body is JSON (`application/json`, with any
/// parameters).
fn says_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Refuses requests for another host name when listening on loopback (a
/// page elsewhere rebinding its name to 127.0.0.1) and requests other than
/// `GET` that do not say they carry JSON (a cross-site form), and adds the
/// security headers to every response.
async fn guard(local: SocketAddr, req: Request, next: Next) -> Response {
    if local.ip().is_loopback() {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let name = host
            .rsplit_once(':')
            .map(|(n, _)| n)
            .unwrap_or(host)
            .trim_start_matches('[')
            .trim_end_matches(']');
        let loopback = name == "localhost"
            || name
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                format!("the simulator answers only to localhost, not to `{host}`"),
            )
            .into_response();
        }
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) && !says_json(req.headers()) {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "{} {} takes a JSON body with `Content-Type: application/json`",
                req.method(),
                req.uri().path()
            ),
        )
        .into_response();
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// An error the page shows: a status and what happened.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError(status, message.into())
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<HostError> for ApiError {
    fn from(e: HostError) -> ApiError {
        let status = match &e {
            HostError::NotInstalled { .. } => StatusCode::NOT_FOUND,
            HostError::Internal { .. } | HostError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

fn ok() -> ApiResult {
    Ok(Json(json!({ "ok": true })))
}

/// An image of a mini-app's package, with its media type.
async fn app_asset(
    State(sim): State<Sim>,
    axum::extract::Path((app, name)): axum::extract::Path<(String, String)>,
) -> ApiResult<Response> {
    match sim.host.asset(&app, &name)? {
        Some(a) => Ok(([(header::CONTENT_TYPE, a.content_type())], a.bytes).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{app} has no asset `{name}`"),
        )),
    }
}

/// A page of the mini-app `app` as the browser renders it
/// ([`plaza_host::page::page_json`]): every string is data, shown with
/// `textContent`. An image of the package's assets gets the simulator's URL
/// for it (`src`); any other image none (the simulator loads images only
/// from itself).
pub fn page_json(page: &Page, app: &str) -> Value {
    plaza_host::page::page_json(page, &|name| format!("/api/assets/{app}/{name}"))
}

fn money(amount: i64) -> String {
    format_money(amount, "CNY")
}

/// The host's view of `user`, for the side panels.
fn panels(sim: &Sim, user: &str) -> Result<Value, HostError> {
    let host = &sim.host;
    let names: std::collections::HashMap<String, String> = host
        .installed()?
        .into_iter()
        .map(|a| (a.app_id, a.name))
        .collect();
    let app_name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let history: Vec<Value> = host
        .wallet_history(user, 50)?
        .into_iter()
        .map(|e| {
            json!({
                "tx_id": e.tx_id,
                "kind": e.kind,
                "at_ms": e.at_ms,
                "amount": money(e.amount),
                "app": e.app_id.as_deref().map(app_name),
                "order_id": e.order_id,
                "memo": e.memo,
            })
        })
        .collect();
    let insurance = host.insurance(user)?.map(|(card, left)| {
        json!({
            "card_number": card.card_number,
            "holder_name": card.holder_name,
            "scheme": card.scheme,
            "coverage_percent": card.coverage_bp as f64 / 100.0,
            "annual_cap": money(card.annual_cap as i64),
            "cap_left": money(left as i64),
        })
    });
    let grants: Vec<Value> = host
        .consents(user)?
        .into_iter()
        .map(|c| {
            json!({
                "app": c.app,
                "app_name": app_name(&c.app),
                "scope": c.scope,
                "granted": c.granted,
                "decided_at_ms": c.decided_at_ms,
            })
        })
        .collect();
    // The newest first, as a log panel reads.
    let mut audit = host.audit(&AuditQuery {
        user: Some(user.to_string()),
        app: None,
        limit: 60,
    })?;
    audit.reverse();
    let profile = host.user_profile(user)?;
    Ok(json!({
        "wallet": {
            "balance": money(host.wallet_balance(user)? as i64),
            "history": history,
        },
        "insurance": insurance,
        "inbox": host.inbox(user, false, 50)?,
        "grants": grants,
        "audit": audit,
        "real_name": profile.and_then(|p| p.real_name).map(|r| json!({"name": r.name, "verified": r.verified})),
    }))
}

/// The registry's name for an app's publisher when it runs signed, else
/// the manifest's, marked unverified: what its sessions show.
fn apps(sim: &Sim) -> Result<Vec<Value>, HostError> {
    let host = &sim.host;
    let mut out = Vec::new();
    for a in host.installed()? {
        out.push(json!({
            "id": a.app_id,
            "name": a.name,
            "version": a.version,
            "category": a.category,
            "publisher_name": a.publisher_name,
            "publisher_verified": a.publisher_verified,
            "signed": a.signed,
        }));
    }
    Ok(out)
}

async fn state(State(sim): State<Sim>) -> ApiResult {
    // The change numbers before the view: an event that ends after this
    // read records its page, then bumps the number, so the next poll sees a
    // newer number and renders that page. Read after the view, a number
    // bumped in between would come with the older page, and the browser,
    // having seen that number, would never render the newer one.
    let (page_seq, reload_seq) = (sim.page_seq(), sim.reload_seq());
    // Read the view first and let go of it: the host's calls below may take
    // a moment.
    let (user, users, open, busy, build_error) = {
        let v = sim.view();
        let user = v.user.clone();
        (
            user.clone(),
            v.users.clone(),
            v.open.get(&user).cloned(),
            v.busy.get(&user).copied().unwrap_or(0) > 0,
            v.build_error.clone(),
        )
    };
    let apps = apps(&sim)?;
    let open = open.map(|o| {
        let name = apps
            .iter()
            .find(|a| a["id"] == o.app_id.as_str())
            .and_then(|a| a["name"].as_str())
            .unwrap_or(&o.app_id)
            .to_string();
        json!({
            "app_id": o.app_id,
            "app_name": name,
            "path": o.path,
            "page": o.page.as_ref().map(|p| page_json(p, &o.app_id)),
            "error": o.error,
        })
    });
    let now = plaza_host::clock::Clock::now_ms(sim.clock.as_ref());
    Ok(Json(json!({
        "reload_seq": reload_seq,
        "page_seq": page_seq,
        "user": user,
        "users": users,
        "busy": busy,
        "apps": apps,
        "open": open,
        "prompts": sim.prompter.pending(&user),
        "expired": sim.prompter.expired(&user),
        "build_error": build_error,
        "clock": { "now_ms": now, "offset_ms": sim.clock.offset_ms() },
        "host": panels(&sim, &user)?,
    })))
}

#[derive(Deserialize)]
struct OpenReq {
    app: String,
    #[serde(default)]
    path: Option<String>,
}

/// Runs `f` on its own task (a browser that goes away does not cancel a
/// payment half-way), with the user marked busy meanwhile.
async fn run_event<F>(sim: &Sim, user: &str, f: F) -> Result<Page, HostError>
where
    F: std::future::Future<Output = Result<Page, HostError>> + Send + 'static,
{
    sim.set_busy(user, true);
    let result = tokio::spawn(f).await.unwrap_or_else(|e| {
        Err(HostError::Internal {
            message: format!("the event task: {e}"),
            source: Some(e.into()),
        })
    });
    sim.set_busy(user, false);
    result
}

async fn open(State(sim): State<Sim>, Json(req): Json<OpenReq>) -> ApiResult {
    let user = sim.user();
    let path = req.path.unwrap_or_else(|| "/".into());
    let session = sim.host.session(&user, &req.app)?;
    let p = path.clone();
    let result = run_event(&sim, &user, async move { session.launch(&p).await }).await;
    respond(&sim, &user, &req.app, Some(&path), result)
}

fn respond(
    sim: &Sim,
    user: &str,
    app: &str,
    path: Option<&str>,
    result: Result<Page, HostError>,
) -> ApiResult {
    match result {
        Ok(page) => {
            let json = page_json(&page, app);
            sim.record(user, app, path, Outcome::Page(page));
            Ok(Json(json!({ "page": json })))
        }
        Err(e) => {
            sim.record(user, app, path, Outcome::Error(e.to_string()));
            Err(e.into())
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum EventReq {
    Tap {
        action: String,
    },
    Submit {
        form: String,
        #[serde(default)]
        fields: Vec<(String, String)>,
    },
    Back,
    Chat {
        text: String,
    },
}

async fn event(State(sim): State<Sim>, Json(req): Json<EventReq>) -> ApiResult {
    let user = sim.user();
    let Some(app) = sim.view().open.get(&user).map(|o| o.app_id.clone()) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{user} has no mini-app open: open one from the home screen"),
        ));
    };
    let session = sim.host.session(&user, &app)?;
    if let EventReq::Back = req {
        return match session.back().await {
            Ok(page) => respond(&sim, &user, &app, None, Ok(page)),
            Err(HostError::NoPageToGoBack) => {
                sim.close_app(&user);
                Ok(Json(json!({ "home": true })))
            }
            Err(e) => respond(&sim, &user, &app, None, Err(e)),
        };
    }
    let result = run_event(&sim, &user, async move {
        match req {
            EventReq::Tap { action } => session.tap(&action).await,
            EventReq::Submit { form, fields } => {
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                session.submit(&form, &fields).await
            }
            EventReq::Chat { text } => session.chat(&text).await,
            EventReq::Back => unreachable!("handled above"),
        }
    })
    .await;
    respond(&sim, &user, &app, None, result)
}

/// A body with nothing in it: `{}`.
#[derive(Deserialize)]
struct NoArgs {}

async fn home(State(sim): State<Sim>, Json(NoArgs {}): Json<NoArgs>) -> ApiResult {
    sim.close_app(&sim.user());
    ok()
}

#[derive(Deserialize)]
struct PromptReq {
    id: u64,
    answer: Value,
}

async fn prompt(State(sim): State<Sim>, Json(req): Json<PromptReq>) -> ApiResult {
    let word = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let answer = match &req.answer {
        Value::String(s) => match s.as_str() {
            "allow" => Answer::Consent(ConsentAnswer::Allow),
            "deny" => Answer::Consent(ConsentAnswer::Deny),
            "dismiss" => Answer::Consent(ConsentAnswer::Dismiss),
            "confirm" => Answer::Payment(PaymentAnswer::Confirm),
            "decline" => Answer::Payment(PaymentAnswer::Decline),
            "cancel" => Answer::Payment(PaymentAnswer::Cancel),
            other => {
                return Err(ApiError::bad(format!(
                    "unknown answer `{other}`: allow, deny, dismiss (consent); confirm, decline, cancel (payment)"
                )));
            }
        },
        Value::Array(list) => Answer::Subscription(
            list.iter()
                .map(|a| match word(a).as_str() {
                    "once" => Ok(SubscriptionAnswer::AcceptOnce),
                    "long-term" => Ok(SubscriptionAnswer::AcceptLongTerm),
                    "reject" => Ok(SubscriptionAnswer::Reject),
                    other => Err(ApiError::bad(format!(
                        "unknown template answer `{other}`: once, long-term or reject"
                    ))),
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => {
            return Err(ApiError::bad(
                "an answer is a word (consent, payment) or a list of words (subscription)",
            ));
        }
    };
    sim.prompter
        .answer(&sim.user(), req.id, answer)
        .map_err(|e| {
            let status = match e {
                AnswerError::OtherUser { .. } => StatusCode::FORBIDDEN,
                AnswerError::NotPending(_) | AnswerError::Mismatch(_) => StatusCode::CONFLICT,
            };
            ApiError::new(status, e.to_string())
        })?;
    ok()
}

#[derive(Deserialize)]
struct UserReq {
    user: String,
}

async fn user(State(sim): State<Sim>, Json(req): Json<UserReq>) -> ApiResult {
    let user = req.user.trim();
    if user.is_empty() || user.len() > 128 {
        return Err(ApiError::bad("a user id must be 1 to 128 bytes"));
    }
    sim.switch_user(user);
    ok()
}

#[derive(Deserialize)]
struct ClockReq {
    advance_ms: i64,
}

async fn clock(State(sim): State<Sim>, Json(req): Json<ClockReq>) -> ApiResult {
    const YEAR_MS: i64 = 366 * 24 * 3600 * 1000;
    if !(1..=YEAR_MS).contains(&req.advance_ms) {
        return Err(ApiError::bad(
            "the test clock moves forward only, by at most a year at a time",
        ));
    }
    sim.clock.advance(req.advance_ms);
    Ok(Json(json!({
        "now_ms": plaza_host::clock::Clock::now_ms(sim.clock.as_ref()),
        "offset_ms": sim.clock.offset_ms(),
    })))
}

#[derive(Deserialize)]
struct RevokeReq {
    app: String,
    scope: String,
}

async fn revoke(State(sim): State<Sim>, Json(req): Json<RevokeReq>) -> ApiResult {
    let user = sim.user();
    if !sim.host.revoke_consent(&user, &req.app, &req.scope)? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "{user} has no decision for {} on {} to revoke",
                req.scope, req.app
            ),
        ));
    }
    ok()
}

#[derive(Deserialize)]
struct TopupReq {
    amount: String,
}

async fn topup(State(sim): State<Sim>, Json(req): Json<TopupReq>) -> ApiResult {
    let Some(amount) = parse_money(req.amount.trim()).filter(|a| *a > 0) else {
        return Err(ApiError::bad(format!(
            "`{}` is not an amount: write yuan, such as 100 or 12.50",
            req.amount
        )));
    };
    let (tx, balance) = sim.host.top_up(&sim.user(), amount, "CNY")?;
    Ok(Json(
        json!({ "transaction": tx, "balance": money(balance as i64) }),
    ))
}

#[derive(Deserialize)]
struct CitizenReq {
    name: String,
}

/// Makes the current user a test citizen: a verified real name (and phone),
/// a Hangzhou medical-insurance card paying 70 % up to CNY 3,000 a year, and
/// CNY 500 in the wallet.
async fn citizen(State(sim): State<Sim>, Json(req): Json<CitizenReq>) -> ApiResult {
    let user = sim.user();
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::bad(
            "the citizen's name must be 1 to 64 characters",
        ));
    }
    let host = &sim.host;
    let mut profile = host.user_profile(&user)?.unwrap_or_default();
    profile.nickname.get_or_insert_with(|| user.clone());
    profile.phone.get_or_insert_with(|| "13800138000".into());
    profile.real_name = Some(RealNameRecord {
        name: name.to_string(),
        id_number: "330106199001010022".into(),
        verified: true,
    });
    host.set_user_profile(&user, profile)?;
    host.bind_insurance_card(
        &user,
        "3301-0001-0022",
        name,
        "Hangzhou basic medical insurance",
        7000,
        300_000,
    )?;
    host.top_up(&user, 50_000, "CNY")?;
    ok()
}

#[derive(Deserialize)]
struct ReadReq {
    id: String,
}

async fn read(State(sim): State<Sim>, Json(req): Json<ReadReq>) -> ApiResult {
    if !sim.host.mark_read(&sim.user(), &req.id)? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no message {} in this user's inbox", req.id),
        ));
    }
    ok()
}

/// Which mini-app a privacy request is about (all when none).
#[derive(Deserialize)]
struct PrivacyReq {
    #[serde(default)]
    app: Option<String>,
}

/// The selected user's privacy report. A POST (with a JSON body, like
/// every route that writes): reading it is audited.
async fn privacy_report(State(sim): State<Sim>, Json(req): Json<PrivacyReq>) -> ApiResult {
    let report = sim.host.privacy_report(&sim.user(), req.app.as_deref())?;
    Ok(Json(json!(report)))
}

/// Everything held about the selected user, for the page to save as a file.
async fn privacy_export(State(sim): State<Sim>, Json(req): Json<PrivacyReq>) -> ApiResult {
    let export = sim.host.privacy_export(&sim.user(), req.app.as_deref())?;
    Ok(Json(json!(export)))
}

/// Erases what one mini-app holds about the selected user.
async fn privacy_erase(State(sim): State<Sim>, Json(req): Json<PrivacyReq>) -> ApiResult {
    let Some(app) = req.app.filter(|a| !a.is_empty()) else {
        return Err(ApiError::bad(
            "name the mini-app whose data to erase: {\"app\": \"...\"}",
        ));
    };
    let erasure = sim.host.erase_user_app_data(&sim.user(), &app).await?;
    Ok(Json(json!(erasure)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_host::{Block, Button, ButtonStyle, KeyValue, Navigation};

    #[test]
    fn pages_become_data_with_every_string_untouched() {
        let page = Page {
            title: "<b>t</b>".into(),
            blocks: vec![
                Block::Text("<script>alert(1)</script>".into()),
                Block::Field(KeyValue {
                    label: "a&b".into(),
                    value: "<img src=x onerror=alert(1)>".into(),
                }),
                Block::Button(Button {
                    label: "Pay".into(),
                    action: "pay".into(),
                    style: ButtonStyle::Danger,
                }),
            ],
            navigation: Navigation::Push,
        };
        let v = page_json(&page, "a.b");
        assert_eq!(v["title"], "<b>t</b>");
        assert_eq!(v["blocks"][0]["text"], "<script>alert(1)</script>");
        assert_eq!(v["blocks"][1]["value"], "<img src=x onerror=alert(1)>");
        assert_eq!(v["blocks"][2]["style"], "danger");
    }

    /// A simulator of an empty host on a loopback port, as `li-na`.
    async fn simulator() -> (Sim, String) {
        let prompter = super::super::prompts::WebPrompter::new(std::time::Duration::from_secs(60));
        let store = std::sync::Arc::new(plaza_host::store::SqliteStore::open_in_memory().unwrap());
        let host = plaza_host::Host::with_store(
            store,
            plaza_host::HostConfig::default().prompter(std::sync::Arc::new(prompter.clone())),
        )
        .unwrap();
        let sim = Sim::new(host, prompter, Default::default(), "li-na");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, router(sim.clone(), local)).into_future());
        (sim, format!("http://{local}"))
    }

    /// Sends a request (`body` with its content type, if any) and returns
    /// the status and the JSON answer.
    async fn call(
        method: &'static str,
        url: String,
        body: Option<(&'static str, String)>,
    ) -> (u16, Value) {
        tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let mut response = match (method, body) {
                ("GET", _) => agent.get(&url).call(),
                (_, Some((content_type, body))) => agent
                    .post(&url)
                    .header("Content-Type", content_type)
                    .send(body.as_bytes()),
                (_, None) => agent.post(&url).send_empty(),
            }
            .unwrap();
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
        .await
        .unwrap()
    }

    async fn post_json(base: &str, path: &str, body: Value) -> (u16, Value) {
        call(
            "POST",
            format!("{base}{path}"),
            Some(("application/json", body.to_string())),
        )
        .await
    }

    #[tokio::test]
    async fn a_user_cannot_see_or_answer_another_users_question() {
        let (sim, base) = simulator().await;
        let request = plaza_host::prompt::ConsentRequest {
            user: "li-na".into(),
            app_id: "cn.hz.maternity".into(),
            app_name: "Maternity".into(),
            publisher_name: "Hangzhou Maternity Hospital".into(),
            publisher_verified: true,
            scope: plaza_host::manifest::Scope::Phone,
            purpose: "To call you".into(),
        };
        let prompter = sim.prompter.clone();
        let asking = tokio::spawn(async move {
            use plaza_host::prompt::Prompter;
            prompter.ask_consent(&request).await
        });
        let id = loop {
            let (_, state) = call("GET", format!("{base}/api/state"), None).await;
            if let Some(id) = state["prompts"][0]["id"].as_u64() {
                break id;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        // Wang Wei neither sees Li Na's question nor answers it.
        assert_eq!(
            post_json(&base, "/api/user", json!({"user": "wang-wei"}))
                .await
                .0,
            200
        );
        let (_, state) = call("GET", format!("{base}/api/state"), None).await;
        assert_eq!(state["prompts"], json!([]), "{state}");
        let (status, answer) =
            post_json(&base, "/api/prompt", json!({"id": id, "answer": "allow"})).await;
        assert_eq!(status, 403, "{answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains("asked of li-na, not wang-wei"), "{error}");
        assert!(!asking.is_finished());
        // Li Na answers it.
        post_json(&base, "/api/user", json!({"user": "li-na"})).await;
        let (_, state) = call("GET", format!("{base}/api/state"), None).await;
        assert_eq!(state["prompts"][0]["id"], id, "{state}");
        let (status, answer) =
            post_json(&base, "/api/prompt", json!({"id": id, "answer": "allow"})).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(asking.await.unwrap(), ConsentAnswer::Allow);
    }

    #[tokio::test]
    async fn every_state_changing_route_takes_only_json() {
        let (sim, base) = simulator().await;
        let routes: Vec<&str> = post_routes().into_iter().map(|(path, _)| path).collect();
        // The list is the module's table of POST routes, so a route added
        // to one and not the other fails here.
        let documented: Vec<&str> = include_str!("api.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! | `POST "))
            .filter_map(|l| l.split('`').next())
            .collect();
        assert_eq!(routes, documented);
        for path in routes {
            let url = format!("{base}{path}");
            // What a cross-site form can send, and no body at all.
            for body in [
                Some((
                    "application/x-www-form-urlencoded",
                    "user=mallory".to_string(),
                )),
                Some(("multipart/form-data; boundary=x", "--x--".to_string())),
                Some(("text/plain", r#"{"user": "mallory"}"#.to_string())),
                None,
            ] {
                let (status, answer) = call("POST", url.clone(), body.clone()).await;
                assert_eq!(status, 415, "{path} {body:?}: {answer}");
                assert!(
                    answer["error"]
                        .as_str()
                        .is_some_and(|e| e.contains("application/json")),
                    "{answer}"
                );
            }
            // JSON said, but no JSON sent.
            let (status, answer) = call(
                "POST",
                url.clone(),
                Some(("application/json", String::new())),
            )
            .await;
            assert_eq!(status, 400, "{path}: {answer}");
        }
        // Nothing changed.
        assert_eq!(sim.user(), "li-na");
        assert_eq!(sim.view().users, vec!["li-na".to_string()]);
        // The page's own calls pass: the home button posts `{}`.
        let (status, answer) = post_json(&base, "/api/home", json!({})).await;
        assert_eq!(status, 200, "{answer}");
    }

    #[test]
    fn the_policy_allows_no_inline_script() {
        assert!(CSP.contains("default-src 'self'"));
        assert!(CSP.contains("script-src 'self';"));
        assert!(!CSP.contains("unsafe-inline") && !CSP.contains("unsafe-eval"));
        assert!(CSP.contains("img-src 'self';") && !CSP.contains("https:"));
    }
}
