"""What is loaded: the base encoder, the heads, label sets, taxonomy, versions."""
from __future__ import annotations

import platform
from importlib import metadata

from fastapi import APIRouter, Depends

from ..deps import ServiceState, get_ready_state
from ..schemas import ERROR_RESPONSES, ModelsInfo

router = APIRouter(prefix="/v1", tags=["models"], responses=ERROR_RESPONSES)


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


@router.get("/models", response_model=ModelsInfo, summary="What is loaded")
def models(state: ServiceState = Depends(get_ready_state)) -> dict:
    import cxtext

    a = state.analyzer
    s = state.settings
    enc, heads, tax = a.encoder, a.heads, a.taxonomy
    return {
        "model": a.model_id,
        "cxtext_version": cxtext.__version__,
        "base": {"name": enc.name, "source": getattr(enc, "source", None), "path": str(enc.path),
                 "hidden_size": enc.hidden_size, "window_tokens": getattr(enc, "window", None),
                 "device": str(getattr(enc, "device", "cpu"))},
        "heads": {"path": str(heads.path), "version": heads.meta.get("version"), "tasks": list(heads.tasks),
                  "trained_on": heads.base.get("name") or heads.base.get("source"),
                  "metrics": heads.meta.get("metrics", {})},
        "labels": {t: list(spec.labels) for t, spec in heads.tasks.items()},
        "taxonomy": {"path": str(tax.path), "version": tax.version, "aspects": list(tax.aspect_names),
                     "journey_stages": {n: tax.journey_stage_of(n) for n in tax.aspect_names},
                     "signals": list(tax.signals)},
        "versions": {"cxtext": cxtext.__version__, "python": platform.python_version(),
                     **{p: _version(p) for p in ("torch", "transformers", "fastapi", "pydantic")}},
        "limits": {"max_text_chars": s.max_text_chars, "max_batch_items": s.max_batch_items,
                   "max_body_bytes": s.max_body_bytes, "max_upload_bytes": s.max_upload_bytes,
                   "max_jobs": s.max_jobs, "batch_max_size": s.batch_max_size,
                   "batch_max_wait_ms": s.batch_max_wait_ms, "auth": s.api_key is not None,
                   "torch_threads": _torch_threads(), "model_workers": state.gate.capacity},
    }


@router.get("/stats", summary="Micro-batching counters since start")
def stats(state: ServiceState = Depends(get_ready_state)) -> dict:
    assert state.batcher is not None
    st = state.batcher.stats
    recent = st.sizes[-1000:]
    return {"model_passes": st.calls, "texts": st.items, "largest_batch": st.largest,
            "mean_batch": round(st.items / st.calls, 2) if st.calls else None,
            "mean_batch_recent": round(sum(recent) / len(recent), 2) if recent else None,
            "queued": state.batcher.queued}
