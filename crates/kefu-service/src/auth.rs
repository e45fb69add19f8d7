//! Who is asking: passwords (argon2id), session tokens (random, stored hashed), and the login throttle.

use crate::{Result, Service, ServiceError, new_id};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use kefu_core::model::{Role, User};
use kefu_core::validate;
use kefu_store::{NewUser, now_ms};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// 256 random bits, URL-safe.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A short public name for a session, safe to use as a room name: it cannot be turned back into the token.
pub fn session_key(token: &str) -> String {
    hash_token(token)[..32].to_string()
}

/// Tokens are stored only as their SHA-256, so a database leak does not leak sessions.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Argon2 takes ~19 MiB and real CPU per hash: at most two at a time, so a burst of logins can neither exhaust
/// memory nor starve the workers that carry messages.
static ARGON2_GATE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn hash_password(password: String) -> Result<String> {
    let _permit = ARGON2_GATE.acquire().await.map_err(ServiceError::internal)?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h: PasswordHash| h.to_string())
            .map_err(|e| ServiceError::Internal(e.to_string().into()))
    })
    .await
    .map_err(ServiceError::internal)?
}

async fn verify_password(password: String, hash: String) -> bool {
    let Ok(_permit) = ARGON2_GATE.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash of a password nobody has, checked when the email is unknown so both cases take as long.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5m0QyM9D3dpPZWWG5ssjUDQ1gqvRqjJi2y0b8aUPvXI";

#[derive(Debug, Clone)]
pub struct LoginLimits {
    pub per_account: usize,
    pub per_ip: usize,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_account: 5,
            per_ip: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Counts failed logins per account and per IP in a sliding window. Successes are never counted.
pub(crate) struct LoginLimiter {
    limits: LoginLimits,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub(crate) fn new(limits: LoginLimits) -> Self {
        LoginLimiter {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(&self, email: &str, ip: Option<IpAddr>) -> Vec<(String, usize)> {
        let mut keys = vec![(format!("account:{email}"), self.limits.per_account)];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), self.limits.per_ip));
        }
        keys
    }

    fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<()> {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("limiter lock");
        for (key, limit) in self.keys(email, ip) {
            if let Some(times) = failures.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.limits.window)
                {
                    times.pop_front();
                }
                if times.len() >= limit {
                    let oldest = *times.front().expect("non-empty");
                    let retry = self.limits.window.saturating_sub(now.duration_since(oldest));
                    return Err(ServiceError::RateLimited {
                        retry_after_secs: retry.as_secs().max(1),
                    });
                }
            }
        }
        Ok(())
    }

    fn record_failure(&self, email: &str, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("limiter lock");
        for (key, _) in self.keys(email, ip) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// Forgets windows that have passed, so the map does not grow with every address ever seen.
    pub(crate) fn prune(&self) {
        let now = Instant::now();
        let window = self.limits.window;
        self.failures
            .lock()
            .expect("limiter lock")
            .retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) <= window));
    }
}

impl Service {
    /// Checks the password and opens a session; returns the bearer token and the user.
    pub async fn login(&self, email: &str, password: &str, ip: Option<IpAddr>) -> Result<(String, User)> {
        let email = email.trim().to_lowercase();
        let limiter = &self.inner.limiter;
        limiter.check(&email, ip)?;
        let credentials = self.store().credentials(&email).await?;
        let (hash, user) = match credentials {
            Some(c) => (c.password_hash, Some(c.user)),
            None => (DECOY_HASH.to_string(), None),
        };
        let valid = verify_password(password.to_string(), hash).await;
        let user = match user {
            Some(user) if valid && user.active => user,
            _ => {
                limiter.record_failure(&email, ip);
                return Err(ServiceError::BadCredentials);
            }
        };
        let token = new_token();
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.insert_session(
            &hash_token(&token),
            user.id,
            now,
            now + self.config().session_ttl.as_millis() as i64,
        )
        .await?;
        tx.commit().await?;
        let user = self
            .store()
            .user(user.org_id, user.id)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        Ok((token, user))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let mut tx = self.store().begin().await?;
        tx.delete_session(&hash_token(token)).await?;
        tx.commit().await?;
        self.publish(vec![crate::Notification::SessionEnded {
            session: session_key(token),
        }]);
        Ok(())
    }

    /// The active user behind a session token.
    pub async fn authenticate(&self, token: &str) -> Result<User> {
        if token.is_empty() || token.len() > 200 {
            return Err(ServiceError::Unauthorized);
        }
        self.store()
            .session_user(&hash_token(token), now_ms())
            .await?
            .ok_or(ServiceError::Unauthorized)
    }

    /// Creates a user in the organisation. Validates every field first.
    pub async fn create_user(
        &self,
        org_id: Uuid,
        email: &str,
        name: &str,
        password: &str,
        role: Role,
        capacity: Option<u32>,
    ) -> Result<User> {
        let email = validate::email(email)?;
        let name = validate::name("name", name)?;
        validate::password(password)?;
        let capacity = capacity.unwrap_or(kefu_core::model::DEFAULT_CAPACITY);
        validate::capacity(capacity)?;
        let password_hash = hash_password(password.to_string()).await?;
        let id = new_id();
        let mut tx = self.store().begin().await?;
        tx.insert_user(
            NewUser {
                id,
                org_id,
                email: &email,
                name: &name,
                password_hash: &password_hash,
                role,
                capacity,
            },
            now_ms(),
        )
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                ServiceError::Conflict("a user with this email already exists".into())
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        self.store()
            .user(org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// The workspace language a user chose for themselves; `None` follows the browser.
    pub async fn set_locale(&self, user: &User, locale: Option<&str>) -> Result<User> {
        let locale = locale.map(validate::locale).transpose()?;
        let mut tx = self.store().begin().await?;
        tx.set_user_locale(user.id, locale, now_ms()).await?;
        tx.commit().await?;
        self.store()
            .user(user.org_id, user.id)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    pub(crate) async fn password_hash_for(&self, password: &str) -> Result<String> {
        validate::password(password)?;
        hash_password(password.to_string()).await
    }

    pub(crate) fn prune_login_failures(&self) {
        self.inner.limiter.prune();
    }
}

pub(crate) fn require_admin(user: &User) -> Result<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only an admin may do this"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_only_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64url");
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn the_limiter_throttles_failures_per_account_and_per_ip() {
        let limiter = LoginLimiter::new(LoginLimits {
            per_account: 2,
            per_ip: 3,
            window: Duration::from_secs(60),
        });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        limiter.record_failure("a@x.io", Some(ip));
        assert!(limiter.check("a@x.io", Some(ip)).is_ok());
        limiter.record_failure("a@x.io", Some(ip));
        assert!(matches!(
            limiter.check("a@x.io", None),
            Err(ServiceError::RateLimited { .. })
        ));
        assert!(
            limiter.check("b@x.io", Some(ip)).is_ok(),
            "another account from the same IP is still allowed"
        );
        limiter.record_failure("b@x.io", Some(ip));
        assert!(
            limiter.check("c@x.io", Some(ip)).is_err(),
            "the IP has used its 3 failures"
        );
        assert!(limiter.check("c@x.io", None).is_ok());
    }

    #[test]
    fn the_decoy_hash_parses() {
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
    }
}
