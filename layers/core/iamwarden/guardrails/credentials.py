"""``access-key-created`` and ``login-profile-created``: long-lived credentials for IAM users.

Both name the user from the request, else from the response, else (a user
acting on itself, where the API defaults to the caller) from the caller. The
remediation touches exactly what the event created: the one access key id in
the response, or the user's login profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.exceptions import InvalidEventError, UndoError
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


class AccessKeyCreatedRule:
    """CreateAccessKey for an IAM user: deactivate exactly the new key."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (ACCESS_KEY_CREATED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        key_id = _field(change.response_elements, "accessKey", "accessKeyId")
        if not isinstance(key_id, str) or not key_id:
            raise InvalidEventError("detail.responseElements.accessKey.accessKeyId must be a non-empty string")
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


class LoginProfileRule:
    """CreateLoginProfile and UpdateLoginProfile: remove the user's console password."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (LOGIN_PROFILE_CREATED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        user = _user_name(context, "loginProfile")
        arn = iam_arn(context.partition, change.account, "user", user)
        evaluation = Evaluation(resource_arn=arn)
        created = change.event_name == "CreateLoginProfile"
        verb = "was given a console password" if created else "had its console password changed"
        evaluation.findings.append(
            context.finding(
                LOGIN_PROFILE_CREATED,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"IAM user {user} {verb} by {change.actor.display}. People here sign in to the console "
                    "through single sign-on, not with IAM user passwords."
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


GUARDRAILS = (AccessKeyCreatedRule(), LoginProfileRule())
ACTIONS = (DeactivateAccessKey(), DeleteLoginProfile())
