//! The web channel: the chat widget's REST and WebSocket API, the agent desk WebSocket,
//! login, and the customer views for agents and supervisors (API.md).
//!
//! Handlers stay thin: validate, authenticate, rate-limit, hand over to an actor or the
//! store, and render the answer.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use chrono::{Duration, Utc};
use governor::clock::{Clock, DefaultClock};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::actors::agent_session::{AgentSession, CLIENT_TIMEOUT, HEARTBEAT_INTERVAL};
use crate::actors::dispatcher::Snapshot;
use crate::actors::protocol::{Accepted, CustomerEvent, Inbound, SessionError};
use crate::actors::session_router::SessionRouter;
use crate::auth;
use crate::bus::{Bus, Delivery};
use crate::channels::auth::{authenticate, bearer_token, Authenticated};
use crate::channels::state::{AppState, CustomerLimiter};
use crate::domain::{Channel, ClientId, Customer, CustomerId, MessageText, Role, Tier};
use crate::error::{ApiError, ErrorKind};
use crate::store::Principal;
use crate::views::{parse_ws_command, MessageView, WsError};

/// Registers the web channel's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login)
        .service(me)
        .service(create_visitor)
        .service(post_message)
        .service(current_conversation)
        .service(customer_ws)
        .service(agent_ws)
        .service(lookup_customer)
        .service(get_customer)
        .service(customer_messages)
        .service(merge_customers)
        .service(undo_merge)
        .service(queues);
}

// ---------------------------------------------------------------------------------------
// Login

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
}

#[post("/v1/auth/login")]
async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.into_inner();
    if username.len() > 128 || password.len() > 1024 {
        return Err(ApiError::new(
            ErrorKind::InvalidCredentials,
            "Unknown username or wrong password.",
        ));
    }
    let agent = state.store.agent_by_username(&username).await?;
    // Verify against a dummy hash for unknown users: same answer, same cost.
    let hash = agent
        .as_ref()
        .map_or(auth::dummy_hash(), |a| a.password_hash.as_str())
        .to_owned();
    let verified = web::block(move || auth::verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let Some(agent) = agent.filter(|_| verified) else {
        return Err(ApiError::new(
            ErrorKind::InvalidCredentials,
            "Unknown username or wrong password.",
        ));
    };
    let (token, hash) = auth::new_token();
    let ttl = Duration::hours(i64::from(state.settings.auth.agent_token_ttl_hours));
    let principal = Principal::Staff {
        agent_id: agent.id.clone(),
        role: agent.role,
    };
    state
        .store
        .insert_token(&hash, &principal, Utc::now() + ttl)
        .await?;
    tracing::info!(user = %agent.username, role = agent.role.as_str(), "Staff login.");
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        role: agent.role,
        agent_id: (agent.role == Role::Agent).then(|| agent.id.to_string()),
    }))
}

/// Who a token speaks for: the desk and the console learn their own id and name from it
/// (the login answer carries no id for supervisors).
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Me {
    Staff {
        agent_id: String,
        username: String,
        name: String,
        role: Role,
        skills: Vec<crate::domain::Skill>,
        languages: Vec<crate::domain::Language>,
    },
    Customer {
        customer_id: String,
        channel: Channel,
    },
}

#[get("/v1/me")]
async fn me(state: web::Data<AppState>, who: Authenticated) -> Result<HttpResponse, ApiError> {
    let me = match who.0 {
        Principal::Staff { agent_id, .. } => {
            let agent = state.store.agent(&agent_id).await?.ok_or_else(|| {
                ApiError::new(ErrorKind::Unauthenticated, "This account no longer exists.")
            })?;
            Me::Staff {
                agent_id: agent.id.to_string(),
                username: agent.username,
                name: agent.display_name,
                role: agent.role,
                skills: agent.skills,
                languages: agent.languages,
            }
        }
        Principal::Customer(id) => Me::Customer {
            customer_id: id.to_string(),
            channel: Channel::Web,
        },
        Principal::AppUser(id) => Me::Customer {
            customer_id: id.to_string(),
            channel: Channel::App,
        },
    };
    Ok(HttpResponse::Ok().json(me))
}

// ---------------------------------------------------------------------------------------
// Customers: visitors, messages, current conversation

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VisitorRequest {
    #[serde(default)]
    name: Option<String>,
}

const VISITOR_NAMES: [&str; 8] = [
    "Maple", "Harbor", "Willow", "Comet", "Jade", "Lotus", "River", "Pine",
];

#[post("/v1/visitors")]
async fn create_visitor(
    state: web::Data<AppState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let body = body.map_err(crate::channels::provider::body_error)?;
    // The body is optional: nothing, `{}` or `{"name": "..."}`.
    let request: VisitorRequest = if body.iter().all(u8::is_ascii_whitespace) {
        VisitorRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_data() {
                ApiError::invalid(format!("The body does not match the expected shape: {e}"))
            } else {
                ApiError::new(
                    ErrorKind::MalformedJson,
                    format!("The body is not valid JSON: {e}"),
                )
            }
        })?
    };
    let name = match request
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
    {
        Some(n) if n.chars().count() > 64 => {
            return Err(ApiError::invalid("name is longer than 64 characters"))
        }
        Some(n) => n,
        None => {
            let pick = usize::from(rand::random::<u8>()) % VISITOR_NAMES.len();
            format!(
                "Visitor {} {:04}",
                VISITOR_NAMES[pick],
                rand::random::<u16>() % 10_000
            )
        }
    };
    let customer = Customer {
        id: CustomerId::generate(),
        display_name: name,
        tier: Tier::Standard,
        tags: vec!["web".to_owned()],
        created_at: Utc::now(),
    };
    state.store.insert_customer(&customer).await?;
    // The visitor id is the web identity's external id.
    let visitor_id = format!("v_{}", uuid::Uuid::new_v4().simple());
    state
        .store
        .link_identity(Channel::Web, &visitor_id, &customer.id)
        .await?;
    let (token, hash) = auth::new_token();
    let ttl = Duration::hours(i64::from(state.settings.auth.visitor_token_ttl_hours));
    state
        .store
        .insert_token(
            &hash,
            &Principal::Customer(customer.id.clone()),
            Utc::now() + ttl,
        )
        .await?;
    Ok(HttpResponse::Created().json(json!({
        "visitor_token": token,
        "customer_id": customer.id,
        "visitor_id": visitor_id,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendMessage {
    text: String,
    client_id: String,
}

/// Validates a customer message from the web widget or the app into an [`Inbound`].
fn web_inbound(
    customer: &CustomerId,
    channel: Channel,
    text: &str,
    client_id: &str,
) -> Result<Inbound, crate::domain::ParseError> {
    let client_id = ClientId::parse(client_id)?;
    let text = MessageText::parse(text)?;
    Ok(Inbound {
        channel,
        // Client ids are chosen by clients: scope them to the customer.
        external_id: format!("{customer}/{}", client_id.as_str()),
        client_id: Some(client_id),
        text,
    })
}

/// Applies the per-customer flood limit; the error carries the wait in whole seconds.
fn check_rate(limiter: &CustomerLimiter, customer: &CustomerId) -> Result<(), u64> {
    limiter.check_key(customer).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    })
}

fn session_error(e: SessionError) -> ApiError {
    match e {
        SessionError::UnknownCustomer(_) => ApiError::unauthenticated(),
        SessionError::Store(e) => e.into(),
        SessionError::Busy => ApiError::new(
            ErrorKind::NotReady,
            "The conversation is busy; please retry.",
        ),
    }
}

#[post("/v1/messages")]
async fn post_message(
    state: web::Data<AppState>,
    who: Authenticated,
    body: web::Json<SendMessage>,
) -> Result<HttpResponse, ApiError> {
    let (customer, channel) = who.customer_on()?;
    let inbound = web_inbound(&customer, channel, &body.text, &body.client_id)?;
    if let Err(wait) = check_rate(&state.limiter, &customer) {
        state
            .metrics
            .rate_limited
            .with_label_values(&[channel.as_str()])
            .inc();
        return Err(ApiError::rate_limited(wait));
    }
    let accepted = state
        .sessions
        .inbound(&customer, inbound)
        .await
        .map_err(session_error)?;
    Ok(HttpResponse::Accepted().json(json!({
        "message_id": accepted.message_id,
        "conversation_id": accepted.conversation_id,
    })))
}

#[get("/v1/conversations/current")]
async fn current_conversation(
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let customer = who.customer()?;
    let Some(conversation) = state.store.open_conversation(&customer).await? else {
        return Err(ApiError::not_found("You have no open conversation."));
    };
    let messages = state.store.conversation_messages(&conversation.id).await?;
    let agent_name = match &conversation.agent_id {
        Some(id) => state.store.agent(id).await?.map(|a| a.display_name),
        None => None,
    };
    Ok(HttpResponse::Ok().json(json!({
        "id": conversation.id,
        "customer_id": conversation.customer_id,
        "status": conversation.status,
        "channel": conversation.last_channel,
        "agent_name": agent_name,
        "opened_at": conversation.opened_at,
        "messages": messages.iter().map(MessageView::from).collect::<Vec<_>>(),
    })))
}

// ---------------------------------------------------------------------------------------
// Customer WebSocket

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
}

impl CustomerConnection {
    fn send_json<T: Serialize>(ctx: &mut ws::WebsocketContext<Self>, value: &T) {
        match serde_json::to_string(value) {
            Ok(text) => ctx.text(text),
            Err(error) => tracing::error!(%error, "Encoding a customer event failed."),
        }
    }

    fn on_message(
        &mut self,
        ctx: &mut ws::WebsocketContext<Self>,
        text: String,
        client_id: String,
    ) {
        let inbound = match web_inbound(&self.customer, self.channel, &text, &client_id) {
            Ok(inbound) => inbound,
            Err(e) => {
                return Self::send_json(ctx, &WsError::new("invalid_request", &e.to_string()))
            }
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
            return Self::send_json(ctx, &error);
        }
        let sessions = self.sessions.clone();
        let customer = self.customer.clone();
        // Wait for the store before reading the next frame: acks come back in order.
        ctx.wait(
            async move { sessions.inbound(&customer, inbound).await }
                .into_actor(self)
                .map(move |result: Result<Accepted, SessionError>, _, ctx| match result {
                    Ok(accepted) => Self::send_json(
                        ctx,
                        &json!({"type": "ack", "client_id": client_id, "message_id": accepted.message_id}),
                    ),
                    Err(error) => {
                        tracing::warn!(%error, "Customer message not accepted.");
                        Self::send_json(ctx, &WsError::new("not_ready", "Your message was not saved; please resend it."));
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
    type Context = ws::WebsocketContext<Self>;

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
        ctx.run_interval(HEARTBEAT_INTERVAL, |act, ctx| {
            if act.heartbeat.elapsed() > CLIENT_TIMEOUT {
                ctx.stop();
                return;
            }
            ctx.ping(b"");
        });
        if self.channel == Channel::App {
            // While the app is connected, its messages need no push notification.
            self.touch_presence();
            ctx.run_interval(crate::channels::app::PRESENCE_REFRESH, |act, _| {
                act.touch_presence();
            });
        }
        let bus = Arc::clone(&self.bus);
        let pattern = format!("customer.{}", self.customer);
        // Subscribe before reading frames so no echo or answer is missed.
        ctx.wait(
            async move { bus.subscribe(&pattern).await }
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

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for CustomerConnection {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.heartbeat = Instant::now();
        match item {
            Ok(ws::Message::Text(text)) => {
                match parse_ws_command::<CustomerCommand>(&text, &CUSTOMER_COMMANDS) {
                    Ok(CustomerCommand::Message { text, client_id }) => {
                        self.on_message(ctx, text, client_id)
                    }
                    Ok(CustomerCommand::Typing {}) => {}
                    Err(error) => Self::send_json(ctx, &error),
                }
            }
            Ok(ws::Message::Ping(bytes)) => ctx.pong(&bytes),
            Ok(ws::Message::Binary(_)) => {
                Self::send_json(ctx, &WsError::new("unsupported", "Send JSON text frames."))
            }
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Ok(ws::Message::Continuation(_)) => Self::send_json(
                ctx,
                &WsError::new(
                    "unsupported",
                    "Fragmented frames are not supported; send each message in one frame.",
                ),
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::info!(%error, "Customer WebSocket protocol error; closing.");
                ctx.stop();
            }
        }
    }
}

impl StreamHandler<Delivery> for CustomerConnection {
    fn handle(&mut self, delivery: Delivery, ctx: &mut Self::Context) {
        let event = delivery.json::<CustomerEvent>();
        actix::spawn(async move {
            if let Err(error) = delivery.ack().await {
                tracing::debug!(%error, "Ack of a customer event failed.");
            }
        });
        match event {
            Ok(event) => Self::send_json(ctx, &event),
            Err(error) => tracing::warn!(%error, "Dropped an undecodable customer event."),
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

#[get("/v1/ws/customer")]
async fn customer_ws(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let principal = authenticate(&state, bearer_token(&req)).await?;
    let (customer, channel) = Authenticated(principal).customer_on()?;
    let connection = CustomerConnection {
        customer,
        channel,
        sessions: state.sessions.clone(),
        bus: Arc::clone(&state.bus),
        limiter: Arc::clone(&state.limiter),
        metrics: Arc::clone(&state.metrics),
        heartbeat: Instant::now(),
        id: uuid::Uuid::new_v4().simple().to_string(),
        store: Arc::clone(&state.store),
    };
    ws::WsResponseBuilder::new(connection, &req, stream)
        .frame_size(state.settings.http.body_limit_bytes)
        .start()
        .map_err(handshake_error)
}

// ---------------------------------------------------------------------------------------
// Agent WebSocket

#[get("/v1/ws/agent")]
async fn agent_ws(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let principal = authenticate(&state, bearer_token(&req)).await?;
    let (agent_id, role) = Authenticated(principal).staff()?;
    if role != Role::Agent {
        return Err(ApiError::forbidden("Only agents can open the agent desk.").into());
    }
    let agent = state
        .store
        .agent(&agent_id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(ApiError::unauthenticated)?;
    let session = AgentSession::new(
        agent,
        Arc::clone(&state.store),
        Arc::clone(&state.bus),
        Arc::clone(&state.metrics),
    );
    ws::WsResponseBuilder::new(session, &req, stream)
        .frame_size(state.settings.http.body_limit_bytes)
        .start()
        .map_err(handshake_error)
}

/// A WebSocket endpoint called without a valid upgrade: typed JSON instead of actix's text.
fn handshake_error(error: actix_web::Error) -> actix_web::Error {
    ApiError::new(
        ErrorKind::UpgradeRequired,
        format!("Expected a WebSocket upgrade request: {error}"),
    )
    .into()
}

/// Reading a raw body failed: too large (413) or broken (400), as typed JSON.
// ---------------------------------------------------------------------------------------
// Customers, seen by agents and supervisors

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupQuery {
    channel: String,
    external_id: String,
}

#[get("/v1/customers/lookup")]
async fn lookup_customer(
    state: web::Data<AppState>,
    who: Authenticated,
    query: web::Query<LookupQuery>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let channel = Channel::parse(&query.channel)?;
    if query.external_id.is_empty() || query.external_id.len() > 256 {
        return Err(ApiError::invalid("external_id must be 1 to 256 characters"));
    }
    match state
        .store
        .find_identity(channel, &query.external_id)
        .await?
    {
        Some(customer_id) => Ok(HttpResponse::Ok().json(json!({"customer_id": customer_id}))),
        None => Err(ApiError::not_found("No customer has that identity.")),
    }
}

#[get("/v1/customers/{id}")]
async fn get_customer(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let id = CustomerId::from_trusted(id.into_inner());
    let customer = state
        .store
        .customer(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such customer."))?;
    let identities = state.store.identities(&id).await?;
    let open = state.store.open_conversation(&id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "id": customer.id,
        "name": customer.display_name,
        "tier": customer.tier,
        "tags": customer.tags,
        "created_at": customer.created_at,
        "identities": identities.iter().map(|i| json!({
            "channel": i.channel, "external_id": i.external_id, "linked_at": i.created_at,
        })).collect::<Vec<_>>(),
        "open_conversation_id": open.map(|c| c.id),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeRequest {
    /// The customer merged into the one of the path (their identities and history move).
    from_customer_id: String,
}

/// The JSON of a merge.
fn merge_view(merge: &crate::store::CustomerMerge) -> serde_json::Value {
    json!({
        "merge_id": merge.id,
        "customer_id": merge.into,
        "from_customer_id": merge.from,
        "moved": {
            "identities": merge.moved.identities.iter().map(|(c, e)| json!({"channel": c, "external_id": e})).collect::<Vec<_>>(),
            "conversations": merge.moved.conversations.len(),
            "messages": merge.moved.messages.len(),
        },
        "merged_by": merge.merged_by,
        "merged_at": merge.merged_at,
        "undone_by": merge.undone_by,
        "undone_at": merge.undone_at,
    })
}

/// An agent's explicit merge of two customers ("one ID" from a verified conversation):
/// audited, and reversible with `POST /v1/customers/merges/{merge_id}/undo`.
#[post("/v1/customers/{id}/merge")]
async fn merge_customers(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    body: web::Json<MergeRequest>,
) -> Result<HttpResponse, ApiError> {
    let (staff, _) = who.staff()?;
    let into = CustomerId::from_trusted(id.into_inner());
    let from = CustomerId::from_trusted(body.into_inner().from_customer_id);
    for customer in [&into, &from] {
        if state.store.customer(customer).await?.is_none() {
            return Err(ApiError::not_found(format!("No customer {customer}.")));
        }
    }
    // A repeated request (the first one succeeded) finds nothing left to move.
    if state.store.identities(&from).await?.is_empty()
        && state.store.customer_messages(&from).await?.is_empty()
    {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            format!("Customer {from} has nothing left to merge (merged already?)."),
        ));
    }
    let merge_id = format!("mrg_{}", uuid::Uuid::now_v7().simple());
    let merge = state
        .store
        .merge_customers(&merge_id, &into, &from, staff.as_str(), Utc::now())
        .await?;
    tracing::info!(%into, %from, by = %staff, merge = %merge.id, "Customers merged.");
    Ok(HttpResponse::Created().json(merge_view(&merge)))
}

#[post("/v1/customers/merges/{merge_id}/undo")]
async fn undo_merge(
    state: web::Data<AppState>,
    who: Authenticated,
    merge_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (staff, _) = who.staff()?;
    let merge = state
        .store
        .undo_merge(&merge_id, staff.as_str(), Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("No such merge."))?;
    tracing::info!(merge = %merge.id, by = %staff, "Customer merge undone.");
    Ok(HttpResponse::Ok().json(merge_view(&merge)))
}

#[get("/v1/customers/{id}/messages")]
async fn customer_messages(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let id = CustomerId::from_trusted(id.into_inner());
    if state.store.customer(&id).await?.is_none() {
        return Err(ApiError::not_found("No such customer."));
    }
    let messages = state.store.customer_messages(&id).await?;
    let body: Vec<_> = messages
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "conversation_id": m.conversation_id,
                "channel": m.channel,
                "from": m.from,
                "text": m.text,
                "client_id": m.client_id,
                // Web/app messages are keyed by the client's id; the provider's own id is
                // the external id on provider channels.
                "external_id": if matches!(m.channel, Channel::Web | Channel::App) { None } else { m.external_id.as_deref() },
                "agent_id": m.agent_id,
                "sent_at": m.sent_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

#[get("/v1/queues")]
async fn queues(state: web::Data<AppState>, who: Authenticated) -> Result<HttpResponse, ApiError> {
    who.staff()?;
    let figures = state
        .dispatcher
        .send(Snapshot)
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(figures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_client_ids_are_scoped_to_the_customer() {
        let a = CustomerId::from_trusted("cus_a");
        let b = CustomerId::from_trusted("cus_b");
        let ia = web_inbound(&a, Channel::Web, "hi", "1").expect("valid");
        let ib = web_inbound(&b, Channel::Web, "hi", "1").expect("valid");
        assert_ne!(ia.external_id, ib.external_id);
        assert_eq!(
            web_inbound(&a, Channel::App, "hi", "1").map(|i| i.channel),
            Ok(Channel::App)
        );
        assert!(web_inbound(&a, Channel::Web, "  ", "1").is_err());
        assert!(web_inbound(&a, Channel::Web, "hi", "bad id").is_err());
    }
}
