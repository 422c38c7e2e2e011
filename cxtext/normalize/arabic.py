"""Arabic normalization with camel-tools' ``camel_tools.utils`` functions.

Only ``camel_tools.utils.*`` is used: other camel-tools modules (sentiment,
morphology, dialect ID) look for downloaded data when imported and fail
offline. The functions are imported when the normalizer is built, since
``camel_tools.utils.charsets`` scans the whole Unicode table on import.

camel's functions are ``str -> str`` black boxes; each one is run through
:meth:`~cxtext.normalize.tracked.TrackedText.apply` with the aligner that fits
what it does (``dediac_ar`` only deletes; the alef, alef maksura and teh
marbuta folds substitute one character for one), so the offset map stays exact.
"""
from __future__ import annotations

import re

from cxtext.normalize.base import Normalizer
from cxtext.normalize.tracked import TrackedText

TATWEEL_RE = re.compile("\u0640+")


class ArabicNormalizer(Normalizer):
    """Arabic normalizer built on ``camel_tools.utils``.

    Args:
        mask: Mask URLs, e-mails, phones and cards (default ``True``).
        squeeze_elongation: Squeeze repeated letters and emojis (default ``True``).
        remove_diacritics: Remove harakat, tanwin, shadda, sukun and dagger alef
            with ``dediac_ar`` (default ``True``).
        normalize_alef: أ إ آ ٱ → ا with ``normalize_alef_ar`` (default ``True``).
        normalize_alef_maksura: ى → ي with ``normalize_alef_maksura_ar``
            (default ``True``).
        normalize_teh_marbuta: ة → ه with ``normalize_teh_marbuta_ar``
            (default ``False``: it merges feminine endings with the pronoun
            suffix ه, which sentiment and aspect words need apart).

    Tatweel (ـ) is always removed.

    Example:
        >>> ArabicNormalizer()("الخدمـــة مُمْتازة جداً وأسعار على")
        'الخدمة ممتازة جدا واسعار علي'
    """

    lang = "ar"
    keep_zwnj = False

    def __init__(
        self,
        *,
        mask: bool = True,
        squeeze_elongation: bool = True,
        remove_diacritics: bool = True,
        normalize_alef: bool = True,
        normalize_alef_maksura: bool = True,
        normalize_teh_marbuta: bool = False,
    ):
        super().__init__(mask=mask, squeeze_elongation=squeeze_elongation)
        from camel_tools.utils.dediac import dediac_ar
        from camel_tools.utils.normalize import (
            normalize_alef_ar,
            normalize_alef_maksura_ar,
            normalize_teh_marbuta_ar,
        )

        self.remove_diacritics = remove_diacritics
        self.normalize_alef = normalize_alef
        self.normalize_alef_maksura = normalize_alef_maksura
        self.normalize_teh_marbuta = normalize_teh_marbuta
        self._dediac = dediac_ar if remove_diacritics else None
        self._folds = [
            fold
            for fold, on in (
                (normalize_alef_ar, normalize_alef),
                (normalize_alef_maksura_ar, normalize_alef_maksura),
                (normalize_teh_marbuta_ar, normalize_teh_marbuta),
            )
            if on
        ]

    def __repr__(self) -> str:
        return (
            f"ArabicNormalizer(mask={self.mask}, squeeze_elongation={self.squeeze_elongation}, "
            f"remove_diacritics={self.remove_diacritics}, normalize_alef={self.normalize_alef}, "
            f"normalize_alef_maksura={self.normalize_alef_maksura}, "
            f"normalize_teh_marbuta={self.normalize_teh_marbuta})"
        )

    def fold_letters(self, text: str) -> str:
        text = TATWEEL_RE.sub("", text)
        if self._dediac is not None:
            text = self._dediac(text)
        for fold in self._folds:
            text = fold(text)
        return text

    def _language_steps(self, tracked: TrackedText) -> None:
        tracked.sub(TATWEEL_RE, "")
        if self._dediac is not None:
            tracked.apply(self._dediac, "deletions")
        for fold in self._folds:
            tracked.apply(fold, "same_length")
        self.squeeze(tracked)
