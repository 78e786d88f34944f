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
    /// Who reports it: `kubelet`, or `node-controller` for what the control plane concludes.
    pub component: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    uid: String,
    field_path: String,
    reason: String,
    message: String,
}

/// Where an aggregated event lives and how often it happened.
#[derive(Debug, Clone)]
struct Recorded {
    name: String,
    namespace: String,
    count: i32,
}

/// Creates and aggregates events.
pub struct Recorder {
    client: kube::Client,
    seen: Mutex<HashMap<Key, Recorded>>,
}

impl Recorder {
    pub fn new(client: kube::Client) -> Self {
        Self {
            client,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records one occurrence: bumps the count of the same earlier event, or creates one (also
    /// when the earlier one has expired, `--event-ttl`).
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
        let key = Key {
            uid: reference.uid.clone().unwrap_or_default(),
            field_path: reference.field_path.clone().unwrap_or_default(),
            reason: reason.into(),
            message: message.into(),
        };
        let now = Time(super::now_seconds());
        let earlier = self.seen.lock().await.get(&key).cloned();
        if let Some(mut recorded) = earlier {
            recorded.count += 1;
            let patch = serde_json::json!({ "count": recorded.count, "lastTimestamp": now });
            let api: Api<Event> = Api::namespaced(self.client.clone(), &recorded.namespace);
            match api
                .patch(
                    &recorded.name,
                    &PatchParams::default(),
                    &Patch::Merge(patch),
                )
                .await
            {
                Ok(_) => {
                    self.seen.lock().await.insert(key, recorded);
                    return Ok(());
                }
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => return Err(error),
            }
        }
        let namespace = reference
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
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
                component: Some(subject.component.into()),
                host: Some(subject.host.clone()),
            }),
            reporting_component: Some(subject.component.into()),
            reporting_instance: Some(subject.host.clone()),
            ..Event::default()
        };
        Api::<Event>::namespaced(self.client.clone(), &namespace)
            .create(&PostParams::default(), &event)
            .await?;
        let recorded = Recorded {
            name,
            namespace,
            count: 1,
        };
        self.seen.lock().await.insert(key, recorded);
        Ok(())
    }

    /// Forgets the aggregation state of an object that is gone.
    pub async fn forget(&self, uid: &str) {
        self.seen.lock().await.retain(|key, _| key.uid != uid);
    }
}
