"""Problems found in a manifest, and the error ``define_block`` raises."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from ..errors import CivitaiError

Stage = Literal["submit", "approve", "schema", "sdk-0.14"]


@dataclass(frozen=True)
class ManifestProblem:
    """One finding: where (a dot path such as ``iframe.sandbox``; ``""`` is the root),
    what (the text the platform, the schema or 0.14 uses) and which check found it.

    ``stage`` is ``submit`` for the upload gate, ``approve`` for the validator a moderator's
    approval runs, ``schema`` for the published JSON Schema (advisory), ``sdk-0.14`` for the
    strict 0.14 mode.
    """

    path: str
    message: str
    stage: Stage

    def __str__(self) -> str:
        return f"{self.path or '(manifest)'}: {self.message}"


class BlockManifestError(CivitaiError, ValueError):
    """The manifest would be refused. ``field`` is the dot path of the first problem
    (``None`` for the manifest itself, as 0.14 leaves it unset); ``problems`` lists all."""

    def __init__(
        self, message: str, field: str | None = None, problems: Iterable[ManifestProblem] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems: tuple[ManifestProblem, ...] = tuple(problems)

    @classmethod
    def from_problems(cls, problems: Iterable[ManifestProblem]) -> BlockManifestError:
        """Raise-ready error headed by the first of ``problems`` (which must not be empty)."""
        found = tuple(problems)
        first = found[0]
        return cls(first.message, first.path or None, found)


class BlockMessageError(ValidationError, CivitaiError):
    """A malformed host <-> block message: pydantic's ``ValidationError`` (its ``errors()``,
    ``title`` and text) that is also a :class:`~civitai_app_sdk.errors.CivitaiError`."""

    @classmethod
    def of(cls, error: ValidationError) -> BlockMessageError:
        """The same findings as ``error``, as this type (the message models use only
        pydantic's own error types, which ``from_exception_data`` takes back)."""
        return cls.from_exception_data(error.title, error.errors(include_url=False))  # type: ignore[arg-type]


class PlatformOwnedFieldWarning(UserWarning):
    """The manifest sets a field the platform overwrites (``iframe.src``, ``trustTier``)."""
