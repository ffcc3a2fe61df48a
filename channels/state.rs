//! What every HTTP handler can reach: [`AppState`], built by [`crate::startup`] and shared
//! by the channel edges, the operations endpoints and the extractors.

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use anyhow::Context;
use governor::{Quota, RateLimiter};

use crate::actors::dispatcher::Dispatcher;
use crate::actors::session_router::SessionRouter;
use crate::bot::service::KbReloader;
use crate::bot::SharedBot;
use crate::bus::Bus;
use crate::channels::wechat::api::WechatApi;
use crate::domain::CustomerId;
use crate::services::access::AccessService;
use crate::services::customers::CustomerService;
use crate::services::kb::KbService;
use crate::services::routing::RoutingService;
use crate::services::staff::{MediaDefaults, StaffService};
use crate::settings::{LimitSettings, Settings};
use crate::store::{ConversationStore, CustomerStore, OutboxStore, Store};
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

/// What every handler can reach: the services of each area, and narrow handles for the
/// provider edges. Handlers never get the whole store or bus: the services hold them, and
/// actors started by an edge (the sockets) get them through [`AppState::for_actors`].
pub struct AppState {
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
    pub sessions: SessionRouter,
    pub dispatcher: Addr<Dispatcher>,
    pub limiter: Arc<CustomerLimiter>,
    /// The WeChat Official Account API, when outbound WeChat is configured.
    pub wechat_api: Option<Arc<WechatApi>>,
    /// The bot in force (knowledge base and flows).
    pub bot: Arc<SharedBot>,
    /// Staff login and bearer tokens.
    pub access: AccessService,
    /// Visitors, profiles, histories, merges.
    pub customers: CustomerService,
    /// Knowledge-base reads and writes (writes retrain the bot).
    pub kb: KbService,
    /// Routing rules, overrides, dry-runs, explanations.
    pub routing: RoutingService,
    /// Staff accounts and teams.
    pub staff: StaffService,
    pub supervision: crate::services::supervision::SupervisionService,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
}

/// The parts of [`AppState`] that are wired rather than derived.
pub struct AppParts {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub metrics: Arc<Metrics>,
    pub sessions: SessionRouter,
    pub dispatcher: Addr<Dispatcher>,
    pub limiter: Arc<CustomerLimiter>,
    pub wechat_api: Option<Arc<WechatApi>>,
    pub bot: Arc<SharedBot>,
    /// Reloads the bot when the knowledge base changes.
    pub kb_reloader: Arc<KbReloader>,
}

impl AppState {
    /// The state of `parts`, with a service per area over its store and bus.
    pub fn new(parts: AppParts) -> Self {
        let AppParts {
            settings,
            store,
            bus,
            metrics,
            sessions,
            dispatcher,
            limiter,
            wechat_api,
            bot,
            kb_reloader,
        } = parts;
        let access = AccessService::new(
            Arc::clone(&store),
            Arc::clone(&bus),
            settings.app.jwt_secret.clone(),
            chrono::Duration::hours(i64::from(settings.auth.agent_token_ttl_hours)),
        );
        let staff = StaffService::new(
            Arc::clone(&store),
            Arc::clone(&bus),
            sessions.clone(),
            access.clone(),
            MediaDefaults {
                voice: settings.routing.voice_capacity,
                ticket: settings.routing.ticket_capacity,
            },
        );
        Self {
            access,
            staff,
            customers: CustomerService::new(Arc::clone(&store), sessions.clone()),
            kb: KbService::new(Arc::clone(&store), kb_reloader),
            supervision: crate::services::supervision::SupervisionService::new(Arc::clone(&store)),
            routing: RoutingService::new(Arc::clone(&store), Arc::clone(&bus)),
            settings,
            metrics,
            sessions,
            dispatcher,
            limiter,
            wechat_api,
            bot,
            store,
            bus,
        }
    }

    /// The identity graph and consents, for the provider edges (first contact on a
    /// channel, opt-in and opt-out).
    pub fn identities(&self) -> &dyn CustomerStore {
        self.store.as_ref()
    }

    /// Webhook receipts, delivery statuses and outbox rows, for the provider edges.
    pub fn receipts(&self) -> &dyn OutboxStore {
        self.store.as_ref()
    }

    /// Conversations and their messages, read by the provider edges (the IVR transfer).
    pub fn conversations(&self) -> &dyn ConversationStore {
        self.store.as_ref()
    }

    /// The store and bus for an actor an edge starts (a socket's actor holds state and
    /// talks to both itself).
    pub fn for_actors(&self) -> (Arc<dyn Store>, Arc<dyn Bus>) {
        (Arc::clone(&self.store), Arc::clone(&self.bus))
    }

    /// Whether the store and the bus answer (readiness): `(store, bus)`.
    pub async fn ping(&self) -> (bool, bool) {
        let (store, bus) = tokio::join!(self.store.ping(), self.bus.ping());
        (store.is_ok(), bus.is_ok())
    }

    /// How many messages the bus parked after repeated failures, where it can tell.
    pub async fn parked_count(&self) -> Option<u64> {
        self.bus.parked_count().await.ok()
    }
}
