//! The Store and Bus conformance suites against the embedded implementations.

use std::sync::Arc;

use switchboard::bus::{self, memory::MemoryBus};
use switchboard::store::{self, sqlite::SqliteStore};

#[actix_web::test]
async fn sqlite_store_passes_the_store_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("conformance.db")).unwrap();
    store::conformance::run_all(Arc::new(store))
        .await
        .expect("conformance");
}

#[actix_web::test]
async fn sqlite_store_reopens_with_its_data_and_migrations_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.db");
    let store = SqliteStore::open(&path).unwrap();
    let (customer, _) = store::conformance::seed_conversation(&store).await.unwrap();
    drop(store);
    let again = SqliteStore::open(&path).unwrap();
    use switchboard::store::CustomerStore;
    assert!(again.customer(&customer.id).await.unwrap().is_some());
}

#[actix_web::test]
async fn in_process_bus_passes_the_bus_conformance_suite() {
    bus::conformance::run_all(Arc::new(MemoryBus::new()))
        .await
        .expect("conformance");
}

#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn postgres_store_passes_the_store_conformance_suite() {
    let url = crate::helpers::fresh_postgres_database().await;
    let store = switchboard::store::postgres::PostgresStore::connect(&url, 8)
        .await
        .unwrap();
    store::conformance::run_all(Arc::new(store))
        .await
        .expect("conformance");
}

#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn postgres_migrations_apply_once_when_nodes_start_together() {
    let url = crate::helpers::fresh_postgres_database().await;
    let (a, b) = tokio::join!(
        switchboard::store::postgres::PostgresStore::connect(&url, 2),
        switchboard::store::postgres::PostgresStore::connect(&url, 2)
    );
    let (a, _b) = (a.unwrap(), b.unwrap());
    let (customer, _) = store::conformance::seed_conversation(&a).await.unwrap();
    let again = switchboard::store::postgres::PostgresStore::connect(&url, 2)
        .await
        .unwrap();
    use switchboard::store::CustomerStore;
    assert!(again.customer(&customer.id).await.unwrap().is_some());
}

/// Every PostgreSQL statement file prepares on the migrated schema (PostgreSQL parses and
/// analyses a statement when it prepares it): a typo in a moved statement fails here.
#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn postgres_prepares_every_statement_file_on_the_migrated_schema() {
    let url = crate::helpers::fresh_postgres_database().await;
    switchboard::store::postgres::PostgresStore::connect(&url, 1)
        .await
        .unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sql/postgres");
    let mut prepared = 0;
    for aggregate in std::fs::read_dir(root).unwrap() {
        let aggregate = aggregate.unwrap().path();
        if !aggregate.is_dir() {
            continue; // a migration
        }
        for file in std::fs::read_dir(aggregate).unwrap() {
            let file = file.unwrap().path();
            let sql = std::fs::read_to_string(&file).unwrap();
            if let Err(e) = client.prepare(&sql).await {
                panic!("{}: {e}", file.display());
            }
            prepared += 1;
        }
    }
    assert!(prepared > 100, "{prepared} statements");
}

#[cfg(feature = "integration-tests")]
fn test_amqp_url() -> String {
    std::env::var("SWITCHBOARD_TEST_AMQP_URL")
        .expect("SWITCHBOARD_TEST_AMQP_URL (deploy/test.sh starts RabbitMQ and sets it)")
}

#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn rabbitmq_bus_passes_the_bus_conformance_suite() {
    let bus = switchboard::bus::rabbitmq::RabbitBus::connect(
        &test_amqp_url(),
        &format!("sbtest{}", uuid::Uuid::new_v4().simple()),
        60_000,
    )
    .await
    .unwrap();
    bus::conformance::run_all(Arc::new(bus))
        .await
        .expect("conformance");
}

#[cfg(feature = "integration-tests")]
#[actix_web::test]
async fn rabbitmq_parks_a_poison_message_after_at_most_five_deliveries_and_the_queue_keeps_moving()
{
    use futures_util::StreamExt;
    use switchboard::bus::{Bus, Route};
    let namespace = format!("sbtest{}", uuid::Uuid::new_v4().simple());
    let bus = switchboard::bus::rabbitmq::RabbitBus::connect(&test_amqp_url(), &namespace, 60_000)
        .await
        .unwrap();
    bus.publish(&Route::Queue("work".into()), b"poison".to_vec())
        .await
        .unwrap();
    bus.publish(&Route::Queue("work".into()), b"fine".to_vec())
        .await
        .unwrap();
    let mut sub = bus.consume("work").await.unwrap();
    let mut poison_deliveries = 0;
    let mut fine = false;
    // Bounded: at most 20 deliveries; stop once nothing arrives for 2 s. The consumer rejects
    // the poison every time, as a consumer that crashes on it would.
    for _ in 0..20 {
        let Ok(Some(d)) = tokio::time::timeout(std::time::Duration::from_secs(2), sub.next()).await
        else {
            break;
        };
        if d.payload == b"poison" {
            poison_deliveries += 1;
            d.nack(true).await.unwrap();
        } else {
            fine = true;
            d.ack().await.unwrap();
        }
    }
    assert!(fine, "the queue did not keep moving");
    assert!(
        (1..=5).contains(&poison_deliveries),
        "poison delivered {poison_deliveries} times"
    );
    let mut parked = 0;
    for _ in 0..50 {
        parked = bus.parked_count().await.unwrap();
        if parked == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(parked, 1, "the poison message is parked for operators");
    // A node on this bus shows it in /metrics (read at scrape time).
    let app = crate::helpers::spawn_app(&[
        ("SWITCHBOARD_AMQP_URL", test_amqp_url().as_str()),
        ("SWITCHBOARD_BUS__NAMESPACE", namespace.as_str()),
        ("SWITCHBOARD_BUS__QUEUE_EXPIRES_MS", "60000"),
    ])
    .await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("switchboard_bus_parked_messages 1"),
        "{metrics}"
    );
}
