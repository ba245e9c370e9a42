"""``backup-vault-policy-public`` and ``-cross-account``: AWS Backup vault access policies.

``PutBackupVaultAccessPolicy`` replaces a vault's policy; CloudTrail records the request as
``{"backupVaultName": "…", "policy": "<the policy JSON as a string>"}`` (the API's ``BackupVaultName`` and
``Policy`` in CloudTrail's camelCase). A vault shared outside the organisation lets others copy its recovery
points, or delete them (``backup:DeleteRecoveryPoint``). Judged with the resource-policy analysis
(``resource_policy``). AWS Backup answers ``ResourceNotFoundException`` both for a vault without a policy and
for a vault that is gone; both mean "no policy to change" here.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import PolicyResource, RemovePolicyStatements, ResourcePolicyRule

BACKUP_VAULT_POLICY_PUBLIC = RuleSpec(
    id="backup-vault-policy-public",
    title="Backup vault access policy open to the public",
    event_source="backup.amazonaws.com",
    event_names=frozenset({"PutBackupVaultAccessPolicy", "DeleteBackupVaultAccessPolicy"}),
    risk="A vault policy that lets in everyone lets anyone copy or delete the backups it holds.",
    alert_risk=(
        "Anyone with an AWS account can use what this backup vault's policy grants, so strangers can copy our "
        "backups or delete the copies we would restore from."
    ),
    resource_types=frozenset({"AWS::Backup::BackupVault"}),
)

BACKUP_VAULT_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="backup-vault-policy-cross-account",
    title="Backup vault access policy shared with an untrusted account",
    event_source="backup.amazonaws.com",
    event_names=frozenset({"PutBackupVaultAccessPolicy", "DeleteBackupVaultAccessPolicy"}),
    risk=(
        "A vault policy that lets in accounts outside the organisation hands them the backups, or the power to "
        "delete them, outside this organisation's control."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this backup vault's policy grants, and we can "
        "neither see nor control what they do with our backups."
    ),
    resource_types=frozenset({"AWS::Backup::BackupVault"}),
)

VAULT = PolicyResource(
    noun="backup vault",
    name_parameter="backupVaultName",
    document_parameter="policy",
    kind=PolicyKind.BACKUP_VAULT,
    arn=lambda partition, region, account, name: f"arn:{partition}:backup:{region}:{account}:backup-vault:{name}",
    step_parameter="backup_vault",
    resource_type="AWS::Backup::BackupVault",
    service_wildcard="backup:*",
    verbs=(
        ("backup:CopyIntoBackupVault", "copy backups into the vault"),
        ("backup:CopyFromBackupVault", "copy the backups out"),
        ("backup:DeleteRecoveryPoint", "delete the backups"),
        ("backup:PutBackupVaultAccessPolicy", "change the vault's permissions"),
    ),
)


class BackupVaultPolicyEndpoint:
    """A vault's access policy, through AWS Backup's Get/Put/DeleteBackupVaultAccessPolicy."""

    get_permission: ClassVar[str] = "backup:GetBackupVaultAccessPolicy"
    put_permission: ClassVar[str] = "backup:PutBackupVaultAccessPolicy"
    delete_permission: ClassVar[str] = "backup:DeleteBackupVaultAccessPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"ResourceNotFoundException"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset()

    def get(self, aws: AccountClients, name: str) -> str:
        return str(aws.client("backup").get_backup_vault_access_policy(BackupVaultName=name)["Policy"])

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("backup").put_backup_vault_access_policy(BackupVaultName=name, Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.client("backup").delete_backup_vault_access_policy(BackupVaultName=name)


REMOVE_BACKUP_VAULT_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_backup_vault_policy_statements", VAULT, BackupVaultPolicyEndpoint()
)
#: ``DeleteBackupVaultAccessPolicy`` removes the policy: it judges nothing and clears IAM Warden's record of it
#: (issue 13 item 7). It names the resource by ``backupVaultName``, as the put does: the Backup API model's
#: request member in CloudTrail's lowerCamel spelling (no recorded CloudTrail example was found to confirm it).
BACKUP_VAULT_POLICY_RULE = ResourcePolicyRule(
    BACKUP_VAULT_POLICY_PUBLIC,
    BACKUP_VAULT_POLICY_CROSS_ACCOUNT,
    VAULT,
    REMOVE_BACKUP_VAULT_POLICY_STATEMENTS,
    deletions=frozenset({"DeleteBackupVaultAccessPolicy"}),
)

GUARDRAILS = (BACKUP_VAULT_POLICY_RULE,)
ACTIONS = (REMOVE_BACKUP_VAULT_POLICY_STATEMENTS,)
