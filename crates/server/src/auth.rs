//! Who is asking: users by their embedding app's JWT, the operator by the
//! admin token.
//!
//! Users are authenticated by the embedding apps: each app's sign-in
//! service issues JWTs (`iss` = the issuer's name, `sub` = the user, `exp`),
//! signed with HS256 or EdDSA (Ed25519). The server reads the unverified
//! `iss` only to pick that issuer's keys, then verifies the signature and
//! the expiry with them; it never takes a user id from a request's body or
//! query. A user's id is `NAMESPACE:sub`, the namespace being the issuer's
//! name unless the operator gives several issuers the same one, or `sub`
//! alone for an issuer whose namespace is empty (then `sub` holds no `:`).
//!
//! Every refusal says which problem it is: `missing-token`,
//! `malformed-token`, `expired-token`, `bad-signature`, `unknown-issuer`.

use crate::config::IssuerConfig;
use crate::error::ApiError;
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;

/// Seconds of clock skew allowed on `exp`.
pub const LEEWAY_SECS: u64 = 30;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("no token: send `Authorization: Bearer <JWT from your app's sign-in service>`")]
    Missing,
    /// Not a JWT, or one without the claims needed.
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// Past its `exp`.
    #[error("the token expired: sign in again for a fresh one")]
    Expired,
    /// The signature does not verify with the issuer's key.
    #[error("the token's signature does not verify with the keys of issuer `{0}`")]
    BadSignature(String),
    /// Its `iss` is no issuer this server knows.
    #[error("the token's issuer `{0}` is not one this server accepts")]
    UnknownIssuer(String),
}

impl AuthError {
    /// The error's kind, as answered.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing-token",
            AuthError::Malformed(_) => "malformed-token",
            AuthError::Expired => "expired-token",
            AuthError::BadSignature(_) => "bad-signature",
            AuthError::UnknownIssuer(_) => "unknown-issuer",
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, e.kind(), e.to_string())
    }
}

struct IssuerKeys {
    namespace: String,
    hs256: Option<DecodingKey>,
    ed25519: Option<DecodingKey>,
}

/// The issuers' keys, ready to verify tokens.
pub struct Issuers {
    by_name: HashMap<String, IssuerKeys>,
}

impl std::fmt::Debug for Issuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuers")
            .field("names", &self.by_name.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
}

/// The signed-in user: `NAMESPACE:sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User(pub String);

impl Issuers {
    /// The keys of the configured issuers; a key that cannot be used is an
    /// error naming the issuer.
    pub fn new(issuers: &[IssuerConfig]) -> Result<Issuers, String> {
        let mut by_name = HashMap::new();
        for i in issuers {
            let hs256 = match &i.hs256_secret {
                Some(s) if s.len() < 32 => {
                    return Err(format!(
                        "issuer {}: hs256_secret must be at least 32 bytes",
                        i.name
                    ));
                }
                Some(s) => Some(DecodingKey::from_secret(s.as_bytes())),
                None => None,
            };
            let ed25519 = match &i.ed25519_public_key {
                Some(b64) => {
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|e| {
                            format!("issuer {}: ed25519_public_key is not base64: {e}", i.name)
                        })?;
                    if raw.len() != 32 {
                        return Err(format!(
                            "issuer {}: ed25519_public_key must be the raw 32-byte key in base64 ({} bytes given)",
                            i.name,
                            raw.len()
                        ));
                    }
                    // jsonwebtoken's Ed25519 "DER" key is the raw 32 bytes.
                    Some(DecodingKey::from_ed_der(&raw))
                }
                None => None,
            };
            by_name.insert(
                i.name.clone(),
                IssuerKeys {
                    namespace: i.namespace().to_string(),
                    hs256,
                    ed25519,
                },
            );
        }
        Ok(Issuers { by_name })
    }

    /// The user a request's `Authorization` header signs in.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<User, AuthError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(AuthError::Missing);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AuthError::Malformed("the Authorization header is not `Bearer <token>`".into())
            })?;
        self.verify(token)
    }

    /// Verifies a token and answers its user.
    pub fn verify(&self, token: &str) -> Result<User, AuthError> {
        let head = jsonwebtoken::decode_header(token)
            .map_err(|e| AuthError::Malformed(format!("not a JWT ({e})")))?;
        // Only to pick the issuer's keys; verified below.
        let unverified = jsonwebtoken::dangerous::insecure_decode::<Claims>(token)
            .map_err(|e| AuthError::Malformed(format!("its claims do not read ({e})")))?;
        let iss = unverified
            .claims
            .iss
            .ok_or_else(|| AuthError::Malformed("no `iss` claim".into()))?;
        let keys = self
            .by_name
            .get(&iss)
            .ok_or_else(|| AuthError::UnknownIssuer(iss.clone()))?;
        let key = match head.alg {
            Algorithm::HS256 => keys.hs256.as_ref(),
            Algorithm::EdDSA => keys.ed25519.as_ref(),
            other => {
                return Err(AuthError::Malformed(format!(
                    "algorithm {other:?} is not accepted (HS256 or EdDSA)"
                )));
            }
        }
        .ok_or_else(|| AuthError::BadSignature(iss.clone()))?;
        let mut validation = Validation::new(head.alg);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.set_issuer(&[iss.as_str()]);
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => AuthError::Expired,
                K::InvalidSignature | K::InvalidEddsaKey | K::InvalidKeyFormat => {
                    AuthError::BadSignature(iss.clone())
                }
                _ => AuthError::Malformed(e.to_string()),
            }
        })?;
        let sub = data
            .claims
            .sub
            .ok_or_else(|| AuthError::Malformed("no `sub` claim".into()))?;
        // An empty namespace keeps `sub` as the id; then `sub` may not hold
        // a `:`, so it can never be another namespace's user.
        let (user, prefix) = if keys.namespace.is_empty() {
            (sub.clone(), 0)
        } else {
            (format!("{}:{sub}", keys.namespace), keys.namespace.len() + 1)
        };
        if sub.is_empty()
            || user.len() > 128
            || sub.chars().any(char::is_control)
            || (prefix == 0 && sub.contains(':'))
        {
            return Err(AuthError::Malformed(format!(
                "`sub` must be 1 to {} bytes without control characters{}",
                128 - prefix,
                if prefix == 0 { " or `:`" } else { "" }
            )));
        }
        Ok(User(user))
    }
}

/// A token for `sub` from the issuer `issuer`, signed with its HS256
/// `secret`, valid for `ttl`: what an embedding app's sign-in service
/// issues (the simulator mints its users' tokens so, and tests do).
pub fn mint_hs256(
    issuer: &str,
    secret: &str,
    sub: &str,
    ttl: std::time::Duration,
) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| format!("the system clock is before 1970: {e}"))?;
    let claims = serde_json::json!({
        "iss": issuer,
        "sub": sub,
        "exp": (now + ttl).as_secs(),
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("signing a token: {e}"))
}

/// Whether the request carries the operator's token (compared in constant
/// time); an empty configured token accepts nothing.
pub fn is_admin(headers: &HeaderMap, admin_token: &str) -> bool {
    if admin_token.is_empty() {
        return false;
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (a, b) = (given.as_bytes(), admin_token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
