"""take_identity_provider_snapshots: what the heartbeat records of each provider, and a provider gone mid-read."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.recorded import take_identity_provider_snapshots

OIDC = "arn:aws:iam::111122223333:oidc-provider/oidc.ci-runner.example.net"
GONE_OIDC = "arn:aws:iam::111122223333:oidc-provider/gone.example.net"
SAML = "arn:aws:iam::111122223333:saml-provider/okta"
GONE_SAML = "arn:aws:iam::111122223333:saml-provider/gone"
OTHER = "arn:aws:iam::999988887777:oidc-provider/other.example.net"


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Get")


class Iam:
    def __init__(self, failure: str = "NoSuchEntity") -> None:
        self.failure = failure

    def list_open_id_connect_providers(self) -> dict[str, Any]:
        return {"OpenIDConnectProviderList": [{"Arn": OIDC}, {"Arn": GONE_OIDC}, {"Arn": OTHER}]}

    def get_open_id_connect_provider(self, OpenIDConnectProviderArn: str) -> dict[str, Any]:
        if OpenIDConnectProviderArn != OIDC:
            raise _error(self.failure)
        return {"Url": "oidc.ci-runner.example.net", "ClientIDList": ["sts.amazonaws.com"], "ThumbprintList": ["a"]}

    def list_saml_providers(self) -> dict[str, Any]:
        return {"SAMLProviderList": [{"Arn": SAML}, {"Arn": GONE_SAML}]}

    def get_saml_provider(self, SAMLProviderArn: str) -> dict[str, Any]:
        if SAMLProviderArn != SAML:
            raise _error("NoSuchEntity")
        return {"SAMLMetadataDocument": "<md:EntityDescriptor entityID='x'/>"}


def test_each_provider_of_the_account_is_snapshotted_and_one_gone_meanwhile_is_skipped() -> None:
    snapshots = take_identity_provider_snapshots(Iam(), "111122223333", "2026-11-20T09:00:00Z")

    assert {s.resource_arn: dict(s.data) for s in snapshots} == {
        OIDC: {
            "type": "oidc",
            "url": "oidc.ci-runner.example.net",
            "client_ids": ["sts.amazonaws.com"],
            "thumbprints": ["a"],
        },
        SAML: {"type": "saml", "metadata": "<md:EntityDescriptor entityID='x'/>"},
    }


def test_a_read_that_is_refused_fails_the_refresh() -> None:
    """The heartbeat turns it into one problem of its alert (SnapshotRefresh), never a silent gap."""
    with pytest.raises(ClientError):
        take_identity_provider_snapshots(Iam(failure="AccessDenied"), "111122223333", "2026-11-20T09:00:00Z")
