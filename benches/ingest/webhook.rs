//! The webhook requests the benchmark sends, and the check of the bot's receipt for each.

use serde::Deserialize;

/// One webhook body carrying one alert.
pub struct Request {
    pub fingerprint: String,
    pub body: String,
}

/// `count` requests whose 16-hex-digit fingerprints are unique within and across series.
pub fn requests(series: u64, count: usize) -> Vec<Request> {
    (0..count as u64)
        .map(|index| {
            let fingerprint = format!("{:016x}", (series << 40) | index);
            let body = payload(&fingerprint);
            Request { fingerprint, body }
        })
        .collect()
}

/// A version-4 Alertmanager notification with one firing alert, as Alertmanager sends it.
fn payload(fingerprint: &str) -> String {
    let pod = format!("checkout-7d9f8c6b5-{fingerprint}");
    let labels = serde_json::json!({
        "alertname": "KubePodCrashLooping",
        "container": "checkout",
        "namespace": "shop",
        "pod": pod,
        "severity": "warning",
    });
    serde_json::json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"KubePodCrashLooping\", pod=\"{pod}\"}}"),
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "robot-sre",
        "groupLabels": {"alertname": "KubePodCrashLooping", "pod": pod},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": {
                "description": format!("Pod shop/{pod} is restarting 1.2 times / 10 minutes."),
                "summary": "Pod is crash looping.",
            },
            "startsAt": "2026-11-21T05:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=kube_pod_container_status_restarts_total",
            "fingerprint": fingerprint,
        }],
    })
    .to_string()
}

/// The part of the bot's receipt the benchmark checks.
#[derive(Deserialize)]
struct Receipt {
    received: usize,
    incidents: Vec<Recorded>,
}

#[derive(Deserialize)]
struct Recorded {
    fingerprint: String,
    outcome: String,
}

/// How one request went.
pub enum Reply {
    /// 200, and the receipt records the alert with the expected outcome.
    Expected,
    /// Not recorded: a transport error or a status other than 200.
    Failed(String),
    /// 200 with a receipt that is not the expected one.
    Wrong(String),
}

/// Checks the body of a 200 answer to `request`.
pub fn check_receipt(request: &Request, body: &str, expected: &str) -> Reply {
    let receipt: Option<Receipt> = serde_json::from_str(body).ok();
    match receipt
        .as_ref()
        .map(|r| (r.received, r.incidents.as_slice()))
    {
        Some((1, [one])) if one.fingerprint == request.fingerprint && one.outcome == expected => {
            Reply::Expected
        }
        _ => Reply::Wrong(format!(
            "alert {}: expected outcome {expected:?}, got receipt {body}",
            request.fingerprint
        )),
    }
}
