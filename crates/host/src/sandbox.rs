//! The sandbox of one session: limits on memory, tables, instances, CPU time
//! per event and output, and where the guest's standard output goes.

use crate::error::GuestFault;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The limits every session runs under. The defaults follow what WeChat and
/// Extism users expect; an embedding app may tighten or loosen them.
#[derive(Debug, Clone)]
pub struct SandboxLimits {
    /// Linear memory per session, in bytes (all memories of the instance
    /// together). Default 64 MiB.
    pub memory_bytes: u64,
    /// CPU time one event may take before the session is stopped. Default 1 s.
    pub cpu_deadline: Duration,
    /// How often the engine's epoch advances; the deadline's resolution.
    /// Default 10 ms.
    pub epoch_tick: Duration,
    /// How long an event runs before it first yields to the executor (rounded
    /// up to whole ticks, at least one); after that it yields at every tick.
    /// A yield sends the event to the back of the run queue, behind every
    /// busy guest, each of which runs up to a tick before yielding in turn:
    /// with a grace of two ticks, an event shorter than a tick never yields,
    /// so well-behaved events do not wait out their busy neighbours' turns
    /// (the `bad_neighbours` benchmark: p99 under 100 looping, allocating and
    /// flooding sessions went from ~55× the quiet host's to ~1×). Default
    /// 20 ms.
    pub yield_after: Duration,
    /// How many busy events (past their `yield_after` grace) run at once
    /// across the host, a tick at a time. The others wait for a lane off the
    /// executor's run queue, the one that has used the fewest ticks first,
    /// so short events keep the remaining worker threads however many guests
    /// loop. Default 1: leave at least one worker thread for short events.
    pub busy_lanes: usize,
    /// Wall-clock time one event may take, from the call into the guest to
    /// its answer, whatever it spends it on: running, waiting for a busy
    /// lane, sleeping, polling. The CPU deadline counts epoch ticks, and a
    /// blocking host call costs one tick however long it lasts; this cap
    /// bounds the rest. At the cap the instance is dropped and the session
    /// ends with [`GuestFault::WallClock`]. The time the host waits on the
    /// user (a consent, payment or subscription prompt, each with its own
    /// timeout) does not count. A mini-app that declares the network gets
    /// `http_timeout` more, so that an event waiting on a slow back-end ends
    /// with the request's own timeout first ([`SandboxLimits::wall_clock_for`]).
    /// Default 10 s: ten times the CPU deadline, so that a busy event that
    /// waits its turn on a crowded lane ends at its CPU deadline, not here.
    pub event_wall_clock: Duration,
    /// Wall-clock time a `hide` event may take (the session is ending:
    /// closed, evicted, uninstalled, the host shutting down), prompts
    /// included; at the cap the instance is dropped. Default 1 s.
    pub hide_deadline: Duration,
    /// Elements per table. Default 20,000.
    pub table_elements: u64,
    /// Core instances per session (one component's). The pool reserves this
    /// many per live session, and a component that needs more is refused at
    /// install (`Error::ComponentTooLarge`). Default 16: componentize-py
    /// makes 14, the Rust fixtures and samples 3.
    pub instances: usize,
    /// Tables per session, reserved and checked likewise. Default 8 (the
    /// Rust fixtures and samples define 2).
    pub tables: usize,
    /// Memories per session, reserved and checked likewise. Default 2 (the
    /// Rust fixtures and samples define 1; `memory_bytes` caps them all
    /// together).
    pub memories: usize,
    /// The wasm stack per session, in bytes. Default 512 KiB.
    pub wasm_stack_bytes: usize,
    /// The largest page a mini-app may answer, counting the bytes of its text
    /// plus 16 per block. Default 1 MiB (WeChat's cap on `setData`).
    pub page_bytes: usize,
    /// Bytes of standard output and error kept for the log per event; the rest
    /// is dropped. Default 64 KiB.
    pub output_bytes_per_event: usize,
    /// Live sessions the host keeps at once (the instance pool's size).
    /// Default 1,000.
    pub max_live_sessions: u32,
    /// Outbound HTTP requests one session may have in flight at once (from
    /// sending to the end, or the drop, of the response body). The next one
    /// fails at once with `limit-exceeded`; it does not wait. Default 10
    /// (WeChat's `wx.request` limit).
    pub http_in_flight: usize,
    /// How long one outbound request may take, from sending it to the last
    /// byte of its response; past it the guest gets `limit-exceeded`.
    /// Default 60 s (WeChat's default timeout).
    pub http_timeout: Duration,
    /// The largest request body a session may send, in bytes. Default 1 MiB.
    pub http_request_bytes: u64,
    /// The largest response body a session may receive, in bytes; a longer
    /// one is cut off with `limit-exceeded`. Default 10 MiB.
    pub http_response_bytes: u64,
    /// Host resources one session may hold at once: the entries of its
    /// resource table (`wasi:http` fields, requests, responses and bodies,
    /// streams, pollables, ...) and its component-model handles. Past it the
    /// host call traps and the session ends with
    /// [`GuestFault::ResourceLimit`]. Default 2,048 (a Rust mini-app holds a
    /// few dozen, ten requests in flight about a hundred).
    pub max_resources: usize,
    /// Bytes one set of `wasi:http` header fields may hold (names and values,
    /// plus Wasmtime's accounting of about 72 bytes a header): a guest's
    /// `fields` past it end the session with [`GuestFault::HttpFieldsLimit`];
    /// a response whose headers are larger fails with `limit-exceeded`.
    /// Together with `max_resources` it bounds the header bytes a session
    /// holds (`docs/security.md`). Default 16 KiB (servers refuse
    /// headers over 8 to 16 KiB).
    pub http_fields_bytes: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            memory_bytes: 64 * 1024 * 1024,
            cpu_deadline: Duration::from_secs(1),
            epoch_tick: Duration::from_millis(10),
            yield_after: Duration::from_millis(20),
            busy_lanes: 1,
            event_wall_clock: Duration::from_secs(10),
            hide_deadline: Duration::from_secs(1),
            table_elements: 20_000,
            instances: 16,
            tables: 8,
            memories: 2,
            wasm_stack_bytes: 512 * 1024,
            page_bytes: 1024 * 1024,
            output_bytes_per_event: 64 * 1024,
            max_live_sessions: 1_000,
            http_in_flight: 10,
            http_timeout: Duration::from_secs(60),
            http_request_bytes: 1024 * 1024,
            http_response_bytes: 10 * 1024 * 1024,
            max_resources: 2_048,
            http_fields_bytes: 16 * 1024,
        }
    }
}

impl SandboxLimits {
    /// The deadline in epoch ticks (at least one).
    pub fn deadline_ticks(&self) -> u64 {
        let tick = self.epoch_tick.as_micros().max(1);
        (self.cpu_deadline.as_micros().div_ceil(tick) as u64).max(1)
    }

    /// The wall-clock cap of one event of a mini-app that declares the
    /// network (`network`) or not: `event_wall_clock`, plus `http_timeout`
    /// for one that does.
    pub fn wall_clock_for(&self, network: bool) -> Duration {
        if network {
            self.event_wall_clock + self.http_timeout
        } else {
            self.event_wall_clock
        }
    }

    /// The ticks an event runs before it first yields (at least one).
    pub fn yield_after_ticks(&self) -> u64 {
        let tick = self.epoch_tick.as_micros().max(1);
        (self.yield_after.as_micros().div_ceil(tick) as u64).max(1)
    }
}

/// Enforces memory, table and instance caps for one session, and remembers
/// which cap a guest hit so the session ends with the right reason.
#[derive(Debug)]
pub(crate) struct SandboxLimiter {
    pub(crate) memory_bytes: u64,
    pub(crate) table_elements: u64,
    pub(crate) instances: usize,
    pub(crate) tables: usize,
    pub(crate) memories: usize,
    /// Bytes of linear memory across the instance's memories.
    memory_in_use: u64,
    pub(crate) hit: Option<GuestFault>,
}

impl SandboxLimiter {
    pub(crate) fn new(limits: &SandboxLimits) -> SandboxLimiter {
        SandboxLimiter {
            memory_bytes: limits.memory_bytes,
            table_elements: limits.table_elements,
            instances: limits.instances,
            tables: limits.tables,
            memories: limits.memories,
            memory_in_use: 0,
            hit: None,
        }
    }
}

/// The error a guest trips when it passes a cap; the session ends with the
/// fault recorded in the limiter.
#[derive(Debug)]
pub(crate) struct SandboxViolation(pub(crate) GuestFault);

impl std::fmt::Display for SandboxViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the mini-app {}", self.0)
    }
}

impl std::error::Error for SandboxViolation {}

impl wasmtime::ResourceLimiter for SandboxLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let after = self.memory_in_use - current as u64 + desired as u64;
        if after > self.memory_bytes {
            let fault = GuestFault::OutOfMemory {
                limit_bytes: self.memory_bytes,
            };
            self.hit = Some(fault.clone());
            return Err(wasmtime::Error::new(SandboxViolation(fault)));
        }
        self.memory_in_use = after;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The pool refused the growth although our cap allowed it: same
        // outcome for the guest, a session out of memory.
        let fault = GuestFault::OutOfMemory {
            limit_bytes: self.memory_bytes,
        };
        self.hit = Some(fault.clone());
        Err(error.context(SandboxViolation(fault)))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.table_elements {
            let fault = GuestFault::TableLimit {
                limit_elements: self.table_elements,
            };
            self.hit = Some(fault.clone());
            return Err(wasmtime::Error::new(SandboxViolation(fault)));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// Which standard stream a guest wrote to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Default)]
struct OutputBuf {
    bytes: Vec<u8>,
    dropped: usize,
}

/// Captures a guest's standard output or error, up to a cap per event; the
/// host drains it into its log after every event.
#[derive(Debug, Clone)]
pub(crate) struct OutputCapture {
    cap: usize,
    buf: Arc<Mutex<OutputBuf>>,
}

impl OutputCapture {
    pub(crate) fn new(cap: usize) -> OutputCapture {
        OutputCapture {
            cap,
            buf: Arc::new(Mutex::new(OutputBuf::default())),
        }
    }

    /// Takes what was written since the last drain, and how many bytes were
    /// dropped over the cap.
    pub(crate) fn drain(&self) -> (Vec<u8>, usize) {
        let mut b = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        let out = std::mem::take(&mut b.bytes);
        let dropped = std::mem::take(&mut b.dropped);
        (out, dropped)
    }
}

impl wasmtime_wasi::cli::IsTerminal for OutputCapture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for OutputCapture {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for OutputCapture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut b = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        let room = self.cap.saturating_sub(b.bytes.len());
        let take = room.min(data.len());
        b.bytes.extend_from_slice(&data[..take]);
        b.dropped += data.len() - take;
        // Accept everything: a chatty guest loses output, not its session.
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn memory_cap_counts_every_memory() {
        let mut l = SandboxLimiter::new(&SandboxLimits {
            memory_bytes: 100,
            ..SandboxLimits::default()
        });
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_growing(0, 40, None).unwrap());
        assert!(l.memory_growing(40, 41, None).is_err());
        assert_eq!(l.hit, Some(GuestFault::OutOfMemory { limit_bytes: 100 }));
    }

    #[test]
    fn deadline_ticks_round_up() {
        let l = SandboxLimits {
            cpu_deadline: Duration::from_millis(25),
            epoch_tick: Duration::from_millis(10),
            ..SandboxLimits::default()
        };
        assert_eq!(l.deadline_ticks(), 3);
    }

    #[test]
    fn the_first_yield_waits_for_its_grace() {
        let mut l = SandboxLimits {
            epoch_tick: Duration::from_millis(2),
            yield_after: Duration::from_millis(9),
            ..SandboxLimits::default()
        };
        assert_eq!(l.yield_after_ticks(), 5);
        l.yield_after = Duration::ZERO;
        assert_eq!(l.yield_after_ticks(), 1);
    }
}
