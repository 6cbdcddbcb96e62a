//! The floor: a bare Wasmtime host on the same `plaza-world` bindings and the
//! same engine configuration as Plaza ([`plaza_host::engine_config`]), with
//! trivial host calls (storage in a `HashMap`, the clock a constant,
//! everything else refused) and nothing else: no gate, no audit, no limiter,
//! no page checks, no page stack. Instances come from an `InstancePre`.
//!
//! [`BareHost::instance_on`] gives an instance whose storage calls go
//! straight to Plaza's store ([`KvStore::kv_get`] / [`KvStore::kv_set`]): the
//! floor of a host that keeps the same data durably, so a comparison with
//! Plaza on that floor shows what the rest of the host costs.

use anyhow::Result;
use plaza_host::sandbox::SandboxLimits;
use plaza_host::store::{KvStore, KvWrite};
use plaza_world::pages::{Event, LaunchEvent, Page};
use plaza_world::types::Error as WitError;
use plaza_world::{MiniApp, MiniAppPre, clock, identity, log, messaging, payment, storage};
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What the bare host's calls see.
pub struct BareState {
    wasi: WasiCtx,
    /// `wasi:http` linked (a mini-app with the network capability imports
    /// it) with Wasmtime's default hooks; the benchmarks send no request.
    http: WasiHttpCtx,
    table: ResourceTable,
    kv: HashMap<String, Vec<u8>>,
    /// Storage in Plaza's store instead of `kv` (get and set only).
    store: Option<Arc<dyn KvStore>>,
}

impl WasiHttpView for BareState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: wasmtime_wasi_http::default_hooks(),
        }
    }
}

/// The user and mini-app a bare instance on a store writes as.
const STORE_USER: &str = "bare-user";
const STORE_APP: &str = "bare.app";

impl WasiView for BareState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn refused() -> WitError {
    WitError::Denied("not offered by the bare host".into())
}

impl plaza_world::types::Host for BareState {}

impl storage::Host for BareState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, WitError> {
        match &self.store {
            Some(store) => store
                .kv_get(STORE_USER, STORE_APP, &key)
                .map_err(|e| WitError::Unavailable(e.to_string())),
            None => Ok(self.kv.get(&key).cloned()),
        }
    }
    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), WitError> {
        match &self.store {
            Some(store) => match store.kv_set(STORE_USER, STORE_APP, &key, &value, u64::MAX) {
                Ok(KvWrite::Written) => Ok(()),
                Ok(other) => Err(WitError::LimitExceeded(format!("{other:?}"))),
                Err(e) => Err(WitError::Unavailable(e.to_string())),
            },
            None => {
                self.kv.insert(key, value);
                Ok(())
            }
        }
    }
    async fn delete(&mut self, key: String) -> Result<bool, WitError> {
        Ok(self.kv.remove(&key).is_some())
    }
    async fn list_keys(&mut self, prefix: String, limit: u32) -> Result<Vec<String>, WitError> {
        let mut keys: Vec<String> = self
            .kv
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        keys.sort();
        keys.truncate(limit as usize);
        Ok(keys)
    }
    async fn get_usage(&mut self) -> Result<storage::Usage, WitError> {
        Ok(storage::Usage {
            used_bytes: self
                .kv
                .iter()
                .map(|(k, v)| (k.len() + v.len()) as u64)
                .sum(),
            quota_bytes: 10 * 1024 * 1024,
            keys: self.kv.len() as u32,
        })
    }
}

impl clock::Host for BareState {
    async fn now(&mut self) -> clock::Datetime {
        clock::Datetime {
            unix_ms: 1_795_222_800_000,
            utc_offset_minutes: 480,
        }
    }
}

impl plaza_world::config::Host for BareState {
    async fn get(&mut self, _name: String) -> Result<String, WitError> {
        Err(refused())
    }
}

/// The bare host keeps no files: every media call is refused.
impl plaza_world::media::Host for BareState {
    async fn choose_image(
        &mut self,
        _source: plaza_world::media::Source,
        _purpose: String,
    ) -> Result<plaza_world::media::Handle, plaza_world::media::MediaError> {
        Err(media_refused())
    }
    async fn choose_file(
        &mut self,
        _kinds: Vec<plaza_world::media::MediaKind>,
        _purpose: String,
    ) -> Result<plaza_world::media::Handle, plaza_world::media::MediaError> {
        Err(media_refused())
    }
    async fn read(&mut self, _id: String) -> Result<Vec<u8>, plaza_world::media::MediaError> {
        Err(media_refused())
    }
    async fn delete(&mut self, _id: String) -> Result<bool, plaza_world::media::MediaError> {
        Err(media_refused())
    }
}

/// The bare host has no scanner: every scan is refused.
impl plaza_world::scan::Host for BareState {
    async fn scan_code(
        &mut self,
        _purpose: String,
        _kinds: Vec<plaza_world::scan::CodeKind>,
    ) -> Result<plaza_world::scan::Scanned, plaza_world::scan::ScanError> {
        Err(plaza_world::scan::ScanError::Denied(
            "the bare host has no scanner".into(),
        ))
    }
}

fn media_refused() -> plaza_world::media::MediaError {
    plaza_world::media::MediaError::Denied("the bare host keeps no files".into())
}

impl log::Host for BareState {
    async fn write(&mut self, _level: log::Level, _message: String) {}
}

impl identity::Host for BareState {
    async fn openid(&mut self) -> Result<String, WitError> {
        Err(refused())
    }
    async fn unionid(&mut self) -> Result<String, WitError> {
        Err(refused())
    }
    async fn login(&mut self) -> Result<identity::LoginCode, WitError> {
        Err(refused())
    }
    async fn get_profile(&mut self) -> Result<identity::Profile, WitError> {
        Err(refused())
    }
    async fn get_phone(&mut self) -> Result<String, WitError> {
        Err(refused())
    }
    async fn get_real_name(&mut self) -> Result<identity::RealName, WitError> {
        Err(refused())
    }
    async fn get_location(
        &mut self,
        _precision: identity::LocationPrecision,
    ) -> Result<identity::Location, WitError> {
        Err(refused())
    }
    async fn get_insurance_card(&mut self) -> Result<identity::InsuranceCard, WitError> {
        Err(refused())
    }
}

impl payment::Host for BareState {
    async fn request(
        &mut self,
        _request: payment::PaymentRequest,
    ) -> Result<payment::PaymentOutcome, WitError> {
        Err(refused())
    }
    async fn refund(
        &mut self,
        _order_id: String,
        _amount: u64,
        _reason: String,
    ) -> Result<payment::RefundReceipt, WitError> {
        Err(refused())
    }
    async fn query(&mut self, _order_id: String) -> Result<payment::PaymentRecord, WitError> {
        Err(refused())
    }
    async fn history(
        &mut self,
        _cursor: Option<String>,
        _limit: u32,
    ) -> Result<payment::HistoryPage, WitError> {
        Err(refused())
    }
}

impl plaza_world::refunds::Host for BareState {
    async fn refund(
        &mut self,
        _order_id: String,
        _refund_id: String,
        _amount: u64,
        _reason: String,
    ) -> Result<payment::RefundReceipt, WitError> {
        Err(refused())
    }
}

impl messaging::Host for BareState {
    async fn subscribe(
        &mut self,
        _template_ids: Vec<String>,
    ) -> Result<Vec<messaging::SubscriptionResult>, WitError> {
        Err(refused())
    }
    async fn send(
        &mut self,
        _template_id: String,
        _fields: Vec<plaza_world::types::FieldValue>,
    ) -> Result<String, WitError> {
        Err(refused())
    }
    async fn broadcast(
        &mut self,
        _title: String,
        _text: String,
    ) -> Result<messaging::BroadcastResult, WitError> {
        Err(refused())
    }
    async fn reply(&mut self, _text: String) -> Result<String, WitError> {
        Err(refused())
    }
}

/// A component pre-linked on the bare host.
pub struct BareHost {
    engine: Engine,
    pre: MiniAppPre<BareState>,
}

impl BareHost {
    /// Compiles `component` on an engine configured as Plaza's for `limits`.
    pub fn new(limits: &SandboxLimits, component: &[u8]) -> Result<BareHost> {
        let engine = Engine::new(&plaza_host::engine_config(limits))?;
        // Plaza's engine interrupts on epochs; nothing advances this one's, so
        // the deadline set per store never passes.
        let component = Component::new(&engine, component)
            .map_err(|e| anyhow::anyhow!("compiling the component: {e:#}"))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        MiniApp::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        let pre = MiniAppPre::new(linker.instantiate_pre(&component)?)?;
        Ok(BareHost { engine, pre })
    }

    /// A new instance in a new store, its storage in a `HashMap`.
    pub async fn instance(&self) -> Result<BareInstance> {
        self.new_instance(None).await
    }

    /// A new instance whose storage gets and sets go to `kv` (Plaza's store
    /// trait, no quota): the same durable writes as Plaza's, none of the rest.
    pub async fn instance_on(&self, kv: Arc<dyn KvStore>) -> Result<BareInstance> {
        self.new_instance(Some(kv)).await
    }

    async fn new_instance(&self, kv: Option<Arc<dyn KvStore>>) -> Result<BareInstance> {
        let mut store = Store::new(
            &self.engine,
            BareState {
                wasi: WasiCtx::builder().build(),
                http: WasiHttpCtx::new(),
                table: ResourceTable::new(),
                kv: HashMap::new(),
                store: kv,
            },
        );
        store.set_epoch_deadline(u64::MAX / 2);
        let bindings = self.pre.instantiate_async(&mut store).await?;
        Ok(BareInstance { store, bindings })
    }
}

/// A live instance on the bare host.
pub struct BareInstance {
    store: Store<BareState>,
    bindings: MiniApp,
}

impl BareInstance {
    /// Delivers an event; the page the guest answered.
    pub async fn send(&mut self, event: &Event) -> Result<Page> {
        Ok(self
            .bindings
            .plaza_host_pages()
            .call_handle(&mut self.store, event)
            .await?)
    }

    /// Launches at `path` (no query).
    pub async fn launch(&mut self, path: &str) -> Result<Page> {
        self.send(&Event::Launch(LaunchEvent {
            path: path.into(),
            query: Vec::new(),
            locale: String::new(),
        }))
        .await
    }

    /// Taps `action` (not checked against any page).
    pub async fn tap(&mut self, action: &str) -> Result<Page> {
        self.send(&Event::Tap(action.into())).await
    }
}
