//! # plaza-agency-backend
//!
//! A small agency backend for the `city-services` sample mini-app: the
//! traffic police's violation records and the utilities' bills, over plain
//! HTTP on loopback (the sample declares `http://localhost:47180`, which a
//! host allows only in developer mode). `scripts/demo.sh` runs it there
//! (`plaza-agency-backend`); the scenario runner and the tests start one on
//! an ephemeral port ([`shared`]) and have the host send the sample's origin
//! there.
//!
//! The records are derived deterministically from the plate or account
//! number, so the same number always shows the same fines and bills. Every
//! answer is UTF-8 text, one record a line, fields separated by tabs:
//!
//! | request | answer |
//! |---|---|
//! | `GET /health` | `plaza-agency-backend` |
//! | `GET /violations?plate=ZB66871` | `number \t offence \t fine (fen) \t points \t place \t date`, a line each |
//! | `GET /bill?utility=water&account=12345678&period=202610` | `holder \t usage \t unit price (fen) \t amount (fen)` |
//! | `GET /hotels?lat=30.2741&lon=120.1551&limit=5` | JSON: the travel agency's hotels near the point, nearest first (the `hotel-finder` sample; see [`hotels`]) |
//!
//! It is also the sample institutions' own server ([`offices`]): the
//! hospital, the bank and the city register bookings, cards and lottery
//! entries with it (`POST /hospital/bookings` and the like, `name=value`
//! lines with the user's login code), and their back offices send the
//! reminders, refund the deposits of a cancelled clinic and announce the
//! lottery through the host's publisher API ([`Backend::start_with`]; the
//! binary's `--plaza-url` or `--store`).
//!
//! Like an agency's server would, it answers only callers that name the
//! mini-app (the host's `plaza-mini-app` header); without it, `403`. A
//! backend started with an API key ([`Backend::start_with_key`]; the binary
//! takes it from `AGENCY_API_KEY`) also wants `authorization: Bearer KEY`,
//! the key the sample reads from its secret setting `agency-api-key`;
//! without it, or with another, `401`.
//!
//! ```no_run
//! let backend = plaza_agency_backend::Backend::start("127.0.0.1:0").unwrap();
//! println!("serving on {}", backend.addr());
//! ```

pub mod hotels;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;

pub mod offices;
pub use offices::{ActionReport, HttpApi, InProcessApi, OfficeError, Offices, PublisherApi};

/// Where the demo and the scenarios run the backend.
pub const DEFAULT_ADDR: &str = "127.0.0.1:47180";
/// The origin the `city-services` sample declares and calls.
pub const ORIGIN: &str = "http://localhost:47180";
/// The host name of [`ORIGIN`].
pub const HOST: &str = "localhost";
/// The port of [`ORIGIN`] (and of [`DEFAULT_ADDR`]).
pub const PORT: u16 = 47180;
/// What `GET /health` answers.
pub const HEALTH: &str = "plaza-agency-backend";
/// The header naming the calling mini-app (set by the Plaza host).
pub const CALLER_HEADER: &str = "plaza-mini-app";
/// The environment variable the binary reads its API key from.
pub const API_KEY_ENV: &str = "AGENCY_API_KEY";

/// A running backend: serves on its own thread until dropped.
#[derive(Debug)]
pub struct Backend {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Backend {
    /// Binds `addr` (`127.0.0.1:0` for any free port) and serves on a thread
    /// of its own.
    pub fn start(addr: &str) -> std::io::Result<Backend> {
        Backend::start_with_key(addr, None)
    }

    /// [`Backend::start`], answering only requests that carry
    /// `authorization: Bearer API_KEY` when `api_key` is given.
    pub fn start_with_key(addr: &str, api_key: Option<String>) -> std::io::Result<Backend> {
        Backend::start_with(addr, api_key, None)
    }

    /// [`Backend::start_with_key`], with the institutions' back offices:
    /// the samples register bookings, cards and lottery entries with them
    /// (`POST /hospital/bookings` and the like), and the operator runs their
    /// actions (`POST /offices/<office>/<action>`, from loopback only).
    pub fn start_with(
        addr: &str,
        api_key: Option<String>,
        offices: Option<Arc<Offices>>,
    ) -> std::io::Result<Backend> {
        let api_key: Option<Arc<str>> = api_key.map(Into::into);
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let counter = requests.clone();
        let thread = std::thread::Builder::new()
            .name("agency-backend".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("agency backend: no runtime: {e}");
                        return;
                    }
                };
                rt.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = serve_offices(listener, counter, api_key, offices) => {}
                        _ = stopped => {}
                    }
                });
            })?;
        Ok(Backend {
            addr,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many requests it has answered.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The backend of this process, on an ephemeral loopback port, started at
/// the first call: for a host that sends the sample's origin there
/// (`NetworkConfig::resolve_to("localhost", 47180, addr)`), so that test runs
/// and scenario runs never contend for the fixed port.
pub fn shared() -> std::io::Result<SocketAddr> {
    static SHARED: std::sync::Mutex<Option<Backend>> = std::sync::Mutex::new(None);
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(b) = shared.as_ref() {
        return Ok(b.addr());
    }
    let b = Backend::start("127.0.0.1:0")?;
    let addr = b.addr();
    *shared = Some(b);
    Ok(addr)
}

/// Serves HTTP/1.1 on `listener` until the future is dropped; counts
/// requests in `requests`; wants `api_key` as a bearer token if given.
pub async fn serve(listener: TcpListener, requests: Arc<AtomicU64>, api_key: Option<Arc<str>>) {
    serve_offices(listener, requests, api_key, None).await;
}

/// [`serve`], with the back offices' routes when `offices` is given.
pub async fn serve_offices(
    listener: TcpListener,
    requests: Arc<AtomicU64>,
    api_key: Option<Arc<str>>,
    offices: Option<Arc<Offices>>,
) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let requests = requests.clone();
        let api_key = api_key.clone();
        let offices = offices.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                requests.fetch_add(1, Ordering::Relaxed);
                let api_key = api_key.clone();
                let offices = offices.clone();
                async move {
                    let answer = if req.method() == hyper::Method::POST {
                        office_answer(req, peer, api_key.as_deref(), offices).await
                    } else {
                        answer(&req, api_key.as_deref())
                    };
                    Ok::<_, std::convert::Infallible>(answer)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The largest registration or action body, in bytes.
const MAX_BODY: usize = 16 * 1024;

/// The answer to a POST: a mini-app's registration with its back office
/// (`/hospital/bookings`, `/hospital/cancellations`, `/bank/reminders`,
/// `/city/lottery`: a named caller, with the API key if one is set), or an
/// operator's action (`/offices/<office>/<action>`, loopback only, run at
/// this machine's time). Bodies are `name=value` lines.
async fn office_answer(
    req: Request<Incoming>,
    peer: SocketAddr,
    api_key: Option<&str>,
    offices: Option<Arc<Offices>>,
) -> Response<Full<Bytes>> {
    use http_body_util::BodyExt;
    let path = req.uri().path().to_string();
    let operator = path.starts_with("/offices/");
    if operator {
        if !peer.ip().is_loopback() {
            return text(
                StatusCode::FORBIDDEN,
                "the back offices' actions are run from this machine only\n".into(),
            );
        }
    } else if let Err(refusal) = check_caller(&req, api_key) {
        return refusal;
    }
    let Some(offices) = offices else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "this agency backend runs no back offices (start it with --plaza-url and --secret)\n"
                .into(),
        );
    };
    let body = match http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is at most {MAX_BODY} bytes of `name=value` lines\n"),
            );
        }
    };
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return text(StatusCode::BAD_REQUEST, "the body is UTF-8 text\n".into());
    };
    let fields = offices::parse_fields(&body);
    let outcome = tokio::task::spawn_blocking(move || {
        let mut parts = path.trim_start_matches('/').splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("offices"), Some(office), Some(action)) => {
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                offices
                    .run(office, action, &fields, now_ms)
                    .map(|r| format!("{r}\n"))
            }
            (Some(office), Some(kind), None) => offices
                .register(office, kind, &fields)
                .map(|r| format!("{r}\n")),
            _ => Err(OfficeError::NoSuchOffice("no such record".into())),
        }
    })
    .await;
    match outcome {
        Ok(Ok(said)) => text(StatusCode::OK, said),
        Ok(Err(e)) => {
            let status = match &e {
                OfficeError::Invalid(_) => StatusCode::BAD_REQUEST,
                OfficeError::NotFound(_) | OfficeError::Refused(_) => StatusCode::FORBIDDEN,
                OfficeError::NoSuchOffice(_) => StatusCode::NOT_FOUND,
                OfficeError::SignIn(_) | OfficeError::Host(_) => StatusCode::BAD_GATEWAY,
            };
            text(status, format!("{e}\n"))
        }
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn query(req: &Request<Incoming>) -> HashMap<String, String> {
    req.uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Refuses a request that does not name the calling mini-app, or lacks the
/// API key when one is set.
fn check_caller<B>(req: &Request<B>, api_key: Option<&str>) -> Result<(), Response<Full<Bytes>>> {
    if !req.headers().contains_key(CALLER_HEADER) {
        return Err(text(
            StatusCode::FORBIDDEN,
            format!("who is calling? requests must name the mini-app ({CALLER_HEADER})\n"),
        ));
    }
    if let Some(key) = api_key {
        let given = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // The key is never echoed back.
        if given != Some(key) {
            return Err(text(
                StatusCode::UNAUTHORIZED,
                "this service wants the agency's API key (authorization: Bearer KEY)\n".into(),
            ));
        }
    }
    Ok(())
}

/// The answer to one request, wanting `api_key` as a bearer token if given.
pub fn answer(req: &Request<Incoming>, api_key: Option<&str>) -> Response<Full<Bytes>> {
    if req.method() != hyper::Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and POST\n".into());
    }
    if let Err(refusal) = check_caller(req, api_key) {
        return refusal;
    }
    let q = query(req);
    match req.uri().path() {
        "/health" => text(StatusCode::OK, format!("{HEALTH}\n")),
        "/violations" => match q.get("plate").and_then(|p| records::normalise_plate(p)) {
            Some(plate) => text(
                StatusCode::OK,
                records::violations(&plate)
                    .iter()
                    .map(|v| {
                        format!(
                            "{}\t{}\t{}\t{}\t{}\t{}\n",
                            v.number,
                            v.offence.what,
                            v.offence.fine_fen,
                            v.offence.points,
                            v.place,
                            v.date
                        )
                    })
                    .collect(),
            ),
            None => text(
                StatusCode::BAD_REQUEST,
                "plate=<5 to 10 letters and digits>\n".into(),
            ),
        },
        "/bill" => {
            let utility = q.get("utility").and_then(|u| records::utility(u));
            let account = q.get("account").filter(|a| records::valid_account(a));
            let period = q
                .get("period")
                .filter(|p| p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit()));
            match (utility, account, period) {
                (Some(u), Some(a), Some(_)) => {
                    let b = records::bill(u, a);
                    text(
                        StatusCode::OK,
                        format!(
                            "{}\t{}\t{}\t{}\n",
                            b.holder, b.usage, u.unit_price_fen, b.amount_fen
                        ),
                    )
                }
                _ => text(
                    StatusCode::BAD_REQUEST,
                    "utility=water|electricity|gas&account=<8 to 12 digits>&period=YYYYMM\n".into(),
                ),
            }
        }
        "/hotels" => {
            let lat = hotels::coordinate(q.get("lat"), 90.0);
            let lon = hotels::coordinate(q.get("lon"), 180.0);
            let limit = match q.get("limit") {
                None => Some(hotels::MAX_LIMIT),
                Some(l) => l.parse::<usize>().ok().filter(|l| *l >= 1),
            };
            match (lat, lon, limit) {
                (Some(lat), Some(lon), Some(limit)) => {
                    let mut r = text(
                        StatusCode::OK,
                        hotels::to_json(&hotels::near(lat, lon, limit)),
                    );
                    r.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    r
                }
                _ => text(
                    StatusCode::BAD_REQUEST,
                    "lat=<-90 to 90>&lon=<-180 to 180>[&limit=<1 to 10>]\n".into(),
                ),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "no such record\n".into()),
    }
}

/// The records, derived from the number asked for.
pub mod records {
    /// A stable hash of a number typed in: FNV-1a, then MurmurHash3's
    /// finaliser, so that every bit depends on every character.
    pub fn hash(text: &str) -> u64 {
        let h = text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        let h = (h ^ (h >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    /// A plate as the police write it: upper case, without spaces, dots or
    /// dashes; `None` unless it is 5 to 10 letters and digits.
    pub fn normalise_plate(text: &str) -> Option<String> {
        let plate: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '·' | '-' | '.'))
            .flat_map(char::to_uppercase)
            .collect();
        let n = plate.chars().count();
        ((5..=10).contains(&n) && plate.chars().all(|c| c.is_ascii_alphanumeric())).then_some(plate)
    }

    /// One kind of traffic offence.
    #[derive(Debug)]
    pub struct Offence {
        /// What the driver did.
        pub what: &'static str,
        /// The fine, in fen.
        pub fine_fen: u64,
        /// Penalty points.
        pub points: u8,
    }

    const OFFENCES: [Offence; 5] = [
        Offence {
            what: "Speeding, 20 to 50 % over the limit",
            fine_fen: 20_000,
            points: 6,
        },
        Offence {
            what: "Running a red light",
            fine_fen: 20_000,
            points: 6,
        },
        Offence {
            what: "Parking where it is forbidden",
            fine_fen: 15_000,
            points: 0,
        },
        Offence {
            what: "Not giving way to pedestrians at a crossing",
            fine_fen: 20_000,
            points: 3,
        },
        Offence {
            what: "Using a phone while driving",
            fine_fen: 10_000,
            points: 3,
        },
    ];

    const PLACES: [&str; 4] = [
        "Tianmushan Rd / Xueyuan Rd",
        "Yan'an Rd near Wulin Square",
        "Qiantang River Bridge",
        "Wensan Rd, Xihu District",
    ];

    /// One traffic violation recorded against a plate.
    #[derive(Debug)]
    pub struct Violation {
        /// The decision number, such as `F4821930`.
        pub number: String,
        /// The offence.
        pub offence: &'static Offence,
        /// Where.
        pub place: &'static str,
        /// The day it was recorded, such as `2026-10-14`.
        pub date: String,
    }

    /// The violations recorded against `plate` (normalised): as many as the
    /// plate's last character modulo 3, so a plate ending in 0, 3, 6 or 9 is
    /// clean.
    pub fn violations(plate: &str) -> Vec<Violation> {
        let last = plate.chars().last().map_or(0, |c| c as u32);
        let count = u64::from(last % 3);
        (0..count)
            .map(|i| {
                let h = hash(&format!("{plate}:{i}"));
                Violation {
                    number: format!("F{:07}", h % 10_000_000),
                    offence: &OFFENCES[(h % 5) as usize],
                    place: PLACES[(h / 5 % 4) as usize],
                    date: format!("2026-10-{:02}", 1 + h / 20 % 28),
                }
            })
            .collect()
    }

    /// A utility's tariff.
    #[derive(Debug)]
    pub struct Utility {
        /// `water`, `electricity` or `gas`.
        pub id: &'static str,
        /// The price of one unit, in fen.
        pub unit_price_fen: u64,
        /// The least and the spread of a month's use, in units.
        pub base: u64,
        /// See `base`.
        pub spread: u64,
    }

    const UTILITIES: [Utility; 3] = [
        Utility {
            id: "water",
            unit_price_fen: 350,
            base: 6,
            spread: 20,
        },
        Utility {
            id: "electricity",
            unit_price_fen: 55,
            base: 120,
            spread: 300,
        },
        Utility {
            id: "gas",
            unit_price_fen: 300,
            base: 8,
            spread: 30,
        },
    ];

    /// A utility by id.
    pub fn utility(id: &str) -> Option<&'static Utility> {
        UTILITIES.iter().find(|u| u.id == id)
    }

    /// Account numbers are 8 to 12 digits.
    pub fn valid_account(account: &str) -> bool {
        (8..=12).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_digit())
    }

    const SURNAMES: [&str; 6] = ["Wang", "Li", "Zhang", "Liu", "Chen", "Zhou"];

    /// A month's bill of an account.
    #[derive(Debug)]
    pub struct Bill {
        /// The household, partly masked, such as `Wang *`.
        pub holder: String,
        /// Units used.
        pub usage: u64,
        /// What it costs, in fen.
        pub amount_fen: u64,
    }

    /// The bill of `account` (the same every month in this sample).
    pub fn bill(utility: &Utility, account: &str) -> Bill {
        let h = hash(&format!("{}:{account}", utility.id));
        let usage = utility.base + h % utility.spread;
        Bill {
            holder: format!("{} *", SURNAMES[(h / 7 % 6) as usize]),
            usage,
            amount_fen: usage * utility.unit_price_fen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, path: &str, caller: bool) -> String {
        let caller = if caller {
            format!("{CALLER_HEADER}: cn.gov.hz.city/0.1.0\r\n")
        } else {
            String::new()
        };
        send(addr, path, &caller)
    }

    /// A named caller's GET with more header lines.
    fn get_with(addr: SocketAddr, path: &str, headers: &str) -> String {
        send(
            addr,
            path,
            &format!("{CALLER_HEADER}: cn.gov.hz.city/0.1.0\r\n{headers}"),
        )
    }

    fn send(addr: SocketAddr, path: &str, headers: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn answers_records_to_named_callers_only() {
        let b = Backend::start("127.0.0.1:0").unwrap();
        let v = get(b.addr(), "/violations?plate=ZB66871", true);
        assert!(v.starts_with("HTTP/1.1 200"), "{v}");
        assert!(
            v.contains("F3508959\tUsing a phone while driving\t10000\t3\tWensan Rd, Xihu District\t2026-10-04"),
            "{v}"
        );
        let clean = get(b.addr(), "/violations?plate=ZA12340", true);
        assert!(
            clean.ends_with("\r\n\r\n") || clean.contains("content-length: 0"),
            "{clean}"
        );
        let bill = get(
            b.addr(),
            "/bill?utility=water&account=12345678&period=202610",
            true,
        );
        assert!(bill.starts_with("HTTP/1.1 200"), "{bill}");
        let anonymous = get(b.addr(), "/violations?plate=ZB66871", false);
        assert!(anonymous.starts_with("HTTP/1.1 403"), "{anonymous}");
        assert_eq!(b.requests(), 4);
    }

    fn post(addr: SocketAddr, path: &str, headers: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn registrations_and_actions_are_refused_with_a_reason() {
        let caller = format!("{CALLER_HEADER}: cn.hz.maternity/0.1.0\r\n");
        // A back-end without back offices says so.
        let plain = Backend::start("127.0.0.1:0").unwrap();
        let r = post(plain.addr(), "/hospital/bookings", &caller, "code=c\n");
        assert!(r.starts_with("HTTP/1.1 503"), "{r}");
        assert!(r.contains("runs no back offices"), "{r}");

        let offices = Arc::new(Offices::new(480));
        let b = Backend::start_with("127.0.0.1:0", None, Some(offices)).unwrap();
        // A caller that does not name the mini-app.
        let r = post(b.addr(), "/hospital/bookings", "", "code=c\n");
        assert!(r.starts_with("HTTP/1.1 403"), "{r}");
        // An office whose mini-app is not connected, an unknown office.
        let r = post(
            b.addr(),
            "/hospital/bookings",
            &caller,
            "code=c\nnumber=B1\n",
        );
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        assert!(r.contains("connect cn.hz.maternity"), "{r}");
        let r = post(b.addr(), "/offices/zoo/feed", "", "");
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        assert!(r.contains("no back office `zoo`"), "{r}");
        // A body over the limit.
        let big = "x".repeat(MAX_BODY + 1);
        let r = post(b.addr(), "/bank/reminders", &caller, &big);
        assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    }

    #[test]
    fn answers_hotels_near_a_point_as_json_and_refuses_bad_coordinates() {
        let b = Backend::start("127.0.0.1:0").unwrap();
        let near = get(b.addr(), "/hotels?lat=30.2741&lon=120.1551&limit=2", true);
        assert!(near.starts_with("HTTP/1.1 200"), "{near}");
        assert!(near.contains("content-type: application/json"), "{near}");
        let body = near.split("\r\n\r\n").nth(1).unwrap();
        assert!(
            body.starts_with(
                "{\"hotels\":[{\"id\":\"wulin-garden\",\"name\":\"Wulin Garden Hotel\""
            ),
            "{body}"
        );
        assert_eq!(body.matches("\"id\":").count(), 2, "{body}");
        for bad in [
            "/hotels?lat=91&lon=120",
            "/hotels?lat=30&lon=abc",
            "/hotels?lat=30&lon=120&limit=0",
        ] {
            let r = get(b.addr(), bad, true);
            assert!(r.starts_with("HTTP/1.1 400"), "{bad}: {r}");
        }
        let far = get(b.addr(), "/hotels?lat=39.9&lon=116.4", true);
        assert!(far.ends_with("{\"hotels\":[]}\n"), "{far}");
    }

    #[test]
    fn a_backend_with_a_key_answers_only_requests_that_carry_it() {
        let b = Backend::start_with_key("127.0.0.1:0", Some("k-1".into())).unwrap();
        let without = get(b.addr(), "/health", true);
        assert!(without.starts_with("HTTP/1.1 401"), "{without}");
        assert!(!without.contains("k-1"), "{without}");
        let with = get_with(b.addr(), "/health", "authorization: Bearer k-1\r\n");
        assert!(with.starts_with("HTTP/1.1 200"), "{with}");
        let wrong = get_with(b.addr(), "/health", "authorization: Bearer k-2\r\n");
        assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    }
}
