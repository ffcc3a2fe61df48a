//! The load generator against a live node: it drives real traffic (customers, and agents that
//! accept and answer), and its completeness checks pass (and would fail the process if
//! anything were lost or doubled).

use serde_json::Value;

use crate::helpers::spawn_app;

/// Relaxed per-customer flood limit, so the load generator is not throttled.
const RELAXED_LIMITS: [(&str, &str); 2] = [
    ("SWITCHBOARD_LIMITS__CUSTOMER_REFILL_MS", "1"),
    ("SWITCHBOARD_LIMITS__CUSTOMER_BURST", "1000"),
];

/// Runs `switchboard-loadgen` with `args` (it stops by itself: every run is bounded).
async fn loadgen(args: &[&str]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-loadgen"))
            .args(&args)
            .output()
            .expect("loadgen runs")
    })
    .await
    .unwrap()
}

/// The JSON report of a successful run.
fn report(output: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "loadgen failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).expect("JSON report")
}

/// The delivery-to-agent figures of one run are perfect.
fn assert_agents_got_everything(run: &Value) {
    assert_eq!(run["customers_unassigned"], 0, "{run:#}");
    assert_eq!(run["agent_lost"], 0, "{run:#}");
    assert_eq!(run["agent_duplicated"], 0, "{run:#}");
    assert_eq!(run["agent_reordered"], 0, "{run:#}");
    assert_eq!(run["agent_misrouted"], 0, "{run:#}");
    assert_eq!(
        run["delivered_to_agent"], run["messages_acknowledged"],
        "{run:#}"
    );
    assert_eq!(run["complete"], true, "{run:#}");
}

#[actix_web::test]
async fn the_load_generator_runs_against_a_node_and_finds_everything_complete() {
    let app = spawn_app(&RELAXED_LIMITS).await;
    let output = loadgen(&[
        "--nodes",
        &app.address,
        "--customers",
        "4",
        "--messages",
        "5",
        "--max-seconds",
        "60",
    ])
    .await;
    let report = report(&output);
    assert_eq!(report["messages_acknowledged"], 20);
    assert_eq!(report["lost"], 0);
    assert_eq!(report["duplicated"], 0);
    assert_eq!(report["mode"], "closed_loop");
    assert_eq!(report["complete"], true);
    assert!(report["ack_latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    assert!(
        report.get("delivered_to_agent").is_none(),
        "no agents asked for"
    );
}

#[actix_web::test]
async fn simulated_agents_accept_and_receive_every_acknowledged_message_once_in_order() {
    let mut env = RELAXED_LIMITS.to_vec();
    env.push(("SWITCHBOARD_DEMO__LOAD_AGENTS", "3"));
    let app = spawn_app(&env).await;
    let output = loadgen(&[
        "--nodes",
        &app.address,
        "--agents",
        "3",
        "--customers",
        "6",
        "--messages",
        "5",
        "--max-seconds",
        "60",
    ])
    .await;
    let report = report(&output);
    assert_eq!(report["agents"], 3);
    assert_eq!(report["messages_acknowledged"], 30);
    assert_eq!(report["delivered_to_agent"], 30);
    assert_agents_got_everything(&report);
    // Every customer was answered and every conversation wrapped up.
    assert_eq!(report["agent_replies"], 30);
    assert_eq!(report["agent_wrap_ups"], 6);
    assert_eq!(report["lost"], 0);
    assert_eq!(report["duplicated"], 0);
    assert!(report["agent_latency_ms"]["p99"].as_f64().unwrap() > 0.0);
}

#[actix_web::test]
async fn the_load_generator_sends_at_a_fixed_rate_in_open_loop() {
    let app = spawn_app(&RELAXED_LIMITS).await;
    let output = loadgen(&[
        "--nodes",
        &app.address,
        "--customers",
        "2",
        "--messages",
        "4",
        "--rate",
        "40",
        "--max-seconds",
        "60",
    ])
    .await;
    let report = report(&output);
    assert_eq!(report["mode"], "open_loop");
    assert_eq!(report["target_rate_per_s"], 40.0);
    assert_eq!(report["messages_acknowledged"], 8);
    assert_eq!(report["complete"], true);
    assert!(report["send_lag_ms"]["p99"].is_number());
}

#[actix_web::test]
async fn at_a_fraction_of_saturation_agents_serve_two_runs_and_free_their_capacity() {
    let mut env = RELAXED_LIMITS.to_vec();
    env.push(("SWITCHBOARD_DEMO__LOAD_AGENTS", "2"));
    let app = spawn_app(&env).await;
    // 2 agents hold 16 conversations; 10 + 10 customers fit only if the first run's
    // conversations are wrapped up.
    let output = loadgen(&[
        "--nodes",
        &app.address,
        "--agents",
        "2",
        "--customers",
        "10",
        "--messages",
        "3",
        "--at-saturation-fraction",
        "0.5",
        "--max-seconds",
        "60",
    ])
    .await;
    let report = report(&output);
    let saturation = &report["saturation_run"];
    assert_eq!(saturation["mode"], "closed_loop");
    assert_eq!(saturation["messages_acknowledged"], 30);
    assert_agents_got_everything(saturation);
    assert_eq!(report["mode"], "open_loop");
    assert_eq!(report["messages_acknowledged"], 30);
    assert_agents_got_everything(&report);
    assert_eq!(report["saturation_fraction"], 0.5);
    let saturating = report["saturating_messages_per_s"].as_f64().unwrap();
    let target = report["target_rate_per_s"].as_f64().unwrap();
    assert!(target > 0.0);
    // Half of the unrounded saturating rate, which the report rounds to a whole number.
    assert!((target - saturating * 0.5).abs() <= 0.5, "{report:#}");
    assert_eq!(report["complete"], true);
}

#[actix_web::test]
async fn the_load_generator_says_so_when_the_agent_accounts_are_missing() {
    let app = spawn_app(&RELAXED_LIMITS).await;
    let output = loadgen(&[
        "--nodes",
        &app.address,
        "--agents",
        "1",
        "--customers",
        "1",
        "--messages",
        "1",
    ])
    .await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("load-agent-1"), "{stderr}");
    assert!(stderr.contains("LOAD_AGENTS"), "{stderr}");
}

#[actix_web::test]
async fn the_load_generator_refuses_non_loopback_targets() {
    let output = loadgen(&[
        "--nodes",
        "http://example.invalid:8080",
        "--customers",
        "1",
        "--messages",
        "1",
    ])
    .await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("only loopback"));
}
