"""The live reader of customer-managed policy documents that CloudTrail does not carry.

Calls only ``iam:GetPolicy`` and ``iam:GetPolicyVersion`` in the event's account, through the shared
client factory. A policy (or version) that is gone is ``None``; any other AWS error is raised
classified, ``TransientAwsError`` (the event fails and Lambda retries it) or ``PermanentAwsError``
(the rule cannot judge the change: the enforcer records and alerts that, and changes nothing).
"""

from __future__ import annotations

from typing import Any, Protocol

from iamwarden.adapters.errors import classify, is_aws_error, is_gone
from iamwarden.domain.managed_documents import PolicyVersion, decoded


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
            if not is_aws_error(exc):
                raise
            if is_gone(exc):
                return None
            raise classify(exc, "GetPolicy", resource=policy_arn) from exc
        return self.version(account, policy_arn, version_id)

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        iam = self._clients.client("iam", account, self._region)
        try:
            document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version_id)["PolicyVersion"]["Document"]
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            if is_gone(exc):
                return None
            raise classify(exc, "GetPolicyVersion", resource=policy_arn) from exc
        return PolicyVersion(version_id, decoded(document))
