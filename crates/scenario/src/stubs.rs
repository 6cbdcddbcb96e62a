//! HTTP stubs: a scenario's stand-ins for what its mini-apps reach over the
//! network (`[[stub]]` tables), so a mini-app is tested without its real
//! back-end.
//!
//! Each stub names a method and a URL (a `*` in the path matches any run of
//! characters; a query lists parameters the request must carry), optionally
//! what the request's body must contain, and the response. Once a scenario
//! stubs an origin, every request its mini-apps send there is answered by
//! the first stub that matches it, through the host's
//! [`Interceptor`] seam, after the gate has allowed it: a stub never widens
//! what a manifest allows, and a stub for an origin no installed manifest
//! declares is an error of the file. A request no stub matches gets a `502`
//! and fails the step it happened in, naming the request and why each stub
//! of its origin did not match. A step can check what its requests sent
//! (`sent = { stub = "...", contains = "..." }`), and a stub how many times
//! it was called over the scenario (`times = N`).

use crate::format::{PackageSpec, line_of};
use plaza_host::manifest::{Manifest, Origin};
use plaza_host::{InterceptedRequest, InterceptedResponse, Interceptor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// The status a request no stub matches is answered with.
pub const UNMATCHED_STATUS: u16 = 502;

/// One `[[stub]]`: which requests it answers, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Stub {
    /// Its name, for `sent = { stub = "..." }` and in reports.
    pub name: Option<String>,
    /// The method, in upper case.
    pub method: String,
    /// The URL as written.
    pub url: String,
    /// Its origin.
    pub origin: Origin,
    /// The path; `*` matches any run of characters.
    pub path: String,
    /// Query parameters the request must carry (decoded), in any order,
    /// among others.
    pub query: Vec<(String, String)>,
    /// Text the request's body must contain.
    pub match_body: Option<String>,
    /// JSON the request's body must include: every member of an object
    /// (recursively), or equal to anything else.
    pub match_json: Option<serde_json::Value>,
    /// The response's status.
    pub status: u16,
    /// The response's headers.
    pub headers: Vec<(String, String)>,
    /// The response's body.
    pub body: Vec<u8>,
    /// How many times it must be called over the scenario.
    pub times: Option<u64>,
    /// The line of its `[[stub]]` table.
    pub line: usize,
}

impl Stub {
    /// How it is named in reports: `"name" (POST http://host/path, line 12)`.
    pub fn describe(&self) -> String {
        let what = format!("{} {}, line {}", self.method, self.url, self.line);
        match &self.name {
            Some(n) => format!("{n:?} ({what})"),
            None => format!("({what})"),
        }
    }

    /// Why it does not answer `request`; `None` when it does.
    fn mismatch(&self, request: &InterceptedRequest) -> Option<&'static str> {
        if !self
            .origin
            .matches(&request.scheme, &request.host, request.port)
        {
            return Some("another origin");
        }
        if !self.method.eq_ignore_ascii_case(&request.method) {
            return Some("another method");
        }
        let (path, query) = match request.path_and_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (request.path_and_query.as_str(), ""),
        };
        if !glob(&self.path, path) {
            return Some("another path");
        }
        let sent = query_pairs(query);
        if !self.query.iter().all(|p| sent.contains(p)) {
            return Some("the query lacks a parameter");
        }
        let body = String::from_utf8_lossy(&request.body);
        if let Some(text) = &self.match_body
            && !body.contains(text.as_str())
        {
            return Some("the body does not contain `match-body`");
        }
        if let Some(want) = &self.match_json {
            match serde_json::from_slice::<serde_json::Value>(&request.body) {
                Ok(have) if includes(&have, want) => {}
                Ok(_) => return Some("the body's JSON does not include `match-json`"),
                Err(_) => return Some("the body is not JSON"),
            }
        }
        None
    }
}

/// Whether `have` includes `want`: every member of an object (recursively),
/// anything else equal.
pub fn includes(have: &serde_json::Value, want: &serde_json::Value) -> bool {
    match (have, want) {
        (serde_json::Value::Object(h), serde_json::Value::Object(w)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| includes(hv, v))),
        _ => have == want,
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of
/// characters.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// A query's `name=value` pairs, percent-decoded (`+` as a space).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(n), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- the file's tables ----

/// A `[[stub]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawStub {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    method: Option<String>,
    url: String,
    #[serde(default)]
    match_body: Option<String>,
    #[serde(default)]
    match_json: Option<serde_json::Value>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    json: Option<serde_json::Value>,
    #[serde(default)]
    times: Option<u64>,
}

/// Checks a `[[stub]]` table; `line` is its line in the file.
pub(crate) fn stub(raw: &RawStub, line: usize) -> Result<Stub, String> {
    let (origin_text, rest) = split_url(&raw.url)?;
    let origin = Origin::parse(origin_text).map_err(|e| format!("`url` {:?}: {e}", raw.url))?;
    if origin.wildcard {
        return Err(format!(
            "`url` {:?}: a stub names one host, not a wildcard `*.`",
            raw.url
        ));
    }
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    if path.contains('#') || query.contains('#') {
        return Err(format!("`url` {:?}: no fragment (`#`)", raw.url));
    }
    let path = if path.is_empty() { "/" } else { path };
    let method = raw.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "`method`: expected a method such as GET or POST, found {method:?}"
        ));
    }
    let status = raw.status.unwrap_or(200);
    if !(100..=599).contains(&status) {
        return Err(format!(
            "`status`: expected an HTTP status from 100 to 599, found {status}"
        ));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &raw.headers {
        if http_name_ok(name).is_err() || value.contains(['\r', '\n']) {
            return Err(format!("`headers.{name}`: not a valid header"));
        }
        headers.push((name.to_ascii_lowercase(), value.clone()));
    }
    let has_type = headers.iter().any(|(n, _)| n == "content-type");
    let body = match (&raw.body, &raw.json) {
        (Some(_), Some(_)) => {
            return Err("a stub answers `body` (text) or `json`, not both".into());
        }
        (Some(text), None) => {
            if !has_type {
                headers.push(("content-type".into(), "text/plain; charset=utf-8".into()));
            }
            text.as_bytes().to_vec()
        }
        (None, Some(json)) => {
            if !has_type {
                headers.push(("content-type".into(), "application/json".into()));
            }
            serde_json::to_vec(json).map_err(|e| format!("`json`: {e}"))?
        }
        (None, None) => Vec::new(),
    };
    Ok(Stub {
        name: raw.name.clone(),
        method,
        url: raw.url.clone(),
        origin,
        path: path.to_string(),
        query: query_pairs(query),
        match_body: raw.match_body.clone(),
        match_json: raw.match_json.clone(),
        status,
        headers,
        body,
        times: raw.times,
        line,
    })
}

fn http_name_ok(name: &str) -> Result<(), ()> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !name.is_empty() && name.bytes().all(token) {
        Ok(())
    } else {
        Err(())
    }
}

/// The scenario's `[[stub]]` tables, checked; the origin of each must be
/// one a package's manifest declares, when the packages can be read now
/// (the runner checks again when it installs them). An error is the byte
/// offset of the table and what is wrong.
pub(crate) fn stubs(
    raw: &[toml::Spanned<RawStub>],
    packages: &[PackageSpec],
    text: &str,
) -> Result<Vec<Stub>, (usize, String)> {
    let mut out = Vec::new();
    for r in raw {
        let at = r.span().start;
        out.push(stub(r.get_ref(), line_of(text, at)).map_err(|m| (at, m))?);
    }
    if out.is_empty() {
        return Ok(out);
    }
    let mut declared = Vec::new();
    for p in packages {
        match manifest_at(&p.path) {
            Some(m) => declared.extend(declared_origins(&m, &p.settings)),
            // The runner reports the package, and checks the stubs then.
            None => return Ok(out),
        }
    }
    for (s, r) in out.iter().zip(raw) {
        if let Some(why) = undeclared(s, &declared) {
            return Err((r.span().start, why));
        }
    }
    Ok(out)
}

/// `scheme://authority` and the rest (`/path?query`) of a URL.
fn split_url(url: &str) -> Result<(&str, &str), String> {
    let expected = || {
        format!("`url`: expected a URL such as \"https://api.example.gov.cn/path\", found {url:?}")
    };
    let (_, after) = url.split_once("://").ok_or_else(expected)?;
    let start = url.len() - after.len();
    let end = after.find(['/', '?']).map_or(url.len(), |i| start + i);
    if end == start {
        return Err(expected());
    }
    Ok((&url[..end], &url[end..]))
}

/// What a step expects a request of it to have sent: `sent = { stub =
/// "book", contains = "...", json = { ... } }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SentSpec {
    /// The stub that answered it (default: any request of the step).
    #[serde(default)]
    pub stub: Option<String>,
    /// Text its body contains.
    #[serde(default)]
    pub contains: Option<String>,
    /// JSON its body includes.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
}

impl std::fmt::Display for SentSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a request")?;
        if let Some(s) = &self.stub {
            write!(f, " answered by the stub {s:?}")?;
        }
        if let Some(c) = &self.contains {
            write!(f, " whose body contains {c:?}")?;
        }
        if let Some(j) = &self.json {
            write!(f, " whose body includes the JSON {j}")?;
        }
        Ok(())
    }
}

/// `sent = { ... }` or `sent = [{ ... }, ...]`.
#[derive(Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "a table such as { stub = \"book\", contains = \"...\" } or a list of them"
)]
pub(crate) enum OneOrManySent {
    One(SentSpec),
    Many(Vec<SentSpec>),
}

impl OneOrManySent {
    pub(crate) fn into_vec(self) -> Vec<SentSpec> {
        match self {
            OneOrManySent::One(s) => vec![s],
            OneOrManySent::Many(v) => v,
        }
    }
}

/// The origins a package's mini-app may call: its manifest's, and each
/// origin setting's value (the scenario's `settings`, else the default).
pub fn declared_origins(manifest: &Manifest, settings: &BTreeMap<String, String>) -> Vec<Origin> {
    let mut origins = manifest.origins().to_vec();
    for name in manifest.origin_settings() {
        let value = settings.get(name).cloned().or_else(|| {
            manifest
                .settings
                .iter()
                .find(|d| &d.name == name)
                .and_then(|d| d.default.clone())
        });
        if let Some(Ok(o)) = value.map(|v| Origin::parse(&v)) {
            origins.push(o);
        }
    }
    origins
}

/// The refusal of a stub whose origin none of `declared` allows.
pub fn undeclared(stub: &Stub, declared: &[Origin]) -> Option<String> {
    if declared.iter().any(|o| stub.origin.is_within(o)) {
        return None;
    }
    let list: Vec<String> = declared.iter().map(|o| o.to_string()).collect();
    Some(format!(
        "the stub {} is for `{}`, an origin no installed mini-app's manifest declares ({}): a stub answers only requests the manifest allows",
        stub.describe(),
        stub.origin,
        if list.is_empty() {
            "they declare none".to_string()
        } else {
            list.join(", ")
        }
    ))
}

/// The manifest of the package at `path` (a mini-app directory's
/// `plaza.toml`, or a `.plaza` file's), if it can be read now.
pub(crate) fn manifest_at(path: &Path) -> Option<Manifest> {
    if path.is_dir() {
        let text = std::fs::read_to_string(path.join("plaza.toml")).ok()?;
        Manifest::parse("plaza.toml", &text).ok()
    } else if path.is_file() {
        plaza_host::package::Package::read_file(path)
            .ok()
            .map(|p| p.manifest)
    } else {
        None
    }
}

// ---- answering ----

/// A request a mini-app sent to a stubbed origin.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET http://host/path?query`.
    pub what: String,
    /// The body, as text.
    pub body: String,
    /// The stub that answered it (its index), if one did.
    pub stub: Option<usize>,
}

#[derive(Default)]
struct Log {
    calls: Vec<u64>,
    requests: Vec<Recorded>,
    unmatched: Vec<String>,
}

/// A scenario's stubs, answering its mini-apps' requests to the stubbed
/// origins (the host's [`Interceptor`]) and keeping what they sent.
pub struct StubServer {
    stubs: Vec<Stub>,
    log: Mutex<Log>,
}

impl StubServer {
    /// Serves `stubs`.
    pub fn new(stubs: Vec<Stub>) -> StubServer {
        let log = Log {
            calls: vec![0; stubs.len()],
            ..Log::default()
        };
        StubServer {
            stubs,
            log: Mutex::new(log),
        }
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many requests reached the stubbed origins so far.
    pub fn request_count(&self) -> usize {
        self.log().requests.len()
    }

    /// The requests no stub matched since the last call, each with why
    /// each stub of its origin did not match.
    pub fn take_unmatched(&self) -> Vec<String> {
        std::mem::take(&mut self.log().unmatched)
    }

    /// Checks `spec` against the requests from the `from`th on; on
    /// failure, what they were.
    pub fn check_sent(&self, from: usize, spec: &SentSpec) -> Result<(), String> {
        let log = self.log();
        let made = log.requests.get(from..).unwrap_or_default();
        let by_stub = |r: &Recorded| match &spec.stub {
            None => true,
            Some(name) => r
                .stub
                .is_some_and(|i| self.stubs[i].name.as_deref() == Some(name.as_str())),
        };
        let body_ok = |r: &Recorded| {
            spec.contains.as_deref().is_none_or(|c| r.body.contains(c))
                && spec.json.as_ref().is_none_or(|want| {
                    serde_json::from_str::<serde_json::Value>(&r.body)
                        .is_ok_and(|have| includes(&have, want))
                })
        };
        if made.iter().any(|r| by_stub(r) && body_ok(r)) {
            return Ok(());
        }
        if made.is_empty() {
            return Err("the step sent no request to a stubbed origin".into());
        }
        let list: Vec<String> = made
            .iter()
            .map(|r| {
                let by = match r.stub {
                    Some(i) => self.stubs[i].describe(),
                    None => "no stub".into(),
                };
                let body: String = r.body.chars().take(300).collect();
                format!("{} answered by {by}, body {body:?}", r.what)
            })
            .collect();
        Err(format!("the step's requests: {}", list.join("; ")))
    }

    /// The stubs called another number of times than their `times` says.
    pub fn wrong_counts(&self) -> Vec<(&Stub, u64)> {
        let log = self.log();
        self.stubs
            .iter()
            .zip(&log.calls)
            .filter(|(s, n)| s.times.is_some_and(|t| t != **n))
            .map(|(s, n)| (s, *n))
            .collect()
    }
}

impl Interceptor for StubServer {
    fn intercepts(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.stubs
            .iter()
            .any(|s| s.origin.matches(scheme, host, port))
    }

    fn answer(&self, request: InterceptedRequest) -> InterceptedResponse {
        let what = format!("{} {}", request.method, request.url());
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let found = self
            .stubs
            .iter()
            .position(|s| s.mismatch(&request).is_none());
        let mut log = self.log();
        log.requests.push(Recorded {
            what: what.clone(),
            body,
            stub: found,
        });
        match found {
            Some(i) => {
                log.calls[i] += 1;
                let s = &self.stubs[i];
                InterceptedResponse {
                    status: s.status,
                    headers: s.headers.clone(),
                    body: s.body.clone(),
                }
            }
            None => {
                let why: Vec<String> = self
                    .stubs
                    .iter()
                    .filter_map(|s| {
                        let m = s.mismatch(&request)?;
                        (m != "another origin").then(|| format!("{}: {m}", s.describe()))
                    })
                    .collect();
                let message = format!(
                    "{what} matched none of the stubs of its origin: {}",
                    why.join("; ")
                );
                log.unmatched.push(message.clone());
                InterceptedResponse {
                    status: UNMATCHED_STATUS,
                    headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
                    body: format!("no stub of the scenario answers {what}").into_bytes(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(url: &str) -> RawStub {
        RawStub {
            name: None,
            method: None,
            url: url.into(),
            match_body: None,
            match_json: None,
            status: None,
            headers: BTreeMap::new(),
            body: None,
            json: None,
            times: None,
        }
    }

    fn request(method: &str, path_and_query: &str, body: &str) -> InterceptedRequest {
        InterceptedRequest {
            app: "a".into(),
            method: method.into(),
            scheme: "https".into(),
            host: "api.hz.gov.cn".into(),
            port: 443,
            path_and_query: path_and_query.into(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn paths_queries_and_bodies_match() {
        let s = stub(
            &raw("https://api.hz.gov.cn/hotels/*/rooms?city=Hang+zhou"),
            3,
        )
        .unwrap();
        assert_eq!(s.path, "/hotels/*/rooms");
        assert!(
            s.mismatch(&request("GET", "/hotels/h1/rooms?x=1&city=Hang%20zhou", ""))
                .is_none()
        );
        assert_eq!(
            s.mismatch(&request("GET", "/hotels/h1/rooms", "")),
            Some("the query lacks a parameter")
        );
        assert_eq!(
            s.mismatch(&request("POST", "/hotels/h1/rooms?city=Hang+zhou", "")),
            Some("another method")
        );
        assert_eq!(
            s.mismatch(&request("GET", "/hotels?city=Hang+zhou", "")),
            Some("another path")
        );
        let mut r = raw("https://api.hz.gov.cn/book");
        r.method = Some("post".into());
        r.match_json = Some(serde_json::json!({ "room": { "id": "r1" } }));
        let s = stub(&r, 1).unwrap();
        assert!(
            s.mismatch(&request(
                "POST",
                "/book",
                r#"{"room":{"id":"r1","beds":2},"n":1}"#
            ))
            .is_none()
        );
        assert_eq!(
            s.mismatch(&request("POST", "/book", r#"{"room":{"id":"r2"}}"#)),
            Some("the body's JSON does not include `match-json`")
        );
        assert_eq!(
            s.mismatch(&request("POST", "/book", "room=r1")),
            Some("the body is not JSON")
        );
    }

    #[test]
    fn bad_stubs_are_refused() {
        assert!(
            stub(&raw("api.hz.gov.cn/x"), 1)
                .unwrap_err()
                .contains("expected a URL")
        );
        assert!(
            stub(&raw("http://api.hz.gov.cn/x"), 1)
                .unwrap_err()
                .contains("plain HTTP")
        );
        assert!(
            stub(&raw("https://*.hz.gov.cn/x"), 1)
                .unwrap_err()
                .contains("wildcard")
        );
        let mut r = raw("https://api.hz.gov.cn/x");
        r.status = Some(42);
        assert!(stub(&r, 1).unwrap_err().contains("`status`"));
        let mut r = raw("https://api.hz.gov.cn/x");
        r.body = Some("a".into());
        r.json = Some(serde_json::json!(1));
        assert!(stub(&r, 1).unwrap_err().contains("not both"));
        let mut r = raw("https://api.hz.gov.cn");
        r.headers.insert("bad name".into(), "v".into());
        assert!(stub(&r, 1).unwrap_err().contains("not a valid header"));
        assert_eq!(stub(&raw("https://api.hz.gov.cn"), 1).unwrap().path, "/");
    }

    #[test]
    fn globs() {
        assert!(glob("/a/*", "/a/b/c"));
        assert!(glob("*", ""));
        assert!(glob("/a*b*c", "/aXbYc"));
        assert!(!glob("/a*b*c", "/aXc"));
        assert!(!glob("/ab*ba", "/aba"));
        assert_eq!(decode("a%2Fb+c%zz%4"), "a/b c%zz%4");
    }
}
