"""What a live inline put replaced, from the heartbeat's record of every inline policy (issue 13 item 7).

IAM keeps no history of inline policies and the enforcer reads the principal after the put, so without a record the
put's previous document is unknown and an escalation it opens is only alerted. The heartbeat's read of the
authorization details keeps each inline policy's fingerprint (``document_digest``) and whole document in the
principal's ``attachments`` record, and the enforcer keeps the next one from each put it judges:

* no policy of that name before the event: the put added the whole document, so what it opens is certain and
  remediated (only the statements that open it);
* the very same document before: a re-put added nothing: compliant, nothing removed;
* a different document: judged on what the put added against it, and remediated by putting it back (undo puts
  the event's document again); a Deny it dropped is ``restraint-removed`` (review 13 finding 6);
* a record with fingerprints only (kept before documents were): a different document stays unknown, alerted.

After a remediation the record says what the enforcer left, not what the put set.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import SnapshotRefresh
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import ATTACHMENTS
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
PASS_ANY_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "PassAnyRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}],
}
#: put-role-policy-ci-passrole-admin-role.json happened at this time; the heartbeat ran before it.
HEARTBEAT_BEFORE = "2026-11-01T00:00:00.000+00:00"
SAMPLE = "put-role-policy-split-escalation.json"
ROLE = "build-runner"
ROLE_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}"


def _heartbeat(account: Account) -> None:
    store = AuditRecorded(account.audit(), account.dynamodb)
    cloudtrail = account.session.client("cloudtrail", region_name=REGION)
    SnapshotRefresh(
        store, cloudtrail, account.iam, HOME_ACCOUNT, region=REGION, clock=lambda: HEARTBEAT_BEFORE
    ).refresh()


def _split_escalation(account: Account) -> dict[str, Any]:
    """build-runner may pass any role; an administrator role exists; the sample puts CreateFunction + Invoke."""
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="pass-any-role", PolicyDocument=json.dumps(PASS_ANY_ROLE))
    lambda_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    # Lambda may assume it: passing it to a new function leads to an administrator.
    account.iam.create_role(RoleName="deploy-admin", AssumeRolePolicyDocument=json.dumps(lambda_trust))
    account.iam.attach_role_policy(RoleName="deploy-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    account.set("rules/privilege-escalation/mode", "remediate")
    return copy.deepcopy(load_event(SAMPLE))


def _put(account: Account, event: dict[str, Any]) -> None:
    parameters = event["detail"]["requestParameters"]
    account.iam.put_role_policy(
        RoleName=ROLE, PolicyName=parameters["policyName"], PolicyDocument=parameters["policyDocument"]
    )


def _inline(account: Account) -> dict[str, Any]:
    return {
        name: account.iam.get_role_policy(RoleName=ROLE, PolicyName=name)["PolicyDocument"]
        for name in account.iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
    }


def test_a_new_inline_policy_the_heartbeat_saw_absent_is_remediated(
    account: Account, enforcer: EnforcerService
) -> None:
    event = _split_escalation(account)
    _heartbeat(account)  # build-runner holds only pass-any-role
    _put(account, event)

    finding = {f["rule"]: f for f in enforcer.handle(event)["findings"]}["privilege-escalation"]

    assert finding["outcome"] == Outcome.REMEDIATED
    left = _inline(account)["deploy-functions"]["Statement"]
    assert [statement["Action"] for statement in left] == [["lambda:InvokeFunction", "lambda:GetFunction"]], (
        "only the event's part of the method goes; the older PassRole stays"
    )
    assert "pass-any-role" in _inline(account)


def test_the_same_document_put_again_adds_nothing(account: Account, enforcer: EnforcerService) -> None:
    event = _split_escalation(account)
    _put(account, event)
    _heartbeat(account)  # deploy-functions was already there, as the event puts it
    _put(account, event)  # the re-apply

    result = enforcer.handle(event)

    assert "privilege-escalation" not in {f["rule"] for f in result["findings"]}
    assert set(_inline(account)) == {"pass-any-role", "deploy-functions"}


READ_FUNCTIONS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"}],
}


def _record(account: Account) -> dict[str, Any]:
    record = AuditRecorded(account.audit(), account.dynamodb).snapshot(ATTACHMENTS, ROLE_ARN)
    assert record is not None
    return dict(record.data)


def test_a_put_over_a_different_document_puts_that_document_back_and_undo_puts_the_event_s_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _split_escalation(account)
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="deploy-functions", PolicyDocument=json.dumps(READ_FUNCTIONS))
    _heartbeat(account)  # it keeps deploy-functions whole
    _put(account, event)

    finding = {f["rule"]: f for f in enforcer.handle(event)["findings"]}["privilege-escalation"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _inline(account)["deploy-functions"] == READ_FUNCTIONS, "what the put replaced, nothing less"
    assert "pass-any-role" in _inline(account)
    assert finding["done"] == [
        "put back the document inline policy deploy-functions of role build-runner held before the put"
    ]
    # The record says what is there now (the earlier document), not the put the enforcer undid.
    assert json.loads(_record(account)["inline_documents"]["deploy-functions"]) == READ_FUNCTIONS

    enforcer.executor.undo(finding["remediation_id"])

    put = json.loads(event["detail"]["requestParameters"]["policyDocument"])
    assert _inline(account)["deploy-functions"] == put


def test_a_later_put_is_left_to_its_own_event_and_undo_refuses_a_changed_policy(
    account: Account, enforcer: EnforcerService
) -> None:
    """The restore acts only while the live policy is still the event's document; undo only while it is still the
    document IAM Warden put back."""
    event = _split_escalation(account)
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="deploy-functions", PolicyDocument=json.dumps(READ_FUNCTIONS))
    _heartbeat(account)
    later = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:ListTags", "Resource": "*"}]}
    _put(account, event)
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="deploy-functions", PolicyDocument=json.dumps(later))

    finding = {f["rule"]: f for f in enforcer.handle(event)["findings"]}["privilege-escalation"]

    assert finding["done"] == [], "a later put replaced the event's document: judged on its own event"
    assert _inline(account)["deploy-functions"] == later
    kept = AuditRecorded(account.audit(), account.dynamodb).snapshot(ATTACHMENTS, ROLE_ARN)
    assert kept is not None
    assert kept.taken_at == HEARTBEAT_BEFORE, "nothing was put back: no record says what a restore would have left"

    # Read after the later put, the live directory holds ``later`` under that name: a later put, never what this one
    # replaced (review s9 finding 1: taking it so let two quick puts hide an escalation). The record taken before
    # the events says what was there: the event's document put again is judged against it, and put back to it.
    account.iam.put_role_policy(
        RoleName=ROLE,
        PolicyName="deploy-functions",
        PolicyDocument=event["detail"]["requestParameters"]["policyDocument"],
    )
    second = copy.deepcopy(event)
    second["detail"]["eventID"] = second["id"] = "00000000-0000-4000-8000-00000000beef"
    second["detail"]["eventTime"] = second["time"] = "2026-11-24T10:16:00Z"
    redone = {f["rule"]: f for f in enforcer.handle(second)["findings"]}["privilege-escalation"]
    assert _inline(account)["deploy-functions"] == READ_FUNCTIONS
    third = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:ListAliases", "Resource": "*"}],
    }
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="deploy-functions", PolicyDocument=json.dumps(third))

    with pytest.raises(UndoError, match="different inline policy named deploy-functions"):
        enforcer.executor.undo(redone["remediation_id"])

    assert _inline(account)["deploy-functions"] == third


def test_a_record_with_fingerprints_only_leaves_a_put_over_a_different_document_alert_only(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A record the heartbeat kept before documents were (only ``inline`` fingerprints): as before."""
    event = _split_escalation(account)
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="deploy-functions", PolicyDocument=json.dumps(READ_FUNCTIONS))
    _heartbeat(account)
    store = AuditRecorded(account.audit(), account.dynamodb)
    record = store.snapshot(ATTACHMENTS, ROLE_ARN)
    assert record is not None
    store.put(record._replace(data={key: value for key, value in record.data.items() if key != "inline_documents"}))
    _put(account, event)

    finding = {f["rule"]: f for f in enforcer.handle(event)["findings"]}["privilege-escalation"]

    assert finding["outcome"] == Outcome.ALERTED
    [alert] = [sent for sent in notifier.sent if sent.finding is not None]
    assert alert.finding is not None
    assert alert.finding.needs_context[-1].startswith("the previous document of inline policy deploy-functions")
    assert _inline(account)["deploy-functions"] != READ_FUNCTIONS, "alerted only: nothing changed"


GUARD = {"Sid": "GuardIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}
READ_LOGS = {"Sid": "ReadLogs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}
GUARDRAILS = {"Version": "2012-10-17", "Statement": [READ_LOGS, GUARD]}
WITHOUT_GUARD = {"Version": "2012-10-17", "Statement": [READ_LOGS]}


def test_an_overwrite_that_drops_a_deny_is_alerted_naming_it_and_the_earlier_document_is_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review 13 finding 6: the guardrails policy's ``Deny iam:*`` kept the role's ``iam:*`` in check; a put under
    the same name drops it and adds nothing. Deleting the new policy would leave the Allow and lose the Deny."""
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument=TRUST)
    iam_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    account.iam.put_role_policy(RoleName="app-backend", PolicyName="ops", PolicyDocument=json.dumps(iam_all))
    account.iam.put_role_policy(RoleName="app-backend", PolicyName="guardrails", PolicyDocument=json.dumps(GUARDRAILS))
    account.set("rules/restraint-removed/mode", "remediate")
    _heartbeat(account)
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["requestParameters"] = {
        "roleName": "app-backend",
        "policyName": "guardrails",
        "policyDocument": json.dumps(WITHOUT_GUARD),
    }
    account.iam.put_role_policy(
        RoleName="app-backend", PolicyName="guardrails", PolicyDocument=json.dumps(WITHOUT_GUARD)
    )

    result = enforcer.handle(event)

    [finding] = result["findings"]
    assert (finding["rule"], finding["outcome"]) == ("restraint-removed", Outcome.REMEDIATED)
    live = account.iam.get_role_policy(RoleName="app-backend", PolicyName="guardrails")["PolicyDocument"]
    assert live == GUARDRAILS
    [alert] = [sent for sent in notifier.sent if sent.finding is not None]
    assert alert.finding is not None
    assert (
        "the Deny statement 1 (GuardIam): Deny iam:* on * that was in inline policy guardrails was removed by this put"
        in alert.finding.reason
    )

    enforcer.executor.undo(finding["remediation_id"])

    live = account.iam.get_role_policy(RoleName="app-backend", PolicyName="guardrails")["PolicyDocument"]
    assert live == WITHOUT_GUARD


def test_the_heartbeat_keeps_each_inline_document_whole(account: Account) -> None:
    _split_escalation(account)

    _heartbeat(account)

    assert {name: json.loads(text) for name, text in _record(account)["inline_documents"].items()} == {
        "pass-any-role": PASS_ANY_ROLE
    }


def test_after_a_cut_the_record_keeps_what_the_enforcer_left(account: Account, enforcer: EnforcerService) -> None:
    event = _split_escalation(account)
    _heartbeat(account)
    _put(account, event)

    enforcer.handle(event)

    assert json.loads(_record(account)["inline_documents"]["deploy-functions"]) == _inline(account)["deploy-functions"]


def test_the_enforcer_keeps_each_judged_put_as_the_next_before(account: Account, enforcer: EnforcerService) -> None:
    """A compliant put after the heartbeat's read is kept: its fingerprint is the next put's "before"."""
    event = _split_escalation(account)
    account.set("rules/privilege-escalation/mode", "alert")
    _heartbeat(account)
    harmless = copy.deepcopy(event)
    harmless["detail"]["requestParameters"]["policyName"] = "read-functions"
    harmless["detail"]["requestParameters"]["policyDocument"] = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"}]}
    )
    _put(account, harmless)

    enforcer.handle(harmless)

    record = AuditRecorded(account.audit(), account.dynamodb).snapshot(ATTACHMENTS, ROLE_ARN)
    assert record is not None
    assert set(record.data["inline"]) == {"pass-any-role", "read-functions"}
