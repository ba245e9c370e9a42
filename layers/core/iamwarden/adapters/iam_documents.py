"""The live reader of customer-managed policy documents that CloudTrail does not carry.

Calls only ``iam:GetPolicy``, ``iam:GetPolicyVersion`` and ``iam:ListPolicyVersions`` (the versions a new
default replaced one of; granted with the remediation of policy versions) in the event's account, through the shared
client factory. A policy (or version) that is gone is ``None``; any other AWS error is raised
classified, ``TransientAwsError`` (the event fails and Lambda retries it) or ``PermanentAwsError``
(the rule cannot judge the change: the enforcer records and alerts that, and changes nothing).

An AWS-managed policy's versions are kept for the life of the container (``arn:aws:iam::aws:policy/...``: the
same document in every account, never re-created); its default-version pointer is read each time (AWS moves it).
"""

from __future__ import annotations

from typing import Any, Protocol

from iamwarden.adapters.errors import classify, is_aws_error, is_gone
from iamwarden.domain.managed_documents import PolicyVersion, PolicyVersions, read_version


class ClientSource(Protocol):
    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any: ...


#: The IAM actions the live reader calls (granted to the enforcer by template.yaml's enforcer-runtime).
READ_PERMISSIONS = ("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions")


class LiveManagedPolicyDocuments:
    """Reads policy versions from the event's account through the shared client factory."""

    def __init__(self, clients: ClientSource, region: str = "us-east-1") -> None:
        self._clients = clients
        self._region = region
        #: (policy ARN, version id) -> document: a version never changes
        self._versions: dict[tuple[str, str], PolicyVersion] = {}

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
        key = (policy_arn, version_id)
        if _aws_managed(policy_arn) and key in self._versions:
            return self._versions[key]
        iam = self._clients.client("iam", account, self._region)
        _keep_text(iam)
        try:
            read = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version_id)["PolicyVersion"]
            document = read.get(_TEXT, read["Document"])
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            if is_gone(exc):
                return None
            raise classify(exc, "GetPolicyVersion", resource=policy_arn) from exc
        found = read_version(version_id, document)
        if _aws_managed(policy_arn):
            self._versions[key] = found
        return found

    def policy_versions(self, account: str, policy_arn: str) -> PolicyVersions | None:
        """Every version of the policy and its default (``ListsPolicyVersions``); None when it is gone."""
        iam = self._clients.client("iam", account, self._region)
        try:
            listed = iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]  # IAM keeps at most five
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            if is_gone(exc):
                return None
            raise classify(exc, "ListPolicyVersions", resource=policy_arn) from exc
        default = next((str(v["VersionId"]) for v in listed if v.get("IsDefaultVersion")), "")
        versions: list[PolicyVersion] = []
        for entry in listed:
            key = (policy_arn, str(entry["VersionId"]))
            if key not in self._versions:
                version = self.version(account, policy_arn, key[1])
                if version is None:
                    continue  # deleted between the listing and the read
                self._versions[key] = version
            versions.append(self._versions[key])
        return PolicyVersions(default, tuple(versions))


#: Where ``_keep_text`` leaves the text of a ``GetPolicyVersion`` answer's document (a key of no IAM shape).
_TEXT = "IamWardenDocumentText"


def _keep_text(iam: Any) -> None:
    """Keep the document text of ``GetPolicyVersion`` answers: botocore's ``json_decode_policies`` (registered on
    ``after-call.iam``) turns it into a dict, keeping only the last value of a key named twice, and a more specific
    ``after-call.iam.GetPolicyVersion`` handler runs before it. Registered once per client (``unique_id``)."""
    events = getattr(getattr(iam, "meta", None), "events", None)
    if events is not None:  # a botocore client (a test's stand-in has none: its documents are dicts)
        events.register("after-call.iam.GetPolicyVersion", _kept_text, unique_id="iamwarden-policy-text")


def _kept_text(parsed: Any, **_: Any) -> None:
    version = parsed.get("PolicyVersion") if isinstance(parsed, dict) else None
    if isinstance(version, dict) and isinstance(version.get("Document"), str):
        version[_TEXT] = version["Document"]


def _aws_managed(policy_arn: str) -> bool:
    """An AWS-managed policy's version is kept for the container: AWS never deletes and re-creates one under the same
    ARN, which a customer-managed policy can be (its ``v1`` then holds another document)."""
    return policy_arn.split(":", 5)[4:5] == ["aws"]
