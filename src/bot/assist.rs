//! Agent assist: for each customer message in a conversation an agent owns, the desk gets the
//! best knowledge-base answers and the most similar resolved conversations, to insert in one
//! click (issue 7).
//!
//! Pure parts only: the similarity index over resolved conversations and the ranking of
//! suggestions. The customer session asks the bot for knowledge-base candidates, this module
//! for past conversations, and pushes the merged list to the desk (`assist` event).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::bot::kb::features::features;
use crate::domain::ConversationId;
use crate::store::{ResolvedSample, Store};

/// How many suggestions of each kind the desk gets.
pub const PER_KIND: usize = 3;
/// Least cosine similarity for a past conversation to be suggested.
pub const MIN_SIMILARITY: f32 = 0.2;
/// Least matcher confidence for a knowledge-base entry to be suggested.
pub const MIN_KB_CONFIDENCE: f32 = 0.15;
/// Longest suggested text (characters); longer agent answers are cut at a line end.
const MAX_TEXT_CHARS: usize = 600;

/// One suggestion on the desk (the `suggestions` of the `assist` event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Identifies this showing of the suggestion; the desk sends it back when the agent uses it.
    pub id: String,
    /// `kb` (a knowledge-base answer) or `conversation` (what an agent answered before).
    pub kind: String,
    /// The entry id or the past conversation's id.
    pub reference: String,
    pub title: String,
    /// What the one-click insert puts in the reply box.
    pub text: String,
    /// Confidence (kb) or similarity (conversation), 0–1.
    pub score: f32,
}

/// A knowledge-base candidate, as the bot ranks it for a customer message.
#[derive(Debug, Clone, PartialEq)]
pub struct KbCandidate {
    pub entry_id: String,
    pub title: String,
    pub text: String,
    pub confidence: f32,
}

/// A resolved conversation similar to the current one.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarConversation {
    pub conversation_id: ConversationId,
    pub score: f32,
    /// The customer's first words there (the title on the desk).
    pub asked: String,
    /// What the agent answered there.
    pub answered: String,
}

/// The node's index of resolved conversations, rebuilt from the store now and then
/// ([`Assistant::refresh`]) and read by every session.
#[derive(Debug, Default)]
pub struct Assistant {
    index: std::sync::RwLock<std::sync::Arc<ResolvedIndex>>,
    /// A conversation was resolved on this node since the last rebuild.
    stale: std::sync::atomic::AtomicBool,
}

/// How many resolved conversations the index holds (the newest).
pub const INDEX_SIZE: u32 = 2_000;

impl Assistant {
    /// The current index.
    pub fn index(&self) -> std::sync::Arc<ResolvedIndex> {
        match self.index.read() {
            Ok(guard) => std::sync::Arc::clone(&guard),
            Err(poisoned) => std::sync::Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Notes that a conversation was resolved here: the next refresh tick rebuilds the index.
    pub fn mark_stale(&self) {
        self.stale.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// True (once) when [`Assistant::mark_stale`] was called since the last call.
    pub fn take_stale(&self) -> bool {
        self.stale.swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// Rebuilds the index from the newest resolved conversations in `store`.
    pub async fn refresh(
        &self,
        store: &dyn crate::store::Store,
    ) -> crate::store::StoreResult<usize> {
        let samples = store.resolved_samples(INDEX_SIZE).await?;
        let index = std::sync::Arc::new(ResolvedIndex::build(&samples));
        let size = index.len();
        match self.index.write() {
            Ok(mut guard) => *guard = index,
            Err(poisoned) => *poisoned.into_inner() = index,
        }
        Ok(size)
    }
}

/// TF-IDF vectors of resolved conversations (what their customers wrote), searched by cosine.
#[derive(Debug, Default)]
pub struct ResolvedIndex {
    /// Each term's id in the vectors and its inverse document frequency (built once: a
    /// customer message only looks its terms up).
    terms: HashMap<String, (u32, f32)>,
    docs: Vec<IndexedConversation>,
}

#[derive(Debug)]
struct IndexedConversation {
    id: ConversationId,
    vector: Vec<(u32, f32)>,
    asked: String,
    answered: String,
}

impl ResolvedIndex {
    /// Indexes the conversations that have both a customer question and an agent answer.
    ///
    /// Personal data is masked first ([`crate::bot::redact::personal_data`]): these texts are shown
    /// to other customers' agents, and one click sends them to another customer.
    pub fn build(samples: &[ResolvedSample]) -> Self {
        let masked: Vec<ResolvedSample> = samples
            .iter()
            .map(|s| ResolvedSample {
                conversation_id: s.conversation_id.clone(),
                customer_text: crate::bot::redact::personal_data(&s.customer_text),
                agent_text: crate::bot::redact::personal_data(&s.agent_text),
                closed_at: s.closed_at,
            })
            .collect();
        let usable: Vec<&ResolvedSample> = masked
            .iter()
            .filter(|s| !s.customer_text.trim().is_empty() && !s.agent_text.trim().is_empty())
            .collect();
        let mut df: HashMap<String, u32> = HashMap::new();
        let bags: Vec<HashMap<String, f32>> = usable
            .iter()
            .map(|s| {
                let bag = bag(&s.customer_text);
                for term in bag.keys() {
                    *df.entry(term.clone()).or_default() += 1;
                }
                bag
            })
            .collect();
        let n = usable.len() as f32;
        let terms: HashMap<String, (u32, f32)> = df
            .into_iter()
            .enumerate()
            .map(|(i, (term, df))| {
                let id = u32::try_from(i).unwrap_or(u32::MAX);
                (term, (id, ((1.0 + n) / (1.0 + df as f32)).ln() + 1.0))
            })
            .collect();
        let docs: Vec<IndexedConversation> = usable
            .iter()
            .zip(bags)
            .map(|(s, bag)| IndexedConversation {
                id: s.conversation_id.clone(),
                vector: weigh(&bag, &terms),
                asked: first_line(&s.customer_text),
                answered: clip(&s.agent_text),
            })
            .collect();
        Self { terms, docs }
    }

    /// How many conversations are indexed.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Up to `k` resolved conversations most similar to `text` (at least `min_score`), best
    /// first; `exclude` (the current conversation) is never suggested.
    pub fn similar(
        &self,
        text: &str,
        k: usize,
        min_score: f32,
        exclude: Option<&ConversationId>,
    ) -> Vec<SimilarConversation> {
        if self.docs.is_empty() {
            return Vec::new();
        }
        let query = weigh(&bag(text), &self.terms);
        if query.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(f32, &IndexedConversation)> = self
            .docs
            .iter()
            .filter(|d| Some(&d.id) != exclude)
            .map(|d| (dot(&query, &d.vector), d))
            .filter(|(score, _)| *score >= min_score)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        scored
            .into_iter()
            .take(k)
            .map(|(score, d)| SimilarConversation {
                conversation_id: d.id.clone(),
                score,
                asked: d.asked.clone(),
                answered: d.answered.clone(),
            })
            .collect()
    }
}

/// The suggestions for one customer message: knowledge-base answers first (best first), then
/// past conversations, each kind capped at [`PER_KIND`] and above its floor. `new_id` names each
/// showing.
pub fn suggestions(
    kb: &[KbCandidate],
    similar: &[SimilarConversation],
    mut new_id: impl FnMut() -> String,
) -> Vec<Suggestion> {
    let mut kb: Vec<&KbCandidate> = kb
        .iter()
        .filter(|c| c.confidence >= MIN_KB_CONFIDENCE && !c.text.trim().is_empty())
        .collect();
    kb.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut similar: Vec<&SimilarConversation> = similar
        .iter()
        .filter(|s| s.score >= MIN_SIMILARITY)
        .collect();
    similar.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out: Vec<Suggestion> = Vec::with_capacity(2 * PER_KIND);
    for c in kb.into_iter().take(PER_KIND) {
        out.push(Suggestion {
            id: new_id(),
            kind: "kb".to_owned(),
            reference: c.entry_id.clone(),
            title: c.title.clone(),
            text: c.text.clone(),
            score: c.confidence,
        });
    }
    for s in similar.into_iter().take(PER_KIND) {
        out.push(Suggestion {
            id: new_id(),
            kind: "conversation".to_owned(),
            reference: s.conversation_id.as_str().to_owned(),
            title: s.asked.clone(),
            text: s.answered.clone(),
            score: s.score,
        });
    }
    out
}

fn bag(text: &str) -> HashMap<String, f32> {
    let mut bag = HashMap::new();
    for f in features(text) {
        *bag.entry(f).or_insert(0.0) += 1.0;
    }
    bag
}

/// Sublinear TF × IDF, L2-normalised, sorted by term index; unknown terms are dropped.
fn weigh(bag: &HashMap<String, f32>, terms: &HashMap<String, (u32, f32)>) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = bag
        .iter()
        .filter_map(|(t, tf)| {
            let (id, idf) = terms.get(t)?;
            Some((*id, (1.0 + tf.ln()) * idf))
        })
        .collect();
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut v {
            *w /= norm;
        }
    }
    v.sort_by_key(|(i, _)| *i);
    v
}

fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

fn first_line(text: &str) -> String {
    clip(text.lines().find(|l| !l.trim().is_empty()).unwrap_or(""))
}

fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_TEXT_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX_TEXT_CHARS).collect();
    match cut.rfind('\n') {
        Some(end) if end > 0 => cut[..end].to_owned(),
        _ => format!("{cut}…"),
    }
}

/// How often the agent-assist index of resolved conversations is rebuilt.
const ASSIST_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);
/// How often the refresher looks whether a rebuild is due.
const ASSIST_TICK: std::time::Duration = std::time::Duration::from_secs(2);

/// Keeps `assist`'s index fresh, for as long as the node runs: rebuilt soon after a
/// conversation is resolved here, and every minute for those resolved on other nodes.
pub async fn keep_fresh(assist: std::sync::Arc<Assistant>, store: std::sync::Arc<dyn Store>) {
    let mut every = tokio::time::interval(ASSIST_TICK);
    let mut last = tokio::time::Instant::now();
    loop {
        every.tick().await;
        if !assist.take_stale() && last.elapsed() < ASSIST_REFRESH && !assist.index().is_empty() {
            continue;
        }
        last = tokio::time::Instant::now();
        if let Err(error) = assist.refresh(store.as_ref()).await {
            tracing::warn!(%error, "Could not refresh the agent-assist index.");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn sample(id: &str, customer: &str, agent: &str) -> ResolvedSample {
        ResolvedSample {
            conversation_id: ConversationId::from_trusted(id.to_owned()),
            customer_text: customer.to_owned(),
            agent_text: agent.to_owned(),
            closed_at: Utc::now(),
        }
    }

    fn index() -> ResolvedIndex {
        ResolvedIndex::build(&[
            sample(
                "c1",
                "发票抬头写错了怎么办",
                "您好，可以在订单详情里申请重开发票，抬头改好后 1 个工作日内重新开具。",
            ),
            sample(
                "c2",
                "my parcel is stuck in customs",
                "Customs checks take 2-5 days; I've flagged your parcel with the carrier.",
            ),
            sample(
                "c3",
                "退款一直没到账",
                "退款已原路退回，银行卡一般 1–3 个工作日到账，请留意银行短信。",
            ),
            sample("c4", "hello?", ""),
        ])
    }

    #[test]
    fn finds_the_conversation_about_the_same_problem_in_either_language() {
        let idx = index();
        assert_eq!(
            idx.len(),
            3,
            "a conversation without an agent answer is not indexed"
        );
        let zh = idx.similar("我的退款怎么还没到账", 3, 0.1, None);
        assert_eq!(zh[0].conversation_id.as_str(), "c3", "{zh:?}");
        assert!(zh[0].answered.contains("原路退回"));
        let en = idx.similar("parcel stuck at customs for a week", 3, 0.1, None);
        assert_eq!(en[0].conversation_id.as_str(), "c2", "{en:?}");
    }

    #[test]
    fn suggested_conversations_carry_no_personal_data_of_their_customer() {
        let idx = ResolvedIndex::build(&[sample(
            "c9",
            "把收货地址改成北京市朝阳区建国路88号，电话13812345678",
            "张先生您好，已改为建国路88号，电话13812345678，订单SB20261125001已更新。",
        )]);
        let found = idx.similar("我想改收货地址", 3, 0.05, None);
        assert_eq!(found.len(), 1, "{found:?}");
        for text in [&found[0].asked, &found[0].answered] {
            for secret in ["13812345678", "88号", "张", "SB20261125001"] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        assert!(found[0].answered.contains("已改为建国路***"), "{found:?}");
    }

    #[test]
    fn unrelated_text_and_the_current_conversation_are_not_suggested() {
        let idx = index();
        assert!(idx.similar("天气不错", 3, MIN_SIMILARITY, None).is_empty());
        let current = ConversationId::from_trusted("c3".to_owned());
        assert!(idx
            .similar("退款一直没到账", 3, 0.1, Some(&current))
            .iter()
            .all(|s| s.conversation_id != current));
        assert!(ResolvedIndex::default()
            .similar("退款", 3, 0.0, None)
            .is_empty());
    }

    #[test]
    fn suggestions_rank_each_kind_cap_it_and_drop_weak_ones() {
        let kb: Vec<KbCandidate> = [0.1, 0.7, 0.01, 0.3, 0.2]
            .iter()
            .enumerate()
            .map(|(i, c)| KbCandidate {
                entry_id: format!("e{i}"),
                title: format!("t{i}"),
                text: format!("answer {i}"),
                confidence: *c,
            })
            .collect();
        let similar = vec![SimilarConversation {
            conversation_id: ConversationId::from_trusted("c9".to_owned()),
            score: 0.5,
            asked: "q".to_owned(),
            answered: "a".to_owned(),
        }];
        let mut n = 0;
        let s = suggestions(&kb, &similar, || {
            n += 1;
            format!("s{n}")
        });
        let refs: Vec<&str> = s.iter().map(|s| s.reference.as_str()).collect();
        assert_eq!(refs, ["e1", "e3", "e4", "c9"]);
        assert_eq!(s[3].kind, "conversation");
        let ids: std::collections::BTreeSet<&str> = s.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), s.len(), "every showing has its own id");
    }

    #[test]
    fn long_answers_are_clipped_at_a_line_end() {
        let long = format!("{}\n{}", "a".repeat(500), "b".repeat(500));
        assert_eq!(clip(&long), "a".repeat(500));
        assert_eq!(clip("short"), "short");
    }
}
