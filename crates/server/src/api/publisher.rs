//! The publisher API, under `/v1/publisher`: what a mini-app's own back-end
//! (a hospital's, a bank's server) calls, with an access token it gets for
//! its app secret. Each call is [`plaza_host::Publisher`]'s: scoped to the
//! token's mini-app, rate limited and audited by the host.

use super::{Access, Body, Params, PathParams, Routes};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::routing::{get, post};
use plaza_host::Publisher;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub(super) fn routes(r: Routes) -> Routes {
    let link = json!({"type": "string", "description": "A page of the mini-app the message opens: `/path?query`."});
    r.add(
        Method::POST,
        "/v1/publisher/token",
        Access::Public,
        "Exchanges a mini-app's app secret for an access token of its back-end (two hours): {\"access_token\", \"expires_in\"} (seconds).",
        Some(json!({"type": "object", "required": ["app_id", "secret"],
            "properties": {"app_id": {"type": "string"}, "secret": {"type": "string"}}})),
        post(token),
    )
    .add(
        Method::POST,
        "/v1/publisher/login",
        Access::Publisher,
        "Exchanges a login code the mini-app got from `login` (single use, five minutes) for the user's {\"openid\", \"unionid\"}.",
        Some(json!({"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}})),
        post(login),
    )
    .add(
        Method::POST,
        "/v1/publisher/messages",
        Access::Publisher,
        "Sends a subscription message to a user by openid: consumes one of the user's acceptances of the template (403 `refused` without one); 404 `not-found` for an openid the mini-app was never given. Answers {\"message_id\"}.",
        Some(json!({"type": "object", "required": ["openid", "template", "fields"],
            "properties": {"openid": {"type": "string"}, "template": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}}, "link": link}})),
        post(message),
    )
    .add(
        Method::POST,
        "/v1/publisher/broadcasts",
        Access::Publisher,
        "Broadcasts to the mini-app's followers, each within the monthly quota: {\"delivered\", \"skipped\"}.",
        Some(json!({"type": "object", "required": ["title", "text"],
            "properties": {"title": {"type": "string"}, "text": {"type": "string"}, "link": link}})),
        post(broadcast),
    )
    .add(
        Method::POST,
        "/v1/publisher/replies",
        Access::Publisher,
        "Replies to a user by openid, within 48 hours of the user's last message (403 `refused` after): {\"message_id\"}.",
        Some(json!({"type": "object", "required": ["openid", "text"],
            "properties": {"openid": {"type": "string"}, "text": {"type": "string"}, "link": link}})),
        post(reply),
    )
    .add(
        Method::GET,
        "/v1/publisher/payments/{order_id}",
        Access::Publisher,
        "A payment by order id: order_id, openid, amount, currency, description, items, refunded, refunds, the signed receipt.",
        None,
        get(payment),
    )
    .add(
        Method::GET,
        "/v1/publisher/payments",
        Access::Publisher,
        "A day's payments (each with its refunds) and refunds, for reconciliation: `?day=YYYY-MM-DD` (host time zone).",
        None,
        get(statement),
    )
    .add(
        Method::POST,
        "/v1/publisher/refunds",
        Access::Publisher,
        "Refunds part or all of an order's payment to the payer; a retried refund_id answers the first refund and moves nothing (403 `refused` when it was used for another order or amount).",
        Some(json!({"type": "object", "required": ["order_id", "refund_id", "amount"],
            "properties": {"order_id": {"type": "string"}, "refund_id": {"type": "string"},
                "amount": {"type": "integer", "description": "Minor units (fen)."}, "reason": {"type": "string"}}})),
        post(refund),
    )
}

/// The back-end of a request, by its access token.
#[derive(Debug)]
pub struct Backend(pub Publisher);

impl FromRequestParts<AppState> for Backend {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Backend, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing-token",
                    "the publisher API takes `Authorization: Bearer <access_token>` (POST /v1/publisher/token)",
                )
            })?;
        let publisher = state.host.publisher_api(token.trim())?;
        tracing::Span::current().record("user", publisher.app_id());
        Ok(Backend(publisher))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    app_id: String,
    secret: String,
}

async fn token(State(state): State<AppState>, Body(b): Body<TokenBody>) -> ApiResult {
    let token = state.host.access_token(&b.app_id, &b.secret)?;
    Ok(Json(json!(token)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    code: String,
}

async fn login(Backend(api): Backend, Body(b): Body<LoginBody>) -> ApiResult {
    Ok(Json(json!(api.exchange_login_code(&b.code)?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    openid: String,
    template: String,
    fields: BTreeMap<String, String>,
    link: Option<String>,
}

async fn message(Backend(api): Backend, Body(b): Body<MessageBody>) -> ApiResult {
    let fields: Vec<(String, String)> = b.fields.into_iter().collect();
    let id = api.send_message(&b.openid, &b.template, &fields, b.link.as_deref())?;
    Ok(Json(json!({"message_id": id})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BroadcastBody {
    title: String,
    text: String,
    link: Option<String>,
}

async fn broadcast(Backend(api): Backend, Body(b): Body<BroadcastBody>) -> ApiResult {
    let count = api.broadcast(&b.title, &b.text, b.link.as_deref()).await?;
    Ok(Json(
        json!({"delivered": count.delivered, "skipped": count.skipped}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    openid: String,
    text: String,
    link: Option<String>,
}

async fn reply(Backend(api): Backend, Body(b): Body<ReplyBody>) -> ApiResult {
    let id = api.reply(&b.openid, &b.text, b.link.as_deref())?;
    Ok(Json(json!({"message_id": id})))
}

async fn payment(Backend(api): Backend, PathParams(order_id): PathParams<String>) -> ApiResult {
    Ok(Json(json!(api.payment(&order_id)?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DayParams {
    day: String,
}

async fn statement(Backend(api): Backend, Params(p): Params<DayParams>) -> ApiResult {
    Ok(Json(json!(api.statement(&p.day)?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    order_id: String,
    refund_id: String,
    amount: u64,
    #[serde(default)]
    reason: String,
}

async fn refund(Backend(api): Backend, Body(b): Body<RefundBody>) -> ApiResult {
    let r = api.refund(&b.order_id, &b.refund_id, b.amount, &b.reason)?;
    Ok(Json(json!(r)))
}
