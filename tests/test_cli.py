"""The CLI only checks flags and paths, then calls the engine."""
from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from cxtext.cli import app

runner = CliRunner()


def test_analyze_writes_rows_summary_and_report(tmp_path, tiny_models, monkeypatch):
    monkeypatch.setenv("CXTEXT_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["1", "2", "3"], "date": ["2026-01-01", "2026-01-02", "2026-01-02"],
                  "channel": ["app", "chat", "app"],
                  "text": ["پیک دیر رسید و قیمت بالا بود", "", "الطلب وصل متأخر والمندوب ما رد"]}).to_csv(src, index=False)
    out = tmp_path / "o" / "out.jsonl"
    res = runner.invoke(app, ["analyze", str(src), "-o", str(out), "-m", str(tiny_models), "-q",
                              "--report", str(tmp_path / "r.html"), "--segment-column", "channel"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3] or [str(r["id"]) for r in rows] == ["1", "2", "3"]
    assert rows[1]["cx_error"].startswith("empty text")
    summary = json.loads((tmp_path / "o" / "out.summary.json").read_text(encoding="utf-8"))
    assert summary["rows"] == 3 and summary["errors"] == 1 and summary["analyzed"] == 2
    assert set(summary["languages"]) == {"fa", "ar"}
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<svg" in html and 'dir="rtl"' in html or "delivery" in html
    assert "By channel" in html and "http://" not in html.replace("http://www.w3.org", "")


def test_bad_flags_are_clear_errors(tmp_path, tiny_models):
    res = runner.invoke(app, ["analyze", str(tmp_path / "missing.csv")])
    assert res.exit_code == 2 and "not found" in res.output
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,hello\n", encoding="utf-8")
    res = runner.invoke(app, ["analyze", str(src), "--format", "docx"])
    assert res.exit_code == 2 and "allowed" in res.output
    res = runner.invoke(app, ["analyze", str(src), "-m", str(tiny_models), "-t", "comment", "-q"])
    assert res.exit_code == 2 and "comment" in res.output
    res = runner.invoke(app, ["train", "--data", str(src), "--text-column", "text", "--label-column", "label",
                              "--task", "sentiment"])
    assert res.exit_code == 2 and "-o/--output" in res.output  # only --export-corpus writes no models folder
