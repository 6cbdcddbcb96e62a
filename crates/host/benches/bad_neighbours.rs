//! Load with bad neighbours (issue 7): the event latency of well-behaved
//! sessions on their own, then with hostile sessions beside them, as a ratio.
//!
//! One host (default sandbox limits: 1 s CPU deadline per event on a 10 ms
//! epoch tick, first yield after 20 ms, 64 MiB of memory per session; the
//! pool sized for every session) on a SQLite store in a temporary directory
//! runs two phases of the
//! same well-behaved workload on a multi-thread tokio runtime:
//!
//! 1. **baseline**: 900 well-behaved sessions, nobody else;
//! 2. **bad neighbours**: the same 900, plus 100 hostile sessions that
//!    attack for the whole phase, each starting again as soon as its last
//!    attack ended, in six kinds: `spin` (loops until the CPU deadline ends
//!    the session), `alloc` (touches memory until the cap ends the session),
//!    `print` (100 KiB of standard output per event; the session goes on),
//!    all of the `misbehave` fixture; `sleep` (`misbehave` spins 60 ms, past
//!    its grace, then sleeps 2 s in a blocking WASI call; it gets its page),
//!    `slow` (the `http-probe` fixture calls a back-end on loopback that
//!    answers after 1 s; it gets the answer) and `leak` (`http-probe` makes
//!    `wasi:http` fields, 500 of 15,000 bytes an event, until the resource
//!    cap ends the session).
//!
//! A well-behaved session is a user who thinks between events (uniformly
//! 0.5–1.5 × the think time, 1 s by default) and visits a mini-app again and
//! again: half of them `kv-notes` (launch, save a note, read the clock,
//! delete the note: storage writes and reads at every event), half the
//! `hospital` sample (launch, a department, a doctor with the free slots,
//! the user's bookings). An event's latency runs from sending it to getting
//! its page. Only events sent in the measured window count; it opens once
//! every well-behaved session has finished a first visit, so the stampede of
//! first launches (instantiation, each capability's first-use audit, written
//! with an fsync) is left out of the steady state. Every page is
//! checked (title, notices, fields): a well-behaved event that fails or
//! answers the wrong page is an error, and any error makes the run exit
//! non-zero. Hostile attacks are checked too: each must end the way the
//! sandbox promises (deadline, memory cap, output dropped), or that is an
//! error as well.
//!
//! The table gives, per phase, the well-behaved events' percentiles, their
//! p50 and p99 counted from when each event was due (the end of the user's
//! think time: adds how late a busy runtime woke the user's task, as it
//! would notice a request from the network late), the process's CPU use and
//! the machine's load average (other work on a shared machine competes for
//! the same cores), then the ratios and what the hostile sessions did.
//!
//! ```text
//! RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 cargo bench -p plaza-host --bench bad_neighbours
//! ... --bench bad_neighbours -- --quick            # a smoke run: 90 + 10 sessions, 3 s
//! ... --bench bad_neighbours -- --json             # the figures as JSON on stdout too
//! ... --bench bad_neighbours -- --sessions 450 --hostile 50 --secs 30 --warmup 5 \
//!         --think-ms 1000 --workers 2 --event-interval 61 --deadline-ms 1000 --tick-ms 10 \
//!         --yield-after-ms 20 \
//!         --mix spin,alloc,print,sleep,slow,leak \
//!         --apps kv-notes,hospital
//! ```
//!
//! Run as a test (`cargo test --benches`, no `--bench` argument) it does the
//! quick run. `RUST_LIB_BACKTRACE=0` matters: this machine sets
//! `RUST_BACKTRACE=1`, and a library that captures a backtrace per error
//! (every hostile attack ends in one) would walk the stack each time.
//!
//! A harness of its own rather than criterion: the figures are percentiles of
//! many concurrent events under a fixed load, not the time of one routine
//! repeated.

use plaza_host::sandbox::SandboxLimits;
use plaza_host::{Block, Error, GuestFault, Host, HostConfig, NoticeLevel, Page, Session};
use plaza_test_programs::{Fixture, HOSPITAL, HTTP_PROBE, KV_NOTES, MISBEHAVE};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const KV_APP: &str = "test.plaza.kv-notes";
const HOSPITAL_APP: &str = "cn.hz.maternity";
const MISBEHAVE_APP: &str = "test.plaza.misbehave";
const PROBE_APP: &str = "test.plaza.http-probe";
/// How long the slow back-end takes to answer.
const BACKEND_DELAY: Duration = Duration::from_secs(1);

/// What to run; see the module documentation for the flags.
#[derive(Debug, Clone)]
struct Options {
    /// Well-behaved sessions.
    sessions: usize,
    /// Hostile sessions in the second phase.
    hostile: usize,
    /// Measured time per phase.
    secs: f64,
    /// Time per phase before measuring starts (the sessions' first launches).
    warmup: f64,
    /// Mean think time between a well-behaved user's events.
    think_ms: u64,
    /// Tokio worker threads.
    workers: usize,
    /// Tokio's `event_interval`: scheduler ticks between checks of the timer
    /// and I/O driver when a worker is never idle (tokio's default: 61).
    event_interval: Option<u32>,
    /// The CPU deadline per event.
    deadline_ms: u64,
    /// The epoch tick.
    tick_ms: u64,
    /// How long an event runs before it first yields.
    yield_after_ms: u64,
    /// The attacks hostile sessions make, dealt round robin.
    mix: Vec<Attack>,
    /// The mini-apps of the well-behaved sessions, dealt round robin.
    apps: Vec<&'static str>,
    /// Print the figures as JSON too.
    json: bool,
    /// List this many of the slowest well-behaved events of each phase (when
    /// each was sent, what it was), to tell a stall of everything from a slow
    /// kind of event.
    slowest: usize,
    /// The label of the run in the report.
    mode: &'static str,
}

impl Options {
    fn full() -> Options {
        Options {
            sessions: 900,
            hostile: 100,
            secs: 20.0,
            warmup: 5.0,
            think_ms: 1000,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            event_interval: None,
            deadline_ms: SandboxLimits::default().cpu_deadline.as_millis() as u64,
            tick_ms: SandboxLimits::default().epoch_tick.as_millis() as u64,
            yield_after_ms: SandboxLimits::default().yield_after.as_millis() as u64,
            mix: vec![
                Attack::Spin,
                Attack::Alloc,
                Attack::Print,
                Attack::Sleep,
                Attack::Slow,
                Attack::Leak,
            ],
            apps: vec![KV_APP, HOSPITAL_APP],
            json: false,
            slowest: 0,
            mode: "full",
        }
    }

    fn quick(self) -> Options {
        Options {
            sessions: 90,
            hostile: 10,
            secs: 3.0,
            warmup: 1.0,
            mode: "quick",
            ..self
        }
    }

    /// Reads the command line. `cargo bench` passes `--bench`; without it
    /// (`cargo test --benches`) the run is quick, as criterion's test mode.
    fn parse() -> Result<Options, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut o = Options::full();
        if !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--quick") {
            o = o.quick();
        }
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            let number = |name: &str, v: String| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .ok_or_else(|| format!("{name}: `{v}` is not a number"))
            };
            match arg.as_str() {
                "--bench" | "--quick" => {}
                "--json" => o.json = true,
                "--slowest" => o.slowest = number(arg, value(arg)?)? as usize,
                "--sessions" => o.sessions = number(arg, value(arg)?)? as usize,
                "--hostile" => o.hostile = number(arg, value(arg)?)? as usize,
                "--secs" => o.secs = number(arg, value(arg)?)?,
                "--warmup" => o.warmup = number(arg, value(arg)?)?,
                "--think-ms" => o.think_ms = number(arg, value(arg)?)? as u64,
                "--workers" => o.workers = (number(arg, value(arg)?)? as usize).max(1),
                "--event-interval" => {
                    o.event_interval = Some((number(arg, value(arg)?)? as u32).max(1))
                }
                "--deadline-ms" => o.deadline_ms = (number(arg, value(arg)?)? as u64).max(1),
                "--tick-ms" => o.tick_ms = (number(arg, value(arg)?)? as u64).max(1),
                "--yield-after-ms" => o.yield_after_ms = number(arg, value(arg)?)? as u64,
                "--mix" => {
                    o.mix = value(arg)?
                        .split(',')
                        .map(Attack::parse)
                        .collect::<Result<_, _>>()?;
                    if o.mix.is_empty() {
                        return Err("--mix needs at least one attack".into());
                    }
                }
                "--apps" => {
                    o.apps = value(arg)?
                        .split(',')
                        .map(|a| match a.trim() {
                            "kv-notes" => Ok(KV_APP),
                            "hospital" => Ok(HOSPITAL_APP),
                            other => Err(format!("unknown app `{other}` (kv-notes, hospital)")),
                        })
                        .collect::<Result<_, _>>()?;
                    if o.apps.is_empty() {
                        return Err("--apps needs at least one mini-app".into());
                    }
                }
                // Filters and flags the test harness passes (`cargo test
                // --benches -- name`) mean nothing here.
                other if !other.starts_with("--") => {}
                other => return Err(format!("unknown option {other}")),
            }
        }
        if o.secs <= 0.0 || o.sessions == 0 {
            return Err("--secs and --sessions must be above zero".into());
        }
        Ok(o)
    }
}

/// What a hostile session does, again and again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attack {
    /// Loops without host calls until the CPU deadline ends the session.
    Spin,
    /// Touches memory until the cap ends the session.
    Alloc,
    /// Writes 100 KiB to standard output; the host keeps 64 KiB and goes on.
    Print,
    /// Recurses until the wasm stack overflows.
    Recurse,
    /// Spins past its grace, then sleeps in a blocking WASI call; served.
    Sleep,
    /// Calls a back-end that takes its time to answer; served.
    Slow,
    /// Makes `wasi:http` fields until the resource cap ends the session.
    Leak,
}

impl Attack {
    fn parse(s: &str) -> Result<Attack, String> {
        match s.trim() {
            "spin" => Ok(Attack::Spin),
            "alloc" => Ok(Attack::Alloc),
            "print" => Ok(Attack::Print),
            "recurse" => Ok(Attack::Recurse),
            "sleep" => Ok(Attack::Sleep),
            "slow" => Ok(Attack::Slow),
            "leak" => Ok(Attack::Leak),
            other => Err(format!(
                "unknown attack `{other}` (spin, alloc, print, recurse, sleep, slow, leak)"
            )),
        }
    }

    fn action(self) -> &'static str {
        match self {
            Attack::Spin => "spin",
            Attack::Alloc => "alloc",
            Attack::Print => "print",
            Attack::Recurse => "recurse",
            Attack::Sleep => "sleep",
            Attack::Slow => "slow",
            Attack::Leak => "leak",
        }
    }

    /// The mini-app it attacks from.
    fn app(self) -> &'static str {
        match self {
            Attack::Slow | Attack::Leak => PROBE_APP,
            _ => MISBEHAVE_APP,
        }
    }

    /// How the sandbox answered this attack.
    fn ending(self, result: &plaza_host::Result<Page>) -> Ending {
        match (self, result) {
            (Attack::Print | Attack::Sleep, Ok(page)) if page.title == "Misbehave" => {
                Ending::AsPromised
            }
            (Attack::Slow, Ok(page)) if field(page, "request 1") == Some("ok 200 2 bytes") => {
                Ending::AsPromised
            }
            (_, Err(Error::SessionEnded { app, fault, .. })) if app == self.app() => {
                match (self, fault) {
                    (Attack::Spin, GuestFault::Deadline { .. })
                    | (Attack::Alloc, GuestFault::OutOfMemory { .. })
                    | (Attack::Leak, GuestFault::ResourceLimit { .. })
                    | (Attack::Recurse, GuestFault::StackOverflow) => Ending::AsPromised,
                    (Attack::Print, GuestFault::Deadline { .. }) => Ending::Deadline,
                    // Waiting its turn on crowded busy lanes counts against
                    // the wall clock: ended, nothing escaped.
                    (
                        Attack::Spin | Attack::Alloc | Attack::Print | Attack::Recurse,
                        GuestFault::WallClock { .. },
                    ) => Ending::Deadline,
                    _ => Ending::Other,
                }
            }
            _ => Ending::Other,
        }
    }
}

/// How a hostile attack ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// As the sandbox promises: a loop at the deadline, a bomb at the memory
    /// cap, a flood with its output cut and the session going on.
    AsPromised,
    /// A flood ended at the CPU deadline (the deadline counts epoch ticks in
    /// which the event was resumed, so an event that waits often, 1,600
    /// writes to standard output, on a busy host is charged for its waiting
    /// too), or a loop, bomb or flood ended at the wall-clock cap (waiting
    /// its turn on crowded busy lanes counts against the wall clock).
    /// Reported, not a failure: the session was ended, nothing escaped.
    Deadline,
    /// Anything else: a failure of containment.
    Other,
}

/// A small deterministic generator (splitmix64) for think times, so runs are
/// repeatable without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
}

/// The value of the first field with this label.
fn field<'p>(page: &'p Page, label: &str) -> Option<&'p str> {
    page.blocks.iter().find_map(|b| match b {
        Block::Field(f) if f.label == label => Some(f.value.as_str()),
        _ => None,
    })
}

fn has_notice(page: &Page, level: NoticeLevel, text: &str) -> bool {
    page.blocks
        .iter()
        .any(|b| matches!(b, Block::Notice(n) if n.level == level && n.text == text))
}

/// Checks a page: `Err` says what is wrong with it.
type Check = Box<dyn Fn(&Page) -> Result<(), String> + Send + Sync>;

/// One well-behaved event and the check of its page.
struct Step {
    send: Action,
    check: Check,
}

/// What a step sends.
enum Action {
    Launch(String),
    Tap(String),
    Submit(&'static str, Vec<(&'static str, String)>),
}

impl Action {
    fn describe(&self) -> String {
        match self {
            Action::Launch(path) => format!("launch {path}"),
            Action::Tap(action) => format!("tap {action}"),
            Action::Submit(form, _) => format!("submit {form}"),
        }
    }
}

fn expect_title(title: &'static str) -> Check {
    Box::new(move |p: &Page| {
        if p.title == title {
            Ok(())
        } else {
            Err(format!("expected the page `{title}`, got `{}`", p.title))
        }
    })
}

/// The events of one visit of a well-behaved user (the `n`th), with the page
/// each must answer.
fn visit(app: &str, user: &str, n: u64) -> Vec<Step> {
    if app == KV_APP {
        let key = format!("note-{n}");
        let value = format!("{user} was here, visit {n}");
        let saved = {
            let (key, value) = (key.clone(), value.clone());
            Box::new(move |p: &Page| {
                let ok = p.title == "Notes"
                    && has_notice(p, NoticeLevel::Success, &format!("Saved {key}"))
                    && field(p, &key) == Some(value.as_str());
                ok.then_some(())
                    .ok_or_else(|| format!("note {key} not saved: {}", render(p)))
            })
        };
        let deleted = {
            let key = key.clone();
            Box::new(move |p: &Page| {
                let ok = p.title == "Notes"
                    && has_notice(p, NoticeLevel::Success, &format!("Deleted {key}"))
                    && field(p, &key).is_none();
                ok.then_some(())
                    .ok_or_else(|| format!("note {key} not deleted: {}", render(p)))
            })
        };
        vec![
            Step {
                send: Action::Launch("/".into()),
                check: Box::new(|p: &Page| {
                    (p.title == "Notes" && field(p, "Used").is_some())
                        .then_some(())
                        .ok_or_else(|| format!("not the notes home: {}", render(p)))
                }),
            },
            Step {
                send: Action::Submit("put", vec![("key", key.clone()), ("value", value)]),
                check: saved,
            },
            Step {
                send: Action::Tap("now".into()),
                check: Box::new(|p: &Page| {
                    (p.title == "Notes"
                        && field(p, "Now").is_some_and(|v| v.parse::<i64>().is_ok()))
                    .then_some(())
                    .ok_or_else(|| format!("no clock: {}", render(p)))
                }),
            },
            Step {
                send: Action::Tap(format!("del:{key}")),
                check: deleted,
            },
        ]
    } else {
        vec![
            Step {
                send: Action::Launch("/".into()),
                check: expect_title("Hangzhou Maternity Hospital"),
            },
            Step {
                send: Action::Tap("dept:obstetrics".into()),
                check: expect_title("Obstetrics"),
            },
            Step {
                send: Action::Tap("doctor:chen-li".into()),
                check: Box::new(|p: &Page| {
                    (p.title == "Dr. Chen Li" && field(p, "Fee") == Some("CNY 50.00"))
                        .then_some(())
                        .ok_or_else(|| format!("not the doctor's page: {}", render(p)))
                }),
            },
            Step {
                send: Action::Launch("/bookings".into()),
                check: expect_title("My bookings"),
            },
        ]
    }
}

fn render(page: &Page) -> String {
    let mut s = plaza_host::page::render_text(page);
    if s.len() > 300 {
        s.truncate(s.floor_char_boundary(300));
        s.push('…');
    }
    s.replace('\n', " | ")
}

async fn send(session: &Session, action: &Action) -> plaza_host::Result<Page> {
    match action {
        Action::Launch(path) => session.launch(path).await,
        Action::Tap(action) => session.tap(action).await,
        Action::Submit(form, fields) => {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
            session.submit(form, &fields).await
        }
    }
}

/// What one well-behaved session saw in a phase.
#[derive(Default)]
struct UserLog {
    /// Latencies of events sent inside the measured window, in microseconds.
    latencies_us: Vec<u64>,
    /// The same events' latencies counted from when they were due (the end
    /// of the user's think time) rather than from when the user's task got to
    /// send them: adds how late a busy runtime woke the user up, as it would
    /// notice a request from the network late.
    from_due_us: Vec<u64>,
    /// The same events: when each was sent (ms into the phase), its latency
    /// and what it was.
    samples: Vec<(f64, u64, String)>,
    /// Events sent in the measured window.
    measured: u64,
    /// Events sent, in all.
    events: u64,
    /// Events sent in the measured window that answered the right page.
    answered: u64,
    errors: Vec<String>,
}

/// What the tasks of a phase share.
#[derive(Default)]
struct PhaseClock {
    /// Set when the phase ends.
    stop: AtomicBool,
    /// Well-behaved sessions that finished a first visit.
    warmed: AtomicUsize,
    /// The measured window, set once every session finished a first visit:
    /// the stampede of first launches (instantiation, each capability's
    /// first-use audit) is not the steady state being measured.
    window: OnceLock<(Instant, Instant)>,
}

/// One well-behaved user: visits again and again until the phase stops.
async fn user(
    session: Session,
    think_ms: u64,
    keep_samples: bool,
    seed: u64,
    clock: Arc<PhaseClock>,
) -> UserLog {
    let mut rng = Rng(seed);
    let mut log = UserLog::default();
    let (lo, hi) = (think_ms / 2, think_ms + think_ms / 2);
    // Users arrive spread over one think time, not all at once.
    let mut due = Instant::now() + rng.millis(0, think_ms.max(1));
    tokio::time::sleep_until(due.into()).await;
    let mut n = 0;
    let mut warmed = false;
    'visits: while !clock.stop.load(Ordering::Relaxed) {
        n += 1;
        for step in visit(session.app_id(), session.user(), n) {
            if clock.stop.load(Ordering::Relaxed) {
                break 'visits;
            }
            let sent = Instant::now();
            let result = send(&session, &step.send).await;
            let took = sent.elapsed();
            let late = sent.saturating_duration_since(due);
            let window = clock.window.get();
            let in_window = window.is_some_and(|w| sent >= w.0 && sent < w.1);
            log.events += 1;
            if let Some(window) = window.filter(|_| in_window) {
                log.measured += 1;
                log.latencies_us.push(took.as_micros() as u64);
                log.from_due_us.push((took + late).as_micros() as u64);
                if keep_samples {
                    log.samples.push((
                        (sent - window.0).as_secs_f64() * 1000.0,
                        took.as_micros() as u64,
                        format!("{} {}", session.app_id(), step.send.describe()),
                    ));
                }
            }
            if let Err(e) = result
                .map_err(|e| e.to_string())
                .and_then(|p| (step.check)(&p))
            {
                log.errors
                    .push(format!("{} in {}: {e}", session.user(), session.app_id()));
                // Start the visit again from its launch, at once.
                due = Instant::now();
                continue 'visits;
            }
            log.answered += u64::from(in_window);
            due = Instant::now() + rng.millis(lo, hi.max(lo + 1));
            tokio::time::sleep_until(due.into()).await;
        }
        if !warmed {
            warmed = true;
            clock.warmed.fetch_add(1, Ordering::Relaxed);
        }
    }
    log
}

/// What one hostile session did in a phase.
#[derive(Default)]
struct AttackLog {
    /// Attacks that ended as the sandbox promises.
    contained: u64,
    /// Floods ended at the CPU deadline ([`Ending::Deadline`]).
    deadline: u64,
    /// Time from the attack's event to its end, summed, in microseconds.
    busy_us: u64,
    /// Launches refused because the pool was full.
    refused: u64,
    /// Attacks that ended otherwise.
    errors: Vec<String>,
}

/// One hostile session: launches and attacks until the phase stops, noting
/// each attack in `log` as it ends (the phase does not wait out the attack in
/// flight when it stops: it drops it).
async fn attacker(
    session: Session,
    attack: Attack,
    backend: u16,
    clock: Arc<PhaseClock>,
    log: Arc<std::sync::Mutex<AttackLog>>,
) {
    let note = |f: &mut dyn FnMut(&mut AttackLog)| f(&mut log.lock().expect("attack log"));
    while !clock.stop.load(Ordering::Relaxed) {
        // The patient attacks are one launch (or a launch and taps); the
        // others launch, then tap their attack.
        let patient = match attack {
            Attack::Sleep => Some("/spin-then-sleep?spin=60&sleep=2000".to_string()),
            Attack::Slow => Some(format!("/?url=http%3A%2F%2Flocalhost%3A{backend}%2Fslow")),
            Attack::Leak => Some("/?leak=500".to_string()),
            _ => None,
        };
        let (started, result) = match patient {
            Some(path) => {
                let started = Instant::now();
                let mut result = session.launch(&path).await;
                if matches!(result, Err(Error::HostBusy { .. })) {
                    note(&mut |l| l.refused += 1);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                while attack == Attack::Leak && result.is_ok() {
                    result = session.tap("leak-fields:500").await;
                }
                (started, result)
            }
            None => {
                match session.launch("/").await {
                    Ok(page) if page.title == "Misbehave" => {}
                    Err(Error::HostBusy { .. }) => {
                        note(&mut |l| l.refused += 1);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                    other => {
                        let e = format!(
                            "{}: launch answered {:?}",
                            session.user(),
                            other.map(|p| p.title)
                        );
                        note(&mut |l| l.errors.push(e.clone()));
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                }
                let started = Instant::now();
                (started, session.tap(attack.action()).await)
            }
        };
        let took = started.elapsed().as_micros() as u64;
        let ending = attack.ending(&result);
        note(&mut |l| {
            l.busy_us += took;
            match ending {
                Ending::AsPromised => l.contained += 1,
                Ending::Deadline => l.deadline += 1,
                Ending::Other => l.errors.push(format!(
                    "{}: {} answered {:?}",
                    session.user(),
                    attack.action(),
                    result.as_ref().map(|p| &p.title)
                )),
            }
        });
    }
}

/// The figures of one phase.
#[derive(Debug, serde::Serialize)]
struct PhaseReport {
    phase: &'static str,
    hostile: usize,
    sessions: usize,
    events_measured: u64,
    events_total: u64,
    events_per_sec: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    mean_ms: f64,
    /// The median and 99th percentile counted from when each event was due.
    p50_from_due_ms: f64,
    p99_from_due_ms: f64,
    /// Well-behaved events that failed or answered the wrong page.
    errors: usize,
    /// Seconds from the phase's start to its measured window.
    warmup_secs: f64,
    /// Well-behaved sessions with no event answered in the measured window.
    starved_sessions: usize,
    /// Hostile attacks that did not end as the sandbox promises.
    uncontained: usize,
    /// Hostile attacks dropped in flight at the phase's end.
    attacks_cut: usize,
    /// CPU time the process used in the measured window, in % of one core.
    cpu_percent: f64,
    /// The machine's load average over the last minute at the window's end
    /// (other work on the machine competes for its cores too).
    load_1min: f64,
    attacks: Vec<AttackReport>,
    #[serde(skip)]
    error_samples: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
struct AttackReport {
    attack: &'static str,
    sessions: usize,
    contained: u64,
    ended_at_deadline: u64,
    mean_ms: f64,
    refused: u64,
    errors: usize,
}

/// The process's user + system CPU time (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses): utime and
    // stime are the 12th and 13th, in clock ticks (100 a second on Linux).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return Duration::ZERO;
    };
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    Duration::from_millis(f.iter().sum::<u64>() * 10)
}

/// The `q` quantile (nearest rank) of sorted microseconds, in milliseconds.
fn quantile_ms(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// Runs one phase: the well-behaved users, and `hostile` attackers beside
/// them; every session is closed at the end.
async fn phase(
    host: &Host,
    o: &Options,
    name: &'static str,
    hostile: usize,
    backend: u16,
) -> PhaseReport {
    let clock = Arc::new(PhaseClock::default());
    let start = Instant::now();

    let mut attackers = Vec::new();
    for k in 0..hostile {
        let attack = o.mix[k % o.mix.len()];
        let session = host
            .session(&format!("mallory-{k}"), attack.app())
            .expect("hostile session");
        let log = Arc::new(std::sync::Mutex::new(AttackLog::default()));
        attackers.push((
            attack,
            Some(tokio::spawn(attacker(
                session.clone(),
                attack,
                backend,
                clock.clone(),
                log.clone(),
            ))),
            session,
            log,
        ));
    }
    let mut users = Vec::new();
    for i in 0..o.sessions {
        let app = o.apps[i % o.apps.len()];
        let session = host
            .session(&format!("user-{i}"), app)
            .expect("well-behaved session");
        users.push((
            tokio::spawn(user(
                session.clone(),
                o.think_ms,
                o.slowest > 0,
                i as u64 + 1,
                clock.clone(),
            )),
            session,
        ));
    }

    // Warm-up: at least `warmup`, and until every session finished a first
    // visit (at most a minute more).
    let give_up = start + Duration::from_secs_f64(o.warmup + 60.0);
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = Instant::now();
        let all = clock.warmed.load(Ordering::Relaxed) >= o.sessions;
        if (all && now >= start + Duration::from_secs_f64(o.warmup)) || now >= give_up {
            break;
        }
    }
    let measured_from = Instant::now();
    let window = (
        measured_from,
        measured_from + Duration::from_secs_f64(o.secs),
    );
    clock.window.set(window).expect("set once");
    let cpu_before = cpu_time();
    tokio::time::sleep_until(window.1.into()).await;
    let cpu = cpu_time().saturating_sub(cpu_before);
    let wall = measured_from.elapsed();
    let load_1min = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    clock.stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut from_due = Vec::new();
    let (mut measured, mut total, mut starved) = (0, 0, 0);
    let mut errors = Vec::new();
    let mut samples = Vec::new();
    for (task, _) in &mut users {
        let log = task.await.expect("user task");
        samples.extend(log.samples);
        latencies.extend(log.latencies_us);
        from_due.extend(log.from_due_us);
        measured += log.measured;
        total += log.events;
        starved += usize::from(log.answered == 0);
        errors.extend(log.errors);
    }
    let mut attacks: Vec<AttackReport> = Vec::new();
    let mut hostile_errors = Vec::new();
    // Attacks in flight are dropped after a moment (a spinner on a busy host
    // may need many seconds to reach its deadline); dropping one is how an
    // embedder gives up on an event, and the session is closed below.
    let give_up = Instant::now() + Duration::from_secs(1);
    let mut cut = 0;
    for (_, task, _, _) in &mut attackers {
        // A handle that answered must not be polled again: keep only the
        // ones cut short, to wait for their end below.
        if let Some(handle) = task.as_mut()
            && tokio::time::timeout_at(give_up.into(), &mut *handle)
                .await
                .is_ok()
        {
            *task = None;
        } else if let Some(handle) = task.as_ref() {
            handle.abort();
            cut += 1;
        }
    }
    for (attack, _, _, log) in &attackers {
        let log = std::mem::take(&mut *log.lock().expect("attack log"));
        let r = match attacks.iter_mut().find(|r| r.attack == attack.action()) {
            Some(r) => r,
            None => {
                attacks.push(AttackReport {
                    attack: attack.action(),
                    sessions: 0,
                    contained: 0,
                    ended_at_deadline: 0,
                    mean_ms: 0.0,
                    refused: 0,
                    errors: 0,
                });
                attacks.last_mut().expect("pushed")
            }
        };
        r.sessions += 1;
        r.contained += log.contained;
        r.ended_at_deadline += log.deadline;
        // Summed here, divided below.
        r.mean_ms += log.busy_us as f64 / 1000.0;
        r.refused += log.refused;
        r.errors += log.errors.len();
        hostile_errors.extend(log.errors);
    }
    for r in &mut attacks {
        r.mean_ms /= (r.contained + r.ended_at_deadline + r.errors as u64).max(1) as f64;
    }
    // The next phase starts from no live session.
    for (_, session) in &users {
        session.close().await;
    }
    for (_, task, session, _) in attackers {
        if let Some(task) = task {
            let _ = task.await;
        }
        session.close().await;
    }

    latencies.sort_unstable();
    from_due.sort_unstable();
    if o.slowest > 0 {
        samples.sort_by_key(|s| std::cmp::Reverse(s.1));
        println!("the {} slowest well-behaved events of `{name}`:", o.slowest);
        for (at, us, what) in samples.iter().take(o.slowest) {
            println!(
                "  sent at {:>9.1} ms, took {:>9.1} ms: {what}",
                at,
                *us as f64 / 1000.0
            );
        }
    }
    let mean_ms = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().sum::<u64>() as f64 / latencies.len() as f64 / 1000.0
    };
    PhaseReport {
        phase: name,
        hostile,
        sessions: o.sessions,
        events_measured: measured,
        events_total: total,
        events_per_sec: measured as f64 / o.secs,
        p50_ms: quantile_ms(&latencies, 0.50),
        p90_ms: quantile_ms(&latencies, 0.90),
        p99_ms: quantile_ms(&latencies, 0.99),
        p999_ms: quantile_ms(&latencies, 0.999),
        max_ms: quantile_ms(&latencies, 1.0),
        mean_ms,
        p50_from_due_ms: quantile_ms(&from_due, 0.50),
        p99_from_due_ms: quantile_ms(&from_due, 0.99),
        errors: errors.len(),
        warmup_secs: (measured_from - start).as_secs_f64(),
        starved_sessions: starved,
        uncontained: hostile_errors.len(),
        attacks_cut: cut,
        cpu_percent: 100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
        load_1min,
        attacks,
        error_samples: errors
            .into_iter()
            .take(10)
            .chain(hostile_errors.into_iter().take(10))
            .collect(),
    }
}

fn open_host(o: &Options, dir: &std::path::Path) -> Host {
    let limits = SandboxLimits {
        cpu_deadline: Duration::from_millis(o.deadline_ms),
        epoch_tick: Duration::from_millis(o.tick_ms),
        yield_after: Duration::from_millis(o.yield_after_ms),
        // Every session of the run fits, with room for an instance being
        // dropped while its successor starts.
        max_live_sessions: (o.sessions + o.hostile + 64) as u32,
        ..SandboxLimits::default()
    };
    let config = HostConfig::default()
        .cache_dir(Some(
            std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plaza-bench-cache"),
        ))
        .limits(limits)
        .utc_offset_minutes(480)
        // The fixtures are unsigned.
        .developer_mode(true);
    Host::open(&dir.join("plaza.db"), config).expect("open the host")
}

async fn install(host: &Host, f: &Fixture) {
    let package = plaza_host::package::Package::new(&f.manifest_text(), f.component_bytes())
        .expect("fixture package");
    host.install(package).await.expect("install the fixture");
}

fn print_table(o: &Options, phases: &[PhaseReport]) {
    let limits = SandboxLimits::default();
    println!(
        "bad neighbours ({} run): {} well-behaved sessions ({}, dealt in turn), \
         think {} ms ±50 %, {} s measured per phase after a warm-up of at least {} s and until every \
         session finished a first visit, {} tokio workers (event interval {}), \
         deadline {} ms on a {} ms tick, first yield after {} ms, memory cap {} MiB",
        o.mode,
        o.sessions,
        o.apps.join(", "),
        o.think_ms,
        o.secs,
        o.warmup,
        o.workers,
        o.event_interval
            .map_or_else(|| "tokio's default".to_string(), |n| n.to_string()),
        o.deadline_ms,
        o.tick_ms,
        o.yield_after_ms,
        limits.memory_bytes / (1024 * 1024)
    );
    println!();
    println!(
        "| phase | hostile | events | events/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors \
         | p50 from due ms | p99 from due ms | CPU % | load | warm-up s |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for p in phases {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {:.2} | {:.2} | {:.0} | {:.1} | {:.1} |",
            p.phase,
            p.hostile,
            p.events_measured,
            p.events_per_sec,
            p.p50_ms,
            p.p90_ms,
            p.p99_ms,
            p.p999_ms,
            p.max_ms,
            p.errors,
            p.p50_from_due_ms,
            p.p99_from_due_ms,
            p.cpu_percent,
            p.load_1min,
            p.warmup_secs
        );
    }
    if let [base, bad] = phases {
        println!();
        println!(
            "ratio (bad neighbours / baseline): p50 {:.2}×, p90 {:.2}×, p99 {:.2}×, events/s {:.2}×; \
             from due: p50 {:.2}×, p99 {:.2}×",
            bad.p50_ms / base.p50_ms,
            bad.p90_ms / base.p90_ms,
            bad.p99_ms / base.p99_ms,
            bad.events_per_sec / base.events_per_sec,
            bad.p50_from_due_ms / base.p50_from_due_ms,
            bad.p99_from_due_ms / base.p99_from_due_ms
        );
    }
    for p in phases.iter().filter(|p| !p.attacks.is_empty()) {
        println!();
        println!("hostile attacks in `{}`:", p.phase);
        println!(
            "  ({} attacks in flight were dropped at the phase's end)",
            p.attacks_cut
        );
        for a in &p.attacks {
            println!(
                "  {:<8} {:>4} sessions, {:>6} attacks ended as promised, {:>8.1} ms each on average, \
                 {} refused launches, {} uncontained",
                a.attack, a.sessions, a.contained, a.mean_ms, a.refused, a.errors
            );
            if a.ended_at_deadline > 0 {
                println!(
                    "           {} {} events were ended at the CPU deadline or the wall-clock cap: \
                     a busy host charges an event for the ticks it waited in, and the wall clock \
                     runs while it waits its turn on the busy lanes",
                    a.ended_at_deadline, a.attack
                );
            }
        }
    }
}

fn main() {
    let o = match Options::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bad_neighbours: {e}");
            std::process::exit(2);
        }
    };
    if std::env::var("RUST_LIB_BACKTRACE").as_deref() != Ok("0") {
        eprintln!(
            "note: RUST_LIB_BACKTRACE is not 0; errors may capture backtraces and distort the figures"
        );
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.worker_threads(o.workers).enable_all();
    if let Some(n) = o.event_interval {
        rt.event_interval(n);
    }
    let rt = rt.build().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let phases = rt.block_on(async {
        let host = open_host(&o, dir.path());
        for f in [&KV_NOTES, &HOSPITAL, &MISBEHAVE] {
            install(&host, f).await;
        }
        let backend = plaza_test_programs::slow_backend(BACKEND_DELAY);
        let manifest = HTTP_PROBE.manifest_text().replace(
            "\"http://localhost:1\"",
            &format!("\"http://localhost:{backend}\""),
        );
        let probe = plaza_host::package::Package::new(&manifest, HTTP_PROBE.component_bytes())
            .expect("the probe's package");
        host.install(probe).await.expect("install the probe");
        let baseline = phase(&host, &o, "baseline", 0, backend).await;
        let bad = phase(&host, &o, "bad neighbours", o.hostile, backend).await;
        assert_eq!(host.live_sessions().await, 0, "every session was closed");
        vec![baseline, bad]
    });

    print_table(&o, &phases);
    if o.json {
        let ratio = |f: fn(&PhaseReport) -> f64| f(&phases[1]) / f(&phases[0]);
        let json = serde_json::json!({
            "mode": o.mode,
            "sessions": o.sessions,
            "hostile": o.hostile,
            "secs": o.secs,
            "warmup": o.warmup,
            "think_ms": o.think_ms,
            "workers": o.workers,
            "event_interval": o.event_interval,
            "deadline_ms": o.deadline_ms,
            "tick_ms": o.tick_ms,
            "yield_after_ms": o.yield_after_ms,
            "apps": o.apps,
            "mix": o.mix.iter().map(|a| a.action()).collect::<Vec<_>>(),
            "phases": phases,
            "ratio": {
                "p50": ratio(|p| p.p50_ms),
                "p90": ratio(|p| p.p90_ms),
                "p99": ratio(|p| p.p99_ms),
                "events_per_sec": ratio(|p| p.events_per_sec),
                "p50_from_due": ratio(|p| p.p50_from_due_ms),
                "p99_from_due": ratio(|p| p.p99_from_due_ms),
            },
        });
        println!("{json}");
    }

    // The functional claim: the well-behaved kept answering, every page
    // right; every attack ended as the sandbox promises.
    println!();
    let mut failed = false;
    for p in &phases {
        if p.errors > 0 || p.starved_sessions > 0 || p.events_measured == 0 || p.uncontained > 0 {
            failed = true;
            println!(
                "FAILED `{}`: {} well-behaved errors, {} sessions with nothing answered, \
                 {} events measured, {} hostile attacks not contained",
                p.phase, p.errors, p.starved_sessions, p.events_measured, p.uncontained
            );
            for e in &p.error_samples {
                println!("  {e}");
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
    println!(
        "containment: OK — every well-behaved event in both phases answered with the right page, \
         every well-behaved session answered in the measured window, every hostile attack ended as the sandbox promises"
    );
}
