"""Frozen result types. ``Analysis.to_dict()`` is the contract that the Python
API, the batch CLI and the REST service all return; the REST schemas are
generated from these classes (see ``api/schemas.py``)."""
from __future__ import annotations

import collections.abc
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional


def _round(x: float) -> float:
    return round(float(x), 4)


def _from_value(tp: Any, value: Any) -> Any:
    """Rebuild a value of the declared field type ``tp`` from its ``to_dict()`` form."""
    if value is None:
        return None
    if dataclasses.is_dataclass(tp):
        return tp.from_dict(value)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        return _from_value(inner[0], value) if len(inner) == 1 else value
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple(_from_value(args[0], v) for v in value)
    if origin in (dict, collections.abc.Mapping):
        return {k: _from_value(args[1], v) for k, v in value.items()}
    return value


def _from_dict(cls: type, d: Mapping[str, Any]) -> Any:
    """Inverse of ``to_dict()`` for a result dataclass: fields are read by their
    declared types; computed keys (``Prediction.score``) are ignored."""
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _from_value(hints[f.name], d[f.name]) for f in dataclasses.fields(cls) if f.name in d})


@dataclass(frozen=True)
class Evidence:
    """A span of the text the user wrote: ``original[start:end] == text``."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Evidence":
        return _from_dict(cls, d)


@dataclass(frozen=True)
class Prediction:
    """A label with the probability of every label of its task."""

    label: str
    probs: Mapping[str, float]

    @property
    def score(self) -> float:
        return float(self.probs.get(self.label, 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": _round(self.score),
                "probs": {k: _round(v) for k, v in self.probs.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Prediction":
        return _from_dict(cls, d)


@dataclass(frozen=True)
class Aspect:
    """A CX-taxonomy aspect found in the text, with its own sentiment."""

    name: str
    sentiment: str
    probs: Mapping[str, float]
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sentiment": self.sentiment,
                "probs": {k: _round(v) for k, v in self.probs.items()},
                "evidence": [e.to_dict() for e in self.evidence]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Aspect":
        return _from_dict(cls, d)


@dataclass(frozen=True)
class Sentence:
    """One sentence (or clause of a long one) with offsets into the original."""

    start: int
    end: int
    lang: str
    sentiment: str
    probs: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "lang": self.lang, "sentiment": self.sentiment,
                "probs": {k: _round(v) for k, v in self.probs.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Sentence":
        return _from_dict(cls, d)


@dataclass(frozen=True)
class CXSignals:
    """Customer-experience signals; how each is derived is documented in ``cx.py``.

    ``effort``: "high" / "low" / None; ``loyalty``: "promoter" / "detractor" / None;
    ``churn_risk``: 0..1; ``journey_stage``: "pre_purchase" / "purchase" /
    "post_purchase" / None; ``csat``: 1..5; ``nps_class``: promoter / passive / detractor.
    """

    effort: Optional[str]
    loyalty: Optional[str]
    churn_risk: float
    journey_stage: Optional[str]
    csat: int
    csat_score: float
    nps_class: str
    evidence: Mapping[str, tuple[Evidence, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"effort": self.effort, "loyalty": self.loyalty, "churn_risk": _round(self.churn_risk),
                "journey_stage": self.journey_stage, "csat": self.csat, "csat_score": _round(self.csat_score),
                "nps_class": self.nps_class,
                "evidence": {k: [e.to_dict() for e in v] for k, v in self.evidence.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CXSignals":
        return _from_dict(cls, d)


@dataclass(frozen=True)
class Analysis:
    """Everything cxtext says about one text. ``error`` is set (and the rest
    empty) when the text could not be analyzed; batch runs keep such rows."""

    id: Optional[str]
    text: str
    lang: str
    lang_confidence: float
    sentiment: Optional[Prediction]
    emotion: Optional[Prediction]
    aspects: tuple[Aspect, ...]
    cx: Optional[CXSignals]
    sentences: tuple[Sentence, ...]
    masked: Mapping[str, int]
    n_tokens: int
    model: str
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self, include_text: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id}
        if include_text:
            d["text"] = self.text
        d.update({
            "lang": self.lang,
            "lang_confidence": _round(self.lang_confidence),
            "sentiment": self.sentiment.to_dict() if self.sentiment else None,
            "emotion": self.emotion.to_dict() if self.emotion else None,
            "aspects": [a.to_dict() for a in self.aspects],
            "cx": self.cx.to_dict() if self.cx else None,
            "sentences": [s.to_dict() for s in self.sentences],
            "masked": dict(self.masked),
            "n_tokens": self.n_tokens,
            "model": self.model,
            "error": self.error,
        })
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], text: Optional[str] = None) -> "Analysis":
        """Rebuild an analysis from ``to_dict()`` output (e.g. a results file's
        ``cx_analysis`` column, written without the text: pass ``text``)."""
        if "text" not in d:
            d = {**d, "text": text if text is not None else ""}
        return _from_dict(cls, d)

    @classmethod
    def failed(cls, id: Optional[str], text: Any, error: str, model: str = "") -> "Analysis":
        return cls(id=id, text=text if isinstance(text, str) else ("" if text is None else str(text)),
                   lang="und", lang_confidence=0.0, sentiment=None, emotion=None, aspects=(), cx=None,
                   sentences=(), masked={}, n_tokens=0, model=model, error=error)
