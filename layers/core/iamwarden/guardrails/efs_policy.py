"""``efs-file-system-policy-public`` and ``-cross-account``: EFS file system policies on the resource-policy path.

``PutFileSystemPolicy`` replaces a file system's policy; CloudTrail records the request as
``{"fileSystemId": "fs-…", "policy": "<the policy JSON as a string>", "bypassPolicyLockoutSafetyCheck": false}``
(the API's ``FileSystemId`` and ``Policy`` in CloudTrail's camelCase). Both rules judge that document with one
analysis (``resource_policy``); this module says only what is particular to EFS. A public statement matters even
though mounting needs network reach: anyone who reaches a mount target (a peered VPC, a shared subnet) is let in.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import PolicyResource, RemovePolicyStatements, ResourcePolicyRule

EFS_FILE_SYSTEM_POLICY_PUBLIC = RuleSpec(
    id="efs-file-system-policy-public",
    title="EFS file system policy open to the public",
    event_source="elasticfilesystem.amazonaws.com",
    event_names=frozenset({"PutFileSystemPolicy", "DeleteFileSystemPolicy"}),
    risk=(
        "A file system policy that lets in everyone lets any client that reaches a mount target mount, read "
        "and write the files, whoever it is."
    ),
    alert_risk=(
        "Anyone who can reach this file system over the network can mount it and read or change its files "
        "without any AWS permission of ours."
    ),
    resource_types=frozenset({"AWS::EFS::FileSystem"}),
)

EFS_FILE_SYSTEM_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="efs-file-system-policy-cross-account",
    title="EFS file system policy shared with an untrusted account",
    event_source="elasticfilesystem.amazonaws.com",
    event_names=frozenset({"PutFileSystemPolicy", "DeleteFileSystemPolicy"}),
    risk=(
        "A file system policy that lets in accounts outside the organisation hands the files to people this "
        "organisation does not control and cannot audit."
    ),
    alert_risk=(
        "People in accounts outside this organisation can mount this file system and use its files, and we can "
        "neither see nor control who they are or what they do with them."
    ),
    resource_types=frozenset({"AWS::EFS::FileSystem"}),
)

FILE_SYSTEM = PolicyResource(
    noun="EFS file system",
    name_parameter="fileSystemId",
    document_parameter="policy",
    kind=PolicyKind.EFS,
    arn=lambda partition, region, account, name: (
        f"arn:{partition}:elasticfilesystem:{region}:{account}:file-system/{name}"
    ),
    step_parameter="file_system_id",
    resource_type="AWS::EFS::FileSystem",
    service_wildcard="elasticfilesystem:*",
    verbs=(
        ("elasticfilesystem:ClientMount", "mount and read the files"),
        ("elasticfilesystem:ClientWrite", "write the files"),
        ("elasticfilesystem:ClientRootAccess", "act as root on the files"),
        ("elasticfilesystem:PutFileSystemPolicy", "change the file system's permissions"),
    ),
)


class EfsPolicyEndpoint:
    """A file system's policy, through EFS's Describe/Put/DeleteFileSystemPolicy."""

    get_permission: ClassVar[str] = "elasticfilesystem:DescribeFileSystemPolicy"
    put_permission: ClassVar[str] = "elasticfilesystem:PutFileSystemPolicy"
    delete_permission: ClassVar[str] = "elasticfilesystem:DeleteFileSystemPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"PolicyNotFound"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"FileSystemNotFound"})

    def get(self, aws: AccountClients, name: str) -> str:
        return str(aws.client("efs").describe_file_system_policy(FileSystemId=name)["Policy"])

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("efs").put_file_system_policy(FileSystemId=name, Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.client("efs").delete_file_system_policy(FileSystemId=name)


REMOVE_EFS_POLICY_STATEMENTS = RemovePolicyStatements("remove_efs_policy_statements", FILE_SYSTEM, EfsPolicyEndpoint())
#: ``DeleteFileSystemPolicy`` removes the policy: it judges nothing and clears IAM Warden's record of it
#: (issue 13 item 7). It names the resource by ``fileSystemId``, as the put does: the EFS API model's
#: request member in CloudTrail's lowerCamel spelling (no recorded CloudTrail example was found to confirm it).
EFS_POLICY_RULE = ResourcePolicyRule(
    EFS_FILE_SYSTEM_POLICY_PUBLIC,
    EFS_FILE_SYSTEM_POLICY_CROSS_ACCOUNT,
    FILE_SYSTEM,
    REMOVE_EFS_POLICY_STATEMENTS,
    deletions=frozenset({"DeleteFileSystemPolicy"}),
    # The EFS API reference (DeleteFileSystemPolicy): "The default FileSystemPolicy goes into effect once the
    # existing policy is deleted", and that default grants full access to any client that can reach a mount target.
    without_policy=(
        "the default file system policy applies again, which grants full access to any client that can reach the "
        "file system's mount targets (network access decides who gets in)"
    ),
)

GUARDRAILS = (EFS_POLICY_RULE,)
ACTIONS = (REMOVE_EFS_POLICY_STATEMENTS,)
