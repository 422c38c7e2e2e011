"""Typed errors. Each subclasses the matching built-in and says what was given,
what is allowed and what to do. Codes (``E###``) are stable for API clients."""
from __future__ import annotations


class CxtextError(Exception):
    """Base class of every cxtext error."""

    code = "E000"

    def __init__(self, message: str):
        super().__init__(f"[{self.code}] {message}")
        self.message = message


class InvalidInputError(CxtextError, ValueError):
    """The text or record given cannot be analyzed (empty, not a string, too long)."""

    code = "E001"


class UnsupportedFormatError(CxtextError, ValueError):
    """A file format or option value that cxtext does not read or write."""

    code = "E002"


class ColumnNotFoundError(CxtextError, KeyError):
    """The text/id column named by the user is not in the input."""

    code = "E003"

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class ModelNotFoundError(CxtextError, FileNotFoundError):
    """A base encoder or head directory could not be found or read."""

    code = "E004"


class UnsafeModelError(CxtextError, ValueError):
    """A model that would need pickle or remote code; cxtext loads safetensors only."""

    code = "E005"


class LabelMismatchError(CxtextError, ValueError):
    """A model's labels (or what its heads read) do not match what this cxtext
    and its registry expect: a plugged-in model's label map, trained heads with
    foreign labels, or heads that read an input this version does not know."""

    code = "E006"


class CorruptInputError(CxtextError, ValueError):
    """An input file that cannot be decoded or parsed."""

    code = "E007"
