//! The web console in a real headless Chromium against the real bot: a wrong password is
//! refused; alice logs in, opens the incident, approves the rollback on the page, and the page
//! shows the verification PASS while the Deployment is rolled back on the lab.

use std::time::Duration;

use robot_sre::channels::console::auth::hash_password;
use robot_sre::conversations::state::StateName;

use crate::browser::Browser;
use crate::full_loop::{audited_and_packed, reaches, rolled_back};
use crate::helpers::lab;
use crate::world::{ConsoleLogin, Options, World};

const PASSWORD: &str = "alice's console password";

/// Logs in through the form; the page shows the app or an error.
async fn log_in(browser: &Browser, password: &str) {
    browser.type_into("login-user", "alice").await;
    browser.type_into("login-password", password).await;
    browser.click("#login-submit").await;
}

/// What `GET /console/api/session` answers the page now (200 with a session, 401 without).
async fn session_status(browser: &Browser) -> i64 {
    let script =
        "return fetch('/console/api/session', {credentials: 'same-origin'}).then(r => r.status);";
    let status = browser
        .client
        .execute(script, vec![])
        .await
        .expect("script");
    status.as_i64().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_in_the_console_rolls_back_and_the_page_shows_pass() {
    let options = Options {
        console: Some(ConsoleLogin {
            password_hash: hash_password(PASSWORD).expect("a hash"),
            routes: vec!["console"],
        }),
        ..Options::default()
    };
    let world = World::start("conv-console", options).await;
    let broken = world.image().await;
    let incident = world.fire().await;
    reaches(&world, &incident, StateName::AwaitingApproval).await;

    let browser = Browser::start(lab().dir()).await;
    browser
        .client
        .goto(&format!("{}/console", world.bot.base()))
        .await
        .expect("the page opens");
    let deadline = Duration::from_secs(20);
    browser
        .until(deadline, "the login form", || async {
            browser.shown_text("#login-submit").await
        })
        .await;

    log_in(&browser, "not the password").await;
    let error = browser
        .until(deadline, "a login error", || async {
            browser
                .shown_text("#login-error")
                .await
                .filter(|t| !t.is_empty())
        })
        .await;
    assert!(error.contains("wrong user name or password"), "{error}");
    assert!(
        browser.shown_text("#app").await.is_none(),
        "no app without a session"
    );
    assert_eq!(
        session_status(&browser).await,
        401,
        "no session after a wrong password"
    );

    log_in(&browser, PASSWORD).await;
    let row = format!(".incident-row[data-id='{incident}']");
    browser
        .until(deadline, "the incident in the list", || async {
            browser.shown_text(&row).await
        })
        .await;
    assert_eq!(session_status(&browser).await, 200);
    browser.click(&row).await;
    let fields = browser
        .until(deadline, "the prompt with its fields", || async {
            browser.shown_text("#prompt-fields").await
        })
        .await;
    let target = format!("{}/Deployment/{}", world.ns.name, world.deployment);
    for label in [
        "Action",
        "Target",
        "Why now",
        "Impact",
        "Fallback",
        "Expires",
        "Verification",
    ] {
        assert!(fields.contains(label), "no {label} in {fields}");
    }
    assert!(fields.contains(&target), "target not shown: {fields}");
    assert_eq!(world.image().await, broken, "nothing runs before approval");

    browser.click("#approve").await;
    let deadline = Duration::from_secs(120);
    browser
        .until(
            deadline,
            "state resolved and PASS in the thread",
            || async {
                let state = browser.shown_text("#state").await?;
                let thread = browser.shown_text("#thread").await?;
                (state == "resolved" && thread.contains("Verification PASS")).then_some(())
            },
        )
        .await;
    let thread = browser.shown_text("#thread").await.unwrap_or_default();
    assert!(
        thread.contains("Approved by alice"),
        "outcome not folded: {thread}"
    );
    let audit = browser.shown_text("#audit").await.unwrap_or_default();
    assert!(
        audit.contains("approved by alice on console"),
        "the approval is in the audit timeline: {audit}"
    );

    if let Ok(path) = std::env::var("ROBOT_SRE_CONSOLE_SCREENSHOT") {
        let png = browser.screenshot().await;
        std::fs::write(&path, png).expect("the screenshot is written");
    }
    browser.close().await;
    reaches(&world, &incident, StateName::Resolved).await;
    rolled_back(&world).await;
    audited_and_packed(&world, &incident).await;
    assert!(
        world.slack.sent_to("chat.postMessage").is_empty(),
        "the route is the console only"
    );
}
