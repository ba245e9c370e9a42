"""Live settings from SSM Parameter Store, through Powertools Parameters.

Every parameter under the prefix is fetched in one GetParametersByPath walk
and cached for ``max_age`` seconds, so an operator's change takes effect
within that time without a redeploy, and a busy enforcer makes one SSM call
a minute rather than one per event. Missing parameters take their documented
defaults; invalid ones are reported (and their rule falls back to ``alert``)
by ``parse_settings``. If SSM itself cannot be read, the event fails and is
retried (and dead-lettered): acting on guessed settings is never an option.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from aws_lambda_powertools.utilities.parameters import SSMProvider

from iamwarden.domain.exceptions import IamWardenError, SettingsProblem
from iamwarden.domain.settings import SETTINGS_MAX_AGE_SECONDS, RefusedValue, Settings, parse_settings


class SettingsUnavailableError(IamWardenError):
    """SSM Parameter Store could not be read."""


class LiveSettings(NamedTuple):
    settings: Settings
    problems: tuple[SettingsProblem, ...]
    #: Every parameter under the prefix, relative to it (``rules/iam-user-created/mode``).
    values: dict[str, str]


def ssm_parameters(ssm_client: Any) -> SSMProvider:
    """Powertools' SSM provider over one of IAM Warden's clients (parameter providers are adapters: they call AWS)."""
    return SSMProvider(boto3_client=ssm_client)


class SsmSettingsSource:
    """Reads ``<prefix>/...`` parameters with a short cache."""

    def __init__(
        self,
        prefix: str,
        provider: Any,
        *,
        max_age: int = SETTINGS_MAX_AGE_SECONDS,
        refused: Sequence[RefusedValue] = (),
    ) -> None:
        self.prefix = "/" + prefix.strip("/")
        self.provider = provider
        self.max_age = max_age
        self.refused = tuple(refused)

    def current(self) -> LiveSettings:
        try:
            values = self.provider.get_multiple(self.prefix, recursive=True, max_age=self.max_age)
        except Exception as exc:  # Powertools wraps every SSM failure in GetParameterError
            raise SettingsUnavailableError(f"cannot read settings under {self.prefix} from SSM: {exc}") from exc
        settings, problems = parse_settings(dict(values), refused=self.refused)
        return LiveSettings(settings, tuple(problems), dict(values))
