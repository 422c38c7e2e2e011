"""Fitting heads that read token states (``heads.token_head``): the effort
head, whose signal a short phrase states anywhere in a message («سه بار زنگ
زدم», «خلصت كل شي بدقيقتين») and which the mean-pooled embedding blurs with
the message's topic and tone. (A loyalty head of this kind was tried and not
kept: model card.)

Training reads each text's content-token states from the same encoder pass
and normalization as the analyzer (``pipeline.normalized_texts``), the
first ``TRAIN_TOKENS`` of them (the trainer's cut); the analyzer reads all.
States are cached per chunk of texts beside the embedding cache (``.npz``,
no pickle), so a refit embeds nothing twice."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .heads import HeadSpec, pad_states, token_head

# 128 three-token detectors over the tokens (chosen writer by writer held out: model card)
TOKEN_TASKS = ("effort",)
TOKEN_SPEC = {"filters": 128, "width": 3}
# how sure such a head must be of a stated label (high/low, promoter/detractor) for the analyzer to report it
# where no phrase speaks (``cx.derive``); heads on the pooled embedding alone keep cx.HEAD_SIGNAL_MIN (0.8)
TOKEN_HEAD_BAR = 0.7
TRAIN_TOKENS = 128


def token_states(encoder, texts: Sequence[str], langs: Optional[Sequence[Optional[str]]], cache_dir: Path,
                 chunk: int = 512, max_tokens: int = TRAIN_TOKENS,
                 on_progress: Optional[Callable[[int, int], None]] = None) -> list[np.ndarray]:
    """Each text's first ``max_tokens`` content-token states (n_i, dim),
    float32, as the analyzer's encoder pass gives them; chunks cached under
    ``cache_dir`` (resume after a kill)."""
    from .pipeline import normalized_texts
    from .train import _hash_texts

    cache_dir.mkdir(parents=True, exist_ok=True)
    out: list[np.ndarray] = []
    for start in range(0, len(texts), chunk):
        sub = list(texts[start:start + chunk])
        f = cache_dir / f"tokens{max_tokens}-{_hash_texts(sub)}-{len(sub)}.npz"
        if not f.exists():
            sub_langs = list(langs[start:start + chunk]) if langs is not None else None
            enc = encoder.encode(encoder.tokenize(normalized_texts(sub, sub_langs)))
            kept = [e.token_states[:max_tokens].astype(np.float32) for e in enc]
            tmp = f.with_name(f.name + ".tmp.npz")
            np.savez(tmp, lens=np.array([len(k) for k in kept], dtype=np.int64),
                     states=np.concatenate(kept) if kept else np.zeros((0, encoder.hidden_size), np.float32))
            tmp.replace(f)
        with np.load(f, allow_pickle=False) as z:
            lens, states = z["lens"], z["states"]
        cuts = np.concatenate([[0], np.cumsum(lens)])
        out.extend(states[a:b] for a, b in zip(cuts[:-1], cuts[1:]))
        if on_progress:
            on_progress(min(start + chunk, len(texts)), len(texts))
    return out


def fit_token_head(task: str, labels: Sequence[str], X: np.ndarray, states: Sequence[np.ndarray],
                   y: np.ndarray, dev: np.ndarray, cfg) -> tuple[Any, HeadSpec, dict[str, Any]]:
    """A softmax ``token_head`` for ``task`` over ``labels``, fitted as
    ``train.fit_heads`` fits its softmax heads (same seed per task, optimizer,
    schedule, class weights, best dev epoch, temperature), on the embeddings
    ``X`` and token ``states`` of the rows where ``y`` >= 0."""
    import zlib

    import torch
    from torch import nn

    from .train import _fit_softmax

    spec = HeadSpec(list(labels), tokens=dict(TOKEN_SPEC))
    seed = cfg.seed + zlib.crc32(task.encode())
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = token_head(X.shape[1], spec, cfg.hidden, cfg.dropout)
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    dim = X.shape[1]

    class ByRow(nn.Module):
        """The head over row indices (what ``_train_head`` feeds), padding each batch's states."""

        def __init__(self) -> None:
            super().__init__()
            self.head = head

        def forward(self, idx):
            rows = idx.tolist()
            padded, mask = pad_states([states[i] for i in rows], dim)
            return self.head(Xt[idx], self.head.ngrams(padded, mask))

    m = _fit_softmax(task, ByRow(), torch.arange(len(y)), y, dev, spec, cfg, rng)
    m["tokens"] = dict(TOKEN_SPEC)
    spec.thresholds = {label: TOKEN_HEAD_BAR for label in labels if label != "none"}
    return head.eval(), spec, m
