"""Throughput of the full cxtext pipeline on short reviews against a naive
loop: one text at a time through a ``transformers`` feature-extraction
pipeline on the same encoder (what most users write first). Both measured
in this run, on this machine.

    python scripts/bench_pipeline.py [--n 512] [--batch-size 64] [--models DIR]

The last line is ``speedup: N.NN× (pipeline A reviews/s vs naive B reviews/s)``.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def short_reviews(n: int, max_chars: int = 60) -> list[str]:
    """Short reviews from the sample dump (≤ 60 characters: about 15 tokens, the
    length the speed target is stated for), repeated to ``n``."""
    with open(ROOT / "examples" / "feedback_sample.csv", encoding="utf-8") as fh:
        texts = [r["text"].strip() for r in csv.DictReader(fh)]
    pool = [t for t in texts if 8 <= len(t) <= max_chars and "\n" not in t]
    if not pool:
        sys.exit("no short reviews in examples/feedback_sample.csv")
    # vary each copy a little so nothing can be cached by text
    return [f"{pool[i % len(pool)]} {'!' * (i // len(pool) % 3)}".strip() for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=512, help="reviews per measurement")
    ap.add_argument("--naive-n", type=int, default=128, help="reviews for the (slow) naive loop")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--models", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import torch
    from transformers import pipeline

    import cxtext

    analyzer = cxtext.load(models=args.models)
    texts = short_reviews(args.n)
    tok_counts = [len(t.ids) for t in analyzer.encoder.tokenize(texts[:200])]
    print(f"encoder: {analyzer.encoder.name}; threads: {torch.get_num_threads()}; "
          f"{len(texts)} short reviews, median {statistics.median(tok_counts):.0f} tokens")

    list(analyzer.pipe(texts[:64], batch_size=args.batch_size))  # warm-up
    ours = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        out = list(analyzer.pipe(texts, batch_size=args.batch_size))
        ours.append(len(out) / (time.perf_counter() - t0))
    a = max(ours)

    fe = pipeline("feature-extraction", model=analyzer.encoder.model, tokenizer=analyzer.encoder.tokenizer,
                  framework="pt", device=-1)
    naive_texts = ["query: " + t for t in texts[: args.naive_n]]
    fe(naive_texts[0])
    naive = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for t in naive_texts:
            fe(t)
        naive.append(len(naive_texts) / (time.perf_counter() - t0))
    b = max(naive)
    print(f"pipeline (lang+normalize+encoder+heads+aspects+CX), batch {args.batch_size}: "
          + ", ".join(f"{x:.1f}" for x in ours) + " reviews/s")
    print("naive transformers pipeline, one at a time: " + ", ".join(f"{x:.1f}" for x in naive) + " reviews/s")
    print(f"speedup: {a / b:.2f}× (pipeline {a:.1f} reviews/s vs naive {b:.1f} reviews/s)")


if __name__ == "__main__":
    main()
