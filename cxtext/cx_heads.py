"""Emotion and sentiment read the way customer-experience teams read them.

The emotion data are tweets (ArmanEmo, ShortPersianEmo, emotone, SemEval-18),
and a head trained on them reads customer messages by tweet conventions: a
question about an order comes out as joy or surprise, a complaint as
sadness, where a CX team says neutral and anger. The sentiment data are
reviews and tweets, and their head reads a support chat's astonished thanks
(«ما صدقت! الطلب وصل خلال ٢٠ دقيقة») or a plain status question as negative.
Heads fitted on the frozen encoder in the signals step (``cxtext train
--signals``) change that for customer feedback and leave the other readings
where they were:

* ``emotion_cx`` starts from the ``emotion`` head and is fine-tuned on
  emotion-labelled CX messages (cross-entropy, sqrt-balanced classes) while
  it is distilled (KL) towards the ``emotion`` head on that head's own
  training texts, so it keeps what it knew;
* ``domain`` (one sigmoid, ``customer_feedback``) tells review texts and CX
  messages (1) from the emotion training texts (0);
* ``sentiment_cx`` is the same recipe for the ``sentiment`` head, fine-tuned
  on sentiment-labelled CX messages and distilled towards that head on a
  sample of its review texts (``review_texts``);
* ``message`` (one sigmoid, ``cx_message``) tells CX messages (support
  chats, survey answers: 1) from reviews and posts (0). Reviews keep the
  review head's reading, which the public review sets measure.

``Heads.predict`` then serves ``emotion = g · emotion_cx + (1 − g) · emotion``
with ``g`` the domain probability and ``sentiment = m · sentiment_cx +
(1 − m) · sentiment`` with ``m`` the message probability
(``heads.BLENDED_HEADS``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .heads import BLENDED_HEADS, Heads, HeadSpec
from .registry import GATE_LABELS, TASK_LABELS

# the review sets the CX sentiment head is distilled on, and how many rows of each the sample is drawn
# from: their caps in the fine-tuning mix of models 0.4–0.8 (that mix takes every row since 0.9; the
# distillation sample keeps its own pool, so the CX heads do not move when the fine-tuning mix does)
REVIEW_MIX: dict[tuple[str, str], int] = {  # in that mix's order: the sample depends on it
    ("fa_snappfood", "sentiment"): 20398, ("fa_deepsentipers", "sentiment"): 5142,
    ("fa_taaghche_partial", "sentiment"): 1500, ("ar_elsahar_multidomain", "sentiment"): 8000,
    ("ar_semeval2016_absa_hotels", "sentiment"): 4765, ("fa_sentipers", "sentiment"): 8000,
    ("ar_amazon_eg_aste", "sentiment"): 2600,
}


@dataclass(frozen=True)
class CxHeadConfig:
    epochs: int = 6
    lr: float = 3e-4
    weight_decay: float = 0.01
    message_weight: float = 3.0  # the messages' cross-entropy against the distillation loss
    batch_size: int = 128  # distillation texts per step
    message_batch: int = 32  # labelled messages per step, drawn with replacement
    min_dev_messages: int = 20  # fewer held-out messages: keep the starting head's temperature


def emotion_texts(data_dir=None, seed: int = 0) -> pd.DataFrame:
    """The emotion rows of the default training mix (``train.DEFAULT_MIX``)
    from the public datasets: what the ``emotion`` head learned from, train/dev
    splits only. The written CX messages of the mix are left out: here they
    would stand for "not customer feedback" and "not a message"."""
    from .train import CX_MESSAGES, DEFAULT_MIX, default_corpus

    return default_corpus(data_dir, {k: v for k, v in DEFAULT_MIX.items() if k[1] == "emotion" and k[0] != CX_MESSAGES},
                          seed)


def review_texts(data_dir=None, seed: int = 0, per_lang: int = 4000) -> pd.DataFrame:
    """A seeded sample of up to ``per_lang`` rows per language of the review
    sets (``REVIEW_MIX``) labelled negative, neutral or positive: texts the
    ``sentiment`` head learned from."""
    from .train import default_corpus

    df = default_corpus(data_dir, REVIEW_MIX, seed)
    df = df[df["label"].isin(["negative", "neutral", "positive"])]
    return pd.concat([g.sample(min(len(g), per_lang), random_state=seed) for _, g in df.groupby("lang")],
                     ignore_index=True)


def fit_gate(labels: tuple[str, ...], X_pos: np.ndarray, X_neg: np.ndarray, dev_pos: np.ndarray,
             dev_neg: np.ndarray, cfg, hidden: int) -> tuple[Any, HeadSpec, dict[str, Any]]:
    """A one-sigmoid head, ``X_pos`` (1) against ``X_neg`` (0), classes
    balanced; returns the head, its spec and dev accuracy per side."""
    import torch

    from .heads import build_module
    from .train import _fit_multilabel

    spec = HeadSpec(list(labels), "sigmoid")
    X = np.concatenate([X_pos, X_neg]).astype(np.float32)
    y = np.concatenate([np.ones(len(X_pos), np.int64), np.zeros(len(X_neg), np.int64)])[:, None]
    dev = np.concatenate([dev_pos, dev_neg])
    head = build_module(X.shape[1], hidden, {"gate": spec}, cfg.dropout).heads["gate"]
    torch.manual_seed(cfg.seed)
    _fit_multilabel(head, torch.from_numpy(X), y, dev, spec, cfg, np.random.default_rng(cfg.seed))
    spec.thresholds = {}  # served as a probability, never thresholded
    with torch.no_grad():
        g = torch.sigmoid(head(torch.from_numpy(X[dev]))).numpy()[:, 0]
    yd = y[dev, 0]
    metrics = {"train_rows": int((~dev).sum()), "dev_rows": int(dev.sum()),
               "dev_accuracy_positive": round(float((g[yd == 1] > 0.5).mean()), 4) if (yd == 1).any() else None,
               "dev_accuracy_negative": round(float((g[yd == 0] <= 0.5).mean()), 4) if (yd == 0).any() else None}
    return head, spec, metrics


def fit_cx_head(init: Heads, task: str, X_other: np.ndarray, X_msgs: np.ndarray, y_msgs: np.ndarray,
                dev_msgs: np.ndarray, seed: int = 0,
                cfg: CxHeadConfig = CxHeadConfig()) -> tuple[Any, HeadSpec, dict[str, Any]]:
    """``init``'s ``task`` head fine-tuned on the messages ``X_msgs`` (labels
    ``y_msgs``, indices into ``TASK_LABELS[task]``; rows ``dev_msgs`` held
    out) and distilled towards that head on ``X_other`` (texts it learned
    from). Temperature from the held-out messages."""
    import torch
    import torch.nn.functional as F

    from .train import _fit_temperature, _macro_f1, balanced_class_weights, ece

    labels = list(TASK_LABELS[task])
    if list(init.tasks[task].labels) != labels:
        from .errors import LabelMismatchError

        raise LabelMismatchError(f"the {task} head of {init.path} has labels {init.tasks[task].labels}, not "
                                 f"{labels}: start from models whose {task} head has ours")
    teacher = init.module.heads[task].eval()
    head = copy.deepcopy(teacher)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    Xo = torch.from_numpy(np.ascontiguousarray(X_other, dtype=np.float32))
    Xm = torch.from_numpy(np.ascontiguousarray(X_msgs, dtype=np.float32))
    ym = torch.from_numpy(y_msgs.astype(np.int64))
    tr = np.where(~dev_msgs)[0]
    dv = np.where(dev_msgs)[0]
    n_cls = len(labels)
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
    spec = HeadSpec(labels, "softmax", init.tasks[task].temperature)
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
                        f"dev_macro_f1_{task}_head": round(_macro_f1(y_msgs[dv], before.argmax(-1).numpy(), n_cls), 4),
                        "dev_ece": round(ece(probs, y_msgs[dv]), 4)})
    return head, spec, metrics


def cx_tasks_to_fit(init: Heads, y: dict[str, np.ndarray]) -> list[str]:
    """The tasks of ``heads.BLENDED_HEADS`` whose CX head and gate ``fit_cx_heads``
    fits: ``init`` has a head for the task and some messages carry its label."""
    return [t for t in BLENDED_HEADS if t in init.tasks and t in y and (y[t] >= 0).any()]


def fit_cx_heads(init: Heads, encoder, features: Path, X_feedback: np.ndarray, dev_feedback: np.ndarray,
                 is_message: np.ndarray, y: dict[str, np.ndarray], data_dir, cfg,
                 log_fn: Callable[[str], None] = print) -> dict[str, tuple[Any, HeadSpec, dict[str, Any]]]:
    """The CX heads of ``heads.BLENDED_HEADS`` for the encoder of ``init``,
    for each task of ``y`` that ``init`` has a head for and that some messages
    are labelled with (``y[task]`` >= 0). The feedback side is every text of the signal corpus
    (``X_feedback``, dev rows ``dev_feedback``; ``is_message`` marks the
    labelled messages). Emotion: distilled on the emotion head's training
    texts, which are also the domain head's "not feedback" side. Sentiment:
    distilled on ``review_texts``; the message head's other side is the
    emotion texts and those reviews. Dev rows: the same text-hash split as
    in training (``cfg.dev_fraction``/``cfg.seed``)."""
    from .train import _dev_mask, featurize

    out: dict[str, tuple[Any, HeadSpec, dict[str, Any]]] = {}
    todo = cx_tasks_to_fit(init, y)
    if not todo:
        return out
    hidden = int(init.meta.get("hidden", 0))

    def embedded(df: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
        X = featurize(encoder, df["text"].tolist(), df["lang"].tolist(), features,
                      on_progress=lambda d, n: log_fn(f"{what} features {d}/{n}"))
        return X, _dev_mask(df["text"].tolist(), cfg.dev_fraction, cfg.seed)

    X_emo, dev_emo = embedded(emotion_texts(data_dir, cfg.seed), "emotion-text")
    if "emotion" in todo:
        feedback, gate = BLENDED_HEADS["emotion"]
        msg = y["emotion"] >= 0
        log_fn(f"cx emotion: {int(msg.sum())} labelled messages, {len(X_emo)} emotion training texts")
        out[feedback] = fit_cx_head(init, "emotion", X_emo[~dev_emo], X_feedback[msg], y["emotion"][msg],
                                    dev_feedback[msg], cfg.seed)
        out[gate] = fit_gate(GATE_LABELS[gate], X_feedback, X_emo, dev_feedback, dev_emo, cfg, hidden)
    if "sentiment" in todo:
        feedback, gate = BLENDED_HEADS["sentiment"]
        X_rev, dev_rev = embedded(review_texts(data_dir, cfg.seed), "review-text")
        msg = y["sentiment"] >= 0
        log_fn(f"cx sentiment: {int(msg.sum())} labelled messages, {len(X_rev)} review texts")
        out[feedback] = fit_cx_head(init, "sentiment", X_rev[~dev_rev], X_feedback[msg], y["sentiment"][msg],
                                    dev_feedback[msg], cfg.seed)
        out[gate] = fit_gate(GATE_LABELS[gate], X_feedback[is_message], np.concatenate([X_emo, X_rev]),
                             dev_feedback[is_message], np.concatenate([dev_emo, dev_rev]), cfg, hidden)
    return out
