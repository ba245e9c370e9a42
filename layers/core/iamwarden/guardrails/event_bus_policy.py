"""``event-bus-policy-public`` and ``event-bus-policy-cross-account``: EventBridge event bus policies.

``PutPermission`` (EventBridge API reference; CloudTrail records the parameters in camel
case) either carries a whole ``policy`` for the bus, judged by content, or the pieces of
one statement: ``statementId``, ``principal`` (an account id or ``*``), ``action``
(``events:PutEvents``) and a ``condition`` (``type``, ``key``, ``value``, such as
``aws:PrincipalOrgID``), which EventBridge writes as a statement with that Sid. Either
lets outsiders put events on the bus, and so into every rule and target behind it.

The remediation removes exactly the offending statements by their Sid
(``RemovePermission``); undo puts them back into the current policy (``PutPermission``
with the whole policy).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from iamwarden.adapters.errors import ignoring
from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.exceptions import InvalidEventError, RemediationError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.statement_meaning import still_granted
from iamwarden.guardrails.base import RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun, statement_list
from iamwarden.guardrails.resource_policy import (
    NewPolicy,
    PolicyResource,
    RemovePolicyStatements,
    ResourcePolicyRule,
    statement_offends,
    unmatched_grant,
)

_EVENTS = frozenset({"PutPermission"})

EVENT_BUS_POLICY_PUBLIC = RuleSpec(
    id="event-bus-policy-public",
    resource_types=frozenset({"AWS::Events::EventBus"}),
    title="Event bus policy open to the public",
    event_source="events.amazonaws.com",
    event_names=_EVENTS,
    risk="An event bus policy that lets in everyone lets anyone put events that the bus's rules act on.",
    alert_risk=(
        "Anyone with an AWS account can put events on this bus, and every rule behind it will act on them: "
        "start functions, workflows or deployments with data they choose."
    ),
)

EVENT_BUS_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="event-bus-policy-cross-account",
    resource_types=frozenset({"AWS::Events::EventBus"}),
    title="Event bus policy shared with an untrusted account",
    event_source="events.amazonaws.com",
    event_names=_EVENTS,
    risk=(
        "An event bus policy that lets in accounts outside the organisation lets people this organisation does "
        "not control put events that its rules act on."
    ),
    alert_risk=(
        "People in accounts outside this organisation can put events on this bus, and its rules will act on "
        "them; we can neither see nor control who they are."
    ),
)


def event_bus_arn(partition: str, region: str, account: str, bus: str) -> str:
    if bus.startswith("arn:"):
        fields = bus.split(":", 5)
        if len(fields) != 6 or fields[2] != "events" or not fields[5].startswith("event-bus/"):
            raise InvalidEventError(f"{bus!r} is not an EventBridge event bus ARN")
        return bus
    return f"arn:{partition}:events:{region}:{account}:event-bus/{bus}"


EVENT_BUS = PolicyResource(
    noun="event bus",
    name_parameter="eventBusName",
    document_parameter="policy",
    kind=PolicyKind.EVENT_BUS,
    arn=event_bus_arn,
    step_parameter="event_bus",
    resource_type="AWS::Events::EventBus",
    service_wildcard="events:*",
    verbs=(("events:PutEvents", "put events"), ("events:PutRule", "create rules")),
)


class EventBusPolicyEndpoint:
    """A bus's policy: DescribeEventBus reads it, PutPermission with ``Policy`` replaces it."""

    get_permission: ClassVar[str] = "events:DescribeEventBus"
    put_permission: ClassVar[str] = "events:PutPermission"
    delete_permission: ClassVar[str] = "events:RemovePermission"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset()
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"ResourceNotFoundException"})

    def get(self, aws: AccountClients, name: str) -> str | None:
        policy = aws.client("events").describe_event_bus(Name=name).get("Policy")
        return str(policy) if policy else None

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("events").put_permission(EventBusName=name, Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        aws.client("events").remove_permission(EventBusName=name, RemoveAllPermissions=True)


class RemoveEventBusStatements(RemovePolicyStatements):
    """Remove exactly the offending statements from a bus's policy by Sid (RemovePermission). Undoable."""

    #: RemovePermission removes a statement by its Sid and writes nothing back: no older statement is put back.
    puts_back = False

    def __init__(self) -> None:
        super().__init__("remove_event_bus_policy_statements", EVENT_BUS, EventBusPolicyEndpoint())
        self.permissions: Permissions = ("events:DescribeEventBus", "events:RemovePermission")
        self.action = StepAction("remove_event_bus_policy_statements", self.permissions)
        self.undo_permissions: Permissions = ("events:DescribeEventBus", "events:PutPermission")

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["policy"] is None:
            return
        bus = step.parameters["event_bus"]
        statements = statement_list(json.loads(before["policy"]))
        offending = [s for s in statements if statement_offends(s, step)]
        for statement in offending:
            sid = statement.get("Sid") if isinstance(statement, dict) else None
            if not sid:
                raise RemediationError(f"a statement of the policy of event bus {bus} has no Sid: remove it by hand")
            with ignoring("ResourceNotFoundException"):  # removed in the meantime
                run.aws.client("events").remove_permission(EventBusName=bus, StatementId=sid)
            done.append(f"removed statement {sid} from the policy of event bus {bus}")
        remaining = [s for s in statements if not statement_offends(s, step)]
        left = still_granted(remaining, step.parameters["statements"], run.aws.account)
        if left:  # the grant is live in a statement that is not the event's: never "already safe"
            why = "no statement matches the event's" if not offending else "other statements than the event's grant it"
            raise RemediationError(unmatched_grant(f"the policy of event bus {bus}", left, why))


class EventBusPolicyRule(ResourcePolicyRule):
    """PutPermission: a whole policy, or one statement from its pieces (matched by its Sid)."""

    def resource_name(self, context: RuleContext) -> str:
        bus = context.change.request_parameters.get("eventBusName") or "default"
        if not isinstance(bus, str):
            raise InvalidEventError("detail.requestParameters.eventBusName must be a string")
        return bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus

    def new_policy(self, context: RuleContext) -> NewPolicy | None:
        request = context.change.request_parameters
        if request.get("policy"):
            return NewPolicy(self.decoded(request["policy"], "detail.requestParameters.policy"))
        principal = context.request_text("principal")
        statement: dict[str, Any] = {
            "Sid": context.request_text("statementId"),
            "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": f"arn:{context.partition}:iam::{principal}:root"},
            "Action": request.get("action") or "events:PutEvents",
            "Resource": self.resource_arn(context, self.resource_name(context)),
        }
        condition = request.get("condition")
        if isinstance(condition, dict) and condition:
            try:
                statement["Condition"] = {str(condition["type"]): {str(condition["key"]): str(condition["value"])}}
            except KeyError as exc:
                raise InvalidEventError("detail.requestParameters.condition must have type, key and value") from exc
        return NewPolicy(
            self.decoded({"Version": "2012-10-17", "Statement": [statement]}, "detail.requestParameters"), True
        )


REMOVE_EVENT_BUS_POLICY_STATEMENTS = RemoveEventBusStatements()
EVENT_BUS_POLICY_RULE = EventBusPolicyRule(
    EVENT_BUS_POLICY_PUBLIC, EVENT_BUS_POLICY_CROSS_ACCOUNT, EVENT_BUS, REMOVE_EVENT_BUS_POLICY_STATEMENTS
)

GUARDRAILS = (EVENT_BUS_POLICY_RULE,)
ACTIONS = (REMOVE_EVENT_BUS_POLICY_STATEMENTS,)
