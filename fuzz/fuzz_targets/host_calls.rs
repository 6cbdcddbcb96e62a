//! Fuzzes the host-call layer: the `fuzz-caller` guest makes the host calls
//! an input describes (storage, log, clock, identity, payment, messaging),
//! with arbitrary arguments, through a real [`Host`] on a temporary store;
//! the user's answers to consent, payment and subscription prompts come from
//! the input too.
//!
//! After every input it checks what a user would care about:
//! - the ledger verifies clean (`Host::verify_ledger`);
//! - the user's wallet holds exactly their top-ups minus the wallet part of
//!   every payment plus the wallet part of every refund the guest was told
//!   about: no money moved that the guest was not given a receipt for;
//! - every host call answered (a field per call; the session did not end);
//! - the host still answers a fresh session of the mini-app.
//!
//! The guest's component is loaded from the guests' build in the main
//! target directory (`target/guests/.../fuzz_caller.wasm`, or the path in
//! `PLAZA_FUZZ_CALLER_WASM`), which `scripts/fuzz.sh` builds first with
//! `cargo build -p plaza-test-programs`. This crate does not depend on
//! `plaza-test-programs`: its build script would run under the nightly
//! toolchain `cargo +nightly fuzz` selects, which has no `wasm32-wasip2`
//! standard library here, and would build every guest a second time into
//! `fuzz/target`. Loading the prebuilt component keeps one toolchain (the
//! repository's pinned one) and one build of the guests.
//!
//! The component is compiled once per process (the host's compiled-component
//! cache, in a directory the process keeps); the host is reopened on a fresh
//! store every [`INPUTS_PER_HOST`] inputs so that the store, and the time
//! `verify_ledger` takes, stay small over a long run.

#![no_main]

#[path = "../../crates/test-programs/guests/fuzz-caller/src/script.rs"]
mod script;

use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use plaza_host::clock::{ManualClock, SequentialIds};
use plaza_host::manifest::Scope;
use plaza_host::package::Package;
use plaza_host::prompt::{
    ConsentAnswer, PaymentAnswer, ScriptedPayment, ScriptedPrompter, SubscriptionAnswer,
};
use plaza_host::sandbox::SandboxLimits;
use plaza_host::{Block, Host, HostConfig, Page};
use script::{Call, Item};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The fuzz-caller's manifest.
const MANIFEST: &str = include_str!("../../crates/test-programs/guests/fuzz-caller/plaza.toml");
/// The fuzz-caller's app id.
const APP: &str = "test.plaza.fuzz-caller";
/// The users an input may act as; a few, so inputs meet each other's state
/// (replayed order ids, a full quota, a used subscription).
const USERS: [&str; 3] = ["ann", "bo", "cai"];
/// The user whose fresh session must still answer after every input.
const PROBE_USER: &str = "probe";
/// Inputs served by one host before it is reopened on a fresh store.
const INPUTS_PER_HOST: u32 = 500;
/// 2026-11-21 09:00 in Hangzhou.
const START_MS: i64 = 1_795_222_800_000;

/// The component: the fuzz-caller built by `cargo build -p plaza-test-programs`.
fn component() -> Vec<u8> {
    let path = std::env::var_os("PLAZA_FUZZ_CALLER_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/guests/wasm32-wasip2/release/fuzz_caller.wasm"
            ))
        });
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "reading the fuzz-caller guest at {}: {e}\nbuild it first with \
             `cargo build -p plaza-test-programs` at the root of the repository \
             (scripts/fuzz.sh does), or set PLAZA_FUZZ_CALLER_WASM",
            path.display()
        )
    })
}

/// One host on its own store, with what the harness knows should be in each
/// wallet.
struct Harness {
    /// Where the compiled component is cached: shared by every host of the
    /// process, so the component is compiled once.
    cache: tempfile::TempDir,
    component: Vec<u8>,
    current: Option<Generation>,
}

/// One host on its own store.
struct Generation {
    host: Host,
    clock: ManualClock,
    prompter: Arc<ScriptedPrompter>,
    /// What each user's wallet should hold: top-ups, minus payments, plus
    /// refunds, as the guest's receipts tell them.
    expected: HashMap<&'static str, i128>,
    /// Ledger transactions already counted (a replayed order id answers the
    /// first receipt again: the money moved once).
    counted: HashSet<String>,
    inputs: u32,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            cache: tempfile::tempdir().expect("a cache directory"),
            component: component(),
            current: None,
        }
    }

    /// The current host, reopened on a fresh store every
    /// [`INPUTS_PER_HOST`] inputs.
    fn generation(&mut self) -> &mut Generation {
        if self
            .current
            .as_ref()
            .is_none_or(|g| g.inputs >= INPUTS_PER_HOST)
        {
            self.current = None;
            let dir = tempfile::Builder::new()
                .prefix("plaza-fuzz-store-")
                .tempdir_in(store_root())
                .expect("a store directory");
            let clock = ManualClock::new(START_MS);
            let prompter = Arc::new(ScriptedPrompter::new());
            let config = HostConfig::default()
                .cache_dir(Some(self.cache.path().to_path_buf()))
                .limits(SandboxLimits {
                    memory_bytes: 64 * 1024 * 1024,
                    cpu_deadline: Duration::from_secs(2),
                    max_live_sessions: 8,
                    ..SandboxLimits::default()
                })
                .clock(Arc::new(clock.clone()))
                .ids(Arc::new(SequentialIds::default()))
                .prompter(prompter.clone())
                .utc_offset_minutes(480)
                .payment_timeout(Duration::from_millis(2))
                .developer_mode(true);
            let host = Host::open(&dir.path().join("plaza.db"), config).expect("open a host");
            let package = Package::new(MANIFEST, self.component.clone()).expect("the package");
            runtime()
                .block_on(host.install(package))
                .expect("install the fuzz-caller");
            self.current = Some(Generation {
                host,
                clock,
                prompter,
                expected: HashMap::new(),
                counted: HashSet::new(),
                inputs: 0,
                _dir: dir,
            });
        }
        self.current.as_mut().expect("a host")
    }
}

/// Where the stores go: `/dev/shm` (memory) where there is one. The store
/// syncs every payment to disk; in memory the sync costs nothing, so the
/// fuzzer spends its time in the host's code rather than waiting on the disk.
/// The invariants do not depend on durability (the crash tests cover that).
fn store_root() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

/// What one input does: who the user is, how they answer, and the calls.
#[derive(Debug)]
struct Input {
    user: &'static str,
    advance_ms: u64,
    top_up: Option<u64>,
    follow: bool,
    chat: Option<String>,
    payment: ScriptedPayment,
    subscription: SubscriptionAnswer,
    consent: Vec<(Scope, ConsentAnswer)>,
    /// Deliver the script as a launch query (not a gesture) instead of a
    /// form submission (a gesture).
    via_launch: bool,
    calls: Vec<Call>,
}

/// Keys, order ids and template ids come mostly from small sets, so calls
/// meet each other (a get finds a set, a refund finds its payment); the rest
/// are arbitrary strings.
const KEYS: [&str; 4] = ["a", "b", "notes/1", "notes/2"];
const ORDERS: [&str; 4] = ["o-1", "o-2", "o-3", "o:4"];
const TEMPLATES: [&str; 3] = ["notice", "reminder", "missing"];
const FIELDS: [&str; 3] = ["what", "when", "where"];

fn pick_or_any(u: &mut Unstructured<'_>, set: &[&str]) -> Result<String> {
    if u.ratio(3, 4)? {
        Ok(u.choose(set)?.to_string())
    } else {
        String::arbitrary(u)
    }
}

fn amount(u: &mut Unstructured<'_>) -> Result<u64> {
    Ok(match u.int_in_range(0..=3)? {
        0 => u.int_in_range(0..=100)?,
        1 => u.int_in_range(100..=100_000)?,
        2 => *u.choose(&[999_999_999, 1_000_000_000, 1_000_000_001, u64::MAX])?,
        _ => u64::arbitrary(u)?,
    })
}

fn call(u: &mut Unstructured<'_>) -> Result<Call> {
    Ok(match u.int_in_range(0..=22)? {
        0 => Call::Get {
            key: pick_or_any(u, &KEYS)?,
        },
        1 => Call::Set {
            key: pick_or_any(u, &KEYS)?,
            fill: u8::arbitrary(u)?,
            len: match u.int_in_range(0..=2)? {
                0 => u.int_in_range(0..=64)?,
                1 => u.int_in_range(0..=70_000)?,
                _ => u.int_in_range(0..=script::MAX_SET_BYTES)?,
            },
        },
        2 => Call::Delete {
            key: pick_or_any(u, &KEYS)?,
        },
        3 => Call::List {
            prefix: pick_or_any(u, &["", "notes/", "a"])?,
            limit: u.choose(&[0, 1, 10, 1000, 1001, u32::MAX])?.to_owned(),
        },
        4 => Call::Usage,
        5 => Call::Log {
            level: u8::arbitrary(u)?,
            message: String::arbitrary(u)?,
        },
        6 => Call::Now,
        7 => Call::Openid,
        8 => Call::Unionid,
        9 => Call::Login,
        10 => Call::Profile,
        11 => Call::Phone,
        12 => Call::RealName,
        13 => Call::Location {
            precise: bool::arbitrary(u)?,
        },
        14 => Call::InsuranceCard,
        15 => {
            let n = u.int_in_range(0..=3)?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(Item {
                    name: pick_or_any(u, &["Consultation", ""])?,
                    quantity: *u.choose(&[0, 1, 2, 3, u32::MAX])?,
                    unit_price: amount(u)?,
                    insurance_eligible: bool::arbitrary(u)?,
                });
            }
            // Mostly a total that matches the bill, so payments get through.
            let total = items.iter().try_fold(0u64, |sum, i| {
                i.unit_price
                    .checked_mul(i.quantity as u64)
                    .and_then(|line| sum.checked_add(line))
            });
            let amount = match total {
                Some(t) if u.ratio(4, 5)? => t,
                _ => amount(u)?,
            };
            Call::Pay {
                order: pick_or_any(u, &ORDERS)?,
                amount,
                currency: pick_or_any(u, &["CNY", "CNY", "USD"])?,
                description: String::arbitrary(u)?,
                items,
            }
        }
        16 => Call::Refund {
            order: pick_or_any(u, &ORDERS)?,
            amount: amount(u)?,
            reason: String::arbitrary(u)?,
        },
        17 => Call::Query {
            order: pick_or_any(u, &ORDERS)?,
        },
        18 => Call::History {
            cursor: if bool::arbitrary(u)? {
                None
            } else {
                Some(String::arbitrary(u)?)
            },
            limit: *u.choose(&[0, 1, 2, 100, 101])?,
        },
        19 => {
            let n = u.int_in_range(0..=6)?;
            let mut templates = Vec::new();
            for _ in 0..n {
                templates.push(pick_or_any(u, &TEMPLATES)?);
            }
            Call::Subscribe { templates }
        }
        20 => {
            let n = u.int_in_range(0..=3)?;
            let mut fields = Vec::new();
            for _ in 0..n {
                fields.push((pick_or_any(u, &FIELDS)?, String::arbitrary(u)?));
            }
            Call::Send {
                template: pick_or_any(u, &TEMPLATES)?,
                fields,
            }
        }
        21 => Call::Broadcast {
            title: String::arbitrary(u)?,
            text: String::arbitrary(u)?,
        },
        _ => Call::Reply {
            text: String::arbitrary(u)?,
        },
    })
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Input> {
        let mut consent = Vec::new();
        for scope in Scope::ALL {
            consent.push((
                scope,
                *u.choose(&[
                    ConsentAnswer::Allow,
                    ConsentAnswer::Deny,
                    ConsentAnswer::Dismiss,
                ])?,
            ));
        }
        Ok(Input {
            user: u.choose(&USERS)?,
            advance_ms: match u.int_in_range(0..=3)? {
                0 => 0,
                1 => 60_000,
                2 => 2 * 24 * 60 * 60 * 1000,
                _ => u32::arbitrary(u)? as u64,
            },
            top_up: if u.ratio(1, 2)? {
                Some(u.int_in_range(1..=200_000)?)
            } else {
                None
            },
            follow: bool::arbitrary(u)?,
            chat: if u.ratio(1, 4)? {
                Some(String::arbitrary(u)?)
            } else {
                None
            },
            payment: *u.choose(&[
                ScriptedPayment::Answer(PaymentAnswer::Confirm),
                ScriptedPayment::Answer(PaymentAnswer::Confirm),
                ScriptedPayment::Answer(PaymentAnswer::Decline),
                ScriptedPayment::Answer(PaymentAnswer::Cancel),
                ScriptedPayment::Never,
            ])?,
            subscription: *u.choose(&[
                SubscriptionAnswer::AcceptOnce,
                SubscriptionAnswer::AcceptLongTerm,
                SubscriptionAnswer::Reject,
            ])?,
            consent,
            via_launch: u.ratio(1, 4)?,
            calls: {
                let n = u.int_in_range(0..=16)?;
                let mut calls = Vec::new();
                for _ in 0..n {
                    calls.push(call(u)?);
                }
                calls
            },
        })
    }
}

/// The value of the field labelled `label`.
fn field<'p>(page: &'p Page, label: &str) -> Option<&'p str> {
    page.blocks.iter().find_map(|b| match b {
        Block::Field(f) if f.label == label => Some(f.value.as_str()),
        _ => None,
    })
}

/// The process's runtime: one thread, with timers (the payment timeout).
/// `Runtime::block_on`, not a handle's, drives a current-thread runtime's
/// timers.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

static HARNESS: Mutex<Option<Harness>> = Mutex::new(None);

fuzz_target!(|input: Input| {
    let mut guard = HARNESS.lock().unwrap_or_else(|p| p.into_inner());
    let harness = guard.get_or_insert_with(Harness::new);
    let runtime = runtime();
    let g = harness.generation();
    g.inputs += 1;
    let host = &g.host;

    g.clock.advance(Duration::from_millis(input.advance_ms));
    for (scope, answer) in &input.consent {
        g.prompter.answer_consent(*scope, *answer);
    }
    g.prompter.answer_payments(input.payment);
    g.prompter.answer_subscriptions(input.subscription);
    if let Some(amount) = input.top_up {
        host.top_up(input.user, amount, "CNY").expect("a top-up");
        *g.expected.entry(input.user).or_default() += amount as i128;
    }
    host.follow(input.user, APP, input.follow).expect("follow");

    let script = script::encode(&input.calls);
    let session = host.session(input.user, APP).expect("a session");
    let page = runtime.block_on(async {
        if let Some(text) = &input.chat {
            // A user's message opens the reply window (or is refused as data
            // if it is empty or too long: either is fine here).
            let _ = session.chat(text).await;
        }
        if input.via_launch {
            session.launch(&format!("/?script={script}")).await
        } else {
            session.launch("/").await?;
            session.submit("calls", &[("script", &script)]).await
        }
    });
    let page = page.unwrap_or_else(|e| panic!("the session failed: {e}\ninput: {input:#?}"));

    // Every call answered, as data, and the money the receipts name moved.
    assert_eq!(field(&page, "script"), None, "the script decodes: {script}");
    for (i, call) in input.calls.iter().enumerate() {
        let label = format!("{} {}", i + 1, call.name());
        let result = field(&page, &label)
            .unwrap_or_else(|| panic!("no result for call {label}: {page:#?}\ninput: {input:#?}"));
        if let Some((transaction, change)) = script::money_moved(result)
            && g.counted.insert(transaction)
        {
            *g.expected.entry(input.user).or_default() += change;
        }
    }

    let report = host.verify_ledger().expect("verify the ledger");
    assert!(
        report.is_clean(),
        "ledger problems: {:?}\ninput: {input:#?}",
        report.problems
    );
    for user in USERS {
        let balance = host.wallet_balance(user).expect("a balance") as i128;
        let expected = g.expected.get(user).copied().unwrap_or(0);
        assert_eq!(
            balance, expected,
            "{user}'s wallet holds {balance}; top-ups and receipts say {expected}\ninput: {input:#?}"
        );
    }

    // A fresh session of another user still answers.
    let probe = host.session(PROBE_USER, APP).expect("a probe session");
    let fresh = runtime.block_on(async {
        let page = probe.launch("/?script=now").await;
        probe.close().await;
        page
    });
    let fresh = fresh.unwrap_or_else(|e| panic!("a fresh session failed after the input: {e}"));
    assert!(
        field(&fresh, "1 now").is_some_and(|v| v.starts_with("ok ")),
        "a fresh session answers: {fresh:#?}"
    );
});
