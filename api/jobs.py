"""Jobs that survive a restart.

A job is a row in SQLite (stdlib ``sqlite3``) and a folder
``<data_dir>/jobs/<id>/``: ``input.<format>`` (the upload), ``results.jsonl``
(every input row with the ``cx_*`` columns, appended chunk by chunk),
``summary.json`` and ``report.html`` (built once the last row is in).

Exactly once, across kills: after each chunk the results file is flushed and
fsynced, and only then ``rows_done`` and the file's byte size are committed
together in one transaction. A job found ``queued`` or ``running`` at start-up
is resumed: its results file is truncated to the committed size (dropping a
chunk written but not committed) and that many input rows are skipped. The
summary and report come from one pass over the finished results file, so they
do not depend on what was in memory before a restart.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import re
import secrets
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence

from cxtext.batch import analyze_file
from cxtext.errors import CxtextError
from cxtext.io import ERROR_COLUMN, Writer, read_chunks
from cxtext.report import ReportCollector, render
from cxtext.results import Analysis
from cxtext.summary import Summary

from .batcher import ModelGate
from .errors import ApiError, from_engine
from .settings import ApiSettings

log = logging.getLogger(__name__)

JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
"""``secrets.token_urlsafe(16)``: 22 URL-safe characters, 128 random bits."""
ACTIVE = ("queued", "running")
FINISHED = ("done", "failed")
RESULTS = "results.jsonl"


def new_job_id() -> str:
    return secrets.token_urlsafe(16)


def check_job_id(job_id: str) -> str:
    """Validate the id's shape before it gets near the database or the disk."""
    if not JOB_ID_RE.fullmatch(job_id or ""):
        raise ApiError(404, "job_not_found",
                       "no such job: job ids are 22 URL-safe characters as returned by POST /v1/jobs")
    return job_id


# -- the store ----------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    filename TEXT,
    format TEXT NOT NULL,
    params TEXT NOT NULL,
    input_bytes INTEGER NOT NULL DEFAULT 0,
    rows_done INTEGER NOT NULL DEFAULT 0,
    rows_total INTEGER,
    errors INTEGER NOT NULL DEFAULT 0,
    results_bytes INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT,
    text_column TEXT,
    id_column TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
"""
_UPDATABLE = {"status", "rows_done", "rows_total", "errors", "results_bytes", "error_code", "error_message",
              "text_column", "id_column", "started_at", "finished_at"}


class JobStore:
    """The jobs table. One connection, serialized by a lock; WAL + full sync
    so a committed chunk survives a crash."""

    def __init__(self, db_path: Path):
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(db_path), check_same_thread=False, timeout=30)
        self._conn.row_factory = sqlite3.Row
        with self._lock, self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def create(self, job_id: str, *, filename: Optional[str], fmt: str, params: dict[str, Any],
               input_bytes: int) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO jobs (id, status, filename, format, params, input_bytes, created_at) "
                "VALUES (?,?,?,?,?,?,?)",
                (job_id, "queued", filename, fmt, json.dumps(params), input_bytes, time.time()))

    def get(self, job_id: str) -> Optional[dict[str, Any]]:
        with self._lock:
            row = self._conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return dict(row) if row else None

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]

    def update(self, job_id: str, **values: Any) -> None:
        bad = set(values) - _UPDATABLE
        if bad:
            raise ValueError(f"not updatable: {sorted(bad)}")
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._lock, self._conn:
            self._conn.execute(f"UPDATE jobs SET {cols} WHERE id = ?", (*values.values(), job_id))

    def commit_chunk(self, job_id: str, rows_done: int, errors: int, results_bytes: int) -> None:
        """Record a flushed, fsynced chunk: rows and byte size in one transaction."""
        self.update(job_id, rows_done=rows_done, errors=errors, results_bytes=results_bytes)

    def delete(self, job_id: str) -> bool:
        with self._lock, self._conn:
            cur = self._conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return cur.rowcount > 0

    def unfinished(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT id FROM jobs WHERE status IN ('queued', 'running') "
                                      "ORDER BY created_at").fetchall()
        return [r["id"] for r in rows]

    def queued(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at").fetchall()
        return [r["id"] for r in rows]

    def count_active(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')")
                       .fetchone()[0])

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])

    def oldest_finished(self, n: int) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT id FROM jobs WHERE status IN ('done', 'failed') "
                                      "ORDER BY created_at LIMIT ?", (n,)).fetchall()
        return [r["id"] for r in rows]


def job_view(job: dict[str, Any], prefix: str = "/v1/jobs") -> dict[str, Any]:
    """The public view of a job row (``schemas.JobStatus``)."""
    base = f"{prefix}/{job['id']}"
    links = {"self": base}
    if job["status"] == "done":
        links.update({"results": f"{base}/results?format=csv", "results_jsonl": f"{base}/results?format=jsonl",
                      "results_parquet": f"{base}/results?format=parquet", "summary": f"{base}/summary",
                      "report": f"{base}/report"})
    return {
        "id": job["id"], "status": job["status"], "filename": job["filename"], "format": job["format"],
        "rows_done": job["rows_done"], "rows_total": job["rows_total"], "errors": job["errors"],
        "error": ({"code": job["error_code"], "message": job["error_message"]} if job["error_code"] else None),
        "text_column": job["text_column"], "id_column": job["id_column"], "created_at": job["created_at"],
        "started_at": job["started_at"], "finished_at": job["finished_at"], "links": links,
    }


# -- results ----------------------------------------------------------------
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _ValidUtf8:
    """A text file whose ``write`` turns unpaired surrogates (from ``\\ud800``
    escapes in a JSONL upload) into U+FFFD instead of failing the job."""

    def __init__(self, fh: Any):
        self._fh = fh

    def write(self, text: str) -> int:
        return self._fh.write(_LONE_SURROGATE.sub("\ufffd", text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


class AppendJsonlWriter(Writer):
    """The engine's JSONL writer, appending to an existing results file, with
    ``sync()`` to make a chunk durable before it is committed."""

    def __init__(self, path: Path):
        super().__init__(str(path), "jsonl")
        self._fh = _ValidUtf8(open(path, "a", encoding="utf-8"))

    def flush(self) -> None:
        self._fh.flush()

    def sync(self) -> int:
        """Flush and fsync; return the file's size in bytes."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        return os.fstat(self._fh.fileno()).st_size


def row_analysis(row: dict[str, Any], text_column: Optional[str], id_column: Optional[str]) -> Analysis:
    """Rebuild a row's :class:`Analysis` from its ``cx_analysis`` JSON and text."""
    text = row.get(text_column) if text_column else None
    text = text if isinstance(text, str) else ""
    raw = row.get("cx_analysis")
    if isinstance(raw, str) and raw:
        return Analysis.from_dict({**json.loads(raw), "text": text})
    rid = row.get(id_column) if id_column else None
    return Analysis.failed(None if rid is None else str(rid), text, str(row.get(ERROR_COLUMN) or "not analyzed"))


def build_summary(results: Path, text_column: Optional[str], id_column: Optional[str],
                  date_column: Optional[str], segment_column: Optional[str],
                  chunk_rows: int = 2048) -> tuple[dict[str, Any], ReportCollector]:
    """One pass over a finished results file → summary and report data."""
    summary = Summary()
    collector = ReportCollector(date_column=date_column, segment_column=segment_column)
    if results.stat().st_size == 0:
        return summary.to_dict(), collector
    _, chunks = read_chunks(str(results), "jsonl", chunk_rows)
    for df in chunks:
        analyses = [row_analysis(r, text_column, id_column) for r in df.to_dict("records")]
        for a in analyses:
            summary.add(a)
        collector.add(df, analyses)
    return summary.to_dict(), collector


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def count_rows(path: Path, fmt: str) -> Optional[int]:
    """Rows in the input (Parquet: from its metadata; others: one read pass)."""
    info, chunks = read_chunks(str(path), fmt, 20_000)
    if fmt == "parquet" and info.total_rows is not None:
        return info.total_rows
    return sum(len(c) for c in chunks)


class _GatedAnalyzer:
    """Passes ``analyzer.pipe`` through the model gate, one batch at a time."""

    def __init__(self, analyzer: Any, gate: ModelGate):
        self.analyzer = analyzer
        self.gate = gate

    def pipe(self, items: Iterable[Any], batch_size: int = 64) -> Iterator[Analysis]:
        it = iter(items)
        while True:
            chunk = list(itertools.islice(it, batch_size))
            if not chunk:
                return
            with self.gate.background():
                out = self.analyzer.analyze_batch(chunk)
            yield from out


class _Stop(Exception):
    """Raised inside a job to stop it (cancelled, or the service is stopping)."""


# -- the runner ---------------------------------------------------------------
class JobRunner:
    """Worker threads that run jobs from a queue, resuming unfinished ones at start."""

    POLL_S = 2.0

    def __init__(self, store: JobStore, settings: ApiSettings, gate: ModelGate):
        self.store = store
        self.settings = settings
        self.gate = gate
        self.analyzer: Any = None
        self._queue: "queue.Queue[Optional[str]]" = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._active: set[str] = set()
        self._cancelled: set[str] = set()
        self._stopping = threading.Event()
        self._lock_fh: Any = None

    def job_dir(self, job_id: str) -> Path:
        return self.settings.jobs_dir / check_job_id(job_id)

    # -- lifecycle --
    def start(self, analyzer: Any) -> None:
        self.analyzer = analyzer
        t = threading.Thread(target=self._dispatch, name="cxtext-jobs", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        for _ in range(self.settings.job_workers):
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads = []
        if self._lock_fh is not None:
            self._lock_fh.close()  # releases the lock
            self._lock_fh = None

    def _acquire_lock(self) -> bool:
        """One job runner per data dir, however many processes serve it
        (``uvicorn --workers N``): the holder of ``jobs.lock`` runs the jobs,
        the others only accept uploads. A killed holder's lock is released
        by the OS, so a restarted process takes over at once."""
        try:
            import fcntl
        except ImportError:  # not on POSIX: one process per data dir is the deployment's promise
            return True
        fh = open(self.settings.data_dir / "jobs.lock", "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._lock_fh = fh
        return True

    def _dispatch(self) -> None:
        while not self._acquire_lock():
            if self._stopping.wait(1.0):
                return
        for job_id in self.store.unfinished():  # resume what a previous process left
            self._queue.put(job_id)
        for i in range(self.settings.job_workers):
            t = threading.Thread(target=self._work, name=f"cxtext-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        # jobs uploaded through another process of the same data dir
        while not self._stopping.wait(self.POLL_S):
            for job_id in self.store.queued():
                if job_id not in self._active:
                    self._queue.put(job_id)

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def delete(self, job_id: str) -> bool:
        """Delete a job; a running one stops after its current batch and
        removes its own folder."""
        with self._lock:
            existed = self.store.delete(job_id)
            if job_id in self._active:
                self._cancelled.add(job_id)
                return existed
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        return existed

    def check_capacity(self) -> None:
        """Refuse a new job (before its upload is read) when every kept job is still active."""
        if self.store.count_active() >= self.settings.max_jobs:
            raise ApiError(429, "too_many_jobs", f"{self.settings.max_jobs} jobs are queued or running (setting "
                                                 "CXTEXT_API_MAX_JOBS); wait for one to finish or delete one",
                           headers={"Retry-After": "30"})

    def make_room(self) -> None:
        """Keep at most ``max_jobs - 1`` jobs before adding one: drop the oldest finished."""
        extra = self.store.count() - self.settings.max_jobs + 1
        if extra > 0:
            for job_id in self.store.oldest_finished(extra):
                self.delete(job_id)
        self.check_capacity()

    # -- work --
    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._stopping.is_set():
                return
            with self._lock:
                job = self.store.get(job_id)
                if job is None or job["status"] not in ACTIVE or job_id in self._active:
                    continue
                self._active.add(job_id)
            try:
                self._run(job)
            except Exception:  # noqa: BLE001 - a worker thread must survive any job
                log.exception("job %s crashed the runner", job_id)
            finally:
                with self._lock:
                    self._active.discard(job_id)
                    cancelled = job_id in self._cancelled
                    self._cancelled.discard(job_id)
                if cancelled:
                    shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def _check(self, job_id: str) -> None:
        if job_id in self._cancelled or self._stopping.is_set():
            raise _Stop

    def _run(self, job: dict[str, Any]) -> None:
        s = self.settings
        job_id = job["id"]
        d = self.job_dir(job_id)
        fmt = job["format"]
        params = json.loads(job["params"])
        inp = d / f"input.{fmt}"
        res = d / RESULTS
        self.store.update(job_id, status="running", started_at=job["started_at"] or time.time())
        writer: Optional[AppendJsonlWriter] = None
        try:
            total = job["rows_total"]
            if total is None:
                total = count_rows(inp, fmt)
                self.store.update(job_id, rows_total=total)
            # resume: drop whatever was written after the last commit
            committed = int(job["results_bytes"])
            with open(res, "ab") as fh:
                fh.truncate(committed)
            done, errors = int(job["rows_done"]), int(job["errors"])
            writer = AppendJsonlWriter(res)
            w = writer

            def on_chunk(out: Any, analyses: Sequence[Analysis]) -> None:
                nonlocal done, errors
                self._check(job_id)
                w.flush()
                if s.job_chunk_delay_s:
                    time.sleep(s.job_chunk_delay_s)
                size = w.sync()
                done += len(out)
                if ERROR_COLUMN in out.columns:
                    col = out[ERROR_COLUMN]
                    errors += int((col.notna() & (col.astype(str) != "")).sum())
                self.store.commit_chunk(job_id, done, errors, size)

            result = analyze_file(
                _GatedAnalyzer(self.analyzer, self.gate), str(inp), str(res),
                text_column=params.get("text_column"), id_column=params.get("id_column"), input_format=fmt,
                output_format="jsonl", batch_size=s.job_batch_size, chunk_rows=s.job_chunk_rows,
                lang=params.get("lang"), skip_rows=done, writer=writer, on_chunk=on_chunk)
            writer.close()
            writer = None
            self._check(job_id)
            tcol, icol = result.text_column or params.get("text_column"), result.id_column
            summary, collector = build_summary(res, tcol, icol, params.get("date_column"), params.get("segment_column"))
            _write_atomic(d / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2))
            title = f"Customer feedback report — {job['filename']}" if job["filename"] else "Customer feedback report"
            _write_atomic(d / "report.html", render(summary, collector, title))
            self.store.update(job_id, status="done", finished_at=time.time(), rows_total=done,
                              text_column=tcol, id_column=icol)
            log.info("job %s done: %d rows, %d errors", job_id, done, errors)
        except _Stop:
            if writer is not None:
                writer.close()
            if job_id not in self._cancelled:
                self.store.update(job_id, status="queued")  # resumed at the next start
        except Exception as exc:  # noqa: BLE001 - the job fails, the service does not
            if writer is not None:
                try:
                    writer.close()
                except Exception:  # noqa: BLE001
                    pass
            if isinstance(exc, CxtextError):
                err = from_engine(exc, hide=str(d))
                code, message = err.code, err.message
            elif isinstance(exc, (ValueError, OSError, UnicodeError, KeyError)):
                code, message = "job_failed", str(exc).replace(str(d), "the upload")
            else:
                log.exception("job %s failed", job_id)
                code, message = "internal", f"{type(exc).__name__}: {str(exc).replace(str(d), 'the upload')}"
            self.store.update(job_id, status="failed", finished_at=time.time(), error_code=code,
                              error_message=message[:2000])
