"""``opensearch-access-policy-public`` and ``-cross-account``: OpenSearch domain access policies.

A domain's access policy is a field of its configuration: ``CreateDomain`` and ``UpdateDomainConfig``
(and the Elasticsearch-era ``CreateElasticsearchDomain`` / ``UpdateElasticsearchDomainConfig``) carry it as
``accessPolicies``, a policy JSON string, beside ``domainName`` (the API's ``AccessPolicies`` and
``DomainName`` in CloudTrail's camelCase; ``eventSource`` is ``es.amazonaws.com`` for both APIs). A
configuration change without ``accessPolicies`` leaves the policy as it was and is compliant. Judged with
the resource-policy analysis (``resource_policy``); the remediation writes the policy back through
``UpdateDomainConfig``, and an empty ``AccessPolicies`` removes it.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.findings import StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions
from iamwarden.guardrails.resource_policy import (
    PolicyEndpoint,
    PolicyResource,
    RemovePolicyStatements,
    ResourcePolicyRule,
)

_EVENTS = frozenset(
    {"CreateDomain", "UpdateDomainConfig", "CreateElasticsearchDomain", "UpdateElasticsearchDomainConfig"}
)

OPENSEARCH_ACCESS_POLICY_PUBLIC = RuleSpec(
    id="opensearch-access-policy-public",
    title="OpenSearch domain access policy open to the public",
    event_source="es.amazonaws.com",
    event_names=_EVENTS,
    risk="A domain access policy that lets in everyone exposes every index to anyone who reaches the endpoint.",
    alert_risk=(
        "Anyone who can reach this search domain can use what its access policy grants, so strangers can read, "
        "change or delete the indexed data."
    ),
    resource_types=frozenset({"AWS::OpenSearchService::Domain"}),
)

OPENSEARCH_ACCESS_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="opensearch-access-policy-cross-account",
    title="OpenSearch domain access policy shared with an untrusted account",
    event_source="es.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A domain access policy that lets in accounts outside the organisation hands the indexed data to people "
        "this organisation does not control and cannot audit."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this domain's access policy grants, and we can "
        "neither see nor control who they are or what they do with the data."
    ),
    resource_types=frozenset({"AWS::OpenSearchService::Domain"}),
)

DOMAIN = PolicyResource(
    noun="OpenSearch domain",
    name_parameter="domainName",
    document_parameter="accessPolicies",
    kind=PolicyKind.OPENSEARCH,
    arn=lambda partition, region, account, name: f"arn:{partition}:es:{region}:{account}:domain/{name}",
    step_parameter="domain",
    resource_type="AWS::OpenSearchService::Domain",
    service_wildcard="es:*",
    verbs=(
        ("es:ESHttpGet", "read the indexes"),
        ("es:ESHttpPost", "query and write the indexes"),
        ("es:ESHttpPut", "write the indexes"),
        ("es:ESHttpDelete", "delete indexes"),
        ("es:UpdateDomainConfig", "change the domain's configuration"),
    ),
)


class _NoAccessPolicy(Exception):
    """The domain has no access policy (its configuration holds an empty one), shaped like a botocore error."""

    code = "NoAccessPolicy"

    def __init__(self) -> None:
        super().__init__(self.code)
        self.response = {"Error": {"Code": self.code, "Message": "the domain has no access policy"}}


class OpenSearchPolicyEndpoint:
    """A domain's access policy, read from DescribeDomainConfig and written with UpdateDomainConfig."""

    get_permission: ClassVar[str] = "es:DescribeDomainConfig"
    put_permission: ClassVar[str] = "es:UpdateDomainConfig"
    delete_permission: ClassVar[str] = "es:UpdateDomainConfig"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({_NoAccessPolicy.code})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"ResourceNotFoundException"})

    def get(self, aws: AccountClients, name: str) -> str:
        config = aws.client("opensearch").describe_domain_config(DomainName=name)["DomainConfig"]
        policy = str((config.get("AccessPolicies") or {}).get("Options") or "")
        if not policy.strip():
            raise _NoAccessPolicy()
        return policy

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("opensearch").update_domain_config(DomainName=name, AccessPolicies=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.client("opensearch").update_domain_config(DomainName=name, AccessPolicies="")


class RemoveDomainPolicyStatements(RemovePolicyStatements):
    """The resource-policy removal; writing and deleting the policy are one IAM action here, declared once."""

    def __init__(self, name: str, resource: PolicyResource, endpoint: PolicyEndpoint) -> None:
        super().__init__(name, resource, endpoint)
        self.permissions: Permissions = tuple(dict.fromkeys(self.permissions))
        self.action = StepAction(name, self.permissions)


class OpenSearchPolicyRule(ResourcePolicyRule):
    """A configuration change is judged only when it sets the access policy."""

    def clears(self, context: RuleContext) -> bool:
        """``UpdateDomainConfig`` with ``accessPolicies`` "" removes the domain's access policy (IAM Warden's own
        removal writes ``AccessPolicies=""``): the record is cleared, as for an SQS ``Policy`` of ""."""
        return not self.creates(context) and context.change.request_parameters.get(DOMAIN.document_parameter) == ""

    def evaluate(self, context: RuleContext) -> Evaluation:
        value = context.change.request_parameters.get(DOMAIN.document_parameter)
        if value is None or (value == "" and not self.clears(context)):
            change = context.change
            name = context.request_text(DOMAIN.name_parameter)
            evaluation = Evaluation(resource_arn=DOMAIN.arn(context.partition, change.region, change.account, name))
            evaluation.compliant.append(f"the change to OpenSearch domain {name} sets no access policy")
            return evaluation
        return super().evaluate(context)


REMOVE_DOMAIN_POLICY_STATEMENTS = RemoveDomainPolicyStatements(
    "remove_opensearch_policy_statements", DOMAIN, OpenSearchPolicyEndpoint()
)
OPENSEARCH_POLICY_RULE = OpenSearchPolicyRule(
    OPENSEARCH_ACCESS_POLICY_PUBLIC, OPENSEARCH_ACCESS_POLICY_CROSS_ACCOUNT, DOMAIN, REMOVE_DOMAIN_POLICY_STATEMENTS
)

GUARDRAILS = (OPENSEARCH_POLICY_RULE,)
ACTIONS = (REMOVE_DOMAIN_POLICY_STATEMENTS,)
