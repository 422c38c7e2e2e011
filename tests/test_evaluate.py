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


def _res(probs, label=None):
    return SimpleNamespace(ok=True, sentiment=SimpleNamespace(probs=probs, label=label or max(probs, key=probs.get)))


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
    assert "journey_stage" not in out  # no row labels it: not scored as if every row had none
    rows[0]["journey_stage"] = "post_purchase"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert "journey_stage" in evaluate_devset(tiny_analyzer, path)


@pytest.mark.data
def test_evaluate_on_a_real_test_split(tiny_analyzer):
    if not SHARED.exists():
        pytest.skip("../shared/datasets is not here")
    from cxtext.evaluate import evaluate

    out = evaluate(tiny_analyzer, ["ar_emotone"], data_dir=SHARED, limit=30)
    r = out["ar_emotone"]
    assert r["task"] == "emotion" and r["n"] == 30 and 0 <= r["macro_f1"] <= 1
    assert {"ece", "ece_before_scaling", "floor", "anchor"} <= set(r) and r["floor"] == 0.651


def test_a_pooled_label_stands_for_several_of_ours():
    from cxtext.evaluate import EvalSpec, _label_scores
    from cxtext.train import ece

    labels = ("negative", "mixed", "positive")  # the dataset's middle class is "neutral or mixed"
    df = pd.DataFrame({"label": ["mixed", "mixed"]})
    res = [_res({"negative": 0.3, "neutral": 0.4, "mixed": 0.05, "positive": 0.25}),  # served neutral
           _res({"negative": 0.1, "neutral": 0.05, "mixed": 0.45, "positive": 0.4})]  # served mixed
    plain = _label_scores(df, res, EvalSpec("t", "t", "sentiment", labels), ece)
    pooled = _label_scores(df, res, EvalSpec("t", "t", "sentiment", labels,
                                             pools=(("mixed", ("neutral", "mixed")),)), ece)
    assert plain["accuracy"] == 0.5 and pooled["accuracy"] == 1.0
    assert pooled["ece"] != plain["ece"]  # calibration is scored on the pooled probabilities


def test_csat_scores_compare_with_stars_and_with_sentiment_alone():
    from cxtext.evaluate import EvalSpec, _csat_scores

    df = pd.DataFrame({"stars": [5.0, 1.0, 3.0, float("nan")]})

    def r(score, pos):
        return SimpleNamespace(ok=True, cx=SimpleNamespace(csat_score=score),
                               sentiment=SimpleNamespace(probs={"positive": pos, "negative": 1 - pos}))

    d = _csat_scores(df, [r(4.6, 0.5), r(1.2, 0.5), r(3.4, 0.5), r(5.0, 1.0)], EvalSpec("c", "c", "csat"))
    assert d["n"] == 3 and d["mae"] == pytest.approx((0.4 + 0.2 + 0.4) / 3, abs=1e-4)
    assert d["accuracy"] == 1.0 and d["spearman"] == pytest.approx(1.0)
    assert d["from_sentiment"]["mae"] == pytest.approx((2 + 2 + 0) / 3, abs=1e-4)  # 3 stars for every row


def test_nps_scores_read_the_recommend_field():
    from cxtext.evaluate import EvalSpec, _nps_scores

    df = pd.DataFrame({"source_label": ["1", "2", "3", "1"]})
    pos = {"positive": 1.0}  # sentiment alone: 5 stars → promoter
    res = [SimpleNamespace(ok=True, cx=SimpleNamespace(nps_class=c, loyalty=l), sentiment=SimpleNamespace(probs=pos))
           for c, l in (("promoter", None), ("detractor", "detractor"), ("promoter", None), ("promoter", None))]
    d = _nps_scores(df, res, EvalSpec("n", "n", "nps", ("promoter", "passive", "detractor")))
    assert d["n"] == 4 and d["accuracy"] == 0.75
    assert d["macro_f1"] == pytest.approx(np.mean([0.8, 0.0, 1.0]), abs=1e-4)
    assert d["from_sentiment"]["accuracy"] == 0.75  # explicit loyalty kept, the rest read as promoters


def test_the_served_label_counts_when_the_dataset_has_it():
    from cxtext.evaluate import EvalSpec, _label_scores
    from cxtext.train import ece

    labels = ("negative", "mixed", "positive")
    df = pd.DataFrame({"label": ["mixed", "positive"]})
    # the analyzer serves "mixed" when two clauses disagree, though positive is the most likely label
    res = [_res({"negative": 0.3, "mixed": 0.1, "positive": 0.6}, label="mixed"),
           _res({"negative": 0.1, "neutral": 0.5, "positive": 0.4})]  # "neutral" is not a label: argmax of the rest
    d = _label_scores(df, res, EvalSpec("t", "t", "sentiment", labels), ece)
    assert d["accuracy"] == 1.0
