//! Customers, their identities on every channel, agents' merges of two customers (and
//! their undo), opt-outs and open app connections (SQLite).
//!
//! The statements are in `src/store/sql/sqlite/customers/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::audit;
use super::{corrupt, from_json, is_unique_violation, json, unavailable, SqliteStore};
use crate::domain::{Channel, Customer, CustomerId, Identity, Tier};
use crate::store::{
    format_time, parse_time, CustomerMerge, CustomerStore, MergeMoved, StoreError, StoreResult,
};

type CustomerRow = (String, String, String, String, String);

fn customer_row(r: &Row<'_>) -> rusqlite::Result<CustomerRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn customer_from(row: CustomerRow) -> StoreResult<Customer> {
    let (id, display_name, tier, tags, created_at) = row;
    Ok(Customer {
        id: CustomerId::from_trusted(id),
        display_name,
        tier: Tier::parse(&tier).map_err(corrupt)?,
        tags: from_json(&tags)?,
        created_at: parse_time(&created_at)?,
    })
}

#[async_trait]
impl CustomerStore for SqliteStore {
    async fn insert_customer(&self, customer: &Customer) -> StoreResult<()> {
        let c = customer.clone();
        let tags = json(&c.tags)?;
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![c.id.as_str(), c.display_name, c.tier.as_str(), tags, format_time(&c.created_at)],
            )
            .map(|_| ())
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("customer {} exists", c.id))
                } else {
                    unavailable(e)
                }
            })
        })
        .await
    }

    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        let id = id.clone();
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT id, display_name, tier, tags, created_at FROM customers WHERE id = ?1",
                [id.as_str()],
                customer_row,
            )
            .optional()
            .map_err(unavailable)?
            .map(customer_from)
            .transpose()
        })
        .await
    }

    async fn link_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &CustomerId,
    ) -> StoreResult<CustomerId> {
        let external_id = external_id.to_owned();
        let customer = customer.clone();
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel, external_id) DO NOTHING",
                params![channel.as_str(), external_id, customer.as_str(), format_time(&Utc::now())],
            )
            .map_err(unavailable)?;
            let owner: String = conn
                .query_row(
                    "SELECT customer_id FROM identities WHERE channel = ?1 AND external_id = ?2",
                    params![channel.as_str(), external_id],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            Ok(CustomerId::from_trusted(owner))
        })
        .await
    }

    async fn find_identity(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<CustomerId>> {
        let external_id = external_id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT customer_id FROM identities WHERE channel = ?1 AND external_id = ?2",
                params![channel.as_str(), external_id],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|o| o.map(CustomerId::from_trusted))
            .map_err(unavailable)
        })
        .await
    }

    async fn identities(&self, customer: &CustomerId) -> StoreResult<Vec<Identity>> {
        let customer = customer.clone();
        self.with_conn(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT channel, external_id, created_at FROM identities WHERE customer_id = ?1 ORDER BY created_at, channel",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([customer.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            rows.into_iter()
                .map(|(channel, external_id, created_at)| {
                    Ok(Identity {
                        channel: Channel::parse(&channel).map_err(corrupt)?,
                        external_id,
                        customer_id: customer.clone(),
                        created_at: parse_time(&created_at)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn customer_for_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &Customer,
    ) -> StoreResult<CustomerId> {
        let external_id = external_id.to_owned();
        let c = customer.clone();
        let tags = json(&c.tags)?;
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let owner: Option<String> = tx
                .query_row(
                    "SELECT customer_id FROM identities WHERE channel = ?1 AND external_id = ?2",
                    params![channel.as_str(), external_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            if let Some(owner) = owner {
                return Ok(CustomerId::from_trusted(owner));
            }
            let now = format_time(&Utc::now());
            tx.execute(
                "INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![c.id.as_str(), c.display_name, c.tier.as_str(), tags, format_time(&c.created_at)],
            )
            .map_err(unavailable)?;
            tx.execute(
                "INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![channel.as_str(), external_id, c.id.as_str(), now],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(c.id)
        })
        .await
    }

    async fn merge_customers(
        &self,
        id: &str,
        into: &CustomerId,
        from: &CustomerId,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CustomerMerge> {
        let (id, into, from, by) = (id.to_owned(), into.clone(), from.clone(), by.to_owned());
        self.with_conn(move |conn| {
            if into == from {
                return Err(StoreError::Conflict("a customer cannot be merged into itself".to_owned()));
            }
            let tx = conn.transaction().map_err(unavailable)?;
            let known: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM customers WHERE id IN (?1, ?2)",
                    params![into.as_str(), from.as_str()],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            if known != 2 {
                return Err(StoreError::Conflict("unknown customer".to_owned()));
            }
            let open: i64 = tx
                .query_row(
                    "SELECT COUNT(DISTINCT customer_id) FROM conversations WHERE customer_id IN (?1, ?2) AND status <> 'closed'",
                    params![into.as_str(), from.as_str()],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            if open == 2 {
                return Err(StoreError::Conflict(
                    "both customers have an open conversation; close one first".to_owned(),
                ));
            }
            let ids = |sql: &str| -> StoreResult<Vec<String>> {
                let mut stmt = tx.prepare(sql).map_err(unavailable)?;
                let rows = stmt
                    .query_map([from.as_str()], |r| r.get::<_, String>(0))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable);
                rows
            };
            let moved = MergeMoved {
                identities: {
                    let mut stmt = tx
                        .prepare("SELECT channel, external_id FROM identities WHERE customer_id = ?1")
                        .map_err(unavailable)?;
                    let rows = stmt
                        .query_map([from.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(unavailable)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(unavailable)?;
                    rows
                },
                conversations: ids("SELECT id FROM conversations WHERE customer_id = ?1")?,
                messages: ids("SELECT id FROM messages WHERE customer_id = ?1")?,
                tasks: ids("SELECT id FROM tasks WHERE customer_id = ?1")?,
                tokens: ids("SELECT token_hash FROM tokens WHERE kind = 'customer' AND subject = ?1")?,
            };
            for sql in [
                "UPDATE identities SET customer_id = ?1 WHERE customer_id = ?2",
                "UPDATE conversations SET customer_id = ?1 WHERE customer_id = ?2",
                "UPDATE messages SET customer_id = ?1 WHERE customer_id = ?2",
                "UPDATE tasks SET customer_id = ?1 WHERE customer_id = ?2",
                "UPDATE tokens SET subject = ?1 WHERE kind = 'customer' AND subject = ?2",
            ] {
                tx.execute(sql, params![into.as_str(), from.as_str()])
                    .map_err(unavailable)?;
            }
            let at_text = format_time(&at);
            tx.execute(
                "INSERT INTO customer_merges (id, into_customer, from_customer, moved, merged_by, merged_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, into.as_str(), from.as_str(), json(&moved)?, by, at_text],
            )
            .map_err(unavailable)?;
            audit::append(
                &tx,
                &at_text,
                &by,
                "customer_merged",
                &format!("customer_{into}"),
                &serde_json::json!({"merge_id": id, "from": from, "into": into, "identities": moved.identities.len(), "conversations": moved.conversations.len(), "messages": moved.messages.len()}),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(CustomerMerge {
                id,
                into,
                from,
                moved,
                merged_by: by,
                merged_at: at,
                undone_by: None,
                undone_at: None,
            })
        })
        .await
    }

    async fn undo_merge(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CustomerMerge>> {
        let (id, by) = (id.to_owned(), by.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let row: Option<(String, String, String, String, String, Option<String>)> = tx
                .query_row(
                    "SELECT into_customer, from_customer, moved, merged_by, merged_at, undone_at FROM customer_merges WHERE id = ?1",
                    [id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .optional()
                .map_err(unavailable)?;
            let Some((into, from, moved, merged_by, merged_at, undone_at)) = row else {
                return Ok(None);
            };
            if undone_at.is_some() {
                return Err(StoreError::Conflict("this merge was undone already".to_owned()));
            }
            let moved: MergeMoved = from_json(&moved)?;
            let back = |sql: &str, key: &str| -> StoreResult<()> {
                tx.execute(sql, params![from, key, into]).map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict(
                            "the merged customer has an open conversation again; close it first".to_owned(),
                        )
                    } else {
                        unavailable(e)
                    }
                })?;
                Ok(())
            };
            for (channel, external_id) in &moved.identities {
                tx.execute(
                    "UPDATE identities SET customer_id = ?1 WHERE channel = ?2 AND external_id = ?3 AND customer_id = ?4",
                    params![from, channel, external_id, into],
                )
                .map_err(unavailable)?;
            }
            for c in &moved.conversations {
                back("UPDATE conversations SET customer_id = ?1 WHERE id = ?2 AND customer_id = ?3", c)?;
            }
            for m in &moved.messages {
                back("UPDATE messages SET customer_id = ?1 WHERE id = ?2 AND customer_id = ?3", m)?;
            }
            for t in &moved.tasks {
                back("UPDATE tasks SET customer_id = ?1 WHERE id = ?2 AND customer_id = ?3", t)?;
            }
            for t in &moved.tokens {
                back("UPDATE tokens SET subject = ?1 WHERE token_hash = ?2 AND subject = ?3", t)?;
            }
            let at_text = format_time(&at);
            tx.execute(
                "UPDATE customer_merges SET undone_by = ?2, undone_at = ?3 WHERE id = ?1",
                params![id, by, at_text],
            )
            .map_err(unavailable)?;
            audit::append(
                &tx,
                &at_text,
                &by,
                "customer_merge_undone",
                &format!("customer_{into}"),
                &serde_json::json!({"merge_id": id, "from": from, "into": into}),
            )?;
            tx.commit().map_err(unavailable)?;
            Ok(Some(CustomerMerge {
                id,
                into: CustomerId::from_trusted(into),
                from: CustomerId::from_trusted(from),
                moved,
                merged_by,
                merged_at: parse_time(&merged_at)?,
                undone_by: Some(by),
                undone_at: Some(at),
            }))
        })
        .await
    }

    async fn opt_out(
        &self,
        channel: Channel,
        external_id: &str,
        keyword: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (external_id, keyword) = (external_id.to_owned(), keyword.to_owned());
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO opt_outs (channel, external_id, keyword, opted_out_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel, external_id) DO NOTHING",
                params![channel.as_str(), external_id, keyword, format_time(&at)],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
        .await
    }

    async fn opt_in(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        let external_id = external_id.to_owned();
        self.with_conn(move |conn| {
            conn.execute(
                "DELETE FROM opt_outs WHERE channel = ?1 AND external_id = ?2",
                params![channel.as_str(), external_id],
            )
            .map(|n| n > 0)
            .map_err(unavailable)
        })
        .await
    }

    async fn opted_out(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        let external_id = external_id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT 1 FROM opt_outs WHERE channel = ?1 AND external_id = ?2",
                params![channel.as_str(), external_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(unavailable)
        })
        .await
    }

    async fn touch_presence(
        &self,
        connection: &str,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (connection, customer) = (connection.to_owned(), customer.clone());
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO app_presence (connection_id, customer_id, seen_at) VALUES (?1, ?2, ?3) ON CONFLICT (connection_id) DO UPDATE SET seen_at = excluded.seen_at",
                params![connection, customer.as_str(), format_time(&at)],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
        .await
    }

    async fn drop_presence(
        &self,
        connection: &str,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        let connection = connection.to_owned();
        self.with_conn(move |conn| {
            conn.execute(
                "DELETE FROM app_presence WHERE connection_id = ?1 OR seen_at < ?2",
                params![connection, format_time(&stale_before)],
            )
            .map(|_| ())
            .map_err(unavailable)
        })
        .await
    }

    async fn present_since(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let customer = customer.clone();
        self.with_conn(move |conn| {
            conn.query_row(
                "SELECT 1 FROM app_presence WHERE customer_id = ?1 AND seen_at >= ?2 LIMIT 1",
                params![customer.as_str(), format_time(&since)],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(unavailable)
        })
        .await
    }
}
