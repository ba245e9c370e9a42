"""``dynamodb-resource-policy-public`` and ``-cross-account``: DynamoDB table and stream policies.

DynamoDB's resource-based policies (tables, their indexes and streams) are set with
``PutResourcePolicy``; CloudTrail records the request as ``{"resourceArn": "arn:aws:dynamodb:…:table/orders",
"policy": "<the policy JSON as a string>"}`` (the API's ``ResourceArn`` and ``Policy`` in CloudTrail's
camelCase, as for every JSON-protocol service). A table can also be born with a policy: ``CreateTable``
takes ``ResourcePolicy`` (since March 2024; ``resourcePolicy`` in the record, the new table's ARN in
``responseElements.tableDescription.tableArn``), the same document by a second door, judged the same way.
Both rules judge that document with one analysis (``resource_policy``); this module says only what is
particular to DynamoDB.
"""

from __future__ import annotations

from typing import ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import NewPolicy, PolicyResource, RemovePolicyStatements, ResourcePolicyRule

_EVENTS = frozenset({"PutResourcePolicy", "CreateTable", "DeleteResourcePolicy"})

DYNAMODB_RESOURCE_POLICY_PUBLIC = RuleSpec(
    id="dynamodb-resource-policy-public",
    title="DynamoDB table or stream policy open to the public",
    event_source="dynamodb.amazonaws.com",
    event_names=_EVENTS,
    risk="A table or stream policy that lets in everyone exposes its items to anyone with an AWS account.",
    alert_risk=(
        "Anyone with an AWS account can use what this table or stream policy grants, so strangers can read, "
        "change or delete the items it covers."
    ),
    resource_types=frozenset({"AWS::DynamoDB::Table", "AWS::DynamoDB::Stream"}),
)

DYNAMODB_RESOURCE_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="dynamodb-resource-policy-cross-account",
    title="DynamoDB table or stream policy shared with an untrusted account",
    event_source="dynamodb.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A table or stream policy that lets in accounts outside the organisation hands the data to people "
        "this organisation does not control and cannot audit."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this table or stream policy grants, and we "
        "can neither see nor control who they are or what they do with the data."
    ),
    resource_types=frozenset({"AWS::DynamoDB::Table", "AWS::DynamoDB::Stream"}),
)

TABLE_OR_STREAM = PolicyResource(
    noun="DynamoDB resource",
    name_parameter="resourceArn",
    document_parameter="policy",
    kind=PolicyKind.DYNAMODB,
    arn=lambda _partition, _region, _account, arn: arn,  # the event names the resource by its ARN
    step_parameter="resource_arn",
    resource_type="AWS::DynamoDB::Table",
    service_wildcard="dynamodb:*",
    verbs=(
        ("dynamodb:GetItem", "read items"),
        ("dynamodb:Query", "query items"),
        ("dynamodb:Scan", "scan every item"),
        ("dynamodb:GetRecords", "read the change stream"),
        ("dynamodb:PutItem", "write items"),
        ("dynamodb:DeleteItem", "delete items"),
        ("dynamodb:PutResourcePolicy", "change the table's permissions"),
    ),
)


class DynamoDbPolicyEndpoint:
    """A table's or stream's policy, through DynamoDB's Get/Put/DeleteResourcePolicy."""

    get_permission: ClassVar[str] = "dynamodb:GetResourcePolicy"
    put_permission: ClassVar[str] = "dynamodb:PutResourcePolicy"
    delete_permission: ClassVar[str] = "dynamodb:DeleteResourcePolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset({"PolicyNotFoundException"})
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"ResourceNotFoundException"})

    def get(self, aws: AccountClients, name: str) -> str:
        return str(aws.client("dynamodb").get_resource_policy(ResourceArn=name)["Policy"])

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("dynamodb").put_resource_policy(ResourceArn=name, Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.client("dynamodb").delete_resource_policy(ResourceArn=name)


class DynamoDbPolicyRule(ResourcePolicyRule):
    """PutResourcePolicy, and CreateTable with a ``resourcePolicy``, judged as table policies."""

    def evaluate(self, context: RuleContext) -> Evaluation:
        evaluation = super().evaluate(context)
        if context.change.event_name == "CreateTable":
            # A new table's policy may not read back yet (DynamoDB Developer Guide, resource-based policies: "eventual
            # consistency"): its removal step must not take "no policy" for "already gone" (review s11 W0).
            evaluation.findings[:] = [
                finding._replace(
                    plan=tuple(
                        step._replace(parameters={**step.parameters, "policy_expected": True}) for step in finding.plan
                    )
                )
                for finding in evaluation.findings
            ]
        return evaluation

    def resource_name(self, context: RuleContext) -> str:
        change = context.change
        if change.event_name != "CreateTable":
            return super().resource_name(context)
        description = (change.response_elements or {}).get("tableDescription")
        arn = description.get("tableArn") if isinstance(description, dict) else None
        if isinstance(arn, str) and arn:
            return arn
        # The table's ARN follows from its name, Region and account when the response does not carry it.
        name = context.request_text("tableName")
        return f"arn:{context.partition}:dynamodb:{change.region}:{change.account}:table/{name}"

    def new_policy(self, context: RuleContext) -> NewPolicy | None:
        if context.change.event_name != "CreateTable":
            return super().new_policy(context)
        policy = context.change.request_parameters.get("resourcePolicy")
        if policy is None or policy == "":
            return None  # a table without a policy: only IAM policies of its own account reach it
        return NewPolicy(self.decoded(policy, "detail.requestParameters.resourcePolicy"))


REMOVE_DYNAMODB_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_dynamodb_policy_statements", TABLE_OR_STREAM, DynamoDbPolicyEndpoint()
)
#: ``DeleteResourcePolicy`` removes the policy: it judges nothing and clears IAM Warden's record of it
#: (issue 13 item 7). It names the resource by ``resourceArn``, as the put does: the DynamoDB API model's
#: request member in CloudTrail's lowerCamel spelling (no recorded CloudTrail example was found to confirm it).
DYNAMODB_POLICY_RULE = DynamoDbPolicyRule(
    DYNAMODB_RESOURCE_POLICY_PUBLIC,
    DYNAMODB_RESOURCE_POLICY_CROSS_ACCOUNT,
    TABLE_OR_STREAM,
    REMOVE_DYNAMODB_POLICY_STATEMENTS,
    deletions=frozenset({"DeleteResourcePolicy"}),
)

GUARDRAILS = (DYNAMODB_POLICY_RULE,)
ACTIONS = (REMOVE_DYNAMODB_POLICY_STATEMENTS,)
