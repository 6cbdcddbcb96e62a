//! The operator API, under `/v1/admin`, for the bearer of `admin_token`.

use super::{Access, Body, Operator, PathParams, RawBody, Routes};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::Method;
use axum::routing::{delete, get, post, put};
use plaza_host::manifest::{Capability, Category};
use plaza_host::package::Package;
use plaza_host::policy::Policy;
use plaza_host::store::{PublisherRecord, UserProfile};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn routes(r: Routes) -> Routes {
    let publisher = json!({
        "type": "object", "required": ["id", "name", "category", "public_key"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"},
            "category": {"enum": ["government", "medical", "finance", "transport", "education", "commerce", "other"]},
            "verified": {"type": "boolean"}, "public_key": {"type": "string", "description": "Ed25519, hex."}}
    });
    let top_up = json!({
        "type": "object", "required": ["amount"],
        "properties": {"amount": {"type": "integer", "description": "Minor units (fen)."}, "currency": {"type": "string", "default": "CNY"}}
    });
    r.add(
        Method::POST,
        "/v1/admin/packages",
        Access::Operator,
        "Installs the package file in the body (the same trust rules as `plaza install`); answers the app secret as `app_secret` on first install.",
        None,
        post(install).layer(DefaultBodyLimit::disable()),
    )
    .add(
        Method::GET,
        "/v1/admin/packages",
        Access::Operator,
        "The installed mini-apps.",
        None,
        get(packages),
    )
    .add(
        Method::DELETE,
        "/v1/admin/packages/{app_id}",
        Access::Operator,
        "Uninstalls a mini-app.",
        None,
        delete(uninstall),
    )
    .add(
        Method::POST,
        "/v1/admin/publishers",
        Access::Operator,
        "Registers (or replaces) a publisher of the trusted registry.",
        Some(publisher),
        post(add_publisher),
    )
    .add(
        Method::GET,
        "/v1/admin/publishers",
        Access::Operator,
        "The publisher registry.",
        None,
        get(publishers),
    )
    .add(
        Method::GET,
        "/v1/admin/policy",
        Access::Operator,
        "The policy in force: capabilities per category, and the categories for sensitive scopes, long-term subscriptions and insurance payments.",
        None,
        get(policy),
    )
    .add(
        Method::PUT,
        "/v1/admin/policy",
        Access::Operator,
        "Replaces the policy (the GET's shape); live sessions follow it from their next host call.",
        Some(json!({"type": "object"})),
        put(set_policy),
    )
    .add(
        Method::POST,
        "/v1/admin/wallets/{user}/top-up",
        Access::Operator,
        "Tops up a user's wallet (`user` as `NAMESPACE:sub`): the operator is the wallet's funding rail.",
        Some(top_up),
        post(top_up_wallet),
    )
    .add(
        Method::PUT,
        "/v1/admin/users/{user}/profile",
        Access::Operator,
        "Sets what the embedding app knows of a user (nickname, avatar_url, phone, real_name {name, id_number, verified}, location): what consent scopes read.",
        Some(json!({"type": "object"})),
        put(set_profile),
    )
    .add(
        Method::PUT,
        "/v1/admin/users/{user}/insurance-card",
        Access::Operator,
        "Binds a medical-insurance card to a user's wallet ({card_number, holder_name, scheme, coverage_bp, annual_cap}).",
        Some(json!({"type": "object", "required": ["card_number", "holder_name", "scheme", "coverage_bp", "annual_cap"]})),
        put(bind_card),
    )
    .add(
        Method::GET,
        "/v1/admin/apps/{app_id}/settings",
        Access::Operator,
        "The settings an installed mini-app declares: `settings` [{name, secret, value, source (set, default, missing), updated_at_ms}]; a secret's value is never given (null).",
        None,
        get(settings),
    )
    .add(
        Method::PUT,
        "/v1/admin/apps/{app_id}/settings/{name}",
        Access::Operator,
        "Sets a declared setting ({value, secret}); the mini-app's next session reads it. A secret (declared so, or `secret: true`) is sealed with the server's settings key. Audited by name, never the value.",
        Some(json!({
            "type": "object", "required": ["value"],
            "properties": {"value": {"type": "string"}, "secret": {"type": "boolean", "default": false}}
        })),
        put(set_setting),
    )
    .add(
        Method::DELETE,
        "/v1/admin/apps/{app_id}/settings/{name}",
        Access::Operator,
        "Removes the value set for a setting: the next session reads the manifest's default, or gets `not-found`. Answers `removed`.",
        None,
        delete(unset_setting),
    )
    .add(
        Method::GET,
        "/v1/admin/ledger/verify",
        Access::Operator,
        "Checks every invariant of the ledger and every receipt's signature.",
        None,
        get(verify),
    )
}

async fn install(
    State(state): State<AppState>,
    _op: Operator,
    RawBody(bytes): RawBody,
) -> ApiResult {
    if bytes.len() > state.config.max_package_bytes {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!(
                "the package is {} bytes, over max_package_bytes ({})",
                bytes.len(),
                state.config.max_package_bytes
            ),
        ));
    }
    let package = Package::from_bytes("the uploaded package", &bytes)?;
    let report = state.host.install(package).await?;
    tracing::info!(app = %report.app_id, version = %report.version, "installed");
    Ok(Json(json!({
        "app_id": report.app_id,
        "version": report.version,
        "replaced": report.replaced,
        "signed": report.signed,
        "component_sha256": report.component_sha256,
        "app_secret": report.app_secret,
    })))
}

async fn packages(State(state): State<AppState>, _op: Operator) -> ApiResult {
    Ok(Json(json!({ "packages": state.host.installed()? })))
}

async fn settings(
    State(state): State<AppState>,
    _op: Operator,
    PathParams(app_id): PathParams<String>,
) -> ApiResult {
    Ok(Json(json!({ "settings": state.host.settings(&app_id)? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingBody {
    value: String,
    #[serde(default)]
    secret: bool,
}

async fn set_setting(
    State(state): State<AppState>,
    _op: Operator,
    PathParams((app_id, name)): PathParams<(String, String)>,
    Body(body): Body<SettingBody>,
) -> ApiResult {
    state
        .host
        .set_setting(&app_id, &name, &body.value, body.secret)?;
    tracing::info!(app = %app_id, setting = %name, "setting set");
    Ok(Json(json!({"ok": true})))
}

async fn unset_setting(
    State(state): State<AppState>,
    _op: Operator,
    PathParams((app_id, name)): PathParams<(String, String)>,
) -> ApiResult {
    let removed = state.host.unset_setting(&app_id, &name)?;
    Ok(Json(json!({ "removed": removed })))
}

async fn uninstall(
    State(state): State<AppState>,
    _op: Operator,
    PathParams(app_id): PathParams<String>,
) -> ApiResult {
    state.host.uninstall(&app_id).await?;
    tracing::info!(app = %app_id, "uninstalled");
    Ok(Json(json!({"ok": true})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherBody {
    id: String,
    name: String,
    category: Category,
    #[serde(default)]
    verified: bool,
    public_key: String,
}

async fn add_publisher(
    State(state): State<AppState>,
    _op: Operator,
    Body(p): Body<PublisherBody>,
) -> ApiResult {
    let record = state.host.add_publisher(PublisherRecord {
        id: p.id,
        name: p.name,
        category: p.category,
        verified: p.verified,
        public_key: p.public_key,
        added_at_ms: 0,
    })?;
    Ok(Json(publisher_json(&record)))
}

fn publisher_json(p: &PublisherRecord) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "category": p.category,
        "verified": p.verified,
        "public_key": p.public_key,
        "added_at_ms": p.added_at_ms,
    })
}

async fn publishers(State(state): State<AppState>, _op: Operator) -> ApiResult {
    let list: Vec<Value> = state
        .host
        .publishers()?
        .iter()
        .map(publisher_json)
        .collect();
    Ok(Json(json!({ "publishers": list })))
}

/// The policy as JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDoc {
    capabilities: BTreeMap<Category, BTreeSet<Capability>>,
    sensitive_scope_categories: BTreeSet<Category>,
    long_term_subscription_categories: BTreeSet<Category>,
    insurance_payment_categories: BTreeSet<Category>,
    /// The item kinds insurance may cover, per category; left out, the
    /// host's default (the usual medical items).
    #[serde(default = "default_insurance_items_by_category")]
    insurance_items_by_category: BTreeMap<Category, BTreeSet<String>>,
    /// A publisher's own list, replacing its category's.
    #[serde(default)]
    insurance_items_by_publisher: BTreeMap<String, BTreeSet<String>>,
}

fn default_insurance_items_by_category() -> BTreeMap<Category, BTreeSet<String>> {
    Policy::default().insurance_items_by_category
}

impl From<&Policy> for PolicyDoc {
    fn from(p: &Policy) -> PolicyDoc {
        PolicyDoc {
            capabilities: p.capabilities.clone(),
            sensitive_scope_categories: p.sensitive_scope_categories.clone(),
            long_term_subscription_categories: p.long_term_subscription_categories.clone(),
            insurance_payment_categories: p.insurance_payment_categories.clone(),
            insurance_items_by_category: p.insurance_items_by_category.clone(),
            insurance_items_by_publisher: p.insurance_items_by_publisher.clone(),
        }
    }
}

async fn policy(State(state): State<AppState>, _op: Operator) -> Json<Value> {
    let p = state.policy.lock().unwrap_or_else(|p| p.into_inner());
    Json(json!(PolicyDoc::from(&*p)))
}

async fn set_policy(
    State(state): State<AppState>,
    _op: Operator,
    Body(doc): Body<PolicyDoc>,
) -> Json<Value> {
    let policy = Policy {
        capabilities: doc.capabilities,
        sensitive_scope_categories: doc.sensitive_scope_categories,
        long_term_subscription_categories: doc.long_term_subscription_categories,
        insurance_payment_categories: doc.insurance_payment_categories,
        insurance_items_by_category: doc.insurance_items_by_category,
        insurance_items_by_publisher: doc.insurance_items_by_publisher,
    };
    state.host.set_policy(policy.clone());
    let answer = json!(PolicyDoc::from(&policy));
    *state.policy.lock().unwrap_or_else(|p| p.into_inner()) = policy;
    tracing::info!("policy replaced");
    Json(answer)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopUpBody {
    amount: u64,
    #[serde(default = "cny")]
    currency: String,
}

fn cny() -> String {
    "CNY".into()
}

async fn top_up_wallet(
    State(state): State<AppState>,
    _op: Operator,
    PathParams(user): PathParams<String>,
    Body(b): Body<TopUpBody>,
) -> ApiResult {
    check_user_id(&state, &user)?;
    let (tx, balance) = state.host.top_up(&user, b.amount, &b.currency)?;
    Ok(Json(json!({
        "transaction": tx,
        "balance_minor": balance,
        "currency": b.currency,
    })))
}

/// A user id some issuer can sign in: `NAMESPACE:sub`, or a plain `sub`
/// when an issuer's namespace is empty.
fn check_user_id(state: &AppState, user: &str) -> Result<(), ApiError> {
    let plain = state
        .config
        .issuers
        .iter()
        .any(|i| i.namespace().is_empty());
    if user.contains(':') || plain {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "`{user}` is not a user id: users are `NAMESPACE:sub`"
        )))
    }
}

async fn set_profile(
    State(state): State<AppState>,
    _op: Operator,
    PathParams(user): PathParams<String>,
    Body(profile): Body<UserProfile>,
) -> ApiResult {
    check_user_id(&state, &user)?;
    state.host.set_user_profile(&user, profile)?;
    Ok(Json(json!({"ok": true})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CardBody {
    card_number: String,
    holder_name: String,
    scheme: String,
    coverage_bp: u32,
    annual_cap: u64,
}

async fn bind_card(
    State(state): State<AppState>,
    _op: Operator,
    PathParams(user): PathParams<String>,
    Body(c): Body<CardBody>,
) -> ApiResult {
    check_user_id(&state, &user)?;
    let card = state.host.bind_insurance_card(
        &user,
        &c.card_number,
        &c.holder_name,
        &c.scheme,
        c.coverage_bp,
        c.annual_cap,
    )?;
    Ok(Json(json!({"ok": true, "card_number": card.card_number})))
}

async fn verify(State(state): State<AppState>, _op: Operator) -> ApiResult {
    let report = state.host.verify_ledger()?;
    Ok(Json(json!({
        "clean": report.is_clean(),
        "report": report,
    })))
}
