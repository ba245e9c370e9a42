"""Errors raised by the IAM Warden core.

Every error a caller can act on is an ``IamWardenError``; parsing never lets a
KeyError, TypeError or JSON decoder trace escape.
"""

from typing import NamedTuple


class IamWardenError(Exception):
    """Base class of every error raised by IAM Warden."""


class InvalidEventError(IamWardenError):
    """The input is not a well-formed CloudTrail API-call event (or carries a bad policy).

    The message says what was missing or wrong, in words an operator can act on.
    """


class SettingsError(IamWardenError):
    """One or more settings are invalid; each problem names the bad key."""

    def __init__(self, problems: list["SettingsProblem"]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


class SettingsProblem(NamedTuple):
    """One invalid setting: the key (as in the settings file / SSM) and what is wrong."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class AwsAccessError(IamWardenError):
    """IAM Warden could not reach an account (no credentials, or the member role cannot be assumed)."""


class RemediationError(IamWardenError):
    """A remediation could not be carried out; the audit record says what was and was not done."""


class UndoError(IamWardenError):
    """A remediation cannot be undone (a deleted user, a conflicting later change, an unknown id)."""


class AuditError(IamWardenError):
    """The audit table could not be read or written; nothing is changed without a before-state."""


class DeliveryError(IamWardenError):
    """An alert could not be delivered to a channel after its retries."""


class ReplayError(IamWardenError):
    """Dead-lettered events could not be read or handed back to the enforcer."""


class ConfigurationError(IamWardenError):
    """An environment variable or option IAM Warden reads at start-up is invalid: fix it and run again."""


class ExceptionRefused(IamWardenError):
    """A request, approval or revocation of a rule exception that cannot be done as asked.

    The message is one sentence that can be shown to the person who asked, as it is.
    """


class ExceptionConflict(ExceptionRefused):
    """The exception is not in a state that allows what was asked (approved already, revoked, expired)."""


class ExceptionNotAllowed(ExceptionRefused):
    """The caller may not do this to the exception: approve their own request, or one only an operator may."""


class ExceptionStoreError(IamWardenError):
    """The exceptions table could not be read or written."""
