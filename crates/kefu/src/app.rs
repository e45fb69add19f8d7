//! Wiring: builds the store, the service, the Socket.IO gateway and the HTTP router, and runs them until a
//! shutdown signal; then stops accepting, closes sockets and lets in-flight requests finish.

use crate::config::{DatabaseArgs, ServeArgs};
use anyhow::Context;
use axum::serve::ListenerExt;
use kefu_core::model::Role;
use kefu_service::{Bus, Service, ServiceConfig};
use kefu_store::Store;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::layer::SocketIoLayer;
use socketioxide_redis::drivers::redis::redis_client;
use socketioxide_redis::{RedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

async fn open_store(db: &DatabaseArgs) -> anyhow::Result<Store> {
    let url = db.resolve()?;
    let store = Store::connect(&url)
        .await
        .context("KEFU_DATABASE_URL: cannot open the database")?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}

pub async fn migrate(db: DatabaseArgs) -> anyhow::Result<()> {
    let store = open_store(&db).await?;
    println!("database is up to date");
    store.close().await;
    Ok(())
}

pub async fn create_admin(db: DatabaseArgs, email: &str, password: &str, name: &str, role: Role) -> anyhow::Result<()> {
    let store = open_store(&db).await?;
    let (bus, _rx) = Bus::new();
    let service = Service::new(store.clone(), bus, ServiceConfig::default());
    let org = service.ensure_organisation().await?.organisation;
    let user = service.create_user(org.id, email, name, password, role, None).await?;
    println!("created {} {} <{}>", user.role, user.name, user.email);
    store.close().await;
    Ok(())
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let addr = args.listen_addr()?;
    let redis_url = args.cluster_redis()?;
    let trusted_proxies = kefu_http::TrustedProxies::parse(&args.trusted_proxies)
        .map_err(|e| anyhow::anyhow!("KEFU_TRUSTED_PROXIES: {e}"))?;
    let mut config = args.service_config()?;
    let store = open_store(&args.db).await?;
    config.secrets = args.secret_box()?;
    let (bus, notifications) = Bus::new();
    let service = Service::new(store.clone(), bus, config);
    let setup = service.ensure_organisation().await?;
    let org = setup.organisation;
    if store.count_users(org.id).await? == 0 {
        let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        match (set(&args.admin_email), set(&args.admin_password)) {
            (Some(email), Some(password)) => {
                match service
                    .create_user(org.id, &email, "Admin", &password, Role::Admin, None)
                    .await
                {
                    Ok(admin) => println!("created the first admin: {}", admin.email),
                    // Another node starting at the same moment made them.
                    Err(kefu_service::ServiceError::Conflict(_)) => {}
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context("KEFU_ADMIN_EMAIL / KEFU_ADMIN_PASSWORD: cannot create the first admin"));
                    }
                }
            }
            _ if args.demo => {}
            _ => println!(
                "No user yet. Create the first admin with:\n  kefu admin create --email you@example.com --password '...' --name 'Your Name'\n\
                 or start with KEFU_ADMIN_EMAIL and KEFU_ADMIN_PASSWORD set."
            ),
        }
    }
    let demo_widget_token = if args.demo {
        seed_demo(&service, org.id).await?
    } else {
        None
    };

    let builder = SocketIo::builder()
        .with_state(service.clone())
        .max_payload(args.socket_max_payload)
        .ws_max_message_size(args.socket_max_payload as usize)
        .ws_max_frame_size(args.socket_max_payload as usize)
        .max_buffer_size(1024)
        .ws_read_buffer_size(1024);
    let node_ttl = service.config().node_ttl;
    let mut node = Node {
        addr,
        demo: args.demo,
        allow_private: args.webhooks_allow_private,
        store,
        service,
        notifications,
        demo_widget_token,
        realtime_ready: Arc::new(AtomicBool::new(true)),
        deaf: None,
        trusted_proxies,
    };
    match redis_url.as_deref() {
        // One node: rooms live in this process.
        None => {
            let (layer, io) = builder.build_layer();
            kefu_realtime::register(&io);
            run(node, layer, io).await
        }
        // Several nodes: rooms are shared through Redis, so an event emitted on one node reaches every node's
        // sockets in the room.
        Some(url) => {
            let client = redis_client::Client::open(url).context("KEFU_REDIS_URL: not a Redis URL")?;
            let config = RedisAdapterConfig::new().with_prefix(args.redis_prefix.clone());
            let adapter = RedisAdapterCtr::new_with_redis_config(&client, config)
                .await
                .context("KEFU_REDIS_URL: cannot connect to Redis (it must speak RESP3: add ?protocol=resp3)")?;
            let (layer, io) = builder.with_adapter::<RedisAdapter<_>>(adapter).build_layer();
            for subscribed in kefu_realtime::register(&io) {
                subscribed
                    .await
                    .map_err(|e| anyhow::anyhow!("KEFU_REDIS_URL: cannot subscribe to Redis: {e}"))?;
            }
            // The adapter listens on this node's own request channel; while Redis counts its subscriber, the node
            // hears the others.
            let channel = format!("{}-request#/agent#{}#", args.redis_prefix, io.config().server_id);
            node.deaf = Some(watch_redis(client, channel, node_ttl, node.realtime_ready.clone()));
            run(node, layer, io).await
        }
    }
}

/// What a node runs once its store and service are ready, whichever adapter carries its rooms.
struct Node {
    addr: SocketAddr,
    demo: bool,
    allow_private: bool,
    store: Store,
    service: Service,
    notifications: tokio::sync::mpsc::UnboundedReceiver<kefu_service::Notification>,
    demo_widget_token: Option<String>,
    /// False while this node cannot hear the other nodes (`/readyz` says so).
    realtime_ready: Arc<AtomicBool>,
    trusted_proxies: kefu_http::TrustedProxies,
    /// Fires when this node has been deaf to the cluster for too long: it stops, and exits with an error so that
    /// its supervisor starts it again.
    deaf: Option<tokio::sync::oneshot::Receiver<()>>,
}

/// Watches that Redis still delivers the other nodes' requests to this node. socketioxide-redis subscribes once
/// and does not subscribe again after Redis restarts or the connection drops: such a node would go on serving its
/// own sockets but miss every push from the other nodes. After three failed checks (a check every quarter of the
/// node TTL) the node is not ready; after one more node TTL it stops, so a supervisor restarts it and its clients
/// reconnect to a node that hears everything (they catch up by seq).
fn watch_redis(
    client: redis_client::Client,
    channel: String,
    node_ttl: Duration,
    ready: Arc<AtomicBool>,
) -> tokio::sync::oneshot::Receiver<()> {
    let (deaf, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let every = (node_ttl / 4).max(Duration::from_millis(250));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut connection = None;
        let mut misses = 0u32;
        let mut deaf_since: Option<tokio::time::Instant> = None;
        loop {
            tick.tick().await;
            let heard = async {
                if connection.is_none() {
                    connection = Some(client.get_multiplexed_async_connection().await?);
                }
                let conn = connection.as_mut().expect("connected above");
                let (_, subscribers): (String, i64) = redis_client::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(&channel)
                    .query_async(conn)
                    .await?;
                Ok::<bool, redis_client::RedisError>(subscribers > 0)
            };
            let heard = tokio::time::timeout(every, heard).await;
            match heard {
                Ok(Ok(true)) => {
                    if misses >= 3 {
                        tracing::info!("Redis delivers the other nodes' pushes again: ready");
                    }
                    misses = 0;
                    deaf_since = None;
                    ready.store(true, Ordering::Relaxed);
                    continue;
                }
                Ok(Ok(false)) => {}
                Ok(Err(_)) | Err(_) => connection = None,
            }
            misses += 1;
            if misses == 3 {
                tracing::error!(
                    "this node no longer hears the other nodes through Redis: not ready, stopping in {node_ttl:?} \
                     unless it recovers"
                );
                ready.store(false, Ordering::Relaxed);
                deaf_since = Some(tokio::time::Instant::now());
            }
            if deaf_since.is_some_and(|t| t.elapsed() >= node_ttl) {
                let _ = deaf.send(());
                return;
            }
        }
    });
    rx
}

async fn run<A: Adapter>(node: Node, layer: SocketIoLayer<A>, io: SocketIo<A>) -> anyhow::Result<()> {
    let Node {
        addr,
        demo,
        allow_private,
        store,
        service,
        notifications,
        demo_widget_token,
        realtime_ready,
        deaf,
        trusted_proxies,
    } = node;
    let fanout = kefu_realtime::spawn_fanout(io.clone(), notifications);
    let timers = service.start_timers().await?;
    let email = kefu_channels::email::fetch::start(service.clone());
    let outbox = kefu_channels::delivery::start(service.clone(), allow_private);
    let webhook_queue = service.start_webhook_queue();
    let webhooks = kefu_channels::webhooks::start(service.clone());

    let app = kefu_http::router(
        kefu_http::AppState {
            service: service.clone(),
            demo_widget_token,
            realtime_ready,
            trusted_proxies,
        },
        layer,
    );
    let listener = listen(addr).with_context(|| format!("KEFU_LISTEN: cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    println!(
        "Serving with {} worker threads (KEFU_WORKER_THREADS)",
        tokio::runtime::Handle::current().metrics().num_workers()
    );
    // Tests and scripts read this line to find the port, and may stop reading here.
    println!("Kefu listening on http://{bound}");
    println!("Agents' workspace: http://{bound}/app/");
    if demo {
        println!("Demo page: http://{bound}/");
    }

    let io_for_shutdown = io.clone();
    let lost_redis = Arc::new(AtomicBool::new(false));
    let stopping_deaf = lost_redis.clone();
    let shutdown = async move {
        let deaf = async {
            match deaf {
                Some(rx) => match rx.await {
                    Ok(()) => stopping_deaf.store(true, Ordering::Relaxed),
                    // The watchdog is gone without a verdict: nothing to stop for.
                    Err(_) => std::future::pending().await,
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown_signal() => {}
            () = deaf => {}
        }
        tracing::info!("shutting down: closing sockets, finishing requests");
        io_for_shutdown.close().await;
    };
    // Chat traffic is many small writes: Nagle's algorithm would hold each one back for the peer's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
        .context("server error")?;
    // Socket handlers already writing finish and commit (their clients reconnect and sync what they missed:
    // the sockets are closed by now, so the pushes have nowhere to go and the bus can stop).
    if !store.wait_for_writes(Duration::from_secs(10)).await {
        tracing::warn!("some writes were still open after 10 s; closing anyway (they roll back, unacked)");
    }
    email.abort();
    outbox.abort();
    webhooks.abort();
    if let Some(queue) = webhook_queue {
        queue.abort();
    }
    fanout.abort();
    for task in timers {
        task.abort();
    }
    // The closed sockets' handlers have run and the workers are stopped (none can take a lease again): the
    // node's sockets stop counting and its leases free now.
    service.leave_cluster().await;
    store.close().await;
    tracing::info!("stopped");
    if lost_redis.load(Ordering::Relaxed) {
        anyhow::bail!("stopped because Redis no longer carried the other nodes' pushes (KEFU_REDIS_URL)");
    }
    Ok(())
}

/// A listener with a deep accept queue: when thousands of visitors reconnect at once (a node restart), a short
/// queue drops their SYNs and TCP makes them wait seconds before retrying.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Demo users (printed) and the widget token of the inbox the demo page embeds.
async fn seed_demo(service: &Service, org_id: uuid::Uuid) -> anyhow::Result<Option<String>> {
    const EMAIL: &str = "agent@demo.kefu";
    const PASSWORD: &str = "kefu-demo";
    const ADMIN_EMAIL: &str = "admin@demo.kefu";
    for (email, name, role) in [
        (ADMIN_EMAIL, "Demo Admin", Role::Admin),
        (EMAIL, "Demo Agent 演示客服", Role::Agent),
    ] {
        if service.store().credentials(email).await?.is_none() {
            match service.create_user(org_id, email, name, PASSWORD, role, None).await {
                // Another node starting at the same moment made them.
                Ok(_) | Err(kefu_service::ServiceError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let inbox = service.store().inboxes(org_id).await?.into_iter().next();
    println!("Demo agent: {EMAIL} / {PASSWORD}    Demo admin: {ADMIN_EMAIL} / {PASSWORD}");
    let token = inbox.and_then(|i| i.widget_token);
    if let Some(token) = &token {
        println!("Website widget token: {token}");
    }
    Ok(token)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
