"""``iam-user-created``: long-lived IAM users are the exception, not the way in."""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import IAM_USER_CREATED, RuleSpec, Severity
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext

QUARANTINE_POLICY_NAME = "iamwarden-quarantine"


class IamUserCreatedRule:
    """CreateUser, unless the user's path or name or the caller is allowlisted."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (IAM_USER_CREATED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        name = context.request_text("userName")
        path = change.request_parameters.get("path")
        path = path if isinstance(path, str) and path else "/"
        user = (change.response_elements or {}).get("user")
        arn = user.get("arn") if isinstance(user, dict) else None
        if not isinstance(arn, str) or not arn:
            arn = iam_arn(context.partition, change.account, "user", name, path)
        evaluation = Evaluation(resource_arn=arn)

        settings = context.rule(IAM_USER_CREATED.id)
        allowed_path = next((p for p in settings.patterns("allow_paths") if _path_allowed(path, p)), None)
        if allowed_path is not None:
            evaluation.compliant.append(
                f"user path {path} matches {allowed_path!r} in rules/{IAM_USER_CREATED.id}/allow_paths"
            )
            return evaluation
        allowed_name = next((p for p in settings.patterns("allow_names") if wildcard_match(p, name)), None)
        if allowed_name is not None:
            evaluation.compliant.append(
                f"user name {name} matches {allowed_name!r} in rules/{IAM_USER_CREATED.id}/allow_names"
            )
            return evaluation

        if settings.choice("remediation") == "delete":
            step = RemediationStep(
                StepAction.DELETE_USER,
                arn,
                {"user_name": name},
                f"delete user {name} and all of its credentials (cannot be undone)",
            )
        else:
            step = RemediationStep(
                StepAction.QUARANTINE_USER,
                arn,
                {"user_name": name, "quarantine_policy_name": QUARANTINE_POLICY_NAME},
                f"quarantine user {name}: attach deny-all policy {QUARANTINE_POLICY_NAME}, "
                "deactivate its access keys, remove its console password",
            )
        where = f" under path {path}" if path != "/" else ""
        evaluation.findings.append(
            context.finding(
                IAM_USER_CREATED,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"IAM user {name}{where} was created by {change.actor.display}. "
                    "IAM users hold long-lived passwords and access keys; people and workloads here use roles."
                ),
                plan=[step],
            )
        )
        return evaluation


def _path_allowed(path: str, allowed: str) -> bool:
    """``/service-accounts/`` allows that path and paths below it, never ``/service-accounts-evil/``."""
    if "*" in allowed or "?" in allowed:
        return wildcard_match(allowed, path)
    prefix = allowed if allowed.endswith("/") else allowed + "/"
    return path.startswith(prefix)
