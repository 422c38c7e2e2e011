"""Tests for cxtext.normalize: per-rule before/after tables per language,
masking with counts, and the offset map back to the original text."""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pytest

from cxtext.errors import InvalidInputError, UnsupportedFormatError
from cxtext.normalize import (
    ArabicNormalizer,
    EnglishNormalizer,
    NormalizedText,
    PersianNormalizer,
    get_normalizer,
    normalize,
)
from cxtext.normalize.masking import is_phone_number, luhn_ok, phone_spans
from cxtext.normalize.tracked import TrackedText, align_spacing

ZWNJ = "\u200c"


def fa(text: str) -> str:
    return get_normalizer("fa")(text)


def ar(text: str) -> str:
    return get_normalizer("ar")(text)


def en(text: str) -> str:
    return get_normalizer("en")(text)


def check_offsets(n: NormalizedText) -> None:
    assert len(n.offsets) == len(n.text) + 1
    assert n.offsets[-1] == len(n.original)
    assert all(a <= b for a, b in zip(n.offsets, n.offsets[1:], strict=False))
    assert all(0 <= o <= len(n.original) for o in n.offsets)


# --- empty and whitespace ----------------------------------------------------


@pytest.mark.parametrize("lang", ["fa", "ar", "en", "und"])
@pytest.mark.parametrize("text", ["", " ", "   ", " \n\t \r\n", "\u200f \u200e", "\u00a0\u3000"])
def test_empty_and_whitespace_only(lang, text):
    n = normalize(text, lang)
    assert n.text == ""
    assert n.offsets == (len(text),)
    assert n.to_original(0, 0) == (len(text), len(text))
    assert n.masked == {"url": 0, "email": 0, "phone": 0, "card": 0}


# --- Persian (hazm) ----------------------------------------------------------


@pytest.mark.parametrize(
    "before, after",
    [
        # ZWNJ (half-space) rules
        ("می خواهم", "می" + ZWNJ + "خواهم"),
        ("میخواهم", "می" + ZWNJ + "خواهم"),
        ("می" + ZWNJ + "خواهم", "می" + ZWNJ + "خواهم"),
        ("نمیدانم چه میگفت", "نمی" + ZWNJ + "دانم چه می" + ZWNJ + "گفت"),
        ("کتاب ها", "کتاب" + ZWNJ + "ها"),
        ("کتاب" + ZWNJ + "ها", "کتاب" + ZWNJ + "ها"),
        ("کتابها", "کتابها"),  # hazm leaves it joined
        ("خانه ها", "خانه" + ZWNJ + "ها"),
        ("بزرگ ترین", "بزرگ" + ZWNJ + "ترین"),
        ("میز", "میز"),  # not a verb: no ZWNJ
        # hazm #367: no (invisible) ZWNJ after a non-joining letter
        ("بندر ها", "بندرها"),
        ("پیتزا" + ZWNJ + "ها", "پیتزاها"),
        ("غذا ها", "غذاها"),
        # hazm's seperate_mi would also rewrite «میکند» inside «میکندد»
        ("میکند میکندد", "می" + ZWNJ + "کند میکندد"),
        # ZWNJ cleanup: runs, next to spaces, at word edges
        ("کتاب" + ZWNJ * 3 + "ها", "کتاب" + ZWNJ + "ها"),
        ("همه" + ZWNJ + " خوب", "همه خوب"),
        ("همه " + ZWNJ + "خوب", "همه خوب"),
        (ZWNJ + "سلام" + ZWNJ, "سلام"),
        ("عالی" + ZWNJ + "😍", "عالی😍"),
        # Arabic letters folded as hazm does (ة is kept by hazm)
        ("كيك يك", "کیک یک"),
        ("على", "علی"),
        ("مدرسة", "مدرسة"),
        # digits → ASCII
        ("۱۲۳ تومان", "123 تومان"),
        ("٤٥٦", "456"),
        ("１２", "12"),
        # diacritics and tatweel
        ("کِتابٌ", "کتاب"),
        ("مُحَمَّد", "محمد"),
        ("عالـــــی", "عالی"),
        # punctuation spacing
        ("سلام ، خوبی ؟", "سلام، خوبی؟"),
        ("سلام.خوبی", "سلام. خوبی"),
        ("به طول 9متر", "به طول 9 متر"),
        ("2.5 کیلو", "2.5 کیلو"),
        ("تاریخ 1402/05/12", "تاریخ 1402/05/12"),
        # single-character words and ligatures hazm spells out
        ("﷼", "ریال"),
        ("ﻻ", "لا"),
        # whitespace, control and bidi characters
        ("سلام   \n\n خوبی\u00a0جان", "سلام خوبی جان"),
        ("\u202bسلام\u202c \u200fخوبی\u200e", "سلام خوبی"),
        ("سل\x00ام\ufeff", "سلام"),
    ],
)
def test_persian(before, after):
    assert fa(before) == after


@pytest.mark.parametrize(
    "before, after",
    [
        ("عالیییییی", "عالی"),
        ("خیلیییی خوبببب بود", "خیلی خوب بود"),
        ("ممنون", "ممنون"),  # two identical letters stay
        ("هههههه", "ه"),
        ("عاااالـــــی", "عالی"),  # tatweel removed first, then squeezed
        ("soooo good", "soo good"),  # Latin letters keep two, even in Persian text
    ],
)
def test_persian_elongation(before, after):
    assert fa(before) == after


def test_persian_flags():
    plain = PersianNormalizer(correct_spacing=False, separate_mi=False, squeeze_elongation=False)
    assert plain("می خواهم") == "می خواهم"
    assert plain("میخواهم") == "میخواهم"
    assert plain("عالیییی") == "عالیییی"
    assert plain("كتاب") == "کتاب"


# --- Arabic (camel-tools) ----------------------------------------------------


@pytest.mark.parametrize(
    "before, after",
    [
        ("أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله"),
        ("على مستشفى", "علي مستشفي"),
        ("مدرسة", "مدرسة"),  # teh marbuta kept by default
        ("كتاب يكتب", "كتاب يكتب"),  # never folded to Persian ک/ی
        ("مُمْتَازٌ جِدًّا", "ممتاز جدا"),
        ("جميـــــل", "جميل"),
        ("٣٤٥ ٦٧٨٩ ۱۲", "345 6789 12"),
        ("سيييييء", "سيء"),
        ("جداااا", "جدا"),
        ("شكرا" + ZWNJ + "جزيلا", "شكراجزيلا"),  # ZWNJ is Persian only
        ("الخدمة   ممتازة\n", "الخدمة ممتازة"),
        ("رائع 😍😍😍😍😍", "رائع 😍😍😍"),
    ],
)
def test_arabic(before, after):
    assert ar(before) == after


@pytest.mark.parametrize(
    "kwargs, before, after",
    [
        ({"normalize_teh_marbuta": True}, "مدرسة", "مدرسه"),
        ({"normalize_alef": False}, "أحمد", "أحمد"),
        ({"normalize_alef_maksura": False}, "على", "على"),
        ({"remove_diacritics": False}, "مُمْتَاز", "مُمْتَاز"),
        ({"squeeze_elongation": False}, "جداااا", "جداااا"),
    ],
)
def test_arabic_flags(kwargs, before, after):
    assert ArabicNormalizer(**kwargs)(before) == after


# --- English / undetermined --------------------------------------------------


@pytest.mark.parametrize(
    "before, after",
    [
        ("Sooooo   good", "Soo good"),
        ("I loooove it", "I loove it"),
        ("cool coffee", "cool coffee"),
        ("GREAT", "GREAT"),  # no case folding
        ("a" + ZWNJ + "b", "ab"),
        ("١٢٣ ۴۵۶", "123 456"),
        ("كتاب يك على", "كتاب يك على"),  # no Arabic/Persian letter folding
        ("wow!!!! 👍🏻👍🏻👍🏻👍🏻", "wow!!!! 👍🏻👍🏻👍🏻"),
    ],
)
def test_english(before, after):
    assert en(before) == after
    assert get_normalizer("und")(before) == after


def test_languages_are_not_mixed():
    text = "يك كتاب على"
    assert normalize(text, "fa").text == "یک کتاب علی"
    assert normalize(text, "ar").text == "يك كتاب علي"
    assert normalize(text, "en").text == text


# --- emojis ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fa", "ar", "en"])
@pytest.mark.parametrize(
    "before, after",
    [
        ("😍", "😍"),
        ("😍😍", "😍😍"),
        ("😍😍😍", "😍😍😍"),
        ("😍😍😍😍😍😍", "😍😍😍"),
        ("❤️❤️❤️❤️", "❤️❤️❤️"),
        ("👍🏻👍🏻👍🏻👍🏻👍🏽", "👍🏻👍🏻👍🏻👍🏽"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),
        ("👨\u200d👩\u200d👧" * 4, "👨\u200d👩\u200d👧" * 3),
        ("🇮🇷🇸🇦", "🇮🇷🇸🇦"),
        ("😍😂😍😂", "😍😂😍😂"),
    ],
)
def test_emojis_kept_and_squeezed(lang, before, after):
    assert normalize(before, lang).text == after


# --- masking -----------------------------------------------------------------


def counts(**kw: int) -> dict[str, int]:
    return {"url": 0, "email": 0, "phone": 0, "card": 0, **kw}


@pytest.mark.parametrize(
    "lang, before, after, masked",
    [
        # URLs
        ("en", "see https://example.com/a?b=1 now", "see [URL] now", counts(url=1)),
        ("en", "see (https://example.com/a).", "see ([URL]).", counts(url=1)),
        ("fa", "سایت www.digikala.com/product/dkp-123 خوبه", "سایت [URL] خوبه", counts(url=1)),
        ("fa", "از digikala.com خریدم", "از [URL] خریدم", counts(url=1)),
        ("fa", "سایتwww.snapp.ir.", "سایت [URL].", counts(url=1)),
        ("ar", "الموقع http://souq.com/ae-ar رائع", "الموقع [URL] رائع", counts(url=1)),
        # e-mails
        ("fa", "ایمیل: ali.rezaei@gmail.com لطفا", "ایمیل: [EMAIL] لطفا", counts(email=1)),
        ("en", "mail x_y+z@mail.co.uk!", "mail [EMAIL]!", counts(email=1)),
        # phones
        ("fa", "شماره 09123456789", "شماره [PHONE]", counts(phone=1)),
        ("fa", "شماره ۰۹۱۲۳۴۵۶۷۸۹", "شماره [PHONE]", counts(phone=1)),
        ("fa", "شماره ۰۹۱۲ ۳۴۵ ۶۷ ۸۹", "شماره [PHONE]", counts(phone=1)),
        ("fa", "0912-345-6789 و 0912 345 6789", "[PHONE] و [PHONE]", counts(phone=2)),
        ("fa", "+98 912 345 6789 یا +989123456789 یا 00989123456789", "[PHONE] یا [PHONE] یا [PHONE]", counts(phone=3)),
        ("fa", "تلفن (021) 8877 6655 یا 021-88776655", "تلفن [PHONE] یا [PHONE]", counts(phone=2)),
        ("fa", "(09123456789)", "([PHONE])", counts(phone=1)),
        ("fa", "سفارش 2 09123456789 3", "سفارش 2 [PHONE] 3", counts(phone=1)),
        ("ar", "اتصل على +966 50 123 4567", "اتصل علي [PHONE]", counts(phone=1)),
        ("ar", "أو ٠٥٠١٢٣٤٥٦٧", "او [PHONE]", counts(phone=1)),
        ("ar", "+٢٠ ١٠ ١٢٣٤ ٥٦٧٨ و +971501234567", "[PHONE] و [PHONE]", counts(phone=2)),
        ("en", "call 00971 50 123 4567", "call [PHONE]", counts(phone=1)),
        # cards and IBANs
        ("fa", "کارت 6037991812345678", "کارت [CARD]", counts(card=1)),
        ("fa", "کارت ۶۰۳۷-۹۹۱۸-۱۲۳۴-۵۶۷۸", "کارت [CARD]", counts(card=1)),
        ("en", "card 4111 1111 1111 1111.", "card [CARD].", counts(card=1)),
        ("fa", "کارت ۶۰۳۷ ۹۹۱۸ ۱۲۳۴ ۵۶۷۰", "کارت [CARD]", counts(card=1)),  # spaced: passes Luhn
        ("fa", "شبا IR06 0120 0100 0000 0123 4567 89", "شبا [CARD]", counts(card=1)),
        ("fa", "شبا IR060120010000000123456789", "شبا [CARD]", counts(card=1)),
        ("ar", "الايبان SA03 8000 0000 6080 1016 7519", "الايبان [CARD]", counts(card=1)),
        # everything at once
        (
            "fa",
            "به ali@x.ir یا 09121111111 یا ۰۹۳۵۲۲۲۲۲۲۲ بگید، کارت 6037-9918-1234-5678، https://x.ir",
            "به [EMAIL] یا [PHONE] یا [PHONE] بگید، کارت [CARD]، [URL]",
            counts(url=1, email=1, phone=2, card=1),
        ),
    ],
)
def test_masking(lang, before, after, masked):
    n = normalize(before, lang)
    assert n.text == after
    assert dict(n.masked) == masked


@pytest.mark.parametrize(
    "text",
    [
        "قیمت 150 000 000 تومان",
        "تاریخ 1402/05/12",
        "سال 1402 و 12345678",
        "وزن 2.5 کیلو",
        "603799181234567",  # 15 digits: not a card
        "مدل های 7980 7990 5890 5850 بهترند",  # space-grouped, fails Luhn: a list of numbers
        "02-03-2024",
        "ساعت 10:30",
        "e.g. test",
        "نسخه v1.2.3",
        "I loved it.In fact",
    ],
)
def test_not_masked(text):
    assert sum(normalize(text, "fa").masked.values()) == 0


@pytest.mark.parametrize(
    "candidate, expected",
    [
        ("09123456789", True),
        ("0912 345 6789", True),
        ("+98 912 345 6789", True),
        ("00989123456789", True),
        ("0501234567", True),
        ("+0123456789", False),
        ("150 000 000", False),
        ("0912345", False),
        ("091234567890", False),
    ],
)
def test_is_phone_number(candidate, expected):
    assert is_phone_number(candidate) is expected


@pytest.mark.parametrize(
    "digits, expected",
    [("4111111111111111", True), ("6037991812345670", True), ("6037991812345678", False), ("79927398713", True)],
)
def test_luhn(digits, expected):
    assert luhn_ok(digits) is expected


def test_phone_spans_inside_longer_run():
    assert phone_spans("2 0912 345 6789 3") == [(2, 15)]
    assert phone_spans("1 2 3 4 5 6 7 8") == []


def test_masking_can_be_turned_off():
    text = "a@b.com 09123456789 https://x.com 6037991812345678"
    n = EnglishNormalizer(mask=False).normalize_with_map(text)
    assert n.text == text
    assert dict(n.masked) == counts()


def test_placeholder_characters_in_input_cannot_fake_a_mask():
    n = normalize("a\ufdd0b\ufdd3c", "en")
    assert n.text == "abc"
    assert dict(n.masked) == counts()


# --- offsets and spans -------------------------------------------------------


def original_of(n: NormalizedText, word: str, nth: int = 0) -> str:
    starts = [m.start() for m in re.finditer(re.escape(word), n.text)]
    start = starts[nth]
    s, e = n.to_original(start, start + len(word))
    return n.original[s:e]


@pytest.mark.parametrize(
    "lang, original, word, expected",
    [
        ("fa", "خیلی عالیییی بود", "عالی", "عالیییی"),
        ("fa", "خیلی عالیییی", "عالی", "عالیییی"),
        ("fa", "خیلی عالـــــی بود", "عالی", "عالـــــی"),
        ("fa", "کِتابٌ خوب", "کتاب", "کِتابٌ"),
        ("fa", "كتاب خوب", "کتاب", "كتاب"),
        ("fa", "کتاب ها را دیدم", "کتاب" + ZWNJ + "ها", "کتاب ها"),
        ("fa", "کتاب ها را دیدم", "کتاب", "کتاب"),
        ("fa", "کتاب ها را دیدم", "ها", "ها"),
        ("fa", "من میخواهم", "می" + ZWNJ + "خواهم", "میخواهم"),
        ("fa", "من میخواهم", "خواهم", "خواهم"),
        ("fa", "بندر ها", "بندرها", "بندر ها"),
        ("fa", "\u200fسلام\u200e   دوست", "سلام", "سلام"),
        ("fa", "سلام ، خوبی ؟", "سلام،", "سلام ،"),
        ("fa", "سایت https://x.ir/a?b=1 خوبه", "[URL]", "https://x.ir/a?b=1"),
        ("fa", "سایتwww.x.comخوبه", "[URL]", "www.x.com"),
        ("fa", "سایتwww.x.comخوبه", "خوبه", "خوبه"),
        ("fa", "شماره ۰۹۱۲ ۳۴۵ ۶۷ ۸۹ است", "[PHONE]", "۰۹۱۲ ۳۴۵ ۶۷ ۸۹"),
        ("fa", "مبلغ ۱۲۰ تومان", "120", "۱۲۰"),
        ("fa", "عالی 😍😍😍😍😍 بود", "😍😍😍", "😍😍😍😍😍"),
        ("fa", "﷼ داد", "ریال", "﷼"),
        ("ar", "سيييييء جدا", "سيء", "سيييييء"),
        ("ar", "الخدمـــة مُمْتازة", "ممتازة", "مُمْتازة"),
        ("ar", "الخدمـــة مُمْتازة", "الخدمة", "الخدمـــة"),
        ("ar", "على +966 50 123 4567", "[PHONE]", "+966 50 123 4567"),
        ("en", "soooo good", "soo", "soooo"),
        ("en", "mail me: a.b@c.com!", "[EMAIL]", "a.b@c.com"),
        ("en", "  spaced   out  ", "out", "out"),
    ],
)
def test_span_maps_back_to_original_word(lang, original, word, expected):
    n = normalize(original, lang)
    check_offsets(n)
    assert original_of(n, word) == expected


def test_whole_text_maps_to_whole_original_without_outer_space():
    n = normalize("  \u200fعالیییی بود!  ", "fa")
    s, e = n.to_original(0, len(n.text))
    assert n.original[s:e] == "عالیییی بود!"


ROUND_TRIP_TEXTS = [
    ("fa", "غذا خیلییییی سرد بود و پیک دیر رسید ، اصلا راضی نیستم 😡😡😡😡"),
    ("fa", "كيفيت عالي بود، ممنون از اسنپ فود 🙏 سفارش ۳ تا پیتزا داده بودم"),
    ("fa", "می خواهم بگویم که کتاب ها دیر رسیدند.پشتیبانی هم جواب نداد"),
    ("fa", "سلام\n\nبسته بندی عالـــــی بود\u200c\u200c ولی قیمتش ۱۲۰٫۰۰۰ تومانه!!!"),
    ("fa", "برای پیگیری با 0912-345-6789 تماس بگیرید یا به support@shop.ir ایمیل بزنید"),
    ("fa", "لینک محصول: https://www.digikala.com/product/dkp-123/ رو ببینید soooo good"),
    ("fa", "شماره کارتم ۶۰۳۷ ۹۹۱۸ ۱۲۳۴ ۵۶۷۸ هست، پول رو برگردونید"),
    ("fa", "نمیدانم چرا اینقدر گرون شده 😐 واقعا افتضاحححح"),
    ("ar", "الخدمة ممتااااازة جداً 👍👍👍👍 وأنصح بها"),
    ("ar", "للأسف التوصيل متأخر ٣ أيام، اتصلت على ٠٥٠١٢٣٤٥٦٧ ولم يرد أحد"),
    ("ar", "المنتج سيييييء ولا أنصح به إطلاقاً، الموقع www.souq.com"),
    ("ar", "شكراً على الخدمة الرائعة مستشفى ممتاز 🌹"),
    ("en", "The app is sooooo slow, call +1 415 555 0100 or visit https://help.example.com"),
    ("en", "Great   service!!! 😍😍😍😍😍 would order again"),
    ("und", "ok 👍 ٥ نجوم"),
]


@pytest.mark.parametrize("lang, text", ROUND_TRIP_TEXTS)
def test_every_word_round_trips(lang, text):
    """Normalizing the original span of each normalized word gives that word back."""
    n = normalize(text, lang)
    check_offsets(n)
    for m in re.finditer(r"[^ ]+", n.text):
        s, e = n.to_original(*m.span())
        assert normalize(text[s:e], lang).text == m.group(), (m.group(), text[s:e])


_ALPHABET = (
    list("abcos xyz.@:/-+()")
    + list("سلامعالیکتابهاخوبمینرپژ")
    + list("يكىةأإآ")
    + ["\u064e", "\u064b", "\u0651", "\u0640", ZWNJ, "\u200d", "\u200f", "\u202b", "\u00a0", "\n", "\t"]
    + list("0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")
    + ["😍", "👍🏻", "❤️", "🇮🇷", "﷼", "ﻻ"]
    + ["www.", "https://", "09", ".com", "IR", " ها", "می ", "ییی", "ooo", "\ufdd1"]
)


@pytest.mark.parametrize("lang", ["fa", "ar", "en", "und"])
def test_offsets_property_on_random_text(lang):
    rng = random.Random(1234)
    normalizer = get_normalizer(lang)
    for _ in range(300):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 40)))
        n = normalizer.normalize_with_map(text)
        check_offsets(n)
        size = len(n.text)
        for start in range(0, size + 1, 3):
            for end in range(start, size + 1, 2):
                s, e = n.to_original(start, end)
                assert 0 <= s <= e <= len(text)
                if end > start:
                    assert e > s


# --- offset machinery --------------------------------------------------------


def test_black_box_that_breaks_its_promise_still_gets_a_valid_map():
    tracked = TrackedText("a b c")
    tracked.apply(lambda s: s.replace("b", "xyz"), "spacing")  # not spacing-only
    assert tracked.text == "a xyz c"
    assert len(tracked.offsets) == len(tracked.text) + 1
    assert tracked.offsets == sorted(tracked.offsets)
    assert tracked.offsets[0] == 0 and tracked.offsets[-1] == 5


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("a b", "a" + ZWNJ + "b", [0, 1, 2]),
        ("ab", "a b", [0, 1, 1]),
        ("a  b", "a b", [0, 1, 3]),
        ("a b", "a c", None),
    ],
)
def test_align_spacing(old, new, expected):
    assert align_spacing(old, new) == expected


# --- API ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["xx", "FA", "fas", "", None, 1])
def test_unknown_language(lang):
    with pytest.raises(UnsupportedFormatError, match="fa, ar, en, und"):
        normalize("سلام", lang)


@pytest.mark.parametrize("value", [None, b"bytes", 42, ["a"]])
def test_non_str_input(value):
    with pytest.raises(InvalidInputError, match="must be a str"):
        normalize(value, "fa")


def test_get_normalizer_is_cached_and_typed():
    assert get_normalizer("fa") is get_normalizer("fa")
    assert isinstance(get_normalizer("fa"), PersianNormalizer)
    assert isinstance(get_normalizer("ar"), ArabicNormalizer)
    assert isinstance(get_normalizer("und"), EnglishNormalizer)
    assert normalize("x", "und").lang == "und"
    assert normalize("x", "en").lang == "en"


@pytest.mark.parametrize("span", [(-1, 2), (2, 1), (0, 99), (0.5, 1)])
def test_to_original_rejects_bad_spans(span):
    n = normalize("سلام دنیا", "fa")
    with pytest.raises(InvalidInputError):
        n.to_original(*span)


def test_to_dict_is_json_ready():
    n = normalize("عالیییی 09123456789", "fa")
    d = json.loads(json.dumps(n.to_dict(), ensure_ascii=False))
    assert d == {
        "original": "عالیییی 09123456789",
        "text": "عالی [PHONE]",
        "offsets": list(n.offsets),
        "masked": counts(phone=1),
        "lang": "fa",
    }


def test_normalized_text_checks_its_offsets():
    with pytest.raises(InvalidInputError):
        NormalizedText("ab", "ab", (0, 1), counts(), "en")


def test_import_does_not_load_hazm_or_camel():
    code = "import sys, cxtext.normalize; print(any(m.split('.')[0] in ('hazm', 'camel_tools') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("lang,word", [
    ("ar", "أكثر"), ("ar", "إلى"), ("ar", "تلقائيًا"), ("ar", "مـــرة"), ("ar", "آخر"),
    ("fa", "كيف"), ("fa", "مي‌خواهم"), ("fa", "كتابي"), ("en", "Refund"),
])
def test_fold_letters_folds_a_word_as_the_normalizer_does(lang, word):
    # what the taxonomy's regular expressions go through must agree with the texts they meet
    from cxtext.normalize import get_normalizer

    assert get_normalizer(lang).fold_letters(word) == normalize(word, lang).text
