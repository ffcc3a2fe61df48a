//! Knowledge-base matching speed (goals of issue 7: training on 15k examples in under a
//! minute on 2 cores, a query in under 5 ms).
//!
//! The data is CLINC150's training set (15,100 examples with out-of-scope) when
//! `$SWITCHBOARD_EVAL_DATA` or `../shared/data` has it, else a synthetic set of the same size
//! (150 entries × 100 generated variants, half Chinese). Reported as ratios against baselines
//! measured in the same run:
//! - a query ÷ extracting the same query's features (the part every matcher pays);
//! - training ÷ extracting every training example's features once.
//!
//! Run: `cargo bench --bench kb`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use switchboard::bot::kb::features::features;
use switchboard::bot::kb::matcher::{Matcher, TrainOptions};

fn examples() -> (Vec<(String, String)>, &'static str) {
    let dirs = [
        std::env::var_os("SWITCHBOARD_EVAL_DATA").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data")),
    ];
    if let Some(dir) = dirs
        .into_iter()
        .flatten()
        .find(|d| d.join("clinc150").is_dir())
    {
        let data: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("clinc150/train_val.json")).unwrap(),
        )
        .unwrap();
        let rows = ["train", "oos_train"]
            .iter()
            .flat_map(|k| data[*k].as_array().unwrap().clone())
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        return (rows, "clinc150");
    }
    let zh = [
        "怎么", "申请", "查询", "修改", "取消", "退回", "开具", "绑定",
    ];
    let en = [
        "how do i",
        "can you",
        "please",
        "i want to",
        "help me",
        "where can i",
    ];
    let rows = (0..150)
        .flat_map(|entry| {
            (0..100).map(move |v| {
                let text = if v % 2 == 0 {
                    format!("{}{}号业务{}", zh[v % zh.len()], entry, v)
                } else {
                    format!("{} handle topic {entry} case {v}", en[v % en.len()])
                };
                (text, format!("entry-{entry}"))
            })
        })
        .collect();
    (rows, "synthetic")
}

fn bench(c: &mut Criterion) {
    let (rows, source) = examples();
    let started = Instant::now();
    for (text, _) in &rows {
        black_box(features(text));
    }
    let featurise_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let matcher = Matcher::train(&rows, TrainOptions::default());
    let train_s = started.elapsed().as_secs_f64();
    println!(
        "kb ({source}, {} examples): training {train_s:.2} s (goal < 60 s) = {:.1} × extracting their features once ({featurise_s:.3} s)",
        rows.len(),
        train_s / featurise_s
    );

    let queries = [
        "how long does it take to get my refund back",
        "我的快递到哪里了，三天了还没到",
        "can you tell me the weather in paris tomorrow",
    ];
    let mut query_us = Vec::new();
    let mut feature_us = Vec::new();
    for _ in 0..300 {
        for q in queries {
            let at = Instant::now();
            black_box(features(q));
            feature_us.push(at.elapsed().as_secs_f64() * 1e6);
            let at = Instant::now();
            black_box(matcher.top(q, 3));
            query_us.push(at.elapsed().as_secs_f64() * 1e6);
        }
    }
    query_us.sort_by(f64::total_cmp);
    feature_us.sort_by(f64::total_cmp);
    let p = |v: &[f64], q: f64| v[((v.len() - 1) as f64 * q) as usize];
    println!(
        "kb query: p50 {:.0} µs, p99 {:.0} µs (goal < 5 ms); features alone p50 {:.0} µs: ratio {:.1}",
        p(&query_us, 0.5),
        p(&query_us, 0.99),
        p(&feature_us, 0.5),
        p(&query_us, 0.5) / p(&feature_us, 0.5)
    );

    // A whole bot turn on the demo knowledge base (keywords, matcher, flow triggers,
    // rendering, state), against the bare matcher query on the same bot's matcher size.
    let bot = switchboard::bot::KbBot::demo().expect("demo knowledge base");
    let empty = serde_json::json!({});
    let turns = [
        "退款一般多久能到账？",
        "my parcel hasn't moved for days",
        "查一下订单 SB20261125004",
        "what's the weather like in Paris",
    ];
    let mut turn_us = Vec::new();
    for _ in 0..200 {
        for text in turns {
            let turn = switchboard::bot::BotTurn {
                text,
                language: switchboard::domain::Language::detect(text),
                tier: switchboard::domain::Tier::Standard,
                channel: switchboard::domain::Channel::Web,
                state: &empty,
            };
            let at = Instant::now();
            black_box(switchboard::bot::Bot::respond(&bot, &turn));
            turn_us.push(at.elapsed().as_secs_f64() * 1e6);
        }
    }
    turn_us.sort_by(f64::total_cmp);
    println!(
        "bot turn (demo knowledge base and flows): p50 {:.0} µs, p99 {:.0} µs (goal < 5 ms) = {:.1} × a CLINC-size matcher query",
        p(&turn_us, 0.5),
        p(&turn_us, 0.99),
        p(&turn_us, 0.5) / p(&query_us, 0.5)
    );

    c.bench_function("kb_query_top3", |b| {
        b.iter(|| black_box(matcher.top(black_box(queries[1]), 3)))
    });
    c.bench_function("kb_features", |b| {
        b.iter(|| black_box(features(black_box(queries[1]))))
    });
}

criterion_group! {
    name = kb;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(kb);
