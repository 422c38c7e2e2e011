"""Offset-tracking string edits: the machinery behind ``NormalizedText.offsets``.

A :class:`TrackedText` is a string plus, for every character, the index in the
original text of the character that produced it (and one extra entry, the
original length, so that span ends can be mapped too).

Two kinds of edit are supported:

* our own regex steps (:meth:`TrackedText.sub`, :meth:`TrackedText.keep_prefix`,
  :meth:`TrackedText.translate`) track offsets exactly: every character of a
  replacement maps to the start of the source span it replaced;
* black-box ``str -> str`` functions (hazm, camel-tools) run through
  :meth:`TrackedText.apply`, which aligns the old and new strings afterwards.
  The aligner is chosen by what the function may change (only spacing, only
  deletions, one-for-one substitutions); a cheap exact aligner is tried first
  and :mod:`difflib` is the fallback when its assumption does not hold.

Every aligner returns, for each character of the new string, the index of the
old character it comes from; inserted characters take the index of the next
old character (the last one when inserted at the very end). The result is
non-decreasing, so composed offsets stay non-decreasing.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Literal

Replacement = str | Callable[[re.Match], str | None]
AlignKind = Literal["spacing", "deletions", "same_length", "any"]

#: Characters a spacing fixer (hazm's ``correct_spacing``, ``seperate_mi``) may
#: insert, delete or swap for one another.
SPACING_CHARS = frozenset(" \u200c\n")
_DROP_SPACING = {ord(c): None for c in SPACING_CHARS}


class TrackedText:
    """A string being normalized, with a map back to the original.

    Attributes:
        text: The current text.
        offsets: ``len(text) + 1`` indices into the original text;
            ``offsets[i]`` is the original index of the character that produced
            ``text[i]`` and ``offsets[-1]`` is the original length.

    Example:
        >>> import re
        >>> t = TrackedText("soooo  good")
        >>> t.sub(re.compile(r" {2,}"), " ")
        1
        >>> t.text, t.offsets[5:8]
        ('soooo good', [5, 7, 8])
    """

    __slots__ = ("text", "offsets")

    def __init__(self, text: str):
        self.text = text
        self.offsets = list(range(len(text) + 1))

    def sub(self, pattern: re.Pattern, repl: Replacement) -> int:
        """Replace every match of ``pattern``; all replacement characters map to
        the start of the match.

        Args:
            pattern: A compiled regex that never matches the empty string.
            repl: A literal replacement (no group references), or a callable
                that returns the replacement, or ``None`` to leave that match
                unchanged (its offsets are kept exactly).

        Returns:
            The number of matches actually replaced.
        """
        literal = repl if isinstance(repl, str) else None
        spans = []
        for m in pattern.finditer(self.text):
            r = literal if literal is not None else repl(m)  # type: ignore[operator]
            if r is not None:
                spans.append((m.start(), m.end(), r))
        return self.replace_spans(spans)

    def replace_spans(self, spans: list[tuple[int, int, str]]) -> int:
        """Replace ``text[start:end]`` by ``repl`` for each ``(start, end, repl)``.

        Args:
            spans: Sorted, non-overlapping spans of the current text.

        Returns:
            The number of spans replaced.
        """
        if not spans:
            return 0
        text, offs = self.text, self.offsets
        out: list[str] = []
        new_offs: list[int] = []
        pos = 0
        for start, end, repl in spans:
            out.append(text[pos:start])
            new_offs.extend(offs[pos:start])
            out.append(repl)
            new_offs.extend([offs[start]] * len(repl))
            pos = end
        out.append(text[pos:])
        new_offs.extend(offs[pos:])
        self.text = "".join(out)
        self.offsets = new_offs
        return len(spans)

    def keep_prefix(self, pattern: re.Pattern, keep: Callable[[re.Match], int]) -> int:
        """Shorten every match of ``pattern`` to its first ``keep(match)`` characters.

        The kept characters keep their exact offsets (used to squeeze letter and
        emoji repeats: the kept copies point at the first copies in the source).

        Returns:
            The number of matches shortened.
        """
        spans = []
        for m in pattern.finditer(self.text):
            cut = m.start() + keep(m)
            if cut < m.end():
                spans.append((cut, m.end(), ""))
        return self.replace_spans(spans)

    def translate(self, table: dict[int, str]) -> None:
        """Apply a one-character-for-one-character ``str.translate`` table."""
        new = self.text.translate(table)
        if len(new) == len(self.text):
            self.text = new
        else:  # a table entry was not a single character
            self._realign(new, "any")

    def apply(self, func: Callable[[str], str], kind: AlignKind = "any") -> None:
        """Run a black-box ``str -> str`` function and re-align the offsets.

        Args:
            func: The function (e.g. ``hazm.Normalizer.correct_spacing``).
            kind: What ``func`` may change, which picks the aligner:
                ``"spacing"`` (only inserts/deletes/swaps spaces, ZWNJ and
                newlines), ``"deletions"`` (only deletes characters),
                ``"same_length"`` (only substitutes characters one for one) or
                ``"any"``. If the output breaks that promise, the general
                (slower) aligner is used instead, so the map is always valid.
        """
        new = func(self.text)
        if new != self.text:
            self._realign(new, kind)

    def _realign(self, new: str, kind: AlignKind) -> None:
        old = self.text
        index: list[int] | None = None
        if kind == "spacing":
            index = align_spacing(old, new)
        elif kind == "deletions":
            index = align_deletions(old, new)
        elif kind == "same_length" and len(old) == len(new):
            index = list(range(len(new)))
        if index is None:
            index = align_any(old, new)
        offs = self.offsets
        new_offs = [offs[i] for i in index]
        new_offs.append(offs[-1])
        self.text = new
        self.offsets = new_offs


def align_spacing(old: str, new: str) -> list[int] | None:
    """Align two strings that differ only in spaces, ZWNJ and newlines.

    Returns:
        For each character of ``new``, its index in ``old``; ``None`` when the
        strings differ in anything else.
    """
    if old.translate(_DROP_SPACING) != new.translate(_DROP_SPACING):
        return None
    n_old = len(old)
    last = max(n_old - 1, 0)
    index: list[int] = []
    i = 0
    for ch in new:
        if ch in SPACING_CHARS:
            if i < n_old and old[i] in SPACING_CHARS:
                index.append(i)
                i += 1
            else:  # inserted: belongs to the next old character
                index.append(min(i, last))
        else:
            while old[i] != ch:  # skip spacing the function removed
                i += 1
            index.append(i)
            i += 1
    return index


def align_deletions(old: str, new: str) -> list[int] | None:
    """Align ``new`` as a subsequence of ``old`` (greedy, left to right).

    Returns:
        For each character of ``new``, its index in ``old``; ``None`` when
        ``new`` is not a subsequence of ``old``.
    """
    index: list[int] = []
    i, n_old = 0, len(old)
    for ch in new:
        while i < n_old and old[i] != ch:
            i += 1
        if i == n_old:
            return None
        index.append(i)
        i += 1
    return index


def align_any(old: str, new: str) -> list[int]:
    """General alignment with :class:`difflib.SequenceMatcher`.

    Slower (quadratic in the worst case), so only the part between the common
    prefix and the common suffix is handed to difflib.
    """
    n_old, n_new = len(old), len(new)
    last = max(n_old - 1, 0)
    pre = 0
    limit = min(n_old, n_new)
    while pre < limit and old[pre] == new[pre]:
        pre += 1
    suf = 0
    while suf < limit - pre and old[n_old - 1 - suf] == new[n_new - 1 - suf]:
        suf += 1
    a, b = old[pre:n_old - suf], new[pre:n_new - suf]
    index = list(range(pre))
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            index.extend(range(pre + i1, pre + i2))
        elif tag == "replace":
            width = i2 - i1
            index.extend(pre + i1 + min(k, width - 1) for k in range(j2 - j1))
        elif tag == "insert":
            index.extend([min(pre + i1, last)] * (j2 - j1))
    index.extend(range(n_old - suf, n_old))
    return index
