"""An own role's inline policy goes back to the document template.yaml declares, never to a snapshot that may hold
an intruder's earlier write (s7's second reading, "restores that can still rest on a guess" 1).

``declared.OWN_INLINE_DOCUMENTS`` holds each security-account own role's inline policy whose whole document the
template declares; a policy the template does not name at all is deleted; only what it cannot declare whole (a
document naming a key the stack may not create) still rests on a snapshot taken before the change.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.domain import declared
from iamwarden.domain.declared_content import declared_inline_policy
from iamwarden.domain.recorded import OWN_ROLE, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import SAMPLE_OWN, load_event

RULE = "iamwarden-tampered"
ROLE = "iamwarden-enforcer-us-east-1"
ROLE_ARN = f"arn:aws:iam::111122223333:role/{ROLE}"
FIRST_WRITE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SECOND_WRITE = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


class Snapshots:
    def __init__(self, *snapshots: Snapshot) -> None:
        self._snapshots = {(s.kind, s.resource_arn): s for s in snapshots}

    def remediations(self, resource_arn: str) -> list[Any]:
        return []

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self._snapshots.get((kind, resource_arn))


def _event(policy: str, document: Any, *, name: str = "PutRolePolicy", role: str = ROLE) -> dict[str, Any]:
    event = copy.deepcopy(load_event("tamper-enforcer-role-policy.json"))
    event["detail"]["eventName"] = name
    parameters = {"roleName": role, "policyName": policy}
    if document is not None:
        parameters["policyDocument"] = json.dumps(document)
    event["detail"]["requestParameters"] = parameters
    return event


def _step(event: dict[str, Any], recorded: Snapshots | None, own: Any = SAMPLE_OWN) -> Any:
    judgement = judge_event(event, Settings(own=own), recorded=recorded)
    [finding] = [f for f in judgement.findings if f.rule_id == RULE]
    return finding


def _declared(policy: str, own: Any = SAMPLE_OWN) -> Any:
    template = declared_inline_policy(own, ROLE, policy, "aws")
    assert template is not None
    assert template.document is not None
    return template.document


def test_two_intruder_writes_in_a_row_go_back_to_the_declared_document_not_the_snapshot_between_them() -> None:
    # The heartbeat ran between the two writes, before the first was judged: its snapshot holds the first write.
    between = Snapshot(OWN_ROLE, ROLE_ARN, "2026-11-13T09:20:00Z", {"inline": {"only-its-own-function": FIRST_WRITE}})
    for write in (FIRST_WRITE, SECOND_WRITE):
        for recorded in (Snapshots(between), Snapshots(), None):  # that snapshot, none, or offline
            finding = _step(_event("only-its-own-function", write), recorded)
            [step] = finding.plan
            assert step.action == "restore_own_role_document"
            assert step.parameters["restore_to"] == _declared("only-its-own-function")
            assert step.parameters["restore_to"] != FIRST_WRITE
            assert step.parameters["source"] == "the document its template declares"
            assert finding.needs_context == ()
    [statement] = _declared("only-its-own-function")["Statement"]
    assert "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer" in json.dumps(statement)


def test_a_deleted_declared_policy_is_put_back_from_the_template() -> None:
    [step] = _step(_event("only-its-own-function", None, name="DeleteRolePolicy"), Snapshots()).plan
    assert step.parameters["restore_to"] == _declared("only-its-own-function")
    assert step.parameters["changed_to"] is None


def test_a_policy_the_template_does_not_declare_is_deleted_whatever_a_snapshot_holds() -> None:
    snapshot = Snapshot(OWN_ROLE, ROLE_ARN, "2026-11-13T09:00:00Z", {"inline": {"backdoor": FIRST_WRITE}})
    finding = _step(_event("backdoor", SECOND_WRITE), Snapshots(snapshot))
    [step] = finding.plan
    assert step.parameters["restore_to"] is None
    assert step.summary.startswith("delete the inline policy backdoor")
    assert "which declares no inline policy backdoor" in step.summary


def test_deleting_a_policy_the_template_does_not_declare_puts_nothing_back() -> None:
    snapshot = Snapshot(OWN_ROLE, ROLE_ARN, "2026-11-13T09:00:00Z", {"inline": {"backdoor": FIRST_WRITE}})
    finding = _step(_event("backdoor", None, name="DeleteRolePolicy"), Snapshots(snapshot))
    assert finding.plan == ()
    assert finding.needs_context == ()


def test_a_document_the_template_does_not_declare_whole_still_rests_on_a_snapshot_taken_before() -> None:
    """enforcer-runtime names the data key the stack may or may not create: not declared whole."""
    assert "enforcer-runtime" in declared.INLINE_POLICIES["enforcer"]
    assert "enforcer-runtime" not in declared.OWN_INLINE_DOCUMENTS["enforcer"]
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    runtime = {"Version": "2012-10-17", "Statement": [send]}
    snapshot = Snapshot(OWN_ROLE, ROLE_ARN, "2026-11-13T09:00:00Z", {"inline": {"enforcer-runtime": runtime}})
    [step] = _step(_event("enforcer-runtime", SECOND_WRITE), Snapshots(snapshot)).plan
    assert step.parameters["restore_to"] == runtime
    assert "snapshot" in step.parameters["source"]


def test_the_alert_policy_is_declared_once_the_alert_key_is_known() -> None:
    """It names the alert key: without its ARN (offline, no environment) the document is not known whole."""
    template = declared_inline_policy(SAMPLE_OWN._replace(alert_key=None), ROLE, "enforcer-alerts", "aws")
    assert template is not None
    assert (template.named, template.document) == (True, None)
    key = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
    own = SAMPLE_OWN._replace(alert_key=key)
    [step] = _step(_event("enforcer-alerts", SECOND_WRITE), Snapshots(), own).plan
    assert key in json.dumps(step.parameters["restore_to"])


def test_a_member_role_or_a_look_alike_is_not_judged_by_the_security_accounts_template() -> None:
    assert declared_inline_policy(SAMPLE_OWN, "iamwarden-remediator", "enforcer-judging-context", "aws") is None
    assert declared_inline_policy(SAMPLE_OWN, "iamwarden-enforcer-eu-west-1", "only-its-own-function", "aws") is None


def test_the_declared_inline_policy_of_an_own_role_named_in_another_case_is_the_same() -> None:
    """Review s10 finding 8: IAM role names ignore case, so the template's document is that role's whatever the case."""
    exact = declared_inline_policy(SAMPLE_OWN, "iamwarden-enforcer-us-east-1", "only-its-own-function", "aws")
    assert exact is not None
    assert exact.document is not None
    upper = declared_inline_policy(SAMPLE_OWN, "IAMWARDEN-ENFORCER-US-EAST-1", "only-its-own-function", "aws")
    assert upper == exact
    assert declared_inline_policy(SAMPLE_OWN, "iamwarden-enforcer-us-east-1x", "only-its-own-function", "aws") is None
