"""An own function's event invoke config put back (``restore_function_invoke_config``) against moto: each error
path of the restore and of its undo, and the undo's live check (issue 15 item 2, s17).

Lambda's refusals are injected under every botocore client (the enforcer's, made before, too); moto's put
appends instead of replacing (``put_replaces`` emulates Lambda).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditRecord, AuditStatus
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.exceptions import UndoError
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_tampering import (
    DECLARED_INVOKE,
    OPERATOR,
    _alerts,
    _finding,
    _invoke_config,
    create_function,
    put_replaces,
)

__all__ = ["put_replaces"]  # the fixture, used by name below

PUT = "tamper-enforcer-invoke-config-put.json"
DELETED = "tamper-enforcer-invoke-config-deleted.json"
FUNCTION = "iamwarden-enforcer"
ARN = f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:{FUNCTION}"
#: What the put sample's change leaves (its request parameters).
CHANGED = {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
ALREADY = f"the event invoke config of {FUNCTION} is already as the change left it: nothing to undo"
PUT_BACK_BY_HAND = (
    f"aws lambda put-function-event-invoke-config --function-name {FUNCTION} --maximum-retry-attempts 0 "
    "--maximum-event-age-in-seconds 60"
)


@pytest.fixture
def refuse(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Callable[[], None]]:
    """``refuse("PutFunctionEventInvokeConfig")``: Lambda answers that call with ``code`` (for every client, those
    already made too) until lifted (the returned callable) or the test ends."""
    refused: dict[str, str] = {}
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def call(self: BaseClient, operation: str, parameters: Any) -> Any:
        if self.meta.service_model.service_name == "lambda" and operation in refused:
            code = refused[operation]
            raise ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)
        return original(self, operation, parameters)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)

    def install(operation: str, code: str = "AccessDeniedException") -> Callable[[], None]:
        refused[operation] = code

        def lift() -> None:
            refused.pop(operation, None)

        return lift

    return install


def _only_record(account: Account) -> AuditRecord:
    [record] = [r for r in account.audit().history(ARN) if r.kind == "remediation"]
    return record


def _failed(enforcer: EnforcerService, sample: str) -> str:
    """Handle ``sample``, whose remediation fails: the failure's text (the enforcer raises after alerting, so that
    Lambda retries the event)."""
    with pytest.raises(EnforcementFailedError) as failed:
        enforcer.handle(load_event(sample))
    return str(failed.value)


def _remediated(account: Account, enforcer: EnforcerService, sample: str = PUT) -> tuple[Any, str]:
    """The sample's change made live, then put back by the enforcer: (lambda client, remediation id)."""
    client = create_function(account)
    if sample == PUT:
        client.put_function_event_invoke_config(FunctionName=FUNCTION, **CHANGED)
    finding = _finding(enforcer.handle(load_event(sample)))
    assert finding["outcome"] == "remediated"
    assert _invoke_config(client) == DECLARED_INVOKE
    return client, str(finding["remediation_id"])


def _not_undone(account: Account, remediation_id: str) -> None:
    record = account.audit().get(remediation_id)
    assert record is not None
    assert record.status == AuditStatus.REMEDIATED  # still undoable once the cause is fixed


# --- the restore ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("put_replaces")
@pytest.mark.parametrize("code", ["AccessDeniedException", "TooManyRequestsException"])
def test_a_put_lambda_refuses_fails_the_remediation_and_is_never_reported_put_back(
    account: Account,
    enforcer: EnforcerService,
    notifier: RecordingNotifier,
    refuse: Callable[..., Callable[[], None]],
    code: str,
) -> None:
    client = create_function(account)
    client.put_function_event_invoke_config(FunctionName=FUNCTION, **CHANGED)
    refuse("PutFunctionEventInvokeConfig", code)

    error = _failed(enforcer, PUT)

    assert code in error
    assert _invoke_config(client) == CHANGED
    record = _only_record(account)
    assert (record.status, record.done) == (AuditStatus.FAILED, [])
    [alert] = _alerts(notifier)
    assert alert.outcome.value == "remediation_failed"
    assert code in (alert.error or "")
    assert not any("put the event invoke config" in line and "back" in line for line in alert.actions)


@pytest.mark.usefixtures("put_replaces")
def test_a_config_that_cannot_be_read_is_never_put_back_on_a_guess(
    account: Account,
    enforcer: EnforcerService,
    notifier: RecordingNotifier,
    refuse: Callable[..., Callable[[], None]],
) -> None:
    """No before-state, no change: the restore would have nothing to undo to."""
    client = create_function(account)
    client.put_function_event_invoke_config(FunctionName=FUNCTION, **CHANGED)
    lift = refuse("GetFunctionEventInvokeConfig")

    error = _failed(enforcer, PUT)

    assert "AccessDeniedException" in error
    lift()
    assert _invoke_config(client) == CHANGED
    record = _only_record(account)
    assert (record.status, record.done, tuple(record.before)) == (AuditStatus.FAILED, [], ())
    [alert] = _alerts(notifier)
    assert alert.outcome.value == "remediation_failed"


@pytest.mark.usefixtures("put_replaces")
@pytest.mark.parametrize("sample", [PUT, DELETED])
def test_a_function_gone_fails_the_restore_saying_so_never_reported_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, sample: str
) -> None:
    """The enforcer's function deleted (its own event is alerted): there is nothing to put the config on."""
    error = _failed(enforcer, sample)

    assert "the function is gone" in error
    record = _only_record(account)
    assert (record.status, record.done) == (AuditStatus.FAILED, [])
    [alert] = _alerts(notifier)
    assert alert.outcome.value == "remediation_failed"
    assert "ResourceNotFoundException" in (alert.error or "")


# --- the undo -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("put_replaces")
def test_undo_refuses_a_config_changed_since_the_restore_naming_it_and_the_command(
    account: Account, enforcer: EnforcerService
) -> None:
    client, remediation_id = _remediated(account, enforcer)
    later = {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 120}
    client.put_function_event_invoke_config(FunctionName=FUNCTION, **later)

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    message = str(refused.value)
    assert "changed since IAM Warden put it back" in message
    assert '"MaximumEventAgeInSeconds": 120, "MaximumRetryAttempts": 1' in message
    assert message.endswith(PUT_BACK_BY_HAND)
    assert _invoke_config(client) == later
    _not_undone(account, remediation_id)


@pytest.mark.usefixtures("put_replaces")
def test_undo_of_a_restored_deletion_deleted_again_since_is_done_already(
    account: Account, enforcer: EnforcerService
) -> None:
    """Deleted again since: that is what the change left, so the undo is done already (idempotent)."""
    client, remediation_id = _remediated(account, enforcer, DELETED)
    client.delete_function_event_invoke_config(FunctionName=FUNCTION)

    undo = enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert undo.status == AuditStatus.UNDO
    assert undo.restored == (ALREADY,)
    assert _invoke_config(client) is None


@pytest.mark.usefixtures("put_replaces")
def test_undo_of_a_config_already_as_the_change_left_it_is_done_without_a_write(
    account: Account, enforcer: EnforcerService, refuse: Callable[..., Callable[[], None]]
) -> None:
    client, remediation_id = _remediated(account, enforcer)
    client.put_function_event_invoke_config(FunctionName=FUNCTION, **CHANGED)  # undone by hand
    refuse("PutFunctionEventInvokeConfig")
    refuse("DeleteFunctionEventInvokeConfig")  # no write is made: these would fail it

    undo = enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert undo.status == AuditStatus.UNDO
    assert undo.restored == (ALREADY,)
    assert _invoke_config(client) == CHANGED


@pytest.mark.usefixtures("put_replaces")
def test_undo_when_the_function_is_gone_refuses_saying_so(account: Account, enforcer: EnforcerService) -> None:
    client, remediation_id = _remediated(account, enforcer)
    client.delete_function(FunctionName=FUNCTION)

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert f"{FUNCTION} is gone; redeploy the stack" in str(refused.value)
    _not_undone(account, remediation_id)


@pytest.mark.usefixtures("put_replaces")
def test_undo_of_a_restored_deletion_when_the_function_is_gone_refuses_never_done(
    account: Account, enforcer: EnforcerService
) -> None:
    """Lambda answers ``ResourceNotFoundException`` both for no config and for no function: a function gone is not
    the deletion the change left (review s17 invoke2 F1; the probe /tmp/rv-invoke2-s17/test_probe_gone.py)."""
    client, remediation_id = _remediated(account, enforcer, DELETED)
    client.delete_function(FunctionName=FUNCTION)

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    message = str(refused.value)
    assert f"{FUNCTION} is gone; redeploy the stack" in message
    assert "already as the change left it" not in message
    _not_undone(account, remediation_id)


@pytest.mark.usefixtures("put_replaces")
def test_undo_of_a_restored_deletion_whose_function_cannot_be_confirmed_changes_nothing(
    account: Account, enforcer: EnforcerService, refuse: Callable[..., Callable[[], None]]
) -> None:
    """No config, and whether the function is there cannot be read (``GetFunctionConcurrency`` refused): unknown,
    so neither done nor written."""
    client, remediation_id = _remediated(account, enforcer, DELETED)
    client.delete_function_event_invoke_config(FunctionName=FUNCTION)
    refuse("GetFunctionConcurrency")

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    message = str(refused.value)
    assert "cannot be read (AccessDeniedException)" in message
    assert "nothing was changed" in message
    _not_undone(account, remediation_id)


@pytest.mark.usefixtures("put_replaces")
def test_a_refusal_of_a_real_live_config_does_not_say_it_may_be_deleted(
    account: Account, enforcer: EnforcerService
) -> None:
    """The "(deleted since)" note is for a live config that is none, never after a real one (review s17 invoke2 F2)."""
    client, remediation_id = _remediated(account, enforcer)
    client.put_function_event_invoke_config(FunctionName=FUNCTION, MaximumRetryAttempts=1)

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    message = str(refused.value)
    assert 'it is now {"DestinationConfig": {}, "MaximumRetryAttempts": 1}, not' in message
    assert "none" not in message.split("; left alone", maxsplit=1)[0]


@pytest.mark.usefixtures("put_replaces")
def test_a_refusal_of_a_deleted_live_config_says_so(account: Account, enforcer: EnforcerService) -> None:
    client, remediation_id = _remediated(account, enforcer)
    client.delete_function_event_invoke_config(FunctionName=FUNCTION)

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert "it is now none (deleted since), not the template's" in str(refused.value)
    _not_undone(account, remediation_id)


@pytest.mark.usefixtures("put_replaces")
def test_undo_that_cannot_read_the_live_config_changes_nothing(
    account: Account, enforcer: EnforcerService, refuse: Callable[..., Callable[[], None]]
) -> None:
    client, remediation_id = _remediated(account, enforcer)
    lift = refuse("GetFunctionEventInvokeConfig")

    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    message = str(refused.value)
    assert "cannot be read (AccessDeniedException)" in message
    assert "nothing was changed" in message
    assert message.endswith(PUT_BACK_BY_HAND)
    _not_undone(account, remediation_id)
    lift()
    assert _invoke_config(client) == DECLARED_INVOKE


@pytest.mark.usefixtures("put_replaces")
@pytest.mark.parametrize(("sample", "write"), [(PUT, "Put"), (DELETED, "Delete")])
def test_undo_lambda_refuses_fails_saying_so_and_stays_undoable(
    account: Account,
    enforcer: EnforcerService,
    refuse: Callable[..., Callable[[], None]],
    sample: str,
    write: str,
) -> None:
    """The operator's credentials lack the write (an undo from Slack of a restored deleted config: the enforcer is
    not granted ``DeleteFunctionEventInvokeConfig``): the config stays the declared one, the remediation undoable."""
    client, remediation_id = _remediated(account, enforcer, sample)
    lift = refuse(f"{write}FunctionEventInvokeConfig")

    with pytest.raises(UndoError) as failed:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)

    assert "AccessDeniedException" in str(failed.value)
    assert "restored so far: nothing" in str(failed.value)
    assert _invoke_config(client) == DECLARED_INVOKE
    _not_undone(account, remediation_id)
    lift()
    assert enforcer.executor.undo(remediation_id, actor=OPERATOR).status == AuditStatus.UNDO
    assert _invoke_config(client) == (CHANGED if sample == PUT else None)


@pytest.mark.usefixtures("put_replaces")
def test_the_by_hand_command_of_a_refusal_recreates_what_the_change_left(
    account: Account, enforcer: EnforcerService
) -> None:
    """The command the refusal names, run as AWS CLI arguments (``shlex``), makes the config the change left."""
    client, remediation_id = _remediated(account, enforcer)
    client.put_function_event_invoke_config(FunctionName=FUNCTION, MaximumRetryAttempts=1)
    with pytest.raises(UndoError) as refused:
        enforcer.executor.undo(remediation_id, actor=OPERATOR)
    words = shlex.split(str(refused.value).rsplit("anyway: ", 1)[1])
    assert words[:3] == ["aws", "lambda", "put-function-event-invoke-config"]
    flags = dict(zip(words[3::2], words[4::2], strict=True))

    client.put_function_event_invoke_config(
        FunctionName=flags["--function-name"],
        MaximumRetryAttempts=int(flags["--maximum-retry-attempts"]),
        MaximumEventAgeInSeconds=int(flags["--maximum-event-age-in-seconds"]),
    )

    assert _invoke_config(client) == CHANGED
