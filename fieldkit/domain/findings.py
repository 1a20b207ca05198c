"""Structured results shared by every rule.

A finding names a code, a field, a severity and a message in Bahasa Indonesia and in English.

Rules never raise on bad input; they return a :class:`Checked` value whose ``findings`` say
what is wrong, so a user interface can show every problem at once and a script can branch
on the stable ``code``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Literal, TypeVar

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")


class Severity(StrEnum):
    """How serious a finding is: an error blocks, a warning informs the officer."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Message:
    """One sentence in both working languages."""

    id: str
    en: str

    def text(self, lang: Lang = "id") -> str:
        """Return the sentence in ``lang`` (Indonesian unless English is asked for)."""
        return self.en if lang == "en" else self.id


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by a rule.

    ``code`` is stable and dotted (``nik.length``) so programs can act on it; ``field`` names
    the input it is about (``nik``, ``mrz.line2``, ``birth_date``); ``message`` is for people.
    """

    code: str
    field: str
    severity: Severity
    message: Message

    @property
    def is_error(self) -> bool:
        """True when the finding makes the input invalid."""
        return self.severity is Severity.ERROR

    def text(self, lang: Lang = "id") -> str:
        """Return the message in ``lang``."""
        return self.message.text(lang)

    def as_dict(self, lang: Lang = "id") -> dict[str, str]:
        """Return a JSON-ready form, with the message in ``lang`` and both originals."""
        return {
            "code": self.code,
            "field": self.field,
            "severity": self.severity.value,
            "message": self.message.text(lang),
            "message_id": self.message.id,
            "message_en": self.message.en,
        }


def error(code: str, field: str, id: str, en: str) -> Finding:
    """Build an error finding."""
    return Finding(code, field, Severity.ERROR, Message(id, en))


def warning(code: str, field: str, id: str, en: str) -> Finding:
    """Build a warning finding."""
    return Finding(code, field, Severity.WARNING, Message(id, en))


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Checked(Generic[T]):
    """The outcome of a rule: the parsed ``value`` (None when it could not be parsed) and findings.

    ``ok`` means no errors; warnings may still be present and should be shown.
    """

    value: T | None
    findings: tuple[Finding, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return self.value is not None and not any(f.is_error for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings that make the input invalid."""
        return tuple(f for f in self.findings if f.is_error)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings an officer should see but that do not block."""
        return tuple(f for f in self.findings if not f.is_error)

    @classmethod
    def invalid(cls, *findings: Finding) -> Checked[T]:
        """Return an outcome with no value and the given findings."""
        return cls(None, tuple(findings))

    @classmethod
    def of(cls, value: T, findings: Iterable[Finding] = ()) -> Checked[T]:
        """Return ``value`` with ``findings``; when any is an error the value is dropped."""
        if not findings:
            return cls(value)
        found = tuple(findings)
        if any(f.is_error for f in found):
            return cls(None, found)
        return cls(value, found)
