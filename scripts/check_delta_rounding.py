"""How much the rounding of the shipped layer deltas can move the output.

``encoder_top.safetensors`` stores each fine-tuned matrix as its change from
the base in 4 bits with one scale per 32 weights (Q4_0; int8 with one scale
per row in older files), so each weight is off by at most half a step. The layers as trained (float32) stay where they were
trained; what can be measured anywhere is the effect of one more rounding
error of the same size: add it to every matrix of the loaded layers and
compare embeddings and labels with the layers as loaded.

    python scripts/check_delta_rounding.py [--models DIR] [--per-dataset 150]

Texts: the sample dump plus test rows of ArmanEmo, ArSAS and SnappFood.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file

import cxtext
from cxtext.datasets import load
from cxtext.encoder.deltas import DELTA_Q4, DELTA_SCALE
from cxtext.finetune import ENCODER_TOP
from cxtext.pipeline import embed_texts
from cxtext.settings import default_models_dir


def steps(stored: dict) -> dict[str, torch.Tensor]:
    """The rounding step of every stored weight, by matrix name."""
    out = {}
    for key, v in stored.items():
        if key.endswith(DELTA_Q4):  # Q4_0 blocks: a float16 scale in the first 2 of every 18 bytes
            d = torch.from_numpy(v.numpy().reshape(v.shape[0], -1, 18)[:, :, :2].copy().view(np.float16)[..., 0])
            out[key[: -len(DELTA_Q4)]] = d.float().abs().repeat_interleave(32, dim=1)
        elif key.endswith(DELTA_SCALE):
            out[key[: -len(DELTA_SCALE)]] = v.float()[:, None]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=str(default_models_dir()))
    ap.add_argument("--per-dataset", type=int, default=150)
    args = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    texts = pd.read_csv(root / "examples" / "feedback_sample.csv")["text"].dropna().astype(str).tolist()
    for name in ("fa_armanemo", "ar_arsas", "fa_snappfood"):
        df = load(name)
        texts += df[df["split"] == "test"]["text"].head(args.per_dataset).tolist()
    analyzer = cxtext.load(models=args.models)
    before, e0 = list(analyzer.pipe(texts)), embed_texts(analyzer.encoder, texts)
    gen = torch.Generator().manual_seed(0)
    weights = analyzer.encoder.model.state_dict()
    with torch.no_grad():
        for name, step in steps(load_file(str(Path(args.models) / ENCODER_TOP))).items():
            w = weights[name]
            w.add_((torch.rand(w.shape, generator=gen) - 0.5) * step)
    after, e1 = list(analyzer.pipe(texts)), embed_texts(analyzer.encoder, texts)
    cos = (e0 * e1).sum(1) / np.linalg.norm(e0, axis=1) / np.linalg.norm(e1, axis=1)
    same_s = np.mean([a.sentiment.label == b.sentiment.label for a, b in zip(before, after)])
    same_e = np.mean([a.emotion.label == b.emotion.label for a, b in zip(before, after)])
    dp = max(abs(a.sentiment.score - b.sentiment.score) for a, b in zip(before, after))
    print(f"{len(texts)} texts: min cosine {cos.min():.6f}, same sentiment {same_s:.4f}, "
          f"same emotion {same_e:.4f}, max |Δp| sentiment {dp:.4f}")


if __name__ == "__main__":
    main()
