//! The WebSocket plumbing the customer and agent sockets share: the heartbeat, the handling of
//! every frame that is not a command (ping, close, binary, fragments, protocol errors), JSON
//! out, and the typed error of a request that is not an upgrade. Each socket keeps only its
//! own protocol: which commands it reads and which events it writes.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web_actors::ws;
use bytestring::ByteString;
use serde::Serialize;

use crate::error::{ApiError, ErrorKind};
use crate::views::WsError;

/// How often a socket pings its client.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A client silent for this long is considered gone.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);

/// A socket actor: an actor on a WebSocket context that knows when its client last spoke.
pub trait Socket: Actor<Context = ws::WebsocketContext<Self>> {
    /// When the client was last heard from.
    fn last_heard(&mut self) -> &mut Instant;
    /// What the logs call this socket ("Agent desk", "Customer connection").
    const NAME: &'static str;
}

/// Pings the client every [`HEARTBEAT_INTERVAL`] and stops the actor once the client has been
/// silent for [`CLIENT_TIMEOUT`]. Call from `started`.
pub fn start_heartbeat<A: Socket>(ctx: &mut ws::WebsocketContext<A>) {
    ctx.run_interval(HEARTBEAT_INTERVAL, |act, ctx| {
        if act.last_heard().elapsed() > CLIENT_TIMEOUT {
            tracing::info!(socket = A::NAME, "A WebSocket client timed out.");
            ctx.stop();
            return;
        }
        ctx.ping(b"");
    });
}

/// Sends `value` as one JSON text frame.
pub fn send_json<A: Socket, T: Serialize>(ctx: &mut ws::WebsocketContext<A>, value: &T) {
    match serde_json::to_string(value) {
        Ok(text) => ctx.text(text),
        Err(error) => tracing::error!(socket = A::NAME, %error, "Encoding a socket event failed."),
    }
}

/// Handles one incoming frame: records that the client spoke, answers pings, closes on
/// close frames and protocol errors, refuses binary and fragmented frames with a typed error,
/// and returns the text of a text frame for the socket's own protocol.
pub fn read_frame<A: Socket>(
    act: &mut A,
    ctx: &mut ws::WebsocketContext<A>,
    item: Result<ws::Message, ws::ProtocolError>,
) -> Option<ByteString> {
    *act.last_heard() = Instant::now();
    match item {
        Ok(ws::Message::Text(text)) => return Some(text),
        Ok(ws::Message::Ping(bytes)) => ctx.pong(&bytes),
        Ok(ws::Message::Pong(_) | ws::Message::Nop) => {}
        Ok(ws::Message::Binary(_)) => {
            send_json(ctx, &WsError::new("unsupported", "Send JSON text frames."));
        }
        Ok(ws::Message::Close(reason)) => {
            ctx.close(reason);
            ctx.stop();
        }
        Ok(ws::Message::Continuation(_)) => send_json(
            ctx,
            &WsError::new(
                "unsupported",
                "Fragmented frames are not supported; send each message in one frame.",
            ),
        ),
        Err(error) => {
            tracing::info!(socket = A::NAME, %error, "WebSocket protocol error; closing.");
            ctx.stop();
        }
    }
    None
}

/// A WebSocket endpoint called without a valid upgrade: typed JSON instead of actix's text.
pub fn handshake_error(error: actix_web::Error) -> actix_web::Error {
    ApiError::new(
        ErrorKind::UpgradeRequired,
        format!("Expected a WebSocket upgrade request: {error}"),
    )
    .into()
}
