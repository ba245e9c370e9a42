"""A resource-policy endpoint of any service gets its client from the step's account and region."""

from __future__ import annotations

from typing import Any

from iamwarden.app.executor import AccountClients


class RecordingFactory:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def client(self, service: str, account: str, region: str) -> Any:
        self.asked.append((service, account, region))
        return f"{service}@{account}/{region}"


def test_any_service_client_comes_from_the_shared_factory_in_the_steps_account_and_region() -> None:
    factory = RecordingFactory()
    clients = AccountClients(factory, "444455556666", "eu-west-1")  # type: ignore[arg-type]
    assert clients.client("sqs") == "sqs@444455556666/eu-west-1"
    assert clients.client("kms") == "kms@444455556666/eu-west-1"
    assert clients.iam == "iam@444455556666/eu-west-1"
    assert factory.asked == [
        ("sqs", "444455556666", "eu-west-1"),
        ("kms", "444455556666", "eu-west-1"),
        ("iam", "444455556666", "eu-west-1"),
    ]
