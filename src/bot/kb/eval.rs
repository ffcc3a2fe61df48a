//! `switchboard kb-eval`: trains the matcher on a labelled data set (each intent one KB entry)
//! and measures it on another, as JSON. Each line of the files is
//! `{"text": ..., "intent": ...}`; intent [`OUT_OF_SCOPE`] marks out-of-scope examples.
//!
//! With a dev set, the confidence threshold is tuned there (see [`tune`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::matcher::{decide, Matcher, TrainOptions, OUT_OF_SCOPE};

/// One labelled example.
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    pub text: String,
    pub intent: String,
}

/// Reads a JSON-lines file of examples.
pub fn read_jsonl(path: &std::path::Path) -> anyhow::Result<Vec<Example>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1))
        })
        .collect()
}

/// The figures `kb-eval` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub in_scope_accuracy: f64,
    /// None when the test set has no out-of-scope examples.
    pub oos_recall: Option<f64>,
    pub threshold: f32,
    pub query_us_p50: f64,
    pub query_us_p99: f64,
    pub train_s: f64,
    pub train_examples: usize,
    pub test_examples: usize,
    pub labels: usize,
    pub vocabulary: usize,
    /// The SGD step the matcher was trained with.
    pub learning_rate: f32,
    /// Each candidate step's cross-validated accuracy on the training set, when the step
    /// was chosen that way.
    pub cross_validated: Vec<(f32, f64)>,
}

/// The prediction of one text at `threshold`: a label or [`OUT_OF_SCOPE`].
fn predict(matcher: &Matcher, text: &str, threshold: f32) -> String {
    decide(&matcher.top(text, 1), threshold)
        .map_or_else(|| OUT_OF_SCOPE.to_owned(), |c| c.label.clone())
}

/// Accuracy, macro-F1 (over the gold labels), in-scope accuracy and OOS recall.
pub fn score(gold: &[String], predicted: &[String]) -> (f64, f64, f64, Option<f64>) {
    let n = gold.len().max(1) as f64;
    let correct = gold.iter().zip(predicted).filter(|(g, p)| g == p).count() as f64;
    let in_scope: Vec<(&String, &String)> = gold
        .iter()
        .zip(predicted)
        .filter(|(g, _)| *g != OUT_OF_SCOPE)
        .collect();
    let oos: Vec<(&String, &String)> = gold
        .iter()
        .zip(predicted)
        .filter(|(g, _)| *g == OUT_OF_SCOPE)
        .collect();
    let ratio = |pairs: &[(&String, &String)]| {
        pairs.iter().filter(|(g, p)| g == p).count() as f64 / pairs.len().max(1) as f64
    };
    let labels: BTreeSet<&String> = gold.iter().collect();
    let mut counts: BTreeMap<&String, (f64, f64, f64)> = BTreeMap::new(); // tp, fp, fn
    for (g, p) in gold.iter().zip(predicted) {
        if g == p {
            counts.entry(g).or_default().0 += 1.0;
        } else {
            counts.entry(g).or_default().2 += 1.0;
            counts.entry(p).or_default().1 += 1.0;
        }
    }
    let f1s: Vec<f64> = labels
        .iter()
        .map(|l| {
            let (tp, fp, fne) = counts.get(l).copied().unwrap_or_default();
            if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (2.0 * tp + fp + fne)
            }
        })
        .collect();
    let macro_f1 = f1s.iter().sum::<f64>() / f1s.len().max(1) as f64;
    (
        correct / n,
        macro_f1,
        ratio(&in_scope),
        (!oos.is_empty()).then(|| ratio(&oos)),
    )
}

/// Out-of-scope questions the bot must refuse at least, when tuning on data that has them.
pub const TARGET_OOS_RECALL: f64 = 0.85;

/// Picks the confidence threshold on `dev`: with out-of-scope examples, the one that answers
/// the most in-scope questions correctly while refusing at least [`TARGET_OOS_RECALL`] of
/// the out-of-scope ones (the most refusing one if none does); without, the most accurate.
pub fn tune(matcher: &Matcher, dev: &[Example]) -> f32 {
    let tops: Vec<_> = dev.iter().map(|e| matcher.top(&e.text, 1)).collect();
    let gold: Vec<String> = dev.iter().map(|e| e.intent.clone()).collect();
    let has_oos = gold.iter().any(|g| g == OUT_OF_SCOPE);
    let mut best = (f64::NEG_INFINITY, 0.0f32);
    for step in 0..=99 {
        let threshold = step as f32 / 100.0;
        let predicted: Vec<String> = tops
            .iter()
            .map(|t| {
                decide(t, threshold).map_or_else(|| OUT_OF_SCOPE.to_owned(), |c| c.label.clone())
            })
            .collect();
        let (accuracy, _, in_scope, oos) = score(&gold, &predicted);
        let objective = match (has_oos, oos) {
            (true, Some(recall)) if recall >= TARGET_OOS_RECALL => 1.0 + in_scope,
            (true, Some(recall)) => recall,
            _ => accuracy,
        };
        if objective > best.0 {
            best = (objective, threshold);
        }
    }
    best.1
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(((sorted.len() - 1) as f64) * q).round() as usize]
}

/// Trains the matcher on labelled examples; returns it with the training time in seconds.
pub fn train(train: &[Example], options: TrainOptions) -> (Matcher, f64) {
    let started = Instant::now();
    let examples: Vec<(String, String)> = train
        .iter()
        .map(|e| (e.text.clone(), e.intent.clone()))
        .collect();
    let matcher = Matcher::train(&examples, options);
    (matcher, started.elapsed().as_secs_f64())
}

/// Trains on `train`, tunes on `dev` (if any), measures on `test`.
pub fn evaluate(
    train_set: &[Example],
    test: &[Example],
    dev: Option<&[Example]>,
    options: TrainOptions,
) -> Report {
    let (matcher, train_s) = train(train_set, options);
    let threshold = dev.map_or(0.0, |dev| tune(&matcher, dev));
    measure(&matcher, test, threshold, train_s, train_set.len())
}

/// Measures a trained matcher on `test` at `threshold`.
pub fn measure(
    matcher: &Matcher,
    test: &[Example],
    threshold: f32,
    train_s: f64,
    train_examples: usize,
) -> Report {
    let mut latencies = Vec::with_capacity(test.len());
    let mut predicted = Vec::with_capacity(test.len());
    for e in test {
        let at = Instant::now();
        predicted.push(predict(matcher, &e.text, threshold));
        latencies.push(at.elapsed().as_secs_f64() * 1e6);
    }
    latencies.sort_by(f64::total_cmp);
    let gold: Vec<String> = test.iter().map(|e| e.intent.clone()).collect();
    let (accuracy, macro_f1, in_scope_accuracy, oos_recall) = score(&gold, &predicted);
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    Report {
        accuracy: round(accuracy),
        macro_f1: round(macro_f1),
        in_scope_accuracy: round(in_scope_accuracy),
        oos_recall: oos_recall.map(round),
        threshold,
        query_us_p50: percentile(&latencies, 0.5).round(),
        query_us_p99: percentile(&latencies, 0.99).round(),
        train_s: (train_s * 100.0).round() / 100.0,
        train_examples,
        test_examples: test.len(),
        labels: matcher.labels().len(),
        vocabulary: matcher.vocabulary_size(),
        learning_rate: matcher.selection().learning_rate,
        cross_validated: matcher.selection().cross_validated.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn scores_count_accuracy_macro_f1_and_oos_recall() {
        let gold = s(&["a", "a", "b", OUT_OF_SCOPE]);
        let predicted = s(&["a", "b", "b", OUT_OF_SCOPE]);
        let (accuracy, macro_f1, in_scope, oos) = score(&gold, &predicted);
        assert!((accuracy - 0.75).abs() < 1e-9);
        assert!((in_scope - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(oos, Some(1.0));
        // F1: a = 2/3, b = 2/3, oos = 1.
        assert!((macro_f1 - (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-9);
        assert_eq!(score(&s(&["a"]), &s(&["a"])).3, None);
    }
}
