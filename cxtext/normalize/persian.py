"""Persian normalization with hazm.

hazm's ``Normalizer`` is used for what it knows best (its letter table, its
diacritic and special-character sets, its spacing and half-space rules, its
verb list for «می»), with these choices:

* ``persian_numbers=False``: cxtext folds every digit to ASCII ``0-9`` for all
  languages (one form for masking and models); hazm would write ``۰-۹``.
* ``persian_style=False``: it turns ``2.5`` into ``2٫5`` and ``"`` into «»,
  which changes numbers and quotes for no gain in analysis.
* ``decrease_repeated_chars=False``: hazm keeps two copies unless its word list
  says otherwise («عالیییی» → «عالیی» for unknown words); cxtext squeezes any
  run of 3+ identical letters to one (see :meth:`Normalizer.squeeze`).
* hazm's ``InformalNormalizer`` is not used: it is slow (it loads a lexicon and
  tries word variants) and rewrites colloquial words that models trained on
  reviews have seen as they are.

hazm is run step by step so the offset map stays exact: its character table,
``unicodes_replacement`` and the diacritic/special-character deletions are
applied here with the tables and patterns read from hazm's own instance;
``correct_spacing`` runs as a black box whose output differs only in spaces and
ZWNJ, aligned by :func:`~cxtext.normalize.tracked.align_spacing`; hazm's
``seperate_mi`` rule is re-applied here word by word with hazm's verb list (see
:meth:`PersianNormalizer._separate_mi` for why).

After hazm, ZWNJ is kept only between a left-joining letter and a letter,
where it is visible; elsewhere it is removed. This undoes hazm #367 («بندر ها»
→ «بندر‌ها», where the ZWNJ after a non-joining letter is invisible noise): the
result is «بندرها», and «کتاب ها» → «کتاب‌ها» is kept.
"""
from __future__ import annotations

import re
from typing import Any

from cxtext.normalize.base import AR_LETTERS, WHITESPACE_RE, Normalizer
from cxtext.normalize.tracked import TrackedText

ZWNJ_RUN_RE = re.compile("\u200c{2,}")
#: Letters that join to the following letter, so a ZWNJ after them is visible.
LEFT_JOINING = "ئبپتثجچحخسشصضطظعغفقکگلمنهیۀيكى"
#: A ZWNJ that is invisible: not after a left-joining letter, or not before a letter.
STRAY_ZWNJ_RE = re.compile("(?<![" + LEFT_JOINING + "])\u200c|\u200c(?![" + AR_LETTERS + "])")
#: hazm's pattern for a word starting with «می»/«نمی» (``Normalizer.seperate_mi``).
MI_WORD_RE = re.compile(r"\bن?می[آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی]+")
#: hazm's tokenizer splits "/" off, so "1402/05/12" comes back as "1402 / 05 / 12".
SPACED_SLASH_RE = re.compile(r"(?<=\d) / (?=\d)")
_SINGLE_CHARS_RE = re.compile(r"[^()|]")


class PersianNormalizer(Normalizer):
    """Persian normalizer built on ``hazm.Normalizer`` (hazm is imported here,
    on first construction, since importing it takes a second or more).

    Args:
        mask: Mask URLs, e-mails, phones and cards (default ``True``).
        squeeze_elongation: Squeeze repeated letters and emojis (default ``True``).
        correct_spacing: hazm's spacing and half-space fixes, e.g. «می خواهم»
            → «می‌خواهم», «کتاب ها» → «کتاب‌ها», «سلام ، خوبی ؟» → «سلام، خوبی؟»
            (default ``True``).
        separate_mi: hazm's «میخواهم» → «می‌خواهم» for verbs in its list
            (default ``True``).

    Example:
        >>> PersianNormalizer()("كتاب ها رو مي خواهم")
        'کتاب‌ها رو می‌خواهم'
    """

    lang = "fa"
    keep_zwnj = True

    def __init__(
        self,
        *,
        mask: bool = True,
        squeeze_elongation: bool = True,
        correct_spacing: bool = True,
        separate_mi: bool = True,
    ):
        super().__init__(mask=mask, squeeze_elongation=squeeze_elongation)
        from hazm import Normalizer as HazmNormalizer
        from hazm.utils import maketrans

        self.correct_spacing = correct_spacing
        self.separate_mi = separate_mi
        hazm = HazmNormalizer(
            correct_spacing=correct_spacing,
            remove_diacritics=True,
            remove_specials_chars=True,
            decrease_repeated_chars=False,
            persian_style=False,
            persian_numbers=False,
            unicodes_replacement=True,
            seperate_mi=separate_mi,
        )
        self._hazm = hazm
        # hazm's tables and patterns, compiled once per (cached) instance.
        self._letters = maketrans(hazm.translation_src, hazm.translation_dst)
        deletions = [p for p, _ in hazm.diacritics_patterns + hazm.specials_chars_patterns]
        self._deletions_re = re.compile("|".join([*deletions, "\u0640"]))
        self._replacements = _single_char_replacements(hazm.replacements)
        self._replacements_re = re.compile("[" + re.escape("".join(self._replacements)) + "]")

    def __repr__(self) -> str:
        return (
            f"PersianNormalizer(mask={self.mask}, squeeze_elongation={self.squeeze_elongation}, "
            f"correct_spacing={self.correct_spacing}, separate_mi={self.separate_mi})"
        )

    def _language_steps(self, tracked: TrackedText) -> None:
        tracked.translate(self._letters)  # ي ك ى → ی ک ی, presentation forms, NBSP → space
        tracked.sub(self._replacements_re, self._replace_char)  # ﷼ → ریال, ﻻ → لا
        tracked.sub(self._deletions_re, "")  # harakat, tanwin, superscript marks, tatweel
        self.squeeze(tracked)
        tracked.sub(WHITESPACE_RE, " ")  # hazm only collapses plain spaces
        if self.correct_spacing:
            tracked.apply(self._hazm.correct_spacing, "spacing")
            tracked.sub(SPACED_SLASH_RE, "/")
        if self.separate_mi:
            self._separate_mi(tracked)
        tracked.keep_prefix(ZWNJ_RUN_RE, _one)
        tracked.sub(STRAY_ZWNJ_RE, "")

    def _separate_mi(self, tracked: TrackedText) -> None:
        """hazm's ``seperate_mi`` («میخواهم» → «می‌خواهم» for verbs in its list),
        word by word.

        hazm's own method rewrites with ``str.replace`` over the whole text, so
        a verb also changes inside longer words («میکند میکندد» → «می‌کند
        می‌کندد»); here only the matched word gets the ZWNJ, and the insertion
        is tracked exactly.
        """
        verbs = self._hazm.verbs
        inserts = []
        for m in MI_WORD_RE.finditer(tracked.text):
            word = m.group()
            cut = 3 if word.startswith("نمی") else 2
            if word[:cut] + "\u200c" + word[cut:] in verbs:
                inserts.append((m.start() + cut, m.start() + cut, "\u200c"))
        tracked.replace_spans(inserts)

    def _replace_char(self, m: re.Match) -> str:
        return self._replacements[m.group()]


def _one(m: re.Match) -> int:
    return 1


def _single_char_replacements(replacements: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn hazm's ``[("ﷰ|ﷹ", "صلی"), …]`` into ``{"ﷰ": "صلی", "ﷹ": "صلی", …}``.

    Raises:
        RuntimeError: If a pattern is not a plain alternation of single
            characters (a hazm version this module was not written for).
    """
    table: dict[str, Any] = {}
    for pattern, repl in replacements:
        chars = _SINGLE_CHARS_RE.findall(pattern)
        if any(re.fullmatch(pattern, c) is None for c in chars):
            raise RuntimeError(f"unexpected hazm replacement pattern {pattern!r}; check the hazm version")
        for c in chars:
            table[c] = repl
    return table
