"""Customer-managed policy documents that CloudTrail does not carry, and how a rule asks for them.

``SetDefaultPolicyVersion`` names a version but not its document, and
``Attach*Policy`` names a policy ARN but not what the policy grants. A rule
judging those events asks a ``ManagedPolicyDocuments`` reader for the document.
The enforcer passes a reader backed by the account's IAM (``LiveManagedPolicyDocuments``,
calling only ``iam:GetPolicy`` and ``iam:GetPolicyVersion``); offline there is
none, and the rule says it cannot judge instead of guessing.

A policy version is immutable, so reading version ``vN`` later gives exactly the
document the event made default. An attachment is judged on the policy's
default version at judging time: what the principal holds now.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol
from urllib.parse import unquote


class PolicyVersion(NamedTuple):
    version_id: str
    document: Mapping[str, Any]


class ManagedPolicyDocuments(Protocol):
    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        """The policy's default version, or None if the policy does not exist (any more)."""

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        """One version of the policy, or None if it does not exist (any more)."""


class ClientSource(Protocol):
    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any: ...


#: The IAM actions the live reader calls (granted to the enforcer by template.yaml's enforcer-runtime).
READ_PERMISSIONS = ("iam:GetPolicy", "iam:GetPolicyVersion")


class LiveManagedPolicyDocuments:
    """Reads policy versions from the event's account through the shared client factory."""

    def __init__(self, clients: ClientSource, region: str = "us-east-1") -> None:
        self._clients = clients
        self._region = region

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        iam = self._clients.client("iam", account, self._region)
        try:
            version_id = str(iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"])
        except Exception as exc:
            if _no_such_entity(exc):
                return None
            raise
        return self.version(account, policy_arn, version_id)

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        iam = self._clients.client("iam", account, self._region)
        try:
            document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version_id)["PolicyVersion"]["Document"]
        except Exception as exc:
            if _no_such_entity(exc):
                return None
            raise
        return PolicyVersion(version_id, decoded(document))


def decoded(document: Any) -> Mapping[str, Any]:
    """IAM returns documents URL-encoded; boto3 usually decodes them to a dict already."""
    if isinstance(document, str):
        parsed: Mapping[str, Any] = json.loads(unquote(document))
        return parsed
    return dict(document)


def _no_such_entity(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") == "NoSuchEntity"
