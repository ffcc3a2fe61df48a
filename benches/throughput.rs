//! End-to-end in-process message throughput, as a ratio to a bare actix round trip measured in
//! the same run.
//!
//! - `actix_round_trip`: `addr.send(Ping).await` to an echo actor (the floor of any actor
//!   design: one mailbox hop there and back).
//! - `customer_message`: one web customer message through the real pipeline: session router →
//!   `CustomerSession` actor → SQLite file store (WAL) → keyword bot → bot answer stored →
//!   both published on the in-process bus → acknowledged.
//!
//! Run: `cargo bench --bench throughput`. Prints criterion's figures, then messages/s of both
//! and their ratio over a fixed count.
// Benchmarks, like tests, may panic on setup failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use switchboard::actors::customer_session::SessionDeps;
use switchboard::actors::delivery::NoDeliveries;
use switchboard::actors::protocol::Inbound;
use switchboard::actors::session_router::SessionRouter;
use switchboard::bot::KbBot;
use switchboard::bus::memory::MemoryBus;
use switchboard::domain::{Channel, ClientId, Customer, CustomerId, MessageText, Tier};
use switchboard::store::{sqlite::SqliteStore, CustomerStore};
use switchboard::telemetry::Metrics;

struct Echo;

impl Actor for Echo {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "u64")]
struct Ping(u64);

impl Handler<Ping> for Echo {
    type Result = u64;

    fn handle(&mut self, msg: Ping, _: &mut Self::Context) -> u64 {
        msg.0
    }
}

struct Pipeline {
    router: SessionRouter,
    customer: CustomerId,
    next: u64,
    _dir: tempfile::TempDir,
}

impl Pipeline {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).expect("store"));
        let customer = Customer {
            id: CustomerId::generate(),
            display_name: "Bench".to_owned(),
            tier: Tier::Standard,
            tags: vec![],
            created_at: Utc::now(),
        };
        store.insert_customer(&customer).await.expect("customer");
        let router = SessionRouter::new(
            SessionDeps {
                store,
                bus: Arc::new(MemoryBus::new()),
                bot: Arc::new(KbBot::demo().expect("demo knowledge base")),
                assist: Default::default(),
                actions: Arc::new(switchboard::bot::actions::NoActions),
                metrics: Arc::new(Metrics::new().expect("metrics")),
                deliveries: Arc::new(NoDeliveries),
                reply_channel: None,
                idle_timeout: Duration::from_secs(600),
                reply_timeout: Duration::from_secs(30),
            },
            "bench",
        );
        router.start().await.expect("shards");
        Self {
            router,
            customer: customer.id,
            next: 0,
            _dir: dir,
        }
    }

    async fn send_one(&mut self) {
        self.next += 1;
        let client_id = format!("b-{}", self.next);
        let inbound = Inbound {
            channel: Channel::Web,
            external_id: format!("{}/{client_id}", self.customer),
            client_id: Some(ClientId::parse(&client_id).expect("client id")),
            text: MessageText::parse("how do I get a refund?").expect("text"),
        };
        self.router
            .inbound(&self.customer, inbound)
            .await
            .expect("accepted");
    }
}

fn throughput(c: &mut Criterion) {
    let system = System::new();
    let echo = system.block_on(async { Echo.start() });
    let mut pipeline = system.block_on(Pipeline::new());

    let mut group = c.benchmark_group("in_process");
    group.throughput(Throughput::Elements(1));
    group.bench_function("actix_round_trip", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    echo.send(Ping(i)).await.expect("echo");
                }
                start.elapsed()
            })
        })
    });
    group.sample_size(20);
    group.bench_function("customer_message", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    pipeline.send_one().await;
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    // The ratio, over a fixed count, in this same run.
    let (pings, messages) = (200_000u64, 3_000u64);
    let ping_rate = system.block_on(async {
        let start = Instant::now();
        for i in 0..pings {
            echo.send(Ping(i)).await.expect("echo");
        }
        pings as f64 / start.elapsed().as_secs_f64()
    });
    let message_rate = system.block_on(async {
        let start = Instant::now();
        for _ in 0..messages {
            pipeline.send_one().await;
        }
        messages as f64 / start.elapsed().as_secs_f64()
    });
    println!(
        "actix round trips/s: {ping_rate:.0}; customer messages/s (persisted + bot answer): {message_rate:.0}; ratio: {:.4} ({:.1}x the cost of a bare round trip)",
        message_rate / ping_rate,
        ping_rate / message_rate
    );
}

criterion_group!(benches, throughput);
criterion_main!(benches);
