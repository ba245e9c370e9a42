"""The AWS clients a backtest reads history and settings with: the operator's own credentials.

The only module of the backtest that reaches boto3: ``iamwarden backtest`` over local files
needs none of it (``pip install iamwarden`` brings PyYAML only).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.clients import operator_session
from iamwarden.adapters.errors import describe
from iamwarden.domain.exceptions import ConfigurationError


class SettingsReadError(Exception):
    """AWS cannot be used as asked: no region, or the deployed settings could not be read from SSM."""


def client(service: str, region: str | None) -> Any:
    """A client in ``--region``, or the environment's region (the operator's session, as the other commands)."""
    try:
        session = operator_session(region)
    except ConfigurationError as exc:  # no region
        raise SettingsReadError(str(exc)) from exc
    return session.client(service)  # type: ignore[call-overload]


def ssm_parameters(region: str | None, prefix: str) -> dict[str, str]:
    """Every parameter under ``prefix`` (recursive, decrypted), by name."""
    ssm = client("ssm", region)
    parameters: dict[str, str] = {}
    try:
        for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path=prefix, Recursive=True, WithDecryption=True
        ):
            parameters.update({item["Name"]: item["Value"] for item in page["Parameters"]})
    except (BotoCoreError, ClientError) as exc:
        raise SettingsReadError(f"cannot read the settings under {prefix} from SSM: {describe(exc)}") from exc
    return parameters
