"""A remediation grant detached from the enforcer's role (issue 15 item 2): the real enforcer (moto's IAM) attaches
it back only while the policy under the declared ARN holds the document its template declares, read live; a policy
re-created with another document, given a differing default version, or gone is never attached, and the alert says
why with the exact command. Undo detaches it again."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditLog, AuditStatus
from iamwarden.app.cli import main
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.declared_content import declared_grant, declared_reattach_grant
from iamwarden.domain.exceptions import AuditError, RemediationError
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


# --- iamwarden undo of a re-attach, run as an operator (issue 15 item 2/4) ------------------------------------------

GRANT_2 = f"arn:aws:iam::{HOME_ACCOUNT}:policy/iamwarden-enforcer-remediations-2-us-east-1"
SECOPS = f"arn:aws:iam::{HOME_ACCOUNT}:role/SecOps"
ALICE = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/SecOps/alice"
ENFORCER_SESSION = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/{ROLE}/iamwarden-enforcer"


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _caller(account: Account) -> str:
    """Who ``iamwarden undo`` runs as here (moto's caller), as STS tells the CLI and CloudTrail names it."""
    return str(account.session.client("sts").get_caller_identity()["Arn"])


def _identity(arn: str) -> dict[str, Any]:
    """CloudTrail's ``userIdentity`` of ``arn``: an IAM user (moto's caller) or a role session."""
    if ":assumed-role/" not in arn:
        return {"type": "IAMUser", "principalId": "AIDAMOTOCALLER", "arn": arn, "accountId": HOME_ACCOUNT}
    role = arn.split("/")[1]
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{arn.rsplit('/', 1)[-1]}",
        "arn": arn,
        "accountId": HOME_ACCOUNT,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLE",
                "arn": f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}",
                "accountId": HOME_ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-12-06T08:00:00Z", "mfaAuthenticated": "true"},
        },
    }


def _detach_event(actor: str, at: datetime, policy_arn: str = GRANT) -> dict[str, Any]:
    """``DetachRolePolicy`` of ``policy_arn`` from the enforcer's role by ``actor``, as CloudTrail logs it at ``at``
    (whole seconds)."""
    event = load_event(DETACHED)
    when = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["id"] = str(uuid.uuid4())
    event["time"] = when
    event["detail"].update(eventTime=when, eventID=str(uuid.uuid4()), userIdentity=_identity(actor))
    event["detail"]["requestParameters"]["policyArn"] = policy_arn
    return event


def _re_attached(account: Account, enforcer: EnforcerService, *, operators: str) -> str:
    """The grant detached by the developer and attached back by the enforcer: the re-attach's remediation id."""
    account.set(f"rules/{RULE}/operators", operators)
    _deployed(account)
    finding = _finding(enforcer.handle(load_event(DETACHED)))
    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]
    return str(finding["remediation_id"])


def _undo_record(account: Account, remediation_id: str) -> Any:
    [undo] = [r for r in account.audit().history(f"arn:aws:iam::{HOME_ACCOUNT}:role/{ROLE}") if r.kind == "undo"]
    assert undo.undoes == remediation_id
    return undo


def _recorded_at(undo: Any) -> datetime:
    return datetime.fromisoformat(str(undo.created_at))


def test_a_cli_undo_of_a_re_attach_sticks(account: Account, enforcer: EnforcerService) -> None:
    """The operator's ``iamwarden undo`` detaches the grant with their own credentials; its event, judged, finds the
    undo recorded (by that very caller, just before) and keeps the grant detached."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)

    code, out, err = _cli("undo", remediation_id)

    assert (code, err) == (0, ""), err
    assert f"detached {GRANT} from role {ROLE} again" in out
    assert _attached(account) == []
    undo = _undo_record(account, remediation_id)
    assert (undo.status, undo.actor) == (AuditStatus.UNDO, caller)

    result = enforcer.handle(_detach_event(caller, _recorded_at(undo)))

    assert result["verdict"] == "compliant", result
    assert f"by iamwarden undo {undo.remediation_id} of its re-attach {remediation_id}" in result["reason"]
    assert _attached(account) == []


def test_the_cli_records_its_undo_before_it_detaches(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit trail's order: the undo is recorded (its caller, and the ``created_at`` the detach's time is compared
    with) before it detaches; only its last write, once the detach went through, makes it an excuse."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    seen: list[tuple[str, str | None]] = []
    undo_done = ReattachOwnGrant.undo_done

    def looking_first(self: ReattachOwnGrant, aws: Any, step: RemediationStep, before: Any, done: Any) -> Any:
        undo = _undo_record(account, remediation_id)
        seen.append((undo.status, undo.actor))
        return undo_done(self, aws, step, before, done)

    monkeypatch.setattr(ReattachOwnGrant, "undo_done", looking_first)

    assert _cli("undo", remediation_id)[0] == 0

    assert seen == [(AuditStatus.IN_PROGRESS, caller)]
    assert _undo_record(account, remediation_id).status == AuditStatus.UNDO


def test_an_undo_that_cannot_be_recorded_changes_nothing(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    remediation_id = _re_attached(account, enforcer, operators=_caller(account))

    def refused(self: AuditLog, record: Any) -> None:
        raise AuditError("cannot put item: AccessDeniedException")

    monkeypatch.setattr(AuditLog, "put", refused)

    code, _, err = _cli("undo", remediation_id)

    assert code == 1
    assert "it cannot be recorded" in err
    assert "nothing was changed" in err
    assert _attached(account) == [GRANT]


def test_a_failed_undo_is_recorded_and_excuses_no_later_detach(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The undo's record is written, then its detach is refused: the record says failed, and a detach by the same
    operator a moment later (or anyone's) is attached back."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)

    def denied(self: ReattachOwnGrant, aws: Any, step: RemediationStep, before: Any, done: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "DetachRolePolicy")

    with monkeypatch.context() as patched:
        patched.setattr(ReattachOwnGrant, "undo_done", denied)
        code, _, err = _cli("undo", remediation_id)

    assert code == 1, err
    assert _attached(account) == [GRANT]
    undo = _undo_record(account, remediation_id)
    assert undo.status == AuditStatus.FAILED
    account.iam.detach_role_policy(RoleName=ROLE, PolicyArn=GRANT)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


@pytest.mark.parametrize("actor", ["developer", "the same operator"])
def test_a_detach_of_another_grant_right_after_an_undo_is_attached_back(
    account: Account, enforcer: EnforcerService, actor: str
) -> None:
    """An undo record names one re-attach: one role, one policy. Remediations-2 detached a second later, by an
    intruder or by the operator who just undid remediations-1, is attached back."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    account.iam.create_policy(
        PolicyName=GRANT_2.rsplit("/", 1)[-1],
        PolicyDocument=json.dumps(declared_grant(GRANT_2, account.config.own, HOME_ACCOUNT)),
    )
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)
    who = caller if actor == "the same operator" else "arn:aws:sts::111122223333:assumed-role/developer/dev@example.com"

    finding = _finding(enforcer.handle(_detach_event(who, _recorded_at(undo), GRANT_2)))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT_2]  # remediations-1 stays as the undo left it


@pytest.mark.parametrize("actor", [ALICE, "arn:aws:sts::111122223333:assumed-role/developer/dev@example.com"])
def test_an_undo_of_the_same_grant_excuses_no_other_actor(
    account: Account, enforcer: EnforcerService, actor: str
) -> None:
    """The undo was the CLI caller's; a detach of the same grant by another operator (alice of SecOps, admitted by
    the operators setting) or by the developer is not that undo: attached back."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=f"{caller},{SECOPS}")
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)

    finding = _finding(enforcer.handle(_detach_event(actor, _recorded_at(undo))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


def test_a_stale_undo_is_no_excuse(account: Account, enforcer: EnforcerService) -> None:
    """The same operator detaching the same grant minutes after an undo of its re-attach: not that undo."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo) + timedelta(minutes=2))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


def test_an_undo_recorded_after_the_detach_is_no_excuse(account: Account, enforcer: EnforcerService) -> None:
    """The CLI writes its record before it detaches: one written well after the event's time (beyond ``UNDO_SLACK``
    for the CLI's clock) is another's."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo) - timedelta(seconds=45))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


def test_an_undo_by_a_caller_the_operators_setting_does_not_admit_is_attached_back(
    account: Account, enforcer: EnforcerService
) -> None:
    """``iamwarden undo`` runs for anyone who may write the audit table: only an operator's undo is kept."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=SECOPS)
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


def test_an_unreadable_audit_table_makes_an_operators_detach_alert_only(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch, notifier: RecordingNotifier
) -> None:
    """Whether the operator's detach is that undo cannot be read: alerted with what is unknown and the command,
    neither attached back on a guess nor kept detached on one."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)

    def unreadable(self: AuditLog, resource_arn: str) -> list[Any]:
        raise AuditError("cannot query the audit table by resource_arn: ProvisionedThroughputExceededException")

    monkeypatch.setattr(AuditLog, "history", unreadable)
    notifier.sent.clear()

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo))))

    assert finding["outcome"] != "remediated"
    assert _attached(account) == []
    [alert] = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alert.finding is not None
    [unknown] = alert.finding.needs_context
    assert "iamwarden undo of IAM Warden's re-attach" in unknown
    assert "ProvisionedThroughputExceededException" in unknown
    assert alert.finding.plan  # the re-attach it would run, shown, not run
    assert "it is not attached back, since it is not known whether this detach is" in alert.finding.reason
    assert COMMAND in alert.finding.reason


def test_an_unreadable_audit_table_changes_nothing_for_anyone_else(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No operator, nothing to excuse, nothing looked up: the developer's detach is attached back as before."""
    account.set(f"rules/{RULE}/operators", SECOPS)
    _deployed(account)

    def unreadable(self: AuditLog, resource_arn: str) -> list[Any]:
        raise AuditError("cannot query the audit table by resource_arn: ProvisionedThroughputExceededException")

    monkeypatch.setattr(AuditLog, "history", unreadable)

    finding = _finding(enforcer.handle(load_event(DETACHED)))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


def test_a_slack_undo_of_a_re_attach_still_sticks(account: Account, enforcer: EnforcerService) -> None:
    """From Slack the enforcer undoes it in its own session, whose changes are not judged: kept, as before."""
    remediation_id = _re_attached(account, enforcer, operators=SECOPS)

    undo = enforcer.executor.undo(remediation_id, actor="slack:T0001/U0002")

    assert undo.status == AuditStatus.UNDO
    assert _attached(account) == []
    result = enforcer.handle(_detach_event(ENFORCER_SESSION, _recorded_at(undo)))
    assert [f for f in result["findings"] if f["rule"] == RULE] == []
    assert _attached(account) == []


@pytest.mark.parametrize("line", ["as written", "saying it detached"])
def test_an_undo_of_a_re_attach_refused_at_apply_excuses_no_later_detach(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    """Review cliundo-s17 item 1: a re-attach refused at apply (its ``done`` shows no attach) undone by the CLI
    detaches nothing; the operator's own detach of the grant a moment later is no undo of it: attached back, even
    with the undo record rewritten to say it detached the grant (the re-attach's ``done`` decides)."""
    caller = _caller(account)
    account.set(f"rules/{RULE}/operators", caller)
    _deployed(account)
    capture = ReattachOwnGrant.capture

    def capture_then_intruder_writes(self: ReattachOwnGrant, aws: Any, step: RemediationStep) -> Any:
        before = capture(self, aws, step)
        account.iam.create_policy_version(PolicyArn=GRANT, PolicyDocument=json.dumps(INTRUDERS), SetAsDefault=True)
        return before

    with monkeypatch.context() as patched:
        patched.setattr(ReattachOwnGrant, "capture", capture_then_intruder_writes)
        with pytest.raises(EnforcementFailedError) as failed:
            enforcer.handle(load_event(DETACHED))
    remediation_id = failed.value.failures[0].record.remediation_id
    account.iam.set_default_policy_version(PolicyArn=GRANT, VersionId="v1")
    account.iam.attach_role_policy(RoleName=ROLE, PolicyArn=GRANT)  # the operator attaches it by hand
    assert _cli("undo", remediation_id)[0] == 0
    assert _attached(account) == [GRANT]  # the undo detached nothing
    undo = _undo_record(account, remediation_id)
    if line == "saying it detached":
        account.audit().put(
            undo._replace(restored=(f"detached {GRANT} from role {ROLE} again, as the change left it",))
        )
    account.iam.detach_role_policy(RoleName=ROLE, PolicyArn=GRANT)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


@pytest.mark.parametrize(
    "changed",
    [
        {"rule": "iamwarden-own-policies"},
        {"role_name": "iamwarden-heartbeat-us-east-1"},
        {"policy_arn": GRANT_2},
    ],
    ids=["another rule", "another role", "another policy"],
)
def test_an_undo_of_a_remediation_that_is_not_that_re_attach_is_no_excuse(
    account: Account, enforcer: EnforcerService, changed: dict[str, str]
) -> None:
    """The undone remediation must be iamwarden-tampered's re-attach of exactly this policy onto exactly this role:
    the same record with another rule, role or policy (as the table would hold another remediation) excuses
    nothing."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)
    audit = account.audit()
    record = audit.get(remediation_id)
    assert record is not None
    if "rule" in changed:
        record = record._replace(rule=changed["rule"])
    else:
        [planned] = record.plan
        parameters = {**planned["parameters"], **changed}
        record = record._replace(plan=({**planned, "parameters": parameters},))
    audit.put(record)
    account.iam.attach_role_policy(RoleName=ROLE, PolicyArn=GRANT)
    account.iam.detach_role_policy(RoleName=ROLE, PolicyArn=GRANT)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


def test_an_undo_whose_failure_cannot_be_recorded_says_both_and_excuses_no_later_detach(
    account: Account, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review cliundo-s17 item 2: the undo's detach is refused and its FAILED record cannot be written either: the
    CLI says both errors, and the undo record left under way excuses no detach (only a done undo that says it
    detached the grant does)."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    put = AuditLog.put
    puts: list[str] = []

    def first_put_only(self: AuditLog, record: Any) -> Any:
        puts.append(record.status)
        if len(puts) >= 2:
            raise AuditError("cannot put item: ThrottlingException")
        return put(self, record)

    def denied(self: ReattachOwnGrant, aws: Any, step: RemediationStep, before: Any, done: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "DetachRolePolicy")

    with monkeypatch.context() as patched:
        patched.setattr(ReattachOwnGrant, "undo_done", denied)
        patched.setattr(AuditLog, "put", first_put_only)
        code, _, err = _cli("undo", remediation_id)

    assert code == 1
    assert "AccessDenied" in err
    assert "ThrottlingException" in err
    assert "still says in_progress" in err
    assert _attached(account) == [GRANT]
    undo = _undo_record(account, remediation_id)
    assert undo.status == AuditStatus.IN_PROGRESS
    account.iam.detach_role_policy(RoleName=ROLE, PolicyArn=GRANT)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo) + timedelta(seconds=30))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


def test_an_undo_record_under_way_is_no_excuse(account: Account, enforcer: EnforcerService) -> None:
    """An undo record that still says in_progress (its detach failed, or the CLI stopped before its last write)
    cannot show its detach happened: the detach is attached back (fails safe; undo the new re-attach again)."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    assert _cli("undo", remediation_id)[0] == 0
    audit = account.audit()
    undo = _undo_record(account, remediation_id)
    audit.put(undo._replace(status=AuditStatus.IN_PROGRESS))
    account.iam.attach_role_policy(RoleName=ROLE, PolicyArn=GRANT)
    audit.put(audit.get(remediation_id)._replace(status=AuditStatus.REMEDIATED, undone_by=None))  # type: ignore[union-attr]
    account.iam.detach_role_policy(RoleName=ROLE, PolicyArn=GRANT)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


def test_an_undo_that_detached_nothing_is_no_excuse(account: Account, enforcer: EnforcerService) -> None:
    """A done undo whose record does not say it detached the grant (already gone when it ran) shows no detach of
    its own: the operator's detach is attached back."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    account.iam.detach_role_policy(RoleName=ROLE, PolicyArn=GRANT)  # gone before the undo runs
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)
    assert not any(line.startswith(f"detached {GRANT}") for line in undo.restored)
    account.iam.attach_role_policy(RoleName=ROLE, PolicyArn=GRANT)
    account.iam.detach_role_policy(RoleName=ROLE, PolicyArn=GRANT)

    finding = _finding(enforcer.handle(_detach_event(caller, _recorded_at(undo))))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


@pytest.mark.parametrize("status", [AuditStatus.IN_PROGRESS, AuditStatus.UNDO])
def test_a_forged_undo_record_of_a_re_attach_undone_by_another_undo_is_no_excuse(
    account: Account, enforcer: EnforcerService, status: str
) -> None:
    """Review cliundo-s17 item 3: a re-attach is undone once (``undone_by`` names that undo); another undo record of
    it, written later by an operator who may write the table (the CLI would refuse: already undone), excuses
    nothing."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    assert _cli("undo", remediation_id)[0] == 0
    audit = account.audit()
    real = _undo_record(account, remediation_id)
    assert audit.get(remediation_id).status == AuditStatus.UNDONE  # type: ignore[union-attr]
    now = datetime.now(UTC)
    hour_ago = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    audit.put(real._replace(created_at=hour_ago))  # the real undo, an hour ago
    account.iam.attach_role_policy(RoleName=ROLE, PolicyArn=GRANT)  # back in place (a redeploy)
    audit.put(
        real._replace(
            remediation_id=f"undo-{remediation_id}-forged",
            status=status,
            created_at=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )
    )
    account.iam.detach_role_policy(RoleName=ROLE, PolicyArn=GRANT)

    finding = _finding(enforcer.handle(_detach_event(caller, now)))

    assert finding["outcome"] == "remediated"
    assert _attached(account) == [GRANT]


@pytest.mark.parametrize("ahead", [3, 29])
def test_a_cli_clock_ahead_of_aws_still_keeps_the_undo(account: Account, enforcer: EnforcerService, ahead: int) -> None:
    """Review cliundo-s17 item 5: ``created_at`` is the CLI's clock; one a few seconds ahead of AWS's (the event's
    time then reads before the record) still keeps the undo, within ``UNDO_SLACK``."""
    caller = _caller(account)
    remediation_id = _re_attached(account, enforcer, operators=caller)
    assert _cli("undo", remediation_id)[0] == 0
    undo = _undo_record(account, remediation_id)

    result = enforcer.handle(_detach_event(caller, _recorded_at(undo) - timedelta(seconds=ahead)))

    assert result["verdict"] == "compliant", result
    assert _attached(account) == []
