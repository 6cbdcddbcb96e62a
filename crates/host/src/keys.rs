//! The host's keys: an ed25519 key that signs payment receipts (a mini-app's
//! backend verifies them with the host's public key), and a secret behind the
//! pseudonymous ids (`openid`, `unionid`). Made at the first open of a store,
//! kept in it, the same after a restart.
//!
//! ```
//! use plaza_host::keys::HostKeys;
//! use plaza_host::store::SqliteStore;
//! let store = SqliteStore::open_in_memory().unwrap();
//! let keys = HostKeys::load(&store).unwrap();
//! let again = HostKeys::load(&store).unwrap();
//! assert_eq!(keys.public_key_hex(), again.public_key_hex());
//! let sig = keys.sign(b"receipt");
//! assert!(plaza_host::keys::verify(&keys.public_key_hex(), b"receipt", &sig));
//! ```

use crate::error::{Error, Result};
use crate::hex;
use crate::store::SecretStore;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The host's keys.
pub struct HostKeys {
    receipt_key: SigningKey,
    id_secret: [u8; 32],
}

impl std::fmt::Debug for HostKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostKeys")
            .field("public_key", &self.public_key_hex())
            .finish_non_exhaustive()
    }
}

/// 32 bytes from the operating system's random source.
pub fn random_32() -> Result<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| Error::Internal {
        message: format!("the system's random source failed: {e}"),
        // The operating system's error, when it was one (getrandom's own
        // error type is not a `std::error::Error` without its `std` feature).
        source: e
            .raw_os_error()
            .map(|code| std::io::Error::from_raw_os_error(code).into()),
    })?;
    Ok(b)
}

fn secret_32(store: &dyn SecretStore, name: &str) -> Result<[u8; 32]> {
    let value = store.secret_or_insert(name, &random_32()?)?;
    value.try_into().map_err(|_| Error::Internal {
        message: format!("the host secret `{name}` is not 32 bytes"),
        source: None,
    })
}

impl HostKeys {
    /// Loads the keys from the store, making them at the first open.
    pub fn load(store: &dyn SecretStore) -> Result<HostKeys> {
        Ok(HostKeys {
            receipt_key: SigningKey::from_bytes(&secret_32(store, "receipt-signing-key")?),
            id_secret: secret_32(store, "pseudonymous-id-secret")?,
        })
    }

    /// The public half of the receipt key, hex (64 characters).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.receipt_key.verifying_key().as_bytes())
    }

    /// Signs `message` with the receipt key; the signature as hex.
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(&self.receipt_key.sign(message).to_bytes())
    }

    /// A keyed hash (HMAC-SHA-256 with the id secret) of `parts`, each
    /// length-prefixed so no two part lists collide; hex.
    pub fn pseudonym(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.id_secret).expect("any key length");
        for p in parts {
            mac.update(&(p.len() as u64).to_le_bytes());
            mac.update(p.as_bytes());
        }
        hex::encode(&mac.finalize().into_bytes())
    }
}

/// Checks a hex signature over `message` against a hex ed25519 public key.
pub fn verify(public_key_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let (Some(pk), Some(sig)) = (hex::decode(public_key_hex), hex::decode(signature_hex)) else {
        return false;
    };
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(&sig)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[test]
    fn keys_persist_and_pseudonyms_are_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let a = HostKeys::load(&SqliteStore::open(&path).unwrap()).unwrap();
        let b = HostKeys::load(&SqliteStore::open(&path).unwrap()).unwrap();
        assert_eq!(a.public_key_hex(), b.public_key_hex());
        assert_eq!(a.pseudonym(&["u", "app"]), b.pseudonym(&["u", "app"]));
        assert_ne!(a.pseudonym(&["u", "app"]), a.pseudonym(&["u", "app2"]));
        assert_ne!(a.pseudonym(&["ua", "pp"]), a.pseudonym(&["u", "app"]));
        let other = HostKeys::load(&SqliteStore::open_in_memory().unwrap()).unwrap();
        assert_ne!(a.pseudonym(&["u", "app"]), other.pseudonym(&["u", "app"]));
        let sig = a.sign(b"m");
        assert!(verify(&a.public_key_hex(), b"m", &sig));
        assert!(!verify(&a.public_key_hex(), b"n", &sig));
        assert!(!verify(&other.public_key_hex(), b"m", &sig));
        assert!(!verify("zz", b"m", &sig));
    }
}
