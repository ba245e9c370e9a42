"""``sns-topic-policy-public`` and ``sns-topic-policy-cross-account``: topic policies on the resource-policy path.

Three calls set a topic's policy (SNS API reference; CloudTrail records the
request parameters in camel case):

* ``CreateTopic``: ``name`` and ``attributes.Policy`` in the request, the ``topicArn``
  in the response;
* ``SetTopicAttributes``: ``topicArn``, ``attributeName`` (``Policy``) and ``attributeValue``;
* ``AddPermission``: ``topicArn``, ``label``, ``aWSAccountId`` and ``actionName``; SNS
  writes one statement with Sid ``label`` letting those accounts call ``SNS:<action>``.

A topic always has a policy: the default one lets in only the owner
(``AWS:SourceOwner``). So when every statement offends, the remediation puts
that default policy back instead of deleting.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import parse_policy
from iamwarden.guardrails.base import RuleContext
from iamwarden.guardrails.remediation import AccountClients
from iamwarden.guardrails.resource_policy import (
    LABEL_MATCH,
    NewPolicy,
    PolicyResource,
    RemovePolicyStatements,
    ResourcePolicyRule,
)

#: ``RemovePermission`` judges nothing: it takes the statement of its ``label`` out of IAM Warden's record.
#: ``DeleteTopic`` judges nothing either: the topic and its policy are gone, so the record is cleared (a topic made
#: again under the name starts with SNS's default policy, and nothing of the old one counts as "already there" or
#: accepted). Its shape (``topicArn`` only) is the Amazon SNS Developer Guide's CloudTrail example ("Logging Amazon SNS
#: API calls using CloudTrail", awsdocs/amazon-sns-developer-guide doc_source/sns-logging-using-cloudtrail.md).
_EVENTS = frozenset({"CreateTopic", "SetTopicAttributes", "AddPermission", "RemovePermission", "DeleteTopic"})

SNS_TOPIC_POLICY_PUBLIC = RuleSpec(
    id="sns-topic-policy-public",
    resource_types=frozenset({"AWS::SNS::Topic"}),
    title="Topic policy open to the public",
    event_source="sns.amazonaws.com",
    event_names=_EVENTS,
    risk="A topic policy that lets in everyone lets anyone on the internet publish to it or subscribe to it.",
    alert_risk=(
        "Anyone on the internet can use what this topic policy grants: subscribe and receive every message "
        "published to it, or publish messages that its subscribers will trust and act on."
    ),
)

SNS_TOPIC_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="sns-topic-policy-cross-account",
    resource_types=frozenset({"AWS::SNS::Topic"}),
    title="Topic policy shared with an untrusted account",
    event_source="sns.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "A topic policy that lets in accounts outside the organisation lets people this organisation does not "
        "control subscribe to its messages or publish into it."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use what this topic policy grants (subscribe to its "
        "messages or publish into it), and we can neither see nor control who they are."
    ),
)

TOPIC = PolicyResource(
    noun="topic",
    name_parameter="topicArn",
    document_parameter="attributeValue",
    kind=PolicyKind.TOPIC,
    arn=lambda _partition, _region, _account, arn: arn,
    step_parameter="topic_arn",
    resource_type="AWS::SNS::Topic",
    service_wildcard="sns:*",
    verbs=(
        ("sns:Subscribe", "subscribe"),
        ("sns:Publish", "publish"),
        ("sns:SetTopicAttributes", "change the topic's permissions"),
        ("sns:DeleteTopic", "delete the topic"),
    ),
)

#: What SNS's default topic policy lets the owner's principals do.
_OWNER_ACTIONS = (
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
)


def default_topic_policy(topic_arn: str) -> dict[str, Any]:
    """The policy SNS gives a new topic: only principals of the owning account (``AWS:SourceOwner``)."""
    owner = topic_arn.split(":")[4]
    return {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": list(_OWNER_ACTIONS),
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": owner}},
            }
        ],
    }


class SnsTopicPolicyEndpoint:
    """A topic's policy: its ``Policy`` attribute; "deleting" it puts SNS's default policy back."""

    get_permission: ClassVar[str] = "sns:GetTopicAttributes"
    put_permission: ClassVar[str] = "sns:SetTopicAttributes"
    delete_permission: ClassVar[str] = "sns:SetTopicAttributes"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset()
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"NotFound", "NotFoundException"})

    def get(self, aws: AccountClients, name: str) -> str | None:
        policy = aws.client("sns").get_topic_attributes(TopicArn=name).get("Attributes", {}).get("Policy")
        return str(policy) if policy else None

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("sns").set_topic_attributes(TopicArn=name, AttributeName="Policy", AttributeValue=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        self.put(aws, name, json.dumps(default_topic_policy(name)))


class SnsTopicPolicyRule(ResourcePolicyRule):
    """CreateTopic and SetTopicAttributes (their ``Policy`` attribute) and AddPermission, judged as topic policies."""

    label_match = LABEL_MATCH

    def resource_name(self, context: RuleContext) -> str:
        change = context.change
        if change.event_name == "CreateTopic":
            arn = (change.response_elements or {}).get("topicArn")
            if isinstance(arn, str) and arn:
                return _checked(arn)
            raise InvalidEventError("detail.responseElements.topicArn must be the new topic's ARN")
        return _checked(context.request_text("topicArn"))

    def resource_arn(self, context: RuleContext, name: str) -> str:
        return name

    def display_name(self, name: str) -> str:
        return name.rsplit(":", 1)[-1]

    def removed_sid(self, context: RuleContext) -> str | None:
        """``RemovePermission`` (``topicArn`` and ``label`` in the request; assembled from the SNS API model, whose
        RemovePermission takes ``TopicArn`` and ``Label``, in CloudTrail's camel case as AddPermission's) removes the
        statement of Sid ``label``, the one an AddPermission of that label wrote."""
        if context.change.event_name != "RemovePermission":
            return None
        return context.request_text("label")

    def new_policy(self, context: RuleContext) -> NewPolicy | None:
        change = context.change
        request = change.request_parameters
        if change.event_name == "AddPermission":
            return NewPolicy(parse_policy(_permission_document(context), field="detail.requestParameters"), True)
        if change.event_name == "SetTopicAttributes":
            if request.get("attributeName") != "Policy" or not request.get("attributeValue"):
                return None  # another attribute (DisplayName, DeliveryPolicy, ...)
            return NewPolicy(self.decoded(request["attributeValue"], "detail.requestParameters.attributeValue"))
        attributes = request.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise InvalidEventError(
                f"detail.requestParameters.attributes must be an object, got {json_type_name(attributes)}"
            )
        if not attributes.get("Policy"):
            return None  # the default policy: the owner only
        return NewPolicy(self.decoded(attributes["Policy"], "detail.requestParameters.attributes.Policy"))


def _checked(arn: str) -> str:
    fields = arn.split(":")
    if len(fields) != 6 or fields[0] != "arn" or fields[2] != "sns" or not fields[5]:
        raise InvalidEventError(f"{arn!r} is not an SNS topic ARN")
    return arn


def _strings(context: RuleContext, *keys: str) -> list[str]:
    """A list of strings CloudTrail records under one of ``keys`` (the casing varies with the SDK)."""
    value = next((context.change.request_parameters[k] for k in keys if k in context.change.request_parameters), None)
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise InvalidEventError(f"detail.requestParameters.{keys[0]} must be a non-empty list of strings")
    return [str(item) for item in items]


def _permission_document(context: RuleContext) -> dict[str, Any]:
    """The statement SNS writes for an AddPermission call: Sid ``label``, the accounts, ``SNS:<action>``."""
    topic = _checked(context.request_text("topicArn"))
    accounts = _strings(context, "aWSAccountId", "AWSAccountId")
    actions = _strings(context, "actionName", "ActionName")
    partition = context.partition
    principals = [account if account == "*" else f"arn:{partition}:iam::{account}:root" for account in accounts]
    return {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Sid": context.request_text("label"),
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": [f"SNS:{action}" for action in actions],
                "Resource": topic,
            }
        ],
    }


REMOVE_TOPIC_POLICY_STATEMENTS = RemovePolicyStatements(
    "remove_topic_policy_statements", TOPIC, SnsTopicPolicyEndpoint()
)
TOPIC_POLICY_RULE = SnsTopicPolicyRule(
    SNS_TOPIC_POLICY_PUBLIC,
    SNS_TOPIC_POLICY_CROSS_ACCOUNT,
    TOPIC,
    REMOVE_TOPIC_POLICY_STATEMENTS,
    deletions=frozenset({"DeleteTopic"}),
)

GUARDRAILS = (TOPIC_POLICY_RULE,)
ACTIONS = (REMOVE_TOPIC_POLICY_STATEMENTS,)
