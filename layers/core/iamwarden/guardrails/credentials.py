"""``access-key-created`` and ``login-profile-created``: long-lived credentials for IAM users.

Both name the user from the request, else from the response, else (a user
acting on itself, where the API defaults to the caller) from the caller. The
remediation touches exactly what the event created: the one access key id in
the response, or the user's login profile.
"""

from __future__ import annotations

from typing import Any, ClassVar

from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import ACCESS_KEY_CREATED, LOGIN_PROFILE_CREATED, RuleSpec, Severity
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext


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
                        StepAction.DEACTIVATE_ACCESS_KEY,
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
                        StepAction.DELETE_LOGIN_PROFILE,
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
