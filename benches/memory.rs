//! Heap held per customer session: active (actor alive, state cached) and passivated (actor
//! stopped, state only in the store). Not a timing benchmark: it counts bytes with an
//! instrumented global allocator.
//!
//! Method: N customers each send one message through the real pipeline (session router →
//! shard lane → `CustomerSession` → SQLite file store → bot), 50 at a time, which leaves N
//! active sessions. A first such round, not counted, grows the structures that grow with the
//! number of customers to their working size. In the second round live heap (allocated −
//! freed, Rust allocations; SQLite's own C allocations are not counted) is read before the
//! traffic, with all N sessions active, and after every session passivated:
//! `(active − passivated) / N` is what an active session holds, `(passivated − before) / N`
//! what a passivated customer holds (nothing: its state is in the store).
//!
//! Run: `cargo bench --bench memory` (N = 2,000; `SB_BENCH_SESSIONS` changes it). Prints JSON.
// Benchmarks, like tests, may panic on setup failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use switchboard::actors::customer_session::SessionDeps;
use switchboard::actors::delivery::NoDeliveries;
use switchboard::actors::protocol::Inbound;
use switchboard::actors::session_router::SessionRouter;
use switchboard::bot::KbBot;
use switchboard::bus::memory::MemoryBus;
use switchboard::domain::{Channel, ClientId, Customer, CustomerId, MessageText, Tier};
use switchboard::store::{sqlite::SqliteStore, CustomerStore};
use switchboard::telemetry::Metrics;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Sessions passivate after this much idle time (short, so the bench ends soon).
const IDLE: Duration = Duration::from_millis(1500);

fn live(region: &Region<'_, System>) -> i64 {
    let change = region.change();
    // stats_alloc books a realloc's growth or shrinkage in these two already.
    i64::try_from(change.bytes_allocated).unwrap_or(i64::MAX)
        - i64::try_from(change.bytes_deallocated).unwrap_or(i64::MAX)
}

fn main() {
    let sessions: usize = std::env::var("SB_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let system = actix::System::new();
    let report = system.block_on(async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SqliteStore::open(&dir.path().join("memory.db")).expect("store"));
        let mut customers = Vec::with_capacity(sessions);
        for i in 0..sessions {
            let customer = Customer {
                id: CustomerId::generate(),
                display_name: format!("Customer {i}"),
                tier: Tier::Standard,
                tags: vec![],
                created_at: Utc::now(),
            };
            store.insert_customer(&customer).await.expect("customer");
            customers.push(customer.id);
        }
        let metrics = Arc::new(Metrics::new().expect("metrics"));
        let router = SessionRouter::new(
            SessionDeps {
                store: store.clone(),
                bus: Arc::new(MemoryBus::new()),
                bot: Arc::new(KbBot::demo().expect("demo knowledge base")),
                assist: Default::default(),
                actions: Arc::new(switchboard::bot::actions::NoActions),
                metrics: Arc::clone(&metrics),
                deliveries: Arc::new(NoDeliveries),
                reply_channel: None,
                idle_timeout: IDLE,
                reply_timeout: Duration::from_secs(30),
            },
            "bench",
        );
        router.start().await.expect("shards");
        // Warm up one customer so lazily built statics (bot tables, metrics) are not counted.
        let warm = Customer {
            id: CustomerId::generate(),
            display_name: "Warm".to_owned(),
            tier: Tier::Standard,
            tags: vec![],
            created_at: Utc::now(),
        };
        store.insert_customer(&warm).await.expect("customer");
        send(&router, &warm.id, 0).await;
        tokio::time::sleep(IDLE * 3).await;

        // Round 1 grows every structure that grows with the number of customers (maps, the
        // blocking pool, the bus queues) to its working size; it is not counted.
        round(&router, &customers, 0).await;
        passivate_all(&router).await;

        let region = Region::new(GLOBAL);
        let before = live(&region);
        round(&router, &customers, sessions).await;
        let active_sessions = router.active();
        let active = live(&region);
        passivate_all(&router).await;
        let passivated_sessions = router.active();
        let passivated = live(&region);
        let n = sessions as f64;
        serde_json::json!({
            "sessions": sessions,
            "active_sessions": active_sessions,
            "sessions_left_after_passivation": passivated_sessions,
            "bytes_per_active_session": ((active - passivated) as f64 / n).round(),
            "bytes_per_passivated_customer": ((passivated - before) as f64 / n).round(),
        })
    });
    println!("{report}");
}

/// One message from every customer, a few at a time (as many customers write at once).
async fn round(router: &SessionRouter, customers: &[CustomerId], offset: usize) {
    for (chunk_index, chunk) in customers.chunks(50).enumerate() {
        let sends = chunk
            .iter()
            .enumerate()
            .map(|(i, customer)| send(router, customer, offset + chunk_index * 50 + i));
        futures_util::future::join_all(sends).await;
    }
}

/// Waits (bounded) until every session passivated.
async fn passivate_all(router: &SessionRouter) {
    let mut waited = Duration::ZERO;
    while router.active() > 0 && waited < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

async fn send(router: &SessionRouter, customer: &CustomerId, n: usize) {
    let client_id = format!("m-{n}");
    let inbound = Inbound {
        channel: Channel::Web,
        external_id: format!("{customer}/{client_id}"),
        client_id: Some(ClientId::parse(&client_id).expect("client id")),
        text: MessageText::parse("how do I get a refund?").expect("text"),
    };
    router.inbound(customer, inbound).await.expect("accepted");
}
