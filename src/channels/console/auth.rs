//! Console logins: configured users with argon2 password hashes, sessions in the store
//! (`console:session:<id>` with the session's time to live, so every replica knows them), and
//! the CSRF token each session carries.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::config::{ConsoleSettings, Secret};
use crate::store::{Claim, Store, StoreError};

/// Why a console request is not let in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user or wrong password: the two answer alike.
    #[error("wrong user name or password")]
    BadLogin,
    /// No session cookie, or the session ended.
    #[error("not logged in")]
    NoSession,
    /// A state-changing request without the session's CSRF token.
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("the session store failed")]
    Store(#[from] StoreError),
}

/// The configured users and their password hashes.
pub struct Users {
    hashes: HashMap<String, Secret>,
    /// Verified against when the user is unknown, so that both failures take as long.
    dummy: String,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&String> = self.hashes.keys().collect();
        f.debug_struct("Users").field("names", &names).finish()
    }
}

impl Users {
    pub fn new(settings: &ConsoleSettings) -> Self {
        let hashes = settings
            .users
            .iter()
            .map(|u| (u.name.clone(), u.password_hash.clone()))
            .collect();
        let mut dummy_password = [0u8; 16];
        rand::rng().fill_bytes(&mut dummy_password);
        let dummy = hash_password(&hex(&dummy_password)).unwrap_or_default();
        Self { hashes, dummy }
    }

    /// Whether `password` is `user`'s. Runs argon2 on a blocking thread.
    ///
    /// # Errors
    /// [`AuthError::BadLogin`] for an unknown user or a wrong password, after the same work.
    pub async fn verify(&self, user: &str, password: &str) -> Result<(), AuthError> {
        let known = self.hashes.get(user);
        let hash = known.map_or(self.dummy.clone(), |h| h.expose().to_owned());
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        if matches && known.is_some() {
            Ok(())
        } else {
            Err(AuthError::BadLogin)
        }
    }
}

/// An argon2id PHC string for `password`, with a fresh salt and the crate's default cost.
///
/// # Errors
/// When argon2 refuses the input (a password longer than 4 GiB).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// A logged-in session, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user: String,
    pub csrf: String,
}

impl Session {
    /// Whether `offered` is this session's CSRF token (constant-time).
    ///
    /// # Errors
    /// [`AuthError::Csrf`] when it is missing or different.
    pub fn check_csrf(&self, offered: Option<&str>) -> Result<(), AuthError> {
        let offered = offered.unwrap_or_default().as_bytes();
        if bool::from(offered.ct_eq(self.csrf.as_bytes())) && !offered.is_empty() {
            Ok(())
        } else {
            Err(AuthError::Csrf)
        }
    }
}

/// Sessions in the store.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn Store>,
    ttl: Duration,
}

fn key(id: &str) -> String {
    format!("console:session:{id}")
}

impl Sessions {
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Self { store, ttl }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Starts a session for `user`; its id (the cookie value) and the session.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn start(&self, user: &str) -> Result<(String, Session), AuthError> {
        let session = Session {
            user: user.to_owned(),
            csrf: random_token(),
        };
        let value = serde_json::to_string(&session).map_err(|e| StoreError::Corrupt {
            key: "console:session".into(),
            reason: e.to_string(),
        })?;
        loop {
            let id = random_token();
            if let Claim::Claimed = self.store.claim(&key(&id), &value, Some(self.ttl)).await? {
                return Ok((id, session));
            }
        }
    }

    /// The live session `id` names.
    ///
    /// # Errors
    /// [`AuthError::NoSession`] when there is none (ended, expired, never made, unreadable).
    pub async fn find(&self, id: &str) -> Result<Session, AuthError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthError::NoSession);
        }
        let stored = self.store.peek(&key(id)).await?;
        stored
            .and_then(|value| serde_json::from_str(&value).ok())
            .ok_or(AuthError::NoSession)
    }

    /// Ends the session `id`.
    ///
    /// # Idempotency
    /// Ending an ended session changes nothing.
    pub async fn end(&self, id: &str) -> Result<(), AuthError> {
        self.store.take(&key(id)).await?;
        Ok(())
    }
}

/// 32 random bytes, hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConsoleUser;
    use crate::store::MemoryStore;

    fn users(password: &str) -> Users {
        Users::new(&ConsoleSettings {
            users: vec![ConsoleUser {
                name: "alice".into(),
                password_hash: Secret::new(hash_password(password).unwrap()),
            }],
            session_ttl: Duration::from_secs(60),
            secure_cookie: true,
            public_url: None,
        })
    }

    #[tokio::test]
    async fn login_succeeds_only_with_the_right_password_of_a_known_user() {
        let users = users("correct horse");
        assert!(users.verify("alice", "correct horse").await.is_ok());
        assert!(matches!(
            users.verify("alice", "wrong").await,
            Err(AuthError::BadLogin)
        ));
        assert!(matches!(
            users.verify("mallory", "correct horse").await,
            Err(AuthError::BadLogin)
        ));
        assert!(!format!("{users:?}").contains("argon2"));
    }

    #[tokio::test]
    async fn session_is_found_until_it_ends_or_expires() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let sessions = Sessions::new(store.clone(), Duration::from_millis(200));
        let (id, session) = sessions.start("alice").await.unwrap();
        assert_eq!(sessions.find(&id).await.unwrap(), session);
        assert!(matches!(
            sessions.find("not-hex").await,
            Err(AuthError::NoSession)
        ));
        let expired = crate::testkit::process::poll_until(
            Duration::from_secs(5),
            Duration::from_millis(50),
            || async { sessions.find(&id).await.is_err().then_some(()) },
        )
        .await;
        assert!(expired.is_some(), "the session outlived its ttl");
        let (id, _) = sessions.start("alice").await.unwrap();
        sessions.end(&id).await.unwrap();
        assert!(matches!(
            sessions.find(&id).await,
            Err(AuthError::NoSession)
        ));
    }

    #[test]
    fn csrf_check_refuses_a_missing_empty_or_different_token() {
        let session = Session {
            user: "alice".into(),
            csrf: "abc123".into(),
        };
        assert!(session.check_csrf(Some("abc123")).is_ok());
        for offered in [None, Some(""), Some("abc124"), Some("abc12")] {
            assert!(
                matches!(session.check_csrf(offered), Err(AuthError::Csrf)),
                "{offered:?}"
            );
        }
    }
}
