//! Tickets opened by flows, once per source (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/tickets/`.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{db, from_json, get, json, PostgresStore};
use crate::domain::{ConversationId, CustomerId};
use crate::store::{Inserted, StoreResult, Ticket, TicketStore};

const TICKET_COLUMNS: &str =
    "id, customer_id, conversation_id, kind, subject, fields, status, source_key, created_at";

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
                "INSERT INTO tickets (id, customer_id, conversation_id, kind, subject, fields, status, source_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (source_key) DO NOTHING",
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
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE source_key = $1");
        let row = client.query_one(&sql, &[&t.source_key]).await.map_err(db)?;
        Ok(Inserted::Duplicate(ticket_from(&row)?))
    }

    async fn customer_tickets(&self, customer: &CustomerId) -> StoreResult<Vec<Ticket>> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE customer_id = $1 ORDER BY created_at, id"
        );
        self.query_all(&sql, &[&customer.as_str()], ticket_from)
            .await
    }
}
