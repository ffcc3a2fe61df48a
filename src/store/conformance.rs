//! The [`Store`] contract as executable checks. Every implementation must pass
//! [`run_all`]; the test suite runs it against SQLite (and PostgreSQL where available).
//!
//! Each check creates its own rows with fresh ids, so checks can share one database.
//!
//! Test support: compiled for the crate's unit tests and with the `test-support` feature (the
//! integration tests and benches enable it through the crate's dev-dependency on itself), not
//! into the library that binaries link.

use std::sync::Arc;

use anyhow::{ensure, Context};
use chrono::{DateTime, Duration, SubsecRound, Utc};

use super::{
    format_time, override_subject, rule_set_subject, Activation, Inserted, OutboxItem,
    OutboxStatus, PresenceEvent, Principal, QueueExit, Settlement, Store, StoreError,
    StoredOverride, Turn, TurnOutcome,
};
use super::{kb_subject, AssistRecord, KbWrite, StoredKbEntry, Ticket};
use super::{staff_subject, team_subject, StaffChange, StaffMember, StaffWrite, Team};
use super::{ANONYMOUS_ACTOR, UNKNOWN_STAFF_SUBJECT};
use crate::domain::{
    Agent, AgentId, AgentStatus, Channel, Conversation, ConversationId, ConversationStatus,
    Customer, CustomerId, Language, Message, MessageId, Priority, Resolution, Role, Sender, Skill,
    SkillRequirement, Task, TaskId, TaskStatus, TeamId, TeamRole, Tier,
};

/// Runs every check in order, stopping at the first failure.
pub async fn run_all(store: Arc<dyn Store>) -> anyhow::Result<()> {
    ping_answers(store.as_ref()).await.context("ping")?;
    customers_round_trip(store.as_ref())
        .await
        .context("customers")?;
    identities_link_once_and_first_owner_wins(store.as_ref())
        .await
        .context("identities")?;
    one_open_conversation_per_customer(store.as_ref())
        .await
        .context("conversations")?;
    messages_are_unique_by_channel_and_external_id(Arc::clone(&store))
        .await
        .context("message dedup")?;
    customer_messages_span_conversations_in_order(store.as_ref())
        .await
        .context("customer messages")?;
    agents_upsert_by_username(store.as_ref())
        .await
        .context("agents")?;
    tokens_expire(store.as_ref()).await.context("tokens")?;
    tasks_are_assigned_at_most_once(Arc::clone(&store))
        .await
        .context("tasks")?;
    turns_are_all_or_nothing(Arc::clone(&store))
        .await
        .context("turns")?;
    outbox_rows_are_claimed_once_and_relayed_when_stale(Arc::clone(&store))
        .await
        .context("outbox")?;
    rule_sets_are_versioned_activated_and_audited(store.as_ref())
        .await
        .context("rule sets")?;
    rule_sets_are_listed_oldest_first(store.as_ref())
        .await
        .context("rule set list")?;
    tasks_finish_and_expire_once_and_record_how(store.as_ref())
        .await
        .context("finish and expire")?;
    an_abandoned_task_is_cancelled_once_and_the_bot_takes_over(store.as_ref())
        .await
        .context("abandonment")?;
    last_agent_of_picks_the_latest_assignment(store.as_ref())
        .await
        .context("last agent")?;
    preferred_agent_round_trips(store.as_ref())
        .await
        .context("preferred agent")?;
    overrides_are_in_force_until_ended_or_expired_and_audited(store.as_ref())
        .await
        .context("overrides")?;
    traffic_is_the_window_with_initial_presence(store.as_ref())
        .await
        .context("traffic")?;
    first_contacts_of_one_identity_make_one_customer(Arc::clone(&store))
        .await
        .context("identity first contact")?;
    provider_receipts_statuses_and_opt_outs(store.as_ref())
        .await
        .context("provider bookkeeping")?;
    merges_move_everything_and_undo_moves_it_back(store.as_ref())
        .await
        .context("merges")?;
    app_presence_is_fresh_until_dropped(store.as_ref())
        .await
        .context("app presence")?;
    kb_entries_are_saved_replaced_and_audited(store.as_ref())
        .await
        .context("kb entries")?;
    kb_conditional_writes_apply_only_to_the_version_read(store.as_ref())
        .await
        .context("kb conditional writes")?;
    tickets_open_once_per_source(store.as_ref())
        .await
        .context("tickets")?;
    assist_records_uses_and_resolved_samples(store.as_ref())
        .await
        .context("assist")?;
    staff_and_teams_are_created_listed_and_audited(store.as_ref())
        .await
        .context("staff and teams")?;
    staff_batches_are_stored_all_or_nothing(store.as_ref())
        .await
        .context("staff batches")?;
    staff_updates_apply_to_the_revision_read_and_revoke_tokens(store.as_ref())
        .await
        .context("staff updates")?;
    deactivation_signs_out_and_routes_conversations_again(store.as_ref())
        .await
        .context("deactivation")?;
    a_sign_out_deletes_one_token_and_app_tokens_can_be_revoked(store.as_ref())
        .await
        .context("sign-out")?;
    sign_ins_and_refused_sign_ins_are_audited(store.as_ref())
        .await
        .context("sign-in audit")?;
    Ok(())
}

/// Concurrent first messages of one new identity (a provider retrying) all resolve to one
/// customer, and no customer row is left without its identity.
async fn first_contacts_of_one_identity_make_one_customer(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let openid = format!("o_conf_{}", uuid::Uuid::new_v4().simple());
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let (store, openid) = (Arc::clone(&store), openid.clone());
            tokio::spawn(async move {
                let candidate = Customer {
                    id: CustomerId::generate(),
                    display_name: "WeChat user".to_owned(),
                    tier: Tier::Standard,
                    tags: vec!["wechat".to_owned()],
                    created_at: Utc::now(),
                };
                let owner = store
                    .customer_for_identity(Channel::Wechat, &openid, &candidate)
                    .await?;
                let kept = store.customer(&candidate.id).await?.is_some();
                Ok::<_, StoreError>((owner, candidate.id, kept))
            })
        })
        .collect();
    let mut owners = std::collections::BTreeSet::new();
    for attempt in attempts {
        let (owner, candidate, kept) = attempt.await??;
        ensure!(
            kept == (owner == candidate),
            "a candidate customer row is kept exactly when it won the identity"
        );
        owners.insert(owner);
    }
    ensure!(
        owners.len() == 1,
        "one customer for one identity: {owners:?}"
    );
    let owner = owners.into_iter().next().context("owner")?;
    ensure!(store.find_identity(Channel::Wechat, &openid).await? == Some(owner));
    Ok(())
}

async fn provider_receipts_statuses_and_opt_outs(store: &dyn Store) -> anyhow::Result<()> {
    // Receipts: the first answer is kept.
    let event = format!("evt_{}", uuid::Uuid::new_v4().simple());
    let first = store
        .webhook_receipt("ivr", &event, "hash-a", "{\"n\":1}", Utc::now())
        .await?;
    let second = store
        .webhook_receipt("ivr", &event, "hash-b", "{\"n\":2}", Utc::now())
        .await?;
    ensure!(first == ("hash-a".to_owned(), "{\"n\":1}".to_owned()) && second == first);
    ensure!(store.find_webhook_receipt("ivr", &event).await? == Some(first));
    ensure!(store.find_webhook_receipt("sms", &event).await?.is_none());
    // Old receipts are purged, recent ones stay (other tests only write recent ones).
    let old = format!("evt_old_{}", uuid::Uuid::new_v4().simple());
    store
        .webhook_receipt(
            "ivr",
            &old,
            "h",
            "{}",
            Utc::now() - chrono::Duration::days(20),
        )
        .await?;
    let purged = store
        .purge_webhook_receipts(Utc::now() - chrono::Duration::days(10))
        .await?;
    ensure!(purged >= 1, "the old receipt is purged");
    ensure!(store.find_webhook_receipt("ivr", &old).await?.is_none());
    ensure!(
        store.find_webhook_receipt("ivr", &event).await?.is_some(),
        "a recent receipt stays"
    );

    // Opt-outs: idempotent, until an opt-in.
    let phone = format!("+8613{:09}", rand::random::<u32>() % 1_000_000_000);
    ensure!(!store.opted_out(Channel::Sms, &phone).await?);
    store
        .opt_out(Channel::Sms, &phone, "STOP", Utc::now())
        .await?;
    store
        .opt_out(Channel::Sms, &phone, "退订", Utc::now())
        .await?;
    ensure!(store.opted_out(Channel::Sms, &phone).await?);
    ensure!(!store.opted_out(Channel::Ivr, &phone).await?, "per channel");
    ensure!(store.opt_in(Channel::Sms, &phone).await?);
    ensure!(!store.opt_in(Channel::Sms, &phone).await?);
    ensure!(!store.opted_out(Channel::Sms, &phone).await?);

    // A delivery taken by a passive reply is settled and never claimed; one delivered by a
    // worker records the provider's id and its status callbacks (never an older one).
    let now = Utc::now();
    let passive = OutboxItem::new(
        format!("p_{}", uuid::Uuid::new_v4().simple()),
        "wechat",
        serde_json::json!({}),
        now,
    );
    ensure!(store.enqueue_outbox(&passive).await?);
    ensure!(!store.enqueue_outbox(&passive).await?, "enqueued once");
    ensure!(store.take_outbox(&passive.id, now).await?);
    ensure!(!store.take_outbox(&passive.id, now).await?, "taken once");
    let lease = now + Duration::seconds(30);
    ensure!(store
        .claim_outbox(&passive.id, now, now, lease)
        .await?
        .is_none());
    let sent = OutboxItem::new(
        format!("s_{}", uuid::Uuid::new_v4().simple()),
        "sms",
        serde_json::json!({}),
        now,
    );
    ensure!(store.enqueue_outbox(&sent).await?);
    ensure!(store
        .claim_outbox(&sent.id, now, now, lease)
        .await?
        .is_some());
    ensure!(
        !store.take_outbox(&sent.id, now).await?,
        "a claimed row is the worker's"
    );
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    ensure!(
        store
            .settle_outbox(
                &sent.id,
                lease,
                &Settlement::Delivered {
                    provider_ref: Some(sid.clone())
                },
                now
            )
            .await?
    );
    ensure!(
        store
            .record_provider_status("sms", &sid, "delivered", now + Duration::seconds(5))
            .await?
    );
    ensure!(
        store
            .record_provider_status("sms", &sid, "sent", now + Duration::seconds(2))
            .await?
    );
    // Arriving later does not make an earlier status newer: the edge stamps arrival time.
    ensure!(
        store
            .record_provider_status("sms", &sid, "sending", now + Duration::seconds(9))
            .await?
    );
    ensure!(
        !store
            .record_provider_status("sms", "SMunknown", "delivered", now)
            .await?
    );
    let row = store.outbox_item(&sent.id).await?.context("row")?;
    ensure!(row.provider_ref.as_deref() == Some(sid.as_str()));
    ensure!(
        row.provider_status.as_deref() == Some("delivered"),
        "a late older status does not overwrite: {:?}",
        row.provider_status
    );
    Ok(())
}

async fn merges_move_everything_and_undo_moves_it_back(store: &dyn Store) -> anyhow::Result<()> {
    let (into, open) = seed_conversation(store).await?;
    let (from, other) = seed_conversation(store).await?;
    let openid = format!("o_merge_{}", uuid::Uuid::new_v4().simple());
    store
        .link_identity(Channel::Wechat, &openid, &from.id)
        .await?;
    let message = customer_message(
        &other,
        Some(&format!("m_{}", uuid::Uuid::new_v4().simple())),
        "hi",
    );
    store.insert_message(&message).await?;
    let at = micros(Utc::now());
    let both_open = store
        .merge_customers("mrg_c1", &into.id, &from.id, "agent_1", at)
        .await;
    ensure!(
        matches!(both_open, Err(StoreError::Conflict(_))),
        "both open: {both_open:?}"
    );
    ensure!(matches!(
        store
            .merge_customers("mrg_c0", &into.id, &into.id, "agent_1", at)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let mut closed = open.clone();
    closed.status = ConversationStatus::Closed;
    closed.closed_at = Some(at);
    store.update_conversation(&closed).await?;
    let merge_id = format!("mrg_{}", uuid::Uuid::new_v4().simple());
    let merge = store
        .merge_customers(&merge_id, &into.id, &from.id, "agent_1", at)
        .await?;
    ensure!(merge.moved.identities == vec![("wechat".to_owned(), openid.clone())]);
    ensure!(merge.moved.conversations == vec![other.id.to_string()]);
    ensure!(store.find_identity(Channel::Wechat, &openid).await? == Some(into.id.clone()));
    ensure!(store.open_conversation(&into.id).await?.map(|c| c.id) == Some(other.id.clone()));
    ensure!(store
        .customer_messages(&into.id)
        .await?
        .iter()
        .any(|m| m.id == message.id));
    ensure!(store.customer_messages(&from.id).await?.is_empty());
    let log = store.audit_log("customer_", 10).await?;
    ensure!(log
        .iter()
        .any(|e| e.action == "customer_merged" && e.detail["merge_id"] == merge_id.as_str()));

    let undone = store
        .undo_merge(&merge_id, "agent_2", at)
        .await?
        .context("known merge")?;
    ensure!(undone.undone_by.as_deref() == Some("agent_2"));
    ensure!(store.find_identity(Channel::Wechat, &openid).await? == Some(from.id.clone()));
    ensure!(store.open_conversation(&from.id).await?.map(|c| c.id) == Some(other.id.clone()));
    ensure!(store
        .customer_messages(&from.id)
        .await?
        .iter()
        .any(|m| m.id == message.id));
    ensure!(matches!(
        store.undo_merge(&merge_id, "agent_2", at).await,
        Err(StoreError::Conflict(_))
    ));
    ensure!(store
        .undo_merge("mrg_unknown", "agent_2", at)
        .await?
        .is_none());
    Ok(())
}

async fn app_presence_is_fresh_until_dropped(store: &dyn Store) -> anyhow::Result<()> {
    let (customer, _) = seed_conversation(store).await?;
    let now = Utc::now();
    let connection = format!("conn_{}", uuid::Uuid::new_v4().simple());
    ensure!(
        !store
            .present_since(&customer.id, now - Duration::seconds(45))
            .await?
    );
    store.touch_presence(&connection, &customer.id, now).await?;
    ensure!(
        store
            .present_since(&customer.id, now - Duration::seconds(45))
            .await?
    );
    ensure!(
        !store
            .present_since(&customer.id, now + Duration::seconds(1))
            .await?,
        "stale later"
    );
    store
        .drop_presence(&connection, now - Duration::days(1))
        .await?;
    ensure!(
        !store
            .present_since(&customer.id, now - Duration::seconds(45))
            .await?
    );
    Ok(())
}

/// A fresh customer with one open conversation, stored.
pub async fn seed_conversation(store: &dyn Store) -> anyhow::Result<(Customer, Conversation)> {
    seed_customer_conversation(store, Tier::Standard, &["test"]).await
}

/// A fresh customer of `tier` with `tags` and one open conversation (with the bot), stored.
async fn seed_customer_conversation(
    store: &dyn Store,
    tier: Tier,
    tags: &[&str],
) -> anyhow::Result<(Customer, Conversation)> {
    let customer = Customer {
        id: CustomerId::generate(),
        display_name: "Conformance".to_owned(),
        tier,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        created_at: Utc::now(),
    };
    store.insert_customer(&customer).await?;
    let conversation = Conversation {
        id: ConversationId::generate(),
        customer_id: customer.id.clone(),
        status: ConversationStatus::Bot,
        last_channel: Channel::Web,
        agent_id: None,
        bot_state: serde_json::json!({}),
        opened_at: Utc::now(),
        closed_at: None,
        resolution: None,
    };
    store.insert_conversation(&conversation).await?;
    Ok((customer, conversation))
}

/// A customer message in `conversation` with the given external id.
pub fn customer_message(
    conversation: &Conversation,
    external_id: Option<&str>,
    text: &str,
) -> Message {
    Message {
        id: MessageId::generate(),
        conversation_id: conversation.id.clone(),
        customer_id: conversation.customer_id.clone(),
        channel: Channel::Web,
        from: Sender::Customer,
        text: text.to_owned(),
        client_id: external_id.map(str::to_owned),
        external_id: external_id.map(str::to_owned),
        agent_id: None,
        sent_at: Utc::now(),
    }
}

async fn ping_answers(store: &dyn Store) -> anyhow::Result<()> {
    store.ping().await?;
    Ok(())
}

async fn customers_round_trip(store: &dyn Store) -> anyhow::Result<()> {
    let (customer, _) = seed_conversation(store).await?;
    let loaded = store
        .customer(&customer.id)
        .await?
        .context("customer missing")?;
    ensure!(loaded.id == customer.id && loaded.tags == customer.tags);
    ensure!(store.customer(&CustomerId::generate()).await?.is_none());
    ensure!(
        matches!(
            store.insert_customer(&customer).await,
            Err(StoreError::Conflict(_))
        ),
        "second insert of the same customer must conflict"
    );
    Ok(())
}

async fn identities_link_once_and_first_owner_wins(store: &dyn Store) -> anyhow::Result<()> {
    let (first, _) = seed_conversation(store).await?;
    let (second, _) = seed_conversation(store).await?;
    let phone = format!("+8613{}", &uuid::Uuid::new_v4().simple().to_string()[..9]);
    let owner = store.link_identity(Channel::Sms, &phone, &first.id).await?;
    ensure!(owner == first.id);
    let owner = store
        .link_identity(Channel::Sms, &phone, &second.id)
        .await?;
    ensure!(owner == first.id, "an identity must never move silently");
    ensure!(store.find_identity(Channel::Sms, &phone).await? == Some(first.id.clone()));
    ensure!(store.find_identity(Channel::Ivr, &phone).await?.is_none());
    let identities = store.identities(&first.id).await?;
    ensure!(identities.len() == 1 && identities[0].external_id == phone);
    Ok(())
}

async fn one_open_conversation_per_customer(store: &dyn Store) -> anyhow::Result<()> {
    let (customer, mut conversation) = seed_conversation(store).await?;
    let second = Conversation {
        id: ConversationId::generate(),
        ..conversation.clone()
    };
    ensure!(
        matches!(
            store.insert_conversation(&second).await,
            Err(StoreError::Conflict(_))
        ),
        "a second open conversation must conflict"
    );
    let open = store
        .open_conversation(&customer.id)
        .await?
        .context("open")?;
    ensure!(open.id == conversation.id);

    conversation.status = ConversationStatus::Closed;
    conversation.closed_at = Some(Utc::now());
    conversation.bot_state = serde_json::json!({"misses": 1});
    store.update_conversation(&conversation).await?;
    ensure!(store.open_conversation(&customer.id).await?.is_none());
    let stored = store
        .conversation(&conversation.id)
        .await?
        .context("stored")?;
    ensure!(stored.status == ConversationStatus::Closed);
    ensure!(stored.bot_state == serde_json::json!({"misses": 1}));
    store.insert_conversation(&second).await?;
    ensure!(store.open_conversation(&customer.id).await?.map(|c| c.id) == Some(second.id));
    Ok(())
}

async fn messages_are_unique_by_channel_and_external_id(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let (_, conversation) = seed_conversation(store.as_ref()).await?;
    let key = format!("client-{}", uuid::Uuid::new_v4());
    let first = customer_message(&conversation, Some(&key), "hello");
    let stored = store.insert_message(&first).await?;
    ensure!(matches!(stored, Inserted::New(_)));

    let again = customer_message(&conversation, Some(&key), "hello again");
    match store.insert_message(&again).await? {
        Inserted::Duplicate(m) => ensure!(m.id == first.id && m.text == "hello"),
        Inserted::New(_) => anyhow::bail!("duplicate external id stored twice"),
    }

    // Concurrent duplicates: exactly one wins.
    let key = format!("client-{}", uuid::Uuid::new_v4());
    let mut handles = Vec::new();
    for i in 0..16 {
        let store = Arc::clone(&store);
        let m = customer_message(&conversation, Some(&key), &format!("copy {i}"));
        handles.push(tokio::spawn(async move { store.insert_message(&m).await }));
    }
    let mut new = 0;
    let mut ids = std::collections::BTreeSet::new();
    for h in handles {
        let inserted = h.await??;
        if !inserted.is_duplicate() {
            new += 1;
        }
        ids.insert(inserted.into_inner().id);
    }
    ensure!(new == 1, "{new} concurrent duplicates were stored");
    ensure!(ids.len() == 1, "duplicates must all return the stored row");

    // Messages without an external id (bot, agent) never collide.
    let mut bot = customer_message(&conversation, None, "bot says");
    bot.from = Sender::Bot;
    ensure!(!store.insert_message(&bot).await?.is_duplicate());
    let bot2 = Message {
        id: MessageId::generate(),
        ..bot.clone()
    };
    ensure!(!store.insert_message(&bot2).await?.is_duplicate());

    let messages = store.conversation_messages(&conversation.id).await?;
    ensure!(
        messages.len() == 4,
        "expected 4 messages, got {}",
        messages.len()
    );
    ensure!(messages[0].id == first.id, "oldest first");
    ensure!(store.message(&first.id).await?.map(|m| m.text) == Some("hello".to_owned()));
    ensure!(store.find_message(Channel::Web, &key).await?.is_some());
    ensure!(store.find_message(Channel::Sms, &key).await?.is_none());
    Ok(())
}

async fn customer_messages_span_conversations_in_order(store: &dyn Store) -> anyhow::Result<()> {
    let (customer, mut conversation) = seed_conversation(store).await?;
    let one = customer_message(
        &conversation,
        Some(&uuid::Uuid::new_v4().to_string()),
        "one",
    );
    store.insert_message(&one).await?;
    conversation.status = ConversationStatus::Closed;
    store.update_conversation(&conversation).await?;
    let next = Conversation {
        id: ConversationId::generate(),
        status: ConversationStatus::Bot,
        ..conversation.clone()
    };
    store.insert_conversation(&next).await?;
    let two = customer_message(&next, Some(&uuid::Uuid::new_v4().to_string()), "two");
    store.insert_message(&two).await?;
    let texts: Vec<String> = store
        .customer_messages(&customer.id)
        .await?
        .into_iter()
        .map(|m| m.text)
        .collect();
    ensure!(texts == ["one", "two"], "got {texts:?}");
    Ok(())
}

fn sample_agent(username: &str) -> Agent {
    Agent {
        id: AgentId::generate(),
        username: username.to_owned(),
        display_name: "Sample".to_owned(),
        role: Role::Agent,
        skills: vec![Skill {
            name: "billing".to_owned(),
            level: 3,
        }],
        languages: vec![Language::Zh],
        capacity: 3,
        voice_capacity: None,
        ticket_capacity: Some(4),
        password_hash: "hash-1".to_owned(),
    }
}

async fn agents_upsert_by_username(store: &dyn Store) -> anyhow::Result<()> {
    let username = format!("agent-{}", uuid::Uuid::new_v4().simple());
    let agent = sample_agent(&username);
    let id = store.upsert_agent(&agent).await?;
    ensure!(id == agent.id);
    let changed = Agent {
        id: AgentId::generate(),
        capacity: 5,
        voice_capacity: Some(1),
        ticket_capacity: None,
        password_hash: String::new(),
        ..agent.clone()
    };
    let id2 = store.upsert_agent(&changed).await?;
    ensure!(id2 == agent.id, "upsert keeps the first id");
    let loaded = store.agent_by_username(&username).await?.context("agent")?;
    ensure!(loaded.capacity == 5 && loaded.password_hash == "hash-1");
    ensure!(
        loaded.voice_capacity == Some(1) && loaded.ticket_capacity.is_none(),
        "media capacities round-trip: {:?} {:?}",
        loaded.voice_capacity,
        loaded.ticket_capacity
    );
    ensure!(loaded.skills == agent.skills && loaded.languages == agent.languages);
    ensure!(store.agent(&agent.id).await?.is_some());
    ensure!(store.agent_by_username("nobody-here").await?.is_none());
    Ok(())
}

async fn tokens_expire(store: &dyn Store) -> anyhow::Result<()> {
    let now = Utc::now();
    let hash = format!("h-{}", uuid::Uuid::new_v4());
    let principal = Principal::Staff {
        agent_id: seed_agent(store, Role::Supervisor).await?.id,
        role: Role::Supervisor,
    };
    store
        .insert_token(&hash, &principal, now + Duration::hours(1))
        .await?;
    ensure!(store.token_principal(&hash, now).await? == Some(principal));
    ensure!(store
        .token_principal(&hash, now + Duration::hours(2))
        .await?
        .is_none());
    ensure!(store.token_principal("unknown", now).await?.is_none());
    Ok(())
}

async fn tasks_are_assigned_at_most_once(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let (customer, mut conversation) = seed_conversation(store.as_ref()).await?;
    let first_agent = store
        .upsert_agent(&sample_agent(&format!(
            "a-{}",
            uuid::Uuid::new_v4().simple()
        )))
        .await?;
    let second_agent = store
        .upsert_agent(&sample_agent(&format!(
            "b-{}",
            uuid::Uuid::new_v4().simple()
        )))
        .await?;
    let task = Task {
        id: TaskId::generate(),
        conversation_id: conversation.id.clone(),
        customer_id: customer.id.clone(),
        channel: Channel::Web,
        language: Language::En,
        required_skills: vec![SkillRequirement {
            name: "billing".to_owned(),
            min_level: 2,
        }],
        priority: Priority(50),
        intent: Some("refund".to_owned()),
        summary: "wants a refund".to_owned(),
        status: TaskStatus::Waiting,
        agent_id: None,
        created_at: Utc::now(),
        assigned_at: None,
        preferred_agent: None,
        context: None,
        transfer: None,
    };
    ensure!(!store.insert_task(&task).await?.is_duplicate());
    let twin = Task {
        id: TaskId::generate(),
        ..task.clone()
    };
    match store.insert_task(&twin).await? {
        Inserted::Duplicate(t) => ensure!(t.id == task.id, "duplicate returns the open task"),
        Inserted::New(_) => anyhow::bail!("two open tasks for one conversation"),
    }
    ensure!(store.waiting_tasks().await?.iter().any(|t| t.id == task.id));

    let a = {
        let store = Arc::clone(&store);
        let id = task.id.clone();
        tokio::spawn(async move { store.assign_task(&id, &first_agent, Utc::now()).await })
    };
    let b = {
        let store = Arc::clone(&store);
        let id = task.id.clone();
        tokio::spawn(async move { store.assign_task(&id, &second_agent, Utc::now()).await })
    };
    let (a, b) = (a.await??, b.await??);
    ensure!(a ^ b, "exactly one assignment must win (got {a}, {b})");
    let stored = store.task(&task.id).await?.context("task")?;
    ensure!(stored.status == TaskStatus::Assigned && stored.assigned_at.is_some());
    let owner = stored.agent_id.clone().context("task agent")?;
    let conv = store
        .conversation(&conversation.id)
        .await?
        .context("conversation")?;
    ensure!(
        conv.status == ConversationStatus::Assigned && conv.agent_id == Some(owner),
        "the conversation is assigned in the same transaction as its task"
    );
    conversation = conv;
    ensure!(!store.waiting_tasks().await?.iter().any(|t| t.id == task.id));
    ensure!(store.open_task_for(&conversation.id).await?.map(|t| t.id) == Some(task.id.clone()));

    ensure!(
        store
            .finish_task(&task.id, TaskStatus::Completed, Utc::now())
            .await?
    );
    ensure!(
        !store
            .finish_task(&task.id, TaskStatus::Cancelled, Utc::now())
            .await?,
        "final stays final"
    );
    ensure!(store.open_task_for(&conversation.id).await?.is_none());
    conversation.status = ConversationStatus::Closed;
    store.update_conversation(&conversation).await?;
    Ok(())
}

async fn turns_are_all_or_nothing(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let (_, mut conversation) = seed_conversation(store.as_ref()).await?;
    let key = format!("turn-{}", uuid::Uuid::new_v4());
    let inbound = customer_message(&conversation, Some(&key), "where is my parcel?");
    let mut answer = customer_message(&conversation, None, "It left the warehouse today.");
    answer.from = Sender::Bot;
    conversation.last_channel = Channel::Sms;
    conversation.bot_state = serde_json::json!({"misses": 1});
    // Status is not the turn's to write: a concurrent assignment must survive it.
    conversation.status = ConversationStatus::Closed;
    let outbox = [OutboxItem::new(
        format!("{}.webhook", answer.id),
        "webhook",
        serde_json::json!({"text": answer.text}),
        Utc::now(),
    )];
    let turn = Turn {
        inbound: Some(&inbound),
        replies: std::slice::from_ref(&answer),
        conversation: Some(&conversation),
        outbox: &outbox,
        handoff: None,
    };
    ensure!(store.commit_turn(turn).await? == TurnOutcome::Committed);
    let stored = store.conversation_messages(&conversation.id).await?;
    ensure!(
        stored.iter().map(|m| m.id.clone()).collect::<Vec<_>>()
            == vec![inbound.id.clone(), answer.id.clone()],
        "the customer message, then the answer"
    );
    let reloaded = store
        .conversation(&conversation.id)
        .await?
        .context("conversation")?;
    ensure!(reloaded.last_channel == Channel::Sms);
    ensure!(reloaded.bot_state == serde_json::json!({"misses": 1}));
    ensure!(
        reloaded.status == ConversationStatus::Bot,
        "a turn must not write the status"
    );
    ensure!(store.outbox_item(&outbox[0].id).await?.is_some());

    // The same customer message again: the stored one comes back and nothing is written.
    let repeat = customer_message(&conversation, Some(&key), "where is my parcel? (retry)");
    let mut second_answer = customer_message(&conversation, None, "again");
    second_answer.from = Sender::Bot;
    let second_outbox = [OutboxItem::new(
        format!("{}.webhook", second_answer.id),
        "webhook",
        serde_json::json!({}),
        Utc::now(),
    )];
    conversation.bot_state = serde_json::json!({"misses": 2});
    let outcome = store
        .commit_turn(Turn {
            inbound: Some(&repeat),
            replies: std::slice::from_ref(&second_answer),
            conversation: Some(&conversation),
            outbox: &second_outbox,
            handoff: None,
        })
        .await?;
    ensure!(
        matches!(&outcome, TurnOutcome::Duplicate(m) if m.id == inbound.id),
        "expected the stored message back, got {outcome:?}"
    );
    ensure!(store.conversation_messages(&conversation.id).await?.len() == 2);
    ensure!(store.outbox_item(&second_outbox[0].id).await?.is_none());
    let reloaded = store
        .conversation(&conversation.id)
        .await?
        .context("conversation")?;
    ensure!(reloaded.bot_state == serde_json::json!({"misses": 1}));

    // A turn without a customer message (an agent or system message) commits too.
    let mut notice = customer_message(&conversation, None, "Alice joined.");
    notice.from = Sender::System;
    let outcome = store
        .commit_turn(Turn {
            inbound: None,
            replies: std::slice::from_ref(&notice),
            conversation: None,
            outbox: &[],
            handoff: None,
        })
        .await?;
    ensure!(outcome == TurnOutcome::Committed);
    ensure!(store.conversation_messages(&conversation.id).await?.len() == 3);

    // A hand-off turn stores its task and queues the conversation; its repeat stores neither.
    let (_, conversation) = seed_conversation(store.as_ref()).await?;
    let key = format!("handoff-{}", uuid::Uuid::new_v4());
    let ask = customer_message(&conversation, Some(&key), "human please");
    let task = Task {
        id: TaskId::generate(),
        conversation_id: conversation.id.clone(),
        customer_id: conversation.customer_id.clone(),
        channel: Channel::Web,
        language: Language::En,
        required_skills: vec![SkillRequirement {
            name: "billing".to_owned(),
            min_level: 1,
        }],
        priority: Priority::STANDARD,
        intent: Some("billing".to_owned()),
        summary: "asked for a person".to_owned(),
        status: TaskStatus::Waiting,
        agent_id: None,
        created_at: Utc::now(),
        assigned_at: None,
        preferred_agent: None,
        context: None,
        transfer: None,
    };
    let handoff_turn = |inbound| Turn {
        inbound: Some(inbound),
        replies: &[],
        conversation: Some(&conversation),
        outbox: &[],
        handoff: Some(&task),
    };
    ensure!(store.commit_turn(handoff_turn(&ask)).await? == TurnOutcome::Committed);
    let open = store
        .open_task_for(&conversation.id)
        .await?
        .context("task")?;
    ensure!(open.id == task.id && open.required_skills == task.required_skills);
    let queued = store
        .conversation(&conversation.id)
        .await?
        .context("conversation")?;
    ensure!(
        queued.status == ConversationStatus::Queued,
        "a hand-off queues the conversation"
    );
    let repeat = customer_message(&conversation, Some(&key), "human please");
    ensure!(matches!(
        store.commit_turn(handoff_turn(&repeat)).await?,
        TurnOutcome::Duplicate(_)
    ));
    ensure!(
        store
            .waiting_tasks()
            .await?
            .iter()
            .filter(|t| t.conversation_id == conversation.id)
            .count()
            == 1
    );

    // A hand-off on a conversation that is not with the bot any more (a stale session) is
    // refused whole: neither the message nor a second task is stored.
    let late = customer_message(&conversation, Some(&format!("{key}-late")), "agent please");
    let late_task = Task {
        id: TaskId::generate(),
        ..task.clone()
    };
    let refused = store
        .commit_turn(Turn {
            inbound: Some(&late),
            replies: &[],
            conversation: Some(&conversation),
            outbox: &[],
            handoff: Some(&late_task),
        })
        .await;
    ensure!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "a stale hand-off is a conflict, got {refused:?}"
    );
    ensure!(
        store.message(&late.id).await?.is_none(),
        "nothing of it is stored"
    );
    Ok(())
}

async fn outbox_rows_are_claimed_once_and_relayed_when_stale(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let (_, conversation) = seed_conversation(store.as_ref()).await?;
    let now = Utc::now();
    let message = customer_message(&conversation, None, "Your refund is on its way.");
    let item = OutboxItem::new(
        format!("{}.webhook", message.id),
        "webhook",
        serde_json::json!({"text": message.text}),
        now,
    );
    store
        .commit_turn(Turn {
            inbound: None,
            replies: std::slice::from_ref(&message),
            conversation: None,
            outbox: std::slice::from_ref(&item),
            handoff: None,
        })
        .await?;
    let stored = store.outbox_item(&item.id).await?.context("stored")?;
    ensure!(stored.status == OutboxStatus::Pending && stored.attempts == 0);
    ensure!(stored.payload == item.payload);

    // Concurrent claims: exactly one worker gets it.
    let lease = now + Duration::seconds(30);
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (store, id) = (Arc::clone(&store), item.id.clone());
        handles.push(tokio::spawn(async move {
            store.claim_outbox(&id, now, now, lease).await
        }));
    }
    let mut claimed = 0;
    for h in handles {
        if h.await??.is_some() {
            claimed += 1;
        }
    }
    ensure!(claimed == 1, "{claimed} workers claimed one delivery");

    // A retry counts the attempt; the row is claimable again once due (not before: the
    // back-off holds even if a copy of its envelope comes early); delivery settles it for good.
    let due = now + Duration::seconds(5);
    ensure!(
        store
            .settle_outbox(
                &item.id,
                lease,
                &Settlement::Retry {
                    error: "HTTP 503".to_owned(),
                    due_at: due,
                },
                now,
            )
            .await?,
        "the claimant settles"
    );
    let retried = store.outbox_item(&item.id).await?.context("retried")?;
    ensure!(retried.status == OutboxStatus::Pending && retried.attempts == 1);
    ensure!(retried.last_error.as_deref() == Some("HTTP 503"));
    ensure!(
        store
            .claim_outbox(&item.id, now, now, lease)
            .await?
            .is_none(),
        "a retried row is not claimed before it is due"
    );
    let lease2 = due + Duration::seconds(30);
    ensure!(
        store
            .claim_outbox(&item.id, due, due, lease2)
            .await?
            .is_some(),
        "a retried row is claimed once due"
    );
    ensure!(
        !store
            .settle_outbox(
                &item.id,
                lease,
                &Settlement::Delivered { provider_ref: None },
                due
            )
            .await?,
        "an old claim cannot settle"
    );
    ensure!(
        store
            .settle_outbox(
                &item.id,
                lease2,
                &Settlement::Delivered { provider_ref: None },
                due
            )
            .await?
    );
    let done = store.outbox_item(&item.id).await?.context("delivered")?;
    ensure!(done.status == OutboxStatus::Delivered && done.attempts == 2);
    ensure!(
        store
            .claim_outbox(&item.id, due, due, lease2)
            .await?
            .is_none(),
        "a delivered row is never claimed again"
    );

    // A claim whose worker died (lease over) is taken over, and the late worker's settlement
    // is refused; a live lease is not taken over.
    let orphan = OutboxItem::new(
        format!("orphan-{}", uuid::Uuid::new_v4()),
        "webhook",
        serde_json::json!({}),
        now,
    );
    store
        .commit_turn(Turn {
            inbound: None,
            replies: &[],
            conversation: None,
            outbox: std::slice::from_ref(&orphan),
            handoff: None,
        })
        .await?;
    ensure!(
        store
            .claim_outbox(&orphan.id, now, now, lease)
            .await?
            .is_some(),
        "a fresh row can be claimed"
    );
    ensure!(
        store
            .claim_outbox(&orphan.id, now, now, lease)
            .await?
            .is_none(),
        "a live lease is not taken over"
    );
    let after_lease = lease + Duration::seconds(1);
    let lease3 = after_lease + Duration::seconds(30);
    ensure!(
        store
            .claim_outbox(&orphan.id, after_lease, after_lease, lease3)
            .await?
            .is_some(),
        "an expired lease is taken over"
    );
    ensure!(
        !store
            .settle_outbox(
                &orphan.id,
                lease,
                &Settlement::Retry {
                    error: "late".to_owned(),
                    due_at: after_lease
                },
                after_lease
            )
            .await?,
        "the first worker, late, changes nothing"
    );
    // A lease that ends with its worker counts as an attempt when the relay hands it out.
    let relayed = store
        .relay_outbox(
            lease3 + Duration::seconds(1),
            lease3 + Duration::seconds(1),
            1000,
        )
        .await?;
    let orphan_row = relayed
        .iter()
        .find(|r| r.id == orphan.id)
        .context("an expired lease is relayed")?;
    ensure!(orphan_row.status == OutboxStatus::Pending && orphan_row.attempts == 1);

    // Relay: stale rows come back once (their due time moves on), settled rows never.
    let stale = OutboxItem::new(
        format!("stale-{}", uuid::Uuid::new_v4()),
        "webhook",
        serde_json::json!({}),
        now - Duration::minutes(10),
    );
    store
        .commit_turn(Turn {
            inbound: None,
            replies: &[],
            conversation: None,
            outbox: std::slice::from_ref(&stale),
            handoff: None,
        })
        .await?;
    let stale_before = now - Duration::minutes(1);
    let relayed = store.relay_outbox(stale_before, now, 1000).await?;
    ensure!(
        relayed.iter().any(|r| r.id == stale.id),
        "a stale row is relayed"
    );
    ensure!(
        !relayed.iter().any(|r| r.id == item.id),
        "a delivered row is not"
    );
    let again = store.relay_outbox(stale_before, now, 1000).await?;
    ensure!(
        !again.iter().any(|r| r.id == stale.id),
        "a relayed row is not relayed again before it is stale again"
    );
    let stale_lease = now + Duration::seconds(30);
    ensure!(store
        .claim_outbox(&stale.id, now, now, stale_lease)
        .await?
        .is_some());
    ensure!(
        store
            .settle_outbox(
                &stale.id,
                stale_lease,
                &Settlement::Park {
                    error: "HTTP 400".to_owned(),
                },
                now,
            )
            .await?
    );
    let parked = store.outbox_item(&stale.id).await?.context("parked")?;
    ensure!(parked.status == OutboxStatus::Parked && parked.attempts == 1);
    let counts = store.outbox_counts().await?;
    ensure!(
        counts
            .iter()
            .any(|(s, n)| *s == OutboxStatus::Parked && *n >= 1),
        "parked rows are counted"
    );
    ensure!(
        !counts.iter().any(|(s, _)| *s == OutboxStatus::Delivered),
        "delivered rows are not counted"
    );
    Ok(())
}

async fn rule_sets_are_versioned_activated_and_audited(store: &dyn Store) -> anyhow::Result<()> {
    // Skills rule sets may require: every skill of every account (the agents check stored
    // some before this check).
    let skills = store.skill_names().await?;
    ensure!(skills.contains("billing"), "skills known: {skills:?}");
    ensure!(
        store.active_rule_set().await?.is_none(),
        "nothing is active before the first activation"
    );
    let first_doc = serde_json::json!({"rules": [{"name": "all", "queue": "general"}]});
    let second_doc =
        serde_json::json!({"rules": [{"name": "vip", "when": "tier == 'vip'", "queue": "vip"}]});
    let now = Utc::now();
    let v1 = store.insert_rule_set(&first_doc, "sam", now).await?;
    let v2 = store.insert_rule_set(&second_doc, "sam", now).await?;
    ensure!(v2 > v1, "versions grow ({v1} then {v2})");
    let stored = store.rule_set(v1).await?.context("version 1")?;
    ensure!(stored.document == first_doc && stored.created_by == "sam");
    ensure!(store.rule_set(v2 + 100).await?.is_none());

    ensure!(
        store.activate_rule_set(v1, "sam", now).await? == Activation::Activated { previous: None }
    );
    ensure!(
        store.activate_rule_set(v2, "lee", now).await?
            == Activation::Activated { previous: Some(v1) }
    );
    ensure!(
        store.activate_rule_set(v2 + 100, "lee", now).await? == Activation::UnknownVersion,
        "an unknown version is refused"
    );
    let active = store.active_rule_set().await?.context("active")?;
    ensure!(active.rule_set.version == v2 && active.activated_by == "lee");
    ensure!(active.rule_set.document == second_doc);
    // Rollback: the older version again.
    ensure!(
        store.activate_rule_set(v1, "sam", now).await?
            == Activation::Activated { previous: Some(v2) }
    );
    ensure!(
        store
            .active_rule_set()
            .await?
            .context("active")?
            .rule_set
            .version
            == v1
    );

    let log = store.audit_log("routing_rules/", 100).await?;
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.action.as_str(), e.subject.as_str()))
        .collect();
    let (s1, s2) = (rule_set_subject(v1), rule_set_subject(v2));
    ensure!(
        actions
            == vec![
                ("routing.rules.activated", s1.as_str()),
                ("routing.rules.activated", s2.as_str()),
                ("routing.rules.activated", s1.as_str()),
                ("routing.rules.created", s2.as_str()),
                ("routing.rules.created", s1.as_str()),
            ],
        "newest first, every change: {actions:?}"
    );
    ensure!(log[0].actor == "sam" && log[0].detail == serde_json::json!({"previous": v2}));
    ensure!(
        store.audit_log(&s2, 100).await?.len() == 2,
        "filtered by subject"
    );
    ensure!(store.audit_log("nothing_", 100).await?.is_empty());

    // A task's routing explanation round-trips and is replaced by the next one.
    let (customer, conversation) = seed_conversation(store).await?;
    let task = Task {
        id: TaskId::generate(),
        conversation_id: conversation.id.clone(),
        customer_id: customer.id.clone(),
        channel: Channel::Web,
        language: Language::Zh,
        required_skills: vec![],
        priority: Priority::STANDARD,
        intent: None,
        summary: "explain me".to_owned(),
        status: TaskStatus::Waiting,
        agent_id: None,
        created_at: Utc::now(),
        assigned_at: None,
        preferred_agent: None,
        context: None,
        transfer: None,
    };
    store.insert_task(&task).await?;
    ensure!(store.task_routing(&task.id).await?.is_none(), "none yet");
    let first = serde_json::json!({"rule": "a", "candidates": []});
    let second = serde_json::json!({"rule": "b", "candidates": [{"agent_id": "x"}]});
    store.set_task_routing(&task.id, "general", &first).await?;
    ensure!(store.task_routing(&task.id).await? == Some(first));
    store.set_task_routing(&task.id, "general", &second).await?;
    ensure!(store.task_routing(&task.id).await? == Some(second));
    ensure!(store.task_routing(&TaskId::generate()).await?.is_none());
    Ok(())
}

/// `t` at the precision every store keeps (microseconds), so stored times compare equal.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// An hour-long window at a random time years ago: no other check's rows fall in it.
fn past_window() -> (DateTime<Utc>, DateTime<Utc>) {
    let offset = i64::try_from(uuid::Uuid::new_v4().as_u128() % 300_000_000).unwrap_or(0);
    let from = micros(Utc::now() - Duration::days(20 * 365) + Duration::seconds(offset));
    (from, from + Duration::hours(1))
}

/// A fresh account with `role`, stored.
async fn seed_agent(store: &dyn Store, role: Role) -> anyhow::Result<Agent> {
    let agent = Agent {
        role,
        ..sample_agent(&format!("p-{}", uuid::Uuid::new_v4().simple()))
    };
    ensure!(store.upsert_agent(&agent).await? == agent.id);
    Ok(agent)
}

/// A waiting task of `conversation` created at `created_at`, not stored.
pub fn waiting_task(conversation: &Conversation, created_at: DateTime<Utc>) -> Task {
    Task {
        id: TaskId::generate(),
        conversation_id: conversation.id.clone(),
        customer_id: conversation.customer_id.clone(),
        channel: Channel::Web,
        language: Language::Zh,
        required_skills: vec![SkillRequirement {
            name: "billing".to_owned(),
            min_level: 1,
        }],
        priority: Priority::STANDARD,
        intent: Some("billing".to_owned()),
        summary: "needs a person".to_owned(),
        status: TaskStatus::Waiting,
        agent_id: None,
        created_at: micros(created_at),
        assigned_at: None,
        preferred_agent: None,
        context: None,
        transfer: None,
    }
}

/// A conversation handed off (queued) with one stored waiting task created at `created_at`.
async fn seed_waiting_task(
    store: &dyn Store,
    created_at: DateTime<Utc>,
) -> anyhow::Result<(Conversation, Task)> {
    let (_, mut conversation) = seed_conversation(store).await?;
    conversation.status = ConversationStatus::Queued;
    store.update_conversation(&conversation).await?;
    let task = waiting_task(&conversation, created_at);
    ensure!(!store.insert_task(&task).await?.is_duplicate());
    Ok((conversation, task))
}

async fn rule_sets_are_listed_oldest_first(store: &dyn Store) -> anyhow::Result<()> {
    let now = micros(Utc::now());
    let first_doc = serde_json::json!({"rules": [{"name": "first", "queue": "a"}]});
    let second_doc = serde_json::json!({"rules": [{"name": "second", "queue": "b"}]});
    let v1 = store.insert_rule_set(&first_doc, "kim", now).await?;
    let v2 = store.insert_rule_set(&second_doc, "kim", now).await?;
    let all = store.rule_sets().await?;
    let versions: Vec<i64> = all.iter().map(|s| s.version).collect();
    ensure!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {versions:?}"
    );
    ensure!(
        versions.ends_with(&[v1, v2]),
        "every version, the newest last: {versions:?}"
    );
    let last = &all[all.len() - 2..];
    ensure!(last[0] == store.rule_set(v1).await?.context("v1")?);
    ensure!(last[1].document == second_doc && last[1].created_by == "kim");
    ensure!(last[1].created_at == now, "{} != {now}", last[1].created_at);
    Ok(())
}

async fn an_abandoned_task_is_cancelled_once_and_the_bot_takes_over(
    store: &dyn Store,
) -> anyhow::Result<()> {
    let (from, to) = past_window();
    let (conversation, task) = seed_waiting_task(store, from + Duration::minutes(1)).await?;
    let left_at = from + Duration::minutes(4);
    ensure!(
        store
            .leave_queue(&task.id, QueueExit::Abandoned, left_at)
            .await?,
        "a waiting task is abandoned"
    );
    let stored = store.task(&task.id).await?.context("task")?;
    ensure!(
        stored.status == TaskStatus::Cancelled,
        "{:?}",
        stored.status
    );
    let back = store
        .conversation(&conversation.id)
        .await?
        .context("conversation")?;
    ensure!(back.status == ConversationStatus::Bot && back.agent_id.is_none());
    ensure!(
        !store
            .leave_queue(&task.id, QueueExit::Abandoned, to)
            .await?,
        "once"
    );
    let traffic = store.traffic(from, to).await?;
    let recorded = traffic
        .tasks
        .iter()
        .find(|r| r.task.id == task.id)
        .context("in the window")?;
    ensure!(
        recorded.finished_at == Some(left_at) && recorded.fallback.is_none(),
        "{recorded:?}"
    );
    Ok(())
}

async fn tasks_finish_and_expire_once_and_record_how(store: &dyn Store) -> anyhow::Result<()> {
    let (from, to) = past_window();
    let agent = seed_agent(store, Role::Agent).await?;

    // Expiry: a waiting task only; its conversation goes back to the bot.
    let (conversation, expiring) = seed_waiting_task(store, from + Duration::minutes(1)).await?;
    let expired_at = from + Duration::minutes(9);
    ensure!(
        store
            .leave_queue(
                &expiring.id,
                QueueExit::Fallback {
                    queue: "billing",
                    fallback: "callback"
                },
                expired_at
            )
            .await?,
        "a waiting task expires"
    );
    let stored = store.task(&expiring.id).await?.context("expired task")?;
    ensure!(
        stored.status == TaskStatus::Expired,
        "status {:?}",
        stored.status
    );
    let back = store
        .conversation(&conversation.id)
        .await?
        .context("conversation")?;
    ensure!(
        back.status == ConversationStatus::Bot && back.agent_id.is_none(),
        "the conversation goes back to the bot in the same transaction, got {:?}",
        back.status
    );
    ensure!(store.open_task_for(&conversation.id).await?.is_none());
    ensure!(!store
        .waiting_tasks()
        .await?
        .iter()
        .any(|t| t.id == expiring.id));
    ensure!(
        !store
            .leave_queue(
                &expiring.id,
                QueueExit::Fallback {
                    queue: "other",
                    fallback: "ticket"
                },
                to
            )
            .await?,
        "a task expires once"
    );
    ensure!(
        !store
            .finish_task(&expiring.id, TaskStatus::Cancelled, to)
            .await?,
        "expired is final"
    );
    // The conversation can be handed off again.
    let mut conversation = back;
    conversation.status = ConversationStatus::Queued;
    store.update_conversation(&conversation).await?;
    let again = waiting_task(&conversation, from + Duration::minutes(20));
    ensure!(
        !store.insert_task(&again).await?.is_duplicate(),
        "an expired task is not open"
    );
    ensure!(
        !store
            .leave_queue(
                &TaskId::generate(),
                QueueExit::Fallback {
                    queue: "billing",
                    fallback: "ticket"
                },
                to
            )
            .await?
    );

    // An assigned task does not expire (nor does its conversation move); it finishes.
    let (assigned_conversation, assigned) =
        seed_waiting_task(store, from + Duration::minutes(2)).await?;
    ensure!(
        store
            .assign_task(&assigned.id, &agent.id, from + Duration::minutes(3))
            .await?
    );
    ensure!(
        !store
            .leave_queue(
                &assigned.id,
                QueueExit::Fallback {
                    queue: "billing",
                    fallback: "ticket"
                },
                from + Duration::minutes(4)
            )
            .await?,
        "an assigned task does not expire"
    );
    let still = store
        .conversation(&assigned_conversation.id)
        .await?
        .context("conversation")?;
    ensure!(
        still.status == ConversationStatus::Assigned && still.agent_id.as_ref() == Some(&agent.id),
        "a refused expiry changes nothing"
    );
    ensure!(
        store.task(&assigned.id).await?.context("task")?.status == TaskStatus::Assigned,
        "a refused expiry changes nothing"
    );
    let completed_at = from + Duration::minutes(30);
    ensure!(
        store
            .finish_task(&assigned.id, TaskStatus::Completed, completed_at)
            .await?
    );

    // A waiting task can be cancelled.
    let (_, cancelled) = seed_waiting_task(store, from + Duration::minutes(5)).await?;
    let cancelled_at = from + Duration::minutes(6);
    ensure!(
        store
            .finish_task(&cancelled.id, TaskStatus::Cancelled, cancelled_at)
            .await?
    );

    // How and when each ended is recorded.
    let traffic = store.traffic(from, to).await?;
    let recorded = |id: &TaskId| {
        traffic
            .tasks
            .iter()
            .find(|r| &r.task.id == id)
            .with_context(|| format!("task {id} in the traffic"))
    };
    let r = recorded(&expiring.id)?;
    ensure!(r.task.status == TaskStatus::Expired);
    ensure!(
        r.queue.as_deref() == Some("billing") && r.fallback.as_deref() == Some("callback"),
        "expired with queue {:?} and fallback {:?}",
        r.queue,
        r.fallback
    );
    ensure!(
        r.finished_at == Some(expired_at),
        "finished at {:?}",
        r.finished_at
    );
    let r = recorded(&assigned.id)?;
    ensure!(r.task.status == TaskStatus::Completed && r.task.agent_id == Some(agent.id.clone()));
    ensure!(
        r.finished_at == Some(completed_at),
        "finished at {:?}",
        r.finished_at
    );
    ensure!(r.fallback.is_none());
    let r = recorded(&cancelled.id)?;
    ensure!(r.task.status == TaskStatus::Cancelled && r.finished_at == Some(cancelled_at));
    let r = recorded(&again.id)?;
    ensure!(r.task.status == TaskStatus::Waiting && r.finished_at.is_none());
    Ok(())
}

async fn last_agent_of_picks_the_latest_assignment(store: &dyn Store) -> anyhow::Result<()> {
    let (from, _) = past_window();
    let first = seed_agent(store, Role::Agent).await?;
    let second = seed_agent(store, Role::Agent).await?;
    let (customer, conversation) = seed_conversation(store).await?;
    ensure!(
        store.last_agent_of(&customer.id).await?.is_none(),
        "none yet"
    );

    // Created first, assigned last: it is the latest assignment that counts.
    let early = waiting_task(&conversation, from);
    store.insert_task(&early).await?;
    ensure!(
        store.last_agent_of(&customer.id).await?.is_none(),
        "a waiting task has no agent"
    );
    ensure!(
        store
            .assign_task(&early.id, &first.id, from + Duration::minutes(30))
            .await?
    );
    ensure!(
        store
            .finish_task(
                &early.id,
                TaskStatus::Completed,
                from + Duration::minutes(40)
            )
            .await?
    );
    let late = waiting_task(&conversation, from + Duration::minutes(1));
    store.insert_task(&late).await?;
    ensure!(
        store
            .assign_task(&late.id, &second.id, from + Duration::minutes(10))
            .await?
    );
    ensure!(
        store
            .finish_task(
                &late.id,
                TaskStatus::Completed,
                from + Duration::minutes(20)
            )
            .await?
    );
    // A newer task nobody took changes nothing.
    let waiting = waiting_task(&conversation, from + Duration::minutes(50));
    store.insert_task(&waiting).await?;
    ensure!(
        store.last_agent_of(&customer.id).await? == Some(first.id.clone()),
        "the agent of the latest assignment, got {:?}",
        store.last_agent_of(&customer.id).await?
    );

    // Another customer's assignments are not this one's.
    let (other, _) = seed_conversation(store).await?;
    ensure!(store.last_agent_of(&other.id).await?.is_none());
    ensure!(store
        .last_agent_of(&CustomerId::generate())
        .await?
        .is_none());
    Ok(())
}

async fn preferred_agent_round_trips(store: &dyn Store) -> anyhow::Result<()> {
    let agent = seed_agent(store, Role::Agent).await?;
    let other = seed_agent(store, Role::Agent).await?;

    // Through insert_task.
    let (_, conversation) = seed_conversation(store).await?;
    let task = Task {
        preferred_agent: Some(agent.id.clone()),
        ..waiting_task(&conversation, Utc::now())
    };
    ensure!(!store.insert_task(&task).await?.is_duplicate());
    ensure!(store.task(&task.id).await?.context("task")? == task);
    ensure!(store.open_task_for(&conversation.id).await? == Some(task.clone()));
    ensure!(
        store.waiting_tasks().await?.iter().any(|t| t == &task),
        "waiting tasks carry it"
    );
    let twin = Task {
        id: TaskId::generate(),
        preferred_agent: None,
        context: None,
        ..task.clone()
    };
    match store.insert_task(&twin).await? {
        Inserted::Duplicate(t) => ensure!(t == task, "the stored task, got {t:?}"),
        Inserted::New(_) => anyhow::bail!("two open tasks for one conversation"),
    }

    // Through a hand-off turn.
    let (_, conversation) = seed_conversation(store).await?;
    let handoff = Task {
        preferred_agent: Some(other.id.clone()),
        ..waiting_task(&conversation, Utc::now())
    };
    let ask = customer_message(
        &conversation,
        Some(&format!("sticky-{}", uuid::Uuid::new_v4())),
        "same person as last time please",
    );
    ensure!(
        store
            .commit_turn(Turn {
                inbound: Some(&ask),
                replies: &[],
                conversation: Some(&conversation),
                outbox: &[],
                handoff: Some(&handoff),
            })
            .await?
            == TurnOutcome::Committed
    );
    let stored = store.task(&handoff.id).await?.context("hand-off task")?;
    ensure!(
        stored.preferred_agent == Some(other.id.clone()),
        "got {:?}",
        stored.preferred_agent
    );
    ensure!(stored == handoff);
    Ok(())
}

async fn overrides_are_in_force_until_ended_or_expired_and_audited(
    store: &dyn Store,
) -> anyhow::Result<()> {
    let now = micros(Utc::now());
    let new_override = |rule: &str, created: Duration, expires: Duration| StoredOverride {
        id: format!("ovr_{}", uuid::Uuid::new_v4().simple()),
        rule: rule.to_owned(),
        target: serde_json::json!({"queue": format!("{rule}_overflow")}),
        reason: format!("{rule} is swamped"),
        created_by: "sam".to_owned(),
        created_at: now + created,
        expires_at: now + expires,
        ended_at: None,
    };
    let first = new_override("billing", -Duration::minutes(10), Duration::hours(1));
    let second = new_override("refunds", -Duration::minutes(5), Duration::hours(2));
    let lapsed = new_override("vip", -Duration::hours(2), -Duration::hours(1));
    // Stored out of order: they come back oldest first.
    for o in [&second, &lapsed, &first] {
        store.insert_override(o).await?;
    }
    ensure!(
        matches!(
            store.insert_override(&first).await,
            Err(StoreError::Conflict(_))
        ),
        "an override id is stored once"
    );
    let ours = [&first.id, &second.id, &lapsed.id];
    let in_force = |at| async move {
        anyhow::Ok(
            store
                .overrides_in_force(at)
                .await?
                .into_iter()
                .filter(|o| ours.contains(&&o.id))
                .collect::<Vec<_>>(),
        )
    };
    let listed = in_force(now).await?;
    ensure!(
        listed == vec![first.clone(), second.clone()],
        "in force at now, oldest first (an expired one is not): {listed:?}"
    );
    ensure!(
        in_force(now + Duration::minutes(90)).await? == vec![second.clone()],
        "one whose expiry passed is not in force"
    );
    ensure!(
        in_force(first.expires_at).await? == vec![second.clone()],
        "an override is not in force at its expiry"
    );

    ensure!(store.end_override(&first.id, "lee", now).await?);
    ensure!(
        in_force(now).await? == vec![second.clone()],
        "ended early, not in force"
    );
    ensure!(
        !store.end_override(&first.id, "lee", now).await?,
        "ended once"
    );
    ensure!(
        !store.end_override(&lapsed.id, "lee", now).await?,
        "an expired override does not end"
    );
    ensure!(
        !store
            .end_override(&second.id, "lee", second.expires_at + Duration::seconds(1))
            .await?,
        "nor does one whose expiry passed at the time given"
    );
    ensure!(!store.end_override("ovr_unknown", "lee", now).await?);
    ensure!(in_force(now).await? == vec![second.clone()]);

    let log = store.audit_log(&override_subject(&first.id), 10).await?;
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    ensure!(
        actions
            == vec![
                ("routing.override.ended", "lee"),
                ("routing.override.created", "sam"),
            ],
        "newest first: {actions:?}"
    );
    ensure!(log.iter().all(|e| e.subject == override_subject(&first.id)));
    ensure!(log[0].detail == serde_json::json!({"rule": "billing"}));
    ensure!(log[0].at == now, "ended at {}", log[0].at);
    ensure!(
        log[1].detail
            == serde_json::json!({
                "rule": "billing",
                "target": {"queue": "billing_overflow"},
                "reason": "billing is swamped",
                "expires_at": format_time(&first.expires_at),
            }),
        "created detail: {}",
        log[1].detail
    );
    ensure!(log[1].at == first.created_at);
    for o in [&second, &lapsed] {
        let log = store.audit_log(&override_subject(&o.id), 10).await?;
        ensure!(
            log.len() == 1 && log[0].action == "routing.override.created",
            "refused ends are not audited: {log:?}"
        );
    }
    Ok(())
}

async fn traffic_is_the_window_with_initial_presence(store: &dyn Store) -> anyhow::Result<()> {
    let (from, to) = past_window();
    let a = seed_agent(store, Role::Agent).await?;
    let b = seed_agent(store, Role::Agent).await?;
    let idle = seed_agent(store, Role::Agent).await?;
    let supervisor = seed_agent(store, Role::Supervisor).await?;

    // Presence, recorded out of order.
    let event = |agent: &Agent, status, at| PresenceEvent {
        agent_id: agent.id.clone(),
        status,
        at,
    };
    let a_older = event(&a, AgentStatus::Away, from - Duration::hours(2));
    let a_before = event(&a, AgentStatus::Available, from - Duration::hours(1));
    let b_before = event(&b, AgentStatus::Offline, from - Duration::minutes(30));
    let b_at_open = event(&b, AgentStatus::Available, from);
    let a_inside = event(&a, AgentStatus::Away, from + Duration::minutes(10));
    let a_at_close = event(&a, AgentStatus::Offline, to);
    let b_after = event(&b, AgentStatus::Away, to + Duration::minutes(5));
    for e in [
        &a_inside,
        &b_after,
        &a_before,
        &b_at_open,
        &a_older,
        &a_at_close,
        &b_before,
    ] {
        store
            .record_presence(&e.agent_id, e.status, None, e.at)
            .await?;
    }

    // Tasks around the window, stored out of order; one from a VIP with tags.
    let (_, vip_conversation) =
        seed_customer_conversation(store, Tier::Vip, &["gold", "en"]).await?;
    let vip_task = waiting_task(&vip_conversation, from + Duration::minutes(20));
    let (_, first_conversation) = seed_conversation(store).await?;
    let first_task = Task {
        preferred_agent: Some(a.id.clone()),
        ..waiting_task(&first_conversation, from)
    };
    let (_, before_conversation) = seed_conversation(store).await?;
    let before_task = waiting_task(&before_conversation, from - Duration::seconds(1));
    let (_, closing_conversation) = seed_conversation(store).await?;
    let closing_task = waiting_task(&closing_conversation, to);
    for t in [&vip_task, &closing_task, &first_task, &before_task] {
        store.insert_task(t).await?;
    }
    store
        .set_task_routing(
            &vip_task.id,
            "vip_queue",
            &serde_json::json!({"rule": "vip"}),
        )
        .await?;

    let traffic = store.traffic(from, to).await?;

    let ours = [&a.id, &b.id, &idle.id, &supervisor.id];
    let presence: Vec<PresenceEvent> = traffic
        .presence
        .iter()
        .filter(|e| ours.contains(&&e.agent_id))
        .cloned()
        .collect();
    ensure!(
        presence == vec![a_before, b_before, b_at_open, a_inside],
        "each agent's last change before the window, then the window's changes in time order: {presence:?}"
    );
    ensure!(
        traffic.presence.windows(2).all(|w| w[0].at <= w[1].at),
        "presence is in time order"
    );

    let task_ids = [
        &first_task.id,
        &vip_task.id,
        &before_task.id,
        &closing_task.id,
    ];
    let tasks: Vec<_> = traffic
        .tasks
        .iter()
        .filter(|r| task_ids.contains(&&r.task.id))
        .collect();
    let ids: Vec<&TaskId> = tasks.iter().map(|r| &r.task.id).collect();
    ensure!(
        ids == vec![&first_task.id, &vip_task.id],
        "tasks created in [from, to), oldest first: {ids:?}"
    );
    ensure!(
        traffic
            .tasks
            .windows(2)
            .all(|w| w[0].task.created_at <= w[1].task.created_at),
        "tasks are in time order"
    );
    ensure!(
        tasks[0].task == first_task,
        "the task as stored: {:?}",
        tasks[0].task
    );
    ensure!(tasks[0].tier == Tier::Standard && tasks[0].tags == ["test"]);
    ensure!(
        tasks[0].queue.is_none() && tasks[0].finished_at.is_none() && tasks[0].fallback.is_none()
    );
    ensure!(tasks[1].task == vip_task);
    ensure!(
        tasks[1].tier == Tier::Vip && tasks[1].tags == ["gold", "en"],
        "the customer's tier and tags: {:?} {:?}",
        tasks[1].tier,
        tasks[1].tags
    );
    ensure!(
        tasks[1].queue.as_deref() == Some("vip_queue"),
        "set_task_routing records the queue, got {:?}",
        tasks[1].queue
    );

    for agent in [&a, &b, &idle] {
        ensure!(
            traffic.agents.contains(agent),
            "every agent account, as stored: {} missing",
            agent.username
        );
    }
    ensure!(
        !traffic.agents.iter().any(|x| x.id == supervisor.id),
        "supervisors are not agents"
    );
    ensure!(traffic.agents.iter().all(|x| x.role == Role::Agent));

    let empty = store
        .traffic(to + Duration::days(1), to + Duration::days(2))
        .await?;
    ensure!(
        !empty.tasks.iter().any(|r| task_ids.contains(&&r.task.id)),
        "a later window has none of these tasks"
    );
    let later: Vec<_> = empty
        .presence
        .iter()
        .filter(|e| ours.contains(&&e.agent_id))
        .collect();
    ensure!(
        later.len() == 2
            && later
                .iter()
                .any(|e| e.agent_id == a.id && e.status == AgentStatus::Offline)
            && later
                .iter()
                .any(|e| e.agent_id == b.id && e.status == AgentStatus::Away),
        "a later window opens with the last known states: {later:?}"
    );
    Ok(())
}

/// Knowledge-base entries: saved, replaced, deleted; every change moves the revision and is
/// audited; `replace_all` leaves exactly the given entries.
async fn kb_entries_are_saved_replaced_and_audited(store: &dyn Store) -> anyhow::Result<()> {
    let at = Utc::now();
    let entry = |id: &str, status: &str| StoredKbEntry {
        id: id.to_owned(),
        document: serde_json::json!({ "id": id, "answer": { "zh": "答案" } }),
        status: status.to_owned(),
        updated_at: at,
        updated_by: "sam".to_owned(),
    };
    let before = store.kb_revision().await?;
    let r1 = store
        .save_kb_entries(
            &[entry("kb-a", "published"), entry("kb-b", "draft")],
            false,
            None,
            "sam",
            at,
        )
        .await?;
    ensure!(r1 > before, "saving moves the revision");
    let listed: Vec<String> = store
        .kb_entries()
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    ensure!(listed.contains(&"kb-a".to_owned()) && listed.contains(&"kb-b".to_owned()));
    let b = store.kb_entry("kb-b").await?.context("kb-b stored")?;
    ensure!(b.status == "draft" && b.document["answer"]["zh"] == "答案" && b.updated_by == "sam");

    let mut changed = entry("kb-b", "published");
    changed.document = serde_json::json!({ "id": "kb-b", "answer": { "en": "new" } });
    let r2 = store
        .save_kb_entries(&[changed], false, None, "sam", at)
        .await?;
    ensure!(r2 > r1);
    let b = store.kb_entry("kb-b").await?.context("kb-b still stored")?;
    ensure!(b.status == "published" && b.document["answer"]["en"] == "new");

    let r3 = store
        .save_kb_entries(
            &[entry("kb-c", "published")],
            true,
            Some(&["天气怎么样".to_owned()]),
            "sam",
            at,
        )
        .await?;
    ensure!(r3 > r2);
    ensure!(
        store.kb_out_of_scope().await? == ["天气怎么样"],
        "the out-of-scope questions change with the entries"
    );
    let audit = store.audit_log(&kb_subject("out_of_scope"), 10).await?;
    ensure!(
        audit.iter().any(|a| a.action == "kb.out_of_scope.saved"),
        "and their change is audited: {audit:?}"
    );
    let listed: Vec<String> = store
        .kb_entries()
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    ensure!(
        listed == ["kb-c"],
        "replace_all leaves only the new set: {listed:?}"
    );
    let audit = store.audit_log(&kb_subject("kb-a"), 10).await?;
    ensure!(
        audit.iter().any(|a| a.action == "kb.entry.deleted"),
        "a replaced entry's removal is audited: {audit:?}"
    );

    ensure!(store
        .delete_kb_entry("kb-missing", "sam", at)
        .await?
        .is_none());
    let r4 = store.delete_kb_entry("kb-c", "sam", at).await?;
    ensure!(r4.is_some_and(|r| r > r3) && store.kb_revision().await? == r4.unwrap_or(0));
    ensure!(store.kb_entry("kb-c").await?.is_none());
    Ok(())
}

/// Conditional knowledge-base writes (optimistic concurrency): a save or delete that names the
/// version it read applies only while that version is current; otherwise nothing changes,
/// not even the revision, and the current version is reported.
async fn kb_conditional_writes_apply_only_to_the_version_read(
    store: &dyn Store,
) -> anyhow::Result<()> {
    use chrono::SubsecRound;
    let id = format!("kb-if-{}", uuid::Uuid::new_v4().simple());
    let t0 = Utc::now().trunc_subsecs(6) - chrono::Duration::seconds(10);
    let version = |answer: &str, at| StoredKbEntry {
        id: id.clone(),
        document: serde_json::json!({ "id": id, "answer": { "en": answer } }),
        status: "published".to_owned(),
        updated_at: at,
        updated_by: "sam".to_owned(),
    };
    store
        .save_kb_entries(&[version("first", t0)], false, None, "sam", t0)
        .await?;
    let read = store.kb_entry(&id).await?.context("stored")?.updated_at;
    ensure!(read == t0, "updated_at reads back exactly: {read} vs {t0}");

    // Alice saves on the version she read.
    let t1 = t0 + chrono::Duration::seconds(1);
    let before = store.kb_revision().await?;
    let done = store
        .save_kb_entry_if(&version("alice", t1), read, "alice", t1)
        .await?;
    ensure!(
        matches!(done, KbWrite::Done(r) if r > before),
        "a save on the current version applies: {done:?}"
    );
    let now = store.kb_entry(&id).await?.context("still stored")?;
    ensure!(
        now.document["answer"]["en"] == "alice"
            && now.updated_at == t1
            && now.updated_by == "alice"
    );
    let audit = store.audit_log(&kb_subject(&id), 10).await?;
    ensure!(
        audit
            .iter()
            .filter(|a| a.action == "kb.entry.saved")
            .count()
            == 2,
        "{audit:?}"
    );

    // Bob read the same first version: his save and his delete change nothing.
    let t2 = t1 + chrono::Duration::seconds(1);
    let revision = store.kb_revision().await?;
    let stale = store
        .save_kb_entry_if(&version("bob", t2), read, "bob", t2)
        .await?;
    ensure!(
        stale == KbWrite::Changed(t1),
        "a stale save is refused: {stale:?}"
    );
    let stale = store.delete_kb_entry_if(&id, read, "bob", t2).await?;
    ensure!(
        stale == KbWrite::Changed(t1),
        "a stale delete is refused: {stale:?}"
    );
    let now = store.kb_entry(&id).await?.context("not deleted")?;
    ensure!(now.document["answer"]["en"] == "alice" && now.updated_by == "alice");
    ensure!(
        store.kb_revision().await? == revision,
        "refused writes move no revision"
    );

    // A delete on the current version applies; then the entry is missing for both.
    let done = store.delete_kb_entry_if(&id, t1, "alice", t2).await?;
    ensure!(matches!(done, KbWrite::Done(r) if r > revision), "{done:?}");
    ensure!(store.kb_entry(&id).await?.is_none());
    ensure!(store.delete_kb_entry_if(&id, t1, "alice", t2).await? == KbWrite::Missing);
    ensure!(
        store
            .save_kb_entry_if(&version("late", t2), t1, "alice", t2)
            .await?
            == KbWrite::Missing,
        "a conditional save does not create"
    );
    ensure!(store.kb_entry(&id).await?.is_none());
    Ok(())
}

/// A ticket is opened once per source key; the customer's tickets list it.
async fn tickets_open_once_per_source(store: &dyn Store) -> anyhow::Result<()> {
    let (customer, conversation) = seed_conversation(store).await?;
    let ticket = |id: &str| Ticket {
        id: id.to_owned(),
        customer_id: customer.id.clone(),
        conversation_id: Some(conversation.id.clone()),
        kind: "refund".to_owned(),
        subject: "退款申请 SB20261125001".to_owned(),
        fields: [("order_no".to_owned(), "SB20261125001".to_owned())].into(),
        status: "open".to_owned(),
        source_key: format!("{}:refund", conversation.id),
        created_at: Utc::now(),
    };
    let first = format!("T-{}", uuid::Uuid::new_v4().simple());
    ensure!(matches!(
        store.open_ticket(&ticket(&first)).await?,
        Inserted::New(_)
    ));
    match store.open_ticket(&ticket("T-second")).await? {
        Inserted::Duplicate(existing) => ensure!(existing.id == first, "the first ticket wins"),
        Inserted::New(_) => anyhow::bail!("a second ticket for one source"),
    }
    let listed = store.customer_tickets(&customer.id).await?;
    ensure!(listed.len() == 1 && listed[0].fields["order_no"] == "SB20261125001");
    Ok(())
}

/// Assist suggestions are recorded; a use counts once and only for the agent shown it.
/// Resolved conversations come back as samples with both sides' words.
async fn assist_records_uses_and_resolved_samples(store: &dyn Store) -> anyhow::Result<()> {
    let agent = seed_agent(store, Role::Agent).await?;
    let other = seed_agent(store, Role::Agent).await?;
    let (_, mut conversation) = seed_conversation(store).await?;
    let question = customer_message(&conversation, None, "发票抬头写错了");
    ensure!(matches!(
        store.insert_message(&question).await?,
        Inserted::New(_)
    ));
    let mut answer = customer_message(&conversation, None, "可以在订单详情里重开发票");
    answer.from = Sender::Agent;
    answer.agent_id = Some(agent.id.clone());
    ensure!(matches!(
        store.insert_message(&answer).await?,
        Inserted::New(_)
    ));
    let record = |rank: u32| AssistRecord {
        id: format!("s-{}", uuid::Uuid::new_v4().simple()),
        conversation_id: conversation.id.clone(),
        message_id: question.id.clone(),
        agent_id: agent.id.clone(),
        kind: "kb".to_owned(),
        reference: "invoice".to_owned(),
        rank,
        score: 0.75,
        shown_at: Utc::now(),
        used_at: None,
    };
    let shown = vec![record(0), record(1)];
    store.record_assist(&shown).await?;
    store.record_assist(&shown).await?; // a repeat records nothing twice
    let elsewhere = ConversationId::from_trusted("con_elsewhere".to_owned());
    ensure!(
        !store
            .use_assist(&shown[0].id, &other.id, &conversation.id, Utc::now())
            .await?,
        "another agent's suggestion"
    );
    ensure!(
        !store
            .use_assist(&shown[0].id, &agent.id, &elsewhere, Utc::now())
            .await?,
        "a suggestion sent with another conversation's message"
    );
    ensure!(
        store
            .use_assist(&shown[0].id, &agent.id, &conversation.id, Utc::now())
            .await?
    );
    ensure!(
        !store
            .use_assist(&shown[0].id, &agent.id, &conversation.id, Utc::now())
            .await?
    );
    let records = store.assist_records(&conversation.id).await?;
    ensure!(records.len() == 2, "{records:?}");
    ensure!(records[0].used_at.is_some() && records[1].used_at.is_none());
    ensure!((records[0].score - 0.75).abs() < 1e-6 && records[0].rank == 0);

    conversation.status = ConversationStatus::Closed;
    conversation.closed_at = Some(Utc::now());
    conversation.resolution = Some(Resolution::Resolved);
    store.update_conversation(&conversation).await?;
    let samples = store.resolved_samples(50).await?;
    let sample = samples
        .iter()
        .find(|s| s.conversation_id == conversation.id)
        .context("the resolved conversation is a sample")?;
    ensure!(sample.customer_text == "发票抬头写错了");
    ensure!(sample.agent_text == "可以在订单详情里重开发票");
    Ok(())
}

/// A new staff account (not stored): an agent with a username of `prefix` and a fresh suffix.
fn staff_member(prefix: &str, role: Role, teams: Vec<(TeamId, TeamRole)>) -> StaffMember {
    StaffMember {
        agent: Agent {
            role,
            ..sample_agent(&format!("{prefix}-{}", uuid::Uuid::new_v4().simple()))
        },
        active: true,
        extension: Some("4021".to_owned()),
        teams,
        revision: 1,
    }
}

/// A new team with a fresh name (not stored).
fn team(prefix: &str, leads: Vec<AgentId>, members: Vec<AgentId>) -> Team {
    Team {
        id: TeamId::generate(),
        name: format!("{prefix} {}", uuid::Uuid::new_v4().simple()),
        leads,
        members,
        created_by: "agt_admin".to_owned(),
        created_at: micros(Utc::now()),
    }
}

/// A staff token of `agent` as `role`, stored if the store takes it; its hash.
async fn staff_token(store: &dyn Store, agent: &AgentId, role: Role) -> anyhow::Result<String> {
    let hash = format!("h-{}", uuid::Uuid::new_v4());
    let principal = Principal::Staff {
        agent_id: agent.clone(),
        role,
    };
    store
        .insert_token(&hash, &principal, Utc::now() + Duration::hours(1))
        .await?;
    Ok(hash)
}

async fn staff_and_teams_are_created_listed_and_audited(store: &dyn Store) -> anyhow::Result<()> {
    let now = Utc::now();
    // A team with nobody yet, then a lead and an agent who join it with their accounts.
    let blue = team("Blue", Vec::new(), Vec::new());
    store.insert_team(&blue, "agt_admin", now).await?;
    let lead = staff_member(
        "lead",
        Role::TeamLead,
        vec![(blue.id.clone(), TeamRole::Lead)],
    );
    let agent = staff_member(
        "agent",
        Role::Agent,
        vec![(blue.id.clone(), TeamRole::Member)],
    );
    let detail = serde_json::json!({"username": agent.agent.username});
    for member in [&lead, &agent] {
        store
            .insert_staff(member, &detail, "agt_admin", now)
            .await?;
    }
    let stored = store
        .staff_member(&agent.agent.id)
        .await?
        .context("stored")?;
    ensure!(stored == agent, "round trip: {stored:?}");
    ensure!(store.agent(&agent.agent.id).await?.as_ref() == Some(&agent.agent));
    ensure!(store
        .agent_by_username(&agent.agent.username)
        .await?
        .is_some());
    ensure!(store.staff_member(&AgentId::generate()).await?.is_none());
    let everyone = store.staff().await?;
    for member in [&lead, &agent] {
        ensure!(
            everyone.contains(member),
            "{} listed with its teams",
            member.agent.username
        );
    }
    let usernames: Vec<&str> = everyone.iter().map(|m| m.agent.username.as_str()).collect();
    let mut sorted = usernames.clone();
    sorted.sort_unstable();
    ensure!(usernames == sorted, "by username: {usernames:?}");

    // A username is taken whatever its case; nothing of the refused account is stored.
    let twin = StaffMember {
        agent: Agent {
            id: AgentId::generate(),
            username: agent.agent.username.to_uppercase(),
            ..agent.agent.clone()
        },
        ..agent.clone()
    };
    ensure!(matches!(
        store.insert_staff(&twin, &detail, "agt_admin", now).await,
        Err(StoreError::Conflict(_))
    ));
    ensure!(store.staff_member(&twin.agent.id).await?.is_none());

    let log = store.audit_log(&staff_subject(&agent.agent.id), 10).await?;
    ensure!(
        log.len() == 1
            && log[0].action == "staff.created"
            && log[0].actor == "agt_admin"
            && log[0].detail == detail,
        "{log:?}"
    );

    // Teams list their leads and members; a name is taken whatever its case.
    let red = team(
        "Red",
        vec![lead.agent.id.clone()],
        vec![agent.agent.id.clone()],
    );
    store.insert_team(&red, "agt_admin", now).await?;
    let twin = Team {
        id: TeamId::generate(),
        name: red.name.to_lowercase(),
        ..red.clone()
    };
    ensure!(matches!(
        store.insert_team(&twin, "agt_admin", now).await,
        Err(StoreError::Conflict(_))
    ));
    let teams = store.teams().await?;
    let find = |id: &TeamId| teams.iter().find(|t| t.id == *id).cloned();
    ensure!(find(&red.id) == Some(red.clone()), "{teams:?}");
    ensure!(find(&twin.id).is_none(), "the refused team is not stored");
    let blue_stored = find(&blue.id).context("blue")?;
    ensure!(
        blue_stored.leads == [lead.agent.id.clone()]
            && blue_stored.members == [agent.agent.id.clone()],
        "{blue_stored:?}"
    );
    let names: Vec<String> = teams.iter().map(|t| t.name.to_lowercase()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    ensure!(names == sorted, "by name: {names:?}");
    let in_teams = store
        .staff_member(&agent.agent.id)
        .await?
        .context("agent")?
        .teams;
    ensure!(
        in_teams.len() == 2 && in_teams.contains(&(red.id.clone(), TeamRole::Member)),
        "{in_teams:?}"
    );
    let log = store.audit_log(&team_subject(&red.id), 10).await?;
    ensure!(
        log.len() == 1
            && log[0].action == "team.created"
            && log[0].detail["name"] == red.name.as_str()
            && log[0].detail["leads"][0] == lead.agent.id.as_str(),
        "{log:?}"
    );
    Ok(())
}

/// A batch of accounts is stored whole, each with its memberships and audit entry, or not at
/// all when one of its usernames is taken (by a stored account or another of the batch).
async fn staff_batches_are_stored_all_or_nothing(store: &dyn Store) -> anyhow::Result<()> {
    let now = Utc::now();
    let green = team("Green", Vec::new(), Vec::new());
    store.insert_team(&green, "agt_admin", now).await?;
    let batch: Vec<(StaffMember, serde_json::Value)> = (0..3)
        .map(|i| {
            let member = staff_member(
                "batch",
                Role::Agent,
                vec![(green.id.clone(), TeamRole::Member)],
            );
            let detail = serde_json::json!({"username": member.agent.username, "n": i});
            (member, detail)
        })
        .collect();
    store.insert_staff_batch(&batch, "agt_admin", now).await?;
    for (member, detail) in &batch {
        let stored = store
            .staff_member(&member.agent.id)
            .await?
            .context("stored")?;
        ensure!(&stored == member, "round trip: {stored:?}");
        let log = store
            .audit_log(&staff_subject(&member.agent.id), 10)
            .await?;
        ensure!(
            log.len() == 1 && log[0].action == "staff.created" && &log[0].detail == detail,
            "{log:?}"
        );
    }
    let teams = store.teams().await?;
    let stored_green = teams.iter().find(|t| t.id == green.id).context("green")?;
    ensure!(stored_green.members.len() == 3, "{stored_green:?}");

    // A taken username (here the last of the batch, in another case) stores none of it, and
    // so do two of the batch with one username.
    let fresh = staff_member("fresh", Role::Agent, Vec::new());
    let mut twin = staff_member("twin", Role::Agent, Vec::new());
    twin.agent.username = batch[0].0.agent.username.to_uppercase();
    let refused = store
        .insert_staff_batch(
            &[
                (fresh.clone(), serde_json::json!({})),
                (twin, serde_json::json!({})),
            ],
            "agt_admin",
            now,
        )
        .await;
    ensure!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    ensure!(store.staff_member(&fresh.agent.id).await?.is_none());
    ensure!(store
        .audit_log(&staff_subject(&fresh.agent.id), 10)
        .await?
        .is_empty());
    let mut again = staff_member("again", Role::Agent, Vec::new());
    again.agent.username = fresh.agent.username.to_uppercase();
    let refused = store
        .insert_staff_batch(
            &[
                (fresh.clone(), serde_json::json!({})),
                (again, serde_json::json!({})),
            ],
            "agt_admin",
            now,
        )
        .await;
    ensure!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    ensure!(store.staff_member(&fresh.agent.id).await?.is_none());
    Ok(())
}

async fn staff_updates_apply_to_the_revision_read_and_revoke_tokens(
    store: &dyn Store,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let green = team("Green", Vec::new(), Vec::new());
    store.insert_team(&green, "agt_admin", now).await?;
    let member = staff_member("upd", Role::Agent, Vec::new());
    store
        .insert_staff(&member, &serde_json::json!({}), "agt_admin", now)
        .await?;
    let id = member.agent.id.clone();
    let token = staff_token(store, &id, Role::Agent).await?;
    ensure!(store.token_principal(&token, now).await?.is_some());
    // A staff token whose role is not the account's is not stored.
    let wrong_role = staff_token(store, &id, Role::Supervisor).await?;
    ensure!(store.token_principal(&wrong_role, now).await?.is_none());

    let detail = serde_json::json!({"skills": {"before": [], "after": ["tech"]}});
    let change = |revoke_tokens, requeue| StaffChange {
        revoke_tokens,
        requeue,
        detail: &detail,
        by: "agt_admin",
        at: now,
    };
    let changed = StaffMember {
        agent: Agent {
            skills: vec![Skill::parse("tech", 4)?],
            capacity: 6,
            voice_capacity: Some(0),
            password_hash: String::new(),
            ..member.agent.clone()
        },
        extension: None,
        teams: vec![(green.id.clone(), TeamRole::Member)],
        ..member.clone()
    };
    let written = store.update_staff(&changed, change(false, false)).await?;
    ensure!(
        matches!(written, StaffWrite::Done { revision: 2, tokens_revoked: 0, ref rerouted } if rerouted.tasks.is_empty()),
        "{written:?}"
    );
    let stored = store.staff_member(&id).await?.context("stored")?;
    ensure!(
        stored.agent.skills == changed.agent.skills
            && stored.agent.capacity == 6
            && stored.agent.voice_capacity == Some(0)
            && stored.extension.is_none()
            && stored.teams == changed.teams
            && stored.revision == 2,
        "{stored:?}"
    );
    ensure!(
        stored.agent.password_hash == member.agent.password_hash,
        "an empty hash keeps the password"
    );
    ensure!(
        store.token_principal(&token, now).await?.is_some(),
        "no revocation asked"
    );

    // Written from a stale read: nothing changes.
    let stale = StaffMember {
        agent: Agent {
            display_name: "Stale".to_owned(),
            ..changed.agent.clone()
        },
        ..changed.clone()
    };
    ensure!(store.update_staff(&stale, change(true, false)).await? == StaffWrite::Changed);
    ensure!(store.staff_member(&id).await?.context("stored")? == stored);
    ensure!(store.token_principal(&token, now).await?.is_some());
    let unknown = StaffMember {
        agent: Agent {
            id: AgentId::generate(),
            ..changed.agent.clone()
        },
        ..changed.clone()
    };
    ensure!(store.update_staff(&unknown, change(false, false)).await? == StaffWrite::Missing);

    // A taken username (whatever its case) refuses the whole write.
    let other = staff_member("other", Role::Agent, Vec::new());
    store
        .insert_staff(&other, &serde_json::json!({}), "agt_admin", now)
        .await?;
    let renamed = StaffMember {
        agent: Agent {
            username: other.agent.username.to_uppercase(),
            ..stored.agent.clone()
        },
        ..stored.clone()
    };
    ensure!(matches!(
        store.update_staff(&renamed, change(true, false)).await,
        Err(StoreError::Conflict(_))
    ));
    ensure!(store.staff_member(&id).await?.context("stored")? == stored);

    // A password reset with revocation: every token of the account goes.
    let second = staff_token(store, &id, Role::Agent).await?;
    let reset = StaffMember {
        agent: Agent {
            password_hash: "hash-2".to_owned(),
            ..stored.agent.clone()
        },
        ..stored.clone()
    };
    let written = store.update_staff(&reset, change(true, false)).await?;
    ensure!(
        matches!(
            written,
            StaffWrite::Done {
                revision: 3,
                tokens_revoked: 2,
                ..
            }
        ),
        "{written:?}"
    );
    for hash in [&token, &second] {
        ensure!(store.token_principal(hash, now).await?.is_none());
    }
    let stored = store.staff_member(&id).await?.context("stored")?;
    ensure!(stored.agent.password_hash == "hash-2" && stored.revision == 3);

    let log = store.audit_log(&staff_subject(&id), 10).await?;
    ensure!(
        log.len() == 3
            && log[0].action == "staff.updated"
            && log[1].action == "staff.updated"
            && log[2].action == "staff.created"
            && log[0].detail == detail,
        "one entry per write, refused writes none: {log:?}"
    );
    Ok(())
}

async fn deactivation_signs_out_and_routes_conversations_again(
    store: &dyn Store,
) -> anyhow::Result<()> {
    let now = micros(Utc::now());
    let member = staff_member("leaver", Role::Agent, Vec::new());
    store
        .insert_staff(&member, &serde_json::json!({}), "agt_admin", now)
        .await?;
    let id = member.agent.id.clone();
    let token = staff_token(store, &id, Role::Agent).await?;

    // A conversation the agent holds, with its task; one held without an open task (a wrap-up
    // half done); a waiting task of someone else's.
    let (held, held_task) = seed_waiting_task(store, now - Duration::minutes(5)).await?;
    ensure!(store.assign_task(&held_task.id, &id, now).await?);
    let (half_done, half_task) = seed_waiting_task(store, now - Duration::minutes(5)).await?;
    ensure!(store.assign_task(&half_task.id, &id, now).await?);
    ensure!(
        store
            .finish_task(&half_task.id, TaskStatus::Completed, now)
            .await?
    );
    let (elsewhere, _) = seed_waiting_task(store, now).await?;

    let at = now + Duration::seconds(1);
    let done = store
        .deactivate_staff(&id, "agt_admin", at)
        .await?
        .context("known")?;
    ensure!(done.was_active && done.tokens_revoked == 1, "{done:?}");
    let [requeued] = done.rerouted.tasks.as_slice() else {
        anyhow::bail!("one conversation requeued: {done:?}");
    };
    ensure!(
        requeued.conversation_id == held.id
            && requeued.id != held_task.id
            && requeued.status == TaskStatus::Waiting
            && requeued.agent_id.is_none()
            && requeued.preferred_agent.is_none()
            && requeued.created_at == at
            && requeued.required_skills == held_task.required_skills
            && requeued.priority == held_task.priority
            && requeued.summary == held_task.summary,
        "{requeued:?}"
    );
    ensure!(done.rerouted.released == std::slice::from_ref(&half_done.customer_id));
    let old = store.task(&held_task.id).await?.context("old task")?;
    ensure!(old.status == TaskStatus::Completed, "{:?}", old.status);
    ensure!(store.task(&requeued.id).await?.as_ref() == Some(requeued));
    let waiting: Vec<TaskId> = store
        .waiting_tasks()
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    ensure!(waiting.contains(&requeued.id));
    let conversation = store.conversation(&held.id).await?.context("held")?;
    ensure!(
        conversation.status == ConversationStatus::Queued && conversation.agent_id.is_none(),
        "{conversation:?}"
    );
    let conversation = store.conversation(&half_done.id).await?.context("half")?;
    ensure!(
        conversation.status == ConversationStatus::Bot && conversation.agent_id.is_none(),
        "{conversation:?}"
    );
    let untouched = store.conversation(&elsewhere.id).await?.context("other")?;
    ensure!(untouched.status == elsewhere.status);

    // Signed out, not found as a working account, never assigned again, no new token.
    ensure!(store.token_principal(&token, at).await?.is_none());
    ensure!(store.agent(&id).await?.is_none());
    ensure!(store
        .agent_by_username(&member.agent.username)
        .await?
        .is_none());
    let stored = store.staff_member(&id).await?.context("kept")?;
    ensure!(!stored.active && stored.revision == 2, "{stored:?}");
    ensure!(!store.assign_task(&requeued.id, &id, at).await?);
    let late = staff_token(store, &id, Role::Agent).await?;
    ensure!(store.token_principal(&late, at).await?.is_none());
    ensure!(
        !store
            .staff()
            .await?
            .iter()
            .find(|m| m.agent.id == id)
            .context("listed")?
            .active
    );

    // Once: a second deactivation writes nothing; an unknown account is None.
    let again = store
        .deactivate_staff(&id, "agt_admin", at)
        .await?
        .context("known")?;
    ensure!(!again.was_active && again.rerouted.tasks.is_empty());
    ensure!(store
        .deactivate_staff(&AgentId::generate(), "agt_admin", at)
        .await?
        .is_none());
    let log = store.audit_log(&staff_subject(&id), 10).await?;
    ensure!(
        log.len() == 2
            && log[0].action == "staff.deactivated"
            && log[0].actor == "agt_admin"
            && log[0].detail["requeued"][0] == held.id.as_str(),
        "{log:?}"
    );

    // An account leaving the agent role has its conversations routed again too.
    let promoted = staff_member("promoted", Role::Agent, Vec::new());
    store
        .insert_staff(&promoted, &serde_json::json!({}), "agt_admin", now)
        .await?;
    let (theirs, their_task) = seed_waiting_task(store, now).await?;
    ensure!(
        store
            .assign_task(&their_task.id, &promoted.agent.id, now)
            .await?
    );
    let lead = StaffMember {
        agent: Agent {
            role: Role::TeamLead,
            password_hash: String::new(),
            ..promoted.agent.clone()
        },
        ..promoted.clone()
    };
    let detail = serde_json::json!({});
    let written = store
        .update_staff(
            &lead,
            StaffChange {
                revoke_tokens: true,
                requeue: true,
                detail: &detail,
                by: "agt_admin",
                at,
            },
        )
        .await?;
    let StaffWrite::Done { rerouted, .. } = written else {
        anyhow::bail!("{written:?}");
    };
    ensure!(rerouted.tasks.len() == 1 && rerouted.tasks[0].conversation_id == theirs.id);
    // Only an agent is assigned tasks.
    ensure!(
        !store
            .assign_task(&rerouted.tasks[0].id, &promoted.agent.id, at)
            .await?
    );
    Ok(())
}

async fn a_sign_out_deletes_one_token_and_app_tokens_can_be_revoked(
    store: &dyn Store,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let agent = seed_agent(store, Role::Agent).await?;
    let (one, two) = (
        staff_token(store, &agent.id, Role::Agent).await?,
        staff_token(store, &agent.id, Role::Agent).await?,
    );
    let signed_out = store.delete_token(&one, now).await?;
    ensure!(
        signed_out
            == Some(Principal::Staff {
                agent_id: agent.id.clone(),
                role: Role::Agent
            }),
        "{signed_out:?}"
    );
    ensure!(store.token_principal(&one, now).await?.is_none());
    ensure!(
        store.token_principal(&two, now).await?.is_some(),
        "the other token stays"
    );
    ensure!(store.delete_token(&one, now).await?.is_none(), "once");
    let log = store.audit_log(&staff_subject(&agent.id), 10).await?;
    ensure!(
        log.len() == 1 && log[0].action == "staff.signed_out" && log[0].actor == agent.id.as_str(),
        "{log:?}"
    );

    // A visitor signs out too (not audited: the audit log is staff's).
    let (customer, _) = seed_conversation(store).await?;
    let visitor = format!("h-{}", uuid::Uuid::new_v4());
    let principal = Principal::Customer(customer.id.clone());
    store
        .insert_token(&visitor, &principal, now + Duration::hours(1))
        .await?;
    ensure!(store.delete_token(&visitor, now).await? == Some(principal));
    ensure!(store.token_principal(&visitor, now).await?.is_none());

    // App tokens are revoked until they expire; a repeat changes nothing.
    let app = format!("jwt-{}", uuid::Uuid::new_v4());
    let expires = now + Duration::minutes(10);
    ensure!(!store.app_token_revoked(&app, now).await?);
    store.revoke_app_token(&app, expires, now).await?;
    store.revoke_app_token(&app, expires, now).await?;
    ensure!(store.app_token_revoked(&app, now).await?);
    ensure!(
        !store.app_token_revoked(&app, expires).await?,
        "expired anyway"
    );
    ensure!(!store.app_token_revoked("jwt-other", now).await?);
    Ok(())
}

/// A staff sign-in stores its token and its audit entry together, and neither for a role the
/// account no longer has; a refused sign-in is audited on the account, or on
/// `staff/unknown` when the username is nobody's.
async fn sign_ins_and_refused_sign_ins_are_audited(store: &dyn Store) -> anyhow::Result<()> {
    let now = Utc::now().trunc_subsecs(6);
    let agent = seed_agent(store, Role::Agent).await?;
    let detail = serde_json::json!({"username": agent.username, "source": "192.0.2.1"});
    let token = format!("h-{}", uuid::Uuid::new_v4());
    ensure!(
        store
            .insert_staff_login(
                &token,
                &agent.id,
                Role::Agent,
                now + Duration::hours(1),
                &detail,
                now
            )
            .await?
    );
    ensure!(
        store.token_principal(&token, now).await?
            == Some(Principal::Staff {
                agent_id: agent.id.clone(),
                role: Role::Agent
            })
    );
    // A sign-in that raced a role change stores no token and audits nothing.
    let stale = format!("h-{}", uuid::Uuid::new_v4());
    ensure!(
        !store
            .insert_staff_login(
                &stale,
                &agent.id,
                Role::Admin,
                now + Duration::hours(1),
                &detail,
                now
            )
            .await?
    );
    ensure!(store.token_principal(&stale, now).await?.is_none());
    let log = store.audit_log(&staff_subject(&agent.id), 10).await?;
    ensure!(
        log.len() == 1
            && log[0].action == "staff.login"
            && log[0].actor == agent.id.as_str()
            && log[0].detail == detail
            && log[0].at == now,
        "{log:?}"
    );

    let wrong = serde_json::json!({
        "username": agent.username, "agent_id": agent.id.as_str(), "source": "192.0.2.1"
    });
    store
        .audit_failed_login(Some(&agent.id), &wrong, now)
        .await?;
    let log = store.audit_log(&staff_subject(&agent.id), 10).await?;
    ensure!(
        log.len() == 2
            && log[0].action == "staff.login_failed"
            && log[0].actor == ANONYMOUS_ACTOR
            && log[0].detail == wrong,
        "{log:?}"
    );
    let nobody = format!("nobody-{}", uuid::Uuid::new_v4().simple());
    let unknown = serde_json::json!({"username": nobody, "source": "2001:db8::1"});
    store.audit_failed_login(None, &unknown, now).await?;
    let log = store.audit_log(UNKNOWN_STAFF_SUBJECT, 10).await?;
    ensure!(
        log.iter().any(|e| e.action == "staff.login_failed"
            && e.subject == UNKNOWN_STAFF_SUBJECT
            && e.detail == unknown),
        "{log:?}"
    );
    Ok(())
}
