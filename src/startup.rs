//! Wiring: builds the store, bus, actors and HTTP server from [`Settings`] and runs them.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix::Supervisor;
use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;

use crate::actors::customer_session::SessionDeps;
use crate::actors::delivery::{Deliverer, DeliveryPlan, DeliveryService, Plans};
use crate::actors::dispatcher::Dispatcher;
use crate::actors::session_router::SessionRouter;
use crate::bot::actions::FlowActions;
use crate::bot::service::KbReloader;
use crate::bot::SharedBot;
use crate::bus::{memory::MemoryBus, rabbitmq::RabbitBus, Bus};
use crate::channels::state::{AppParts, AppState};
use crate::error;
use crate::settings::{Settings, StoreKind};
use crate::store::{postgres::PostgresStore, sqlite::SqliteStore, Store};
use crate::telemetry::Metrics;

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

/// The bot a node runs and what it needs.
struct Bots {
    /// The bot in force, swapped when the knowledge base changes.
    shared_bot: Arc<SharedBot>,
    kb: Arc<KbReloader>,
    bot: Arc<dyn crate::bot::Bot>,
    actions: Arc<FlowActions>,
}

/// The bot: flows from config, the knowledge base from the store (the demo's seeded at first
/// start), retrained and swapped when it changes; the services its flow actions call (the
/// demo's order system is served by this node, at `port`).
async fn bots(
    settings: &Settings,
    store: &Arc<dyn Store>,
    metrics: &Arc<Metrics>,
    port: u16,
) -> anyhow::Result<Bots> {
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
        Arc::clone(store),
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
            Arc::clone(store),
            Arc::clone(metrics),
        )
        .context("configuring flow actions")?,
    );

    Ok(Bots {
        shared_bot,
        kb,
        bot,
        actions,
    })
}

/// The outbound providers configured: what each delivers (plans) and how (deliverers).
struct Outbound {
    plans: Vec<Arc<dyn DeliveryPlan>>,
    deliverers: Vec<Arc<dyn Deliverer>>,
    /// The WeChat Official Account API, when outbound WeChat is configured.
    wechat_api: Option<Arc<crate::channels::wechat::api::WechatApi>>,
}

/// Each configured provider adds what it delivers (plan) and how (deliverer).
fn outbound(
    settings: &Settings,
    store: &Arc<dyn Store>,
    bus: &Arc<dyn Bus>,
) -> anyhow::Result<Outbound> {
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
            crate::channels::app::AppPushDeliverer::new(&settings.app, Arc::clone(store))
                .context("configuring app push notifications")?,
        ));
    }
    let mut wechat_api = None;
    let wechat = &settings.wechat;
    if !wechat.api_base_url.trim().is_empty()
        && !secrecy::ExposeSecret::expose_secret(&wechat.app_secret).is_empty()
    {
        plans.push(Arc::new(crate::channels::wechat::api::WechatReplies {
            passive_window: Duration::from_millis(wechat.passive_reply_ms) + PASSIVE_REPLY_GRACE,
        }));
        let api = Arc::new(
            crate::channels::wechat::api::WechatApi::new(wechat)
                .context("configuring the WeChat API")?,
        );
        deliverers.push(Arc::new(
            crate::channels::wechat::api::WechatDeliverer::new(
                wechat,
                Arc::clone(&api),
                Arc::clone(store),
                Arc::clone(bus),
            )?,
        ));
        wechat_api = Some(api);
    }
    if !settings.sms.api_base_url.trim().is_empty()
        && !secrecy::ExposeSecret::expose_secret(&settings.sms.auth_token).is_empty()
    {
        plans.push(Arc::new(crate::channels::sms::outbound::SmsReplies));
        deliverers.push(Arc::new(
            crate::channels::sms::outbound::SmsDeliverer::new(&settings.sms, Arc::clone(store))
                .context("configuring outbound SMS")?,
        ));
    }
    Ok(Outbound {
        plans,
        deliverers,
        wechat_api,
    })
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

        let Bots {
            shared_bot,
            kb,
            bot,
            actions,
        } = bots(&settings, &store, &metrics, port).await?;
        let dispatcher = {
            let (store, bus, metrics, routing) = (
                Arc::clone(&store),
                Arc::clone(&bus),
                Arc::clone(&metrics),
                settings.routing.clone(),
            );
            Supervisor::start(move |_| Dispatcher::new(store, bus, metrics, routing))
        };
        let Outbound {
            plans,
            deliverers,
            wechat_api,
        } = outbound(&settings, &store, &bus)?;
        DeliveryService::new(
            Arc::clone(&store),
            Arc::clone(&bus),
            Arc::clone(&metrics),
            settings.delivery.clone(),
        )
        .start(deliverers);
        let assist = Arc::new(crate::bot::assist::Assistant::default());
        actix_web::rt::spawn(crate::bot::assist::keep_fresh(
            Arc::clone(&assist),
            Arc::clone(&store),
        ));
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

        let limiter = crate::channels::state::customer_limiter(&settings.limits)?;

        actix_web::rt::spawn(crate::channels::provider::purge_receipts(
            Arc::clone(&store),
            chrono::Duration::hours(i64::from(settings.database.receipt_retention_hours)),
        ));

        let demo_orders = settings.demo.seed;
        let body_limit = settings.http.body_limit_bytes;
        let shutdown = settings.http.shutdown_timeout_secs;
        let state = web::Data::new(AppState::new(AppParts {
            settings,
            store,
            bus,
            metrics,
            sessions,
            dispatcher,
            limiter,
            wechat_api,
            bot: shared_bot,
            kb_reloader: kb,
        }));
        // Every node drops ended sign-ins from its token cache (subscribed before serving).
        state
            .access
            .listen_for_revocations()
            .await
            .context("listening for ended sign-ins")?;

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
                .wrap(middleware::from_fn(crate::channels::permissions::enforce))
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
