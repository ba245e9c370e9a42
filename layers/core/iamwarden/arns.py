"""Build and read the ARNs of the resources the guardrails judge."""

from __future__ import annotations


def partition_of(region: str) -> str:
    """The AWS partition a region belongs to."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-iso"):
        return "aws-iso-b" if region.startswith("us-isob-") else "aws-iso"
    return "aws"


def iam_arn(partition: str, account: str, kind: str, name: str, path: str = "/") -> str:
    """ARN of an IAM user, role or group (IAM ARNs include the entity's path)."""
    return f"arn:{partition}:iam::{account}:{kind}{path or '/'}{name}"


def bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def role_name_of(arn: str) -> str | None:
    """The role name in an IAM role ARN (the last path segment), else None."""
    _, _, rest = arn.partition(":role/")
    return rest.rsplit("/", 1)[-1] or None if rest else None
