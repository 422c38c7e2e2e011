"""The heads for aspects, CSAT and NPS: how their labels are made, how a
multi-label head is fitted, and how the engine uses them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import EFFORT_LOYALTY_MESSAGES, SENTENCES, fit_signals, mock_cx_texts, mock_signal_corpus, write_messages


def test_absa_sentences_get_a_sentence_label_from_their_opinions():
    from cxtext.train import absa_as_sentiment

    df = pd.DataFrame({
        "text": list("abcdefg"), "task": ["absa"] * 6 + ["sentiment"],
        "label": [None, None, None, None, None, "negative", "positive"],
        "source_label": ["SERVICE#GENERAL=positive", "ROOMS#PRICES=negative|SERVICE#GENERAL=positive",
                         "HOTEL#GENERAL=neutral|ROOMS#CLEANLINESS=negative", "FOOD_DRINKS#QUALITY=conflict", "",
                         "2", "x"],
    })
    out = absa_as_sentiment(df)
    assert out["label"].tolist() == ["positive", "mixed", "negative", "mixed", None, "negative"]
    assert set(out["task"]) == {"sentiment"}  # the row that was not ABSA is not taken


def _fit(labels, X, dev, **kw):
    from cxtext.heads import HeadSpec
    from cxtext.train import TrainConfig, fit_heads

    spec = HeadSpec(["a", "b", "c"], "sigmoid")
    module, metrics = fit_heads(X, {"asp": labels}, {"asp": spec}, dev,
                                TrainConfig(epochs=60, hidden=0, lr=5e-2, batch_size=64, **kw))
    return module.heads["asp"], spec, metrics["asp"]


def test_multilabel_head_learns_and_unknown_cells_carry_no_loss():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 8)).astype(np.float32)
    truth = (X[:, :3] > 0).astype(np.int64)  # label j is present when feature j is positive
    labels = truth.copy()
    # three in four rows where "a" is present do not annotate "a": read as "absent"
    # (no mask), they would teach the head that "a" is present only a quarter of the time
    pos = np.where(truth[:, 0] == 1)[0]
    labels[pos[: len(pos) * 3 // 4], 0] = -1
    labels[::2, 2] = -1
    dev = np.zeros(600, bool)
    dev[500:] = True
    head, spec, m = _fit(labels, X, dev)
    with torch.no_grad():
        p = torch.sigmoid(head(torch.from_numpy(X[500:]))).numpy()
    t = truth[500:]
    assert p[t[:, 0] == 1, 0].mean() >= 0.7 and p[t[:, 0] == 0, 0].mean() <= 0.2  # unmasked: ~0.3 and ~0.09
    pred = p >= np.array([spec.thresholds[l] for l in spec.labels])
    assert (pred == t.astype(bool)).mean() >= 0.9
    assert set(spec.thresholds) == {"a", "b", "c"} and all(0.2 <= t <= 0.9 for t in spec.thresholds.values())
    assert m["dev_micro_f1"] >= 0.9 and m["positives"]["c"] < m["positives"]["b"]


def test_signal_labels_mark_what_a_dataset_does_not_annotate_as_unknown():
    from cxtext.signal_heads import signal_labels

    df = pd.DataFrame({
        "aspects": [{"staff"}, set(), None, {"delivery"}],
        "annotated": [["price_value", "staff"], ["price_value", "staff"], [], ["delivery"]],
        "csat": [None, "4", "1", None], "nps": [None, None, "detractor", "passive"],
    })
    y = signal_labels(df, ["delivery", "price_value", "staff"])
    assert y["aspects"].tolist() == [[-1, 0, 1], [-1, 0, 0], [-1, -1, -1], [1, -1, -1]]
    assert y["csat"].tolist() == [-1, 3, 0, -1]
    assert y["nps"].tolist() == [-1, -1, 2, 1]


@pytest.fixture()
def aspect_models(tmp_path, tiny_models):
    """The tiny models plus an ``aspects`` head that always finds
    ``customer_support`` and ``staff`` (which the tiny taxonomy lacks) and never
    ``delivery``, and an ``nps`` head that always says passive."""
    import shutil

    from cxtext.heads import Heads, HeadSpec, build_module

    out = tmp_path / "models"
    shutil.copytree(tiny_models, out)
    init = Heads.load(out)
    tasks = dict(init.tasks)
    tasks["aspects"] = HeadSpec(["delivery", "customer_support", "staff"], "sigmoid",
                                thresholds={"delivery": 0.5, "customer_support": 0.5, "staff": 0.5})
    tasks["nps"] = HeadSpec(["promoter", "passive", "detractor"])
    module = build_module(32, 16, tasks)
    for t in ("sentiment", "emotion"):
        module.heads[t].load_state_dict(init.module.heads[t].state_dict())
    with torch.no_grad():
        for t, bias in (("aspects", [-20.0, 20.0, 20.0]), ("nps", [-20.0, 20.0, -20.0])):
            last = module.heads[t][-1]
            last.weight.zero_()
            last.bias.copy_(torch.tensor(bias))
    Heads(module, tasks, dict(init.meta)).save(out)
    return out


def test_engine_reports_a_learned_aspect_with_its_clause_as_evidence(aspect_models, tmp_path):
    import cxtext

    a = cxtext.load(models=aspect_models, cache_dir=tmp_path / "cache")
    text = "غذا سرد رسید. خیلی بد بود"  # no taxonomy term names an aspect here
    r = a(text)
    names = [x.name for x in r.aspects]
    assert names == ["customer_support"]  # not delivery (below threshold), not staff (not in the taxonomy)
    ev = r.aspects[0].evidence[0]
    assert text[ev.start:ev.end] == ev.text and ev.text.strip() and ev.end - ev.start < len(text)
    assert r.aspects[0].sentiment in ("negative", "neutral", "positive")
    assert r.cx.nps_class == "passive"  # the nps head, as no loyalty phrase is there
    assert a("I will order again, highly recommend").cx.nps_class == "promoter"  # an explicit phrase wins


def test_the_aspect_head_is_silent_where_a_term_names_an_aspect(aspect_models, tmp_path):
    import cxtext

    a = cxtext.load(models=aspect_models, cache_dir=tmp_path / "cache")
    r = a("غذا سرد رسید. پیک بی‌ادب بود")
    assert [x.name for x in r.aspects] == ["delivery"] and r.aspects[0].evidence[0].text == "پیک"


def test_the_aspect_head_is_silent_where_an_effort_or_loyalty_phrase_explains_the_text(aspect_models, tmp_path):
    import cxtext
    from cxtext.signal_heads import phrase_aspects

    a = cxtext.load(models=aspect_models, cache_dir=tmp_path / "cache")
    assert [x.name for x in a("the pizza came, never again").aspects] == []  # a detractor phrase
    assert [x.name for x in a("I called three times").aspects] == []  # high effort
    assert [x.name for x in a("the pizza came, it was fine").aspects] == ["customer_support"]  # nothing explains it
    hits, speaks = phrase_aspects(a.taxonomy, ["the pizza came, never again", "the pizza came, it was fine",
                                               "delivery was late"], ["en"] * 3)
    assert hits == [set(), set(), {"delivery"}] and speaks == [False, True, False]  # tuning mirrors the engine


def test_a_threshold_above_every_probability_turns_the_learned_aspect_off(aspect_models, tmp_path):
    import json

    import cxtext

    meta = json.loads((aspect_models / "heads.json").read_text(encoding="utf-8"))
    meta["tasks"]["aspects"]["thresholds"]["customer_support"] = 1.01
    (aspect_models / "heads.json").write_text(json.dumps(meta), encoding="utf-8")
    a = cxtext.load(models=aspect_models, cache_dir=tmp_path / "cache")
    assert a("غذا سرد رسید. خیلی بد بود").aspects == ()


def test_fit_signal_heads_adds_heads_and_keeps_the_others(tmp_path, tiny_models, monkeypatch):
    import cxtext
    from cxtext import signal_heads
    from cxtext.heads import Heads

    texts = [f"{s} {i}" for i in range(6) for s in SENTENCES]
    n = len(texts)
    df = pd.DataFrame({
        "text": texts, "lang": [None] * n, "dataset": ["x"] * n,
        "aspects": [({"delivery"} if ("پیک" in t or "المندوب" in t or "delivery" in t) else set()) for t in texts],
        "annotated": [["delivery", "staff"]] * n,
        "csat": [str(1 + i % 5) for i in range(n)], "nps": [("promoter", "passive", "detractor")[i % 3] for i in range(n)],
    })
    monkeypatch.setattr(signal_heads, "signal_corpus", lambda data_dir=None, messages_dir=None: (df, ["delivery", "staff"]))
    out = tmp_path / "with_signals"
    metrics = fit_signals(tiny_models, out, tmp_path, epochs=5, tasks=("aspects", "csat", "nps"))
    assert set(metrics) == {"aspects", "csat", "nps"} and metrics["aspects"]["train_rows"] > 0
    start, new = Heads.load(tiny_models), Heads.load(out)
    assert new.tasks["aspects"].type == "sigmoid" and new.tasks["csat"].labels == ["1", "2", "3", "4", "5"]
    for t in ("sentiment", "emotion"):
        for k, v in start.module.heads[t].state_dict().items():
            assert torch.equal(v, new.module.heads[t].state_dict()[k])
    assert (out / "taxonomy.json").exists()
    r = cxtext.load(models=out, cache_dir=tmp_path / "cache")("الطلب وصل متأخر والمندوب ما رد")
    assert r.ok and r.cx.nps_class in ("promoter", "passive", "detractor") and 1 <= r.cx.csat <= 5
    # refit with the default signal heads: the nps head of the earlier fit goes, the rest stays
    again = tmp_path / "defaults"
    fit_signals(out, again, tmp_path, epochs=5)
    assert list(Heads.load(again).tasks) == ["sentiment", "emotion", "aspects", "csat"]


def test_nps_head_sets_the_class_unless_loyalty_is_explicit():
    from cxtext.cx import derive
    from cxtext.results import Evidence

    neu = {"negative": 0.1, "neutral": 0.8, "positive": 0.1, "mixed": 0.0}
    calm = {"neutral": 1.0}
    nps = {"nps": {"promoter": 0.2, "passive": 0.1, "detractor": 0.7}}
    assert derive(neu, calm, [], {}, nps).nps_class == "detractor"
    assert derive(neu, calm, [], {}).nps_class == "passive"  # from sentiment without the head
    # without an nps head the class reads sentiment, not a csat head's expected stars
    low_csat = {"csat": {"1": 0.6, "2": 0.4, "3": 0.0, "4": 0.0, "5": 0.0}}
    assert derive(neu, calm, [], {}, low_csat).nps_class == "passive"
    ev = Evidence(0, 3, "abc")
    assert derive(neu, calm, [], {"loyalty_promoter": [ev]}, nps).nps_class == "promoter"


def test_thresholds_are_tuned_for_what_the_engine_does_with_the_terms(tiny_models):
    from types import SimpleNamespace

    from cxtext.heads import HeadSpec
    from cxtext.signal_heads import tune_with_phrases
    from cxtext.taxonomy import load_taxonomy

    texts = ["غذا سرد رسید"] * 10 + ["پیک دیر رسید"] * 10 + ["غذا خوب بود"] * 10
    df = pd.DataFrame({"text": texts, "lang": ["fa"] * 30})
    # support: present in the first ten (no term there), the head says 0.9 there and 0.3 elsewhere;
    # delivery: named by «پیک» in the second ten, the head fires (0.95) only where it is absent
    labels = np.array([[0, 1]] * 10 + [[1, 0]] * 10 + [[0, 0]] * 10)
    p = np.array([[0.1, 0.9]] * 10 + [[0.2, 0.3]] * 10 + [[0.95, 0.3]] * 10, dtype=np.float32)
    heads = SimpleNamespace(predict=lambda x: {"aspects": p})
    spec = HeadSpec(["delivery", "customer_support"], "sigmoid")
    m = tune_with_phrases(heads, spec, np.zeros((30, 4)), labels, np.ones(30, bool), df, load_taxonomy(tiny_models))
    assert spec.thresholds["delivery"] == 1.01  # the head would only add false alarms
    assert 0.3 < spec.thresholds["customer_support"] <= 0.9
    assert m["dev_micro_f1_with_phrases"] == 1.0 and m["dev_micro_f1_phrases_alone"] == pytest.approx(2 / 3, abs=1e-4)


def test_effort_and_loyalty_heads_come_only_from_labelled_messages(tmp_path, tiny_models, monkeypatch):
    from cxtext.heads import Heads

    mock_signal_corpus(monkeypatch)
    msgs = tmp_path / "msgs"
    write_messages(msgs, EFFORT_LOYALTY_MESSAGES)
    with_msgs = fit_signals(tiny_models, tmp_path / "a", tmp_path, messages_dir=msgs, review_negatives=0)
    assert with_msgs["effort"]["train_rows"] + with_msgs["effort"]["dev_rows"] == 30
    with_negs = fit_signals(tiny_models, tmp_path / "n", tmp_path, messages_dir=msgs, review_negatives=4)
    # up to 4 review texts per language join as "none" (fa, ar and en texts in the mock corpus)
    assert 30 < with_negs["loyalty"]["train_rows"] + with_negs["loyalty"]["dev_rows"] <= 30 + 3 * 4
    heads = Heads.load(tmp_path / "a")
    assert heads.tasks["effort"].labels == ["high", "low", "none"]
    assert heads.tasks["loyalty"].labels == ["promoter", "detractor", "none"]
    fit_signals(tiny_models, tmp_path / "b", tmp_path, messages_dir=None)
    without = Heads.load(tmp_path / "b")
    assert not {"effort", "loyalty"} & set(without.tasks)  # no messages, no heads
    for t in ("aspects", "csat"):  # each head has its own seed: the new heads leave the others as they were
        for k, v in without.module.heads[t].state_dict().items():
            assert torch.allclose(v, heads.module.heads[t].state_dict()[k], atol=1e-4), (t, k)


def test_signal_messages_reject_labels_that_are_not_ours(tmp_path):
    from cxtext.errors import InvalidInputError
    from cxtext.signal_heads import signal_messages

    write_messages(tmp_path / "m", [{"lang": "fa", "text": "سه بار زنگ زدم", "effort": "hard", "loyalty": "none"}])
    with pytest.raises(InvalidInputError, match="effort must be one of"):
        signal_messages(tmp_path / "m")
    write_messages(tmp_path / "e", [{"lang": "fa", "text": " ", "effort": "none", "loyalty": "none"}])
    with pytest.raises(InvalidInputError, match="non-empty"):
        signal_messages(tmp_path / "e")
    with pytest.raises(InvalidInputError, match="not a folder"):
        signal_messages(tmp_path / "nowhere")
    assert signal_messages(None).empty


def test_quiet_reviews_skip_texts_that_state_effort_or_loyalty():
    from cxtext.signal_heads import quiet_reviews
    from cxtext.taxonomy import load_taxonomy

    tax = load_taxonomy("models/taxonomy.json")
    df = pd.DataFrame({"text": ["الأكل كان بارد", "لن أتعامل معكم مرة أخرى", "the soup was cold", "never again",
                                "I called three times", "great pasta"],
                       "lang": ["ar", "ar", "en", "en", "en", "en"], "effort": [None] * 6, "loyalty": [None] * 6})
    chosen = quiet_reviews(df, tax, per_lang=5)
    assert sorted(df.loc[chosen, "text"]) == ["great pasta", "the soup was cold", "الأكل كان بارد"]
    assert len(quiet_reviews(df, tax, per_lang=1)) == 2  # one per language


def test_the_project_messages_are_the_default_and_well_formed():
    from cxtext.signal_heads import DEFAULT_MESSAGES, signal_messages
    from cxtext.taxonomy import ASPECTS

    m = signal_messages(DEFAULT_MESSAGES)
    assert len(m) >= 3100 and set(m["lang"]) == {"fa", "ar"} and m["text"].is_unique
    for col in ("effort", "loyalty"):
        assert m[col].notna().sum() >= 1500 and (m[col].notna() & (m[col] != "none")).sum() >= 300, col
    emotions = m["emotion"].dropna()
    assert len(emotions) >= 900 and emotions.value_counts().min() >= 60  # every emotion, the rare ones too
    aspects = m["aspects"].dropna()
    assert len(aspects) >= 700 and min(sum(a in x for x in aspects) for a in ASPECTS) >= 80  # every aspect
    assert sum(not x for x in aspects) >= 50  # and messages about none


def test_messages_carry_any_of_their_labels_and_are_never_quiet_reviews(tmp_path):
    from cxtext.errors import InvalidInputError
    from cxtext.signal_heads import quiet_reviews, signal_labels, signal_messages
    from cxtext.taxonomy import load_taxonomy

    write_messages(tmp_path / "m", [{"lang": "en", "text": "where is my order?", "emotion": "neutral"},
                                     {"lang": "en", "text": "called 5 times", "effort": "high", "loyalty": "none"}])
    m = signal_messages(tmp_path / "m")
    assert m["emotion"].tolist() == ["neutral", None] and m["effort"].tolist() == [None, "high"]
    assert m["message"].all()
    # an emotion-only message has no effort or loyalty label, but it is not a review to take as "none"
    assert quiet_reviews(m, load_taxonomy("models/taxonomy.json"), per_lang=5) == []
    write_messages(tmp_path / "asp", [{"lang": "en", "text": "the courier was late", "aspects": [{"name": "delivery"}]},
                                       {"lang": "en", "text": "hello there", "aspects": []}])
    a = signal_messages(tmp_path / "asp")
    assert a["aspects"].tolist() == [{"delivery"}, set()] and len(a["annotated"][1]) == 10  # labelled for every aspect
    y = signal_labels(a, ["delivery", "staff"])["aspects"]
    assert y.tolist() == [[1, 0], [0, 0]] and signal_labels(m, ["delivery"])["aspects"].tolist() == [[-1], [-1]]
    write_messages(tmp_path / "badasp", [{"lang": "en", "text": "x y", "aspects": ["parking"]}])
    with pytest.raises(InvalidInputError, match="taxonomy aspects"):
        signal_messages(tmp_path / "badasp")
    write_messages(tmp_path / "bad", [{"lang": "fa", "text": "عالی", "emotion": "happy"}])
    with pytest.raises(InvalidInputError, match="emotion must be one of"):
        signal_messages(tmp_path / "bad")
    write_messages(tmp_path / "badsent", [{"lang": "fa", "text": "عالی", "sentiment": "good"}])
    with pytest.raises(InvalidInputError, match="sentiment must be one of"):
        signal_messages(tmp_path / "badsent")
    write_messages(tmp_path / "none", [{"lang": "fa", "text": "عالی", "stars": 5}])
    with pytest.raises(InvalidInputError, match="at least one of"):
        signal_messages(tmp_path / "none")


@pytest.mark.parametrize("task,feedback,gate", [("emotion", "emotion_cx", "domain"),
                                                ("sentiment", "sentiment_cx", "message")])
def test_a_blended_task_is_its_cx_head_where_the_gate_says_so(task, feedback, gate):
    from cxtext.heads import BLENDED_HEADS, Heads, HeadSpec, build_module
    from cxtext.registry import TASK_LABELS

    assert BLENDED_HEADS[task] == (feedback, gate)
    torch.manual_seed(0)
    labels = list(TASK_LABELS[task])
    tasks = {task: HeadSpec(labels), feedback: HeadSpec(labels), gate: HeadSpec(["g"], "sigmoid")}
    module = build_module(8, 0, tasks)
    x = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    plain = Heads(build_module(8, 0, {task: tasks[task]}), {task: tasks[task]}, {"dim": 8})
    plain.module.heads[task].load_state_dict(module.heads[task].state_dict())
    heads = Heads(module, tasks, {"dim": 8})
    for bias, expect in ((30.0, feedback), (-30.0, None)):
        with torch.no_grad():
            module.heads[gate].weight.zero_()
            module.heads[gate].bias.fill_(bias)
        p = heads.predict(x)
        want = p[expect] if expect else plain.predict(x)[task]
        assert np.allclose(p[task], want, atol=1e-6)
    with torch.no_grad():
        module.heads[gate].bias.fill_(0.0)  # g = 0.5: the mean of the two readings
    p = heads.predict(x)
    assert not np.allclose(p[feedback], plain.predict(x)[task], atol=1e-3)
    assert np.allclose(p[task], 0.5 * p[feedback] + 0.5 * plain.predict(x)[task], atol=1e-6)
    assert np.allclose(p[task].sum(1), 1.0, atol=1e-5)


def test_cx_heads_come_from_emotion_and_sentiment_labelled_messages(tmp_path, tiny_models, monkeypatch):
    from cxtext.heads import Heads
    from cxtext.train import _dev_mask

    n = len(mock_signal_corpus(monkeypatch))
    _tweets, reviews = mock_cx_texts(monkeypatch)
    msgs = tmp_path / "msgs"
    write_messages(msgs, [{"lang": "en", "text": f"{t} {i}", "emotion": e, "sentiment": s} for i in range(8)
                           for t, e, s in (("where is my order?", "neutral", "neutral"),
                                           ("you charged me twice!!", "anger", "negative"),
                                           ("thank you, perfect service", "joy", "positive"))])
    metrics = fit_signals(tiny_models, tmp_path / "a", tmp_path, messages_dir=msgs, review_negatives=0)
    assert metrics["emotion_cx"]["train_messages"] + metrics["emotion_cx"]["dev_messages"] == 24
    assert metrics["domain"]["train_rows"] + metrics["domain"]["dev_rows"] == n + 24 + 80
    assert metrics["sentiment_cx"]["train_messages"] + metrics["sentiment_cx"]["dev_messages"] == 24
    assert metrics["sentiment_cx"]["distilled_on"] == 60 - int(_dev_mask(reviews["text"].tolist(), 0.1, 0).sum())
    # the message head: the 24 messages against the tweets and the reviews, not the other feedback texts
    assert metrics["message"]["train_rows"] + metrics["message"]["dev_rows"] == 24 + 80 + 60
    start, heads = Heads.load(tiny_models), Heads.load(tmp_path / "a")
    assert heads.tasks["emotion_cx"].labels == start.tasks["emotion"].labels
    assert heads.tasks["sentiment_cx"].labels == start.tasks["sentiment"].labels
    assert heads.tasks["domain"].labels == ["customer_feedback"] and not heads.tasks["domain"].thresholds
    assert heads.tasks["message"].labels == ["cx_message"] and not heads.tasks["message"].thresholds
    assert not {"effort", "loyalty"} & set(heads.tasks)  # the messages label no effort or loyalty
    for task in ("emotion", "sentiment"):  # the tweet and review readings stay as they were
        for k, v in start.module.heads[task].state_dict().items():
            assert torch.equal(v, heads.module.heads[task].state_dict()[k])
        assert any(not torch.equal(v, heads.module.heads[f"{task}_cx"].state_dict()[k])
                   for k, v in start.module.heads[task].state_dict().items())
    fit_signals(tiny_models, tmp_path / "b", tmp_path, messages_dir=None)
    assert not {"emotion_cx", "domain", "sentiment_cx", "message"} & set(Heads.load(tmp_path / "b").tasks)
    # emotion-labelled messages alone: the emotion pair, no sentiment pair
    write_messages(tmp_path / "emo", [{"lang": "en", "text": f"where is my order? {i}", "emotion": "neutral"}
                                       for i in range(8)])
    fit_signals(tiny_models, tmp_path / "c", tmp_path, messages_dir=tmp_path / "emo")
    assert {"emotion_cx", "domain"} <= set(Heads.load(tmp_path / "c").tasks)
    assert not {"sentiment_cx", "message"} & set(Heads.load(tmp_path / "c").tasks)
