//! Tickets opened by flows, once per source (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/tickets/`.

use async_trait::async_trait;
use rusqlite::{params, Row};

use super::{from_json, json, query_rows, unavailable, SqliteStore};
use crate::domain::{ConversationId, CustomerId};
use crate::store::{format_time, parse_time, Inserted, StoreResult, Ticket, TicketStore};

const INSERT_TICKET: &str = include_str!("../sql/sqlite/tickets/insert_ticket.sql");
const SELECT_TICKET_BY_SOURCE: &str =
    include_str!("../sql/sqlite/tickets/select_ticket_by_source.sql");
const SELECT_CUSTOMER_TICKETS: &str =
    include_str!("../sql/sqlite/tickets/select_customer_tickets.sql");

/// Columns of a ticket row, in the order every statement that selects one lists them: `id,
/// customer_id, conversation_id, kind, subject, fields, status, source_key, created_at`.
type TicketRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn ticket_row(r: &Row<'_>) -> rusqlite::Result<TicketRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn ticket_from(row: TicketRow) -> StoreResult<Ticket> {
    let (id, customer, conversation, kind, subject, fields, status, source_key, created_at) = row;
    Ok(Ticket {
        id,
        customer_id: CustomerId::from_trusted(customer),
        conversation_id: conversation.map(ConversationId::from_trusted),
        kind,
        subject,
        fields: from_json(&fields)?,
        status,
        source_key,
        created_at: parse_time(&created_at)?,
    })
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn open_ticket(&self, ticket: &Ticket) -> StoreResult<Inserted<Ticket>> {
        let t = ticket.clone();
        self.with_conn(move |conn| {
            let inserted = conn
                .execute(
                    INSERT_TICKET,
                    params![
                        t.id,
                        t.customer_id.as_str(),
                        t.conversation_id.as_ref().map(ConversationId::as_str),
                        t.kind,
                        t.subject,
                        json(&t.fields)?,
                        t.status,
                        t.source_key,
                        format_time(&t.created_at),
                    ],
                )
                .map_err(unavailable)?;
            if inserted == 1 {
                return Ok(Inserted::New(t));
            }
            let existing = conn
                .query_row(SELECT_TICKET_BY_SOURCE, [&t.source_key], ticket_row)
                .map_err(unavailable)?;
            Ok(Inserted::Duplicate(ticket_from(existing)?))
        })
        .await
    }

    async fn customer_tickets(&self, customer: &CustomerId) -> StoreResult<Vec<Ticket>> {
        let customer = customer.as_str().to_owned();
        self.with_conn(move |conn| {
            query_rows(
                conn,
                SELECT_CUSTOMER_TICKETS,
                [customer],
                ticket_row,
                ticket_from,
            )
        })
        .await
    }
}
