"""Shared state and dependencies of the routers."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Optional

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from .batcher import MicroBatcher
from .errors import ApiError
from .jobs import JobRunner, JobStore, ModelGate
from .settings import ApiSettings


@dataclass
class ServiceState:
    """What the lifespan builds: the analyzer (once loaded), the batcher, the jobs."""

    settings: ApiSettings
    gate: ModelGate = field(default_factory=ModelGate)
    analyzer: Any = None
    batcher: Optional[MicroBatcher] = None
    store: Optional[JobStore] = None
    runner: Optional[JobRunner] = None
    load_error: Optional[str] = None

    @property
    def ready(self) -> bool:
        return self.analyzer is not None and self.batcher is not None


# Dependencies are ``async def``: they never block, and a plain ``def`` would
# send every request through a thread-pool hop per dependency.
async def get_state(request: Request) -> ServiceState:
    return request.app.state.cx


async def get_ready_state(state: ServiceState = Depends(get_state)) -> ServiceState:
    """The state, once the models are loaded; 503 before."""
    if not state.ready:
        if state.load_error:
            raise ApiError(503, "not_ready", f"the models failed to load: {state.load_error}")
        raise ApiError(503, "not_ready", "the models are still loading; retry when GET /readyz says ready",
                       headers={"Retry-After": "2"})
    return state


async def get_jobs(state: ServiceState = Depends(get_state)) -> JobRunner:
    if state.runner is None:
        raise ApiError(503, "not_ready", "the job store is not open yet; retry")
    return state.runner


_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                               description="Needed when the server sets CXTEXT_API_KEY.")


async def require_api_key(key: Optional[str] = Security(_api_key_header),
                          state: ServiceState = Depends(get_state)) -> None:
    """Off unless ``api_key`` is set; then ``X-API-Key`` must match it."""
    settings = state.settings
    if settings.api_key is None:
        return
    if not key or not secrets.compare_digest(key.encode(), settings.api_key.encode()):
        raise ApiError(401, "unauthorized", ("missing X-API-Key header" if not key else "wrong X-API-Key") +
                       ": this server requires an API key (send it in the X-API-Key header)",
                       headers={"WWW-Authenticate": "ApiKey"})
