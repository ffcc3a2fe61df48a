//! The customer WebSocket (`/v1/ws/customer`): customer frames in, the customer's events
//! (answers, agent messages, echoes from their other devices) out, acknowledged in order.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::rest::{check_rate, web_inbound};
use crate::actors::protocol::{customer_route, Accepted, CustomerEvent, SessionError};
use crate::actors::session_router::SessionRouter;
use crate::bus::{Bus, Delivery};
use crate::channels::auth::{authenticate, bearer_token, Authenticated};
use crate::channels::state::{AppState, CustomerLimiter};
use crate::domain::{Channel, CustomerId};
use crate::socket::{self, Frame, Socket, Writer};
use crate::views::{parse_ws_command, WsError};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum CustomerCommand {
    Message { text: String, client_id: String },
    Typing {},
}

const CUSTOMER_COMMANDS: [&str; 2] = ["message", "typing"];

/// One customer WebSocket connection: customer frames in, the customer's events out.
struct CustomerConnection {
    customer: CustomerId,
    /// Web widget or app.
    channel: Channel,
    /// This connection's id (app presence).
    id: String,
    store: Arc<dyn crate::store::Store>,
    sessions: SessionRouter,
    bus: Arc<dyn Bus>,
    limiter: Arc<CustomerLimiter>,
    metrics: Arc<crate::telemetry::Metrics>,
    heartbeat: Instant,
    socket: Writer,
}

impl CustomerConnection {
    fn send_json<T: Serialize>(&self, value: &T) {
        self.socket.json(value);
    }

    fn on_message(&mut self, ctx: &mut Context<Self>, text: String, client_id: String) {
        let inbound = match web_inbound(&self.customer, self.channel, &text, &client_id) {
            Ok(inbound) => inbound,
            Err(e) => return self.send_json(&WsError::new("invalid_request", &e.to_string())),
        };
        if let Err(wait) = check_rate(&self.limiter, &self.customer) {
            self.metrics
                .rate_limited
                .with_label_values(&[self.channel.as_str()])
                .inc();
            let mut error = WsError::new(
                "rate_limited",
                "Too many messages; please wait a moment. 发送太频繁，请稍候再试。",
            );
            error.message = format!("{} (retry after {wait} s)", error.message);
            return self.send_json(&error);
        }
        let sessions = self.sessions.clone();
        let customer = self.customer.clone();
        // Wait for the store before reading the next frame: acks come back in order.
        ctx.wait(
            async move { sessions.inbound(&customer, inbound).await }
                .into_actor(self)
                .map(move |result: Result<Accepted, SessionError>, act, _| match result {
                    Ok(accepted) => act.send_json(
                        &json!({"type": "ack", "client_id": client_id, "message_id": accepted.message_id}),
                    ),
                    Err(error) => {
                        tracing::warn!(%error, "Customer message not accepted.");
                        act.send_json(&WsError::new("not_ready", "Your message was not saved; please resend it."));
                    }
                }),
        );
    }
}

impl CustomerConnection {
    fn touch_presence(&self) {
        let (store, id, customer) = (
            Arc::clone(&self.store),
            self.id.clone(),
            self.customer.clone(),
        );
        actix::spawn(async move {
            if let Err(error) = store.touch_presence(&id, &customer, Utc::now()).await {
                tracing::warn!(%error, "Could not record app presence; pushes may be sent.");
            }
        });
    }
}

impl Actor for CustomerConnection {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Self::Context) {
        if self.channel == Channel::App {
            let (store, id) = (Arc::clone(&self.store), self.id.clone());
            actix::spawn(async move {
                let stale = Utc::now() - chrono::Duration::days(1);
                if let Err(error) = store.drop_presence(&id, stale).await {
                    tracing::debug!(%error, "Could not drop app presence; it goes stale.");
                }
            });
        }
    }

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.channel == Channel::App {
            // While the app is connected, its messages need no push notification.
            self.touch_presence();
            ctx.run_interval(crate::channels::app::PRESENCE_REFRESH, |act, _| {
                act.touch_presence();
            });
        }
        let bus = Arc::clone(&self.bus);
        let route = customer_route(&self.customer);
        // Subscribe before reading frames so no echo or answer is missed.
        ctx.wait(
            async move { bus.subscribe(&route).await }
                .into_actor(self)
                .map(|result, _, ctx| match result {
                    Ok(deliveries) => {
                        ctx.add_stream(deliveries);
                    }
                    Err(error) => {
                        tracing::error!(%error, "Customer connection could not subscribe.");
                        ctx.stop();
                    }
                }),
        );
    }
}

impl StreamHandler<Frame> for CustomerConnection {
    fn handle(&mut self, item: Frame, ctx: &mut Self::Context) {
        let Some(text) = socket::read_frame(self, ctx, item) else {
            return;
        };
        match parse_ws_command::<CustomerCommand>(&text, &CUSTOMER_COMMANDS) {
            Ok(CustomerCommand::Message { text, client_id }) => {
                self.on_message(ctx, text, client_id)
            }
            Ok(CustomerCommand::Typing {}) => {}
            Err(error) => self.send_json(&error),
        }
    }
}

impl Socket for CustomerConnection {
    const NAME: &'static str = "customer connection";

    fn last_heard(&mut self) -> &mut Instant {
        &mut self.heartbeat
    }

    fn writer(&self) -> &Writer {
        &self.socket
    }
}

impl StreamHandler<Delivery> for CustomerConnection {
    fn handle(&mut self, delivery: Delivery, _: &mut Self::Context) {
        let event = delivery.json::<CustomerEvent>();
        actix::spawn(async move {
            if let Err(error) = delivery.ack().await {
                tracing::debug!(%error, "Ack of a customer event failed.");
            }
        });
        match event {
            Ok(event) => self.send_json(&event),
            Err(error) => tracing::warn!(%error, "Dropped an undecodable customer event."),
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

#[utoipa::path(
    tag = "web",
    operation_id = "customerWebSocket",
    summary = "Customer WebSocket (visitor token or app token, as Authorization or ?token=); see docs/api.md for frames",
    security(("bearer" = []), ("appToken" = [])),
    params(
        ("token" = Option<String>, Query, description = "The bearer token, for clients that cannot set Authorization (an Authorization header takes precedence)"),
    ),
    responses(
        (status = 101, description = "Switching protocols"),
        (status = 400, response = crate::channels::openapi::errors::UpgradeRequired),
        (status = 401, response = crate::channels::openapi::errors::Unauthenticated),
        (status = 403, description = "`forbidden`: a staff token", body = crate::channels::openapi::errors::ForbiddenError),
        (status = 503, response = crate::channels::openapi::errors::NotReady),
    ),
)]
#[get("/v1/ws/customer")]
pub(super) async fn customer_ws(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let principal = authenticate(&state, bearer_token(&req)).await?;
    let (customer, channel) = Authenticated(principal).customer_on()?;
    let (store, bus) = state.for_actors();
    let frame_size = state.settings.http.body_limit_bytes;
    socket::start(&req, stream, frame_size, |socket| CustomerConnection {
        customer,
        channel,
        sessions: state.sessions.clone(),
        bus,
        limiter: Arc::clone(&state.limiter),
        metrics: Arc::clone(&state.metrics),
        heartbeat: Instant::now(),
        id: uuid::Uuid::new_v4().simple().to_string(),
        store,
        socket,
    })
}
