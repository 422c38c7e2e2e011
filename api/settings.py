"""Settings of the REST service, read from ``CXTEXT_API_*`` environment
variables by the cached :func:`get_settings` (tests pass their own to
``create_app(settings)``); routes read them from the app's state.

The model itself is chosen as everywhere else in cxtext: ``CXTEXT_MODELS``,
``CXTEXT_BASE``, ``CXTEXT_DEVICE`` and ``CXTEXT_CACHE_DIR`` (see
``cxtext/settings.py``) unless ``models`` / ``base`` / ``device`` are set here.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "CXTEXT_API_"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/cxtext/api``, else ``~/.local/share/cxtext/api``."""
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "cxtext" / "api"


class ApiSettings(BaseModel):
    """Every knob of the service. The environment variable of a field is
    ``CXTEXT_API_`` + its name in upper case (``max_text_chars`` →
    ``CXTEXT_API_MAX_TEXT_CHARS``), except ``api_key`` → ``CXTEXT_API_KEY``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- model ------------------------------------------------------------
    models: Optional[str] = Field(None, description="Heads folder; default: cxtext's (CXTEXT_MODELS or the shipped models/).")
    base: Optional[str] = Field(None, description="Base encoder; default: what the heads were trained on.")
    device: Optional[str] = Field(None, description="cpu, cuda, cuda:1 …; default: CXTEXT_DEVICE or cpu.")
    model_workers: Optional[int] = Field(None, ge=1, le=16, description=(
        "Model passes run at the same time, each in its own thread; default 2 (1 on one core): one pass's "
        "tokenizing and post-processing overlaps the other's matrix work."))
    torch_threads: Optional[int] = Field(None, ge=1, description=(
        "torch intra-op threads per model pass when the service loads the models; default: the cores divided "
        "among the model workers (at least 1). On 2 cores, two 1-thread passes served 1.5-2x the requests/s of "
        "one 2-thread pass (scripts/bench_api.py)."))
    load_in_background: bool = Field(True, description="Answer /healthz while the models load; /readyz says 503 until done.")

    # -- request limits ---------------------------------------------------
    max_text_chars: int = Field(10_000, ge=1, description="Longest text accepted, in characters.")
    max_batch_items: int = Field(256, ge=1, description="Most items in one POST /v1/analyze/batch.")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Largest JSON request body, in bytes.")
    max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1024, description="Largest uploaded file (whole multipart body), in bytes.")
    max_preview_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Largest file sent to POST /v1/preview, in bytes.")

    # -- micro-batching -----------------------------------------------------
    batch_max_size: int = Field(64, ge=1, description="Most texts gathered into one model pass.")
    batch_max_wait_ms: float = Field(5.0, ge=0, description="Longest wait for more texts once one is queued, in ms.")
    queue_max: int = Field(4096, ge=1, description="Texts waiting for the model before requests get 503.")

    # -- jobs -------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir, description="Uploads, results and the job database live here.")
    db_path: Optional[Path] = Field(None, description="SQLite file of the jobs; default <data_dir>/jobs.sqlite3.")
    max_jobs: int = Field(200, ge=1, description="Jobs kept; the oldest finished ones are deleted to make room.")
    job_workers: int = Field(1, ge=1, le=16, description="Jobs analyzed at the same time.")
    job_chunk_rows: int = Field(512, ge=1, description="Rows read, analyzed and committed at a time (the resume granularity).")
    job_batch_size: int = Field(32, ge=1, description="Rows per model pass inside a job chunk (smaller = interactive requests wait less).")
    job_chunk_delay_s: float = Field(0.0, ge=0, description="TEST ONLY: sleep between writing a chunk and committing it.")

    # -- access -----------------------------------------------------------
    api_key: Optional[str] = Field(None, description="When set, /v1/* needs the header X-API-Key with this value.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (comma-separated in the env); empty = CORS off.")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [o.strip() for o in v.split(",") if o.strip()]
        return v

    @field_validator("api_key", "models", "base", "device", mode="before")
    @classmethod
    def _empty_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @property
    def effective_model_workers(self) -> int:
        return self.model_workers or (2 if (os.cpu_count() or 1) >= 2 else 1)

    @property
    def effective_torch_threads(self) -> int:
        return self.torch_threads or max(1, (os.cpu_count() or 1) // self.effective_model_workers)

    @property
    def jobs_db(self) -> Path:
        return self.db_path or (self.data_dir / "jobs.sqlite3")

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @classmethod
    def env_name(cls, field: str) -> str:
        return "CXTEXT_API_KEY" if field == "api_key" else ENV_PREFIX + field.upper()

    @classmethod
    def from_env(cls, environ: Optional[dict[str, str]] = None, **overrides: Any) -> "ApiSettings":
        """Settings from ``CXTEXT_API_*`` variables; keyword arguments win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(cls.env_name(name))
            if raw is not None:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            bad = "; ".join(f"{cls.env_name(str(e['loc'][0]))}={e.get('input')!r}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"invalid service setting: {bad}") from None


@lru_cache(maxsize=1)
def get_settings() -> ApiSettings:
    """The process's settings (cached); a FastAPI dependency."""
    return ApiSettings.from_env()
