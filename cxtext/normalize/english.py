"""Normalization for English and for text whose language is undetermined.

Only the shared steps run (invisible characters and ZWNJ removed, digits
folded, masking, elongation, whitespace): no letter folding, no case folding,
so nothing Persian- or Arabic-specific is applied to text that may be neither.
"""
from __future__ import annotations

from cxtext.errors import UnsupportedFormatError
from cxtext.normalize.base import Normalizer


class EnglishNormalizer(Normalizer):
    """Normalizer for ``en`` and ``und`` (undetermined) text.

    Args:
        lang: ``"en"`` (default) or ``"und"``; recorded in the result.
        mask: Mask URLs, e-mails, phones and cards (default ``True``).
        squeeze_elongation: Squeeze repeated letters and emojis (default ``True``).

    Example:
        >>> EnglishNormalizer()("Sooooo   good!!! 😍😍😍😍😍")
        'Soo good!!! 😍😍😍'
    """

    keep_zwnj = False

    def __init__(self, lang: str = "en", *, mask: bool = True, squeeze_elongation: bool = True):
        if lang not in ("en", "und"):
            raise UnsupportedFormatError(f"EnglishNormalizer handles 'en' and 'und', not {lang!r}")
        super().__init__(mask=mask, squeeze_elongation=squeeze_elongation)
        self.lang = lang

    def __repr__(self) -> str:
        return (
            f"EnglishNormalizer(lang={self.lang!r}, mask={self.mask}, "
            f"squeeze_elongation={self.squeeze_elongation})"
        )
