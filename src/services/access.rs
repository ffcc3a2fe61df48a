//! Who may act: staff login (username and password, answered alike and at the same cost
//! for an unknown user and a wrong password), and the resolution of a bearer token to its
//! holder — an opaque token (web visitor, staff) through the store, or an app token (HS256
//! JWT of the app backend) by its signature, finding or creating the app user's customer.
//! A verdict is cached for a short while ([`TokenCache`]).
//!
//! Password checks are expensive on purpose (argon2id: about 19 MiB and tens of milliseconds
//! each), so logins are bounded twice: failed logins are throttled per username and per source
//! address ([`LoginThrottle`]: after [`MAX_FAILED_LOGINS`] failures within
//! [`FAILED_LOGIN_WINDOW`], 429 even for the right password until the window passes), and at
//! most [`password_checks`] checks run at once on a node: a sign-in waits up to five seconds
//! for its turn, and beyond 256 waiting the node answers 503 at once, so a flood of logins
//! cannot grow the process's memory while a shift that signs in together only queues.
//!
//! Sign-ins are audited in the store's audit log: a sign-in (`staff.login`) in the
//! transaction that stores its token, a refused one (`staff.login_failed`: the username tried,
//! the account when the username is one's, the source address, whether it locked the username
//! or the address; never the password) after the password check, by the same single statement
//! whether the username exists or not. Attempts refused while locked (429) or busy (503) check
//! no password and are not audited, so the failures audited are the ones the throttle lets
//! through: at most [`MAX_FAILED_LOGINS`] per username and per address per window.
//!
//! Sign-ins end: a sign-out ([`AccessService::sign_out`]) deletes its token, and a staff
//! account's deactivation, role change or password reset deletes all of its tokens (in the
//! store transaction of that change, see [`crate::services::staff`]). Every node caches
//! verdicts, so an ending is also broadcast on the bus topic `access.revoked`
//! ([`Revocation`]): every node's listener ([`AccessService::listen_for_revocations`]) drops
//! the ended tokens from its cache at once, and a verdict its own look-up reached before it
//! heard of the end is not cached. The node that made the change drops them before it
//! answers. The desk of an ended sign-in is told too (`agent.{id}`: it closes). A node that
//! cannot hear the topic for a while (its broker link down) clears its cache when it listens
//! again; a lost broadcast is bounded by the cache's 30 s.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use chrono::{Duration, Utc};
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};

use crate::actors::protocol::{agent_route, revocations_route, AgentEvent, Revocation};
use crate::auth::{self, looks_like_jwt, token_hash, TokenCache};
use crate::bus::{publish_json, Bus, Subscription};
use crate::domain::{Agent, AgentId};
use crate::error::{ApiError, ErrorKind};
use crate::store::{Principal, Store};

/// Longest app token (JWT) accepted.
const MAX_APP_TOKEN_LEN: usize = 4096;
/// Longest opaque token accepted.
const MAX_OPAQUE_TOKEN_LEN: usize = 256;
/// Clock leeway for app tokens' `exp`/`nbf`.
const APP_TOKEN_LEEWAY_SECS: i64 = 30;
/// Failed logins for one username, or from one source address, before it is locked.
pub const MAX_FAILED_LOGINS: u32 = 10;
/// How long failures are counted, and how long a lock lasts.
pub const FAILED_LOGIN_WINDOW: StdDuration = StdDuration::from_secs(15 * 60);
/// Longest a sign-in waits for a password checker before 503.
const LOGIN_QUEUE_WAIT: StdDuration = StdDuration::from_secs(5);
/// Sign-ins waiting for a checker at most; more are refused at once (503).
const MAX_WAITING_LOGINS: usize = 256;

/// One sign-in waiting for a checker, counted while it waits.
struct QueuedCheck<'a>(&'a AtomicUsize);

impl<'a> QueuedCheck<'a> {
    /// Joins the queue, unless [`MAX_WAITING_LOGINS`] wait already.
    fn join(waiting: &'a AtomicUsize) -> Option<Self> {
        let before = waiting.fetch_add(1, Ordering::AcqRel);
        let queued = Self(waiting);
        (before < MAX_WAITING_LOGINS).then_some(queued)
    }
}

impl Drop for QueuedCheck<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Longest username tried that is looked up (and audited, cut to this length).
const MAX_USERNAME_BYTES: usize = 128;

/// `text` cut to at most `max` bytes, on a character boundary.
fn clip(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Keys kept before idle ones are forgotten (a flood of made-up usernames stays bounded).
const THROTTLE_KEYS_BEFORE_PRUNING: usize = 10_000;

/// How many password checks a node runs at once: its cores (each check holds a core and
/// about 19 MiB while it runs).
pub fn password_checks() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// The threads that check passwords: as many as [`password_checks`], started once and fed
/// over a channel. Each argon2id check needs a 19 MiB working block: each thread allocates
/// its block once and reuses it ([`auth::verify_password_with`]), so the node's memory for
/// password checks is fixed at threads × 19 MiB however many logins arrive (measured with
/// `benches/login_flood.sh`: allocating per check, the allocator kept about 19 MiB per check).
struct PasswordCheckers {
    jobs: std::sync::mpsc::Sender<CheckJob>,
}

/// A password, its stored hash, and where the verdict goes.
type CheckJob = (String, String, tokio::sync::oneshot::Sender<bool>);

impl PasswordCheckers {
    fn start(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<CheckJob>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let started = std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || {
                    // This thread's argon2 working memory, reused by every check.
                    let mut memory = Vec::new();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok((password, hash, verdict)) = job else {
                            return; // the service is gone
                        };
                        let matches = auth::verify_password_with(&mut memory, &password, &hash);
                        let _ = verdict.send(matches);
                    }
                });
            if let Err(error) = started {
                tracing::error!(%error, "Could not start a password-check thread.");
            }
        }
        Self { jobs }
    }

    /// Whether `password` matches `hash`, checked on one of the threads.
    async fn verify(&self, password: String, hash: String) -> Result<bool, ApiError> {
        let (verdict, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send((password, hash, verdict))
            .map_err(|_| ApiError::internal(anyhow::anyhow!("no password-check thread")))?;
        answer
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("a password check was lost")))
    }
}

/// Failed logins per key (`user:<name>`, `addr:<ip>`), counted with governor: a key that
/// fails [`MAX_FAILED_LOGINS`] times within about [`FAILED_LOGIN_WINDOW`] (one failure is
/// forgiven every window ÷ limit) is locked for the window, whatever is tried meanwhile.
pub struct LoginThrottle {
    failures: DefaultKeyedRateLimiter<String>,
    locked: Mutex<HashMap<String, Instant>>,
    window: StdDuration,
}

impl LoginThrottle {
    /// `max_failures` (at least 2) within `window`.
    pub fn new(max_failures: u32, window: StdDuration) -> Self {
        let max_failures = max_failures.max(2);
        // The failure that would exceed the burst is the `max_failures`-th: it locks.
        let burst = NonZeroU32::new(max_failures - 1).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(window / max_failures)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            failures: RateLimiter::keyed(quota),
            locked: Mutex::new(HashMap::new()),
            window,
        }
    }

    /// Whole seconds until every one of `keys` may try again; `None` when none is locked.
    pub fn locked(&self, keys: &[String], now: Instant) -> Option<u64> {
        let locked = self.locked.lock().ok()?;
        keys.iter()
            .filter_map(|key| locked.get(key))
            .filter(|until| **until > now)
            .map(|until| {
                let wait = *until - now;
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
            })
            .max()
    }

    /// Records one failure for each of `keys`; a key at its limit is locked from `now`. True
    /// when this failure locked one of them.
    pub fn failed(&self, keys: &[String], now: Instant) -> bool {
        let Ok(mut locked) = self.locked.lock() else {
            return false;
        };
        let mut locks = false;
        for key in keys {
            if self.failures.check_key(key).is_err() {
                locks |= locked
                    .insert(key.clone(), now + self.window)
                    .is_none_or(|until| until <= now);
            }
        }
        if locked.len() > THROTTLE_KEYS_BEFORE_PRUNING {
            locked.retain(|_, until| *until > now);
        }
        if self.failures.len() > THROTTLE_KEYS_BEFORE_PRUNING {
            self.failures.retain_recent();
        }
        locks
    }
}

/// The throttle keys of a login attempt.
fn throttle_keys(username: &str, source: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("user:{}", username.trim().to_lowercase())];
    if let Some(ip) = source {
        keys.push(format!("addr:{ip}"));
    }
    keys
}

/// Pause before the revocation listener subscribes again after losing the bus.
const LISTENER_RESTART_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Why a staff account's sign-ins ended: the `code` of the `error` its desk gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The account was deactivated (`account_deactivated`).
    Deactivated,
    /// Its role changed or its password was reset (`signed_out`).
    SignedOut,
}

impl Ended {
    fn code(self) -> &'static str {
        match self {
            Ended::Deactivated => "account_deactivated",
            Ended::SignedOut => "signed_out",
        }
    }
}

/// The access service.
#[derive(Clone)]
pub struct AccessService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    tokens: Arc<TokenCache>,
    /// The app backend's HS256 secret (empty: app tokens are refused).
    app_secret: SecretString,
    /// How long a staff login lasts.
    staff_token_ttl: Duration,
    throttle: Arc<LoginThrottle>,
    /// Permits for password checks running at once.
    checks: Arc<Semaphore>,
    checkers: Arc<PasswordCheckers>,
    /// Sign-ins waiting for a checker.
    waiting: Arc<AtomicUsize>,
}

fn wrong_credentials() -> ApiError {
    ApiError::new(
        ErrorKind::InvalidCredentials,
        "Unknown username or wrong password.",
    )
}

impl AccessService {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        app_secret: SecretString,
        staff_token_ttl: Duration,
    ) -> Self {
        Self {
            store,
            bus,
            tokens: Arc::new(TokenCache::default()),
            app_secret,
            staff_token_ttl,
            throttle: Arc::new(LoginThrottle::new(MAX_FAILED_LOGINS, FAILED_LOGIN_WINDOW)),
            checks: Arc::new(Semaphore::new(password_checks())),
            checkers: Arc::new(PasswordCheckers::start(password_checks())),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Checks a staff member's password and issues a token: the token and the staff member.
    /// `source` is the caller's address, throttled like the username.
    pub async fn login(
        &self,
        username: &str,
        password: String,
        source: Option<IpAddr>,
    ) -> Result<(String, Agent), ApiError> {
        let keys = throttle_keys(username, source);
        let locked = |wait: u64| ApiError {
            retry_after: Some(wait.max(1)),
            ..ApiError::new(
                ErrorKind::TooManyAttempts,
                "Too many failed sign-ins; try again later. 登录失败次数过多，请稍后再试。",
            )
        };
        if let Some(wait) = self.throttle.locked(&keys, Instant::now()) {
            return Err(locked(wait));
        }
        if username.len() > MAX_USERNAME_BYTES || password.len() > auth::MAX_PASSWORD_BYTES {
            let locks = self.throttle.failed(&keys, Instant::now());
            self.audit_failure(username, None, source, locks).await;
            return Err(wrong_credentials());
        }
        // Bounded before the look-up: a sign-in waits its turn for a checker (a shift that
        // starts together queues for a moment), but a flood beyond the queue is refused at
        // once and costs no memory.
        let busy = || ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                ErrorKind::NotReady,
                "The server is busy checking other sign-ins; retry in a moment.",
            )
        };
        let queued = QueuedCheck::join(&self.waiting).ok_or_else(busy)?;
        let permit =
            tokio::time::timeout(LOGIN_QUEUE_WAIT, Arc::clone(&self.checks).acquire_owned())
                .await
                .map_err(|_| busy())?
                .map_err(|_| busy())?;
        drop(queued);
        // Failures recorded while this sign-in waited may have locked it.
        if let Some(wait) = self.throttle.locked(&keys, Instant::now()) {
            return Err(locked(wait));
        }
        let agent = self.store.agent_by_username(username).await?;
        // Verify against a dummy hash for unknown users: same answer, same cost.
        let hash = agent
            .as_ref()
            .map_or(auth::dummy_hash(), |a| a.password_hash.as_str())
            .to_owned();
        let verified = self.checkers.verify(password, hash).await;
        drop(permit);
        let verified = verified?;
        let known = agent.as_ref().map(|a| a.id.clone());
        let Some(agent) = agent.filter(|_| verified) else {
            let locks = self.throttle.failed(&keys, Instant::now());
            // Written after the check, by one statement whether the username exists or not:
            // the answer and its time say nothing more than before.
            self.audit_failure(username, known.as_ref(), source, locks)
                .await;
            tracing::info!(source = ?source, "Failed staff login.");
            return Err(wrong_credentials());
        };
        let (token, hash) = auth::new_token();
        let mut detail = serde_json::json!({
            "username": agent.username,
            "role": agent.role.as_str(),
        });
        if let Some(source) = source {
            detail["source"] = source.to_string().into();
        }
        // The token and its audit entry in one transaction: no sign-in goes unaudited.
        self.store
            .insert_staff_login(
                &hash,
                &agent.id,
                agent.role,
                Utc::now() + self.staff_token_ttl,
                &detail,
                Utc::now(),
            )
            .await?;
        tracing::info!(agent = %agent.id, role = agent.role.as_str(), "Staff login.");
        Ok((token, agent))
    }

    /// Audits a refused sign-in: the username tried (at most [`MAX_USERNAME_BYTES`] of it),
    /// the account when the username is an active one's, the source address, and whether
    /// this failure locked the username or the address. Never the password. A write that fails
    /// is logged and does not change the answer.
    async fn audit_failure(
        &self,
        username: &str,
        account: Option<&AgentId>,
        source: Option<IpAddr>,
        locks: bool,
    ) {
        let mut detail = serde_json::json!({ "username": clip(username, MAX_USERNAME_BYTES) });
        if let Some(id) = account {
            detail["agent_id"] = id.as_str().into();
        }
        if let Some(source) = source {
            detail["source"] = source.to_string().into();
        }
        if locks {
            detail["locked"] = true.into();
        }
        if let Err(error) = self
            .store
            .audit_failed_login(account, &detail, Utc::now())
            .await
        {
            tracing::warn!(%error, "Could not audit a failed staff login.");
        }
    }

    /// A staff member's account (401 when it no longer exists).
    pub async fn staff_member(&self, id: &AgentId) -> Result<Agent, ApiError> {
        self.store.agent(id).await?.ok_or_else(|| {
            ApiError::new(ErrorKind::Unauthenticated, "This account no longer exists.")
        })
    }

    /// Resolves a token to its holder, or 401.
    pub async fn authenticate(&self, token: Option<String>) -> Result<Principal, ApiError> {
        let token = token.ok_or_else(ApiError::unauthenticated)?;
        let app_token = looks_like_jwt(&token);
        let longest = if app_token {
            MAX_APP_TOKEN_LEN
        } else {
            MAX_OPAQUE_TOKEN_LEN
        };
        if token.len() > longest {
            return Err(ApiError::unauthenticated());
        }
        let hash = token_hash(&token);
        // Taken before the look-up: the cached verdict is never younger than the store's
        // answer.
        let checked = Instant::now();
        if let Some(principal) = self.tokens.get(&hash, checked) {
            return Ok(principal);
        }
        let principal = if app_token {
            self.app_principal(&token, &hash).await?
        } else {
            self.store
                .token_principal(&hash, Utc::now())
                .await?
                .ok_or_else(ApiError::unauthenticated)?
        };
        self.tokens.put(hash, principal.clone(), checked);
        Ok(principal)
    }

    /// Verifies an app token's signature and times (not whether it was signed out).
    fn app_claims(&self, token: &str) -> Result<crate::signing::app_token::AppClaims, ApiError> {
        let secret = self.app_secret.expose_secret();
        if secret.is_empty() {
            return Err(ApiError::unauthenticated());
        }
        crate::signing::app_token::verify(
            secret.as_bytes(),
            token,
            Utc::now().timestamp(),
            APP_TOKEN_LEEWAY_SECS,
        )
        .map_err(|error| {
            tracing::info!(%error, "App token refused.");
            ApiError::unauthenticated()
        })
    }

    /// Verifies an app token (of hash `hash`), checks it was not signed out, and finds its
    /// customer.
    async fn app_principal(&self, token: &str, hash: &str) -> Result<Principal, ApiError> {
        let claims = self.app_claims(token)?;
        if self.store.app_token_revoked(hash, Utc::now()).await? {
            return Err(ApiError::unauthenticated());
        }
        let customer = crate::identity::app_user(
            self.store.as_ref(),
            &claims.sub,
            crate::identity::AppLinks {
                phone: claims.phone.as_deref(),
                wechat_openid: claims.wechat_openid.as_deref(),
                wechat_unionid: claims.wechat_unionid.as_deref(),
            },
            claims.name.as_deref(),
        )
        .await?;
        Ok(Principal::AppUser(customer))
    }
}

impl AccessService {
    /// Signs a token out (any token: staff, web visitor, app user): it stops working on every
    /// node. A staff sign-out is audited with the deletion; a desk opened with the token
    /// closes. An app token (never stored) is recorded as signed out until it expires.
    pub async fn sign_out(&self, token: Option<String>) -> Result<(), ApiError> {
        let token = token.ok_or_else(ApiError::unauthenticated)?;
        let hash = token_hash(&token);
        if looks_like_jwt(&token) {
            let claims = self.app_claims(&token)?;
            let expires = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now)
                + Duration::seconds(APP_TOKEN_LEEWAY_SECS);
            self.store
                .revoke_app_token(&hash, expires, Utc::now())
                .await?;
        } else if let Some(Principal::Staff { agent_id, .. }) =
            self.store.delete_token(&hash, Utc::now()).await?
        {
            tracing::info!(agent = %agent_id, "Staff sign-out.");
            let ended = AgentEvent::SignedOut {
                token_hash: Some(hash.clone()),
                code: Ended::SignedOut.code().to_owned(),
            };
            self.tell(&agent_route(&agent_id), &ended).await;
        }
        self.revoke(Revocation::Token { token_hash: hash }).await;
        Ok(())
    }

    /// Every sign-in of a staff account ended (its tokens are deleted from the store already):
    /// this node forgets them at once, the others hear it over the bus, and the account's
    /// desk closes.
    pub async fn end_sign_ins(&self, agent_id: &AgentId, why: Ended) {
        let ended = AgentEvent::SignedOut {
            token_hash: None,
            code: why.code().to_owned(),
        };
        self.tell(&agent_route(agent_id), &ended).await;
        self.revoke(Revocation::Account {
            agent_id: agent_id.clone(),
        })
        .await;
    }

    /// Applies a revocation to this node's cache, then tells every node. A broadcast that
    /// fails is logged: the store already refuses the tokens, and other nodes' caches trust
    /// them 30 s at most.
    async fn revoke(&self, revocation: Revocation) {
        apply(&self.tokens, &revocation);
        self.tell(&revocations_route(), &revocation).await;
    }

    async fn tell<T: serde::Serialize>(&self, route: &crate::bus::Route, event: &T) {
        if let Err(error) = publish_json(self.bus.as_ref(), route, event).await {
            tracing::warn!(?route, %error, "Could not broadcast the end of a sign-in.");
        }
    }

    /// Listens to `access.revoked` (every node): each revocation drops its tokens from this
    /// node's cache. Subscribed before this returns, so nothing is missed once the node
    /// serves; subscribes again (and clears the cache: news may have been missed) when the
    /// bus connection is lost.
    pub async fn listen_for_revocations(&self) -> anyhow::Result<()> {
        let subscription = self.bus.subscribe(&revocations_route()).await?;
        actix_web::rt::spawn(listen(
            Arc::clone(&self.bus),
            Arc::clone(&self.tokens),
            subscription,
        ));
        Ok(())
    }
}

/// Drops what `revocation` ended from `tokens`.
fn apply(tokens: &TokenCache, revocation: &Revocation) {
    let now = Instant::now();
    match revocation {
        Revocation::Token { token_hash } => tokens.revoke_token(token_hash, now),
        Revocation::Account { agent_id } => tokens.revoke_account(agent_id, now),
    }
}

async fn listen(bus: Arc<dyn Bus>, tokens: Arc<TokenCache>, mut subscription: Subscription) {
    loop {
        while let Some(delivery) = subscription.next().await {
            let revocation = delivery.json::<Revocation>();
            if let Err(error) = delivery.ack().await {
                tracing::debug!(%error, "Ack of a revocation failed.");
            }
            match revocation {
                Ok(revocation) => apply(&tokens, &revocation),
                Err(error) => tracing::warn!(%error, "Dropped an undecodable revocation."),
            }
        }
        tracing::warn!("The revocation subscription ended; subscribing again.");
        subscription = loop {
            tokio::time::sleep(LISTENER_RESTART_DELAY).await;
            match bus.subscribe(&revocations_route()).await {
                Ok(subscription) => break subscription,
                Err(error) => tracing::warn!(%error, "Revocation subscription failed; retrying."),
            }
        };
        // Revocations published meanwhile were missed: verify every token afresh.
        tokens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(name: &str, ip: &str) -> Vec<String> {
        throttle_keys(name, Some(ip.parse().expect("ip")))
    }

    #[test]
    fn the_tenth_failure_locks_the_username_and_the_address_for_the_window() {
        let throttle = LoginThrottle::new(10, StdDuration::from_secs(900));
        let now = Instant::now();
        let attempt = keys("Alice", "10.0.0.1");
        for n in 1..10 {
            assert!(!throttle.failed(&attempt, now), "failure {n} locks nothing");
            assert_eq!(throttle.locked(&attempt, now), None, "after {n} failures");
        }
        assert!(throttle.failed(&attempt, now), "the tenth locks");
        assert_eq!(throttle.locked(&attempt, now), Some(900));
        // The same name from elsewhere, and anyone from that address, are locked too; the
        // name is compared without case.
        assert_eq!(throttle.locked(&keys("alice", "10.0.0.2"), now), Some(900));
        assert_eq!(throttle.locked(&keys("bob", "10.0.0.1"), now), Some(900));
        assert_eq!(throttle.locked(&keys("bob", "10.0.0.2"), now), None);
        // Until the window passes.
        let later = now + StdDuration::from_secs(899);
        assert_eq!(throttle.locked(&attempt, later), Some(1));
        assert_eq!(
            throttle.locked(&attempt, now + StdDuration::from_secs(900)),
            None
        );
    }

    #[test]
    fn failures_spread_over_many_usernames_lock_only_their_address() {
        let throttle = LoginThrottle::new(10, StdDuration::from_secs(900));
        let now = Instant::now();
        for n in 0..10 {
            throttle.failed(&keys(&format!("user{n}"), "192.0.2.7"), now);
        }
        assert!(throttle
            .locked(&keys("someone", "192.0.2.7"), now)
            .is_some());
        assert_eq!(throttle.locked(&keys("user0", "192.0.2.8"), now), None);
    }
}
