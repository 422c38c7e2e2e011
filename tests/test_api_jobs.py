"""Jobs: uploads in every format, results, summary, report, deletion, every
bad upload, and a real uvicorn process killed (SIGKILL) in the middle of a job
and restarted: the job resumes and every input row comes out exactly once."""
from __future__ import annotations

import csv
import io
import json
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings

TEXTS = ["غذا سرد رسید و پیک بی‌ادب بود", "کیفیت محصول عالی بود ولی ارسال خیلی دیر انجام شد",
         "الطلب وصل متأخر والمندوب ما رد", "المنتج ممتاز لكن السعر غالي جدا",
         "The delivery was late but the food was great", "price is too high for this quality"]


def rows(n: int) -> list[dict[str, str]]:
    return [{"review_id": f"r{i:04d}", "comment": TEXTS[i % len(TEXTS)] if i % 7 != 3 else "",
             "created": f"2024-05-{1 + i % 28:02d}", "channel": ("app", "web")[i % 2]} for i in range(n)]


def csv_bytes(data: list[dict[str, str]], sep: str = ",") -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(data[0]), delimiter=sep)
    w.writeheader()
    w.writerows(data)
    return buf.getvalue().encode("utf-8")


def jsonl_bytes(data: list[dict[str, str]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data).encode("utf-8")


def settings(tmp_path: Path, **kw) -> ApiSettings:
    base = dict(data_dir=tmp_path / "data", max_upload_bytes=256 * 1024, max_preview_bytes=64 * 1024,
                job_chunk_rows=4, job_batch_size=4)
    base.update(kw)
    return ApiSettings(**base)


@pytest.fixture
def client(tmp_path, tiny_analyzer):
    with TestClient(create_app(settings(tmp_path), analyzer=tiny_analyzer)) as c:
        yield c


def err(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.json()
    return r.json()["error"]["message"]


def upload(c, name: str, content: bytes, **fields):
    return c.post("/v1/jobs", files={"file": (name, content, "application/octet-stream")}, data=fields)


def wait_done(c, job_id: str, timeout: float = 30.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        j = c.get(f"/v1/jobs/{job_id}").json()
        if j["status"] in ("done", "failed"):
            return j
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not finished: {j}")


# -- the happy path ------------------------------------------------------------
def test_csv_job_end_to_end(client, tmp_path):
    data = rows(10)
    r = upload(client, "../../etc/passwd dump.csv", csv_bytes(data), date_column="created", segment_column="channel")
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and len(job["id"]) == 22
    j = wait_done(client, job["id"])
    assert j["status"] == "done", j
    assert (j["rows_done"], j["rows_total"], j["errors"]) == (10, 10, 1)  # row 3 is empty
    assert (j["text_column"], j["id_column"], j["filename"]) == ("comment", "review_id", "passwd dump.csv")
    assert j["links"]["report"].endswith("/report")
    # the file name never became a path
    d = tmp_path / "data" / "jobs" / job["id"]
    assert sorted(p.name for p in d.iterdir()) == ["input.csv", "report.html", "results.jsonl", "summary.json"]

    res = [json.loads(x) for x in client.get(f"/v1/jobs/{job['id']}/results?format=jsonl").text.splitlines()]
    assert [x["review_id"] for x in res] == [r["review_id"] for r in data]
    assert all(("cx_sentiment" in x and "cx_analysis" in x) for x in res)
    assert sum(bool(x["cx_error"]) for x in res) == 1
    r = client.get(f"/v1/jobs/{job['id']}/results")  # csv by default
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "passwd%20dump.cx.csv" in r.headers["content-disposition"]
    got = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [x["review_id"] for x in got] == [r["review_id"] for r in data]
    pq = client.get(f"/v1/jobs/{job['id']}/results?format=parquet")
    import pyarrow.parquet as papq

    assert papq.read_table(io.BytesIO(pq.content)).num_rows == 10
    err(client.get(f"/v1/jobs/{job['id']}/results?format=xml"), 422, "invalid_request")

    s = client.get(f"/v1/jobs/{job['id']}/summary").json()
    assert (s["rows"], s["analyzed"], s["errors"]) == (10, 9, 1)
    assert "nps_proxy" in s and s["languages"]
    rep = client.get(f"/v1/jobs/{job['id']}/report")
    assert rep.status_code == 200 and "<html" in rep.text and "By channel" in rep.text

    listed = client.get("/v1/jobs").json()["jobs"]
    assert [x["id"] for x in listed] == [job["id"]]
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    err(client.get(f"/v1/jobs/{job['id']}"), 404, "job_not_found")
    assert not d.exists()
    err(client.delete(f"/v1/jobs/{job['id']}"), 404, "job_not_found")


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "xlsx", "parquet"])
def test_other_formats(client, tmp_path, fmt):
    data = rows(6)
    if fmt == "tsv":
        content = csv_bytes(data, "\t")
    elif fmt == "jsonl":
        content = jsonl_bytes(data)
    else:
        import pandas as pd

        path = tmp_path / f"in.{fmt}"
        df = pd.DataFrame(data)
        df.to_excel(path, index=False) if fmt == "xlsx" else df.to_parquet(path, index=False)
        content = path.read_bytes()
    r = upload(client, f"feedback.{fmt}", content, text_column="comment", id_column="review_id", lang="")
    assert r.status_code == 202, r.text
    j = wait_done(client, r.json()["id"])
    assert j["status"] == "done" and j["rows_done"] == 6 and j["rows_total"] == 6, j
    res = client.get(f"/v1/jobs/{j['id']}/results?format=jsonl").text.splitlines()
    assert [json.loads(x)["review_id"] for x in res] == [r["review_id"] for r in data]


def test_explicit_format_field_and_forced_lang(client):
    r = upload(client, "export", jsonl_bytes(rows(3)), format="jsonl", lang="fa")
    assert r.status_code == 202, r.text
    j = wait_done(client, r.json()["id"])
    res = [json.loads(x) for x in client.get(f"/v1/jobs/{j['id']}/results?format=jsonl").text.splitlines()]
    assert {x["cx_lang"] for x in res if not x["cx_error"]} == {"fa"}


def test_a_lone_surrogate_in_jsonl_does_not_fail_the_job(client):
    body = b'{"id": "1", "text": "good food"}\n{"id": "2", "text": "bad \\ud800 x"}\n'
    j = wait_done(client, upload(client, "d.jsonl", body).json()["id"])
    assert j["status"] == "done" and j["rows_done"] == 2, j
    res = [json.loads(x) for x in client.get(f"/v1/jobs/{j['id']}/results?format=jsonl").text.splitlines()]
    assert res[1]["text"] == "bad \ufffd x"
    assert client.get(f"/v1/jobs/{j['id']}/results?format=csv").status_code == 200


def test_preview(client):
    p = client.post("/v1/preview", files={"file": ("d.csv", csv_bytes(rows(30)), "text/csv")})
    assert p.status_code == 200, p.text
    p = p.json()
    assert p["columns"] == ["review_id", "comment", "created", "channel"]
    assert (p["text_column"], p["id_column"], p["date_column"], p["format"]) == ("comment", "review_id", "created", "csv")
    assert len(p["rows"]) == 5 and p["rows"][0]["comment"] == TEXTS[0]
    # a prefix cut mid-line (what the page sends for big text files) still previews
    cut = csv_bytes(rows(30))[:700]
    assert client.post("/v1/preview", files={"file": ("d.csv", cut, "text/csv")}).status_code == 200
    err(client.post("/v1/preview", files={"file": ("d.pdf", b"%PDF-1.4", "application/pdf")}), 415, "unsupported_format")
    assert list((client.app.state.cx.settings.data_dir / "tmp").iterdir()) == []


# -- bad uploads: a 4xx with a JSON error, and nothing left on disk ----------------------
def test_bad_uploads(client, tmp_path):
    good = csv_bytes(rows(3))
    msg = err(upload(client, "notes.txt", b"hello"), 415, "unsupported_format")
    assert ".csv" in msg and ".xlsx" in msg
    assert "decompressed" in err(upload(client, "d.csv.gz", b"\x1f\x8b..."), 415, "unsupported_format")
    assert "format" in err(upload(client, "d.csv", good, format="xml"), 415, "unsupported_format")
    assert "ZIP" in err(upload(client, "d.xlsx", b"not a workbook at all"), 422, "corrupt_upload")
    assert "xlsx" in err(upload(client, "d.xlsx", b"PK\x03\x04garbage" * 10), 422, "corrupt_upload")
    assert "Parquet" in err(upload(client, "d.parquet", b"PAR1 nope"), 422, "corrupt_upload")
    assert "PNG" in err(upload(client, "d.csv", b"\x89PNG\r\n\x1a\n\x00\x00"), 422, "corrupt_upload")
    assert "binary" in err(upload(client, "d.csv", b"a,b\n1,\x00\x01\x02\n"), 422, "corrupt_upload")
    assert "JSON Lines" in err(upload(client, "d.jsonl", b"{not json\n[1,2\n"), 422, "corrupt_upload")
    assert "empty" in err(upload(client, "d.csv", b""), 422, "empty_upload")
    assert "no rows" in err(upload(client, "d.csv", b"text,id\n"), 422, "empty_upload")
    msg = err(upload(client, "d.csv", good, text_column="body"), 422, "column_not_found")
    assert "'body'" in msg and "comment" in msg and "review_id" in msg
    assert "channelz" in err(upload(client, "d.csv", good, segment_column="channelz"), 422, "column_not_found")
    assert "'de'" in err(upload(client, "d.csv", good, lang="de"), 422, "invalid_request")
    assert "'colour'" in err(upload(client, "d.csv", good, colour="red"), 422, "invalid_request")
    assert "'file'" in err(client.post("/v1/jobs", data={"text_column": "x"}, files={"other": ("a", b"b")}),
                           422, "invalid_request")
    assert "multipart" in err(client.post("/v1/jobs", json={"file": "x"}), 415, "not_multipart")
    jobs_dir = tmp_path / "data" / "jobs"
    assert list(jobs_dir.iterdir()) == []
    assert client.get("/v1/jobs").json()["jobs"] == []


def test_oversize_upload_is_refused_while_streaming(tmp_path, tiny_analyzer):
    """A declared Content-Length over the limit is refused before reading; a
    chunked body is refused as soon as the bytes received pass the limit (driven
    through raw ASGI, so we see how much the server actually pulled)."""
    import asyncio

    limit = 256 * 1024
    app = create_app(settings(tmp_path), analyzer=tiny_analyzer)
    with TestClient(app) as c:
        msg = err(upload(c, "big.csv", b"text\n" + b"x" * limit), 413, "body_too_large")
        assert "262,144" in msg and "CXTEXT_API_MAX_UPLOAD_BYTES" in msg

    head = b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\ntext\n'
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        if pulled > 64 * 1024 * 1024:
            return {"type": "http.request", "body": b"\r\n--B--\r\n", "more_body": False}
        chunk = head if pulled == 0 else b"y" * 16384
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    async def main():
        async with app.router.lifespan_context(app):
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                     "scheme": "http", "path": "/v1/jobs", "raw_path": b"/v1/jobs", "query_string": b"",
                     "root_path": "", "headers": [(b"content-type", b"multipart/form-data; boundary=B"),
                                                  (b"transfer-encoding", b"chunked")],
                     "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}, "app": app}
            await app(scope, receive, send)

    asyncio.run(main())
    assert sent[0]["status"] == 413
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["error"]["code"] == "body_too_large" and "while streaming" in body["error"]["message"]
    assert pulled <= limit + 2 * 16384, pulled  # stopped at the limit, not at 64 MiB
    assert list((tmp_path / "data" / "jobs").iterdir()) == []


def test_job_ids_are_validated_before_any_lookup(client):
    for bad in ("short", "a" * 21 + ".", "%2e%2e%2f%2e%2e%2fetc%2fpasswd00", "..%2F..%2F..%2Fetc%2Fpasswd"):
        r = client.get(f"/v1/jobs/{bad}")
        assert r.status_code == 404 and r.json()["error"]["code"] in ("job_not_found", "not_found"), r.text
    assert "22 URL-safe" in err(client.get("/v1/jobs/short/report"), 404, "job_not_found")
    assert "no job" in err(client.get("/v1/jobs/" + "A" * 22), 404, "job_not_found")


def test_results_wait_for_the_job_and_delete_stops_it(tmp_path, tiny_analyzer):
    s = settings(tmp_path, job_chunk_rows=2, job_chunk_delay_s=0.2)
    with TestClient(create_app(s, analyzer=tiny_analyzer)) as c:
        job = upload(c, "d.csv", csv_bytes(rows(40))).json()
        time.sleep(0.3)
        msg = err(c.get(f"/v1/jobs/{job['id']}/results"), 409, "job_not_done")
        assert "rows" in msg and "done" in msg
        err(c.get(f"/v1/jobs/{job['id']}/report"), 409, "job_not_done")
        assert c.get(f"/v1/jobs/{job['id']}").json()["status"] in ("queued", "running")
        assert c.delete(f"/v1/jobs/{job['id']}").status_code == 204
        d = s.jobs_dir / job["id"]
        for _ in range(100):
            if not d.exists():
                break
            time.sleep(0.05)
        assert not d.exists()
        err(c.get(f"/v1/jobs/{job['id']}"), 404, "job_not_found")


class _Failing:
    """The tiny analyzer, failing on the batch with row r0006 (a file path in the message)."""

    def __init__(self, inner, where):
        self.inner, self.where = inner, where

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def analyze_batch(self, chunk):
        if any(isinstance(r, dict) and r.get("id") == "r0006" for r in chunk):
            raise RuntimeError(f"boom in {self.where}/input.csv")
        return self.inner.analyze_batch(chunk)


def test_a_failing_job_reports_why(tmp_path, tiny_analyzer):
    s = settings(tmp_path)
    failing = _Failing(tiny_analyzer, "")
    with TestClient(create_app(s, analyzer=failing)) as c:
        job_id = upload(c, "d.csv", csv_bytes(rows(12))).json()["id"]
        failing.where = str(s.jobs_dir / job_id)
        j = wait_done(c, job_id)
        assert j["status"] == "failed" and j["error"]["code"] == "internal", j
        assert "boom" in j["error"]["message"] and str(tmp_path) not in j["error"]["message"]
        assert j["rows_done"] == 4
        assert "boom" in err(c.get(f"/v1/jobs/{job_id}/summary"), 409, "job_failed")
        assert c.post("/v1/analyze", json={"text": TEXTS[0]}).status_code == 200  # the service lives on


def test_oldest_finished_jobs_make_room(tmp_path, tiny_analyzer):
    with TestClient(create_app(settings(tmp_path, max_jobs=2), analyzer=tiny_analyzer)) as c:
        ids = []
        for _ in range(3):
            r = upload(c, "d.csv", csv_bytes(rows(2)))
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
            wait_done(c, ids[-1])
        assert c.get(f"/v1/jobs/{ids[0]}").status_code == 404
        assert [c.get(f"/v1/jobs/{i}").status_code for i in ids[1:]] == [200, 200]
        assert not (tmp_path / "data" / "jobs" / ids[0]).exists()


def test_too_many_active_jobs_is_a_429(tmp_path, tiny_analyzer):
    with TestClient(create_app(settings(tmp_path, max_jobs=1, job_chunk_rows=2, job_chunk_delay_s=0.2),
                               analyzer=tiny_analyzer)) as c:
        first = upload(c, "d.csv", csv_bytes(rows(30)))
        assert first.status_code == 202
        msg = err(upload(c, "d.csv", csv_bytes(rows(2))), 429, "too_many_jobs")
        assert "CXTEXT_API_MAX_JOBS" in msg
        assert c.delete(f"/v1/jobs/{first.json()['id']}").status_code == 204


def test_one_job_runner_per_data_dir(tmp_path):
    from api.batcher import ModelGate
    from api.jobs import JobRunner, JobStore

    s = settings(tmp_path)
    s.data_dir.mkdir(parents=True)
    a = JobRunner(JobStore(s.jobs_db), s, ModelGate())
    b = JobRunner(JobStore(s.jobs_db), s, ModelGate())
    assert a._acquire_lock() and not b._acquire_lock()  # e.g. a second uvicorn worker
    a.stop()
    assert b._acquire_lock()  # takes over when the holder goes away
    b.stop()


# -- a real process, a real kill ------------------------------------------------------------
@pytest.mark.slow  # two real server start-ups (torch, transformers, warm-up)
def test_sigkill_mid_job_then_restart_resumes_exactly_once(tmp_path, tiny_models, live_server):
    n = 120
    data = tmp_path / "data"
    env = {"CXTEXT_MODELS": str(tiny_models), "CXTEXT_CACHE_DIR": str(tmp_path / "cache"),
           "CXTEXT_API_DATA_DIR": str(data), "CXTEXT_API_JOB_CHUNK_ROWS": "8",
           "CXTEXT_API_JOB_CHUNK_DELAY_S": "0.15", "CXTEXT_API_KEY": ""}
    log = tmp_path / "server.log"
    with live_server(env, log, timeout=60) as (proc, url), httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/jobs", files={"file": ("dump.csv", csv_bytes(rows(n)), "text/csv")})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        end = time.monotonic() + 30
        while c.get(f"/v1/jobs/{job_id}").json()["rows_done"] < 24 and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.05)  # most of each chunk's time is between writing it and committing it
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    # the kill landed mid-job
    db = sqlite3.connect(str(data / "jobs.sqlite3"))
    status, done, committed = db.execute("SELECT status, rows_done, results_bytes FROM jobs WHERE id = ?",
                                         (job_id,)).fetchone()
    db.close()
    assert status == "running" and 24 <= done < n, (status, done)
    on_disk = (data / "jobs" / job_id / "results.jsonl").stat().st_size
    assert on_disk >= committed

    with live_server(env, log, timeout=60) as (proc, url), httpx.Client(base_url=url, timeout=10) as c:
        end = time.monotonic() + 60
        while (j := c.get(f"/v1/jobs/{job_id}").json())["status"] not in ("done", "failed"):
            assert time.monotonic() < end, j
            time.sleep(0.1)
        assert j["status"] == "done" and j["rows_done"] == n and j["rows_total"] == n, j
        got = [json.loads(x)["review_id"] for x in c.get(f"/v1/jobs/{job_id}/results?format=jsonl").text.splitlines()]
        s = c.get(f"/v1/jobs/{job_id}/summary").json()
    assert sorted(got) == sorted(r["review_id"] for r in rows(n)), "each input row exactly once"
    assert got == [r["review_id"] for r in rows(n)]  # and in input order
    assert s["rows"] == n
