//! Network: outbound HTTP(S) to the origins a mini-app's manifest lists, and
//! nothing else.
//!
//! Mini-apps use the standard `wasi:http` outgoing handler (Wasmtime's
//! `wasmtime-wasi-http`), so any language's HTTP client for components works
//! unchanged. Plaza sends every request itself, in the
//! [`WasiHttpHooks::send_request`] hook of the session, and decides before
//! anything connects:
//!
//! 1. the [gate](crate::gate::Gate::check_request): the manifest declares the
//!    network and lists a matching origin (scheme, host, port; `*.` for
//!    subdomains), the policy allows the network for the publisher, and plain
//!    HTTP or an IP address only to loopback in developer mode. Every
//!    allowed request is audited, and each distinct refusal once per event
//!    (method and origin, never a path or a body);
//! 2. the session's limits ([`SandboxLimits`](crate::sandbox::SandboxLimits)):
//!    requests in flight (the next one fails at once, it does not wait), a
//!    declared request body over the cap;
//! 3. where the name leads: a name that resolves to a loopback, private or
//!    link-local address is refused in production (a DNS answer cannot turn
//!    an allowed origin into a way into the host's own network), unless the
//!    embedding app allows private destinations or maps the name itself
//!    ([`NetworkConfig::resolve`](crate::services::network::NetworkConfig::resolve)).
//!
//! An embedding app (the scenario runner of `plaza test`) may answer the
//! requests to some origins itself, in place of the network
//! ([`NetworkConfig::interceptor`](crate::services::network::NetworkConfig::interceptor)):
//! only after the gate and the limits allowed them, so a stand-in never
//! widens what a manifest allows.
//!
//! The host then sets the `plaza-mini-app: <app id>/<version>` header (a
//! mini-app cannot set, override or remove it: `wasi:http` refuses it as a
//! forbidden header, and the host replaces whatever reaches it), and adds
//! nothing else: no cookie, no authorization, nothing of the user's. A
//! mini-app that wants the user's identity sends a login code from the
//! identity capability to its own backend.
//!
//! The host does not follow redirects: a 3xx response reaches the guest as
//! it is, and a client library that follows it sends a new request, checked
//! like the first one. So a redirect reaches only allowed origins.
//!
//! What the guest gets when the host refuses: `wasi:http`'s
//! `error-code.internal-error` with a text that starts with Plaza's error
//! kind, `denied: ...` (naming the origin) or `limit-exceeded: ...` (naming
//! the limit). `wasi:http`'s own `http-request-denied` carries no text, and a
//! mini-app author needs to know which origin to declare. A response body
//! over the cap, or one still arriving at the timeout, ends with the same
//! `limit-exceeded` error on the body's stream.

use crate::gate::{Auditor, DenialCause, RequestTarget};
use crate::sandbox::SandboxLimits;
use crate::services::network::{
    ConnectError, InterceptedRequest, Interceptor, Network, Unreachable,
};
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody,
    WasiHttpHooks,
};

/// The header naming the mini-app and its version (`cn.gov.hz.city/1.2.0`)
/// on every request, set by the host; a mini-app cannot set or override it.
pub const IDENTITY_HEADER: &str = "plaza-mini-app";

/// The largest write into an outgoing body (WASI's own blocking writes are
/// at most 4,096 bytes).
pub(crate) const OUTGOING_BODY_CHUNK_BYTES: usize = 8 * 1024;

/// One session's network: its identity for the gate, and its requests in
/// flight. The `wasi:http` hooks of the session's store.
pub(crate) struct SessionNetwork {
    auditor: Auditor,
    network: Arc<Network>,
    limits: Arc<SandboxLimits>,
    in_flight: Arc<Semaphore>,
}

impl SessionNetwork {
    /// The network of one session: its way through the gate, the host's
    /// network, and the session's limits.
    pub(crate) fn new(
        auditor: Auditor,
        network: Arc<Network>,
        limits: Arc<SandboxLimits>,
    ) -> SessionNetwork {
        let permits = limits.http_in_flight.min(Semaphore::MAX_PERMITS);
        let in_flight = Arc::new(Semaphore::new(permits));
        SessionNetwork {
            auditor,
            network,
            limits,
            in_flight,
        }
    }
}

fn forbidden(name: &HeaderName) -> bool {
    name.as_str() == IDENTITY_HEADER || DEFAULT_FORBIDDEN_HEADERS.contains(name)
}

type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
>;

impl WasiHttpHooks for SessionNetwork {
    fn is_forbidden_header(&mut self, name: &HeaderName) -> bool {
        forbidden(name)
    }

    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        Arc::new(forbidden)
    }

    // An outgoing body buffers up to two writes the request has not sent
    // yet: a write at most this large (Wasmtime's default is 1 MiB) bounds
    // what each body the guest holds keeps in the host (`docs/security.md`).
    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        OUTGOING_BODY_CHUNK_BYTES
    }

    // Every scheme reaches `send_request`, where the gate refuses (and
    // audits) anything but https and, in developer mode, http.
    fn is_supported_scheme(&mut self, _scheme: &http::uri::Scheme) -> bool {
        true
    }

    // A certificate the host does not trust is told apart from other TLS
    // failures, so a mini-app author knows to fix the certificate.
    fn p2_error_from_tls(&mut self, err: &std::io::Error) -> ErrorCode {
        let bad_certificate = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)));
        if bad_certificate {
            ErrorCode::TlsCertificateError
        } else {
            ErrorCode::TlsProtocolError
        }
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        // Everything is decided here, before the future that connects exists.
        match self.prepare(request) {
            Ok(outbound) => Box::new(outbound.send()),
            Err(e) => Box::new(async move { Err(e) }),
        }
    }
}

/// A refusal of the gate, as the guest gets it.
fn denied(why: &str) -> HttpError {
    HttpError::InternalError(Some(format!("denied: {why}")))
}

/// A request the gate could not decide because the store failed, as the
/// guest gets it.
fn unavailable(why: &str) -> HttpError {
    HttpError::InternalError(Some(format!("unavailable: {why}")))
}

/// A limit, as the guest gets it.
fn limit_exceeded(why: &str) -> HttpError {
    HttpError::InternalError(Some(format!("limit-exceeded: {why}")))
}

/// What an allowed request needs to be sent, and to audit what happens to it.
struct Outbound {
    request: http::Request<WasiBody>,
    audit: AuditTrail,
    scheme: String,
    host: String,
    port: u16,
    permit: OwnedSemaphorePermit,
    request_overflow: Arc<AtomicBool>,
}

/// Writes what happens to a request after the gate's decision (a limit hit,
/// a destination refused) to the audit log.
#[derive(Clone)]
struct AuditTrail {
    auditor: Auditor,
    network: Arc<Network>,
    limits: Arc<SandboxLimits>,
    /// `GET https://host:port`.
    what: String,
}

impl AuditTrail {
    fn denied(&self, detail: &str) {
        self.auditor
            .refuse_once_per_event("network", &format!("{}: {detail}", self.what));
    }

    fn limit(&self, why: &str) -> HttpError {
        self.denied(&format!("limit-exceeded: {why}"));
        limit_exceeded(why)
    }
}

impl SessionNetwork {
    fn prepare(&mut self, mut request: http::Request<WasiBody>) -> Result<Outbound, HttpError> {
        let uri = request.uri().clone();
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let Some(authority) = uri.authority() else {
            return Err(denied("the request names no host"));
        };
        let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
        let port = authority.port_u16().unwrap_or(match scheme.as_str() {
            "http" => 80,
            _ => 443,
        });
        let method = request.method().as_str().to_string();
        let target = RequestTarget {
            method: &method,
            scheme: &scheme,
            host: &host,
            port,
        };
        self.auditor
            .check_request(&target, self.network.developer_mode)
            .map_err(|d| match d.cause {
                DenialCause::Refused => denied(&d.reason),
                DenialCause::StoreFailed => unavailable(&d.reason),
            })?;
        let audit = AuditTrail {
            auditor: self.auditor.clone(),
            network: self.network.clone(),
            limits: self.limits.clone(),
            what: format!("{method} {}", target.origin_text()),
        };
        let limits = &self.limits;
        let declared_length = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(len) = declared_length
            && len > limits.http_request_bytes
        {
            return Err(audit.limit(&format!(
                "the request body is {len} bytes; the most a session may send is {}",
                limits.http_request_bytes
            )));
        }
        let permit = self.in_flight.clone().try_acquire_owned().map_err(|_| {
            audit.limit(&format!(
                "{} requests are in flight already, the most a session may have: this one was not sent; send it again when one has finished",
                limits.http_in_flight
            ))
        })?;
        // The host's header, whatever the guest managed to put there.
        let app = &self.auditor.subject().manifest.app;
        let identity = HeaderValue::from_str(&format!("{}/{}", app.id, app.version))
            .map_err(|e| HttpError::InternalError(Some(format!("identity header: {e}"))))?;
        let headers = request.headers_mut();
        headers.remove(IDENTITY_HEADER);
        headers.insert(HeaderName::from_static(IDENTITY_HEADER), identity);
        // Only the path goes on the wire (no proxy in between).
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        *request.uri_mut() = http::Uri::try_from(path)
            .map_err(|e| HttpError::InternalError(Some(format!("request path: {e}"))))?;
        let request_overflow = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| {
            CappedRequestBody {
                inner: body,
                left: limits.http_request_bytes,
                overflow: request_overflow.clone(),
            }
            .boxed_unsync()
        });
        Ok(Outbound {
            request,
            audit,
            scheme,
            host,
            port,
            permit,
            request_overflow,
        })
    }
}

impl Outbound {
    async fn send(self) -> SendResult {
        let limits = self.audit.limits.clone();
        let now = tokio::time::Instant::now();
        // A timeout too large to add is no timeout (a year is plenty).
        let deadline = now
            .checked_add(limits.http_timeout)
            .unwrap_or(now + std::time::Duration::from_secs(365 * 24 * 3600));
        let audit = self.audit.clone();
        let overflow = self.request_overflow.clone();
        let exchange = tokio::time::timeout_at(deadline, self.exchange(deadline)).await;
        match exchange {
            Ok(Ok(sent)) => Ok(sent),
            Ok(Err(e)) => {
                if overflow.load(Ordering::Acquire) {
                    return Err(audit.limit(&format!(
                        "the request body is longer than {} bytes, the most a session may send",
                        limits.http_request_bytes
                    )));
                }
                Err(e)
            }
            Err(_) => Err(audit.limit(&format!(
                "no complete answer within {} ms, the most a request may take",
                limits.http_timeout.as_millis()
            ))),
        }
    }

    async fn exchange(self, deadline: tokio::time::Instant) -> SendResult {
        let Outbound {
            request,
            audit,
            scheme,
            host,
            port,
            permit,
            ..
        } = self;
        if let Some(interceptor) = audit.network.interceptor.clone()
            && interceptor.intercepts(&scheme, &host, port)
        {
            return intercepted(&*interceptor, request, audit, scheme, host, port).await;
        }
        let io = match audit.network.connect(&scheme, &host, port).await {
            Ok(io) => io,
            Err(ConnectError::Unreachable(Unreachable::Refused(why))) => {
                audit.denied(&why);
                return Err(denied(&why));
            }
            Err(ConnectError::Unreachable(Unreachable::Dns(message))) => {
                return Err(HttpError::DnsError {
                    rcode: Some(message),
                    info_code: None,
                });
            }
            Err(ConnectError::Connect(e)) => return Err(HttpError::Connect(e)),
            Err(ConnectError::Name(e)) => return Err(HttpError::InvalidDnsNameError(e)),
            Err(ConnectError::Tls(e)) => return Err(HttpError::Tls(e)),
        };
        // The read buffer bounds a response's head and each frame of its
        // body that a guest's stream holds.
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .max_buf_size(audit.limits.http_fields_bytes.max(8192))
            .handshake(wasmtime_wasi_http::io::TokioIo::new(io))
            .await
            .map_err(HttpError::Hyper)?;
        let conn = AbortOnDrop(tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("outbound connection: {e}");
            }
        }));
        let response = sender
            .send_request(request)
            .await
            .map_err(HttpError::Hyper)?;
        let cap = audit.limits.http_response_bytes;
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(len) = declared
            && len > cap
        {
            return Err(audit.limit(&format!(
                "the response body is {len} bytes; the most a session may receive is {cap}"
            )));
        }
        let head_bytes = header_bytes(response.headers());
        if head_bytes > audit.limits.http_fields_bytes {
            return Err(audit.limit(&format!(
                "the response's headers take {head_bytes} bytes; the most a set of header fields may hold is {}",
                audit.limits.http_fields_bytes
            )));
        }
        let timeout = audit.limits.http_timeout;
        let response = response.map(|incoming| {
            LimitedResponseBody {
                inner: incoming,
                seen: 0,
                cap,
                deadline: Box::pin(tokio::time::sleep_until(deadline)),
                timeout_ms: timeout.as_millis() as u64,
                done: false,
                permit: Some(permit),
                _conn: conn,
                audit,
            }
            .boxed_unsync()
        });
        Ok((
            response,
            Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
        ))
    }
}

/// The interceptor's answer to an allowed request
/// ([`NetworkConfig::interceptor`](crate::services::network::NetworkConfig::interceptor)):
/// the body read within the session's cap, the answer held to the
/// response's caps like one from the network.
async fn intercepted(
    interceptor: &dyn Interceptor,
    request: http::Request<WasiBody>,
    audit: AuditTrail,
    scheme: String,
    host: String,
    port: u16,
) -> SendResult {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let answer = interceptor.answer(InterceptedRequest {
        app: audit.auditor.subject().manifest.app.id.clone(),
        method: parts.method.as_str().to_string(),
        scheme,
        host,
        port,
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string(),
        headers,
        body: body.to_vec(),
    });
    let cap = audit.limits.http_response_bytes;
    if answer.body.len() as u64 > cap {
        return Err(audit.limit(&format!(
            "the response body is {} bytes; the most a session may receive is {cap}",
            answer.body.len()
        )));
    }
    let bad = |e: String| HttpError::InternalError(Some(format!("the stand-in answer: {e}")));
    let mut response = http::Response::builder()
        .status(answer.status)
        .body(())
        .map_err(|e| bad(e.to_string()))?;
    for (name, value) in &answer.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let value = HeaderValue::from_str(value).map_err(|e| bad(e.to_string()))?;
        response.headers_mut().append(name, value);
    }
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(answer.body.len() as u64));
    let head_bytes = header_bytes(response.headers());
    if head_bytes > audit.limits.http_fields_bytes {
        return Err(audit.limit(&format!(
            "the response's headers take {head_bytes} bytes; the most a set of header fields may hold is {}",
            audit.limits.http_fields_bytes
        )));
    }
    let body = http_body_util::Full::new(Bytes::from(answer.body))
        .map_err(|never| match never {})
        .boxed_unsync();
    Ok((
        response.map(|()| body),
        Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
    ))
}

/// The bytes a set of headers holds, counted as `wasmtime-wasi-http`
/// counts a guest's `fields` against its cap.
fn header_bytes(headers: &http::HeaderMap) -> usize {
    let names: usize = headers
        .keys()
        .map(|k| k.as_str().len() + size_of::<HeaderName>())
        .sum();
    let values: usize = headers
        .values()
        .map(|v| v.len() + size_of::<HeaderValue>())
        .sum();
    names + values
}

/// Aborts the connection's task when the response is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The guest's request body, cut off past the session's cap.
struct CappedRequestBody {
    inner: WasiBody,
    left: u64,
    overflow: Arc<AtomicBool>,
}

impl Body for CappedRequestBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    if n > this.left {
                        this.overflow.store(true, Ordering::Release);
                        return Poll::Ready(Some(Err(HttpError::HttpRequestBodySize(None))));
                    }
                    this.left -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body as the guest reads it: cut off past the session's cap or
/// at the request's deadline; it holds the request's place among those in
/// flight until it ends or is dropped.
struct LimitedResponseBody {
    inner: hyper::body::Incoming,
    seen: u64,
    cap: u64,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout_ms: u64,
    done: bool,
    permit: Option<OwnedSemaphorePermit>,
    _conn: AbortOnDrop,
    audit: AuditTrail,
}

impl Body for LimitedResponseBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen += data.len() as u64;
                    if this.seen > this.cap {
                        this.done = true;
                        this.permit = None;
                        return Poll::Ready(Some(Err(this.audit.limit(&format!(
                            "the response body is longer than {} bytes, the most a session may receive: it was cut off there",
                            this.cap
                        )))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                this.permit = None;
                Poll::Ready(Some(Err(HttpError::Hyper(e))))
            }
            Poll::Ready(None) => {
                this.done = true;
                this.permit = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.done = true;
                    this.permit = None;
                    return Poll::Ready(Some(Err(this.audit.limit(&format!(
                        "the response did not end within {} ms, the most a request may take",
                        this.timeout_ms
                    )))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_header_is_forbidden_to_guests() {
        assert!(forbidden(&HeaderName::from_static(IDENTITY_HEADER)));
        assert!(forbidden(&http::header::HOST));
        assert!(!forbidden(&http::header::AUTHORIZATION));
    }
}
