//! Passwords (argon2id) and opaque bearer tokens.
//!
//! Tokens are 256 random bits, base64url; the store keeps only their SHA-256, so a leaked
//! database does not leak sessions. Tokens survive restarts (a customer keeps their
//! conversation after a crash) and expire by time, or end early (a sign-out; every token of a
//! staff account on its deactivation, role change or password reset). A node remembers a
//! verified token for [`TOKEN_CACHE_TTL`], so a customer's stream of messages costs one store
//! look-up per half minute, not one per message; a token that ends is dropped from the cache
//! at once ([`TokenCache::revoke_token`], [`TokenCache::revoke_account`]), every node told
//! over the bus.
//!
//! The HTTP side (reading the bearer token of a request, the `Authenticated` extractor) is
//! [`crate::channels::auth`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::AgentId;
use crate::store::Principal;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Fewest characters in a staff password.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Most bytes in a password (a longer one is refused before hashing).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Passwords that guessing tries first (the most common ones in published breach lists, and
/// the words of this product): refused whatever their length.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "1234567890a",
    "0987654321",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "qwerty12345",
    "qwerty123456",
    "asdfghjkl1",
    "zxcvbnm123",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou12",
    "iloveyou123",
    "abcdefghij",
    "abcd123456",
    "abc1234567",
    "aaaaaaaaaa",
    "1111111111",
    "0000000000",
    "a123456789",
    "woaini1314",
    "woaini520",
    "5201314520",
    "1314520520",
    "qazwsxedc123",
    "changeme123",
    "welcome123",
    "letmein123",
    "administrator",
    "admin12345",
    "admin123456",
    "superuser1",
    "trustno1234",
    "football123",
    "baseball123",
    "sunshine123",
    "princess123",
    "dragon12345",
    "monkey12345",
    "michael123",
    "shadow12345",
    "master12345",
    "123123123123",
    "11223344556",
    "987654321a",
    "switchboard",
    "switchboard1",
    "switchboard123",
    "contactcenter",
    "callcenter123",
    "customerservice",
    "demo123456",
    "demodemo12",
];

/// What is wrong with a new staff password for `username` (empty: acceptable): at least
/// [`MIN_PASSWORD_CHARS`] characters, at most [`MAX_PASSWORD_BYTES`] bytes, not a common
/// password, not the username.
pub fn password_problems(password: &str, username: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        problems.push(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        problems.push(format!("a password has at most {MAX_PASSWORD_BYTES} bytes"));
    }
    let folded = password.trim().to_lowercase();
    if COMMON_PASSWORDS.contains(&folded.as_str()) {
        problems.push("this password is among the most common ones; choose another".to_owned());
    }
    if !username.is_empty() && folded.contains(&username.to_lowercase()) {
        problems.push("a password may not contain the username".to_owned());
    }
    problems
}

/// A valid hash of a password nobody knows, verified when the user does not exist so that
/// unknown users and wrong passwords take the same time.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c3dpdGNoYm9hcmRkdW1teQ$6yBJ9ORsKZtmvJP1zm0L3WEdvNnnp6OOpGSCPRMtqsA"
}

/// True when `password` matches the PHC `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Like [`verify_password`], with the caller's argon2 working memory, grown to the hash's
/// size once and reused by every later check: a thread that checks passwords keeps one block
/// instead of allocating (and the allocator keeping) 19 MiB per check. A malformed hash
/// never matches.
pub fn verify_password_with(memory: &mut Vec<argon2::Block>, password: &str, hash: &str) -> bool {
    let mut check = || -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = argon2::Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => argon2::Version::try_from(v).ok()?,
            None => argon2::Version::default(),
        };
        let params = argon2::Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        if memory.len() < params.block_count() {
            memory.resize(params.block_count(), argon2::Block::default());
        }
        let blocks = params.block_count();
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut memory[..blocks],
            )
            .ok()?;
        Some(crate::signing::constant_time_eq(&out, expected.as_bytes()))
    };
    check().unwrap_or(false)
}

/// A fresh token and the hash the store keeps.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How long a node trusts a token it verified in the store (unless it hears that the token
/// ended); an expiring token is honoured at most this much longer.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);
/// Tokens remembered at most; past that the cache starts over.
const TOKEN_CACHE_CAPACITY: usize = 100_000;

/// Verified tokens (by hash) and when they were verified, and the sign-ins that ended lately.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    verified: HashMap<String, (Principal, Instant)>,
    /// Tokens that ended, and when this node heard of it: a verdict reached before then (a
    /// store look-up that was under way) is not remembered.
    revoked_tokens: HashMap<String, Instant>,
    /// Staff accounts whose tokens all ended, and when this node heard of it.
    revoked_accounts: HashMap<AgentId, Instant>,
}

impl Entries {
    /// Whether a verdict on `hash` for `principal` reached at `verified` predates an end of it.
    fn ended_since(&self, hash: &str, principal: &Principal, verified: Instant) -> bool {
        let ended = |at: Option<&Instant>| at.is_some_and(|at| *at >= verified);
        ended(self.revoked_tokens.get(hash))
            || matches!(principal, Principal::Staff { agent_id, .. }
                if ended(self.revoked_accounts.get(agent_id)))
    }

    /// Forgets ends older than the cache's trust: no verdict that old is taken anyway.
    fn forget_old_ends(&mut self, now: Instant) {
        let recent = |at: &mut Instant| now.duration_since(*at) < TOKEN_CACHE_TTL;
        self.revoked_tokens.retain(|_, at| recent(at));
        self.revoked_accounts.retain(|_, at| recent(at));
    }
}

impl TokenCache {
    /// The holder of a token verified less than [`TOKEN_CACHE_TTL`] ago.
    pub fn get(&self, hash: &str, now: Instant) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        let (principal, verified) = entries.verified.get(hash)?;
        (now.duration_since(*verified) < TOKEN_CACHE_TTL).then(|| principal.clone())
    }

    /// Remembers a token verified at `now` — unless it ended since (see [`Self::revoke_token`]).
    pub fn put(&self, hash: String, principal: Principal, now: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.ended_since(&hash, &principal, now) {
                return;
            }
            if entries.verified.len() >= TOKEN_CACHE_CAPACITY {
                entries
                    .verified
                    .retain(|_, (_, verified)| now.duration_since(*verified) < TOKEN_CACHE_TTL);
                if entries.verified.len() >= TOKEN_CACHE_CAPACITY {
                    entries.verified.clear();
                }
            }
            entries.verified.insert(hash, (principal, now));
        }
    }

    /// A token ended at `now` (a sign-out): it is forgotten, and a verdict on it reached
    /// before `now` (a look-up under way) is not remembered.
    pub fn revoke_token(&self, hash: &str, now: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.forget_old_ends(now);
            entries.verified.remove(hash);
            entries.revoked_tokens.insert(hash.to_owned(), now);
        }
    }

    /// Every token of a staff account ended at `now` (deactivation, role change, password
    /// reset): as [`Self::revoke_token`] for each.
    pub fn revoke_account(&self, agent: &AgentId, now: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.forget_old_ends(now);
            entries.verified.retain(|_, (principal, _)| {
                !matches!(principal, Principal::Staff { agent_id, .. } if agent_id == agent)
            });
            entries.revoked_accounts.insert(agent.clone(), now);
        }
    }

    /// Forgets every verdict (when this node may have missed news of ended sign-ins).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.verified.clear();
        }
    }
}

/// True when a bearer token has the shape of a JWT (three base64url parts), i.e. is an app
/// token rather than one of our opaque tokens.
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_reused_memory_block_verifies_like_the_library() {
        let hash = hash_password("correct horse battery").expect("hash");
        let mut memory = Vec::new();
        assert!(verify_password_with(
            &mut memory,
            "correct horse battery",
            &hash
        ));
        let size = memory.len();
        assert!(size > 0);
        assert!(!verify_password_with(&mut memory, "wrong horse", &hash));
        assert!(!verify_password_with(
            &mut memory,
            "correct horse battery",
            dummy_hash()
        ));
        assert!(!verify_password_with(&mut memory, "x", "not a hash"));
        assert_eq!(memory.len(), size, "the block is reused, not grown");
        assert!(verify_password("correct horse battery", &hash));
    }

    #[test]
    fn a_password_is_long_uncommon_and_not_the_username() {
        assert!(password_problems("correct horse battery", "alice").is_empty());
        assert_eq!(password_problems("short", "alice").len(), 1);
        // Common ones are refused whatever their case and length.
        assert_eq!(password_problems("Password123", "alice").len(), 1);
        assert_eq!(password_problems("SwitchBoard", "alice").len(), 1);
        assert_eq!(password_problems("alice-rocks-2026", "alice").len(), 1);
        assert_eq!(password_problems("Alice-Rocks-2026", "ALICE").len(), 1);
        assert_eq!(password_problems(&"x".repeat(2000), "alice").len(), 1);
        // Length counts characters, not bytes: ten Chinese characters are enough.
        assert!(password_problems("我的密码是很长的一句话", "alice").is_empty());
    }
    use super::*;
    use crate::domain::CustomerId;

    #[test]
    fn passwords_verify_only_with_the_right_secret() {
        let hash = hash_password("demo").expect("hash");
        assert!(verify_password("demo", &hash));
        assert!(!verify_password("Demo", &hash));
        assert!(!verify_password("demo", "not a hash"));
    }

    #[test]
    fn dummy_hash_parses_and_matches_nothing_useful() {
        assert!(PasswordHash::new(dummy_hash()).is_ok());
        assert!(!verify_password("demo", dummy_hash()));
    }

    #[test]
    fn cached_tokens_are_trusted_only_for_the_ttl() {
        let cache = TokenCache::default();
        let start = Instant::now();
        let who = Principal::Customer(CustomerId::from_trusted("cus_1"));
        assert_eq!(cache.get("h", start), None);
        cache.put("h".to_owned(), who.clone(), start);
        assert_eq!(cache.get("h", start + Duration::from_secs(1)), Some(who));
        assert_eq!(cache.get("h", start + TOKEN_CACHE_TTL), None);
        assert_eq!(cache.get("other", start), None);
    }

    #[test]
    fn an_ended_token_is_forgotten_and_an_older_verdict_not_taken() {
        let cache = TokenCache::default();
        let start = Instant::now();
        let later = |ms| start + Duration::from_millis(ms);
        let agent = AgentId::from_trusted("agt_1");
        let staff = Principal::Staff {
            agent_id: agent.clone(),
            role: crate::domain::Role::Agent,
        };
        cache.put("a".to_owned(), staff.clone(), start);
        cache.put("b".to_owned(), staff.clone(), start);
        cache.revoke_token("a", later(10));
        assert_eq!(cache.get("a", later(11)), None);
        assert_eq!(cache.get("b", later(11)), Some(staff.clone()));
        // A look-up that started before the sign-out finishes after it: not remembered.
        cache.put("a".to_owned(), staff.clone(), later(5));
        assert_eq!(cache.get("a", later(12)), None);
        // Every token of the account; another account's stay.
        let other = Principal::Staff {
            agent_id: AgentId::from_trusted("agt_2"),
            role: crate::domain::Role::Agent,
        };
        let visitor = Principal::Customer(CustomerId::from_trusted("cus_1"));
        cache.put("c".to_owned(), other.clone(), start);
        cache.put("v".to_owned(), visitor.clone(), start);
        cache.revoke_account(&agent, later(20));
        assert_eq!(cache.get("b", later(21)), None);
        assert_eq!(cache.get("c", later(21)), Some(other));
        assert_eq!(cache.get("v", later(21)), Some(visitor));
        cache.put("d".to_owned(), staff.clone(), later(15));
        assert_eq!(cache.get("d", later(21)), None, "verified before the end");
        // A verdict reached after the end (a new sign-in) is taken.
        cache.put("e".to_owned(), staff.clone(), later(25));
        assert_eq!(cache.get("e", later(26)), Some(staff));
        cache.clear();
        assert_eq!(cache.get("e", later(27)), None);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), ha);
        assert_eq!(ha.len(), 64);
        assert!(!ha.contains(&a));
    }
}
