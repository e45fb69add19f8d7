//! Fetching an email inbox over IMAP: one task per inbox that logs in, takes in every mail above the stored
//! UID, then waits for more (IDLE when the server offers it, else polling), and on any failure records the
//! error for the inbox's admins and tries again with backoff. Other inboxes, and the rest of Kefu, go on.
//!
//! Restart safety: the cursor (UIDVALIDITY, last UID) moves only after a mail is taken in, and taking a mail in
//! twice is harmless (its Message-ID is its key), so a crash mid-fetch neither skips nor doubles a mail.

use super::inbound;
use async_imap::Client;
use futures_util::StreamExt;
use kefu_core::email::{EmailSettings, Tls};
use kefu_service::{EmailInbox, InboundEmail, Service};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use uuid::Uuid;

trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

type Session = async_imap::Session<Box<dyn Stream>>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one IMAP command may take before the connection counts as broken.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A failure worth telling the inbox's admin about.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("cannot reach {0}: {1}")]
    Connect(String, String),
    #[error("the IMAP server refused the login: {0}")]
    Login(String),
    #[error("IMAP: {0}")]
    Imap(String),
    #[error("{0}")]
    Kefu(#[from] kefu_service::ServiceError),
}

fn imap(e: impl std::fmt::Display) -> FetchError {
    FetchError::Imap(e.to_string())
}

async fn timed<T>(what: &str, f: impl std::future::Future<Output = Result<T, FetchError>>) -> Result<T, FetchError> {
    tokio::time::timeout(COMMAND_TIMEOUT, f)
        .await
        .map_err(|_| FetchError::Imap(format!("{what} timed out")))?
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn tls(host: &str, tcp: TcpStream) -> Result<Box<dyn Stream>, FetchError> {
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| FetchError::Connect(host.into(), e.to_string()))?;
    let stream = tokio_rustls::TlsConnector::from(tls_config())
        .connect(name, tcp)
        .await
        .map_err(|e| FetchError::Connect(host.into(), format!("TLS: {e}")))?;
    Ok(Box::new(stream))
}

async fn connect(settings: &EmailSettings, password: &str) -> Result<Session, FetchError> {
    let s = &settings.imap;
    let addr = format!("{}:{}", s.host, s.port);
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&addr))
        .await
        .map_err(|_| FetchError::Connect(addr.clone(), "timed out".into()))?
        .map_err(|e| FetchError::Connect(addr.clone(), e.to_string()))?;
    let stream: Box<dyn Stream> = match s.tls {
        Tls::None => Box::new(tcp),
        Tls::Tls => tls(&s.host, tcp).await?,
        Tls::Starttls => {
            let mut plain = Client::new(tcp);
            timed("greeting", async { plain.read_response().await.map_err(imap) }).await?;
            timed("STARTTLS", async {
                plain.run_command_and_check_ok("STARTTLS", None).await.map_err(imap)
            })
            .await?;
            tls(&s.host, plain.into_inner()).await?
        }
    };
    let mut client = Client::new(stream);
    if s.tls != Tls::Starttls {
        timed("greeting", async { client.read_response().await.map_err(imap) }).await?;
    }
    timed("login", async {
        client
            .login(&s.user, password)
            .await
            .map_err(|(e, _)| FetchError::Login(e.to_string()))
    })
    .await
}

/// Takes in every mail above the cursor; returns the new cursor.
async fn take_in(
    service: &Service,
    inbox: &EmailInbox,
    session: &mut Session,
    uid_validity: u32,
    mut last_uid: u32,
) -> Result<u32, FetchError> {
    let uids: Vec<u32> = {
        let found = timed("search", async {
            session
                .uid_search(format!("UID {}:*", last_uid + 1))
                .await
                .map_err(imap)
        })
        .await?;
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > last_uid).collect();
        uids.sort_unstable();
        uids
    };
    for uid in uids {
        let raw = timed("fetch", async {
            let mut fetched = session
                .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
                .await
                .map_err(imap)?;
            let mut body = None;
            while let Some(item) = fetched.next().await {
                let item = item.map_err(imap)?;
                if item.uid == Some(uid) {
                    body = item.body().map(<[u8]>::to_vec);
                }
            }
            Ok(body)
        })
        .await?;
        match raw.map(|raw| (inbound::parse(&raw), raw)) {
            Some((Ok(mail), raw)) => {
                let mail = InboundEmail {
                    ticket_number: inbound::ticket_number(&mail.subject),
                    address_tag: inbound::address_tag(&mail.recipients, &inbox.settings.smtp.from_address),
                    message_id: mail.message_id,
                    answers: mail.answers,
                    from_address: mail.from_address,
                    from_name: mail.from_name,
                    subject: mail.subject,
                    text: mail.text,
                    html: mail.html,
                    raw,
                    automatic: mail.automatic,
                    attachments: mail.attachments,
                };
                service.email_received(&inbox.inbox, mail).await?;
            }
            // Not a mail Kefu can read (or it vanished): nothing to show, and nothing to gain by trying again.
            Some((Err(e), _)) => tracing::warn!(inbox = %inbox.inbox.id, uid, error = %e, "mail skipped"),
            None => tracing::warn!(inbox = %inbox.inbox.id, uid, "mail vanished before it was fetched"),
        }
        last_uid = uid;
        service
            .set_email_cursor(inbox.inbox.id, i64::from(uid_validity), i64::from(last_uid))
            .await?;
    }
    Ok(last_uid)
}

/// One connection's life: log in, catch up, then wait for new mail and catch up again, until something fails.
async fn session(service: &Service, inbox: &EmailInbox) -> Result<(), FetchError> {
    let mut session = connect(&inbox.settings, &inbox.secrets.imap_password).await?;
    let idle = timed("capabilities", async { session.capabilities().await.map_err(imap) })
        .await?
        .has_str("IDLE");
    let mailbox = timed("select", async {
        session.select(&inbox.settings.imap.folder).await.map_err(imap)
    })
    .await?;
    let uid_validity = mailbox.uid_validity.unwrap_or(0);
    // A new UIDVALIDITY numbers the mailbox afresh: read it all again (Message-IDs drop what was taken in).
    let mut last_uid = match service.email_cursor(inbox.inbox.id).await? {
        Some((v, uid)) if v == i64::from(uid_validity) => uid as u32,
        _ => 0,
    };
    service
        .set_channel_state(
            inbox.inbox.id,
            "ok",
            if idle {
                "connected (IDLE)"
            } else {
                "connected (polling)"
            },
        )
        .await?;
    loop {
        last_uid = take_in(service, inbox, &mut session, uid_validity, last_uid).await?;
        if idle {
            let mut handle = session.idle();
            handle.init().await.map_err(imap)?;
            let (wait, _stop) = handle.wait_with_timeout(Duration::from_secs(25 * 60));
            wait.await.map_err(imap)?;
            session = timed("IDLE end", async { handle.done().await.map_err(imap) }).await?;
        } else {
            tokio::time::sleep(Duration::from_secs(u64::from(inbox.settings.poll_interval_secs))).await;
            timed("NOOP", async { session.noop().await.map_err(imap) }).await?;
        }
    }
}

/// Fetches one inbox for as long as it exists, reconnecting with backoff.
async fn run(service: Service, inbox: EmailInbox) {
    let mut backoff = Duration::from_secs(2);
    loop {
        let started = tokio::time::Instant::now();
        if let Err(e) = session(&service, &inbox).await {
            tracing::warn!(inbox = %inbox.inbox.id, error = %e, "email inbox: connection failed");
            if let Err(e) = service.set_channel_state(inbox.inbox.id, "error", &e.to_string()).await {
                tracing::error!(error = %e, "could not record the inbox's state");
            }
        }
        // A connection that lived a while was healthy: start the backoff over.
        if started.elapsed() > MAX_BACKOFF {
            backoff = Duration::from_secs(2);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The lease under which one node fetches an inbox's mail.
fn fetch_lease(inbox: Uuid) -> String {
    format!("email-fetch:{inbox}")
}

/// Runs a fetcher per email inbox, and restarts one whose settings changed. Looks for changes every few seconds.
pub fn start(service: Service) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut running: HashMap<Uuid, (serde_json::Value, JoinHandle<()>)> = HashMap::new();
        loop {
            match service.email_inboxes().await {
                Ok(inboxes) => {
                    let ids: Vec<Uuid> = inboxes.iter().map(|i| i.inbox.id).collect();
                    let mut gone = Vec::new();
                    running.retain(|id, (_, task)| {
                        let keep = ids.contains(id);
                        if !keep {
                            task.abort();
                            gone.push(*id);
                        }
                        keep
                    });
                    for id in gone {
                        service.release_lease(&fetch_lease(id)).await;
                    }
                    for inbox in inboxes {
                        // With several nodes, one fetches each mailbox: two IMAP sessions would race its cursor.
                        let held = match service.hold_lease(&fetch_lease(inbox.inbox.id)).await {
                            Ok(held) => held,
                            Err(e) => {
                                tracing::error!(inbox = %inbox.inbox.id, error = %e, "could not renew the fetch lease");
                                false
                            }
                        };
                        if !held {
                            if let Some((_, task)) = running.remove(&inbox.inbox.id) {
                                task.abort();
                            }
                            continue;
                        }
                        let key = serde_json::json!([inbox.settings, inbox.secrets]);
                        if running
                            .get(&inbox.inbox.id)
                            .is_some_and(|(k, t)| *k == key && !t.is_finished())
                        {
                            continue;
                        }
                        if let Some((_, old)) = running.remove(&inbox.inbox.id) {
                            old.abort();
                        }
                        let id = inbox.inbox.id;
                        running.insert(id, (key, tokio::spawn(run(service.clone(), inbox))));
                    }
                }
                Err(e) => tracing::error!(error = %e, "could not list email inboxes"),
            }
            // Often enough to renew each fetch lease well before it runs out (it lasts the node TTL).
            tokio::time::sleep(Duration::from_secs(3).min(service.config().node_ttl / 4)).await;
        }
    })
}
