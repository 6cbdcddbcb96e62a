//! The routes, their layers and the extractors they share.
//!
//! Every route is added through [`Routes::add`], which records it with its
//! summary and who may call it: the OpenAPI document ([`crate::openapi`])
//! is made from that record, so it lists exactly the routes that exist.
//!
//! Layers, outside in: a request id (the `x-request-id` header, made if
//! absent) on a tracing span and on the response, one JSON log line per
//! request, the timeout (504), the body cap (413). The user extractor
//! ([`Caller`]) checks the token (401) and the user's rate limit (429).

pub mod admin;
pub mod client;
pub mod publisher;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A user, with a JWT of a configured issuer.
    User,
    /// The operator, with the admin token.
    Operator,
    /// A mini-app's back-end, with an access token of the publisher API.
    Publisher,
}

/// A route as documented.
#[derive(Debug, Clone)]
pub struct RouteDoc {
    /// `GET`, `POST`, ...
    pub method: Method,
    /// The path, with `{param}`s.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The JSON schema of its body, if it takes JSON.
    pub body: Option<Value>,
}

/// The router under construction, and the record of its routes.
pub struct Routes {
    router: Router<AppState>,
    docs: Vec<RouteDoc>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            docs: Vec::new(),
        }
    }

    /// Adds a route and its documentation.
    pub fn add(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        summary: &'static str,
        body: Option<Value>,
        handler: MethodRouter<AppState>,
    ) -> Routes {
        self.router = self.router.route(path, handler);
        self.docs.push(RouteDoc {
            method,
            path,
            summary,
            access,
            body,
        });
        self
    }
}

/// Every route, documented.
pub fn routes() -> (Router<AppState>, Vec<RouteDoc>) {
    let r = Routes::new()
        .add(
            Method::GET,
            "/healthz",
            Access::Public,
            "Liveness: 200 while the process serves.",
            None,
            get(|| async { Json(json!({"ok": true})) }),
        )
        .add(
            Method::GET,
            "/readyz",
            Access::Public,
            "Readiness: 200 when the store answers, 503 while shutting down.",
            None,
            get(readyz),
        )
        .add(
            Method::GET,
            "/metrics",
            Access::Public,
            "Counters in Prometheus' text format.",
            None,
            get(metrics),
        )
        .add(
            Method::GET,
            "/v1/openapi.json",
            Access::Public,
            "This document.",
            None,
            get(openapi),
        );
    let r = client::routes(r);
    let r = admin::routes(r);
    let r = publisher::routes(r);
    (r.router, r.docs)
}

/// The routes with their layers, over `state`.
pub fn router(state: AppState) -> Router {
    let (router, _) = routes();
    router
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no-route",
                "no such route: see /v1/openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this route takes another method: see /v1/openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), around))
        .with_state(state)
}

/// The request id, the log line, the timeout and the status count of every
/// request.
async fn around(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let span = tracing::info_span!("request", id = %id, method = %method, path = %path, user = tracing::field::Empty);
    let timeout = if path.starts_with("/v1/admin/packages") {
        state.config.install_timeout_secs
    } else {
        state.config.request_timeout_secs
    };
    let started = Instant::now();
    let run = tracing::Instrument::instrument(next.run(req), span.clone());
    let mut res = match tokio::time::timeout(Duration::from_secs(timeout), run).await {
        Ok(res) => res,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            format!(
                "no answer within {timeout} s; an event goes on running: send the next request to see its page or prompt"
            ),
        )
        .into_response(),
    };
    let status = res.status().as_u16();
    state.metrics.response(status);
    span.in_scope(|| {
        tracing::info!(
            status,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "answered"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn new_request_id() -> String {
    match plaza_host::keys::random_32() {
        Ok(b) => plaza_host::hex::encode(&b[..8]),
        Err(_) => "-".into(),
    }
}

/// The signed-in user of a request (`NAMESPACE:sub`), within the rate limit.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let user = state.issuers.authenticate(&parts.headers)?.0;
        tracing::Span::current().record("user", user.as_str());
        if let Err(wait) = state.limiter.check(&user) {
            state.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!(
                    "more than {} requests this minute: try again in {wait} s",
                    state.config.user_requests_per_minute
                ),
            )
            .retry_after(wait));
        }
        Ok(Caller(user))
    }
}

/// The operator, by the admin token.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Operator, ApiError> {
        if crate::auth::is_admin(&parts.headers, &state.config.admin_token) {
            Ok(Operator)
        } else {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "not-operator",
                "the operator API takes `Authorization: Bearer <admin_token>`",
            ))
        }
    }
}

/// A JSON body, refused as JSON errors: 413 `body-too-large` over the cap,
/// 400 `bad-request` when it does not read.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Body<T>, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(body_error(e.status(), e.body_text())),
        }
    }
}

/// Query parameters, refused as a JSON `bad-request` when they do not read.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Params<T>, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// Path parameters, refused as a JSON `bad-path` (with axum's status: 400
/// for a parameter that does not read, such as invalid UTF-8) rather than
/// axum's plain text.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathParams<T>, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(PathParams(v)),
            Err(e) => Err(ApiError::new(e.status(), "bad-path", e.body_text())),
        }
    }
}

/// The raw bytes of a body, within the cap.
#[derive(Debug)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<RawBody, ApiError> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(RawBody(b)),
            Err(e) => Err(body_error(e.status(), e.body_text())),
        }
    }
}

fn body_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "body-too-large",
            "the request body is over the server's cap",
        )
    } else {
        ApiError::bad_request(text)
    }
}

async fn readyz(State(state): State<AppState>) -> ApiResult<Response> {
    if !state.ready.load(Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting-down",
            "the server is shutting down",
        ));
    }
    // The store answers.
    state.host.installed()?;
    Ok(Json(json!({"ok": true})).into_response())
}

async fn metrics(State(state): State<AppState>) -> Response {
    let live = state.host.live_sessions().await as f64;
    let max = f64::from(state.max_live_sessions.max(1));
    let c = &state.hub.counts;
    let loaded = state.host.loaded_totals();
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let text = state.metrics.render(
        &[
            (
                "plaza_live_sessions",
                "Sessions with a live instance.",
                live,
            ),
            (
                "plaza_pool_occupancy",
                "Live sessions over the host's limit (0 to 1).",
                live / max,
            ),
            (
                "plaza_prompts_waiting",
                "Prompts waiting for a user's answer.",
                state.hub.waiting() as f64,
            ),
            (
                "plaza_loaded_apps",
                "Mini-apps loaded (compiled code in memory).",
                loaded.apps as f64,
            ),
            (
                "plaza_loaded_code_bytes",
                "Bytes of the loaded mini-apps' compiled code.",
                loaded.code_bytes as f64,
            ),
        ],
        &[
            (
                "plaza_prompts_payment_total",
                "Payment confirmations raised.",
                load(&c.raised[0]),
            ),
            (
                "plaza_prompts_consent_total",
                "Consent questions raised.",
                load(&c.raised[1]),
            ),
            (
                "plaza_prompts_subscription_total",
                "Subscription requests raised.",
                load(&c.raised[2]),
            ),
            (
                "plaza_prompts_media_total",
                "Photo and file prompts raised.",
                load(&c.media_raised),
            ),
            (
                "plaza_prompts_scan_total",
                "Scans raised.",
                load(&c.scan_raised),
            ),
            (
                "plaza_prompts_link_total",
                "Offers to open a scanned link raised.",
                load(&c.link_raised),
            ),
            (
                "plaza_prompts_answered_total",
                "Prompts answered.",
                load(&c.answered),
            ),
            (
                "plaza_prompts_timed_out_total",
                "Prompts closed without an answer.",
                load(&c.timed_out),
            ),
            (
                "plaza_payments_confirmed_total",
                "Payments the user confirmed.",
                load(&c.payments_confirmed),
            ),
            (
                "plaza_app_loads_total",
                "Mini-apps loaded (at install or first use) since the start.",
                loaded.loads,
            ),
            (
                "plaza_app_unloads_total",
                "Mini-apps unloaded for max_loaded_code_bytes since the start.",
                loaded.unloads,
            ),
            (
                "plaza_rate_limited_total",
                "Requests refused for a user's rate limit.",
                load(&state.metrics.rate_limited),
            ),
        ],
    ) + &crate::metrics::render_labelled(
        "plaza_host_call_denials_total",
        "Mini-apps' host calls the gate denied, by capability (decisions, not audit entries).",
        "capability",
        &state.host.denial_counts(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}
