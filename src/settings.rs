//! Typed configuration: `config/base.toml` → `config/<mode>.toml` → `SWITCHBOARD_*`
//! environment, validated once at start.
//!
//! Environment: nested keys use a double underscore (`SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS`).
//! The names in API.md are part of the public contract and map as follows:
//! `SWITCHBOARD_DATABASE_URL` → `database.url`, `SWITCHBOARD_AMQP_URL` → `bus.amqp_url`,
//! `SWITCHBOARD_HTTP_PORT` → `http.port`, `SWITCHBOARD_NODE_ID` → `node.id`.
//! `SWITCHBOARD_ENV` chooses an extra overlay file (`config/<env>.toml`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, Secret};
use serde::Deserialize;

/// The run mode, which chooses the mode overlay file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Demo,
    Production,
}

impl Mode {
    fn file_stem(self) -> &'static str {
        match self {
            Mode::Demo => "demo",
            Mode::Production => "production",
        }
    }
}

/// Every setting of a node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP listener.
    pub http: HttpSettings,
    /// Message store.
    pub database: DatabaseSettings,
    /// Message bus.
    pub bus: BusSettings,
    /// This node's identity in a cluster.
    pub node: NodeSettings,
    /// Customer session actors.
    pub session: SessionSettings,
    /// Dispatcher timings.
    pub routing: RoutingSettings,
    /// Flood protection.
    pub limits: LimitSettings,
    /// Token lifetimes.
    pub auth: AuthSettings,
    /// Logging.
    pub log: LogSettings,
    /// Demo data.
    pub demo: DemoSettings,
    /// Provider deliveries (store outbox, `outbound.{channel}` queues, retries).
    pub delivery: DeliverySettings,
    /// The integrators' event webhook.
    pub webhook: WebhookSettings,
    /// The WeChat Official Account channel.
    pub wechat: WeChatSettings,
    /// The Twilio-compatible SMS channel.
    pub sms: SmsSettings,
    /// The phone IVR channel.
    pub ivr: IvrSettings,
    /// The mobile app channel.
    pub app: AppSettings,
    /// Cross-channel "one ID" behaviour.
    pub identity: IdentitySettings,
    /// The bot: flows, the services their actions call, knowledge-base reloads.
    pub bot: BotSettings,
}

/// The bot's flows and the services their actions call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotSettings {
    /// Flow definitions (TOML, see config/demo/flows.toml); empty = the built-in demo flows.
    pub flows_file: String,
    /// Base URLs of the services flow actions call, by name (`orders = "https://…"`).
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, String>,
    /// Timeout of one flow action's HTTP call; the customer waits for it, so keep it short.
    /// Capped at half of `session.reply_timeout_ms` (see [`Settings::action_timeout`]).
    pub action_timeout_ms: u64,
    /// How often a node checks the store for a changed knowledge base.
    pub kb_poll_ms: u64,
}

impl Settings {
    /// A flow action's timeout: `bot.action_timeout_ms`, but at most half the time an edge
    /// waits for the whole turn (`session.reply_timeout_ms`).
    pub fn action_timeout(&self) -> Duration {
        Duration::from_millis(
            self.bot
                .action_timeout_ms
                .min(self.session.reply_timeout_ms / 2),
        )
    }
}

/// Twilio-compatible SMS: inbound webhooks, status callbacks and the outbound REST API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// The auth token that signs inbound webhooks (`X-Twilio-Signature`) and, with the
    /// account SID, authenticates outbound calls. Empty turns the channel off (503).
    pub auth_token: Secret<String>,
    /// The URL base the provider calls (`https://cc.example.com`), when behind a proxy the
    /// signature covers this URL, not the one the server sees. Empty: the request's own URL.
    pub public_url: String,
    /// The account SID of the REST API.
    pub account_sid: String,
    /// The sending number (E.164) or messaging service.
    pub from: String,
    /// The provider's REST base URL (`https://api.twilio.com`); empty turns outbound SMS off.
    pub api_base_url: String,
    /// Per-request timeout of outbound calls.
    pub timeout_ms: u64,
}

/// The phone IVR: events signed as Standard Webhooks, answered with instructions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IvrSettings {
    /// `whsec_…` signing secret; empty turns the channel off (503).
    pub secret: Secret<String>,
    /// Seconds a signed event's timestamp may be off.
    pub timestamp_tolerance_secs: i64,
    /// ASR segments below this confidence are confirmed with the caller rather than acted on.
    pub min_confidence: f64,
}

/// The mobile app: user tokens from the app backend, push notifications when offline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// HS256 secret shared with the app backend; empty turns app tokens off.
    pub jwt_secret: Secret<String>,
    /// Push-notification webhook (the app backend's); empty: no pushes.
    pub push_url: String,
    /// `whsec_…` secret signing the pushes (Standard Webhooks).
    pub push_secret: Secret<String>,
    /// Per-request timeout of pushes.
    pub timeout_ms: u64,
}

/// Cross-channel behaviour of "one ID".
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySettings {
    /// Replies go to the channel the customer used last (`last`), or always to this channel
    /// when it can reach them (`web`, `app`, `wechat`, `sms`).
    pub reply_channel: String,
}

impl IdentitySettings {
    /// The fixed reply channel, or None for "the channel used last".
    pub fn reply_to(&self) -> Option<crate::domain::Channel> {
        crate::domain::Channel::parse(&self.reply_channel).ok()
    }
}

/// The WeChat Official Account: the values of its developer settings (服务器配置).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeChatSettings {
    /// The Token configured in WeChat; empty turns the channel off (its endpoints answer 503).
    pub token: Secret<String>,
    /// The EncodingAESKey (43 characters) for safe mode.
    pub encoding_aes_key: Secret<String>,
    /// The account's AppID.
    pub app_id: String,
    /// The AppSecret, for the access token of the customer-service message API.
    pub app_secret: Secret<String>,
    /// Seconds a signed request's timestamp may be off (replays older than this are refused).
    pub timestamp_tolerance_secs: i64,
    /// The Official Account API base (`https://api.weixin.qq.com`); empty: no outbound.
    pub api_base_url: String,
    /// How long the webhook waits for the bot's answer to reply passively (WeChat gives up
    /// after 5 s); later answers go through the customer-service message API.
    pub passive_reply_ms: u64,
    /// Template message used once the 48-hour window closed (empty: SMS, if the customer has
    /// a phone, else the message is parked).
    pub template_id: String,
    /// Per-request timeout of API calls.
    pub timeout_ms: u64,
}

/// Provider deliveries: every message to a provider is an outbox row first, then a message on
/// `outbound.{channel}`; failed attempts come back after a growing delay and are parked after
/// `max_attempts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    /// Attempts before a delivery is parked (kept in the outbox for operators).
    pub max_attempts: u32,
    /// Delay before the first retry; it doubles per attempt up to `retry_max_ms`.
    pub retry_base_ms: u64,
    /// Longest delay between attempts.
    pub retry_max_ms: u64,
    /// Deliveries per second per provider and node (governor), to respect provider quotas.
    pub rate_per_second: u32,
    /// Per-provider overrides of `rate_per_second` (`sms`, `wechat`, `app_push`, `webhook`).
    #[serde(default)]
    pub channel_rates: std::collections::BTreeMap<String, u32>,
    /// Deliveries in flight per provider and node.
    pub concurrency: usize,
    /// How long a worker may hold a delivery before another node may take it over.
    pub lease_ms: u64,
    /// A delivery this long past due is published again from the outbox (its queue message
    /// was lost: a publish never confirmed, a broker failure). Must exceed `retry_max_ms`.
    pub replay_after_ms: u64,
    /// How often each node's relay looks for such deliveries.
    pub relay_interval_ms: u64,
}

impl DeliverySettings {
    /// Deliveries per second to the provider of `channel` (per node).
    pub fn rate_for(&self, channel: &str) -> u32 {
        self.channel_rates
            .get(channel)
            .copied()
            .unwrap_or(self.rate_per_second)
    }

    /// The lease as a `Duration`.
    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }
}

/// The integrators' event webhook: every stored message (customer, bot, agent, system) is
/// POSTed as a `message.created` event signed as Standard Webhooks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Receiving URL (`http://` or `https://`); empty turns the webhook off.
    pub url: String,
    /// Signing secret, `whsec_` followed by base64 (Standard Webhooks).
    pub secret: Secret<String>,
    /// Per-request timeout.
    pub timeout_ms: u64,
}

/// HTTP listener settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind; 0 picks a free port (tests).
    pub port: u16,
    /// Largest request body / WebSocket frame in bytes.
    pub body_limit_bytes: usize,
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_timeout_secs: u64,
}

/// Store selection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` selects PostgreSQL; empty or `sqlite://PATH` selects SQLite.
    pub url: Secret<String>,
    /// SQLite file used when `url` is empty.
    pub sqlite_path: PathBuf,
    /// PostgreSQL connections per node.
    pub pool_size: usize,
    /// Provider webhook receipts (IVR event ids, WeChat nonces) are kept this long, then
    /// purged: longer than any provider retries an event.
    #[serde(default = "default_receipt_retention_hours")]
    pub receipt_retention_hours: u32,
}

fn default_receipt_retention_hours() -> u32 {
    72
}

/// Which store implementation a node uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// Embedded SQLite file.
    Sqlite(PathBuf),
    /// PostgreSQL (the production backbone).
    Postgres,
}

impl DatabaseSettings {
    /// Resolves the URL into a store kind.
    pub fn kind(&self) -> anyhow::Result<StoreKind> {
        let url = self.url.expose_secret().trim();
        if url.is_empty() {
            Ok(StoreKind::Sqlite(self.sqlite_path.clone()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                bail!("database.url 'sqlite://' needs a file path, e.g. sqlite://data/demo.db");
            }
            Ok(StoreKind::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(StoreKind::Postgres)
        } else {
            bail!("database.url must start with postgres://, postgresql:// or sqlite://")
        }
    }
}

/// Bus selection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusSettings {
    /// `amqp://…` selects RabbitMQ; empty selects the in-process bus.
    pub amqp_url: Secret<String>,
    /// Prefix of every RabbitMQ queue and exchange (`sb` → `sb.dispatch`, `sb.topics`).
    pub namespace: String,
    /// Delete work queues unused this long (RabbitMQ `x-expires`); 0 = never (production).
    pub queue_expires_ms: u64,
}

/// Node identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSettings {
    /// Unique per node in a cluster; appears in logs and metrics.
    pub id: String,
}

/// Customer session actor settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// Idle time before a session actor is passivated.
    pub idle_timeout_ms: u64,
    /// How long an edge waits for the node owning the customer's shard to store a message.
    pub reply_timeout_ms: u64,
}

impl SessionSettings {
    /// Idle time as a `Duration`.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    /// Reply timeout as a `Duration`.
    pub fn reply_timeout(&self) -> Duration {
        Duration::from_millis(self.reply_timeout_ms)
    }
}

/// Dispatcher timings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    /// Time an agent has to accept an offer.
    pub offer_timeout_ms: u64,
    /// How long a declining agent is skipped for that task.
    pub decline_cool_down_ms: u64,
    /// Re-plan interval.
    pub tick_ms: u64,
    /// A task waiting this long no longer requires skills (overflow to any agent who speaks
    /// the customer's language).
    pub overflow_after_ms: u64,
    /// Wrap-up time after a conversation closes, before the agent's next offer.
    pub wrap_up_ms: u64,
    /// How long a returning customer's task is reserved for their previous agent (0: off).
    pub sticky_agent_ms: u64,
    /// Calls an agent can hold at once (a call excludes chats).
    pub voice_capacity: u32,
    /// Tickets an agent can hold at once.
    pub ticket_capacity: u32,
    /// Service level threshold: answered within this many seconds.
    pub service_level_secs: u64,
    /// Window of the live queue statistics.
    pub stats_window_secs: u64,
    /// A transfer nobody accepted within this long fails back to the agent who holds the
    /// conversation (a transfer to a named agent fails at once when that agent declines).
    #[serde(default = "default_transfer_timeout_ms")]
    pub transfer_timeout_ms: u64,
    /// Why agents may be away (`{"type":"status","status":"away","reason":…}`).
    #[serde(default = "default_away_reasons")]
    pub away_reasons: Vec<String>,
}

fn default_transfer_timeout_ms() -> u64 {
    120_000
}

fn default_away_reasons() -> Vec<String> {
    ["break", "lunch", "training", "meeting"]
        .map(str::to_owned)
        .to_vec()
}

/// Flood protection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Milliseconds for a customer to regain one message of allowance (200 = 5 per second).
    pub customer_refill_ms: u64,
    /// Burst size per customer.
    pub customer_burst: u32,
}

/// Token lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Lifetime of an anonymous web visitor token.
    pub visitor_token_ttl_hours: u32,
    /// Lifetime of an agent or supervisor login.
    pub agent_token_ttl_hours: u32,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: LogFormat,
    /// `tracing` env-filter directive (`RUST_LOG` wins when set).
    pub filter: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Demo data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Seed demo agents, FAQ and rules at start (idempotent).
    pub seed: bool,
    /// When seeding, also create this many load-test agents `load-agent-1` … `load-agent-N`
    /// (every demo skill at level 5, zh and en, capacity 8, password `demo`) for
    /// `switchboard-loadgen --agents`. 0 creates none.
    #[serde(default)]
    pub load_agents: u32,
    /// When seeding, also store and activate the demo routing rule set
    /// (`config/demo/routing_rules.json`) if no rule set was ever stored.
    #[serde(default)]
    pub routing_rules: bool,
}

/// Longest token lifetime accepted (one year).
pub const MAX_TOKEN_TTL_HOURS: u32 = 24 * 366;

/// Environment variables of API.md that do not follow the `__` nesting rule.
const CONTRACT_ENV: [(&str, &str); 4] = [
    ("SWITCHBOARD_DATABASE_URL", "database.url"),
    ("SWITCHBOARD_AMQP_URL", "bus.amqp_url"),
    ("SWITCHBOARD_HTTP_PORT", "http.port"),
    ("SWITCHBOARD_NODE_ID", "node.id"),
];

/// Variables with the prefix that are not settings keys.
const NON_SETTING_ENV: [&str; 2] = ["SWITCHBOARD_ENV", "SWITCHBOARD_CONFIG_DIR"];
// Other SWITCHBOARD_* names without a `__` are ignored; misspelt nested keys are refused by
// `deny_unknown_fields`.

impl Settings {
    /// Loads settings for `mode` from `config_dir` and the process environment.
    pub fn load(config_dir: &Path, mode: Mode) -> anyhow::Result<Settings> {
        Self::load_from(config_dir, mode, std::env::vars())
    }

    /// Loads settings with an explicit environment (tests pass their own).
    pub fn load_from(
        config_dir: &Path,
        mode: Mode,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Settings> {
        let env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("SWITCHBOARD_"))
            .collect();
        let mut builder = config::Config::builder()
            .add_source(config::File::from(config_dir.join("base.toml")).required(true))
            .add_source(
                config::File::from(config_dir.join(format!("{}.toml", mode.file_stem())))
                    .required(true),
            );
        if let Some((_, overlay)) = env.iter().find(|(k, _)| k == "SWITCHBOARD_ENV") {
            let overlay_path = config_dir.join(format!("{overlay}.toml"));
            if !overlay_path.exists() {
                bail!(
                    "SWITCHBOARD_ENV={overlay} but {} does not exist",
                    overlay_path.display()
                );
            }
            builder = builder.add_source(config::File::from(overlay_path).required(true));
        }
        for (key, value) in &env {
            if NON_SETTING_ENV.contains(&key.as_str()) {
                continue;
            }
            let path = match CONTRACT_ENV.iter().find(|(name, _)| name == key) {
                Some((_, path)) => (*path).to_owned(),
                None => match key.strip_prefix("SWITCHBOARD_") {
                    Some(rest) if rest.contains("__") => {
                        rest.to_ascii_lowercase().replace("__", ".")
                    }
                    // Not a settings key (e.g. a test harness's own SWITCHBOARD_BIN).
                    _ => continue,
                },
            };
            builder = builder
                .set_override(path.as_str(), value.as_str())
                .with_context(|| format!("applying {key}"))?;
        }
        let settings: Settings = builder
            .build()
            .with_context(|| format!("reading configuration from {}", config_dir.display()))?
            .try_deserialize()
            .context("configuration does not match the expected settings")?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks cross-field rules; every problem is reported at once.
    /// The provider channels: URLs, secrets, and timeouts shorter than the delivery lease.
    fn validate_channels(&self, problems: &mut Vec<String>) {
        let lease = self.delivery.lease_ms;
        let url_ok = |url: &str| url.starts_with("http://") || url.starts_with("https://");
        let mut outbound = Vec::new();
        let w = &self.wechat;
        if !w.token.expose_secret().is_empty() && !w.api_base_url.trim().is_empty() {
            if w.app_secret.expose_secret().is_empty() {
                problems.push("wechat.app_secret is required for outbound messages (or empty wechat.api_base_url)".to_owned());
            }
            outbound.push(("wechat", w.api_base_url.trim(), w.timeout_ms));
        }
        if !w.encoding_aes_key.expose_secret().is_empty()
            && w.encoding_aes_key.expose_secret().len() != 43
        {
            problems
                .push("wechat.encoding_aes_key must be the 43 characters WeChat shows".to_owned());
        }
        if w.passive_reply_ms >= 5_000 {
            problems.push(
                "wechat.passive_reply_ms must be under 5000 (WeChat stops waiting at 5 s)"
                    .to_owned(),
            );
        }
        let sms = &self.sms;
        if !sms.auth_token.expose_secret().is_empty() {
            let public = sms.public_url.trim();
            if !public.is_empty() && !url_ok(public) {
                problems.push("sms.public_url must start with http:// or https://".to_owned());
            }
            if !sms.api_base_url.trim().is_empty() {
                outbound.push(("sms", sms.api_base_url.trim(), sms.timeout_ms));
            }
        }
        if !self.ivr.secret.expose_secret().is_empty()
            && crate::signing::webhooks::secret_key(self.ivr.secret.expose_secret()).is_err()
        {
            problems.push(
                "ivr.secret must be whsec_ followed by base64 (Standard Webhooks)".to_owned(),
            );
        }
        if !(0.0..=1.0).contains(&self.ivr.min_confidence) {
            problems.push("ivr.min_confidence must be between 0 and 1".to_owned());
        }
        let app = &self.app;
        if !app.jwt_secret.expose_secret().is_empty() && app.jwt_secret.expose_secret().len() < 32 {
            problems.push("app.jwt_secret must be at least 32 bytes (HS256)".to_owned());
        }
        if !app.push_url.trim().is_empty() {
            if crate::signing::webhooks::secret_key(app.push_secret.expose_secret()).is_err() {
                problems.push(
                    "app.push_secret must be whsec_ followed by base64 (Standard Webhooks)"
                        .to_owned(),
                );
            }
            outbound.push(("app", app.push_url.trim(), app.timeout_ms));
        }
        for (name, url, timeout) in outbound {
            if !url_ok(url) {
                problems.push(format!(
                    "{name}: the provider URL must start with http:// or https://"
                ));
            }
            if timeout >= lease {
                problems.push(format!("{name}.timeout_ms must be shorter than delivery.lease_ms (or a slow attempt could be sent again by another node)"));
            }
        }
        let reply = self.identity.reply_channel.as_str();
        if reply != "last" && crate::domain::Channel::parse(reply).is_err() {
            problems.push(
                "identity.reply_channel must be \"last\" or a channel (web, app, wechat, sms)"
                    .to_owned(),
            );
        }
    }

    /// The settings that hold one of the demo's published secrets (`config/demo.toml`, written
    /// in the documentation for anyone to read): a production node refuses to start with any.
    pub fn demo_secrets_in_use(&self) -> Vec<&'static str> {
        const DEMO_SECRETS: [(&str, &str); 6] = [
            ("wechat.token", "switchboard-demo"),
            (
                "wechat.encoding_aes_key",
                "qOsW1HsYIhsdWg1HFCTE2gau6yd1OgFqBsO33ZZkNQq",
            ),
            ("wechat.app_secret", "NlyEw3NYbhvVtvk0Et4R5bIfcguKt8IJ"),
            ("sms.auth_token", "demo-sms-token"),
            ("ivr.secret", "whsec_Q+Y4HW9jMm/YeDWkA7QytT1wLnz/UBYZ"),
            ("app.jwt_secret", "switchboard-demo-app-jwt-secret-2026"),
        ];
        let value_of = |name: &str| match name {
            "wechat.token" => self.wechat.token.expose_secret(),
            "wechat.encoding_aes_key" => self.wechat.encoding_aes_key.expose_secret(),
            "wechat.app_secret" => self.wechat.app_secret.expose_secret(),
            "sms.auth_token" => self.sms.auth_token.expose_secret(),
            "ivr.secret" => self.ivr.secret.expose_secret(),
            _ => self.app.jwt_secret.expose_secret(),
        };
        DEMO_SECRETS
            .iter()
            .filter(|(name, demo)| value_of(name) == demo)
            .map(|(name, _)| *name)
            .collect()
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        if self.http.body_limit_bytes < 1024 {
            problems.push("http.body_limit_bytes must be at least 1024".to_owned());
        }
        for (name, hours) in [
            (
                "auth.visitor_token_ttl_hours",
                self.auth.visitor_token_ttl_hours,
            ),
            (
                "auth.agent_token_ttl_hours",
                self.auth.agent_token_ttl_hours,
            ),
        ] {
            if !(1..=MAX_TOKEN_TTL_HOURS).contains(&hours) {
                problems.push(format!(
                    "{name} must be between 1 and {MAX_TOKEN_TTL_HOURS}"
                ));
            }
        }
        if self.database.pool_size == 0 {
            problems.push("database.pool_size must be positive".to_owned());
        }
        if self.node.id.trim().is_empty() {
            problems.push("node.id must not be empty".to_owned());
        }
        if self.routing.offer_timeout_ms < 100 {
            problems.push("routing.offer_timeout_ms must be at least 100".to_owned());
        }
        if self.routing.tick_ms == 0 {
            problems.push("routing.tick_ms must be positive".to_owned());
        }
        if self.session.idle_timeout_ms < 100 {
            problems.push("session.idle_timeout_ms must be at least 100".to_owned());
        }
        if self.limits.customer_refill_ms == 0 || self.limits.customer_burst == 0 {
            problems.push(
                "limits.customer_refill_ms and limits.customer_burst must be positive".to_owned(),
            );
        }
        if let Err(e) = self.database.kind() {
            problems.push(e.to_string());
        }
        if !(100..=10_000).contains(&self.bot.action_timeout_ms) {
            problems.push("bot.action_timeout_ms must be between 100 and 10000".to_owned());
        }
        if self.bot.kb_poll_ms < 100 {
            problems.push("bot.kb_poll_ms must be at least 100".to_owned());
        }
        for (name, url) in &self.bot.services {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push(format!("bot.services.{name} must be an http(s) URL"));
            }
        }
        // The flows themselves are validated by the bot when it loads them
        // (`bot::service::load_flows`, at start-up and by `check-config`); a file that cannot be
        // read is a configuration problem.
        let flows_file = self.bot.flows_file.trim();
        if !flows_file.is_empty() && !std::path::Path::new(flows_file).is_file() {
            problems.push(format!("bot.flows_file {flows_file} cannot be read"));
        }
        let amqp = self.bus.amqp_url.expose_secret().trim();
        if !amqp.is_empty() && !amqp.starts_with("amqp://") && !amqp.starts_with("amqps://") {
            problems.push("bus.amqp_url must start with amqp:// or amqps://".to_owned());
        }
        let d = &self.delivery;
        if let Some((channel, _)) = d.channel_rates.iter().find(|(_, rate)| **rate == 0) {
            problems.push(format!("delivery.channel_rates.{channel} must be positive"));
        }
        if d.max_attempts == 0 || d.rate_per_second == 0 || d.concurrency == 0 {
            problems.push(
                "delivery.max_attempts, rate_per_second and concurrency must be positive"
                    .to_owned(),
            );
        }
        if d.retry_base_ms == 0 || d.retry_max_ms < d.retry_base_ms {
            problems.push(
                "delivery.retry_base_ms must be positive and at most retry_max_ms".to_owned(),
            );
        }
        if d.replay_after_ms <= d.retry_max_ms.saturating_add(d.lease_ms) {
            problems.push("delivery.replay_after_ms must exceed retry_max_ms + lease_ms (or deliveries waiting for their retry would be sent twice)".to_owned());
        }
        if d.lease_ms < 1000 || d.relay_interval_ms == 0 {
            problems.push(
                "delivery.lease_ms must be at least 1000 and relay_interval_ms positive".to_owned(),
            );
        }
        if self.webhook.timeout_ms >= d.lease_ms {
            problems.push("webhook.timeout_ms must be shorter than delivery.lease_ms (or a slow attempt could be sent again by another node)".to_owned());
        }
        let url = self.webhook.url.trim();
        if !url.is_empty() {
            if !url.starts_with("http://") && !url.starts_with("https://") {
                problems.push("webhook.url must start with http:// or https://".to_owned());
            }
            if crate::signing::webhooks::secret_key(self.webhook.secret.expose_secret()).is_err() {
                problems.push(
                    "webhook.secret must be whsec_ followed by base64 (Standard Webhooks)"
                        .to_owned(),
                );
            }
        }
        self.validate_channels(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("invalid configuration:\n  - {}", problems.join("\n  - "))
        }
    }

    /// The directory holding `base.toml`: `SWITCHBOARD_CONFIG_DIR`, else `./config`, else the
    /// `config/` folder next to the crate sources (so `cargo run` works from anywhere in the repo).
    pub fn default_config_dir() -> PathBuf {
        if let Ok(dir) = std::env::var("SWITCHBOARD_CONFIG_DIR") {
            return PathBuf::from(dir);
        }
        let local = PathBuf::from("config");
        if local.join("base.toml").exists() {
            return local;
        }
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_demo_secrets_are_named_in_demo_mode_and_absent_from_production() {
        let demo = Settings::load_from(&dir(), Mode::Demo, env(&[])).expect("loads");
        assert_eq!(demo.demo_secrets_in_use().len(), 6);
        let production = Settings::load_from(&dir(), Mode::Production, env(&[])).expect("loads");
        assert!(production.demo_secrets_in_use().is_empty());
        let leaked = Settings::load_from(
            &dir(),
            Mode::Production,
            env(&[("SWITCHBOARD_SMS__AUTH_TOKEN", "demo-sms-token")]),
        )
        .expect("loads");
        assert_eq!(leaked.demo_secrets_in_use(), ["sms.auth_token"]);
    }

    #[test]
    fn demo_mode_uses_sqlite_and_seeds() {
        let s = Settings::load_from(&dir(), Mode::Demo, env(&[])).expect("loads");
        assert!(s.demo.seed);
        assert_eq!(
            s.database.kind().expect("kind"),
            StoreKind::Sqlite(PathBuf::from("data/demo.db"))
        );
        assert_eq!(s.http.port, 8080);
    }

    #[test]
    fn contract_environment_names_override_files() {
        let s = Settings::load_from(
            &dir(),
            Mode::Production,
            env(&[
                ("SWITCHBOARD_HTTP_PORT", "9191"),
                ("SWITCHBOARD_NODE_ID", "node-7"),
                ("SWITCHBOARD_DATABASE_URL", "postgres://u:p@localhost/sb"),
                ("SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS", "1500"),
            ]),
        )
        .expect("loads");
        assert_eq!(s.http.port, 9191);
        assert_eq!(s.node.id, "node-7");
        assert_eq!(s.routing.offer_timeout_ms, 1500);
        assert_eq!(s.database.kind().expect("kind"), StoreKind::Postgres);
        assert_eq!(s.log.format, LogFormat::Json);
    }

    #[test]
    fn invalid_values_are_reported_together() {
        let err = Settings::load_from(
            &dir(),
            Mode::Demo,
            env(&[
                ("SWITCHBOARD_ROUTING__OFFER_TIMEOUT_MS", "5"),
                ("SWITCHBOARD_DATABASE_URL", "mysql://nope"),
            ]),
        )
        .expect_err("invalid");
        let text = format!("{err:#}");
        assert!(text.contains("offer_timeout_ms"), "{text}");
        assert!(text.contains("database.url"), "{text}");
    }

    #[test]
    fn bot_settings_are_checked() {
        let err = Settings::load_from(
            &dir(),
            Mode::Demo,
            env(&[
                ("SWITCHBOARD_BOT__ACTION_TIMEOUT_MS", "20000"),
                ("SWITCHBOARD_BOT__SERVICES__ORDERS", "ftp://orders"),
                ("SWITCHBOARD_BOT__FLOWS_FILE", "/nonexistent/flows.toml"),
            ]),
        )
        .expect_err("invalid");
        let text = format!("{err:#}");
        assert!(text.contains("bot.action_timeout_ms"), "{text}");
        assert!(text.contains("bot.services.orders"), "{text}");
        assert!(text.contains("bot.flows_file"), "{text}");
        let ok = Settings::load_from(
            &dir(),
            Mode::Demo,
            env(&[(
                "SWITCHBOARD_BOT__SERVICES__ORDERS",
                "https://orders.example",
            )]),
        )
        .expect("valid");
        assert_eq!(ok.bot.services["orders"], "https://orders.example");
    }

    #[test]
    fn providers_have_their_own_rates_and_channel_settings_are_checked() {
        let s = Settings::load_from(
            &dir(),
            Mode::Demo,
            env(&[("SWITCHBOARD_DELIVERY__CHANNEL_RATES__SMS", "1")]),
        )
        .expect("loads");
        assert_eq!(s.delivery.rate_for("sms"), 1);
        assert_eq!(s.delivery.rate_for("wechat"), 50);
        assert_eq!(s.delivery.rate_for("webhook"), s.delivery.rate_per_second);
        assert_eq!(
            s.identity.reply_to(),
            None,
            "demo replies to the channel used last"
        );

        let err = Settings::load_from(
            &dir(),
            Mode::Demo,
            env(&[
                ("SWITCHBOARD_IVR__SECRET", "not-a-whsec"),
                ("SWITCHBOARD_WECHAT__PASSIVE_REPLY_MS", "5000"),
                ("SWITCHBOARD_APP__JWT_SECRET", "short"),
                ("SWITCHBOARD_SMS__PUBLIC_URL", "cc.example.com"),
                ("SWITCHBOARD_IDENTITY__REPLY_CHANNEL", "fax"),
                ("SWITCHBOARD_DELIVERY__CHANNEL_RATES__WECHAT", "0"),
            ]),
        )
        .expect_err("invalid");
        let text = format!("{err:#}");
        for key in [
            "ivr.secret",
            "wechat.passive_reply_ms",
            "app.jwt_secret",
            "sms.public_url",
            "identity.reply_channel",
            "delivery.channel_rates.wechat",
        ] {
            assert!(text.contains(key), "{key}: {text}");
        }
    }

    #[test]
    fn misspelt_nested_keys_are_refused() {
        let err = Settings::load_from(
            &dir(),
            Mode::Demo,
            env(&[("SWITCHBOARD_ROUTING__OFFER_TIMEOUT", "1")]),
        )
        .expect_err("typo");
        assert!(format!("{err:#}").contains("offer_timeout"), "{err:#}");
    }
}
