//! The client API: what a phone calls for its signed-in user.

use super::{Access, Body, Caller, Params, PathParams, RawBody, Routes};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::prompts::AnswerError;
use crate::sessions::{ClientEvent, Outcome, outcome_json};
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use plaza_host::ledger::format_money;
use plaza_host::store::AuditQuery;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::time::Instant;

/// The most entries a listing answers.
pub const MAX_LIMIT: usize = 500;

pub(super) fn routes(r: Routes) -> Routes {
    let event_schema = json!({
        "oneOf": [
            {"type": "object", "required": ["launch"], "properties": {"launch": {"type": "object", "properties": {"path": {"type": "string", "description": "The page path; a tab of the app's tab bar is launched at its path."}, "query": {"type": "object", "additionalProperties": {"type": "string"}}, "locale": {"type": "string", "description": "The user's locale, a BCP 47 tag such as `zh-CN`; given to the mini-app. Empty or absent: unknown."}}}}},
            {"type": "object", "required": ["tap"], "properties": {"tap": {"type": "string", "description": "An action the current page offers."}}},
            {"type": "object", "required": ["load_more"], "properties": {"load_more": {"type": "string", "description": "The `load_more` action of a section of the current page: the user reached its end."}}},
            {"type": "object", "required": ["refresh"], "properties": {"refresh": {"type": "object", "description": "The user pulled down the current page, which is `refreshable`."}}},
            {"type": "object", "required": ["submit"], "properties": {"submit": {"type": "object", "required": ["form"], "properties": {"form": {"type": "string"}, "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
            {"type": "object", "required": ["back"], "properties": {"back": {"type": "object"}}},
            {"type": "object", "required": ["chat"], "properties": {"chat": {"type": "string"}}},
        ]
    });
    let answer_schema = json!({
        "type": "object", "required": ["answer"],
        "properties": {"answer": {"oneOf": [
            {"enum": ["confirm", "decline", "dismiss", "allow", "deny", "accept", "accept-long-term", "reject", "cancel", "open", "stay"]},
            {"type": "array", "items": {"enum": ["accept", "accept-long-term", "reject"]}, "description": "For a subscription: one answer per template, in order."},
            {"type": "object", "required": ["text"], "additionalProperties": false, "description": "For a scan: what the scanner read.", "properties": {
                "text": {"type": "string", "description": "The code's text (at most 8192 bytes)."},
                "kind": {"enum": ["qr", "barcode"], "description": "The kind of code; `qr` when left out."},
            }},
        ]}}
    });
    r.add(
        Method::GET,
        "/v1/apps",
        Access::User,
        "The installed mini-apps (the phone's home screen).",
        None,
        get(apps),
    )
    .add(
        Method::POST,
        "/v1/apps/{app_id}/events",
        Access::User,
        "An event in the user's session of the mini-app; answers {\"page\"}, {\"prompt\"} when the mini-app's host call needs the user, or {\"home\": true} after `back` from the first page. When the user chose to open a Plaza link the mini-app scanned (a `link` prompt answered `open`), the link's mini-app is launched at its page after the event and its outcome answers instead, with its `app_id` and {\"opened\": {\"link\", \"from\"}} (audited `link.open`).",
        Some(event_schema),
        post(event),
    )
    .add(
        Method::GET,
        "/v1/apps/{app_id}/assets/{name}",
        Access::Public,
        "An image of the mini-app's package (what a page shows as `asset:NAME`).",
        None,
        get(asset),
    )
    .add(
        Method::POST,
        "/v1/prompts/{id}",
        Access::User,
        "Answers a prompt of the user; answers the session's next {\"page\"} or {\"prompt\"} (or, after a scanned link the user chose to open, that mini-app's, with `opened`, as an event does). A `scan` prompt takes {\"text\", \"kind\"} or `cancel`; a `link` prompt `open` or `stay`. 409 if it was answered or timed out.",
        Some(answer_schema),
        post(answer),
    )
    .add(
        Method::POST,
        "/v1/prompts/{id}/file",
        Access::User,
        "Answers a `media` prompt of the user with a file: the body is its bytes (at most 5 MiB), `?name=` its name; the host checks its kind by content and its size, and the mini-app gets a handle or the reason it was refused. Answers as POST /v1/prompts/{id} does; cancel with that route and the answer `cancel`.",
        None,
        post(upload).layer(DefaultBodyLimit::max(
            plaza_host::manifest::MAX_MEDIA_FILE_BYTES as usize,
        )),
    )
    .add(
        Method::GET,
        "/v1/apps/{app_id}/media/{id}",
        Access::User,
        "A photo or file the signed-in user gave the mini-app (what a page shows as `media:ID`); 404 for anyone else's.",
        None,
        get(media_file),
    )
    .add(
        Method::GET,
        "/v1/me/prompts",
        Access::User,
        "The user's prompts waiting for an answer (for a phone that reconnects).",
        None,
        get(my_prompts),
    )
    .add(
        Method::GET,
        "/v1/me/inbox",
        Access::User,
        "The inbox, newest first: `?unread=true`, `?limit=` (at most 500), `?offset=`; with the unread count.",
        None,
        get(inbox),
    )
    .add(
        Method::POST,
        "/v1/me/inbox/{id}/read",
        Access::User,
        "Marks a message read.",
        None,
        post(read),
    )
    .add(
        Method::POST,
        "/v1/me/inbox/{id}/open",
        Access::User,
        "Opens a message: marks it read and launches its mini-app at the page the message links to (its home without a link); answers as an event, with the `app_id`.",
        None,
        post(open_message),
    )
    .add(
        Method::POST,
        "/v1/me/links/open",
        Access::User,
        "Opens a link (`plaza://APP-ID/PATH?QUERY`, or its https form under the server's `link_base`): launches the user's session of its mini-app at its page; answers as an event, with the `app_id`. 422 `malformed-link` (with the `problem`), 404 `not-installed`.",
        Some(json!({
            "type": "object", "required": ["link"],
            "properties": {
                "link": {"type": "string", "description": "The link, such as a scanned QR code's text."},
                "locale": {"type": "string", "description": "The user's locale, a BCP 47 tag; given to the mini-app."},
            }
        })),
        post(open_link),
    )
    .add(
        Method::GET,
        "/v1/me/wallet",
        Access::User,
        "The wallet: balance, history (`?limit=`), the insurance card bound.",
        None,
        get(wallet),
    )
    .add(
        Method::GET,
        "/v1/me/grants",
        Access::User,
        "The user's consent decisions.",
        None,
        get(grants),
    )
    .add(
        Method::DELETE,
        "/v1/me/grants/{app_id}/{scope}",
        Access::User,
        "Forgets a consent decision: the mini-app asks again next time.",
        None,
        delete(revoke),
    )
    .add(
        Method::GET,
        "/v1/me/audit",
        Access::User,
        "The audit log of the user's sessions, newest last (`?limit=`).",
        None,
        get(audit),
    )
    .add(
        Method::POST,
        "/v1/me/privacy/report",
        Access::User,
        "What each mini-app (`{\"app\"}`: one) accessed for the user, by capability and scope: how often, allowed and denied, and when last. Audited (privacy.report).",
        Some(privacy_schema(false)),
        post(privacy_report),
    )
    .add(
        Method::POST,
        "/v1/me/privacy/export",
        Access::User,
        "Everything the host holds about the user, per mini-app (`{\"app\"}`: one), as JSON to save: storage, consent, subscriptions, messages, inbox, payments and receipts, the audit log; with every mini-app, the profile, insurance card and wallet too. Audited (privacy.export).",
        Some(privacy_schema(false)),
        post(privacy_export),
    )
    .add(
        Method::POST,
        "/v1/me/privacy/erase",
        Access::User,
        "Erases what the mini-app `{\"app\"}` holds about the user (storage, consent, subscriptions, messages to it): it then sees a new user. Payments, receipts, the inbox and the audit log stay. Ends the user's session in it first. Audited (privacy.erase).",
        Some(privacy_schema(true)),
        post(privacy_erase),
    )
}

/// The body of the privacy routes: the mini-app, required or optional.
fn privacy_schema(app_required: bool) -> Value {
    let required: &[&str] = if app_required { &["app"] } else { &[] };
    json!({
        "type": "object", "required": required,
        "properties": {"app": {"type": "string", "description": "A mini-app id."}},
    })
}

async fn apps(State(state): State<AppState>, _user: Caller) -> ApiResult {
    let apps: Vec<Value> = state
        .host
        .installed()?
        .into_iter()
        .map(|a| {
            json!({
                "id": a.app_id,
                "name": a.name,
                "version": a.version,
                "category": a.category,
                "publisher_name": a.publisher_name,
                "publisher_verified": a.publisher_verified,
                "tabs": a.tabs.iter().map(|t| json!({"title": t.title, "path": t.path})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "apps": apps })))
}

/// An event, as the client sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum EventBody {
    Launch(LaunchBody),
    Tap(String),
    #[serde(rename = "load_more")]
    LoadMore(String),
    Refresh(serde::de::IgnoredAny),
    Submit(SubmitBody),
    Back(serde::de::IgnoredAny),
    Chat(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LaunchBody {
    #[serde(default)]
    path: String,
    #[serde(default)]
    query: Map<String, Value>,
    #[serde(default)]
    locale: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    form: String,
    #[serde(default)]
    fields: Map<String, Value>,
}

fn strings(what: &str, map: Map<String, Value>) -> Result<Vec<(String, String)>, ApiError> {
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            other => Err(ApiError::bad_request(format!(
                "{what} `{k}` is {other}: values are strings"
            ))),
        })
        .collect()
}

impl TryFrom<EventBody> for ClientEvent {
    type Error = ApiError;

    fn try_from(b: EventBody) -> Result<ClientEvent, ApiError> {
        Ok(match b {
            EventBody::Launch(l) => ClientEvent::Launch {
                path: l.path,
                query: strings("query parameter", l.query)?,
                locale: l.locale,
            },
            EventBody::Tap(a) => ClientEvent::Tap(a),
            EventBody::LoadMore(a) => ClientEvent::LoadMore(a),
            EventBody::Refresh(_) => ClientEvent::Refresh,
            EventBody::Submit(s) => ClientEvent::Submit {
                form: s.form,
                fields: strings("field", s.fields)?,
            },
            EventBody::Back(_) => ClientEvent::Back,
            EventBody::Chat(t) => ClientEvent::Chat(t),
        })
    }
}

fn outcome_name(o: &Result<Outcome, ApiError>) -> &'static str {
    match o {
        Ok(Outcome::Page(_)) => "page",
        Ok(Outcome::Prompt(_)) => "prompt",
        Ok(Outcome::Home) => "home",
        Err(_) => "error",
    }
}

async fn event(
    State(state): State<AppState>,
    Caller(user): Caller,
    PathParams(app_id): PathParams<String>,
    Body(body): Body<EventBody>,
) -> ApiResult {
    let event = ClientEvent::try_from(body)?;
    let kind = event.name();
    let started = Instant::now();
    let outcome = state
        .sessions
        .send(&state.host, &state.hub, &user, &app_id, event)
        .await;
    state
        .metrics
        .event(kind, outcome_name(&outcome), started.elapsed());
    let outcome = outcome?;
    match follow(&state, &user, &app_id, &outcome).await? {
        Some(json) => Ok(Json(json)),
        None => Ok(Json(outcome_json(&outcome, &app_id))),
    }
}

/// After an event's page in `app_id`: the Plaza link the user chose to open
/// while the event was handled (a code the mini-app scanned), opened as
/// `POST /v1/me/links/open` opens it (audited `link.open`), with the user's
/// locale as the session last had it. Answers that mini-app's outcome with
/// its `app_id` and `opened` (`link`, and `from`, the mini-app that
/// scanned); `None` when there is nothing to open.
async fn follow(
    state: &AppState,
    user: &str,
    app_id: &str,
    outcome: &Outcome,
) -> Result<Option<Value>, ApiError> {
    if !matches!(outcome, Outcome::Page(_)) {
        return Ok(None);
    }
    // The event's page is already made: a session that cannot be found now
    // (the mini-app uninstalled meanwhile, the store failing) shows it
    // rather than losing it to an error.
    let session = match state.host.session(user, app_id) {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!("after an event of {app_id}: no session to follow a link from: {e}");
            return Ok(None);
        }
    };
    let Some(link) = session.take_link().await else {
        return Ok(None);
    };
    // Uninstalled since the offer: audited as a refused open, and the phone
    // shows the event's page.
    let Ok(target) = state.host.link_target(user, &link.to_string()) else {
        return Ok(None);
    };
    let event = ClientEvent::Launch {
        query: target.query_pairs(),
        path: target.path.clone(),
        locale: session.locale().await,
    };
    let started = Instant::now();
    let opened = state
        .sessions
        .send(&state.host, &state.hub, user, &target.app_id, event)
        .await;
    state
        .metrics
        .event("launch", outcome_name(&opened), started.elapsed());
    let mut json = outcome_json(&opened?, &target.app_id);
    json["app_id"] = json!(target.app_id);
    json["opened"] = json!({ "link": target.to_string(), "from": app_id });
    Ok(Some(json))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    answer: Value,
}

async fn answer(
    State(state): State<AppState>,
    Caller(user): Caller,
    PathParams(id): PathParams<String>,
    Body(body): Body<AnswerBody>,
) -> ApiResult {
    let app_id = state
        .hub
        .answer(&user, &id, &body.answer)
        .map_err(answer_error)?;
    resume(&state, &user, &app_id).await
}

fn answer_error(e: AnswerError) -> ApiError {
    match &e {
        AnswerError::NotFound(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "no-such-prompt", e.to_string())
        }
        AnswerError::AlreadyAnswered(_) => {
            ApiError::new(StatusCode::CONFLICT, "prompt-answered", e.to_string())
        }
        AnswerError::TimedOut(_) => {
            ApiError::new(StatusCode::CONFLICT, "prompt-timed-out", e.to_string())
        }
        AnswerError::Mismatch(_) => {
            ApiError::new(StatusCode::BAD_REQUEST, "bad-answer", e.to_string())
        }
    }
}

/// The session's next page or prompt after an answer.
async fn resume(state: &AppState, user: &str, app_id: &str) -> ApiResult {
    let started = Instant::now();
    let outcome = state
        .sessions
        .resume(&state.host, &state.hub, user, app_id)
        .await;
    state
        .metrics
        .event("answer", outcome_name(&outcome), started.elapsed());
    let outcome = outcome?;
    if let Some(json) = follow(state, user, app_id, &outcome).await? {
        return Ok(Json(json));
    }
    let mut json = outcome_json(&outcome, app_id);
    json["app_id"] = json!(app_id);
    Ok(Json(json))
}

#[derive(Debug, Deserialize)]
struct UploadParams {
    #[serde(default)]
    name: String,
}

async fn upload(
    State(state): State<AppState>,
    Caller(user): Caller,
    PathParams(id): PathParams<String>,
    Params(params): Params<UploadParams>,
    RawBody(bytes): RawBody,
) -> ApiResult {
    let app_id = state
        .hub
        .answer_upload(&user, &id, params.name, bytes.to_vec())
        .map_err(answer_error)?;
    resume(&state, &user, &app_id).await
}

async fn media_file(
    State(state): State<AppState>,
    Caller(user): Caller,
    PathParams((app_id, id)): PathParams<(String, String)>,
) -> ApiResult<Response> {
    match state.host.media_file(&user, &app_id, &id)? {
        Some((record, bytes)) => {
            let kind = plaza_host::media::MediaKind::parse(&record.kind);
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        kind.map_or("application/octet-stream", |k| k.mime()),
                    ),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                    (header::CACHE_CONTROL, "private, no-store"),
                ],
                bytes,
            )
                .into_response())
        }
        None => Err(ApiError::not_found(format!(
            "you gave {app_id} no file `{id}`"
        ))),
    }
}

async fn my_prompts(State(state): State<AppState>, Caller(user): Caller) -> Json<Value> {
    Json(json!({ "prompts": state.hub.pending_for(&user) }))
}

async fn asset(
    State(state): State<AppState>,
    PathParams((app_id, name)): PathParams<(String, String)>,
) -> ApiResult<Response> {
    match state.host.asset(&app_id, &name)? {
        Some(a) => Ok((
            [
                (header::CONTENT_TYPE, a.content_type()),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.bytes,
        )
            .into_response()),
        None => Err(ApiError::not_found(format!(
            "{app_id} has no asset `{name}`"
        ))),
    }
}

#[derive(Debug, Deserialize)]
struct Paging {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    offset: Option<usize>,
    #[serde(default)]
    unread: Option<bool>,
}

impl Paging {
    fn limit(&self, default: usize) -> usize {
        self.limit.unwrap_or(default).clamp(1, MAX_LIMIT)
    }
}

async fn inbox(
    State(state): State<AppState>,
    Caller(user): Caller,
    Params(p): Params<Paging>,
) -> ApiResult {
    let limit = p.limit(50);
    let offset = p.offset.unwrap_or(0).min(10 * MAX_LIMIT);
    let messages: Vec<_> = state
        .host
        .inbox(&user, p.unread.unwrap_or(false), offset + limit)?
        .into_iter()
        .skip(offset)
        .collect();
    let unread = state.host.inbox(&user, true, 10 * MAX_LIMIT)?.len();
    let next = (messages.len() == limit).then_some(offset + limit);
    Ok(Json(json!({
        "unread": unread,
        "messages": messages,
        "next_offset": next,
    })))
}

async fn read(
    State(state): State<AppState>,
    Caller(user): Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult {
    if !state.host.mark_read(&user, &id)? {
        return Err(ApiError::not_found(format!(
            "no message {id} in your inbox"
        )));
    }
    Ok(Json(json!({"ok": true})))
}

async fn open_message(
    State(state): State<AppState>,
    Caller(user): Caller,
    PathParams(id): PathParams<String>,
) -> ApiResult {
    let target = state.host.message_target(&user, &id)?;
    let event = ClientEvent::Launch {
        path: target.path,
        query: target.query,
        locale: String::new(),
    };
    let started = Instant::now();
    let outcome = state
        .sessions
        .send(&state.host, &state.hub, &user, &target.app_id, event)
        .await;
    state
        .metrics
        .event("launch", outcome_name(&outcome), started.elapsed());
    let mut json = outcome_json(&outcome?, &target.app_id);
    json["app_id"] = json!(target.app_id);
    Ok(Json(json))
}

#[derive(Deserialize)]
struct OpenLink {
    link: String,
    #[serde(default)]
    locale: String,
}

async fn open_link(
    State(state): State<AppState>,
    Caller(user): Caller,
    Body(body): Body<OpenLink>,
) -> ApiResult {
    let link = state.host.link_target(&user, &body.link)?;
    let event = ClientEvent::Launch {
        query: link.query_pairs(),
        path: link.path,
        locale: body.locale,
    };
    let started = Instant::now();
    let outcome = state
        .sessions
        .send(&state.host, &state.hub, &user, &link.app_id, event)
        .await;
    state
        .metrics
        .event("launch", outcome_name(&outcome), started.elapsed());
    let mut json = outcome_json(&outcome?, &link.app_id);
    json["app_id"] = json!(link.app_id);
    Ok(Json(json))
}

async fn wallet(
    State(state): State<AppState>,
    Caller(user): Caller,
    Params(p): Params<Paging>,
) -> ApiResult {
    let host = &state.host;
    let money = |m: i64| format_money(m, "CNY");
    let history: Vec<Value> = host
        .wallet_history(&user, p.limit(50))?
        .into_iter()
        .map(|e| {
            json!({
                "tx_id": e.tx_id,
                "kind": e.kind,
                "at_ms": e.at_ms,
                "amount": money(e.amount),
                "amount_minor": e.amount,
                "app_id": e.app_id,
                "order_id": e.order_id,
                "memo": e.memo,
            })
        })
        .collect();
    let balance = host.wallet_balance(&user)?;
    let insurance = host.insurance(&user)?.map(|(card, left)| {
        json!({
            "card_number": card.card_number,
            "holder_name": card.holder_name,
            "scheme": card.scheme,
            "coverage_percent": f64::from(card.coverage_bp) / 100.0,
            "annual_cap": money(card.annual_cap as i64),
            "cap_left": money(left as i64),
        })
    });
    Ok(Json(json!({
        "balance": money(balance as i64),
        "balance_minor": balance,
        "currency": "CNY",
        "history": history,
        "insurance": insurance,
    })))
}

async fn grants(State(state): State<AppState>, Caller(user): Caller) -> ApiResult {
    Ok(Json(json!({ "grants": state.host.consents(&user)? })))
}

async fn revoke(
    State(state): State<AppState>,
    Caller(user): Caller,
    PathParams((app_id, scope)): PathParams<(String, String)>,
) -> ApiResult {
    if !state.host.revoke_consent(&user, &app_id, &scope)? {
        return Err(ApiError::not_found(format!(
            "you have no decision for {scope} on {app_id} to forget"
        )));
    }
    Ok(Json(json!({"ok": true})))
}

async fn audit(
    State(state): State<AppState>,
    Caller(user): Caller,
    Params(p): Params<Paging>,
) -> ApiResult {
    let entries = state.host.audit(&AuditQuery {
        user: Some(user),
        app: None,
        limit: p.limit(100),
    })?;
    Ok(Json(json!({ "entries": entries })))
}

/// Which mini-app a privacy request is about (every one when none).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyBody {
    #[serde(default)]
    app: Option<String>,
}

async fn privacy_report(
    State(state): State<AppState>,
    Caller(user): Caller,
    Body(body): Body<PrivacyBody>,
) -> ApiResult {
    let report = state.host.privacy_report(&user, body.app.as_deref())?;
    Ok(Json(json!(report)))
}

async fn privacy_export(
    State(state): State<AppState>,
    Caller(user): Caller,
    Body(body): Body<PrivacyBody>,
) -> ApiResult {
    let export = state.host.privacy_export(&user, body.app.as_deref())?;
    Ok(Json(json!(export)))
}

async fn privacy_erase(
    State(state): State<AppState>,
    Caller(user): Caller,
    Body(body): Body<PrivacyBody>,
) -> ApiResult {
    let Some(app) = body.app.filter(|a| !a.is_empty()) else {
        return Err(ApiError::bad_request(
            "name the mini-app whose data to erase: {\"app\": \"...\"}",
        ));
    };
    let erasure = state.host.erase_user_app_data(&user, &app).await?;
    Ok(Json(json!(erasure)))
}
