"""``access-key-created``, ``root-access-key-created``, ``login-profile-created`` and ``user-credential-created``:
long-lived credentials (``user-credential-created``: SSH public keys, signing certificates, service-specific
credentials, each deactivated exactly, as a new access key is).

Both IAM-user rules name the user from the request, else from the response, else
(a user acting on itself, where the API defaults to the caller) from the caller.
The remediation touches exactly what the event created: the one access key id in
the response, or the user's login profile.

The root user creating an access key for itself is ``CreateAccessKey`` by a
``Root`` identity with ``requestParameters: null`` and no user name in the
response (the record panther-analysis' ``aws_root_access_key_created`` tests
use). No IAM role can touch the root user's credentials; only AWS Organizations
centralized root access can: ``sts:AssumeRoot`` with the
``IAMDeleteRootUserCredentials`` task policy, called from the management account
or the delegated administrator for IAM, returns short-lived root credentials for
one member account that may delete them. IAM Warden does that only when
``root_credentials_remediation`` is ``on`` (and the template grants
``sts:AssumeRoot``); otherwise the finding is alerted with the exact steps to
take by hand. The key is deleted, not deactivated: deleting is what the task
policy is for, and a deleted key cannot be restored, so undo says so.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn, partition_of
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.exceptions import InvalidEventError, RemediationError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun, pages

ACCESS_KEY_CREATED = RuleSpec(
    id="access-key-created",
    title="Access key created for an IAM user",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateAccessKey"}),
    risk="Access keys are long-lived credentials that leak and keep working until someone deactivates them.",
    alert_risk=(
        "An access key is a password for programs that never expires, so if it leaks from a laptop, a script or "
        "a repository it keeps working for anyone until someone notices and turns it off."
    ),
)

ROOT_ACCESS_KEY_CREATED = RuleSpec(
    id="root-access-key-created",
    title="Access key created for the root user",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateAccessKey"}),
    risk=(
        "A root user access key can do anything in the account, no policy can limit it, and it never expires; AWS "
        "asks that the root user have none."
    ),
    alert_risk=(
        "Whoever holds this key is the account's root user: every resource, the billing and the account itself, "
        "with no policy or permission boundary that can stop them, until the key is deleted."
    ),
)

#: The AWS-managed task policy that scopes an ``sts:AssumeRoot`` session to deleting root user credentials.
DELETE_ROOT_CREDENTIALS_TASK = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"

LOGIN_PROFILE_CREATED = RuleSpec(
    id="login-profile-created",
    title="Console password set for an IAM user",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateLoginProfile", "UpdateLoginProfile"}),
    risk="A console password for an IAM user is a long-lived credential outside single sign-on and its MFA.",
    alert_risk=(
        "A console password lets someone sign in as this IAM user without single sign-on, outside the checks and "
        "the off-boarding that apply to everyone else."
    ),
)


USER_CREDENTIAL_CREATED = RuleSpec(
    id="user-credential-created",
    title="SSH key, signing certificate or service credential added to an IAM user",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateServiceSpecificCredential", "UploadSSHPublicKey", "UploadSigningCertificate"}),
    risk=(
        "SSH public keys, signing certificates and service-specific credentials (CodeCommit, Keyspaces, Bedrock) are "
        "long-lived credentials of an IAM user that no access key review sees."
    ),
    alert_risk=(
        "A key, certificate or service password added to an IAM user keeps working until someone turns it off, and "
        "it is a quiet way back in: reviews of access keys and console passwords do not list it."
    ),
)


class UserCredential(NamedTuple):
    """One kind of an IAM user's other long-lived credential, as its events and its API name it."""

    #: In words: "SSH public key".
    what: str
    #: The member of the create/upload event's ``responseElements`` holding it, and its id there (as CloudTrail
    #: spells the API's members: first letter lower-cased).
    response: str
    id_key: str
    #: The deactivation that takes exactly this credential out of use (its step action).
    action: StepAction


def _user_credential(event_name: str) -> UserCredential:
    return USER_CREDENTIALS[event_name]


def credential_id(change: Any, kind: UserCredential) -> str | None:
    """The id of the credential a create/upload event added (its response), or an update names (its request)."""
    found = change.request_parameters.get(kind.id_key) or _field(change.response_elements, kind.response, kind.id_key)
    return found if isinstance(found, str) and found else None


def _user_name(context: RuleContext, response_key: str) -> str:
    change = context.change
    for value in (
        change.request_parameters.get("userName"),
        _field(change.response_elements, response_key, "userName"),
        change.actor.user_name if change.actor.type == "IAMUser" else None,
    ):
        if isinstance(value, str) and value:
            return value
    raise InvalidEventError(f"detail.requestParameters.userName is missing and {response_key} names no user")


def _field(response: Any, key: str, name: str) -> Any:
    inner = response.get(key) if isinstance(response, dict) else None
    return inner.get(name) if isinstance(inner, dict) else None


def _is_root_key(context: RuleContext) -> bool:
    """The root user created an access key for itself: no request parameters, no user in the response."""
    change = context.change
    return (
        change.actor.type == "Root"
        and not change.request_parameters
        and not _field(change.response_elements, "accessKey", "userName")
    )


def manual_root_key_steps(account: str, region: str, key_id: str) -> str:
    """What an operator does by hand to delete a root access key, as the alert says it."""
    return (
        "Delete it by hand: from the organisation's management account (or the delegated administrator for IAM), "
        f"run aws sts assume-root --region {region} --target-principal {account} --task-policy-arn "
        f"arn={DELETE_ROOT_CREDENTIALS_TASK.replace('arn:aws:', f'arn:{partition_of(region)}:', 1)}, then with the "
        f"credentials it returns run aws iam delete-access-key --access-key-id {key_id}; or sign in as the root "
        f"user of account {account} and delete the key under Security credentials. Then find out who created it "
        "and whether it was used (CloudTrail: userIdentity.accessKeyId)."
    )


class AccessKeyCreatedRule:
    """CreateAccessKey for an IAM user (deactivate exactly the new key) or for the root user (critical)."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (ACCESS_KEY_CREATED, ROOT_ACCESS_KEY_CREATED)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        key_id = _field(change.response_elements, "accessKey", "accessKeyId")
        if not isinstance(key_id, str) or not key_id:
            raise InvalidEventError("detail.responseElements.accessKey.accessKeyId must be a non-empty string")
        if _is_root_key(context):
            return self._root_key(context, key_id)
        user = _user_name(context, "accessKey")
        arn = iam_arn(context.partition, change.account, "user", user)
        evaluation = Evaluation(resource_arn=arn)
        evaluation.findings.append(
            context.finding(
                ACCESS_KEY_CREATED,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"Access key {key_id} was created for IAM user {user} by {change.actor.display}. "
                    "Access keys never expire; workloads here get temporary credentials from roles."
                ),
                plan=[
                    RemediationStep(
                        DeactivateAccessKey.action,
                        arn,
                        {"user_name": user, "access_key_id": key_id},
                        f"deactivate access key {key_id} of user {user} (it is kept, and can be reactivated)",
                    )
                ],
                offending=[{"access_key_id": key_id}],
            )
        )
        return evaluation

    def _root_key(self, context: RuleContext, key_id: str) -> Evaluation:
        change = context.change
        arn = f"arn:{context.partition}:iam::{change.account}:root"
        evaluation = Evaluation(resource_arn=arn)
        by_hand = manual_root_key_steps(change.account, change.region, key_id)
        plan: list[RemediationStep] = []
        if context.settings.root_credentials_remediation:
            plan.append(
                RemediationStep(
                    DeleteRootAccessKey.action,
                    arn,
                    {
                        "account": change.account,
                        "access_key_id": key_id,
                        "task_policy_arn": DELETE_ROOT_CREDENTIALS_TASK,
                    },
                    f"delete root access key {key_id} of account {change.account} through AWS Organizations "
                    "centralized root access (sts:AssumeRoot with IAMDeleteRootUserCredentials); it cannot be undone",
                )
            )
        else:
            by_hand = (
                "IAM Warden does not delete it: root_credentials_remediation is off (the template's "
                f"RootCredentialsRemediation parameter turns it on). {by_hand}"
            )
        evaluation.findings.append(
            context.finding(
                ROOT_ACCESS_KEY_CREATED,
                severity=Severity.CRITICAL,
                resource_arn=arn,
                reason=(
                    f"Access key {key_id} was created for the root user of account {change.account} "
                    f"(from {change.actor.source_ip or 'an unknown address'}). The root user should have no access "
                    f"key. {by_hand}"
                ),
                plan=plan,
                offending=[{"access_key_id": key_id, "root": True}],
            )
        )
        return evaluation


class LoginProfileRule:
    """CreateLoginProfile and UpdateLoginProfile: remove the user's console password."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (LOGIN_PROFILE_CREATED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        user = _user_name(context, "loginProfile")
        arn = iam_arn(context.partition, change.account, "user", user)
        evaluation = Evaluation(resource_arn=arn)
        if change.event_name != "CreateLoginProfile":
            # UpdateLoginProfile succeeds only on a password the user already had: the change added no console
            # access, and deleting the password (which cannot be undone) would take away what it did not add
            # (review s11 F13). Whoever reset it may now know it, so it is said, with the way to end it.
            evaluation.findings.append(
                context.finding(
                    LOGIN_PROFILE_CREATED,
                    severity=Severity.HIGH,
                    resource_arn=arn,
                    reason=(
                        f"The console password of IAM user {user} was changed by {change.actor.display}, who may "
                        "now know it. The user had a console password before, so IAM Warden deletes nothing; if the "
                        f"user did not ask for this, end it with aws iam delete-login-profile --user-name {user}."
                    ),
                    plan=(),
                )
            )
            return evaluation
        evaluation.findings.append(
            context.finding(
                LOGIN_PROFILE_CREATED,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"IAM user {user} was given a console password by {change.actor.display}. People here sign "
                    "in to the console through single sign-on, not with IAM user passwords."
                ),
                plan=[
                    RemediationStep(
                        DeleteLoginProfile.action,
                        arn,
                        {"user_name": user},
                        f"delete the console password of user {user} (cannot be undone: AWS never returns a "
                        f"password; set a new one with aws iam create-login-profile --user-name {user} "
                        "--password-reset-required)",
                    )
                ],
            )
        )
        return evaluation


class UserCredentialRule:
    """An SSH public key, signing certificate or service-specific credential added to an IAM user: deactivate exactly
    that credential (kept, so undo can make it active again), as ``access-key-created`` does for a new access key.

    The record must name the credential (its id in ``responseElements``): without it nothing could be deactivated
    but by a guess, so the finding says so and is alerted only."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (USER_CREDENTIAL_CREATED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        kind = _user_credential(change.event_name)
        user = _user_name(context, kind.response)
        arn = iam_arn(context.partition, change.account, "user", user)
        evaluation = Evaluation(resource_arn=arn)
        credential = credential_id(change, kind)
        named = f" {credential}" if credential else ""
        plan = [deactivation_step(kind, arn, user, credential)] if credential else []
        needs = () if credential else (f"which {kind.what} the event added: its id is not in the record",)
        evaluation.findings.append(
            context.finding(
                USER_CREDENTIAL_CREATED,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"{kind.what[:1].upper()}{kind.what[1:]}{named} was added to IAM user {user} by "
                    f"{change.actor.display}. It never expires, and nobody reviewing access keys sees it."
                ),
                plan=plan,
                needs_context=needs,
                offending=[{kind.id_key: credential}] if credential else [],
            )
        )
        return evaluation


def deactivation_step(kind: UserCredential, arn: str, user: str, credential: str) -> RemediationStep:
    """The step deactivating exactly ``credential`` of ``user`` (kept: undo makes it active again)."""
    return RemediationStep(
        kind.action,
        arn,
        {"user_name": user, "credential_id": credential},
        f"deactivate {kind.what} {credential} of user {user} (it is kept, and can be made active again)",
    )


class _DeactivateUserCredential:
    """Deactivate exactly one SSH public key, signing certificate or service-specific credential of a user."""

    what: ClassVar[str]
    #: The listing call, the member it lists under, the id member of each item, and the update call's name and
    #: id parameter.
    listing: ClassVar[str]
    listed: ClassVar[str]
    id_member: ClassVar[str]
    update: ClassVar[str]
    undoable: ClassVar[bool] = True

    def _status(self, aws: AccountClients, step: RemediationStep) -> str | None:
        """The credential's status now; None when it or the user is gone."""
        user, credential = step.parameters["user_name"], step.parameters["credential_id"]
        try:
            if aws.iam.can_paginate(self.listing):
                items = list(pages(aws.iam, self.listing, self.listed, UserName=user))
            else:
                items = getattr(aws.iam, self.listing)(UserName=user).get(self.listed, [])
        except Exception as exc:
            if is_gone(exc):
                return None
            raise
        status = next((item.get("Status") for item in items if item.get(self.id_member) == credential), None)
        return str(status) if status else None

    def _set(self, aws: AccountClients, step: RemediationStep, status: str) -> None:
        getattr(aws.iam, self.update)(
            UserName=step.parameters["user_name"], **{self.id_member: step.parameters["credential_id"]}, Status=status
        )

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"status": self._status(aws, step)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["status"] != "Active":
            return  # deleted or deactivated since
        with ignoring():
            self._set(run.aws, step, "Inactive")
            done.append(
                f"deactivated {self.what} {step.parameters['credential_id']} of user {step.parameters['user_name']}"
            )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["status"] != "Active":
            return []
        user, credential = step.parameters["user_name"], step.parameters["credential_id"]
        status = self._status(aws, step)
        if status is None:
            raise UndoError(f"{self.what} {credential} of user {user} no longer exists; it cannot be made active")
        if status == "Active":
            return []
        self._set(aws, step, "Active")
        return [f"made {self.what} {credential} of user {user} active again"]


class DeactivateSshPublicKey(_DeactivateUserCredential):
    what = "SSH public key"
    listing, listed, id_member, update = (
        "list_ssh_public_keys",
        "SSHPublicKeys",
        "SSHPublicKeyId",
        "update_ssh_public_key",
    )
    permissions: ClassVar[Permissions] = ("iam:ListSSHPublicKeys", "iam:UpdateSSHPublicKey")
    action: ClassVar[StepAction] = StepAction("deactivate_ssh_public_key", permissions)
    undo_permissions: ClassVar[Permissions] = permissions


class DeactivateSigningCertificate(_DeactivateUserCredential):
    what = "signing certificate"
    listing, listed, id_member, update = (
        "list_signing_certificates",
        "Certificates",
        "CertificateId",
        "update_signing_certificate",
    )
    permissions: ClassVar[Permissions] = ("iam:ListSigningCertificates", "iam:UpdateSigningCertificate")
    action: ClassVar[StepAction] = StepAction("deactivate_signing_certificate", permissions)
    undo_permissions: ClassVar[Permissions] = permissions


class DeactivateServiceSpecificCredential(_DeactivateUserCredential):
    what = "service-specific credential"
    listing, listed, id_member, update = (
        "list_service_specific_credentials",
        "ServiceSpecificCredentials",
        "ServiceSpecificCredentialId",
        "update_service_specific_credential",
    )
    permissions: ClassVar[Permissions] = ("iam:ListServiceSpecificCredentials", "iam:UpdateServiceSpecificCredential")
    action: ClassVar[StepAction] = StepAction("deactivate_service_specific_credential", permissions)
    undo_permissions: ClassVar[Permissions] = permissions


#: Each create/upload event and the update that sets the same kind Active, with what they add.
_SSH = UserCredential("SSH public key", "sSHPublicKey", "sSHPublicKeyId", DeactivateSshPublicKey.action)
_CERTIFICATE = UserCredential(
    "signing certificate", "certificate", "certificateId", DeactivateSigningCertificate.action
)
_SERVICE = UserCredential(
    "service-specific credential",
    "serviceSpecificCredential",
    "serviceSpecificCredentialId",
    DeactivateServiceSpecificCredential.action,
)
USER_CREDENTIALS: Mapping[str, UserCredential] = MappingProxyType(
    {
        "UploadSSHPublicKey": _SSH,
        "UpdateSSHPublicKey": _SSH,
        "UploadSigningCertificate": _CERTIFICATE,
        "UpdateSigningCertificate": _CERTIFICATE,
        "CreateServiceSpecificCredential": _SERVICE,
        "UpdateServiceSpecificCredential": _SERVICE,
    }
)
#: The updates that make such a credential active again (``remediation-reversed`` judges them).
CREDENTIAL_UPDATES = frozenset({"UpdateSSHPublicKey", "UpdateSigningCertificate", "UpdateServiceSpecificCredential"})


class DeactivateAccessKey:
    """Deactivate exactly the access key the event created (kept, so it can be reactivated)."""

    permissions: ClassVar[Permissions] = ("iam:ListAccessKeys", "iam:UpdateAccessKey")
    action: ClassVar[StepAction] = StepAction("deactivate_access_key", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:ListAccessKeys", "iam:UpdateAccessKey")
    undoable: ClassVar[bool] = True

    def _status(self, aws: AccountClients, step: RemediationStep) -> str | None:
        """The key's status now; None when the key or the user is gone."""
        user, key_id = step.parameters["user_name"], step.parameters["access_key_id"]
        try:
            keys = {
                key["AccessKeyId"]: key["Status"]
                for key in pages(aws.iam, "list_access_keys", "AccessKeyMetadata", UserName=user)
            }
        except Exception as exc:
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
        with ignoring():
            run.aws.iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
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

    permissions: ClassVar[Permissions] = ("iam:GetLoginProfile", "iam:DeleteLoginProfile")
    action: ClassVar[StepAction] = StepAction("delete_login_profile", permissions)
    undo_permissions: ClassVar[Permissions] = ()
    undoable: ClassVar[bool] = False

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
            profile = aws.iam.get_login_profile(UserName=step.parameters["user_name"])["LoginProfile"]
        except Exception as exc:
            if is_gone(exc):
                return {"login_profile": None}
            raise
        return {"login_profile": {"password_reset_required": bool(profile.get("PasswordResetRequired", False))}}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["login_profile"] is None:
            return
        user = step.parameters["user_name"]
        with ignoring():
            run.aws.iam.delete_login_profile(UserName=user)
            done.append(f"deleted the console password of user {user}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        user = step.parameters["user_name"]
        raise UndoError(
            f"the console password of user {user} cannot be restored (AWS never returns a password); "
            f"set a new one with: aws iam create-login-profile --user-name {user} --password-reset-required "
            "--password ..."
        )


class DeleteRootAccessKey:
    """Delete the root user's new access key with a root session from AWS Organizations centralized root access.

    ``sts:AssumeRoot`` (the enforcer's role, from the management or delegated administrator account) returns
    credentials of the member account's root user, limited by the ``IAMDeleteRootUserCredentials`` task policy;
    IAM calls without a user name then act on the root user. Not undoable: a deleted key cannot come back.
    """

    permissions: ClassVar[Permissions] = ("sts:AssumeRoot", "iam:ListAccessKeys", "iam:DeleteAccessKey")
    #: Called with the root session (the task policy allows them), not with the enforcer's role.
    session_permissions: ClassVar[Permissions] = ("iam:ListAccessKeys", "iam:DeleteAccessKey")
    action: ClassVar[StepAction] = StepAction("delete_root_access_key", permissions)
    undo_permissions: ClassVar[Permissions] = ()
    undoable: ClassVar[bool] = False

    def _root_iam(self, aws: AccountClients, step: RemediationStep) -> Any:
        if step.parameters["account"] != aws.account:
            raise RemediationError(
                f"the step names account {step.parameters['account']}, but acts in {aws.account}; nothing was done"
            )
        return aws.root_task_client("iam", step.parameters["task_policy_arn"])

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        iam = self._root_iam(aws, step)
        keys = {key["AccessKeyId"]: key["Status"] for key in pages(iam, "list_access_keys", "AccessKeyMetadata")}
        status = keys.get(step.parameters["access_key_id"])
        return {"status": str(status) if status else None, "root_keys": sorted(keys)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["status"] is None:
            return  # deleted since
        key_id, account = step.parameters["access_key_id"], step.parameters["account"]
        iam = self._root_iam(run.aws, step)
        with ignoring():
            iam.delete_access_key(AccessKeyId=key_id)
            done.append(f"deleted root access key {key_id} of account {account} (through sts:AssumeRoot)")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        raise UndoError(
            f"root access key {step.parameters['access_key_id']} of account {step.parameters['account']} was "
            "deleted and cannot be restored; if the root user really needs one, its owner signs in as root and "
            "creates a new one"
        )


#: Declared permissions the generated remediation grants leave out: the template grants them apart, behind a
#: parameter, to the enforcer's own role only (sts:AssumeRoot works only from the management or delegated
#: administrator account). The IAM calls of the root session are authorised by the task policy, not by a role.
GRANTED_APART = {
    "sts:AssumeRoot": "RootCredentialsRemediationPolicy, with the template parameter RootCredentialsRemediation=on",
}

GUARDRAILS = (AccessKeyCreatedRule(), LoginProfileRule(), UserCredentialRule())
ACTIONS = (
    DeactivateAccessKey(),
    DeleteRootAccessKey(),
    DeleteLoginProfile(),
    DeactivateSshPublicKey(),
    DeactivateSigningCertificate(),
    DeactivateServiceSpecificCredential(),
)
