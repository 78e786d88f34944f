//! One-time approval tokens: unguessable (128 random bits), short (32 hex characters, so a
//! prefix still fits Telegram's 64-byte `callback_data`), bound to one incident, action, target,
//! target fingerprint and expiry, stored with a TTL and consumed atomically.
//!
//! Keys: `token:<token>` holds the grant until it expires or is redeemed;
//! `prompt-decided:<incident>:<prompt>` names who answered a prompt, so only the first answer
//! to it wins whichever token it carries; `token-spent:<token>` remembers for a day who redeemed
//! a token, so a replay is told "already used" rather than "unknown".

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::incidents::IncidentId;
use crate::store::{Claim, Store, StoreError};

/// How long a spent token is remembered.
pub const SPENT_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// What a token grants when redeemed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub incident: IncidentId,
    /// The prompt the token belongs to (one incident may be asked several times).
    pub prompt: u32,
    pub action: String,
    pub target: String,
    /// The target's fingerprint when the prompt was made; a changed target makes it stale.
    pub fingerprint: Option<String>,
    pub approves: bool,
    pub expires_at: DateTime<Utc>,
}

/// Why a token was refused. Each is told to the human as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("that is not an approval token")]
    Malformed,
    #[error("unknown or expired token")]
    Unknown,
    #[error("this token was already used by {by}")]
    AlreadyUsed { by: String },
    #[error("this prompt was already answered by {by}")]
    AlreadyDecided { by: String },
    #[error("this token expired at {at}")]
    Expired { at: DateTime<Utc> },
    #[error("this token belongs to incident {actual}, not {asked}")]
    OtherIncident {
        actual: IncidentId,
        asked: IncidentId,
    },
}

/// Failure to redeem: refused, or the store failed (nothing was consumed, or the caller is
/// told to retry).
#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the state store failed while redeeming a token")]
    Store(#[from] StoreError),
}

/// Failure to mint a token.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("the prompt already expired at {at}; no token minted")]
    Expired { at: DateTime<Utc> },
    #[error("the state store failed while minting a token")]
    Store(#[from] StoreError),
}

/// Mints and redeems tokens in a [`Store`].
#[derive(Clone)]
pub struct Tokens {
    store: Arc<dyn Store>,
}

fn key(token: &str) -> String {
    format!("token:{token}")
}

fn decided_key(grant: &Grant) -> String {
    format!("prompt-decided:{}:{}", grant.incident, grant.prompt)
}

fn spent_key(token: &str) -> String {
    format!("token-spent:{token}")
}

fn well_formed(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Tokens {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// A new token for `grant`, stored until `grant.expires_at`.
    ///
    /// # Errors
    /// When the grant has already expired (nothing is stored), or the store fails.
    pub async fn mint(&self, grant: &Grant, now: DateTime<Utc>) -> Result<String, MintError> {
        let token = format!("{:032x}", rand::rng().random::<u128>());
        let ttl = (grant.expires_at - now)
            .to_std()
            .ok()
            .filter(|ttl| !ttl.is_zero())
            .ok_or(MintError::Expired {
                at: grant.expires_at,
            })?;
        let value = serde_json::to_string(grant).map_err(|error| StoreError::Corrupt {
            key: key(&token),
            reason: error.to_string(),
        })?;
        match self.store.claim(&key(&token), &value, Some(ttl)).await? {
            Claim::Claimed => Ok(token),
            // 128 random bits do not collide; if they ever did, refusing is the safe answer.
            Claim::Held(_) => Err(StoreError::Corrupt {
                key: key(&token),
                reason: "a freshly minted token already exists".into(),
            }
            .into()),
        }
    }

    /// What `token` grants, without consuming it: the checks [`Tokens::redeem`] makes before
    /// it consumes anything, so a caller can check the approver first.
    ///
    /// # Errors
    /// A [`Refusal`], or the store's error.
    pub async fn inspect(
        &self,
        token: &str,
        incident: Option<&IncidentId>,
        now: DateTime<Utc>,
    ) -> Result<Grant, RedeemError> {
        if !well_formed(token) {
            return Err(Refusal::Malformed.into());
        }
        let Some(value) = self.store.peek(&key(token)).await? else {
            return Err(self.spent_or_unknown(token).await?.into());
        };
        let grant: Grant = serde_json::from_str(&value).map_err(|error| StoreError::Corrupt {
            key: key(token),
            reason: error.to_string(),
        })?;
        if let Some(asked) = incident
            && *asked != grant.incident
        {
            return Err(Refusal::OtherIncident {
                actual: grant.incident,
                asked: asked.clone(),
            }
            .into());
        }
        if grant.expires_at <= now {
            return Err(Refusal::Expired {
                at: grant.expires_at,
            }
            .into());
        }
        Ok(grant)
    }

    /// Consumes `token` for `by` (a person's description, for "already used by …"). Of any
    /// number of concurrent redemptions of one token, exactly one gets the grant.
    ///
    /// `incident`, when the answer came with one (a typed command), must match the grant.
    ///
    /// # Errors
    /// A [`Refusal`] (the token changes nothing), or the store's error.
    pub async fn redeem(
        &self,
        token: &str,
        incident: Option<&IncidentId>,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Grant, RedeemError> {
        // Checked before consuming: a token for another incident, or one past its expiry,
        // changes nothing.
        let grant = self.inspect(token, incident, now).await?;
        // The prompt's decision claim picks the winner: of concurrent answers to one prompt
        // (the same token clicked twice, or Approve on one channel and Reject on another),
        // exactly one claims it.
        let decided = decided_key(&grant);
        if let Claim::Held(by) = self.store.claim(&decided, by, Some(SPENT_MEMORY)).await? {
            return Err(Refusal::AlreadyDecided { by }.into());
        }
        // Who spent it is written before the token goes, so a concurrent answer that finds the
        // token gone is always told who used it.
        let spent = spent_key(token);
        self.store.claim(&spent, by, Some(SPENT_MEMORY)).await?;
        if self.store.take(&key(token)).await?.is_none() {
            // It expired between the read and now.
            self.store.release(&spent, by).await?;
            self.store.release(&decided, by).await?;
            return Err(Refusal::Unknown.into());
        }
        Ok(grant)
    }

    async fn spent_or_unknown(&self, token: &str) -> Result<Refusal, StoreError> {
        Ok(match self.store.peek(&spent_key(token)).await? {
            Some(by) => Refusal::AlreadyUsed { by },
            None => Refusal::Unknown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn grant(expires_in: i64) -> Grant {
        Grant {
            incident: IncidentId::from_stored("inc-aaaaaaaaaaaa"),
            prompt: 1,
            action: "rollback".into(),
            target: "lab/payments/Deployment/checkout".into(),
            fingerprint: Some("uid@7".into()),
            approves: true,
            expires_at: Utc::now() + chrono::Duration::seconds(expires_in),
        }
    }

    fn tokens() -> Tokens {
        Tokens::new(Arc::new(MemoryStore::new()))
    }

    fn refusal(result: Result<Grant, RedeemError>) -> Refusal {
        match result {
            Err(RedeemError::Refused(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_token_is_32_hex_characters_and_redeems_once_for_its_grant() {
        let tokens = tokens();
        let granted = grant(300);
        let token = tokens.mint(&granted, Utc::now()).await.unwrap();
        assert!(well_formed(&token), "{token}");
        assert!(
            format!("a:{token}").len() <= 64,
            "fits Telegram callback_data"
        );
        let redeemed = tokens
            .redeem(&token, None, "alice", Utc::now())
            .await
            .unwrap();
        assert_eq!(redeemed, granted);
        let again = tokens.redeem(&token, None, "bob", Utc::now()).await;
        assert_eq!(refusal(again), Refusal::AlreadyUsed { by: "alice".into() });
    }

    #[tokio::test]
    async fn once_a_prompt_is_answered_its_other_token_is_refused() {
        let tokens = tokens();
        let approve = grant(300);
        let reject = Grant {
            approves: false,
            ..approve.clone()
        };
        let approve = tokens.mint(&approve, Utc::now()).await.unwrap();
        let reject = tokens.mint(&reject, Utc::now()).await.unwrap();
        tokens
            .redeem(&approve, None, "alice", Utc::now())
            .await
            .unwrap();
        let late = tokens.redeem(&reject, None, "bob", Utc::now()).await;
        assert_eq!(
            refusal(late),
            Refusal::AlreadyDecided { by: "alice".into() }
        );
    }

    #[tokio::test]
    async fn of_many_simultaneous_clicks_exactly_one_wins() {
        let tokens = tokens();
        let token = tokens.mint(&grant(300), Utc::now()).await.unwrap();
        let clicks = (0..16).map(|i| {
            let (tokens, token) = (tokens.clone(), token.clone());
            tokio::spawn(async move {
                tokens
                    .redeem(&token, None, &format!("clicker-{i}"), Utc::now())
                    .await
                    .is_ok()
            })
        });
        let wins = futures::future::join_all(clicks)
            .await
            .into_iter()
            .filter(|won| *won.as_ref().unwrap())
            .count();
        assert_eq!(wins, 1);
    }

    #[tokio::test]
    async fn unknown_malformed_expired_and_foreign_tokens_are_refused_and_consume_nothing() {
        let tokens = tokens();
        let now = Utc::now();
        let unknown = format!("{:032x}", 7u128);
        assert_eq!(
            refusal(tokens.redeem(&unknown, None, "a", now).await),
            Refusal::Unknown
        );
        assert_eq!(
            refusal(tokens.redeem("../../etc", None, "a", now).await),
            Refusal::Malformed
        );

        let token = tokens.mint(&grant(60), now).await.unwrap();
        let later = now + chrono::Duration::seconds(61);
        assert!(matches!(
            refusal(tokens.redeem(&token, None, "a", later).await),
            Refusal::Expired { .. }
        ));
        let other = IncidentId::from_stored("inc-bbbbbbbbbbbb");
        assert!(matches!(
            refusal(tokens.redeem(&token, Some(&other), "a", now).await),
            Refusal::OtherIncident { .. }
        ));
        // Neither refusal consumed it.
        assert!(tokens.redeem(&token, None, "a", now).await.is_ok());
    }

    #[tokio::test]
    async fn a_grant_that_has_already_expired_is_not_minted() {
        let result = tokens().mint(&grant(-1), Utc::now()).await;
        assert!(
            matches!(result, Err(MintError::Expired { .. })),
            "{result:?}"
        );
    }
}
