"""Liveness and readiness probes (open even when an API key is set)."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ..deps import ServiceState, get_state
from ..errors import error_body

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The models are loaded (503 until then)",
            responses={503: {"description": "still loading, or loading failed"}})
def readyz(state: ServiceState = Depends(get_state)) -> JSONResponse:
    if state.ready:
        return JSONResponse({"status": "ready", "model": state.analyzer.model_id})
    if state.load_error:
        return JSONResponse(error_body("not_ready", f"the models failed to load: {state.load_error}"), status_code=503)
    return JSONResponse(error_body("not_ready", "the models are still loading"), status_code=503,
                        headers={"Retry-After": "2"})
