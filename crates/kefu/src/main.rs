//! The `kefu` binary: command line, configuration, and wiring of store, service, realtime and HTTP.

mod app;
mod config;

use clap::{Parser, Subcommand};
use config::{DatabaseArgs, ServeArgs};
use kefu_core::model::Role;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kefu",
    version,
    about = "Kefu 客服: self-hosted omnichannel customer support"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API, Socket.IO and the web on one port.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user (an admin unless --role says otherwise).
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "admin", value_parser = ["admin", "supervisor", "agent"])]
        role: String,
    },
}

/// Allocator settings for a long-lived server holding many idle connections.
///
/// glibc raises its mmap threshold after the first large free, after which every argon2 hash (~19 MiB) is carved
/// from a per-thread arena and kept there: RSS grows by that much per blocking thread. A fixed threshold keeps
/// large buffers in mmap, returned to the system when freed.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        // Every thread that allocates (tokio workers, the blocking pool, one per SQLite connection) would get an
        // arena of its own; two are plenty for a 2-core box and keep idle memory from fragmenting across them.
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEFU_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let threads = match &cli.command {
        Command::Serve(args) => match args.runtime_threads() {
            Ok(n) => n,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        _ => config::default_worker_threads(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => app::serve(args).await,
            Command::Migrate(db) => app::migrate(db).await,
            Command::Admin {
                command:
                    AdminCommand::Create {
                        db,
                        email,
                        password,
                        name,
                        role,
                    },
            } => {
                let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
                app::create_admin(db, &email, &password, &name, role).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
