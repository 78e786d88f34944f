//! Long polling: updates fetched with `getUpdates`, confirmed only once handled, errors
//! backed off, the loop stopped by the shutdown signal.

use std::sync::Arc;
use std::time::Duration;

use robot_sre::channels::InboundKind;
use robot_sre::channels::telegram::poll;
use robot_sre::store::MemoryStore;
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::helpers::{ALICE, APPROVE_TOKEN, CHAT, Harness, eventually};
use crate::telegram::Mode;

fn start_polling(h: &Harness) -> (oneshot::Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(poll(h.inbound.clone(), async move {
        let _ = stopped.await;
    }));
    (stop, task)
}

async fn stop_polling(stop: oneshot::Sender<()>, task: JoinHandle<()>) {
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("polling stops on shutdown")
        .unwrap();
}

#[tokio::test]
async fn long_polling_delivers_a_button_press_and_a_command_and_confirms_them() {
    let mut h = Harness::start().await;
    let (stop, task) = start_polling(&h);
    h.double.push_update(
        h.double
            .callback_update(CHAT, ALICE, 1, &format!("a:{APPROVE_TOKEN}")),
    );
    h.double
        .push_update(h.double.command_update(CHAT, ALICE, "/incident list"));
    let events = h.collect(2).await;
    assert!(
        matches!(&events[0].kind, InboundKind::Decision { token, .. } if token == APPROVE_TOKEN)
    );
    assert!(
        matches!(&events[1].kind, InboundKind::Command { text, .. } if text == "/incident list")
    );
    h.double.wait_for("answerCallbackQuery", 1).await;
    eventually("the updates are confirmed by the next offset", || {
        h.double.pending_updates() == 0
    })
    .await;
    let methods: Vec<String> = h.double.sent().into_iter().map(|c| c.method).collect();
    assert_eq!(methods[..3], ["getMe", "deleteWebhook", "getUpdates"]);
    let polls = h.double.calls("getUpdates");
    assert_eq!(
        polls[0]["allowed_updates"],
        json!(["message", "callback_query"])
    );
    assert_eq!(polls[0]["timeout"], json!(1));
    stop_polling(stop, task).await;
    h.double.assert_valid();
}

#[tokio::test]
async fn long_polling_backs_off_while_the_api_fails_and_recovers() {
    let mut h = Harness::start().await;
    h.double.set_mode(Mode::InvalidAuth).await;
    let (stop, task) = start_polling(&h);
    h.double.wait_for("getUpdates", 2).await;
    h.double.set_mode(Mode::Normal).await;
    h.double
        .push_update(h.double.command_update(CHAT, ALICE, "/incident help"));
    let event = h.next_event().await;
    assert!(matches!(event.kind, InboundKind::Command { text, .. } if text == "/incident help"));
    stop_polling(stop, task).await;
}

#[tokio::test]
async fn long_polling_refetches_an_update_the_inbox_could_not_take() {
    let mut h = Harness::with_store(Arc::new(MemoryStore::new()), 1).await;
    h.double
        .push_update(h.double.command_update(CHAT, ALICE, "/incident list"));
    h.double
        .push_update(h.double.command_update(CHAT, ALICE, "/incident status"));
    let (stop, task) = start_polling(&h);
    let first = h.next_event().await;
    assert!(matches!(first.kind, InboundKind::Command { text, .. } if text == "/incident list"));
    let second = h.next_event().await;
    assert!(matches!(second.kind, InboundKind::Command { text, .. } if text == "/incident status"));
    h.assert_no_more_events();
    stop_polling(stop, task).await;
}

#[tokio::test]
async fn long_polling_stops_promptly_while_a_poll_is_waiting() {
    let h = Harness::start().await;
    let (stop, task) = start_polling(&h);
    h.double.wait_for("getUpdates", 1).await;
    stop_polling(stop, task).await;
}
