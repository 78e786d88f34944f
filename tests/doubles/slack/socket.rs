//! The Socket Mode side of the double: the websocket `apps.connections.open` points at. On
//! connect it sends `hello`; tests push `interactive` / `slash_commands` envelopes and read
//! back the acknowledgements (`{"envelope_id": …}`) the bot sends
//! (https://docs.slack.dev/apis/events-api/using-socket-mode).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::APP_ID;

/// The websocket server and what went over it.
pub struct SocketServer {
    pub addr: SocketAddr,
    state: Arc<SocketState>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct SocketState {
    connections: Mutex<Vec<mpsc::UnboundedSender<String>>>,
    received: Mutex<Vec<Value>>,
    next_envelope: AtomicU64,
}

impl SocketServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let state = Arc::new(SocketState::default());
        let accepting = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, accepting.clone()));
            }
        });
        Self { addr, state, task }
    }

    /// Open connections (the bot's listener may open several).
    pub fn connections(&self) -> usize {
        let mut connections = self.state.connections.lock().unwrap();
        connections.retain(|c| !c.is_closed());
        connections.len()
    }

    /// Sends an envelope of `kind` with `payload` on the first open connection; its
    /// `envelope_id`, or `None` when no connection is open.
    pub fn send(&self, kind: &str, payload: Value, retry_attempt: u32) -> Option<String> {
        let number = self.state.next_envelope.fetch_add(1, Ordering::SeqCst);
        let envelope_id = format!("double-envelope-{number}");
        let mut envelope = json!({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind == "slash_commands",
        });
        if retry_attempt > 0 {
            envelope["retry_attempt"] = json!(retry_attempt);
            envelope["retry_reason"] = json!("timeout");
        }
        let connections = self.state.connections.lock().unwrap();
        let open = connections.iter().find(|c| !c.is_closed())?;
        open.send(envelope.to_string()).ok()?;
        Some(envelope_id)
    }

    /// Every text frame the bot sent (its acknowledgements).
    pub fn received(&self) -> Vec<Value> {
        self.state.received.lock().unwrap().clone()
    }
}

impl Drop for SocketServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: tokio::net::TcpStream, state: Arc<SocketState>) {
    let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut writer, mut reader) = socket.split();
    let hello = json!({
        "type": "hello", "num_connections": 1,
        "debug_info": {"host": "double", "approximate_connection_time": 18060},
        "connection_info": {"app_id": APP_ID},
    });
    if writer
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let (outgoing, mut queued) = mpsc::unbounded_channel::<String>();
    state.connections.lock().unwrap().push(outgoing);
    loop {
        tokio::select! {
            Some(frame) = queued.recv() => {
                if writer.send(Message::Text(frame.into())).await.is_err() { break; }
            }
            incoming = reader.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let value = serde_json::from_str(text.as_str()).unwrap_or(Value::String(text.to_string()));
                    state.received.lock().unwrap().push(value);
                }
                Some(Ok(Message::Ping(data))) => { let _ = writer.send(Message::Pong(data)).await; }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
