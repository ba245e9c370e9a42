"""A remediation grant detached from the enforcer's role (issue 15 item 2): the real enforcer (moto's IAM) attaches
it back only while the policy under the declared ARN holds the document its template declares, read live; a policy
re-created with another document, given a differing default version, or gone is never attached, and the alert says
why with the exact command. Undo detaches it again."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcerService
from iamwarden.domain.declared_content import declared_grant
from iamwarden.domain.exceptions import RemediationError
from iamwarden.domain.findings import RemediationStep
from iamwarden.guardrails.tampering import ReattachOwnGrant
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_tampering import OPERATOR, RULE

DETACHED = "tamper-detach-grant-from-enforcer-role.json"
ROLE = "iamwarden-enforcer-us-east-1"
GRANT = f"arn:aws:iam::{HOME_ACCOUNT}:policy/iamwarden-enforcer-remediations-1-us-east-1"
COMMAND = f"aws iam attach-role-policy --role-name {ROLE} --policy-arn {GRANT}"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
INTRUDERS = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def _declared(account: Account) -> dict[str, Any]:
    document = declared_grant(GRANT, account.config.own, HOME_ACCOUNT)
    assert document is not None
    return document


def _deployed(account: Account, document: dict[str, Any] | None = None) -> None:
    """The enforcer's role and its first remediation grant as the stack creates them, the grant detached."""
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.create_policy(
        PolicyName=GRANT.rsplit("/", 1)[-1], PolicyDocument=json.dumps(document or _declared(account))
    )


def _attached(account: Account) -> list[str]:
    return [p["PolicyArn"] for p in account.iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]]


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _reason(notifier: RecordingNotifier) -> str:
    [alert] = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alert.finding is not None
    return str(alert.finding.reason)


def test_the_declared_grant_is_attached_back_and_undo_detaches_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _deployed(account)

    finding = _finding(enforcer.handle(load_event(DETACHED)))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.before == [{"exists": True, "attached": False, "differs": None}]
    assert record.done == [f"attached {GRANT} back to IAM Warden's role {ROLE} (it holds the declared document)"]

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert undo.status == AuditStatus.UNDO
    assert _attached(account) == []


def test_a_grant_attached_already_is_done_and_nothing_is_attached_twice(account: Account) -> None:
    """Idempotent: a second delivery, or an operator who attached it first, finds it attached and changes nothing."""
    _deployed(account)
    account.iam.attach_role_policy(RoleName=ROLE, PolicyArn=GRANT)
    step = RemediationStep(
        ReattachOwnGrant.action, f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}", _parameters(account), "re-attach"
    )
    aws: Any = type("Aws", (), {"iam": account.iam})()
    run: Any = type("Run", (), {"aws": aws})()
    action = ReattachOwnGrant()

    before = action.capture(aws, step)
    done: list[str] = []
    action.apply(run, step, before, done)

    assert before == {"exists": True, "attached": True, "differs": None}
    assert done == []
    assert _attached(account) == [GRANT]
    assert action.undo(aws, step, before) == []  # it attached nothing, so undo detaches nothing
    assert _attached(account) == [GRANT]


def _parameters(account: Account) -> dict[str, Any]:
    return {"role_name": ROLE, "policy_arn": GRANT, "document": _declared(account)}


def test_a_policy_re_created_with_another_document_is_not_attached_and_the_alert_says_why(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Detach, DeletePolicy, CreatePolicy of the same name with the intruder's document: attaching it would blind
    IAM Warden (or give its role the intruder's grants)."""
    _deployed(account, INTRUDERS)

    finding = _finding(enforcer.handle(load_event(DETACHED)))

    assert finding["outcome"] != "remediated"
    assert _attached(account) == []
    reason = _reason(notifier)
    assert "grants other than its template declares" in reason
    assert COMMAND in reason


def test_a_new_default_version_that_differs_is_not_attached(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _deployed(account)
    declared = _declared(account)
    widened = {**declared, "Statement": [*declared["Statement"], {"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    account.iam.create_policy_version(PolicyArn=GRANT, PolicyDocument=json.dumps(widened), SetAsDefault=True)

    finding = _finding(enforcer.handle(load_event(DETACHED)))

    assert finding["outcome"] != "remediated"
    assert _attached(account) == []
    reason = _reason(notifier)
    assert "the default version v2 of" in reason
    assert COMMAND in reason


def test_a_policy_that_differs_only_at_apply_is_not_attached(account: Account) -> None:
    """Read again at apply: a version written between capture and apply stops the attach."""
    _deployed(account)
    step = RemediationStep(
        ReattachOwnGrant.action, f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}", _parameters(account), "re-attach"
    )
    aws: Any = type("Aws", (), {"iam": account.iam})()
    run: Any = type("Run", (), {"aws": aws})()
    action = ReattachOwnGrant()
    before = action.capture(aws, step)
    assert before == {"exists": True, "attached": False, "differs": None}
    account.iam.create_policy_version(PolicyArn=GRANT, PolicyDocument=json.dumps(INTRUDERS), SetAsDefault=True)

    with pytest.raises(RemediationError) as refused:
        action.apply(run, step, before, [])

    assert "grants other than its template declares" in str(refused.value)
    assert COMMAND in str(refused.value)
    assert _attached(account) == []


def test_a_missing_policy_is_alerted_and_nothing_attached(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))

    finding = _finding(enforcer.handle(load_event(DETACHED)))

    assert finding["outcome"] != "remediated"
    assert _attached(account) == []
    reason = _reason(notifier)
    assert f"the policy {GRANT} is gone" in reason
    assert COMMAND in reason


def test_a_failed_detach_changes_nothing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _deployed(account)
    event = load_event(DETACHED)
    event["detail"]["errorCode"] = "AccessDenied"
    event["detail"]["errorMessage"] = "not authorized"

    result = enforcer.handle(event)

    assert [f for f in result["findings"] if f.get("outcome") == "remediated"] == []
    assert _attached(account) == []
