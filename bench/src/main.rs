//! Kefu's load generator. It sets up a team of agents through the REST API, connects N visitors and M agents over
//! Socket.IO (Engine.IO v4 on WebSocket, spoken directly so the generator stays small), opens one conversation per
//! visitor, then has visitors write at a fixed total rate while agents answer some of them. It reports connections
//! held, persisted messages per second, visitor -> agent latency (send until the agent's `message:new`), and the
//! server's RSS and CPU time read from /proc.

mod sio;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore, mpsc};

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for a running Kefu (loopback only)")]
struct Args {
    /// Kefu's address, host:port (loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// An admin's email and password (the server's KEFU_ADMIN_EMAIL / KEFU_ADMIN_PASSWORD).
    #[arg(long, default_value = "bench@kefu.test")]
    admin_email: String,
    #[arg(long, default_value = "bench-password")]
    admin_password: String,
    /// Concurrent visitor connections.
    #[arg(long, default_value_t = 1000)]
    visitors: usize,
    /// Agents answering.
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Visitor messages per second, in total, during the measured phase.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Length of the measured phase, in seconds.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Agents reply to one visitor message in this many.
    #[arg(long, default_value_t = 4)]
    reply_every: u64,
    /// The server's pid, to read its RSS and CPU time.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Connections opened at once while ramping up.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Visitors only connect (a chat window open, nothing written): measures what an idle connection costs.
    #[arg(long)]
    idle: bool,
}

/// Nanoseconds since the generator started: visitors stamp messages with it, agents subtract it.
fn now_ns(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

struct Stats {
    latencies_us: Mutex<Vec<u64>>,
    acked: AtomicU64,
    errors: AtomicU64,
    agent_received: AtomicU64,
    replies: AtomicU64,
}

#[derive(Default, Clone, Copy)]
struct Proc {
    rss_kb: u64,
    cpu_ticks: u64,
}

fn read_proc(pid: Option<u32>) -> Proc {
    let Some(pid) = pid else { return Proc::default() };
    let rss_kb = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    let cpu_ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .map(|s| {
            let after = s.rsplit_once(')').map(|(_, r)| r.to_string()).unwrap_or_default();
            let f: Vec<&str> = after.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the whole line; 12 and 13 after the ")".
            f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
                + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        })
        .unwrap_or(0);
    Proc { rss_kb, cpu_ticks }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let ip: std::net::IpAddr = args
        .addr
        .split(':')
        .next()
        .unwrap_or_default()
        .parse()
        .context("--addr host must be an IP")?;
    if !ip.is_loopback() {
        bail!("load tests target loopback only (127.0.0.0/8)");
    }
    let base = Instant::now();
    let http = sio::Http::new(&args.addr);

    // Setup: a team, its agents (capacity enough for every visitor), and a web inbox routed to the team.
    let admin = http
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "email": args.admin_email, "password": args.admin_password }),
        )
        .await?;
    let admin_token = admin["token"]
        .as_str()
        .context("admin login failed; start the server with KEFU_ADMIN_EMAIL/PASSWORD")?
        .to_string();
    let run = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let team = http
        .post(
            "/api/v1/teams",
            Some(&admin_token),
            json!({ "name": format!("bench-{run}") }),
        )
        .await?;
    let team_id = team["team"]["id"].as_str().context("team")?.to_string();
    let inbox = http
        .post(
            "/api/v1/inboxes",
            Some(&admin_token),
            json!({ "kind": "web", "name": format!("bench-{run}"), "teams": [team_id] }),
        )
        .await?;
    let widget = inbox["inbox"]["widget_token"].as_str().context("inbox")?.to_string();
    let capacity = (args.visitors.div_ceil(args.agents.max(1)) + 1).min(1000);
    let mut agent_tokens = Vec::new();
    for i in 0..args.agents {
        let email = format!("bench-{run}-{i}@kefu.test");
        let user = http
            .post("/api/v1/users", Some(&admin_token), json!({ "email": email, "name": format!("Bench {i}"), "password": "bench-password", "capacity": capacity }))
            .await?;
        let id = user["user"]["id"].as_str().context("user")?.to_string();
        http.put(&format!("/api/v1/teams/{team_id}/members/{id}"), &admin_token)
            .await?;
        let login = http
            .post(
                "/api/v1/auth/login",
                None,
                json!({ "email": email, "password": "bench-password" }),
            )
            .await?;
        agent_tokens.push(login["token"].as_str().context("agent login")?.to_string());
    }

    let stats = Arc::new(Stats {
        latencies_us: Mutex::new(Vec::with_capacity(200_000)),
        acked: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        agent_received: AtomicU64::new(0),
        replies: AtomicU64::new(0),
    });
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));

    // Agents.
    for token in &agent_tokens {
        let agent = sio::Socket::connect(&args.addr, "/agent", json!({ "token": token })).await?;
        let stats = stats.clone();
        let measuring = measuring.clone();
        let reply_every = args.reply_every;
        agent.emit_ack("status:set", json!({ "status": "online" })).await?;
        tokio::spawn(async move {
            let mut n = 0u64;
            let mut events = agent.events();
            while let Some((event, data)) = events.recv().await {
                if event != "message:new" || data["message"]["sender"]["kind"] != "visitor" {
                    continue;
                }
                let content = data["message"]["content"].as_str().unwrap_or_default();
                let Some(sent) = content
                    .strip_prefix("b:")
                    .and_then(|r| r.split(':').nth(1))
                    .and_then(|t| t.parse::<u64>().ok())
                else {
                    continue;
                };
                if measuring.load(Ordering::Relaxed) {
                    let latency = now_ns(base).saturating_sub(sent) / 1000;
                    stats.latencies_us.lock().await.push(latency);
                    stats.agent_received.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
                if reply_every > 0 && n.is_multiple_of(reply_every) {
                    let cid = data["message"]["conversation_id"].clone();
                    let payload = json!({ "conversation_id": cid, "client_id": format!("r{n}-{sent}"), "content": "收到，正在处理" });
                    // Answer without holding up the agent's reading of the next events.
                    let (agent, stats) = (agent.clone(), stats.clone());
                    tokio::spawn(async move {
                        if agent
                            .emit_ack("message:send", payload)
                            .await
                            .is_ok_and(|a| a["ok"] == true)
                        {
                            stats.replies.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
            }
        });
    }

    let idle = read_proc(args.server_pid);
    eprintln!("connecting {} visitors...", args.visitors);
    let ramp = Instant::now();
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let mut senders = Vec::with_capacity(args.visitors);
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Option<(usize, mpsc::UnboundedSender<u64>)>>();
    for i in 0..args.visitors {
        let permit = gate.clone().acquire_owned().await?;
        let (addr, widget, ready_tx, stats) = (args.addr.clone(), widget.clone(), ready_tx.clone(), stats.clone());
        let idle = args.idle;
        tokio::spawn(async move {
            let t0 = Instant::now();
            let socket = sio::Socket::connect(&addr, "/visitor", json!({ "widget_token": widget })).await;
            drop(permit);
            if t0.elapsed() > Duration::from_secs(1) {
                eprintln!("visitor {i}: connect took {:?}", t0.elapsed());
            }
            let socket = match socket {
                Ok(s) => Ok(s),
                Err(e) => {
                    eprintln!("visitor {i}: {e:#}");
                    Err(e)
                }
            };
            let Ok(socket) = socket else {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                let _ = ready_tx.send(None);
                return;
            };
            if idle {
                let (tx, _rx) = mpsc::unbounded_channel::<u64>();
                let _ = ready_tx.send(Some((i, tx)));
                // Hold the connection until the run ends.
                std::future::pending::<()>().await;
                drop(socket);
                return;
            }
            // Open the conversation; later messages go to it.
            let opened = socket
                .emit_ack(
                    "message:send",
                    json!({ "client_id": format!("open-{i}"), "content": "b:open:0" }),
                )
                .await;
            let cid = match &opened {
                Ok(ack) => ack["message"]["conversation_id"].as_str().map(str::to_string),
                Err(e) => {
                    eprintln!("visitor {i}: opening the conversation: {e:#}");
                    None
                }
            };
            if t0.elapsed() > Duration::from_secs(1) {
                eprintln!("visitor {i}: connect and open took {:?}", t0.elapsed());
            }
            let Some(cid) = cid else {
                if let Ok(ack) = &opened {
                    eprintln!("visitor {i}: opening refused: {ack}");
                }
                stats.errors.fetch_add(1, Ordering::Relaxed);
                let _ = ready_tx.send(None);
                return;
            };
            let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
            let _ = ready_tx.send(Some((i, tx)));
            let mut seq = 0u64;
            while let Some(stamp) = rx.recv().await {
                seq += 1;
                let payload = json!({ "conversation_id": cid, "client_id": format!("m{i}-{seq}"), "content": format!("b:{i}:{stamp}") });
                match socket.emit_ack("message:send", payload).await {
                    Ok(a) if a["ok"] == true => {
                        stats.acked.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    drop(ready_tx);
    while senders.len() + (stats.errors.load(Ordering::Relaxed) as usize) < args.visitors {
        match ready_rx.recv().await {
            Some(Some(s)) => senders.push(s),
            Some(None) => {}
            None => break,
        }
    }
    let ramp_secs = ramp.elapsed().as_secs_f64();
    // Let pushes settle, then read the server's memory with every connection open and idle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = read_proc(args.server_pid);
    eprintln!(
        "{} visitors connected in {ramp_secs:.1} s; measuring {} s at {} msg/s",
        senders.len(),
        args.duration,
        args.rate
    );

    measuring.store(true, Ordering::Relaxed);
    let acked_before = stats.acked.load(Ordering::Relaxed);
    let start = Instant::now();
    let interval = Duration::from_nanos(1_000_000_000 / args.rate.max(1));
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut next = 0usize;
    let mut scheduled = 0u64;
    while !args.idle && start.elapsed() < Duration::from_secs(args.duration) && !senders.is_empty() {
        tick.tick().await;
        let (_, tx) = &senders[next % senders.len()];
        let _ = tx.send(now_ns(base));
        next += 1;
        scheduled += 1;
    }
    // Wait for in-flight messages to arrive (bounded).
    let drain = Instant::now();
    while stats.agent_received.load(Ordering::Relaxed) < scheduled && drain.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    measuring.store(false, Ordering::Relaxed);
    let busy = read_proc(args.server_pid);

    let mut lat = stats.latencies_us.lock().await.clone();
    lat.sort_unstable();
    let acked = stats.acked.load(Ordering::Relaxed) - acked_before;
    let replies = stats.replies.load(Ordering::Relaxed);
    let ticks_per_sec = 100.0;
    let cpu_secs = busy.cpu_ticks.saturating_sub(held.cpu_ticks) as f64 / ticks_per_sec;
    let delivered = stats.agent_received.load(Ordering::Relaxed);
    let report = json!({
        "visitors_requested": args.visitors,
        "connections_held": senders.len() + args.agents,
        "connect_errors_and_send_errors": stats.errors.load(Ordering::Relaxed),
        "ramp_seconds": (ramp_secs * 10.0).round() / 10.0,
        "scheduled_visitor_messages": scheduled,
        "visitor_messages_acked": acked,
        "agent_replies_acked": replies,
        "persisted_messages_per_sec": ((acked + replies) as f64 / elapsed).round(),
        "visitor_to_agent_delivered": delivered,
        "latency_ms": { "p50": percentile(&lat, 0.50), "p95": percentile(&lat, 0.95), "p99": percentile(&lat, 0.99), "max": percentile(&lat, 1.0) },
        "server_rss_kb": { "before_visitors": idle.rss_kb, "visitors_connected": held.rss_kb, "after_load": busy.rss_kb },
        "server_rss_per_visitor_kb": if senders.is_empty() { Value::Null } else { json!(((held.rss_kb as f64 - idle.rss_kb as f64) / senders.len() as f64 * 100.0).round() / 100.0) },
        "server_cpu_seconds_during_load": cpu_secs,
        "server_cpu_ms_per_delivered_message": if delivered == 0 { Value::Null } else { json!((cpu_secs * 1000.0 / delivered as f64 * 1000.0).round() / 1000.0) },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
