//! What every HTTP handler can reach: [`AppState`], built by [`crate::startup`] and shared
//! by the channel edges, the operations endpoints and the extractors.

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use anyhow::Context;
use governor::{Quota, RateLimiter};

use crate::actors::dispatcher::Dispatcher;
use crate::actors::session_router::SessionRouter;
use crate::auth::TokenCache;
use crate::bot::service::KbReloader;
use crate::bot::SharedBot;
use crate::bus::Bus;
use crate::channels::wechat::api::WechatApi;
use crate::domain::CustomerId;
use crate::settings::{LimitSettings, Settings};
use crate::store::Store;
use crate::telemetry::Metrics;

/// Per-customer message rate limiter.
pub type CustomerLimiter = governor::DefaultKeyedRateLimiter<CustomerId>;

/// The per-customer flood limit of `limits`, and a loop that forgets idle customers every
/// minute (so the limiter's memory follows the active customers, not every customer seen).
pub fn customer_limiter(limits: &LimitSettings) -> anyhow::Result<Arc<CustomerLimiter>> {
    let burst = std::num::NonZeroU32::new(limits.customer_burst)
        .context("limits.customer_burst must be positive")?;
    let quota = Quota::with_period(Duration::from_millis(limits.customer_refill_ms))
        .context("limits.customer_refill_ms must be positive")?
        .allow_burst(burst);
    let limiter = Arc::new(RateLimiter::keyed(quota));
    actix_web::rt::spawn({
        let limiter = Arc::clone(&limiter);
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                limiter.retain_recent();
            }
        }
    });
    Ok(limiter)
}

/// What every handler can reach.
pub struct AppState {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub metrics: Arc<Metrics>,
    pub sessions: SessionRouter,
    pub dispatcher: Addr<Dispatcher>,
    pub limiter: Arc<CustomerLimiter>,
    /// Tokens verified recently (see [`crate::auth::TokenCache`]).
    pub tokens: TokenCache,
    /// The WeChat Official Account API, when outbound WeChat is configured.
    pub wechat_api: Option<Arc<WechatApi>>,
    /// The bot in force (knowledge base and flows).
    pub bot: Arc<SharedBot>,
    /// Reloads the bot when the knowledge base changes.
    pub kb: Arc<KbReloader>,
}
