"""The REST service's interactive endpoints on the tiny models: behaviour,
every 4xx, auth, CORS, the schema-drift guard and micro-batching."""
from __future__ import annotations

import asyncio
import threading
import types
import typing

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from api import schemas
from api.main import create_app
from api.settings import ApiSettings, get_settings

TEXTS = {
    "fa": "کیفیت محصول عالی بود ولی ارسال خیلی دیر انجام شد",
    "ar": "خدمة العملاء سيئة جدا ولن أتعامل معكم مرة أخرى",
    "en": "The delivery was late but the food was great. I will order again, highly recommend",
}


def make_settings(tmp_path, **kw) -> ApiSettings:
    base = dict(data_dir=tmp_path / "data", max_text_chars=300, max_batch_items=8, max_body_bytes=16 * 1024,
                max_upload_bytes=64 * 1024, max_preview_bytes=64 * 1024, batch_max_wait_ms=5)
    base.update(kw)
    return ApiSettings(**base)


@pytest.fixture
def client(tmp_path, tiny_analyzer):
    with TestClient(create_app(make_settings(tmp_path), analyzer=tiny_analyzer)) as c:
        yield c


def err(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    return body["error"]["message"]


# -- behaviour -----------------------------------------------------------------
def test_health_ready_models(client, tiny_analyzer):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["model"] == tiny_analyzer.model_id
    m = client.get("/v1/models").json()
    assert m["model"] == tiny_analyzer.model_id
    assert m["labels"]["sentiment"] == ["negative", "neutral", "positive", "mixed"]
    assert set(m["taxonomy"]["aspects"]) == {"delivery", "price_value", "customer_support", "product_quality"}
    assert m["heads"]["version"] == "test" and m["heads"]["path"]
    assert m["versions"]["torch"] and m["limits"]["max_text_chars"] == 300
    assert client.get("/openapi.json").json()["components"]["schemas"]["Analysis"]["additionalProperties"] is False
    assert client.get("/docs").status_code == 200


def test_analyze_returns_the_engine_contract(client, tiny_analyzer):
    r = client.post("/v1/analyze", json={"text": TEXTS["en"], "id": "r1", "lang": "en"})
    assert r.status_code == 200, r.text
    d = r.json()
    want = tiny_analyzer.analyze_batch([{"id": "r1", "text": TEXTS["en"], "lang": "en"}])[0].to_dict()
    assert d == want
    assert d["lang"] == "en" and d["error"] is None and {a["name"] for a in d["aspects"]} >= {"delivery"}
    assert client.post("/v1/analyze", json={"text": TEXTS["fa"], "id": 7}).json()["id"] == "7"


def test_batch_keeps_order_and_count_and_marks_bad_items(client):
    items = [{"id": "a", "text": TEXTS["fa"]}, {"id": "b", "text": ""}, {"id": "c", "text": 12},
             {"id": "d", "text": "x" * 301}, {"id": "e", "text": TEXTS["ar"], "lang": "xx"},
             {"id": "f", "text": TEXTS["en"], "lang": "en"}, {"id": "g"}]
    r = client.post("/v1/analyze/batch", json={"items": items})
    assert r.status_code == 200, r.text
    out = r.json()["items"]
    assert [o["id"] for o in out] == list("abcdefg")
    assert out[0]["error"] is None and out[5]["error"] is None and out[0]["lang"] == "fa"
    assert "empty" in out[1]["error"]
    assert "not text" in out[2]["error"]
    assert "too long" in out[3]["error"] and "300" in out[3]["error"]
    assert "'xx'" in out[4]["error"] and "fa, ar, en" in out[4]["error"]
    assert "empty" in out[6]["error"]


# -- bad input: always a 4xx with a JSON error ------------------------------------
def test_bad_single_requests(client):
    assert "1 to 300" in err(client.post("/v1/analyze", json={"text": "   "}), 422, "empty_text")
    msg = err(client.post("/v1/analyze", json={"text": "س" * 301}), 422, "text_too_long")
    assert "301" in msg and "300" in msg
    msg = err(client.post("/v1/analyze", json={"text": 5}), 422, "invalid_request")
    assert "text" in msg and "string" in msg and '"lang"' in msg
    assert "text" in err(client.post("/v1/analyze", json={"id": "x"}), 422, "invalid_request")
    msg = err(client.post("/v1/analyze", json={"text": "hi", "lang": "de"}), 422, "invalid_request")
    assert "lang" in msg and "'fa'" in msg
    msg = err(client.post("/v1/analyze", content=b'{"text": "hi"', headers={"content-type": "application/json"}),
              400, "invalid_json")
    assert "not valid JSON" in msg
    msg = err(client.post("/v1/analyze", content=b"hello", headers={"content-type": "text/plain"}), 415, "not_json")
    assert "application/json" in msg
    assert "letters" in err(client.post("/v1/analyze", json={"text": "!!! ??? ..."}), 422, "unanalyzable")
    js = {"content-type": "application/json"}
    assert "UTF-8" in err(client.post("/v1/analyze", content=b'{"text": "\xff\xfe"}', headers=js), 400, "invalid_json")
    msg = err(client.post("/v1/analyze", content=b'{"text": "\\ud800 lone"}', headers=js), 422, "invalid_text")
    assert "surrogate" in msg
    r = client.post("/v1/analyze/batch", content=b'{"items": [{"id": "\\udfff", "text": "\\ud800"}]}', headers=js)
    assert r.status_code == 200 and "surrogate" in r.json()["items"][0]["error"]
    assert "object" in err(client.post("/v1/analyze", json=["a", "b"]), 422, "invalid_request")


def test_bad_batches_and_bodies(client):
    msg = err(client.post("/v1/analyze/batch", json={"items": [{"text": "a"}] * 9}), 413, "batch_too_large")
    assert "9" in msg and "limit is 8" in msg
    assert "1 to 8" in err(client.post("/v1/analyze/batch", json={"items": []}), 422, "empty_batch")
    assert "items" in err(client.post("/v1/analyze/batch", json={"items": "nope"}), 422, "invalid_request")
    assert "items" in err(client.post("/v1/analyze/batch", json={"texts": ["a"]}), 422, "invalid_request")
    msg = err(client.post("/v1/analyze", json={"text": "a" * 20_000}), 413, "body_too_large")
    assert "16,384" in msg and "CXTEXT_API_MAX_BODY_BYTES" in msg


def test_not_found_and_method_errors_are_json(client):
    assert "GET /v2/nothing" in err(client.get("/v2/nothing"), 404, "not_found")
    assert "GET" in err(client.get("/v1/analyze"), 405, "method_not_allowed")


# -- readiness --------------------------------------------------------------------
def test_readyz_is_503_until_the_models_are_loaded(tmp_path, tiny_analyzer, monkeypatch):
    import api.main as main

    release = threading.Event()

    def slow_load(settings):
        release.wait(10)
        return tiny_analyzer

    monkeypatch.setattr(main, "_load_analyzer", slow_load)
    with TestClient(create_app(make_settings(tmp_path))) as c:
        assert c.get("/healthz").status_code == 200
        assert "loading" in err(c.get("/readyz"), 503, "not_ready")
        assert "loading" in err(c.post("/v1/analyze", json={"text": "hi"}), 503, "not_ready")
        release.set()
        for _ in range(200):
            if c.get("/readyz").status_code == 200:
                break
            threading.Event().wait(0.02)
        assert c.get("/readyz").status_code == 200
        assert c.post("/v1/analyze", json={"text": TEXTS["fa"]}).status_code == 200


def test_a_failed_load_is_reported(tmp_path):
    with TestClient(create_app(make_settings(tmp_path, models=str(tmp_path / "no-such-models")))) as c:
        for _ in range(200):
            r = c.get("/readyz")
            if "failed" in r.text:
                break
            threading.Event().wait(0.02)
        assert "no trained heads" in err(r, 503, "not_ready")
        assert c.get("/healthz").status_code == 200
        r = c.post("/v1/jobs", files={"file": ("d.csv", b"text\nhello\n")})
        assert "failed to load" in err(r, 503, "not_ready")


# -- access -----------------------------------------------------------------------
def test_api_key(tmp_path, tiny_analyzer):
    with TestClient(create_app(make_settings(tmp_path, api_key="s3cret"), analyzer=tiny_analyzer)) as c:
        assert c.get("/healthz").status_code == 200
        assert "X-API-Key" in err(c.post("/v1/analyze", json={"text": "hi"}), 401, "unauthorized")
        assert "wrong" in err(c.get("/v1/models", headers={"X-API-Key": "nope"}), 401, "unauthorized")
        err(c.get("/v1/jobs"), 401, "unauthorized")
        ok = c.post("/v1/analyze", json={"text": TEXTS["ar"]}, headers={"X-API-Key": "s3cret"})
        assert ok.status_code == 200


def test_cors_off_by_default_and_configurable(tmp_path, tiny_analyzer, client):
    pre = {"Origin": "https://dash.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/analyze", headers=pre).headers
    s = make_settings(tmp_path / "b", cors_origins="https://dash.example, https://b.example")
    assert s.cors_origins == ["https://dash.example", "https://b.example"]
    with TestClient(create_app(s, analyzer=tiny_analyzer)) as c:
        r = c.options("/v1/analyze", headers=pre)
        assert r.headers["access-control-allow-origin"] == "https://dash.example"


def test_settings_from_env(tmp_path):
    env = {"CXTEXT_API_MAX_TEXT_CHARS": "123", "CXTEXT_API_KEY": "k", "CXTEXT_API_DATA_DIR": str(tmp_path),
           "CXTEXT_API_CORS_ORIGINS": "", "CXTEXT_API_BATCH_MAX_WAIT_MS": "2.5"}
    s = ApiSettings.from_env(env)
    assert (s.max_text_chars, s.api_key, s.data_dir, s.cors_origins, s.batch_max_wait_ms) == (123, "k", tmp_path, [], 2.5)
    assert s.jobs_db == tmp_path / "jobs.sqlite3"
    with pytest.raises(ValueError):
        ApiSettings.from_env({"CXTEXT_API_MAX_TEXT_CHARS": "lots"})
    get_settings.cache_clear()
    assert isinstance(get_settings(), ApiSettings)


def test_page_is_self_contained(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "<script>" in html and "<style>" in html and 'name="viewport"' in html
    assert "http://" not in html and "https://" not in html and "<script src" not in html
    assert "/v1/preview" in html and "/v1/jobs" in html and 'dir = ui === "en" ? "ltr" : "rtl"' in html


# -- the schema cannot drift from the engine's results ---------------------------------
def _walk(value: typing.Any, ann: typing.Any, where: str) -> int:
    """Assert the keys of ``value`` equal the fields of the model ``ann`` describes,
    at every nesting level; return how many objects were compared."""
    if value is None:
        return 0
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        return _walk(value, next(a for a in typing.get_args(ann) if a is not type(None)), where)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        assert set(value) == set(ann.model_fields), f"{where}: to_dict {sorted(value)} != schema {sorted(ann.model_fields)}"
        return 1 + sum(_walk(value[n], f.annotation, f"{where}.{n}") for n, f in ann.model_fields.items())
    if origin is list:
        return sum(_walk(v, typing.get_args(ann)[0], f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        return sum(_walk(v, typing.get_args(ann)[1], f"{where}.{k}") for k, v in value.items())
    return 0


def test_schema_is_generated_from_the_results_and_cannot_drift(tiny_analyzer):
    from cxtext.results import Analysis

    texts = [{"id": "1", "text": TEXTS["en"] + ". I called three times about it"}, {"id": "2", "text": TEXTS["fa"]},
             {"id": "3", "text": TEXTS["ar"]}, {"id": "4", "text": ""}]
    out = tiny_analyzer.analyze_batch(texts)
    ok = out[0].to_dict()
    assert ok["aspects"] and ok["aspects"][0]["evidence"] and ok["sentences"] and ok["cx"]["evidence"], ok
    levels = 0
    for a in out:
        d = a.to_dict()
        levels += _walk(d, schemas.Analysis, "analysis")
        assert schemas.Analysis.model_validate(d).model_dump() == d
        assert Analysis.from_dict(d).to_dict() == d  # the jobs rebuild analyses from their JSON
    assert levels >= 10  # analysis, predictions, aspects, evidence, cx, cx evidence, sentences were all walked
    # the generator reads the dataclasses: a field added there appears in the schema
    import dataclasses

    from cxtext import results

    @dataclasses.dataclass(frozen=True)
    class Extended(results.Evidence):
        speaker: typing.Optional[str] = None

    assert set(schemas.model_from_dataclass(Extended).model_fields) == {"start", "end", "text", "speaker"}
    assert set(schemas.Prediction.model_fields) == {"label", "probs", "score"}  # computed key included
    # extra keys in a to_dict() would be rejected, not silently dropped
    with pytest.raises(ValidationError):
        schemas.Analysis.model_validate({**ok, "surprise": 1})


# -- micro-batching ------------------------------------------------------------------
class _Recording:
    """The tiny analyzer, recording the thread and size of each model call."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def analyze_batch(self, chunk):
        self.calls.append((threading.current_thread().name, len(chunk)))
        return self.inner.analyze_batch(chunk)


def test_concurrent_requests_share_model_passes_off_the_event_loop(tmp_path, tiny_analyzer):
    rec = _Recording(tiny_analyzer)
    app = create_app(make_settings(tmp_path, batch_max_wait_ms=50, batch_max_size=64), analyzer=rec)
    texts = list(TEXTS.values())

    async def main():
        loop_thread = threading.current_thread().name
        async with app.router.lifespan_context(app):
            rec.calls.clear()  # the warm-up pass
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                rs = await asyncio.gather(*[c.post("/v1/analyze", json={"id": str(i), "text": texts[i % 3]})
                                            for i in range(16)])
                stats = app.state.cx.batcher.stats
                public = (await c.get("/v1/stats")).json()
                assert public["model_passes"] == stats.calls and public["texts"] == 16
                return loop_thread, rs, stats.calls, stats.items, stats.largest

    loop_thread, rs, calls, items, largest = asyncio.run(main())
    assert [r.status_code for r in rs] == [200] * 16
    assert [r.json()["id"] for r in rs] == [str(i) for i in range(16)]
    assert items == 16 and calls < 16 and largest > 1, (calls, largest)
    assert len(rec.calls) == calls
    assert all(name.startswith("cxtext-model") and name != loop_thread for name, _ in rec.calls)


def test_two_model_workers_run_passes_side_by_side_and_never_more():
    import time

    from api.batcher import MicroBatcher, ModelGate

    lock = threading.Lock()
    active, peak, threads = [0], [0], set()

    def fn(records):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            threads.add(threading.current_thread().name)
        time.sleep(0.05)  # a model pass; the GIL is free meanwhile, as inside torch kernels
        with lock:
            active[0] -= 1
        return [r * 2 for r in records]

    async def main():
        b = MicroBatcher(fn, max_batch=4, max_wait_s=0.001, gate=ModelGate(2), workers=2)
        await b.start()
        try:
            return await asyncio.gather(*(b.submit(i) for i in range(40))), b.stats
        finally:
            await b.stop()

    out, stats = asyncio.run(main())
    assert out == [i * 2 for i in range(40)]  # every caller got its own result
    assert peak[0] == 2 and len(threads) == 2  # two passes at once, in two threads, never three
    assert stats.items == 40 and stats.largest <= 4 and stats.calls >= 10


def test_the_gate_lets_a_job_use_a_free_slot_but_not_ahead_of_waiting_requests():
    import time

    from api.batcher import ModelGate

    gate = ModelGate(2)
    order: list[str] = []
    started = threading.Event()

    def request():
        started.set()
        with gate.interactive():
            order.append("request")

    def job():
        started.wait()
        time.sleep(0.05)  # the request is waiting for a slot first
        with gate.background():
            order.append("job")

    ts = [threading.Thread(target=request), threading.Thread(target=job)]
    with gate.interactive():  # holds one slot throughout
        with gate.background():  # a free slot and nobody waiting: a job may use it
            order.append("job beside a request")
            for t in ts:
                t.start()
            time.sleep(0.2)
            assert order == ["job beside a request"]  # both slots are taken: both wait
        # one slot frees: the waiting request gets it; the job only after the request is done
        for t in ts:
            t.join(5)
    assert order == ["job beside a request", "request", "job"]
