"""Build and read the ARNs of the resources the guardrails judge."""

from functools import lru_cache
from typing import NamedTuple


class RoleArn(NamedTuple):
    """An IAM role ARN, read field by field (a role path may itself contain ``:``)."""

    partition: str
    account: str
    path: str
    name: str


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


def account_public_access_block_arn(partition: str, account: str) -> str:
    """The account-level Block Public Access configuration (S3 Control), which is not a bucket."""
    return f"arn:{partition}:s3::{account}:public-access-block"


def bucket_of_arn(arn: str) -> str | None:
    """The bucket an ``arn:partition:s3:::bucket`` ARN names; None for objects and account-level S3 ARNs.

    A bucket ARN carries neither region nor account, so an ARN with either is something
    else (``arn:aws:s3::111122223333:public-access-block`` is the account's Block Public Access).
    """
    fields = arn.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn" or fields[2] != "s3" or fields[3] or fields[4]:
        return None
    name = fields[5]
    return name if name and "/" not in name else None


@lru_cache(maxsize=1024)
def parse_role_arn(arn: str) -> RoleArn | None:
    """Read ``arn:partition:iam::account:role/path/name``; None if it is not a role ARN.

    Every event asks it for its actor's session issuer, often twice (own roles, service-linked roles): kept
    by the ARN's text, bounded (ARNs come from events), and the answer is an immutable tuple."""
    fields = arn.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn" or fields[2] != "iam" or not fields[5].startswith("role/"):
        return None
    path, _, name = fields[5][len("role") :].rpartition("/")
    if not name:
        return None
    return RoleArn(fields[1], fields[4], path + "/", name)
