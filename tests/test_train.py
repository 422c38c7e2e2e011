"""`cxtext train` on a user's own labels: a few dozen rows, a tiny model."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

POS = ["عالی بود ممنون", "خیلی خوب و سریع", "کیفیت عالی", "ممتاز جدا شكرا", "رائع والتوصيل سريع", "great service"]
NEG = ["خیلی بد بود", "افتضاح و دیر", "کیفیت پایین", "سيء جدا", "الطلب متأخر وبارد", "terrible support"]


def test_user_labels_train_one_task_and_keep_the_others(tmp_path, tiny_models, tiny_base):
    import cxtext
    from cxtext.heads import Heads
    from cxtext.train import TrainConfig, train_user

    rows = [{"comment": t + " " + str(i), "y": "HAPPY"} for i in range(4) for t in POS]
    rows += [{"comment": t + " " + str(i), "y": "SAD"} for i in range(4) for t in NEG]
    data = tmp_path / "my.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    out = tmp_path / "my_model"
    meta = train_user(data, "comment", "y", "sentiment", out, label_map={"HAPPY": "positive", "SAD": "negative"},
                      start=tiny_models, cache_dir=tmp_path / "cache", cfg=TrainConfig(epochs=300, hidden=16, lr=3e-2, dropout=0.0))
    assert meta["training"]["rows"] == 48 and meta["metrics"]["dev"]["sentiment"]["train_rows"] == 48

    start, new = Heads.load(tiny_models), Heads.load(out)
    for k, v in start.module.heads["emotion"].state_dict().items():  # the other task is untouched
        assert torch.equal(v, new.module.heads["emotion"].state_dict()[k])
    assert (out / "taxonomy.json").exists()

    a = cxtext.load(models=out, cache_dir=tmp_path / "cache")
    got = [r.sentiment.label for r in a.pipe([r["comment"] for r in rows])]
    gold = ["positive" if r["y"] == "HAPPY" else "negative" for r in rows]
    assert sum(g == p for g, p in zip(gold, got)) / len(gold) >= 0.9  # it learned its own training rows


def test_bad_user_labels_are_a_clear_error(tmp_path, tiny_models):
    from cxtext.errors import InvalidInputError
    from cxtext.train import train_user

    data = tmp_path / "my.csv"
    pd.DataFrame({"t": ["a b c"] * 10, "l": ["HAPPY"] * 10}).to_csv(data, index=False)
    with pytest.raises(InvalidInputError, match="label-map"):
        train_user(data, "t", "l", "sentiment", tmp_path / "o", start=tiny_models, cache_dir=tmp_path / "c")
    with pytest.raises(InvalidInputError, match="task"):
        train_user(data, "t", "l", "topic", tmp_path / "o", start=tiny_models, cache_dir=tmp_path / "c")


def test_a_user_head_is_served_alone_not_blended_with_ours(tmp_path, tiny_models):
    from cxtext.heads import Heads, HeadSpec, build_module
    from cxtext.registry import EMOTION_LABELS, SENTIMENT_LABELS
    from cxtext.train import TrainConfig, train_user

    start = Heads.load(tiny_models)  # the tiny models plus the CX heads the defaults have
    tasks = dict(start.tasks, emotion_cx=HeadSpec(list(EMOTION_LABELS)), domain=HeadSpec(["customer_feedback"], "sigmoid"),
                 sentiment_cx=HeadSpec(list(SENTIMENT_LABELS)), message=HeadSpec(["cx_message"], "sigmoid"))
    module = build_module(32, 16, tasks)
    for t in start.tasks:
        module.heads[t].load_state_dict(start.module.heads[t].state_dict())
    with_cx = tmp_path / "with_cx"
    Heads(module, tasks, dict(start.meta)).save(with_cx)
    (with_cx / "taxonomy.json").write_text((tiny_models / "taxonomy.json").read_text(encoding="utf-8"), encoding="utf-8")
    data = tmp_path / "emo.csv"
    pd.DataFrame([{"t": f"{x} {i}", "l": l} for i in range(4) for x, l in
                  [(p, "joy") for p in POS] + [(n, "anger") for n in NEG]]).to_csv(data, index=False)
    train_user(data, "t", "l", "emotion", tmp_path / "mine", start=with_cx, cache_dir=tmp_path / "cache",
               cfg=TrainConfig(epochs=5, hidden=16))
    assert set(Heads.load(tmp_path / "mine").tasks) == {"sentiment", "emotion", "sentiment_cx", "message", "domain"}
    train_user(data, "t", "l", "sentiment", tmp_path / "sent", label_map={"joy": "positive", "anger": "negative"},
               start=with_cx, cache_dir=tmp_path / "cache", cfg=TrainConfig(epochs=5, hidden=16))
    # the user's sentiment head is served alone; emotion, not retrained, keeps its blend; the gates stay
    mine = Heads.load(tmp_path / "sent")
    assert set(mine.tasks) == {"sentiment", "emotion", "emotion_cx", "domain", "message"}
    x = np.random.default_rng(0).normal(size=(3, 32)).astype(np.float32)
    alone = Heads(mine.module, {"sentiment": mine.tasks["sentiment"]}, mine.meta).predict(x)["sentiment"]
    assert np.allclose(mine.predict(x)["sentiment"], alone)  # a gate without its CX head blends nothing
