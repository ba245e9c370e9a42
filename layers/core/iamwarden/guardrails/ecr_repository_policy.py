"""``ecr-repository-policy-public`` and ``ecr-repository-policy-cross-account``: ECR repository policies.

``SetRepositoryPolicy`` (``repositoryName``, ``policyText``, ``registryId``) sets a
repository's policy (ECR API reference: at most 10,240 characters). The remediation
rewrites the live policy without the offending statements, or deletes it when nothing
remains.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.guardrails.base import RuleContext
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import PolicyResource, RemovePolicyStatements, ResourcePolicyRule

DELETE_EVENT = "DeleteRepositoryPolicy"
_EVENTS = frozenset({"SetRepositoryPolicy", DELETE_EVENT})

ECR_REPOSITORY_POLICY_PUBLIC = RuleSpec(
    id="ecr-repository-policy-public",
    resource_types=frozenset({"AWS::ECR::Repository"}),
    title="Repository policy open to the public",
    event_source="ecr.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A repository policy that lets in everyone lets anyone with an AWS account pull the images (and the code "
        "and secrets baked into them), or push images that workloads will run."
    ),
    alert_risk=(
        "Anyone with an AWS account can use what this repository policy grants: pull our images, with the code "
        "and any secrets in them, or push images that our workloads will then run."
    ),
)

ECR_REPOSITORY_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="ecr-repository-policy-cross-account",
    resource_types=frozenset({"AWS::ECR::Repository"}),
    title="Repository policy shared with an untrusted account",
    event_source="ecr.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A repository policy that lets in accounts outside the organisation hands its images to people this "
        "organisation does not control."
    ),
    alert_risk=(
        "People in accounts outside this organisation can pull (or push) images in this repository as its policy "
        "grants, and we can neither see nor control who they are."
    ),
)

REPOSITORY = PolicyResource(
    noun="repository",
    name_parameter="repositoryName",
    document_parameter="policyText",
    kind=PolicyKind.REPOSITORY,
    arn=lambda partition, region, account, name: f"arn:{partition}:ecr:{region}:{account}:repository/{name}",
    step_parameter="repository",
    resource_type="AWS::ECR::Repository",
    service_wildcard="ecr:*",
    verbs=(
        ("ecr:BatchGetImage", "pull images"),
        ("ecr:PutImage", "push images"),
        ("ecr:SetRepositoryPolicy", "change the repository's permissions"),
        ("ecr:DeleteRepository", "delete the repository"),
    ),
)


class EcrRepositoryPolicyEndpoint:
    """A repository's policy, through Get/Set/DeleteRepositoryPolicy (in the event account's registry)."""

    get_permission: ClassVar[str] = "ecr:GetRepositoryPolicy"
    put_permission: ClassVar[str] = "ecr:SetRepositoryPolicy"
    delete_permission: ClassVar[str] = "ecr:DeleteRepositoryPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"RepositoryPolicyNotFoundException"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"RepositoryNotFoundException"})

    def get(self, aws: AccountClients, name: str) -> str | None:
        policy = aws.client("ecr").get_repository_policy(repositoryName=name).get("policyText")
        return str(policy) if policy else None

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("ecr").set_repository_policy(repositoryName=name, policyText=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.client("ecr").delete_repository_policy(repositoryName=name)


class EcrRepositoryPolicyRule(ResourcePolicyRule):
    """SetRepositoryPolicy; a ``registryId`` names the registry's account (the engine rejects another one)."""

    def resource_arn(self, context: RuleContext, name: str) -> str:
        change = context.change
        registry = change.request_parameters.get("registryId")
        account = registry if isinstance(registry, str) and registry else change.account
        return self.resource.arn(context.partition, change.region, account, name)


REMOVE_REPOSITORY_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_repository_policy_statements", REPOSITORY, EcrRepositoryPolicyEndpoint()
)
#: ``DeleteRepositoryPolicy`` removes the policy: it judges nothing and clears IAM Warden's record of it
#: (issue 13 item 7). It names the resource by ``repositoryName``, as the put does: the ECR API model's
#: request member in CloudTrail's lowerCamel spelling (no recorded CloudTrail example was found to confirm it).
REPOSITORY_POLICY_RULE = EcrRepositoryPolicyRule(
    ECR_REPOSITORY_POLICY_PUBLIC,
    ECR_REPOSITORY_POLICY_CROSS_ACCOUNT,
    REPOSITORY,
    REMOVE_REPOSITORY_POLICY_STATEMENTS,
    deletions=frozenset({DELETE_EVENT}),
)

GUARDRAILS = (REPOSITORY_POLICY_RULE,)
ACTIONS = (REMOVE_REPOSITORY_POLICY_STATEMENTS,)
