"""``s3-acl-cross-account``: bucket and object ACLs grant nothing to canonical users of untrusted accounts.

The sibling of ``s3-acl-public`` (``s3_acl``): the same PutBucketAcl and PutObjectAcl records, but the
grants it looks at name one account's canonical user (``Grantee`` of type ``CanonicalUser`` with an ``ID``,
or a grant header ``id="…"``) or an e-mail address (which S3 resolves to an account's canonical user).

A canonical id cannot be tied to an account offline: no AWS API maps one to the other for someone else's
account. So a grantee is trusted when it is the ACL's own owner (the ``Owner`` the record carries, and the
owner of the live ACL when remediating) or listed in the rule's ``trusted_canonical_ids`` setting (the
canonical ids of the organisation's accounts, from ``aws s3api list-buckets --query Owner.ID`` in each).
With that list set, any other canonical id is untrusted and its grants are removed. Without it, and for an
e-mail grantee always, the finding says what it could not know (``needs_context``): it is alerted, never
remediated.
"""

import re
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from iamwarden.domain.arns import bucket_arn
from iamwarden.domain.catalog import OptionSpec, RuleSpec, Severity
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.s3_acl import RemovePublicAclGrants

S3_ACL_CROSS_ACCOUNT = RuleSpec(
    id="s3-acl-cross-account",
    title="Bucket or object ACL granting to another account's canonical user",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutBucketAcl", "PutObjectAcl"}),
    risk=(
        "An ACL grant to another account's canonical user hands that account the bucket or object, outside "
        "every policy this organisation reviews."
    ),
    alert_risk=(
        "An ACL grant to another account's canonical user lets that account read or change this data, and ACL "
        "grants do not show up where we review bucket policies."
    ),
    options=MappingProxyType(
        {
            "trusted_canonical_ids": OptionSpec(
                "patterns",
                (),
                "the S3 canonical user ids of the organisation's accounts; with the list set, grants to any other "
                "canonical id are removed (without it they are alerted only)",
            )
        }
    ),
    resource_types=frozenset({"AWS::S3::Bucket", "AWS::S3::Object"}),
)

_GRANT_HEADERS = {
    "x-amz-grant-read": "READ",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write-acp": "WRITE_ACP",
    "x-amz-grant-full-control": "FULL_CONTROL",
}
_ID_GRANTEE = re.compile(r'\bid\s*=\s*"?([0-9a-fA-F]{64})"?', re.IGNORECASE)
_EMAIL_GRANTEE = re.compile(r'emailAddress\s*=\s*"?([^",\s]+)"?', re.IGNORECASE)


class Grantee(NamedTuple):
    """One grant of the request to an account's user: ``kind`` is ``id`` (a canonical user) or ``email``."""

    kind: str
    who: str
    permission: str


def _grantees(request: Mapping[str, Any]) -> Iterator[Grantee]:
    for header, permission in _GRANT_HEADERS.items():
        value = request.get(header)
        for text in value if isinstance(value, list) else [value] if value is not None else []:
            if not isinstance(text, str):
                raise InvalidEventError(f"detail.requestParameters.{header} must be a string or strings")
            yield from (Grantee("id", found.lower(), permission) for found in _ID_GRANTEE.findall(text))
            yield from (Grantee("email", found, permission) for found in _EMAIL_GRANTEE.findall(text))
    for grant in _explicit_grants(request):
        grantee = grant["Grantee"]
        permission = str(grant.get("Permission", "FULL_CONTROL"))
        if isinstance(grantee.get("ID"), str):
            yield Grantee("id", grantee["ID"].lower(), permission)
        elif isinstance(grantee.get("EmailAddress"), str):
            yield Grantee("email", grantee["EmailAddress"], permission)


def _explicit_grants(request: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    policy = request.get("AccessControlPolicy")
    if policy is None:
        return []
    field = "detail.requestParameters.AccessControlPolicy"
    if not isinstance(policy, Mapping):
        raise InvalidEventError(f"{field} must be an object, got {json_type_name(policy)}")
    acl = policy.get("AccessControlList") or {}
    if not isinstance(acl, Mapping):
        raise InvalidEventError(f"{field}.AccessControlList must be an object, got {json_type_name(acl)}")
    grants = acl.get("Grant") or []
    listed = grants if isinstance(grants, list) else [grants]
    if not all(isinstance(g, Mapping) and isinstance(g.get("Grantee"), Mapping) for g in listed):
        raise InvalidEventError(f"{field}.AccessControlList.Grant must hold objects with a Grantee")
    return listed


def _event_owner(request: Mapping[str, Any]) -> str | None:
    policy = request.get("AccessControlPolicy")
    owner = policy.get("Owner") if isinstance(policy, Mapping) else None
    identifier = owner.get("ID") if isinstance(owner, Mapping) else None
    return identifier.lower() if isinstance(identifier, str) else None


class S3AclCrossAccountRule:
    """PutBucketAcl / PutObjectAcl granting to a canonical user or e-mail address outside the trusted ids."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (S3_ACL_CROSS_ACCOUNT,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        bucket = context.request_text("bucketName")
        parameters: dict[str, Any] = {"bucket": bucket}
        if change.event_name == "PutObjectAcl":
            key = context.request_text("key")
            parameters["key"] = key
            version = change.request_parameters.get("versionId")
            if isinstance(version, str) and version:
                parameters["version_id"] = version
            arn, what = f"{bucket_arn(context.partition, bucket)}/{key}", f"object {key} in bucket {bucket}"
        else:
            arn, what = bucket_arn(context.partition, bucket), f"bucket {bucket}"
        evaluation = Evaluation(resource_arn=arn)
        owner = _event_owner(change.request_parameters)
        listed = {
            identifier.lower() for identifier in context.rule(S3_ACL_CROSS_ACCOUNT.id).patterns("trusted_canonical_ids")
        }
        outside = sorted({g for g in _grantees(change.request_parameters) if g.who not in listed and g.who != owner})
        if not outside:
            evaluation.compliant.append(f"the ACL of {what} grants only to its owner and trusted canonical users")
            return evaluation
        unknown: list[str] = []
        if not listed:
            unknown.append(
                "which accounts the canonical user ids belong to: no AWS API tells, and "
                f"rules/{S3_ACL_CROSS_ACCOUNT.id}/trusted_canonical_ids (the organisation's own ids) is not set"
            )
        if any(g.kind == "email" for g in outside):
            unknown.append("which account each e-mail grantee resolves to (S3 resolves it when it stores the ACL)")
        ids = sorted({g.who for g in outside if g.kind == "id"})
        said = "; ".join(f"{g.kind} {g.who} may {g.permission}" for g in outside)
        evaluation.findings.append(
            context.finding(
                S3_ACL_CROSS_ACCOUNT,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=f"{change.actor.display} set an ACL on {what} that grants to users outside the trusted "
                f"canonical ids: {said}.",
                plan=[
                    RemediationStep(
                        RemoveCanonicalUserGrants.action,
                        arn,
                        {**parameters, "canonical_ids": ids},
                        f"remove the grants to canonical users {', '.join(ids) or '(none known)'} from the ACL of "
                        f"{what}, keep the rest",
                    )
                ],
                offending=[{"grantee": g.who, "type": g.kind, "permission": g.permission} for g in outside],
                needs_context=unknown,
            )
        )
        return evaluation


class RemoveCanonicalUserGrants(RemovePublicAclGrants):
    """Remove the grants to the planned canonical users (never the live owner's) from an ACL, keep the rest."""

    action: ClassVar[StepAction] = StepAction("remove_canonical_user_acl_grants", RemovePublicAclGrants.permissions)

    restored_noun: ClassVar[str] = "grant(s) to canonical users"
    lost_reason: ClassVar[str] = ": the grants cannot be put back"

    def removed(self, step: RemediationStep, before: Mapping[str, Any]) -> list[Any]:
        """The grants to the planned canonical users, never the live owner's."""
        wanted = {identifier.lower() for identifier in step.parameters["canonical_ids"]}
        owner_id = str(before["owner"].get("ID", "")).lower()
        return [
            grant
            for grant in before["grants"]
            if str((grant.get("Grantee") or {}).get("ID", "")).lower() in wanted - {owner_id}
        ]

    def removed_text(self, removed: Sequence[Mapping[str, Any]]) -> str:
        return f"{len(removed)} grant(s) to other accounts' canonical users"


GUARDRAILS = (S3AclCrossAccountRule(),)
ACTIONS = (RemoveCanonicalUserGrants(),)
