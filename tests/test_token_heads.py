"""Heads that read token states beside the embedding (effort): the
module and its file format, how it is fitted, and how the analyzer feeds it
the states of the pass that gave the embedding."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import EFFORT_LOYALTY_MESSAGES, fit_signals, mock_signal_corpus, write_messages


def _token_heads(dim: int = 4):
    from cxtext.heads import Heads, HeadSpec, build_module

    tasks = {"plain": HeadSpec(["x", "y"]), "tok": HeadSpec(["hit", "none"], tokens={"filters": 2, "width": 3})}
    module = build_module(dim, 0, tasks)
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        conv = module.heads["tok"].conv
        conv.weight[0, 0, 1] = 1.0  # filter 0 fires on a token whose feature 0 is positive
        conv.bias[1] = 0.5  # filter 1 fires on every token, so it is 0 only where there are none
        module.heads["tok"].mlp.weight[0, dim] = 10.0  # "hit" follows filter 0
    return Heads(module, tasks, {"dim": dim, "hidden": 0})


def test_a_token_head_reads_a_phrase_anywhere_in_the_text_and_keeps_its_shape_on_disk(tmp_path):
    from cxtext.errors import InvalidInputError, LabelMismatchError
    from cxtext.heads import Heads, HeadSpec

    heads = _token_heads()
    x = np.zeros((3, 4), np.float32)
    hit = np.zeros((1, 4), np.float32)
    hit[0, 0] = 1.0
    quiet = np.zeros((6, 4), np.float32)
    states = [np.concatenate([quiet, hit, quiet]), quiet, np.zeros((0, 4), np.float32)]
    assert set(heads.predict(x)) == {"plain"} and heads.reads_tokens  # no states given: the head is left out
    p = heads.predict(x, tokens=states)["tok"]
    assert p[0, 0] > 0.99 and p[1, 0] == pytest.approx(0.5) and p[2, 0] == pytest.approx(0.5)
    # a long text with the phrase at its end reads as the short one: max-pooled, not averaged away
    longer = [np.concatenate([quiet] * 20 + [hit]), *states[1:]]
    assert heads.predict(x, tokens=longer)["tok"][0, 0] == pytest.approx(p[0, 0])
    heads.save(tmp_path / "m")
    again = Heads.load(tmp_path / "m")
    assert again.tasks["tok"].tokens == {"filters": 2, "width": 3} and not again.tasks["plain"].tokens
    assert np.allclose(again.predict(x, tokens=states)["tok"], p, atol=1e-6)
    with pytest.raises(InvalidInputError, match="token states of 2 texts for 3"):
        again.predict(x, tokens=states[:2])
    with pytest.raises(InvalidInputError, match="Heads.predict"):
        again.module(torch.from_numpy(x))
    with pytest.raises(LabelMismatchError, match="odd W"):
        HeadSpec(["a"], tokens={"filters": 4, "width": 2})


def test_ngram_features_do_not_depend_on_which_texts_share_a_padded_chunk():
    from cxtext.heads import ngram_features, pad_states

    heads = _token_heads()
    layer = heads.module.heads["tok"]
    with torch.no_grad():
        layer.conv.weight.normal_()
    rng = np.random.default_rng(0)
    states = [rng.normal(size=(n, 4)).astype(np.float32) for n in (1, 9, 3, 30, 2, 0)]
    with torch.no_grad():
        together = ngram_features(layer, states, 4, chunk=32)
        alone = torch.cat([ngram_features(layer, [s], 4) for s in states])
        budget = ngram_features(layer, states, 4, chunk=32, max_tokens=10)  # the 30-token text alone, the rest in pairs
        padded, mask = pad_states(states, 4)
        direct = layer.ngrams(padded, mask)
    assert torch.allclose(together, alone, atol=1e-5) and torch.allclose(together, direct, atol=1e-5)
    assert torch.allclose(together, budget, atol=1e-5)
    assert (together[5] == 0).all()  # a text with no tokens: nothing fired


def test_fit_token_head_finds_a_short_pattern_that_the_mean_of_a_long_text_hides():
    from cxtext.heads import Heads
    from cxtext.token_heads import fit_token_head
    from cxtext.train import TrainConfig

    rng = np.random.default_rng(0)
    dim, n = 8, 600
    pattern = rng.normal(size=(2, dim)).astype(np.float32) * 3
    y = rng.integers(0, 2, n)
    states = []
    for label in y:
        s = rng.normal(size=(int(rng.integers(20, 40)), dim)).astype(np.float32)
        if label == 0:  # class 0 ("stated") holds the two-token pattern somewhere
            at = int(rng.integers(0, len(s) - 2))
            s[at:at + 2] = pattern
        states.append(s)
    X = np.stack([s.mean(0) for s in states])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    dev = np.zeros(n, bool)
    dev[400:450] = True
    cfg = TrainConfig(hidden=16, epochs=15)
    head, spec, m = fit_token_head("effort", ["stated", "none"], X[:450], states[:450], y[:450], dev[:450], cfg)
    assert spec.tokens == {"filters": 128, "width": 3} and m["train_rows"] == 400 and m["dev_rows"] == 50
    from cxtext.heads import build_module

    module = build_module(dim, 16, {"effort": spec})
    module.heads["effort"].load_state_dict(head.state_dict())
    p = Heads(module, {"effort": spec}, {"dim": dim}).predict(X[450:], tokens=states[450:])["effort"]
    assert (p.argmax(1) == y[450:]).mean() > 0.9


def test_the_signal_trainer_gives_an_effort_token_head_and_the_analyzer_feeds_it(
        tmp_path, tiny_models, monkeypatch):
    import cxtext
    from cxtext.heads import Heads
    from cxtext.pipeline import detect_and_normalize
    from cxtext.token_heads import TOKEN_HEAD_BAR, TOKEN_SPEC

    mock_signal_corpus(monkeypatch)
    msgs = tmp_path / "msgs"
    write_messages(msgs, EFFORT_LOYALTY_MESSAGES)
    metrics = fit_signals(tiny_models, tmp_path / "a", tmp_path, messages_dir=msgs, review_negatives=0)
    heads = Heads.load(tmp_path / "a")
    assert heads.tasks["effort"].tokens == TOKEN_SPEC
    assert heads.tasks["effort"].thresholds == {"high": TOKEN_HEAD_BAR, "low": TOKEN_HEAD_BAR}
    assert not heads.tasks["loyalty"].tokens and not heads.tasks["loyalty"].thresholds  # the embedding alone, bar 0.8
    assert not heads.tasks["aspects"].tokens and metrics["effort"]["tokens"] == TOKEN_SPEC
    an = cxtext.load(models=tmp_path / "a", cache_dir=tmp_path)
    seen = []
    predict = Heads.predict

    def spy(self, x, inputs=None, tokens=None):
        seen.append(tokens)
        return predict(self, x, inputs, tokens)

    monkeypatch.setattr(Heads, "predict", spy)
    texts = ["I called five times", "the delivery was fast but the price was high"]
    list(an.pipe(texts))
    fed = [t for t in seen if t is not None]
    assert len(fed) == 1 and len(fed[0]) == 2  # one call for the texts, none for their clauses
    norm = [detect_and_normalize(t, "en")[2].text for t in texts]
    own = an.encoder.encode(an.encoder.tokenize(norm))
    assert np.allclose(fed[0][0], own[0].token_states, atol=1e-5)  # the states of the pass the embedding came from
    # a text encoded clause by clause gets its clauses' states, one per token
    assert fed[0][1].shape[1] == own[1].token_states.shape[1] and abs(len(fed[0][1]) - len(own[1].token_states)) <= 2
