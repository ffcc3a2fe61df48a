//! The staff edge: sign-in ([`login`]), the agent desk's WebSocket ([`desk`]) and the
//! customer views and merges for agents and supervisors ([`customers`]).

pub mod customers;
pub mod desk;
pub mod login;

use actix_web::web;

/// Registers the staff routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login::login)
        .service(login::me)
        .service(desk::agent_ws)
        .service(customers::lookup_customer)
        .service(customers::get_customer)
        .service(customers::customer_messages)
        .service(customers::merge_customers)
        .service(customers::undo_merge)
        .service(customers::queues);
}
