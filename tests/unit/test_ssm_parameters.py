"""``SsmParameters``: the settings readers' one SSM call, read as Powertools' ``SSMProvider.get_multiple`` reads it.

The enforcer stopped importing Powertools Parameters at cold start (README, Benchmarks); these tests hold the
replacement to the provider's reading on the same emulated parameters (moto): names, values, caching, errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider
from botocore.exceptions import ClientError
from moto import mock_aws

from iamwarden.adapters.ssm_settings import SettingsUnavailableError, SsmParameters, SsmSettingsSource, ssm_parameters
from iamwarden.guardrails.registry import RULES

PARAMETERS = {
    "/iamwarden/rules/iam-user-created/mode": "remediate",
    "/iamwarden/rules/iam-user-created/remediation": "quarantine",
    "/iamwarden/accounts/444455556666/mode": "alert",
    "/iamwarden/break_glass_principals": "arn:aws:iam::111122223333:role/sec-admin",
    "/iamwarden-other/rules/x/mode": "remediate",  # shares the prefix's text, not its path
    "/elsewhere/mode": "remediate",
}


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("ssm")
        for name, value in PARAMETERS.items():
            client.put_parameter(Name=name, Value=value, Type="String")
        client.put_parameter(Name="/iamwarden/alerts/secret", Value="s3cr3t", Type="SecureString")
        yield client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("path", ["/iamwarden", "/iamwarden/", "/iamwarden/rules"])
@pytest.mark.parametrize("recursive", [True, False])
def test_reads_what_powertools_ssm_provider_reads(ssm: Any, path: str, recursive: bool) -> None:
    ours = SsmParameters(ssm).get_multiple(path, recursive=recursive, max_age=0)
    powertools = SSMProvider(boto3_client=ssm).get_multiple(path, recursive=recursive, max_age=0)

    assert ours == powertools
    if recursive and path != "/iamwarden/rules":
        assert ours["rules/iam-user-created/mode"] == "remediate"
        assert ours["break_glass_principals"] == "arn:aws:iam::111122223333:role/sec-admin"
        assert ours["alerts/secret"] != "s3cr3t"  # stored value, never decrypted (Powertools' default too)
        assert not any(name.startswith("/") or "other" in name for name in ours)


def test_a_read_is_cached_for_max_age_seconds_then_read_again(ssm: Any) -> None:
    clock = Clock()
    reader = SsmParameters(ssm, clock=clock)
    first = reader.get_multiple("/iamwarden", recursive=True, max_age=60)
    ssm.put_parameter(Name="/iamwarden/rules/iam-user-created/mode", Value="alert", Type="String", Overwrite=True)

    clock.now += 59
    assert reader.get_multiple("/iamwarden", recursive=True, max_age=60) == first  # still cached
    clock.now += 1
    assert reader.get_multiple("/iamwarden", recursive=True, max_age=60)["rules/iam-user-created/mode"] == "alert"


def test_clear_cache_forgets_every_path_as_powertools_providers_do(ssm: Any) -> None:
    """What an operator's tooling (and ``bench/enforcer.py``) calls after writing a setting, to read it at once."""
    reader = SsmParameters(ssm, clock=Clock())
    assert reader.get_multiple("/iamwarden", recursive=True, max_age=60)["rules/iam-user-created/mode"] == "remediate"
    ssm.put_parameter(Name="/iamwarden/rules/iam-user-created/mode", Value="alert", Type="String", Overwrite=True)

    reader.clear_cache()

    assert reader.get_multiple("/iamwarden", recursive=True, max_age=60)["rules/iam-user-created/mode"] == "alert"


def test_max_age_zero_reads_afresh_every_time(ssm: Any) -> None:
    reader = SsmParameters(ssm, clock=Clock())
    assert reader.get_multiple("/iamwarden", recursive=True, max_age=0)["break_glass_principals"].endswith("sec-admin")
    role = "arn:aws:iam::111122223333:role/x"
    ssm.put_parameter(Name="/iamwarden/break_glass_principals", Value=role, Type="String", Overwrite=True)

    assert reader.get_multiple("/iamwarden", recursive=True, max_age=0)["break_glass_principals"].endswith("role/x")


def test_each_path_is_cached_apart(ssm: Any) -> None:
    reader = SsmParameters(ssm, clock=Clock())
    assert "break_glass_principals" in reader.get_multiple("/iamwarden", recursive=True, max_age=60)
    assert reader.get_multiple("/iamwarden/rules", recursive=True, max_age=60) == {
        "iam-user-created/mode": "remediate",
        "iam-user-created/remediation": "quarantine",
    }


def test_an_sdk_failure_is_raised_and_nothing_is_cached(ssm: Any) -> None:
    calls = []

    class Refusing:
        def get_paginator(self, name: str) -> Any:
            calls.append(name)
            if len(calls) == 1:
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetParametersByPath")
            return ssm.get_paginator(name)

    reader = SsmParameters(Refusing(), clock=Clock())
    with pytest.raises(ClientError):
        reader.get_multiple("/iamwarden", recursive=True, max_age=60)
    assert reader.get_multiple("/iamwarden", recursive=True, max_age=60)["break_glass_principals"].endswith("sec-admin")


def test_the_settings_source_reads_through_it_and_says_when_ssm_cannot_be_read(ssm: Any) -> None:
    source = SsmSettingsSource("/iamwarden", ssm_parameters(ssm), max_age=0)
    live = source.current()
    assert "iam-user-created" in RULES  # the settings model knows the rules (as in the enforcer)
    assert live.values["rules/iam-user-created/mode"] == "remediate"
    assert live.settings.rules["iam-user-created"].mode.value == "remediate"
    assert live.problems == ()  # the alert settings (alerts/...) are the alert model's to read

    class Broken:
        client = ssm

        def get_paginator(self, name: str) -> Any:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetParametersByPath")

    with pytest.raises(SettingsUnavailableError, match=r"cannot read settings under /iamwarden from SSM: .*slow down"):
        SsmSettingsSource("/iamwarden", SsmParameters(Broken()), max_age=0).current()
