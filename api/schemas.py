"""Request and response schemas.

The analysis schema is *generated* from the engine's frozen result
dataclasses (``cxtext/results.py``), not written a second time:
:func:`model_from_dataclass` walks ``dataclasses.fields`` with
``typing.get_type_hints`` and builds one pydantic model per class, adding the
computed keys that ``to_dict()`` emits beside the fields (``COMPUTED``).
``tuple[X, ...]`` becomes a JSON list, ``Mapping[K, V]`` an object. The models
forbid unknown keys, so ``tests/test_api.py`` fails the day ``to_dict()`` and
the dataclasses disagree.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from cxtext import results

COMPUTED: dict[type, tuple[str, ...]] = {results.Prediction: ("score",)}
"""Properties that ``to_dict()`` emits as keys, per result class (their type
is read from the property's return annotation)."""

_MODELS: dict[type, type[BaseModel]] = {}


def _convert(tp: Any, owner: type) -> Any:
    """A dataclass field's type → the pydantic field type."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return model_from_dataclass(tp)
    if origin in (Union, types.UnionType):
        conv = tuple(_convert(a, owner) for a in args)
        return Union[conv]  # type: ignore[return-value]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return list[_convert(args[0], owner)]  # type: ignore[misc]
        return tuple[tuple(_convert(a, owner) for a in args)]  # type: ignore[misc]
    if origin in (list, collections.abc.Sequence):
        return list[_convert(args[0], owner)]  # type: ignore[misc]
    if origin in (dict, collections.abc.Mapping):
        return dict[_convert(args[0], owner), _convert(args[1], owner)]  # type: ignore[misc]
    return tp


def _first_doc_line(cls: type) -> str:
    doc = (cls.__doc__ or "").strip()
    if not doc or doc.startswith(f"{cls.__name__}("):  # dataclass's generated signature
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def model_from_dataclass(cls: type) -> type[BaseModel]:
    """The pydantic model of a result dataclass (cached, so nested classes
    share one model and one OpenAPI component)."""
    if cls in _MODELS:
        return _MODELS[cls]
    hints = typing.get_type_hints(cls)
    spec: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        # to_dict() always emits every key (None included): all are required
        spec[f.name] = (_convert(hints[f.name], cls), ...)
    for name in COMPUTED.get(cls, ()):
        prop = getattr(cls, name)
        ret = typing.get_type_hints(prop.fget).get("return", Any)
        spec[name] = (_convert(ret, cls), ...)
    model = create_model(  # type: ignore[call-overload]
        cls.__name__, __config__=ConfigDict(extra="forbid"), __doc__=_first_doc_line(cls) or None,
        __module__=__name__, **spec)
    _MODELS[cls] = model
    return model


Evidence = model_from_dataclass(results.Evidence)
Prediction = model_from_dataclass(results.Prediction)
Aspect = model_from_dataclass(results.Aspect)
Sentence = model_from_dataclass(results.Sentence)
CXSignals = model_from_dataclass(results.CXSignals)
Analysis = model_from_dataclass(results.Analysis)


# -- requests -------------------------------------------------------------
Lang = Literal["fa", "ar", "en"]


class AnalyzeRequest(BaseModel):
    """One text to analyze."""

    text: str = Field(..., description="The feedback text (1 to max_text_chars characters).",
                      examples=["غذا سرد رسید و پیک بی‌ادب بود"])
    id: Optional[Union[str, int]] = Field(None, description="Your id for the text; echoed back as a string.")
    lang: Optional[Lang] = Field(None, description="Force the language; null detects it.")


class BatchItem(BaseModel):
    """One item of a batch. Problems with one item (empty or over-long text,
    not a string, an unknown lang) set that item's ``error``; they do not
    fail the request."""

    text: Any = Field(None, description="The feedback text (a string).")
    id: Optional[Union[str, int]] = None
    lang: Optional[str] = Field(None, description="fa, ar, en, or null to detect.")


class BatchRequest(BaseModel):
    items: list[BatchItem] = Field(..., description="1 to max_batch_items items; answered in the same order.")


class BatchResponse(BaseModel):
    items: list[Analysis]  # type: ignore[valid-type]


# -- jobs -----------------------------------------------------------------
JobStatusName = Literal["queued", "running", "done", "failed"]


class JobError(BaseModel):
    code: str
    message: str


class JobCreated(BaseModel):
    id: str
    status: JobStatusName


class JobStatus(BaseModel):
    id: str
    status: JobStatusName
    filename: Optional[str] = Field(None, description="The uploaded file's name, for display only.")
    format: str
    rows_done: int
    rows_total: Optional[int] = Field(None, description="Rows in the upload once known.")
    errors: int = Field(..., description="Rows that could not be analyzed (empty, junk, too long); see cx_error.")
    error: Optional[JobError] = Field(None, description="Why the job failed.")
    text_column: Optional[str] = None
    id_column: Optional[str] = None
    created_at: float
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    links: dict[str, str] = Field(default_factory=dict)


class JobList(BaseModel):
    jobs: list[JobStatus]


class Preview(BaseModel):
    format: str
    columns: list[str]
    rows: list[dict[str, Any]]
    text_column: Optional[str] = Field(None, description="The column cxtext would pick as text.")
    id_column: Optional[str] = None
    date_column: Optional[str] = None
    rows_total: Optional[int] = None


class ModelsInfo(BaseModel):
    model: str
    cxtext_version: str
    base: dict[str, Any]
    heads: dict[str, Any]
    labels: dict[str, list[str]]
    taxonomy: dict[str, Any]
    versions: dict[str, str]
    limits: dict[str, Any]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[Union[int, str], dict[str, Any]] = {
    s: {"model": ErrorResponse} for s in (400, 401, 404, 409, 413, 415, 422, 503)
}
