//! The permission table of `docs/permissions.md`, tested as written: every route is called as
//! every kind of caller (each staff role, a customer, nobody), and a ✓ must not be refused
//! while a — must be (401 without a valid token, 403 with one). The table must also list
//! exactly the operations of `docs/openapi.json`, so a new route cannot go unlisted.

use std::collections::BTreeSet;

use serde_json::json;
use switchboard::domain::{Agent, AgentId, Language, Role};
use switchboard::store::sqlite::SqliteStore;
use switchboard::store::AccountStore;

use crate::helpers::spawn_app;

/// The callers, in the table's column order.
const CALLERS: [&str; 6] = [
    "agent",
    "team_lead",
    "supervisor",
    "admin",
    "customer",
    "anonymous",
];

/// One row of the routes table.
struct Row {
    method: String,
    path: String,
    /// One cell per caller: `✓`, `—` or `signed`.
    cells: Vec<String>,
}

fn table() -> Vec<Row> {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/permissions.md"),
    )
    .expect("docs/permissions.md");
    let routes = doc
        .split("\n## Routes\n")
        .nth(1)
        .expect("a Routes section")
        .split("\n## ")
        .next()
        .expect("section");
    let mut rows = Vec::new();
    for line in routes.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect();
        assert_eq!(cells.len(), 2 + CALLERS.len(), "row {line}");
        let (method, path) = cells[0]
            .trim_matches('`')
            .split_once(' ')
            .expect("METHOD /path");
        rows.push(Row {
            method: method.to_owned(),
            path: path.to_owned(),
            cells: cells[2..].to_vec(),
        });
    }
    rows
}

#[test]
fn the_table_lists_exactly_the_documented_operations() {
    let openapi: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json"),
        )
        .expect("docs/openapi.json"),
    )
    .expect("json");
    let documented: BTreeSet<String> = openapi["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .expect("operations")
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    let listed: BTreeSet<String> = table()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        listed.difference(&documented).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in docs/permissions.md, not in docs/openapi.json"
    );
    assert_eq!(
        documented.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in docs/openapi.json, not in docs/permissions.md"
    );
}

#[test]
fn the_table_is_the_one_the_server_enforces() {
    use switchboard::channels::permissions::{access, Access, ROUTES};
    let rows = table();
    for row in &rows {
        let Some(access) = access(&row.method, &row.path) else {
            panic!(
                "{} {} is not in channels/permissions.rs",
                row.method, row.path
            );
        };
        let expected: Vec<&str> = match access {
            Access::Public => vec!["✓"; 6],
            Access::Signed => vec!["signed"; 6],
            Access::AnyToken => vec!["✓", "✓", "✓", "✓", "✓", "—"],
            Access::Customer => vec!["—", "—", "—", "—", "✓", "—"],
            Access::Staff(permission) => Role::ALL
                .iter()
                .map(|r| if r.may(permission) { "✓" } else { "—" })
                .chain(["—", "—"])
                .collect(),
        };
        assert_eq!(row.cells, expected, "{} {}", row.method, row.path);
    }
    // Every API route of the server is in the table (the front ends' static files and the
    // demo order system are described in its prose).
    for (method, pattern, _) in ROUTES {
        if pattern.starts_with("/v1/") || ["/healthz", "/readyz", "/metrics"].contains(pattern) {
            assert!(
                rows.iter()
                    .any(|r| r.method == *method && r.path == *pattern),
                "{method} {pattern} is missing from docs/permissions.md"
            );
        }
    }
}

#[actix_web::test]
async fn every_route_lets_in_exactly_the_callers_of_the_permission_table() {
    let app = spawn_app(&[]).await;
    // The demo has no team lead: one is made in the store.
    let store = SqliteStore::open(&app.db_path).expect("store");
    store
        .upsert_agent(&Agent {
            id: AgentId::from_trusted("agt_lead"),
            username: "lee".to_owned(),
            display_name: "Lee".to_owned(),
            role: Role::TeamLead,
            skills: Vec::new(),
            languages: vec![Language::Zh],
            capacity: 0,
            voice_capacity: None,
            ticket_capacity: None,
            password_hash: switchboard::auth::hash_password("demo").expect("hash"),
        })
        .await
        .expect("team lead");
    let sign_in = || async {
        vec![
            Some(app.login("alice").await.0),
            Some(app.login("lee").await.0),
            Some(app.login("sam").await.0),
            Some(app.login("ada").await.0),
            Some(app.visitor().await.token),
            None,
        ]
    };
    let mut tokens: Vec<Option<String>> = sign_in().await;

    let mut wrong = Vec::new();
    for row in table() {
        // Path parameters name nothing that exists: a caller let in gets 404 or 422, never
        // 401/403 (permission is checked before anything is looked up).
        let path = row
            .path
            .replace("{version}", "1")
            .replace("{id}", "perm-none")
            .replace("{merge_id}", "perm-none");
        for ((caller, cell), token) in CALLERS.iter().zip(&row.cells).zip(&tokens) {
            let method = reqwest::Method::from_bytes(row.method.as_bytes()).expect("method");
            let mut request = app.client.request(method.clone(), app.url(&path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if method == reqwest::Method::POST || method == reqwest::Method::PUT {
                request = request.json(&json!({}));
            }
            let status = request.send().await.expect("request").status().as_u16();
            let refused = status == 401 || status == 403;
            let ok = match cell.as_str() {
                "✓" => !refused,
                // Without a token: 401; with one that lacks the permission: 403.
                "—" => status == if token.is_some() { 403 } else { 401 },
                // A provider webhook without its signature is never taken, whoever calls
                // (refused by its handler: 401/403, or 4xx before it for a malformed request).
                "signed" => (400..500).contains(&status),
                other => panic!("unknown cell '{other}' in {} {}", row.method, row.path),
            };
            if !ok {
                wrong.push(format!(
                    "{} {} as {caller}: {status}, table says {cell}",
                    row.method, row.path
                ));
            }
        }
        if row.path == "/v1/auth/logout" {
            // Everyone let in is signed out now: sign in again for the rows that follow.
            tokens = sign_in().await;
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
