"""``s3-acl-public``: bucket and object ACLs never grant to everyone.

A PutBucketAcl or PutObjectAcl record carries the ACL in one of three forms:
a canned ACL (``x-amz-acl``), grant headers (``x-amz-grant-read`` …) or an
explicit ``AccessControlPolicy`` with its grants. Any grant to the AllUsers
group (anyone, even anonymous) or the AuthenticatedUsers group (anyone with
any AWS account) is public.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from iamwarden.domain.arns import bucket_arn
from iamwarden.domain.catalog import S3_ACL_PUBLIC, RuleSpec, Severity
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext

ALL_USERS = "AllUsers"
AUTHENTICATED_USERS = "AuthenticatedUsers"
PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": ALL_USERS,
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": AUTHENTICATED_USERS,
}
#: Canned ACLs that grant to a public group, and what they grant.
PUBLIC_CANNED_ACLS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "public-read": ((ALL_USERS, "READ"),),
    "public-read-write": ((ALL_USERS, "READ"), (ALL_USERS, "WRITE")),
    "authenticated-read": ((AUTHENTICATED_USERS, "READ"),),
}
_GRANT_HEADERS = {
    "x-amz-grant-read": "READ",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write-acp": "WRITE_ACP",
    "x-amz-grant-full-control": "FULL_CONTROL",
}
_URI_GRANTEE = re.compile(r'uri\s*=\s*"?([^",\s]+)"?', re.IGNORECASE)
_WHO = {ALL_USERS: "anyone on the internet", AUTHENTICATED_USERS: "anyone with an AWS account"}
_WHAT = {
    "READ": "read",
    "WRITE": "write",
    "READ_ACP": "read the permissions of",
    "WRITE_ACP": "change the permissions of",
    "FULL_CONTROL": "fully control",
}


def public_group(uri: object) -> str | None:
    """``AllUsers`` or ``AuthenticatedUsers`` for a public group's URI, else None."""
    return PUBLIC_GROUPS.get(str(uri).replace("https://", "http://", 1)) if isinstance(uri, str) else None


class S3AclRule:
    """PutBucketAcl / PutObjectAcl granting to AllUsers or AuthenticatedUsers."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (S3_ACL_PUBLIC,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        bucket = context.request_text("bucketName")
        parameters: dict[str, Any] = {"bucket": bucket}
        if change.event_name == "PutObjectAcl":
            key = context.request_text("key")
            version = change.request_parameters.get("versionId")
            parameters["key"] = key
            if isinstance(version, str) and version:
                parameters["version_id"] = version
            arn = f"{bucket_arn(context.partition, bucket)}/{key}"
            what = f"object {key} in bucket {bucket}"
        else:
            arn = bucket_arn(context.partition, bucket)
            what = f"bucket {bucket}"
        evaluation = Evaluation(resource_arn=arn)
        grants = sorted(set(_public_grants(change.request_parameters)))
        if not grants:
            evaluation.compliant.append(f"the ACL of {what} grants nothing to AllUsers or AuthenticatedUsers")
            return evaluation
        verbs: dict[str, list[str]] = {}
        for group, permission in grants:
            verbs.setdefault(group, []).append(_WHAT.get(permission, permission.lower()))
        abilities = "; ".join(f"{_WHO[group]} can {' and '.join(said)} it" for group, said in verbs.items())
        evaluation.findings.append(
            context.finding(
                S3_ACL_PUBLIC,
                severity=Severity.CRITICAL,
                resource_arn=arn,
                reason=f"{change.actor.display} set an ACL on {what} that makes it public: {abilities}.",
                plan=[
                    RemediationStep(
                        StepAction.REMOVE_PUBLIC_ACL_GRANTS,
                        arn,
                        parameters,
                        f"remove the AllUsers and AuthenticatedUsers grants from the ACL of {what}, keep the rest",
                    )
                ],
                offending=[{"grantee": group, "permission": permission} for group, permission in grants],
            )
        )
        return evaluation


def _public_grants(request: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for canned in _values(request.get("x-amz-acl"), "x-amz-acl"):
        yield from PUBLIC_CANNED_ACLS.get(canned.strip().lower(), ())
    for header, permission in _GRANT_HEADERS.items():
        for value in _values(request.get(header), header):
            for uri in _URI_GRANTEE.findall(value):
                group = public_group(uri)
                if group is not None:
                    yield group, permission
    policy = request.get("AccessControlPolicy")
    if policy is None:
        return
    field = "detail.requestParameters.AccessControlPolicy"
    if not isinstance(policy, Mapping):
        raise InvalidEventError(f"{field} must be an object, got {json_type_name(policy)}")
    acl = policy.get("AccessControlList") or {}
    if not isinstance(acl, Mapping):
        raise InvalidEventError(f"{field}.AccessControlList must be an object, got {json_type_name(acl)}")
    grants = acl.get("Grant") or []
    for grant in grants if isinstance(grants, list) else [grants]:  # one grant comes as an object
        if not isinstance(grant, Mapping) or not isinstance(grant.get("Grantee"), Mapping):
            raise InvalidEventError(f"{field}.AccessControlList.Grant must hold objects with a Grantee")
        group = public_group(grant["Grantee"].get("URI"))
        if group is not None:
            yield group, str(grant.get("Permission", "FULL_CONTROL"))


def _values(value: object, name: str) -> list[str]:
    """A request header CloudTrail records as a string or a list of strings."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise InvalidEventError(f"detail.requestParameters.{name} must be a string or strings")
    return [item for item in items if isinstance(item, str)]
