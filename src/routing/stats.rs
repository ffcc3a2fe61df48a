//! Queue statistics: waits, service level, abandonment and fallbacks per queue.
//!
//! Pure and clock-free like the routing policy: outcomes carry logical milliseconds. The live
//! dispatcher keeps a rolling window of them for `GET /v1/queues`; the dry-run simulator
//! summarises a whole replay with the same code, so both report the same figures the same way.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::routing::policy::Millis;

/// How a task left its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// An agent accepted it.
    Answered,
    /// The customer gave up before an agent took it.
    Abandoned,
    /// It went to the queue's fallback (maximum wait, or the queue was closed).
    Fallback,
}

/// One task leaving one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub queue: String,
    /// When it left.
    pub at: Millis,
    /// How long it had waited.
    pub waited: Millis,
    pub left: Left,
}

/// The figures of one queue (or of all queues together).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = QueueOutcome)]
pub struct QueueSummary {
    /// Tasks that left the queue in the window, however they left.
    pub tasks: u64,
    pub answered: u64,
    /// Answered within the service-level threshold.
    pub answered_within_sl: u64,
    pub abandoned: u64,
    pub fallbacks: u64,
    /// `answered_within_sl / tasks`; None without tasks.
    #[schema(required = true)]
    pub service_level: Option<f64>,
    /// `abandoned / tasks`; None without tasks.
    #[schema(required = true)]
    pub abandonment_rate: Option<f64>,
    /// Waits of the answered tasks, in seconds (nearest rank).
    #[schema(required = true)]
    pub wait_p50_secs: Option<f64>,
    #[schema(required = true)]
    pub wait_p90_secs: Option<f64>,
}

/// Outcomes, oldest first.
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    outcomes: VecDeque<Outcome>,
}

impl QueueStats {
    /// Records a task leaving its queue. Outcomes are expected in time order.
    pub fn record(&mut self, outcome: Outcome) {
        self.outcomes.push_back(outcome);
    }

    /// Drops outcomes older than `since` (the rolling window of the live figures).
    pub fn forget_before(&mut self, since: Millis) {
        while self.outcomes.front().is_some_and(|o| o.at < since) {
            self.outcomes.pop_front();
        }
    }

    /// Figures per queue, with `service_level` measured against `threshold`.
    pub fn per_queue(&self, threshold: Millis) -> BTreeMap<String, QueueSummary> {
        let mut grouped: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
        for outcome in &self.outcomes {
            grouped.entry(&outcome.queue).or_default().push(outcome);
        }
        grouped
            .into_iter()
            .map(|(queue, outcomes)| (queue.to_owned(), summarise(outcomes, threshold)))
            .collect()
    }

    /// Figures over every queue together.
    pub fn overall(&self, threshold: Millis) -> QueueSummary {
        summarise(self.outcomes.iter(), threshold)
    }
}

fn summarise<'a>(
    outcomes: impl IntoIterator<Item = &'a Outcome>,
    threshold: Millis,
) -> QueueSummary {
    let mut summary = QueueSummary::default();
    let mut waits = Vec::new();
    for outcome in outcomes {
        summary.tasks += 1;
        match outcome.left {
            Left::Answered => {
                summary.answered += 1;
                if outcome.waited <= threshold {
                    summary.answered_within_sl += 1;
                }
                waits.push(outcome.waited);
            }
            Left::Abandoned => summary.abandoned += 1,
            Left::Fallback => summary.fallbacks += 1,
        }
    }
    if summary.tasks > 0 {
        let tasks = summary.tasks as f64;
        summary.service_level = Some(summary.answered_within_sl as f64 / tasks);
        summary.abandonment_rate = Some(summary.abandoned as f64 / tasks);
    }
    waits.sort_unstable();
    summary.wait_p50_secs = percentile(&waits, 50).map(|ms| ms as f64 / 1000.0);
    summary.wait_p90_secs = percentile(&waits, 90).map(|ms| ms as f64 / 1000.0);
    summary
}

/// The nearest-rank `p`th percentile of sorted values.
pub fn percentile(sorted: &[Millis], p: u32) -> Option<Millis> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1);
    let index = usize::try_from(rank - 1)
        .unwrap_or(usize::MAX)
        .min(sorted.len() - 1);
    Some(sorted[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(queue: &str, at: Millis, waited: Millis, left: Left) -> Outcome {
        Outcome {
            queue: queue.to_owned(),
            at,
            waited,
            left,
        }
    }

    #[test]
    fn service_level_and_abandonment_count_every_task_that_left() {
        let mut stats = QueueStats::default();
        stats.record(out("billing", 1, 5_000, Left::Answered));
        stats.record(out("billing", 2, 30_000, Left::Answered));
        stats.record(out("billing", 3, 60_000, Left::Abandoned));
        stats.record(out("billing", 4, 600_000, Left::Fallback));
        stats.record(out("general", 5, 1_000, Left::Answered));
        let per = stats.per_queue(20_000);
        let billing = &per["billing"];
        assert_eq!(
            (billing.tasks, billing.answered, billing.answered_within_sl),
            (4, 2, 1)
        );
        assert_eq!((billing.abandoned, billing.fallbacks), (1, 1));
        assert_eq!(billing.service_level, Some(0.25));
        assert_eq!(billing.abandonment_rate, Some(0.25));
        assert_eq!(billing.wait_p50_secs, Some(5.0));
        assert_eq!(billing.wait_p90_secs, Some(30.0));
        assert_eq!(per["general"].service_level, Some(1.0));
        assert_eq!(stats.overall(20_000).tasks, 5);
    }

    #[test]
    fn the_window_forgets_old_outcomes_and_empty_means_unknown() {
        let mut stats = QueueStats::default();
        stats.record(out("q", 10, 0, Left::Answered));
        stats.record(out("q", 20, 0, Left::Answered));
        stats.forget_before(15);
        assert_eq!(stats.overall(0).tasks, 1);
        stats.forget_before(100);
        let empty = stats.overall(0);
        assert_eq!((empty.service_level, empty.wait_p50_secs), (None, None));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Millis> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&[7], 1), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }
}
