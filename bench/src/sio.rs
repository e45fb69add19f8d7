//! Just enough Socket.IO v5 / Engine.IO v4 over WebSocket for the load generator, and a minimal HTTP/1.1 client
//! for setup. Kept here, outside the product, so the generator adds no client library to the build.

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

pub struct Http {
    addr: String,
}

impl Http {
    pub fn new(addr: &str) -> Self {
        Http { addr: addr.to_string() }
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut stream = TcpStream::connect(&self.addr).await.context("connect to Kefu")?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        let text = String::from_utf8_lossy(&raw);
        let (head, payload) = text.split_once("\r\n\r\n").context("HTTP response")?;
        let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if !(200..300).contains(&status) {
            bail!("{method} {path}: HTTP {status}: {payload}");
        }
        Ok(serde_json::from_str(payload).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        self.request("POST", path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str) -> anyhow::Result<Value> {
        self.request("PUT", path, Some(token), None).await
    }
}

type Acks = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// One Socket.IO connection to one namespace over WebSocket.
pub struct Socket {
    ns: String,
    out: mpsc::UnboundedSender<String>,
    acks: Acks,
    next_ack: AtomicU64,
    events: Mutex<Option<mpsc::UnboundedReceiver<(String, Value)>>>,
}

impl Socket {
    /// Connects from `bind` (a loopback source address) when given: one address has only so many ports.
    pub async fn connect(
        addr: &str,
        ns: &str,
        auth: Value,
        bind: Option<std::net::IpAddr>,
    ) -> anyhow::Result<Arc<Socket>> {
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let target: std::net::SocketAddr = addr.parse().context("--addr must be ip:port")?;
        let tcp = match bind {
            Some(ip) => {
                let socket = if ip.is_ipv4() {
                    tokio::net::TcpSocket::new_v4()?
                } else {
                    tokio::net::TcpSocket::new_v6()?
                };
                socket
                    .bind(std::net::SocketAddr::new(ip, 0))
                    .context("bind the source address")?;
                socket.connect(target).await.context("connect")?
            }
            None => TcpStream::connect(target).await.context("connect")?,
        };
        tcp.set_nodelay(true)?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, None)
            .await
            .context("websocket handshake")?;
        let (mut sink, mut stream) = ws.split();
        // Engine.IO open packet.
        match stream.next().await {
            Some(Ok(Message::Text(t))) if t.starts_with('0') => {}
            other => bail!("expected the Engine.IO open packet, got {other:?}"),
        }
        sink.send(Message::text(format!("40{ns},{auth}"))).await?;
        let connected = loop {
            match stream.next().await {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if t == "2" {
                        sink.send(Message::text("3")).await?;
                    } else if t.starts_with(&format!("40{ns},")) {
                        break true;
                    } else if t.starts_with(&format!("44{ns},")) {
                        break false;
                    }
                }
                _ => bail!("connection closed during the namespace handshake"),
            }
        };
        if !connected {
            bail!("namespace {ns} refused the connection");
        }
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let acks: Acks = Arc::default();
        let socket = Arc::new(Socket {
            ns: ns.to_string(),
            out: out.clone(),
            acks: acks.clone(),
            next_ack: AtomicU64::new(1),
            events: Mutex::new(Some(ev_rx)),
        });
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let prefix_event = format!("42{ns},");
        let prefix_ack = format!("43{ns},");
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(t) = msg else { continue };
                let t = t.as_str();
                if std::env::var_os("KEFU_BENCH_TRACE").is_some() {
                    eprintln!("<- {t}");
                }
                if t == "2" {
                    let _ = out.send("3".into());
                } else if let Some(rest) = t.strip_prefix(&prefix_ack) {
                    let digits = rest.chars().take_while(char::is_ascii_digit).count();
                    let (id, json) = rest.split_at(digits);
                    if let (Ok(id), Ok(Value::Array(mut args))) =
                        (id.parse::<u64>(), serde_json::from_str::<Value>(json))
                        && let Some(waiter) = acks.lock().await.remove(&id)
                    {
                        let _ = waiter.send(if args.is_empty() {
                            Value::Null
                        } else {
                            args.swap_remove(0)
                        });
                    }
                } else if let Some(rest) = t.strip_prefix(&prefix_event)
                    && let Ok(Value::Array(mut args)) = serde_json::from_str::<Value>(rest)
                    && args.len() >= 2
                {
                    let data = args.swap_remove(1);
                    if let Value::String(event) = args.swap_remove(0) {
                        let _ = ev_tx.send((event, data));
                    }
                }
            }
        });
        Ok(socket)
    }

    /// Takes the stream of events (once).
    pub fn events(&self) -> mpsc::UnboundedReceiver<(String, Value)> {
        self.events
            .try_lock()
            .ok()
            .and_then(|mut e| e.take())
            .expect("events taken once")
    }

    pub async fn emit_ack(&self, event: &str, data: Value) -> anyhow::Result<Value> {
        let id = self.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.acks.lock().await.insert(id, tx);
        let packet = format!("42{},{id}{}", self.ns, serde_json::json!([event, data]));
        self.out.send(packet).ok().context("socket closed")?;
        tokio::time::timeout(std::time::Duration::from_secs(30), rx)
            .await
            .context("ack timed out")?
            .context("socket closed")
    }
}
