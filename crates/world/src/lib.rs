//! Host-side bindings of Plaza's WIT contract (`host-api/wit`).
//!
//! `bindgen!` runs here and nowhere else: every other crate takes the generated
//! types from this one, so the host, the CLI and the tests agree on one
//! definition of an event, a page and a host error.
//!
//! Two worlds are bound: [`MiniApp`] (`plaza:host/mini-app`, exporting
//! `pages`) for components built against the current contract, and
//! [`v0_1::MiniAppV01`] (`plaza:host/mini-app-v0-1`, exporting the frozen
//! `app`) for components built against `plaza:host@0.1.0`. Both share the
//! imported interfaces; Wasmtime matches a component's `@0.1.0` names to
//! these `@0.1.1` ones (same major and minor version).
//!
//! ```
//! use plaza_world::plaza::host::types::Error;
//! let denied = Error::Denied("payment is not declared in plaza.toml".into());
//! assert!(matches!(denied, Error::Denied(_)));
//! ```

wasmtime::component::bindgen!({
    path: "../../host-api/wit",
    world: "plaza:host/mini-app",
    imports: { default: async },
    exports: { default: async },
});

/// The world of components built against `plaza:host@0.1.0`: the same
/// imports (taken from the crate root), the `app` interface exported.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../../host-api/wit",
        world: "plaza:host/mini-app-v0-1",
        imports: { default: async },
        exports: { default: async },
        with: {
            "plaza:host/types": crate::plaza::host::types,
            "plaza:host/identity": crate::plaza::host::identity,
            "plaza:host/payment": crate::plaza::host::payment,
            "plaza:host/refunds": crate::plaza::host::refunds,
            "plaza:host/messaging": crate::plaza::host::messaging,
            "plaza:host/storage": crate::plaza::host::storage,
            "plaza:host/log": crate::plaza::host::log,
            "plaza:host/clock": crate::plaza::host::clock,
            "plaza:host/config": crate::plaza::host::config,
            "plaza:host/media": crate::plaza::host::media,
            "plaza:host/scan": crate::plaza::host::scan,
        },
    });
}

/// The version of the `plaza:host` WIT package these bindings were made from.
pub const CONTRACT_VERSION: &str = "0.1.1";

/// The package name of Plaza's own interfaces in component import names.
pub const PACKAGE: &str = "plaza:host";

pub use exports::plaza::host::pages;
pub use plaza::host::{
    clock, config, identity, log, media, messaging, payment, refunds, scan, storage, types,
};
pub use v0_1::exports::plaza::host::app;
