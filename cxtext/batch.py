"""Analyze a whole dump: the plain function behind ``cxtext analyze`` and the
REST service's jobs. Reads in chunks, analyzes, writes every input row with
the analysis columns added, and accumulates the summary."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pandas as pd

from .io import ERROR_COLUMN, ID_COLUMN_CANDIDATES, TEXT_COLUMN_CANDIDATES, Writer, pick_column, read_chunks
from .registry import SENTIMENT_LABELS
from .results import Analysis
from .summary import Summary

ANALYSIS_COLUMNS = (
    "cx_lang", "cx_lang_confidence", "cx_sentiment", "cx_sentiment_score",
    *(f"cx_p_{s}" for s in SENTIMENT_LABELS),
    "cx_emotion", "cx_emotion_score", "cx_aspects", "cx_effort", "cx_loyalty", "cx_churn_risk",
    "cx_journey_stage", "cx_csat", "cx_csat_score", "cx_nps_class", "cx_masked", "cx_analysis", ERROR_COLUMN,
)
"""Columns added to every row. ``cx_aspects`` is ``name:sentiment`` pairs joined
by ``; ``; ``cx_analysis`` is the full ``Analysis.to_dict()`` (without the text) as JSON."""


def flatten(a: Analysis) -> dict[str, Any]:
    """One row's analysis columns."""
    row: dict[str, Any] = {c: None for c in ANALYSIS_COLUMNS}
    row[ERROR_COLUMN] = a.error
    if a.error:
        return row
    row.update({
        "cx_lang": a.lang, "cx_lang_confidence": round(a.lang_confidence, 4),
        "cx_sentiment": a.sentiment.label if a.sentiment else None,
        "cx_sentiment_score": round(a.sentiment.score, 4) if a.sentiment else None,
        "cx_emotion": a.emotion.label if a.emotion else None,
        "cx_emotion_score": round(a.emotion.score, 4) if a.emotion else None,
        "cx_aspects": "; ".join(f"{x.name}:{x.sentiment}" for x in a.aspects),
        "cx_masked": sum(a.masked.values()),
        "cx_analysis": json.dumps(a.to_dict(include_text=False), ensure_ascii=False),
    })
    if a.sentiment:
        for s in SENTIMENT_LABELS:
            row[f"cx_p_{s}"] = round(float(a.sentiment.probs.get(s, 0.0)), 4)
    if a.cx:
        row.update({"cx_effort": a.cx.effort, "cx_loyalty": a.cx.loyalty, "cx_churn_risk": round(a.cx.churn_risk, 4),
                    "cx_journey_stage": a.cx.journey_stage, "cx_csat": a.cx.csat,
                    "cx_csat_score": round(a.cx.csat_score, 3), "cx_nps_class": a.cx.nps_class})
    return row


@dataclass
class BatchResult:
    output: str
    rows: int
    errors: int
    summary: dict[str, Any]
    text_column: str
    id_column: Optional[str]


def analyze_file(
    analyzer,
    input_path: str,
    output_path: str,
    *,
    text_column: Optional[str] = None,
    id_column: Optional[str] = None,
    input_format: Optional[str] = None,
    output_format: Optional[str] = None,
    batch_size: int = 64,
    chunk_rows: int = 1024,
    lang: Optional[str] = None,
    skip_rows: int = 0,
    on_progress: Optional[Callable[[int, Optional[int]], None]] = None,
    on_chunk: Optional[Callable[[pd.DataFrame, list[Analysis]], None]] = None,
    summary: Optional[Summary] = None,
    writer: Optional[Writer] = None,
) -> BatchResult:
    """Analyze ``input_path`` into ``output_path``; return counts and the summary.

    ``skip_rows`` resumes a run that already wrote that many rows (the caller
    passes a writer opened for appending). ``on_chunk`` sees each enriched
    chunk and its analyses (the report collects its data there).
    """
    info, chunks = read_chunks(input_path, input_format, chunk_rows)
    summary = summary or Summary()
    own_writer = writer is None
    writer = writer or Writer(output_path, output_format)
    tcol: Optional[str] = None
    icol: Optional[str] = None
    done = 0
    try:
        for df in chunks:
            if tcol is None:
                cols = [c for c in df.columns if c != ERROR_COLUMN and c != "_raw_line"]
                tcol = pick_column(cols, text_column, TEXT_COLUMN_CANDIDATES, "text", df)
                icol = pick_column(cols, id_column, ID_COLUMN_CANDIDATES, "id", required=False)
            if skip_rows >= len(df):
                skip_rows -= len(df)
                done += len(df)
                continue
            if skip_rows:
                df = df.iloc[skip_rows:]
                done += skip_rows
                skip_rows = 0
            analyses = list(analyzer.pipe(_records(df, tcol, icol, lang), batch_size=batch_size))
            for a in analyses:
                summary.add(a)
            added = pd.DataFrame([flatten(a) for a in analyses], index=df.index)
            out = df.drop(columns=[c for c in ANALYSIS_COLUMNS if c in df.columns and c != ERROR_COLUMN])
            if ERROR_COLUMN in out.columns:
                # rows that could not be read keep their read error
                pre = out.pop(ERROR_COLUMN)
                added[ERROR_COLUMN] = pre.where(pre.notna(), added[ERROR_COLUMN])
            out = pd.concat([out, added], axis=1)
            writer.write(out)
            if on_chunk:
                on_chunk(out, analyses)
            done += len(df)
            if on_progress:
                on_progress(done, info.total_rows)
    finally:
        if own_writer:
            writer.close()
    return BatchResult(output_path, summary.rows, summary.errors, summary.to_dict(), tcol or "", icol)


def _records(df: pd.DataFrame, tcol: str, icol: Optional[str], lang: Optional[str]) -> Iterator[dict[str, Any]]:
    texts = df[tcol].tolist()
    ids = df[icol].tolist() if icol else [None] * len(df)
    errs = df[ERROR_COLUMN].tolist() if ERROR_COLUMN in df.columns else [None] * len(df)
    for t, i, e in zip(texts, ids, errs):
        if isinstance(e, str) and e:
            yield {"text": None, "id": i, "lang": lang}
        else:
            yield {"text": t, "id": i, "lang": lang}


def write_summary(summary: dict[str, Any], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
