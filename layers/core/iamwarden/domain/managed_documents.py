"""Customer-managed policy documents that CloudTrail does not carry, and how a rule asks for them.

``SetDefaultPolicyVersion`` names a version but not its document, and
``Attach*Policy`` names a policy ARN but not what the policy grants. A rule
judging those events asks a ``ManagedPolicyDocuments`` reader for the document.
The enforcer passes a reader backed by the account's IAM
(``iamwarden.adapters.iam_documents.LiveManagedPolicyDocuments``); offline there is
none, and the rule says it cannot judge instead of guessing.

A policy version is immutable, so reading version ``vN`` later gives exactly the
document the event made default. An attachment is judged on the policy's
default version at judging time: what the principal holds now.
"""

import json
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol, runtime_checkable
from urllib.parse import unquote


class PolicyVersion(NamedTuple):
    version_id: str
    document: Mapping[str, Any]


class ManagedPolicyDocuments(Protocol):
    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        """The policy's default version, or None if the policy does not exist (any more)."""

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        """One version of the policy, or None if it does not exist (any more).

        A reader that cannot read it raises; the live reader raises ``PermanentAwsError`` when retrying
        will not help (the rule is then unjudged, recorded and alerted) and ``TransientAwsError`` otherwise.
        """


class PolicyVersions(NamedTuple):
    """Every version of a managed policy as read, and which one is the default."""

    default_id: str
    versions: tuple[PolicyVersion, ...]


@runtime_checkable
class ListsPolicyVersions(Protocol):
    """A reader that can also list a policy's versions: what a new default replaced is one of them.

    IAM does not record which version was the default before a change (nor does CloudTrail); the
    versions that are left, and a snapshot's default, are what the judgement of BEFORE rests on.
    """

    def policy_versions(self, account: str, policy_arn: str) -> PolicyVersions | None:
        """The policy's versions and default; None when the policy does not exist (any more)."""
        ...


def decoded(document: Any) -> Mapping[str, Any]:
    """IAM returns documents URL-encoded; boto3 usually decodes them to a dict already."""
    if isinstance(document, str):
        parsed: Mapping[str, Any] = json.loads(unquote(document))
        return parsed
    return dict(document)
