//! Kubernetes Events as a real kubelet records them (core/v1, source component `kubelet`):
//! a repeated event bumps `count` and `lastTimestamp` of the first one instead of creating
//! another, as client-go's event correlator does.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use tokio::sync::Mutex;

/// What an event is about.
#[derive(Debug, Clone)]
pub struct Subject {
    pub reference: ObjectReference,
    /// The node whose kubelet reports it (`source.host`).
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    uid: String,
    field_path: String,
    reason: String,
    message: String,
}

/// Creates and aggregates events.
pub struct Recorder {
    client: kube::Client,
    seen: Mutex<HashMap<Key, (String, String, i32)>>,
}

impl Recorder {
    pub fn new(client: kube::Client) -> Self {
        Self {
            client,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records one occurrence.
    ///
    /// # Errors
    /// When the API refuses the event.
    pub async fn emit(
        &self,
        subject: &Subject,
        warning: bool,
        reason: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let reference = &subject.reference;
        let namespace = reference
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let key = Key {
            uid: reference.uid.clone().unwrap_or_default(),
            field_path: reference.field_path.clone().unwrap_or_default(),
            reason: reason.into(),
            message: message.into(),
        };
        let now = Time(
            Timestamp::from_second(Timestamp::now().as_second())
                .unwrap_or_else(|_| Timestamp::now()),
        );
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let mut seen = self.seen.lock().await;
        if let Some((name, event_namespace, count)) = seen.get_mut(&key) {
            *count += 1;
            let patch = serde_json::json!({ "count": *count, "lastTimestamp": now });
            let api: Api<Event> = Api::namespaced(self.client.clone(), event_namespace);
            api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
                .await?;
            return Ok(());
        }
        let name = format!(
            "{}.{:x}",
            reference.name.as_deref().unwrap_or("object"),
            Timestamp::now().as_nanosecond()
        );
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: reference.clone(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some(if warning { "Warning" } else { "Normal" }.into()),
            count: Some(1),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some(subject.host.clone()),
            }),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(subject.host.clone()),
            ..Event::default()
        };
        api.create(&PostParams::default(), &event).await?;
        seen.insert(key, (name, namespace, 1));
        Ok(())
    }

    /// Forgets the aggregation state of an object that is gone.
    pub async fn forget(&self, uid: &str) {
        self.seen.lock().await.retain(|key, _| key.uid != uid);
    }
}
