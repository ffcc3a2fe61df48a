//! The web channel: the chat widget's (and the app's) REST API ([`rest`]) and the customer
//! WebSocket ([`socket`]). Handlers stay thin: validate, authenticate, rate-limit, hand over
//! to the customer's session through [`crate::actors::session_router`], render the answer.

pub mod rest;
pub mod socket;

use actix_web::web;

/// Registers the web channel's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(rest::create_visitor)
        .service(rest::post_message)
        .service(rest::current_conversation)
        .service(socket::customer_ws);
}
