//! Wiring: builds the store, bus, actors and HTTP server from [`Settings`] and runs them.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix::Supervisor;
use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use governor::{Quota, RateLimiter};

use crate::actors::customer_session::SessionDeps;
use crate::actors::delivery::{Deliverer, DeliveryPlan, DeliveryService, Plans};
use crate::actors::dispatcher::Dispatcher;
use crate::actors::session_router::SessionRouter;
use crate::bot::actions::FlowActions;
use crate::bot::service::KbReloader;
use crate::bot::SharedBot;
use crate::bus::{memory::MemoryBus, rabbitmq::RabbitBus, Bus};
use crate::channels::state::AppState;
use crate::error;
use crate::settings::{Settings, StoreKind};
use crate::store::{postgres::PostgresStore, sqlite::SqliteStore, Store};
use crate::telemetry::Metrics;

/// How often the agent-assist index of resolved conversations is rebuilt.
const ASSIST_REFRESH: Duration = Duration::from_secs(60);
/// How often the assist refresher looks whether a rebuild is due.
const ASSIST_TICK: Duration = Duration::from_secs(2);

/// How long after the passive-reply window a bot answer to WeChat waits before the API sends
/// it: the webhook that got the answer in time takes the row within this margin.
const PASSIVE_REPLY_GRACE: Duration = Duration::from_millis(1500);

/// A built node, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
}

/// Opens (and migrates) the store the settings name.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    match settings.database.kind()? {
        StoreKind::Sqlite(path) => {
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await??;
            Ok(Arc::new(store))
        }
        StoreKind::Postgres => {
            use secrecy::ExposeSecret;
            let store = PostgresStore::connect(
                settings.database.url.expose_secret(),
                settings.database.pool_size,
            )
            .await?;
            Ok(Arc::new(store))
        }
    }
}

async fn open_bus(settings: &Settings) -> anyhow::Result<Arc<dyn Bus>> {
    use secrecy::ExposeSecret;
    let url = settings.bus.amqp_url.expose_secret().trim();
    if url.is_empty() {
        Ok(Arc::new(MemoryBus::new()))
    } else {
        Ok(Arc::new(
            RabbitBus::connect(url, &settings.bus.namespace, settings.bus.queue_expires_ms).await?,
        ))
    }
}

impl Application {
    /// Opens the store and bus, seeds demo data if configured, starts the actors and binds
    /// the HTTP listener. Must run inside an actix system.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = open_store(&settings).await.context("opening the store")?;
        let bus = open_bus(&settings).await.context("connecting the bus")?;
        if settings.demo.seed {
            crate::demo::seed(store.as_ref(), &settings.demo)
                .await
                .context("seeding demo data")?;
        }
        let metrics = Arc::new(Metrics::new()?);
        // Bound early: the demo's order system is served by this node, at this port.
        let listener = TcpListener::bind((settings.http.host.as_str(), settings.http.port))
            .with_context(|| format!("binding {}:{}", settings.http.host, settings.http.port))?;
        let port = listener.local_addr()?.port();

        // The bot: flows from config, the knowledge base from the store (the demo's seeded
        // at first start), retrained and swapped when it changes.
        let flows = crate::bot::service::load_flows(&settings.bot)?;
        if settings.demo.seed {
            let demo = crate::bot::kb::io::from_json(crate::bot::DEMO_KB)
                .map_err(|p| anyhow::anyhow!("the demo knowledge base is invalid: {p:?}"))?;
            crate::bot::service::seed(store.as_ref(), &demo, "demo")
                .await
                .context("seeding the demo knowledge base")?;
        }
        let (kb_bot, kb_revision) = crate::bot::service::train(store.as_ref(), flows.clone())
            .await
            .context("loading the knowledge base")?;
        let shared_bot = Arc::new(SharedBot::new(kb_bot, kb_revision));
        let kb = KbReloader::start(
            Arc::clone(&shared_bot),
            Arc::clone(&store),
            flows,
            Duration::from_millis(settings.bot.kb_poll_ms),
        );
        let bot: Arc<dyn crate::bot::Bot> = Arc::clone(&shared_bot) as Arc<dyn crate::bot::Bot>;
        let mut services = settings.bot.services.clone();
        if settings.demo.seed && !services.contains_key("orders") {
            services.insert(
                "orders".to_owned(),
                format!("http://127.0.0.1:{port}{}", crate::demo::orders::BASE_PATH),
            );
        }
        let actions = Arc::new(
            FlowActions::new(
                services,
                settings.action_timeout(),
                Arc::clone(&store),
                Arc::clone(&metrics),
            )
            .context("configuring flow actions")?,
        );

        let dispatcher = {
            let (store, bus, metrics, routing) = (
                Arc::clone(&store),
                Arc::clone(&bus),
                Arc::clone(&metrics),
                settings.routing.clone(),
            );
            Supervisor::start(move |_| Dispatcher::new(store, bus, metrics, routing))
        };
        // Outbound providers: each adds what it delivers (plan) and how (deliverer).
        let mut plans: Vec<Arc<dyn DeliveryPlan>> = Vec::new();
        let mut deliverers: Vec<Arc<dyn Deliverer>> = Vec::new();
        if !settings.webhook.url.trim().is_empty() {
            plans.push(Arc::new(crate::channels::webhook::WebhookEvents));
            deliverers.push(Arc::new(
                crate::channels::webhook::WebhookDeliverer::new(&settings.webhook)
                    .context("configuring the event webhook")?,
            ));
        }
        if !settings.app.push_url.trim().is_empty() {
            plans.push(Arc::new(crate::channels::app::AppPushes));
            deliverers.push(Arc::new(
                crate::channels::app::AppPushDeliverer::new(&settings.app, Arc::clone(&store))
                    .context("configuring app push notifications")?,
            ));
        }
        let mut wechat_api = None;
        let wechat = &settings.wechat;
        if !wechat.api_base_url.trim().is_empty()
            && !secrecy::ExposeSecret::expose_secret(&wechat.app_secret).is_empty()
        {
            plans.push(Arc::new(crate::channels::wechat::api::WechatReplies {
                passive_window: Duration::from_millis(wechat.passive_reply_ms)
                    + PASSIVE_REPLY_GRACE,
            }));
            let api = Arc::new(
                crate::channels::wechat::api::WechatApi::new(wechat)
                    .context("configuring the WeChat API")?,
            );
            deliverers.push(Arc::new(
                crate::channels::wechat::api::WechatDeliverer::new(
                    wechat,
                    Arc::clone(&api),
                    Arc::clone(&store),
                    Arc::clone(&bus),
                )?,
            ));
            wechat_api = Some(api);
        }
        if !settings.sms.api_base_url.trim().is_empty()
            && !secrecy::ExposeSecret::expose_secret(&settings.sms.auth_token).is_empty()
        {
            plans.push(Arc::new(crate::channels::sms::outbound::SmsReplies));
            deliverers.push(Arc::new(
                crate::channels::sms::outbound::SmsDeliverer::new(
                    &settings.sms,
                    Arc::clone(&store),
                )
                .context("configuring outbound SMS")?,
            ));
        }
        DeliveryService::new(
            Arc::clone(&store),
            Arc::clone(&bus),
            Arc::clone(&metrics),
            settings.delivery.clone(),
        )
        .start(deliverers);
        let assist = Arc::new(crate::bot::assist::Assistant::default());
        actix_web::rt::spawn({
            let (assist, store) = (Arc::clone(&assist), Arc::clone(&store));
            async move {
                // Rebuilt soon after a conversation is resolved here, and every minute for
                // those resolved on other nodes.
                let mut every = tokio::time::interval(ASSIST_TICK);
                let mut last = tokio::time::Instant::now();
                loop {
                    every.tick().await;
                    if !assist.take_stale()
                        && last.elapsed() < ASSIST_REFRESH
                        && !assist.index().is_empty()
                    {
                        continue;
                    }
                    last = tokio::time::Instant::now();
                    if let Err(error) = assist.refresh(store.as_ref()).await {
                        tracing::warn!(%error, "Could not refresh the agent-assist index.");
                    }
                }
            }
        });
        let sessions = SessionRouter::new(
            SessionDeps {
                store: Arc::clone(&store),
                bus: Arc::clone(&bus),
                bot,
                assist,
                actions,
                metrics: Arc::clone(&metrics),
                deliveries: Arc::new(Plans(plans)),
                reply_channel: settings.identity.reply_to(),
                idle_timeout: settings.session.idle_timeout(),
                reply_timeout: settings.session.reply_timeout(),
            },
            &settings.node.id,
        );
        sessions
            .start()
            .await
            .context("starting the session shards")?;

        let burst = std::num::NonZeroU32::new(settings.limits.customer_burst)
            .context("limits.customer_burst must be positive")?;
        let quota = Quota::with_period(Duration::from_millis(settings.limits.customer_refill_ms))
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

        // Webhook receipts only answer a provider's retries: purged hourly past their retention.
        actix_web::rt::spawn({
            let store = Arc::clone(&store);
            let keep =
                chrono::Duration::hours(i64::from(settings.database.receipt_retention_hours));
            async move {
                let mut every = tokio::time::interval(Duration::from_secs(3_600));
                loop {
                    every.tick().await;
                    match store
                        .purge_webhook_receipts(chrono::Utc::now() - keep)
                        .await
                    {
                        Ok(0) => {}
                        Ok(purged) => tracing::info!(purged, "Old webhook receipts purged."),
                        Err(error) => tracing::warn!(%error, "Could not purge webhook receipts."),
                    }
                }
            }
        });

        let demo_orders = settings.demo.seed;
        let body_limit = settings.http.body_limit_bytes;
        let shutdown = settings.http.shutdown_timeout_secs;
        let state = web::Data::new(AppState {
            settings,
            store,
            bus,
            metrics,
            sessions,
            dispatcher,
            limiter,
            tokens: crate::auth::TokenCache::default(),
            wechat_api,
            bot: shared_bot,
            kb,
        });

        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(body_limit)
                        .error_handler(error::json_error),
                )
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .wrap(
                    middleware::Logger::new("%a \"%r\" %s %b %Dms")
                        .exclude("/healthz")
                        .exclude("/metrics"),
                )
                .wrap(middleware::Compress::default())
                .configure(crate::channels::ops::configure)
                .configure(crate::channels::web::configure)
                .configure(crate::channels::staff::configure)
                .configure(crate::channels::supervisor::configure)
                .configure(crate::channels::wechat::configure)
                .configure(crate::channels::ivr::configure)
                .configure(crate::channels::sms::configure)
                .configure(crate::channels::kb::configure)
                .configure(|cfg| {
                    if demo_orders {
                        crate::demo::orders::configure(cfg);
                    }
                })
                .configure(crate::ui::configure)
                .default_service(web::to(crate::channels::ops::no_route))
        })
        .listen(listener)?
        .shutdown_timeout(shutdown)
        .run();
        tracing::info!(port, "Switchboard is listening.");
        Ok(Self { port, server })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM / Ctrl-C (graceful: in-flight requests finish) or a stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
