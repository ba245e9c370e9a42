"""One class per remediation action: read the live state, fix it, put it back.

Every action follows the same contract, which the executor relies on:

* ``capture`` only reads. It returns the exact before-state as JSON-able data;
  the executor stores it before any write.
* ``apply`` writes only what the live before-state shows is still wrong, so a
  second run, or a run on a resource that is already compliant, is a no-op.
  It appends one plain line per change to ``done`` as it goes, so a failure
  part way leaves an exact record of what was and was not done.
* ``undo`` restores the before-state into the *current* state (a later,
  unrelated change is kept) and returns what it restored.
* "Already gone" (NoSuchEntity, NoSuchBucketPolicy) counts as done.

``permissions`` (what ``capture`` and ``apply`` call, from
``findings.STEP_PERMISSIONS``) and ``undo_permissions`` are declared per
action; tests check them against the calls actually made and the template.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from iamwarden.domain.exceptions import RemediationError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction

if TYPE_CHECKING:
    from iamwarden.adapters.audit import AuditRecord

QUARANTINE_TAG_FINDING = "iamwarden:quarantine-finding"
QUARANTINE_TAG_TIME = "iamwarden:quarantined-at"
DENY_ALL_POLICY: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "IamWardenQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}],
}
_GONE = frozenset({"NoSuchEntity", "NoSuchBucket", "NoSuchBucketPolicy", "NoSuchKey"})


class AccountClients(Protocol):
    """The clients of the account and region a step acts in."""

    @property
    def iam(self) -> Any: ...

    @property
    def s3(self) -> Any: ...

    @property
    def s3control(self) -> Any: ...

    def history(self, resource_arn: str) -> Sequence[AuditRecord]:
        """What the audit table holds for ``resource_arn``, oldest first (a last known good copy)."""
        ...


class StepRun(Protocol):
    """What a step is run with: its clients, the finding id and the time."""

    @property
    def aws(self) -> AccountClients: ...

    @property
    def finding_id(self) -> str: ...

    @property
    def now(self) -> str: ...


class RemediationAction(Protocol):
    action: ClassVar[StepAction]
    undo_permissions: ClassVar[tuple[str, ...]]
    undoable: ClassVar[bool]

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]: ...

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None: ...

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]: ...


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def is_gone(exc: BaseException) -> bool:
    return error_code(exc) in _GONE


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _client_error() -> type[Exception]:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - the pure core never imports botocore

    return ClientError


class QuarantineUser:
    """Deny everything, deactivate keys, remove the console password, tag the user. Undoable."""

    action: ClassVar[StepAction] = StepAction.QUARANTINE_USER
    undo_permissions: ClassVar[tuple[str, ...]] = (
        "iam:GetUser",
        "iam:DeleteUserPolicy",
        "iam:PutUserPolicy",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
        "iam:UntagUser",
        "iam:TagUser",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        name = step.parameters["user_name"]
        policy_name = step.parameters["quarantine_policy_name"]
        ClientError = _client_error()
        try:
            user = aws.iam.get_user(UserName=name)["User"]
        except ClientError as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        try:
            document = aws.iam.get_user_policy(UserName=name, PolicyName=policy_name)["PolicyDocument"]
            policy = _document(document)
        except ClientError as exc:
            if not is_gone(exc):
                raise
            policy = None
        keys = [
            {"id": key["AccessKeyId"], "status": key["Status"]}
            for key in _pages(aws.iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
        ]
        try:
            profile = aws.iam.get_login_profile(UserName=name)["LoginProfile"]
            login = {"password_reset_required": bool(profile.get("PasswordResetRequired", False))}
        except ClientError as exc:
            if not is_gone(exc):
                raise
            login = None
        tags = {tag["Key"]: tag["Value"] for tag in user.get("Tags", [])}
        return {
            "exists": True,
            "user_arn": user["Arn"],
            "quarantine_policy": policy,
            "access_keys": keys,
            "login_profile": login,
            "tags": {key: tags.get(key) for key in (QUARANTINE_TAG_FINDING, QUARANTINE_TAG_TIME)},
        }

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        name = step.parameters["user_name"]
        if not before["exists"]:
            return  # deleted since: nothing left to quarantine
        iam = run.aws.iam
        ClientError = _client_error()
        if before["quarantine_policy"] != DENY_ALL_POLICY:
            iam.put_user_policy(
                UserName=name,
                PolicyName=step.parameters["quarantine_policy_name"],
                PolicyDocument=json.dumps(DENY_ALL_POLICY),
            )
            done.append(f"attached deny-all inline policy {step.parameters['quarantine_policy_name']} to {name}")
        for key in before["access_keys"]:
            if key["status"] == "Active":
                try:
                    iam.update_access_key(UserName=name, AccessKeyId=key["id"], Status="Inactive")
                except ClientError as exc:
                    if not is_gone(exc):
                        raise
                    continue
                done.append(f"deactivated access key {key['id']}")
        if before["login_profile"] is not None:
            try:
                iam.delete_login_profile(UserName=name)
                done.append(f"deleted the console password of {name}")
            except ClientError as exc:
                if not is_gone(exc):
                    raise
        if before["tags"].get(QUARANTINE_TAG_FINDING) != run.finding_id:
            iam.tag_user(
                UserName=name,
                Tags=[
                    {"Key": QUARANTINE_TAG_FINDING, "Value": run.finding_id},
                    {"Key": QUARANTINE_TAG_TIME, "Value": run.now},
                ],
            )
            done.append(f"tagged {name} with {QUARANTINE_TAG_FINDING}={run.finding_id}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        name = step.parameters["user_name"]
        policy_name = step.parameters["quarantine_policy_name"]
        if not before["exists"]:
            return []
        ClientError = _client_error()
        iam = aws.iam
        restored: list[str] = []
        try:
            iam.get_user(UserName=name)
        except ClientError as exc:
            if is_gone(exc):
                raise UndoError(f"user {name} no longer exists; there is nothing to lift the quarantine from") from exc
            raise
        if before["quarantine_policy"] is None:
            try:
                iam.delete_user_policy(UserName=name, PolicyName=policy_name)
                restored.append(f"removed deny-all inline policy {policy_name}")
            except ClientError as exc:
                if not is_gone(exc):
                    raise
        else:
            iam.put_user_policy(
                UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(before["quarantine_policy"])
            )
            restored.append(f"restored inline policy {policy_name} as it was")
        live = {
            key["AccessKeyId"]: key["Status"]
            for key in _pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
        }
        for key in before["access_keys"]:
            if key["status"] == "Active" and live.get(key["id"]) == "Inactive":
                iam.update_access_key(UserName=name, AccessKeyId=key["id"], Status="Active")
                restored.append(f"reactivated access key {key['id']}")
        old_tags = before["tags"]
        gone = [key for key, value in old_tags.items() if value is None]
        kept = [{"Key": key, "Value": value} for key, value in old_tags.items() if value is not None]
        if gone:
            iam.untag_user(UserName=name, TagKeys=gone)
        if kept:
            iam.tag_user(UserName=name, Tags=kept)
        restored.append("restored the user's quarantine tags")
        if before["login_profile"] is not None:
            restored.append(
                f"NOT restored: the console password of {name} (AWS cannot return a password); "
                f"set a new one with: aws iam create-login-profile --user-name {name} --password-reset-required "
                "--password ..."
            )
        return restored


class DeleteUser:
    """Remove the user and everything that blocks DeleteUser, in the order IAM requires. Not undoable."""

    action: ClassVar[StepAction] = StepAction.DELETE_USER
    undo_permissions: ClassVar[tuple[str, ...]] = ()
    undoable: ClassVar[bool] = False

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        name = step.parameters["user_name"]
        iam = aws.iam
        ClientError = _client_error()
        try:
            user = iam.get_user(UserName=name)["User"]
        except ClientError as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        try:
            iam.get_login_profile(UserName=name)
            login = True
        except ClientError as exc:
            if not is_gone(exc):
                raise
            login = False
        inline = {
            policy: _document(iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"])
            for policy in _pages(iam, "list_user_policies", "PolicyNames", UserName=name)
        }
        return {
            "exists": True,
            "user_arn": user["Arn"],
            "path": user.get("Path", "/"),
            "tags": user.get("Tags", []),
            "access_keys": [
                {"id": key["AccessKeyId"], "status": key["Status"]}
                for key in _pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
            ],
            "login_profile": login,
            "mfa_devices": [d["SerialNumber"] for d in _pages(iam, "list_mfa_devices", "MFADevices", UserName=name)],
            "signing_certificates": [
                c["CertificateId"] for c in _pages(iam, "list_signing_certificates", "Certificates", UserName=name)
            ],
            "ssh_public_keys": [
                k["SSHPublicKeyId"] for k in _pages(iam, "list_ssh_public_keys", "SSHPublicKeys", UserName=name)
            ],
            "service_specific_credentials": [
                c["ServiceSpecificCredentialId"]
                for c in iam.list_service_specific_credentials(UserName=name).get("ServiceSpecificCredentials", [])
            ],
            "groups": [g["GroupName"] for g in _pages(iam, "list_groups_for_user", "Groups", UserName=name)],
            "inline_policies": inline,
            "attached_policies": [
                p["PolicyArn"] for p in _pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name)
            ],
        }

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"]:
            return
        name = step.parameters["user_name"]
        iam = run.aws.iam
        ClientError = _client_error()

        def attempt(description: str, call: Any, **kwargs: Any) -> None:
            try:
                call(UserName=name, **kwargs)
            except ClientError as exc:
                if not is_gone(exc):
                    raise
                return
            done.append(description)

        for key in before["access_keys"]:
            attempt(f"deleted access key {key['id']}", iam.delete_access_key, AccessKeyId=key["id"])
        if before["login_profile"]:
            attempt("deleted the console password", iam.delete_login_profile)
        for serial in before["mfa_devices"]:
            attempt(f"deactivated MFA device {serial}", iam.deactivate_mfa_device, SerialNumber=serial)
            if ":mfa/" in serial:  # a virtual device (hardware serials are not ARNs)
                try:
                    iam.delete_virtual_mfa_device(SerialNumber=serial)
                    done.append(f"deleted virtual MFA device {serial}")
                except ClientError as exc:
                    if not is_gone(exc):
                        raise
        for cert in before["signing_certificates"]:
            attempt(f"deleted signing certificate {cert}", iam.delete_signing_certificate, CertificateId=cert)
        for key_id in before["ssh_public_keys"]:
            attempt(f"deleted SSH public key {key_id}", iam.delete_ssh_public_key, SSHPublicKeyId=key_id)
        for credential in before["service_specific_credentials"]:
            attempt(
                f"deleted service-specific credential {credential}",
                iam.delete_service_specific_credential,
                ServiceSpecificCredentialId=credential,
            )
        for group in before["groups"]:
            attempt(f"removed {name} from group {group}", iam.remove_user_from_group, GroupName=group)
        for policy in before["inline_policies"]:
            attempt(f"deleted inline policy {policy}", iam.delete_user_policy, PolicyName=policy)
        for arn in before["attached_policies"]:
            attempt(f"detached {arn}", iam.detach_user_policy, PolicyArn=arn)
        attempt(f"deleted user {name}", iam.delete_user)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        raise UndoError(
            f"user {step.parameters['user_name']} was deleted and cannot be restored (its credentials are gone); "
            "its before-state is kept in the audit record"
        )


_DETACH = {
    "role": ("list_attached_role_policies", "detach_role_policy", "attach_role_policy", "RoleName"),
    "user": ("list_attached_user_policies", "detach_user_policy", "attach_user_policy", "UserName"),
    "group": ("list_attached_group_policies", "detach_group_policy", "attach_group_policy", "GroupName"),
}


class DetachManagedPolicy:
    """Detach exactly the attached policy ARN from exactly that role, user or group."""

    action: ClassVar[StepAction] = StepAction.DETACH_MANAGED_POLICY
    undo_permissions: ClassVar[tuple[str, ...]] = (
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedGroupPolicies",
        "iam:AttachRolePolicy",
        "iam:AttachUserPolicy",
        "iam:AttachGroupPolicy",
    )
    undoable: ClassVar[bool] = True

    def _attached(self, aws: AccountClients, step: RemediationStep) -> bool | None:
        """Whether the policy is attached now; None when the principal no longer exists."""
        kind, name, policy_arn = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_arn"))
        list_operation, _, _, parameter = _DETACH[kind]
        ClientError = _client_error()
        try:
            return any(
                policy["PolicyArn"] == policy_arn
                for policy in _pages(aws.iam, list_operation, "AttachedPolicies", **{parameter: name})
            )
        except ClientError as exc:
            if is_gone(exc):
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        attached = self._attached(aws, step)
        return {"exists": attached is not None, "attached": bool(attached)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["attached"]:
            return  # detached since, or the principal is gone: already compliant
        kind, name, policy_arn = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_arn"))
        _, detach, _, parameter = _DETACH[kind]
        try:
            getattr(run.aws.iam, detach)(**{parameter: name, "PolicyArn": policy_arn})
        except _client_error() as exc:
            if not is_gone(exc):
                raise
            return
        done.append(f"detached {policy_arn} from {kind} {name}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        kind, name, policy_arn = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_arn"))
        if not before["attached"]:
            return []
        attached = self._attached(aws, step)
        if attached is None:
            raise UndoError(f"{kind} {name} no longer exists; {policy_arn} cannot be re-attached")
        if attached:
            return []
        _, _, attach, parameter = _DETACH[kind]
        getattr(aws.iam, attach)(**{parameter: name, "PolicyArn": policy_arn})
        return [f"re-attached {policy_arn} to {kind} {name}"]


class RemoveBucketPolicyStatements:
    """Remove exactly the offending statements from the live bucket policy; keep everything else."""

    action: ClassVar[StepAction] = StepAction.REMOVE_BUCKET_POLICY_STATEMENTS
    undo_permissions: ClassVar[tuple[str, ...]] = ("s3:GetBucketPolicy", "s3:PutBucketPolicy")
    undoable: ClassVar[bool] = True

    def _live(self, aws: AccountClients, bucket: str) -> tuple[bool, str | None]:
        """(bucket exists, policy text or None)."""
        ClientError = _client_error()
        try:
            return True, str(aws.s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except ClientError as exc:
            code = error_code(exc)
            if code == "NoSuchBucketPolicy":
                return True, None
            if code == "NoSuchBucket":
                return False, None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, policy = self._live(aws, step.parameters["bucket"])
        return {"exists": exists, "policy": policy}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["policy"] is None:
            return  # no policy (or no bucket) any more: nothing to remove
        bucket = step.parameters["bucket"]
        offending = {canonical(reference["statement"]) for reference in step.parameters["statements"]}
        document = json.loads(before["policy"])
        statements = _statement_list(document)
        remaining = [statement for statement in statements if canonical(statement) not in offending]
        removed = len(statements) - len(remaining)
        if not removed:
            return  # a later policy no longer has them: never touch it
        if remaining:
            document["Statement"] = remaining
            run.aws.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
            done.append(f"removed {removed} statement(s) from the policy of bucket {bucket}; kept {len(remaining)}")
        else:
            run.aws.s3.delete_bucket_policy(Bucket=bucket)
            done.append(f"deleted the policy of bucket {bucket}: every statement in it was offending")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["policy"] is None:
            return []
        bucket = step.parameters["bucket"]
        exists, current_text = self._live(aws, bucket)
        if not exists:
            raise UndoError(f"bucket {bucket} no longer exists; its policy cannot be restored")
        before_document = json.loads(before["policy"])
        offending = {canonical(reference["statement"]) for reference in step.parameters["statements"]}
        removed = [s for s in _statement_list(before_document) if canonical(s) in offending]
        if current_text is None:
            document = {key: value for key, value in before_document.items() if key != "Statement"}
            current: list[Any] = []
        else:
            document = json.loads(current_text)
            current = _statement_list(document)
        present = {canonical(statement) for statement in current}
        missing = [statement for statement in removed if canonical(statement) not in present]
        if not missing:
            return []
        taken = {s.get("Sid") for s in current if isinstance(s, dict) and s.get("Sid")}
        clash = [s["Sid"] for s in missing if isinstance(s, dict) and s.get("Sid") in taken]
        if clash:
            raise UndoError(
                f"the policy of bucket {bucket} now has different statements with Sid {', '.join(clash)}; "
                "restore them by hand from the audit record"
            )
        document["Statement"] = current + missing
        aws.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
        return [f"restored {len(missing)} statement(s) into the current policy of bucket {bucket}"]


_INLINE = {
    "role": ("get_role_policy", "delete_role_policy", "put_role_policy", "RoleName"),
    "user": ("get_user_policy", "delete_user_policy", "put_user_policy", "UserName"),
    "group": ("get_group_policy", "delete_group_policy", "put_group_policy", "GroupName"),
}


class DeleteInlinePolicy:
    """Delete exactly the inline policy the event put, if the live one is still that document."""

    action: ClassVar[StepAction] = StepAction.DELETE_INLINE_POLICY
    undo_permissions: ClassVar[tuple[str, ...]] = (
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
        "iam:PutGroupPolicy",
    )
    undoable: ClassVar[bool] = True

    def _live(self, aws: AccountClients, step: RemediationStep) -> Any:
        """The live document of that policy name; None when the policy (or its principal) is gone."""
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        get, _, _, parameter = _INLINE[kind]
        try:
            return _document(getattr(aws.iam, get)(**{parameter: name, "PolicyName": policy})["PolicyDocument"])
        except _client_error() as exc:
            if is_gone(exc):
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"document": self._live(aws, step)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        if before["document"] is None or canonical(before["document"]) != canonical(step.parameters["document"]):
            return  # deleted, or replaced by a later put that is judged on its own: never touch it
        _, delete, _, parameter = _INLINE[kind]
        try:
            getattr(run.aws.iam, delete)(**{parameter: name, "PolicyName": policy})
        except _client_error() as exc:
            if not is_gone(exc):
                raise
            return
        done.append(f"deleted inline policy {policy} from {kind} {name}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        document = before["document"]
        if document is None or canonical(document) != canonical(step.parameters["document"]):
            return []  # the remediation deleted nothing
        current = self._live(aws, step)
        if current is not None:
            if canonical(current) == canonical(document):
                return []
            raise UndoError(
                f"{kind} {name} now has a different inline policy named {policy}; "
                "restore it by hand from the audit record"
            )
        _, _, put, parameter = _INLINE[kind]
        try:
            getattr(aws.iam, put)(**{parameter: name, "PolicyName": policy, "PolicyDocument": json.dumps(document)})
        except _client_error() as exc:
            if is_gone(exc):
                raise UndoError(f"{kind} {name} no longer exists; inline policy {policy} cannot be put back") from exc
            raise
        return [f"put inline policy {policy} back on {kind} {name}"]


class RestoreDefaultPolicyVersion:
    """Make the newest safe other version of a customer-managed policy the default again.

    IAM does not record which version was the default before a change, and neither
    does CloudTrail, so "the previous default" is read as: the newest version other
    than the offending one whose document is neither admin-equivalent nor escalating
    (``iamwarden.domain.escalation``). After a CreatePolicyVersion that is the version that
    was the default in the usual case; it is never a version as dangerous as the
    offending one. With no such version the step fails before writing anything, and
    the alert says so. ``delete_version`` also deletes the offending version; undo
    then re-creates it from the before-state (IAM gives it a new version id).
    """

    action: ClassVar[StepAction] = StepAction.RESTORE_DEFAULT_POLICY_VERSION
    undo_permissions: ClassVar[tuple[str, ...]] = (
        "iam:GetPolicy",
        "iam:SetDefaultPolicyVersion",
        "iam:CreatePolicyVersion",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        arn = step.parameters["policy_arn"]
        try:
            default = aws.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        except _client_error() as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        versions = [
            {
                "version_id": version["VersionId"],
                "created": str(version["CreateDate"]),
                "document": _document(
                    aws.iam.get_policy_version(PolicyArn=arn, VersionId=version["VersionId"])["PolicyVersion"][
                        "Document"
                    ]
                ),
            }
            for version in _pages(aws.iam, "list_policy_versions", "Versions", PolicyArn=arn)
        ]
        return {"exists": True, "default": default, "versions": versions}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        offending = step.parameters["version_id"]
        if not before["exists"] or before["default"] != offending:
            return  # the policy is gone, or another version is the default since
        arn = step.parameters["policy_arn"]
        target = safe_version(before["versions"], offending)
        if target is None:
            raise RemediationError(
                f"no other version of {arn} is safe to make the default; nothing was changed: "
                "write a safe version or detach the policy by hand"
            )
        run.aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=target)
        done.append(f"made version {target} of {arn} the default again (was {offending})")
        if step.parameters.get("delete_version"):
            try:
                run.aws.iam.delete_policy_version(PolicyArn=arn, VersionId=offending)
            except _client_error() as exc:
                if not is_gone(exc):
                    raise
                return
            done.append(f"deleted version {offending} of {arn}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        offending = step.parameters["version_id"]
        if not before["exists"] or before["default"] != offending:
            return []
        arn = step.parameters["policy_arn"]
        target = safe_version(before["versions"], offending)
        try:
            current = aws.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        except _client_error() as exc:
            if is_gone(exc):
                raise UndoError(f"policy {arn} no longer exists; its default version cannot be restored") from exc
            raise
        if current != target:
            raise UndoError(
                f"the default version of {arn} is now {current}, not {target} as IAM Warden left it; "
                "a later change is kept: restore by hand from the audit record"
            )
        if not step.parameters.get("delete_version"):
            aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=offending)
            return [f"made version {offending} of {arn} the default again"]
        [document] = [v["document"] for v in before["versions"] if v["version_id"] == offending]
        created = aws.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
        version_id = created["PolicyVersion"]["VersionId"]
        return [f"re-created the deleted version {offending} of {arn} as {version_id}, the default"]


def safe_version(versions: list[Mapping[str, Any]], offending: str) -> str | None:
    """The newest version other than ``offending`` that is neither admin-equivalent nor escalating."""
    from iamwarden.domain.escalation import is_risky_document  # noqa: PLC0415 - pure, but kept off the import path
    from iamwarden.domain.exceptions import InvalidEventError  # noqa: PLC0415
    from iamwarden.domain.policy import parse_policy  # noqa: PLC0415

    for version in sorted(versions, key=lambda v: (str(v["created"]), _number(v["version_id"])), reverse=True):
        if version["version_id"] == offending:
            continue
        try:
            risky = is_risky_document(parse_policy(version["document"]))
        except InvalidEventError:
            continue
        if not risky:
            return str(version["version_id"])
    return None


def _number(version_id: str) -> int:
    digits = version_id.lstrip("v")
    return int(digits) if digits.isdigit() else 0


class DeactivateAccessKey:
    """Deactivate exactly the access key the event created (kept, so it can be reactivated)."""

    action: ClassVar[StepAction] = StepAction.DEACTIVATE_ACCESS_KEY
    undo_permissions: ClassVar[tuple[str, ...]] = ("iam:ListAccessKeys", "iam:UpdateAccessKey")
    undoable: ClassVar[bool] = True

    def _status(self, aws: AccountClients, step: RemediationStep) -> str | None:
        """The key's status now; None when the key or the user is gone."""
        user, key_id = step.parameters["user_name"], step.parameters["access_key_id"]
        try:
            keys = {
                key["AccessKeyId"]: key["Status"]
                for key in _pages(aws.iam, "list_access_keys", "AccessKeyMetadata", UserName=user)
            }
        except _client_error() as exc:
            if is_gone(exc):
                return None
            raise
        status = keys.get(key_id)
        return str(status) if status else None

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"status": self._status(aws, step)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["status"] != "Active":
            return  # deleted or deactivated since
        user, key_id = step.parameters["user_name"], step.parameters["access_key_id"]
        try:
            run.aws.iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
        except _client_error() as exc:
            if not is_gone(exc):
                raise
            return
        done.append(f"deactivated access key {key_id} of user {user}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["status"] != "Active":
            return []
        user, key_id = step.parameters["user_name"], step.parameters["access_key_id"]
        status = self._status(aws, step)
        if status is None:
            raise UndoError(f"access key {key_id} of user {user} no longer exists; it cannot be reactivated")
        if status == "Active":
            return []
        aws.iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Active")
        return [f"reactivated access key {key_id} of user {user}"]


class DeleteLoginProfile:
    """Delete the user's console password. Not undoable: AWS never returns a password."""

    action: ClassVar[StepAction] = StepAction.DELETE_LOGIN_PROFILE
    undo_permissions: ClassVar[tuple[str, ...]] = ()
    undoable: ClassVar[bool] = False

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
            profile = aws.iam.get_login_profile(UserName=step.parameters["user_name"])["LoginProfile"]
        except _client_error() as exc:
            if is_gone(exc):
                return {"login_profile": None}
            raise
        return {"login_profile": {"password_reset_required": bool(profile.get("PasswordResetRequired", False))}}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["login_profile"] is None:
            return
        user = step.parameters["user_name"]
        try:
            run.aws.iam.delete_login_profile(UserName=user)
        except _client_error() as exc:
            if not is_gone(exc):
                raise
            return
        done.append(f"deleted the console password of user {user}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        user = step.parameters["user_name"]
        raise UndoError(
            f"the console password of user {user} cannot be restored (AWS never returns a password); "
            f"set a new one with: aws iam create-login-profile --user-name {user} --password-reset-required "
            "--password ..."
        )


def canonical(value: Any) -> str:
    """A statement's meaning as a string: key order, list order and one-element lists don't matter."""

    def normal(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: normal(item[key]) for key in sorted(item)}
        if isinstance(item, list):
            values = [normal(element) for element in item]
            if len(values) == 1:
                return values[0]
            return sorted(values, key=lambda element: json.dumps(element, sort_keys=True))
        return item

    return json.dumps(normal(value), sort_keys=True)


def _statement_list(document: Mapping[str, Any]) -> list[Any]:
    statements = document.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]


def _document(value: Any) -> Any:
    """IAM returns policy documents URL-encoded JSON strings (boto3 decodes them to dicts)."""
    if isinstance(value, str):
        from urllib.parse import unquote  # noqa: PLC0415

        return json.loads(unquote(value))
    return value


#: The trust policy a role gets when nothing in it may stay: IAM rejects a trust policy with no statement.
NO_ONE_MAY_ASSUME: Mapping[str, Any] = {
    "Sid": "IamWardenNoOneMayAssume",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"],
}
TRUST_RULE = "trust-policy-untrusted"


class RestoreTrustPolicy:
    """Put back a role's last known good trust policy, or remove exactly the offending statements. Undoable.

    The last known good copy is the trust policy IAM Warden itself last restored for the role: the newest
    ``trust-policy-untrusted`` remediation in the audit table (not undone) records it as ``restore_to``.
    Compliant changes leave no audit item, so that copy is used only when it still holds every statement
    of the live policy that does not offend (nothing good added since is lost); otherwise, and for
    CreateRole, the offending statements are removed and the rest kept. When nothing is left, the role
    gets the deny-all-principals statement ``IamWardenNoOneMayAssume`` (IAM rejects an empty trust policy).
    """

    action: ClassVar[StepAction] = StepAction.RESTORE_TRUST_POLICY
    undo_permissions: ClassVar[tuple[str, ...]] = ("iam:GetRole", "iam:UpdateAssumeRolePolicy")
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        role = step.parameters["role_name"]
        live = self._live(aws, role)
        if live is None:
            return {"exists": False}
        offending = _offending(step)
        statements = _statement_list(live)
        if not any(canonical(s) in offending for s in statements):
            return {"exists": True, "policy": live, "restore_to": None, "source": None}
        remainder = [s for s in statements if canonical(s) not in offending]
        target: dict[str, Any] = {**{k: v for k, v in live.items() if k != "Statement"}, "Statement": remainder}
        source = "the live policy without the offending statements"
        if step.parameters.get("event_name") == "UpdateAssumeRolePolicy":
            known = _last_known_good(aws.history(step.target))
            if known is not None:
                remediation_id, document = known
                kept = {canonical(s) for s in _statement_list(document)}
                if all(canonical(s) in kept for s in remainder):
                    target, source = dict(document), f"the last known good copy restored by {remediation_id}"
        if not _statement_list(target):
            target = {"Version": "2012-10-17", "Statement": [dict(NO_ONE_MAY_ASSUME)]}
            source = "a deny-all statement (nothing else may stay, and IAM rejects an empty trust policy)"
        return {"exists": True, "policy": live, "restore_to": target, "source": source}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["restore_to"] is None:
            return  # deleted since, or the offending statements are already gone
        role = step.parameters["role_name"]
        try:
            run.aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(before["restore_to"]))
        except _client_error() as exc:
            if is_gone(exc):
                return
            raise
        done.append(f"set the trust policy of role {role} to {before['source']}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["restore_to"] is None:
            return []
        role = step.parameters["role_name"]
        current = self._live(aws, role)
        if current is None:
            raise UndoError(f"role {role} no longer exists; its trust policy cannot be restored")
        if canonical(current) == canonical(before["restore_to"]):
            aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(before["policy"]))
            return [f"restored the trust policy of role {role} as it was"]
        # Changed since: put the removed statements back into the current policy, keeping the later change.
        statements = [s for s in _statement_list(current) if canonical(s) != canonical(NO_ONE_MAY_ASSUME)]
        present = {canonical(s) for s in statements}
        offending = _offending(step)
        missing = [s for s in _statement_list(before["policy"]) if canonical(s) in offending - present]
        if not missing:
            return []
        taken = {s.get("Sid") for s in statements if isinstance(s, dict) and s.get("Sid")}
        clash = [s["Sid"] for s in missing if isinstance(s, dict) and s.get("Sid") in taken]
        if clash:
            raise UndoError(
                f"the trust policy of role {role} now has different statements with Sid {', '.join(clash)}; "
                "restore them by hand from the audit record"
            )
        document = {**current, "Statement": statements + missing}
        aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(document))
        return [f"restored {len(missing)} statement(s) into the current trust policy of role {role}"]

    @staticmethod
    def _live(aws: AccountClients, role: str) -> dict[str, Any] | None:
        try:
            document = aws.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        except _client_error() as exc:
            if is_gone(exc):
                return None
            raise
        return dict(_document(document))


def _offending(step: RemediationStep) -> set[str]:
    return {canonical(reference["statement"]) for reference in step.parameters["statements"]}


def _last_known_good(records: Sequence[AuditRecord]) -> tuple[str, Mapping[str, Any]] | None:
    """The trust policy the newest trust-policy remediation of the role put in place, if it still stands."""
    from iamwarden.adapters.audit import AuditStatus  # noqa: PLC0415 - audit imports botocore lazily too

    mine = [r for r in records if r.rule == TRUST_RULE and r.kind == "remediation" and r.before]
    if not mine:
        return None
    newest = max(mine, key=lambda record: record.created_at)
    document = newest.before[0].get("restore_to")
    if newest.status != AuditStatus.REMEDIATED or not isinstance(document, Mapping):
        return None  # undone (the operator kept the change) or not carried out: nothing known to be good
    return newest.remediation_id, document


class RemovePublicAclGrants:
    """Remove the AllUsers and AuthenticatedUsers grants from a bucket or object ACL, keep the rest. Undoable.

    Buckets whose Object Ownership is ``BucketOwnerEnforced`` have ACLs disabled: S3 ignores any ACL and
    rejects ACL changes with ``AccessControlListNotSupported``, so there is nothing public to remove.
    """

    action: ClassVar[StepAction] = StepAction.REMOVE_PUBLIC_ACL_GRANTS
    undo_permissions: ClassVar[tuple[str, ...]] = (
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
        except _client_error() as exc:
            if is_gone(exc):
                return {"exists": False}
            if error_code(exc) != "OwnershipControlsNotFoundError":
                raise
            ownership = None  # a bucket from before Object Ownership: ACLs are enabled
        if ownership == "BucketOwnerEnforced":
            return {"exists": True, "acls_enabled": False, "ownership": ownership}
        try:
            acl = self._get(aws, step)
        except _client_error() as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        return {"exists": True, "acls_enabled": True, "owner": acl["Owner"], "grants": acl.get("Grants", [])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or not before["acls_enabled"]:
            return  # gone, or ACLs are disabled on the bucket, so no ACL grants anything
        public = _public(before["grants"])
        if not public:
            return
        kept = [grant for grant in before["grants"] if grant not in public]
        try:
            self._put(run.aws, step, {"Owner": before["owner"], "Grants": kept})
        except _client_error() as exc:
            if is_gone(exc) or error_code(exc) == "AccessControlListNotSupported":
                return  # deleted, or ACLs were disabled since: no ACL is in effect
            raise
        removed = ", ".join(f"{_group(g)} {g.get('Permission')}" for g in public)
        done.append(f"removed {removed} from the ACL of {self._what(step)}; kept {len(kept)} other grant(s)")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or not before["acls_enabled"] or not _public(before["grants"]):
            return []
        what = self._what(step)
        try:
            current = self._get(aws, step)
        except _client_error() as exc:
            if is_gone(exc):
                raise UndoError(f"{what} no longer exists; its ACL cannot be restored") from exc
            raise
        present = {canonical(grant) for grant in current.get("Grants", [])}
        missing = [grant for grant in _public(before["grants"]) if canonical(grant) not in present]
        if not missing:
            return []
        try:
            self._put(aws, step, {"Owner": current["Owner"], "Grants": [*current.get("Grants", []), *missing]})
        except _client_error() as exc:
            if error_code(exc) == "AccessControlListNotSupported":
                raise UndoError(
                    f"ACLs are now disabled on bucket {step.parameters['bucket']} (Object Ownership "
                    "BucketOwnerEnforced): the public grants cannot be put back"
                ) from exc
            raise
        return [f"restored {len(missing)} public grant(s) into the current ACL of {what}"]

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


_PUBLIC_GROUP_URIS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}


def _group(grant: Mapping[str, Any]) -> str | None:
    grantee = grant.get("Grantee") or {}
    return _PUBLIC_GROUP_URIS.get(str(grantee.get("URI", "")))


def _public(grants: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [grant for grant in grants if _group(grant) is not None]


PUBLIC_ACCESS_BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
ALL_BLOCKED: Mapping[str, bool] = dict.fromkeys(PUBLIC_ACCESS_BLOCK_SETTINGS, True)
_NO_CONFIGURATION = "NoSuchPublicAccessBlockConfiguration"


class RestorePublicAccessBlock:
    """Turn all four Block Public Access settings on for a bucket (S3) or the account (S3 Control). Undoable.

    Undo turns off again only the settings that were off before (a setting turned on later stays on), and
    deletes the configuration when there was none.
    """

    action: ClassVar[StepAction] = StepAction.RESTORE_PUBLIC_ACCESS_BLOCK
    undo_permissions: ClassVar[tuple[str, ...]] = (
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
            return {"exists": True, "configuration": self._get(aws, step)}
        except _client_error() as exc:
            if is_gone(exc):
                return {"exists": False}
            raise

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or _all_on(before["configuration"]):
            return
        try:
            self._put(run.aws, step, ALL_BLOCKED)
        except _client_error() as exc:
            if is_gone(exc):
                return
            raise
        done.append(f"turned all four Block Public Access settings on for {self._where(step)}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or _all_on(before["configuration"]):
            return []
        where = self._where(step)
        try:
            current = self._get(aws, step)
        except _client_error() as exc:
            if is_gone(exc):
                raise UndoError(f"{where} no longer exists; its Block Public Access cannot be restored") from exc
            raise
        previous = before["configuration"] or {}
        wanted = {name: bool((current or {}).get(name)) for name in PUBLIC_ACCESS_BLOCK_SETTINGS}
        wanted.update({name: False for name in PUBLIC_ACCESS_BLOCK_SETTINGS if not previous.get(name)})
        if before["configuration"] is None and not any(wanted.values()):
            if current is None:
                return []
            self._delete(aws, step)
            return [f"deleted the Block Public Access configuration of {where}, as there was none"]
        if current is not None and all(bool(current.get(n)) == wanted[n] for n in PUBLIC_ACCESS_BLOCK_SETTINGS):
            return []
        self._put(aws, step, wanted)
        off = [name for name in PUBLIC_ACCESS_BLOCK_SETTINGS if not wanted[name]]
        return [f"turned {', '.join(off)} off again for {where}, as before"]

    @staticmethod
    def _where(step: RemediationStep) -> str:
        if step.parameters["scope"] == "account":
            return f"account {step.parameters['account_id']}"
        return f"bucket {step.parameters['bucket']}"

    @staticmethod
    def _get(aws: AccountClients, step: RemediationStep) -> dict[str, bool] | None:
        try:
            if step.parameters["scope"] == "account":
                answer = aws.s3control.get_public_access_block(AccountId=step.parameters["account_id"])
            else:
                answer = aws.s3.get_public_access_block(Bucket=step.parameters["bucket"])
        except _client_error() as exc:
            if error_code(exc) == _NO_CONFIGURATION:
                return None
            raise
        configuration = answer["PublicAccessBlockConfiguration"]
        return {name: bool(configuration.get(name, False)) for name in PUBLIC_ACCESS_BLOCK_SETTINGS}

    @staticmethod
    def _put(aws: AccountClients, step: RemediationStep, configuration: Mapping[str, bool]) -> None:
        if step.parameters["scope"] == "account":
            aws.s3control.put_public_access_block(
                AccountId=step.parameters["account_id"], PublicAccessBlockConfiguration=dict(configuration)
            )
        else:
            aws.s3.put_public_access_block(
                Bucket=step.parameters["bucket"], PublicAccessBlockConfiguration=dict(configuration)
            )

    @staticmethod
    def _delete(aws: AccountClients, step: RemediationStep) -> None:
        if step.parameters["scope"] == "account":
            aws.s3control.delete_public_access_block(AccountId=step.parameters["account_id"])
        else:
            aws.s3.delete_public_access_block(Bucket=step.parameters["bucket"])


def _all_on(configuration: Mapping[str, bool] | None) -> bool:
    return configuration is not None and all(configuration.get(name) for name in PUBLIC_ACCESS_BLOCK_SETTINGS)


ACTIONS: Mapping[StepAction, RemediationAction] = {
    action.action: action
    for action in (
        QuarantineUser(),
        DeleteUser(),
        DetachManagedPolicy(),
        RemoveBucketPolicyStatements(),
        DeleteInlinePolicy(),
        RestoreDefaultPolicyVersion(),
        DeactivateAccessKey(),
        DeleteLoginProfile(),
        RestoreTrustPolicy(),
        RemovePublicAclGrants(),
        RestorePublicAccessBlock(),
    )
}


def action_for(step: RemediationStep) -> RemediationAction:
    try:
        return ACTIONS[step.action]
    except KeyError as exc:  # pragma: no cover - every StepAction has an action (a unit test checks)
        raise RemediationError(f"no remediation action implements {step.action}") from exc
