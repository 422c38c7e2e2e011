"""Which taxonomy aspects a CX message is about.

The taxonomy's phrases name aspects well in reviews, but in support chats and
survey answers a phrase often says less than it seems («ووين وصلت الشكوى؟»
holds "arrived" and is about support, «کارت تشکر» holds "card" and is about
packaging), and many messages name their aspect with no phrase at all («سه
تا داروخونه رفتم همه گفتن نایابه» is about availability). The ``aspects``
head cannot help there: it knows only the five aspects the review datasets
annotate, and it speaks only where no phrase does.

``aspects_cx`` is one sigmoid per taxonomy aspect that reads the embedding
*and* which aspects the phrases name (``heads.HEAD_INPUTS["aspect_phrases"]``),
trained on the project's aspect-labelled CX messages. It decides both ways:
an aspect a phrase names is kept only if the head agrees, and an aspect no
phrase names is added where the head is sure (evidence: the clause it scores
highest). The analyzer uses it for texts the ``message`` head calls CX
messages (so it is fitted only for models that have one); where it finds
nothing in a message no phrase explains, the ``aspects`` head may still
speak. Reviews keep the phrases and the ``aspects`` head, which the public
review sets measure (``pipeline.Analyzer._aspects``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .heads import BLENDED_HEADS, HeadSpec, build_module, flag_matrix

ASPECTS_CX = "aspects_cx"
ASPECT_HEADS = ("aspects", ASPECTS_CX)  # the review head, and this one
PHRASE_INPUT = "aspect_phrases"
MESSAGE_GATE = BLENDED_HEADS["sentiment"][1]  # how much a text is a CX message rather than a review or a post


def aspect_head_for(probs: Mapping[str, np.ndarray], k: int) -> Optional[str]:
    """The aspect head for text ``k`` of a batch (``probs``: ``Heads.predict``):
    ``aspects_cx`` where the models have it and their message head calls the
    text a CX message, else ``aspects`` where they have it. Without a message
    head ``aspects_cx`` is not used: it learned from messages only, and on
    reviews it would overrule the phrases the review sets measure."""
    if ASPECTS_CX in probs and MESSAGE_GATE in probs and probs[MESSAGE_GATE][k, 0] >= 0.5:
        return ASPECTS_CX
    return "aspects" if "aspects" in probs else None


@dataclass(frozen=True)
class AspectsCxConfig:
    epochs: int = 30
    lr: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 32
    dropout: float = 0.1
    seed: int = 0
    # one bar for every aspect, chosen writer by writer held out (model card): tuned per aspect, or on a
    # held-out tenth of the messages, it fitted noise and scored lower on new writers
    threshold: float = 0.35


def fit_aspects_cx(X: np.ndarray, phrases: Sequence[set], labels: np.ndarray, names: Sequence[str], hidden: int,
                   cfg: AspectsCxConfig = AspectsCxConfig()) -> tuple[Any, HeadSpec, dict[str, Any]]:
    """The ``aspects_cx`` head on message embeddings ``X`` and the aspects
    the phrases name in each (``phrases``); ``labels`` (n, len(names)) is
    1 / 0 per aspect. Every message trains it (plain BCE, every epoch: class
    weights and picking the best epoch on a held-out tenth both scored lower
    on new writers); ``cfg.threshold`` is every aspect's bar."""
    import torch
    import torch.nn.functional as F

    spec = HeadSpec(list(names), "sigmoid", thresholds={n: float(cfg.threshold) for n in names}, inputs=[PHRASE_INPUT])
    Zt = torch.from_numpy(np.concatenate([X.astype(np.float32), flag_matrix(phrases, names)], 1))
    yt = torch.from_numpy(labels.astype(np.float32))
    torch.manual_seed(cfg.seed)
    head = build_module(X.shape[1], hidden, {ASPECTS_CX: spec}, cfg.dropout).heads[ASPECTS_CX]
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    steps = max(1, int(np.ceil(len(X) / cfg.batch_size)))
    for _epoch in range(cfg.epochs):
        head.train()
        for idx in np.array_split(rng.permutation(len(X)), steps):
            ix = torch.from_numpy(idx)
            loss = F.binary_cross_entropy_with_logits(head(Zt[ix]), yt[ix])
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.eval()
    metrics = {"train_messages": int(len(X)), "positives": {n: int(v) for n, v in zip(names, labels.sum(0))},
               **cfg.__dict__}
    return head, spec, metrics
