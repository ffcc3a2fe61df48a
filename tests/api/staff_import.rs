//! The bulk import of staff accounts (`POST /v1/staff/import`, CSV): a dry run lists every
//! problem of every row and stores nothing; an import with a problem stores nothing either
//! (422 with the same problems); a valid file of 500 agents creates them all, each audited and
//! able to sign in and be routed to; only admins may import; the limits are typed errors.

use reqwest::Method;
use serde_json::{json, Value};
use switchboard::domain::AgentId;
use switchboard::store::sqlite::SqliteStore;
use switchboard::store::{staff_subject, AuditStore};

use crate::helpers::{say, spawn_app, TestApp, Ws};

/// A password the policy takes.
const PASSWORD: &str = "a long secret phrase";

const HEADER: &str = "username,display_name,role,password,skills,languages,chat_capacity,voice_capacity,ticket_capacity,teams,extension";

/// `POST /v1/staff/import` with `csv` as `token`: the status and the answer.
async fn import(app: &TestApp, token: &str, csv: &str, dry_run: bool) -> (u16, Value) {
    let path = if dry_run {
        "/v1/staff/import?dry_run=true"
    } else {
        "/v1/staff/import"
    };
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The staff list as the admin sees it.
async fn staff(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app.get_json("/v1/staff", token).await;
    assert_eq!(status, 200, "{body}");
    body["staff"].as_array().expect("staff").clone()
}

/// Every problem as `(row, field)`.
fn places(body: &Value) -> Vec<(u64, String)> {
    body["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems: {body}"))
        .iter()
        .map(|p| {
            (
                p["row"].as_u64().expect("row"),
                p["field"].as_str().expect("field").to_owned(),
            )
        })
        .collect()
}

/// Signs in with the import's password; the token.
async fn sign_in(app: &TestApp, username: &str) -> String {
    let (status, body) = app
        .request_json(
            Method::POST,
            "/v1/auth/login",
            "",
            Some(json!({"username": username, "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 200, "{username}: {body}");
    body["token"].as_str().expect("token").to_owned()
}

#[actix_web::test]
async fn a_dry_run_lists_every_problem_of_every_row_and_an_import_with_one_stores_nothing() {
    let app = spawn_app(&[]).await;
    let (ada, _) = app.login("ada").await;
    let (status, body) = app
        .post_json("/v1/teams", &ada, json!({"name": "Blue"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let before = staff(&app, &ada).await;
    let csv = format!(
        "{HEADER}\n\
         li.wei,Li Wei,agent,{PASSWORD},billing:4;refunds:2,zh;en,4,,,blue,4021\n\
         bad user!,Bad,boss,short,billing:9,fr,,,,Green,12a\n\
         Alice,Alice Again,agent,{PASSWORD},,,,,,,\n\
         LI.WEI,Li Twin,agent,{PASSWORD},,,,,,,\n\
         \n\
         dora,,agent,{PASSWORD},tech,zh,many,,,,\n"
    );
    let (status, body) = import(&app, &ada, &csv, true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"], 5, "the blank line is no row: {body}");
    assert_eq!(body["valid"], 1, "{body}");
    let expected: Vec<(u64, String)> = [
        (3, "username"),
        (3, "role"),
        (3, "password"),
        (3, "skills"),
        (3, "languages"),
        (3, "teams"),
        (3, "extension"),
        (4, "username"),
        (5, "username"),
        (7, "display_name"),
        (7, "skills"),
        (7, "chat_capacity"),
    ]
    .into_iter()
    .map(|(row, field)| (row, field.to_owned()))
    .collect();
    assert_eq!(places(&body), expected, "{body:#}");
    let messages = body["problems"].to_string();
    assert!(
        messages.contains("is taken") && messages.contains("also in row 2"),
        "{messages}"
    );
    assert!(!messages.contains(PASSWORD), "no password echoed");
    // The preview: the valid row as it will be stored, the others as read; no passwords.
    let preview = body["preview"].as_array().expect("preview");
    assert_eq!(preview.len(), 5);
    assert_eq!(
        preview[0],
        json!({
            "row": 2, "valid": true, "username": "li.wei", "display_name": "Li Wei",
            "role": "agent", "skills": [{"name": "billing", "level": 4}, {"name": "refunds", "level": 2}],
            "languages": ["zh", "en"], "capacity": {"chat": 4, "voice": 1, "ticket": 5},
            "teams": ["blue"], "extension": "4021"
        })
    );
    assert_eq!(preview[1]["valid"], false);
    assert_eq!(preview[4]["row"], 7);
    assert!(!body["preview"].to_string().contains(PASSWORD));
    assert_eq!(staff(&app, &ada).await, before, "a dry run stores nothing");

    // Without dry_run: 422 with the same problems, and nothing stored.
    let (status, refused) = import(&app, &ada, &csv, false).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid");
    assert_eq!(places(&refused), expected);
    assert_eq!(refused["problems"], body["problems"]);
    assert_eq!(staff(&app, &ada).await, before, "all or nothing");

    // Two rows of one username, whatever its case, are refused even when both are valid.
    let twins = format!(
        "username,display_name,role,password\nnew.one,New,agent,{PASSWORD}\nNew.One,New,agent,{PASSWORD}\n"
    );
    let (status, body) = import(&app, &ada, &twins, false).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(places(&body), [(3, "username".to_owned())]);
    assert_eq!(staff(&app, &ada).await, before);

    // The header: unknown and missing columns.
    let (status, body) = import(&app, &ada, "username,name,role\nx,y,agent\n", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        places(&body),
        [
            (1, "name".to_owned()),
            (1, "display_name".to_owned()),
            (1, "password".to_owned())
        ]
    );
    assert_eq!(body["valid"], 0);
}

#[actix_web::test]
async fn only_admins_import_and_the_limits_are_typed_errors() {
    let app = spawn_app(&[]).await;
    let (ada, _) = app.login("ada").await;
    let (sam, _) = app.login("sam").await;
    let (alice, alice_id) = app.login("alice").await;
    let csv = format!("username,display_name,role,password\nnew.one,New,agent,{PASSWORD}\n");
    // A team lead and a supervisor may change agents' skills, not create accounts.
    let (status, body) = app
        .post_json(
            "/v1/staff",
            &ada,
            json!({"username": "lena", "display_name": "Lena", "password": PASSWORD, "role": "team_lead"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let lena = body["id"].as_str().expect("id").to_owned();
    let (status, body) = app
        .post_json(
            "/v1/teams",
            &ada,
            json!({"name": "Blue", "leads": [lena], "members": [alice_id]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let lead = sign_in(&app, "lena").await;
    for (who, token) in [
        ("agent", &alice),
        ("team lead", &lead),
        ("supervisor", &sam),
    ] {
        for dry_run in [true, false] {
            let (status, body) = import(&app, token, &csv, dry_run).await;
            assert_eq!(status, 403, "{who}: {body}");
            assert_eq!(body["error"]["code"], "forbidden");
        }
    }
    assert!(staff(&app, &ada)
        .await
        .iter()
        .all(|s| s["username"] != "new.one"));

    // Not CSV: 415. Over 2 MiB: 413. Over 1,000 rows: 422 at the first row too many.
    let (status, body) = app
        .post_json("/v1/staff/import", &ada, json!({"username": "x"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (415, json!("unsupported_media_type"))
    );
    let big = format!("{HEADER}\n{}", "x".repeat(2 * 1024 * 1024));
    let (status, body) = import(&app, &ada, &big, true).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (413, json!("payload_too_large"))
    );
    let mut many = String::from("username,display_name,role,password\n");
    for i in 0..1001 {
        many.push_str(&format!("user{i},User {i},agent,{PASSWORD}\n"));
    }
    let (status, body) = import(&app, &ada, &many, false).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(places(&body), [(1002, "row".to_owned())]);
    assert!(body["problems"][0]["message"]
        .as_str()
        .expect("message")
        .contains("1000"));
    // Not UTF-8: 400; an unknown query parameter: 422 invalid_request.
    let response = app
        .client
        .post(app.url("/v1/staff/import"))
        .bearer_auth(&ada)
        .header("content-type", "text/csv")
        .body(vec![b'u', 0xff, 0xfe, b'\n'])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    let (status, body) = app
        .request_json(Method::POST, "/v1/staff/import?dry=1", &ada, None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (422, json!("invalid_request"))
    );
    // An empty file is a problem of the file, not an error of the request.
    let (status, body) = import(&app, &ada, "", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(places(&body), [(1, "header".to_owned())]);
}

/// A Chinese customer whose question needs the `orders` skill asks for a person.
async fn orders_customer(app: &TestApp) -> Ws {
    let visitor = app.visitor().await;
    let mut customer = app.customer_ws(&visitor).await;
    say(&mut customer, "我的快递到哪了？", "o-1").await;
    say(&mut customer, "human", "o-2").await;
    customer
}

#[actix_web::test]
async fn five_hundred_agents_move_in_at_once_and_are_routed_to_like_any_account() {
    let app = spawn_app(&[]).await;
    let (ada, _) = app.login("ada").await;
    let ada_id = app.get_json("/v1/me", &ada).await.1["agent_id"]
        .as_str()
        .expect("id")
        .to_owned();
    for name in ["Orders 1F", "Refunds 2F"] {
        let (status, body) = app
            .post_json("/v1/teams", &ada, json!({"name": name}))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let before = staff(&app, &ada).await.len();
    let mut csv = format!("\u{feff}{HEADER}\n");
    for i in 0..500 {
        let (skills, team) = if i % 2 == 0 {
            ("orders:3;tech:2", "orders 1f")
        } else {
            ("billing:4;refunds:5", "Refunds 2F")
        };
        let languages = if i % 3 == 0 { "zh;en" } else { "zh" };
        csv.push_str(&format!(
            "agent{i:03},\"Agent {i:03}, Floor {}\",agent,{PASSWORD},{skills},{languages},{},,,{team},{}\n",
            1 + i % 2,
            2 + i % 4,
            4000 + i
        ));
    }
    let (status, preview) = import(&app, &ada, &csv, true).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        (preview["rows"].clone(), preview["valid"].clone()),
        (json!(500), json!(500))
    );
    assert_eq!(preview["problems"], json!([]));
    assert_eq!(preview["preview"].as_array().expect("preview").len(), 50);

    let (status, body) = import(&app, &ada, &csv, false).await;
    assert_eq!(status, 201, "{body}");
    let created = body["created"].as_array().expect("created");
    assert_eq!(created.len(), 500);
    assert_eq!(created[0]["username"], "agent000");
    assert_eq!(created[499]["username"], "agent499");

    let listed = staff(&app, &ada).await;
    assert_eq!(listed.len(), before + 500);
    let (_, teams) = app.get_json("/v1/teams", &ada).await;
    let orders = teams["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .find(|t| t["name"] == "Orders 1F")
        .cloned()
        .expect("orders team");
    assert_eq!(orders["members"].as_array().expect("members").len(), 250);
    let agent_042 = listed
        .iter()
        .find(|s| s["username"] == "agent042")
        .expect("agent042");
    assert_eq!(
        agent_042,
        &json!({
            "id": created[42]["id"], "username": "agent042", "display_name": "Agent 042, Floor 1",
            "role": "agent", "teams": [orders["id"]],
            "skills": [{"name": "orders", "level": 3}, {"name": "tech", "level": 2}],
            "languages": ["zh", "en"], "capacity": {"chat": 4, "voice": 1, "ticket": 5},
            "extension": "4042", "active": true
        })
    );

    // Each account is audited as a single creation, by the admin, without its password.
    let store = SqliteStore::open(&app.db_path).expect("store");
    let id = AgentId::from_trusted(created[42]["id"].as_str().expect("id"));
    let log = store
        .audit_log(&staff_subject(&id), 10)
        .await
        .expect("audit");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].action.as_str(), log[0].actor.as_str()),
        ("staff.created", ada_id.as_str())
    );
    assert_eq!(log[0].detail["username"], "agent042");
    assert!(!log[0].detail.to_string().contains(PASSWORD));

    // An imported agent signs in and is routed to like any other.
    let token = sign_in(&app, "agent042").await;
    let mut desk = Ws::connect(&app.ws_url("/v1/ws/agent", &token)).await;
    let hello = desk.next_of_type("hello").await;
    assert_eq!(hello["skills"][0], json!({"name": "orders", "level": 3}));
    desk.send(json!({"type": "status", "status": "available"}))
        .await;
    desk.next_of_type("status").await;
    let _customer = orders_customer(&app).await;
    let offer = desk.next_of_type("offer").await;
    assert_eq!(offer["skills"], json!(["orders"]));

    // The same file again: every username is taken now, and nothing more is stored.
    let (status, body) = import(&app, &ada, &csv, false).await;
    assert_eq!(status, 422);
    assert_eq!(body["problems"].as_array().expect("problems").len(), 500);
    assert_eq!(staff(&app, &ada).await.len(), before + 500);
}
