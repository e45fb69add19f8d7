//! Kefu's load generator. It sets up a team of agents through the REST API, connects M agents and N visitors over
//! Socket.IO (Engine.IO v4 on WebSocket, spoken directly so the generator stays small), opens one conversation per
//! visitor, then has visitors write at a fixed total rate while agents answer some of them. It reports connections
//! held, persisted messages per second, visitor -> agent latency (send until the agent's `message:new`), and the
//! server's RSS and CPU time read from /proc.
//!
//! A process here may open at most 20,000 files, so visitors are held by worker processes (this same program with
//! `--worker`), each with up to `--per-worker` connections from a loopback source address of its own (127.0.0.2,
//! 127.0.0.3, ...). Agents stay in the coordinating process, which also measures latency: visitors stamp each
//! message with the wall clock, which every process on the machine shares.

mod sio;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, Semaphore, mpsc};

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for a running Kefu (loopback only)")]
struct Args {
    /// Kefu's address, ip:port (loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// An admin's email and password (the server's KEFU_ADMIN_EMAIL / KEFU_ADMIN_PASSWORD).
    #[arg(long, default_value = "bench@kefu.test")]
    admin_email: String,
    #[arg(long, default_value = "bench-password")]
    admin_password: String,
    /// Concurrent visitor connections, in all.
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
    /// Connections a worker opens at once while ramping up.
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    /// Visitors per worker process (each may open at most 20,000 files here).
    #[arg(long, default_value_t = 9000)]
    per_worker: usize,
    /// Visitors only connect (a chat window open, nothing written): measures what an idle connection costs.
    #[arg(long)]
    idle: bool,

    // What the coordinator tells a worker.
    #[arg(long, hide = true)]
    worker: bool,
    #[arg(long, hide = true)]
    widget: Option<String>,
    #[arg(long, hide = true, default_value_t = 0)]
    first: usize,
    #[arg(long, hide = true)]
    bind: Option<IpAddr>,
}

/// The command line of worker `k`, which holds `visitors` visitors from number `first` on, from source address
/// 127.0.0.(2 + k). Each value is in the word of its flag: a widget token may begin with '-', which as a word of its
/// own would read as a flag (and the worker would not start).
fn worker_args(args: &Args, widget: &str, visitors: usize, first: usize, k: usize) -> Vec<String> {
    let mut words = vec![
        "--worker".to_string(),
        format!("--addr={}", args.addr),
        format!("--widget={widget}"),
        format!("--visitors={visitors}"),
        format!("--first={first}"),
        format!("--connect-concurrency={}", args.connect_concurrency),
        format!("--bind=127.0.0.{}", 2 + k),
    ];
    if args.idle {
        words.push("--idle".to_string());
    }
    words
}

/// Nanoseconds on the wall clock: shared by every process of the machine.
fn epoch_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
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

fn check_loopback(addr: &str) -> anyhow::Result<()> {
    let ip: IpAddr = addr
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or_default()
        .parse()
        .context("--addr host must be an IP")?;
    if !ip.is_loopback() {
        bail!("load tests target loopback only (127.0.0.0/8)");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    check_loopback(&args.addr)?;
    if args.worker {
        worker(args).await
    } else {
        coordinate(args).await
    }
}

/// What a worker says when its visitors are connected, and when it has sent its share.
fn say(line: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A worker process: connects `visitors` visitors from `bind`, opens a conversation each, says `ready`, then for
/// every `go RATE SECONDS` line on stdin sends its share and reports what was acked.
async fn worker(args: Args) -> anyhow::Result<()> {
    let widget = args.widget.clone().context("--widget")?;
    let acked = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Option<mpsc::UnboundedSender<u64>>>();
    let mut held = Vec::new();
    for n in 0..args.visitors {
        let i = args.first + n;
        let permit = gate.clone().acquire_owned().await?;
        let (addr, widget, ready_tx) = (args.addr.clone(), widget.clone(), ready_tx.clone());
        let (acked, errors, idle, bind) = (acked.clone(), errors.clone(), args.idle, args.bind);
        held.push(tokio::spawn(async move {
            let socket = sio::Socket::connect(&addr, "/visitor", json!({ "widget_token": widget }), bind).await;
            drop(permit);
            let socket = match socket {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("visitor {i}: {e:#}");
                    errors.fetch_add(1, Ordering::Relaxed);
                    let _ = ready_tx.send(None);
                    return;
                }
            };
            let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
            if idle {
                let _ = ready_tx.send(Some(tx));
                // Hold the connection until the run ends.
                while rx.recv().await.is_some() {}
                drop(socket);
                return;
            }
            let opened = socket
                .emit_ack("message:send", json!({ "client_id": format!("open-{i}"), "content": "b:open:0" }))
                .await;
            let cid = match &opened {
                Ok(ack) => ack["message"]["conversation_id"].as_str().map(str::to_string),
                Err(_) => None,
            };
            let Some(cid) = cid else {
                eprintln!("visitor {i}: opening refused: {opened:?}");
                errors.fetch_add(1, Ordering::Relaxed);
                let _ = ready_tx.send(None);
                return;
            };
            let _ = ready_tx.send(Some(tx));
            let mut seq = 0u64;
            while let Some(stamp) = rx.recv().await {
                seq += 1;
                let payload = json!({ "conversation_id": cid, "client_id": format!("m{i}-{seq}"), "content": format!("b:{i}:{stamp}") });
                match socket.emit_ack("message:send", payload).await {
                    Ok(a) if a["ok"] == true => acked.fetch_add(1, Ordering::Relaxed),
                    _ => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    drop(ready_tx);
    // Every visitor says once whether it is ready (its task lives on, holding the channel open).
    let mut senders = Vec::with_capacity(args.visitors);
    for _ in 0..args.visitors {
        match ready_rx.recv().await {
            Some(Some(s)) => senders.push(s),
            Some(None) => {}
            None => break,
        }
    }
    say(&json!({ "ready": senders.len(), "errors": errors.load(Ordering::Relaxed) }));

    let mut lines = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let got = std::io::stdin().lock().read_line(&mut line);
        got.map(|_| line)
    })
    .await??;
    while let Some(go) = lines.trim().strip_prefix("go ") {
        let mut parts = go.split_whitespace().map(|v| v.parse::<u64>().unwrap_or(0));
        let (rate, secs) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        let before = acked.load(Ordering::Relaxed);
        let start = Instant::now();
        let mut scheduled = 0u64;
        if rate > 0 && !senders.is_empty() {
            let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut next = 0usize;
            while start.elapsed() < Duration::from_secs(secs) {
                tick.tick().await;
                let _ = senders[next % senders.len()].send(epoch_ns());
                next += 1;
                scheduled += 1;
            }
        }
        // Acks of what is still in flight (bounded).
        let until = Instant::now() + Duration::from_secs(10);
        while acked.load(Ordering::Relaxed) - before + errors.load(Ordering::Relaxed) < scheduled
            && Instant::now() < until
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        say(
            &json!({ "scheduled": scheduled, "acked": acked.load(Ordering::Relaxed) - before, "errors": errors.load(Ordering::Relaxed) }),
        );
        lines = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let got = std::io::stdin().lock().read_line(&mut line);
            got.map(|_| line)
        })
        .await??;
    }
    Ok(())
}

/// A worker process and its stdin/stdout.
struct Worker {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Worker {
    fn read(&mut self) -> anyhow::Result<Value> {
        let line = self.stdout.next().context("the worker ended")??;
        Ok(serde_json::from_str(&line)?)
    }
}

async fn coordinate(args: Args) -> anyhow::Result<()> {
    let http = sio::Http::new(&args.addr);
    let server_started = read_proc(args.server_pid);

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
    let run = format!("{:x}", epoch_ns() / 1_000_000);
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

    let latencies_us = Arc::new(Mutex::new(Vec::<u64>::with_capacity(200_000)));
    let delivered = Arc::new(AtomicU64::new(0));
    let replies = Arc::new(AtomicU64::new(0));
    let reply_errors = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));

    // Agents, in this process.
    for token in &agent_tokens {
        let agent = sio::Socket::connect(&args.addr, "/agent", json!({ "token": token }), None).await?;
        agent.emit_ack("status:set", json!({ "status": "online" })).await?;
        let (latencies_us, delivered, replies, reply_errors, measuring) = (
            latencies_us.clone(),
            delivered.clone(),
            replies.clone(),
            reply_errors.clone(),
            measuring.clone(),
        );
        let reply_every = args.reply_every;
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
                    .filter(|t| *t > 0)
                else {
                    continue;
                };
                if measuring.load(Ordering::Relaxed) {
                    let latency = epoch_ns().saturating_sub(sent) / 1000;
                    latencies_us.lock().await.push(latency);
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
                if reply_every > 0 && n.is_multiple_of(reply_every) {
                    let cid = data["message"]["conversation_id"].clone();
                    let payload = json!({ "conversation_id": cid, "client_id": format!("r{n}-{sent}"), "content": "收到，正在处理" });
                    // Answer without holding up the agent's reading of the next events.
                    let (agent, replies, reply_errors) = (agent.clone(), replies.clone(), reply_errors.clone());
                    tokio::spawn(async move {
                        if agent
                            .emit_ack("message:send", payload)
                            .await
                            .is_ok_and(|a| a["ok"] == true)
                        {
                            replies.fetch_add(1, Ordering::Relaxed);
                        } else {
                            reply_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
            }
        });
    }

    let idle = read_proc(args.server_pid);
    let exe = std::env::current_exe()?;
    let count = args.visitors.div_ceil(args.per_worker.max(1)).max(1);
    eprintln!(
        "connecting {} visitors through {count} worker process(es)...",
        args.visitors
    );
    let ramp = Instant::now();
    let mut workers = Vec::new();
    let mut first = 0;
    for k in 0..count {
        let n = args.per_worker.min(args.visitors - first);
        let mut child = Command::new(&exe)
            .args(worker_args(&args, &widget, n, first, k))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().context("worker stdin")?;
        let stdout = std::io::BufReader::new(child.stdout.take().context("worker stdout")?).lines();
        workers.push(Worker { child, stdin, stdout });
        first += n;
    }
    let (workers, connected, connect_errors) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Vec<Worker>, u64, u64)> {
            let (mut connected, mut errors) = (0, 0);
            for w in &mut workers {
                let ready = w.read()?;
                connected += ready["ready"].as_u64().unwrap_or(0);
                errors += ready["errors"].as_u64().unwrap_or(0);
            }
            Ok((workers, connected, errors))
        })
        .await??;
    let ramp_secs = ramp.elapsed().as_secs_f64();
    // Let pushes settle, then read the server's memory with every connection open and idle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = read_proc(args.server_pid);
    eprintln!(
        "{connected} visitors connected in {ramp_secs:.1} s; measuring {} s at {} msg/s",
        args.duration, args.rate
    );

    measuring.store(true, Ordering::Relaxed);
    let replies_before = replies.load(Ordering::Relaxed);
    let start = Instant::now();
    let rate = if args.idle { 0 } else { args.rate };
    let (duration, count_workers) = (args.duration, workers.len() as u64);
    let results = tokio::task::spawn_blocking(move || -> anyhow::Result<(Vec<Value>, Vec<Worker>)> {
        let mut workers = workers;
        for (k, w) in workers.iter_mut().enumerate() {
            // The total rate, shared out; the first workers take the remainder.
            let share = rate / count_workers + u64::from((k as u64) < rate % count_workers);
            writeln!(w.stdin, "go {share} {duration}")?;
            w.stdin.flush()?;
        }
        let mut results = Vec::new();
        for w in &mut workers {
            results.push(w.read()?);
        }
        Ok((results, workers))
    })
    .await??;
    let (results, workers) = results;
    let scheduled: u64 = results.iter().map(|r| r["scheduled"].as_u64().unwrap_or(0)).sum();
    let acked: u64 = results.iter().map(|r| r["acked"].as_u64().unwrap_or(0)).sum();
    let send_errors: u64 = results.iter().map(|r| r["errors"].as_u64().unwrap_or(0)).sum();
    // Wait for in-flight pushes to reach the agents (bounded).
    let drain = Instant::now();
    while delivered.load(Ordering::Relaxed) < scheduled && drain.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    measuring.store(false, Ordering::Relaxed);
    let busy = read_proc(args.server_pid);
    for mut w in workers {
        drop(w.stdin);
        let _ = w.child.wait();
    }

    let mut lat = latencies_us.lock().await.clone();
    lat.sort_unstable();
    let replies = replies.load(Ordering::Relaxed) - replies_before;
    let ticks_per_sec = 100.0;
    let cpu_secs = busy.cpu_ticks.saturating_sub(held.cpu_ticks) as f64 / ticks_per_sec;
    let delivered = delivered.load(Ordering::Relaxed);
    let per_visitor = if connected == 0 {
        Value::Null
    } else {
        json!(((held.rss_kb as f64 - idle.rss_kb as f64) / connected as f64 * 100.0).round() / 100.0)
    };
    let report = json!({
        "visitors_requested": args.visitors,
        "worker_processes": count,
        "connections_held": connected + args.agents as u64,
        "errors": { "connect": connect_errors, "send": send_errors.saturating_sub(connect_errors), "reply": reply_errors.load(Ordering::Relaxed), "undelivered": scheduled.saturating_sub(delivered) },
        "ramp_seconds": (ramp_secs * 10.0).round() / 10.0,
        "scheduled_visitor_messages": scheduled,
        "visitor_messages_acked": acked,
        "agent_replies_acked": replies,
        "persisted_messages_per_sec": ((acked + replies) as f64 / elapsed).round(),
        "visitor_to_agent_delivered": delivered,
        "latency_ms": { "p50": percentile(&lat, 0.50), "p95": percentile(&lat, 0.95), "p99": percentile(&lat, 0.99), "max": percentile(&lat, 1.0) },
        "server_rss_kb": { "started": server_started.rss_kb, "agents_connected": idle.rss_kb, "visitors_connected": held.rss_kb, "after_load": busy.rss_kb },
        "server_rss_per_visitor_kb": per_visitor,
        "server_cpu_seconds_during_load": cpu_secs,
        "server_cpu_ms_per_delivered_message": if delivered == 0 { Value::Null } else { json!((cpu_secs * 1000.0 / delivered as f64 * 1000.0).round() / 1000.0) },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_starts_with_a_widget_token_that_begins_with_a_dash() {
        let args = Args::parse_from(["kefu-bench", "--addr", "127.0.0.1:18200", "--idle"]);
        let words = worker_args(&args, "-fCgJz5rZ", 9000, 9000, 1);
        let worker = Args::try_parse_from(std::iter::once("kefu-bench".to_string()).chain(words)).unwrap();
        assert!(worker.worker && worker.idle);
        assert_eq!(worker.widget.as_deref(), Some("-fCgJz5rZ"));
        assert_eq!((worker.visitors, worker.first), (9000, 9000));
        assert_eq!(worker.addr, "127.0.0.1:18200");
        assert_eq!(worker.bind, Some("127.0.0.3".parse().unwrap()));
    }
}
