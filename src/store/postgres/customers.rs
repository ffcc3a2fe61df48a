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

const INSERT_CUSTOMER: &str = include_str!("../sql/postgres/customers/insert_customer.sql");
const SELECT_CUSTOMER: &str = include_str!("../sql/postgres/customers/select_customer.sql");
const LINK_IDENTITY: &str = include_str!("../sql/postgres/customers/link_identity.sql");
const SELECT_IDENTITY_OWNER: &str =
    include_str!("../sql/postgres/customers/select_identity_owner.sql");
const SELECT_IDENTITIES: &str = include_str!("../sql/postgres/customers/select_identities.sql");
const MERGE_LOCK_CUSTOMERS: &str =
    include_str!("../sql/postgres/customers/merge_lock_customers.sql");
const MERGE_COUNT_OPEN_CONVERSATIONS: &str =
    include_str!("../sql/postgres/customers/merge_count_open_conversations.sql");
const MERGE_MOVE_IDENTITIES: &str =
    include_str!("../sql/postgres/customers/merge_move_identities.sql");
const MERGE_MOVE_CONVERSATIONS: &str =
    include_str!("../sql/postgres/customers/merge_move_conversations.sql");
const MERGE_MOVE_MESSAGES: &str = include_str!("../sql/postgres/customers/merge_move_messages.sql");
const MERGE_MOVE_TASKS: &str = include_str!("../sql/postgres/customers/merge_move_tasks.sql");
const MERGE_MOVE_TOKENS: &str = include_str!("../sql/postgres/customers/merge_move_tokens.sql");
const INSERT_MERGE: &str = include_str!("../sql/postgres/customers/insert_merge.sql");
const SELECT_MERGE: &str = include_str!("../sql/postgres/customers/select_merge.sql");
const UNDO_MOVE_IDENTITY: &str = include_str!("../sql/postgres/customers/undo_move_identity.sql");
const UNDO_MOVE_CONVERSATIONS: &str =
    include_str!("../sql/postgres/customers/undo_move_conversations.sql");
const UNDO_MOVE_MESSAGES: &str = include_str!("../sql/postgres/customers/undo_move_messages.sql");
const UNDO_MOVE_TASKS: &str = include_str!("../sql/postgres/customers/undo_move_tasks.sql");
const UNDO_MOVE_TOKENS: &str = include_str!("../sql/postgres/customers/undo_move_tokens.sql");
const MARK_MERGE_UNDONE: &str = include_str!("../sql/postgres/customers/mark_merge_undone.sql");
const INSERT_OPT_OUT: &str = include_str!("../sql/postgres/customers/insert_opt_out.sql");
const DELETE_OPT_OUT: &str = include_str!("../sql/postgres/customers/delete_opt_out.sql");
const SELECT_OPT_OUT: &str = include_str!("../sql/postgres/customers/select_opt_out.sql");
const TOUCH_APP_PRESENCE: &str = include_str!("../sql/postgres/customers/touch_app_presence.sql");
const DROP_APP_PRESENCE: &str = include_str!("../sql/postgres/customers/drop_app_presence.sql");
const SELECT_APP_PRESENCE: &str = include_str!("../sql/postgres/customers/select_app_presence.sql");

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
            INSERT_CUSTOMER,
            &[
                &c.id.as_str(),
                &c.display_name,
                &c.tier.as_str(),
                &json(&c.tags)?,
                &c.created_at,
            ],
        )
        .await
        .map(|_| ())
    }

    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        self.query_one_opt(SELECT_CUSTOMER, &[&id.as_str()], customer_from)
            .await
    }

    async fn link_identity(
        &self,
        channel: Channel,
        external_id: &str,
        customer: &CustomerId,
    ) -> StoreResult<CustomerId> {
        let client = self.client().await?;
        let insert = client.prepare_cached(LINK_IDENTITY).await.map_err(db)?;
        client
            .execute(
                &insert,
                &[&channel.as_str(), &external_id, &customer.as_str()],
            )
            .await
            .map_err(db)?;
        let select = client
            .prepare_cached(SELECT_IDENTITY_OWNER)
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
            SELECT_IDENTITY_OWNER,
            &[&channel.as_str(), &external_id],
            |row| Ok(CustomerId::from_trusted(get::<String>(row, "customer_id")?)),
        )
        .await
    }

    async fn identities(&self, customer: &CustomerId) -> StoreResult<Vec<Identity>> {
        self.query_all(SELECT_IDENTITIES, &[&customer.as_str()], |row| {
            Ok(Identity {
                channel: Channel::parse(&get::<String>(row, "channel")?).map_err(corrupt)?,
                external_id: get(row, "external_id")?,
                customer_id: CustomerId::from_trusted(get::<String>(row, "customer_id")?),
                created_at: get(row, "created_at")?,
            })
        })
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
            INSERT_CUSTOMER,
            &[
                &c.id.as_str(),
                &c.display_name,
                &c.tier.as_str(),
                &json(&c.tags)?,
                &c.created_at,
            ],
        )
        .await
        .map_err(db)?;
        let inserted = tx
            .execute(
                LINK_IDENTITY,
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
            .query_one(SELECT_IDENTITY_OWNER, &[&channel.as_str(), &external_id])
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
            .query(MERGE_LOCK_CUSTOMERS, &[&into.as_str(), &from.as_str()])
            .await
            .map_err(db)?;
        if locked.len() != 2 {
            return Err(StoreError::Conflict("unknown customer".to_owned()));
        }
        let open = tx
            .query_one(
                MERGE_COUNT_OPEN_CONVERSATIONS,
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
            .query(MERGE_MOVE_IDENTITIES, &[&into.as_str(), &from.as_str()])
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
        moved.conversations = ids(MERGE_MOVE_CONVERSATIONS).await?;
        moved.messages = ids(MERGE_MOVE_MESSAGES).await?;
        moved.tasks = ids(MERGE_MOVE_TASKS).await?;
        moved.tokens = ids(MERGE_MOVE_TOKENS).await?;
        tx.execute(
            INSERT_MERGE,
            &[
                &id,
                &into.as_str(),
                &from.as_str(),
                &json(&moved)?,
                &by,
                &at,
            ],
        )
        .await
        .map_err(db)?;
        audit::append(
            &tx,
            &at,
            by,
            "customer_merged",
            &format!("customer_{into}"),
            &serde_json::json!({
                "merge_id": id,
                "from": from,
                "into": into,
                "identities": moved.identities.len(),
                "conversations": moved.conversations.len(),
                "messages": moved.messages.len(),
            }),
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
        let Some(row) = tx.query_opt(SELECT_MERGE, &[&id]).await.map_err(db)? else {
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
            tx.execute(UNDO_MOVE_IDENTITY, &[&from, channel, external_id, &into])
                .await
                .map_err(db)?;
        }
        for (sql, keys) in [
            (UNDO_MOVE_CONVERSATIONS, &moved.conversations),
            (UNDO_MOVE_MESSAGES, &moved.messages),
            (UNDO_MOVE_TASKS, &moved.tasks),
            (UNDO_MOVE_TOKENS, &moved.tokens),
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
        tx.execute(MARK_MERGE_UNDONE, &[&id, &by, &at])
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
            INSERT_OPT_OUT,
            &[&channel.as_str(), &external_id, &keyword, &at],
        )
        .await
        .map(|_| ())
    }

    async fn opt_in(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        self.execute(DELETE_OPT_OUT, &[&channel.as_str(), &external_id])
            .await
            .map(|n| n > 0)
    }

    async fn opted_out(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        self.query_one_opt(SELECT_OPT_OUT, &[&channel.as_str(), &external_id], |_| {
            Ok(())
        })
        .await
        .map(|found| found.is_some())
    }

    async fn touch_presence(
        &self,
        connection: &str,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(TOUCH_APP_PRESENCE, &[&connection, &customer.as_str(), &at])
            .await
            .map(|_| ())
    }

    async fn drop_presence(
        &self,
        connection: &str,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(DROP_APP_PRESENCE, &[&connection, &stale_before])
            .await
            .map(|_| ())
    }

    async fn present_since(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.query_one_opt(SELECT_APP_PRESENCE, &[&customer.as_str(), &since], |_| {
            Ok(())
        })
        .await
        .map(|found| found.is_some())
    }
}
