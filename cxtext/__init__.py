"""cxtext: customer-experience analysis of Persian, Arabic and English feedback.

>>> import cxtext
>>> analyzer = cxtext.load()                 # offline default models
>>> r = analyzer("غذا سرد رسید و پیک بی‌ادب بود")
>>> r.sentiment.label, [a.name for a in r.aspects], r.cx.churn_risk

Importing this package is cheap: torch and transformers load on ``load()``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["load", "Analyzer", "Analysis", "Aspect", "Evidence", "Prediction", "CXSignals", "Sentence",
           "ModelSpec", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Analyzer, load
    from .registry import ModelSpec
    from .results import Analysis, Aspect, CXSignals, Evidence, Prediction, Sentence

_LAZY = {
    "load": "pipeline", "Analyzer": "pipeline", "ModelSpec": "registry",
    "Analysis": "results", "Aspect": "results", "Evidence": "results", "Prediction": "results",
    "CXSignals": "results", "Sentence": "results",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'cxtext' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
