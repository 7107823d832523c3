//! Accounts and sessions: argon2 password hashes, random session tokens kept
//! only as SHA-256 hashes, a login rate limit, and the [`Caller`] extractor
//! every protected route takes, with its role check.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sanjeevani_store::{Role, User};
use sha2::{Digest, Sha256};
use std::num::NonZeroU32;

/// Name of the session cookie the web pages use.
pub const SESSION_COOKIE: &str = "sanjeevani_session";

pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new session token: 32 random bytes, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex::encode(bytes)
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Limits login attempts per username, so passwords cannot be guessed quickly.
pub struct LoginLimiter(DefaultKeyedRateLimiter<String>);

impl LoginLimiter {
    pub fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n.max(1)).expect("at least one");
        LoginLimiter(RateLimiter::keyed(Quota::per_minute(n)))
    }

    pub fn check(&self, username: &str) -> ApiResult<()> {
        self.0.check_key(&username.to_lowercase()).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many login attempts for this user; wait a minute",
            )
        })
    }
}

/// The logged-in user making a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub token_hash: String,
}

impl Caller {
    /// `Ok` when the caller has one of `roles`; `what` completes "your role may not …".
    pub fn require(&self, roles: &[Role], what: &str) -> ApiResult<()> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(what))
        }
    }

    pub fn id(&self) -> i64 {
        self.user.id
    }
}

/// The token from `Authorization: Bearer …` or the session cookie.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let token = token_of(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let token_hash = token_hash(&token);
        let user = state
            .store
            .session_user(&token_hash, crate::now_ms())
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(Caller { user, token_hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsE", &hash));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(hash, hash_password("correct horse"), "salted");
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[test]
    fn login_limit_is_per_username() {
        let limiter = LoginLimiter::per_minute(2);
        assert!(limiter.check("asha").is_ok());
        assert!(limiter.check("ASHA").is_ok());
        assert_eq!(limiter.check("asha").unwrap_err().code, "rate_limited");
        assert!(limiter.check("ravi").is_ok());
    }
}
