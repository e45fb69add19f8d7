//! The delivery worker: takes the replies due for other channels from the outbox, sends each through its channel
//! (a batch at a time, side by side, so a slow mail server does not hold up WeChat), and settles them.

use crate::api::ApiDelivery;
use crate::email;
use crate::sms::aliyun::AliyunApi;
use crate::sms::twilio::TwilioApi;
use crate::wechat::api::WechatApi;
use kefu_service::{DeliveryJob, Service};
use std::time::Duration;
use tokio::task::{JoinHandle, JoinSet};

/// Delivers due replies, looking every second. `allow_private`: integrations on this machine or a private
/// network may be posted to.
pub fn start(service: Service, allow_private: bool) -> JoinHandle<()> {
    let wechat = WechatApi::new();
    let twilio = TwilioApi::new();
    let aliyun = AliyunApi::new();
    let api = ApiDelivery::new(allow_private);
    tokio::spawn(async move {
        loop {
            match service.due_deliveries().await {
                Ok(jobs) => {
                    let mut running = JoinSet::new();
                    for job in jobs {
                        let (service, wechat, twilio, aliyun, api) = (
                            service.clone(),
                            wechat.clone(),
                            twilio.clone(),
                            aliyun.clone(),
                            api.clone(),
                        );
                        running.spawn(async move {
                            let outcome = match &job {
                                DeliveryJob::Email(j) => email::send::send(j).await,
                                DeliveryJob::Wechat(j) => wechat.send(&service, j).await,
                                DeliveryJob::Twilio(j) => twilio.send(&service, j).await,
                                DeliveryJob::Aliyun(j) => aliyun.send(&service, j).await,
                                DeliveryJob::Api(j) => api.send(j).await,
                            };
                            if let Err(e) = service.settle(job.item(), outcome).await {
                                tracing::error!(error = %e, "could not record a delivery");
                            }
                        });
                    }
                    while running.join_next().await.is_some() {}
                }
                Err(e) => tracing::error!(error = %e, "could not read the outbox"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}
