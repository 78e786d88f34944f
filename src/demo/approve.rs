//! `--approve-all`: a console user who approves every prompt, through the console's own login,
//! CSRF token and decision endpoint, so the headless demo takes the path a human's click takes.

use anyhow::Context;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::incidents::IncidentId;

/// A logged-in console session.
pub struct ConsoleClient {
    base: String,
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl ConsoleClient {
    /// Logs in at `base` (e.g. `http://127.0.0.1:8080`) as `user`.
    ///
    /// # Errors
    /// When the console refuses the login or answers something unexpected.
    pub async fn login(base: &str, user: &str, password: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{base}/console/login"))
            .json(&json!({"user": user, "password": password}))
            .send()
            .await
            .context("the console did not answer the login")?;
        if !response.status().is_success() {
            anyhow::bail!("the console refused the login: HTTP {}", response.status());
        }
        let cookie = response
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("the console's login set no session cookie")?
            .to_owned();
        let body: Value = response.json().await.context("the login answer")?;
        let csrf = body["csrf"]
            .as_str()
            .context("the login answer has no csrf token")?
            .to_owned();
        Ok(Self {
            base: base.to_owned(),
            client,
            cookie,
            csrf,
        })
    }

    /// Presses Approve on the open prompt of `incident`, if it has one.
    ///
    /// # Errors
    /// When the console fails or refuses the decision.
    pub async fn approve(&self, incident: &IncidentId) -> anyhow::Result<()> {
        let detail: Value = self
            .client
            .get(format!("{}/console/api/incidents/{incident}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let Some(token) = detail["prompt"]["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|choice| choice["approves"] == json!(true))
            .and_then(|choice| choice["token"].as_str())
        else {
            return Ok(());
        };
        let response = self
            .client
            .post(format!("{}/console/api/decisions", self.base))
            .header(COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&json!({"token": token, "incident": incident.to_string()}))
            .send()
            .await?;
        if !response.status().is_success() {
            anyhow::bail!(
                "the console refused the approval of {incident}: HTTP {}",
                response.status()
            );
        }
        Ok(())
    }
}
