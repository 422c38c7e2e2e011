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
    ("ar", "مندوبين", "delivery", "مندوبين"),                  # «المندوب» without its article
    ("ar", "مندوب التوصيل", "delivery", "مندوب"),              # construct form: no article either
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


SHIPPED_SIGNAL_CASES = [
    # effort said without a fixed phrase: time spent chasing, nobody answering, starting over, sent around
    ("fa", "یه هفته‌ست دارم با پشتیبانی تماس می‌گیرم و هیچ خبری نیست", "high", None),
    ("fa", "چهار روزه منتظر جواب ایمیلم هستم", "high", None),
    ("fa", "هیچ‌کس جواب تلفن رو نمیده", "high", None),
    ("fa", "مجبورم هر ماه برم شعبه", "high", None),
    ("fa", "دو روزه رسید و خیلی خوب بود", None, None),  # a duration alone is no effort
    ("fa", "ثبت‌نام دو دقیقه هم نکشید", "low", None),
    ("ar", "بقالي أسبوع بكلم خدمة العملاء", "high", None),
    ("ar", "ولا أحد يرد على التلفون", "high", None),
    ("ar", "لازم أعبي الطلب من جديد", "high", None),
    ("ar", "الاسترجاع تم تلقائي", "low", None),
    # loyalty: switching, closing, "from now on only here", "nowhere else"
    ("fa", "دیگه جای دیگه نمیرم", None, "promoter"),
    ("fa", "دیگه ازتون خرید نمی‌کنم", None, "detractor"),
    ("fa", "از این به بعد فقط از همین‌جا می‌خرم", None, "promoter"),
    ("fa", "رفتم سراغ یه اپ دیگه", None, "detractor"),
    ("fa", "قبل از خرید رفتم تو یه فروشگاه تا قیمت رو ببینم", None, None),
    ("fa", "به خواهرم گفتم اینجا نره", None, "detractor"),
    ("ar", "من اليوم ورايح كل طلباتي منهم", None, "promoter"),
    ("ar", "ما أتعامل إلا معهم", None, "promoter"),
    ("ar", "غيرت لشركة أخرى", None, "detractor"),
    ("ar", "ما راح أرجع للمكان هذا", None, "detractor"),
    ("ar", "ما اطلب منهم الا البيتزا", None, None),
    ("ar", "حولوني لقسم ثاني", "high", None),
    # what the patterns must leave alone (a negation after the phrase, other meanings of the words)
    ("fa", "این فروشگاه دیگه نمیرم", None, "detractor"),
    ("fa", "به گارسون گفتم سس نده", None, None),
    ("fa", "در تماس با پشتیبانی مشکلم حل نشد", None, None),
    ("fa", "از این به بعد اینجا سفارش نمیدم", None, None),
    ("fa", "هر کی ازم بپرسه توصیه نمی‌کنم", None, "detractor"),
    ("fa", "پشتیبانی ۲۴ ساعته با تماس تلفنی", None, None),
    ("fa", "دو روز بعد ایمیل تایید اومد", None, None),
    ("ar", "اقول الحق ما شاء الله عليهم", None, None),
    ("ar", "قلت للموظف ما وصلني الطلب", None, None),
    ("ar", "بعد كذا طلبت منهم استرجاع", None, None),
    ("ar", "الموظفة قفلت الخط في وجهي", None, None),
    ("ar", "من ساعة اتصل بي المندوب", None, None),
    ("ar", "ما اضطريت اروح الفرع", None, None),
    ("ar", "من اليوم ورايح ما راح اطلب منهم", None, "detractor"),
    ("en", "They tell you not to worry about it", None, None),
    ("en", "I told my friends to avoid this place", None, "detractor"),
    # Persian «ما» is "we", not the Arabic "not"
    ("fa", "ما مشتری همیشگی این رستوران هستیم", None, "promoter"),
    ("ar", "ما راح أشتري منهم مرة ثانية", None, "detractor"),
    # the wider lexicon
    ("ar", "حولوني من قسم لقسم وما حد عرف يساعدني", "high", None),
    ("fa", "با یه تماس حل شد", "low", None),
    ("ar", "أكيد بطلب مرة ثانية منهم", None, "promoter"),
    ("fa", "دیگه سمتشون نمیرم", None, "detractor"),
    ("ar", "سكرت حسابي عندهم", None, "detractor"),
    ("ar", "الأسعار تختلف من فرع لفرع", None, None),  # a difference between branches is no runaround
]


@pytest.mark.parametrize("lang,text,effort,loyalty", SHIPPED_SIGNAL_CASES)
def test_shipped_signal_patterns(lang, text, effort, loyalty):
    from cxtext.cx import derive
    from cxtext.pipeline import detect_and_normalize, find_signals

    tax = load_taxonomy("models/taxonomy.json")
    lang, _conf, norm = detect_and_normalize(text, lang)
    spans: dict = {}
    for key, a, b in find_signals(tax, norm.text, lang):
        spans.setdefault(key, []).append((a, b))
    r = derive({}, {}, [], spans)
    assert (r.effort, r.loyalty) == (effort, loyalty), spans


def test_raw_patterns_are_folded_like_the_text():
    # the normalizer writes أ/إ as ا and ى as ي (Arabic), ي/ك as ی/ک (Persian): so must a pattern
    m = PhraseMatcher({"effort_high": {"ar": ["re:(?:أكثر|إلغاء)[\\s]+من"], "fa": ["re:كيف[\\s]+پول"]}},
                      lambda t, lang: t)
    assert [x.key for x in m.find("اكثر من مرة", ["ar"])] == ["effort_high"]
    assert [x.key for x in m.find("کیف پول", ["fa"])] == ["effort_high"]
    m = PhraseMatcher({"effort_low": {"ar": ["re:تلقائيًا"]}}, lambda t, lang: t)  # tanwin: dropped from texts too
    assert [x.key for x in m.find("رجعت الفلوس تلقائيا", ["ar"])] == ["effort_low"]


@pytest.mark.parametrize("term,bare", [
    ("الطاقم", "طاقم"), ("الموقع الإلكتروني", "موقع الإلكتروني"), ("خدمة العملاء", "خدمة العملاء"),
    ("الو", "الو"), ("الكل", "الكل"),  # too short to be ال + a word
])
def test_arabic_terms_drop_the_article_of_their_first_word(term, bare):
    from cxtext.taxonomy import _without_article

    assert _without_article(term) == bare
