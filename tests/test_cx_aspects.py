"""The aspect head for CX messages: a head that reads the taxonomy's phrase
hits beside the embedding, how it is fitted, and how the engine lets it
decide both ways on messages while reviews keep the phrases and the review
aspect head."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from conftest import fit_signals, mock_cx_texts, mock_signal_corpus, write_messages


def test_a_head_reads_its_inputs_beside_the_embedding_and_keeps_them_on_disk(tmp_path):
    from cxtext.errors import InvalidInputError, LabelMismatchError
    from cxtext.heads import Heads, HeadSpec, build_module

    tasks = {"plain": HeadSpec(["x"], "sigmoid"), "stacked": HeadSpec(["a", "b"], "sigmoid", inputs=["aspect_phrases"])}
    module = build_module(4, 0, tasks)
    assert module.heads["stacked"].in_features == 4 + 2  # one column per label
    with torch.no_grad():
        for layer in module.heads.values():
            layer.weight.zero_()
            layer.bias.fill_(-10.0)
        module.heads["stacked"].weight[1, 4 + 1] = 20.0  # "b" follows the phrase flag for "b"
    heads = Heads(module, tasks, {"dim": 4})
    x = np.zeros((3, 4), np.float32)
    assert set(heads.predict(x)) == {"plain"}  # no phrases given: the head that needs them is left out
    assert heads.needs("aspect_phrases") and not Heads(module, {"plain": tasks["plain"]}, {}).needs("aspect_phrases")
    p = heads.predict(x, {"aspect_phrases": [{"b"}, set(), {"a", "other"}]})["stacked"]
    assert (p[:, 1] > 0.99).tolist() == [True, False, False] and (p[:, 0] < 0.01).all()
    heads.meta = {"dim": 4, "hidden": 0}
    heads.save(tmp_path / "m")
    again = Heads.load(tmp_path / "m")
    assert again.tasks["stacked"].inputs == ["aspect_phrases"] and not again.tasks["plain"].inputs
    q = again.predict(x, {"aspect_phrases": [{"b"}, set(), {"b"}]})["stacked"]
    assert np.allclose(q[:2], p[:2], atol=1e-6) and q[2, 1] > 0.99  # the same head, and the flag still steers it
    with pytest.raises(InvalidInputError, match="one set of flagged labels per text"):
        again.predict(x, {"aspect_phrases": [{"b"}]})
    with pytest.raises(InvalidInputError, match="Heads.predict"):
        again.module(torch.from_numpy(x))  # the module alone cannot feed a head its inputs
    with pytest.raises(LabelMismatchError, match="upgrade cxtext"):
        HeadSpec(["a"], "sigmoid", inputs=["sentence_length"])


def test_fit_aspects_cx_learns_when_a_phrase_means_its_aspect_and_when_it_does_not():
    from cxtext.cx_aspects import AspectsCxConfig, fit_aspects_cx
    from cxtext.heads import flag_matrix

    rng = np.random.default_rng(0)
    n = 800
    X = rng.normal(size=(n, 8)).astype(np.float32)
    on_b = rng.random(n) < 0.4
    # "a": a phrase for it is in every text, but the text is about it only where feature 0 is positive;
    # "b": the embedding says nothing about it, its phrase does
    phrases = [{"a", "b"} if b else {"a"} for b in on_b]
    labels = np.stack([X[:, 0] > 0, on_b], 1).astype(np.int64)
    head, spec, m = fit_aspects_cx(X[:600], phrases[:600], labels[:600], ["a", "b"], 16,
                                   AspectsCxConfig(epochs=40, lr=5e-3))
    assert spec.inputs == ["aspect_phrases"] and spec.thresholds == {"a": 0.35, "b": 0.35}
    assert m["train_messages"] == 600 and m["positives"]["b"] == int(on_b[:600].sum())
    with torch.no_grad():
        p = torch.sigmoid(head(torch.from_numpy(np.concatenate([X[600:], flag_matrix(phrases[600:], ["a", "b"])], 1))))
    pred = p.numpy() >= 0.35
    assert (pred[:, 0] == labels[600:, 0]).mean() >= 0.9  # the phrase alone would be right half the time
    assert (pred[:, 1] == labels[600:, 1]).mean() >= 0.95


@pytest.fixture()
def cx_aspect_models(tmp_path, tiny_models):
    """The tiny models plus an ``aspects_cx`` head that follows the phrase
    flag for ``delivery`` only where a phrase names delivery *and* a phrase
    names price (else it vetoes it), always adds ``customer_support`` (surer
    where a price phrase is), never ``price_value``; and a ``message`` gate
    that calls every text a CX message."""
    from cxtext.heads import Heads, HeadSpec, build_module

    out = tmp_path / "models"
    shutil.copytree(tiny_models, out)
    init = Heads.load(out)
    labels = ["delivery", "price_value", "customer_support"]
    tasks = dict(init.tasks)
    tasks["aspects_cx"] = HeadSpec(labels, "sigmoid", thresholds={l: 0.35 for l in labels}, inputs=["aspect_phrases"])
    tasks["message"] = HeadSpec(["cx_message"], "sigmoid")
    module = build_module(32, 16, tasks)
    for t in ("sentiment", "emotion"):
        module.heads[t].load_state_dict(init.module.heads[t].state_dict())
    with torch.no_grad():
        first, last = module.heads["aspects_cx"][1], module.heads["aspects_cx"][-1]
        first.weight.zero_()
        first.bias.zero_()
        first.weight[0, 32 + 0] = 1.0  # hidden unit 0: the delivery flag
        first.weight[0, 32 + 1] = 1.0  # plus the price flag
        first.weight[1, 32 + 1] = 1.0  # hidden unit 1: the price flag alone
        last.weight.zero_()
        last.weight[0, 0] = 30.0
        last.weight[2, 1] = 10.0
        last.bias.copy_(torch.tensor([-50.0, -20.0, 1.0]))  # delivery needs both flags: GELU(2)·30 ≈ 59 > 50
        gate = module.heads["message"][-1]
        gate.weight.zero_()
        gate.bias.fill_(20.0)
    Heads(module, tasks, dict(init.meta)).save(out)
    return out


def _set_gate(models, bias):
    from cxtext.heads import Heads

    h = Heads.load(models)
    with torch.no_grad():
        h.module.heads["message"][-1].bias.fill_(bias)
    h.save(models)


def test_on_a_message_the_cx_aspect_head_keeps_vetoes_and_adds_aspects(cx_aspect_models, tmp_path):
    import cxtext

    a = cxtext.load(models=cx_aspect_models, cache_dir=tmp_path / "cache")
    vetoed = a("پیک دیر رسید")  # «پیک» names delivery, no price phrase: the head says no
    assert [x.name for x in vetoed.aspects] == ["customer_support"]
    ev = vetoed.aspects[0].evidence[0]  # added with no phrase: the clause it scores highest is the evidence
    assert vetoed.text[ev.start:ev.end] == ev.text and ev.text.strip()
    kept = a("پیک دیر رسید و قیمت بالا بود")  # both phrases: delivery stays, with its phrase as evidence
    names = {x.name: x for x in kept.aspects}
    assert set(names) == {"delivery", "customer_support"}  # price_value: its phrase, vetoed
    assert names["delivery"].evidence[0].text == "پیک"
    assert [x.name for x in a("I called three times").aspects] == ["customer_support"]  # effort phrases silence nothing
    two = a("پیک دیر رسید. قیمت بالا بود")  # each clause reads its own phrases: the price clause scores higher
    assert [x.evidence[0].text for x in two.aspects if x.name == "customer_support"] == ["قیمت بالا بود"]
    texts = ["پیک دیر رسید. قیمت بالا بود", "پیک دیر رسید", "قیمت بالا بود. پیک دیر رسید و خیلی بد بود"]
    batch = list(a.pipe(texts, batch_size=3))  # one batch: each text's and each clause's phrases stay its own
    assert [r.to_dict()["aspects"] for r in batch] == [a(t).to_dict()["aspects"] for t in texts]


def test_a_review_keeps_the_phrases_and_the_review_aspect_head(cx_aspect_models, tmp_path):
    import cxtext

    _set_gate(cx_aspect_models, -20.0)  # the message head: not a CX message
    a = cxtext.load(models=cx_aspect_models, cache_dir=tmp_path / "cache")
    assert [x.name for x in a("پیک دیر رسید").aspects] == ["delivery"]
    assert {x.name for x in a("پیک دیر رسید و قیمت بالا بود").aspects} == {"delivery", "price_value"}
    assert a("غذا سرد رسید. خیلی بد بود").aspects == ()  # no review aspect head in these models



def test_without_a_message_head_the_cx_aspect_head_is_not_used(cx_aspect_models, tmp_path):
    import cxtext
    from cxtext.heads import Heads

    h = Heads.load(cx_aspect_models)
    del h.module.heads["message"]
    del h.tasks["message"]
    h.save(cx_aspect_models)
    a = cxtext.load(models=cx_aspect_models, cache_dir=tmp_path / "cache")
    assert [x.name for x in a("پیک دیر رسید").aspects] == ["delivery"]  # the phrase, not vetoed


def test_where_the_cx_head_finds_nothing_and_no_phrase_speaks_the_review_head_may(cx_aspect_models, tmp_path):
    import cxtext
    from cxtext.heads import Heads, HeadSpec, build_module

    h = Heads.load(cx_aspect_models)
    tasks = {**h.tasks, "aspects": HeadSpec(["product_quality"], "sigmoid", thresholds={"product_quality": 0.5})}
    module = build_module(32, 16, tasks)
    for t in h.tasks:
        module.heads[t].load_state_dict(h.module.heads[t].state_dict())
    with torch.no_grad():
        module.heads["aspects_cx"][-1].bias[2] = -20.0  # the CX head now finds no customer_support either
        module.heads["aspects"][-1].weight.zero_()
        module.heads["aspects"][-1].bias.fill_(20.0)  # the review head: always product quality
    Heads(module, tasks, dict(h.meta)).save(cx_aspect_models)
    a = cxtext.load(models=cx_aspect_models, cache_dir=tmp_path / "cache")
    assert [x.name for x in a("غذا سرد رسید. خیلی بد بود").aspects] == ["product_quality"]  # no phrase, CX head silent
    assert a("پیک دیر رسید").aspects == ()  # a phrase spoke (and the CX head vetoed it): no second opinion
    assert a("I called three times").aspects == ()  # an effort phrase says what it is about


def test_fit_signal_heads_fits_the_cx_aspect_head_from_aspect_labelled_messages(tmp_path, tiny_models, monkeypatch):
    import cxtext
    from cxtext.heads import Heads
    from cxtext.taxonomy import ASPECTS

    mock_signal_corpus(monkeypatch)
    mock_cx_texts(monkeypatch)
    rows = [{"lang": "en", "text": f"{t} {i}", "sentiment": "negative", "aspects": a} for i in range(10)
            for t, a in (("customer support never answered", [{"name": "customer_support"}]),
                         ("the delivery guy was rude", [{"name": "staff", "sentiment": "negative"}]),
                         ("my money never came back", [{"name": "price_value"}]),
                         ("hello, a quick question", []))]
    write_messages(tmp_path / "msgs", rows)
    metrics = fit_signals(tiny_models, tmp_path / "a", tmp_path, messages_dir=tmp_path / "msgs", review_negatives=0)
    assert metrics["aspects_cx"]["train_messages"] == 40 and metrics["aspects_cx"]["positives"]["staff"] == 10
    # the review aspect head now serves reviews: it learns from the 48 mock reviews only
    assert metrics["aspects"]["train_rows"] + metrics["aspects"]["dev_rows"] == 48
    spec = Heads.load(tmp_path / "a").tasks["aspects_cx"]
    assert spec.labels == list(ASPECTS) and spec.inputs == ["aspect_phrases"]
    assert set(spec.thresholds.values()) == {0.35}
    a = cxtext.load(models=tmp_path / "a", cache_dir=tmp_path / "cache")
    found = {t: {x.name for x in a(t).aspects} for t in ("the delivery guy was rude 3", "my money never came back 3")}
    assert "delivery" not in found["the delivery guy was rude 3"]  # learned: this «delivery» is not the aspect
    assert "price_value" in found["my money never came back 3"]  # learned: named by no phrase
    # without sentiment labels there is no message head to route by: no CX aspect head either
    write_messages(tmp_path / "only", [{k: v for k, v in r.items() if k != "sentiment"} for r in rows])
    without = fit_signals(tiny_models, tmp_path / "b", tmp_path, messages_dir=tmp_path / "only", review_negatives=0)
    assert "aspects_cx" not in Heads.load(tmp_path / "b").tasks
    assert without["aspects"]["train_rows"] + without["aspects"]["dev_rows"] == 48 + 40  # it serves the messages
