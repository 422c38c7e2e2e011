"""The CX taxonomy (aspects and signal phrases), kept as data in
``models/taxonomy.json`` so a user can edit or replace it, and the matcher
that finds its terms in normalized text.

Terms are plain phrases written naturally; they are normalized with the
same per-language normalizer as the texts, so «می خواهم» in the file matches
«می‌خواهم» in a review. A term matches at a word start; common clitics and
suffixes are allowed around it (Persian ‌ها/های/ش/تون…, Arabic و/ف/ب/ل/ال… and
ه/ها/هم/كم/نا…, English plural/verb endings); words of a phrase may be
separated by spaces or half-spaces. A term written ``re:<pattern>`` is a
regular expression, for the signals that are patterns rather than phrases
("called 3 times", «سه بار», «أكثر من مرة»).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Iterable, Optional

import regex

from .errors import ModelNotFoundError

ASPECTS = ("product_quality", "price_value", "delivery", "packaging", "availability", "customer_support",
           "staff", "digital_experience", "billing_payment", "returns_refunds")
SIGNALS = ("effort_high", "effort_low", "loyalty_promoter", "loyalty_detractor", "churn",
           "journey_pre_purchase", "journey_purchase", "journey_post_purchase")
JOURNEY_STAGES = ("pre_purchase", "purchase", "post_purchase")

_PREFIX = {
    "fa": r"(?:ب|ن|می|نمی)?",
    "ar": r"(?:و|ف|ب|ل|ك)?(?:ال|لل)?",
    "en": r"",
}
_SUFFIX = {
    "fa": r"(?:\u200c?(?:ها|های|هایی|هاش|هاشون|ی|ای|یی|ش|شون|تون|مون|م|ت|ام|ات|اش|تان|شان|مان|رو|را|و))?",
    "ar": r"(?:ه|ها|هم|هن|كم|كن|نا|ي|ك|ات|ين|ون|ان|ة|ته|تها|تي|تك|تنا|تهم)?",
    "en": r"(?:s|es|ed|d|ing|er|ers)?",
}
_LETTER = r"[\p{L}\p{M}\u200c]"
RAW_PREFIX = "re:"
"""A term that starts with ``re:`` is a regular expression (``regex`` syntax),
matched on the normalized text (ASCII digits, Arabic alef variants folded to ا,
Persian ی/ک) with the same word-boundary and affix rules. Its letters are folded
the same way (``_fold_letters``), so «أكثر» in a pattern matches «اكثر» in a text."""


def _fold_letters(pattern: str, lang: str) -> str:
    """A raw pattern's letters as the normalizer of ``lang`` leaves them in a
    text (its letter folds and deletions only: regex syntax is ASCII and stays)."""
    from .normalize import get_normalizer

    return get_normalizer(lang).fold_letters(pattern)


def _without_article(term: str) -> str:
    """An Arabic term as the matcher wants it: without the article on its
    first word, which the matcher's prefix puts back as optional, so «الطاقم»
    also finds «طاقم عمل», «طاقمهم» and «وطاقم» (indefinite and construct
    forms carry no article). Short words keep it (ال + two letters: «الو»)."""
    first, _, rest = term.partition(" ")
    if first.startswith("ال") and len(first) >= 5:
        return (first[2:] + (" " + rest if rest else "")).strip()
    return term


@dataclass(frozen=True)
class Match:
    key: str  # aspect or signal name
    start: int  # offsets into the normalized text
    end: int
    term: str


class PhraseMatcher:
    """One compiled alternation per language over every (key, term)."""

    def __init__(self, entries: dict[str, dict[str, list[str]]], normalize_term):
        self._patterns: dict[str, regex.Pattern] = {}
        self._keys: dict[str, dict[str, str]] = {}
        langs = {lang for by_lang in entries.values() for lang in by_lang}
        for lang in langs:
            norm_terms: dict[str, str] = {}
            for key, by_lang in entries.items():
                for term in by_lang.get(lang, []):
                    if term.startswith(RAW_PREFIX):
                        # a regular expression, matched on normalized text with its letters folded alike
                        term = RAW_PREFIX + _fold_letters(term[len(RAW_PREFIX):], lang)
                        regex.compile(term[len(RAW_PREFIX):])  # fail early on a bad pattern
                        norm_terms.setdefault(term, key)
                        continue
                    t = normalize_term(term, lang).strip()
                    if lang == "ar":
                        t = _without_article(t)
                    if len(t) < 2:
                        continue
                    norm_terms.setdefault(t.lower() if lang == "en" else t, key)
            if not norm_terms:
                continue
            alts = []
            group_key = {}
            for i, t in enumerate(sorted(norm_terms, key=len, reverse=True)):
                name = f"t{i}"
                if t.startswith(RAW_PREFIX):
                    body = t[len(RAW_PREFIX):]
                else:
                    words = [regex.escape(w) for w in regex.split(r"[\s\u200c]+", t) if w]
                    body = r"[\s\u200c]+".join(words)
                alts.append(f"(?P<{name}>{body})")
                group_key[name] = (norm_terms[t], t)
            pre = _PREFIX.get(lang, "")
            suf = _SUFFIX.get(lang, "")
            pat = rf"(?<!{_LETTER}){pre}(?:{'|'.join(alts)}){suf}(?!{_LETTER})"
            flags = regex.IGNORECASE if lang == "en" else 0
            self._patterns[lang] = regex.compile(pat, flags)
            self._keys[lang] = group_key

    def find(self, text: str, langs: Iterable[str]) -> list[Match]:
        out: list[Match] = []
        for lang in langs:
            pat = self._patterns.get(lang)
            if pat is None:
                continue
            keys = self._keys[lang]
            for m in pat.finditer(text, overlapped=False):
                name = m.lastgroup
                if name is None:
                    continue
                key, term = keys[name]
                out.append(Match(key, m.start(), m.end(), term))
        out.sort(key=lambda m: (m.start, m.end))
        return out


@dataclass(frozen=True)
class Taxonomy:
    """Aspects and signal phrases, with compiled matchers."""

    version: str
    aspects: dict
    signals: dict
    path: Optional[Path]

    @property
    def aspect_names(self) -> tuple[str, ...]:
        return tuple(self.aspects)

    def journey_stage_of(self, aspect: str) -> Optional[str]:
        return self.aspects.get(aspect, {}).get("journey_stage")

    # compiled once per taxonomy (a frozen dataclass keeps cached_property's value in __dict__)
    @cached_property
    def aspect_matcher(self) -> PhraseMatcher:
        return PhraseMatcher({name: spec.get("terms", {}) for name, spec in self.aspects.items()}, _normalize_term)

    @cached_property
    def signal_matcher(self) -> PhraseMatcher:
        return PhraseMatcher(dict(self.signals), _normalize_term)


def _normalize_term(term: str, lang: str) -> str:
    from .normalize import normalize

    return normalize(term, lang).text


def taxonomy_path(models_dir: str | Path, taxonomy: Optional[str | Path] = None) -> Path:
    """The taxonomy file to use: ``taxonomy`` when given, else the one beside
    the models, else the shipped default's."""
    from .settings import default_models_dir

    if taxonomy:
        return Path(taxonomy)
    beside = Path(models_dir) / "taxonomy.json"
    return beside if beside.exists() else default_models_dir() / "taxonomy.json"


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and check a taxonomy file (see ``models/taxonomy.json``)."""
    p = Path(path)
    if p.is_dir():
        p = p / "taxonomy.json"
    if not p.exists():
        raise ModelNotFoundError(f"no taxonomy at {p}; pass taxonomy=<path to a taxonomy.json>")
    return _load(str(p.resolve()), p.stat().st_mtime)


@lru_cache(maxsize=8)
def _load(path: str, _mtime: float) -> Taxonomy:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    aspects = data.get("aspects") or {}
    if not isinstance(aspects, dict) or not aspects:
        raise ValueError(f"{path}: 'aspects' must be a non-empty object of aspect -> spec")
    for name, spec in aspects.items():
        stage = spec.get("journey_stage")
        if stage is not None and stage not in JOURNEY_STAGES:
            raise ValueError(f"{path}: aspect {name!r} has journey_stage {stage!r}; allowed {JOURNEY_STAGES} or null")
    signals = data.get("signals") or {}
    unknown = sorted(set(signals) - set(SIGNALS))
    if unknown:
        raise ValueError(f"{path}: unknown signals {unknown}; allowed {SIGNALS}")
    return Taxonomy(str(data.get("version", "0")), aspects, signals, Path(path))
