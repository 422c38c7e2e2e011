"""The cxtext REST service: ``uvicorn api.main:app`` or ``cxtext serve``.

``create_app(settings)`` builds the app; nothing heavy happens at import. The
lifespan opens the job store, loads the models (in a thread, so ``/healthz``
answers at once and ``/readyz`` says 503 until they are in), starts the
micro-batcher and the job runner, which resumes unfinished jobs.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Optional

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from . import errors
from .batcher import MicroBatcher, ModelGate
from .deps import ServiceState, require_api_key
from .jobs import JobRunner, JobStore
from .limits import BodyLimitMiddleware
from .routers import analyze, health, jobs, models, ui
from .settings import ApiSettings, get_settings

log = logging.getLogger(__name__)

DESCRIPTION = """Offline customer-experience analysis of Persian, Arabic and English feedback.

* `POST /v1/analyze`, `POST /v1/analyze/batch`: interactive; concurrent requests share model passes.
* `POST /v1/jobs`: upload a dump (CSV, TSV, JSONL, XLSX, Parquet); poll `GET /v1/jobs/{id}`; fetch results,
  summary and an HTML report. Jobs survive restarts.
* Errors are `{"error": {"code", "message"}}` with a 4xx status.
"""


GIL_SWITCH_INTERVAL_S = 0.0002


def _load_analyzer(settings: ApiSettings) -> Any:
    import cxtext

    return cxtext.load(base=settings.base, models=settings.models, device=settings.device)


def _set_threads(settings: ApiSettings) -> None:
    """The service owns its process: leave a core to the event loop (see
    ``ApiSettings.torch_threads``). Not done for an injected analyzer, whose
    process belongs to someone else (tests, an embedding application)."""
    import torch

    torch.set_num_threads(settings.effective_torch_threads)
    # torch releases the GIL around every op of the model thread; with the
    # default 5 ms switch interval the event loop then keeps it for up to 5 ms
    # each time, and the model thread stalls (measured: 44 → 54 req/s at 32
    # clients with 0.2 ms on 2 cores)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


WARM_UP = [{"text": "غذا سرد رسید و پیک بی‌ادب بود"}, {"text": "الطلب وصل متأخر والمندوب ما رد"},
           {"text": "The delivery was late but the food was great"}]


def _warm_up(analyzer: Any) -> None:
    """One pass per language before /readyz says ready: the normalizers and
    torch's lazy imports load here (seconds), not in a user's first request."""
    analyzer.analyze_batch(WARM_UP)


def _batch_fn(analyzer: Any):
    def run(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [a.to_dict() for a in analyzer.analyze_batch(records)]

    return run


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: ServiceState = app.state.cx
    state.analyzer, state.batcher, state.load_error = None, None, None
    s = state.settings
    s.jobs_dir.mkdir(parents=True, exist_ok=True)
    state.store = JobStore(s.jobs_db)
    state.runner = JobRunner(state.store, s, state.gate)
    injected = app.state.analyzer

    async def start() -> None:
        try:
            if injected is None:
                _set_threads(s)
            analyzer = injected if injected is not None else await run_in_threadpool(_load_analyzer, s)
            await run_in_threadpool(_warm_up, analyzer)
        except Exception as exc:  # noqa: BLE001 - reported by /readyz
            log.exception("loading the models failed")
            state.load_error = str(exc)
            return
        batcher = MicroBatcher(_batch_fn(analyzer), max_batch=s.batch_max_size,
                               max_wait_s=s.batch_max_wait_ms / 1000.0, queue_max=s.queue_max,
                               gate=state.gate, workers=s.effective_model_workers)
        await batcher.start()
        state.batcher = batcher
        state.analyzer = analyzer
        assert state.runner is not None
        state.runner.start(analyzer)
        log.info("cxtext API ready: %s", analyzer.model_id)

    task: Optional[asyncio.Task] = None
    if s.load_in_background and injected is None:
        task = asyncio.create_task(start())
    else:
        await start()
    try:
        yield
    finally:
        if task is not None and not task.done():
            task.cancel()
        if state.batcher is not None:
            await state.batcher.stop()
        await run_in_threadpool(state.runner.stop)
        state.store.close()


def create_app(settings: Optional[ApiSettings] = None, *, analyzer: Any = None) -> FastAPI:
    """Build the app. ``settings`` default to the environment's
    (``get_settings``); ``analyzer`` skips loading (tests pass a tiny one)."""
    s = settings or get_settings()
    app = FastAPI(title="cxtext", version=_version(), description=DESCRIPTION, lifespan=lifespan)
    app.state.cx = ServiceState(settings=s, gate=ModelGate(s.effective_model_workers))
    app.state.analyzer = analyzer
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, settings=s)
    if s.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=s.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Content-Type", "X-API-Key"])
    auth = [Depends(require_api_key)]
    app.include_router(health.router)
    app.include_router(ui.router)
    app.include_router(models.router, dependencies=auth)
    app.include_router(analyze.router, dependencies=auth)
    app.include_router(jobs.router, dependencies=auth)
    return app


def _version() -> str:
    import cxtext

    return cxtext.__version__


app = create_app()
