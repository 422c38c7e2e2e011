"""Interactive analysis. Handlers only check the input and await the
micro-batcher; the model runs in the batcher's worker thread, never on the
event loop, and concurrent requests share its passes."""
from __future__ import annotations

import re
from typing import Any, Optional

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from cxtext.results import Analysis as AnalysisResult

from ..deps import ServiceState, get_ready_state
from ..errors import ApiError
from ..schemas import ERROR_RESPONSES, Analysis, AnalyzeRequest, BatchRequest, BatchResponse

router = APIRouter(prefix="/v1", tags=["analyze"], responses=ERROR_RESPONSES)

LANGS = ("fa", "ar", "en")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_ERROR = "text contains an unpaired UTF-16 surrogate (e.g. a lone \\ud800 escape); send valid Unicode"


def _id(v: Any) -> Optional[str]:
    """The id as a string; an unpaired surrogate (which JSON cannot carry back) becomes U+FFFD."""
    return None if v is None else _LONE_SURROGATE.sub("\ufffd", str(v))


@router.post("/analyze", response_model=Analysis, summary="Analyze one text",
             description="Returns the same keys as `Analysis.to_dict()` of the Python API and the CLI's "
                         "`cx_analysis` column. A text that cannot be analyzed is a 422 with the reason.")
async def analyze(req: AnalyzeRequest, state: ServiceState = Depends(get_ready_state)) -> JSONResponse:
    limit = state.settings.max_text_chars
    if not req.text.strip():
        raise ApiError(422, "empty_text", f"text is empty; send 1 to {limit:,} characters of feedback")
    if len(req.text) > limit:
        raise ApiError(422, "text_too_long", f"text has {len(req.text):,} characters; the limit is {limit:,} "
                                             "(setting CXTEXT_API_MAX_TEXT_CHARS); split it or use POST /v1/jobs")
    if _LONE_SURROGATE.search(req.text):
        raise ApiError(422, "invalid_text", SURROGATE_ERROR)
    assert state.batcher is not None
    d = await state.batcher.submit({"id": _id(req.id), "text": req.text, "lang": req.lang})
    if d.get("error"):
        raise ApiError(422, "unanalyzable", f"the text cannot be analyzed: {d['error']}")
    # to_dict() already has the schema's shape (tests/test_api.py, schema drift): skip
    # FastAPI's re-validation of every nested field, a few ms per request
    return JSONResponse(d)


@router.post("/analyze/batch", response_model=BatchResponse, summary="Analyze several texts",
             description="Items come back in the same order and count. An item that cannot be analyzed (empty, "
                         "too long, not a string, unknown lang) has its `error` set; the request still succeeds.")
async def analyze_batch(req: BatchRequest, state: ServiceState = Depends(get_ready_state)) -> JSONResponse:
    s = state.settings
    n = len(req.items)
    if n == 0:
        raise ApiError(422, "empty_batch", f"items is empty; send 1 to {s.max_batch_items} items")
    if n > s.max_batch_items:
        raise ApiError(413, "batch_too_large", f"{n:,} items; the limit is {s.max_batch_items} per request "
                                               "(setting CXTEXT_API_MAX_BATCH_ITEMS); split the batch or use "
                                               "POST /v1/jobs")
    model = state.analyzer.model_id
    out: list[Optional[dict[str, Any]]] = [None] * n
    todo: list[tuple[int, dict[str, Any]]] = []
    for i, item in enumerate(req.items):
        rid = _id(item.id)
        if item.lang is not None and item.lang not in LANGS:
            out[i] = AnalysisResult.failed(rid, item.text, f"lang {item.lang!r} is not supported; allowed: fa, ar, en "
                                                           "or null to detect", model).to_dict()
        elif isinstance(item.text, str) and len(item.text) > s.max_text_chars:
            out[i] = AnalysisResult.failed(rid, item.text, f"text too long: {len(item.text):,} characters, the limit "
                                                           f"is {s.max_text_chars:,}", model).to_dict()
        elif isinstance(item.text, str) and _LONE_SURROGATE.search(item.text):
            out[i] = AnalysisResult.failed(rid, _LONE_SURROGATE.sub("\ufffd", item.text), SURROGATE_ERROR,
                                           model).to_dict()
        else:
            todo.append((i, {"id": rid, "text": item.text, "lang": item.lang}))
    assert state.batcher is not None
    if todo:
        done = await state.batcher.submit_many([r for _, r in todo])
        for (i, _), d in zip(todo, done):
            out[i] = d
    return JSONResponse({"items": out})
