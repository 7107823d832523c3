//! Accounts and sessions: argon2 password hashes, random session tokens kept
//! only as SHA-256 hashes, a login rate limit, and the [`Caller`] extractor
//! every protected route takes, with its role check.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use parking_lot::Mutex;
use sanjeevani_store::{Role, User};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;

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

/// At most this many keys per counter: memory stays bounded whatever the
/// number of usernames or addresses tried (about 10 MB at worst).
const MAX_TRACKED: usize = 100_000;

/// Login attempts counted per key over fixed one-minute windows.
struct Counter<K> {
    limit: u32,
    counts: HashMap<K, (i64, u32)>,
}

impl<K: Eq + Hash + Clone> Counter<K> {
    const WINDOW_MS: i64 = 60_000;

    fn new(limit: u32) -> Self {
        Counter {
            limit: limit.max(1),
            counts: HashMap::new(),
        }
    }

    /// Counts one attempt of `key`: `Ok(n)` with the attempts in this
    /// window, `Err(n)` when `n` is over the limit. A new key that finds the
    /// table full after forgetting old windows is refused, so a flood of new
    /// keys cannot grow it.
    fn hit(&mut self, key: &K, now: i64) -> Result<u32, u32> {
        if !self.counts.contains_key(key) && self.counts.len() >= MAX_TRACKED {
            self.counts
                .retain(|_, (start, _)| now - *start < Self::WINDOW_MS);
            if self.counts.len() >= MAX_TRACKED {
                return Err(self.limit.saturating_add(1));
            }
        }
        let (start, n) = self.counts.entry(key.clone()).or_insert((now, 0));
        if now - *start >= Self::WINDOW_MS {
            (*start, *n) = (now, 0);
        }
        *n = n.saturating_add(1);
        if *n <= self.limit {
            Ok(*n)
        } else {
            Err(*n)
        }
    }

    /// Gives back one attempt of `key` (it succeeded).
    fn refund(&mut self, key: &K) {
        if let Some((_, n)) = self.counts.get_mut(key) {
            *n = n.saturating_sub(1);
        }
    }

    fn forget(&mut self, key: &K) {
        self.counts.remove(key);
    }

    fn len(&self) -> usize {
        self.counts.len()
    }
}

/// The longest username and password a login may carry: longer ones are
/// refused before anything else is done with them.
pub const MAX_USERNAME: usize = 64;
pub const MAX_PASSWORD: usize = 1024;

/// Why a login attempt is refused before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many attempts for this username from this address.
    Account,
    /// Too many failures from this address, whatever the usernames.
    Client,
}

/// How an admitted attempt stands: the first of its client's window is the
/// one worth a log line (the rest are counted, so a flood writes little).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    pub first_from_client: bool,
}

/// The client a limit is kept for: an IPv6 client by its /64, which one
/// machine usually holds whole.
fn client_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
        v4 => v4,
    }
}

/// Guards `POST /api/login`: attempts per username and client address (so
/// nobody can lock another person out from elsewhere), failures per client
/// address (so one password cannot be sprayed over every account), and a cap
/// on password checks at once (Argon2 costs memory and CPU).
pub struct LoginGuard {
    accounts: Mutex<Counter<(IpAddr, String)>>,
    clients: Mutex<Counter<IpAddr>>,
    verifying: Semaphore,
    /// How long a password check has taken lately (µs, smoothed): an
    /// unknown username waits as long, without the work.
    check_micros: AtomicU64,
}

impl LoginGuard {
    pub fn new(per_account: u32, client_failures: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        LoginGuard {
            accounts: Mutex::new(Counter::new(per_account)),
            clients: Mutex::new(Counter::new(client_failures)),
            verifying: Semaphore::new(cores.max(2)),
            check_micros: AtomicU64::new(50_000),
        }
    }

    /// Counts an attempt by `client` for `username` at `now` (ms).
    pub fn admit(&self, client: IpAddr, username: &str, now: i64) -> Result<Admitted, Refusal> {
        let client = client_key(client);
        let n = self
            .clients
            .lock()
            .hit(&client, now)
            .map_err(|_| Refusal::Client)?;
        let key = (client, username.to_lowercase());
        if self.accounts.lock().hit(&key, now).is_err() {
            self.clients.lock().refund(&client);
            return Err(Refusal::Account);
        }
        Ok(Admitted {
            first_from_client: n == 1,
        })
    }

    /// The attempt logged in: it counts against neither limit.
    pub fn succeeded(&self, client: IpAddr, username: &str) {
        let client = client_key(client);
        self.clients.lock().refund(&client);
        self.accounts
            .lock()
            .forget(&(client, username.to_lowercase()));
    }

    /// Checks `password` against `hash` on the blocking pool, at most one
    /// per core at once, and notes how long it took.
    pub async fn check_password(&self, password: String, hash: String) -> bool {
        let _permit = self.verify_permit().await;
        let started = std::time::Instant::now();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let old = self.check_micros.load(Ordering::Relaxed);
        self.check_micros
            .store(old - old / 8 + took / 8, Ordering::Relaxed);
        ok
    }

    /// As long as a password check takes lately, without doing one: the
    /// answer for a username that does not exist.
    pub async fn pretend_check(&self) {
        let micros = self.check_micros.load(Ordering::Relaxed);
        tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
    }

    /// A permit to run one password check; waits while the cores are busy.
    async fn verify_permit(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.verifying
            .acquire()
            .await
            .expect("the semaphore is never closed")
    }

    /// Keys held, for tests and the benchmark.
    pub fn tracked(&self) -> usize {
        self.accounts.lock().len() + self.clients.lock().len()
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

/// What a user whose password must change may still do.
const WHILE_PASSWORD_MUST_CHANGE: [&str; 3] = ["/api/me", "/api/me/password", "/api/logout"];

impl Caller {
    /// The user of the session `token_hash`, if it is still valid.
    pub async fn of_session(state: &AppState, token_hash: &str) -> ApiResult<Option<User>> {
        let idle = i64::from(state.config.auth.idle_minutes.max(1)) * 60_000;
        Ok(state
            .store
            .session_user(token_hash, crate::now_ms(), idle)
            .await?)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let token = token_of(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let token_hash = token_hash(&token);
        let user = Caller::of_session(state, &token_hash)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if user.must_change_password && !WHILE_PASSWORD_MUST_CHANGE.contains(&parts.uri.path()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "choose a new password first (POST /api/me/password)",
            ));
        }
        Ok(Caller { user, token_hash })
    }
}

/// The session cookie for `token` (`None`: the one that clears it);
/// `Secure` when the client reached us over HTTPS.
pub fn session_cookie(token: Option<&str>, max_age_secs: i64, https: bool) -> HeaderValue {
    let (value, max_age) = match token {
        Some(token) => (token, max_age_secs),
        None => ("", 0),
    };
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("a hex token makes an ASCII cookie")
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

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn login_limit_is_per_username_and_client() {
        let guard = LoginGuard::new(2, 100);
        assert!(guard.admit(ip(1), "asha", 0).is_ok());
        assert!(guard.admit(ip(1), "ASHA", 1).is_ok());
        assert_eq!(guard.admit(ip(1), "asha", 2), Err(Refusal::Account));
        // Nobody elsewhere locks Asha out, and another user is not limited.
        assert!(guard.admit(ip(2), "asha", 3).is_ok());
        assert!(guard.admit(ip(1), "ravi", 4).is_ok());
        // A minute later she may try again; a success starts the count anew.
        assert!(guard.admit(ip(1), "asha", 60_002).is_ok());
        guard.succeeded(ip(1), "asha");
        assert!(guard.admit(ip(1), "asha", 60_003).is_ok());
        assert!(guard.admit(ip(1), "asha", 60_004).is_ok());
    }

    #[test]
    fn one_client_cannot_spray_a_password_over_every_account() {
        let guard = LoginGuard::new(5, 3);
        for (i, user) in ["a1", "a2", "a3"].iter().enumerate() {
            let admitted = guard.admit(ip(9), user, i as i64).unwrap();
            assert_eq!(admitted.first_from_client, i == 0, "one log line a minute");
        }
        assert_eq!(guard.admit(ip(9), "a4", 10), Err(Refusal::Client));
        assert!(
            guard.admit(ip(1), "a4", 10).is_ok(),
            "others are not limited"
        );
        // Successes do not count: a shared office address logs everyone in.
        let office = LoginGuard::new(5, 2);
        for n in 0..10 {
            assert!(office.admit(ip(7), &format!("agent{n}"), n).is_ok());
            office.succeeded(ip(7), &format!("agent{n}"));
        }
    }

    #[test]
    fn a_flood_of_new_usernames_does_not_grow_memory() {
        let guard = LoginGuard::new(5, u32::MAX);
        for n in 0..(MAX_TRACKED as u32 + 5_000) {
            let client = IpAddr::from(n.to_be_bytes());
            let _ = guard.admit(client, &format!("user{n}"), 0);
        }
        assert!(guard.tracked() <= 2 * MAX_TRACKED, "{}", guard.tracked());
        // A minute later the old windows are forgotten to make room.
        assert!(guard.admit(ip(1), "asha", 60_000).is_ok());
        assert!(guard.tracked() <= 2 * MAX_TRACKED);
    }
}
