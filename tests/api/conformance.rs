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
    use switchboard::store::Store;
    assert!(again.customer(&customer.id).await.unwrap().is_some());
}

#[actix_web::test]
async fn in_process_bus_passes_the_bus_conformance_suite() {
    bus::conformance::run_all(Arc::new(MemoryBus::new()))
        .await
        .expect("conformance");
}
