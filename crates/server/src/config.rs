//! The server's settings: a TOML file (`plaza-server --config FILE`), each
//! top-level setting overridable by an environment variable named
//! `PLAZA_SERVER_` and the setting in capitals (`PLAZA_SERVER_LISTEN`,
//! `PLAZA_SERVER_ADMIN_TOKEN`). `plaza-server --print-config` prints every
//! setting with its default and what it does ([`annotated_defaults`]).

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "PLAZA_SERVER_";

/// The server's settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The address to listen on.
    pub listen: String,
    /// The store: a SQLite file, or a PostgreSQL database's `postgres://`
    /// URL (several nodes share one).
    pub store: PathBuf,
    /// Where compiled components are kept between runs (empty: none).
    pub cache_dir: PathBuf,
    /// As `HostConfig::developer_mode`: unsigned packages install and run
    /// as unverified.
    pub developer_mode: bool,
    /// The operator API's bearer token (empty: the operator API is off).
    pub admin_token: String,
    /// How long a payment, consent or subscription question waits for the
    /// user, in seconds.
    pub prompt_timeout_secs: u64,
    /// How long one request may take before it is answered 504, in seconds
    /// (an event keeps running: its page or prompt comes with the next
    /// request).
    pub request_timeout_secs: u64,
    /// How long installing a package may take, in seconds.
    pub install_timeout_secs: u64,
    /// The largest request body of the client API, in bytes.
    pub max_body_bytes: usize,
    /// The largest package uploaded to the operator API, in bytes.
    pub max_package_bytes: usize,
    /// Requests one user may make a minute.
    pub user_requests_per_minute: u32,
    /// How long a session may be idle before it ends, in seconds (0: never).
    pub idle_timeout_secs: u64,
    /// The host's time zone, minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// How long a shutdown waits for events in flight, in seconds.
    pub shutdown_grace_secs: u64,
    /// `json` (one object a line) or `text`.
    pub log_format: String,
    /// The TLS certificate chain, PEM (empty: plain HTTP); with `tls_key`.
    pub tls_cert: PathBuf,
    /// The TLS private key, PEM (PKCS#8, PKCS#1 or SEC1); with `tls_cert`.
    pub tls_key: PathBuf,
    /// The file of the key that seals mini-apps' secret settings (empty:
    /// `STORE.settings-key`, none for a PostgreSQL store); `PLAZA_SETTINGS_KEY`
    /// wins over it.
    pub settings_key_file: PathBuf,
    /// As `HostConfig::max_loaded_code_bytes`: the most compiled code of
    /// mini-apps kept loaded, in bytes.
    pub max_loaded_code_bytes: u64,
    /// As `HostConfig::link_base`: the https form of links to mini-apps'
    /// pages (empty: only `plaza://` links).
    pub link_base: String,
    /// The embedding apps whose users may sign in.
    #[serde(rename = "issuer")]
    pub issuers: Vec<IssuerConfig>,
}

/// An embedding app whose sign-in service issues users' tokens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The `iss` of its tokens.
    pub name: String,
    /// Its HS256 secret (at least 32 bytes).
    #[serde(default)]
    pub hs256_secret: Option<String>,
    /// Its Ed25519 public key, base64 of the raw 32 bytes.
    #[serde(default)]
    pub ed25519_public_key: Option<String>,
    /// The namespace of its users' ids (`NAMESPACE:sub`); issuers given the
    /// same namespace share their users. Default: the issuer's name. Empty:
    /// the ids are `sub` alone, which may then hold no `:` (for a platform
    /// of one embedding app, or a store whose users are plain ids).
    #[serde(default)]
    pub namespace: Option<String>,
}

impl IssuerConfig {
    /// The namespace of this issuer's users.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(&self.name)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            store: "plaza.db".into(),
            cache_dir: "plaza-cache".into(),
            developer_mode: false,
            admin_token: String::new(),
            prompt_timeout_secs: 120,
            request_timeout_secs: 150,
            install_timeout_secs: 600,
            max_body_bytes: 64 * 1024,
            max_package_bytes: 32 * 1024 * 1024,
            user_requests_per_minute: 600,
            idle_timeout_secs: 30 * 60,
            utc_offset_minutes: 0,
            shutdown_grace_secs: 10,
            log_format: "json".into(),
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            settings_key_file: PathBuf::new(),
            max_loaded_code_bytes: plaza_host::DEFAULT_MAX_LOADED_CODE_BYTES,
            link_base: String::new(),
            issuers: Vec::new(),
        }
    }
}

/// Why the settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// One documented setting: its name and what it does, in the order printed.
const DOCS: &[(&str, &str)] = &[
    (
        "listen",
        "The address to listen on: plain HTTP, or HTTPS with tls_cert and tls_key (or TLS at a reverse proxy, docs/server.md).",
    ),
    (
        "store",
        "The host's store: a SQLite file, made if missing, or a postgres:// URL (several nodes may share one database).",
    ),
    (
        "cache_dir",
        "Where compiled components are kept between runs (\"\": compile at every start).",
    ),
    (
        "developer_mode",
        "As HostConfig::developer_mode: unsigned packages install and run as unverified. Never for users.",
    ),
    (
        "admin_token",
        "The operator API's bearer token, at least 32 characters (\"\": the operator API answers 401).",
    ),
    (
        "prompt_timeout_secs",
        "How long a payment, consent or subscription question waits for the user's answer, in seconds; then a payment is `timed-out`, consent dismissed, templates rejected.",
    ),
    (
        "request_timeout_secs",
        "How long one request may take, in seconds, before it is answered 504 (an event keeps running; its page or prompt comes with the next request). Keep it above prompt_timeout_secs.",
    ),
    (
        "install_timeout_secs",
        "How long installing a package may take (compiling it), in seconds.",
    ),
    (
        "max_body_bytes",
        "The largest request body of the client API, in bytes (413 above).",
    ),
    (
        "max_package_bytes",
        "The largest package the operator API takes, in bytes (413 above).",
    ),
    (
        "user_requests_per_minute",
        "Requests one user may make a minute (429 above).",
    ),
    (
        "idle_timeout_secs",
        "How long a session may be idle before it ends (the mini-app gets `hide`), in seconds; 0 never.",
    ),
    (
        "utc_offset_minutes",
        "The host's time zone, minutes east of UTC (480 for China).",
    ),
    (
        "shutdown_grace_secs",
        "At shutdown, how long events in flight may take to finish, in seconds (pending questions are declined at once).",
    ),
    (
        "log_format",
        "`json`, one object a line with the request id, or `text`.",
    ),
    (
        "tls_cert",
        "The TLS certificate chain, a PEM file: serve HTTPS (rustls; TLS 1.2 and 1.3) with tls_key. \"\": plain HTTP.",
    ),
    (
        "tls_key",
        "The TLS private key of tls_cert, a PEM file (PKCS#8, PKCS#1 or SEC1).",
    ),
    (
        "settings_key_file",
        "The file of the key that seals mini-apps' secret settings (64 hex characters, made with fresh random bytes if missing); keep it apart from the store's backups. \"\": STORE.settings-key (none for a PostgreSQL store: name one, the same on every node). The environment variable PLAZA_SETTINGS_KEY (the key itself, hex) wins over it.",
    ),
    (
        "max_loaded_code_bytes",
        "The most compiled code of mini-apps the node keeps loaded, in bytes (536870912 = 512 MiB). Mini-apps load at their first use; past this, the least recently used that no live session holds are unloaded, and load again from cache_dir at their next use.",
    ),
    (
        "link_base",
        "The https form of links to mini-apps' pages, such as \"https://plaza.example.cn/a/\": under it, APP-ID/PATH?QUERY is the link plaza://APP-ID/PATH?QUERY (POST /v1/me/links/open takes both). \"\": only plaza:// links.",
    ),
];

/// Every setting with its default and a comment, as TOML: what
/// `plaza-server --print-config` prints.
pub fn annotated_defaults() -> String {
    let defaults = ServerConfig::default();
    let table = defaults_table(&defaults);
    let mut out = String::from(
        "# plaza-server settings, with their defaults.\n\
         # Each top-level setting can also come from the environment variable\n\
         # PLAZA_SERVER_<SETTING IN CAPITALS>, which wins over the file\n\
         # (PLAZA_SERVER_LISTEN=0.0.0.0:8080).\n\n",
    );
    for (key, doc) in DOCS {
        out.push_str(&format!("# {doc}\n"));
        let value = table
            .get(*key)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "\"\"".into());
        out.push_str(&format!("{key} = {value}\n\n"));
    }
    out.push_str(
        "# One [[issuer]] per embedding app whose users may sign in. Its sign-in\n\
         # service issues JWTs with `iss` = name, `sub` = the user, `exp`; signed\n\
         # with HS256 (hs256_secret) or EdDSA (ed25519_public_key, base64 of the\n\
         # raw 32-byte key), or either when both are set. A user's id is\n\
         # `NAMESPACE:sub`, the namespace being the issuer's name unless set:\n\
         # issuers given the same namespace share their users; an empty\n\
         # namespace keeps `sub` alone as the id (then without `:`).\n\
         # [[issuer]]\n\
         # name = \"citizen-app\"\n\
         # hs256_secret = \"...at least 32 bytes...\"\n\
         # ed25519_public_key = \"base64 of 32 bytes\"\n\
         # namespace = \"citizens\"\n",
    );
    out
}

fn defaults_table(defaults: &ServerConfig) -> toml::Table {
    let mut t = toml::Table::new();
    let d = defaults;
    let s = |v: &str| toml::Value::String(v.to_string());
    t.insert("listen".into(), s(&d.listen));
    t.insert("store".into(), s(&d.store.to_string_lossy()));
    t.insert("cache_dir".into(), s(&d.cache_dir.to_string_lossy()));
    t.insert(
        "developer_mode".into(),
        toml::Value::Boolean(d.developer_mode),
    );
    t.insert("admin_token".into(), s(&d.admin_token));
    let int = |v: u64| toml::Value::Integer(v as i64);
    t.insert("prompt_timeout_secs".into(), int(d.prompt_timeout_secs));
    t.insert("request_timeout_secs".into(), int(d.request_timeout_secs));
    t.insert("install_timeout_secs".into(), int(d.install_timeout_secs));
    t.insert("max_body_bytes".into(), int(d.max_body_bytes as u64));
    t.insert("max_package_bytes".into(), int(d.max_package_bytes as u64));
    t.insert(
        "user_requests_per_minute".into(),
        int(d.user_requests_per_minute.into()),
    );
    t.insert("idle_timeout_secs".into(), int(d.idle_timeout_secs));
    t.insert(
        "utc_offset_minutes".into(),
        toml::Value::Integer(d.utc_offset_minutes.into()),
    );
    t.insert("shutdown_grace_secs".into(), int(d.shutdown_grace_secs));
    t.insert("log_format".into(), s(&d.log_format));
    t.insert("tls_cert".into(), s(&d.tls_cert.to_string_lossy()));
    t.insert("tls_key".into(), s(&d.tls_key.to_string_lossy()));
    t.insert(
        "settings_key_file".into(),
        s(&d.settings_key_file.to_string_lossy()),
    );
    t.insert("max_loaded_code_bytes".into(), int(d.max_loaded_code_bytes));
    t.insert("link_base".into(), s(&d.link_base));
    t
}

impl ServerConfig {
    /// Reads settings from TOML text, then applies the environment's
    /// overrides (`vars`: name and value pairs, such as `std::env::vars()`).
    pub fn from_toml_and_env(
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ServerConfig, ConfigError> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError(format!("the settings file: {e}")))?;
        for (name, value) in vars {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if !DOCS.iter().any(|(k, _)| *k == key) {
                return Err(ConfigError(format!(
                    "{name} names no setting: the settings are {}",
                    DOCS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                )));
            }
            // A number or a boolean as TOML; anything else as a string.
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .filter(|v| !v.is_str() && !v.is_table() && !v.is_array());
            table.insert(key, parsed.unwrap_or(toml::Value::String(value)));
        }
        let config: ServerConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError(format!("the settings: {e}")))?;
        config.check()?;
        Ok(config)
    }

    /// Checks what serde cannot: sizes, the token's length, the issuers.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError(m));
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return bad(format!(
                "listen = {:?} is not an address and port such as 127.0.0.1:8080",
                self.listen
            ));
        }
        if !self.admin_token.is_empty() && self.admin_token.len() < 32 {
            return bad("admin_token must be at least 32 characters (or empty to turn the operator API off)".into());
        }
        if self.prompt_timeout_secs == 0 || self.request_timeout_secs == 0 {
            return bad("prompt_timeout_secs and request_timeout_secs must be at least 1".into());
        }
        if self.max_body_bytes < 1024 || self.max_package_bytes < self.max_body_bytes {
            return bad(
                "max_body_bytes must be at least 1024 and max_package_bytes at least as large"
                    .into(),
            );
        }
        if self.user_requests_per_minute == 0 {
            return bad("user_requests_per_minute must be at least 1".into());
        }
        if !matches!(self.log_format.as_str(), "json" | "text") {
            return bad(format!(
                "log_format = {:?}: `json` or `text`",
                self.log_format
            ));
        }
        if self.tls_cert.as_os_str().is_empty() != self.tls_key.as_os_str().is_empty() {
            return bad(
                "tls_cert and tls_key go together: set both (HTTPS) or neither (HTTP)".into(),
            );
        }
        if !self.link_base.is_empty() {
            plaza_host::link::LinkBase::parse(&self.link_base).map_err(ConfigError)?;
        }
        let mut names = std::collections::BTreeSet::new();
        for i in &self.issuers {
            if i.name.is_empty() || i.name.contains(':') || i.namespace().contains(':') {
                return bad(format!(
                    "issuer {:?}: a name (and namespace) must be non-empty and without `:`",
                    i.name
                ));
            }
            if !names.insert(i.name.as_str()) {
                return bad(format!("issuer {:?} is listed twice", i.name));
            }
            if i.hs256_secret.is_none() && i.ed25519_public_key.is_none() {
                return bad(format!(
                    "issuer {:?} has no key: set hs256_secret or ed25519_public_key",
                    i.name
                ));
            }
        }
        Ok(())
    }

    /// Whether the server serves HTTPS.
    pub fn tls(&self) -> bool {
        !self.tls_cert.as_os_str().is_empty()
    }

    /// The prompt timeout.
    pub fn prompt_timeout(&self) -> Duration {
        Duration::from_secs(self.prompt_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_defaults_read_back_as_the_defaults_and_name_every_setting() {
        let printed = annotated_defaults();
        let read = ServerConfig::from_toml_and_env(&printed, []).unwrap();
        assert_eq!(read, ServerConfig::default());
        // Every field of the struct is documented (serde refuses unknown
        // keys, so a documented key that is not a field fails above).
        let table = defaults_table(&ServerConfig::default());
        assert_eq!(table.len(), DOCS.len());
        for (key, _) in DOCS {
            assert!(printed.contains(&format!("\n{key} = ")), "{key}");
        }
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let c = ServerConfig::from_toml_and_env(
            "listen = \"127.0.0.1:1\"\n",
            [
                (
                    "PLAZA_SERVER_LISTEN".to_string(),
                    "0.0.0.0:9000".to_string(),
                ),
                (
                    "PLAZA_SERVER_DEVELOPER_MODE".to_string(),
                    "true".to_string(),
                ),
                (
                    "PLAZA_SERVER_MAX_BODY_BYTES".to_string(),
                    "2048".to_string(),
                ),
                ("HOME".to_string(), "/root".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert!(c.developer_mode);
        assert_eq!(c.max_body_bytes, 2048);
        let err = ServerConfig::from_toml_and_env("", [("PLAZA_SERVER_LISTN".into(), "x".into())])
            .unwrap_err();
        assert!(err.0.contains("names no setting"), "{err}");
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        for (text, says) in [
            ("listen = \"nowhere\"", "not an address"),
            ("admin_token = \"short\"", "at least 32"),
            ("[[issuer]]\nname = \"a\"", "has no key"),
            (
                "[[issuer]]\nname = \"a:b\"\nhs256_secret = \"x\"",
                "without `:`",
            ),
            ("colour = 1", "unknown field"),
        ] {
            let err = ServerConfig::from_toml_and_env(text, []).unwrap_err();
            assert!(err.0.contains(says), "{text}: {err}");
        }
    }
}
