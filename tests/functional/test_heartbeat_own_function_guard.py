"""The heartbeat puts right what it finds on IAM Warden's own functions (issue 15 item 2, moto's Lambda): a function
running code its stack did not deploy is stopped (never the enforcer), a permission or a URL the template does not
declare is removed; each through the executor (before-state first), once, and undoable."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.config import own_identity_from_environment
from iamwarden.app.executor import RemediationExecutor
from iamwarden.app.heartbeat import HeartbeatConfig, OwnFunctionCheck
from iamwarden.app.own_function_guard import Executes, OwnFunctionGuard
from iamwarden.domain.recorded import OWN_CODE, Snapshot
from iamwarden.domain.settings import Settings, load_settings
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.functional.conftest import Account
from tests.functional.test_own_code import _noop
from tests.functional.test_tampering import OPERATOR, _zip, create_function

WORKER = "iamwarden-prune-worker"
ENFORCER = "iamwarden-enforcer"
HEARTBEAT_RULE = f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:rule/iamwarden-heartbeat"


def _arn(function: str) -> str:
    return f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:{function}"


class _Clock:
    """The heartbeat's clock, moved by the test: one hour after the own stack was deployed, to begin with."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


def _guard(
    account: Account, settings: Settings | None = None, clock: _Clock | None = None
) -> tuple[OwnFunctionGuard, RemediationExecutor]:
    executor = RemediationExecutor(ClientFactory(HOME_ACCOUNT, session=account.session), account.audit())
    cloudformation = account.session.client("cloudformation", region_name=REGION)
    if not cloudformation.list_stacks(StackStatusFilter=["CREATE_COMPLETE"]).get("StackSummaries"):
        template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
        cloudformation.create_stack(StackName="iamwarden", TemplateBody=json.dumps(template))
    guard = OwnFunctionGuard(
        own_identity_from_environment(),
        account.session.client("lambda", region_name=REGION),
        partition="aws",
        region=REGION,
        executor=Executes(executor.remediate),
        settings=lambda: settings if settings is not None else load_settings({}),
        cloudformation=cloudformation,
        stack="iamwarden",
        recorded=AuditRecorded(account.audit(), account.dynamodb),
        clock=clock if clock is not None else _Clock(),
    )
    return guard, executor


def _check(account: Account, guard: OwnFunctionGuard) -> OwnFunctionCheck:
    config = HeartbeatConfig.from_environment(
        {
            "IAMWARDEN_ENFORCER_ARN": _arn(ENFORCER),
            "IAMWARDEN_CENTRAL_BUS_ARN": f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
            "IAMWARDEN_ENFORCER_ROLE_NAME": "iamwarden-enforcer",
            "IAMWARDEN_ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts",
        }
    )
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    return OwnFunctionCheck(config, guard.lambda_client, recorded, guard=guard)


def _changed_code(account: Account, check: OwnFunctionCheck, function: str) -> list[str]:
    """Record the deployed code of ``function``, replace it, and return what the heartbeat's code check says."""
    client = create_function(account, function)
    deployed = client.get_function_configuration(FunctionName=function)
    check.recorded.put(
        Snapshot(
            OWN_CODE, deployed["FunctionArn"], "2026-12-05T09:00:00.000+00:00", {"code_sha256": deployed["CodeSha256"]}
        )
    )
    client.update_function_code(FunctionName=function, ZipFile=_noop())
    return check.code_problems(function, client.get_function_configuration(FunctionName=function))


def _reserved(account: Account, function: str) -> Any:
    client = account.session.client("lambda", region_name=REGION)
    return client.get_function_concurrency(FunctionName=function).get("ReservedConcurrentExecutions")


def test_an_own_function_with_changed_code_is_stopped_once_and_undo_lets_it_run(account: Account) -> None:
    clock = _Clock()
    guard, executor = _guard(account, clock=clock)
    check = _check(account, guard)

    [waiting] = _changed_code(account, check, WORKER)
    assert "not stopped yet: first seen at" in waiting  # first seen now: it may be a deploy's
    assert f"will be stopped at {clock.now + timedelta(minutes=30):%H:%M} UTC if still unexplained" in waiting
    assert _reserved(account, WORKER) is None

    clock.now += timedelta(minutes=31)
    live = account.session.client("lambda", region_name=REGION).get_function_configuration(FunctionName=WORKER)
    [problem] = check.code_problems(WORKER, live)

    assert _reserved(account, WORKER) == 0
    assert "runs code its stack did not deploy" in problem
    assert f"done: stopped function {WORKER} (reserved concurrency 0, it was unreserved)" in problem
    remediation_id = problem.rsplit("iamwarden undo ", 1)[1].rstrip(")")
    record = account.audit().get(remediation_id)
    assert record is not None
    assert record.before == [{"exists": True, "reserved": None}]  # recorded before the stop

    # the next run finds it done and does nothing more
    [again] = check.code_problems(WORKER, live)
    assert "put right by an earlier run" in again

    undo = executor.undo(remediation_id, actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _reserved(account, WORKER) is None
    # an operator's undo stands: the same code is not stopped again
    [after_undo] = check.code_problems(WORKER, live)
    assert "undone since" in after_undo
    assert _reserved(account, WORKER) is None


def test_a_deploys_new_code_recorded_within_the_grace_is_never_stopped(account: Account) -> None:
    """Review 15 finding 1: the deploy's code is live before its UpdateFunctionCode reaches the enforcer; once the
    enforcer records it, the heartbeat finds nothing to stop."""
    clock = _Clock()
    guard, _ = _guard(account, clock=clock)
    check = _check(account, guard)

    [waiting] = _changed_code(account, check, WORKER)
    assert "not stopped yet" in waiting

    live = account.session.client("lambda", region_name=REGION).get_function_configuration(FunctionName=WORKER)
    # the enforcer judges CloudFormation's UpdateFunctionCode and records the new code
    check.recorded.put(
        Snapshot(OWN_CODE, live["FunctionArn"], clock.now.isoformat(), {"code_sha256": live["CodeSha256"]})
    )
    clock.now += timedelta(hours=2)

    assert check.code_problems(WORKER, live) == []
    assert _reserved(account, WORKER) is None


def test_the_enforcer_with_changed_code_is_alerted_never_stopped(account: Account) -> None:
    guard, _ = _guard(account)
    check = _check(account, guard)

    [problem] = _changed_code(account, check, ENFORCER)

    assert "it is not stopped (stopping the enforcer would blind IAM Warden" in problem
    assert _reserved(account, ENFORCER) is None


def test_in_alert_mode_or_with_the_kill_switch_off_nothing_is_stopped(account: Account) -> None:
    for settings, why in (
        (load_settings({"rules": {"iamwarden-tampered": {"mode": "alert"}}}), "iamwarden-tampered is not in remediate"),
        (load_settings({"enforcement": "off"}), "the kill switch is off"),
    ):
        guard, _ = _guard(account, settings)
        [problem] = _changed_code(account, _check(account, guard), WORKER)
        assert f"not done, as {why}" in problem
        assert _reserved(account, WORKER) is None


def _policy_sids(client: Any, function: str) -> set[str]:
    try:
        return {s["Sid"] for s in json.loads(client.get_policy(FunctionName=function)["Policy"])["Statement"]}
    except client.exceptions.ResourceNotFoundException:
        return set()


def test_an_undeclared_permission_is_removed_the_declared_one_stays_and_undo_adds_it_back(account: Account) -> None:
    guard, executor = _guard(account)
    client = create_function(account, "iamwarden-heartbeat")
    client.add_permission(
        FunctionName="iamwarden-heartbeat",
        StatementId="iamwarden-HeartbeatFunctionEvery5MinutesPermission-1A2B",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=HEARTBEAT_RULE,
    )
    client.add_permission(
        FunctionName="iamwarden-heartbeat",
        StatementId="iamwarden-HeartbeatFunctionEvery5MinutesPermission-X",  # a declared-looking name
        Action="lambda:InvokeFunction",
        Principal="999988887777",
    )

    [problem] = guard.permission_problems("iamwarden-heartbeat")

    assert _policy_sids(client, "iamwarden-heartbeat") == {"iamwarden-HeartbeatFunctionEvery5MinutesPermission-1A2B"}
    assert "has a permission its template does not declare" in problem
    assert guard.permission_problems("iamwarden-heartbeat") == []  # gone: nothing more to say

    executor.undo(problem.rsplit("iamwarden undo ", 1)[1].rstrip(")"), actor=OPERATOR)
    assert "iamwarden-HeartbeatFunctionEvery5MinutesPermission-X" in _policy_sids(client, "iamwarden-heartbeat")


def test_a_url_on_an_own_function_is_deleted_but_not_the_slack_endpoints(account: Account) -> None:
    guard, executor = _guard(account)
    client = create_function(account, ENFORCER)
    client.create_function_url_config(FunctionName=ENFORCER, AuthType="NONE")
    slack = create_function(account, "iamwarden-slack-interactions")
    slack.create_function_url_config(FunctionName="iamwarden-slack-interactions", AuthType="NONE")

    [problem] = guard.url_problems(ENFORCER)

    assert "has a URL its template does not declare" in problem
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_url_config(FunctionName=ENFORCER)
    assert guard.url_problems("iamwarden-slack-interactions") == []
    assert slack.get_function_url_config(FunctionName="iamwarden-slack-interactions")["AuthType"] == "NONE"

    executor.undo(problem.rsplit("iamwarden undo ", 1)[1].rstrip(")"), actor=OPERATOR)
    assert client.get_function_url_config(FunctionName=ENFORCER)["AuthType"] == "NONE"

    # Review 15 finding 8: the undo re-created the URL (a new CreationTime); the next runs leave it, said once.
    [approved] = guard.url_problems(ENFORCER)
    assert "put back by an operator's undo of rem-" in approved
    assert "left as operator-approved" in approved
    assert client.get_function_url_config(FunctionName=ENFORCER)["AuthType"] == "NONE"
    assert guard.url_problems(ENFORCER) == []
    assert client.get_function_url_config(FunctionName=ENFORCER)["AuthType"] == "NONE"


def test_a_url_unlike_the_one_an_operator_put_back_is_deleted_again(account: Account) -> None:
    """The undo approves the URL as it was put back, not any URL of the function: changed afterwards (here another
    auth type), it is deleted again."""
    guard, executor = _guard(account)
    client = create_function(account, ENFORCER)
    client.create_function_url_config(FunctionName=ENFORCER, AuthType="AWS_IAM")
    [problem] = guard.url_problems(ENFORCER)
    executor.undo(problem.rsplit("iamwarden undo ", 1)[1].rstrip(")"), actor=OPERATOR)
    client.delete_function_url_config(FunctionName=ENFORCER)
    client.create_function_url_config(FunctionName=ENFORCER, AuthType="NONE")

    [again] = guard.url_problems(ENFORCER)

    assert "done: delete the URL" in again
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_url_config(FunctionName=ENFORCER)


def _stopped(account: Account, clock: _Clock, check: OwnFunctionCheck, reserved: int | None) -> str:
    """Give the worker ``reserved`` concurrency, change its code, and let the heartbeat stop it; the stop's id."""
    client = create_function(account, WORKER)
    if reserved is not None:
        client.put_function_concurrency(FunctionName=WORKER, ReservedConcurrentExecutions=reserved)
    deployed = client.get_function_configuration(FunctionName=WORKER)
    check.recorded.put(
        Snapshot(
            OWN_CODE, deployed["FunctionArn"], "2026-12-05T09:00:00.000+00:00", {"code_sha256": deployed["CodeSha256"]}
        )
    )
    client.update_function_code(FunctionName=WORKER, ZipFile=_noop())
    check.code_problems(WORKER, client.get_function_configuration(FunctionName=WORKER))  # first seen
    clock.now += timedelta(minutes=31)
    [problem] = check.code_problems(WORKER, client.get_function_configuration(FunctionName=WORKER))
    assert _reserved(account, WORKER) == 0
    return problem.rsplit("iamwarden undo ", 1)[1].rstrip(")")


def _other() -> bytes:
    """Code unlike both the deployed and the intruder's."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _redeployed(account: Account, check: OwnFunctionCheck) -> dict[str, Any]:
    """A stack update puts new code in the worker, and the enforcer records CloudFormation's UpdateFunctionCode."""
    client = account.session.client("lambda", region_name=REGION)
    client.update_function_code(FunctionName=WORKER, ZipFile=_zip())  # the stack's new code
    live = client.get_function_configuration(FunctionName=WORKER)
    check.recorded.put(
        Snapshot(OWN_CODE, live["FunctionArn"], "2026-12-05T12:00:00.000+00:00", {"code_sha256": live["CodeSha256"]})
    )
    return dict(live)


def test_a_stop_stays_once_the_code_is_the_stacks_again_whatever_else_runs(account: Account) -> None:
    """Review s10 F1/F2: the heartbeat never lifts its own stop. The stack's package put back while the handler and
    an exec wrapper run the intruder's code must not start the function again; nor may the foreign code put back
    after that run unstopped. An operator lifts the stop (``iamwarden undo``)."""
    clock = _Clock()
    guard, _ = _guard(account, clock=clock)
    check = _check(account, guard)
    remediation_id = _stopped(account, clock, check, reserved=5)
    client = account.session.client("lambda", region_name=REGION)
    _redeployed(account, check)  # the stack's package back: the same CodeSha256 as recorded
    client.update_function_configuration(
        FunctionName=WORKER,
        Handler="evil.handler",
        Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/evil", "PYTHONPATH": "/opt/evil"}},
    )
    assert check.code_problems(WORKER, client.get_function_configuration(FunctionName=WORKER)) == []

    assert _reserved(account, WORKER) == 0
    assert check.notices == []
    record = account.audit().get(remediation_id)
    assert record is not None
    assert record.status == AuditStatus.REMEDIATED

    client.update_function_code(FunctionName=WORKER, ZipFile=_noop())  # the stopped foreign code again
    clock.now += timedelta(hours=1)
    [problem] = check.code_problems(WORKER, client.get_function_configuration(FunctionName=WORKER))
    assert "runs code its stack did not deploy" in problem
    assert _reserved(account, WORKER) == 0


def test_a_function_still_running_foreign_code_stays_stopped(account: Account) -> None:
    clock = _Clock()
    guard, _ = _guard(account, clock=clock)
    check = _check(account, guard)
    _stopped(account, clock, check, reserved=5)
    client = account.session.client("lambda", region_name=REGION)
    client.update_function_code(FunctionName=WORKER, ZipFile=_other())  # other code, but not the stack's

    [problem] = check.code_problems(WORKER, client.get_function_configuration(FunctionName=WORKER))

    assert "runs code its stack did not deploy" in problem
    assert _reserved(account, WORKER) == 0
    assert check.notices == []


def _stack_deployed_worker(account: Account, clock: _Clock) -> tuple[OwnFunctionCheck, dict[str, Any]]:
    """moto's CloudFormation creates the worker (the stack's deploy), the heartbeat's clock at that moment."""
    clock.now = datetime.now(UTC)
    role = account.iam.create_role(RoleName="worker-test-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": WORKER,
            "Runtime": "python3.13",
            "Handler": "index.handler",
            "Role": role,
            "Code": {"ZipFile": "def handler(event, context):\n    return event\n"},
        },
    }
    cloudformation = account.session.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="iamwarden", TemplateBody=json.dumps({"Resources": {"Worker": function}}))
    guard, _ = _guard(account, clock=clock)
    check = _check(account, guard)
    live = account.session.client("lambda", region_name=REGION).get_function_configuration(FunctionName=WORKER)
    return check, dict(live)


def test_code_a_late_recorded_deploy_of_the_stack_put_there_is_excused_for_a_bounded_time(account: Account) -> None:
    """Issue 15 item 2, bounded (review s10 F3): the stack itself deployed the function and the record of the code is
    an earlier deploy's. The stack's own dates excuse the code while CloudFormation's event may still come; hours
    later, with no such event recorded, it is stopped."""
    clock = _Clock()
    check, live = _stack_deployed_worker(account, clock)
    check.recorded.put(
        Snapshot(OWN_CODE, live["FunctionArn"], "2026-12-05T09:00:00.000+00:00", {"code_sha256": "earlier="})
    )

    [problem] = check.code_problems(WORKER, live)
    assert "it is taken for that deploy's code, whose UpdateFunctionCode has not been recorded yet" in problem
    assert _reserved(account, WORKER) is None

    clock.now += timedelta(hours=3)
    [problem] = check.code_problems(WORKER, live)
    assert f"done: stopped function {WORKER} (reserved concurrency 0" in problem
    assert _reserved(account, WORKER) == 0


def test_code_changed_right_after_a_recorded_deploy_is_not_the_deploys(account: Account) -> None:
    """Review s10 F3 probe: CloudFormation's own UpdateFunctionCode is recorded with the deploy's hash, and someone
    changes the code milliseconds later: the deploy excuses nothing, the code waits only its grace, then stops."""
    clock = _Clock()
    check, live = _stack_deployed_worker(account, clock)
    check.recorded.put(
        Snapshot(
            OWN_CODE,
            live["FunctionArn"],
            clock.now.isoformat(timespec="milliseconds"),
            {"code_sha256": live["CodeSha256"], "source": "CloudFormation's UpdateFunctionCode20150331v2"},
        )
    )
    client = account.session.client("lambda", region_name=REGION)
    client.update_function_code(FunctionName=WORKER, ZipFile=_noop())
    changed = client.get_function_configuration(FunctionName=WORKER)

    [problem] = check.code_problems(WORKER, changed)
    assert "the stack's last deploy did not put it there" in problem
    assert _reserved(account, WORKER) is None

    clock.now += timedelta(minutes=31)
    [problem] = check.code_problems(WORKER, changed)
    assert f"done: stopped function {WORKER} (reserved concurrency 0" in problem
    assert _reserved(account, WORKER) == 0
