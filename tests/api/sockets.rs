//! The WebSocket wire below the JSON protocol, which integrators and the browser depend on:
//! pings answered, a close echoed, binary and fragmented frames refused with a typed error
//! (the socket stays open), an oversized frame closing the socket, the desk's close when a
//! newer desk replaces it, the heartbeat, and a desk's actor stopping when its client goes.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{spawn_app, TestApp, WAIT};

type Raw = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A socket whose every frame the test sees (the helpers' `Ws` reads JSON only).
async fn raw(url: &str) -> Raw {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("WebSocket connects")
        .0
}

async fn customer(app: &TestApp) -> Raw {
    let visitor = app.visitor().await;
    raw(&app.ws_url("/v1/ws/customer", &visitor.token)).await
}

/// The next frame that is not a server ping, or None once the socket ended.
async fn next_frame(ws: &mut Raw) -> Option<Message> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame or the end within the wait")
        {
            Some(Ok(Message::Ping(_))) => continue,
            Some(Ok(message)) => return Some(message),
            Some(Err(_)) | None => return None,
        }
    }
}

async fn next_json(ws: &mut Raw) -> Value {
    match next_frame(ws).await {
        Some(Message::Text(text)) => serde_json::from_str(&text).expect("JSON text frame"),
        other => panic!("expected a JSON text frame, got {other:?}"),
    }
}

/// True once the socket ends, whether by a close frame or by the connection going.
async fn ends(ws: &mut Raw) -> bool {
    loop {
        match next_frame(ws).await {
            None | Some(Message::Close(_)) => return true,
            Some(Message::Text(text)) => panic!("unexpected text before the end: {text}"),
            Some(_) => continue,
        }
    }
}

#[actix_web::test]
async fn binary_and_fragmented_frames_get_a_typed_error_and_the_socket_stays_open() {
    let app = spawn_app(&[]).await;
    let mut ws = customer(&app).await;
    ws.send(Message::Binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "error", "code": "unsupported", "message": "Send JSON text frames."})
    );
    let fragmented = json!({
        "type": "error",
        "code": "unsupported",
        "message": "Fragmented frames are not supported; send each message in one frame.",
    });
    let first = Frame::message(b"{\"type\":".to_vec(), OpCode::Data(Data::Text), false);
    ws.send(Message::Frame(first)).await.unwrap();
    assert_eq!(next_json(&mut ws).await, fragmented);
    let last = Frame::message(b"\"dance\"}".to_vec(), OpCode::Data(Data::Continue), true);
    ws.send(Message::Frame(last)).await.unwrap();
    assert_eq!(next_json(&mut ws).await, fragmented);
    // Still open, still speaking the protocol.
    ws.send(Message::Text(json!({"type": "dance"}).to_string()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["code"], "unknown_type");
}

#[actix_web::test]
async fn pings_are_answered_and_a_close_is_echoed() {
    let app = spawn_app(&[]).await;
    let mut ws = customer(&app).await;
    ws.send(Message::Ping(b"are you there".to_vec()))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut ws).await,
        Some(Message::Pong(b"are you there".to_vec()))
    );
    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "bye".into(),
    })))
    .await
    .unwrap();
    assert_eq!(
        next_frame(&mut ws).await,
        Some(Message::Close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "bye".into(),
        })))
    );
    assert_eq!(next_frame(&mut ws).await, None);
}

#[actix_web::test]
async fn a_frame_over_the_body_limit_closes_the_socket() {
    let app = spawn_app(&[("SWITCHBOARD_HTTP__BODY_LIMIT_BYTES", "2048")]).await;
    let mut ws = customer(&app).await;
    // Just under the limit is a command like any other.
    let padding = "x".repeat(1900);
    ws.send(Message::Text(
        json!({"type": "dance", "padding": padding}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(next_json(&mut ws).await["code"], "unknown_type");
    let text = "y".repeat(5000);
    ws.send(Message::Text(
        json!({"type": "message", "text": text, "client_id": "big"}).to_string(),
    ))
    .await
    .unwrap();
    assert!(ends(&mut ws).await);
}

#[actix_web::test]
async fn a_replaced_desk_gets_an_error_then_a_policy_close() {
    let app = spawn_app(&[]).await;
    let (token, _) = app.login("alice").await;
    let mut first = raw(&app.ws_url("/v1/ws/agent", &token)).await;
    assert_eq!(next_json(&mut first).await["type"], "hello");
    let mut second = raw(&app.ws_url("/v1/ws/agent", &token)).await;
    assert_eq!(next_json(&mut second).await["type"], "hello");
    assert_eq!(
        next_json(&mut first).await,
        json!({
            "type": "error",
            "code": "replaced",
            "message": "This desk was opened in another window.",
        })
    );
    assert_eq!(
        next_frame(&mut first).await,
        Some(Message::Close(Some(CloseFrame {
            code: CloseCode::Policy,
            reason: "replaced by a newer desk".into(),
        })))
    );
    // The newer desk is untouched.
    second
        .send(Message::Text(
            json!({"type": "status", "status": "away"}).to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut second).await,
        json!({"type": "status", "status": "away"})
    );
}

#[actix_web::test]
async fn the_server_pings_a_quiet_socket_and_drops_a_silent_one() {
    let app = spawn_app(&[]).await;
    let mut ws = customer(&app).await;
    // A ping within the heartbeat interval (5 s), with an empty payload.
    let ping = tokio::time::timeout(Duration::from_secs(8), ws.next())
        .await
        .expect("a ping within 8 s");
    assert!(
        matches!(ping, Some(Ok(Message::Ping(ref p))) if p.is_empty()),
        "{ping:?}"
    );
    // Heard from at that read (the client answered the ping when it read it); then silence:
    // not reading means not answering the pings, and the server drops the socket after 15 s.
    tokio::time::sleep(Duration::from_secs(21)).await;
    let mut ended = false;
    while let Ok(frame) = tokio::time::timeout(WAIT, ws.next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => continue,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                ended = true;
                break;
            }
            Some(Ok(other)) => panic!("unexpected frame {other:?}"),
        }
    }
    assert!(ended, "the server kept a silent socket open");
}

/// The number of connected desks the metrics report.
async fn connected_agents(app: &TestApp) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix("switchboard_connected_agents "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no connected_agents in the metrics:\n{text}"))
}

async fn connected_agents_become(app: &TestApp, wanted: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = connected_agents(app).await;
        if now == wanted {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "connected_agents stayed {now}, expected {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_desk_whose_client_goes_stops_closed_or_dropped() {
    let app = spawn_app(&[]).await;
    let (alice, _) = app.login("alice").await;
    let (carol, _) = app.login("carol").await;
    let mut closed = raw(&app.ws_url("/v1/ws/agent", &alice)).await;
    assert_eq!(next_json(&mut closed).await["type"], "hello");
    let mut dropped = raw(&app.ws_url("/v1/ws/agent", &carol)).await;
    assert_eq!(next_json(&mut dropped).await["type"], "hello");
    connected_agents_become(&app, 2).await;
    closed.close(None).await.unwrap();
    connected_agents_become(&app, 1).await;
    // The connection goes without a close frame.
    drop(dropped);
    connected_agents_become(&app, 0).await;
}
