"""Persian-vs-Arabic accuracy of ``cxtext.lang`` on every text of the shared datasets.

Every text of every dataset (all splits) is detected; a text counts as right
when the guess equals the dataset's language. "en" and "und" guesses on a
fa/ar text count as wrong and are also reported on their own: many of them
are English-only reviews or emoji/number-only rows, which the datasets keep
under their language. Nothing is relabelled.

Usage::

    .venv/bin/python scripts/eval_langid.py [--data-dir DIR] [--json OUT] [--errors N] [--seed S]

Exit status: 0 when overall accuracy >= --min-accuracy (default 0.995), else 1.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cxtext.datasets import iter_texts  # noqa: E402
from cxtext.lang import detect_languages  # noqa: E402


def evaluate(data_dir: str | None = None) -> tuple[dict, list[tuple[str, str, str, float, str]], dict]:
    """Detect every dataset text. Returns (per-dataset counts, errors, speed figures).

    Speed is texts per second of CPU time (``time.process_time``), so a busy
    machine does not skew it: a first pass (the word memo starts empty) and a
    second one.
    """
    names, langs, texts = [], [], []
    for name, lang, text in iter_texts(data_dir):
        names.append(name)
        langs.append(lang)
        texts.append(text)
    start = time.process_time()
    guesses = detect_languages(texts)
    first = len(texts) / (time.process_time() - start)
    start = time.process_time()
    detect_languages(texts)
    second = len(texts) / (time.process_time() - start)
    speed = {"texts_per_cpu_second_first_pass": first, "texts_per_cpu_second_second_pass": second,
             "mean_chars": sum(map(len, texts)) / max(1, len(texts))}

    per: dict[str, dict] = defaultdict(lambda: {"lang": None, "n": 0, "correct": 0, "other": 0,
                                                "en": 0, "und": 0})
    errors = []
    for name, lang, text, guess in zip(names, langs, texts, guesses):
        row = per[name]
        row["lang"] = lang
        row["n"] += 1
        if guess.lang == lang:
            row["correct"] += 1
            continue
        if guess.lang in ("en", "und"):
            row[guess.lang] += 1
        else:
            row["other"] += 1  # fa <-> ar confusion
        errors.append((name, lang, guess.lang, guess.confidence, text))
    for row in per.values():
        row["accuracy"] = row["correct"] / row["n"]
    return dict(sorted(per.items())), errors, speed


def _totals(rows) -> dict:
    total = {"n": 0, "correct": 0, "other": 0, "en": 0, "und": 0}
    for row in rows:
        for key in total:
            total[key] += row[key]
    total["accuracy"] = total["correct"] / total["n"] if total["n"] else 0.0
    total["accuracy_excluding_en_und"] = (total["correct"] / (total["n"] - total["en"] - total["und"])
                                          if total["n"] > total["en"] + total["und"] else 0.0)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="folder holding the dataset folders (default: ../shared/datasets)")
    parser.add_argument("--json", metavar="OUT", help="write the figures (and the error sample) as JSON")
    parser.add_argument("--errors", type=int, default=40, help="how many errors to print (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the error sample")
    parser.add_argument("--min-accuracy", type=float, default=0.995)
    args = parser.parse_args(argv)

    per, errors, speed = evaluate(args.data_dir)
    header = f"{'dataset':30s} {'lang':4s} {'n':>7s} {'accuracy':>9s} {'fa<->ar':>8s} {'en':>5s} {'und':>5s}"
    print(header)
    print("-" * len(header))
    for name, row in per.items():
        print(f"{name:30s} {row['lang']:4s} {row['n']:7d} {row['accuracy']:9.4f} {row['other']:8d} "
              f"{row['en']:5d} {row['und']:5d}")
    print("-" * len(header))
    overall = {lang: _totals([r for r in per.values() if r["lang"] == lang]) for lang in ("fa", "ar")}
    overall["all"] = _totals(per.values())
    for key, row in overall.items():
        print(f"{'overall ' + key:30s} {'':4s} {row['n']:7d} {row['accuracy']:9.4f} {row['other']:8d} "
              f"{row['en']:5d} {row['und']:5d}")
    print(f"\nfa-vs-ar accuracy not counting en/und guesses: {overall['all']['accuracy_excluding_en_und']:.4f}")
    print(f"speed: {speed['texts_per_cpu_second_first_pass']:,.0f} texts per CPU second on one core "
          f"(first pass, empty word memo), {speed['texts_per_cpu_second_second_pass']:,.0f} (second pass); "
          f"{overall['all']['n']:,} texts of {speed['mean_chars']:.0f} characters on average")

    sample = random.Random(args.seed).sample(errors, min(args.errors, len(errors)))
    if sample:
        print(f"\nsample of {len(sample)} errors (dataset, true, guess, confidence, text):")
    for name, lang, guess, confidence, text in sample:
        print(f"  {name:28s} {lang}->{guess:3s} {confidence:.2f}  {text[:140]!r}")

    if args.json:
        payload = {"datasets": per, "overall": overall, "speed": speed,
                   "errors_sample": [dict(zip(("dataset", "lang", "guess", "confidence", "text"), e))
                                     for e in sample]}
        Path(args.json).write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if overall["all"]["accuracy"] >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
