//! The WebSocket plumbing the customer and agent sockets share, on actix-ws: the upgrade
//! ([`start`]), the writer that sends frames in order ([`Writer`]), the heartbeat, the
//! handling of every frame that is not a command (ping, close, binary, fragments, protocol
//! errors), JSON out, and the typed error of a request that is not an upgrade. Each socket
//! keeps only its own protocol: which commands it reads and which events it writes.
//!
//! A socket is a plain actor (`Context<Self>`). [`start`] creates it with the client's frames
//! as one of its streams (`StreamHandler<Frame>`) and a [`Writer`]: the actor queues frames
//! synchronously on an unbounded channel and one task per socket awaits each on the session,
//! so frames leave in the order they were queued. When the actor stops it drops its writer:
//! the task sends what was queued and ends, and with it the response, which closes the
//! connection. When the client goes, its frames end and the actor stops.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
pub use actix_ws::{CloseCode, CloseReason, Message, ProtocolError};
use bytestring::ByteString;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::{ApiError, ErrorKind};
use crate::views::WsError;

/// How often a socket pings its client.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A client silent for this long is considered gone.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);

/// One item of a client's frames, as the socket actor's stream handler receives it.
pub type Frame = Result<Message, ProtocolError>;

/// A socket actor: a plain actor reading its client's frames, writing through a [`Writer`],
/// and knowing when its client last spoke.
pub trait Socket: Actor<Context = Context<Self>> + StreamHandler<Frame> {
    /// What the logs call this socket ("agent desk", "customer connection").
    const NAME: &'static str;
    /// When the client was last heard from.
    fn last_heard(&mut self) -> &mut Instant;
    /// Where this socket's frames to the client go.
    fn writer(&self) -> &Writer;
}

/// Upgrades `req` to a WebSocket and starts the socket actor that `socket` builds around the
/// connection's [`Writer`]. The actor reads the client's frames (one larger than
/// `max_frame_size` bytes is a protocol error, which closes the socket) and pings the client
/// every [`HEARTBEAT_INTERVAL`]. A request that is not an upgrade gets the typed
/// `websocket_upgrade_required` error (400).
pub fn start<A: Socket>(
    req: &HttpRequest,
    body: web::Payload,
    max_frame_size: usize,
    socket: impl FnOnce(Writer) -> A,
) -> Result<HttpResponse, actix_web::Error> {
    let (response, session, frames) = actix_ws::handle(req, body).map_err(handshake_error)?;
    let writer = Writer::spawn(session, A::NAME);
    A::create(move |ctx| {
        ctx.add_stream(frames.max_frame_size(max_frame_size));
        start_heartbeat(ctx);
        socket(writer)
    });
    Ok(response)
}

/// The sending half of one socket. Sending never waits: frames are queued and written in
/// order by the socket's writer task. Dropping the writer (with its actor) ends the
/// connection once the queued frames are out; [`Writer::close`] ends it with a close frame.
pub struct Writer {
    frames: mpsc::UnboundedSender<Message>,
    /// The socket's [`Socket::NAME`], for the logs.
    name: &'static str,
}

impl Writer {
    /// Starts the task that writes the queued frames to `session`, one at a time.
    fn spawn(mut session: actix_ws::Session, name: &'static str) -> Self {
        let (frames, mut queue) = mpsc::unbounded_channel();
        actix::spawn(async move {
            while let Some(frame) = queue.recv().await {
                let written = match frame {
                    Message::Text(text) => session.text(text).await,
                    Message::Ping(bytes) => session.ping(&bytes).await,
                    Message::Pong(bytes) => session.pong(&bytes).await,
                    Message::Close(reason) => {
                        // Nothing may follow a close frame.
                        let _ = session.close(reason).await;
                        return;
                    }
                    // Never queued: the sockets send text and control frames only.
                    Message::Binary(_) | Message::Continuation(_) | Message::Nop => Ok(()),
                };
                if written.is_err() {
                    // The connection is gone; the actor learns it from its frames ending.
                    return;
                }
            }
            // The actor stopped without a close frame: dropping the session ends the
            // response, and the connection with it.
        });
        Self { frames, name }
    }

    /// Queues a frame. Once the connection is gone there is nobody to tell.
    fn queue(&self, frame: Message) {
        let _ = self.frames.send(frame);
    }

    /// Sends one text frame.
    pub fn text(&self, text: impl Into<ByteString>) {
        self.queue(Message::Text(text.into()));
    }

    /// Sends `value` as one JSON text frame.
    pub fn json<T: Serialize>(&self, value: &T) {
        match serde_json::to_string(value) {
            Ok(text) => self.text(text),
            Err(error) => {
                tracing::error!(socket = self.name, %error, "Encoding a socket event failed.")
            }
        }
    }

    /// Pings the client.
    pub fn ping(&self, payload: &[u8]) {
        self.queue(Message::Ping(payload.to_vec().into()));
    }

    /// Answers a ping.
    pub fn pong(&self, payload: &[u8]) {
        self.queue(Message::Pong(payload.to_vec().into()));
    }

    /// Sends a close frame; nothing is sent after it. The actor should stop too.
    pub fn close(&self, reason: Option<CloseReason>) {
        self.queue(Message::Close(reason));
    }
}

/// Pings the client every [`HEARTBEAT_INTERVAL`] and stops the actor once the client has been
/// silent for [`CLIENT_TIMEOUT`]. [`start`] calls it.
fn start_heartbeat<A: Socket>(ctx: &mut Context<A>) {
    ctx.run_interval(HEARTBEAT_INTERVAL, |act, ctx| {
        if act.last_heard().elapsed() > CLIENT_TIMEOUT {
            tracing::info!(socket = A::NAME, "A WebSocket client timed out.");
            ctx.stop();
            return;
        }
        act.writer().ping(b"");
    });
}

/// Handles one incoming frame: records that the client spoke, answers pings, closes on
/// close frames and protocol errors, refuses binary and fragmented frames with a typed error,
/// and returns the text of a text frame for the socket's own protocol.
pub fn read_frame<A: Socket>(act: &mut A, ctx: &mut Context<A>, item: Frame) -> Option<ByteString> {
    *act.last_heard() = Instant::now();
    let writer = act.writer();
    match item {
        Ok(Message::Text(text)) => return Some(text),
        Ok(Message::Ping(bytes)) => writer.pong(&bytes),
        Ok(Message::Pong(_) | Message::Nop) => {}
        Ok(Message::Binary(_)) => {
            writer.json(&WsError::new("unsupported", "Send JSON text frames."));
        }
        Ok(Message::Close(reason)) => {
            writer.close(reason);
            ctx.stop();
        }
        Ok(Message::Continuation(_)) => writer.json(&WsError::new(
            "unsupported",
            "Fragmented frames are not supported; send each message in one frame.",
        )),
        Err(error) => {
            tracing::info!(socket = A::NAME, %error, "WebSocket protocol error; closing.");
            ctx.stop();
        }
    }
    None
}

/// A WebSocket endpoint called without a valid upgrade: typed JSON instead of actix's text.
fn handshake_error(error: actix_web::Error) -> actix_web::Error {
    ApiError::new(
        ErrorKind::UpgradeRequired,
        format!("Expected a WebSocket upgrade request: {error}"),
    )
    .into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use actix_web::http::header;
    use actix_web::test::TestRequest;
    use actix_web::FromRequest;

    use super::*;

    /// A writer on a real upgrade, and the response whose body carries what it writes.
    async fn upgraded() -> (HttpResponse, Writer) {
        let (req, mut payload) = TestRequest::get()
            .insert_header((header::UPGRADE, "websocket"))
            .insert_header((header::CONNECTION, "upgrade"))
            .insert_header((header::SEC_WEBSOCKET_VERSION, "13"))
            .insert_header((header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ=="))
            .to_http_parts();
        let body = web::Payload::from_request(&req, &mut payload)
            .await
            .unwrap();
        let (response, session, _frames) = actix_ws::handle(&req, body).unwrap();
        (response, Writer::spawn(session, "test socket"))
    }

    /// The (opcode, payload) of each short unmasked server frame in `bytes`.
    fn frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let (opcode, len) = (bytes[0] & 0x0f, usize::from(bytes[1] & 0x7f));
            assert!(len < 126, "a short frame");
            frames.push((opcode, bytes[2..2 + len].to_vec()));
            bytes = &bytes[2 + len..];
        }
        frames
    }

    #[actix_web::test]
    async fn the_writer_sends_frames_in_order_and_nothing_after_a_close() {
        let (response, writer) = upgraded().await;
        for i in 0..200 {
            writer.text(i.to_string());
            if i % 50 == 0 {
                writer.ping(b"");
            }
        }
        writer.json(&WsError::new("replaced", "gone"));
        writer.close(Some(CloseReason {
            code: CloseCode::Policy,
            description: Some("bye".to_owned()),
        }));
        writer.text("after the close");
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let mut expected = Vec::new();
        for i in 0..200 {
            expected.push((0x1, i.to_string().into_bytes()));
            if i % 50 == 0 {
                expected.push((0x9, Vec::new()));
            }
        }
        expected.push((
            0x1,
            br#"{"type":"error","code":"replaced","message":"gone"}"#.to_vec(),
        ));
        // Close: the code (1008) then the reason.
        expected.push((0x8, [&1008u16.to_be_bytes()[..], b"bye"].concat()));
        assert_eq!(frames(&body), expected);
        drop(writer);
    }

    #[actix_web::test]
    async fn dropping_the_writer_sends_what_was_queued_and_ends_the_response() {
        let (response, writer) = upgraded().await;
        writer.text("last words");
        writer.pong(b"p");
        drop(writer);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        assert_eq!(
            frames(&body),
            vec![(0x1, b"last words".to_vec()), (0xA, b"p".to_vec())]
        );
    }

    #[actix_web::test]
    async fn a_request_that_is_not_an_upgrade_gets_the_typed_error() {
        let (req, mut payload) = TestRequest::get().to_http_parts();
        let body = web::Payload::from_request(&req, &mut payload)
            .await
            .unwrap();
        let error = actix_ws::handle(&req, body)
            .map_err(handshake_error)
            .err()
            .unwrap();
        let response = error.error_response();
        assert_eq!(response.status(), 400);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "websocket_upgrade_required");
        assert_eq!(
            body["error"]["message"],
            "Expected a WebSocket upgrade request: WebSocket upgrade is expected"
        );
    }
}
