//! The delivery worker: takes the replies due for other channels from the outbox, sends each through its channel
//! (a batch at a time, side by side, so a slow mail server does not hold up WeChat), and settles them.

use crate::api::ApiDelivery;
use crate::email;
use crate::sms::aliyun::AliyunApi;
use crate::sms::twilio::TwilioApi;
use crate::wechat::api::WechatApi;
use crate::weibo::WeiboApi;
use kefu_service::{DeliveryJob, Outcome, Service};
use std::time::Duration;
use tokio::task::{JoinHandle, JoinSet};

/// Every channel's sender, with the connections and tokens it keeps between deliveries.
#[derive(Clone)]
struct Senders {
    wechat: WechatApi,
    twilio: TwilioApi,
    aliyun: AliyunApi,
    weibo: WeiboApi,
    api: ApiDelivery,
}

impl Senders {
    async fn send(&self, service: &Service, job: &DeliveryJob) -> Outcome {
        match job {
            DeliveryJob::Email(j) => email::send::send(service, j).await,
            DeliveryJob::Wechat(j) => self.wechat.send(service, j).await,
            DeliveryJob::Twilio(j) => self.twilio.send(service, j).await,
            DeliveryJob::Aliyun(j) => self.aliyun.send(service, j).await,
            DeliveryJob::Weibo(j) => self.weibo.send(service, j).await,
            DeliveryJob::Wecom(j) => crate::wecom::send(service, j).await,
            DeliveryJob::Api(j) => self.api.send(service, j).await,
        }
    }
}

/// Delivers due replies, looking every second. `allow_private`: integrations on this machine or a private
/// network may be posted to.
pub fn start(service: Service, allow_private: bool) -> JoinHandle<()> {
    let senders = Senders {
        wechat: WechatApi::shared(),
        twilio: TwilioApi::new(),
        aliyun: AliyunApi::new(),
        weibo: WeiboApi::new(),
        api: ApiDelivery::new(allow_private),
    };
    crate::wecom::end_session_on_close(&service);
    tokio::spawn(async move {
        loop {
            match service.due_deliveries().await {
                Ok(jobs) => {
                    let mut running = JoinSet::new();
                    for job in jobs {
                        let (service, senders) = (service.clone(), senders.clone());
                        running.spawn(async move {
                            let outcome = senders.send(&service, &job).await;
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
