"""Role quarantine undo lifts only IAM Warden's own deny-all (issue 15; the users' rule, review s13 N3).

A role created under one of IAM Warden's names is quarantined by ``iamwarden-tampered`` with the ``AWSDenyAll``
boundary and the deny-all inline policy. When one of those writes was refused (the other held) and the security team
put that deny-all on by hand afterwards, ``iamwarden undo`` lifts only the deny-all the record shows IAM Warden
wrote. Before: undo lifted both, taking the team's deny-all off a role of IAM Warden's name.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome, RemediationStep
from iamwarden.domain.quarantine import QUARANTINE_POLICY_NAME
from iamwarden.guardrails.tampering import QuarantineRole
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account

ROLE = "iamwarden-heartbeat-us-east-1"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
DENY_ALL_BOUNDARY = "arn:aws:iam::aws:policy/AWSDenyAll"
_DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def _refuse(operation: str) -> Any:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "explicit deny in an SCP"}}, operation)

    return refuse


def _quarantine(account: Account, enforcer: EnforcerService, refused: str | None = None) -> str:
    """A role created under one of IAM Warden's names, quarantined by iamwarden-tampered with the write ``refused``
    (the other deny-all holds): the remediation id."""
    event = load_event("trust-lambda-service.json")
    event["detail"]["requestParameters"]["roleName"] = ROLE
    trust = event["detail"]["requestParameters"]["assumeRolePolicyDocument"]
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
    hook = f"before-call.iam.{refused}"
    refuse = _refuse(str(refused))
    if refused is not None:
        account.session.events.register_first(hook, refuse)
    try:
        [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "iamwarden-tampered"]
    finally:
        if refused is not None:
            account.session.events.unregister(hook, refuse)
    assert finding["outcome"] == Outcome.REMEDIATED
    return str(finding["remediation_id"])


def _boundary(account: Account) -> str | None:
    role = account.iam.get_role(RoleName=ROLE)["Role"]
    return cast("str | None", role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"))


def _policies(account: Account) -> list[str]:
    return cast("list[str]", account.iam.list_role_policies(RoleName=ROLE)["PolicyNames"])


@pytest.mark.parametrize("refused", ["PutRolePermissionsBoundary", "PutRolePolicy"])
def test_undo_leaves_a_role_deny_all_whose_own_write_was_refused_and_that_someone_put_on_since(
    account: Account, enforcer: EnforcerService, refused: str
) -> None:
    quarantine = _quarantine(account, enforcer, refused)
    if refused == "PutRolePermissionsBoundary":
        assert _boundary(account) is None
        assert _policies(account) == [QUARANTINE_POLICY_NAME]
        account.iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=DENY_ALL_BOUNDARY)  # by hand
    else:
        assert _boundary(account) == DENY_ALL_BOUNDARY
        assert _policies(account) == []
        account.iam.put_role_policy(
            RoleName=ROLE, PolicyName=QUARANTINE_POLICY_NAME, PolicyDocument=json.dumps(_DENY_ALL)
        )

    undone = enforcer.executor.undo(quarantine, actor=OPERATOR)

    if refused == "PutRolePermissionsBoundary":
        assert _boundary(account) == DENY_ALL_BOUNDARY  # the team's, kept
        assert _policies(account) == []  # the quarantine's own inline deny-all, lifted
        assert any(
            line.startswith(f"left the permissions boundary of role {ROLE} as it is") for line in undone.restored
        )
    else:
        assert _policies(account) == [QUARANTINE_POLICY_NAME]  # the team's, kept
        assert _boundary(account) is None  # the quarantine's own boundary, lifted
        assert any(
            line.startswith(f"left the inline policy {QUARANTINE_POLICY_NAME} of role {ROLE} as it is")
            for line in undone.restored
        )


def test_undo_lifts_both_deny_alls_the_quarantine_wrote(account: Account, enforcer: EnforcerService) -> None:
    """The control: both writes went through, so undo lifts both and says so (nothing "left as it is")."""
    quarantine = _quarantine(account, enforcer)
    assert _boundary(account) == DENY_ALL_BOUNDARY
    assert _policies(account) == [QUARANTINE_POLICY_NAME]

    undone = enforcer.executor.undo(quarantine, actor=OPERATOR)

    assert _boundary(account) is None
    assert _policies(account) == []
    assert f"took the deny-all permissions boundary off role {ROLE}" in undone.restored
    assert f"deleted the deny-all inline policy {QUARANTINE_POLICY_NAME} from role {ROLE}" in undone.restored
    assert not [line for line in undone.restored if line.startswith("left ")]


@pytest.mark.parametrize("refused", [None, "PutRolePermissionsBoundary", "PutRolePolicy"])
def test_role_undo_with_the_record_is_idempotent(
    account: Account, enforcer: EnforcerService, refused: str | None
) -> None:
    """Undo run again on what it left (a retried undo): no error, and nothing the record does not show IAM Warden
    wrote is lifted; a deny-all already gone is done."""
    quarantine = _quarantine(account, enforcer, refused)
    record = account.audit().get(quarantine)
    assert record is not None
    [step] = [RemediationStep.from_dict(data) for data in record.plan]
    [before] = record.before
    aws = cast(Any, SimpleNamespace(iam=account.iam))
    if refused == "PutRolePermissionsBoundary":
        account.iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=DENY_ALL_BOUNDARY)

    QuarantineRole().undo_done(aws, step, before, record.done)
    left = (_boundary(account), _policies(account))
    QuarantineRole().undo_done(aws, step, before, record.done)

    assert (_boundary(account), _policies(account)) == left
    assert left == ((DENY_ALL_BOUNDARY if refused == "PutRolePermissionsBoundary" else None), [])


def _reversed_by_hand(account: Account, enforcer: EnforcerService) -> tuple[str, str]:
    """Quarantine A (``iamwarden-tampered``), its boundary taken off by hand, that call judged: remediation-reversed's
    quarantine B puts the boundary back. A's id and B's."""
    older = _quarantine(account, enforcer)
    account.iam.delete_role_permissions_boundary(RoleName=ROLE)
    event = load_event("delete-role-permissions-boundary.json")  # the sample's real shape; the role renamed
    event["detail"]["requestParameters"]["roleName"] = ROLE
    event["detail"]["eventID"] = "00000000-0000-4000-8000-0000000f1001"
    [newer] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "remediation-reversed"]
    assert newer["outcome"] == Outcome.REMEDIATED
    assert (_boundary(account), _policies(account)) == (DENY_ALL_BOUNDARY, [QUARANTINE_POLICY_NAME])
    return older, str(newer["remediation_id"])


def test_undo_of_an_older_role_quarantine_while_a_newer_holds_is_refused_and_changes_nothing(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review quarrole-s15 F1 (as for users since review s12 F4): undoing A lifted B's boundary, B stayed in force
    with nothing on the role, and the undo's own call was then judged a reversal of B (paged critical, the role
    quarantined again). Now it is refused, naming B, and nothing changes."""
    older, newer = _reversed_by_hand(account, enforcer)

    with pytest.raises(UndoError, match=f"{newer} .*same role, still in force: undo it first"):
        enforcer.executor.undo(older, actor=OPERATOR)

    item = enforcer.executor.audit.get(older)
    assert item is not None
    assert item.status == AuditStatus.REMEDIATED
    assert (_boundary(account), _policies(account)) == (DENY_ALL_BOUNDARY, [QUARANTINE_POLICY_NAME])


def test_undo_of_the_newer_role_quarantine_then_the_older_lifts_both(
    account: Account, enforcer: EnforcerService
) -> None:
    """The order the refusal asks for: B (its boundary) first, then A (its inline deny-all)."""
    older, newer = _reversed_by_hand(account, enforcer)

    enforcer.executor.undo(newer, actor=OPERATOR)
    assert (_boundary(account), _policies(account)) == (None, [QUARANTINE_POLICY_NAME])
    enforcer.executor.undo(older, actor=OPERATOR)

    assert (_boundary(account), _policies(account)) == (None, [])
    items = [enforcer.executor.audit.get(record) for record in (older, newer)]
    assert [item.status if item is not None else None for item in items] == [AuditStatus.UNDONE] * 2


@pytest.mark.parametrize("by_hand", [True, False], ids=["boundary-put-by-hand", "nothing-by-hand"])
def test_a_retried_role_quarantine_undo_lifts_only_what_its_attempts_wrote(
    account: Account, enforcer: EnforcerService, by_hand: bool
) -> None:
    """Review quarrole-s15 F6: attempt 1 has both writes refused (NOT quarantined, retried); the team puts
    ``AWSDenyAll`` on by hand; attempt 2 writes only the inline deny-all. The record's before-state is attempt 1's
    (no boundary), so undo must read the lines: the hand-put boundary stays, the quarantine's inline policy goes."""
    event = load_event("trust-lambda-service.json")
    event["detail"]["requestParameters"]["roleName"] = ROLE
    account.iam.create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=event["detail"]["requestParameters"]["assumeRolePolicyDocument"]
    )
    refusing = [True]

    def gate(name: str) -> Any:
        refuse = _refuse(name)

        def refuse_while(**kwargs: Any) -> None:
            if refusing:
                refuse(**kwargs)

        return refuse_while

    # The enforcer's clients keep the session's hooks they were made with: a gate, not an unregister.
    for name in ("PutRolePermissionsBoundary", "PutRolePolicy"):
        account.session.events.register_first(f"before-call.iam.{name}", gate(name))
    with pytest.raises(Exception, match="AccessDenied"):
        enforcer.handle(json.loads(json.dumps(event)))
    refusing.clear()
    assert (_boundary(account), _policies(account)) == (None, [])
    if by_hand:
        account.iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=DENY_ALL_BOUNDARY)

    [retried] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "iamwarden-tampered"]
    assert retried["outcome"] == Outcome.REMEDIATED
    undone = enforcer.executor.undo(str(retried["remediation_id"]), actor=OPERATOR)

    assert _policies(account) == []
    assert f"deleted the deny-all inline policy {QUARANTINE_POLICY_NAME} from role {ROLE}" in undone.restored
    assert _boundary(account) == (DENY_ALL_BOUNDARY if by_hand else None)
    if by_hand:
        assert any(line.startswith(f"left the permissions boundary of role {ROLE}") for line in undone.restored)


def _lost(operation: str) -> Any:
    """An ``after-call`` hook: AWS applied the write, its answer is lost (a 5xx the retries did not outlast)."""

    def lose(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "answer lost"}}, operation)

    return lose


def test_a_boundary_write_whose_answer_was_lost_is_lifted_by_undo(account: Account, enforcer: EnforcerService) -> None:
    """Review quarrole-s15 F4 (its probe): the boundary write went through but its answer was lost (InternalFailure),
    the inline write refused (a full quota); attempt 1 fails, attempt 2 finds the boundary on and writes nothing.
    The record says "NOT set (InternalFailure)": unknown, not refused. Undo lifts the AWSDenyAll it finds, which is
    IAM Warden's own (before: left on a role of IAM Warden's name, "the record shows no write")."""
    event = load_event("trust-lambda-service.json")
    event["detail"]["requestParameters"]["roleName"] = ROLE
    account.iam.create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=event["detail"]["requestParameters"]["assumeRolePolicyDocument"]
    )
    account.session.events.register("after-call.iam.PutRolePermissionsBoundary", _lost("PutRolePermissionsBoundary"))

    def quota(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "LimitExceeded", "Message": "quota"}}, "PutRolePolicy")

    account.session.events.register_first("before-call.iam.PutRolePolicy", quota)
    with pytest.raises(Exception, match="InternalFailure"):
        enforcer.handle(json.loads(json.dumps(event)))
    [retried] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "iamwarden-tampered"]
    assert retried["outcome"] == Outcome.REMEDIATED
    assert (_boundary(account), _policies(account)) == (DENY_ALL_BOUNDARY, [])

    undone = enforcer.executor.undo(str(retried["remediation_id"]), actor=OPERATOR)

    assert _boundary(account) is None
    assert any(
        line.startswith(f"took the deny-all permissions boundary off role {ROLE} (its write's answer was lost")
        for line in undone.restored
    )
    assert any("LimitExceeded" in line and "delete-role-policy" in line for line in undone.restored), (
        "the refused inline write is named, with the command"
    )


@pytest.mark.parametrize("edited", [False, True], ids=["iam-wardens-deny-all", "edited-since"])
def test_an_inline_write_whose_answer_was_lost_is_lifted_only_while_it_is_iam_wardens_deny_all(
    account: Account, enforcer: EnforcerService, edited: bool
) -> None:
    """The inline deny-all written, its answer lost (the boundary holds, so remediated): undo reads the policy and
    deletes it when it is exactly IAM Warden's deny-all; another document under the name (edited since) stays, and
    undo names the error and the command."""
    account.session.events.register("after-call.iam.PutRolePolicy", _lost("PutRolePolicy"))
    quarantine = _quarantine(account, enforcer)
    assert _policies(account) == [QUARANTINE_POLICY_NAME]
    if edited:
        allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        account.iam.put_role_policy(RoleName=ROLE, PolicyName=QUARANTINE_POLICY_NAME, PolicyDocument=json.dumps(allow))

    undone = enforcer.executor.undo(quarantine, actor=OPERATOR)

    assert _boundary(account) is None
    if edited:
        assert _policies(account) == [QUARANTINE_POLICY_NAME]
        [left] = [line for line in undone.restored if line.startswith("left the inline policy")]
        assert "InternalFailure" in left
        assert f"aws iam delete-role-policy --role-name {ROLE} --policy-name {QUARANTINE_POLICY_NAME}" in left
    else:
        assert _policies(account) == []
        assert f"deleted the deny-all inline policy {QUARANTINE_POLICY_NAME} from role {ROLE}" in undone.restored


def test_a_refused_boundary_write_is_named_with_its_error_and_never_lifted(
    account: Account, enforcer: EnforcerService
) -> None:
    """A definite refusal (AccessDenied) says AWS did not apply it: a boundary put on by hand since stays, and undo
    names the refusal and the command."""
    quarantine = _quarantine(account, enforcer, "PutRolePermissionsBoundary")
    account.iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=DENY_ALL_BOUNDARY)

    undone = enforcer.executor.undo(quarantine, actor=OPERATOR)

    assert _boundary(account) == DENY_ALL_BOUNDARY
    [left] = [line for line in undone.restored if line.startswith("left the permissions boundary")]
    assert "AccessDenied" in left
    assert f"aws iam delete-role-permissions-boundary --role-name {ROLE}" in left
