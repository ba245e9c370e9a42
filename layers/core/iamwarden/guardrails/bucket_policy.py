"""``s3-bucket-policy-public`` and ``s3-bucket-policy-cross-account``.

Both judge the same PutBucketPolicy document, so one analysis serves both
rules. Each finding names exactly the offending statements (by position and
Sid, with their JSON) so a remediation removes those and nothing else.
"""

from __future__ import annotations

from typing import Any, ClassVar

from iamwarden.domain.arns import bucket_arn
from iamwarden.domain.catalog import S3_BUCKET_POLICY_CROSS_ACCOUNT, S3_BUCKET_POLICY_PUBLIC, RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.exposure import ACCOUNT_ID, Exposure, exposure_of
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import Statement, parse_policy
from iamwarden.guardrails.base import Evaluation, RuleContext

#: Plain verbs for what a statement lets someone do, checked in this order.
_VERBS = (
    ("s3:GetObject", "read objects"),
    ("s3:ListBucket", "list objects"),
    ("s3:PutObject", "write objects"),
    ("s3:DeleteObject", "delete objects"),
    ("s3:PutBucketPolicy", "change the bucket's permissions"),
)


class BucketPolicyRule:
    """PutBucketPolicy letting in the public or accounts outside the trusted boundary."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (S3_BUCKET_POLICY_PUBLIC, S3_BUCKET_POLICY_CROSS_ACCOUNT)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        bucket = context.request_text("bucketName")
        arn = bucket_arn(context.partition, bucket)
        evaluation = Evaluation(resource_arn=arn)
        field = "detail.requestParameters.bucketPolicy"
        document = decode_policy_document(change.request_parameters.get("bucketPolicy"), PolicyKind.BUCKET, field=field)
        policy = parse_policy(document, field=field)
        boundary = context.settings.boundary(_bucket_owner(context))

        public: list[tuple[Statement, Exposure]] = []
        shared: list[tuple[Statement, Exposure]] = []
        for statement in policy.statements:
            exposure = exposure_of(statement, boundary)
            if exposure.public:
                public.append((statement, exposure))
            elif exposure.untrusted:
                shared.append((statement, exposure))

        if public:
            evaluation.findings.append(
                context.finding(
                    S3_BUCKET_POLICY_PUBLIC,
                    severity=Severity.CRITICAL,
                    resource_arn=arn,
                    reason=f"Anyone on the internet can {_abilities(public)} in bucket {bucket} "
                    f"({_labels(public)} of the policy set by {change.actor.display}).",
                    plan=[_removal(bucket, arn, public)],
                    offending=[_offending(s, e) for s, e in public],
                )
            )
        if shared:
            outsiders = sorted({_outsider(label) for _, e in shared for label in e.untrusted})
            evaluation.findings.append(
                context.finding(
                    S3_BUCKET_POLICY_CROSS_ACCOUNT,
                    severity=Severity.HIGH,
                    resource_arn=arn,
                    reason=f"{_capitalised(_join(outsiders))}, which this organisation does not trust, can "
                    f"{_abilities(shared)} in bucket {bucket} ({_labels(shared)} of the policy set by "
                    f"{change.actor.display}).",
                    plan=[_removal(bucket, arn, shared)],
                    offending=[_offending(s, e) for s, e in shared],
                )
            )
        if not evaluation.findings:
            evaluation.compliant.append(
                f"the policy of bucket {bucket} lets in only the trusted accounts, organisation and AWS services"
            )
        return evaluation


def _bucket_owner(context: RuleContext) -> str:
    """The bucket's account from the record's resources (S3 records carry it), else the event's."""
    for resource in context.change.resources:
        if resource.get("type") == "AWS::S3::Bucket" and isinstance(resource.get("accountId"), str):
            return str(resource["accountId"])
    return context.change.account


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _outsider(label: str) -> str:
    """An untrusted grantee as people say it: "account 999988887777", "organization o-…"."""
    return f"account {label}" if ACCOUNT_ID.fullmatch(label) else label


def _removal(bucket: str, arn: str, offending: list[tuple[Statement, Exposure]]) -> RemediationStep:
    return RemediationStep(
        StepAction.REMOVE_BUCKET_POLICY_STATEMENTS,
        arn,
        {"bucket": bucket, "statements": [_reference(statement) for statement, _ in offending]},
        f"remove {_labels(offending)} from the policy of bucket {bucket}, keep the rest",
    )


def _reference(statement: Statement) -> dict[str, Any]:
    return {"index": statement.position, "sid": statement.sid, "statement": dict(statement.raw)}


def _offending(statement: Statement, exposure: Exposure) -> dict[str, Any]:
    return {
        **_reference(statement),
        "public": exposure.public,
        "grantees": sorted(exposure.untrusted),
        "narrowed_by": list(exposure.narrowed_by),
    }


def _abilities(offending: list[tuple[Statement, Exposure]]) -> str:
    statements = [statement for statement, _ in offending]
    if any(s.grants_action("s3:*") for s in statements):  # s3:*, *, or a NotAction that spares S3
        return "do anything"
    verbs = [verb for action, verb in _VERBS if any(s.grants_action(action) for s in statements)]
    if verbs:
        return _join(verbs)
    actions = sorted({a for s in statements for a in (s.actions or s.not_actions or ())})
    return "call " + _join(actions)


def _labels(offending: list[tuple[Statement, Exposure]]) -> str:
    return _join([statement.label for statement, _ in offending])


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
