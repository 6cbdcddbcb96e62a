//! Outbound HTTP(S) to the origins your manifest lists
//! (`[capabilities.network] origins = ["https://api.example.gov.cn"]`).
//!
//! A thin client over the standard `wasi:http` outgoing handler (the
//! `wasip2` crate's bindings): any other `wasi:http` client works in a
//! mini-app too. The host refuses, before anything connects, a request to an
//! origin the manifest does not list ([`HostError::Denied`] naming the
//! origin), and one over the session's limits ([`HostError::LimitExceeded`]:
//! 10 requests in flight, a 60-second timeout, the body sizes); a server
//! that cannot be reached is [`HostError::Unavailable`].
//!
//! The host adds a `plaza-mini-app: <app id>/<version>` header to every
//! request (you cannot set it) and nothing of the user's: to know who the
//! user is, send a login code ([`crate::identity`]) to your backend.
//!
//! Redirects are not followed: a 3xx response comes back as it is. Follow
//! its `location` with a new request, which the host checks like any other.
//!
//! ```no_run
//! use plaza_sdk::http;
//!
//! match http::get("https://fines.police.hz.gov.cn/v1/violations?plate=ZB66871") {
//!     Ok(r) if r.status == 200 => { let _records = r.text(); }
//!     Ok(r) => { let _ = r.status; }
//!     Err(e) => { let _ = e.kind(); } // "denied", "limit-exceeded", "unavailable"
//! }
//! ```

use crate::HostError;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, FutureIncomingResponse, HeaderError, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use wasip2::io::streams::StreamError;

/// A request to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// `https://host[:port]/path?query`.
    pub url: String,
    /// Headers to send (the host's `plaza-mini-app` header is refused).
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

impl Request {
    /// A `GET` of `url`.
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            method: "GET".into(),
            url: url.into(),
            ..Request::default()
        }
    }

    /// A `POST` of `body` to `url`.
    pub fn post(url: impl Into<String>, body: impl Into<Vec<u8>>) -> Request {
        Request {
            method: "POST".into(),
            url: url.into(),
            body: body.into(),
            ..Request::default()
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A response, its body read whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of a header, as text.
    pub fn header(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| n.to_ascii_lowercase() == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, HostError> {
    send(&Request::get(url))
}

/// Sends a request and reads its response whole.
pub fn send(request: &Request) -> Result<Response, HostError> {
    send_all(std::slice::from_ref(request))
        .pop()
        .unwrap_or_else(|| Err(HostError::Unavailable("no response".into())))
}

/// Sends several requests at once (they are in flight together), then reads
/// each response in order.
pub fn send_all(requests: &[Request]) -> Vec<Result<Response, HostError>> {
    let started: Vec<Result<FutureIncomingResponse, HostError>> =
        requests.iter().map(start).collect();
    started.into_iter().map(|s| s.and_then(finish)).collect()
}

fn invalid(what: impl Into<String>) -> HostError {
    HostError::InvalidArgument(what.into())
}

/// Builds and hands a request to the host; writes its body.
fn start(request: &Request) -> Result<FutureIncomingResponse, HostError> {
    let (scheme, rest) = request.url.split_once("://").ok_or_else(|| {
        invalid(format!(
            "`{}` is not a URL (scheme://host/path)",
            request.url
        ))
    })?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    let headers = wasip2::http::types::Fields::new();
    for (name, value) in &request.headers {
        headers
            .append(name, value.as_bytes())
            .map_err(|e| match e {
                HeaderError::Forbidden => HostError::Denied(format!(
                    "the header `{name}` is the host's: a mini-app cannot set it"
                )),
                other => invalid(format!("the header `{name}`: {other:?}")),
            })?;
    }
    if !request.body.is_empty() {
        let _ = headers.set(
            "content-length",
            &[request.body.len().to_string().into_bytes()],
        );
    }
    let out = OutgoingRequest::new(headers);
    let method = match request.method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "HEAD" => Method::Head,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_string()),
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => Scheme::Other(other.to_string()),
    };
    out.set_method(&method)
        .map_err(|()| invalid(format!("the method `{}`", request.method)))?;
    out.set_scheme(Some(&scheme))
        .map_err(|()| invalid("the URL's scheme"))?;
    out.set_authority(Some(authority))
        .map_err(|()| invalid(format!("the host `{authority}`")))?;
    out.set_path_with_query(Some(&path))
        .map_err(|()| invalid(format!("the path `{path}`")))?;
    let body = out.body().map_err(|()| invalid("the request body"))?;
    let future = outgoing_handler::handle(out, None).map_err(error_code)?;
    if !request.body.is_empty() {
        let stream = body.write().map_err(|()| invalid("the request body"))?;
        for chunk in request.body.chunks(4096) {
            if let Err(e) = stream.blocking_write_and_flush(chunk) {
                drop(stream);
                // The host tells why on the response.
                let _ = e;
                return Ok(future);
            }
        }
        drop(stream);
    }
    let _ = OutgoingBody::finish(body, None);
    Ok(future)
}

/// Waits for a response and reads its body.
fn finish(future: FutureIncomingResponse) -> Result<Response, HostError> {
    let response = loop {
        match future.get() {
            Some(Ok(Ok(r))) => break r,
            Some(Ok(Err(code))) => return Err(error_code(code)),
            Some(Err(())) => return Err(HostError::Unavailable("the response was taken".into())),
            None => future.subscribe().block(),
        }
    };
    let status = response.status();
    let headers = response.headers().entries();
    let body = response
        .consume()
        .map_err(|()| HostError::Unavailable("the response body was taken".into()))?;
    let stream = body
        .stream()
        .map_err(|()| HostError::Unavailable("the response body was taken".into()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(match wasip2::http::types::http_error_code(&e) {
                    Some(code) => error_code(code),
                    None => plaza_error(&e.to_debug_string()),
                });
            }
        }
    }
    Ok(Response {
        status,
        headers,
        body: bytes,
    })
}

/// The host's refusals come as `internal-error` with a text that starts with
/// the kind (`denied: ...`, `limit-exceeded: ...`).
fn error_code(code: ErrorCode) -> HostError {
    match code {
        ErrorCode::InternalError(Some(text)) => plaza_error(&text),
        other => HostError::Unavailable(format!("{other:?}")),
    }
}

fn plaza_error(text: &str) -> HostError {
    for (kind, make) in [
        ("denied: ", HostError::Denied as fn(String) -> HostError),
        ("limit-exceeded: ", HostError::LimitExceeded),
    ] {
        if let Some(i) = text.find(kind) {
            let rest = &text[i + kind.len()..];
            let line = rest.lines().next().unwrap_or(rest).trim();
            return make(line.to_string());
        }
    }
    HostError::Unavailable(text.lines().next().unwrap_or(text).trim().to_string())
}
