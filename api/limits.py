"""Request-body limits, enforced on the bytes as they arrive.

A declared ``Content-Length`` over the limit is refused before any byte is
read; a body without one (chunked) is counted as it streams and refused the
moment it passes the limit, so an over-size upload is never read whole. The
limit depends on the endpoint: uploads (``POST /v1/jobs``) and previews have
their own, every other body ``max_body_bytes``.
"""
from __future__ import annotations

from typing import Optional

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body
from .settings import ApiSettings


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI passes HTTPExceptions through to the
    JSON error handler."""

    def __init__(self, message: str):
        super().__init__(status_code=413, detail=message)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: ApiSettings):
        self.app = app
        self.settings = settings

    def limit_for(self, scope: Scope) -> tuple[int, str]:
        s = self.settings
        path = scope.get("path", "").rstrip("/")
        if scope.get("method") == "POST" and path == "/v1/jobs":
            return s.max_upload_bytes, "an upload (setting CXTEXT_API_MAX_UPLOAD_BYTES)"
        if scope.get("method") == "POST" and path == "/v1/preview":
            return s.max_preview_bytes, "a preview (setting CXTEXT_API_MAX_PREVIEW_BYTES)"
        return s.max_body_bytes, "a request body (setting CXTEXT_API_MAX_BODY_BYTES)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self.limit_for(scope)
        declared: Optional[int] = None
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    declared = None
        if declared is not None and declared > limit:
            msg = f"the body is {declared:,} bytes; the limit for {what} is {limit:,} bytes"
            await JSONResponse(error_body("body_too_large", msg), status_code=413,
                               headers={"Connection": "close"})(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(f"the body passed {limit:,} bytes, the limit for {what}; "
                                       "it was refused while streaming")
            return message

        await self.app(scope, limited, send)
