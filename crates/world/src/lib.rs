//! Host-side bindings of Plaza's WIT contract (`host-api/wit`).
//!
//! `bindgen!` runs here and nowhere else: every other crate takes the generated
//! types from this one, so the host, the CLI and the tests agree on one
//! definition of an event, a page and a host error.
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

/// The version of the `plaza:host` WIT package these bindings were made from.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// The package name of Plaza's own interfaces in component import names.
pub const PACKAGE: &str = "plaza:host";

pub use exports::plaza::host::app;
pub use plaza::host::{
    clock, config, identity, log, messaging, payment, refunds, storage, types,
};
