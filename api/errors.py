"""Every error leaves the service as ``{"error": {"code", "message"}}`` with a
4xx status that says whose fault it is; the message says what was wrong and
what is allowed. Codes are stable strings; an engine error also carries its
``E###`` code as ``engine_code``."""
from __future__ import annotations

import logging
from typing import Any, Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxtext.errors import ColumnNotFoundError, CorruptInputError, CxtextError, UnsupportedFormatError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered as JSON with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: Optional[dict[str, str]] = None,
                 **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def from_engine(exc: CxtextError, hide: Optional[str] = None) -> ApiError:
    """Map an engine error to an API error; ``hide`` (a server path) is
    replaced by "the upload" so no server path reaches a client."""
    msg = exc.message
    if hide:
        msg = msg.replace(hide, "the upload")
    if isinstance(exc, UnsupportedFormatError):
        return ApiError(415, "unsupported_format", msg, engine_code=exc.code)
    if isinstance(exc, CorruptInputError):
        return ApiError(422, "corrupt_upload", msg, engine_code=exc.code)
    if isinstance(exc, ColumnNotFoundError):
        return ApiError(422, "column_not_found", msg, engine_code=exc.code)
    return ApiError(422, "invalid_input", msg, engine_code=exc.code)


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "body_too_large",
                 415: "unsupported_media_type", 429: "too_many_requests", 503: "unavailable"}

ANALYZE_SHAPE = '{"text": "…", "id": "…", "lang": "fa" | "ar" | "en" | null}'


def _loc(loc: tuple) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) if parts else "body"


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "")
        return 400, "invalid_json", (f"the request body is not valid JSON ({detail} at character "
                                     f"{first.get('loc', ('', '?'))[-1]}); send a JSON object with "
                                     "Content-Type: application/json")
    if tuple(first.get("loc", ())) == ("body",) and isinstance(first.get("input"), (bytes, str)):
        return 415, "not_json", ("the request body must be a JSON object sent with Content-Type: application/json, "
                                 "e.g. " + ANALYZE_SHAPE)
    msgs = []
    for e in errors[:5]:
        got = e.get("input")
        got_s = "" if e.get("type") == "missing" else f" (got {type(got).__name__}: {str(got)[:40]!r})"
        msgs.append(f"{_loc(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}{got_s}")
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return 422, "invalid_request", "; ".join(msgs) + more


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, **exc.extra), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(CxtextError)
    async def _engine_error(request: Request, exc: CxtextError) -> JSONResponse:
        return await _api_error(request, from_engine(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_message(exc)
        if code == "invalid_request" and request.url.path.rstrip("/") == "/v1/analyze":
            message += "; expected " + ANALYZE_SHAPE
        elif code == "invalid_request" and request.url.path.rstrip("/") == "/v1/analyze/batch":
            message += '; expected {"items": [{"id": "…", "text": "…", "lang": null}, …]}'
        return JSONResponse(error_body(code, message), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}; see /docs"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        elif exc.status_code == 400 and message == "There was an error parsing the body":
            code, message = "invalid_json", "the request body could not be decoded; send UTF-8 encoded JSON"
        return JSONResponse(error_body(code, message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "an unexpected error; it was logged on the server"),
                            status_code=500)
