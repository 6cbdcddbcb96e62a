//! The simulator on top of the server's API: its page (HTML, CSS and a
//! script, each embedded in the binary) and a few developer tools.
//!
//! The page is a client of the Plaza server's API (`/v1`, `docs/server.md`),
//! as an embedding app's phone is: it sends events and answers prompts with
//! a user's token, and reads the user's wallet, inbox, grants, audit log and
//! privacy report there. The simulator is that embedding app: its issuer
//! has a random HS256 secret made at each start, and it mints short-lived
//! tokens for the user the page's user switch picks. Its users' ids are the
//! tokens' `sub` alone (the issuer's namespace is empty), so they are the
//! store's plain ids, as `plaza ... --user` names them.
//!
//! The simulator's own routes are developer tools, never a phone's:
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the simulator page |
//! | `GET /simulator/state?user=U` | the test clock, the reload number, a failed rebuild, the users simulated, U's real name |
//! | `POST /simulator/token` `{user}` | a token for the user (what a sign-in service issues) |
//! | `POST /simulator/clock` `{advance_ms}` | advance the test clock |
//! | `POST /simulator/top-up` `{user, amount}` | top up the user's wallet (major units) |
//! | `POST /simulator/citizen` `{user, name}` | give the user a verified real name, an insurance card and money |
//!
//! Every response carries a Content-Security-Policy without inline script;
//! requests must name a loopback host when the simulator listens on one (no
//! DNS rebinding), and every request but a `GET` must say
//! `Content-Type: application/json`, or it is refused (415) before any
//! route sees it: a cross-site form cannot send that type, and a
//! cross-site script cannot without a preflight the simulator does not
//! answer. The one exception is the answer to a media prompt, the chosen
//! file's bytes (`POST /v1/prompts/{id}/file`): it must say
//! `Content-Type: application/octet-stream`, which needs the same
//! preflight. The simulator's routes that change something are
//! [`post_routes`].

use super::TestClock;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use plaza_host::Host;
use plaza_host::clock::Clock;
use plaza_host::ledger::{format_money, parse_money};
use plaza_host::store::RealNameRecord;
use plaza_server::api::{Body, Params};
use plaza_server::config::{IssuerConfig, ServerConfig};
use plaza_server::error::ApiError;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// The policy every response carries: scripts, styles and images only from
/// the simulator itself (no inline script, no `eval`; a mini-app's images
/// are its package's assets, served by the API at
/// `/v1/apps/{app}/assets/{name}`, so a page cannot make the browser
/// contact anyone else), nothing framed, no plugins, no forms posted.
/// Images may also be `blob:` URLs: a photo the user gave a mini-app
/// (`media:ID`) is served only with the user's token, so the page fetches
/// it from the API and shows the bytes it got (the host refuses a
/// mini-app's `blob:` image URL, and only the page's own script makes one).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob:; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'none'";

/// The simulator's issuer (the `iss` of its tokens).
pub const ISSUER: &str = "plaza-simulator";

/// How long a token the simulator mints is valid: the page asks for a new
/// one before it expires.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// What the page shows besides the API's views.
#[derive(Debug, Default)]
struct View {
    /// Every user simulated since the start, in order.
    users: Vec<String>,
    /// The last problem rebuilding a watched project, if the last build
    /// failed (the previous build keeps running).
    build_error: Option<String>,
}

/// The simulator; cheap to clone.
#[derive(Clone)]
pub struct Sim {
    /// The host (the server's).
    pub host: Host,
    /// The test clock.
    pub clock: Arc<TestClock>,
    /// The HS256 secret of [`ISSUER`].
    secret: Arc<str>,
    /// The user the page starts as.
    first_user: Arc<str>,
    view: Arc<Mutex<View>>,
    /// Bumped when a watched mini-app was reinstalled: the browser reloads.
    reload_seq: Arc<AtomicU64>,
}

impl Sim {
    /// A simulator whose page starts as `user`, minting tokens with
    /// `secret`.
    pub fn new(host: Host, clock: Arc<TestClock>, secret: &str, user: &str) -> Sim {
        Sim {
            host,
            clock,
            secret: secret.into(),
            first_user: user.into(),
            view: Arc::new(Mutex::new(View {
                users: vec![user.to_string()],
                build_error: None,
            })),
            reload_seq: Arc::new(AtomicU64::new(1)),
        }
    }

    fn view(&self) -> std::sync::MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records how the last rebuild of a watched project went.
    pub fn set_build_error(&self, error: Option<String>) {
        self.view().build_error = error;
    }

    /// Tells the browser to reload (a watched mini-app was reinstalled): it
    /// launches the mini-app again where it was.
    pub fn reloaded(&self) {
        self.reload_seq.fetch_add(1, Ordering::SeqCst);
    }
}

/// A random secret for the simulator's issuer, made at each start: tokens
/// of an earlier run are worthless.
pub fn random_secret() -> anyhow::Result<String> {
    let bytes = plaza_host::keys::random_32()
        .map_err(|e| anyhow::anyhow!("no random secret for the simulator's tokens: {e}"))?;
    Ok(plaza_host::hex::encode(&bytes))
}

/// The server's settings for the simulator: the store, the compile cache,
/// developer mode and the prompts' timeout as `plaza serve` was told; the
/// simulator's issuer with `secret`, whose users' ids are the store's plain
/// ids; no operator API; no rate limit (one developer's page reads the
/// panels twice a second); a short shutdown.
pub fn server_config(
    store: PathBuf,
    cache_dir: PathBuf,
    developer_mode: bool,
    prompt_timeout_secs: u64,
    secret: &str,
) -> ServerConfig {
    ServerConfig {
        store,
        cache_dir,
        developer_mode,
        prompt_timeout_secs,
        request_timeout_secs: prompt_timeout_secs.saturating_add(60),
        user_requests_per_minute: u32::MAX,
        utc_offset_minutes: crate::zone::utc_offset_minutes(),
        shutdown_grace_secs: 2,
        log_format: "text".into(),
        // The CLI's own key file when one is named; otherwise the server's
        // default beside the store, which is the CLI's default too.
        settings_key_file: std::env::var_os(crate::settings::SETTINGS_KEY_FILE_ENV)
            .map(PathBuf::from)
            .unwrap_or_default(),
        issuers: vec![IssuerConfig {
            name: ISSUER.into(),
            hs256_secret: Some(secret.to_string()),
            ed25519_public_key: None,
            namespace: Some(String::new()),
        }],
        ..ServerConfig::default()
    }
}

/// The simulator's routes that change something: each a `POST` of a JSON
/// object.
pub fn post_routes() -> Vec<(&'static str, MethodRouter<Sim>)> {
    vec![
        ("/simulator/token", post(token)),
        ("/simulator/clock", post(clock)),
        ("/simulator/top-up", post(top_up)),
        ("/simulator/citizen", post(citizen)),
    ]
}

/// The simulator's page and routes on top of the server's `api`, all
/// behind the simulator's guard.
pub fn router(sim: Sim, api: Router, local: SocketAddr) -> Router {
    let mut own = Router::new()
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
        .route("/simulator/state", get(state));
    for (path, route) in post_routes() {
        own = own.route(path, route);
    }
    api.merge(own.with_state(sim))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            guard(local, req, next)
        }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Whether the request says its body is of `media_type` (with any
/// parameters).
fn says(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(media_type))
}

/// Whether the request is a `POST` of a media prompt's file
/// (`/v1/prompts/{id}/file`): the one route whose body is not JSON.
fn is_file_answer(req: &Request) -> bool {
    *req.method() == Method::POST
        && req
            .uri()
            .path()
            .strip_prefix("/v1/prompts/")
            .and_then(|rest| rest.strip_suffix("/file"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
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
                "not-loopback",
                format!("the simulator answers only to localhost, not to `{host}`"),
            )
            .into_response();
        }
    }
    if is_file_answer(&req) {
        if !says(req.headers(), "application/octet-stream") {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not-octet-stream",
                format!(
                    "POST {} takes the file's bytes with `Content-Type: application/octet-stream`",
                    req.uri().path()
                ),
            )
            .into_response();
        }
    } else if !matches!(*req.method(), Method::GET | Method::HEAD)
        && !says(req.headers(), "application/json")
    {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-json",
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

type SimResult = Result<Json<Value>, ApiError>;

fn money(amount: i64) -> String {
    format_money(amount, "CNY")
}

/// A user id the simulator takes: what its issuer's tokens can carry.
fn checked_user(user: &str) -> Result<&str, ApiError> {
    let user = user.trim();
    if user.is_empty()
        || user.len() > 128
        || user.contains(':')
        || user.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "a user id must be 1 to 128 bytes, without `:` or control characters",
        ));
    }
    Ok(user)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateQuery {
    #[serde(default)]
    user: Option<String>,
}

/// What the page shows besides the API's views.
async fn state(State(sim): State<Sim>, Params(q): Params<StateQuery>) -> SimResult {
    let real_name = match q.user.as_deref() {
        Some(user) => sim
            .host
            .user_profile(checked_user(user)?)?
            .and_then(|p| p.real_name)
            .map(|r| json!({"name": r.name, "verified": r.verified})),
        None => None,
    };
    let (users, build_error) = {
        let v = sim.view();
        (v.users.clone(), v.build_error.clone())
    };
    Ok(Json(json!({
        "reload_seq": sim.reload_seq.load(Ordering::SeqCst),
        "first_user": &*sim.first_user,
        "users": users,
        "build_error": build_error,
        "clock": { "now_ms": sim.clock.now_ms(), "offset_ms": sim.clock.offset_ms() },
        "real_name": real_name,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserReq {
    user: String,
}

/// A token for the user, as the embedding app's sign-in service issues it.
async fn token(State(sim): State<Sim>, Body(req): Body<UserReq>) -> SimResult {
    let user = checked_user(&req.user)?;
    let token = plaza_server::auth::mint_hs256(ISSUER, &sim.secret, user, TOKEN_TTL)
        .map_err(ApiError::internal)?;
    {
        let mut v = sim.view();
        if !v.users.iter().any(|u| u == user) {
            v.users.push(user.to_string());
        }
    }
    Ok(Json(json!({
        "token": token,
        "user": user,
        "expires_in_ms": TOKEN_TTL.as_millis() as u64,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockReq {
    advance_ms: i64,
}

async fn clock(State(sim): State<Sim>, Body(req): Body<ClockReq>) -> SimResult {
    const YEAR_MS: i64 = 366 * 24 * 3600 * 1000;
    if !(1..=YEAR_MS).contains(&req.advance_ms) {
        return Err(ApiError::bad_request(
            "the test clock moves forward only, by at most a year at a time",
        ));
    }
    sim.clock.advance(req.advance_ms);
    Ok(Json(json!({
        "now_ms": sim.clock.now_ms(),
        "offset_ms": sim.clock.offset_ms(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopUpReq {
    user: String,
    amount: String,
}

/// Tops up a wallet (the operator's funding rail, for a developer).
async fn top_up(State(sim): State<Sim>, Body(req): Body<TopUpReq>) -> SimResult {
    let user = checked_user(&req.user)?;
    let Some(amount) = parse_money(req.amount.trim()).filter(|a| *a > 0) else {
        return Err(ApiError::bad_request(format!(
            "`{}` is not an amount: write yuan, such as 100 or 12.50",
            req.amount
        )));
    };
    let (tx, balance) = sim.host.top_up(user, amount, "CNY")?;
    Ok(Json(
        json!({ "transaction": tx, "balance": money(balance as i64) }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CitizenReq {
    user: String,
    name: String,
}

/// Makes the user a test citizen: a verified real name (and phone), a
/// Hangzhou medical-insurance card paying 70 % up to CNY 3,000 a year, and
/// CNY 500 in the wallet.
async fn citizen(State(sim): State<Sim>, Body(req): Body<CitizenReq>) -> SimResult {
    let user = checked_user(&req.user)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::bad_request(
            "the citizen's name must be 1 to 64 characters",
        ));
    }
    let host = &sim.host;
    let mut profile = host.user_profile(user)?.unwrap_or_default();
    profile.nickname.get_or_insert_with(|| user.to_string());
    profile.phone.get_or_insert_with(|| "13800138000".into());
    profile.real_name = Some(RealNameRecord {
        name: name.to_string(),
        id_number: "330106199001010022".into(),
        verified: true,
    });
    host.set_user_profile(user, profile)?;
    host.bind_insurance_card(
        user,
        "3301-0001-0022",
        name,
        "Hangzhou basic medical insurance",
        7000,
        300_000,
    )?;
    host.top_up(user, 50_000, "CNY")?;
    Ok(Json(json!({ "ok": true })))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulator on an empty store on a loopback port, as `li-na`; its
    /// base URL.
    async fn simulator(dir: &std::path::Path) -> (Sim, String) {
        let secret = random_secret().unwrap();
        let config = server_config(dir.join("plaza.db"), PathBuf::new(), false, 60, &secret);
        let clock = Arc::new(TestClock::default());
        let host_clock = clock.clone();
        let server = plaza_server::Server::open(config, move |c| c.clock(host_clock)).unwrap();
        let sim = Sim::new(server.host().clone(), clock, &secret, "li-na");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let routes = sim.clone();
        tokio::spawn(server.serve_with(
            listener,
            move |api| router(routes, api, local),
            std::future::pending(),
        ));
        (sim, format!("http://{local}"))
    }

    /// Sends a request (`body` with its content type, if any; `token` as
    /// the bearer) and returns the status and the JSON answer.
    async fn call(
        method: &'static str,
        url: String,
        body: Option<(&'static str, String)>,
        token: Option<String>,
    ) -> (u16, Value) {
        tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let bearer = token.map(|t| format!("Bearer {t}")).unwrap_or_default();
            let mut response = match (method, body) {
                ("GET", _) => agent.get(&url).header("Authorization", &bearer).call(),
                (_, Some((content_type, body))) => agent
                    .post(&url)
                    .header("Authorization", &bearer)
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
            None,
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_simulators_tokens_open_the_api_as_the_stores_plain_user() {
        let dir = tempfile::tempdir().unwrap();
        let (sim, base) = simulator(dir.path()).await;
        let (status, minted) = post_json(&base, "/simulator/token", json!({"user": "li-na"})).await;
        assert_eq!(status, 200, "{minted}");
        let token = minted["token"].as_str().unwrap().to_string();
        let (status, topped) = post_json(
            &base,
            "/simulator/top-up",
            json!({"user": "li-na", "amount": "12.50"}),
        )
        .await;
        assert_eq!(status, 200, "{topped}");
        // The API's user is the store's `li-na`, not a namespaced id.
        let (status, wallet) = call("GET", format!("{base}/v1/me/wallet"), None, Some(token)).await;
        assert_eq!(status, 200, "{wallet}");
        assert_eq!(wallet["balance"], "CNY 12.50");
        assert_eq!(sim.host.wallet_balance("li-na").unwrap(), 1250);
        // Without a token the API refuses; a user id a token cannot carry
        // is refused before any token is made.
        let (status, _) = call("GET", format!("{base}/v1/me/wallet"), None, None).await;
        assert_eq!(status, 401);
        let (status, refused) =
            post_json(&base, "/simulator/token", json!({"user": "other:li-na"})).await;
        assert_eq!(status, 400, "{refused}");
        let (_, state) = call("GET", format!("{base}/simulator/state"), None, None).await;
        assert_eq!(state["users"], json!(["li-na"]), "{state}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_state_changing_route_takes_only_json() {
        let dir = tempfile::tempdir().unwrap();
        let (sim, base) = simulator(dir.path()).await;
        let routes: Vec<&str> = post_routes().into_iter().map(|(path, _)| path).collect();
        // The list is the module's table of POST routes, so a route added
        // to one and not the other fails here.
        let documented: Vec<&str> = include_str!("sim.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! | `POST "))
            .filter_map(|l| l.split('`').next())
            .collect();
        assert_eq!(routes, documented);
        // The API's behind the same guard.
        for path in routes.into_iter().chain(["/v1/me/privacy/erase"]) {
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
                let (status, answer) = call("POST", url.clone(), body.clone(), None).await;
                assert_eq!(status, 415, "{path} {body:?}: {answer}");
                assert!(
                    answer["error"]["message"]
                        .as_str()
                        .is_some_and(|e| e.contains("application/json")),
                    "{answer}"
                );
            }
        }
        // JSON said, but no JSON sent.
        let (status, answer) = call(
            "POST",
            format!("{base}/simulator/token"),
            Some(("application/json", String::new())),
            None,
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        // Nothing changed.
        let (_, state) = call("GET", format!("{base}/simulator/state"), None, None).await;
        assert_eq!(state["users"], json!(["li-na"]), "{state}");
        assert_eq!(sim.clock.offset_ms(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_media_prompts_file_is_the_one_body_that_is_not_json() {
        let dir = tempfile::tempdir().unwrap();
        let (_sim, base) = simulator(dir.path()).await;
        let (_, minted) = post_json(&base, "/simulator/token", json!({"user": "li-na"})).await;
        let token = minted["token"].as_str().unwrap().to_string();
        let url = format!("{base}/v1/prompts/p-1/file?name=card.jpg");
        // What a cross-site form can send, or any other type: refused
        // before the API sees it.
        for content_type in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain",
            "image/jpeg",
            "application/json",
        ] {
            let (status, answer) = call(
                "POST",
                url.clone(),
                Some((content_type, "\u{FF}\u{D8}\u{FF}".to_string())),
                Some(token.clone()),
            )
            .await;
            assert_eq!(status, 415, "{content_type}: {answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|e| e.contains("application/octet-stream")),
                "{answer}"
            );
        }
        // The file's bytes reach the API, which answers for the prompt
        // (there is none here).
        let octets = |body: String| Some(("application/octet-stream", body));
        let (status, answer) = call(
            "POST",
            url.clone(),
            octets("photo".into()),
            Some(token.clone()),
        )
        .await;
        assert_eq!(
            (status, answer["error"]["kind"].as_str()),
            (404, Some("no-such-prompt")),
            "{answer}"
        );
        // Without the user's token: refused.
        let (status, _) = call("POST", url.clone(), octets("photo".into()), None).await;
        assert_eq!(status, 401);
        // Over the server's cap for a file: refused with the reason.
        let cap = plaza_host::manifest::MAX_MEDIA_FILE_BYTES as usize;
        let (status, answer) = call(
            "POST",
            url.clone(),
            octets("a".repeat(cap + 1)),
            Some(token.clone()),
        )
        .await;
        assert_eq!(
            (status, answer["error"]["kind"].as_str()),
            (413, Some("body-too-large")),
            "{answer}"
        );
        // Bytes go to that route alone.
        for path in [
            "/v1/prompts/p-1",
            "/v1/prompts/p-1/file/x",
            "/simulator/token",
        ] {
            let (status, answer) = call(
                "POST",
                format!("{base}{path}"),
                octets("photo".into()),
                Some(token.clone()),
            )
            .await;
            assert_eq!(
                (status, answer["error"]["kind"].as_str()),
                (415, Some("not-json")),
                "{path}: {answer}"
            );
        }
    }

    #[test]
    fn the_policy_allows_no_inline_script() {
        assert!(CSP.contains("default-src 'self'"));
        assert!(CSP.contains("script-src 'self';"));
        assert!(!CSP.contains("unsafe-inline") && !CSP.contains("unsafe-eval"));
        assert!(CSP.contains("img-src 'self' blob:;") && !CSP.contains("https:"));
        // `blob:` is for images alone.
        assert_eq!(CSP.matches("blob:").count(), 1);
    }
}
