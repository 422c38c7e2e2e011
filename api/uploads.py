"""Receiving an uploaded dump: streamed to disk part by part (never held in
memory; the size limit is enforced on the bytes as they arrive by FastAPI's
``max_body_size``), its format taken from the ``format`` field or the file
name's extension, its content checked against that format, and its first rows
read to check the columns asked for. The client's file name never becomes a
path: the file is stored as ``<dir>/input.<format>``.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from cxtext.errors import CxtextError
from cxtext.io import ERROR_COLUMN, ID_COLUMN_CANDIDATES, TEXT_COLUMN_CANDIDATES, pick_column, read_chunks
from cxtext.report import DATE_COLUMN_CANDIDATES

from .errors import ApiError, from_engine

UPLOAD_FORMATS = ("csv", "tsv", "jsonl", "xlsx", "parquet")
_SUFFIX = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
           ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
FORM_FIELDS = ("text_column", "id_column", "lang", "date_column", "segment_column", "format")
MAX_FIELD_BYTES = 1024
_BINARY_MAGIC = {b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?)", b"PAR1": "a Parquet file", b"%PDF": "a PDF",
                 b"\x89PNG": "a PNG image", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
                 b"\x1f\x8b": "a gzip archive (decompress it first)", b"\x7fELF": "a program",
                 b"\xd0\xcf\x11\xe0": "an old Excel .xls file (save it as .xlsx or CSV)"}
ALLOWED = "CSV, TSV, JSONL, XLSX or Parquet (.csv .tsv .jsonl .xlsx .parquet)"


@dataclass
class Upload:
    path: Path
    size: int
    filename: Optional[str]
    fields: dict[str, str] = field(default_factory=dict)


def _display_name(raw: Optional[str]) -> Optional[str]:
    """The client's file name, kept for display only: last path component,
    control characters dropped, at most 200 characters."""
    if not raw:
        return None
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)[:200]
    return name or None


async def receive_upload(request: Request, dest: Path) -> Upload:
    """Stream a multipart/form-data body: the ``file`` part to ``dest``, the
    small text fields (``FORM_FIELDS``) into a dict."""
    ctype, opts = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or not opts.get(b"boundary"):
        raise ApiError(415, "not_multipart",
                       "send the file as multipart/form-data with a 'file' part (the dump: " + ALLOWED +
                       ") and optional form fields " + ", ".join(FORM_FIELDS))
    state: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "kind": None, "name": None,
                             "buf": bytearray(), "fh": None, "size": 0, "filename": None, "files": 0}
    fields: dict[str, str] = {}

    def on_part_begin() -> None:
        state.update(headers={}, field=b"", value=b"", kind=None, name=None, buf=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name
        if b"filename" in disp or name == "file":
            if name != "file":
                raise ApiError(422, "invalid_request", f"unexpected file part {name!r}; send the dump as the part 'file'")
            state["files"] += 1
            if state["files"] > 1:
                raise ApiError(422, "invalid_request", "send one file per request (one 'file' part)")
            state["kind"] = "file"
            state["filename"] = _display_name(disp.get(b"filename", b"").decode("utf-8", "replace"))
            state["fh"] = open(dest, "wb")
        else:
            if name not in FORM_FIELDS:
                raise ApiError(422, "invalid_request",
                               f"unknown form field {name!r}; allowed: file, " + ", ".join(FORM_FIELDS))
            state["kind"] = "field"

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["kind"] == "file":
            state["fh"].write(data[start:end])
            state["size"] += end - start
        else:
            state["buf"] += data[start:end]
            if len(state["buf"]) > MAX_FIELD_BYTES:
                raise ApiError(422, "invalid_request", f"form field {state['name']!r} is longer than {MAX_FIELD_BYTES} bytes")

    def on_part_end() -> None:
        if state["kind"] == "file":
            state["fh"].close()
            state["fh"] = None
        elif state["kind"] == "field":
            try:
                fields[state["name"]] = bytes(state["buf"]).decode("utf-8").strip()
            except UnicodeDecodeError:
                raise ApiError(422, "invalid_request", f"form field {state['name']!r} is not UTF-8 text") from None

    parser = MultipartParser(opts[b"boundary"], {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end})
    try:
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except ApiError:
        raise
    except Exception as exc:  # python-multipart raises its own errors on a broken body
        if getattr(exc, "status_code", None):  # the body-size limit: FastAPI answers it
            raise
        raise ApiError(400, "invalid_multipart", f"the multipart body could not be parsed ({exc})") from None
    finally:
        if state["fh"] is not None:
            state["fh"].close()
    if not state["files"]:
        raise ApiError(422, "missing_file", "no 'file' part: send the dump (" + ALLOWED + ") as the form field 'file'")
    return Upload(dest, state["size"], state["filename"], fields)


def upload_format(upload: Upload) -> str:
    """The format named by the ``format`` field, else by the file name's extension."""
    explicit = upload.fields.get("format")
    if explicit:
        fmt = explicit.lower().lstrip(".")
        if fmt not in UPLOAD_FORMATS:
            raise ApiError(415, "unsupported_format", f"format {explicit!r} is not read; allowed: " + ", ".join(UPLOAD_FORMATS))
        return fmt
    name = upload.filename or ""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in (".gz", ".zip", ".bz2", ".xz", ".7z"):
        raise ApiError(415, "unsupported_format", f"{name!r} is compressed; upload the decompressed file ({ALLOWED})")
    fmt = _SUFFIX.get(suffix)
    if fmt is None:
        raise ApiError(415, "unsupported_format",
                       f"cannot tell the format of {name or 'the upload'!r} (extension {suffix or 'none'}); "
                       f"upload {ALLOWED}, or pass the form field format=csv|tsv|jsonl|xlsx|parquet")
    return fmt


def sniff(path: Path, fmt: str) -> None:
    """Reject content that cannot be ``fmt`` before any parser sees it."""
    size = path.stat().st_size
    if size == 0:
        raise ApiError(422, "empty_upload", "the uploaded file is empty")
    with open(path, "rb") as fh:
        head = fh.read(8192)
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    if fmt == "xlsx":
        if not head.startswith(b"PK\x03\x04"):
            raise ApiError(422, "corrupt_upload", "the upload is not an .xlsx workbook (an .xlsx file is a ZIP archive); "
                                                  "save it from Excel as .xlsx or export CSV")
        return
    if fmt == "parquet":
        if not (head.startswith(b"PAR1") and tail == b"PAR1"):
            raise ApiError(422, "corrupt_upload", "the upload is not a complete Parquet file (no PAR1 marker at both ends)")
        return
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise ApiError(422, "corrupt_upload", f"the upload was named {fmt.upper()} but is {what}; upload {ALLOWED}")
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff")) or (head.count(b"\x00") > len(head) // 4)
    if not utf16 and b"\x00" in head:
        raise ApiError(422, "corrupt_upload", f"the upload has binary content (NUL bytes), so it is not {fmt.upper()} text")


def _jsonable(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str):
        return v[:300]
    if isinstance(v, (bool, int, float)):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):
        try:
            return _jsonable(v.item())
        except (ValueError, AttributeError):
            pass
    return str(v)[:300]


@dataclass
class Probe:
    format: str
    columns: list[str]
    rows: list[dict[str, Any]]
    text_column: Optional[str]
    id_column: Optional[str]
    date_column: Optional[str]
    rows_total: Optional[int]


def probe(path: Path, fmt: str, fields: Optional[dict[str, str]] = None, sample_rows: int = 5,
          strict: bool = True) -> Probe:
    """Read the first rows: the columns, a sample, and the columns cxtext would
    pick. With ``strict``, the columns named in ``fields`` must exist."""
    fields = fields or {}
    hide = str(path)
    try:
        info, chunks = read_chunks(str(path), fmt, chunk_rows=50)
        first = next(iter(chunks), None)
    except CxtextError as exc:
        raise from_engine(exc, hide) from None
    except Exception as exc:  # noqa: BLE001 - whatever the parsers raise, the upload is unreadable
        raise ApiError(422, "corrupt_upload", f"the upload cannot be read as {fmt.upper()}: "
                                              f"{str(exc).replace(hide, 'the upload')}") from None
    if first is None or len(first) == 0:
        raise ApiError(422, "empty_upload", f"the upload has no rows (read as {fmt.upper()}, a header and at least one row)")
    if fmt == "jsonl" and ERROR_COLUMN in first.columns and first[ERROR_COLUMN].notna().all():
        msg = str(first[ERROR_COLUMN].iloc[0])
        raise ApiError(422, "corrupt_upload", f"the upload is not JSON Lines ({msg}); send one JSON object per line")
    columns = [str(c) for c in first.columns if c not in (ERROR_COLUMN, "_raw_line")]
    try:
        tcol = pick_column(columns, fields.get("text_column") or None, TEXT_COLUMN_CANDIDATES, "text", first,
                           required=strict)
        icol = pick_column(columns, fields.get("id_column") or None, ID_COLUMN_CANDIDATES, "id", required=False)
    except CxtextError as exc:
        raise from_engine(exc, hide) from None
    lower = {c.lower(): c for c in columns}
    dcol = fields.get("date_column") or next((lower[c] for c in DATE_COLUMN_CANDIDATES if c in lower), None)
    if strict:
        for key in ("date_column", "segment_column"):
            want = fields.get(key)
            if want and want not in columns:
                raise ApiError(422, "column_not_found",
                               f"{key.replace('_', ' ')} {want!r} is not in the upload; columns are: {columns}")
    rows = [{c: _jsonable(v) for c, v in zip(columns, r)}
            for r in first[columns].head(sample_rows).itertuples(index=False, name=None)]
    total = info.total_rows if fmt == "parquet" else None
    return Probe(fmt, columns, rows, tcol, icol, dcol, total)


def remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
