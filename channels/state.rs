//! What every HTTP handler can reach: [`AppState`], built by [`crate::startup`] and shared
//! by the channel edges, the operations endpoints and the extractors.

use std::sync::Arc;

use actix::Addr;

use crate::actors::dispatcher::Dispatcher;
use crate::actors::session_router::SessionRouter;
use crate::auth::TokenCache;
use crate::bot::service::KbReloader;
use crate::bot::SharedBot;
use crate::bus::Bus;
use crate::channels::wechat::api::WechatApi;
use crate::domain::CustomerId;
use crate::settings::Settings;
use crate::store::Store;
use crate::telemetry::Metrics;

/// Per-customer message rate limiter.
pub type CustomerLimiter = governor::DefaultKeyedRateLimiter<CustomerId>;

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
