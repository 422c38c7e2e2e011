"""Jobs over uploaded dumps, and the preview the page uses to pick columns.

Uploads are streamed to disk as they arrive (``api/uploads.py``) under a
size limit enforced on the streamed bytes; the client's file name never
becomes a path.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse

from cxtext.io import Writer, read_chunks

from ..deps import ServiceState, get_jobs, get_state
from ..errors import ApiError
from ..jobs import RESULTS, JobRunner, check_job_id, job_view, new_job_id
from ..schemas import ERROR_RESPONSES, JobCreated, JobList, JobStatus, Preview
from ..uploads import ALLOWED, FORM_FIELDS, probe, receive_upload, sniff, upload_format

router = APIRouter(prefix="/v1", tags=["jobs"], responses=ERROR_RESPONSES)


def _multipart_doc(fields: tuple[str, ...]) -> dict[str, Any]:
    props: dict[str, Any] = {"file": {"type": "string", "format": "binary", "description": f"The dump: {ALLOWED}."}}
    docs = {"text_column": "Column with the feedback (default: guessed).",
            "id_column": "Column with the row id (default: guessed).",
            "lang": "fa, ar or en to force the language (default: detected per text).",
            "date_column": "Column with dates, for the report's trend (default: guessed).",
            "segment_column": "Column to break the report down by (channel, branch…).",
            "format": "csv, tsv, jsonl, xlsx or parquet when the file name's extension does not say."}
    for f in fields:
        props[f] = {"type": "string", "description": docs[f]}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": props}}}}}


@router.post("/jobs", status_code=202, response_model=JobCreated, summary="Upload a dump to analyze",
                    openapi_extra=_multipart_doc(FORM_FIELDS))
async def create_job(request: Request, runner: JobRunner = Depends(get_jobs),
                     state: ServiceState = Depends(get_state)) -> dict[str, Any]:
    if state.load_error:
        raise ApiError(503, "not_ready", f"the models failed to load, so no job could run: {state.load_error}")
    runner.check_capacity()
    job_id = new_job_id()
    d = runner.job_dir(job_id)
    d.mkdir(parents=True, exist_ok=False)
    try:
        up = await receive_upload(request, d / "upload.part")
        fmt = upload_format(up)
        lang = up.fields.get("lang") or None
        if lang is not None and lang not in ("fa", "ar", "en"):
            raise ApiError(422, "invalid_request",
                           f"lang {lang!r} is not supported; allowed: fa, ar, en, or empty to detect")
        inp = d / f"input.{fmt}"
        os.replace(up.path, inp)
        await run_in_threadpool(sniff, inp, fmt)
        pr = await run_in_threadpool(probe, inp, fmt, up.fields)
        params = {k: up.fields.get(k) or None for k in ("text_column", "id_column", "date_column", "segment_column")}
        params["lang"] = lang
        runner.make_room()
        runner.store.create(job_id, filename=up.filename, fmt=fmt, params=params, input_bytes=up.size)
        runner.store.update(job_id, text_column=pr.text_column, id_column=pr.id_column,
                            rows_total=pr.rows_total)
    except BaseException:
        shutil.rmtree(d, ignore_errors=True)
        raise
    runner.submit(job_id)
    return {"id": job_id, "status": "queued"}


@router.post("/preview", response_model=Preview, summary="Columns and first rows of a dump",
                     description="Send the whole file, or for CSV/TSV/JSONL just its first few hundred KB. "
                                 "Nothing is kept.", openapi_extra=_multipart_doc(("format",)))
async def preview(request: Request, state: ServiceState = Depends(get_state)) -> dict[str, Any]:
    tmp = state.settings.data_dir / "tmp" / secrets.token_urlsafe(12)
    tmp.mkdir(parents=True)
    try:
        up = await receive_upload(request, tmp / "upload.part")
        fmt = upload_format(up)
        path = tmp / f"preview.{fmt}"
        os.replace(up.path, path)
        await run_in_threadpool(sniff, path, fmt)
        pr = await run_in_threadpool(probe, path, fmt, {}, 5, False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return pr.__dict__


def _job(runner: JobRunner, job_id: str) -> dict[str, Any]:
    job = runner.store.get(check_job_id(job_id))
    if job is None:
        raise ApiError(404, "job_not_found", f"no job {job_id!r}: it never existed, was deleted, or was dropped "
                                             "to keep at most CXTEXT_API_MAX_JOBS jobs")
    return job


def _done(runner: JobRunner, job_id: str, what: str) -> tuple[dict[str, Any], Path]:
    job = _job(runner, job_id)
    if job["status"] == "failed":
        raise ApiError(409, "job_failed", f"the job failed, so it has no {what}: {job['error_message']}")
    if job["status"] != "done":
        total = job["rows_total"]
        raise ApiError(409, "job_not_done", f"the job is {job['status']} ({job['rows_done']:,}/"
                                            f"{'?' if total is None else f'{total:,}'} rows); its {what} is ready "
                                            "when GET /v1/jobs/{id} says done")
    return job, runner.job_dir(job["id"])


@router.get("/jobs", response_model=JobList, summary="Recent jobs")
def list_jobs(limit: int = Query(50, ge=1, le=500), runner: JobRunner = Depends(get_jobs)) -> dict[str, Any]:
    return {"jobs": [job_view(j) for j in runner.store.list(limit)]}


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="A job's status and progress")
def get_job(job_id: str, runner: JobRunner = Depends(get_jobs)) -> dict[str, Any]:
    return job_view(_job(runner, job_id))


def _convert(src: Path, dest: Path, fmt: str) -> None:
    """results.jsonl → CSV/Parquet, once; written aside and renamed into place."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    try:
        with Writer(str(tmp), fmt) as w:
            if src.stat().st_size:
                _, chunks = read_chunks(str(src), "jsonl", 5000)
                for df in chunks:
                    w.write(df)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8",
          "parquet": "application/vnd.apache.parquet"}


@router.get("/jobs/{job_id}/results", summary="Every input row with the cx_* analysis columns",
            response_class=FileResponse, responses={200: {"content": {m.split(";")[0]: {} for m in _MEDIA.values()}}})
def job_results(job_id: str,
                format: Literal["csv", "jsonl", "parquet"] = Query("csv", description="csv, jsonl or parquet"),
                runner: JobRunner = Depends(get_jobs)) -> FileResponse:
    job, d = _done(runner, job_id, "results")
    src = d / RESULTS
    path = src if format == "jsonl" else d / f"results.{format}"
    if not path.exists():
        _convert(src, path, format)
    stem = Path(job["filename"] or "dump").stem or "dump"
    return FileResponse(path, media_type=_MEDIA[format], filename=f"{stem}.cx.{format}")


@router.get("/jobs/{job_id}/summary", summary="The run's summary (NPS/CSAT proxies, aspects, drivers)")
def job_summary(job_id: str, runner: JobRunner = Depends(get_jobs)) -> Response:
    _, d = _done(runner, job_id, "summary")
    return Response((d / "summary.json").read_bytes(), media_type="application/json")


@router.get("/jobs/{job_id}/report", response_class=HTMLResponse, summary="Self-contained HTML report")
def job_report(job_id: str, runner: JobRunner = Depends(get_jobs)) -> HTMLResponse:
    _, d = _done(runner, job_id, "report")
    return HTMLResponse((d / "report.html").read_text(encoding="utf-8"))


@router.delete("/jobs/{job_id}", status_code=204, summary="Delete a job and its files (stops it if running)")
def delete_job(job_id: str, runner: JobRunner = Depends(get_jobs)) -> Response:
    _job(runner, job_id)
    runner.delete(job_id)
    return Response(status_code=204)
