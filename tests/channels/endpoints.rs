//! The bot's own HTTP server serves every configured channel's inbound endpoint, built from
//! settings exactly as `serve` builds them, next to the Alertmanager webhook.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use robot_sre::app::App;
use robot_sre::channels::setup;
use robot_sre::channels::{ChannelKind, InboundKind};
use robot_sre::config::{Secret, Settings, SlackSettings, TelegramMode, TelegramSettings};
use robot_sre::conversations::delivery_failure::RaiseIncident;
use robot_sre::incidents::Classifier;
use robot_sre::store::{MemoryStore, Store};

use crate::harness::{CHAT, Doubles, PHONE};
use crate::telegram::SecretHeader;
use crate::{slack, telegram, whatsapp};

fn settings(doubles: &Doubles) -> Settings {
    let mut settings = Settings::default();
    let slack_yaml = format!(
        "bot_token: {}\nsigning_secret: {}\nchannel: {}\napi_url: {}\n",
        slack::BOT_TOKEN,
        slack::SIGNING_SECRET,
        slack::CHANNEL,
        doubles.slack.url()
    );
    let slack: SlackSettings = serde_yaml::from_str(&slack_yaml).unwrap();
    settings.channels.slack = Some(slack);
    settings.channels.telegram = Some(TelegramSettings {
        bot_token: Secret::new(telegram::TOKEN),
        webhook_secret: Some(Secret::new(telegram::WEBHOOK_SECRET)),
        chat_id: CHAT,
        allowed_chats: Vec::new(),
        api_url: doubles.telegram.url(),
        timeout: Duration::from_secs(2),
        mode: TelegramMode::Webhook,
        poll_timeout: Duration::from_secs(1),
    });
    settings.channels.whatsapp = Some(doubles.whatsapp.settings(&[PHONE]));
    settings
}

#[tokio::test]
async fn the_bots_server_answers_each_channels_webhook_and_queues_what_it_verified() {
    let doubles = Doubles::start().await;
    let settings = settings(&doubles);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut app = App::with_store(&settings, Classifier::builtin(), store.clone());
    let failures = Arc::new(RaiseIncident::new(app.incidents.clone()));
    let (channels, mut events) =
        setup::build(&settings.channels, store, failures, Counter::default())
            .await
            .unwrap();
    app.channel_routes = channels.routes.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = robot_sre::http::router(Arc::new(app));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let press = slack::block_action("U0ALICE", "1700000000.000100", "approve", "tok", "1.1");
    let good = slack::Signing::Good(slack::SIGNING_SECRET.into());
    let answered = slack::Callback::interaction(&press, good).post(&base).await;
    assert_eq!(answered.status(), 200);
    let forged = slack::Callback::interaction(&press, slack::Signing::WrongSecret)
        .post(&base)
        .await;
    assert_eq!(forged.status(), 401);

    let telegram_url = format!("{base}/integrations/telegram/webhook");
    let update = doubles
        .telegram
        .command_update(CHAT, 4242, "/incident status");
    let wrong = doubles
        .telegram
        .post_webhook(&telegram_url, &update, SecretHeader::Bad)
        .await;
    assert_eq!(wrong.as_u16(), 401);
    let right = doubles
        .telegram
        .post_webhook(&telegram_url, &update, SecretHeader::Good)
        .await;
    assert_eq!(right.as_u16(), 200);

    let challenge =
        whatsapp::webhooks::challenge(&base, "subscribe", whatsapp::VERIFY_TOKEN, "8675309").await;
    assert_eq!(challenge.text().await.unwrap(), "8675309");

    let first = events.recv().await.unwrap();
    let second = events.recv().await.unwrap();
    assert_eq!(first.sender.channel, ChannelKind::Slack);
    assert!(matches!(first.kind, InboundKind::Decision { ref token, .. } if token == "tok"));
    assert_eq!(second.sender.channel, ChannelKind::Telegram);
    assert!(
        matches!(second.kind, InboundKind::Command { .. }),
        "{second:?}"
    );
    assert!(
        events.try_recv().is_err(),
        "the forged and refused requests queued nothing"
    );
    channels.shutdown().await;
}
