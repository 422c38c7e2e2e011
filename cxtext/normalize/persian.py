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
applied here with the tables and patterns read from hazm; hazm's
``correct_spacing`` (its tokenizer, word and verb lists and spacing patterns)
runs as one ``str -> str`` step whose output differs only in spaces and ZWNJ,
aligned by :func:`~cxtext.normalize.tracked.align_spacing`; hazm's
``seperate_mi`` rule is re-applied here word by word with hazm's verb list (see
:meth:`PersianNormalizer._separate_mi` for why).

The output is the same with hazm 0.10 (Python 3.11) and hazm 0.11/0.12 (which
need Python 3.12), see :func:`_hazm_parts`:

* hazm 0.10 keeps its tables, patterns, tokenizer and word/verb lists on the
  ``Normalizer`` instance; hazm 0.11+ moved the tables and patterns to
  ``hazm.constants`` and the rest to private attributes.
* hazm 0.11 added three presentation forms to its letter table (ﺂ → ا,
  ﯼ ﯽ → ی); they are left out (:data:`NOT_IN_HAZM_010_TABLE`).
* hazm 0.11 grew the suffixes that ``token_spacing`` joins to the word before
  from 13 to 27 (adding م ت ش ان ین یم ید ند مان تان شان هایمان هایتان
  هایشان, so «پیک ش» became «پیک‌ش»); cxtext runs ``token_spacing`` itself
  with hazm 0.10's set (:data:`SPACING_SUFFIXES`).
* hazm 0.10's ``correct_spacing`` needs its verb list, which it loads only
  with ``seperate_mi=True`` (``PersianNormalizer(separate_mi=False)`` raised
  ``AttributeError``); the verb list is now loaded for either step.

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
#: Characters hazm 0.11 added to its letter table; not folded, as with hazm 0.10.
NOT_IN_HAZM_010_TABLE = frozenset("\ufe82\ufbfc\ufbfd")  # ﺂ ﯼ ﯽ
#: The suffixes hazm 0.10's ``token_spacing`` joins to a known word before them
#: with a ZWNJ («کتاب ها» → «کتاب‌ها»); hazm 0.11+ has more (see the module docstring).
SPACING_SUFFIXES = frozenset({"ی", "ای", "ها", "های", "هایی", "تر", "تری", "ترین", "گر", "گری", "ام", "ات", "اش"})
ZWNJ = "\u200c"


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
            # hazm loads its verb list only for seperate_mi; correct_spacing needs it too
            seperate_mi=separate_mi or correct_spacing,
        )
        self._hazm = hazm
        parts = _hazm_parts(hazm)
        # hazm's tables and patterns, compiled once per (cached) instance.
        self._letters = {
            ord(a): b
            for a, b in zip(parts["translation_src"], parts["translation_dst"])
            if a not in NOT_IN_HAZM_010_TABLE
        }
        deletions = [p for p, _ in parts["diacritics_patterns"] + parts["specials_chars_patterns"]]
        self._deletions_re = re.compile("|".join([*deletions, "\u0640"]))
        self._replacements = _single_char_replacements(parts["replacements"])
        self._replacements_re = re.compile("[" + re.escape("".join(self._replacements)) + "]")
        self._verbs = parts["verbs"]
        if correct_spacing:
            self._tokenizer = parts["tokenizer"]
            self._words = parts["words"]
            self._spacing_patterns = {
                key: [(re.compile(p), repl) for p, repl in parts[key]]
                for key in ("extra_space_patterns", "affix_spacing_patterns", "punctuation_spacing_patterns")
            }

    def __repr__(self) -> str:
        return (
            f"PersianNormalizer(mask={self.mask}, squeeze_elongation={self.squeeze_elongation}, "
            f"correct_spacing={self.correct_spacing}, separate_mi={self.separate_mi})"
        )

    def fold_letters(self, text: str) -> str:
        return self._deletions_re.sub("", text.translate(self._letters))

    def _language_steps(self, tracked: TrackedText) -> None:
        tracked.translate(self._letters)  # ي ك ى → ی ک ی, presentation forms, NBSP → space
        tracked.sub(self._replacements_re, self._replace_char)  # ﷼ → ریال, ﻻ → لا
        tracked.sub(self._deletions_re, "")  # harakat, tanwin, superscript marks, tatweel
        self.squeeze(tracked)
        tracked.sub(WHITESPACE_RE, " ")  # hazm only collapses plain spaces
        if self.correct_spacing:
            tracked.apply(self._correct_spacing, "spacing")
            tracked.sub(SPACED_SLASH_RE, "/")
        if self.separate_mi:
            self._separate_mi(tracked)
        tracked.keep_prefix(ZWNJ_RUN_RE, _one)
        tracked.sub(STRAY_ZWNJ_RE, "")

    def _correct_spacing(self, text: str) -> str:
        """hazm's ``Normalizer.correct_spacing`` as in hazm 0.10.0, with hazm's
        tokenizer, word and verb lists and spacing patterns (the same in hazm
        0.10 to 0.12) and hazm 0.10's suffix set (see :meth:`_token_spacing`).

        hazm 0.11+ also strips the text and leaves blank lines alone; neither
        changes the result here, where whitespace runs are already one space.
        """
        patterns = self._spacing_patterns
        text = _regex_replace(patterns["extra_space_patterns"], text)
        tokenize = self._tokenizer.tokenize
        text = "\n".join(" ".join(self._token_spacing(tokenize(line))) for line in text.split("\n"))
        text = _regex_replace(patterns["affix_spacing_patterns"], text)
        return _regex_replace(patterns["punctuation_spacing_patterns"], text)

    def _token_spacing(self, tokens: list[str]) -> list[str]:
        """hazm's ``Normalizer.token_spacing``: join a token to the one before
        with a ZWNJ when the pair is a verb or a word in hazm's lists («زمین
        لرزه» → «زمین‌لرزه»), or when it is a suffix in :data:`SPACING_SUFFIXES`
        after a known word («کتاب ها» → «کتاب‌ها»)."""
        verbs, words = self._verbs, self._words
        result: list[str] = []
        for t, token in enumerate(tokens):
            joined = False
            if result:
                pair = result[-1] + ZWNJ + token
                if pair in verbs or (pair in words and words[pair][0] > 0):
                    # not when the token starts a two-part verb with the next one
                    joined = not (t < len(tokens) - 1 and token + "_" + tokens[t + 1] in verbs)
                elif token in SPACING_SUFFIXES and result[-1] in words:
                    joined = True
            if joined:
                result[-1] = pair
            else:
                result.append(token)
        return result

    def _separate_mi(self, tracked: TrackedText) -> None:
        """hazm's ``seperate_mi`` («میخواهم» → «می‌خواهم» for verbs in its list),
        word by word.

        hazm's own method rewrites with ``str.replace`` over the whole text, so
        a verb also changes inside longer words («میکند میکندد» → «می‌کند
        می‌کندد»); here only the matched word gets the ZWNJ, and the insertion
        is tracked exactly.
        """
        verbs = self._verbs
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


def _hazm_parts(hazm: Any) -> dict[str, Any]:
    """The tables, patterns, tokenizer and word/verb lists cxtext reads from a
    ``hazm.Normalizer``, wherever the installed hazm keeps them.

    hazm 0.10 keeps all of them on the instance (``translation_src``,
    ``diacritics_patterns``, ``tokenizer``, ``verbs``, …); hazm 0.11+ moved the
    tables and patterns to ``hazm.constants`` (``TRANSLATION_SRC``, …) and the
    tokenizer and lists to ``_tokenizer``, ``_words`` and ``_verbs`` (the verbs
    as a set of the 0.10 dict's keys). A part the instance was not built for is
    ``None``.

    Raises:
        RuntimeError: If neither layout is found (a hazm version this module
            was not written for).
    """
    if hasattr(hazm, "translation_src"):  # hazm <= 0.10
        return {
            "translation_src": hazm.translation_src,
            "translation_dst": hazm.translation_dst,
            "diacritics_patterns": hazm.diacritics_patterns,
            "specials_chars_patterns": hazm.specials_chars_patterns,
            "replacements": hazm.replacements,
            "extra_space_patterns": getattr(hazm, "extra_space_patterns", None),
            "affix_spacing_patterns": getattr(hazm, "affix_spacing_patterns", None),
            "punctuation_spacing_patterns": getattr(hazm, "punctuation_spacing_patterns", None),
            "tokenizer": getattr(hazm, "tokenizer", None),
            "words": getattr(hazm, "words", None),
            "verbs": getattr(hazm, "verbs", None),
        }
    try:  # hazm >= 0.11
        from hazm import constants

        return {
            "translation_src": constants.TRANSLATION_SRC,
            "translation_dst": constants.TRANSLATION_DST,
            "diacritics_patterns": constants.DIACRITICS_PATTERNS,
            "specials_chars_patterns": constants.SPECIAL_CHARS_PATTERNS,
            "replacements": constants.UNICODE_REPLACEMENTS,
            "extra_space_patterns": constants.EXTRA_SPACE_PATTERNS,
            "affix_spacing_patterns": constants.AFFIX_SPACING_PATTERNS,
            "punctuation_spacing_patterns": constants.PUNCTUATION_SPACING_PATTERNS,
            "tokenizer": hazm._tokenizer,
            "words": hazm._words,
            "verbs": hazm._verbs,
        }
    except (ImportError, AttributeError) as exc:
        raise RuntimeError(f"unexpected hazm layout ({exc}); cxtext supports hazm 0.10 to 0.12") from exc


def _regex_replace(patterns: list[tuple[re.Pattern, str]], text: str) -> str:
    for pattern, repl in patterns:
        text = pattern.sub(repl, text)
    return text


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
