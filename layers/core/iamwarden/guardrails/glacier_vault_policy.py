"""``glacier-vault-policy-public`` and ``-cross-account``: S3 Glacier vault access and lock policies.

``SetVaultAccessPolicy`` replaces a vault's access policy. CloudTrail records the request with the API's
``VaultAccessPolicy`` structure in camelCase: ``{"accountId": "-", "vaultName": "…", "policy": {"policy":
"<the policy JSON as a string>"}}`` (panther-analysis ``aws_resource_made_public.py`` and StreamAlert's
``cloudtrail_public_resources`` both read ``requestParameters.policy.policy``; the Glacier API reference's
SetVaultAccessPolicy body is ``{"Policy": string}``, "up to 20 KB"). ``accountId`` is the owner's account
or ``-`` (the caller's). ``CreateVault`` carries no policy, and ``DeleteVaultAccessPolicy`` only takes
access away: neither is routed.

``InitiateVaultLock`` carries a vault *lock* policy in the same shape (``VaultLockPolicy``). A lock policy
cannot be edited: it stays ``InProgress`` for 24 hours, during which ``AbortVaultLock`` discards it whole,
and ``CompleteVaultLock`` makes it immutable for the vault's life. Removing only the offending statements
is therefore impossible, and aborting would also discard the lock the owner is setting up (its deny rules,
the lock id their process completes with). A lock policy that lets in the public or an untrusted account is
judged like an access policy, but its finding needs context and is only alerted, with what to do: abort it
before ``CompleteVaultLock`` (``aws glacier abort-vault-lock``) and initiate a corrected one. A completed
lock cannot be helped by anyone.

The remediation of an access policy rewrites it without the offending statements, or deletes it
(``DeleteVaultAccessPolicy``) when nothing remains; undo puts the removed statements back. Glacier answers
``ResourceNotFoundException`` both for a vault without a policy and for a vault that is gone (c7n's
``glacier.RemovePolicyStatement`` reads it the same way); both mean "no policy to change" here.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.exposure import ACCOUNT_ID
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import (
    NewPolicy,
    PolicyResource,
    RemovePolicyStatements,
    ResourcePolicyRule,
)

#: The event that sets a vault's (editable) access policy, and the one that starts locking a vault.
SET_ACCESS_POLICY = "SetVaultAccessPolicy"
INITIATE_LOCK = "InitiateVaultLock"
#: The event that removes a vault's access policy (``accountId`` and ``vaultName``, as the put names them: the Glacier
#: API model's request members; no recorded CloudTrail example was found to confirm it): it judges nothing and clears
#: IAM Warden's record of the access policy (issue 13 item 7).
DELETE_ACCESS_POLICY = "DeleteVaultAccessPolicy"
_EVENTS = frozenset({SET_ACCESS_POLICY, INITIATE_LOCK, DELETE_ACCESS_POLICY})

GLACIER_VAULT_POLICY_PUBLIC = RuleSpec(
    id="glacier-vault-policy-public",
    title="Glacier vault policy open to the public",
    event_source="glacier.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A vault policy that lets in everyone lets anyone with an AWS account retrieve the archives it holds, "
        "upload into it or delete them; a completed vault lock policy can never be changed again."
    ),
    alert_risk=(
        "Anyone with an AWS account can use what this Glacier vault's policy grants, so strangers can retrieve or "
        "delete our archives; a vault lock policy, once completed, can never be taken back."
    ),
    resource_types=frozenset({"AWS::Glacier::Vault"}),
)

GLACIER_VAULT_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="glacier-vault-policy-cross-account",
    title="Glacier vault policy shared with an untrusted account",
    event_source="glacier.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A vault policy that lets in accounts outside the organisation hands them the archives, or the power to "
        "delete them, outside this organisation's control."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this Glacier vault's policy grants, and we can "
        "neither see nor control what they do with our archives."
    ),
    resource_types=frozenset({"AWS::Glacier::Vault"}),
)

VAULT = PolicyResource(
    noun="Glacier vault",
    name_parameter="vaultName",
    document_parameter="policy",
    kind=PolicyKind.GLACIER_VAULT,
    arn=lambda partition, region, account, name: f"arn:{partition}:glacier:{region}:{account}:vaults/{name}",
    step_parameter="vault",
    resource_type="AWS::Glacier::Vault",
    service_wildcard="glacier:*",
    verbs=(
        ("glacier:InitiateJob", "retrieve the archives"),
        ("glacier:GetJobOutput", "download retrieved archives"),
        ("glacier:UploadArchive", "upload archives"),
        ("glacier:DeleteArchive", "delete the archives"),
        ("glacier:SetVaultAccessPolicy", "change the vault's permissions"),
        ("glacier:DeleteVault", "delete the vault"),
    ),
)


def lock_fact(vault: str) -> str:
    """Why a lock policy's finding is alerted and never remediated, with what the owner can still do."""
    return (
        f"whether to abort the lock of Glacier vault {vault}: a vault lock policy cannot be edited, only "
        "discarded whole with AbortVaultLock before CompleteVaultLock (within 24 hours of InitiateVaultLock), "
        "which also discards its other statements and the lock in progress; once completed it can never be "
        "changed (abort it with `aws glacier abort-vault-lock` and initiate a corrected policy)"
    )


class GlacierVaultPolicyEndpoint:
    """A vault's access policy, through Glacier's Get/Set/DeleteVaultAccessPolicy (``accountId`` ``-``: ours)."""

    get_permission: ClassVar[str] = "glacier:GetVaultAccessPolicy"
    put_permission: ClassVar[str] = "glacier:SetVaultAccessPolicy"
    delete_permission: ClassVar[str] = "glacier:DeleteVaultAccessPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"ResourceNotFoundException"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset()

    def get(self, aws: AccountClients, name: str) -> str | None:
        answer = aws.client("glacier").get_vault_access_policy(accountId="-", vaultName=name)
        policy = (answer.get("policy") or {}).get("Policy")
        return str(policy) if policy else None

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("glacier").set_vault_access_policy(accountId="-", vaultName=name, policy={"Policy": policy})

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.client("glacier").delete_vault_access_policy(accountId="-", vaultName=name)


class GlacierVaultPolicyRule(ResourcePolicyRule):
    """The policy sits one level down (``policy.policy``); a lock policy's findings are alerted only."""

    def new_policy(self, context: RuleContext) -> NewPolicy | None:
        wrapper = context.change.request_parameters.get(VAULT.document_parameter)
        if wrapper is None:
            return None  # SetVaultAccessPolicy without a body sets no policy
        text = wrapper.get("policy") if isinstance(wrapper, dict) else wrapper
        if text in (None, ""):
            return None
        return NewPolicy(self.decoded(text, f"detail.requestParameters.{VAULT.document_parameter}.policy"))

    def policy_slot(self, context: RuleContext) -> str:
        """A vault has two policies: the access policy and the lock policy, each with its own last seen document."""
        return "vault-lock" if context.change.event_name == INITIATE_LOCK else ""

    def resource_arn(self, context: RuleContext, name: str) -> str:
        """The vault's ARN; ``accountId`` names the owner unless it is ``-`` (the caller's account)."""
        change = context.change
        owner = change.request_parameters.get("accountId")
        account = owner if isinstance(owner, str) and ACCOUNT_ID.fullmatch(owner) else change.account
        return VAULT.arn(context.partition, change.region, account, name)

    def evaluate(self, context: RuleContext) -> Evaluation:
        evaluation = super().evaluate(context)
        if context.change.event_name != INITIATE_LOCK or not evaluation.findings:
            return evaluation
        fact = lock_fact(self.resource_name(context))
        evaluation.findings = [
            finding._replace(
                reason=f"{finding.reason} This is a vault lock policy: IAM Warden cannot remove single statements "
                "from it, and never aborts a lock for its owner.",
                plan=(),
                needs_context=(fact, *finding.needs_context),
            )
            for finding in evaluation.findings
        ]
        return evaluation


REMOVE_VAULT_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_glacier_vault_policy_statements", VAULT, GlacierVaultPolicyEndpoint()
)
GLACIER_VAULT_POLICY_RULE = GlacierVaultPolicyRule(
    GLACIER_VAULT_POLICY_PUBLIC,
    GLACIER_VAULT_POLICY_CROSS_ACCOUNT,
    VAULT,
    REMOVE_VAULT_POLICY_STATEMENTS,
    deletions=frozenset({DELETE_ACCESS_POLICY}),
)

GUARDRAILS = (GLACIER_VAULT_POLICY_RULE,)
ACTIONS = (REMOVE_VAULT_POLICY_STATEMENTS,)
