"""A remediation grant detached from the enforcer's role (issue 15 item 2): the real enforcer (moto's IAM) attaches
it back only while the policy under the declared ARN holds the document its template declares, read live; a policy
re-created with another document, given a differing default version, or gone is never attached, and the alert says
why with the exact command. Undo detaches it again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.declared_content import declared_grant, declared_reattach_grant
from iamwarden.domain.exceptions import RemediationError
from iamwarden.domain.findings import RemediationStep
from iamwarden.guardrails.tampering import ReattachOwnGrant
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_tampering import OPERATOR, RULE
from tests.integration.test_template import REMEDIATIONS_ATTACHED, template_changes
from tests.sam_template import deployed_template

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


def test_undo_of_a_re_attach_refused_at_apply_detaches_nothing(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review reattach-s16 item 1: the policy differs only at apply, so the record FAILED with a before that read it
    as declared; the operator then sets the declared version back and attaches it as the alert says. Undo of that
    record must not detach what IAM Warden never attached: it undoes only an attach its ``done`` lines show."""
    _deployed(account)
    capture = ReattachOwnGrant.capture

    def capture_then_intruder_writes(self: ReattachOwnGrant, aws: Any, step: RemediationStep) -> dict[str, Any]:
        before = capture(self, aws, step)
        account.iam.create_policy_version(PolicyArn=GRANT, PolicyDocument=json.dumps(INTRUDERS), SetAsDefault=True)
        return before

    monkeypatch.setattr(ReattachOwnGrant, "capture", capture_then_intruder_writes)
    with pytest.raises(EnforcementFailedError) as failed:
        enforcer.handle(load_event(DETACHED))
    remediation_id = failed.value.failures[0].record.remediation_id
    record = account.audit().get(remediation_id)
    assert record is not None
    assert record.status == AuditStatus.FAILED
    assert record.before == [{"exists": True, "attached": False, "differs": None}]
    assert _attached(account) == []
    account.iam.set_default_policy_version(PolicyArn=GRANT, VersionId="v1")  # the operator follows the alert
    account.iam.attach_role_policy(RoleName=ROLE, PolicyArn=GRANT)

    undo = enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert tuple(undo.restored) == ()
    assert _attached(account) == [GRANT]


class _RacingIam:
    """moto's IAM, but an intruder's ``CreatePolicyVersion`` (set as default) lands inside ``attach_role_policy``:
    after the apply-time read, before AWS attaches."""

    def __init__(self, iam: Any) -> None:
        self._iam = iam

    def __getattr__(self, name: str) -> Any:
        return getattr(self._iam, name)

    def attach_role_policy(self, **arguments: Any) -> Any:
        self._iam.create_policy_version(PolicyArn=GRANT, PolicyDocument=json.dumps(INTRUDERS), SetAsDefault=True)
        return self._iam.attach_role_policy(**arguments)


def test_a_version_written_while_attaching_is_detached_again_and_the_step_fails(account: Account) -> None:
    """Review reattach-s16 item 3: read once more after attaching; a policy that differs then is detached at once
    and the step fails with why and the command, never saying it holds the declared document."""
    _deployed(account)
    step = RemediationStep(
        ReattachOwnGrant.action, f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}", _parameters(account), "re-attach"
    )
    aws: Any = type("Aws", (), {"iam": _RacingIam(account.iam)})()
    run: Any = type("Run", (), {"aws": aws})()
    action = ReattachOwnGrant()
    before = action.capture(aws, step)
    done: list[str] = []

    with pytest.raises(RemediationError) as refused:
        action.apply(run, step, before, done)

    assert _attached(account) == []
    assert "grants other than its template declares" in str(refused.value)
    assert "detached it again" in str(refused.value)
    assert COMMAND in str(refused.value)
    assert not any("holds the declared document" in line for line in done)
    assert action.undo_done(aws, step, before, done) == []  # nothing of its attach is left to undo
    assert _attached(account) == []


def _enforcer_role_as_deployed(account: Account, grant: str) -> None:
    """The enforcer's role holding its four remediation policies as declared and, per ``grant``, its inline attach
    grant (declared, widened to no condition, or not yet put)."""
    own = account.config.own
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    for n in (1, 2, 3, 4):
        name = f"iamwarden-enforcer-remediations-{n}-us-east-1"
        arn = f"arn:aws:iam::{HOME_ACCOUNT}:policy/{name}"
        account.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(declared_grant(arn, own, HOME_ACCOUNT)))
        account.iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)
    declared = declared_reattach_grant("enforcer", own, "aws", HOME_ACCOUNT)
    assert declared is not None
    name, document = declared
    if grant == "widened":
        document["Statement"][0].pop("Condition")
    if grant != "not yet put":
        account.iam.put_role_policy(RoleName=ROLE, PolicyName=name, PolicyDocument=json.dumps(document))


@pytest.mark.parametrize("grant", ["declared", "not yet put", "widened"])
def test_cloudformation_attaching_its_remediation_policy_is_judged_on_the_live_attach_grant(
    account: Account, enforcer: EnforcerService, grant: str
) -> None:
    """Review reattach-s16 item 2, live: the deploy's attach of remediations-1 (which holds UpdateAssumeRolePolicy)
    in remediate mode, with the declared attach grant live, before it, and with a widened one under its name.
    Only the widened grant makes it a finding; the stack's own remediation policy is never detached otherwise."""
    _enforcer_role_as_deployed(account, grant)
    account.set("rules/privilege-escalation/mode", "remediate")
    [event] = [event for change, event in template_changes(deployed_template()) if change == REMEDIATIONS_ATTACHED]

    result = enforcer.handle(event)

    escalations = [f for f in result["findings"] if f["rule"] == "privilege-escalation"]
    if grant == "widened":
        assert len(escalations) == 1
    else:
        assert result["verdict"] == "compliant", result
        assert escalations == []
        assert len(_attached(account)) == 4


class _RacingIamThatCannotDetach(_RacingIam):
    """As ``_RacingIam``, and IAM refuses the detach that would take the intruder's version off again."""

    def detach_role_policy(self, **arguments: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "DetachRolePolicy")


def test_a_version_written_while_attaching_that_cannot_be_detached_is_recorded_and_undo_detaches_it(
    account: Account,
) -> None:
    """The error path of item 3: the attach stands, so the record's line says so (not that it holds the declared
    document), the error names the detach to run by hand, and undo (reading that line) detaches it."""
    _deployed(account)
    step = RemediationStep(
        ReattachOwnGrant.action, f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}", _parameters(account), "re-attach"
    )
    aws: Any = type("Aws", (), {"iam": _RacingIamThatCannotDetach(account.iam)})()
    run: Any = type("Run", (), {"aws": aws})()
    action = ReattachOwnGrant()
    before = action.capture(aws, step)
    done: list[str] = []

    with pytest.raises(RemediationError) as refused:
        action.apply(run, step, before, done)

    assert _attached(account) == [GRANT]
    assert f"aws iam detach-role-policy --role-name {ROLE} --policy-arn {GRANT}" in str(refused.value)
    assert "AccessDenied" in str(refused.value)
    [line] = done
    assert "grants other than its template declares" in line
    assert "holds the declared document" not in line
    restored = action.undo_done(type("Aws", (), {"iam": account.iam})(), step, before, done)
    assert restored == [f"detached {GRANT} from role {ROLE} again, as the change left it"]
    assert _attached(account) == []


def test_a_retry_after_a_failed_detach_finds_the_changed_policy_attached_and_fails_again(account: Account) -> None:
    """Review2 reattach-s16 item 1: attempt 1 attaches, a differing version lands, its detach is refused, the step
    fails and the Lambda retries. Attempt 2 captures afresh and finds the grant attached: attached counts as done
    only while it holds the declared document, so it fails again with both commands and claims nothing."""
    _deployed(account)
    step = RemediationStep(
        ReattachOwnGrant.action, f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}", _parameters(account), "re-attach"
    )
    action = ReattachOwnGrant()
    first: Any = type("Aws", (), {"iam": _RacingIamThatCannotDetach(account.iam)})()
    with pytest.raises(RemediationError):
        action.apply(type("Run", (), {"aws": first})(), step, action.capture(first, step), [])
    assert _attached(account) == [GRANT]
    retry: Any = type("Aws", (), {"iam": account.iam})()

    before = action.capture(retry, step)
    done: list[str] = []
    with pytest.raises(RemediationError) as refused:
        action.apply(type("Run", (), {"aws": retry})(), step, before, done)

    assert before["attached"] is True
    assert "grants other than its template declares" in str(before["differs"])
    assert done == []
    assert "grants other than its template declares" in str(refused.value)
    assert f"aws iam detach-role-policy --role-name {ROLE} --policy-arn {GRANT}" in str(refused.value)
    assert COMMAND in str(refused.value)
    assert _attached(account) == [GRANT]  # left for the operator: the record's undo detaches nothing it did not do
    assert action.undo_done(retry, step, before, done) == []
