#!/usr/bin/env python3
"""Converts the shared evaluation data sets into `switchboard kb-eval` files.

Writes JSON lines `{"text": ..., "intent": ...}` (intent `oos` = out of scope) into OUT
(default target/kb-data/, never the repository):

- clinc150_train.jsonl  CLINC150 `train` (15,000) + `oos_train` (100)
- clinc150_dev.jsonl    CLINC150 `val` (3,000) + `oos_val` (100): tune and measure
- cic_train.jsonl       CIC `train.json` (10,000)
- cic_dev.jsonl         CIC `dev.json` (2,000)

Usage: scripts/kb_data.py [--data ../shared/data] [--out target/kb-data]
"""
import argparse
import json
import pathlib


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for text, intent in rows:
            f.write(json.dumps({"text": text, "intent": intent}, ensure_ascii=False) + "\n")
    print(f"{path}: {len(rows)} lines")


def main():
    here = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(here.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(here / "target" / "kb-data"))
    args = parser.parse_args()
    data, out = pathlib.Path(args.data), pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    clinc = json.loads((data / "clinc150" / "train_val.json").read_text(encoding="utf-8"))
    write(out / "clinc150_train.jsonl", [tuple(r) for r in clinc["train"] + clinc["oos_train"]])
    write(out / "clinc150_dev.jsonl", [tuple(r) for r in clinc["val"] + clinc["oos_val"]])

    for part, name in (("train", "cic_train"), ("dev", "cic_dev")):
        rows = []
        with open(data / "cic" / f"{part}.json", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    rows.append((row["sentence"], row["label_des"]))
        write(out / f"{name}.jsonl", rows)


if __name__ == "__main__":
    main()
