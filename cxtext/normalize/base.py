"""The result type, :class:`NormalizedText`, and the steps every language shares.

A normalizer is a ``str -> str`` callable (like hazm's and camel-tools'), but
its real product is :meth:`Normalizer.normalize_with_map`, which also returns a
character map back to what the user wrote, so that evidence spans found in the
normalized text can be shown in the original.

The shared steps, in order (each subclass inserts its own language steps in
:meth:`Normalizer._language_steps`):

1. remove control characters, bidi marks and other invisible format
   characters (ZWJ is kept: it is part of emoji sequences; ZWNJ is kept for
   Persian only, see :attr:`Normalizer.keep_zwnj`);
2. fold Arabic-Indic, Persian and fullwidth digits to ASCII ``0-9`` (one form
   for masking, for models and for people reading exports);
3. mask e-mails, URLs, payment cards/IBANs and phone numbers
   (:mod:`cxtext.normalize.masking`);
4. language steps (hazm for Persian, camel-tools for Arabic); once letters
   are folded and diacritics/tatweel are gone, they call
   :meth:`Normalizer.squeeze`: a run of 3 or more identical Arabic-script
   letters becomes one letter («عالیییی» → «عالی»), a run of 3 or more
   identical Latin letters becomes two ("soooo" → "soo", since English has
   legitimate double letters), and 4 or more identical emojis become 3;
5. write the mask placeholders out, collapse whitespace runs to one space
   and strip.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cxtext.errors import InvalidInputError, UnsupportedFormatError
from cxtext.normalize import masking
from cxtext.normalize.tracked import TrackedText

# Control characters (whitespace controls are kept for the whitespace step),
# soft hyphen, Arabic letter mark, zero-width space, LRM/RLM, bidi embeddings,
# overrides and isolates, invisible operators, BOM, and noncharacters (which
# include the masking placeholders, so user text can never fake one).
_INVISIBLE = (
    "\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufdd0-\ufdef\ufffe\uffff"
)
INVISIBLE_RE = re.compile("[" + _INVISIBLE + "]+")
INVISIBLE_AND_ZWNJ_RE = re.compile("[" + _INVISIBLE + "\u200c]+")

DIGITS_TABLE = {
    **{0x0660 + i: str(i) for i in range(10)},  # Arabic-Indic ٠-٩
    **{0x06F0 + i: str(i) for i in range(10)},  # Extended Arabic-Indic (Persian) ۰-۹
    **{0xFF10 + i: str(i) for i in range(10)},  # fullwidth ０-９
}

#: Arabic-script letters (no diacritics, tatweel, digits or punctuation).
AR_LETTERS = "\u0620-\u063f\u0641-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06fc\u06ff"
ARABIC_ELONGATION_RE = re.compile("([" + AR_LETTERS + r"])\1{2,}")
LATIN_ELONGATION_RE = re.compile(r"([A-Za-z\u00c0-\u024f])\1{2,}")

_EMOJI_BASE = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328"
    "\u23cf\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe"
    "\u2600-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d"
    "\u3297\u3299\U0001f000-\U0001f1e5\U0001f200-\U0001faff"
)
_EMOJI_TAIL = "[\ufe0f\U0001f3fb-\U0001f3ff]*"
_EMOJI = "[" + _EMOJI_BASE + "]" + _EMOJI_TAIL + "(?:\u200d[" + _EMOJI_BASE + "]" + _EMOJI_TAIL + ")*"
#: Four or more identical emojis (with skin tones, VS16 and ZWJ sequences) in a row.
EMOJI_REPEAT_RE = re.compile("(" + _EMOJI + r")\1{3,}")
MAX_EMOJI_REPEAT = 3

WHITESPACE_RE = re.compile(r"\s{2,}|[^\S ]")
EDGE_SPACE_RE = re.compile(r"\A | \Z")

_LANGS = ("fa", "ar", "en", "und")
_TRIM_AT_SPAN_END = frozenset(" \t\n\r\x0b\x0c\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff\u00a0")


@dataclass(frozen=True)
class NormalizedText:
    """Normalized text with a character map back to the original.

    Attributes:
        original: What the user wrote.
        text: The normalized text.
        offsets: ``len(text) + 1`` non-decreasing indices into ``original``:
            ``offsets[i]`` is the index of the original character that produced
            ``text[i]``; ``offsets[len(text)] == len(original)``.
        masked: How many items were masked, with all four keys ``url``,
            ``email``, ``phone`` and ``card`` (zeros included).
        lang: The language whose normalizer produced ``text``.

    Example:
        >>> from cxtext.normalize import normalize
        >>> n = normalize("خیلی عالیییی بود", "fa")
        >>> n.text
        'خیلی عالی بود'
        >>> s, e = n.to_original(5, 9)
        >>> n.original[s:e]
        'عالیییی'
    """

    original: str
    text: str
    offsets: tuple[int, ...]
    masked: Mapping[str, int] = field(hash=False)
    lang: str

    def __post_init__(self) -> None:
        if len(self.offsets) != len(self.text) + 1 or self.offsets[-1] != len(self.original):
            raise InvalidInputError(
                f"offsets must have len(text) + 1 = {len(self.text) + 1} entries ending with "
                f"len(original) = {len(self.original)}; got {len(self.offsets)} entries ending with "
                f"{self.offsets[-1] if self.offsets else None}"
            )

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalized ``[start, end)`` span to the original text.

        The result is the smallest original ``[ostart, oend)`` that covers every
        source character of the span: ``ostart`` is where normalized character
        ``start`` came from, and ``oend`` lies past all the source characters
        that produced character ``end - 1`` (a squeezed «یییی», a whole URL
        behind ``[URL]``, diacritics and tatweel removed from the word).
        Whitespace and invisible marks dropped right after the span are not
        included.

        Args:
            start: Start of the span in ``text``.
            end: End of the span in ``text`` (exclusive).

        Returns:
            ``(ostart, oend)`` with ``original[ostart:oend]`` the covering span;
            an empty span maps to an empty span.

        Raises:
            InvalidInputError: If the span is not ``0 <= start <= end <= len(text)``.
        """
        n = len(self.text)
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= n):
            raise InvalidInputError(
                f"span ({start!r}, {end!r}) is not within the normalized text: need 0 <= start <= end <= {n}"
            )
        offsets = self.offsets
        ostart = offsets[start]
        if start == end:
            return ostart, ostart
        last = offsets[end - 1]
        j = end
        while j < n and offsets[j] == last:
            j += 1
        oend = offsets[j]
        original = self.original
        while oend > last + 1 and original[oend - 1] in _TRIM_AT_SPAN_END:
            oend -= 1
        return ostart, oend

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (offsets as a list)."""
        return {
            "original": self.original,
            "text": self.text,
            "offsets": list(self.offsets),
            "masked": dict(self.masked),
            "lang": self.lang,
        }


class Normalizer:
    """Base normalizer: the steps all languages share.

    Subclasses set :attr:`lang` and :attr:`keep_zwnj` and add their own steps
    by overriding :meth:`_language_steps`. Instances are ``str -> str``
    callables; :meth:`normalize_with_map` also returns the offset map.

    Args:
        mask: Mask URLs, e-mails, phone numbers and cards (default ``True``).
        squeeze_elongation: Squeeze repeated letters and emojis (default ``True``).
    """

    lang: ClassVar[str] = "und"
    #: Whether ZWNJ (U+200C, the Persian half-space) survives the invisible-character step.
    keep_zwnj: ClassVar[bool] = False

    def __init__(self, *, mask: bool = True, squeeze_elongation: bool = True):
        self.mask = mask
        self.squeeze_elongation = squeeze_elongation

    def __call__(self, text: str) -> str:
        """Normalize ``text``; see :meth:`normalize_with_map`."""
        return self.normalize_with_map(text).text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mask={self.mask}, squeeze_elongation={self.squeeze_elongation})"

    def normalize_with_map(self, text: str) -> NormalizedText:
        """Normalize ``text`` and keep the map back to it.

        Args:
            text: The text as the user wrote it.

        Returns:
            The normalized text, its offsets and the mask counts.

        Raises:
            InvalidInputError: If ``text`` is not a ``str``.
        """
        if not isinstance(text, str):
            raise InvalidInputError(f"text must be a str, got {type(text).__name__}")
        tracked = TrackedText(text)
        tracked.sub(INVISIBLE_RE if self.keep_zwnj else INVISIBLE_AND_ZWNJ_RE, "")
        tracked.translate(DIGITS_TABLE)
        if self.mask:
            masked = masking.mask(tracked)
        else:
            masked = {"url": 0, "email": 0, "phone": 0, "card": 0}
        self._language_steps(tracked)
        masking.expand_placeholders(tracked)
        tracked.sub(WHITESPACE_RE, " ")
        tracked.sub(EDGE_SPACE_RE, "")
        return NormalizedText(text, tracked.text, tuple(tracked.offsets), masked, self.lang)

    def fold_letters(self, text: str) -> str:
        """Only the character folds and deletions of :meth:`normalize_with_map`
        that touch letters (no masking, spacing or squeezing), for text that
        must meet normalized text but is no text itself: a taxonomy's regular
        expressions. The base class folds nothing."""
        return text

    def _language_steps(self, tracked: TrackedText) -> None:
        """Language-specific steps; the base class only squeezes elongation."""
        self.squeeze(tracked)

    def squeeze(self, tracked: TrackedText) -> None:
        """Squeeze letter elongation and emoji repeats (no-op when disabled).

        Arabic-script letters repeated 3+ times keep one copy; Latin letters
        keep two; 4+ identical emojis keep three. The script of the letter
        decides, not the language of the text, so "soooo" in a Persian review
        becomes "soo".
        """
        if not self.squeeze_elongation:
            return
        tracked.keep_prefix(ARABIC_ELONGATION_RE, _one_copy)
        tracked.keep_prefix(LATIN_ELONGATION_RE, _two_copies)
        tracked.keep_prefix(EMOJI_REPEAT_RE, _three_emojis)


def _one_copy(m: re.Match) -> int:
    return 1


def _two_copies(m: re.Match) -> int:
    return 2


def _three_emojis(m: re.Match) -> int:
    return len(m.group(1)) * MAX_EMOJI_REPEAT


def check_lang(lang: Any) -> str:
    """Return ``lang`` if it is one cxtext normalizes, else raise.

    Raises:
        UnsupportedFormatError: If ``lang`` is not one of ``fa``, ``ar``, ``en``, ``und``.
    """
    if not isinstance(lang, str) or lang not in _LANGS:
        raise UnsupportedFormatError(
            f"unsupported language {lang!r} for normalization; use one of {', '.join(_LANGS)} "
            "(detect the language first; never normalize one language with another's normalizer)"
        )
    return lang
