//! Who may call what: the table of every route and the callers it lets in, enforced by one
//! middleware before any handler (or its body and query parsing) runs, so a refusal never
//! depends on what else is wrong with a request and says nothing about what exists.
//! `docs/permissions.md` is this table in prose; a test holds the two together.
//!
//! What a route needs beyond its role (a team lead's own teams, an agent's own conversations)
//! is checked by the service that reads the data.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::channels::auth::bearer_token;
use crate::channels::state::AppState;
use crate::domain::Permission;
use crate::error::{ApiError, ErrorKind};
use crate::store::Principal;

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// A provider webhook: no token, the channel's signature (checked by its handler).
    Signed,
    /// Any valid token, staff or customer.
    AnyToken,
    /// A customer's token (web visitor or app user).
    Customer,
    /// A staff member whose role grants the permission.
    Staff(Permission),
}

use Access::*;
use Permission::*;

/// Every route: method, pattern (as registered) and access. A registered route missing here
/// is refused (fail closed); `tests/api/permissions.rs` checks this table against
/// `docs/permissions.md` and calls every route as every kind of caller.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/healthz", Public),
    ("GET", "/readyz", Public),
    ("GET", "/metrics", Public),
    ("GET", "/v1/openapi.json", Public),
    ("POST", "/v1/auth/login", Public),
    ("POST", "/v1/visitors", Public),
    ("GET", "/", Public),
    ("GET", "/desk", Public),
    ("GET", "/console", Public),
    ("GET", "/ui/{path:.*}", Public),
    ("GET", "/demo/orders-api/orders/{order_no}", Public),
    ("POST", "/demo/orders-api/orders/{order_no}/address", Public),
    ("POST", "/demo/orders-api/orders/{order_no}/refunds", Public),
    ("GET", "/v1/me", AnyToken),
    ("POST", "/v1/auth/logout", AnyToken),
    ("POST", "/v1/messages", Customer),
    ("GET", "/v1/conversations/current", Customer),
    ("GET", "/v1/ws/customer", Customer),
    ("GET", "/v1/ws/agent", Staff(ServeCustomers)),
    ("GET", "/v1/customers/lookup", Staff(ServeCustomers)),
    ("GET", "/v1/customers/{id}", Staff(ServeCustomers)),
    ("GET", "/v1/customers/{id}/messages", Staff(ServeCustomers)),
    ("GET", "/v1/customers/{id}/tickets", Staff(ServeCustomers)),
    ("POST", "/v1/customers/{id}/merge", Staff(ServeCustomers)),
    (
        "POST",
        "/v1/customers/merges/{merge_id}/undo",
        Staff(ServeCustomers),
    ),
    ("GET", "/v1/queues", Staff(ServeCustomers)),
    ("GET", "/v1/tasks/{id}/routing", Staff(ServeCustomers)),
    ("GET", "/v1/kb/entries", Staff(ServeCustomers)),
    ("GET", "/v1/kb/entries/{id}", Staff(ServeCustomers)),
    ("GET", "/v1/kb/export", Staff(ServeCustomers)),
    ("POST", "/v1/kb/match", Staff(ServeCustomers)),
    ("POST", "/v1/kb/entries", Staff(ManageKnowledge)),
    ("PUT", "/v1/kb/entries/{id}", Staff(ManageKnowledge)),
    ("DELETE", "/v1/kb/entries/{id}", Staff(ManageKnowledge)),
    ("POST", "/v1/kb/import", Staff(ManageKnowledge)),
    ("GET", "/v1/routing/rules", Staff(ManageRouting)),
    ("POST", "/v1/routing/rules", Staff(ManageRouting)),
    ("POST", "/v1/routing/rules/validate", Staff(ManageRouting)),
    ("GET", "/v1/routing/rules/versions", Staff(ManageRouting)),
    ("GET", "/v1/routing/rules/{version}", Staff(ManageRouting)),
    (
        "POST",
        "/v1/routing/rules/{version}/activate",
        Staff(ManageRouting),
    ),
    (
        "POST",
        "/v1/routing/rules/{version}/dry-run",
        Staff(ManageRouting),
    ),
    ("GET", "/v1/routing/history", Staff(ManageRouting)),
    ("GET", "/v1/routing/overrides", Staff(ManageRouting)),
    ("POST", "/v1/routing/overrides", Staff(ManageRouting)),
    ("DELETE", "/v1/routing/overrides/{id}", Staff(ManageRouting)),
    ("GET", "/v1/staff", Staff(Supervise)),
    ("POST", "/v1/staff", Staff(ManageStaff)),
    ("POST", "/v1/staff/import", Staff(ManageStaff)),
    ("PATCH", "/v1/staff/{id}", Staff(Supervise)),
    ("POST", "/v1/staff/{id}/deactivate", Staff(ManageStaff)),
    ("GET", "/v1/teams", Staff(ServeCustomers)),
    ("POST", "/v1/teams", Staff(ManageStaff)),
    ("GET", "/v1/conversations", Staff(Supervise)),
    ("GET", "/v1/staff/{id}/activity", Staff(Supervise)),
    ("GET", "/v1/channels/wechat", Signed),
    ("POST", "/v1/channels/wechat", Signed),
    ("POST", "/v1/channels/sms", Signed),
    ("POST", "/v1/channels/sms/status", Signed),
    ("POST", "/v1/channels/ivr/events", Signed),
];

/// The access of a request to `pattern` with `method`; `None` for a route not in the table.
pub fn access(method: &str, pattern: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == pattern)
        .map(|(_, _, access)| *access)
}

/// Whether `principal` (none: no valid token) may call a route of `access`; the refusal
/// otherwise. Pure: the middleware resolves the token, this decides.
pub fn decide(access: Access, principal: Option<&Principal>) -> Result<(), ApiError> {
    match (access, principal) {
        (Public | Signed, _) => Ok(()),
        (_, None) => Err(ApiError::unauthenticated()),
        (AnyToken, Some(_)) => Ok(()),
        (Customer, Some(Principal::Customer(_) | Principal::AppUser(_))) => Ok(()),
        (Customer, Some(Principal::Staff { .. })) => {
            Err(ApiError::forbidden("This endpoint is for customers."))
        }
        (Staff(permission), Some(Principal::Staff { role, .. })) if role.may(permission) => Ok(()),
        (Staff(permission), Some(_)) => Err(ApiError::forbidden(permission.refusal())),
    }
}

/// The middleware: finds the route's access, resolves the bearer token when the route needs
/// one, and refuses before the handler runs. The resolved principal is left in the request's
/// extensions for the [`crate::channels::auth::Authenticated`] extractor.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    // An unknown path, or a method the path does not have, goes on to the router's typed
    // 404; a registered route missing from the table is refused (fail closed).
    let Some(pattern) = req.match_pattern() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Some(access) = access(req.method().as_str(), &pattern) else {
        if ROUTES.iter().any(|(_, p, _)| *p == pattern) {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
        tracing::error!(%pattern, "A route is missing from the permission table; refused.");
        return Ok(req.error_response(ApiError::forbidden("This route is not open to anyone yet.")));
    };
    let principal = if matches!(access, Public | Signed) {
        None
    } else {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
        match state.access.authenticate(bearer_token(req.request())).await {
            Ok(principal) => Some(principal),
            Err(refused) if refused.kind == ErrorKind::Unauthenticated => None,
            // The store is down (503), or worse: not a verdict on the caller.
            Err(error) => return Ok(req.error_response(error)),
        }
    };
    if let Err(refusal) = decide(access, principal.as_ref()) {
        return Ok(req.error_response(refusal));
    }
    if let Some(principal) = principal {
        req.extensions_mut().insert(principal);
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AgentId, CustomerId, Role};

    fn staff(role: Role) -> Principal {
        Principal::Staff {
            agent_id: AgentId::from_trusted("agt_x"),
            role,
        }
    }

    #[test]
    fn each_route_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (method, pattern, _) in ROUTES {
            assert!(seen.insert((method, pattern)), "{method} {pattern} twice");
        }
    }

    #[test]
    fn staff_routes_follow_the_roles_and_refuse_customers_and_strangers() {
        let customer = Principal::Customer(CustomerId::from_trusted("cus_x"));
        for permission in [
            ServeCustomers,
            HandleConversations,
            Supervise,
            ManageRouting,
            ManageKnowledge,
            ManageStaff,
        ] {
            for role in Role::ALL {
                assert_eq!(
                    decide(Staff(permission), Some(&staff(role))).is_ok(),
                    role.may(permission),
                    "{role:?} {permission:?}"
                );
            }
            let refused = decide(Staff(permission), Some(&customer)).expect_err("customer");
            assert_eq!(refused.kind, ErrorKind::Forbidden);
            let refused = decide(Staff(permission), None).expect_err("nobody");
            assert_eq!(refused.kind, ErrorKind::Unauthenticated);
        }
    }

    #[test]
    fn customer_routes_take_customers_only_and_public_routes_anyone() {
        let visitor = Principal::Customer(CustomerId::from_trusted("cus_x"));
        let app_user = Principal::AppUser(CustomerId::from_trusted("cus_y"));
        assert!(decide(Customer, Some(&visitor)).is_ok());
        assert!(decide(Customer, Some(&app_user)).is_ok());
        assert!(decide(Customer, Some(&staff(Role::Admin))).is_err());
        assert!(decide(AnyToken, Some(&staff(Role::Agent))).is_ok());
        assert!(decide(AnyToken, None).is_err());
        assert!(decide(Public, None).is_ok());
        assert!(decide(Signed, None).is_ok());
    }

    #[test]
    fn the_roles_nest_as_documented() {
        // An admin can do everything a supervisor can, and staff management besides; the
        // desk is for agents only.
        for permission in [
            ServeCustomers,
            Supervise,
            ManageRouting,
            ManageKnowledge,
            ManageStaff,
        ] {
            if Role::Supervisor.may(permission) {
                assert!(Role::Admin.may(permission), "{permission:?}");
            }
            if Role::TeamLead.may(permission) {
                assert!(Role::Supervisor.may(permission), "{permission:?}");
            }
        }
        assert!(Role::Admin.may(ManageStaff) && !Role::Supervisor.may(ManageStaff));
        for role in Role::ALL {
            assert_eq!(role.may(HandleConversations), role == Role::Agent);
        }
    }
}
