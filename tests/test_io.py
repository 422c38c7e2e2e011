"""Reading and writing dumps: encodings, formats, every row kept, bad rows flagged."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cxtext.batch import ANALYSIS_COLUMNS, analyze_file
from cxtext.errors import ColumnNotFoundError, CorruptInputError, UnsupportedFormatError
from cxtext.io import Writer, detect_encoding, read_chunks

ROWS = [
    {"id": "a1", "text": "غذا سرد رسید و پیک بی‌ادب بود", "branch": "تهران"},
    {"id": "a2", "text": "الطلب وصل متأخر والمندوب ما رد", "branch": "جدة"},
    {"id": "a3", "text": "", "branch": "x"},
    {"id": "a4", "text": "price is too high, quality ok", "branch": "y"},
]


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1256", "cp1256"),
])
def test_detect_encoding_and_read(tmp_path, encoding, expected):
    p = tmp_path / f"in-{encoding}.csv"
    text = "id,text\n1,الطلب وصل متأخر\n2,غذا سرد رسيد\n"
    p.write_bytes(text.encode(encoding))
    assert detect_encoding(p) == expected
    _info, chunks = read_chunks(str(p))
    df = pd.concat(list(chunks))
    assert df["text"].tolist() == ["الطلب وصل متأخر", "غذا سرد رسيد"]


def test_jsonl_broken_line_kept_as_error_row(tmp_path, tiny_analyzer):
    p = tmp_path / "in.jsonl"
    lines = [json.dumps(ROWS[0], ensure_ascii=False), "{not json", json.dumps(ROWS[1], ensure_ascii=False), "[1, 2]"]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = analyze_file(tiny_analyzer, str(p), str(out))
    got = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == 4 and res.rows == 4
    assert got[0]["id"] == "a1" and got[0]["cx_error"] is None and got[0]["cx_sentiment"]
    assert "broken JSON on line 2" in got[1]["cx_error"]
    assert got[2]["id"] == "a2" and got[2]["cx_lang"] == "ar"
    assert "expected an object" in got[3]["cx_error"]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "xlsx", "parquet"])
@pytest.mark.parametrize("out_fmt", ["csv", "jsonl", "parquet", "xlsx"])
def test_every_row_and_column_kept_in_order(tmp_path, tiny_analyzer, fmt, out_fmt):
    df = pd.DataFrame(ROWS)
    p = tmp_path / f"in.{fmt}"
    if fmt == "csv":
        df.to_csv(p, index=False)
    elif fmt == "tsv":
        df.to_csv(p, index=False, sep="\t")
    elif fmt == "jsonl":
        df.to_json(p, orient="records", lines=True, force_ascii=False)
    elif fmt == "xlsx":
        df.to_excel(p, index=False)
    else:
        df.to_parquet(p, index=False)
    out = tmp_path / f"out.{out_fmt}"
    analyze_file(tiny_analyzer, str(p), str(out), chunk_rows=3, batch_size=2)
    if out_fmt == "csv":
        got = pd.read_csv(out, dtype=str, keep_default_na=False)
    elif out_fmt == "jsonl":
        got = pd.read_json(out, lines=True, dtype=False)
    elif out_fmt == "xlsx":
        got = pd.read_excel(out, dtype=str)
    else:
        got = pd.read_parquet(out)
    assert list(got["id"].astype(str)) == ["a1", "a2", "a3", "a4"]
    assert list(got.columns[:3]) == ["id", "text", "branch"]
    for c in ANALYSIS_COLUMNS:
        assert c in got.columns
    errs = got["cx_error"].where(got["cx_error"].notna(), "").astype(str).tolist()
    assert errs[2].startswith("empty text") and errs[0] in ("", "None", "nan")
    assert str(got["cx_lang"].iloc[1]) == "ar"


def test_stdin_lines(tmp_path, tiny_analyzer, monkeypatch):
    import io as _io
    import sys

    data = "غذا سرد رسید\n\nالطلب وصل متأخر\n".encode("utf-8")
    monkeypatch.setattr(sys, "stdin", _io.TextIOWrapper(_io.BytesIO(data)))
    out = tmp_path / "o.jsonl"
    res = analyze_file(tiny_analyzer, "-", str(out))
    got = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert res.rows == 3 and [g["line"] for g in got] == [1, 2, 3]
    assert got[1]["cx_error"].startswith("empty text")


def test_errors_are_typed(tmp_path, tiny_analyzer):
    p = tmp_path / "in.csv"
    pd.DataFrame(ROWS).to_csv(p, index=False)
    with pytest.raises(ColumnNotFoundError, match="comment"):
        analyze_file(tiny_analyzer, str(p), str(tmp_path / "o.csv"), text_column="comment")
    with pytest.raises(UnsupportedFormatError):
        read_chunks(str(tmp_path / "x.docx"))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CorruptInputError):
        read_chunks(str(bad))
    with pytest.raises(UnsupportedFormatError):
        Writer(str(tmp_path / "o.html"))


def test_jsonl_records_with_different_keys_and_lone_surrogates(tmp_path, tiny_analyzer):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": 1, "text": "الطلب وصل متأخر"}\n'
                 '{"id": 2, "text": "bad \\ud800 surrogate", "branch": "x"}\n'
                 '{"id": 3, "text": "پیک دیر رسید", "channel": "app"}\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    analyze_file(tiny_analyzer, str(p), str(out), chunk_rows=1)
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(got.columns[:4]) == ["id", "text", "branch", "channel"]
    assert got["branch"].tolist() == ["", "x", ""] and got["channel"].tolist() == ["", "", "app"]
    assert "\ufffd" in got["text"][1] and got["cx_lang"][2] == "fa"
