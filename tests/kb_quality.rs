//! Matching quality on the shared evaluation data (CLINC150, CIC), with floors slightly below
//! the figures measured when the matcher changed, so a regression fails. The data is read
//! from `$SWITCHBOARD_EVAL_DATA`, else `../shared/data` next to the repository; it is never
//! copied into the repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;
use switchboard::bot::kb::eval::{evaluate, measure, train, tune, Example};
use switchboard::bot::kb::matcher::{TrainOptions, OUT_OF_SCOPE};

fn data_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SWITCHBOARD_EVAL_DATA").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("clinc150").is_dir())
}

fn clinc(dir: &std::path::Path) -> (Vec<Example>, Vec<Example>) {
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("clinc150/train_val.json")).unwrap(),
    )
    .unwrap();
    let read = |keys: &[&str]| -> Vec<Example> {
        keys.iter()
            .flat_map(|k| data[*k].as_array().unwrap().clone())
            .map(|pair| Example {
                text: pair[0].as_str().unwrap().to_owned(),
                intent: pair[1].as_str().unwrap().to_owned(),
            })
            .collect()
    };
    (read(&["train", "oos_train"]), read(&["val", "oos_val"]))
}

fn cic(dir: &std::path::Path, part: &str) -> Vec<Example> {
    std::fs::read_to_string(dir.join(format!("cic/{part}.json")))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let row: Value = serde_json::from_str(l).unwrap();
            Example {
                text: row["sentence"].as_str().unwrap().to_owned(),
                intent: row["label_des"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

#[test]
fn clinc150_and_cic_stay_at_their_measured_quality() {
    let Some(dir) = data_dir() else {
        eprintln!("SKIPPED: no evaluation data (set SWITCHBOARD_EVAL_DATA to shared/data)");
        return;
    };
    let (train_set, val) = clinc(&dir);
    assert!(train_set.iter().any(|e| e.intent == OUT_OF_SCOPE));
    let (matcher, train_s) = train(&train_set, TrainOptions::default());
    // Clean variants, many per entry: cross-validation picks a step that fits them closely.
    let selection = matcher.selection();
    assert_eq!(selection.cross_validated.len(), 5, "{selection:?}");
    assert!(selection.learning_rate > 1.0, "{selection:?}");
    // Untuned (threshold 0): how often the best entry is the right one.
    let raw = measure(&matcher, &val, 0.0, train_s, train_set.len());
    assert!(raw.in_scope_accuracy >= 0.90, "{raw:?}");
    // Tuned on val + oos_val: out-of-scope questions are refused.
    let tuned = measure(
        &matcher,
        &val,
        tune(&matcher, &val),
        train_s,
        train_set.len(),
    );
    assert!(tuned.oos_recall.unwrap() >= 0.85, "{tuned:?}");
    assert!(tuned.in_scope_accuracy >= 0.875, "{tuned:?}");

    let report = evaluate(
        &cic(&dir, "train"),
        &cic(&dir, "dev"),
        None,
        TrainOptions::default(),
    );
    // Noisy labels: cross-validation keeps the step small (early stopping).
    assert!(report.learning_rate <= 1.0, "{report:?}");
    assert!(report.macro_f1 >= 0.50, "{report:?}");
}
