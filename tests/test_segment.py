"""Tests for cxtext.segment: sentence spans (boundaries, what is not a boundary,
the coverage property, long-text cutting and speed) and encoder windows."""
from __future__ import annotations

import random
import time

import pytest

from cxtext.errors import InvalidInputError
from cxtext.segment import DEFAULT_MAX_CHARS, split_sentences, split_windows


def sentences(text: str, **kwargs) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, **kwargs)]


def check_spans(text: str, spans: list[tuple[int, int]], max_chars: int = DEFAULT_MAX_CHARS) -> None:
    """In order, non-overlapping, stripped, non-empty, within max_chars, and every
    non-space character covered exactly once."""
    covered = [0] * len(text)
    last_end = 0
    for start, end in spans:
        assert isinstance(start, int) and isinstance(end, int)
        assert last_end <= start < end <= len(text), (start, end, last_end)
        assert not text[start].isspace() and not text[end - 1].isspace()
        assert end - start <= max_chars
        for i in range(start, end):
            covered[i] += 1
        last_end = end
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert covered[i] == 1, (i, ch, text[max(0, i - 20):i + 20])


@pytest.mark.parametrize("text,expected", [
    # Persian: ؟ ! … and ZWNJ words
    ("غذا سرد بود! پیک هم دیر رسید؟ دیگه سفارش نمی‌دم…",
     ["غذا سرد بود!", "پیک هم دیر رسید؟", "دیگه سفارش نمی‌دم…"]),
    # Arabic: ؟ ؛ and ...
    ("هل وصل الطلب؟ لا، لم يصل بعد؛ سأنتظر... شكرا",
     ["هل وصل الطلب؟", "لا، لم يصل بعد؛", "سأنتظر...", "شكرا"]),
    # English with ; and ?!
    ("The food was cold; the driver was rude. Will I order again?! No.",
     ["The food was cold;", "the driver was rude.", "Will I order again?!", "No."]),
    # emoji that close a sentence stay with it
    ("عالی بود!!! 😍😍 ممنون از پیک 🙏", ["عالی بود!!! 😍😍", "ممنون از پیک 🙏"]),
    ("الاكل بارد! 😡👎 والخدمة سيئة.", ["الاكل بارد! 😡👎", "والخدمة سيئة."]),
    ("Great!👍 Thanks", ["Great!👍", "Thanks"]),
    # closing quotes and brackets stay with their sentence
    ('گفت «تموم شد.» بعد رفت', ["گفت «تموم شد.»", "بعد رفت"]),
    ("(خیلی خوب بود.) بعدی", ["(خیلی خوب بود.)", "بعدی"]),
    # Persian/Arabic full stop ۔ and a missing space after the stop
    ("خوب بود.ممنون", ["خوب بود.", "ممنون"]),
    ("بہت اچھا۔ شکریہ", ["بہت اچھا۔", "شکریہ"]),
    # newlines split paragraphs and lines, blank lines vanish
    ("خط اول\nخط دوم\n\n  پاراگراف سوم  \n", ["خط اول", "خط دوم", "پاراگراف سوم"]),
])
def test_sentence_boundaries(text, expected):
    assert sentences(text) == expected
    check_spans(text, split_sentences(text))


@pytest.mark.parametrize("text,expected", [
    ("قیمت 3.5 دلار بود. گران است", ["قیمت 3.5 دلار بود.", "گران است"]),
    ("امتیاز ۴.۵ از ۵. عالی", ["امتیاز ۴.۵ از ۵.", "عالی"]),
    ("السعر 1,250.75 ريال. غالي", ["السعر 1,250.75 ريال.", "غالي"]),
    ("See https://example.com/a.b?x=1&y=2. Then stop.", ["See https://example.com/a.b?x=1&y=2.", "Then stop."]),
    ("لینک: www.digikala.com/product/dkp-123?ref=a.b! بعدی",
     ["لینک: www.digikala.com/product/dkp-123?ref=a.b!", "بعدی"]),
    ("Mail me at a.b@example.co.uk. Thanks", ["Mail me at a.b@example.co.uk.", "Thanks"]),
    ("from digikala.com today", ["from digikala.com today"]),
    ("Fruit, e.g. apples, is fine. Dr. Smith agrees.", ["Fruit, e.g. apples, is fine.", "Dr. Smith agrees."]),
    ("Mr. and Mrs. Jones vs. Acme Inc. won. Next", ["Mr. and Mrs. Jones vs. Acme Inc. won.", "Next"]),
    ("متن [URL] و [EMAIL]. بعدی", ["متن [URL] و [EMAIL].", "بعدی"]),
    ("[URL][PHONE]", ["[URL][PHONE]"]),
])
def test_not_boundaries(text, expected):
    assert sentences(text) == expected
    check_spans(text, split_sentences(text))


@pytest.mark.parametrize("text", ["", " ", "\n\n\t ", "\u00a0"])
def test_empty_and_whitespace_give_no_spans(text):
    assert split_sentences(text) == []


@pytest.mark.parametrize("text", ["!!!", "😍", "؟", "...", "12345", "a"])
def test_punctuation_or_emoji_only_is_one_span(text):
    assert split_sentences(text) == [(0, len(text))]


def test_long_sentence_is_cut_at_commas_first():
    clause = "کیفیت غذا خوب بود ولی ارسال خیلی طول کشید"  # 41 chars
    text = "، ".join([clause] * 30)  # no full stop at all
    spans = split_sentences(text, max_chars=100)
    check_spans(text, spans, max_chars=100)
    assert len(spans) > 1
    assert all(text[e - 1] == "،" for _, e in spans[:-1])  # every cut right after a comma


def test_long_sentence_without_commas_is_cut_at_spaces():
    text = " ".join(["خیلی خوب بود"] * 100)
    spans = split_sentences(text, max_chars=50)
    check_spans(text, spans, max_chars=50)
    for start, end in spans:  # no word is cut
        assert start == 0 or text[start - 1] == " "
        assert end == len(text) or text[end] == " "


def test_one_token_longer_than_the_limit_is_cut_hard():
    text = "x" * 1000 + " end"
    spans = split_sentences(text, max_chars=300)
    check_spans(text, spans, max_chars=300)
    assert spans[0] == (0, 300)


def test_commas_inside_numbers_are_not_cut_points():
    text = "قیمت 1,000,000 تومان بود و " * 10
    spans = split_sentences(text, max_chars=40)
    check_spans(text, spans, max_chars=40)
    for start, end in spans:
        assert not text[end - 1] == "," or not text[end:end + 1].isdigit()


def _random_text(n_chars: int, seed: int) -> str:
    pieces = ["خیلی", "خوب", "بود", "الطلب", "وصل", "good", "3.5", "۴٫۵", "😍", "😡👎", "،", ",", ".", "!", "؟",
              "…", "؛", "\n", "https://x.co/a.b", "a@b.com", "[URL]", "e.g.", "Dr.", " ", "  ", "\t", "..."]
    rng = random.Random(seed)
    out = []
    size = 0
    while size < n_chars:
        piece = rng.choice(pieces)
        out.append(piece)
        out.append(" " if rng.random() < 0.8 else "")
        size += len(piece) + 1
    return "".join(out)[:n_chars]


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("max_chars", [1, 7, 60, DEFAULT_MAX_CHARS])
def test_coverage_property_on_random_texts(seed, max_chars):
    text = _random_text(3000, seed)
    check_spans(text, split_sentences(text, max_chars=max_chars), max_chars=max_chars)


@pytest.mark.parametrize("text", [
    _random_text(20_000, 1),
    " ".join(["خیلی خوب بود"] * 1700),      # chat: no punctuation at all
    "a" * 20_000,                           # one unbroken token
    "a." * 10_000,
    "1.1" * 7_000,
    "!" + " 😍" * 10_000,
    "http://" + ".," * 10_000,
    " " * 20_000,
])
def test_20k_characters_is_fast_and_covered(text):
    start = time.perf_counter()
    spans = split_sentences(text)
    elapsed = time.perf_counter() - start
    check_spans(text, spans)
    assert elapsed < 0.05, f"{elapsed * 1000:.1f} ms for {len(text)} characters"


@pytest.mark.parametrize("bad", [None, 12, b"text"])
def test_split_sentences_rejects_non_str(bad):
    with pytest.raises(InvalidInputError):
        split_sentences(bad)


@pytest.mark.parametrize("bad", [0, -5, 2.5, "400", True, None])
def test_split_sentences_rejects_bad_max_chars(bad):
    with pytest.raises(InvalidInputError):
        split_sentences("متن", max_chars=bad)


# --- windows -------------------------------------------------------------------------

@pytest.mark.parametrize("n,window,stride,expected", [
    (0, 4, None, [(0, 0)]),
    (0, 4, 2, [(0, 0)]),
    (1, 4, None, [(0, 1)]),
    (4, 4, None, [(0, 4)]),
    (5, 4, None, [(0, 4), (4, 5)]),
    (10, 4, None, [(0, 4), (4, 8), (8, 10)]),
    (8, 4, 4, [(0, 4), (4, 8)]),
    (10, 4, 3, [(0, 4), (3, 7), (6, 10)]),
    (10, 4, 2, [(0, 4), (2, 6), (4, 8), (6, 10)]),
    (5, 1, None, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]),
    (3, 512, 256, [(0, 3)]),
    (1000, 512, 256, [(0, 512), (256, 768), (512, 1000)]),
])
def test_split_windows(n, window, stride, expected):
    assert split_windows(n, window, stride) == expected


@pytest.mark.parametrize("n", [0, 1, 2, 7, 100, 511, 512, 513, 2049])
@pytest.mark.parametrize("window,stride", [(1, None), (3, None), (3, 1), (3, 2), (512, None), (512, 128)])
def test_split_windows_cover_every_token(n, window, stride):
    windows = split_windows(n, window, stride)
    assert windows[0][0] == 0 and windows[-1][1] == n
    covered = set()
    for (start, end), nxt in zip(windows, windows[1:] + [None]):
        assert 0 <= end - start <= window
        covered.update(range(start, end))
        if nxt is not None:
            assert nxt[0] == start + (stride or window)
            assert nxt[0] <= end  # no gap
    assert covered == set(range(n))


@pytest.mark.parametrize("args", [(-1, 4), (5, 0), (5, -2), (5, 4, 0), (5, 4, 5), (5.0, 4), (5, 4.0),
                                  ("5", 4), (5, 4, 2.0), (True, 4)])
def test_split_windows_rejects_bad_arguments(args):
    with pytest.raises(InvalidInputError):
        split_windows(*args)
