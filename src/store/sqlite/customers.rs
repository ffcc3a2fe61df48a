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

const INSERT_CUSTOMER: &str = include_str!("../sql/sqlite/customers/insert_customer.sql");
const SELECT_CUSTOMER: &str = include_str!("../sql/sqlite/customers/select_customer.sql");
const LINK_IDENTITY: &str = include_str!("../sql/sqlite/customers/link_identity.sql");
const SELECT_IDENTITY_OWNER: &str =
    include_str!("../sql/sqlite/customers/select_identity_owner.sql");
const SELECT_IDENTITIES: &str = include_str!("../sql/sqlite/customers/select_identities.sql");
const INSERT_IDENTITY: &str = include_str!("../sql/sqlite/customers/insert_identity.sql");
const MERGE_COUNT_CUSTOMERS: &str =
    include_str!("../sql/sqlite/customers/merge_count_customers.sql");
const MERGE_COUNT_OPEN_CONVERSATIONS: &str =
    include_str!("../sql/sqlite/customers/merge_count_open_conversations.sql");
const MERGE_SELECT_IDENTITIES: &str =
    include_str!("../sql/sqlite/customers/merge_select_identities.sql");
const MERGE_SELECT_CONVERSATIONS: &str =
    include_str!("../sql/sqlite/customers/merge_select_conversations.sql");
const MERGE_SELECT_MESSAGES: &str =
    include_str!("../sql/sqlite/customers/merge_select_messages.sql");
const MERGE_SELECT_TASKS: &str = include_str!("../sql/sqlite/customers/merge_select_tasks.sql");
const MERGE_SELECT_TOKENS: &str = include_str!("../sql/sqlite/customers/merge_select_tokens.sql");
const MERGE_MOVE_IDENTITIES: &str =
    include_str!("../sql/sqlite/customers/merge_move_identities.sql");
const MERGE_MOVE_CONVERSATIONS: &str =
    include_str!("../sql/sqlite/customers/merge_move_conversations.sql");
const MERGE_MOVE_MESSAGES: &str = include_str!("../sql/sqlite/customers/merge_move_messages.sql");
const MERGE_MOVE_TASKS: &str = include_str!("../sql/sqlite/customers/merge_move_tasks.sql");
const MERGE_MOVE_TOKENS: &str = include_str!("../sql/sqlite/customers/merge_move_tokens.sql");
const INSERT_MERGE: &str = include_str!("../sql/sqlite/customers/insert_merge.sql");
const SELECT_MERGE: &str = include_str!("../sql/sqlite/customers/select_merge.sql");
const UNDO_MOVE_IDENTITY: &str = include_str!("../sql/sqlite/customers/undo_move_identity.sql");
const UNDO_MOVE_CONVERSATION: &str =
    include_str!("../sql/sqlite/customers/undo_move_conversation.sql");
const UNDO_MOVE_MESSAGE: &str = include_str!("../sql/sqlite/customers/undo_move_message.sql");
const UNDO_MOVE_TASK: &str = include_str!("../sql/sqlite/customers/undo_move_task.sql");
const UNDO_MOVE_TOKEN: &str = include_str!("../sql/sqlite/customers/undo_move_token.sql");
const MARK_MERGE_UNDONE: &str = include_str!("../sql/sqlite/customers/mark_merge_undone.sql");
const INSERT_OPT_OUT: &str = include_str!("../sql/sqlite/customers/insert_opt_out.sql");
const DELETE_OPT_OUT: &str = include_str!("../sql/sqlite/customers/delete_opt_out.sql");
const SELECT_OPT_OUT: &str = include_str!("../sql/sqlite/customers/select_opt_out.sql");
const TOUCH_APP_PRESENCE: &str = include_str!("../sql/sqlite/customers/touch_app_presence.sql");
const DROP_APP_PRESENCE: &str = include_str!("../sql/sqlite/customers/drop_app_presence.sql");
const SELECT_APP_PRESENCE: &str = include_str!("../sql/sqlite/customers/select_app_presence.sql");

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
                INSERT_CUSTOMER,
                params![
                    c.id.as_str(),
                    c.display_name,
                    c.tier.as_str(),
                    tags,
                    format_time(&c.created_at)
                ],
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
            conn.query_row(SELECT_CUSTOMER, [id.as_str()], customer_row)
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
                LINK_IDENTITY,
                params![
                    channel.as_str(),
                    external_id,
                    customer.as_str(),
                    format_time(&Utc::now())
                ],
            )
            .map_err(unavailable)?;
            let owner: String = conn
                .query_row(
                    SELECT_IDENTITY_OWNER,
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
                SELECT_IDENTITY_OWNER,
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
                .prepare_cached(SELECT_IDENTITIES)
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([customer.as_str()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
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
                    SELECT_IDENTITY_OWNER,
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
                INSERT_CUSTOMER,
                params![
                    c.id.as_str(),
                    c.display_name,
                    c.tier.as_str(),
                    tags,
                    format_time(&c.created_at)
                ],
            )
            .map_err(unavailable)?;
            tx.execute(
                INSERT_IDENTITY,
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
                return Err(StoreError::Conflict(
                    "a customer cannot be merged into itself".to_owned(),
                ));
            }
            let tx = conn.transaction().map_err(unavailable)?;
            let known: i64 = tx
                .query_row(
                    MERGE_COUNT_CUSTOMERS,
                    params![into.as_str(), from.as_str()],
                    |r| r.get(0),
                )
                .map_err(unavailable)?;
            if known != 2 {
                return Err(StoreError::Conflict("unknown customer".to_owned()));
            }
            let open: i64 = tx
                .query_row(
                    MERGE_COUNT_OPEN_CONVERSATIONS,
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
                    let mut stmt = tx.prepare(MERGE_SELECT_IDENTITIES).map_err(unavailable)?;
                    let rows = stmt
                        .query_map([from.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(unavailable)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(unavailable)?;
                    rows
                },
                conversations: ids(MERGE_SELECT_CONVERSATIONS)?,
                messages: ids(MERGE_SELECT_MESSAGES)?,
                tasks: ids(MERGE_SELECT_TASKS)?,
                tokens: ids(MERGE_SELECT_TOKENS)?,
            };
            for sql in [
                MERGE_MOVE_IDENTITIES,
                MERGE_MOVE_CONVERSATIONS,
                MERGE_MOVE_MESSAGES,
                MERGE_MOVE_TASKS,
                MERGE_MOVE_TOKENS,
            ] {
                tx.execute(sql, params![into.as_str(), from.as_str()])
                    .map_err(unavailable)?;
            }
            let at_text = format_time(&at);
            tx.execute(
                INSERT_MERGE,
                params![id, into.as_str(), from.as_str(), json(&moved)?, by, at_text],
            )
            .map_err(unavailable)?;
            audit::append(
                &tx,
                &at_text,
                &by,
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
                .query_row(SELECT_MERGE, [id.as_str()], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .optional()
                .map_err(unavailable)?;
            let Some((into, from, moved, merged_by, merged_at, undone_at)) = row else {
                return Ok(None);
            };
            if undone_at.is_some() {
                return Err(StoreError::Conflict(
                    "this merge was undone already".to_owned(),
                ));
            }
            let moved: MergeMoved = from_json(&moved)?;
            let back = |sql: &str, key: &str| -> StoreResult<()> {
                tx.execute(sql, params![from, key, into]).map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Conflict(
                            "the merged customer has an open conversation again; close it first"
                                .to_owned(),
                        )
                    } else {
                        unavailable(e)
                    }
                })?;
                Ok(())
            };
            for (channel, external_id) in &moved.identities {
                tx.execute(
                    UNDO_MOVE_IDENTITY,
                    params![from, channel, external_id, into],
                )
                .map_err(unavailable)?;
            }
            for c in &moved.conversations {
                back(UNDO_MOVE_CONVERSATION, c)?;
            }
            for m in &moved.messages {
                back(UNDO_MOVE_MESSAGE, m)?;
            }
            for t in &moved.tasks {
                back(UNDO_MOVE_TASK, t)?;
            }
            for t in &moved.tokens {
                back(UNDO_MOVE_TOKEN, t)?;
            }
            let at_text = format_time(&at);
            tx.execute(MARK_MERGE_UNDONE, params![id, by, at_text])
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
                INSERT_OPT_OUT,
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
            conn.execute(DELETE_OPT_OUT, params![channel.as_str(), external_id])
                .map(|n| n > 0)
                .map_err(unavailable)
        })
        .await
    }

    async fn opted_out(&self, channel: Channel, external_id: &str) -> StoreResult<bool> {
        let external_id = external_id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                SELECT_OPT_OUT,
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
                TOUCH_APP_PRESENCE,
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
                DROP_APP_PRESENCE,
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
                SELECT_APP_PRESENCE,
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
