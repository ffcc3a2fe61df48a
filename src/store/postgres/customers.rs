//! Customers, their identities on every channel, agents' merges of two customers (and
//! their undo), opt-outs and open app connections (PostgreSQL).
//!
//! The statements are in `src/store/sql/postgres/customers/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::audit;
use super::{corrupt, db, from_json, get, json, PostgresStore};
use crate::domain::{Channel, Customer, CustomerId, Identity, Tier};
use crate::store::{CustomerMerge, CustomerStore, MergeMoved, StoreError, StoreResult};

fn customer_from(row: &Row) -> StoreResult<Customer> {
    Ok(Customer {
        id: CustomerId::from_trusted(get::<String>(row, "id")?),
        display_name: get(row, "display_name")?,
        tier: Tier::parse(&get::<String>(row, "tier")?).map_err(corrupt)?,
        tags: from_json(&get::<String>(row, "tags")?)?,
        created_at: get(row, "created_at")?,
    })
}

#[async_trait]
impl CustomerStore for PostgresStore {
    async fn insert_customer(&self, c: &Customer) -> StoreResult<()> {
        self.execute(
            "INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&c.id.as_str(), &c.display_name, &c.tier.as_str(), &json(&c.tags)?, &c.created_at],
        )
        .await
        .map(|_| ())
    }

    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        self.query_one_opt(
            "SELECT id, display_name, tier, tags, created_at FROM customers WHERE id = $1",
            &[&id.as_str()],
            customer_from,
        )
        .await
    }

    async fn link_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &CustomerId,
    ) -> StoreResult<CustomerId> {
        let client = self.client().await?;
        let insert = client
            .prepare_cached("INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT (channel, external_id) DO NOTHING")
            .await
            .map_err(db)?;
        client
            .execute(
                &insert,
                &[&channel.as_str(), &external_id, &customer.as_str()],
            )
            .await
            .map_err(db)?;
        let select = client
            .prepare_cached(
                "SELECT customer_id FROM identities WHERE channel = $1 AND external_id = $2",
            )
            .await
            .map_err(db)?;
        let row = client
            .query_one(&select, &[&channel.as_str(), &external_id])
            .await
            .map_err(db)?;
        Ok(CustomerId::from_trusted(get::<String>(
            &row,
            "customer_id",
        )?))
    }

    async fn find_identity(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> StoreResult<Option<CustomerId>> {
        self.query_one_opt(
            "SELECT customer_id FROM identities WHERE channel = $1 AND external_id = $2",
            &[&channel.as_str(), &external_id],
            |row| Ok(CustomerId::from_trusted(get::<String>(row, "customer_id")?)),
        )
        .await
    }

    async fn identities(&self, customer: &CustomerId) -> StoreResult<Vec<Identity>> {
        self.query_all(
            "SELECT channel, external_id, customer_id, created_at FROM identities WHERE customer_id = $1 ORDER BY created_at, channel",
            &[&customer.as_str()],
            |row| {
                Ok(Identity {
                    channel: Channel::parse(&get::<String>(row, "channel")?).map_err(corrupt)?,
                    external_id: get(row, "external_id")?,
                    customer_id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
                    created_at: get(row, "created_at")?,
                })
            },
        )
        .await
    }

    async fn customer_for_identity(
        &self,
        channel: Channel,
        external_id: &str,
        c: &Customer,
    ) -> StoreResult<CustomerId> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // The customer row first (its id is new), then the identity; if another transaction
        // took the identity meanwhile, roll back and use its customer.
        tx.execute(
            "INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&c.id.as_str(), &c.display_name, &c.tier.as_str(), &json(&c.tags)?, &c.created_at],
        )
        .await
        .map_err(db)?;
        let inserted = tx
            .execute(
                "INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT (channel, external_id) DO NOTHING",
                &[&channel.as_str(), &external_id, &c.id.as_str()],
            )
            .await
            .map_err(db)?;
        if inserted == 1 {
            tx.commit().await.map_err(db)?;
            return Ok(c.id.clone());
        }
        tx.rollback().await.map_err(db)?;
        let row = client
            .query_one(
                "SELECT customer_id FROM identities WHERE channel = $1 AND external_id = $2",
                &[&channel.as_str(), &external_id],
            )
            .await
            .map_err(db)?;
        Ok(CustomerId::from_trusted(get::<String>(
            &row,
            "customer_id",
        )?))
    }

    async fn merge_customers(
        &self,
        id: &str,
        into: &CustomerId,
        from: &CustomerId,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<CustomerMerge> {
        if into == from {
            return Err(StoreError::Conflict(
                "a customer cannot be merged into itself".to_owned(),
            ));
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // Both customers locked, in id order (no deadlock between opposite merges).
        let locked = tx
            .query(
                "SELECT id FROM customers WHERE id IN ($1, $2) ORDER BY id FOR UPDATE",
                &[&into.as_str(), &from.as_str()],
            )
            .await
            .map_err(db)?;
        if locked.len() != 2 {
            return Err(StoreError::Conflict("unknown customer".to_owned()));
        }
        let open = tx
            .query_one(
                "SELECT COUNT(DISTINCT customer_id) AS n FROM conversations WHERE customer_id IN ($1, $2) AND status <> 'closed'",
                &[&into.as_str(), &from.as_str()],
            )
            .await
            .map_err(db)?;
        if get::<i64>(&open, "n")? == 2 {
            return Err(StoreError::Conflict(
                "both customers have an open conversation; close one first".to_owned(),
            ));
        }
        let mut moved = MergeMoved::default();
        for row in tx
            .query(
                "UPDATE identities SET customer_id = $1 WHERE customer_id = $2 RETURNING channel, external_id",
                &[&into.as_str(), &from.as_str()],
            )
            .await
            .map_err(db)?
        {
            moved
                .identities
                .push((get(&row, "channel")?, get(&row, "external_id")?));
        }
        let ids = |sql: &'static str| {
            let tx = &tx;
            async move {
                let rows = tx
                    .query(sql, &[&into.as_str(), &from.as_str()])
                    .await
                    .map_err(db)?;
                rows.iter()
                    .map(|r| get::<String>(r, "id"))
                    .collect::<StoreResult<Vec<_>>>()
            }
        };
        moved.conversations =
            ids("UPDATE conversations SET customer_id = $1 WHERE customer_id = $2 RETURNING id")
                .await?;
        moved.messages =
            ids("UPDATE messages SET customer_id = $1 WHERE customer_id = $2 RETURNING id").await?;
        moved.tasks =
            ids("UPDATE tasks SET customer_id = $1 WHERE customer_id = $2 RETURNING id").await?;
        moved.tokens = ids("UPDATE tokens SET subject = $1 WHERE kind = 'customer' AND subject = $2 RETURNING token_hash AS id").await?;
        tx.execute(
            "INSERT INTO customer_merges (id, into_customer, from_customer, moved, merged_by, merged_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id, &into.as_str(), &from.as_str(), &json(&moved)?, &by, &at],
        )
        .await
        .map_err(db)?;
        audit::append(
            &tx,
            &at,
            by,
            "customer_merged",
            &format!("customer_{into}"),
            &serde_json::json!({"merge_id": id, "from": from, "into": into, "identities": moved.identities.len(), "conversations": moved.conversations.len(), "messages": moved.messages.len()}),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(CustomerMerge {
            id: id.to_owned(),
            into: into.clone(),
            from: from.clone(),
            moved,
            merged_by: by.to_owned(),
            merged_at: at,
            undone_by: None,
            undone_at: None,
        })
    }

    async fn undo_merge(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CustomerMerge>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let Some(row) = tx
            .query_opt(
                "SELECT into_customer, from_customer, moved, merged_by, merged_at, undone_at FROM customer_merges WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        if get::<Option<DateTime<Utc>>>(&row, "undone_at")?.is_some() {
            return Err(StoreError::Conflict(
                "this merge was undone already".to_owned(),
            ));
        }
        let into: String = get(&row, "into_customer")?;
        let from: String = get(&row, "from_customer")?;
        let moved: MergeMoved = from_json(&get::<String>(&row, "moved")?)?;
        for (channel, external_id) in &moved.identities {
            tx.execute(
                "UPDATE identities SET customer_id = $1 WHERE channel = $2 AND external_id = $3 AND customer_id = $4",
                &[&from, channel, external_id, &into],
            )
            .await
            .map_err(db)?;
        }
        for (sql, keys) in [
            (
                "UPDATE conversations SET customer_id = $1 WHERE id = ANY($2) AND customer_id = $3",
                &moved.conversations,
            ),
            (
                "UPDATE messages SET customer_id = $1 WHERE id = ANY($2) AND customer_id = $3",
                &moved.messages,
            ),
            (
                "UPDATE tasks SET customer_id = $1 WHERE id = ANY($2) AND customer_id = $3",
                &moved.tasks,
            ),
            (
                "UPDATE tokens SET subject = $1 WHERE token_hash = ANY($2) AND subject = $3",
                &moved.tokens,
            ),
        ] {
            tx.execute(sql, &[&from, keys, &into]).await.map_err(|e| {
                if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
                    StoreError::Conflict(
                        "the merged customer has an open conversation again; close it first"
                            .to_owned(),
                    )
                } else {
                    db(e)
                }
            })?;
        }
        tx.execute(
            "UPDATE customer_merges SET undone_by = $2, undone_at = $3 WHERE id = $1",
            &[&id, &by, &at],
        )
        .await
        .map_err(db)?;
        audit::append(
            &tx,
            &at,
            by,
            "customer_merge_undone",
            &format!("customer_{into}"),
            &serde_json::json!({"merge_id": id, "from": from, "into": into}),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(CustomerMerge {
            id: id.to_owned(),
            into: CustomerId::from_trusted(into),
            from: CustomerId::from_trusted(from),
            moved,
            merged_by: get(&row, "merged_by")?,
            merged_at: get(&row, "merged_at")?,
            undone_by: Some(by.to_owned()),
            undone_at: Some(at),
        }))
    }

    async fn opt_out(
        &self,
        channel: Channel,
        external_id: &str,
        keyword: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "INSERT INTO opt_outs (channel, external_id, keyword, opted_out_at) VALUES ($1, $2, $3, $4) ON CONFLICT (channel, external_id) DO NOTHING",
            &[&channel.as_str(), &external_id, &keyword, &at],
        )
        .await
        .map(|_| ())
    }

    async fn opt_in(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        self.execute(
            "DELETE FROM opt_outs WHERE channel = $1 AND external_id = $2",
            &[&channel.as_str(), &external_id],
        )
        .await
        .map(|n| n > 0)
    }

    async fn opted_out(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        self.query_one_opt(
            "SELECT 1 AS one FROM opt_outs WHERE channel = $1 AND external_id = $2",
            &[&channel.as_str(), &external_id],
            |_| Ok(()),
        )
        .await
        .map(|found| found.is_some())
    }

    async fn touch_presence(
        &self,
        connection: &str,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "INSERT INTO app_presence (connection_id, customer_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT (connection_id) DO UPDATE SET seen_at = EXCLUDED.seen_at",
            &[&connection, &customer.as_str(), &at],
        )
        .await
        .map(|_| ())
    }

    async fn drop_presence(
        &self,
        connection: &str,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "DELETE FROM app_presence WHERE connection_id = $1 OR seen_at < $2",
            &[&connection, &stale_before],
        )
        .await
        .map(|_| ())
    }

    async fn present_since(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.query_one_opt(
            "SELECT 1 AS one FROM app_presence WHERE customer_id = $1 AND seen_at >= $2 LIMIT 1",
            &[&customer.as_str(), &since],
            |_| Ok(()),
        )
        .await
        .map(|found| found.is_some())
    }
}
