"""One registry: labels come from it, and a full sequence-classification model
can be plugged in per (language, task), checked against its id2label."""
from __future__ import annotations

import pytest

from cxtext.errors import LabelMismatchError, UnsafeModelError, UnsupportedFormatError
from cxtext.registry import ModelSpec, Registry


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory, tiny_base):
    """A random 2-label BertForSequenceClassification sharing the tiny tokenizer."""
    import shutil

    import torch
    from transformers import BertConfig, BertForSequenceClassification

    out = tmp_path_factory.mktemp("clf")
    for f in tiny_base.iterdir():
        if "token" in f.name or f.name == "special_tokens_map.json":
            shutil.copy(f, out / f.name)
    torch.manual_seed(1)
    cfg = BertConfig.from_pretrained(str(tiny_base), num_labels=2, id2label={0: "SAD", 1: "HAPPY"},
                                     label2id={"SAD": 0, "HAPPY": 1})
    m = BertForSequenceClassification(cfg)
    with torch.no_grad():  # make it say HAPPY whatever the text, so the test can tell it ran
        m.classifier.weight.zero_()
        m.classifier.bias.copy_(torch.tensor([-5.0, 5.0]))
    m.save_pretrained(str(out), safe_serialization=True)
    return out


def test_spec_checks_labels():
    with pytest.raises(LabelMismatchError, match="allowed"):
        ModelSpec("fa", "sentiment", "x", {"HAPPY": "happy"})
    with pytest.raises(UnsupportedFormatError):
        ModelSpec("fa", "topic", "x", {})
    spec = ModelSpec("fa", "sentiment", "x", {"HAPPY": "positive", "SAD": "negative"})
    with pytest.raises(LabelMismatchError, match="OTHER"):
        spec.check_id2label({0: "SAD", 1: "HAPPY", 2: "OTHER"})
    reg = Registry()
    reg.register(spec)
    assert reg.resolve("fa", "sentiment") is spec and reg.resolve("ar", "sentiment") is None


def test_plugged_model_overrides_one_language(tiny_models, tiny_classifier, tmp_path):
    import cxtext

    spec = ModelSpec("fa", "sentiment", str(tiny_classifier), {"HAPPY": "positive", "SAD": "negative"})
    a = cxtext.load(models=tiny_models, cache_dir=tmp_path, plugins=[spec])
    fa, ar = list(a.pipe(["غذا سرد رسید و پیک بی‌ادب بود", "الطلب وصل متأخر والمندوب ما رد"]))
    assert fa.sentiment.probs["positive"] > 0.99 and fa.sentiment.probs["neutral"] == 0.0
    assert ar.sentiment.probs["positive"] < 0.99  # Arabic still uses the default heads
    long = "پیک دیر رسید. " * 200  # longer than the tiny model's 64 positions: windows, no crash
    assert a(long).sentiment.probs["positive"] > 0.99


def test_plugged_model_with_wrong_labels_fails_at_load(tiny_models, tiny_classifier, tmp_path):
    import cxtext

    spec = ModelSpec("fa", "sentiment", str(tiny_classifier), {"POS": "positive", "NEG": "negative"})
    a = cxtext.load(models=tiny_models, cache_dir=tmp_path, plugins=[spec])
    with pytest.raises(LabelMismatchError, match="HAPPY"):
        a("غذا سرد رسید")


def test_pickle_only_checkpoint_is_refused(tmp_path, tiny_models):
    import cxtext

    d = tmp_path / "pickled"
    d.mkdir()
    (d / "config.json").write_text("{}")
    (d / "pytorch_model.bin").write_bytes(b"\x80\x04")
    with pytest.raises(UnsafeModelError, match="safetensors"):
        cxtext.load(models=tiny_models, base=str(d), cache_dir=tmp_path)
