//! Mini-apps' settings: values and secrets the host's operator (or the
//! publisher's back-end) sets per mini-app, outside its package, read by the
//! mini-app through `plaza:host/config`.
//!
//! A manifest declares each setting (`[[settings]]`: a name, whether it is a
//! secret, an optional default for one that is not). Secrets are sealed with
//! the host's [`SettingsKey`] (ChaCha20-Poly1305) before they reach the
//! store, bound to their mini-app and name; the key is kept apart from the
//! database (a key file or an environment variable), so a copy of the
//! database alone does not reveal them.
//!
//! A session reads the values as they were when it started
//! ([`SessionSettings`]): a changed setting is what the next session reads.
//! The same snapshot resolves the network origins a manifest names by
//! setting (`"${agency-origin}"`).
//!
//! ```
//! use plaza_host::settings::SettingsKey;
//! let key = SettingsKey::from_hex(&"ab".repeat(32)).unwrap();
//! assert!(SettingsKey::from_hex("not hex").is_err());
//! assert!(format!("{key:?}").contains("SettingsKey"));
//! ```

use crate::error::{Error, Result};
use crate::manifest::{Manifest, Origin};
use crate::store::{SettingRecord, SettingsStore};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The environment variable that may hold the settings key: 64 hex
/// characters (32 bytes).
pub const SETTINGS_KEY_ENV: &str = "PLAZA_SETTINGS_KEY";

/// What a sealed secret starts with: the format's version.
const SEALED_V1: u8 = 1;

/// The key that seals mini-apps' secret settings, kept apart from the
/// database. Cheap to clone.
///
/// From 32 bytes given as hex ([`SettingsKey::from_hex`], or the
/// [`SETTINGS_KEY_ENV`] environment variable: [`SettingsKey::from_env`]),
/// or from a key file ([`SettingsKey::file`]) read at its first use and
/// made then, with fresh random bytes and only its owner allowed to read
/// it, if it does not exist.
#[derive(Clone)]
pub struct SettingsKey(Arc<KeySource>);

enum KeySource {
    Bytes([u8; 32]),
    File {
        path: PathBuf,
        loaded: Mutex<Option<[u8; 32]>>,
    },
}

impl std::fmt::Debug for SettingsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("SettingsKey");
        if let KeySource::File { path, .. } = &*self.0 {
            d.field("file", path);
        }
        d.finish_non_exhaustive()
    }
}

fn key_error(message: String) -> Error {
    Error::SettingsKey {
        message,
        source: None,
    }
}

fn parse_key_hex(text: &str, what: &str) -> Result<[u8; 32]> {
    crate::hex::decode(text.trim())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            key_error(format!(
                "{what} is not 64 hex characters (32 bytes): make one with `openssl rand -hex 32`"
            ))
        })
}

impl SettingsKey {
    /// A key from 64 hex characters.
    pub fn from_hex(hex: &str) -> Result<SettingsKey> {
        let bytes = parse_key_hex(hex, "the settings key")?;
        Ok(SettingsKey(Arc::new(KeySource::Bytes(bytes))))
    }

    /// The key in [`SETTINGS_KEY_ENV`], if that variable is set.
    pub fn from_env() -> Result<Option<SettingsKey>> {
        match std::env::var(SETTINGS_KEY_ENV) {
            Ok(hex) => {
                let bytes = parse_key_hex(&hex, SETTINGS_KEY_ENV)?;
                Ok(Some(SettingsKey(Arc::new(KeySource::Bytes(bytes)))))
            }
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(key_error(format!(
                "{SETTINGS_KEY_ENV} is not 64 hex characters"
            ))),
        }
    }

    /// The key in the file at `path` (64 hex characters), read at its first
    /// use; made then if the file does not exist.
    pub fn file(path: impl Into<PathBuf>) -> SettingsKey {
        SettingsKey(Arc::new(KeySource::File {
            path: path.into(),
            loaded: Mutex::new(None),
        }))
    }

    /// The key in [`SETTINGS_KEY_ENV`] if that variable is set, else the
    /// key file at `file` ([`SettingsKey::file`]).
    pub fn from_env_or_file(file: impl Into<PathBuf>) -> Result<SettingsKey> {
        Ok(SettingsKey::from_env()?.unwrap_or_else(|| SettingsKey::file(file)))
    }

    /// Where a store at `store` keeps its key file when told nothing else:
    /// `STORE.settings-key`, beside it (apart from the database file; keep
    /// it out of the store's backups, or name another place). `None` for a
    /// PostgreSQL store (a `postgres://` URL): there is no "beside" a
    /// database, and every node on it needs the same key, so the key is
    /// named explicitly (`PLAZA_SETTINGS_KEY` or a key file).
    pub fn default_file(store: &Path) -> Option<PathBuf> {
        if crate::store::is_postgres_url(&store.to_string_lossy()) {
            return None;
        }
        let mut file = store.as_os_str().to_owned();
        file.push(".settings-key");
        Some(PathBuf::from(file))
    }

    /// The key of a store at `store`: [`SETTINGS_KEY_ENV`] if set, else the
    /// key file `file` if given, else the [`default_file`](Self::default_file)
    /// beside the store; `None` when none applies (a PostgreSQL store with
    /// neither: secret settings are then refused).
    pub fn for_store(store: &Path, file: Option<PathBuf>) -> Result<Option<SettingsKey>> {
        match file.or_else(|| SettingsKey::default_file(store)) {
            Some(file) => SettingsKey::from_env_or_file(file).map(Some),
            None => SettingsKey::from_env(),
        }
    }

    /// The key's bytes, reading (or making) its file at the first use.
    fn bytes(&self) -> Result<[u8; 32]> {
        match &*self.0 {
            KeySource::Bytes(b) => Ok(*b),
            KeySource::File { path, loaded } => {
                let mut loaded = loaded.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(b) = *loaded {
                    return Ok(b);
                }
                let b = read_or_make_key_file(path)?;
                *loaded = Some(b);
                Ok(b)
            }
        }
    }

    fn cipher(&self) -> Result<LessSafeKey> {
        let key = UnboundKey::new(&CHACHA20_POLY1305, &self.bytes()?)
            .map_err(|_| key_error("the settings key is unusable".to_string()))?;
        Ok(LessSafeKey::new(key))
    }

    /// Seals `value` of the setting `name` of `app`: a version byte, a
    /// random nonce, the ciphertext and its tag. The mini-app and the name
    /// are bound in, so a sealed value moved to another setting does not open.
    pub(crate) fn seal(&self, app: &str, name: &str, value: &str) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&crate::keys::random_32()?[..NONCE_LEN]);
        let mut sealed = value.as_bytes().to_vec();
        self.cipher()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated_data(app, name)),
                &mut sealed,
            )
            .map_err(|_| key_error("sealing a secret failed".to_string()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) made for the same mini-app and name.
    pub(crate) fn open(&self, app: &str, name: &str, sealed: &[u8]) -> Result<String> {
        let refused = || {
            key_error(format!(
                "the secret `{name}` of {app} does not open with this settings key: the key changed, or the store was altered; set the secret again"
            ))
        };
        let Some((&SEALED_V1, rest)) = sealed.split_first() else {
            return Err(refused());
        };
        if rest.len() < NONCE_LEN {
            return Err(refused());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut buf = ciphertext.to_vec();
        let plain = self
            .cipher()?
            .open_in_place(nonce, Aad::from(associated_data(app, name)), &mut buf)
            .map_err(|_| refused())?;
        String::from_utf8(plain.to_vec()).map_err(|_| refused())
    }
}

/// What a sealed secret is bound to: its mini-app and name.
fn associated_data(app: &str, name: &str) -> Vec<u8> {
    let mut aad = b"plaza-setting-v1\n".to_vec();
    aad.extend_from_slice(app.as_bytes());
    aad.push(b'\n');
    aad.extend_from_slice(name.as_bytes());
    aad
}

fn read_or_make_key_file(path: &Path) -> Result<[u8; 32]> {
    let what = format!("the settings key file {}", path.display());
    let io = |e: std::io::Error, doing: &str| Error::SettingsKey {
        message: format!("{doing} {what}: {e}"),
        source: Some(e.into()),
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return parse_key_hex(&text, &what),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e, "reading")),
        Err(_) => {}
    }
    let bytes = crate::keys::random_32()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io(e, "making the folder of"))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            use std::io::Write;
            writeln!(file, "{}", crate::hex::encode(&bytes))
                .and_then(|()| file.sync_all())
                .map_err(|e| io(e, "writing"))?;
            tracing::info!(path = %path.display(), "made a new settings key");
            Ok(bytes)
        }
        // Another process made it first: its key is the key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(|e| io(e, "reading"))?;
            parse_key_hex(&text, &what)
        }
        Err(e) => Err(io(e, "making")),
    }
}

/// Where the value a session reads comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingSource {
    /// The operator (or the publisher's back-end) set it.
    Set,
    /// Not set: the manifest's default.
    Default,
    /// Not set and no default: the mini-app gets `not-found`.
    Missing,
}

/// A declared setting of an installed mini-app, as the operator sees it: a
/// secret's value is never shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SettingInfo {
    /// The name.
    pub name: String,
    /// Whether it is a secret (declared so, or set with `secret`).
    pub secret: bool,
    /// The value a session reads; `None` for a secret (masked) and for a
    /// missing setting.
    pub value: Option<String>,
    /// Where that value comes from.
    pub source: SettingSource,
    /// When it was last set, ms since the epoch (`None` unless set).
    pub updated_at_ms: Option<i64>,
}

/// The settings of a mini-app as one session reads them: the store's
/// records when the session started, and the manifest's declarations.
pub(crate) struct SessionSettings {
    manifest: Arc<Manifest>,
    records: BTreeMap<String, SettingRecord>,
    key: Option<SettingsKey>,
}

/// Why a session cannot have a setting's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SettingRead {
    /// The manifest does not declare it.
    Undeclared,
    /// Not set, and no default.
    Missing,
    /// A secret the host cannot open now (no key, or another key).
    Unreadable,
}

impl SessionSettings {
    /// The settings of the mini-app of `manifest` now.
    pub(crate) fn load(
        store: &dyn SettingsStore,
        manifest: Arc<Manifest>,
        key: Option<SettingsKey>,
    ) -> Result<SessionSettings> {
        let records = if manifest.settings.is_empty() {
            BTreeMap::new()
        } else {
            store
                .settings(&manifest.app.id)?
                .into_iter()
                .map(|r| (r.name.clone(), r))
                .collect()
        };
        Ok(SessionSettings {
            manifest,
            records,
            key,
        })
    }

    /// The value of the setting `name`: what was set (a secret opened with
    /// the key), else the manifest's default.
    pub(crate) fn get(&self, name: &str) -> std::result::Result<String, SettingRead> {
        let Some(decl) = self.manifest.setting(name) else {
            return Err(SettingRead::Undeclared);
        };
        match self.records.get(name) {
            Some(r) if r.secret => {
                let app = &self.manifest.app.id;
                let opened = match &self.key {
                    Some(key) => key.open(app, name, &r.value),
                    None => Err(key_error("the host has no settings key".to_string())),
                };
                opened.map_err(|e| {
                    tracing::error!(app = %app, setting = %name, "cannot read a secret setting: {e}");
                    SettingRead::Unreadable
                })
            }
            Some(r) => String::from_utf8(r.value.clone()).map_err(|_| SettingRead::Unreadable),
            None => decl.default.clone().ok_or(SettingRead::Missing),
        }
    }

    /// The origins the session may call: those the manifest lists, and the
    /// value of each setting it names as an origin (`"${name}"`), when that
    /// is set (or has a default) and is an origin. A setting that is not
    /// adds no origin.
    pub(crate) fn origins(&self) -> Vec<Origin> {
        let mut origins = self.manifest.origins().to_vec();
        for name in self.manifest.origin_settings() {
            match self.get(name).map(|v| Origin::parse(&v)) {
                Ok(Ok(origin)) => {
                    if !origins.contains(&origin) {
                        origins.push(origin);
                    }
                }
                // The value is not logged: only that it is no origin.
                Ok(Err(_)) => tracing::warn!(
                    app = %self.manifest.app.id, setting = %name,
                    "the setting names no origin: the session may call no origin through it"
                ),
                Err(_) => tracing::warn!(
                    app = %self.manifest.app.id, setting = %name,
                    "the setting is not set: the session may call no origin through it"
                ),
            }
        }
        origins
    }
}

/// The declared settings of `manifest` with what `records` (the store's)
/// hold, as [`SettingInfo`]s: secrets masked.
pub(crate) fn describe(manifest: &Manifest, records: &[SettingRecord]) -> Vec<SettingInfo> {
    manifest
        .settings
        .iter()
        .map(|decl| {
            let record = records.iter().find(|r| r.name == decl.name);
            let (value, source) = match (record, &decl.default) {
                (Some(r), _) if r.secret || decl.secret => (None, SettingSource::Set),
                (Some(r), _) => (
                    Some(String::from_utf8_lossy(&r.value).into_owned()),
                    SettingSource::Set,
                ),
                (None, Some(d)) => (Some(d.clone()), SettingSource::Default),
                (None, None) => (None, SettingSource::Missing),
            };
            SettingInfo {
                name: decl.name.clone(),
                secret: decl.secret || record.is_some_and(|r| r.secret),
                value,
                source,
                updated_at_ms: record.map(|r| r.updated_at_ms),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_app_and_name() {
        let key = SettingsKey::from_hex(&"11".repeat(32)).unwrap();
        let sealed = key.seal("cn.a.b", "api-key", "s3cret-value").unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"s3cret"),
            "the plain value is not in the sealed bytes"
        );
        assert_eq!(
            key.open("cn.a.b", "api-key", &sealed).unwrap(),
            "s3cret-value"
        );
        // Two seals of one value differ (a fresh nonce each).
        assert_ne!(
            sealed,
            key.seal("cn.a.b", "api-key", "s3cret-value").unwrap()
        );
        assert!(key.open("cn.a.c", "api-key", &sealed).is_err());
        assert!(key.open("cn.a.b", "other", &sealed).is_err());
        let other = SettingsKey::from_hex(&"22".repeat(32)).unwrap();
        let e = other.open("cn.a.b", "api-key", &sealed).unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open("cn.a.b", "api-key", &altered).is_err());
        assert!(key.open("cn.a.b", "api-key", &[]).is_err());
        assert!(key.open("cn.a.b", "api-key", &[SEALED_V1, 1, 2]).is_err());
    }

    /// A PostgreSQL store has no file "beside" it: its key is named, never
    /// made at a path spelled from its URL (which made a directory
    /// `postgres:` in the working directory, and a key per node).
    #[test]
    fn a_postgres_store_has_no_default_key_file() {
        let url = Path::new("postgres://plaza@db.internal/plaza");
        assert_eq!(SettingsKey::default_file(url), None);
        assert_eq!(
            SettingsKey::default_file(Path::new("/var/plaza/plaza.db")),
            Some(PathBuf::from("/var/plaza/plaza.db.settings-key"))
        );
        if std::env::var_os(SETTINGS_KEY_ENV).is_none() {
            assert!(SettingsKey::for_store(url, None).unwrap().is_none());
        }
        let dir = tempfile::tempdir().unwrap();
        let named = SettingsKey::for_store(url, Some(dir.path().join("k"))).unwrap();
        assert!(named.is_some());
    }

    #[test]
    fn a_key_file_is_made_once_owner_only_and_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("settings.key");
        let first = SettingsKey::file(&path);
        let sealed = first.seal("cn.a.b", "k", "v").unwrap();
        assert!(path.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SettingsKey::file(&path);
        assert_eq!(again.open("cn.a.b", "k", &sealed).unwrap(), "v");
        std::fs::write(&path, "short").unwrap();
        let e = SettingsKey::file(&path)
            .seal("cn.a.b", "k", "v")
            .unwrap_err();
        assert!(e.to_string().contains("64 hex"), "{e}");
    }
}
