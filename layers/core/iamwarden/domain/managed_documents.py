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

from iamwarden.domain.documents import other_readings


class PolicyVersion(NamedTuple):
    version_id: str
    #: The document as boto3 reads it: the last value of each key a text names twice.
    document: Mapping[str, Any]
    #: The document's other readings (``documents.other_readings``, each parsed) when its text names a key twice with
    #: different values, or a condition key in two cases: AWS documents no reading of such a text, so a rule judges
    #: every one (``read_version``). Empty for a text with one reading, and for a document read already decoded.
    readings: tuple[Mapping[str, Any], ...] = ()


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


def read_version(version_id: str, document: Any) -> PolicyVersion:
    """A version as IAM returned it (``GetPolicyVersion``'s ``Document``, or an authorization details file's): the
    URL-encoded text keeps every key it names, so its other readings are known (session 13 note: an attach was
    judged on the last-wins reading alone). A document already decoded (a dict) has lost them: it has one."""
    if not isinstance(document, str):
        return PolicyVersion(version_id, dict(document))
    text = unquote(document)  # as ``decoded`` reads it
    parsed: Mapping[str, Any] = json.loads(text)
    others = other_readings(text) if isinstance(parsed, dict) else ()
    return PolicyVersion(version_id, parsed, tuple(json.loads(reading) for reading in others))
