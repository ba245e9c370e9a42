"""Slack webhook URLs from Secrets Manager (moto), read through Powertools' SecretsProvider and cached."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.slack import SecretWebhookUrls
from iamwarden.alerts.exceptions import WebhookSecretError

URL = "https://hooks.slack.com/services/T000/B000/s3cr3t"


@pytest.fixture
def aws() -> Iterator[tuple[ClientFactory, Any]]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        yield ClientFactory("111122223333", session=session), session.client("secretsmanager")


def test_a_secret_is_read_once_then_cached(aws: tuple[ClientFactory, Any]) -> None:
    factory, secrets = aws
    secrets.create_secret(Name="iamwarden/slack/security", SecretString=URL)
    calls: list[str] = []
    # The provider uses the factory's (cached) home client: count the calls it makes.
    factory.home_client("secretsmanager").meta.events.register(
        "after-call.*.*", lambda model, **_: calls.append(model.name)
    )
    urls = SecretWebhookUrls(factory, max_age=300)
    assert urls.url("iamwarden/slack/security") == URL
    assert urls.url("iamwarden/slack/security") == URL
    assert calls == ["GetSecretValue"]


def test_an_invalidated_secret_is_read_again_and_rotation_is_picked_up(aws: tuple[ClientFactory, Any]) -> None:
    factory, secrets = aws
    secrets.create_secret(Name="s", SecretString=json.dumps({"url": URL}))
    urls = SecretWebhookUrls(factory)
    assert urls.url("s") == URL
    secrets.put_secret_value(SecretId="s", SecretString=URL + "-rotated")
    assert urls.url("s") == URL  # cached
    urls.invalidate("s")
    assert urls.url("s") == URL + "-rotated"


def test_a_secret_arn_is_read_in_its_own_region(aws: tuple[ClientFactory, Any]) -> None:
    factory, _ = aws
    eu = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = eu.create_secret(Name="iamwarden/slack/eu", SecretString=URL)["ARN"]
    assert SecretWebhookUrls(factory).url(arn) == URL


def test_a_missing_secret_is_a_webhook_secret_error(aws: tuple[ClientFactory, Any]) -> None:
    factory, _ = aws
    with pytest.raises(
        WebhookSecretError, match=r"cannot read Slack webhook secret iamwarden/slack/none: .*ResourceNotFound"
    ):
        SecretWebhookUrls(factory).url("iamwarden/slack/none")
