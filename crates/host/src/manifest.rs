//! The manifest (`plaza.toml`): who a mini-app is, who publishes it, and what
//! it asks for.
//!
//! Parsed with `deny_unknown_fields`; every error names the field and the line.
//! An impossible request (an unknown scope, a quota over the host's maximum, a
//! consent scope without a purpose) is refused here, when the package is
//! installed, not when the capability is first used.
//!
//! ```
//! use plaza_host::manifest::{Manifest, Capability};
//! let m = Manifest::parse("plaza.toml", r#"
//! [app]
//! id = "cn.hz.maternity"
//! name = "Maternity Hospital"
//! version = "1.2.0"
//!
//! [publisher]
//! id = "cn.hz.health"
//! name = "Hangzhou Health Commission"
//! category = "medical"
//!
//! [capabilities.storage]
//! "#).unwrap();
//! assert!(m.declares(Capability::Storage));
//! assert!(!m.declares(Capability::Payment));
//! ```

use crate::error::{Error, Result};
pub use crate::link::is_reverse_dns;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// The largest storage quota a manifest may ask for: 10 MiB per user.
pub const MAX_STORAGE_QUOTA: u64 = 10 * 1024 * 1024;
/// The most origins `[capabilities.network]` may list.
pub const MAX_ORIGINS: usize = 32;
/// The largest manifest the host reads.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;
/// The most `[[settings]]` a manifest may declare.
pub const MAX_SETTINGS: usize = 32;
/// The longest setting name, in bytes.
pub const MAX_SETTING_NAME_BYTES: usize = 64;
/// The longest setting value (and default), in bytes.
pub const MAX_SETTING_VALUE_BYTES: usize = 4096;

/// What a publisher is, which decides what the host's policy lets it do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// A government agency (city services, traffic police, civil affairs).
    Government,
    /// A hospital or clinic.
    Medical,
    /// A bank or insurer.
    Finance,
    /// Public transport, railways, airlines.
    Transport,
    /// Schools and universities.
    Education,
    /// A shop or any other business.
    Commerce,
    /// Anything else.
    Other,
}

impl Category {
    /// Every category, in the order of the manifest documentation.
    pub const ALL: [Category; 7] = [
        Category::Government,
        Category::Medical,
        Category::Finance,
        Category::Transport,
        Category::Education,
        Category::Commerce,
        Category::Other,
    ];

    /// The name used in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Government => "government",
            Category::Medical => "medical",
            Category::Finance => "finance",
            Category::Transport => "transport",
            Category::Education => "education",
            Category::Commerce => "commerce",
            Category::Other => "other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A capability a mini-app may declare; one `plaza:host` interface each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Key-value storage per user.
    Storage,
    /// Diagnostics to the host's log.
    Log,
    /// The host's clock.
    Clock,
    /// Pseudonymous ids and consent scopes.
    Identity,
    /// Payments from the user's wallet.
    Payment,
    /// Messages to the user's inbox.
    Messaging,
    /// Outbound HTTPS to the origins the manifest lists, through the
    /// standard `wasi:http` interfaces (not a `plaza:host` interface).
    Network,
    /// The settings the operator sets for the mini-app (`plaza:host/config`),
    /// declared by `[[settings]]` tables rather than a `[capabilities]` one.
    Config,
    /// Photos and files the user chooses for the mini-app
    /// (`plaza:host/media`).
    Media,
    /// Codes the user scans for the mini-app (`plaza:host/scan`).
    Scan,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 10] = [
        Capability::Storage,
        Capability::Log,
        Capability::Clock,
        Capability::Identity,
        Capability::Payment,
        Capability::Messaging,
        Capability::Network,
        Capability::Config,
        Capability::Media,
        Capability::Scan,
    ];

    /// The name used in manifests and in the audit log; also the interface
    /// name in `plaza:host`.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Storage => "storage",
            Capability::Log => "log",
            Capability::Clock => "clock",
            Capability::Identity => "identity",
            Capability::Payment => "payment",
            Capability::Messaging => "messaging",
            Capability::Network => "network",
            Capability::Config => "config",
            Capability::Media => "media",
            Capability::Scan => "scan",
        }
    }

    /// What plaza.toml says to declare it: `[capabilities.storage]`, or
    /// `[[settings]]` for `config`.
    pub fn declaration(self) -> String {
        match self {
            Capability::Config => "[[settings]]".to_string(),
            other => format!("[capabilities.{other}]"),
        }
    }

    /// The capability behind a `plaza:host` interface name, if any (`network`
    /// is not one: it is `wasi:http`).
    pub fn from_interface(name: &str) -> Option<Capability> {
        Capability::ALL
            .into_iter()
            .find(|c| *c != Capability::Network && c.as_str() == name)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A piece of the user's identity that needs the user's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Nickname and avatar.
    Profile,
    /// Phone number.
    Phone,
    /// Verified legal name and identity number.
    RealName,
    /// Coarse location.
    Location,
    /// Precise location.
    PreciseLocation,
    /// The medical insurance card bound in the wallet.
    InsuranceCard,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 6] = [
        Scope::Profile,
        Scope::Phone,
        Scope::RealName,
        Scope::Location,
        Scope::PreciseLocation,
        Scope::InsuranceCard,
    ];

    /// The name used in manifests, consent records and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Profile => "profile",
            Scope::Phone => "phone",
            Scope::RealName => "real-name",
            Scope::Location => "location",
            Scope::PreciseLocation => "precise-location",
            Scope::InsuranceCard => "insurance-card",
        }
    }

    /// Parses a scope name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed, validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The mini-app.
    pub app: AppInfo,
    /// Its publisher.
    pub publisher: PublisherInfo,
    /// What it asks for.
    pub capabilities: Capabilities,
    /// The settings it reads (`[[settings]]`), in manifest order.
    pub settings: Vec<SettingDecl>,
    /// Its tab bar (`[[tabs]]`), in order; empty for none.
    pub tabs: Vec<Tab>,
    /// The manifest text as written (kept in the store and in packages).
    pub source: String,
}

/// The `[app]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    /// Reverse-DNS id, unique in the host (`cn.hz.maternity`).
    pub id: String,
    /// The name users see.
    pub name: String,
    /// The version.
    pub version: semver::Version,
    /// A sentence about the mini-app.
    pub description: String,
}

/// The `[publisher]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherInfo {
    /// Reverse-DNS id of the publisher (`cn.hz.health`).
    pub id: String,
    /// The publisher's name as the package states it. The payee name users
    /// see comes from the host's publisher registry, not from here.
    pub name: String,
    /// Its category.
    pub category: Category,
}

/// The `[capabilities]` table: the presence of a sub-table declares it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `[capabilities.storage]`.
    pub storage: Option<StorageRequest>,
    /// `[capabilities.log]`.
    pub log: bool,
    /// `[capabilities.clock]`.
    pub clock: bool,
    /// `[capabilities.identity]`.
    pub identity: Option<IdentityRequest>,
    /// `[capabilities.payment]`.
    pub payment: Option<PaymentRequest>,
    /// `[capabilities.messaging]`.
    pub messaging: Option<MessagingRequest>,
    /// `[capabilities.network]`.
    pub network: Option<NetworkRequest>,
    /// `[capabilities.images]`: the origins its pages may show images from
    /// (not a capability of the gate: the page check reads it).
    pub images: Option<NetworkRequest>,
    /// `[capabilities.media]`.
    pub media: Option<MediaRequest>,
    /// `[capabilities.scan]`.
    pub scan: bool,
}

/// What a mini-app asks of payments: `[capabilities.payment]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentRequest {
    /// `notify`: where the host POSTs a signed notification when one of its
    /// payments or refunds commits (`docs/payments.md`); its origin is one
    /// of `[capabilities.network] origins`.
    pub notify: Option<NotifyUrl>,
}

/// The longest notify URL, in bytes.
pub const MAX_NOTIFY_URL_BYTES: usize = 512;

/// The URL a mini-app's back-end takes payment notifications at:
/// `https://host[:port]/path?query`, at one host (no wildcard), and, like
/// an [`Origin`], plain HTTP or an IP address only for loopback.
///
/// ```
/// use plaza_host::manifest::NotifyUrl;
/// let n = NotifyUrl::parse("https://Pay.HZ.gov.cn/plaza/notify?v=1").unwrap();
/// assert_eq!(n.url, "https://pay.hz.gov.cn/plaza/notify?v=1");
/// assert_eq!((n.origin.host.as_str(), n.origin.port), ("pay.hz.gov.cn", 443));
/// assert!(NotifyUrl::parse("https://*.hz.gov.cn/notify").is_err());
/// assert!(NotifyUrl::parse("http://pay.hz.gov.cn/notify").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyUrl {
    /// The URL, its scheme and host in lower case, without the scheme's
    /// default port.
    pub url: String,
    /// Its origin.
    pub origin: Origin,
    /// Its path and query (`/` when it names none).
    pub path: String,
}

impl NotifyUrl {
    /// Parses and checks a notify URL; the error says what is wrong.
    pub fn parse(text: &str) -> std::result::Result<NotifyUrl, String> {
        if text.len() > MAX_NOTIFY_URL_BYTES {
            return Err(format!(
                "is {} bytes; a notify URL is at most {MAX_NOTIFY_URL_BYTES}",
                text.len()
            ));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) || text.contains('#') {
            return Err(
                "a notify URL is visible ASCII without spaces or a `#fragment` (percent-encode the rest)"
                    .to_string(),
            );
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("a notify URL is `https://host[:port]/path`")?;
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let origin = Origin::parse(&format!("{scheme}://{authority}"))?;
        if origin.wildcard {
            return Err(
                "a notify URL names one host, not a wildcard `*.`: the back-end's own name"
                    .to_string(),
            );
        }
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        Ok(NotifyUrl {
            url: format!("{origin}{path}"),
            origin,
            path,
        })
    }
}

/// What a mini-app asks of the network: the origins it may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRequest {
    /// At least one origin.
    pub origins: Vec<Origin>,
    /// The settings whose values are origins it may call too
    /// (`"${agency-origin}"` in `origins`), resolved when a session starts.
    pub origin_settings: Vec<String>,
}

/// The most tabs a tab bar has.
pub const MAX_TABS: usize = 5;
/// The fewest tabs a tab bar has (one tab is no bar).
pub const MIN_TABS: usize = 2;

/// One `[[tabs]]` table: a top-level page of the mini-app, shown in a tab
/// bar at the bottom of every page. Tapping it launches the mini-app at
/// its path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tab {
    /// What the tab says: 1 to 16 characters.
    pub title: String,
    /// The page path it launches: starts with `/`, no query, at most 256
    /// bytes, each tab's its own.
    pub path: String,
}

/// One `[[settings]]` table: a setting the mini-app reads through
/// `plaza:host/config`, whose value the operator sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingDecl {
    /// Its name: 1 to [`MAX_SETTING_NAME_BYTES`] lowercase letters, digits
    /// and `-`, starting with a letter (`agency-origin`).
    pub name: String,
    /// Whether it is a secret: kept encrypted, masked when listed, never
    /// given a default in the manifest.
    pub secret: bool,
    /// The value when the operator sets none (not for secrets).
    pub default: Option<String>,
}

/// What a mini-app asks of storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRequest {
    /// The quota per user, in bytes; at most [`MAX_STORAGE_QUOTA`].
    pub quota_bytes: u64,
}

/// The largest file the host keeps for a mini-app, and the cap when the
/// manifest names none: 5 MiB.
pub const MAX_MEDIA_FILE_BYTES: u64 = 5 * 1024 * 1024;

/// What a mini-app asks of media: `[capabilities.media]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRequest {
    /// The largest file the user may give it, in bytes; at most
    /// [`MAX_MEDIA_FILE_BYTES`] (`max-file-bytes`).
    pub max_file_bytes: u64,
}

/// What a mini-app asks of identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityRequest {
    /// The consent scopes it may ask for, each with the purpose shown to the user.
    pub scopes: BTreeMap<Scope, String>,
}

/// What a mini-app asks of messaging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagingRequest {
    /// The subscription-message templates it may send.
    pub templates: Vec<MessageTemplate>,
}

/// A subscription-message template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    /// The template id the mini-app uses.
    pub id: String,
    /// The title users see.
    pub title: String,
    /// The named fields a message fills.
    pub fields: Vec<String>,
    /// Whether to offer the user a long-term subscription (any number of
    /// messages) rather than one message per acceptance. Only publishers in
    /// the categories the policy allows (government, medical, transport,
    /// finance, education by default) get it; others are offered one-time.
    #[serde(default, rename = "long-term")]
    pub long_term: bool,
}

impl Manifest {
    /// Parses and validates a manifest. `source_name` names it in errors.
    pub fn parse(source_name: &str, text: &str) -> Result<Manifest> {
        if text.len() > MAX_MANIFEST_BYTES {
            return Err(Error::Manifest {
                source_name: source_name.to_string(),
                message: format!(
                    "the manifest is {} bytes; the most the host reads is {MAX_MANIFEST_BYTES}",
                    text.len()
                ),
            });
        }
        let raw: RawManifest = toml::from_str(text).map_err(|e| Error::Manifest {
            source_name: source_name.to_string(),
            message: toml_error_message(text, &e),
        })?;
        let fail = |span: std::ops::Range<usize>, field: &str, what: String| Error::Manifest {
            source_name: source_name.to_string(),
            message: format!("line {}: `{field}` {what}", line_of(text, span.start)),
        };

        let id = raw.app.id.get_ref();
        if !is_reverse_dns(id) {
            return Err(fail(
                raw.app.id.span(),
                "app.id",
                format!(
                    "is `{id}`: it must be a reverse-DNS name of at least two dot-separated labels of lowercase letters, digits and '-', such as `cn.hz.maternity`"
                ),
            ));
        }
        let name = raw.app.name.get_ref().trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(fail(
                raw.app.name.span(),
                "app.name",
                "must be 1 to 64 characters".to_string(),
            ));
        }
        let version = semver::Version::parse(raw.app.version.get_ref()).map_err(|e| {
            fail(
                raw.app.version.span(),
                "app.version",
                format!(
                    "is `{}`, not a semantic version such as `1.0.0` ({e})",
                    raw.app.version.get_ref()
                ),
            )
        })?;
        let description = raw.app.description.unwrap_or_default();
        if description.chars().count() > 512 {
            return Err(Error::Manifest {
                source_name: source_name.to_string(),
                message: "`app.description` must be at most 512 characters".to_string(),
            });
        }
        let publisher_id = raw.publisher.id.get_ref();
        if !is_reverse_dns(publisher_id) {
            return Err(fail(
                raw.publisher.id.span(),
                "publisher.id",
                format!(
                    "is `{publisher_id}`: it must be a reverse-DNS name such as `cn.hz.health`"
                ),
            ));
        }
        let publisher_name = raw.publisher.name.get_ref().trim();
        if publisher_name.is_empty() || publisher_name.chars().count() > 64 {
            return Err(fail(
                raw.publisher.name.span(),
                "publisher.name",
                "must be 1 to 64 characters".to_string(),
            ));
        }

        let caps = raw.capabilities;
        let storage = match caps.storage {
            None => None,
            Some(s) => {
                let quota_bytes = match s.quota_bytes {
                    None => MAX_STORAGE_QUOTA,
                    Some(q) => {
                        let v = *q.get_ref();
                        if v == 0 || v > MAX_STORAGE_QUOTA {
                            return Err(fail(
                                q.span(),
                                "capabilities.storage.quota-bytes",
                                format!(
                                    "is {v}: it must be between 1 and {MAX_STORAGE_QUOTA} (10 MiB)"
                                ),
                            ));
                        }
                        v
                    }
                };
                Some(StorageRequest { quota_bytes })
            }
        };
        let media = match caps.media {
            None => None,
            Some(m) => {
                let max_file_bytes = match m.max_file_bytes {
                    None => MAX_MEDIA_FILE_BYTES,
                    Some(v) => {
                        let bytes = *v.get_ref();
                        if bytes == 0 || bytes > MAX_MEDIA_FILE_BYTES {
                            return Err(fail(
                                v.span(),
                                "capabilities.media.max-file-bytes",
                                format!(
                                    "is {bytes}: it must be between 1 and {MAX_MEDIA_FILE_BYTES} (5 MiB)"
                                ),
                            ));
                        }
                        bytes
                    }
                };
                Some(MediaRequest { max_file_bytes })
            }
        };
        let identity = match caps.identity {
            None => None,
            Some(i) => {
                let span = i.scopes.span();
                let mut scopes = BTreeMap::new();
                for (scope, purpose) in i.scopes.into_inner() {
                    let purpose = purpose.trim().to_string();
                    if purpose.is_empty() || purpose.chars().count() > 200 {
                        return Err(fail(
                            span.clone(),
                            &format!("capabilities.identity.scopes.{scope}"),
                            "must give the purpose shown to the user when asking consent (1 to 200 characters)".to_string(),
                        ));
                    }
                    scopes.insert(scope, purpose);
                }
                Some(IdentityRequest { scopes })
            }
        };
        let messaging = match caps.messaging {
            None => None,
            Some(m) => {
                let mut seen = std::collections::BTreeSet::new();
                for t in &m.templates {
                    if t.id.is_empty() || t.id.len() > 64 {
                        return Err(Error::Manifest {
                            source_name: source_name.to_string(),
                            message: format!(
                                "`capabilities.messaging.templates` id `{}` must be 1 to 64 characters",
                                t.id
                            ),
                        });
                    }
                    if !seen.insert(t.id.clone()) {
                        return Err(Error::Manifest {
                            source_name: source_name.to_string(),
                            message: format!(
                                "`capabilities.messaging.templates` declares the template `{}` twice",
                                t.id
                            ),
                        });
                    }
                }
                Some(MessagingRequest {
                    templates: m.templates,
                })
            }
        };

        let settings = parse_settings(raw.settings, &fail)?;
        let tabs = parse_tabs(raw.tabs, &fail)?;
        let images = match caps.images {
            None => None,
            Some(n) => Some(NetworkRequest {
                origins: parse_origins(n.origins, "capabilities.images.origins", &fail)?,
                origin_settings: Vec::new(),
            }),
        };
        let network = match caps.network {
            None => None,
            Some(n) => {
                let span = n.origins.span();
                let list = n.origins.into_inner();
                if list.is_empty() {
                    return Err(fail(
                        span,
                        "capabilities.network.origins",
                        "must list at least one origin, such as `https://api.example.gov.cn`: a mini-app that calls no server should not declare the network".to_string(),
                    ));
                }
                if list.len() > MAX_ORIGINS {
                    return Err(fail(
                        span,
                        "capabilities.network.origins",
                        format!(
                            "lists {} origins; the most a manifest may list is {MAX_ORIGINS}",
                            list.len()
                        ),
                    ));
                }
                let mut origins: Vec<Origin> = Vec::with_capacity(list.len());
                let mut origin_settings: Vec<String> = Vec::new();
                for text in &list {
                    if let Some(name) = origin_setting_name(text) {
                        let why = match settings.iter().find(|s| s.name == name) {
                            None => Some(format!(
                                "names the setting `{name}`, which no [[settings]] table declares"
                            )),
                            Some(s) if s.secret => Some(format!(
                                "names the setting `{name}`, a secret: an origin is not secret, declare it without `secret = true`"
                            )),
                            Some(s) => s
                                .default
                                .as_deref()
                                .and_then(|d| Origin::parse(d).err())
                                .map(|e| format!("names the setting `{name}`, whose default is not an origin: {e}")),
                        };
                        if let Some(why) = why {
                            return Err(fail(span.clone(), "capabilities.network.origins", why));
                        }
                        if !origin_settings.iter().any(|n| n == name) {
                            origin_settings.push(name.to_string());
                        }
                        continue;
                    }
                    let origin = Origin::parse(text).map_err(|why| {
                        fail(
                            span.clone(),
                            "capabilities.network.origins",
                            format!("has `{text}`: {why}"),
                        )
                    })?;
                    if !origins.contains(&origin) {
                        origins.push(origin);
                    }
                }
                Some(NetworkRequest {
                    origins,
                    origin_settings,
                })
            }
        };

        let payment = match caps.payment {
            None => None,
            Some(p) => {
                let notify = match p.notify {
                    None => None,
                    Some(text) => {
                        let notify = NotifyUrl::parse(text.get_ref()).map_err(|why| {
                            fail(
                                text.span(),
                                "capabilities.payment.notify",
                                format!("is `{}`: {why}", text.get_ref()),
                            )
                        })?;
                        let declared = network.as_ref().map_or(&[][..], |n| &n.origins[..]);
                        if !declared.iter().any(|o| notify.origin.is_within(o)) {
                            return Err(Error::NotifyOriginUndeclared {
                                app: id.clone(),
                                url: notify.url,
                                declared: declared.iter().map(Origin::to_string).collect(),
                            });
                        }
                        Some(notify)
                    }
                };
                Some(PaymentRequest { notify })
            }
        };

        Ok(Manifest {
            app: AppInfo {
                id: id.clone(),
                name: name.to_string(),
                version,
                description,
            },
            publisher: PublisherInfo {
                id: publisher_id.clone(),
                name: publisher_name.to_string(),
                category: raw.publisher.category,
            },
            capabilities: Capabilities {
                storage,
                log: caps.log.is_some(),
                clock: caps.clock.is_some(),
                identity,
                payment,
                messaging,
                network,
                images,
                media,
                scan: caps.scan.is_some(),
            },
            settings,
            tabs,
            source: text.to_string(),
        })
    }

    /// Whether the manifest declares a capability.
    pub fn declares(&self, capability: Capability) -> bool {
        let c = &self.capabilities;
        match capability {
            Capability::Storage => c.storage.is_some(),
            Capability::Log => c.log,
            Capability::Clock => c.clock,
            Capability::Identity => c.identity.is_some(),
            Capability::Payment => c.payment.is_some(),
            Capability::Messaging => c.messaging.is_some(),
            Capability::Network => c.network.is_some(),
            Capability::Config => !self.settings.is_empty(),
            Capability::Media => c.media.is_some(),
            Capability::Scan => c.scan,
        }
    }

    /// The `[[settings]]` table of `name`, if the manifest declares it.
    pub fn setting(&self, name: &str) -> Option<&SettingDecl> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// The settings whose values are origins the mini-app may call
    /// (`"${name}"` in `[capabilities.network] origins`).
    pub fn origin_settings(&self) -> &[String] {
        self.capabilities
            .network
            .as_ref()
            .map(|n| n.origin_settings.as_slice())
            .unwrap_or(&[])
    }

    /// The declared capabilities.
    pub fn declared(&self) -> Vec<Capability> {
        Capability::ALL
            .into_iter()
            .filter(|c| self.declares(*c))
            .collect()
    }

    /// The purpose the manifest gives for a consent scope, if it declares it.
    pub fn scope_purpose(&self, scope: Scope) -> Option<&str> {
        self.capabilities
            .identity
            .as_ref()
            .and_then(|i| i.scopes.get(&scope))
            .map(String::as_str)
    }

    /// The origins the mini-app may call (empty when it does not declare the
    /// network).
    pub fn origins(&self) -> &[Origin] {
        self.capabilities
            .network
            .as_ref()
            .map(|n| n.origins.as_slice())
            .unwrap_or(&[])
    }

    /// The origins the mini-app's pages may show images from (empty when it
    /// declares none): `[capabilities.images] origins`.
    pub fn image_origins(&self) -> &[Origin] {
        self.capabilities
            .images
            .as_ref()
            .map(|n| n.origins.as_slice())
            .unwrap_or(&[])
    }

    /// The cap on one media file, in bytes (0 when media is not declared).
    pub fn media_file_cap(&self) -> u64 {
        self.capabilities
            .media
            .as_ref()
            .map(|m| m.max_file_bytes)
            .unwrap_or(0)
    }

    /// The quota media files count in, per user: the storage quota when
    /// storage is declared, else [`MAX_STORAGE_QUOTA`] (files and values
    /// share one quota).
    pub fn media_quota(&self) -> u64 {
        match &self.capabilities.storage {
            Some(s) => s.quota_bytes,
            None => MAX_STORAGE_QUOTA,
        }
    }

    /// The storage quota per user, in bytes (0 when storage is not declared).
    pub fn storage_quota(&self) -> u64 {
        self.capabilities
            .storage
            .as_ref()
            .map(|s| s.quota_bytes)
            .unwrap_or(0)
    }
}

/// A URL scheme an origin may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `https`: the only scheme in production.
    Https,
    /// `http`: loopback hosts only, and only in developer mode.
    Http,
}

impl Scheme {
    /// `https` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }

    /// The port a URL of this scheme uses when it names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }
}

/// An origin a mini-app may call, as the manifest lists it:
/// `scheme://host[:port]`, where `host` is a DNS name, a leading `*.` for its
/// subdomains (not the name itself), or, for loopback only, an IP address.
/// Without a port, the scheme's default port (443, 80).
///
/// ```
/// use plaza_host::manifest::Origin;
/// let o = Origin::parse("https://*.hz.gov.cn").unwrap();
/// assert!(o.matches("https", "fines.hz.gov.cn", 443));
/// assert!(!o.matches("https", "hz.gov.cn", 443));
/// assert!(!o.matches("https", "fines.hz.gov.cn", 8443));
/// assert!(Origin::parse("http://api.hz.gov.cn").is_err());
/// assert!(Origin::parse("http://localhost:8080").is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The scheme.
    pub scheme: Scheme,
    /// The host in lower case, without the `*.` of a wildcard.
    pub host: String,
    /// Whether the origin is every subdomain of `host`.
    pub wildcard: bool,
    /// The port (the scheme's default when the manifest names none).
    pub port: u16,
}

impl Origin {
    /// Parses and checks an origin; the error says what is wrong.
    pub fn parse(text: &str) -> std::result::Result<Origin, String> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("an origin is `https://host` or `https://host:port`")?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            other => return Err(format!("the scheme `{other}` is not allowed: use https")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(
                "an origin has no path, query, fragment or user name: only `scheme://host[:port]`"
                    .to_string(),
            );
        }
        let (host, port) = split_host_port(rest)?;
        let port = port.unwrap_or(scheme.default_port());
        let host = host.to_ascii_lowercase();
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(base) => (true, base.to_string()),
            None => (false, host),
        };
        let ip = parse_ip(&host);
        if ip.is_some() && wildcard {
            return Err("a wildcard `*.` goes before a DNS name, not an IP address".to_string());
        }
        if ip.is_none() && !is_dns_name(&host) {
            return Err(format!(
                "`{host}` is not a host name: labels of letters, digits and '-' separated by dots (a wildcard only as a leading `*.`)"
            ));
        }
        if wildcard && !host.contains('.') && host != "localhost" {
            return Err(format!(
                "`*.{host}` would allow a whole top-level domain: name the organisation's domain, such as `*.hz.gov.cn`"
            ));
        }
        // A wildcard over a public suffix (`*.gov.cn`, `*.com.cn`,
        // `*.github.io`) would let in every organisation under it: the
        // Public Suffix List says where one organisation's names begin.
        if wildcard && host.contains('.') && psl::domain_str(&host).is_none() {
            return Err(format!(
                "`*.{host}` would allow every organisation under `{host}`, a public suffix (Mozilla's Public Suffix List): name the organisation's own domain, such as `*.hz.gov.cn`"
            ));
        }
        let loopback = is_loopback_host(&host);
        if ip.is_some() && !loopback {
            return Err(
                "IP addresses are allowed only for loopback (127.0.0.1, [::1]), and only in developer mode: use the server's DNS name"
                    .to_string(),
            );
        }
        if scheme == Scheme::Http && !loopback {
            return Err(
                "plain HTTP is allowed only for loopback hosts (localhost, 127.0.0.1, [::1]) in developer mode: use https"
                    .to_string(),
            );
        }
        Ok(Origin {
            scheme,
            host,
            wildcard,
            port,
        })
    }

    /// Whether a request to `scheme://host:port` (host in lower case, an
    /// IPv6 address in brackets) is to this origin.
    pub fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        if scheme != self.scheme.as_str() || port != self.port {
            return false;
        }
        if self.wildcard {
            host.len() > self.host.len() + 1
                && host.ends_with(&self.host)
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host == self.host
        }
    }

    /// Whether every request to this origin is one to `declared` (the rule
    /// [`Origin::matches`] applies to requests): the same origin, or a
    /// subdomain of a wildcard.
    pub fn is_within(&self, declared: &Origin) -> bool {
        !self.wildcard && declared.matches(self.scheme.as_str(), &self.host, self.port)
    }

    /// Whether this origin's host is loopback: `localhost`, a name under
    /// `.localhost`, `127.0.0.0/8` or `[::1]`.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            if self.wildcard { "*." } else { "" },
            self.host
        )?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// Splits `host:port` or `[v6]:port`; the port is optional.
pub(crate) fn split_host_port(s: &str) -> std::result::Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']').ok_or("an IPv6 address ends with `]`")?;
        let host = &s[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or("a port follows `:`")?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("the origin names no host".to_string());
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("`{p}` is not a port (1 to 65535)")),
        },
    };
    Ok((host, port))
}

/// The IP address a host is, if it is one (`127.0.0.1`, `[::1]`).
pub fn parse_ip(host: &str) -> Option<std::net::IpAddr> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().ok().map(Into::into);
    }
    host.parse::<std::net::Ipv4Addr>().ok().map(Into::into)
}

/// Whether a host (lower case) is loopback: `localhost`, a name under
/// `.localhost` (RFC 6761), an address in `127.0.0.0/8`, or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    match parse_ip(host) {
        Some(ip) => ip.is_loopback(),
        None => host == "localhost" || host.ends_with(".localhost"),
    }
}

fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Parses `[capabilities.images] origins`: at least one, at most
/// [`MAX_ORIGINS`], each an [`Origin`], repeats dropped.
fn parse_origins(
    list: Spanned<Vec<String>>,
    field: &str,
    fail: &dyn Fn(std::ops::Range<usize>, &str, String) -> Error,
) -> Result<Vec<Origin>> {
    let span = list.span();
    let list = list.into_inner();
    if list.is_empty() || list.len() > MAX_ORIGINS {
        return Err(fail(
            span,
            field,
            format!(
                "lists {} origins: it must list 1 to {MAX_ORIGINS}, such as `https://img.example.gov.cn`",
                list.len()
            ),
        ));
    }
    let mut origins: Vec<Origin> = Vec::with_capacity(list.len());
    for text in &list {
        let origin = Origin::parse(text)
            .map_err(|why| fail(span.clone(), field, format!("has `{text}`: {why}")))?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn toml_error_message(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line}: {msg} (at `{snippet}`)")
        }
        None => msg,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    app: RawApp,
    publisher: RawPublisher,
    #[serde(default)]
    capabilities: RawCapabilities,
    #[serde(default = "no_settings")]
    settings: Spanned<Vec<RawSetting>>,
    #[serde(default = "no_tabs")]
    tabs: Spanned<Vec<RawTab>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTab {
    title: Spanned<String>,
    path: Spanned<String>,
}

fn no_tabs() -> Spanned<Vec<RawTab>> {
    Spanned::new(0..0, Vec::new())
}

/// Parses the `[[tabs]]` tables: none, or [`MIN_TABS`] to [`MAX_TABS`],
/// each with a title of 1 to 16 characters and its own path (`/...`, no
/// query, at most 256 bytes).
fn parse_tabs(
    raw: Spanned<Vec<RawTab>>,
    fail: &dyn Fn(std::ops::Range<usize>, &str, String) -> Error,
) -> Result<Vec<Tab>> {
    let span = raw.span();
    let raw = raw.into_inner();
    if !raw.is_empty() && !(MIN_TABS..=MAX_TABS).contains(&raw.len()) {
        return Err(fail(
            span,
            "tabs",
            format!(
                "declares {} tabs; a tab bar has {MIN_TABS} to {MAX_TABS}",
                raw.len()
            ),
        ));
    }
    let mut tabs: Vec<Tab> = Vec::with_capacity(raw.len());
    for t in raw {
        let title = t.title.get_ref().trim();
        if title.is_empty() || title.chars().count() > 16 || title.contains(['\n', '\r']) {
            return Err(fail(
                t.title.span(),
                "tabs.title",
                format!("is `{title}`: a tab's title is 1 to 16 characters on one line"),
            ));
        }
        let path = t.path.get_ref();
        if !path.starts_with('/')
            || path.len() > 256
            || path.contains(['?', '#'])
            || path.chars().any(char::is_control)
            || path.contains(char::is_whitespace)
        {
            return Err(fail(
                t.path.span(),
                "tabs.path",
                format!(
                    "is `{path}`: a tab's path starts with `/`, has no query, spaces or `#`, and is at most 256 bytes, such as `/bookings`"
                ),
            ));
        }
        if tabs.iter().any(|o| &o.path == path) {
            return Err(fail(
                t.path.span(),
                "tabs.path",
                format!("names the path `{path}` twice: each tab opens its own page"),
            ));
        }
        tabs.push(Tab {
            title: title.to_string(),
            path: path.clone(),
        });
    }
    Ok(tabs)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetting {
    name: Spanned<String>,
    #[serde(default)]
    secret: bool,
    default: Option<Spanned<String>>,
}

/// The setting an origin names: `${name}` is the value of the setting
/// `name`, read when a session starts.
pub fn origin_setting_name(text: &str) -> Option<&str> {
    text.trim()
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
}

/// Whether `name` is a setting name: 1 to [`MAX_SETTING_NAME_BYTES`]
/// lowercase letters, digits and `-`, starting with a letter.
pub fn is_setting_name(name: &str) -> bool {
    name.len() <= MAX_SETTING_NAME_BYTES
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Parses the `[[settings]]` tables: at most [`MAX_SETTINGS`], each name
/// well formed and declared once, no default for a secret, defaults within
/// [`MAX_SETTING_VALUE_BYTES`].
fn parse_settings(
    raw: Spanned<Vec<RawSetting>>,
    fail: &dyn Fn(std::ops::Range<usize>, &str, String) -> Error,
) -> Result<Vec<SettingDecl>> {
    let span = raw.span();
    let raw = raw.into_inner();
    if raw.len() > MAX_SETTINGS {
        return Err(fail(
            span,
            "settings",
            format!(
                "declares {} settings; a manifest may declare at most {MAX_SETTINGS}",
                raw.len()
            ),
        ));
    }
    let mut settings: Vec<SettingDecl> = Vec::with_capacity(raw.len());
    for s in raw {
        let name = s.name.get_ref();
        if !is_setting_name(name) {
            return Err(fail(
                s.name.span(),
                "settings.name",
                format!(
                    "is `{name}`: a setting name is 1 to {MAX_SETTING_NAME_BYTES} lowercase letters, digits and '-', starting with a letter, such as `agency-origin`"
                ),
            ));
        }
        if settings.iter().any(|d| &d.name == name) {
            return Err(fail(
                s.name.span(),
                "settings.name",
                format!("declares the setting `{name}` twice"),
            ));
        }
        if let Some(default) = &s.default {
            if s.secret {
                return Err(fail(
                    default.span(),
                    "settings.default",
                    format!(
                        "is given for the secret `{name}`: a secret never has a value in the package; the operator sets it (`plaza config set APP {name} VALUE --secret`)"
                    ),
                ));
            }
            if default.get_ref().len() > MAX_SETTING_VALUE_BYTES {
                return Err(fail(
                    default.span(),
                    "settings.default",
                    format!(
                        "of `{name}` is {} bytes; a value is at most {MAX_SETTING_VALUE_BYTES}",
                        default.get_ref().len()
                    ),
                ));
            }
        }
        settings.push(SettingDecl {
            name: name.clone(),
            secret: s.secret,
            default: s.default.map(Spanned::into_inner),
        });
    }
    Ok(settings)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    id: Spanned<String>,
    name: Spanned<String>,
    version: Spanned<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublisher {
    id: Spanned<String>,
    name: Spanned<String>,
    category: Category,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCapabilities {
    storage: Option<RawStorage>,
    log: Option<Empty>,
    clock: Option<Empty>,
    identity: Option<RawIdentity>,
    payment: Option<RawPayment>,
    messaging: Option<RawMessaging>,
    network: Option<RawNetwork>,
    images: Option<RawNetwork>,
    media: Option<RawMedia>,
    scan: Option<Empty>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMedia {
    max_file_bytes: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    origins: Spanned<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayment {
    notify: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStorage {
    quota_bytes: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    #[serde(default = "empty_scopes")]
    scopes: Spanned<BTreeMap<Scope, String>>,
}

fn no_settings() -> Spanned<Vec<RawSetting>> {
    Spanned::new(0..0, Vec::new())
}

fn empty_scopes() -> Spanned<BTreeMap<Scope, String>> {
    Spanned::new(0..0, BTreeMap::new())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessaging {
    #[serde(default)]
    templates: Vec<MessageTemplate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[app]
id = "cn.hz.maternity"
name = "Maternity"
version = "1.0.0"

[publisher]
id = "cn.hz.health"
name = "Health"
category = "medical"

[capabilities.storage]
quota-bytes = 1024
[capabilities.identity]
scopes = { real-name = "To register you" }
"#;

    fn err(text: &str) -> String {
        Manifest::parse("plaza.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn parses_a_good_manifest() {
        let m = Manifest::parse("plaza.toml", GOOD).unwrap();
        assert_eq!(m.app.id, "cn.hz.maternity");
        assert_eq!(m.storage_quota(), 1024);
        assert_eq!(m.scope_purpose(Scope::RealName), Some("To register you"));
        assert_eq!(
            m.declared(),
            vec![Capability::Storage, Capability::Identity]
        );
    }

    #[test]
    fn a_tab_bar_is_declared_and_checked() {
        let tab = |title: &str, path: &str| {
            format!("\n[[tabs]]\ntitle = \"{title}\"\npath = \"{path}\"\n")
        };
        let m = Manifest::parse(
            "plaza.toml",
            &format!("{GOOD}{}{}", tab("Home", "/"), tab("Bookings", "/bookings")),
        )
        .unwrap();
        let got: Vec<(&str, &str)> = m
            .tabs
            .iter()
            .map(|t| (t.title.as_str(), t.path.as_str()))
            .collect();
        assert_eq!(got, vec![("Home", "/"), ("Bookings", "/bookings")]);
        assert!(Manifest::parse("plaza.toml", GOOD).unwrap().tabs.is_empty());
        let e = err(&format!("{GOOD}{}", tab("Home", "/")));
        assert!(
            e.contains("`tabs` declares 1 tabs; a tab bar has 2 to 5"),
            "{e}"
        );
        let six: String = (0..6).map(|i| tab("T", &format!("/t{i}"))).collect();
        assert!(err(&format!("{GOOD}{six}")).contains("declares 6 tabs"));
        let e = err(&format!("{GOOD}{}{}", tab("Home", "/"), tab("Again", "/")));
        assert!(e.contains("`tabs.path` names the path `/` twice"), "{e}");
        let e = err(&format!("{GOOD}{}{}", tab("Home", "/"), tab("Q", "/a?b=1")));
        assert!(e.contains("`tabs.path` is `/a?b=1`"), "{e}");
        let e = err(&format!(
            "{GOOD}{}{}",
            tab("Home", "/"),
            tab("Q", "bookings")
        ));
        assert!(e.contains("`tabs.path` is `bookings`"), "{e}");
        let e = err(&format!("{GOOD}{}{}", tab("Home", "/"), tab("", "/b")));
        assert!(e.contains("`tabs.title` is ``"), "{e}");
        let e = err(&format!(
            "{GOOD}{}{}",
            tab("Home", "/"),
            tab("A very long tab title", "/b")
        ));
        assert!(
            e.contains("line 22") && e.contains("1 to 16 characters"),
            "{e}"
        );
    }

    #[test]
    fn unknown_field_names_field_and_line() {
        let e = err(&GOOD.replace(
            "name = \"Maternity\"",
            "name = \"Maternity\"\ncolour = \"red\"",
        ));
        assert!(e.contains("line 5"), "{e}");
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn unknown_capability_is_refused() {
        let e = err(&format!("{GOOD}\n[capabilities.teleport]\n"));
        assert!(e.contains("teleport"), "{e}");
        assert!(e.contains("line 17"), "{e}");
    }

    #[test]
    fn bad_values_name_field_and_line() {
        let e = err(&GOOD.replace("cn.hz.maternity", "Maternity App"));
        assert!(e.contains("line 3") && e.contains("app.id"), "{e}");
        let e = err(&GOOD.replace("1.0.0", "one"));
        assert!(e.contains("line 5") && e.contains("app.version"), "{e}");
        let e = err(&GOOD.replace("1024", "99999999"));
        assert!(e.contains("line 13") && e.contains("quota-bytes"), "{e}");
        let e = err(&GOOD.replace("medical", "casino"));
        assert!(e.contains("line 10") && e.contains("casino"), "{e}");
        let e = err(&GOOD.replace("real-name", "soul"));
        assert!(e.contains("soul"), "{e}");
        let e = err(&GOOD.replace("\"To register you\"", "\" \""));
        assert!(e.contains("purpose"), "{e}");
    }

    #[test]
    fn missing_table_is_named() {
        let e = err("[app]\nid = \"a.b\"\nname = \"x\"\nversion = \"1.0.0\"\n");
        assert!(e.contains("publisher"), "{e}");
    }

    #[test]
    fn a_notify_url_must_be_at_a_declared_origin() {
        let with = |network: &str, notify: &str| {
            Manifest::parse(
                "plaza.toml",
                &format!("{GOOD}\n{network}\n[capabilities.payment]\nnotify = \"{notify}\"\n"),
            )
        };
        let network = "[capabilities.network]\norigins = [\"https://*.hz.gov.cn\", \"https://api.hz.example:8443\"]";
        let m = with(network, "https://pay.hz.gov.cn/plaza/notify?v=1").unwrap();
        let notify = m.capabilities.payment.unwrap().notify.unwrap();
        assert_eq!(notify.url, "https://pay.hz.gov.cn/plaza/notify?v=1");
        assert_eq!(notify.path, "/plaza/notify?v=1");
        let m = with(network, "https://api.hz.example:8443").unwrap();
        assert_eq!(m.capabilities.payment.unwrap().notify.unwrap().path, "/");
        // Another port, another host, a wildcard's own name, no network.
        for (network, notify) in [
            (network, "https://api.hz.example/notify"),
            (network, "https://pay.hz.example.net/notify"),
            (network, "https://hz.gov.cn/notify"),
            ("", "https://pay.hz.gov.cn/notify"),
        ] {
            let e = with(network, notify).unwrap_err();
            assert!(
                matches!(&e, Error::NotifyOriginUndeclared { app, .. } if app == "cn.hz.maternity"),
                "{e}"
            );
            assert!(
                e.to_string().contains("[capabilities.network] origins"),
                "{e}"
            );
        }
        // Not a URL the host would send to: named with the field.
        for bad in [
            "pay.hz.gov.cn/notify",
            "http://pay.hz.gov.cn/notify",
            "https://*.hz.gov.cn/notify",
            "https://pay.hz.gov.cn/notify#top",
            "https://user@pay.hz.gov.cn/notify",
        ] {
            let e = with(network, bad).unwrap_err().to_string();
            assert!(e.contains("capabilities.payment.notify"), "{bad}: {e}");
        }
        // Payment without a notify URL still declares payment.
        let m =
            Manifest::parse("plaza.toml", &format!("{GOOD}\n[capabilities.payment]\n")).unwrap();
        assert!(m.declares(Capability::Payment));
        assert_eq!(
            m.capabilities.payment,
            Some(PaymentRequest { notify: None })
        );
    }

    #[test]
    fn origins_are_parsed_and_checked() {
        let with = |origins: &str| {
            Manifest::parse(
                "plaza.toml",
                &format!("{GOOD}\n[capabilities.network]\norigins = [{origins}]\n"),
            )
        };
        let m =
            with("\"HTTPS://Api.HZ.gov.cn/\", \"https://*.hz.gov.cn:8443\", \"http://[::1]:9000\"")
                .unwrap();
        assert!(m.declares(Capability::Network));
        let shown: Vec<String> = m.origins().iter().map(|o| o.to_string()).collect();
        assert_eq!(
            shown,
            vec![
                "https://api.hz.gov.cn",
                "https://*.hz.gov.cn:8443",
                "http://[::1]:9000"
            ]
        );
        assert!(m.origins()[0].matches("https", "api.hz.gov.cn", 443));
        assert!(!m.origins()[0].matches("http", "api.hz.gov.cn", 443));
        assert!(m.origins()[1].matches("https", "a.b.hz.gov.cn", 8443));
        assert!(!m.origins()[1].matches("https", "xhz.gov.cn", 8443));
        assert!(m.origins()[2].matches("http", "[::1]", 9000));
        for (origins, why) in [
            ("", "at least one origin"),
            ("\"api.hz.gov.cn\"", "https://host"),
            ("\"http://api.hz.gov.cn\"", "plain HTTP"),
            ("\"https://192.168.1.10\"", "IP addresses"),
            ("\"https://*.127.0.0.1\"", "wildcard"),
            ("\"https://*.com\"", "top-level domain"),
            ("\"https://*.gov.cn\"", "public suffix"),
            ("\"https://*.com.cn\"", "public suffix"),
            ("\"https://*.github.io\"", "public suffix"),
            ("\"https://a_b.cn\"", "not a host name"),
            ("\"https://api.hz.gov.cn:0\"", "not a port"),
            ("\"https://user@api.hz.gov.cn\"", "user name"),
            ("\"wss://api.hz.gov.cn\"", "use https"),
        ] {
            let e = with(origins).unwrap_err().to_string();
            assert!(
                e.contains("capabilities.network.origins") && e.contains(why),
                "{origins}: {e}"
            );
        }
    }

    #[test]
    fn image_origins_are_parsed_and_checked() {
        let m = Manifest::parse(
            "plaza.toml",
            &format!("{GOOD}\n[capabilities.images]\norigins = [\"https://img.hz.gov.cn\"]\n"),
        )
        .unwrap();
        assert_eq!(m.image_origins()[0].to_string(), "https://img.hz.gov.cn");
        assert!(m.origins().is_empty() && !m.declares(Capability::Network));
        for (origins, why) in [("", "1 to 32"), ("\"http://img.hz.gov.cn\"", "plain HTTP")] {
            let e = err(&format!(
                "{GOOD}\n[capabilities.images]\norigins = [{origins}]\n"
            ));
            assert!(
                e.contains("capabilities.images.origins") && e.contains(why),
                "{e}"
            );
        }
        assert!(
            Manifest::parse("plaza.toml", GOOD)
                .unwrap()
                .image_origins()
                .is_empty()
        );
    }

    #[test]
    fn settings_are_parsed_and_checked() {
        let with = |settings: &str| Manifest::parse("plaza.toml", &format!("{GOOD}\n{settings}"));
        let m = with(
            "[capabilities.network]\norigins = [\"${agency-origin}\", \"https://x.hz.gov.cn\"]\n\
             [[settings]]\nname = \"agency-origin\"\ndefault = \"https://api.hz.gov.cn\"\n\
             [[settings]]\nname = \"agency-api-key\"\nsecret = true\n",
        )
        .unwrap();
        assert!(m.declares(Capability::Config));
        assert_eq!(m.settings.len(), 2);
        assert!(m.setting("agency-api-key").unwrap().secret);
        assert_eq!(
            m.setting("agency-origin").unwrap().default.as_deref(),
            Some("https://api.hz.gov.cn")
        );
        assert_eq!(m.origin_settings(), ["agency-origin".to_string()]);
        assert_eq!(m.origins().len(), 1, "the setting is no origin by itself");
        assert!(
            !Manifest::parse("plaza.toml", GOOD)
                .unwrap()
                .declares(Capability::Config)
        );
        for (settings, why) in [
            ("[[settings]]\nname = \"Key\"\n", "lowercase"),
            (
                "[[settings]]\nname = \"a\"\n[[settings]]\nname = \"a\"\n",
                "twice",
            ),
            (
                "[[settings]]\nname = \"k\"\nsecret = true\ndefault = \"in-the-package\"\n",
                "never has a value in the package",
            ),
            ("[[settings]]\nname = \"k\"\ncolour = 1\n", "colour"),
            (
                "[capabilities.network]\norigins = [\"${nope}\"]\n",
                "no [[settings]] table declares",
            ),
            (
                "[capabilities.network]\norigins = [\"${k}\"]\n[[settings]]\nname = \"k\"\nsecret = true\n",
                "a secret",
            ),
            (
                "[capabilities.network]\norigins = [\"${k}\"]\n[[settings]]\nname = \"k\"\ndefault = \"ftp://x\"\n",
                "not an origin",
            ),
        ] {
            let e = with(settings).unwrap_err().to_string();
            assert!(e.contains(why), "{settings}: {e}");
            assert!(!e.contains("in-the-package"), "{e}");
        }
        let many: String = (0..=MAX_SETTINGS)
            .map(|i| format!("[[settings]]\nname = \"s{i}\"\n"))
            .collect();
        assert!(with(&many).unwrap_err().to_string().contains("at most"));
    }

    #[test]
    fn reverse_dns() {
        assert!(is_reverse_dns("cn.gov.hz"));
        assert!(is_reverse_dns("a-1.b"));
        assert!(!is_reverse_dns("single"));
        assert!(!is_reverse_dns("a..b"));
        assert!(!is_reverse_dns("A.b"));
        assert!(!is_reverse_dns("-a.b"));
    }
}
