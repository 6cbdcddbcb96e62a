//! The server's errors: every failure is JSON `{"error": {"kind", "message"}}`
//! with an HTTP status, and the host's typed errors keep their kind
//! (`action-not-offered` with the offered actions, `session-ended` with the
//! cause, `not-installed`, `busy`...). A store that fails (its database
//! away) is `503 unavailable` with `Retry-After`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plaza_host::Error as HostError;
use serde_json::{Map, Value, json};

/// The `Retry-After` of a `503 unavailable` (the store failed).
pub const STORE_RETRY_AFTER_SECS: u64 = 2;

/// An error answered to a client: a status, a stable kind, words, and any
/// details a client can act on (merged into the `error` object).
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable, kebab-case kind (`expired-token`, `action-not-offered`).
    pub kind: &'static str,
    /// What happened and, where the client can act, what to do.
    pub message: String,
    /// More fields of the `error` object (`offered`, `cause`, `prompts`).
    pub details: Map<String, Value>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error of `kind` with `status`.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            details: Map::new(),
            retry_after: None,
        }
    }

    /// A 400 `bad-request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }

    /// A 404 `not-found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
    }

    /// A 500 `internal`: the details go to the log, not to the client.
    pub fn internal(what: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %what, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; the request id in the log has the details",
        )
    }

    /// Adds a field to the `error` object.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// Adds a `Retry-After` header.
    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("kind".into(), json!(self.kind));
        error.insert("message".into(), json!(self.message));
        for (k, v) in &self.details {
            error.insert(k.clone(), v.clone());
        }
        json!({ "error": error })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.kind,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<HostError> for ApiError {
    fn from(e: HostError) -> ApiError {
        use StatusCode as S;
        let message = e.to_string();
        let (status, kind) = match &e {
            HostError::NotInstalled { .. } => (S::NOT_FOUND, "not-installed"),
            HostError::ActionNotOffered { offered, .. } => {
                let offered = offered.clone();
                return ApiError::new(S::CONFLICT, "action-not-offered", message)
                    .with("offered", offered);
            }
            HostError::SessionEnded { fault, .. } => {
                let cause = fault.to_string();
                return ApiError::new(S::BAD_GATEWAY, "session-ended", message)
                    .with("cause", cause);
            }
            HostError::InvalidPage { .. } => (S::BAD_GATEWAY, "invalid-page"),
            HostError::InvalidSubmit { .. } => (S::BAD_REQUEST, "invalid-submit"),
            HostError::FieldRefused { field, reason, .. } => {
                let (field, reason) = (field.clone(), reason.clone());
                return ApiError::new(S::UNPROCESSABLE_ENTITY, "field-refused", message)
                    .with("field", field)
                    .with("reason", reason);
            }
            HostError::NoPageToGoBack => (S::CONFLICT, "no-page-to-go-back"),
            HostError::HostBusy { .. } => {
                return ApiError::new(S::SERVICE_UNAVAILABLE, "busy", message).retry_after(1);
            }
            HostError::Manifest { .. } => (S::UNPROCESSABLE_ENTITY, "invalid-manifest"),
            HostError::NotifyOriginUndeclared { .. } => {
                (S::UNPROCESSABLE_ENTITY, "notify-origin-undeclared")
            }
            HostError::Package { .. } => (S::UNPROCESSABLE_ENTITY, "invalid-package"),
            HostError::InvalidComponent { .. }
            | HostError::UnsupportedImport { .. }
            | HostError::UndeclaredImport { .. }
            | HostError::ComponentTooLarge { .. } => (S::UNPROCESSABLE_ENTITY, "invalid-component"),
            HostError::UnsignedPackage { .. } => (S::UNPROCESSABLE_ENTITY, "unsigned-package"),
            HostError::BadSignature { .. } => (S::UNPROCESSABLE_ENTITY, "bad-package-signature"),
            HostError::UnknownPublisher { .. } => (S::UNPROCESSABLE_ENTITY, "unknown-publisher"),
            HostError::CategoryMismatch { .. } => (S::UNPROCESSABLE_ENTITY, "category-mismatch"),
            HostError::UpdatePublisherMismatch { .. } => (S::CONFLICT, "update-publisher-mismatch"),
            HostError::UpdateNotNewer { .. } => (S::CONFLICT, "update-not-newer"),
            HostError::BadKey { .. } => (S::BAD_REQUEST, "bad-key"),
            HostError::Publisher { .. } => (S::BAD_REQUEST, "bad-publisher"),
            HostError::InvalidUserData { .. } => (S::BAD_REQUEST, "invalid-user-data"),
            HostError::InvalidRequest(_) => (S::BAD_REQUEST, "invalid-request"),
            HostError::UnknownSetting { .. } => (S::NOT_FOUND, "unknown-setting"),
            HostError::InvalidSetting { .. } => (S::BAD_REQUEST, "invalid-setting"),
            HostError::SettingsKey { .. } => (S::SERVICE_UNAVAILABLE, "settings-key"),
            HostError::WrongAppSecret { .. } => (S::UNAUTHORIZED, "wrong-secret"),
            HostError::InvalidAccessToken => (S::UNAUTHORIZED, "invalid-token"),
            HostError::AccessTokenExpired { .. } => (S::UNAUTHORIZED, "expired-token"),
            HostError::BackendRateLimited { .. } => {
                return ApiError::new(S::TOO_MANY_REQUESTS, "rate-limited", message)
                    .retry_after(60);
            }
            HostError::Store(e) => {
                // The database is away (a restart, a failover, the network):
                // nothing was half-written (every command is one
                // transaction), and the same request later may pass. The
                // details go to the log, as an internal error's do.
                tracing::warn!(error = %e, "the store failed");
                return ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the server cannot reach its store just now; nothing was changed. Try again shortly",
                )
                .retry_after(STORE_RETRY_AFTER_SECS);
            }
            HostError::NotFound(_) => (S::NOT_FOUND, "not-found"),
            HostError::MalformedLink(e) => {
                let problem = e.problem.clone();
                return ApiError::new(S::UNPROCESSABLE_ENTITY, "malformed-link", message)
                    .with("problem", problem);
            }
            HostError::Refused(_) => (S::FORBIDDEN, "refused"),
            HostError::LoginCodeReused { .. }
            | HostError::LoginCodeExpired { .. }
            | HostError::UnknownLoginCode { .. } => (S::BAD_REQUEST, "bad-login-code"),
            _ => return ApiError::internal(message),
        };
        ApiError::new(status, kind, message)
    }
}

/// The result of a handler.
pub type ApiResult<T = axum::Json<Value>> = Result<T, ApiError>;
