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

from iamwarden.domain.arns import bucket_arn
from iamwarden.domain.catalog import S3_PUBLIC_ACCESS_BLOCK_DISABLED, RuleSpec, Severity
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext

#: The four settings, in the order the S3 console shows them.
SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
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
                        StepAction.RESTORE_PUBLIC_ACCESS_BLOCK,
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
