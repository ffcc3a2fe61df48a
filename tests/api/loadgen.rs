//! The load generator against a live node: it drives real traffic and its completeness check
//! passes (and would fail the process if anything were lost or doubled).

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_load_generator_runs_against_a_node_and_finds_everything_complete() {
    let app = spawn_app(&[
        ("SWITCHBOARD_LIMITS__CUSTOMER_REFILL_MS", "1"),
        ("SWITCHBOARD_LIMITS__CUSTOMER_BURST", "1000"),
    ])
    .await;
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-loadgen"))
            .args([
                "--nodes",
                &address,
                "--customers",
                "4",
                "--messages",
                "5",
                "--max-seconds",
                "60",
            ])
            .output()
            .expect("loadgen runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "loadgen failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["messages_acknowledged"], 20);
    assert_eq!(report["lost"], 0);
    assert_eq!(report["duplicated"], 0);
    assert_eq!(report["complete"], true);
    assert!(report["ack_latency_ms"]["p99"].as_f64().unwrap() > 0.0);
}

#[actix_web::test]
async fn the_load_generator_refuses_non_loopback_targets() {
    let output = tokio::task::spawn_blocking(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-loadgen"))
            .args([
                "--nodes",
                "http://example.invalid:8080",
                "--customers",
                "1",
                "--messages",
                "1",
            ])
            .output()
            .expect("loadgen runs")
    })
    .await
    .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("only loopback"));
}
