"""One registry for labels and models.

* ``TASK_LABELS``: the label set of every task; every model's output is
  mapped onto these and nothing else.
* ``ModelSpec``: a full sequence-classification model plugged in for one
  (language, task), with the map from its ``config.id2label`` to our labels;
  checked when the model loads.

The default for every (language, task) is the multi-task heads in the models
directory on the shared base encoder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

from .errors import LabelMismatchError, UnsupportedFormatError

SENTIMENT_LABELS = ("negative", "neutral", "positive", "mixed")
EMOTION_LABELS = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
ASPECT_SENTIMENTS = ("negative", "neutral", "positive")
CSAT_LABELS = ("1", "2", "3", "4", "5")  # stars
NPS_LABELS = ("promoter", "passive", "detractor")
EFFORT_LABELS = ("high", "low", "none")  # customer effort stated in the text; none: not stated
LOYALTY_LABELS = ("promoter", "detractor", "none")  # loyalty intent stated in the text
DOMAIN_LABELS = ("customer_feedback",)  # the domain head: a review or CX message, not a general post
MESSAGE_GATE_LABELS = ("cx_message",)  # the message head: a support chat or survey answer, not a review or post
GATE_LABELS = {"domain": DOMAIN_LABELS, "message": MESSAGE_GATE_LABELS}  # the gates of heads.BLENDED_HEADS
TASK_LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": SENTIMENT_LABELS,
    "emotion": EMOTION_LABELS,
    "csat": CSAT_LABELS,
    "nps": NPS_LABELS,
    "effort": EFFORT_LABELS,
    "loyalty": LOYALTY_LABELS,
}
# tasks a full sequence-classification model can be plugged in for
PLUGGABLE_TASKS = ("sentiment", "emotion")
LANGS = ("fa", "ar", "en", "und")


@dataclass(frozen=True)
class ModelSpec:
    """A sequence-classification model for one language (or ``"*"``) and task.

    ``source`` is a Hugging Face id or a local folder (safetensors only);
    ``label_map`` maps the model's ``id2label`` names to ours; labels of ours
    the model lacks get probability 0 (a binary model never says neutral).
    """

    lang: str
    task: str
    source: str
    label_map: Mapping[str, str]
    revision: Optional[str] = None
    max_length: int = 512

    def __post_init__(self) -> None:
        if self.task not in PLUGGABLE_TASKS:
            raise UnsupportedFormatError(f"task {self.task!r} cannot be plugged; allowed: {list(PLUGGABLE_TASKS)}")
        if self.lang not in LANGS + ("*",):
            raise UnsupportedFormatError(f"lang {self.lang!r} not in {LANGS + ('*',)}")
        bad = sorted(set(self.label_map.values()) - set(TASK_LABELS[self.task]))
        if bad:
            raise LabelMismatchError(
                f"label_map of {self.source} maps to {bad}, not labels of task {self.task!r} "
                f"(allowed: {list(TASK_LABELS[self.task])})"
            )

    def check_id2label(self, id2label: Mapping[int, str]) -> None:
        names = set(id2label.values())
        missing = sorted(set(self.label_map) - names)
        unmapped = sorted(names - set(self.label_map))
        if missing or unmapped:
            raise LabelMismatchError(
                f"{self.source}: config.id2label has {sorted(names)}; label_map keys missing from the model: "
                f"{missing}; model labels without a mapping: {unmapped}. Fix label_map to cover exactly the model's labels."
            )


@dataclass
class Registry:
    """(lang, task) → plugged model spec; anything absent uses the default heads."""

    specs: dict[tuple[str, str], ModelSpec] = field(default_factory=dict)

    def register(self, spec: ModelSpec) -> None:
        self.specs[(spec.lang, spec.task)] = spec

    def resolve(self, lang: str, task: str) -> Optional[ModelSpec]:
        return self.specs.get((lang, task)) or self.specs.get(("*", task))

    def __iter__(self):
        return iter(self.specs.values())
