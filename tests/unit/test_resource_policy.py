"""The resource-policy path is generic: a made-up "queue" guardrail is a spec, a resource and a fake endpoint.

Nothing here is S3: the same judgement (exposure per statement) and the same remediation (remove by
content, put the rest back or delete, undo into the current document) run against a fake endpoint
that keeps policies in a dict and fails the way AWS does (an error with ``response["Error"]["Code"]``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.domain.catalog import RuleSpec
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.events import parse_event
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.base import RuleContext
from iamwarden.guardrails.registry import ACTIONS, RULES
from iamwarden.guardrails.remediation import AuditEntry
from iamwarden.guardrails.resource_policy import (
    RECORD_MAX_AGE,
    RECORD_MAX_AGE_OPTION,
    PolicyResource,
    RemovePolicyStatements,
    ResourcePolicyRule,
)

ACCOUNT = "111122223333"
OUTSIDER = "999988887777"
QUEUE_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders"

SET_QUEUE = frozenset({"SetQueue"})
#: A restorable rule needs ``record_max_age_days`` (how old a record may be to put an older statement back).
_MAX_AGE = {RECORD_MAX_AGE: RECORD_MAX_AGE_OPTION}
PUBLIC = RuleSpec(
    "example-queue-policy-public", "Queue open to the public", "sqs.amazonaws.com", SET_QUEUE, "p.", _MAX_AGE
)
SHARED = RuleSpec("example-queue-policy-cross", "Queue shared", "sqs.amazonaws.com", SET_QUEUE, "c.", _MAX_AGE)
QUEUE = PolicyResource(
    noun="queue",
    name_parameter="queueName",
    document_parameter="policy",
    kind=PolicyKind.BUCKET,
    arn=lambda partition, region, account, name: f"arn:{partition}:sqs:{region}:{account}:{name}",
    step_parameter="queue",
    resource_type="AWS::SQS::Queue",
    service_wildcard="sqs:*",
    verbs=(("sqs:ReceiveMessage", "read messages"), ("sqs:SendMessage", "send messages")),
)


class AwsError(Exception):
    """Shaped like botocore's ClientError, which ``adapters.errors`` reads without importing botocore."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": code}}


class FakeQueueEndpoint:
    """Queue policies in a dict; ``None`` is a queue without a policy, a missing key a deleted queue."""

    get_permission = "sqs:GetQueueAttributes"
    put_permission = "sqs:SetQueueAttributes"
    delete_permission = "sqs:RemoveQueuePolicy"
    no_policy_codes = frozenset({"NoSuchPolicy"})
    no_resource_codes = frozenset({"NonExistentQueue"})

    def __init__(self, policies: dict[str, str | None]) -> None:
        self.policies = policies
        self.writes: list[str] = []
        self.fail_get: str | None = None

    def get(self, aws: Any, name: str) -> str:
        if self.fail_get:
            raise AwsError(self.fail_get)
        if name not in self.policies:
            raise AwsError("NonExistentQueue")
        policy = self.policies[name]
        if policy is None:
            raise AwsError("NoSuchPolicy")
        return policy

    def put(self, aws: Any, name: str, policy: str) -> None:
        self.writes.append(f"put {name}")
        self.policies[name] = policy

    def delete(self, aws: Any, name: str) -> None:
        self.writes.append(f"delete {name}")
        self.policies[name] = None


class NoClients:
    """The endpoint keeps its own state; the action only passes the clients through."""

    account = "111122223333"
    iam: Any = None
    s3: Any = None
    s3control: Any = None

    def client(self, service: str) -> Any:
        return None

    def root_task_client(self, service: str, task_policy_arn: str) -> Any:
        return None

    def renew_session(self) -> None:
        return None

    def history(self, resource_arn: str) -> Sequence[AuditEntry]:
        return ()


class Run:
    def __init__(self) -> None:
        self.aws = NoClients()
        self.finding_id = "f-1"
        self.now = "2026-12-04T00:00:00+00:00"


def statement(sid: str, principal: Any, action: str = "sqs:SendMessage") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action, "Resource": QUEUE_ARN}


OWN = statement("Own", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
EVERYONE = statement("Everyone", "*", "sqs:ReceiveMessage")
VENDOR = statement("Vendor", {"AWS": f"arn:aws:iam::{OUTSIDER}:root"})


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "orders-policy", "Statement": list(statements)}


def make(*, restorable: bool = False) -> tuple[ResourcePolicyRule, RemovePolicyStatements, FakeQueueEndpoint]:
    endpoint = FakeQueueEndpoint({"orders": None})
    action = RemovePolicyStatements("remove_example_queue_policy_statements", QUEUE, endpoint)
    return ResourcePolicyRule(PUBLIC, SHARED, QUEUE, action, restorable=restorable), action, endpoint


def context(policy: dict[str, Any]) -> RuleContext:
    event = {
        "version": "0",
        "id": "7f3e0c1a-0000-4000-8000-000000000001",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.sqs",
        "account": ACCOUNT,
        "time": "2026-12-04T08:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice", "accountId": ACCOUNT},
            "eventTime": "2026-12-04T08:00:00Z",
            "eventSource": "sqs.amazonaws.com",
            "eventName": "SetQueue",
            "awsRegion": "eu-west-1",
            "eventID": "0b5f8c1e-0000-4000-8000-000000000002",
            "requestParameters": {"queueName": "orders", "policy": policy},
            "responseElements": None,
        },
    }
    return RuleContext(parse_event(event), Settings())


def test_the_generic_rule_judges_a_new_resource_kind_statement_by_statement() -> None:
    rule, action, _ = make()
    evaluation = rule.evaluate(context(document(OWN, EVERYONE, VENDOR)))

    public, shared = evaluation.findings
    assert (public.rule_id, shared.rule_id) == (PUBLIC.id, SHARED.id)
    assert public.resource_arn == QUEUE_ARN
    assert public.reason.startswith("Anyone on the internet can read messages in queue orders (statement 1 (Everyone)")
    assert shared.reason.startswith(f"Account {OUTSIDER}, which this organisation does not trust, can send messages")
    [step] = shared.plan
    assert step.action is action.action
    assert step.parameters["queue"] == "orders"
    assert [reference["statement"] for reference in step.parameters["statements"]] == [VENDOR]


def test_a_policy_for_trusted_principals_only_is_compliant() -> None:
    rule, _, _ = make()
    evaluation = rule.evaluate(context(document(OWN)))
    assert evaluation.findings == []
    assert evaluation.compliant == [
        "the policy of queue orders lets in only the trusted accounts, organisation and AWS services"
    ]


def _plan(policy: dict[str, Any]) -> RemediationStep:
    rule, _, _ = make()
    [finding, *_] = rule.evaluate(context(policy)).findings
    return finding.plan[0]


def test_apply_removes_the_offending_statements_by_content_and_puts_the_rest_back() -> None:
    _, action, endpoint = make()
    step = _plan(document(OWN, EVERYONE))
    # The live policy spells the offending statement differently (key order, a one-element list): same content.
    reordered = {**{key: EVERYONE[key] for key in reversed(list(EVERYONE))}, "Action": ["sqs:ReceiveMessage"]}
    endpoint.policies["orders"] = json.dumps(document(reordered, OWN))
    before = action.capture(NoClients(), step)
    done: list[str] = []
    action.apply(Run(), step, before, done)

    assert json.loads(endpoint.policies["orders"] or "") == document(OWN)
    assert done == ["removed 1 statement(s) from the policy of queue orders; kept 1"]


def test_apply_deletes_the_policy_when_every_statement_offends_and_is_a_no_op_the_second_time() -> None:
    _, action, endpoint = make()
    step = _plan(document(EVERYONE))
    endpoint.policies["orders"] = json.dumps(document(EVERYONE))
    done: list[str] = []
    action.apply(Run(), step, action.capture(NoClients(), step), done)
    action.apply(Run(), step, action.capture(NoClients(), step), done)

    assert endpoint.policies["orders"] is None
    assert endpoint.writes == ["delete orders"]
    assert done == ["deleted the policy of queue orders: every statement in it was offending"]


def test_a_later_policy_without_the_statements_is_never_touched() -> None:
    _, action, endpoint = make()
    step = _plan(document(OWN, EVERYONE))
    endpoint.policies["orders"] = json.dumps(document(OWN))
    done: list[str] = []
    action.apply(Run(), step, action.capture(NoClients(), step), done)
    assert (endpoint.writes, done) == ([], [])


def test_no_policy_and_no_resource_are_read_through_the_endpoints_codes() -> None:
    _, action, endpoint = make()
    step = _plan(document(EVERYONE))
    assert action.capture(NoClients(), step) == {"exists": True, "policy": None}
    del endpoint.policies["orders"]
    assert action.capture(NoClients(), step) == {"exists": False, "policy": None}
    endpoint.fail_get = "AccessDenied"
    with pytest.raises(AwsError):
        action.capture(NoClients(), step)


def test_undo_puts_the_removed_statements_into_the_current_policy_keeping_a_later_change() -> None:
    _, action, endpoint = make()
    step = _plan(document(OWN, EVERYONE))
    endpoint.policies["orders"] = json.dumps(document(OWN, EVERYONE))
    before = action.capture(NoClients(), step)
    action.apply(Run(), step, before, [])
    later = statement("Later", {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"})
    endpoint.policies["orders"] = json.dumps(document(OWN, later))

    restored = action.undo(NoClients(), step, before)

    assert json.loads(endpoint.policies["orders"] or "") == document(OWN, later, EVERYONE)
    assert restored == ["restored 1 statement(s) into the current policy of queue orders"]
    assert action.undo(NoClients(), step, before) == []  # already back: nothing to do


def test_undo_after_the_policy_was_deleted_recreates_it_from_the_before_state() -> None:
    _, action, endpoint = make()
    step = _plan(document(EVERYONE))
    endpoint.policies["orders"] = json.dumps(document(EVERYONE))
    before = action.capture(NoClients(), step)
    action.apply(Run(), step, before, [])

    action.undo(NoClients(), step, before)

    assert json.loads(endpoint.policies["orders"] or "") == document(EVERYONE)


def test_undo_refuses_when_another_statement_now_holds_the_sid() -> None:
    _, action, endpoint = make()
    step = _plan(document(OWN, EVERYONE))
    endpoint.policies["orders"] = json.dumps(document(OWN, EVERYONE))
    before = action.capture(NoClients(), step)
    action.apply(Run(), step, before, [])
    impostor = statement("Everyone", {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"})
    endpoint.policies["orders"] = json.dumps(document(OWN, impostor))
    endpoint.writes.clear()

    with pytest.raises(UndoError, match="the policy of queue orders now has different statements with Sid Everyone"):
        action.undo(NoClients(), step, before)
    assert endpoint.writes == []


def test_undo_of_a_deleted_resource_says_so() -> None:
    _, action, endpoint = make()
    step = _plan(document(EVERYONE))
    endpoint.policies["orders"] = json.dumps(document(EVERYONE))
    before = action.capture(NoClients(), step)
    del endpoint.policies["orders"]
    with pytest.raises(UndoError, match="queue orders no longer exists"):
        action.undo(NoClients(), step, before)


def test_the_endpoint_declares_the_permissions_and_nothing_global_changes() -> None:
    _, action, _ = make()
    assert action.action == "remove_example_queue_policy_statements"
    assert action.action.permissions == ("sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:RemoveQueuePolicy")
    assert action.undo_permissions == ("sqs:GetQueueAttributes", "sqs:SetQueueAttributes")
    # Building a guardrail registers nothing: only the registry's modules are listed.
    assert action.action not in ACTIONS
    assert action.action not in list(StepAction)
    assert PUBLIC.id not in RULES
