"""Write review texts that state no effort or loyalty, as labelled "none"
messages, into a folder for ``cxtext train --signals --messages``: the
negatives of the effort/loyalty head experiment in the model card.

    python scripts/review_negatives.py OUT_DIR [--per-lang 150] [--data-dir ../shared/datasets]

Takes the aspect and CSAT sources' train/dev texts (hotels, food, Digikala,
Amazon-EG; never a test split) in a fixed shuffled order and keeps, per
language, the first ones in which no effort, loyalty or churn phrase of the
shipped taxonomy matches. Pair it with the labelled messages, e.g.
``cp models/signal_train/*.jsonl OUT_DIR/``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cxtext.pipeline import HEAD_SILENCING_SIGNALS, detect_and_normalize, find_signals  # noqa: E402
from cxtext.signal_heads import signal_corpus  # noqa: E402
from cxtext.taxonomy import load_taxonomy  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--per-lang", type=int, default=150)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    tax = load_taxonomy(ROOT / "models" / "taxonomy.json")
    df, _ = signal_corpus(args.data_dir)
    kept: dict[str, list] = {"fa": [], "ar": []}
    for text, lang in zip(*df.sample(frac=1, random_state=0)[["text", "lang"]].T.values):
        lang, _conf, norm = detect_and_normalize(text, lang)
        if lang not in kept or len(kept[lang]) >= args.per_lang:
            continue
        if any(k in HEAD_SILENCING_SIGNALS for k, _a, _b in find_signals(tax, norm.text, lang)):
            continue
        kept[lang].append({"lang": lang, "text": text, "effort": "none", "loyalty": "none"})
        if all(len(v) >= args.per_lang for v in kept.values()):
            break
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "review_negatives.jsonl", "w", encoding="utf-8") as f:
        for rows in kept.values():
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    print({k: len(v) for k, v in kept.items()}, "->", out / "review_negatives.jsonl")


if __name__ == "__main__":
    main()
