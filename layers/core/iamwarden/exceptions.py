"""Errors raised by the IAM Warden core.

Every error a caller can act on is an ``IamWardenError``; parsing never lets a
KeyError, TypeError or JSON decoder trace escape.
"""

from __future__ import annotations

from typing import NamedTuple


class IamWardenError(Exception):
    """Base class of every error raised by IAM Warden."""


class InvalidEventError(IamWardenError):
    """The input is not a well-formed CloudTrail API-call event (or carries a bad policy).

    The message says what was missing or wrong, in words an operator can act on.
    """


class SettingsError(IamWardenError):
    """One or more settings are invalid; each problem names the bad key."""

    def __init__(self, problems: list[SettingsProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


class SettingsProblem(NamedTuple):
    """One invalid setting: the key (as in the settings file / SSM) and what is wrong."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"
