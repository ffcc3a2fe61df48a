//! The demo's order system, served by the demo node itself so the demo flows (order status,
//! refund request, change of address) work out of the box. A real deployment points
//! `bot.services.orders` at its own order system instead; this is never served then.
//!
//! Orders are made up from their number, so every demo order number "exists":
//! `SB` + 8–14 digits; the last digit decides the state — 0: no such order (404), 1–3: paid,
//! not shipped (the address can change), 4–6: shipped (address change refused: 409), 7–9:
//! delivered. A refund of an order ending in 9 is refused as already refunded (409).

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

/// Where the demo order system is served.
pub const BASE_PATH: &str = "/demo/orders-api";

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(order).service(refund).service(address);
}

/// The state of a made-up order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoOrder {
    Paid,
    Shipped,
    Delivered,
}

/// The demo order a number stands for, if any.
pub fn demo_order(order_no: &str) -> Option<DemoOrder> {
    let upper = order_no.to_ascii_uppercase();
    let digits = upper.strip_prefix("SB")?;
    if !(8..=14).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match digits.bytes().last()? {
        b'0' => None,
        b'1'..=b'3' => Some(DemoOrder::Paid),
        b'4'..=b'6' => Some(DemoOrder::Shipped),
        _ => Some(DemoOrder::Delivered),
    }
}

fn not_found(order_no: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "order_not_found", "order_no": order_no }))
}

#[get("/demo/orders-api/orders/{order_no}")]
async fn order(order_no: web::Path<String>) -> HttpResponse {
    let Some(state) = demo_order(&order_no) else {
        return not_found(&order_no);
    };
    let (status, eta) = match state {
        DemoOrder::Paid => ("待发货 awaiting shipment", "2026-11-29"),
        DemoOrder::Shipped => ("运输中 in transit (SF Express)", "2026-11-27"),
        DemoOrder::Delivered => ("已签收 delivered", "2026-11-24"),
    };
    HttpResponse::Ok().json(json!({
        "order_no": order_no.to_ascii_uppercase(),
        "status": status,
        "eta": eta,
        "carrier": "SF Express",
    }))
}

#[derive(Debug, Deserialize)]
struct RefundRequest {
    #[serde(default)]
    reason: String,
}

#[post("/demo/orders-api/orders/{order_no}/refunds")]
async fn refund(order_no: web::Path<String>, body: web::Json<RefundRequest>) -> HttpResponse {
    let Some(_) = demo_order(&order_no) else {
        return not_found(&order_no);
    };
    if order_no.ends_with('9') {
        return HttpResponse::Conflict().json(json!({ "error": "already_refunded" }));
    }
    HttpResponse::Created().json(json!({
        "order_no": order_no.to_ascii_uppercase(),
        "refund_status": "pending",
        "reason": body.reason,
    }))
}

#[derive(Debug, Deserialize)]
struct AddressChange {
    address: String,
    #[serde(default)]
    phone: String,
}

#[post("/demo/orders-api/orders/{order_no}/address")]
async fn address(order_no: web::Path<String>, body: web::Json<AddressChange>) -> HttpResponse {
    match demo_order(&order_no) {
        None => not_found(&order_no),
        Some(DemoOrder::Paid) => HttpResponse::Ok().json(json!({
            "order_no": order_no.to_ascii_uppercase(),
            "address": body.address,
            "phone": body.phone,
        })),
        Some(_) => HttpResponse::Conflict().json(json!({ "error": "already_shipped" })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_digit_decides_the_demo_order() {
        assert_eq!(demo_order("SB20261125001"), Some(DemoOrder::Paid));
        assert_eq!(demo_order("sb20261125005"), Some(DemoOrder::Shipped));
        assert_eq!(demo_order("SB20261125008"), Some(DemoOrder::Delivered));
        assert_eq!(demo_order("SB20261125000"), None);
        assert_eq!(demo_order("SB123"), None);
        assert_eq!(demo_order("XX20261125001"), None);
    }
}
