"""EventBridge bus policies: PutPermission's two forms, and the statements that cannot go by Sid.

The contract test runs both rules end to end against moto (the statement-from-pieces form); these cover
a whole ``policy`` judged by content, a bus named by ARN, a malformed condition, and a statement
without a Sid, which RemovePermission cannot name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from iamwarden.domain.catalog import Mode
from iamwarden.domain.exceptions import RemediationError
from iamwarden.domain.findings import Verdict
from iamwarden.domain.recorded import RESOURCE_POLICY, PastRemediation, Snapshot, resource_policy_kind
from iamwarden.domain.settings import RuleSettings, Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.event_bus_policy import EVENT_BUS_POLICY_RULE, REMOVE_EVENT_BUS_POLICY_STATEMENTS
from iamwarden.guardrails.resource_policy import record_key
from tests.conftest import load_event

ACCOUNT = "111122223333"
RULES = [spec.id for spec in EVENT_BUS_POLICY_RULE.specs]
PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": "*"}


def _event(**request: Any) -> dict[str, Any]:
    event = load_event("event-bus-permission-public.json")
    event["detail"]["requestParameters"] = request
    return event


def test_a_whole_policy_is_judged_by_content() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{**PUBLIC, "Sid": "Everyone"}]}
    [finding] = judge_event(_event(eventBusName="orders-bus", policy=json.dumps(policy)), Settings()).findings
    [reference] = finding.plan[0].parameters["statements"]
    assert finding.rule_id == "event-bus-policy-public"
    assert "match" not in reference


def test_a_bus_named_by_arn_and_the_default_bus() -> None:
    arn = f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/orders-bus"
    judgement = judge_event(_event(eventBusName=arn, principal="*", statementId="s"), Settings())
    assert judgement.resource_arn == arn
    default = judge_event(_event(principal="*", statementId="s"), Settings())
    assert default.resource_arn == f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/default"


def test_a_condition_without_its_parts_is_invalid() -> None:
    judgement = judge_event(_event(principal="*", statementId="s", condition={"type": "StringEquals"}), Settings())
    assert judgement.verdict is Verdict.INVALID
    assert "condition must have type, key and value" in judgement.reason


def test_a_statement_without_a_sid_is_left_for_a_person() -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [PUBLIC]})
    [finding] = judge_event(_event(eventBusName="orders-bus", policy=policy), Settings()).findings
    with pytest.raises(RemediationError, match="has no Sid: remove it by hand"):
        REMOVE_EVENT_BUS_POLICY_STATEMENTS.apply(None, finding.plan[0], {"policy": policy}, [])  # type: ignore[arg-type]


class _Events:
    """The one call the removal makes, recorded."""

    def __init__(self) -> None:
        self.removed: list[str] = []

    def remove_permission(self, EventBusName: str, StatementId: str) -> None:
        self.removed.append(StatementId)


def _run(events: _Events) -> Any:
    aws = SimpleNamespace(account=ACCOUNT, client=lambda service: events)
    return SimpleNamespace(aws=aws)


def test_a_grant_to_the_account_under_another_sid_fails_rather_than_reads_as_safe() -> None:
    [finding] = judge_event(_event(principal="999988887777", statementId="Vendor"), Settings()).findings
    older = {"Sid": "OldVendor", "Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "events:*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{**older, "Resource": "*"}]})
    events, done = _Events(), list[str]()
    left = r"still lets in 999988887777 by statement 0 \(OldVendor\).*needs a person"
    with pytest.raises(RemediationError, match=left):
        REMOVE_EVENT_BUS_POLICY_STATEMENTS.apply(_run(events), finding.plan[0], {"policy": policy}, done)
    assert events.removed == []
    assert done == []


def test_the_events_statement_goes_by_its_sid_and_nothing_is_left() -> None:
    [finding] = judge_event(_event(principal="999988887777", statementId="Vendor"), Settings()).findings
    stored = {
        "Sid": "Vendor",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
        "Action": "events:PutEvents",
        "Resource": f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/default",
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [stored]})
    events, done = _Events(), list[str]()
    REMOVE_EVENT_BUS_POLICY_STATEMENTS.apply(_run(events), finding.plan[0], {"policy": policy}, done)
    assert events.removed == ["Vendor"]


class _BusRecord:
    """A record holding the bus's earlier whole policy (IAM Warden's ``RESOURCE_POLICY`` snapshot), no remediations."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot_held = snapshot

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        held = self.snapshot_held
        return held if (kind, resource_arn) == (held.kind, held.resource_arn) else None


def test_a_widened_whole_policy_plans_no_restore_because_remove_permission_cannot_put_one_back() -> None:
    """Review s13 F4: RemovePermission removes by Sid and writes nothing back, so neither the plan, the alert nor
    the record claims that the older statement is put back; apply removes the statement and nothing else."""
    bus_arn = f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/orders-bus"
    older = {
        "Sid": "Partner",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "events:PutEvents",
        "Resource": bus_arn,
    }
    widened = {**older, "Principal": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [widened]})
    event = _event(eventBusName="orders-bus", policy=policy)
    event["time"] = event["detail"]["eventTime"] = "2026-12-04T08:00:00Z"
    record = Snapshot(
        resource_policy_kind(),
        record_key(bus_arn, ACCOUNT),
        "2026-12-04T07:00:00.000+00:00",
        {"policy": {"Version": "2012-10-17", "Statement": [older]}, "pending": []},
    )
    settings = Settings(rules={rule: RuleSettings(rule, Mode.REMEDIATE) for rule in RULES})

    judgement = judge_event(event, settings, recorded=_BusRecord(record))

    [finding] = judgement.findings
    [step] = finding.plan
    assert [reference.get("restore") for reference in step.parameters["statements"]] == [None]
    assert "restore" not in step.summary
    assert "puts back statement Partner" not in finding.reason
    [snapshot] = [s for s in judgement.observed if s.kind.startswith(RESOURCE_POLICY)]
    assert snapshot.if_remediated is not None
    assert snapshot.if_remediated["policy"]["Statement"] == []
    events, done = _Events(), list[str]()
    REMOVE_EVENT_BUS_POLICY_STATEMENTS.apply(_run(events), step, {"policy": policy}, done)
    assert events.removed == ["Partner"]
    assert done == ["removed statement Partner from the policy of event bus orders-bus"]
