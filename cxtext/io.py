"""Reading review dumps and writing enriched ones, in bounded chunks so memory
stays flat on a million rows.

Formats: CSV, TSV, JSONL, XLSX, Parquet, and ``-`` (one text per line on
stdin). pandas and pyarrow parse; openpyxl reads and writes Excel in
streaming mode. Text files' encodings are detected: a BOM (UTF-8, UTF-16),
else strict UTF-8, else Windows-1256 — what Excel on Arabic Windows writes.
Every input row comes out, in order, with every input column.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pandas as pd

from .errors import ColumnNotFoundError, CorruptInputError, UnsupportedFormatError

INPUT_FORMATS = ("csv", "tsv", "jsonl", "xlsx", "parquet", "lines")
OUTPUT_FORMATS = ("csv", "jsonl", "parquet", "xlsx")
_EXT = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
        ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet", ".txt": "lines"}
TEXT_COLUMN_CANDIDATES = ("text", "comment", "comments", "review", "review_text", "message", "feedback", "body",
                          "content", "verbatim", "answer", "متن", "نظر", "دیدگاه", "پیام", "النص", "التعليق",
                          "الرسالة", "المراجعة", "الرأي")
ID_COLUMN_CANDIDATES = ("id", "review_id", "message_id", "ticket_id", "uuid", "شناسه", "المعرف")
ERROR_COLUMN = "cx_error"
EXCEL_MAX_ROWS = 1_048_575


def detect_format(path: str) -> str:
    if path == "-":
        return "lines"
    ext = Path(path).suffix.lower()
    if ext in (".gz", ".zip"):
        raise UnsupportedFormatError(f"{path}: compressed files are not read directly; decompress it first")
    fmt = _EXT.get(ext)
    if fmt is None:
        raise UnsupportedFormatError(
            f"{path}: unknown file type {ext or '(no extension)'}; cxtext reads .csv .tsv .jsonl .xlsx .parquet .txt "
            "(or pass --input-format)")
    return fmt


def detect_encoding(path: str | Path, probe: int = 1 << 20) -> str:
    """BOM → UTF-8-sig / UTF-16; else strict UTF-8 over the whole file; else cp1256."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
            return "utf-16"
        fh.seek(0)
        first = fh.read(4096)
        if first and first.count(b"\x00") > len(first) // 4:
            # UTF-16 without BOM: ASCII characters leave a NUL beside them
            return "utf-16-le" if first[1:2] == b"\x00" else "utf-16-be"
        fh.seek(0)
        dec = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while True:
                chunk = fh.read(probe)
                if not chunk:
                    dec.decode(b"", final=True)
                    return "utf-8"
                dec.decode(chunk)
        except UnicodeDecodeError:
            return "cp1256"


@dataclass
class InputInfo:
    path: str
    format: str
    encoding: Optional[str]
    total_rows: Optional[int]


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


def read_chunks(path: str, fmt: Optional[str] = None, chunk_rows: int = 1000,
                encoding: Optional[str] = None, sheet: Optional[str] = None) -> tuple[InputInfo, Iterator[pd.DataFrame]]:
    """Return info about the input and an iterator of DataFrame chunks.

    Values of text formats stay strings (empty cells are ""); a JSONL line
    that does not parse becomes a row whose ``cx_error`` says why.
    """
    fmt = fmt or detect_format(path)
    if fmt not in INPUT_FORMATS:
        raise UnsupportedFormatError(f"input format {fmt!r}; allowed: {', '.join(INPUT_FORMATS)}")
    if path != "-" and not Path(path).exists():
        raise FileNotFoundError(f"input file not found: {path}")
    if fmt in ("csv", "tsv"):
        enc = encoding or detect_encoding(path)
        return InputInfo(path, fmt, enc, None), _read_delimited(path, fmt, enc, chunk_rows)
    if fmt == "jsonl":
        enc = encoding or detect_encoding(path)
        return InputInfo(path, fmt, enc, None), _read_jsonl(path, enc, chunk_rows)
    if fmt == "lines":
        if path == "-":
            stream = io.TextIOWrapper(sys.stdin.buffer, encoding=encoding or "utf-8", errors="replace")
            return InputInfo(path, fmt, encoding or "utf-8", None), _read_lines(stream, chunk_rows)
        enc = encoding or detect_encoding(path)
        return InputInfo(path, fmt, enc, None), _read_lines(open(path, encoding=enc, newline=""), chunk_rows)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
            raise CorruptInputError(f"{path}: not a readable Parquet file ({exc})") from exc
        return InputInfo(path, fmt, None, pf.metadata.num_rows), _read_parquet(pf, chunk_rows)
    return _read_xlsx(path, chunk_rows, sheet)


def _read_delimited(path: str, fmt: str, enc: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    sep = "\t" if fmt == "tsv" else ","
    try:
        reader = pd.read_csv(path, sep=sep, encoding=enc, dtype=str, keep_default_na=False, chunksize=chunk_rows,
                             quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL, encoding_errors="replace")
        for chunk in reader:
            yield chunk
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError as exc:
        raise CorruptInputError(f"{path}: cannot parse as {fmt.upper()} ({exc}); check the delimiter and quoting") from exc


def _clean(v: Any) -> Any:
    """Lone UTF-16 surrogates (a JSON "\\ud800" escape) cannot be written back
    as UTF-8: replace them with U+FFFD, keep valid pairs."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:
            return v.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(v, list):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {_clean(k): _clean(x) for k, x in v.items()}
    return v


def _parse_jsonl_line(line: str, lineno: int) -> dict[str, Any]:
    try:
        obj = _clean(json.loads(line))
    except json.JSONDecodeError as exc:
        return {ERROR_COLUMN: f"broken JSON on line {lineno}: {exc.msg}", "_raw_line": _clean(line.rstrip("\n")[:2000])}
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, str):
        return {"text": obj}
    return {ERROR_COLUMN: f"line {lineno} is JSON {type(obj).__name__}, expected an object",
            "_raw_line": line.rstrip("\n")[:2000]}


def _read_jsonl(path: str, enc: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    # Records may have different keys: a first streaming pass collects every
    # key, in order of appearance, so every chunk has the same columns.
    columns: dict[str, None] = {}
    with open(path, encoding=enc, errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                columns.update(dict.fromkeys(_parse_jsonl_line(line, lineno)))
    cols = list(columns)
    rows: list[dict[str, Any]] = []
    with open(path, encoding=enc, errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rows.append(_parse_jsonl_line(line, lineno))
            if len(rows) >= chunk_rows:
                yield _frame(rows).reindex(columns=cols)
                rows = []
    if rows:
        yield _frame(rows).reindex(columns=cols)


def _read_lines(stream, chunk_rows: int) -> Iterator[pd.DataFrame]:
    rows: list[dict[str, Any]] = []
    with stream:
        for lineno, line in enumerate(stream, 1):
            rows.append({"line": lineno, "text": line.rstrip("\r\n")})
            if len(rows) >= chunk_rows:
                yield _frame(rows)
                rows = []
    if rows:
        yield _frame(rows)


def _read_parquet(pf, chunk_rows: int) -> Iterator[pd.DataFrame]:
    for batch in pf.iter_batches(batch_size=chunk_rows):
        yield batch.to_pandas()


def _read_xlsx(path: str, chunk_rows: int, sheet: Optional[str]) -> tuple[InputInfo, Iterator[pd.DataFrame]]:
    import zipfile

    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise CorruptInputError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    ws = wb[sheet] if sheet else wb.worksheets[0]
    total = (ws.max_row - 1) if ws.max_row else None

    def gen() -> Iterator[pd.DataFrame]:
        rows_iter = ws.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None:
            wb.close()
            return
        names = [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
        rows: list[dict[str, Any]] = []
        for values in rows_iter:
            if values is None or all(v is None for v in values):
                continue
            rows.append({n: v for n, v in zip(names, values)})
            if len(rows) >= chunk_rows:
                yield _frame(rows)
                rows = []
        if rows:
            yield _frame(rows)
        wb.close()

    return InputInfo(path, "xlsx", None, total), gen()


def pick_column(columns: list[str], wanted: Optional[str], candidates: tuple[str, ...], kind: str,
                sample: Optional[pd.DataFrame] = None, required: bool = True) -> Optional[str]:
    """The user's column, else a well-known name, else (for text) the column
    with the longest strings in the first chunk."""
    if wanted:
        if wanted in columns:
            return wanted
        raise ColumnNotFoundError(f"{kind} column {wanted!r} not in the input; columns are: {columns}")
    lower = {c.lower().strip(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    if kind == "text" and sample is not None and len(sample):
        best, best_len = None, 0.0
        for c in columns:
            vals = sample[c]
            if vals.dtype == object:
                lens = vals.map(lambda v: len(v) if isinstance(v, str) else 0)
                if lens.mean() > best_len:
                    best, best_len = c, float(lens.mean())
        if best is not None:
            return best
    if required:
        raise ColumnNotFoundError(f"no {kind} column found among {columns}; pass --{kind}-column")
    return None


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            return str(v)
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


class Writer:
    """Streams enriched chunks to CSV (UTF-8 with BOM, so Excel shows Persian
    and Arabic), JSONL, Parquet or XLSX."""

    def __init__(self, path: str, fmt: Optional[str] = None):
        self.path = path
        self.fmt = fmt or (detect_format(path) if path != "-" else "jsonl")
        if self.fmt not in OUTPUT_FORMATS:
            raise UnsupportedFormatError(f"output format {self.fmt!r}; allowed: {', '.join(OUTPUT_FORMATS)}")
        if path != "-":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self._fh = None
        self._pq = None
        self._schema = None
        self._wb = None
        self._ws = None
        self._columns: Optional[list[str]] = None

    def write(self, df: pd.DataFrame) -> None:
        if self._columns is None:
            self._columns = list(df.columns)
        else:
            for c in df.columns:
                if c not in self._columns:
                    self._columns.append(c)
            df = df.reindex(columns=self._columns)
        getattr(self, f"_write_{self.fmt}")(df)
        self.rows += len(df)

    def _write_csv(self, df: pd.DataFrame) -> None:
        first = self._fh is None
        if first:
            self._fh = sys.stdout if self.path == "-" else open(self.path, "w", encoding="utf-8-sig", newline="")
        df.to_csv(self._fh, header=first, index=False)

    def _write_jsonl(self, df: pd.DataFrame) -> None:
        if self._fh is None:
            self._fh = sys.stdout if self.path == "-" else open(self.path, "w", encoding="utf-8")
        cols = list(df.columns)
        for row in df.itertuples(index=False, name=None):
            obj = {c: _jsonable(v) for c, v in zip(cols, row)}
            self._fh.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")

    def _write_parquet(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        df = df.copy()
        for c in df.columns:
            if df[c].dtype == object:
                df[c] = df[c].map(lambda v: v if v is None or isinstance(v, str) else
                                  (None if isinstance(v, float) and math.isnan(v) else
                                   json.dumps(_jsonable(v), ensure_ascii=False, default=str)
                                   if isinstance(v, (list, dict)) else str(v)))
        if self._schema is None:
            table = pa.Table.from_pandas(df, preserve_index=False)
            fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
            self._schema = pa.schema(fields)
            self._pq = pq.ParquetWriter(self.path, self._schema)
        table = pa.Table.from_pandas(df, schema=self._schema, preserve_index=False, safe=False)
        self._pq.write_table(table)

    def _write_xlsx(self, df: pd.DataFrame) -> None:
        import openpyxl

        if self._wb is None:
            self._wb = openpyxl.Workbook(write_only=True)
            self._ws = self._wb.create_sheet("cxtext")
            self._ws.append(list(df.columns))
        if self.rows + len(df) > EXCEL_MAX_ROWS:
            raise UnsupportedFormatError(
                f"more than {EXCEL_MAX_ROWS:,} rows do not fit in one Excel sheet; write csv, jsonl or parquet")
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        for row in df.itertuples(index=False, name=None):
            vals = []
            for v in row:
                v = _jsonable(v)
                if isinstance(v, (list, dict)):
                    v = json.dumps(v, ensure_ascii=False)
                if isinstance(v, str):
                    v = ILLEGAL_CHARACTERS_RE.sub("", v)
                vals.append(v)
            self._ws.append(vals)

    def close(self) -> None:
        if self._fh is not None and self._fh is not sys.stdout:
            self._fh.close()
        elif self._fh is sys.stdout:
            sys.stdout.flush()
        if self._pq is not None:
            self._pq.close()
        if self._wb is not None:
            self._wb.save(self.path)
        if self.rows == 0 and self.path != "-" and self.fmt in ("csv", "jsonl") and self._fh is None:
            Path(self.path).write_text("", encoding="utf-8")

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
