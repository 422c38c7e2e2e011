"""Fine-tuning the top layers of the base encoder together with the heads.

The lower layers stay frozen, so their output for every training text is
computed once (``lower_states``), kept on disk in float16 chunks, and reused in
every epoch: an epoch then costs only the top layers' forward and backward
pass. How many layers train is the recipe's (``recipe``): all 12 on a GPU
(then only the embeddings' output is cached), the top 6 on a CPU. The token
ids are cached too (``token_id_cache``), so a machine that has that cache
trains without the datasets' normalizers. What is trained (the top layers and one head per task) is saved as
``encoder_top.safetensors`` next to the heads; :meth:`Encoder.apply_top_layers`
puts it back into the base at load, so inference costs exactly what the plain
base encoder costs.

The features match the analyzer's: same language detection and normalization
(``pipeline.detect_and_normalize``), same ``"query: "`` prefix and special
tokens, same mean pooling over every token of the window, L2-normalized.
Training truncates a text to ``max_tokens`` content tokens (inference windows
whole texts).

Every epoch writes a checkpoint (layers, heads, optimizer state, all as
safetensors); a killed run started again resumes from the last one.
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from .encoder.deltas import quantized_deltas
from .heads import Heads, HeadSpec, build_module

log = logging.getLogger(__name__)

ENCODER_TOP = "encoder_top.safetensors"


@dataclass
class FinetuneConfig:
    train_layers: int = 6  # top transformer layers trained; the rest stay frozen
    epochs: int = 3
    lr: float = 6e-5  # top layers
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.06  # share of steps with a linear warm-up
    batch_size: int = 32
    max_tokens: int = 128  # content tokens per text while training
    hidden: int = 256
    dropout: float = 0.1
    dev_fraction: float = 0.1
    seed: int = 0
    class_balance: bool = True
    average_last: int = 0  # also try the mean of the last N epochs' weights; kept if it scores higher on dev


def recipe(device: Optional[str] = None) -> FinetuneConfig:
    """How ``cxtext train --defaults`` fine-tunes. On a GPU, the recipe of the
    shipped models: all 12 layers, 4 epochs, 64 texts per step (about 5 min on
    one H100). On a CPU, what 2 cores finish in about 2 hours on the default
    mix: the top 6 layers (the rest frozen, their output cached), 3 epochs,
    32 texts per step."""
    if device and str(device).startswith("cuda"):
        return FinetuneConfig(train_layers=12, epochs=4, batch_size=64)
    return FinetuneConfig()


def _prepare_ids(encoder, texts: Sequence[str], langs: Optional[Sequence[Optional[str]]],
                 max_tokens: int) -> list[list[int]]:
    """Token ids with specials and prefix, exactly as the analyzer feeds a
    (first) window, after the analyzer's language detection and normalization."""
    from .pipeline import detect_and_normalize

    norm = []
    for i, t in enumerate(texts):
        n = detect_and_normalize(t, langs[i] if langs is not None else None)[2].text
        norm.append(n if n.strip() else t)
    toks = encoder.tokenize(norm)
    return [[encoder.bos] + encoder.prefix_ids + tk.ids[:max_tokens] + [encoder.eos] for tk in toks]


def _lower_forward(model, n_frozen: int, seqs: Sequence[Sequence[int]], pad: int, batch: int = 64) -> list[np.ndarray]:
    """Hidden states after the first ``n_frozen`` layers, one (len, H) float16
    array per sequence."""
    import torch

    device = next(model.parameters()).device

    out: list[Optional[np.ndarray]] = [None] * len(seqs)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            L = max(len(seqs[i]) for i in idx)
            ids = torch.full((len(idx), L), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), L), dtype=torch.float32)
            for r, i in enumerate(idx):
                ids[r, :len(seqs[i])] = torch.tensor(seqs[i])
                mask[r, :len(seqs[i])] = 1
            h = model.embeddings(input_ids=ids.to(device))
            ext = _extended_mask(mask.to(device), h.dtype)
            for layer in model.encoder.layer[:n_frozen]:
                h = layer(h, attention_mask=ext)[0]
            h = h.to(torch.float16).cpu().numpy()
            for r, i in enumerate(idx):
                out[i] = h[r, :len(seqs[i])].copy()
    return out  # type: ignore[return-value]


def _extended_mask(mask, dtype):
    import torch

    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


CHUNK = 2048  # texts per cache file; the export and the training must cut the same chunks


def _chunks(texts: Sequence[str], langs: Optional[Sequence[Optional[str]]]):
    """``(start, texts, langs)`` of each cache chunk."""
    for start in range(0, len(texts), CHUNK):
        yield start, list(texts[start:start + CHUNK]), list(langs[start:start + CHUNK]) if langs is not None else None


def _cache_files(cache_dir: Path, prefix: str, texts: Sequence[str], max_tokens: int, data: str) -> tuple[Path, Path]:
    """The two files of one chunk's cached arrays: the arrays end to end, their lengths."""
    from .train import _hash_texts

    key = f"{prefix}-t{max_tokens}-{_hash_texts(texts)}-{len(texts)}"
    return cache_dir / f"{key}.{data}.npy", cache_dir / f"{key}.lens.npy"


def _load_ragged(files: tuple[Path, Path]) -> Optional[list[np.ndarray]]:
    f_data, f_lens = files
    if not (f_data.exists() and f_lens.exists()):
        return None
    flat, lens = np.load(f_data), np.load(f_lens)
    bounds = np.concatenate([[0], np.cumsum(lens)])
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _save_ragged(files: tuple[Path, Path], parts: Sequence[Any], dtype=None) -> None:
    from .train import save_npy_atomic

    f_data, f_lens = files
    f_data.parent.mkdir(parents=True, exist_ok=True)
    save_npy_atomic(f_lens, np.array([len(p) for p in parts], dtype=np.int64))
    save_npy_atomic(f_data, np.concatenate([np.asarray(p, dtype=dtype) for p in parts]))


def _chunk_ids(encoder, texts: Sequence[str], langs: Optional[Sequence[Optional[str]]], max_tokens: int,
               cache_dir: Path) -> list[list[int]]:
    """``_prepare_ids`` for one chunk, cached: normalization and tokenization
    run once per text, and a machine that has the cache (a GPU box without
    hazm, camel-tools or the datasets) needs neither."""
    files = _cache_files(cache_dir, "ids", texts, max_tokens, "ids")
    cached = _load_ragged(files)
    if cached is not None:
        return [c.tolist() for c in cached]
    seqs = _prepare_ids(encoder, texts, langs, max_tokens)
    _save_ragged(files, seqs, dtype=np.int32)
    return seqs


def token_id_cache(encoder, texts: Sequence[str], langs: Optional[Sequence[Optional[str]]], max_tokens: int,
                   cache_dir: Path) -> list[Path]:
    """Fill the token-id cache that ``lower_states`` reads (same chunks);
    return its files, to copy to the machine that trains."""
    files: list[Path] = []
    for _start, sub, sub_l in _chunks(texts, langs):
        _chunk_ids(encoder, sub, sub_l, max_tokens, cache_dir)
        files += _cache_files(cache_dir, "ids", sub, max_tokens, "ids")
    return files


def lower_states(encoder, texts: Sequence[str], langs: Optional[Sequence[Optional[str]]], n_frozen: int,
                 max_tokens: int, cache_dir: Path,
                 on_progress: Optional[Callable[[int, int], None]] = None) -> list[np.ndarray]:
    """The frozen layers' output for every text, computed once per chunk and
    cached under ``cache_dir`` (a killed run reuses what it finished)."""
    out: list[np.ndarray] = []
    for start, sub, sub_l in _chunks(texts, langs):
        files = _cache_files(cache_dir, f"lower{n_frozen}", sub, max_tokens, "states")
        parts = _load_ragged(files)
        if parts is None:
            seqs = _chunk_ids(encoder, sub, sub_l, max_tokens, cache_dir)
            parts = _lower_forward(encoder.model, n_frozen, seqs, encoder.pad)
            _save_ragged(files, parts)
        out.extend(parts)
        if on_progress:
            on_progress(min(start + CHUNK, len(texts)), len(texts))
    return out


class _Model:
    """Top layers + heads: the trainable part."""

    def __init__(self, encoder, n_frozen: int, tasks: Mapping[str, HeadSpec], cfg: FinetuneConfig):
        import copy

        from torch import nn

        self.n_frozen = n_frozen
        self.device = encoder.device  # a GPU when the encoder was loaded on one
        self.layers = nn.ModuleList(copy.deepcopy(list(encoder.model.encoder.layer[n_frozen:])))
        self.heads = build_module(encoder.hidden_size, cfg.hidden, dict(tasks), cfg.dropout).to(self.device)
        self.initial = self.state()  # the base's own top layers: what is shipped is the change from them

    def train(self, on: bool = True) -> None:
        self.layers.train(on)
        self.heads.train(on)

    def embed(self, states: Sequence[np.ndarray]):
        import torch

        L = max(len(s) for s in states)
        x = torch.zeros((len(states), L, states[0].shape[1]), dtype=torch.float32)
        mask = torch.zeros((len(states), L), dtype=torch.float32)
        for r, s in enumerate(states):
            x[r, :len(s)] = torch.from_numpy(s.astype(np.float32))
            mask[r, :len(s)] = 1
        x, mask = x.to(self.device), mask.to(self.device)
        ext = _extended_mask(mask, x.dtype)
        h = x
        for layer in self.layers:
            h = layer(h, attention_mask=ext)[0]
        pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def state(self) -> dict[str, Any]:
        st = {f"encoder.layer.{self.n_frozen + i}.{k}": v.detach().cpu().clone()
              for i, layer in enumerate(self.layers) for k, v in layer.state_dict().items()}
        st.update({f"heads.{k}": v.detach().cpu().clone() for k, v in self.heads.state_dict().items()})
        return st

    def load(self, st: Mapping[str, Any]) -> None:
        for i, layer in enumerate(self.layers):
            pre = f"encoder.layer.{self.n_frozen + i}."
            layer.load_state_dict({k[len(pre):]: v.to(self.device) for k, v in st.items() if k.startswith(pre)})
        self.heads.load_state_dict({k[6:]: v.to(self.device) for k, v in st.items() if k.startswith("heads.")})


def _batches(lengths: np.ndarray, idx: np.ndarray, batch_size: int, rng) -> list[np.ndarray]:
    """Shuffled batches of similar length (sorted within random pools of 50
    batches), so padding stays small without ordering the epoch by length."""
    perm = rng.permutation(idx)
    pool = batch_size * 50
    out = []
    for s in range(0, len(perm), pool):
        p = perm[s:s + pool]
        p = p[np.argsort(lengths[p], kind="stable")]
        out.extend(p[k:k + batch_size] for k in range(0, len(p), batch_size))
    rng.shuffle(out)
    return out


def _save_checkpoint(path: Path, model: _Model, opt, step: int, epoch: int, best: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    path.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.contiguous() for k, v in model.state().items()}
    if best.get("state"):
        tensors.update({f"best.{k}": v.contiguous() for k, v in best["state"].items()})
    if best.get("avg_sum"):
        tensors.update({f"avg.{k}": v.contiguous() for k, v in best["avg_sum"].items()})
    osd = opt.state_dict()
    for pid, st in osd["state"].items():
        for k, v in st.items():
            tensors[f"opt.{pid}.{k}"] = (v.detach().reshape(-1) if k == "step" else v.detach()).cpu().contiguous()
    tmp = path / "checkpoint.tmp.safetensors"
    save_file(tensors, str(tmp))
    tmp.replace(path / "checkpoint.safetensors")
    info = {"step": step, "epoch": epoch, "best_score": best.get("score", -1.0), "best_epoch": best.get("epoch"),
            "history": best.get("history", []), "avg_n": best.get("avg_n", 0)}
    (path / "checkpoint.json").write_text(json.dumps(info, indent=2), encoding="utf-8")


def _load_checkpoint(path: Path, model: _Model, opt) -> Optional[dict[str, Any]]:
    from safetensors.torch import load_file

    if not (path / "checkpoint.safetensors").exists() or not (path / "checkpoint.json").exists():
        return None
    info = json.loads((path / "checkpoint.json").read_text(encoding="utf-8"))
    t = load_file(str(path / "checkpoint.safetensors"))
    model.load({k[6:]: v for k, v in t.items() if k.startswith("model.")})
    osd = opt.state_dict()
    state: dict[int, dict[str, Any]] = {}
    for k, v in t.items():
        if k.startswith("opt."):
            _, pid, name = k.split(".", 2)
            state.setdefault(int(pid), {})[name] = v.reshape(()) if name == "step" else v
    osd["state"] = state
    opt.load_state_dict(osd)
    best_state = {k[5:]: v for k, v in t.items() if k.startswith("best.")}
    avg_sum = {k[4:]: v for k, v in t.items() if k.startswith("avg.")}
    info["best"] = {"state": best_state or None, "score": info.get("best_score", -1.0),
                    "epoch": info.get("best_epoch"), "history": info.get("history", []),
                    "avg_sum": avg_sum or None, "avg_n": info.get("avg_n", 0)}
    return info


def finetune(encoder, texts: Sequence[str], langs: Optional[Sequence[Optional[str]]], y: Mapping[str, np.ndarray],
             tasks: Mapping[str, HeadSpec], dev: np.ndarray, cfg: FinetuneConfig, work_dir: Path,
             cache_dir: Path, log_fn: Callable[[str], None] = print,
             groups: Optional[Sequence[str]] = None) -> tuple[_Model, dict[str, Any]]:
    """Train the top ``cfg.train_layers`` layers and one head per task on
    ``texts``; ``y[task]`` holds label indices (-1: no label for that task).
    Returns the best epoch's model (mean dev macro-F1 over tasks) with its
    temperatures fitted on the dev rows, and per-task dev metrics; with
    ``groups`` (each text's dataset), also per dataset (``_run.dev_by_dataset``),
    so that runs on different mixes compare on the datasets they share."""
    import torch
    from torch import nn

    from .train import _fit_temperature, _macro_f1, balanced_class_weights, ece

    torch.manual_seed(cfg.seed)
    n_layers = len(encoder.model.encoder.layer)
    n_frozen = max(0, n_layers - cfg.train_layers)
    t0 = time.time()
    states = lower_states(encoder, texts, langs, n_frozen, cfg.max_tokens, cache_dir,
                          on_progress=lambda d, n: log_fn(f"lower layers {d}/{n} ({time.time() - t0:.0f}s)"))
    lengths = np.array([len(s) for s in states])
    t_lower = time.time() - t0
    model = _Model(encoder, n_frozen, tasks, cfg)
    params_enc = [p for p in model.layers.parameters()]
    params_head = [p for p in model.heads.parameters()]
    opt = torch.optim.AdamW([{"params": params_enc, "lr": cfg.lr}, {"params": params_head, "lr": cfg.head_lr}],
                            weight_decay=cfg.weight_decay)
    task_names = list(tasks)
    labels = {t: torch.from_numpy(np.asarray(y[t], dtype=np.int64)).to(model.device) for t in task_names}
    losses = {}
    for t in task_names:
        lab = np.asarray(y[t])
        w = None
        if cfg.class_balance:
            w = torch.tensor(balanced_class_weights(lab[~dev], len(tasks[t].labels)), dtype=torch.float32,
                             device=model.device)
        losses[t] = nn.CrossEntropyLoss(weight=w, reduction="sum")
    has_label = np.zeros(len(texts), dtype=bool)
    for t in task_names:
        has_label |= np.asarray(y[t]) >= 0
    tr = np.where(has_label & ~dev)[0]
    dv = np.where(has_label & dev)[0]
    steps_per_epoch = math.ceil(len(tr) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    warm = max(1, int(cfg.warmup * total))

    def lr_factor(step: int) -> float:
        return step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))

    ckpt = work_dir / "checkpoint"
    info = _load_checkpoint(ckpt, model, opt)
    step, start_epoch = 0, 0
    best: dict[str, Any] = {"state": None, "score": -1.0, "epoch": None, "history": []}
    if info:
        step, start_epoch, best = info["step"], info["epoch"] + 1, info["best"]
        log_fn(f"resuming after epoch {info['epoch']} (step {step})")

    def predict(idx: np.ndarray) -> dict[str, Any]:
        """Logits per task for rows ``idx``, in that order."""
        model.train(False)
        pos = {int(i): k for k, i in enumerate(idx)}
        out = {t: torch.zeros(len(idx), len(tasks[t].labels)) for t in task_names}
        order = idx[np.argsort(lengths[idx], kind="stable")]
        with torch.inference_mode():
            for s in range(0, len(order), 128):
                b = order[s:s + 128]
                logits = model.heads(model.embed([states[i] for i in b]))
                rows = torch.tensor([pos[int(i)] for i in b])
                for t in task_names:
                    out[t][rows] = logits[t].float().cpu()
        return out

    def dev_scores() -> dict[str, float]:
        """Dev macro-F1 per task of the model as it stands."""
        scores = {}
        if len(dv):
            pr = predict(dv)
            for t in task_names:
                z, lab = pr[t], np.asarray(y[t])[dv]
                sel = lab >= 0
                if sel.any():
                    scores[t] = round(_macro_f1(lab[sel], z[torch.from_numpy(sel)].argmax(-1).numpy(),
                                                len(tasks[t].labels)), 4)
        return scores

    rng = np.random.default_rng(cfg.seed)
    for _ in range(start_epoch):  # replay the shuffles of finished epochs: a resumed run matches an unbroken one
        _batches(lengths, tr, cfg.batch_size, rng)
    for epoch in range(start_epoch, cfg.epochs):
        model.train(True)
        te = time.time()
        run_loss, seen = 0.0, 0
        for bi, b in enumerate(_batches(lengths, tr, cfg.batch_size, rng)):
            for g, base_lr in zip(opt.param_groups, (cfg.lr, cfg.head_lr)):
                g["lr"] = base_lr * lr_factor(step)
            logits = model.heads(model.embed([states[i] for i in b]))
            bt = torch.from_numpy(b).to(model.device)
            loss = torch.zeros((), device=model.device)
            for t in task_names:
                yt = labels[t][bt]
                sel = yt >= 0
                if sel.any():
                    loss = loss + losses[t](logits[t][sel], yt[sel])
            loss = loss / len(b)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params_enc + params_head, 1.0)
            opt.step()
            step += 1
            run_loss += float(loss.detach()) * len(b)
            seen += len(b)
            if bi % 100 == 0:
                log_fn(f"epoch {epoch + 1} batch {bi}/{steps_per_epoch} loss {run_loss / max(seen, 1):.4f} "
                       f"({seen / max(time.time() - te, 1e-9):.1f} ex/s)")
        scores = dev_scores()
        score = float(np.mean(list(scores.values()))) if scores else float(epoch)
        best["history"] = list(best.get("history", [])) + [{"epoch": epoch + 1, "train_loss": round(run_loss / max(seen, 1), 4),
                                                            "dev_macro_f1": scores, "seconds": round(time.time() - te, 1)}]
        if score > best.get("score", -1.0):
            best.update({"state": model.state(), "score": score, "epoch": epoch + 1})
        if epoch >= cfg.epochs - cfg.average_last:
            st = model.state()
            best["avg_sum"] = {k: v.float() + (best["avg_sum"][k] if best.get("avg_sum") else 0) for k, v in st.items()}
            best["avg_n"] = int(best.get("avg_n", 0)) + 1
        log_fn(f"epoch {epoch + 1}: dev macro-F1 {scores} ({time.time() - te:.0f}s)")
        _save_checkpoint(ckpt, model, opt, step, epoch, best)
    averaged = None
    if best.get("avg_n", 0) >= 2:  # the mean of the last epochs' weights, if it beats the best single epoch
        model.load({k: v / best["avg_n"] for k, v in best["avg_sum"].items()})
        scores = dev_scores()
        score = float(np.mean(list(scores.values()))) if scores else -1.0
        log_fn(f"mean of the last {best['avg_n']} epochs: dev macro-F1 {scores}")
        if score > best.get("score", -1.0):
            averaged = {"epochs": best["avg_n"], "dev_macro_f1": scores}
            best.update({"state": model.state(), "score": score})
    if best.get("state"):
        model.load(best["state"])
    model.train(False)
    metrics: dict[str, Any] = {}
    if len(dv):
        pr = predict(dv)
        for t in task_names:
            z, lab = pr[t], np.asarray(y[t])[dv]
            sel = lab >= 0
            m: dict[str, Any] = {"train_rows": int(((np.asarray(y[t]) >= 0) & ~dev).sum()), "dev_rows": int(sel.sum())}
            if sel.any():
                zt, yt = z[torch.from_numpy(sel)], torch.from_numpy(lab[sel])
                temp = _fit_temperature(zt, yt)
                tasks[t].temperature = temp
                p0, p1 = torch.softmax(zt, -1).numpy(), torch.softmax(zt / temp, -1).numpy()
                m.update({"dev_accuracy": round(float((p1.argmax(-1) == lab[sel]).mean()), 4),
                          "dev_macro_f1": round(_macro_f1(lab[sel], p1.argmax(-1), len(tasks[t].labels)), 4),
                          "temperature": round(temp, 4), "dev_ece_before": round(ece(p0, lab[sel]), 4),
                          "dev_ece_after": round(ece(p1, lab[sel]), 4)})
            metrics[t] = m
        by_group = dev_by_group(pr, {t: np.asarray(y[t])[dv] for t in task_names},
                                np.asarray(groups, dtype=object)[dv]) \
            if groups is not None else {}
    else:
        by_group = {}
    metrics["_run"] = {"lower_seconds": round(t_lower, 1), "best_epoch": best.get("epoch"), "averaged": averaged,
                       "history": best.get("history", []), "frozen_layers": n_frozen,
                       "config": asdict(cfg), "dev_by_dataset": by_group}
    return model, metrics


def dev_by_group(logits: Mapping[str, Any], labels: Mapping[str, np.ndarray],
                 groups: np.ndarray) -> dict[str, dict[str, Any]]:
    """``{group: {task: {n, accuracy, macro_f1}}}`` of argmax predictions,
    for every group that has labelled rows of a task. The macro-F1 averages
    over the labels the group's rows carry: a dataset without "mixed" is not
    marked down twice for a text read as mixed (one miss already counts)."""
    from .metrics import f1_from_counts

    out: dict[str, dict[str, Any]] = {}
    for t, z in logits.items():
        pred = np.asarray(z).argmax(-1)
        lab = np.asarray(labels[t])
        for g in sorted(set(groups[lab >= 0])):
            sel = (groups == g) & (lab >= 0)
            y, p = lab[sel], pred[sel]
            f1 = [f1_from_counts(int(((p == c) & (y == c)).sum()), int(((p == c) & (y != c)).sum()),
                                 int(((p != c) & (y == c)).sum())) for c in np.unique(y)]
            out.setdefault(str(g), {})[t] = {"n": int(sel.sum()), "accuracy": round(float((p == y).mean()), 4),
                                            "macro_f1": round(float(np.mean(f1)), 4)}
    return out


def save_finetuned(model: _Model, tasks: Mapping[str, HeadSpec], meta: dict[str, Any], out_dir: Path) -> Path:
    """Write ``heads.*`` and the trained top layers (``quantized_deltas``) into ``out_dir``."""
    import hashlib

    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(quantized_deltas(model.state(), model.initial), str(out_dir / ENCODER_TOP))
    digest = hashlib.sha256((out_dir / ENCODER_TOP).read_bytes()).hexdigest()[:16]
    meta = dict(meta)
    meta["encoder"] = {"file": ENCODER_TOP, "layers": list(range(model.n_frozen, model.n_frozen + len(model.layers))),
                       "dtype": "change from the base in Q4_0 (matrices), float16 (vectors)",
                       "sha256_16": digest}
    Heads(model.heads, dict(tasks), meta).save(out_dir)
    return out_dir
