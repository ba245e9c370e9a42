"""``s3-acl-public``: bucket and object ACLs never grant to everyone.

A PutBucketAcl or PutObjectAcl record carries the ACL in one of three forms:
a canned ACL (``x-amz-acl``), grant headers (``x-amz-grant-read`` …) or an
explicit ``AccessControlPolicy`` with its grants. Any grant to the AllUsers
group (anyone, even anonymous) or the AuthenticatedUsers group (anyone with
any AWS account) is public.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from iamwarden.adapters.errors import error_code, is_gone
from iamwarden.domain.arns import bucket_arn
from iamwarden.domain.canonical import canonical
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

S3_ACL_PUBLIC = RuleSpec(
    id="s3-acl-public",
    title="Bucket or object ACL open to the public",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutBucketAcl", "PutObjectAcl"}),
    risk=(
        "An ACL grant to AllUsers or AuthenticatedUsers lets anyone on the internet, or anyone with any AWS "
        "account, use the bucket or object."
    ),
    alert_risk=(
        "An ACL grant to AllUsers or AuthenticatedUsers lets anyone on the internet, or anyone with any AWS "
        "account, read or change this data without asking."
    ),
    resource_types=frozenset({"AWS::S3::Bucket", "AWS::S3::Object"}),
)

#: The public grantee groups, by URI: what the rule looks for in a request and the action removes from an ACL.
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
                        RemovePublicAclGrants.action,
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


class RemovePublicAclGrants:
    """Remove the AllUsers and AuthenticatedUsers grants from a bucket or object ACL, keep the rest. Undoable.

    Buckets whose Object Ownership is ``BucketOwnerEnforced`` have ACLs disabled: S3 ignores any ACL and
    rejects ACL changes with ``AccessControlListNotSupported``, so there is nothing public to remove.
    """

    permissions: ClassVar[Permissions] = (
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketAcl",
        "s3:PutBucketAcl",
        "s3:GetObjectAcl",
        "s3:PutObjectAcl",
    )
    action: ClassVar[StepAction] = StepAction("remove_public_acl_grants", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "s3:GetBucketAcl",
        "s3:PutBucketAcl",
        "s3:GetObjectAcl",
        "s3:PutObjectAcl",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        bucket = step.parameters["bucket"]
        try:
            rules = aws.s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
            ownership = rules[0]["ObjectOwnership"] if rules else None
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            if error_code(exc) != "OwnershipControlsNotFoundError":
                raise
            ownership = None  # a bucket from before Object Ownership: ACLs are enabled
        if ownership == "BucketOwnerEnforced":
            return {"exists": True, "acls_enabled": False, "ownership": ownership}
        try:
            acl = self._get(aws, step)
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        return {"exists": True, "acls_enabled": True, "owner": acl["Owner"], "grants": acl.get("Grants", [])}

    #: How undo names what it puts back, and why it cannot when ACLs were disabled since.
    restored_noun: ClassVar[str] = "public grant(s)"
    lost_reason: ClassVar[str] = " (Object Ownership BucketOwnerEnforced): the public grants cannot be put back"

    def removed(self, step: RemediationStep, before: Mapping[str, Any]) -> list[Any]:
        """The grants of the before-state this action takes out (here: the public ones)."""
        return _public(before["grants"])

    def removed_text(self, removed: Sequence[Mapping[str, Any]]) -> str:
        return ", ".join(f"{_group(g)} {g.get('Permission')}" for g in removed)

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or not before["acls_enabled"]:
            return  # gone, or ACLs are disabled on the bucket, so no ACL grants anything
        removed = self.removed(step, before)
        if not removed:
            return
        kept = [grant for grant in before["grants"] if grant not in removed]
        try:
            self._put(run.aws, step, {"Owner": before["owner"], "Grants": kept})
        except Exception as exc:
            if is_gone(exc) or error_code(exc) == "AccessControlListNotSupported":
                return  # deleted, or ACLs were disabled since: no ACL is in effect
            raise
        done.append(
            f"removed {self.removed_text(removed)} from the ACL of {self._what(step)}; kept {len(kept)} other grant(s)"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or not before["acls_enabled"]:
            return []
        removed = self.removed(step, before)
        if not removed:
            return []
        what = self._what(step)
        try:
            current = self._get(aws, step)
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"{what} no longer exists; its ACL cannot be restored") from exc
            raise
        present = {canonical(grant) for grant in current.get("Grants", [])}
        missing = [grant for grant in removed if canonical(grant) not in present]
        if not missing:
            return []
        try:
            self._put(aws, step, {"Owner": current["Owner"], "Grants": [*current.get("Grants", []), *missing]})
        except Exception as exc:
            if error_code(exc) == "AccessControlListNotSupported":
                raise UndoError(
                    f"ACLs are now disabled on bucket {step.parameters['bucket']}{self.lost_reason}"
                ) from exc
            raise
        return [f"restored {len(missing)} {self.restored_noun} into the current ACL of {what}"]

    @staticmethod
    def _what(step: RemediationStep) -> str:
        key = step.parameters.get("key")
        bucket = step.parameters["bucket"]
        return f"object {key} in bucket {bucket}" if key is not None else f"bucket {bucket}"

    @staticmethod
    def _object(step: RemediationStep) -> dict[str, str]:
        version = step.parameters.get("version_id")
        return {"Key": step.parameters["key"], **({"VersionId": version} if version else {})}

    def _get(self, aws: AccountClients, step: RemediationStep) -> Any:
        bucket = step.parameters["bucket"]
        if step.parameters.get("key") is None:
            return aws.s3.get_bucket_acl(Bucket=bucket)
        return aws.s3.get_object_acl(Bucket=bucket, **self._object(step))

    def _put(self, aws: AccountClients, step: RemediationStep, policy: Mapping[str, Any]) -> None:
        bucket = step.parameters["bucket"]
        if step.parameters.get("key") is None:
            aws.s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=policy)
        else:
            aws.s3.put_object_acl(Bucket=bucket, AccessControlPolicy=policy, **self._object(step))


def _group(grant: Mapping[str, Any]) -> str | None:
    grantee = grant.get("Grantee") or {}
    return public_group(grantee.get("URI"))


def _public(grants: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [grant for grant in grants if _group(grant) is not None]


GUARDRAILS = (S3AclRule(),)
ACTIONS = (RemovePublicAclGrants(),)
