"""Full sequence-classification models plugged in per (language, task)
through the registry (a ParsBERT or CAMeLBERT sentiment model, say).

Loaded with safetensors only and without remote code; labels are checked
against the spec's ``label_map`` at load time. Long texts are split into
token windows and the window probabilities averaged (weighted by length):
nothing is truncated.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .encoder.base import check_safetensors
from .errors import ModelNotFoundError
from .registry import ModelSpec


class SequenceClassifier:
    def __init__(self, spec: ModelSpec, device: str = "cpu"):
        import torch
        from pathlib import Path
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if Path(spec.source).exists():
            check_safetensors(spec.source)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(spec.source, revision=spec.revision, trust_remote_code=False)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                spec.source, revision=spec.revision, use_safetensors=True, trust_remote_code=False)
        except OSError as exc:
            raise ModelNotFoundError(f"could not load plugged model {spec.source!r} for {spec.lang}/{spec.task}: {exc}") from exc
        spec.check_id2label(self.model.config.id2label)
        self.spec = spec
        self.device = torch.device(device)
        self.model.to(self.device).eval()
        self.id2label = {int(k): v for k, v in self.model.config.id2label.items()}

    def predict(self, texts: Sequence[str], labels: Sequence[str], batch_size: int = 16) -> np.ndarray:
        import torch

        tok = self.tokenizer
        budget = min(self.spec.max_length, tok.model_max_length or self.spec.max_length) - 2
        enc = tok(list(texts), add_special_tokens=False)["input_ids"]
        windows, owner, weight = [], [], []
        for i, ids in enumerate(enc):
            chunks = [ids[a:a + budget] for a in range(0, max(len(ids), 1), budget)] or [[]]
            for c in chunks:
                windows.append(tok.build_inputs_with_special_tokens(c))
                owner.append(i)
                weight.append(max(len(c), 1))
        col = {j: labels.index(self.spec.label_map[name]) for j, name in self.id2label.items()}
        out = np.zeros((len(texts), len(labels)), dtype=np.float64)
        wsum = np.zeros(len(texts))
        order = sorted(range(len(windows)), key=lambda k: len(windows[k]))
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            batch = tok.pad({"input_ids": [windows[k] for k in idx]}, return_tensors="pt")
            with torch.inference_mode():
                logits = self.model(**{k: v.to(self.device) for k, v in batch.items()}).logits
            probs = torch.softmax(logits.float(), -1).cpu().numpy()
            for r, k in enumerate(idx):
                row = np.zeros(len(labels))
                for j, c in col.items():
                    row[c] += probs[r, j]
                out[owner[k]] += weight[k] * row
                wsum[owner[k]] += weight[k]
        return (out / np.maximum(wsum, 1e-9)[:, None]).astype(np.float32)
