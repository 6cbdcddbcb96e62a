//! The host's error type.
//!
//! Every error says what happened and, where the caller can act, what to do.
//! Errors a mini-app's guest code sees are not these: host calls answer with
//! the WIT `error` variant (see the `capabilities` module).

use std::path::PathBuf;

/// Why a mini-app's session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuestFault {
    /// It ran past its CPU deadline for one event.
    Deadline {
        /// The deadline, in milliseconds.
        limit_ms: u64,
    },
    /// One event took longer than its wall-clock cap (waits included:
    /// sleeps, polls, the network, a busy lane).
    WallClock {
        /// The cap, in milliseconds.
        limit_ms: u64,
    },
    /// It tried to grow its memory beyond the cap.
    OutOfMemory {
        /// The cap, in bytes.
        limit_bytes: u64,
    },
    /// It tried to grow a table beyond the cap.
    TableLimit {
        /// The cap, in elements.
        limit_elements: u64,
    },
    /// Its call stack overflowed (unbounded recursion).
    StackOverflow,
    /// It held more host resources (`wasi:http` fields, requests, bodies,
    /// streams, pollables: handles) at once than the cap.
    ResourceLimit {
        /// The cap, in resources (`SandboxLimits::max_resources`).
        limit: usize,
    },
    /// It put more bytes into one set of `wasi:http` header fields than the cap.
    HttpFieldsLimit {
        /// The cap, in bytes (`SandboxLimits::http_fields_bytes`).
        limit_bytes: usize,
    },
    /// It trapped: a panic, an abort, an out-of-bounds access.
    Trap(String),
}

impl std::fmt::Display for GuestFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuestFault::Deadline { limit_ms } => {
                write!(
                    f,
                    "ran past its CPU deadline of {limit_ms} ms for one event"
                )
            }
            GuestFault::WallClock { limit_ms } => write!(
                f,
                "took longer than its wall-clock cap of {limit_ms} ms for one event (sleeping, polling or waiting on the network): answer sooner, and do slow work in steps across events"
            ),
            GuestFault::OutOfMemory { limit_bytes } => write!(
                f,
                "ran out of memory (cap {} MiB per session)",
                limit_bytes / (1024 * 1024)
            ),
            GuestFault::TableLimit { limit_elements } => {
                write!(f, "grew a table past the cap of {limit_elements} elements")
            }
            GuestFault::StackOverflow => {
                write!(f, "overflowed its call stack (unbounded recursion?)")
            }
            GuestFault::ResourceLimit { limit } => write!(
                f,
                "held more than {limit} host resources at once (HTTP fields, requests, bodies, streams, pollables), the cap per session"
            ),
            GuestFault::HttpFieldsLimit { limit_bytes } => write!(
                f,
                "put more than {limit_bytes} bytes into one set of HTTP header fields, the cap"
            ),
            GuestFault::Trap(msg) => write!(f, "trapped: {msg}"),
        }
    }
}

/// Everything that can go wrong in the host.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest could not be read.
    #[error("{source_name}: {message}")]
    Manifest {
        /// Where the manifest came from (a path, or `plaza.toml` in a package).
        source_name: String,
        /// What is wrong, with the line and the field.
        message: String,
    },
    /// The package file is malformed.
    #[error("package {source_name} is malformed: {message}")]
    Package {
        /// Where the package came from.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// The component could not be compiled or linked.
    #[error("mini-app {app}: the component is not a valid Plaza component: {message}")]
    InvalidComponent {
        /// The mini-app id.
        app: String,
        /// What Wasmtime or the host said.
        message: String,
        /// Wasmtime's error, when Wasmtime refused the component (`None` when
        /// the host's own checks did).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The component imports a `plaza:host` interface its manifest does not declare.
    #[error(
        "mini-app {app} imports {interface} but its manifest does not declare it: add `{}` to plaza.toml, or stop using the interface", declaration(.capability)
    )]
    UndeclaredImport {
        /// The mini-app id.
        app: String,
        /// The import, e.g. `plaza:host/storage@0.1.0`.
        interface: String,
        /// The capability to declare.
        capability: String,
    },
    /// The manifest's payment notify URL
    /// (`[capabilities.payment] notify`) is not at one of the origins its
    /// `[capabilities.network]` declares: the host sends notifications only
    /// where the mini-app may send requests.
    #[error(
        "mini-app {app}: the payment notify URL {url} is not at an origin the manifest declares ({}): add its origin to [capabilities.network] origins, or give a notify URL at one of them", origin_list(.declared)
    )]
    NotifyOriginUndeclared {
        /// The mini-app id.
        app: String,
        /// The notify URL.
        url: String,
        /// The origins `[capabilities.network]` lists.
        declared: Vec<String>,
    },
    /// The component imports an interface the host does not provide.
    #[error(
        "mini-app {app} imports {interface}, which Plaza does not provide (only plaza:host@0.1, WASI 0.2 io, clocks, random, cli, filesystem and sockets, and wasi:http 0.2's outgoing handler and types are linked)"
    )]
    UnsupportedImport {
        /// The mini-app id.
        app: String,
        /// The import name.
        interface: String,
    },
    /// The component needs more of the instance pool than one session's
    /// share (`SandboxLimits::instances`, `memories`, `tables`).
    #[error(
        "mini-app {app}: the component needs {needs} {what}, more than the {limit} a session may use: build it with fewer, or raise the host's limit"
    )]
    ComponentTooLarge {
        /// The mini-app id.
        app: String,
        /// `core instances`, `memories` or `tables`.
        what: String,
        /// How many the component needs.
        needs: usize,
        /// How many a session may use.
        limit: usize,
    },
    /// No mini-app with this id is installed.
    #[error("no mini-app `{app}` is installed: install its package first (`plaza install FILE`)")]
    NotInstalled {
        /// The id asked for.
        app: String,
    },
    /// The mini-app broke the sandbox's rules; its session ended.
    #[error(
        "mini-app {app} (session {session}) was stopped: it {fault}. The session has ended; the next event starts a new one"
    )]
    SessionEnded {
        /// The mini-app id.
        app: String,
        /// The session id.
        session: String,
        /// What it did.
        fault: GuestFault,
    },
    /// The page the mini-app answered breaks the page rules (size, URLs).
    #[error("mini-app {app} answered a page the host refuses: {message}. The previous page stays")]
    InvalidPage {
        /// The mini-app id.
        app: String,
        /// What is wrong with the page.
        message: String,
    },
    /// The user tapped an action the current page does not offer.
    #[error("the page does not offer the action `{action}`; it offers: {}", offered_list(.offered))]
    ActionNotOffered {
        /// The action tapped.
        action: String,
        /// What the page offers.
        offered: Vec<String>,
    },
    /// A form submission does not fit the current page's form.
    #[error("cannot submit form `{form}`: {message}")]
    InvalidSubmit {
        /// The form id.
        form: String,
        /// What is wrong.
        message: String,
    },
    /// A submitted value breaks its input's rules (required, kind, options,
    /// constraints, a hidden or read-only value changed): the host refused
    /// the submission before it reached the mini-app. `reason` is for the
    /// user, said of the field.
    #[error("cannot submit form `{form}`: the field `{field}` ({label}) {reason}")]
    FieldRefused {
        /// The form id.
        form: String,
        /// The field name.
        field: String,
        /// The field's label, as the user sees it.
        label: String,
        /// Why, such as `must be on or after 2026-12-04`.
        reason: String,
    },
    /// There is no page to go back to.
    #[error("there is no earlier page to go back to")]
    NoPageToGoBack,
    /// Too many sessions are live for the host's instance pool.
    #[error(
        "the host is at its limit of {limit} live sessions: close idle sessions or raise `max_live_sessions`"
    )]
    HostBusy {
        /// The configured limit.
        limit: u32,
    },
    // --- Trust: signed packages, the publisher registry, updates. ---
    /// The package is not signed, and the host is not in developer mode.
    #[error(
        "package of {app} is not signed: sign it with the publisher's key (`plaza sign PACKAGE --key FILE`), or install it into a host in developer mode"
    )]
    UnsignedPackage {
        /// The mini-app id.
        app: String,
    },
    /// The package's signature does not verify, or is malformed.
    #[error("package signature of {app} is not valid: {message}")]
    BadSignature {
        /// The mini-app id.
        app: String,
        /// What does not match, and what to do.
        message: String,
        /// The error of decoding the signature section, when it could not be
        /// decoded.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The package's publisher is not in the host's registry.
    #[error(
        "publisher {publisher} of {app} is not in this host's registry of trusted publishers: add it with its public key (`plaza publisher add {publisher} --name NAME --category CATEGORY --key FILE.pub`) before installing its packages"
    )]
    UnknownPublisher {
        /// The mini-app id.
        app: String,
        /// The publisher id the package names.
        publisher: String,
    },
    /// The manifest claims another category than the registry gives the publisher.
    #[error(
        "{app} claims the category `{claimed}`, but the registry lists publisher {publisher} as `{registered}`: fix `publisher.category` in plaza.toml and sign again"
    )]
    CategoryMismatch {
        /// The mini-app id.
        app: String,
        /// The publisher id.
        publisher: String,
        /// The category in the manifest.
        claimed: String,
        /// The category in the registry.
        registered: String,
    },
    /// An update comes from another publisher than the installed version.
    #[error(
        "{app} is installed from publisher {installed}; this package is {offered}: only the same publisher may update a mini-app (an app id stays its first publisher's, even after uninstall, until the operator releases it: `plaza release-id {app}`)"
    )]
    UpdatePublisherMismatch {
        /// The mini-app id.
        app: String,
        /// Who published the installed version.
        installed: String,
        /// Who publishes (or signs) this package.
        offered: String,
    },
    /// The app id belongs to another publisher: the first publisher of a
    /// package under an id owns it for good, even after uninstall, until the
    /// operator releases it ([`Host::release_app_id`](crate::Host::release_app_id)).
    #[error(
        "the app id {app} belongs to publisher {owner}; this package is {offered}'s: an app id stays its first publisher's, even after uninstall. Choose another id, or the host operator may release it (`plaza release-id {app}`), which erases its users' data"
    )]
    AppIdOwned {
        /// The mini-app id.
        app: String,
        /// The publisher that owns it.
        owner: String,
        /// The publisher of this package.
        offered: String,
    },
    /// The operator asked to release an app id a package is installed
    /// under.
    #[error(
        "{app} is installed: uninstall it first (`plaza uninstall {app}`), then release its id"
    )]
    AppIdInstalled {
        /// The mini-app id.
        app: String,
    },
    /// The operator asked to release an app id no package was ever
    /// installed under.
    #[error("no package was ever installed under the app id {app}: there is nothing to release")]
    UnknownAppId {
        /// The mini-app id.
        app: String,
    },
    /// An update does not raise the version.
    #[error(
        "{app} {installed} is installed; this package is version {offered}: an update needs a higher version (raise `app.version` in plaza.toml)"
    )]
    UpdateNotNewer {
        /// The mini-app id.
        app: String,
        /// The installed version.
        installed: String,
        /// The package's version.
        offered: String,
    },
    /// A publisher key or registry entry is malformed.
    #[error("{message}")]
    BadKey {
        /// What is wrong.
        message: String,
    },
    /// A publisher registry entry is invalid or missing.
    #[error("publisher {publisher}: {message}")]
    Publisher {
        /// The publisher id.
        publisher: String,
        /// What is wrong.
        message: String,
    },
    // --- Settings: values and secrets the operator sets per mini-app. ---
    /// The mini-app's manifest declares no setting of this name.
    #[error(
        "{app} declares no setting `{name}`: its manifest declares {}",
        declared_list(.declared)
    )]
    UnknownSetting {
        /// The mini-app id.
        app: String,
        /// The name asked for.
        name: String,
        /// The settings its manifest declares.
        declared: Vec<String>,
    },
    /// A value is refused for the setting (never quoted: it may be a
    /// secret).
    #[error("{app}'s setting `{name}` cannot take this value: {message}")]
    InvalidSetting {
        /// The mini-app id.
        app: String,
        /// The setting.
        name: String,
        /// What is wrong with the value.
        message: String,
    },
    /// The key that seals secret settings is missing or unusable.
    #[error("settings key: {message}")]
    SettingsKey {
        /// What is wrong, and what to do.
        message: String,
        /// The error of reading or writing the key file, when one failed.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    // --- Identity: the login-code exchange and the user's data. ---
    /// The app secret given with a login code is not the mini-app's.
    #[error(
        "the app secret for {app} is wrong: use the secret the host issued at install (reset it with `plaza secret reset {app}`)"
    )]
    WrongAppSecret {
        /// The mini-app id.
        app: String,
    },
    /// The login code was exchanged before.
    #[error(
        "the login code for {app} was already used: codes are single-use; have the mini-app call `login` again"
    )]
    LoginCodeReused {
        /// The mini-app id.
        app: String,
    },
    /// The login code is older than five minutes.
    #[error(
        "the login code for {app} expired at {expired_at_ms} ms since the epoch (codes last 5 minutes): have the mini-app call `login` again"
    )]
    LoginCodeExpired {
        /// The mini-app id.
        app: String,
        /// When it expired, ms since the epoch.
        expired_at_ms: i64,
    },
    /// No login code like this was issued for the mini-app.
    #[error(
        "no login code like this was issued for {app}: pass the code the mini-app got from `login`, unchanged"
    )]
    UnknownLoginCode {
        /// The mini-app id.
        app: String,
    },
    // --- The publisher API: a mini-app's back-end. ---
    /// The access token is not one the host issued (forged, altered, or
    /// issued before the app secret was reset or the app id released).
    #[error(
        "the access token is not valid: get a new one with the app secret (POST /v1/publisher/token)"
    )]
    InvalidAccessToken,
    /// The access token is older than two hours.
    #[error(
        "the access token of {app} expired at {expired_at_ms} ms since the epoch (tokens last 2 hours): get a new one with the app secret"
    )]
    AccessTokenExpired {
        /// The mini-app id.
        app: String,
        /// When it expired, ms since the epoch.
        expired_at_ms: i64,
    },
    /// The back-end made more calls than its rate limit allows.
    #[error("{app}'s back-end made {limit} calls this minute, the limit: try again in a minute")]
    BackendRateLimited {
        /// The mini-app id.
        app: String,
        /// Calls per minute.
        limit: u32,
    },
    /// What the back-end named does not exist for its mini-app: an openid
    /// the host never gave it (another mini-app's, say), an order it was
    /// not paid, a message that is not the user's.
    #[error("{0}")]
    NotFound(String),
    /// A link to open a mini-app is malformed: what is wrong, and what a
    /// link looks like ([`crate::link::Link::parse`]).
    #[error(transparent)]
    MalformedLink(#[from] crate::link::LinkError),
    /// The back-end may not do this now: no acceptance of the template left,
    /// outside the 48-hour reply window, a refund id used for another refund.
    #[error("{0}")]
    Refused(String),
    /// The user data an embedding app set is invalid.
    #[error("the user's {field} is invalid: {message}")]
    InvalidUserData {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The compiled-component cache could not be used.
    #[error("compiled-component cache {path}: {message}")]
    Cache {
        /// The cache path.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The engine could not be configured.
    #[error("engine: {message}")]
    Engine {
        /// What failed, with Wasmtime's explanation.
        message: String,
        /// Wasmtime's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The embedding app's network configuration is unusable (a root
    /// certificate that does not parse).
    #[error("network configuration: {message}")]
    NetworkConfig {
        /// What is wrong.
        message: String,
        /// The error of the PEM or TLS library, when one failed.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A request to the host's API was malformed (an amount of zero, an
    /// unknown currency, a coverage over 100 %).
    #[error("{0}")]
    InvalidRequest(String),
    /// Something that is a bug of the host.
    #[error("internal error of the host: {message}")]
    Internal {
        /// What went wrong.
        message: String,
        /// The error underneath (a task that panicked, the system's random
        /// source), when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// What plaza.toml says to declare the capability named `capability`: its
/// `[capabilities]` table, or `[[settings]]` for `config` (as
/// `Capability::declaration` says).
fn declaration(capability: &str) -> String {
    match capability {
        "config" => "[[settings]]".to_string(),
        other => format!("[capabilities.{other}]"),
    }
}

fn declared_list(declared: &[String]) -> String {
    if declared.is_empty() {
        "none (add [[settings]] tables to plaza.toml)".to_string()
    } else {
        declared.join(", ")
    }
}

fn origin_list(declared: &[String]) -> String {
    if declared.is_empty() {
        "none: it declares no [capabilities.network]".to_string()
    } else {
        declared.join(", ")
    }
}

fn offered_list(offered: &[String]) -> String {
    if offered.is_empty() {
        "nothing (launch the mini-app first)".to_string()
    } else {
        offered.join(", ")
    }
}

/// The host's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened.
    #[error("cannot open the store at {path}: {message}")]
    Open {
        /// The database path.
        path: String,
        /// What SQLite said.
        message: String,
    },
    /// A database operation failed.
    #[error("{operation} failed: {message}")]
    Database {
        /// What the store was doing.
        operation: &'static str,
        /// What the database said.
        message: String,
    },
    /// The database was written by a newer version of Plaza.
    #[error(
        "the store has schema version {found}; this version of Plaza reads up to {supported}: upgrade Plaza"
    )]
    TooNew {
        /// The version in the file.
        found: i64,
        /// The newest this build reads.
        supported: i64,
    },
}

/// A store result.
pub type StoreResult<T> = std::result::Result<T, StoreError>;
