//! A mini-app's instance: the loaded app (manifest and pre-linked
//! component), the data of each session's Wasmtime store, and the linker
//! that connects each capability's interface to its view of that data.
//!
//! The store data holds the session's WASI context, its network hooks, its
//! sandbox limiter and deadline, its way through the gate
//! ([`SessionGate`]), and the host-wide [`Services`]. Host calls never see
//! it whole: each interface is linked through a `HasData` projection
//! (`InstanceState::storage`, `InstanceState::payment`, ...) that hands its
//! capability only its slice.

use crate::capabilities::Types;
use crate::capabilities::clock::{Clock, ClockView};
use crate::capabilities::config::{Config, ConfigView};
use crate::capabilities::identity::{Identity, IdentityView};
use crate::capabilities::log::{Log, LogBudget, LogView};
use crate::capabilities::media::{Media, MediaView};
use crate::capabilities::messaging::{Messaging, MessagingView};
use crate::capabilities::network::SessionNetwork;
use crate::capabilities::payment::{Payment, PaymentView};
use crate::capabilities::scan::{Scan, ScanView};
use crate::capabilities::storage::{Storage, StorageView};
use crate::error::{Error, GuestFault, Result};
use crate::gate::{SessionGate, Subject};
use crate::lanes::HeldLane;
use crate::manifest::Manifest;
use crate::sandbox::{OutputCapture, SandboxLimiter, SandboxViolation};
use crate::services::Services;
use crate::settings::SessionSettings;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Linker, ResourceTable, ResourceTableError};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{FieldMapError, WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// A pre-linked component, by the interface it exports: `pages` (built
/// against the current contract) or the frozen `app` (built against
/// `plaza:host@0.1.0`).
pub(crate) enum AppPre {
    /// Exports `plaza:host/pages`.
    Pages(plaza_world::MiniAppPre<InstanceState>),
    /// Exports `plaza:host/app` of 0.1.0.
    V0_1(plaza_world::v0_1::MiniAppV01Pre<InstanceState>),
}

impl AppPre {
    /// Picks the export the component has: `pages` if it has it, else
    /// `app`; neither is an error naming both.
    pub(crate) fn new(
        pre: wasmtime::component::InstancePre<InstanceState>,
    ) -> wasmtime::Result<AppPre> {
        match plaza_world::MiniAppPre::new(pre.clone()) {
            Ok(p) => Ok(AppPre::Pages(p)),
            Err(pages) => match plaza_world::v0_1::MiniAppV01Pre::new(pre) {
                Ok(p) => Ok(AppPre::V0_1(p)),
                Err(app) => Err(wasmtime::Error::msg(format!(
                    "it exports neither `plaza:host/pages` ({pages:#}) nor `plaza:host/app` of 0.1.0 ({app:#})"
                ))),
            },
        }
    }

    /// A new instance in `store`.
    pub(crate) async fn instantiate(
        &self,
        store: &mut Store<InstanceState>,
    ) -> wasmtime::Result<AppBindings> {
        Ok(match self {
            AppPre::Pages(p) => AppBindings::Pages(p.instantiate_async(store).await?),
            AppPre::V0_1(p) => AppBindings::V0_1(p.instantiate_async(store).await?),
        })
    }
}

/// A live instance's export.
pub(crate) enum AppBindings {
    /// `plaza:host/pages`.
    Pages(plaza_world::MiniApp),
    /// `plaza:host/app` of 0.1.0.
    V0_1(plaza_world::v0_1::MiniAppV01),
}

impl AppBindings {
    /// Delivers `event` and returns the page, in the host's page model. An
    /// event the old `app` interface cannot carry is an error (the host
    /// never offers one: its pages have no "load more" and no refresh).
    pub(crate) async fn handle(
        &self,
        store: &mut Store<InstanceState>,
        event: &plaza_world::pages::Event,
    ) -> wasmtime::Result<plaza_world::pages::Page> {
        match self {
            AppBindings::Pages(b) => b.plaza_host_pages().call_handle(store, event).await,
            AppBindings::V0_1(b) => {
                let Some(event) = crate::page::event_to_v0_1(event) else {
                    return Err(wasmtime::Error::msg(
                        "this event cannot be delivered to a mini-app of plaza:host@0.1.0",
                    ));
                };
                let page = b.plaza_host_app().call_handle(store, &event).await?;
                Ok(crate::page::page_from_v0_1(page))
            }
        }
    }
}

/// A mini-app ready to run: its manifest and its pre-linked component.
pub(crate) struct LoadedApp {
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) pre: AppPre,
    /// Whether the package was signed by its registered publisher.
    pub(crate) signed: bool,
    /// The names of the package's assets (what a page may show as `asset:NAME`).
    pub(crate) assets: Vec<String>,
    /// SHA-256 of the component, hex: with the manifest's version, what
    /// tells this load from the package the store holds now (another host
    /// on the same database may have updated it).
    pub(crate) component_sha256: String,
    /// The bytes of its compiled code in memory: what counts against the
    /// host's cap on loaded code.
    pub(crate) code_bytes: u64,
}

/// The data of one session's Wasmtime store.
pub(crate) struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    net: SessionNetwork,
    pub(crate) limiter: SandboxLimiter,
    /// The session's way through the gate.
    gate: SessionGate,
    /// The mini-app's settings as the session started with them.
    settings: SessionSettings,
    /// What the event being handled has written to the log.
    log: LogBudget,
    services: Arc<Services>,
    /// The busy lane the event holds while it runs a slice past its grace.
    lane: Arc<HeldLane>,
    /// Epoch ticks used by the event being handled.
    ticks_used: u64,
    deadline_ticks: u64,
    deadline_hit: bool,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.net,
        }
    }
}

/// The projections: each capability's slice of the store data.
impl InstanceState {
    fn storage(&mut self) -> StorageView<'_> {
        StorageView {
            gate: &mut self.gate,
            store: &*self.services.store,
        }
    }

    fn log(&mut self) -> LogView<'_> {
        LogView {
            gate: &mut self.gate,
            budget: &mut self.log,
        }
    }

    fn clock(&mut self) -> ClockView<'_> {
        ClockView {
            gate: &mut self.gate,
            clock: &*self.services.clock,
            utc_offset_minutes: self.services.utc_offset_minutes,
        }
    }

    fn identity(&mut self) -> IdentityView<'_> {
        let s = &*self.services;
        IdentityView {
            gate: &mut self.gate,
            users: &*s.store,
            logins: &*s.store,
            cards: &*s.store,
            epochs: &*s.store,
            keys: &s.keys,
            clock: &*s.clock,
        }
    }

    fn payment(&mut self) -> PaymentView<'_> {
        let s = &*self.services;
        PaymentView {
            gate: &mut self.gate,
            ledger: &*s.store,
            epochs: &*s.store,
            keys: &s.keys,
            settings: &s.payment,
            clock: &*s.clock,
            ids: &*s.ids,
            utc_offset_minutes: s.utc_offset_minutes,
        }
    }

    fn messaging(&mut self) -> MessagingView<'_> {
        let s = &*self.services;
        MessagingView {
            gate: &mut self.gate,
            store: &*s.store,
            deliverer: (s.store.clone(), s.ids.clone()),
            settings: &s.messaging,
            clock: &*s.clock,
            ids: &*s.ids,
            utc_offset_minutes: s.utc_offset_minutes,
        }
    }

    fn config(&mut self) -> ConfigView<'_> {
        ConfigView {
            gate: &mut self.gate,
            settings: &self.settings,
        }
    }

    fn media(&mut self) -> MediaView<'_> {
        let s = &*self.services;
        MediaView {
            gate: &mut self.gate,
            store: &*s.store,
            clock: &*s.clock,
            ids: &*s.ids,
        }
    }

    fn scan(&mut self) -> ScanView<'_> {
        let s = &*self.services;
        ScanView {
            gate: &mut self.gate,
            store: &*s.store,
            link_base: s.link_base.as_ref(),
        }
    }

    fn types(&mut self) -> Types {
        Types
    }
}

/// The linker every session uses: WASI 0.2 (sandboxed by each session's
/// `WasiCtx`, its refusals of sockets and files audited), `wasi:http`'s outgoing handler (gated per request in the
/// session's `send_request` hook) and Plaza's capability interfaces, each
/// on its view.
pub(crate) fn build_linker(engine: &Engine) -> Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    let link = |what: &str, e: wasmtime::Error| Error::Engine {
        message: format!("linking {what}: {e:#}"),
        source: e.into(),
    };
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| link("WASI", e))?;
    crate::capabilities::wasi::add_to_linker(&mut linker, |s: &mut InstanceState| &mut s.gate)
        .map_err(|e| link("WASI's audited refusals", e))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| link("wasi:http", e))?;
    plaza_world::types::add_to_linker::<_, Types>(&mut linker, InstanceState::types)
        .map_err(|e| link("plaza:host/types", e))?;
    plaza_world::storage::add_to_linker::<_, Storage>(&mut linker, InstanceState::storage)
        .map_err(|e| link("plaza:host/storage", e))?;
    plaza_world::log::add_to_linker::<_, Log>(&mut linker, InstanceState::log)
        .map_err(|e| link("plaza:host/log", e))?;
    plaza_world::clock::add_to_linker::<_, Clock>(&mut linker, InstanceState::clock)
        .map_err(|e| link("plaza:host/clock", e))?;
    plaza_world::identity::add_to_linker::<_, Identity>(&mut linker, InstanceState::identity)
        .map_err(|e| link("plaza:host/identity", e))?;
    plaza_world::payment::add_to_linker::<_, Payment>(&mut linker, InstanceState::payment)
        .map_err(|e| link("plaza:host/payment", e))?;
    plaza_world::refunds::add_to_linker::<_, Payment>(&mut linker, InstanceState::payment)
        .map_err(|e| link("plaza:host/refunds", e))?;
    plaza_world::messaging::add_to_linker::<_, Messaging>(&mut linker, InstanceState::messaging)
        .map_err(|e| link("plaza:host/messaging", e))?;
    plaza_world::config::add_to_linker::<_, Config>(&mut linker, InstanceState::config)
        .map_err(|e| link("plaza:host/config", e))?;
    plaza_world::media::add_to_linker::<_, Media>(&mut linker, InstanceState::media)
        .map_err(|e| link("plaza:host/media", e))?;
    plaza_world::scan::add_to_linker::<_, Scan>(&mut linker, InstanceState::scan)
        .map_err(|e| link("plaza:host/scan", e))?;
    Ok(linker)
}

/// The WASI wall clock of a session follows the host's clock, so a test clock
/// governs guests' `SystemTime::now()` too.
struct HostClockForWasi(Arc<dyn crate::clock::Clock>);

impl wasmtime_wasi::HostWallClock for HostClockForWasi {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now_ms().max(0) as u64)
    }
}

/// A new session's store, with the mini-app's `settings` as the session
/// starts, its output captured into `stdout` and `stderr`,
/// with the sandbox's limiter and the deadline and busy-lane callback set.
pub(crate) fn new_store(
    engine: &Engine,
    services: &Arc<Services>,
    subject: Subject,
    settings: SessionSettings,
    stdout: OutputCapture,
    stderr: OutputCapture,
) -> Store<InstanceState> {
    let limits = &services.limits;
    let wasi = WasiCtxBuilder::new()
        .stdout(stdout)
        .stderr(stderr)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }))
        .wall_clock(HostClockForWasi(services.clock.clone()))
        .build();
    let lane = Arc::new(HeldLane::default());
    let gate = SessionGate::new(services.gate.clone(), subject, lane.clone());
    let net = SessionNetwork::new(gate.auditor(), services.network.clone(), limits.clone());
    // Host memory a guest can make the host hold, outside its linear memory:
    // so many resources, each set of header fields so large.
    let mut table = ResourceTable::new();
    table.set_max_capacity(limits.max_resources);
    let mut http = WasiHttpCtx::new();
    http.set_field_size_limit(limits.http_fields_bytes);
    let state = InstanceState {
        wasi,
        table,
        http,
        net,
        limiter: SandboxLimiter::new(limits),
        gate,
        settings,
        log: LogBudget::default(),
        services: services.clone(),
        lane,
        ticks_used: 0,
        deadline_ticks: limits.deadline_ticks(),
        deadline_hit: false,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_max_component_handles(limits.max_resources);
    let yield_after_ticks = limits.yield_after_ticks();
    store.epoch_deadline_callback(move |mut ctx| {
        let s = ctx.data_mut();
        s.ticks_used += 1;
        if s.ticks_used >= s.deadline_ticks {
            s.deadline_hit = true;
            return Err(wasmtime::Error::msg("CPU deadline exceeded"));
        }
        // A short event runs to its end. Past its grace, a busy guest gives
        // up its lane at each tick, goes to the back of the run queue, and
        // waits for a lane (off the queue, without using ticks) before its
        // next slice: however many guests loop, they share
        // `busy_lanes` worker threads and the rest serve everyone else.
        if s.ticks_used < yield_after_ticks {
            return Ok(UpdateDeadline::Continue(1));
        }
        s.lane.release();
        let (lanes, ticks, held) = (s.services.busy_lanes.clone(), s.ticks_used, s.lane.clone());
        Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                tokio::task::yield_now().await;
                held.hold(lanes.acquire(ticks).await, ticks);
            }),
        ))
    });
    store.set_epoch_deadline(1);
    store
}

impl InstanceState {
    /// Starts an event: the deadline, the per-event allowances and memos
    /// start afresh; `gesture` says whether it is a user's tap or form.
    pub(crate) fn start_event(&mut self, gesture: bool) {
        self.ticks_used = 0;
        self.deadline_hit = false;
        self.gate.start_event(gesture);
        self.log = LogBudget::default();
        self.lane.reset_user_wait();
    }

    /// The lane the event holds, for [`crate::lanes::run_releasing_while_waiting`].
    pub(crate) fn held_lane(&self) -> Arc<HeldLane> {
        self.lane.clone()
    }

    /// The Plaza link the user chose to open in the event just handled (a
    /// scanned code), taken once.
    pub(crate) fn take_accepted_link(&mut self) -> Option<crate::link::Link> {
        self.gate.take_accepted_link()
    }

    /// Ends an event: a lane it held is free for the next busy event.
    pub(crate) fn end_event(&mut self) {
        self.lane.release();
    }

    /// The session's way through the gate (for the session's own audit
    /// entries: started, ended, a page refused).
    pub(crate) fn gate(&self) -> &SessionGate {
        &self.gate
    }

    /// Why a call into the guest failed.
    pub(crate) fn fault(&self, e: &wasmtime::Error, stderr_tail: &str) -> GuestFault {
        if self.deadline_hit {
            return GuestFault::Deadline {
                limit_ms: self.services.limits.cpu_deadline.as_millis() as u64,
            };
        }
        if let Some(fault) = &self.limiter.hit {
            return fault.clone();
        }
        if let Some(v) = e.downcast_ref::<SandboxViolation>() {
            return v.0.clone();
        }
        if let Some(fault) = self.host_resource_fault(e) {
            return fault;
        }
        if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
            if *trap == wasmtime::Trap::StackOverflow {
                return GuestFault::StackOverflow;
            }
            let mut msg = trap.to_string();
            if !stderr_tail.is_empty() {
                msg.push_str(&format!(" (its last output: {stderr_tail})"));
            }
            return GuestFault::Trap(msg);
        }
        GuestFault::Trap(format!("{e:#}"))
    }

    /// The cap on host resources a failed host call hit, if any: the
    /// resource table or the component handles full, or a set of header
    /// fields over its size.
    fn host_resource_fault(&self, e: &wasmtime::Error) -> Option<GuestFault> {
        let limits = &self.services.limits;
        for cause in e.chain() {
            let table_full = matches!(
                cause.downcast_ref::<ResourceTableError>(),
                Some(ResourceTableError::Full)
            );
            // Wasmtime's own words for its per-store handle cap.
            if table_full || cause.to_string().contains("store handle limit exceeded") {
                return Some(GuestFault::ResourceLimit {
                    limit: limits.max_resources,
                });
            }
            if matches!(
                cause.downcast_ref::<FieldMapError>(),
                Some(FieldMapError::TotalSizeTooBig | FieldMapError::TooManyFields)
            ) {
                return Some(GuestFault::HttpFieldsLimit {
                    limit_bytes: limits.http_fields_bytes,
                });
            }
        }
        None
    }
}
