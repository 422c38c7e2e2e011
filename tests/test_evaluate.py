"""``cxtext evaluate``: label restriction, metrics, calibration error before
and after temperature scaling, and the hand-written CX dev set scoring."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_uncalibrated_undoes_temperature_scaling():
    from cxtext.evaluate import _uncalibrated

    rng = np.random.default_rng(0)
    labels = ["negative", "neutral", "positive", "mixed"]
    for T in (0.5, 0.87, 2.0):
        z = rng.normal(size=4) * 3
        served = dict(zip(labels, _softmax(z / T)))
        back = _uncalibrated(served, T)
        assert [back[l] for l in labels] == pytest.approx(list(_softmax(z)), abs=1e-9)


def _res(probs):
    return SimpleNamespace(ok=True, sentiment=SimpleNamespace(probs=probs))


def test_label_scores_restrict_to_the_datasets_labels():
    from cxtext.evaluate import EvalSpec, _label_scores
    from cxtext.train import ece

    spec = EvalSpec("t", "t", "sentiment", ("negative", "positive"))
    df = pd.DataFrame({"label": ["positive", "negative", "negative", "neutral"]})
    res = [_res({"positive": 0.3, "negative": 0.2, "neutral": 0.5}),  # neutral is not a label here → positive
           _res({"negative": 0.9, "positive": 0.1}),
           _res({"negative": 0.4, "positive": 0.6}),
           _res({"neutral": 1.0})]  # gold outside the label set: not scored
    d = _label_scores(df, res, spec, ece, temperature=0.5)
    assert d["n"] == 3 and d["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert d["macro_f1"] == pytest.approx(np.mean([2 / 3, 2 / 3]), abs=1e-4)
    assert d["temperature"] == 0.5 and d["ece"] != d["ece_before_scaling"]  # T=0.5 sharpens: they differ


def test_devset_scores_missed_signals_and_false_alarms(tmp_path, tiny_analyzer):
    from cxtext.evaluate import evaluate_devset

    rows = [
        {"id": "1", "text": "Customer support never answered, I called three times", "sentiment": "negative",
         "emotion": "anger", "effort": "high", "loyalty": None, "aspects": [{"name": "customer_support"}]},
        {"id": "2", "text": "I will order again, highly recommend", "sentiment": "positive", "emotion": "joy",
         "effort": None, "loyalty": "promoter", "aspects": []},
        {"id": "3", "text": "price is too high for this quality", "sentiment": "negative", "emotion": "anger",
         "effort": "low", "loyalty": None, "aspects": [{"name": "price_value"}, {"name": "product_quality"}]},
    ]
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = evaluate_devset(tiny_analyzer, path)
    assert out["n"] == 3
    assert out["aspects"]["recall"] == 1.0  # the tiny taxonomy has all three terms
    assert out["effort"]["missed"] == 1  # row 3's "low" effort is not in the tiny taxonomy
    assert out["effort"]["per_class_f1"]["high"] == 1.0 and out["loyalty"]["per_class_f1"]["promoter"] == 1.0


@pytest.mark.data
def test_evaluate_on_a_real_test_split(tiny_analyzer):
    if not SHARED.exists():
        pytest.skip("../shared/datasets is not here")
    from cxtext.evaluate import evaluate

    out = evaluate(tiny_analyzer, ["ar_emotone"], data_dir=SHARED, limit=30)
    r = out["ar_emotone"]
    assert r["task"] == "emotion" and r["n"] == 30 and 0 <= r["macro_f1"] <= 1
    assert {"ece", "ece_before_scaling", "floor", "anchor"} <= set(r) and r["floor"] == 0.651
