//! A real headless Chromium (Debian `chromium`), driven over WebDriver through `chromedriver`
//! (Debian `chromium-driver`), which the test starts on a free port and stops when dropped.

use std::path::Path;
use std::time::Duration;

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use robot_sre::testkit::process::{Supervised, find_program, free_port, poll_until};
use serde_json::json;

/// The browser window: what the screenshot shows.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 800;

/// A browser session and the chromedriver serving it.
pub struct Browser {
    pub client: Client,
    _driver: Supervised,
}

impl Browser {
    /// Starts chromedriver (logging next to `dir`) and opens a headless Chromium session.
    pub async fn start(dir: &Path) -> Self {
        let program = find_program("chromedriver", "chromium-driver")
            .unwrap_or_else(|error| panic!("{error}"));
        let port = free_port().expect("a free port");
        let args = vec![format!("--port={port}")];
        let log = dir.join(format!("chromedriver-{port}.log"));
        let driver = Supervised::spawn(&program, &args, log).expect("chromedriver starts");
        let status = format!("http://127.0.0.1:{port}/status");
        let http = reqwest::Client::new();
        driver
            .wait_until(Duration::from_secs(30), || {
                let request = http.get(&status).send();
                async move { request.await.is_ok_and(|r| r.status().is_success()) }
            })
            .await
            .unwrap_or_else(|error| panic!("chromedriver is not ready: {error}"));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|error| panic!("no Chromium session: {error}"));
        let browser = Self {
            client,
            _driver: driver,
        };
        browser.fit_viewport().await;
        browser
    }

    /// Resizes the window so that the page itself (what a screenshot shows) is
    /// [`WIDTH`]×[`HEIGHT`], whatever the browser's own frame takes.
    async fn fit_viewport(&self) {
        let script = "return [outerWidth - innerWidth, outerHeight - innerHeight];";
        let frame = self.client.execute(script, vec![]).await.expect("script");
        let extra = |i: usize| frame[i].as_u64().unwrap_or_default() as u32;
        self.client
            .set_window_size(WIDTH + extra(0), HEIGHT + extra(1))
            .await
            .expect("the window resizes");
    }

    /// A PNG of what the page shows, from its top.
    pub async fn screenshot(&self) -> Vec<u8> {
        let top = "window.scrollTo(0, 0); return true;";
        self.client.execute(top, vec![]).await.expect("script");
        self.client.screenshot().await.expect("a screenshot")
    }

    /// Types `text` into the element `id` (after clearing it).
    pub async fn type_into(&self, id: &str, text: &str) {
        let field = self.client.find(Locator::Id(id)).await.expect(id);
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.expect(css);
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// The text of the element `css`, if it is there and shown.
    pub async fn shown_text(&self, css: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        if !element.is_displayed().await.ok()? {
            return None;
        }
        element.text().await.ok()
    }

    /// Waits until `check` holds, polling the page every 100 ms, for at most `deadline`;
    /// panics naming `what`, with the page's text.
    pub async fn until<T, F, Fut>(&self, deadline: Duration, what: &str, check: F) -> T
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        match poll_until(deadline, Duration::from_millis(100), check).await {
            Some(value) => value,
            None => {
                let page = self.shown_text("body").await.unwrap_or_default();
                panic!("{what}: not within {deadline:?}; the page shows:\n{page}")
            }
        }
    }

    /// Ends the browser session (chromedriver stops when dropped).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Headless Chromium. `--no-sandbox`: Chromium refuses to start as root with its sandbox (CI
/// machines and containers run as root); the only page it opens is the bot's on loopback.
fn capabilities() -> Capabilities {
    let args = [
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        format!("--window-size={WIDTH},{HEIGHT}"),
    ];
    let mut capabilities = Capabilities::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), json!({ "args": args }));
    capabilities
}
