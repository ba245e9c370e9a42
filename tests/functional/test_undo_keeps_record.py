"""An undo leaves IAM Warden's record of the principal true (issue 13; review s9 finding 7).

A remediated inline put leaves the principal's ``attachments`` record saying the document the enforcer put back.
``iamwarden undo`` (or Slack's, which acts as the enforcer and is never routed back) puts the event's document
again: without correcting the record, a benign edit made before the heartbeat's next read is judged against the
restored document, so what the operator chose to keep reads as "added" and is taken away again. The same holds for
an undone detach and an undone membership removal: the record says the policy or the group is not held, and a
re-apply that adds nothing is then removed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import SnapshotRefresh
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import AuditError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import ATTACHMENTS, PastRemediation, Snapshot
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
PASS_ANY_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "PassAnyRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}],
}
READ_FUNCTIONS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"}],
}
#: The samples happened after this; the heartbeat ran then.
HEARTBEAT_BEFORE = "2026-11-01T00:00:00.000+00:00"
ROLE = "build-runner"
ROLE_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}"


def _heartbeat(account: Account) -> None:
    store = AuditRecorded(account.audit(), account.dynamodb)
    cloudtrail = account.session.client("cloudtrail", region_name=REGION)
    SnapshotRefresh(
        store, cloudtrail, account.iam, HOME_ACCOUNT, region=REGION, clock=lambda: HEARTBEAT_BEFORE
    ).refresh()


def _at(event: dict[str, Any], time: str, event_id: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["time"] = event["detail"]["eventTime"] = time
    event["id"] = event["detail"]["eventID"] = event_id
    return event


def _record(account: Account, arn: str = ROLE_ARN) -> Snapshot:
    record = AuditRecorded(account.audit(), account.dynamodb).snapshot(ATTACHMENTS, arn)
    assert record is not None
    return record


class _Store:
    """The audit table's records with one of its calls replaced (``KeptRecords``)."""

    def __init__(self, snapshot: Callable[[str, str], Snapshot | None], keep: Callable[[Snapshot], bool]) -> None:
        self.snapshot = snapshot
        self.keep = keep

    def remediations(self, resource_arn: str) -> list[PastRemediation]:
        return []


def _escalation_put_over_read_functions(account: Account) -> dict[str, Any]:
    """build-runner may pass any role and holds deploy-functions = READ_FUNCTIONS (the heartbeat kept it whole); the
    sample puts CreateFunction + InvokeFunction under that name, which with PassRole reaches an admin role."""
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="pass-any-role", PolicyDocument=json.dumps(PASS_ANY_ROLE))
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="deploy-functions", PolicyDocument=json.dumps(READ_FUNCTIONS))
    lambda_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    account.iam.create_role(RoleName="deploy-admin", AssumeRolePolicyDocument=json.dumps(lambda_trust))
    account.iam.attach_role_policy(RoleName="deploy-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    account.set("rules/privilege-escalation/mode", "remediate")
    _heartbeat(account)
    event = copy.deepcopy(load_event("put-role-policy-split-escalation.json"))
    parameters = event["detail"]["requestParameters"]
    account.iam.put_role_policy(
        RoleName=ROLE, PolicyName=parameters["policyName"], PolicyDocument=parameters["policyDocument"]
    )
    return event


def test_after_an_undo_a_benign_edit_is_judged_against_the_document_the_undo_put_back(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _escalation_put_over_read_functions(account)
    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "privilege-escalation"]
    assert finding["outcome"] == Outcome.REMEDIATED
    assert json.loads(_record(account).data["inline_documents"]["deploy-functions"]) == READ_FUNCTIONS

    enforcer.executor.undo(finding["remediation_id"])

    put = json.loads(event["detail"]["requestParameters"]["policyDocument"])
    record = _record(account)
    assert json.loads(record.data["inline_documents"]["deploy-functions"]) == put, "the record says what is there"
    assert not record.unusable
    # A benign edit a minute later: the same document with one harmless statement more. Judged against the restored
    # document it would "add" CreateFunction + InvokeFunction (with PassRole: an escalation) and be put back again,
    # taking away what the operator chose to keep.
    harmless = {"Effect": "Allow", "Action": "lambda:ListTags", "Resource": "*"}
    edited = {**put, "Statement": [*put["Statement"], harmless]}
    benign = _at(event, "2026-11-24T10:16:00Z", "00000000-0000-4000-8000-0000000b0e01")
    benign["detail"]["requestParameters"]["policyDocument"] = json.dumps(edited)
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="deploy-functions", PolicyDocument=json.dumps(edited))

    result = enforcer.handle(benign)

    assert "privilege-escalation" not in {f["rule"] for f in result["findings"]}, result
    live = account.iam.get_role_policy(RoleName=ROLE, PolicyName="deploy-functions")["PolicyDocument"]
    assert live == edited, "the edit stays"


def test_an_undo_whose_record_was_replaced_meanwhile_marks_it_unusable(
    account: Account, enforcer: EnforcerService
) -> None:
    """The conditional write the enforcer uses: the record the correction derives from must still be the stored
    one. Another writer between the undo's read and its write leaves the record distrusted, never overwritten."""
    event = _escalation_put_over_read_functions(account)
    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "privilege-escalation"]
    store = enforcer.executor.recorded
    assert store is not None
    stale = store.snapshot(ATTACHMENTS, ROLE_ARN)
    assert stale is not None
    read = store.snapshot

    def read_then_replaced(kind: str, arn: str) -> Snapshot | None:
        found = read(kind, arn)
        # Another invocation's derived record lands between the read and the write.
        assert store.keep(stale._replace(rank=stale.rank + 5, base=(stale.taken_at, stale.rank)))
        return found

    enforcer.executor.recorded = _Store(read_then_replaced, store.keep)

    enforcer.executor.undo(finding["remediation_id"])

    assert _record(account).unusable, "alert-only until the heartbeat reads the role again"


def test_an_undo_that_cannot_write_the_record_says_so_and_stays_done(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _escalation_put_over_read_functions(account)
    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "privilege-escalation"]
    store = enforcer.executor.recorded
    assert store is not None

    def refused(snapshot: Snapshot) -> bool:
        raise AuditError("cannot write snapshot snapshot#attachments#...: AccessDenied")

    enforcer.executor.recorded = _Store(store.snapshot, refused)

    undo = enforcer.executor.undo(finding["remediation_id"])

    put = json.loads(event["detail"]["requestParameters"]["policyDocument"])
    assert account.iam.get_role_policy(RoleName=ROLE, PolicyName="deploy-functions")["PolicyDocument"] == put
    [note] = [line for line in undo.restored if line.startswith("NOT restored: ")]
    assert "record of what role build-runner holds" in note
    assert "AccessDenied" in note
    assert enforcer.executor.audit.get(finding["remediation_id"]).status == "undone"  # type: ignore[union-attr]


ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
APP_ROLE_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:role/app-backend"


def test_an_undone_detach_is_recorded_so_a_re_apply_after_it_detaches_nothing(
    account: Account, enforcer: EnforcerService
) -> None:
    """managed-policy-attached detached AdministratorAccess (the record before the event held again: without it);
    the operator undid that. A Terraform re-apply of the same attach then adds nothing and is not detached."""
    account.set("rules/managed-policy-attached/mode", "remediate")
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument=TRUST)
    _heartbeat(account)
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn=ADMIN)
    attach = load_event("attach-admin-to-role.json")
    [finding] = [f for f in enforcer.handle(attach)["findings"] if f["rule"] == "managed-policy-attached"]
    assert finding["outcome"] == Outcome.REMEDIATED
    assert ADMIN not in _record(account, APP_ROLE_ARN).data["policies"]

    enforcer.executor.undo(finding["remediation_id"])

    assert ADMIN in _record(account, APP_ROLE_ARN).data["policies"]
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn=ADMIN)  # the re-apply: IAM says success
    again = _at(attach, "2026-11-13T09:30:00Z", "00000000-0000-4000-8000-0000000b0e02")

    [judged] = [f for f in enforcer.handle(again)["findings"] if f["rule"] == "managed-policy-attached"]

    assert judged["outcome"] == Outcome.ALERTED, "attached before this event: nothing was added"
    attached = account.iam.list_attached_role_policies(RoleName="app-backend")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ADMIN]
