"""The AWS clients a backtest reads history and settings with: the operator's own credentials.

The only module of the backtest that imports boto3: ``iamwarden backtest`` over local files
needs none of it (``pip install iamwarden`` brings PyYAML only).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import NO_REGION, describe


class SettingsReadError(Exception):
    """AWS cannot be used as asked: no region, or the deployed settings could not be read from SSM."""


def client(service: str, region: str | None) -> Any:
    """A client in ``--region``, or the environment's region."""
    region = region or os.environ.get("AWS_REGION") or None  # boto3 itself reads only AWS_DEFAULT_REGION
    session = boto3.Session(region_name=region) if region else boto3.Session()
    if not session.region_name:
        raise SettingsReadError(NO_REGION)
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
