//! Write [Plaza](https://example.invalid/plaza) mini-apps in Rust.
//!
//! A mini-app is a WebAssembly component that answers each [`Event`] the
//! host delivers (a launch, a tap, a form submit, ...) with the [`Page`] the
//! user should see next. This crate gives you:
//!
//! - the [`App`] trait and the [`export_app!`] macro, which export your type
//!   as the component's `plaza:host/pages` interface and keep one instance of it
//!   alive for the whole session, so it keeps its memory between events;
//! - the page types with friendly names ([`Page`], [`Block`], [`Navigation`],
//!   ...) and a [`PageBuilder`];
//! - typed host calls, one module per capability: [`storage`], [`log`],
//!   [`clock`], [`identity`], [`payment`], [`messaging`] and [`config`]
//!   (the operator's settings). A call returns
//!   a [`HostError`] as data when the host says no;
//! - [`http`]: requests to the origins the manifest lists, over the standard
//!   `wasi:http` interface.
//!
//! Build with `cargo build --release --target wasm32-wasip2` on a `cdylib`
//! crate: the result is a component. The component imports only the
//! capability interfaces whose functions your code calls, and the manifest
//! (`plaza.toml`) must declare each of them, or the host refuses the package
//! at install. The SDK itself never calls the host on its own.
//!
//! ```no_run
//! use plaza_sdk::{App, Event, Page};
//!
//! #[derive(Default)]
//! struct Counter {
//!     taps: u32,
//! }
//!
//! impl App for Counter {
//!     fn handle(&mut self, event: Event) -> Page {
//!         if event.action() == Some("tap") {
//!             self.taps += 1;
//!         }
//!         Page::builder("Counter")
//!             .field("Taps", self.taps.to_string())
//!             .primary_button("Tap me", "tap")
//!             .replace()
//!             .build()
//!     }
//! }
//!
//! plaza_sdk::export_app!(Counter);
//! ```
//!
//! The raw bindings generated from the WIT contract (`host-api/wit`, world
//! `plaza:host/mini-app`) are in [`bindings`], for anything this crate does
//! not wrap.

mod error;
mod event;
mod page;

pub mod clock;
pub mod config;
pub mod http;
pub mod identity;
pub mod log;
pub mod media;
pub mod messaging;
pub mod payment;
pub mod scan;
pub mod storage;

/// The bindings `wit-bindgen` generates from the WIT contract.
///
/// Generated once, here; everything else in the SDK builds on them. The
/// `types.error` variant is mapped to the hand-written [`HostError`] so that
/// it can print itself for people.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../host-api/wit",
        world: "plaza:host/mini-app",
        pub_export_macro: true,
        default_bindings_module: "plaza_sdk::bindings",
        additional_derives: [PartialEq],
        with: {
            "plaza:host/types@0.1.1/error": crate::HostError,
        },
    });
}

pub use crate::error::HostError;
pub use crate::event::field;
pub use crate::page::PageBuilder;
pub use bindings::exports::plaza::host::pages::{
    Block, Button, ButtonStyle, ChatMessage, ChoiceOption, Constraints, Event, Image, Input,
    InputKind, KeyValue, LaunchEvent, ListItem, Navigation, Notice, NoticeLevel, Page, Section,
    SubmitEvent,
};
pub use bindings::plaza::host::types::FieldValue;

/// A mini-app: takes the session's events one at a time and answers each with
/// a page.
///
/// Export it with [`export_app!`]. The instance is created with
/// [`Default::default`] when the session's first event arrives and lives as
/// long as the session, so fields keep their values between events. State
/// that must survive the session goes to [`storage`].
pub trait App {
    /// Handles one event and answers the page the user should see next.
    fn handle(&mut self, event: Event) -> Page;
}

/// Exports a type implementing [`App`] (and [`Default`]) as the component's
/// `plaza:host/pages` interface.
///
/// Use it once per mini-app crate, at the top level:
///
/// ```no_run
/// # use plaza_sdk::{App, Event, Page};
/// #[derive(Default)]
/// struct Hello;
///
/// impl App for Hello {
///     fn handle(&mut self, _event: Event) -> Page {
///         Page::builder("Hello").text("Hello, world").build()
///     }
/// }
///
/// plaza_sdk::export_app!(Hello);
/// ```
///
/// The instance is kept in a thread-local cell, created on the first event
/// and kept until the session ends.
#[macro_export]
macro_rules! export_app {
    ($app:ty) => {
        const _: () = {
            struct PlazaAppExport;

            impl $crate::bindings::exports::plaza::host::pages::Guest for PlazaAppExport {
                fn handle(event: $crate::Event) -> $crate::Page {
                    ::std::thread_local! {
                        static APP: ::core::cell::RefCell<::core::option::Option<$app>> =
                            const { ::core::cell::RefCell::new(::core::option::Option::None) };
                    }
                    APP.with(|app| $crate::__private::handle(app, event))
                }
            }

    $crate::bindings::export!(PlazaAppExport with_types_in $crate::bindings);
        };
    };
}

/// Support for [`export_app!`]; not part of the public API.
#[doc(hidden)]
pub mod __private {
    use crate::{App, Event, Page};
    use core::cell::RefCell;

    /// Hands `event` to the session's instance, creating it first if needed.
    pub fn handle<A: App + Default + 'static>(cell: &RefCell<Option<A>>, event: Event) -> Page {
        let mut slot = cell.borrow_mut();
        slot.get_or_insert_with(A::default).handle(event)
    }
}
