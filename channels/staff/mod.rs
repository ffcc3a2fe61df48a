//! The staff edge: sign-in and sign-out ([`login`]), the agent desk's WebSocket ([`desk`]),
//! the customer views and merges for agents and supervisors ([`customers`]), and staff
//! accounts and teams ([`admin`]), the live board and activity timelines ([`supervision`]).

pub mod admin;
pub mod customers;
pub mod desk;
pub mod login;
pub mod supervision;

use actix_web::web;

/// Registers the staff routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login::login)
        .service(login::me)
        .service(login::logout)
        .service(admin::list_staff)
        .service(admin::create_staff)
        // The fixed path before `/v1/staff/{id}`.
        .service(
            web::resource("/v1/staff/import")
                .app_data(web::PayloadConfig::new(
                    crate::services::staff_import::MAX_IMPORT_BYTES,
                ))
                .route(web::post().to(admin::import_staff))
                .default_service(web::to(super::ops::no_route)),
        )
        .service(admin::patch_staff)
        .service(admin::deactivate_staff)
        .service(admin::list_teams)
        .service(admin::create_team)
        .service(supervision::live_conversations)
        .service(supervision::agent_activity)
        .service(desk::agent_ws)
        .service(customers::lookup_customer)
        .service(customers::get_customer)
        .service(customers::customer_messages)
        .service(customers::merge_customers)
        .service(customers::undo_merge)
        .service(customers::queues);
}
