"""The taxonomy is data: terms normalized like texts, affixes tolerated, regex
terms allowed, bad files rejected with a clear message."""
from __future__ import annotations

import json

import pytest

from cxtext.normalize import normalize
from cxtext.taxonomy import ASPECTS, SIGNALS, PhraseMatcher, load_taxonomy


def _norm(t, lang):
    return normalize(t, lang).text


@pytest.fixture(scope="module")
def matcher():
    return PhraseMatcher({
        "delivery": {"fa": ["پیک", "ارسال"], "ar": ["توصيل", "المندوب"], "en": ["delivery"]},
        "effort_high": {"fa": ["re:(?:\\d+|سه|چند)[\\s\\u200c]*بار[\\s\\u200c]+تماس"], "en": ["called three times"]},
        "price_value": {"fa": ["می خواهم"]},
    }, _norm)


@pytest.mark.parametrize("lang,text,key,found", [
    ("fa", "پیک‌ها دیر رسیدند", "delivery", "پیک‌ها"),          # suffix after a half-space
    ("fa", "ارسالش خیلی کند بود", "delivery", "ارسالش"),        # clitic
    ("fa", "پیکان قرمز", "delivery", None),                      # another word, not a suffix
    ("ar", "والتوصيل كان سريع", "delivery", "والتوصيل"),        # و + ال prefixes
    ("ar", "مندوبين", "delivery", None),
    ("en", "DELIVERY was late", "delivery", "DELIVERY"),       # English is case-insensitive
    ("fa", "سه بار تماس گرفتم", "effort_high", "سه بار تماس"),  # regex term
    ("fa", "5 بار تماس گرفتم", "effort_high", "5 بار تماس"),
    ("fa", "من میخواهم", "price_value", "میخواهم".replace("می", "می\u200c", 1)),  # hazm separates «می»
    ("fa", "من می خواهم", "price_value", "می‌خواهم"),          # term and text normalized alike
])
def test_matches(matcher, lang, text, key, found):
    norm = _norm(text, lang)
    hits = [m for m in matcher.find(norm, [lang]) if m.key == key]
    if found is None:
        assert not hits
        return
    assert hits and norm[hits[0].start:hits[0].end] == found


def test_shipped_taxonomy_is_complete():
    tax = load_taxonomy("models/taxonomy.json")
    assert set(tax.aspect_names) == set(ASPECTS)
    assert set(tax.signals) == set(SIGNALS)
    for name, spec in tax.aspects.items():
        for lang in ("fa", "ar", "en"):
            assert len(spec["terms"][lang]) >= 20, (name, lang)
    tax.aspect_matcher  # compiles every term
    tax.signal_matcher


def test_bad_taxonomy_is_rejected(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"aspects": {"x": {"journey_stage": "later", "terms": {}}}}))
    with pytest.raises(ValueError, match="journey_stage"):
        load_taxonomy(p)
    p.write_text(json.dumps({"aspects": {"x": {"terms": {}}}, "signals": {"happiness": {}}}))
    with pytest.raises(ValueError, match="unknown signals"):
        load_taxonomy(p)


def test_raw_patterns_are_folded_like_the_text():
    # the normalizer writes أ/إ as ا and ى as ي (Arabic), ي/ك as ی/ک (Persian): so must a pattern
    m = PhraseMatcher({"effort_high": {"ar": ["re:(?:أكثر|إلغاء)[\\s]+من"], "fa": ["re:كيف[\\s]+پول"]}},
                      lambda t, lang: t)
    assert [x.key for x in m.find("اكثر من مرة", ["ar"])] == ["effort_high"]
    assert [x.key for x in m.find("کیف پول", ["fa"])] == ["effort_high"]
