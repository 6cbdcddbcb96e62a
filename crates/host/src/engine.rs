//! The Wasmtime engine behind a host: configuration (component model, async,
//! epoch interruption, pooling allocator), the epoch ticker, the on-disk cache
//! of compiled components, the install-time check of a component's imports
//! against its manifest, and the [`Runtime`] that keeps the loaded mini-apps.

use crate::error::{Error, Result};
use crate::instance::{self, InstanceState, LoadedApp};
use crate::loaded::LoadedApps;
use crate::manifest::{Capability, Manifest};
use crate::sandbox::SandboxLimits;
use crate::services::Services;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// The WASI 0.2 packages linked (with nothing behind what reaches outside).
pub const WASI_PACKAGES: [&str; 6] = [
    "wasi:io",
    "wasi:clocks",
    "wasi:random",
    "wasi:cli",
    "wasi:filesystem",
    "wasi:sockets",
];

/// Builds the engine for a host's limits.
pub(crate) fn build_engine(limits: &SandboxLimits) -> Result<Engine> {
    Engine::new(&engine_config(limits)).map_err(|e| Error::Engine {
        message: format!("{e:#}"),
        source: e.into(),
    })
}

/// The Wasmtime configuration a host with these limits runs under (component
/// model, epoch interruption, a pooling allocator sized for
/// `max_live_sessions`). Public so that a bare Wasmtime host in the
/// benchmark suite (`plaza-bench`) runs on exactly the same engine.
pub fn engine_config(limits: &SandboxLimits) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(limits.wasm_stack_bytes);
    config.async_stack_size(limits.wasm_stack_bytes + 1024 * 1024);
    // Bounds-checked memories no larger than the session cap: a pool of
    // thousands of sessions then reserves gigabytes, not terabytes, of
    // address space.
    let reservation = limits.memory_bytes.next_multiple_of(64 * 1024);
    config.memory_reservation(reservation);
    config.memory_guard_size(64 * 1024);
    config.memory_reservation_for_growth(0);

    let n = limits.max_live_sessions.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(n);
    // Each session may use the per-component caps in full (a component
    // over them is refused at install: `check_shape`), so one heavy
    // mini-app's sessions cannot take the others' share.
    pool.total_core_instances(n.saturating_mul(limits.instances as u32));
    pool.total_memories(n.saturating_mul(limits.memories as u32));
    pool.total_tables(n.saturating_mul(limits.tables as u32));
    pool.total_stacks(n);
    pool.max_memory_size(reservation as usize);
    pool.table_elements(limits.table_elements as usize);
    pool.max_core_instances_per_component(limits.instances as u32);
    pool.max_tables_per_component(limits.tables as u32);
    pool.max_memories_per_component(limits.memories as u32);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Starts a thread that advances the engine's epoch every `tick`, for as long
/// as the engine lives.
pub(crate) fn start_epoch_ticker(engine: &Engine, tick: std::time::Duration) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("plaza-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the epoch ticker: {e}; CPU deadlines will not fire");
    }
}

/// A stable fingerprint of the engine's compilation settings (and Wasmtime's
/// version): compiled code is reused only by an engine with the same one.
pub(crate) fn engine_fingerprint(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Counts of how components were obtained.
#[derive(Debug, Default)]
pub(crate) struct CacheCounters {
    pub(crate) compiled: AtomicU64,
    pub(crate) loaded: AtomicU64,
}

/// Compiled components, kept on disk by content hash and engine fingerprint.
#[derive(Debug)]
pub(crate) struct ComponentCache {
    dir: Option<PathBuf>,
    pub(crate) counters: CacheCounters,
}

impl ComponentCache {
    pub(crate) fn new(dir: Option<PathBuf>) -> ComponentCache {
        ComponentCache {
            dir,
            counters: CacheCounters::default(),
        }
    }

    fn path(&self, engine: &Engine, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| {
            d.join(engine_fingerprint(engine))
                .join(format!("{sha256}.cwasm"))
        })
    }

    /// The compiled component for `bytes` (whose SHA-256 is `sha256`): from
    /// the cache if there, compiled (and cached) otherwise.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        app: &str,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<Component> {
        let path = self.path(engine, sha256);
        if let Some(path) = &path
            && path.exists()
        {
            // SAFETY: the cache directory belongs to the host; the files in it
            // were written by `Component::serialize` of an engine with the same
            // fingerprint. Wasmtime checks the header and settings again and
            // refuses a file that does not match.
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(c) => {
                    self.counters.loaded.fetch_add(1, Ordering::Relaxed);
                    return Ok(c);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), "ignoring unusable compiled component: {e:#}");
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        let component = Component::new(engine, bytes).map_err(|e| Error::InvalidComponent {
            app: app.to_string(),
            message: format!("{e:#}"),
            source: Some(e.into()),
        })?;
        self.counters.compiled.fetch_add(1, Ordering::Relaxed);
        if let Some(path) = &path
            && let Err(e) = write_atomically(path, &component)
        {
            // The cache is an optimisation: a host that cannot write it still works.
            tracing::warn!(path = %path.display(), "cannot cache the compiled component: {e}");
        }
        Ok(component)
    }
}

fn write_atomically(path: &Path, component: &Component) -> std::result::Result<(), String> {
    let bytes = component.serialize().map_err(|e| format!("{e:#}"))?;
    let dir = path.parent().ok_or("no parent directory")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("c"),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

/// What an import of a component is, as far as the host is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImportKind {
    /// A Plaza capability interface.
    Capability(Capability),
    /// `plaza:host/types`: types only, always allowed.
    PlazaTypes,
    /// A WASI 0.2 interface the host links.
    Wasi,
    /// Anything else.
    Unsupported,
}

/// Classifies an import name such as `plaza:host/storage@0.1.0`.
pub(crate) fn classify_import(name: &str) -> ImportKind {
    let (path, version) = match name.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (name, None),
    };
    let Some((package, interface)) = path.split_once('/') else {
        return ImportKind::Unsupported;
    };
    if package == plaza_world::PACKAGE {
        if !version.is_some_and(|v| v.starts_with("0.1.")) {
            return ImportKind::Unsupported;
        }
        if interface == "types" {
            return ImportKind::PlazaTypes;
        }
        // Idempotent refunds: an interface of the payment capability.
        if interface == "refunds" {
            return ImportKind::Capability(Capability::Payment);
        }
        return match Capability::from_interface(interface) {
            Some(c) => ImportKind::Capability(c),
            None => ImportKind::Unsupported,
        };
    }
    if package == "wasi:http" && version.is_some_and(|v| v.starts_with("0.2.")) {
        // The outgoing side only: a mini-app makes requests, it serves none.
        return match interface {
            "outgoing-handler" | "types" => ImportKind::Capability(Capability::Network),
            _ => ImportKind::Unsupported,
        };
    }
    if WASI_PACKAGES.contains(&package) && version.is_some_and(|v| v.starts_with("0.2.")) {
        return ImportKind::Wasi;
    }
    ImportKind::Unsupported
}

/// Checks that a component imports only what its manifest declares and what
/// the host provides, from its import names (see [`component_imports`]).
pub(crate) fn check_imports<'a>(
    imports: impl IntoIterator<Item = &'a str>,
    manifest: &Manifest,
) -> Result<()> {
    let app = &manifest.app.id;
    for name in imports {
        match classify_import(name) {
            ImportKind::Capability(c) if !manifest.declares(c) => {
                return Err(Error::UndeclaredImport {
                    app: app.clone(),
                    interface: name.to_string(),
                    capability: c.as_str().to_string(),
                });
            }
            ImportKind::Unsupported => {
                return Err(Error::UnsupportedImport {
                    app: app.clone(),
                    interface: name.to_string(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// What one instance of a component takes from the pool: its core
/// instances and the memories and tables they define.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ComponentShape {
    /// Core module instances.
    pub core_instances: usize,
    /// Linear memories the instantiated modules define.
    pub memories: usize,
    /// Tables the instantiated modules define.
    pub tables: usize,
}

/// Counts a component's core instances, memories and tables, as Wasmtime's
/// pooling allocator does (every module instantiation, with the memories
/// and tables its module defines), from its bytes.
pub fn component_shape(bytes: &[u8]) -> std::result::Result<ComponentShape, String> {
    use wasmparser::{
        ComponentAlias, ComponentOuterAliasKind, ComponentTypeRef, Encoding, Instance, Parser,
        Payload,
    };
    /// A component's core modules (memories and tables each defines), or
    /// the module being read.
    enum Scope {
        Component(Vec<(usize, usize)>),
        Module(usize, usize),
    }
    let mut shape = ComponentShape::default();
    let mut stack: Vec<Scope> = Vec::new();
    /// The modules of the component `up` levels out from the innermost.
    fn modules(stack: &mut [Scope], up: usize) -> Option<&mut Vec<(usize, usize)>> {
        let i = stack.len().checked_sub(1 + up)?;
        match stack.get_mut(i) {
            Some(Scope::Component(m)) => Some(m),
            _ => None,
        }
    }
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            Payload::Version { encoding, .. } => stack.push(match encoding {
                Encoding::Module => Scope::Module(0, 0),
                Encoding::Component => Scope::Component(Vec::new()),
            }),
            Payload::MemorySection(r) => {
                if let Some(Scope::Module(m, _)) = stack.last_mut() {
                    *m += r.count() as usize;
                }
            }
            Payload::TableSection(r) => {
                if let Some(Scope::Module(_, t)) = stack.last_mut() {
                    *t += r.count() as usize;
                }
            }
            Payload::ComponentImportSection(r) => {
                for import in r {
                    if let ComponentTypeRef::Module(_) = import.map_err(|e| e.to_string())?.ty {
                        // What an imported module defines is not known here;
                        // Wasmtime still checks it when compiling.
                        if let Some(m) = modules(&mut stack, 0) {
                            m.push((0, 0));
                        }
                    }
                }
            }
            Payload::ComponentAliasSection(r) => {
                for alias in r {
                    if let ComponentAlias::Outer {
                        kind: ComponentOuterAliasKind::CoreModule,
                        count,
                        index,
                    } = alias.map_err(|e| e.to_string())?
                    {
                        let module = modules(&mut stack, count as usize)
                            .and_then(|m| m.get(index as usize).copied())
                            .unwrap_or((0, 0));
                        if let Some(m) = modules(&mut stack, 0) {
                            m.push(module);
                        }
                    }
                }
            }
            Payload::InstanceSection(r) => {
                for instance in r {
                    if let Instance::Instantiate { module_index, .. } =
                        instance.map_err(|e| e.to_string())?
                    {
                        let (m, t) = modules(&mut stack, 0)
                            .and_then(|m| m.get(module_index as usize).copied())
                            .unwrap_or((0, 0));
                        shape.core_instances += 1;
                        shape.memories += m;
                        shape.tables += t;
                    }
                }
            }
            Payload::End(_) => {
                if let Some(Scope::Module(m, t)) = stack.pop()
                    && let Some(modules) = modules(&mut stack, 0)
                {
                    modules.push((m, t));
                }
            }
            _ => {}
        }
    }
    Ok(shape)
}

/// Refuses a component that needs more core instances, memories or tables
/// than one session may use: the pool reserves exactly that per session.
pub(crate) fn check_shape(app: &str, bytes: &[u8], limits: &SandboxLimits) -> Result<()> {
    // A component that does not parse is refused by Wasmtime, with its words.
    let Ok(shape) = component_shape(bytes) else {
        return Ok(());
    };
    for (what, needs, limit) in [
        ("core instances", shape.core_instances, limits.instances),
        ("memories", shape.memories, limits.memories),
        ("tables", shape.tables, limits.tables),
    ] {
        if needs > limit {
            return Err(Error::ComponentTooLarge {
                app: app.to_string(),
                what: what.to_string(),
                needs,
                limit,
            });
        }
    }
    Ok(())
}

/// The engine, the linker, the compiled-component cache and the mini-apps
/// loaded from the store: what sessions run on. Shared by the host and every
/// session handle.
pub(crate) struct Runtime {
    pub(crate) engine: Engine,
    linker: Linker<InstanceState>,
    cache: ComponentCache,
    /// The mini-apps loaded, under the cap on their code.
    pub(crate) loaded: LoadedApps,
    /// A lock per mini-app being loaded: concurrent first uses of one
    /// mini-app load it once.
    loading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Mini-apps being uninstalled: no new instance of them starts.
    uninstalling: Mutex<std::collections::HashSet<String>>,
    /// What host calls need.
    pub(crate) services: Arc<Services>,
}

impl Runtime {
    /// A runtime on `engine` for `services`, caching compiled components in
    /// `cache_dir` and keeping at most `max_loaded_code_bytes` of mini-apps'
    /// compiled code loaded (beyond what live sessions hold).
    pub(crate) fn new(
        engine: Engine,
        services: Arc<Services>,
        cache_dir: Option<PathBuf>,
        max_loaded_code_bytes: u64,
    ) -> Result<Runtime> {
        let linker = instance::build_linker(&engine)?;
        Ok(Runtime {
            engine,
            linker,
            cache: ComponentCache::new(cache_dir),
            loaded: LoadedApps::new(max_loaded_code_bytes),
            loading: Mutex::new(HashMap::new()),
            uninstalling: Mutex::new(Default::default()),
            services,
        })
    }

    /// Compiles (or loads from the cache), checks and links a component, off
    /// the async workers. Returns the app (unsigned until the caller says)
    /// and the interfaces it imports.
    pub(crate) async fn prepare(
        self: &Arc<Self>,
        manifest: Arc<Manifest>,
        bytes: Arc<Vec<u8>>,
        sha: String,
    ) -> Result<(LoadedApp, Vec<String>)> {
        let runtime = self.clone();
        tokio::task::spawn_blocking(move || runtime.prepare_blocking(&manifest, &bytes, &sha))
            .await
            .map_err(|e| Error::Internal {
                message: format!("compile task: {e}"),
                source: Some(e.into()),
            })?
    }

    fn prepare_blocking(
        &self,
        manifest: &Arc<Manifest>,
        bytes: &[u8],
        sha: &str,
    ) -> Result<(LoadedApp, Vec<String>)> {
        let app = &manifest.app.id;
        check_shape(app, bytes, &self.services.limits)?;
        // Imports first: a refused component costs a parse, not a compile,
        // and leaves nothing in the cache.
        let imports = read_imports(app, bytes)?;
        check_imports(imports.iter().map(String::as_str), manifest)?;
        let component = self.cache.load(&self.engine, app, bytes, sha)?;
        let image = component.image_range();
        let code_bytes = (image.end as usize).saturating_sub(image.start as usize) as u64;
        let link_err = |e: wasmtime::Error| Error::InvalidComponent {
            app: app.clone(),
            message: format!("{e:#}"),
            source: Some(e.into()),
        };
        let pre = self.linker.instantiate_pre(&component).map_err(link_err)?;
        let pre = instance::AppPre::new(pre).map_err(link_err)?;
        Ok((
            LoadedApp {
                manifest: manifest.clone(),
                pre,
                signed: false,
                assets: Vec::new(),
                component_sha256: sha.to_string(),
                code_bytes,
            },
            imports,
        ))
    }

    /// Makes `app` the loaded version of its mini-app (unloading least
    /// recently used ones if the code passes the cap).
    pub(crate) fn set_loaded(&self, app: Arc<LoadedApp>) {
        self.loaded.insert(app);
    }

    /// Forgets the loaded version of `app_id`.
    pub(crate) fn forget(&self, app_id: &str) {
        self.loaded.remove(app_id);
    }

    /// Marks `app_id` as being uninstalled (`true`) or no longer (`false`):
    /// while it is, [`Runtime::loaded_app`] answers `NotInstalled`, so an
    /// event that arrives while its sessions end starts no instance.
    pub(crate) fn set_uninstalling(&self, app_id: &str, uninstalling: bool) {
        let mut set = self.uninstalling.lock().unwrap_or_else(|p| p.into_inner());
        if uninstalling {
            set.insert(app_id.to_string());
        } else {
            set.remove(app_id);
        }
    }

    /// Whether `app_id` is being uninstalled.
    pub(crate) fn is_uninstalling(&self, app_id: &str) -> bool {
        let set = self.uninstalling.lock().unwrap_or_else(|p| p.into_inner());
        set.contains(app_id)
    }

    /// Whether `app_id` is loaded.
    pub(crate) fn is_loaded(&self, app_id: &str) -> bool {
        self.loaded.contains(app_id)
    }

    fn not_installed(app_id: &str) -> Error {
        Error::NotInstalled {
            app: app_id.to_string(),
        }
    }

    /// The loaded mini-app, loading it from the store on first use (and
    /// again after it was unloaded for the cap).
    ///
    /// A loaded version is used while it is the store's: each new instance
    /// first reads the package's record (without its component), so a
    /// package updated or uninstalled through another host on the same
    /// database is what the next session here runs, or not at all.
    pub(crate) async fn loaded_app(self: &Arc<Self>, app_id: &str) -> Result<Arc<LoadedApp>> {
        if self.is_uninstalling(app_id) {
            return Err(Self::not_installed(app_id));
        }
        if let Some(app) = self.current(app_id)? {
            return Ok(app);
        }
        let gate = self.load_gate(app_id);
        let result = {
            let _loading = gate.lock().await;
            // A load this one waited for may have loaded it.
            match self.current(app_id) {
                Ok(Some(app)) => Ok(app),
                Ok(None) => self.load(app_id).await,
                Err(e) => Err(e),
            }
        };
        self.release_load_gate(app_id, gate);
        result
    }

    /// The loaded version of `app_id` if it is the one the store holds (a
    /// cheap read, without the component); a stale one is forgotten.
    fn current(&self, app_id: &str) -> Result<Option<Arc<LoadedApp>>> {
        let Some(app) = self.loaded.get(app_id) else {
            return Ok(None);
        };
        match self.services.store.package_info(app_id)? {
            Some(info)
                if info.component_sha256 == app.component_sha256
                    && info.version == app.manifest.app.version.to_string() =>
            {
                Ok(Some(app))
            }
            None => {
                self.forget(app_id);
                Err(Self::not_installed(app_id))
            }
            Some(_) => {
                self.forget(app_id);
                Ok(None)
            }
        }
    }

    fn load_gate(&self, app_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        loading.entry(app_id.to_string()).or_default().clone()
    }

    fn release_load_gate(&self, app_id: &str, gate: Arc<tokio::sync::Mutex<()>>) {
        let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        // The table's reference and this one: nobody else waits.
        if Arc::strong_count(&gate) == 2 {
            loading.remove(app_id);
        }
    }

    /// Loads `app_id`'s package from the store: compiled, or read from the
    /// compiled-component cache, and linked.
    async fn load(self: &Arc<Self>, app_id: &str) -> Result<Arc<LoadedApp>> {
        let Some(record) = self.services.store.get_package(app_id)? else {
            return Err(Self::not_installed(app_id));
        };
        let manifest = Arc::new(Manifest::parse(
            &format!("{} (installed)", record.app_id),
            &record.manifest,
        )?);
        // Signatures were checked at install.
        let signed = record.signature.is_some();
        let (mut loaded, _) = self
            .prepare(
                manifest,
                Arc::new(record.component),
                record.component_sha256,
            )
            .await?;
        loaded.signed = signed;
        loaded.assets = crate::package::decode_assets(&record.assets)
            .map(|a| a.into_iter().map(|a| a.name).collect())
            .unwrap_or_default();
        if self.is_uninstalling(app_id) {
            return Err(Self::not_installed(app_id));
        }
        tracing::debug!(app = %app_id, code_bytes = loaded.code_bytes, "loaded");
        Ok(self.loaded.insert(Arc::new(loaded)))
    }

    /// Components compiled, and loaded from the cache, since the start.
    pub(crate) fn cache_counts(&self) -> (u64, u64) {
        let c = &self.cache.counters;
        (
            c.compiled.load(Ordering::Relaxed),
            c.loaded.load(Ordering::Relaxed),
        )
    }
}

/// The names a component imports (`wasi:io/poll@0.2.6`,
/// `plaza:host/storage@0.1.0`, ...), read from its outermost import section
/// without compiling it: install checks them before any compilation, and
/// `plaza inspect` shows them.
pub fn component_imports(bytes: &[u8]) -> Result<Vec<String>> {
    read_imports("(inspected)", bytes)
}

/// [`component_imports`] of mini-app `app`'s component.
fn read_imports(app: &str, bytes: &[u8]) -> Result<Vec<String>> {
    use wasmparser::{Encoding, Parser, Payload};
    let invalid = |message: String| Error::InvalidComponent {
        app: app.to_string(),
        message,
        source: None,
    };
    let mut names = Vec::new();
    // 1 inside the component itself, more inside the modules and
    // components nested in it.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| invalid(e.to_string()))? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    return Err(invalid(
                        "a core WebAssembly module, not a component (build for wasm32-wasip2, or wrap it with `wasm-tools component new`)".into(),
                    ));
                }
                depth += 1;
            }
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    names.push(
                        import
                            .map_err(|e| invalid(e.to_string()))?
                            .name
                            .name
                            .to_string(),
                    );
                }
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(names)
}

/// Whether an import is a Plaza capability the manifest must declare, a
/// `plaza:host/types` or WASI import that needs nothing, or unsupported.
pub fn describe_import(name: &str, manifest: &Manifest) -> &'static str {
    match classify_import(name) {
        ImportKind::Capability(c) if manifest.declares(c) => "declared",
        ImportKind::Capability(_) => "NOT DECLARED",
        ImportKind::PlazaTypes => "types",
        ImportKind::Wasi => "wasi (sandboxed)",
        ImportKind::Unsupported => "UNSUPPORTED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_classified() {
        assert_eq!(
            classify_import("plaza:host/storage@0.1.0"),
            ImportKind::Capability(Capability::Storage)
        );
        assert_eq!(
            classify_import("plaza:host/types@0.1.0"),
            ImportKind::PlazaTypes
        );
        // A new interface of the same package: components built before it
        // never import it, and keep installing.
        assert_eq!(
            classify_import("plaza:host/config@0.1.0"),
            ImportKind::Capability(Capability::Config)
        );
        assert_eq!(
            classify_import("plaza:host/refunds@0.1.0"),
            ImportKind::Capability(Capability::Payment)
        );
        assert_eq!(
            classify_import("plaza:host/storage@0.2.0"),
            ImportKind::Unsupported
        );
        assert_eq!(
            classify_import("plaza:host/teleport@0.1.0"),
            ImportKind::Unsupported
        );
        assert_eq!(classify_import("wasi:io/poll@0.2.6"), ImportKind::Wasi);
        assert_eq!(classify_import("wasi:sockets/tcp@0.2.0"), ImportKind::Wasi);
        assert_eq!(
            classify_import("wasi:http/outgoing-handler@0.2.12"),
            ImportKind::Capability(Capability::Network)
        );
        assert_eq!(
            classify_import("wasi:http/types@0.2.6"),
            ImportKind::Capability(Capability::Network)
        );
        assert_eq!(
            classify_import("wasi:http/incoming-handler@0.2.12"),
            ImportKind::Unsupported
        );
        assert_eq!(
            classify_import("plaza:host/network@0.1.0"),
            ImportKind::Unsupported
        );
        assert_eq!(
            classify_import("wasi:io/poll@0.3.0"),
            ImportKind::Unsupported
        );
        assert_eq!(classify_import("env"), ImportKind::Unsupported);
    }
}
