//! Tickets opened by flows, once per source (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/tickets/`.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{db, from_json, get, json, PostgresStore};
use crate::domain::{ConversationId, CustomerId};
use crate::store::{Inserted, StoreResult, Ticket, TicketStore};

const INSERT_TICKET: &str = include_str!("../sql/postgres/tickets/insert_ticket.sql");
const SELECT_TICKET_BY_SOURCE: &str =
    include_str!("../sql/postgres/tickets/select_ticket_by_source.sql");
const SELECT_CUSTOMER_TICKETS: &str =
    include_str!("../sql/postgres/tickets/select_customer_tickets.sql");

fn ticket_from(row: &Row) -> StoreResult<Ticket> {
    Ok(Ticket {
        id: get(row, "id")?,
        customer_id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
        conversation_id: get::<Option<String>>(row, "conversation_id")?
            .map(ConversationId::from_trusted),
        kind: get(row, "kind")?,
        subject: get(row, "subject")?,
        fields: from_json(&get::<String>(row, "fields")?)?,
        status: get(row, "status")?,
        source_key: get(row, "source_key")?,
        created_at: get(row, "created_at")?,
    })
}

#[async_trait]
impl TicketStore for PostgresStore {
    async fn open_ticket(&self, ticket: &Ticket) -> StoreResult<Inserted<Ticket>> {
        let client = self.client().await?;
        let t = ticket;
        let inserted = client
            .execute(
                INSERT_TICKET,
                &[
                    &t.id,
                    &t.customer_id.as_str(),
                    &t.conversation_id.as_ref().map(ConversationId::as_str),
                    &t.kind,
                    &t.subject,
                    &json(&t.fields)?,
                    &t.status,
                    &t.source_key,
                    &t.created_at,
                ],
            )
            .await
            .map_err(db)?;
        if inserted == 1 {
            return Ok(Inserted::New(t.clone()));
        }
        let row = client
            .query_one(SELECT_TICKET_BY_SOURCE, &[&t.source_key])
            .await
            .map_err(db)?;
        Ok(Inserted::Duplicate(ticket_from(&row)?))
    }

    async fn customer_tickets(&self, customer: &CustomerId) -> StoreResult<Vec<Ticket>> {
        self.query_all(SELECT_CUSTOMER_TICKETS, &[&customer.as_str()], ticket_from)
            .await
    }
}
