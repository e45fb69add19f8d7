//! Configuration: every setting is a flag and an environment variable, documented once here with its default.

use anyhow::{Context, bail};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// Directory for Kefu's data (the SQLite database when no URL is given).
    #[arg(long, env = "KEFU_DATA_DIR", default_value = "./kefu-data")]
    pub data_dir: PathBuf,
    /// Database URL: sqlite:PATH or postgres://USER@HOST/DB. Default: SQLite in the data directory.
    #[arg(long, env = "KEFU_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    /// The database URL to use, checked; creates the data directory for SQLite.
    pub fn resolve(&self) -> anyhow::Result<String> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(&self.data_dir).with_context(|| {
                    format!("KEFU_DATA_DIR / --data-dir: cannot create {}", self.data_dir.display())
                })?;
                format!("sqlite:{}", self.data_dir.join("kefu.db").display())
            }
        };
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("KEFU_DATABASE_URL / --database-url: {url:?} is not sqlite:PATH or postgres://...");
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.split('?').next().unwrap_or_default().trim_start_matches("//");
            if let Some(parent) = std::path::Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("KEFU_DATABASE_URL: cannot create {}", parent.display()))?;
            }
        }
        Ok(url)
    }
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on (HTTP, REST and Socket.IO share it). Port 0 picks a free port.
    #[arg(long, env = "KEFU_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Seed a demo agent (credentials printed at start) and serve the demo page at `/`.
    #[arg(long, env = "KEFU_DEMO")]
    pub demo: bool,
    /// Seconds an agent whose last connection dropped stays present before going offline (work is requeued).
    #[arg(long, env = "KEFU_OFFLINE_GRACE_SECS", default_value_t = 30)]
    pub offline_grace_secs: u64,
    /// Seconds a node may miss its heartbeat before the others take it for dead: its agents' sockets stop
    /// counting (their grace starts) and another node takes over the timers. Same on every node.
    #[arg(long, env = "KEFU_NODE_TTL_SECS", default_value_t = 20)]
    pub node_ttl_secs: u64,
    /// Seconds a node's claim on an outgoing reply or webhook lasts: when a node dies mid-send, another sends it
    /// after this (a provider may then see it twice).
    #[arg(long, env = "KEFU_DELIVERY_LEASE_SECS", default_value_t = 300)]
    pub delivery_lease_secs: u64,
    /// Threads that run connections and requests. Default: one fewer than the machine's cores (at least one), so
    /// the database (SQLite's connection threads, or a PostgreSQL on the same machine) keeps a core: on 2 cores
    /// one thread used about 12% less CPU per message than two (docs/performance.md). 1-256.
    #[arg(long, env = "KEFU_WORKER_THREADS")]
    pub worker_threads: Option<usize>,
    /// Load balancers or proxies in front of Kefu, as addresses or networks (`10.0.0.5,10.1.0.0/16`): requests
    /// from them are counted against the client they name in X-Forwarded-For (failed logins, the ticket form).
    #[arg(long, env = "KEFU_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Seconds a visitor waits in the queue before being offered to leave a message.
    #[arg(long, env = "KEFU_QUEUE_TIMEOUT_SECS", default_value_t = 600)]
    pub queue_timeout_secs: u64,
    /// Days a login session lasts.
    #[arg(long, env = "KEFU_SESSION_TTL_DAYS", default_value_t = 30)]
    pub session_ttl_days: u64,
    /// Days a solved ticket stays solved before it closes by itself (fractions allowed: 0.5 is 12 hours).
    #[arg(long, env = "KEFU_TICKET_AUTOCLOSE_DAYS", default_value_t = 7.0)]
    pub ticket_autoclose_days: f64,
    /// Largest Socket.IO message or polling body, in bytes.
    #[arg(long, env = "KEFU_SOCKET_MAX_PAYLOAD", default_value_t = 64 * 1024)]
    pub socket_max_payload: u64,
    /// Let webhooks and API inboxes post to addresses on this machine or a private network (an integration
    /// running next to Kefu). Off by default, so a webhook cannot be aimed at internal services.
    #[arg(long, env = "KEFU_WEBHOOKS_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
    pub webhooks_allow_private: bool,
    /// Seals channel passwords (IMAP, SMTP) at rest: at least 32 characters. Without it, Kefu makes a key file
    /// in the data directory; keep that file with the database, or the passwords must be entered again.
    #[arg(long, env = "KEFU_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Redis (7 or later, RESP3: `redis://host:6379?protocol=resp3`) shared by several Kefu nodes: Socket.IO rooms
    /// then span every node. Leave it out for a single node. Needs KEFU_SECRET_KEY, the same on every node.
    #[arg(long, env = "KEFU_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Prefix of the Redis channels, so several Kefu installations can share one Redis.
    #[arg(long, env = "KEFU_REDIS_PREFIX", default_value = "kefu")]
    pub redis_prefix: String,

    /// Email of the first admin, created on an empty database (with KEFU_ADMIN_PASSWORD).
    #[arg(long, env = "KEFU_ADMIN_EMAIL", hide = true)]
    pub admin_email: Option<String>,
    #[arg(long, env = "KEFU_ADMIN_PASSWORD", hide = true)]
    pub admin_password: Option<String>,
}

impl ServeArgs {
    /// The Redis that joins this node to others, checked against the rest of the settings: `None` for one node.
    /// RESP3 is what the adapter speaks; a URL that names no protocol gets it.
    pub fn cluster_redis(&self) -> anyhow::Result<Option<String>> {
        let Some(url) = self.redis_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        if !url.starts_with("redis://") {
            bail!("KEFU_REDIS_URL / --redis-url: {url:?} is not redis://host:port (TLS is not supported yet)");
        }
        let database = self.db.database_url.as_deref().unwrap_or("sqlite:");
        if database.starts_with("sqlite:") {
            bail!("KEFU_REDIS_URL needs a PostgreSQL KEFU_DATABASE_URL: an SQLite database serves one node");
        }
        if self.secret_key.as_deref().is_none_or(|k| k.trim().is_empty()) {
            bail!(
                "KEFU_SECRET_KEY is required with KEFU_REDIS_URL: every node must seal passwords and sign links with \
                 the same key"
            );
        }
        let lower = url.to_ascii_lowercase();
        if lower.contains("protocol=resp2") {
            bail!("KEFU_REDIS_URL: the Redis adapter needs RESP3 (Redis 7 or later): use protocol=resp3");
        }
        Ok(Some(if lower.contains("protocol=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&protocol=resp3")
        } else {
            format!("{url}?protocol=resp3")
        }))
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| {
            format!(
                "KEFU_LISTEN / --listen: {:?} is not an address like 127.0.0.1:8080",
                self.listen
            )
        })
    }

    /// The key channel passwords are sealed with: configured, or the data directory's key file (made on first
    /// use, so only once the database is known to work).
    pub fn secret_box(&self) -> anyhow::Result<kefu_service::SecretBox> {
        kefu_service::SecretBox::load(self.secret_key.as_deref(), &self.db.data_dir)
            .map_err(|e| anyhow::anyhow!("KEFU_SECRET_KEY: {e}"))
    }

    /// How many threads the runtime gets (see `worker_threads`).
    pub fn runtime_threads(&self) -> anyhow::Result<usize> {
        match self.worker_threads {
            Some(n) if (1..=256).contains(&n) => Ok(n),
            Some(_) => bail!("KEFU_WORKER_THREADS / --worker-threads must be from 1 to 256"),
            None => Ok(default_worker_threads()),
        }
    }

    pub fn service_config(&self) -> anyhow::Result<kefu_service::ServiceConfig> {
        if self.queue_timeout_secs == 0 {
            bail!("KEFU_QUEUE_TIMEOUT_SECS / --queue-timeout-secs must be at least 1");
        }
        if !(self.ticket_autoclose_days > 0.0 && self.ticket_autoclose_days <= 3650.0) {
            bail!("KEFU_TICKET_AUTOCLOSE_DAYS / --ticket-autoclose-days must be more than 0 and at most 3650");
        }
        if self.session_ttl_days == 0 {
            bail!("KEFU_SESSION_TTL_DAYS / --session-ttl-days must be at least 1");
        }
        if !(2..=3600).contains(&self.node_ttl_secs) {
            bail!("KEFU_NODE_TTL_SECS / --node-ttl-secs must be from 2 to 3600");
        }
        if !(3..=86_400).contains(&self.delivery_lease_secs) {
            bail!("KEFU_DELIVERY_LEASE_SECS / --delivery-lease-secs must be from 3 to 86400");
        }
        if self.socket_max_payload < 1024 {
            bail!("KEFU_SOCKET_MAX_PAYLOAD / --socket-max-payload must be at least 1024");
        }
        Ok(kefu_service::ServiceConfig {
            offline_grace: Duration::from_secs(self.offline_grace_secs),
            queue_timeout: Duration::from_secs(self.queue_timeout_secs),
            session_ttl: Duration::from_secs(self.session_ttl_days * 24 * 3600),
            ticket_autoclose: Duration::from_secs_f64(self.ticket_autoclose_days * 24.0 * 3600.0),
            allow_private_targets: self.webhooks_allow_private,
            node_ttl: Duration::from_secs(self.node_ttl_secs),
            delivery_lease: Duration::from_secs(self.delivery_lease_secs),
            ..Default::default()
        })
    }
}

/// One fewer than the cores this process may use, and at least one.
pub fn default_worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}
