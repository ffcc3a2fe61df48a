//! The question matcher: TF-IDF over [`super::features`], then a multinomial logistic
//! regression (softmax) trained by SGD on the entries' question variants.
//!
//! Its probability for the best entry is the confidence; an answer below the configured
//! threshold (or the explicit out-of-scope class, when the training data has examples of it)
//! is "I don't know". Pure and deterministic: training with the same examples and options
//! gives the same model.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::features::features;

/// The label of out-of-scope examples in training and evaluation data.
pub const OUT_OF_SCOPE: &str = "oos";

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Passes over the examples.
    pub epochs: usize,
    /// Initial SGD step; it decays with the inverse of the epoch.
    pub learning_rate: f32,
    /// L2 penalty per step.
    pub l2: f32,
    /// Features seen in fewer examples than this are dropped.
    pub min_count: u32,
    /// Shuffling seed.
    pub seed: u64,
    /// Average the weights of the later epochs (see [`Matcher::train`]).
    pub average: bool,
    /// Weigh entries by the inverse square root of their number of examples.
    pub balance: bool,
    /// Choose the step size among [`STEP_CANDIDATES`] by cross-validation on the examples
    /// (when there are at least [`MIN_EXAMPLES_TO_SELECT`]); otherwise `learning_rate`.
    pub select_step: bool,
}

/// The step sizes cross-validation chooses from. With a fixed number of averaged SGD passes
/// the step is the strength of regularisation: a small one stops early (robust to noisy
/// labels), a large one fits the examples closely (many clean variants per entry).
pub const STEP_CANDIDATES: [f32; 5] = [0.5, 1.0, 2.0, 4.0, 8.0];

/// Folds of the cross-validation that chooses the step.
pub const FOLDS: usize = 3;

/// Below this many examples a knowledge base keeps the configured step: too few held-out
/// questions per entry to tell the candidates apart.
pub const MIN_EXAMPLES_TO_SELECT: usize = 600;

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 12,
            learning_rate: 1.0,
            l2: 1e-6,
            min_count: 1,
            seed: 7,
            average: true,
            balance: true,
            select_step: true,
        }
    }
}

/// A sparse, L2-normalised TF-IDF vector.
type Sparse = Vec<(u32, f32)>;

/// A trained matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    index: HashMap<String, u32>,
    idf: Vec<f32>,
    labels: Vec<String>,
    /// `weights[feature * classes + class]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// How the step was chosen.
    selection: Selection,
}

/// The step size a matcher was trained with, and the cross-validated accuracy of each
/// candidate when it was chosen (empty when it was configured).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Selection {
    pub learning_rate: f32,
    pub cross_validated: Vec<(f32, f64)>,
}

/// One candidate answer: the label and its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub label: String,
    pub confidence: f32,
}

impl Matcher {
    /// Trains on `(text, label)` examples.
    pub fn train(examples: &[(String, String)], options: TrainOptions) -> Self {
        let owned: Vec<Vec<String>> = examples.iter().map(|(t, _)| features(t)).collect();
        let featurised: Vec<&[String]> = owned.iter().map(Vec::as_slice).collect();
        let labels: Vec<&str> = examples.iter().map(|(_, l)| l.as_str()).collect();
        let selection = if options.select_step && examples.len() >= MIN_EXAMPLES_TO_SELECT {
            select_step(&featurised, &labels, options)
        } else {
            Selection {
                learning_rate: options.learning_rate,
                cross_validated: Vec::new(),
            }
        };
        let mut model = Self::fit(
            &featurised,
            &labels,
            TrainOptions {
                learning_rate: selection.learning_rate,
                ..options
            },
        );
        model.selection = selection;
        model
    }

    /// Trains on featurised examples with `options` as they are.
    fn fit(featurised: &[&[String]], example_labels: &[&str], options: TrainOptions) -> Self {
        // Vocabulary and document frequencies.
        let mut df: HashMap<&str, u32> = HashMap::new();
        for fs in featurised {
            let mut seen: Vec<&str> = fs.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for f in seen {
                *df.entry(f).or_default() += 1;
            }
        }
        let mut kept: Vec<(&str, u32)> = df
            .into_iter()
            .filter(|(_, n)| *n >= options.min_count)
            .collect();
        kept.sort_unstable();
        let docs = featurised.len().max(1) as f32;
        let mut index = HashMap::with_capacity(kept.len());
        let mut idf = Vec::with_capacity(kept.len());
        for (i, (feature, n)) in kept.iter().enumerate() {
            index.insert((*feature).to_owned(), i as u32);
            idf.push(((1.0 + docs) / (1.0 + *n as f32)).ln() + 1.0);
        }
        let mut labels: Vec<String> = example_labels.iter().map(|l| (*l).to_owned()).collect();
        labels.sort_unstable();
        labels.dedup();
        let label_index: HashMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let classes = labels.len();
        let mut model = Self {
            index,
            idf,
            labels: labels.clone(),
            weights: vec![0.0; kept.len() * classes],
            bias: vec![0.0; classes],
            selection: Selection::default(),
        };
        let data: Vec<(Sparse, usize)> = featurised
            .iter()
            .zip(example_labels)
            .map(|(fs, label)| (model.vectorise(fs), label_index[label]))
            .collect();
        // Rare entries weigh more (the square root of the inverse frequency), so frequent ones
        // do not crowd them out: each entry matters, however many variants it has.
        let mut counts = vec![0usize; classes];
        for (_, y) in &data {
            counts[*y] += 1;
        }
        let mean = data.len() as f32 / classes.max(1) as f32;
        let class_weight: Vec<f32> = counts
            .iter()
            .map(|&n| {
                if options.balance {
                    (mean / n.max(1) as f32).sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed);
        let mut probs = vec![0.0f32; classes];
        // The weights are averaged over the snapshots at the end of the later epochs: the
        // last steps of SGD jitter around the optimum, their average sits closer to it.
        let mut averaged = (
            vec![0.0f32; model.weights.len()],
            vec![0.0f32; classes],
            0u32,
        );
        for epoch in 0..options.epochs {
            order.shuffle(&mut rng);
            let step = options.learning_rate / (1.0 + epoch as f32);
            for &i in &order {
                let (x, y) = &data[i];
                model.probabilities_into(x, &mut probs);
                let weight = class_weight[*y];
                for (c, p) in probs.iter_mut().enumerate() {
                    *p = weight * (*p - if c == *y { 1.0 } else { 0.0 });
                }
                for &(f, v) in x {
                    let row = &mut model.weights[f as usize * classes..(f as usize + 1) * classes];
                    for (w, g) in row.iter_mut().zip(&probs) {
                        *w -= step * (g * v + options.l2 * *w);
                    }
                }
                for (b, g) in model.bias.iter_mut().zip(&probs) {
                    *b -= step * g * 0.1;
                }
            }
            if options.average && epoch * 2 >= options.epochs {
                for (a, w) in averaged.0.iter_mut().zip(&model.weights) {
                    *a += w;
                }
                for (a, b) in averaged.1.iter_mut().zip(&model.bias) {
                    *a += b;
                }
                averaged.2 += 1;
            }
        }
        if averaged.2 > 0 {
            let n = averaged.2 as f32;
            model.weights = averaged.0.into_iter().map(|w| w / n).collect();
            model.bias = averaged.1.into_iter().map(|b| b / n).collect();
        }
        model
    }

    /// The TF-IDF vector of a text's features (unknown features ignored).
    fn vectorise(&self, features: &[String]) -> Sparse {
        let mut counts: HashMap<u32, f32> = HashMap::new();
        for f in features {
            if let Some(&i) = self.index.get(f) {
                *counts.entry(i).or_default() += 1.0;
            }
        }
        let mut v: Sparse = counts
            .into_iter()
            .map(|(i, tf)| (i, (1.0 + tf.ln()) * self.idf[i as usize]))
            .collect();
        v.sort_unstable_by_key(|(i, _)| *i);
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, x) in &mut v {
                *x /= norm;
            }
        }
        v
    }

    fn probabilities_into(&self, x: &Sparse, out: &mut [f32]) {
        let classes = self.labels.len();
        out.copy_from_slice(&self.bias);
        for &(f, v) in x {
            let row = &self.weights[f as usize * classes..(f as usize + 1) * classes];
            for (o, w) in out.iter_mut().zip(row) {
                *o += w * v;
            }
        }
        let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for o in out.iter_mut() {
            *o = (*o - max).exp();
            sum += *o;
        }
        for o in out.iter_mut() {
            *o /= sum;
        }
    }

    /// The `k` most likely labels for `text`, most likely first.
    pub fn top(&self, text: &str, k: usize) -> Vec<Candidate> {
        if self.labels.is_empty() {
            return Vec::new();
        }
        self.top_featurised(&features(text), k)
    }

    fn top_featurised(&self, features: &[String], k: usize) -> Vec<Candidate> {
        if self.labels.is_empty() {
            return Vec::new();
        }
        let x = self.vectorise(features);
        let mut probs = vec![0.0; self.labels.len()];
        self.probabilities_into(&x, &mut probs);
        let mut ranked: Vec<(usize, f32)> = probs.into_iter().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(k)
            .map(|(i, p)| Candidate {
                label: self.labels[i].clone(),
                confidence: p,
            })
            .collect()
    }

    /// The labels the model knows.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Features in the vocabulary.
    pub fn vocabulary_size(&self) -> usize {
        self.idf.len()
    }

    /// How the step size was chosen.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }
}

/// Chooses the step among [`STEP_CANDIDATES`] by [`FOLDS`]-fold cross-validation: each
/// entry's examples are dealt round-robin to the folds, every candidate is trained on all
/// folds but one and scored by its accuracy on the one left out, and the most accurate
/// candidate wins (the smaller step on a tie). The fits run on the machine's cores.
fn select_step(featurised: &[&[String]], labels: &[&str], options: TrainOptions) -> Selection {
    let mut dealt: HashMap<&str, usize> = HashMap::new();
    let fold_of: Vec<usize> = labels
        .iter()
        .map(|l| {
            let n = dealt.entry(l).or_default();
            *n += 1;
            (*n - 1) % FOLDS
        })
        .collect();
    let jobs: Vec<(usize, usize)> = (0..STEP_CANDIDATES.len())
        .flat_map(|c| (0..FOLDS).map(move |f| (c, f)))
        .collect();
    let correct: Vec<std::sync::atomic::AtomicUsize> = (0..STEP_CANDIDATES.len())
        .map(|_| std::sync::atomic::AtomicUsize::new(0))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 4);
    let run = |(candidate, fold): (usize, usize)| {
        let (mut train_x, mut train_y) = (Vec::new(), Vec::new());
        for ((x, y), f) in featurised.iter().zip(labels).zip(&fold_of) {
            if *f != fold {
                train_x.push(*x);
                train_y.push(*y);
            }
        }
        let model = Matcher::fit(
            &train_x,
            &train_y,
            TrainOptions {
                learning_rate: STEP_CANDIDATES[candidate],
                ..options
            },
        );
        let hits = featurised
            .iter()
            .zip(labels)
            .zip(&fold_of)
            .filter(|((x, y), f)| {
                **f == fold
                    && model
                        .top_featurised(x, 1)
                        .first()
                        .is_some_and(|c| c.label == **y)
            })
            .count();
        correct[candidate].fetch_add(hits, std::sync::atomic::Ordering::Relaxed);
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&job) = jobs.get(i) else { break };
                run(job);
            });
        }
    });
    let total = featurised.len().max(1) as f64;
    let cross_validated: Vec<(f32, f64)> = STEP_CANDIDATES
        .iter()
        .zip(&correct)
        .map(|(step, hits)| {
            let accuracy = hits.load(std::sync::atomic::Ordering::Relaxed) as f64 / total;
            (*step, (accuracy * 10_000.0).round() / 10_000.0)
        })
        .collect();
    let mut best = cross_validated[0];
    for candidate in &cross_validated[1..] {
        if candidate.1 > best.1 {
            best = *candidate;
        }
    }
    Selection {
        learning_rate: best.0,
        cross_validated,
    }
}

/// What a matcher decides for a text at a confidence threshold: a label, or out of scope.
pub fn decide(top: &[Candidate], threshold: f32) -> Option<&Candidate> {
    top.first()
        .filter(|c| c.label != OUT_OF_SCOPE && c.confidence >= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> Vec<(String, String)> {
        [
            ("how do I get a refund", "refund"),
            ("I want my money back", "refund"),
            ("refund my order please", "refund"),
            ("我想退款", "refund"),
            ("怎么申请退款", "refund"),
            ("where is my parcel", "logistics"),
            ("when will my package arrive", "logistics"),
            ("track my delivery", "logistics"),
            ("快递到哪了", "logistics"),
            ("我的包裹什么时候到", "logistics"),
            ("I need an invoice", "invoice"),
            ("can you send me a receipt", "invoice"),
            ("我要开发票", "invoice"),
            ("发票怎么开", "invoice"),
            ("what's the weather tomorrow", OUT_OF_SCOPE),
            ("tell me a joke", OUT_OF_SCOPE),
        ]
        .iter()
        .map(|(t, l)| ((*t).to_owned(), (*l).to_owned()))
        .collect()
    }

    #[test]
    fn questions_match_their_entry_in_both_languages() {
        let m = Matcher::train(&examples(), TrainOptions::default());
        for (text, want) in [
            ("how can I get refunded", "refund"),
            ("退款流程是什么", "refund"),
            ("where's my package", "logistics"),
            ("我的快递怎么还没到", "logistics"),
            ("please send an invoice", "invoice"),
        ] {
            let top = m.top(text, 3);
            assert_eq!(top[0].label, want, "{text}: {top:?}");
            assert!(top[0].confidence > top[1].confidence);
        }
    }

    #[test]
    fn training_is_deterministic_and_probabilities_sum_to_one() {
        let a = Matcher::train(&examples(), TrainOptions::default());
        let b = Matcher::train(&examples(), TrainOptions::default());
        assert_eq!(a.top("refund please", 4), b.top("refund please", 4));
        let all = a.top("refund please", a.labels().len());
        let sum: f32 = all.iter().map(|c| c.confidence).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    }

    /// 30 entries of 25 variants each: an entry's own word among shared filler words, with
    /// one label in ten swapped for another entry's (noise).
    fn many_examples() -> Vec<(String, String)> {
        use rand::Rng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let filler: Vec<String> = (0..60).map(|i| format!("filler{i}")).collect();
        let mut out = Vec::new();
        for class in 0..30 {
            for _ in 0..25 {
                let mut words = vec![format!("topic{class}")];
                for _ in 0..3 {
                    words.push(filler[rng.gen_range(0..filler.len())].clone());
                }
                words.shuffle(&mut rng);
                let label = if rng.gen_range(0..10) == 0 {
                    rng.gen_range(0..30)
                } else {
                    class
                };
                out.push((words.join(" "), format!("entry{label}")));
            }
        }
        out
    }

    #[test]
    fn cross_validation_scores_every_step_and_keeps_the_most_accurate() {
        let examples = many_examples();
        assert!(examples.len() >= MIN_EXAMPLES_TO_SELECT);
        let m = Matcher::train(&examples, TrainOptions::default());
        let selection = m.selection();
        assert_eq!(
            selection
                .cross_validated
                .iter()
                .map(|c| c.0)
                .collect::<Vec<_>>(),
            STEP_CANDIDATES.to_vec()
        );
        let best = selection
            .cross_validated
            .iter()
            .map(|c| c.1)
            .fold(f64::NEG_INFINITY, f64::max);
        let first_best = selection
            .cross_validated
            .iter()
            .find(|c| c.1 == best)
            .map(|c| c.0);
        assert_eq!(Some(selection.learning_rate), first_best, "{selection:?}");
        // The noise caps held-out accuracy; the entry words make it far better than chance.
        assert!(best > 0.5 && best < 1.0, "{selection:?}");
        // Deterministic, whatever order the folds ran in.
        let again = Matcher::train(&examples, TrainOptions::default());
        assert_eq!(again.selection(), selection);
        assert_eq!(again.top("topic3 filler1", 2), m.top("topic3 filler1", 2));
        assert_eq!(m.top("topic3 filler1", 1)[0].label, "entry3");
    }

    #[test]
    fn small_knowledge_bases_and_a_fixed_step_skip_cross_validation() {
        let small = Matcher::train(&examples(), TrainOptions::default());
        assert!(small.selection().cross_validated.is_empty());
        assert_eq!(small.selection().learning_rate, 1.0);
        let fixed = Matcher::train(
            &many_examples(),
            TrainOptions {
                learning_rate: 3.0,
                select_step: false,
                ..TrainOptions::default()
            },
        );
        assert!(fixed.selection().cross_validated.is_empty());
        assert_eq!(fixed.selection().learning_rate, 3.0);
    }

    #[test]
    fn low_confidence_and_the_out_of_scope_class_are_not_answers() {
        let m = Matcher::train(&examples(), TrainOptions::default());
        assert!(decide(&m.top("tell me a joke please", 3), 0.0).is_none());
        let top = m.top("refund", 3);
        assert!(decide(&top, 0.0).is_some());
        assert!(decide(&top, 1.01).is_none());
        assert!(decide(&[], 0.0).is_none());
    }
}
