//! The webhook worker: posts due deliveries to their subscribers, signed, side by side, and settles each.

use crate::api::{Posted, client, post_signed};
use kefu_service::{Service, WebhookResult};
use std::time::Duration;
use tokio::task::{JoinHandle, JoinSet};

pub fn start(service: Service) -> JoinHandle<()> {
    let http = client();
    let allow_private = service.config().allow_private_targets;
    tokio::spawn(async move {
        loop {
            match service.due_webhook_deliveries().await {
                Ok(jobs) => {
                    let mut running = JoinSet::new();
                    for job in jobs {
                        let (service, http) = (service.clone(), http.clone());
                        running.spawn(async move {
                            let id = job.delivery.id.to_string();
                            let headers = [
                                ("x-kefu-event", job.delivery.event.as_str()),
                                ("x-kefu-delivery", id.as_str()),
                            ];
                            let body = job.delivery.payload.clone().into_bytes();
                            let result =
                                match post_signed(&http, &job.url, &job.secret, body, allow_private, &headers).await {
                                    Posted::Delivered(status) => WebhookResult::Delivered { status },
                                    Posted::Retry(status, error) => WebhookResult::Retry { status, error },
                                    Posted::Refused(status, error) => WebhookResult::Failed { status, error },
                                };
                            if let Err(e) = service.settle_webhook(&job, result).await {
                                tracing::error!(error = %e, "could not record a webhook delivery");
                            }
                        });
                    }
                    while running.join_next().await.is_some() {}
                }
                Err(e) => tracing::error!(error = %e, "could not read the webhook queue"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}
