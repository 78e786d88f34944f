//! A real Prometheus Alertmanager (Debian `prometheus-alertmanager`) whose only receiver is a
//! webhook to the bot, with a bearer token, as an operator would configure it.

use std::time::Duration;

use serde_json::Value;

use super::process::{ProcessError, Supervised, find_program, free_port};

/// How the Alertmanager groups and delivers: short waits, so tests see deliveries quickly.
#[derive(Debug, Clone)]
pub struct Routing {
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
}

impl Default for Routing {
    fn default() -> Self {
        Self {
            group_wait: Duration::from_secs(1),
            group_interval: Duration::from_secs(1),
            repeat_interval: Duration::from_secs(3600),
        }
    }
}

/// A running Alertmanager; dropping it stops the server.
#[derive(Debug)]
pub struct Alertmanager {
    port: u16,
    process: Supervised,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn config(webhook_url: &str, token: &str, routing: &Routing) -> String {
    let seconds = |d: Duration| format!("{}s", d.as_secs().max(1));
    format!(
        r#"route:
  receiver: robot-sre
  group_by: [alertname, namespace]
  group_wait: {}
  group_interval: {}
  repeat_interval: {}
receivers:
  - name: robot-sre
    webhook_configs:
      - url: {webhook_url:?}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token:?}
"#,
        seconds(routing.group_wait),
        seconds(routing.group_interval),
        seconds(routing.repeat_interval),
    )
}

fn io_error(source: std::io::Error) -> ProcessError {
    ProcessError::Spawn {
        program: "prometheus-alertmanager".into(),
        source,
    }
}

impl Alertmanager {
    /// Starts an Alertmanager that delivers to `webhook_url` with `token`, and waits until ready.
    ///
    /// # Errors
    /// When the program is missing, cannot start, or is not ready within 20 s.
    pub async fn start(
        webhook_url: &str,
        token: &str,
        routing: &Routing,
    ) -> Result<Self, ProcessError> {
        let program = find_program("prometheus-alertmanager", "prometheus-alertmanager")
            .or_else(|_| find_program("alertmanager", "prometheus-alertmanager"))?;
        let dir = tempfile::tempdir().map_err(io_error)?;
        let config_path = dir.path().join("alertmanager.yml");
        std::fs::write(&config_path, config(webhook_url, token, routing)).map_err(io_error)?;
        let port = free_port()?;
        let args = vec![
            format!("--config.file={}", config_path.display()),
            format!("--storage.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            // No gossip: a lone instance would otherwise wait for the cluster to settle.
            "--cluster.listen-address=".to_owned(),
            "--log.level=warn".to_owned(),
        ];
        let process = Supervised::spawn(&program, &args, dir.path().join("alertmanager.log"))?;
        let client = reqwest::Client::new();
        let ready_url = format!("http://127.0.0.1:{port}/-/ready");
        process
            .wait_until(Duration::from_secs(20), || {
                let request = client.get(&ready_url).send();
                async move { request.await.is_ok_and(|r| r.status().is_success()) }
            })
            .await?;
        Ok(Self {
            port,
            process,
            client,
            _dir: dir,
        })
    }

    /// The API base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Posts alerts (`[{labels, annotations, startsAt?, endsAt?, generatorURL?}]`) to
    /// `/api/v2/alerts`, as Prometheus does.
    ///
    /// # Errors
    /// When Alertmanager refuses them; the message has its answer.
    pub async fn post_alerts(&self, alerts: &Value) -> Result<(), String> {
        let url = format!("{}/api/v2/alerts", self.url());
        let response = self
            .client
            .post(url)
            .json(alerts)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            return Ok(());
        }
        let status = response.status();
        Err(format!(
            "{status}: {}",
            response.text().await.unwrap_or_default()
        ))
    }

    /// What Alertmanager logged so far (useful when a delivery never arrives).
    pub fn log(&self) -> String {
        self.process.log()
    }
}
