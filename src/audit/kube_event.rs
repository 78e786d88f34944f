//! Kubernetes Events on the objects the bot changes, so `kubectl describe` and every event
//! pipeline show who changed what, for which incident.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;

/// The object an Event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Involved {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects (their Events go to `default`, as the kubelet's do).
    pub namespace: Option<String>,
    pub name: String,
    pub uid: Option<String>,
}

/// Normal or Warning, as Kubernetes has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Normal,
    Warning,
}

/// Records one Event; returns its name.
///
/// # Errors
/// The kube error when the Event cannot be created.
pub async fn emit(
    client: &kube::Client,
    source: &str,
    involved: &Involved,
    severity: Severity,
    reason: &str,
    message: &str,
) -> Result<String, kube::Error> {
    let namespace = involved.namespace.as_deref().unwrap_or("default");
    let now = Timestamp::now();
    let event = Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.", involved.name)),
            namespace: Some(namespace.to_owned()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some(involved.api_version.clone()),
            kind: Some(involved.kind.clone()),
            name: Some(involved.name.clone()),
            namespace: involved.namespace.clone(),
            uid: involved.uid.clone(),
            ..ObjectReference::default()
        },
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        type_: Some(
            match severity {
                Severity::Normal => "Normal",
                Severity::Warning => "Warning",
            }
            .to_owned(),
        ),
        source: Some(EventSource {
            component: Some(source.to_owned()),
            host: None,
        }),
        // Legacy-style timestamps only: an eventTime would make the API server demand the
        // events.k8s.io fields (reportingController, action, …) too.
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        ..Event::default()
    };
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let created = api.create(&PostParams::default(), &event).await?;
    Ok(created.metadata.name.unwrap_or_default())
}
