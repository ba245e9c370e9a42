"""``s3-bucket-policy-public`` and ``s3-bucket-policy-cross-account``: bucket policies on the resource-policy path.

Both rules judge the same PutBucketPolicy document, with one analysis
(``resource_policy``); this module says only what is particular to S3.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.arns import bucket_arn
from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import (
    RECORD_MAX_AGE,
    RECORD_MAX_AGE_OPTION,
    PolicyResource,
    RemovePolicyStatements,
    ResourcePolicyRule,
)

S3_BUCKET_POLICY_PUBLIC = RuleSpec(
    id="s3-bucket-policy-public",
    title="Bucket policy open to the public",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutBucketPolicy", "DeleteBucketPolicy", "DeleteBucket"}),
    risk="A bucket policy that lets in everyone exposes the bucket's data to anyone on the internet.",
    alert_risk=(
        "Anyone on the internet, without even an AWS account, can use what this bucket policy grants, so "
        "strangers can read, change or delete the data it covers."
    ),
    resource_types=frozenset({"AWS::S3::Bucket"}),
    # How old a record of the policy may be to put an older statement back in place of a widened one (review s13 R4).
    options={RECORD_MAX_AGE: RECORD_MAX_AGE_OPTION},
)

S3_BUCKET_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="s3-bucket-policy-cross-account",
    title="Bucket policy shared with an untrusted account",
    event_source="s3.amazonaws.com",
    event_names=frozenset({"PutBucketPolicy", "DeleteBucketPolicy", "DeleteBucket"}),
    risk=(
        "A bucket policy that lets in accounts outside the organisation hands the data to people "
        "this organisation does not control and cannot audit."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this bucket policy grants, and we can neither "
        "see nor control who they are or what they do with the data."
    ),
    resource_types=frozenset({"AWS::S3::Bucket"}),
    # How old a record of the policy may be to put an older statement back in place of a widened one (review s13 R4).
    options={RECORD_MAX_AGE: RECORD_MAX_AGE_OPTION},
)

BUCKET = PolicyResource(
    noun="bucket",
    name_parameter="bucketName",
    document_parameter="bucketPolicy",
    kind=PolicyKind.BUCKET,
    arn=lambda partition, _region, _account, name: bucket_arn(partition, name),
    step_parameter="bucket",
    resource_type="AWS::S3::Bucket",
    service_wildcard="s3:*",
    verbs=(
        ("s3:GetObject", "read objects"),
        ("s3:ListBucket", "list objects"),
        ("s3:PutObject", "write objects"),
        ("s3:DeleteObject", "delete objects"),
        ("s3:PutBucketPolicy", "change the bucket's permissions"),
    ),
)


class S3BucketPolicyEndpoint:
    """A bucket's policy, through S3's Get/Put/DeleteBucketPolicy."""

    get_permission: ClassVar[str] = "s3:GetBucketPolicy"
    put_permission: ClassVar[str] = "s3:PutBucketPolicy"
    delete_permission: ClassVar[str] = "s3:DeleteBucketPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchBucketPolicy"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"NoSuchBucket"})

    def get(self, aws: AccountClients, name: str) -> str:
        return str(aws.s3.get_bucket_policy(Bucket=name)["Policy"])

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.s3.put_bucket_policy(Bucket=name, Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.s3.delete_bucket_policy(Bucket=name)


REMOVE_BUCKET_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_bucket_policy_statements", BUCKET, S3BucketPolicyEndpoint()
)
#: ``DeleteBucketPolicy`` names the bucket as ``requestParameters.bucketName`` (the Amazon S3 User Guide's CloudTrail
#: log file examples show ``{"bucketName": ...}``; records also carry ``Host`` and ``policy: ""``): it judges nothing,
#: and clears IAM Warden's record of the policy. ``DeleteBucket`` (the S3 User Guide's cross-account CloudTrail example:
#: ``"requestParameters": {"bucketName": "my-test-bucket-cross-account"}``) clears it too: a bucket re-created under the
#: same name starts with no policy, never the one on record.
BUCKET_POLICY_RULE = ResourcePolicyRule(
    S3_BUCKET_POLICY_PUBLIC,
    S3_BUCKET_POLICY_CROSS_ACCOUNT,
    BUCKET,
    REMOVE_BUCKET_POLICY_STATEMENTS,
    deletions=frozenset({"DeleteBucketPolicy", "DeleteBucket"}),
    # Every way to take a statement out of a bucket policy reaches the record (PutBucketPolicy, DeleteBucketPolicy,
    # DeleteBucket): an older statement on record can be put back in place of a widened one (review 2 N1).
    restorable=True,
)

GUARDRAILS = (BUCKET_POLICY_RULE,)
ACTIONS = (REMOVE_BUCKET_POLICY_STATEMENTS,)
