"""Fine-tuning the encoder's top layers with the heads (``cxtext train
--defaults``), on a tiny random BERT: what is trained is what the analyzer
loads, a killed run resumes, a layer file for another base is refused."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

POS = ["عالی بود ممنون", "خیلی خوب و سریع", "کیفیت عالی", "ممتاز جدا شكرا", "رائع والتوصيل سريع", "great service"]
NEG = ["خیلی بد بود", "افتضاح و دیر", "کیفیت پایین", "سيء جدا", "الطلب متأخر وبارد", "terrible support"]


def _data():
    from cxtext.heads import HeadSpec
    from cxtext.registry import EMOTION_LABELS, SENTIMENT_LABELS

    texts = [f"{t} {i}" for i in range(3) for t in POS + NEG]
    sent = ["positive" if t.rsplit(" ", 1)[0] in POS else "negative" for t in texts]
    tasks = {"sentiment": HeadSpec(list(SENTIMENT_LABELS)), "emotion": HeadSpec(list(EMOTION_LABELS))}
    y = {"sentiment": np.array([tasks["sentiment"].labels.index(s) for s in sent]),
         "emotion": np.array([tasks["emotion"].labels.index("joy") if s == "positive" and i % 2 else -1
                              for i, s in enumerate(sent)])}
    return texts, sent, tasks, y


def _encoder(tiny_base, tmp_path):
    from cxtext.encoder.base import Encoder

    return Encoder(str(tiny_base), tmp_path / "cache")


def _save(model, tasks, tiny_base, tiny_models, out):
    """A models folder as ``cxtext train --defaults`` writes it."""
    from cxtext.finetune import save_finetuned

    save_finetuned(model, tasks, {"format": 1, "version": "t", "dim": 32, "hidden": 16,
                                  "base": {"source": str(tiny_base), "prefix": "query: "}}, out)
    shutil.copy(tiny_models / "taxonomy.json", out)
    return out


def _finetuned_models(tmp_path, tiny_base, tiny_models, epochs: int):
    from cxtext.finetune import FinetuneConfig, finetune

    texts, _sent, tasks, y = _data()
    model, _ = finetune(_encoder(tiny_base, tmp_path), texts, None, y, tasks, np.zeros(len(texts), bool),
                        FinetuneConfig(train_layers=1, epochs=epochs, batch_size=8, hidden=16), tmp_path / "w",
                        tmp_path / "lower", log_fn=lambda m: None)
    return texts, _save(model, tasks, tiny_base, tiny_models, tmp_path / "models")


def test_finetuned_layers_are_what_the_analyzer_loads(tmp_path, tiny_base, tiny_models):
    import cxtext
    from cxtext.finetune import ENCODER_TOP, FinetuneConfig, finetune

    texts, sent, tasks, y = _data()
    enc = _encoder(tiny_base, tmp_path)
    before = {k: v.clone() for k, v in enc.model.encoder.layer[1].state_dict().items()}
    cfg = FinetuneConfig(train_layers=1, epochs=25, lr=3e-3, head_lr=3e-2, batch_size=8, hidden=16, dropout=0.0)
    logs: list[str] = []
    model, metrics = finetune(enc, texts, None, y, tasks, np.zeros(len(texts), bool), cfg, tmp_path / "work",
                              tmp_path / "lower", log_fn=logs.append)
    assert metrics["_run"]["frozen_layers"] == 1 and len(metrics["_run"]["history"]) == 25
    # the frozen layer's states were computed once, cached, not per epoch
    assert sum("lower layers" in m for m in logs) == 1 and list((tmp_path / "lower").glob("*.states.npy"))
    out = _save(model, tasks, tiny_base, tiny_models, tmp_path / "models")
    meta = json.loads((out / "heads.json").read_text(encoding="utf-8"))
    assert meta["encoder"]["file"] == ENCODER_TOP and meta["encoder"]["layers"] == [1]

    a = cxtext.load(models=out, cache_dir=tmp_path / "cache")
    assert a.encoder.applied and a.encoder.fingerprint != enc.name
    after = a.encoder.model.encoder.layer[1].state_dict()
    assert any(not torch.allclose(before[k], after[k]) for k in before)  # the layer was trained and put back
    assert torch.equal(a.encoder.model.encoder.layer[0].state_dict()["output.dense.weight"],
                       enc.model.encoder.layer[0].state_dict()["output.dense.weight"])  # the frozen one was not
    got = [r.sentiment for r in a.pipe(texts)]
    assert np.mean([g.label == s for g, s in zip(got, sent)]) >= 0.9
    # the analyzer's features equal the training path's (same normalization, prefix, pooling), with the
    # layer as shipped (4-bit changes from the base; their rounding is tested in test_encoder)
    model.train(False)
    model.layers[0].load_state_dict(a.encoder.model.encoder.layer[1].state_dict())
    from cxtext.finetune import lower_states
    from cxtext.pipeline import embed_texts

    states = lower_states(enc, texts, None, 1, cfg.max_tokens, tmp_path / "lower")
    with torch.no_grad():
        train_emb = model.embed(states).numpy()
    served = embed_texts(a.encoder, texts)
    assert np.min(np.sum(train_emb * served, axis=1)) > 0.999


def test_a_killed_run_resumes_from_its_last_epoch(tmp_path, tiny_base):
    from cxtext.finetune import FinetuneConfig, finetune

    texts, _sent, tasks, y = _data()
    dev = np.arange(len(texts)) % 6 == 0
    cfg = FinetuneConfig(train_layers=1, epochs=1, batch_size=8, hidden=16, average_last=3)
    finetune(_encoder(tiny_base, tmp_path), texts, None, y, tasks, dev, cfg, tmp_path / "work", tmp_path / "lower",
             log_fn=lambda m: None)
    info = json.loads((tmp_path / "work" / "checkpoint" / "checkpoint.json").read_text())
    assert info["epoch"] == 0 and info["step"] == int(np.ceil((~dev).sum() / 8))
    logs: list[str] = []
    cfg.epochs = 3
    _model, metrics = finetune(_encoder(tiny_base, tmp_path), texts, None, y, tasks, dev, cfg, tmp_path / "work",
                               tmp_path / "lower", log_fn=logs.append)
    assert any("resuming after epoch 0" in m for m in logs)
    assert sum(m.startswith("epoch ") and "dev macro-F1" in m for m in logs) == 2  # only the epochs left
    assert [h["epoch"] for h in metrics["_run"]["history"]] == [1, 2, 3]
    # the weights of epoch 1, kept in the checkpoint, count in the mean of the last 3
    assert any(m.startswith("mean of the last 3 epochs") for m in logs)
    assert metrics["_run"]["averaged"] is None or metrics["_run"]["averaged"]["epochs"] == 3
    assert 0.05 <= metrics["sentiment"]["temperature"] <= 20 and "dev_ece_after" in metrics["sentiment"]


def test_layers_for_another_base_are_refused(tmp_path, tiny_base):
    from safetensors.torch import save_file

    from cxtext.errors import LabelMismatchError, ModelNotFoundError

    enc = _encoder(tiny_base, tmp_path)
    bad = tmp_path / "encoder_top.safetensors"
    save_file({"encoder.layer.1.output.dense.weight": torch.zeros(384, 1536, dtype=torch.float16)}, str(bad))
    with pytest.raises(LabelMismatchError, match="does not fit the base encoder"):
        enc.apply_top_layers(bad)
    with pytest.raises(ModelNotFoundError, match="missing"):
        enc.apply_top_layers(tmp_path / "nope.safetensors")
    assert not enc.applied


def test_finetuned_models_refuse_another_base(tmp_path, tiny_base, tiny_models):
    import cxtext
    from cxtext.errors import LabelMismatchError

    _texts, out = _finetuned_models(tmp_path, tiny_base, tiny_models, epochs=1)
    other = tmp_path / "other_base"
    shutil.copytree(tiny_base, other)  # same shapes: the layers would load, silently, without the check
    with pytest.raises(LabelMismatchError, match="fine-tuned layers of the base"):
        cxtext.load(models=out, base=str(other), cache_dir=tmp_path / "cache")
    assert cxtext.load(models=out, base=str(tiny_base), cache_dir=tmp_path / "cache").encoder.applied


def test_user_training_on_a_finetuned_model_uses_its_layers(tmp_path, tiny_base, tiny_models):
    import cxtext
    from cxtext.finetune import ENCODER_TOP
    from cxtext.train import TrainConfig, train_user

    texts, start = _finetuned_models(tmp_path, tiny_base, tiny_models, epochs=2)
    data = tmp_path / "my.csv"
    pd.DataFrame({"t": texts, "l": ["joy" if i % 2 else "sadness" for i in range(len(texts))]}).to_csv(data, index=False)
    out = tmp_path / "mine"
    train_user(data, "t", "l", "emotion", out, start=start, cache_dir=tmp_path / "cache",
               cfg=TrainConfig(epochs=5, hidden=16))
    assert (out / ENCODER_TOP).read_bytes() == (start / ENCODER_TOP).read_bytes()
    a = cxtext.load(models=out, cache_dir=tmp_path / "cache")
    b = cxtext.load(models=start, cache_dir=tmp_path / "cache")
    assert a.encoder.fingerprint == b.encoder.fingerprint and a.encoder.applied
    assert a(texts[0]).sentiment.probs == pytest.approx(b(texts[0]).sentiment.probs, abs=1e-6)  # kept head


def test_training_from_an_exported_corpus_needs_neither_datasets_nor_normalizers(tmp_path, tiny_base, monkeypatch):
    """``--export-corpus`` where the datasets are, ``--corpus`` on a GPU box that
    has neither them nor hazm/camel-tools: the token ids come from the cache."""
    import cxtext.finetune as ft
    import cxtext.train as tr

    texts, sent, _tasks, _y = _data()
    df = pd.DataFrame({"text": texts, "lang": None, "task": "sentiment", "label": sent, "dataset": "tiny"})
    monkeypatch.setattr(tr, "default_corpus", lambda *a, **k: df)
    info = tr.export_corpus(tmp_path / "corpus.parquet", base=str(tiny_base), cache_dir=tmp_path / "cache")
    assert info["rows"] == len(texts) and len(info["files"]) == 2
    enc = _encoder(tiny_base, tmp_path)
    assert ft._chunk_ids(enc, texts, None, 128, tr.feature_dir(tmp_path / "cache", enc)) == \
        ft._prepare_ids(enc, texts, None, 128)  # the cached ids are the analyzer's

    def unavailable(*a, **k):
        raise AssertionError("needs the datasets or the normalizers")

    monkeypatch.setattr(tr, "default_corpus", unavailable)
    monkeypatch.setattr(ft, "_prepare_ids", unavailable)
    logs: list[str] = []
    meta = tr.train_defaults(tmp_path / "out", base=str(tiny_base), cache_dir=tmp_path / "cache",
                             finetune=ft.FinetuneConfig(train_layers=2, epochs=1, batch_size=8, hidden=16),
                             corpus=tmp_path / "corpus.parquet", log_fn=logs.append)
    assert meta["training"]["rows"] == {"tiny/sentiment": len(texts)}
    saved = json.loads((tmp_path / "out" / "heads.json").read_text(encoding="utf-8"))
    assert saved["encoder"]["layers"] == [0, 1]  # every layer trained: the states cached are the embeddings'
    assert (tmp_path / "out" / ft.ENCODER_TOP).exists()
    assert any("cxtext train --signals" in m for m in logs)  # the signal heads are left to where the datasets are


def test_the_gpu_recipe_is_the_one_the_shipped_models_were_trained_with():
    """`cxtext train --defaults --device cuda` must rebuild what models/ holds."""
    from dataclasses import asdict
    from pathlib import Path

    from cxtext.finetune import recipe

    meta = json.loads((Path(__file__).resolve().parent.parent / "models" / "heads.json").read_text(encoding="utf-8"))
    shipped = {k: meta["config"][k] for k in ("train_layers", "epochs", "lr", "batch_size", "max_tokens", "seed")}
    assert {k: asdict(recipe("cuda"))[k] for k in shipped} == shipped
    assert recipe("cpu").train_layers < recipe("cuda").train_layers  # the CPU keeps lower layers frozen


def test_the_shipped_models_stay_within_25_mb():
    """Issue #3: models/ holds the trained parts only, 25 MB at most."""
    from pathlib import Path

    models = Path(__file__).resolve().parent.parent / "models"
    total = sum(f.stat().st_size for f in models.rglob("*") if f.is_file())
    assert 5_000_000 < total <= 25_000_000, total


def test_dev_scores_per_dataset_count_only_the_labels_a_dataset_has():
    """Runs on different mixes are compared dataset by dataset; a text of a
    dataset without "mixed" read as mixed is one miss, not a zero-F1 class."""
    from cxtext.finetune import dev_by_group

    groups = np.array(["a", "a", "a", "a", "b", "b"], dtype=object)
    labels = {"sentiment": np.array([0, 0, 2, 2, 1, -1])}
    logits = {"sentiment": np.eye(4)[[0, 3, 2, 2, 1, 0]]}  # row 1 read as class 3 (mixed), which "a" never carries
    out = dev_by_group(logits, labels, groups)
    assert out["a"]["sentiment"]["n"] == 4 and out["a"]["sentiment"]["accuracy"] == 0.75
    assert out["a"]["sentiment"]["macro_f1"] == pytest.approx((2 / 3 + 1.0) / 2, abs=1e-4)  # over classes 0 and 2
    assert out["b"]["sentiment"] == {"n": 1, "accuracy": 1.0, "macro_f1": 1.0}  # the unlabelled row is left out


def test_the_written_messages_can_join_the_fine_tuning_mix():
    """``cx_messages`` in a mix: every project message with that label, once."""
    from cxtext.registry import EMOTION_LABELS, SENTIMENT_LABELS
    from cxtext.train import cx_message_rows

    for task, labels in (("sentiment", SENTIMENT_LABELS), ("emotion", EMOTION_LABELS)):
        rows = cx_message_rows(task)
        assert len(rows) >= 2700 and rows["text"].is_unique
        assert set(rows["label"]) <= set(labels) and set(rows["lang"]) <= {"fa", "ar", "en"}
        assert (rows["task"] == task).all() and (rows["split"] == "train").all()


def test_the_cx_heads_texts_do_not_follow_the_fine_tuning_mix(monkeypatch):
    """The written messages joined the fine-tuning mix in 0.9; the CX heads'
    "not feedback, not a message" side must not take them in, and their review
    sample keeps its own pool, so refitting the CX heads gives the same heads."""
    import cxtext.cx_heads as ch
    import cxtext.train as tr

    seen = []
    monkeypatch.setattr(tr, "default_corpus", lambda data_dir, mix, seed: seen.append(dict(mix)) or pd.DataFrame(
        {"text": ["a", "b"], "lang": ["fa", "ar"], "task": "sentiment", "label": ["negative", "positive"], "dataset": "x"}))
    ch.emotion_texts()
    ch.review_texts()
    emotion_mix, review_mix = seen
    assert (tr.CX_MESSAGES, "emotion") in tr.DEFAULT_MIX and all(name != tr.CX_MESSAGES for name, _ in emotion_mix)
    assert {t for _, t in emotion_mix} == {"emotion"} and len(emotion_mix) == 4
    assert review_mix == ch.REVIEW_MIX and review_mix[("fa_sentipers", "sentiment")] == 8000
