"""``s3-public-access-block-disabled``: Block Public Access stays on, for buckets and for the account.

S3's Block Public Access has four settings; a bucket or the account is
protected only when all four are on. Turning any one off, or deleting the
configuration (which turns all four off at that level), is a finding. The
account-level calls are S3 Control's, but CloudTrail records them with
``eventSource`` ``s3.amazonaws.com`` and the names ``PutAccountPublicAccessBlock``
and ``DeleteAccountPublicAccessBlock``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import error_code, ignoring, is_gone
from iamwarden.domain.arns import bucket_arn
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

S3_PUBLIC_ACCESS_BLOCK_DISABLED = RuleSpec(
    id="s3-public-access-block-disabled",
    title="S3 Block Public Access turned off",
    event_source="s3.amazonaws.com",
    event_names=frozenset(
        {
            "PutBucketPublicAccessBlock",
            "DeleteBucketPublicAccessBlock",
            "PutAccountPublicAccessBlock",
            "DeleteAccountPublicAccessBlock",
        }
    ),
    risk=(
        "Block Public Access is the safety net that stops any policy or ACL from making data public; "
        "with it off, one mistaken grant exposes the data."
    ),
    alert_risk=(
        "Block Public Access is the safety net that stops any bucket policy or ACL from making data public; "
        "with it off, a single mistaken grant exposes the data to the internet."
    ),
)

#: The four settings, in the order the S3 console shows them: the rule judges them, the action turns them on.
SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
ALL_BLOCKED: Mapping[str, bool] = dict.fromkeys(SETTINGS, True)
_NO_CONFIGURATION = "NoSuchPublicAccessBlockConfiguration"
_ACCOUNT_EVENTS = frozenset({"PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"})
_DELETE_EVENTS = frozenset({"DeleteBucketPublicAccessBlock", "DeleteAccountPublicAccessBlock"})


def account_block_arn(partition: str, account: str) -> str:
    """IAM Warden's name for an account's Block Public Access settings (AWS gives them no ARN)."""
    return f"arn:{partition}:s3::{account}:public-access-block"


class PublicAccessBlockRule:
    """Put/Delete{Bucket,Account}PublicAccessBlock leaving any of the four settings off."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (S3_PUBLIC_ACCESS_BLOCK_DISABLED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        if change.event_name in _ACCOUNT_EVENTS:
            account = change.account
            arn = account_block_arn(context.partition, account)
            where = f"account {account}"
            parameters: dict[str, Any] = {"scope": "account", "account_id": account}
        else:
            bucket = context.request_text("bucketName")
            arn = bucket_arn(context.partition, bucket)
            where = f"bucket {bucket}"
            parameters = {"scope": "bucket", "bucket": bucket}
        evaluation = Evaluation(resource_arn=arn)
        if change.event_name in _DELETE_EVENTS:
            off = list(SETTINGS)
            how = f"deleted the Block Public Access configuration of {where}, which turns all four settings off"
        else:
            configuration = _configuration(change.request_parameters)
            off = [name for name in SETTINGS if not configuration.get(name, False)]
            how = f"turned off {_join(off)} for {where}"
        if not off:
            evaluation.compliant.append(f"all four Block Public Access settings stay on for {where}")
            return evaluation
        evaluation.findings.append(
            context.finding(
                S3_PUBLIC_ACCESS_BLOCK_DISABLED,
                severity=Severity.CRITICAL if parameters["scope"] == "account" else Severity.HIGH,
                resource_arn=arn,
                reason=f"{change.actor.display} {how}; public bucket policies and ACLs are no longer blocked there.",
                plan=[
                    RemediationStep(
                        RestorePublicAccessBlock.action,
                        arn,
                        parameters,
                        f"turn all four Block Public Access settings back on for {where}",
                    )
                ],
                offending=[{"settings_off": off}],
            )
        )
        return evaluation


def _configuration(request: Mapping[str, Any]) -> dict[str, bool]:
    """The four settings of the request (CloudTrail gives booleans, or "true"/"false" strings)."""
    configuration = request.get("PublicAccessBlockConfiguration")
    field = "detail.requestParameters.PublicAccessBlockConfiguration"
    if not isinstance(configuration, Mapping):
        raise InvalidEventError(f"{field} must be an object, got {json_type_name(configuration)}")
    values: dict[str, bool] = {}
    for name in SETTINGS:
        value = configuration.get(name)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if value is not None and not isinstance(value, bool):
            raise InvalidEventError(f"{field}.{name} must be true or false, got {json_type_name(value)}")
        values[name] = bool(value)  # a setting left out of the request is off
    return values


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class RestorePublicAccessBlock:
    """Turn all four Block Public Access settings on for a bucket (S3) or the account (S3 Control). Undoable.

    Undo turns off again only the settings that were off before (a setting turned on later stays on), and
    deletes the configuration when there was none.
    """

    # The IAM actions behind S3's Get/Put/DeletePublicAccessBlock calls (bucket) and S3 Control's (account).
    permissions: ClassVar[Permissions] = (
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    )
    action: ClassVar[StepAction] = StepAction("restore_public_access_block", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
            return {"exists": True, "configuration": self._get(aws, step)}
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or _all_on(before["configuration"]):
            return
        with ignoring():
            self._put(run.aws, step, ALL_BLOCKED)
            done.append(f"turned all four Block Public Access settings on for {self._where(step)}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or _all_on(before["configuration"]):
            return []
        where = self._where(step)
        try:
            current = self._get(aws, step)
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"{where} no longer exists; its Block Public Access cannot be restored") from exc
            raise
        previous = before["configuration"] or {}
        wanted = {name: bool((current or {}).get(name)) for name in SETTINGS}
        wanted.update({name: False for name in SETTINGS if not previous.get(name)})
        if before["configuration"] is None and not any(wanted.values()):
            if current is None:
                return []
            self._delete(aws, step)
            return [f"deleted the Block Public Access configuration of {where}, as there was none"]
        if current is not None and all(bool(current.get(n)) == wanted[n] for n in SETTINGS):
            return []
        self._put(aws, step, wanted)
        off = [name for name in SETTINGS if not wanted[name]]
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
        except Exception as exc:
            if error_code(exc) == _NO_CONFIGURATION:
                return None
            raise
        configuration = answer["PublicAccessBlockConfiguration"]
        return {name: bool(configuration.get(name, False)) for name in SETTINGS}

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
    return configuration is not None and all(configuration.get(name) for name in SETTINGS)


GUARDRAILS = (PublicAccessBlockRule(),)
ACTIONS = (RestorePublicAccessBlock(),)
