"""An own function's reserved concurrency put back (``restore_function_concurrency``) against moto: the undo acts
only while the live value is the one IAM Warden put back (s17, as the event invoke config's undo)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.functional.test_tampering import OPERATOR, _finding, _reserved, create_function
from tests.functional.test_tampering_invoke_config import refuse

__all__ = ["refuse"]  # the fixture, used by name below

FUNCTION = "iamwarden-enforcer"
ALREADY = f"the reserved concurrency of {FUNCTION} is already as the change left it: nothing to undo"
PUT_ZERO_BY_HAND = f"aws lambda put-function-concurrency --function-name {FUNCTION} --reserved-concurrent-executions 0"


def _restored(account: Account, enforcer: EnforcerService, declared: int | None = None) -> tuple[Any, str]:
    """The enforcer throttled to 0, put back to ``declared`` by the enforcer: (lambda client, remediation id)."""
    client = create_function(account)
    client.put_function_concurrency(FunctionName=FUNCTION, ReservedConcurrentExecutions=0)
    if declared is not None:
        enforcer.own = enforcer.own._replace(reserved_concurrency={FUNCTION: declared})
    finding = _finding(enforcer.handle(load_event("tamper-enforcer-concurrency-zero.json")))
    assert finding["outcome"] == "remediated"
    assert _reserved(client) == declared
    return client, str(finding["remediation_id"])


def _not_undone(account: Account, remediation_id: str) -> None:
    record = account.audit().get(remediation_id)
    assert record is not None
    assert record.status == AuditStatus.REMEDIATED  # still undoable once the cause is fixed


@pytest.mark.parametrize("declared", [None, 20])
def test_undo_refuses_a_concurrency_changed_since_the_restore_naming_it_and_the_command(
    account: Account, enforcer: EnforcerService, declared: int | None
) -> None:
    client, remediation_id = _restored(account, enforcer, declared)
    client.put_function_concurrency(FunctionName=FUNCTION, ReservedConcurrentExecutions=7)

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    message = str(refused.value)
    assert f"the reserved concurrency of {FUNCTION} was changed since IAM Warden put it back: it is now 7" in message
    assert message.endswith(PUT_ZERO_BY_HAND)
    assert _reserved(client) == 7
    _not_undone(account, remediation_id)


def test_undo_refuses_a_reservation_removed_since_a_declared_one_was_put_back(
    account: Account, enforcer: EnforcerService
) -> None:
    client, remediation_id = _restored(account, enforcer, 20)
    client.delete_function_concurrency(FunctionName=FUNCTION)

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert "it is now none (unreserved), not the template's 20" in str(refused.value)
    assert _reserved(client) is None
    _not_undone(account, remediation_id)


def test_undo_of_a_concurrency_already_as_the_change_left_it_is_done_without_a_write(
    account: Account, enforcer: EnforcerService, refuse: Callable[..., Callable[[], None]]
) -> None:
    client, remediation_id = _restored(account, enforcer)
    client.put_function_concurrency(FunctionName=FUNCTION, ReservedConcurrentExecutions=0)  # undone by hand
    refuse("PutFunctionConcurrency")
    refuse("DeleteFunctionConcurrency")  # no write is made: these would fail it

    undo = enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert undo.status == AuditStatus.UNDO
    assert undo.restored == (ALREADY,)
    assert _reserved(client) == 0


def test_undo_while_the_concurrency_is_what_was_put_back_puts_the_change_back(
    account: Account, enforcer: EnforcerService
) -> None:
    client, remediation_id = _restored(account, enforcer, 20)

    undo = enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert undo.status == AuditStatus.UNDO
    assert undo.restored == (f"set the reserved concurrency of {FUNCTION} back to 0",)
    assert _reserved(client) == 0


def test_undo_when_the_function_is_gone_refuses_saying_so(account: Account, enforcer: EnforcerService) -> None:
    client, remediation_id = _restored(account, enforcer)
    client.delete_function(FunctionName=FUNCTION)

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert f"{FUNCTION} is gone; redeploy the stack" in str(refused.value)
    _not_undone(account, remediation_id)


def test_undo_that_cannot_read_the_live_concurrency_changes_nothing(
    account: Account, enforcer: EnforcerService, refuse: Callable[..., Callable[[], None]]
) -> None:
    client, remediation_id = _restored(account, enforcer, 20)
    lift = refuse("GetFunctionConcurrency")

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    message = str(refused.value)
    assert "cannot be read (AccessDeniedException)" in message
    assert "nothing was changed" in message
    assert message.endswith(PUT_ZERO_BY_HAND)
    _not_undone(account, remediation_id)
    lift()
    assert _reserved(client) == 20
