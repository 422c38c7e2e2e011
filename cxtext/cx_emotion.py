"""Emotion read the way customer-experience teams read it.

The emotion data are tweets (ArmanEmo, ShortPersianEmo, emotone, SemEval-18),
and a head trained on them reads customer messages by tweet conventions: a
question about an order comes out as joy or surprise, a complaint as
sadness, where a CX team says neutral and anger. Two heads, fitted on the
frozen encoder in the signals step (``cxtext train --signals``), change that
for customer feedback and leave the tweet reading where it was:

* ``emotion_cx`` starts from the ``emotion`` head and is fine-tuned on
  emotion-labelled CX messages (cross-entropy, sqrt-balanced classes) while
  it is distilled (KL) towards the ``emotion`` head on that head's own
  training texts, so it keeps what it knew;
* ``domain`` (one sigmoid, ``customer_feedback``) tells review texts and CX
  messages (1) from the emotion training texts (0).

``Heads.predict`` then serves ``emotion = g · emotion_cx + (1 − g) · emotion``
with ``g`` the domain probability (``heads.BLENDED_HEADS``): a review or a
support chat gets the CX reading, a tweet about the news the tweet reading.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .heads import Heads, HeadSpec
from .registry import DOMAIN_LABELS, EMOTION_LABELS


@dataclass(frozen=True)
class CxEmotionConfig:
    epochs: int = 6
    lr: float = 3e-4
    weight_decay: float = 0.01
    message_weight: float = 3.0  # the messages' cross-entropy against the distillation loss
    batch_size: int = 128  # emotion training texts per step
    message_batch: int = 32  # labelled messages per step, drawn with replacement
    min_dev_messages: int = 20  # fewer held-out messages: keep the emotion head's temperature


def emotion_texts(data_dir=None, seed: int = 0) -> pd.DataFrame:
    """The emotion rows of the default training mix (``train.DEFAULT_MIX``):
    what the ``emotion`` head learned from, train/dev splits only."""
    from .train import DEFAULT_MIX, default_corpus

    return default_corpus(data_dir, {k: v for k, v in DEFAULT_MIX.items() if k[1] == "emotion"}, seed)


def fit_domain(X_feedback: np.ndarray, X_other: np.ndarray, dev_feedback: np.ndarray, dev_other: np.ndarray,
               cfg, hidden: int) -> tuple[Any, HeadSpec, dict[str, Any]]:
    """The ``domain`` head: customer feedback (1) against the emotion
    training texts (0), classes balanced; returns the head, its spec and dev
    accuracy per side."""
    import torch

    from .heads import build_module
    from .train import _fit_multilabel

    spec = HeadSpec(list(DOMAIN_LABELS), "sigmoid")
    X = np.concatenate([X_feedback, X_other]).astype(np.float32)
    y = np.concatenate([np.ones(len(X_feedback), np.int64), np.zeros(len(X_other), np.int64)])[:, None]
    dev = np.concatenate([dev_feedback, dev_other])
    head = build_module(X.shape[1], hidden, {"domain": spec}, cfg.dropout).heads["domain"]
    torch.manual_seed(cfg.seed)
    _fit_multilabel(head, torch.from_numpy(X), y, dev, spec, cfg, np.random.default_rng(cfg.seed))
    spec.thresholds = {}  # served as a probability, never thresholded
    with torch.no_grad():
        g = torch.sigmoid(head(torch.from_numpy(X[dev]))).numpy()[:, 0]
    yd = y[dev, 0]
    metrics = {"train_rows": int((~dev).sum()), "dev_rows": int(dev.sum()),
               "dev_accuracy_feedback": round(float((g[yd == 1] > 0.5).mean()), 4) if (yd == 1).any() else None,
               "dev_accuracy_other": round(float((g[yd == 0] <= 0.5).mean()), 4) if (yd == 0).any() else None}
    return head, spec, metrics


def fit_emotion_cx(init: Heads, X_other: np.ndarray, X_msgs: np.ndarray, y_msgs: np.ndarray,
                   dev_msgs: np.ndarray, seed: int = 0,
                   cfg: CxEmotionConfig = CxEmotionConfig()) -> tuple[Any, HeadSpec, dict[str, Any]]:
    """The ``emotion_cx`` head: ``init``'s emotion head fine-tuned on the
    messages ``X_msgs`` (labels ``y_msgs``, indices into EMOTION_LABELS;
    rows ``dev_msgs`` held out) and distilled towards that head on
    ``X_other`` (its training texts). Temperature from the held-out messages."""
    import torch
    import torch.nn.functional as F

    from .train import _fit_temperature, _macro_f1, balanced_class_weights, ece

    if list(init.tasks["emotion"].labels) != list(EMOTION_LABELS):
        from .errors import LabelMismatchError

        raise LabelMismatchError(f"the emotion head of {init.path} has labels {init.tasks['emotion'].labels}, not "
                                 f"{list(EMOTION_LABELS)}: start from models whose emotion head has ours")
    teacher = init.module.heads["emotion"].eval()
    head = copy.deepcopy(teacher)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    Xo = torch.from_numpy(np.ascontiguousarray(X_other, dtype=np.float32))
    Xm = torch.from_numpy(np.ascontiguousarray(X_msgs, dtype=np.float32))
    ym = torch.from_numpy(y_msgs.astype(np.int64))
    tr = np.where(~dev_msgs)[0]
    dv = np.where(dev_msgs)[0]
    n_cls = len(EMOTION_LABELS)
    ce = torch.nn.CrossEntropyLoss(weight=torch.tensor(balanced_class_weights(y_msgs[tr], n_cls), dtype=torch.float32))
    with torch.no_grad():
        target = torch.softmax(teacher(Xo), -1)
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    for _epoch in range(cfg.epochs):
        head.train()
        perm = rng.permutation(len(Xo))
        for s in range(0, len(perm), cfg.batch_size):
            io = torch.from_numpy(perm[s:s + cfg.batch_size])
            im = torch.from_numpy(rng.choice(tr, cfg.message_batch))
            loss = F.kl_div(torch.log_softmax(head(Xo[io]), -1), target[io], reduction="batchmean")
            loss = loss + cfg.message_weight * ce(head(Xm[im]), ym[im])
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.eval()
    spec = HeadSpec(list(EMOTION_LABELS), "softmax", init.tasks["emotion"].temperature)
    metrics: dict[str, Any] = {"train_messages": int(len(tr)), "dev_messages": int(len(dv)),
                               "distilled_on": int(len(Xo)), **cfg.__dict__}
    if len(dv):
        with torch.no_grad():
            logits, before = head(Xm[dv]), teacher(Xm[dv])
        if len(dv) >= cfg.min_dev_messages:
            spec.temperature = _fit_temperature(logits, ym[dv])
        probs = torch.softmax(logits / spec.temperature, -1).numpy()
        metrics.update({"temperature": round(spec.temperature, 4),
                        "dev_macro_f1": round(_macro_f1(y_msgs[dv], probs.argmax(-1), n_cls), 4),
                        "dev_macro_f1_emotion_head": round(_macro_f1(y_msgs[dv], before.argmax(-1).numpy(), n_cls), 4),
                        "dev_ece": round(ece(probs, y_msgs[dv]), 4)})
    return head, spec, metrics


def fit_cx_heads(init: Heads, encoder, features: Path, X_feedback: np.ndarray, dev_feedback: np.ndarray,
                 y_emotion: np.ndarray, data_dir, cfg, log_fn: Callable[[str], None] = print,
                 ) -> dict[str, tuple[Any, HeadSpec, dict[str, Any]]]:
    """``emotion_cx`` and ``domain`` for the encoder of ``init``: the
    feedback side is every text of the signal corpus (``X_feedback``, dev rows
    ``dev_feedback``), the labelled messages are its rows with an emotion
    (``y_emotion`` >= 0), the other side the emotion head's training texts
    (the same hash dev split as in training, ``cfg.dev_fraction``/``cfg.seed``)."""
    from .train import _dev_mask, featurize

    other = emotion_texts(data_dir, cfg.seed)
    log_fn(f"cx emotion: {int((y_emotion >= 0).sum())} labelled messages, {len(other)} emotion training texts")
    X_other = featurize(encoder, other["text"].tolist(), other["lang"].tolist(), features,
                        on_progress=lambda d, n: log_fn(f"emotion-text features {d}/{n}"))
    dev_other = _dev_mask(other["text"].tolist(), cfg.dev_fraction, cfg.seed)
    msg = y_emotion >= 0
    out = {"emotion_cx": fit_emotion_cx(init, X_other[~dev_other], X_feedback[msg], y_emotion[msg], dev_feedback[msg],
                                        cfg.seed),
           "domain": fit_domain(X_feedback, X_other, dev_feedback, dev_other, cfg, int(init.meta.get("hidden", 0)))}
    return out
