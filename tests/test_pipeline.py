"""Engine mechanics on the tiny random model: shapes, order, spans, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cxtext.registry import EMOTION_LABELS, SENTIMENT_LABELS


def test_single_text_contract(tiny_analyzer):
    text = "غذا سرد رسید و پیک بی‌ادب بود"
    r = tiny_analyzer(text)
    assert r.ok and r.lang == "fa"
    assert set(r.sentiment.probs) == set(SENTIMENT_LABELS)
    assert abs(sum(r.sentiment.probs.values()) - 1) < 1e-4
    assert r.sentiment.label in SENTIMENT_LABELS
    assert set(r.emotion.probs) == set(EMOTION_LABELS)
    assert [a.name for a in r.aspects] == ["delivery"]
    ev = r.aspects[0].evidence[0]
    assert text[ev.start:ev.end] == ev.text == "پیک"
    assert r.aspects[0].sentiment in ("negative", "neutral", "positive")
    assert r.cx.nps_class in ("promoter", "passive", "detractor")
    assert 1 <= r.cx.csat <= 5 and 0 <= r.cx.churn_risk <= 1
    d = r.to_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["aspects"][0]["evidence"][0]["start"] == ev.start
    assert d["sentiment"]["label"] == r.sentiment.label


def test_evidence_points_into_original_after_normalization(tiny_analyzer):
    # Arabic ي/ك typed in Persian, elongation and a URL change the normalized text's length
    text = "قيمت  خيلي بالاست!!! عالیییی https://example.com/x  ولی پيك دير رسيد"
    r = tiny_analyzer(text)
    names = {a.name: a for a in r.aspects}
    assert "price_value" in names and "delivery" in names
    for a in r.aspects:
        for ev in a.evidence:
            assert text[ev.start:ev.end] == ev.text
    assert text[names["delivery"].evidence[0].start:names["delivery"].evidence[0].end] == "پيك"
    assert r.masked["url"] == 1
    for s in r.sentences:
        assert 0 <= s.start < s.end <= len(text)


def test_pipe_keeps_order_and_count_and_ids(tiny_analyzer):
    items = [{"id": f"r{i}", "text": t} for i, t in enumerate(
        ["الطلب وصل متأخر والمندوب ما رد", "", "price is too high for this quality", None, 42,
         "قیمت مناسب بود و بسته‌بندی تمیز", "   ", "😡😡"])]
    out = list(tiny_analyzer.pipe(items, batch_size=3))
    assert [a.id for a in out] == [f"r{i}" for i in range(len(items))]
    errors = [a.error for a in out]
    assert errors[0] is None and errors[2] is None and errors[5] is None
    assert "empty" in errors[1] and "empty" in errors[3] and "not text" in errors[4] and "empty" in errors[6]
    assert out[7].ok  # emoji-only is a sentiment signal, analyzed with an und/low-confidence language
    assert out[0].lang == "ar" and out[2].lang == "en"


def test_batch_equals_single(tiny_analyzer):
    texts = ["الطلب وصل متأخر والمندوب ما رد", "price is too high for this quality", "قیمت مناسب بود"]
    batch = list(tiny_analyzer.pipe(texts, batch_size=8))
    for t, b in zip(texts, batch):
        s = tiny_analyzer(t)
        for k in SENTIMENT_LABELS:
            assert s.sentiment.probs[k] == pytest.approx(b.sentiment.probs[k], abs=1e-4)


def test_long_text_analyzed_end_to_end(tiny_analyzer):
    filler = "این یک جمله طولانی درباره تجربه من از خرید است که ادامه دارد. "
    text = "پیک دیر رسید. " + filler * 400 + "در آخر هم قیمت خیلی بالا بود."
    assert len(text) > 20_000
    r = tiny_analyzer(text)
    assert r.ok
    names = {a.name: a for a in r.aspects}
    assert "delivery" in names and "price_value" in names
    assert names["price_value"].evidence[0].start > 20_000
    assert r.n_tokens > tiny_analyzer.encoder.window * 4  # many windows, none dropped
    assert r.sentences[-1].end == len(text) - 0 or r.sentences[-1].end >= len(text) - 1


def test_signals_and_cx(tiny_analyzer):
    r = tiny_analyzer("پشتیبانی جواب نداد، سه بار تماس گرفتم. دیگه سفارش نمیدم")
    assert r.cx.effort == "high"
    assert r.cx.loyalty == "detractor" and r.cx.nps_class == "detractor"
    assert "effort_high" in r.cx.evidence
    r2 = tiny_analyzer("I will order again, highly recommend")
    assert r2.cx.loyalty == "promoter" and r2.cx.nps_class == "promoter"
    assert r2.cx.churn_risk < r.cx.churn_risk
    r3 = tiny_analyzer("قیمت این گوشی چنده")
    assert r3.cx.effort is None and r3.cx.loyalty is None


def test_too_long_text_is_an_error_not_a_crash(tiny_models, tiny_base, tmp_path):
    import cxtext

    a = cxtext.load(models=tiny_models, cache_dir=tmp_path, max_text_chars=100)
    r = a("x" * 101)
    assert not r.ok and "too long" in r.error


def test_heads_dim_mismatch_is_a_clear_error(tiny_models, tmp_path):
    import shutil

    import cxtext
    from cxtext.errors import LabelMismatchError

    bad = tmp_path / "bad"
    shutil.copytree(tiny_models, bad)
    meta = json.loads((bad / "heads.json").read_text())
    meta["dim"] = 64
    (bad / "heads.json").write_text(json.dumps(meta))
    with pytest.raises(Exception) as exc:
        cxtext.load(models=bad, cache_dir=tmp_path)
    assert isinstance(exc.value, (LabelMismatchError, RuntimeError))


@pytest.mark.parametrize("task,labels", [("sentiment_cx", ["bad", "good"]), ("message", ["chat"]),
                                         ("emotion_cx", ["happy", "sad"]), ("domain", ["review"])])
def test_a_cx_head_or_gate_with_foreign_labels_is_refused(tiny_models, tmp_path, task, labels):
    import shutil

    import cxtext
    from cxtext.errors import LabelMismatchError
    from cxtext.heads import Heads, HeadSpec, build_module

    start = Heads.load(tiny_models)
    tasks = dict(start.tasks, **{task: HeadSpec(labels, "sigmoid" if len(labels) == 1 else "softmax")})
    module = build_module(32, 16, tasks)
    bad = tmp_path / "bad"
    shutil.copytree(tiny_models, bad)
    Heads(module, tasks, dict(start.meta)).save(bad)
    with pytest.raises(LabelMismatchError, match=task):
        cxtext.load(models=bad, cache_dir=tmp_path / "cache")


def test_language_per_sentence(tiny_analyzer):
    text = ("پیک خیلی دیر رسید و غذا کاملا سرد بود و بسته‌بندی هم پاره شده بود، واقعا ناراحت شدم. "
            "Support never answered.")
    r = tiny_analyzer(text)
    assert r.lang == "fa"
    langs = [s.lang for s in r.sentences]
    assert langs[0] == "fa" and langs[-1] == "en"


def test_negated_promoter_is_a_detractor(tiny_analyzer):
    r = tiny_analyzer("The food was fine but I would never highly recommend them")
    assert r.cx.loyalty == "detractor"
    r = tiny_analyzer("لا أنصح به أبدا")
    assert r.cx.loyalty == "detractor"


def test_a_neutral_text_takes_the_side_its_cx_signals_state(tiny_analyzer, monkeypatch):
    predict = tiny_analyzer.heads.predict

    def flat(x, inputs=None, tokens=None):  # a sentiment head that calls everything neutral
        out = predict(x, inputs, tokens)
        out["sentiment"] = np.tile(np.array([0.1, 0.7, 0.1, 0.1], np.float32), (len(x), 1))
        return out

    monkeypatch.setattr(tiny_analyzer.heads, "predict", flat)
    assert tiny_analyzer("I called three times about my order").sentiment.label == "negative"
    assert tiny_analyzer("never again, the order was wrong").sentiment.label == "negative"
    assert tiny_analyzer("I ordered a lamp on Monday").sentiment.label == "neutral"
    r = tiny_analyzer("I called three times about my order")
    assert r.sentiment.probs["neutral"] == pytest.approx(0.7)  # the label moves, the probabilities stay


def test_an_unsure_label_yields_to_the_opposite_signal_a_confident_one_does_not(tiny_analyzer, monkeypatch):
    predict = tiny_analyzer.heads.predict

    def head_says(row):
        def fixed(x, inputs=None, tokens=None):
            out = predict(x, inputs, tokens)
            out["sentiment"] = np.tile(np.array(row, np.float32), (len(x), 1))
            return out
        return fixed

    monkeypatch.setattr(tiny_analyzer.heads, "predict", head_says([0.55, 0.2, 0.25, 0.0]))
    assert tiny_analyzer("I called three times about my order").sentiment.label == "negative"
    assert tiny_analyzer("signup was quick and easy").sentiment.label == "positive"
    assert tiny_analyzer("I ordered a lamp on Monday").sentiment.label == "negative"
    monkeypatch.setattr(tiny_analyzer.heads, "predict", head_says([0.9, 0.05, 0.05, 0.0]))
    assert tiny_analyzer("signup was quick and easy").sentiment.label == "negative"


def test_a_learned_loyalty_does_not_settle_sentiment_a_phrase_does(tiny_analyzer, monkeypatch):
    from cxtext.heads import HeadSpec

    predict = tiny_analyzer.heads.predict

    tasks = tiny_analyzer.heads.tasks

    def with_loyalty(x, inputs=None, tokens=None):  # the tiny heads plus a loyalty head that is sure of a promoter
        spec = tasks.pop("loyalty", None)
        out = predict(x, inputs, tokens)
        tasks["loyalty"] = spec
        out["sentiment"] = np.tile(np.array([0.55, 0.2, 0.25, 0.0], np.float32), (len(x), 1))
        out["loyalty"] = np.tile(np.array([0.95, 0.03, 0.02], np.float32), (len(x), 1))
        return out

    monkeypatch.setitem(tasks, "loyalty", HeadSpec(["promoter", "detractor", "none"]))
    monkeypatch.setattr(tiny_analyzer.heads, "predict", with_loyalty)
    r = tiny_analyzer("I ordered a lamp on Monday")
    assert r.cx.loyalty == "promoter" and r.sentiment.label == "negative"  # the head's promoter settles nothing
    assert tiny_analyzer("I will order again").sentiment.label == "positive"  # the phrase's does
