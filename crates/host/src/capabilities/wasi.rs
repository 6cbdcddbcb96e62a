//! What WASI refuses a mini-app, written to the audit log.
//!
//! Every session links WASI 0.2 with nothing behind it (`instance.rs`): no
//! directories, no sockets, no name lookup. Wasmtime's WASI refuses those
//! calls on its own, unseen by the gate; this module links, over Wasmtime's,
//! the calls where a refusal starts, so the gate audits each kind once per
//! event (a loop of refused calls writes one entry):
//!
//! - `wasi.sockets`: `tcp-create-socket`, `udp-create-socket` and
//!   `ip-name-lookup.resolve-addresses` answer `access-denied`. Every
//!   connection, bind, listen or lookup starts with one of them.
//! - `wasi.filesystem`: `preopens.get-directories` answers no directory. A
//!   file is reached only from a preopened directory, so that is where any
//!   path operation starts. A guest's libc asks once per instance and
//!   remembers the empty answer: the host sees (and audits) the first file
//!   operation of a session's instance, not each one.
//!
//! The answers are Wasmtime's own refusals (a socket's creation is refused
//! before any socket exists), sooner for a name lookup (`access-denied` at
//! once rather than a resolver failure from its stream).

use crate::gate::SessionGate;
use wasmtime::component::{Linker, Resource, ResourceAny};
use wasmtime::{Result, StoreContextMut};
use wasmtime_wasi::p2::Network;
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily};

/// The version of the WASI interfaces Wasmtime links (what its definitions
/// are named; a guest importing an older 0.2 version reaches them too).
const WASI_VERSION: &str = "0.2.12";

/// The audited kind of a refused socket or name lookup.
pub const SOCKETS: &str = "wasi.sockets";
/// The audited kind of a refused file system request.
pub const FILESYSTEM: &str = "wasi.filesystem";

const SOCKETS_REFUSED: &str = "a socket or a name lookup through wasi:sockets: Plaza gives mini-apps no sockets; send HTTP requests through wasi:http to the origins in [capabilities.network]";
const FILESYSTEM_REFUSED: &str = "the file system through wasi:filesystem: Plaza gives mini-apps no files or directories; keep data with plaza:host/storage";

/// Links the refusing calls over Wasmtime's WASI, in a linker that has WASI
/// already; `gate` projects the session's gate out of the store data.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    gate: fn(&mut T) -> &mut SessionGate,
) -> Result<()> {
    linker.allow_shadowing(true);
    let linked = link(linker, gate);
    linker.allow_shadowing(false);
    linked
}

fn link<T: 'static>(linker: &mut Linker<T>, gate: fn(&mut T) -> &mut SessionGate) -> Result<()> {
    let refuse = move |store: &mut StoreContextMut<'_, T>, kind: &str, detail: &str| {
        gate(store.data_mut()).refuse_once_per_event(kind, detail);
    };
    let socket_refused = move |mut store: StoreContextMut<'_, T>,
                               (_family,): (IpAddressFamily,)|
          -> Result<(Result<ResourceAny, ErrorCode>,)> {
        refuse(&mut store, SOCKETS, SOCKETS_REFUSED);
        Ok((Err(ErrorCode::AccessDenied),))
    };
    for (interface, function) in [
        ("tcp-create-socket", "create-tcp-socket"),
        ("udp-create-socket", "create-udp-socket"),
    ] {
        linker
            .instance(&format!("wasi:sockets/{interface}@{WASI_VERSION}"))?
            .func_wrap(function, socket_refused)?;
    }
    linker
        .instance(&format!("wasi:sockets/ip-name-lookup@{WASI_VERSION}"))?
        .func_wrap(
            "resolve-addresses",
            move |mut store: StoreContextMut<'_, T>,
                  (_network, _name): (Resource<Network>, String)|
                  -> Result<(Result<ResourceAny, ErrorCode>,)> {
                refuse(&mut store, SOCKETS, SOCKETS_REFUSED);
                Ok((Err(ErrorCode::AccessDenied),))
            },
        )?;
    linker
        .instance(&format!("wasi:filesystem/preopens@{WASI_VERSION}"))?
        .func_wrap(
            "get-directories",
            move |mut store: StoreContextMut<'_, T>,
                  (): ()|
                  -> Result<(Vec<(ResourceAny, String)>,)> {
                refuse(&mut store, FILESYSTEM, FILESYSTEM_REFUSED);
                Ok((Vec::new(),))
            },
        )?;
    Ok(())
}
