"""Per-language text normalization that keeps a map back to the original text.

Pick the normalizer by language (never apply one language's normalizer to
another's text: hazm folds Arabic ي/ك into Persian ی/ک, camel-tools folds ى
into ي)::

    >>> from cxtext.normalize import normalize
    >>> n = normalize("خیلی عالیییی بود، شماره‌ام ۰۹۱۲۳۴۵۶۷۸۹", "fa")
    >>> n.text
    'خیلی عالی بود، شماره‌ام [PHONE]'
    >>> n.masked["phone"]
    1
    >>> s, e = n.to_original(5, 9)
    >>> n.original[s:e]
    'عالیییی'

All languages fold digits to ASCII ``0-9`` and mask URLs, e-mails, phone
numbers and payment cards as ``[URL]``, ``[EMAIL]``, ``[PHONE]``, ``[CARD]``.
"""
from __future__ import annotations

from functools import cache

from cxtext.normalize.arabic import ArabicNormalizer
from cxtext.normalize.base import NormalizedText, Normalizer, check_lang
from cxtext.normalize.english import EnglishNormalizer
from cxtext.normalize.masking import PLACEHOLDERS
from cxtext.normalize.persian import PersianNormalizer

__all__ = [
    "ArabicNormalizer",
    "EnglishNormalizer",
    "NormalizedText",
    "Normalizer",
    "PLACEHOLDERS",
    "PersianNormalizer",
    "get_normalizer",
    "normalize",
]

LANGS = ("fa", "ar", "en", "und")


def get_normalizer(lang: str) -> Normalizer:
    """The shared normalizer for ``lang`` (built on first use, then cached).

    Building the Persian one loads hazm (a second or two); later calls are free.

    Args:
        lang: One of ``"fa"``, ``"ar"``, ``"en"``, ``"und"``.

    Raises:
        UnsupportedFormatError: If ``lang`` is not one of those.
    """
    return _build(check_lang(lang))


@cache
def _build(lang: str) -> Normalizer:
    if lang == "fa":
        return PersianNormalizer()
    if lang == "ar":
        return ArabicNormalizer()
    return EnglishNormalizer(lang)


def normalize(text: str, lang: str) -> NormalizedText:
    """Normalize ``text`` with the normalizer of ``lang`` and keep the offset map.

    Args:
        text: The text as the user wrote it.
        lang: One of ``"fa"``, ``"ar"``, ``"en"``, ``"und"``.

    Returns:
        The normalized text, its offsets back into ``text`` and the mask counts.

    Raises:
        UnsupportedFormatError: If ``lang`` is not supported.
        InvalidInputError: If ``text`` is not a ``str``.
    """
    return get_normalizer(lang).normalize_with_map(text)
