//! Expects WASI to be linked with nothing behind it: no directories, environment, arguments, input, sockets or name lookup, but working random numbers and wall clock.
//!
//! On any event it answers the page "WASI probe" with one field per probe, in
//! this order: label the probe's name, value `ok: <what it got>` or
//! `err: <the error>`:
//!
//! `read-dir /`, `read-dir .`, `open /etc/passwd`, `create file /tmp/x`,
//! `env`, `args`, `stdin`, `tcp connect 127.0.0.1`, `tcp connect [::1]`,
//! `udp bind 0.0.0.0:0`, `dns lookup localhost`, `tcp listen 127.0.0.1:0`,
//! `random`, `wall clock`.
//!
//! The TCP probes connect to the port given as `?port=N` at launch (80 by
//! default), so a test can listen there and prove the refusal is the
//! sandbox's, not an empty port's.
//!
//! `env` and `args` answer `ok: <count> <names>` even when empty ("ok: 0"), so
//! the test asserts the count; `stdin` answers `ok: <n> bytes`.

use plaza_sdk::{App, Event, Page};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Read;
use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Default)]
struct WasiProbe;

/// A probe: what it got, or the error.
type Probe = Box<dyn Fn() -> Result<String, String>>;

impl App for WasiProbe {
    fn handle(&mut self, event: Event) -> Page {
        let port: u16 = event
            .query_param("port")
            .and_then(|p| p.parse().ok())
            .unwrap_or(80);
        let probes: Vec<(&str, Probe)> = vec![
            ("read-dir /", Box::new(|| read_dir("/"))),
            ("read-dir .", Box::new(|| read_dir("."))),
            ("open /etc/passwd", Box::new(|| {
                std::fs::read("/etc/passwd")
                    .map(|bytes| format!("{} bytes", bytes.len()))
                    .map_err(|e| e.to_string())
            })),
            ("create file /tmp/x", Box::new(|| {
                std::fs::write("/tmp/x", b"x")
                    .map(|()| "written".to_string())
                    .map_err(|e| e.to_string())
            })),
            ("env", Box::new(|| {
                let names: Vec<String> = std::env::vars_os()
                    .map(|(name, _)| name.to_string_lossy().into_owned())
                    .collect();
                Ok(format!("{} {}", names.len(), names.join(" "))
                    .trim_end()
                    .to_string())
            })),
            ("args", Box::new(|| {
                let args: Vec<String> = std::env::args_os()
                    .map(|arg| arg.to_string_lossy().into_owned())
                    .collect();
                Ok(format!("{} {}", args.len(), args.join(" "))
                    .trim_end()
                    .to_string())
            })),
            ("stdin", Box::new(|| {
                let mut input = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut input)
                    .map(|n| format!("{n} bytes"))
                    .map_err(|e| e.to_string())
            })),
            ("tcp connect 127.0.0.1", Box::new(move || tcp_connect(&format!("127.0.0.1:{port}")))),
            ("tcp connect [::1]", Box::new(move || tcp_connect(&format!("[::1]:{port}")))),
            ("udp bind 0.0.0.0:0", Box::new(|| {
                UdpSocket::bind("0.0.0.0:0")
                    .and_then(|socket| socket.local_addr())
                    .map(|addr| format!("bound {addr}"))
                    .map_err(|e| e.to_string())
            })),
            ("dns lookup localhost", Box::new(|| {
                "localhost:443"
                    .to_socket_addrs()
                    .map(|addrs| format!("{} addresses", addrs.count()))
                    .map_err(|e| e.to_string())
            })),
            ("tcp listen 127.0.0.1:0", Box::new(|| {
                TcpListener::bind("127.0.0.1:0")
                    .and_then(|listener| listener.local_addr())
                    .map(|addr| format!("listening on {addr}"))
                    .map_err(|e| e.to_string())
            })),
            ("random", Box::new(|| {
                // std seeds its hash keys from WASI's random source (and traps
                // if that fails), so getting a hash at all proves it works.
                let hash = RandomState::new().hash_one(1u8);
                Ok(format!("hashed with random keys: {hash:016x}"))
            })),
            ("wall clock", Box::new(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|since| format!("{} ms since the epoch", since.as_millis()))
                    .map_err(|e| e.to_string())
            })),
        ];

        let mut page = Page::builder("WASI probe").replace();
        for (name, probe) in probes {
            let value = match probe() {
                Ok(what) => format!("ok: {what}"),
                Err(error) => format!("err: {error}"),
            };
            page = page.field(name, value);
        }
        page.build()
    }
}

fn read_dir(path: &str) -> Result<String, String> {
    let entries = std::fs::read_dir(path).map_err(|e| e.to_string())?;
    Ok(format!("{} entries", entries.count()))
}

fn tcp_connect(addr: &str) -> Result<String, String> {
    TcpStream::connect(addr)
        .map(|stream| format!("connected to {:?}", stream.peer_addr()))
        .map_err(|e| e.to_string())
}

plaza_sdk::export_app!(WasiProbe);
