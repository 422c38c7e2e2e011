"""Masking of personal data: URLs, e-mails, phone numbers and payment cards.

Masking runs *after* digits are folded to ASCII (so ``۰۹۱۲…`` and ``٠٩١٢…``
are caught by the same patterns) and *before* any language step (so hazm's
punctuation spacing never splits a URL). Each item is replaced by one
placeholder character (a Unicode noncharacter that user text never contains,
and that hazm and camel-tools leave alone); :func:`expand_placeholders` turns
them into the readable ``[URL]``/``[EMAIL]``/``[PHONE]``/``[CARD]`` at the end.

The patterns are compiled once here; they are public so other modules (and
tests) can use the same definitions.
"""
from __future__ import annotations

import re

from cxtext.normalize.tracked import TrackedText

#: Placeholder text per masked kind, in the order masking runs.
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "url": "[URL]",
    "card": "[CARD]",
    "phone": "[PHONE]",
}
#: The single character standing for each kind until the end of normalization.
SENTINELS: dict[str, str] = {
    "email": "\ufdd0",
    "url": "\ufdd1",
    "card": "\ufdd2",
    "phone": "\ufdd3",
}
_SENTINEL_TO_PLACEHOLDER = {SENTINELS[k]: PLACEHOLDERS[k] for k in PLACEHOLDERS}
SENTINEL_RE = re.compile("[" + "".join(SENTINELS.values()) + "]")

# Arabic-script letters and digits allowed inside a URL path (unencoded slugs).
_AR_URL = "\u0620-\u064a\u0660-\u0669\u066e-\u06d3\u06f0-\u06ff\u200c"
# Printable ASCII except space, quotes, angle brackets and backtick.
_URL_CHAR = "[!#-;=?-_a-~" + _AR_URL + "]"
# Trailing punctuation is sentence punctuation, not part of the URL.
_URL_END = r"(?<![.,;:!?'()\[\]{}*،؛؟…])"
# TLDs accepted on bare domains ("digikala.com"): lower case only, and no TLD
# that is also a common word ("in", "me", "us"), so "loved it.In fact" is text.
_TLDS = (
    "com|net|org|info|biz|io|co|app|dev|shop|store|online|site|xyz|edu|gov|"
    "ir|sa|ae|eg|qa|kw|bh|om|jo|lb|ma|dz|tn|iq|sy|ly|sd|ps|tj|tr|uk|de|fr|ru|ca|au"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"

EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]*@" + _LABEL + r"(?:\." + _LABEL + r")*\.[a-z]{2,24}(?![a-z0-9])",
    re.IGNORECASE,
)
# Host names are ASCII (so a URL glued to the next Persian word stops at the
# host); the path may carry unencoded Arabic-script slugs.
_HOST = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?"
_PATH = r"(?:[/?#]" + _URL_CHAR + "*" + _URL_END + ")?"
URL_RE = re.compile(
    r"(?:(?:https?|ftp)://|(?<![a-z0-9@.-])www\.)" + _HOST + _PATH
    # bare domains need a known TLD: "digikala.com", "snapp.ir/abc"
    + r"|(?<![a-z0-9@.\-/])(?:" + _LABEL + r"\.)+(?-i:" + _TLDS + r")(?![a-zA-Z0-9-])" + _PATH,
    re.IGNORECASE,
)
#: IBAN: IR + 24 digits (Iranian "Sheba"), or any two capitals + 2 check digits
#: + at least 10 more digits (SA, AE, EG…), optionally grouped by spaces/dashes.
IBAN_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:(?:IR|ir|Ir)[ -]?\d{2}(?:[ -]?\d){22}|[A-Z]{2}[ -]?\d{2}(?:[ -]?\d){10,30})(?!\d)"
)
#: 16-digit payment card, optionally grouped by four with spaces or dashes
#: (space-grouped ones must also pass the Luhn check, see ``_card``).
CARD_RE = re.compile(r"(?<![\d+])\d{4}(?:[ -]?\d{4}){3}(?!\d)")
# A phone-like run: optional +, then digits or parenthesized groups "(021)",
# single spaces/dashes between them; is_phone_number() then checks the digits.
_PHONE_UNIT = r"(?:\d|\(\d{1,4}\))"
_PHONE_RUN_RE = re.compile(
    r"(?<![A-Za-z0-9+])\+?" + _PHONE_UNIT + r"(?:[ -]?" + _PHONE_UNIT + r"){6,16}(?!\d)"
)
_NON_DIGIT_RE = re.compile(r"\D")


def is_phone_number(candidate: str) -> bool:
    """Whether a phone-like run is a phone number.

    International numbers start with ``+`` or ``00`` and have 8 to 15 digits
    after it (E.164); national numbers start with ``0`` and have 10 or 11
    digits (Iranian ``09xxxxxxxxx`` and ``0xx xxxxxxxx``, Saudi/Emirati
    ``05xxxxxxxx``, Egyptian ``01xxxxxxxxx``). Other runs (prices, dates,
    order numbers) are left alone.

    Examples:
        >>> is_phone_number("0912 345 6789"), is_phone_number("+966 50 123 4567")
        (True, True)
        >>> is_phone_number("150 000 000")
        False
    """
    digits = _NON_DIGIT_RE.sub("", candidate)
    if candidate.startswith("+"):
        return 8 <= len(digits) <= 15 and digits[0] != "0"
    if digits.startswith("00"):
        return 10 <= len(digits) <= 17 and digits[2] != "0"
    if digits.startswith("0"):
        return 10 <= len(digits) <= 11
    return False


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum that payment cards carry.

    Examples:
        >>> luhn_ok("4111111111111111"), luhn_ok("7980799058905850")
        (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(m: re.Match) -> str | None:
    # Four space-separated groups of four digits are often a list of numbers
    # ("models 7980 7990 5890 5850"), so those must pass the Luhn check.
    candidate = m.group()
    if " " in candidate and not luhn_ok(_NON_DIGIT_RE.sub("", candidate)):
        return None
    return SENTINELS["card"]


def phone_spans(run: str) -> list[tuple[int, int]]:
    """Phone numbers inside one phone-like run, as ``(start, end)`` spans.

    A run can glue a phone number to a neighbouring number ("2 0912 345 6789"),
    so when the whole run is not a phone number, its sub-runs between
    separators are tried, longest first, left to right.

    Examples:
        >>> phone_spans("2 0912 345 6789 3")
        [(2, 15)]
    """
    if is_phone_number(run):
        return [(0, len(run))]
    cuts = [i for i, ch in enumerate(run) if ch in " -"]
    starts = [0] + [i + 1 for i in cuts]
    ends = sorted([*cuts, len(run)], reverse=True)
    found: list[tuple[int, int]] = []
    pos = 0
    for start in starts:
        if start < pos:
            continue
        for end in ends:
            if end <= start:
                break
            if is_phone_number(run[start:end]):
                found.append((start, end))
                pos = end
                break
    return found


def mask(tracked: TrackedText) -> dict[str, int]:
    """Replace URLs, e-mails, cards/IBANs and phones by placeholder characters.

    Order matters: e-mails before URLs (the domain of an address is not a
    URL), IBANs before cards (an IBAN contains 16 digits), cards before phones.

    Returns:
        Counts with all four keys: ``{"url", "email", "phone", "card"}``.
    """
    counts = {"url": 0, "email": 0, "phone": 0, "card": 0}
    counts["email"] = tracked.sub(EMAIL_RE, SENTINELS["email"])
    counts["url"] = tracked.sub(URL_RE, SENTINELS["url"])
    counts["card"] = tracked.sub(IBAN_RE, SENTINELS["card"]) + tracked.sub(CARD_RE, _card)
    sentinel = SENTINELS["phone"]
    spans = [
        (m.start() + start, m.start() + end, sentinel)
        for m in _PHONE_RUN_RE.finditer(tracked.text)
        for start, end in phone_spans(m.group())
    ]
    counts["phone"] = tracked.replace_spans(spans)
    return counts


def _expand(m: re.Match) -> str:
    text, start, end = m.string, m.start(), m.end()
    placeholder = _SENTINEL_TO_PLACEHOLDER[m.group()]
    # Keep a placeholder a word of its own: "سایتwww.x.com" -> "سایت [URL]".
    before = " " if start > 0 and (text[start - 1].isalnum() or text[start - 1] in _SENTINEL_TO_PLACEHOLDER) else ""
    after = " " if end < len(text) and (text[end].isalnum() or text[end] in _SENTINEL_TO_PLACEHOLDER) else ""
    return before + placeholder + after


def expand_placeholders(tracked: TrackedText) -> None:
    """Turn placeholder characters into ``[URL]``, ``[EMAIL]``, ``[PHONE]``, ``[CARD]``."""
    tracked.sub(SENTINEL_RE, _expand)
