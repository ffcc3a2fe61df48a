//! "One ID" (一号通): the identity graph `(channel, external_id) → customer`.
//!
//! Identities are linked only from verified facts, never from guesses:
//! - a provider's own sender id: the WeChat openid of a signed webhook, the app user id (`sub`)
//!   of an app token signed by the app backend, the caller or sender number of a signed IVR or
//!   SMS webhook;
//! - a phone number the app backend vouches for (the token's `phone` claim);
//! - an agent's explicit merge (audited and reversible).
//!
//! A phone number is one fact reachable on two channels, so it is linked as both `(sms, phone)`
//! and `(ivr, phone)`: whoever texted from a number is whoever calls from it.
//!
//! When two verified facts point at different customers (an app user's phone already belongs
//! to another customer who is not that app user), nothing is merged automatically: the first
//! identity wins, the conflict is logged, and an agent may merge the two.

use chrono::Utc;

use crate::domain::{Channel, Customer, CustomerId, Tier};
use crate::store::{CustomerStore, StoreResult};

/// The channels on which a phone number is an identity.
pub const PHONE_CHANNELS: [Channel; 2] = [Channel::Sms, Channel::Ivr];

/// A new customer known only by one identity (their first contact on a provider channel).
pub fn new_customer(channel: Channel, display_name: String) -> Customer {
    Customer {
        id: CustomerId::generate(),
        display_name,
        tier: Tier::Standard,
        tags: vec![channel.as_str().to_owned()],
        created_at: Utc::now(),
    }
}

/// A phone number as agents see it by default: country code and the last four digits
/// (PIPL: a display name is no place for a full number).
pub fn masked_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return "****".to_owned();
    }
    let tail: String = digits[digits.len() - 4..].iter().collect();
    let head: String = digits[..3].iter().collect();
    format!("+{head}****{tail}")
}

/// The customer behind `(channel, external_id)`, created on first contact.
pub async fn customer_for(
    store: &dyn CustomerStore,
    channel: Channel,
    external_id: &str,
    display_name: impl FnOnce() -> String,
) -> StoreResult<CustomerId> {
    first_contact(store, channel, external_id, display_name)
        .await
        .map(|(customer, _)| customer)
}

/// Like [`customer_for`], and whether this call created the customer (a first contact).
pub async fn first_contact(
    store: &dyn CustomerStore,
    channel: Channel,
    external_id: &str,
    display_name: impl FnOnce() -> String,
) -> StoreResult<(CustomerId, bool)> {
    if let Some(owner) = store.find_identity(channel, external_id).await? {
        return Ok((owner, false));
    }
    let customer = new_customer(channel, display_name());
    let owner = store
        .customer_for_identity(channel, external_id, &customer)
        .await?;
    let created = owner == customer.id;
    Ok((owner, created))
}

/// The customer behind a verified phone number (E.164), first seen on `channel` (SMS or
/// IVR); the number is linked on both phone channels.
pub async fn customer_for_phone(
    store: &dyn CustomerStore,
    channel: Channel,
    phone: &str,
) -> StoreResult<CustomerId> {
    let customer = customer_for(store, channel, phone, || masked_phone(phone)).await?;
    link_phone(store, &customer, phone).await?;
    Ok(customer)
}

/// Links a verified phone number to `customer` on every phone channel where it is not
/// linked yet. Returns false when the number already belongs to someone else (left as it is:
/// an agent may merge).
pub async fn link_phone(
    store: &dyn CustomerStore,
    customer: &CustomerId,
    phone: &str,
) -> StoreResult<bool> {
    let mut all_ours = true;
    for channel in PHONE_CHANNELS {
        let owner = store.link_identity(channel, phone, customer).await?;
        if owner != *customer {
            tracing::warn!(%customer, %owner, "A verified phone number belongs to another customer; not merged automatically.");
            all_ours = false;
        }
    }
    Ok(all_ours)
}

/// Verified facts an app token carries about its user, besides the app user id.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppLinks<'a> {
    /// A phone number the app backend verified (E.164).
    pub phone: Option<&'a str>,
    /// The user's openid of the Official Account, when the app backend verified it (WeChat
    /// login of the same account's open platform).
    pub wechat_openid: Option<&'a str>,
    /// The user's WeChat UnionID, when the app backend verified it (WeChat login): the
    /// same id the Official Account API reports for its followers.
    pub wechat_unionid: Option<&'a str>,
}

/// The customer behind an app user (`sub` of a verified app token), with the facts the app
/// backend vouches for: a new app user whose phone number or WeChat openid is known (they
/// texted, called or wrote on WeChat before) continues as that customer; otherwise a new
/// customer gets every identity. Facts already linked to someone else stay where they are.
pub async fn app_user(
    store: &dyn CustomerStore,
    sub: &str,
    links: AppLinks<'_>,
    display_name: Option<&str>,
) -> StoreResult<CustomerId> {
    let customer = match store.find_identity(Channel::App, sub).await? {
        Some(owner) => owner,
        None => {
            let mut known = None;
            if let Some(phone) = links.phone {
                known = store.find_identity(Channel::Sms, phone).await?;
            }
            if let (None, Some(openid)) = (&known, links.wechat_openid) {
                known = store.find_identity(Channel::Wechat, openid).await?;
            }
            if let (None, Some(unionid)) = (&known, links.wechat_unionid) {
                known = store
                    .find_identity(Channel::Wechat, &unionid_identity(unionid))
                    .await?;
            }
            match known {
                // Concurrent first requests of one app user agree: the identity row decides.
                Some(owner) => store.link_identity(Channel::App, sub, &owner).await?,
                None => {
                    let name = display_name
                        .map(str::trim)
                        .filter(|n| !n.is_empty() && n.chars().count() <= 64)
                        .map(str::to_owned)
                        .or_else(|| links.phone.map(masked_phone))
                        .unwrap_or_else(|| format!("App user {}", short(sub)));
                    let customer = new_customer(Channel::App, name);
                    store
                        .customer_for_identity(Channel::App, sub, &customer)
                        .await?
                }
            }
        }
    };
    if let Some(phone) = links.phone {
        link_phone(store, &customer, phone).await?;
    }
    if let Some(openid) = links.wechat_openid {
        let owner = store
            .link_identity(Channel::Wechat, openid, &customer)
            .await?;
        if owner != customer {
            tracing::warn!(%customer, %owner, "A verified openid belongs to another customer; not merged automatically.");
        }
    }
    if let Some(unionid) = links.wechat_unionid {
        // So a later follow of the Official Account (its UnionID) finds this customer.
        let owner = store
            .link_identity(Channel::Wechat, &unionid_identity(unionid), &customer)
            .await?;
        if owner != customer {
            tracing::warn!(%customer, %owner, "A verified UnionID belongs to another customer; not merged automatically.");
        }
    }
    Ok(customer)
}

/// The identity a WeChat UnionID is kept as (`wechat`, `union:{unionid}`): WeChat's one id of a
/// user across the official accounts and apps of one open-platform account.
pub fn unionid_identity(unionid: &str) -> String {
    format!("{UNIONID_PREFIX}{unionid}")
}

/// The prefix of [`unionid_identity`]s (openids never have it).
pub const UNIONID_PREFIX: &str = "union:";

/// The last characters of an id, for generated display names.
pub fn short(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    chars[chars.len().saturating_sub(6)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_masked_for_display() {
        assert_eq!(masked_phone("+8613812345678"), "+861****5678");
        assert_eq!(masked_phone("+14155550100"), "+141****0100");
        assert_eq!(masked_phone("+12"), "****");
    }

    #[test]
    fn short_ids_keep_their_tail() {
        assert_eq!(short("oUser_1234567890"), "567890");
        assert_eq!(short("abc"), "abc");
    }
}
