"""The heartbeat's judgement of its own functions' policies (issue 15 item 2): a live statement read back as the
request that writes it, and declared by content, never by name; what the guard does and does not act on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.app.own_function_guard import DeployRecord, Executes, OwnFunctionGuard, stack_deployed_it
from iamwarden.domain.findings import Finding
from iamwarden.domain.recorded import Snapshot
from iamwarden.domain.settings import load_settings
from iamwarden.guardrails.tampering import declared_permission, permission_request
from tests.conftest import SAMPLE_OWN

WHERE = ("aws", "us-east-1", "111122223333")
RULE_ARN = "arn:aws:events:us-east-1:111122223333:rule/iamwarden-heartbeat"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-heartbeat"


def _statement(**fields: Any) -> dict[str, Any]:
    return {"Sid": "s", "Effect": "Allow", "Resource": FUNCTION_ARN, **fields}


# Lambda's own spelling of what SAM's EventBridgeRule and FunctionUrlConfig (AuthType NONE) add, as GetPolicy answers.
SAM_SCHEDULE = _statement(
    Principal={"Service": "events.amazonaws.com"},
    Action="lambda:InvokeFunction",
    Condition={"ArnLike": {"AWS:SourceArn": RULE_ARN}},
)
SAM_URL = _statement(
    Principal="*", Action="lambda:InvokeFunctionUrl", Condition={"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
)


def test_a_live_statement_reads_back_as_the_request_that_writes_it() -> None:
    assert permission_request(SAM_SCHEDULE) == {
        "principal": "events.amazonaws.com",
        "action": "lambda:InvokeFunction",
        "sourceArn": RULE_ARN,
    }
    account = _statement(Principal={"AWS": "arn:aws:iam::999988887777:root"}, Action="lambda:InvokeFunction")
    assert permission_request(account) == {"principal": "999988887777", "action": "lambda:InvokeFunction"}
    assert permission_request(SAM_URL) == {
        "principal": "*",
        "action": "lambda:InvokeFunctionUrl",
        "functionUrlAuthType": "NONE",
    }


@pytest.mark.parametrize(
    "statement",
    [
        _statement(Principal={"AWS": ["a", "b"]}, Action="lambda:InvokeFunction"),  # two principals
        _statement(Principal="*", Action=["lambda:InvokeFunction", "lambda:GetFunction"]),  # two actions
        _statement(Principal="*", Action="lambda:InvokeFunction", Condition={"IpAddress": {"aws:SourceIp": "1.2.3.4"}}),
        {**_statement(Principal="*", Action="lambda:InvokeFunction"), "Effect": "Deny"},
    ],
)
def test_a_statement_no_add_permission_writes_has_no_request(statement: dict[str, Any]) -> None:
    """Not removed: its undo could not put it back."""
    assert permission_request(statement) is None


def test_declared_by_content_for_the_function_it_belongs_to() -> None:
    schedule = permission_request(SAM_SCHEDULE)
    url = permission_request(SAM_URL)
    assert schedule is not None
    assert url is not None
    assert declared_permission(SAMPLE_OWN, WHERE, "iamwarden-heartbeat", schedule) is not None
    assert declared_permission(SAMPLE_OWN, WHERE, "iamwarden-enforcer", schedule) is None  # not its rule
    assert declared_permission(SAMPLE_OWN, ("aws", "eu-west-1", WHERE[2]), "iamwarden-heartbeat", schedule) is None
    assert declared_permission(SAMPLE_OWN, WHERE, "iamwarden-slack-interactions", url) is not None
    assert declared_permission(SAMPLE_OWN, WHERE, "iamwarden-enforcer", url) is None  # no URL declared there
    assert declared_permission(SAMPLE_OWN, WHERE, "iamwarden-heartbeat", schedule, qualified=True) is None


class _NeverCalled:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"no AWS call expected ({name})")


def _guard(settings: Any = None) -> OwnFunctionGuard:
    def remediate(finding: Finding) -> tuple[Any, bool]:
        raise AssertionError(f"nothing should be carried out: {finding.plan}")

    return OwnFunctionGuard(
        SAMPLE_OWN,
        _NeverCalled(),
        partition="aws",
        region="us-east-1",
        executor=Executes(remediate),
        settings=(lambda: settings) if settings is not None else None,
    )


@pytest.mark.parametrize(
    ("function", "why"),
    [
        ("iamwarden-enforcer", "stopping the enforcer would blind IAM Warden"),
        ("iamwarden-heartbeat", "the heartbeat does not stop itself"),
        ("not-an-own-function", "its role is not known"),
    ],
)
def test_the_enforcer_and_the_heartbeat_are_never_stopped(function: str, why: str) -> None:
    problem = _guard(load_settings({})).changed_code(function, "abc=", "code changed")
    assert problem.startswith(f"code changed; it is not stopped ({why}")  # and nothing was carried out


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        (None, "the settings are not known"),
        (load_settings({"enforcement": "off"}), "the kill switch is off"),
        (load_settings({"rules": {"iamwarden-tampered": {"mode": "alert"}}}), "iamwarden-tampered is not in remediate"),
    ],
)
def test_nothing_is_carried_out_unless_remediating_with_the_kill_switch_on(settings: Any, why: str) -> None:
    problem = _guard(settings).changed_code("iamwarden-prune-worker", "abc=", "code changed")
    assert problem.startswith(f"code changed; not done, as {why}: set the reserved concurrency")


def test_every_permission_sam_writes_for_the_stack_is_declared() -> None:
    """Each ``AWS::Lambda::Permission`` of the translated template, as Lambda then holds it, is one the heartbeat
    leaves alone: else it would remove EventBridge's permission to invoke IAM Warden on every run."""
    from tests.sam_template import translated_template

    resources = translated_template()["Resources"]
    found = 0
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::Permission":
            continue
        properties = resource["Properties"]
        function = resources[properties["FunctionName"]["Ref"]]["Properties"]["FunctionName"]
        condition: dict[str, Any] = {}
        if "SourceArn" in properties:
            rule = resources[properties["SourceArn"]["Fn::GetAtt"][0]]["Properties"]
            bus = rule.get("EventBusName")
            bus_name = resources[bus["Ref"]]["Properties"]["Name"] + "/" if isinstance(bus, dict) else ""
            condition["ArnLike"] = {
                "AWS:SourceArn": f"arn:aws:events:us-east-1:111122223333:rule/{bus_name}{rule['Name']}"
            }
        if "FunctionUrlAuthType" in properties:
            condition["StringEquals"] = {"lambda:FunctionUrlAuthType": properties["FunctionUrlAuthType"]}
        if properties.get("InvokedViaFunctionUrl"):
            condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
        principal = properties["Principal"]
        statement = _statement(
            Principal=principal if principal == "*" else {"Service": principal},
            Action=properties["Action"],
            **({"Condition": condition} if condition else {}),
        )
        request = permission_request(statement)
        assert request is not None, statement
        assert declared_permission(SAMPLE_OWN, WHERE, function, request) is not None, (function, statement)
        found += 1
    assert found > 40  # the enforcer's one per rule, the schedules, the Slack URL's two


# --- review 15 finding 1: changed code is stopped only once no deploy of the stack can explain it -------------------

STACK = "iamwarden"
WORKER = "iamwarden-prune-worker"
T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class _Snapshots:
    """The audit table's snapshots, in memory (``snapshot``/``put`` as ``AuditRecorded`` answers them)."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], Snapshot] = {}

    def snapshot(self, kind: str, arn: str) -> Snapshot | None:
        return self.kept.get((kind, arn))

    def put(self, snapshot: Snapshot) -> None:
        self.kept[(snapshot.kind, snapshot.resource_arn)] = snapshot


def _stack(status: str, changed: datetime) -> dict[str, Any]:
    """A DescribeStacks answer of the own stack (the API's shape, checked by the Stubber against botocore's model)."""
    return {
        "Stacks": [
            {
                "StackName": STACK,
                "StackId": f"arn:aws:cloudformation:us-east-1:111122223333:stack/{STACK}/1a2b",
                "CreationTime": changed - timedelta(days=30),
                "LastUpdatedTime": changed,
                "StackStatus": status,
            }
        ]
    }


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _resources(status: str = "UPDATE_COMPLETE", finished: datetime | None = None) -> dict[str, Any]:
    """A ListStackResources answer naming the worker function's resource (the API's shape, checked by the Stubber)."""
    return {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": "PruneWorkerFunction",
                "PhysicalResourceId": WORKER,
                "ResourceType": "AWS::Lambda::Function",
                "LastUpdatedTimestamp": finished or T0 - timedelta(days=30),
                "ResourceStatus": status,
            },
            {
                "LogicalResourceId": "AlertTopic",
                "PhysicalResourceId": WORKER,  # another type of the same physical id is not the function
                "ResourceType": "AWS::SNS::Topic",
                "LastUpdatedTimestamp": T0,
                "ResourceStatus": "UPDATE_COMPLETE",
            },
        ]
    }


Answer = tuple[str, dict[str, Any] | str]


def _deploy_guard(
    answers: list[Answer], clock: _Clock, carried: list[Finding], snapshots: _Snapshots | None = None
) -> tuple[OwnFunctionGuard, Stubber]:
    """A guard whose CloudFormation answers ``answers`` in turn: (operation, answer or error code)."""
    cloudformation = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    stubber = Stubber(cloudformation)
    for operation, answer in answers:
        if isinstance(answer, str):
            stubber.add_client_error(operation, service_error_code=answer, expected_params={"StackName": STACK})
        else:
            stubber.add_response(operation, answer, {"StackName": STACK})
    stubber.activate()

    def remediate(finding: Finding) -> tuple[Any, bool]:
        carried.append(finding)
        return SimpleNamespace(remediation_id="rem-1", status="remediated", done=["stopped"]), True

    guard = OwnFunctionGuard(
        SAMPLE_OWN,
        _NeverCalled(),
        partition="aws",
        region="us-east-1",
        executor=Executes(remediate),
        settings=lambda: load_settings({}),
        cloudformation=cloudformation,
        stack=STACK,
        recorded=snapshots if snapshots is not None else _Snapshots(),
        clock=clock,
    )
    return guard, stubber


def _settled(changed: datetime, resources: dict[str, Any] | None = None) -> list[Answer]:
    """One run's reads of a settled stack: DescribeStacks, then its resources."""
    return [
        ("describe_stacks", _stack("UPDATE_COMPLETE", changed)),
        ("list_stack_resources", resources if resources is not None else _resources()),
    ]


def test_changed_code_while_the_stack_is_being_deployed_is_not_stopped() -> None:
    carried: list[Finding] = []
    clock = _Clock(T0)
    guard, stubber = _deploy_guard(
        [("describe_stacks", _stack("UPDATE_IN_PROGRESS", T0 - timedelta(minutes=2)))], clock, carried
    )

    problem = guard.changed_code(WORKER, "new=", "code changed")

    assert problem.startswith(
        "code changed; not stopped yet: the stack iamwarden is being deployed (UPDATE_IN_PROGRESS)"
    )
    assert carried == []
    stubber.assert_no_pending_responses()


def test_a_stack_in_progress_for_hours_no_longer_keeps_changed_code_running() -> None:
    """Review s10 F9: an operation begun more than ``IN_PROGRESS_LIMIT`` ago explains nothing more (someone allowed
    UpdateStack could keep the stack in progress for hours); the code then waits only its own grace."""
    carried: list[Finding] = []
    clock = _Clock(T0)
    stuck = _stack("UPDATE_IN_PROGRESS", T0 - timedelta(hours=3))
    guard, stubber = _deploy_guard(
        [("describe_stacks", stuck), ("list_stack_resources", _resources("UPDATE_IN_PROGRESS", T0))] * 2,
        clock,
        carried,
    )

    first = guard.changed_code(WORKER, "new=", "code changed", "2026-12-05T11:58:00.000+0000")
    assert "will be stopped at 12:30 UTC if still unexplained" in first
    clock.now = T0 + timedelta(minutes=31)
    assert (
        guard.changed_code(WORKER, "new=", "code changed") == "code changed; done: stopped (undo: iamwarden undo rem-1)"
    )
    assert len(carried) == 1
    stubber.assert_no_pending_responses()


def test_changed_code_the_last_deploy_did_not_put_there_waits_its_grace_then_is_stopped() -> None:
    """The stack's last deploy did not update the function (its resource last finished a month ago): the code is
    alerted, saying when it will be stopped; a run after that, the same code still unrecorded, stops it."""
    carried: list[Finding] = []
    clock = _Clock(T0)
    guard, stubber = _deploy_guard(_settled(T0 - timedelta(minutes=3)) * 3, clock, carried)

    first = guard.changed_code(WORKER, "new=", "code changed", "2026-12-05T11:58:00.000+0000")
    assert first == (
        "code changed; not stopped yet: first seen at 12:00 UTC, and the stack's last deploy did not put it there; "
        "it will be stopped at 12:30 UTC if still unexplained"
    )
    clock.now = T0 + timedelta(minutes=29)
    assert "will be stopped at 12:30 UTC" in guard.changed_code(WORKER, "new=", "code changed")
    assert carried == []

    clock.now = T0 + timedelta(minutes=31)
    done = guard.changed_code(WORKER, "new=", "code changed", "2026-12-05T11:58:00.000+0000")

    assert done == "code changed; done: stopped (undo: iamwarden undo rem-1)"
    [finding] = carried
    assert finding.event_id == f"heartbeat/code/{WORKER}/new="
    [step] = finding.plan
    assert step.parameters["by"] == "heartbeat"  # the audit trail says who stopped it ...
    assert step.parameters["code_sha256"] == "new="  # ... and for what code
    stubber.assert_no_pending_responses()


def test_a_deploys_code_whose_event_is_late_is_excused_for_a_bounded_time_then_stopped() -> None:
    """Issue 15 item 2, bounded (review s10 F3): the stack's last deploy updated the function and nothing changed it
    since, so the code is taken for that deploy's while CloudFormation's UpdateFunctionCode may still come; once
    ``DEPLOY_EXCUSE`` has passed since CloudFormation finished with the function it is stopped, never excused for
    good."""
    carried: list[Finding] = []
    began = T0 - timedelta(minutes=10)
    resources = _resources(finished=T0 - timedelta(minutes=8))
    clock = _Clock(T0)
    guard, stubber = _deploy_guard(_settled(began, resources) * 2, clock, carried)

    first = guard.changed_code(WORKER, "new=", "code changed", "2026-12-05T11:51:30.000+0000")
    assert first == (
        "code changed; not stopped yet: the stack iamwarden's last deploy (begun at 11:50:00 UTC) updated it at "
        "11:52:00 UTC, and nothing changed it since (last modified at 11:51:30 UTC): it is taken for that deploy's "
        "code, whose UpdateFunctionCode has not been recorded yet (a late CloudTrail event), so it is not stopped "
        "before 12:22 UTC; if that event has not named this code by then, it will be stopped"
    )
    assert carried == []

    clock.now = T0 + timedelta(hours=5)  # the event still not recorded, long after the excuse
    later = guard.changed_code(WORKER, "new=", "code changed", "2026-12-05T11:51:30.000+0000")

    assert later == "code changed; done: stopped (undo: iamwarden undo rem-1)"
    assert len(carried) == 1
    stubber.assert_no_pending_responses()


def test_a_deploys_code_is_no_excuse_once_its_own_event_is_recorded_with_another_hash() -> None:
    """Review s10 F3 probe: CloudFormation's UpdateFunctionCode is recorded (``OWN_CODE`` from its event, dated within
    the deploy) and the live code is another: someone changed it right after the deploy. It waits only the grace."""
    carried: list[Finding] = []
    began = T0 - timedelta(minutes=10)
    resources = _resources(finished=T0 - timedelta(minutes=8))
    clock = _Clock(T0)
    guard, _ = _deploy_guard(_settled(began, resources), clock, carried)
    record = DeployRecord.of(
        {"code_sha256": "deploy=", "source": "CloudFormation's UpdateFunctionCode20150331v2"},
        "2026-12-05T11:51:00.000+00:00",
    )

    said = guard.changed_code(WORKER, "new=", "code changed", "2026-12-05T11:51:30.000+0000", record)

    assert said == (
        "code changed; not stopped yet: first seen at 12:00 UTC, and the stack's last deploy did not put it there; "
        "it will be stopped at 12:30 UTC if still unexplained"
    )
    # a record of CloudFormation's from before this deploy, or one not from its event, withdraws nothing
    resource = resources["StackResourceSummaries"][0]
    described = _stack("UPDATE_COMPLETE", began)["Stacks"][0]
    modified = began + timedelta(seconds=90)
    earlier = record._replace(at=began - timedelta(hours=1))
    snapshot = record._replace(source="the deploy's snapshot")
    assert stack_deployed_it(STACK, described, resource, modified, T0, now=T0, record=earlier) is not None
    assert stack_deployed_it(STACK, described, resource, modified, T0, now=T0, record=snapshot) is not None
    assert stack_deployed_it(STACK, described, resource, modified, T0, now=T0, record=record) is None


BEGAN = T0 - timedelta(minutes=10)
FINISHED = T0 - timedelta(minutes=8)


@pytest.mark.parametrize(
    ("resource", "modified", "first_seen", "deployed"),
    [
        (_resources(finished=FINISHED), BEGAN + timedelta(minutes=1), T0, True),
        # the clocks of two services a few seconds apart: still the deploy's
        (_resources(finished=FINISHED), FINISHED + timedelta(seconds=3), T0, True),
        (_resources(finished=FINISHED), BEGAN - timedelta(seconds=30), T0, True),
        # the function changed after CloudFormation finished with it: someone else's (review s10 F3: even 30 s)
        (_resources(finished=FINISHED), FINISHED + timedelta(seconds=30), T0, False),
        (_resources(finished=FINISHED), FINISHED + timedelta(minutes=2), T0, False),
        # last modified before the deploy began (a deploy that only tagged it): not the deploy's code
        (_resources(finished=FINISHED), BEGAN - timedelta(minutes=5), T0, False),
        # the last deploy did not update the function at all
        (_resources(finished=BEGAN - timedelta(days=2)), BEGAN - timedelta(days=2), T0, False),
        # the heartbeat saw this code before the deploy modified the function: it was there already
        (_resources(finished=FINISHED), BEGAN + timedelta(minutes=1), BEGAN - timedelta(minutes=5), False),
        # CloudFormation did not finish with the function
        (_resources("UPDATE_FAILED", FINISHED), BEGAN + timedelta(minutes=1), T0, False),
        # not the stack's function, or its last modification not known
        ({"StackResourceSummaries": []}, BEGAN + timedelta(minutes=1), T0, False),
        (_resources(finished=FINISHED), None, T0, False),
    ],
)
def test_the_stack_says_its_deploy_put_the_code_there_only_when_every_date_agrees(
    resource: dict[str, Any], modified: datetime | None, first_seen: datetime, deployed: bool
) -> None:
    found = [r for r in resource["StackResourceSummaries"] if r["ResourceType"] == "AWS::Lambda::Function"]
    said = stack_deployed_it(
        STACK, _stack("UPDATE_COMPLETE", BEGAN)["Stacks"][0], found[0] if found else None, modified, first_seen, now=T0
    )
    assert (said is not None) is deployed


def test_the_deploys_excuse_ends_a_grace_after_cloudformation_finished_with_the_function() -> None:
    described = _stack("UPDATE_COMPLETE", BEGAN)["Stacks"][0]
    resource = _resources(finished=FINISHED)["StackResourceSummaries"][0]
    modified = BEGAN + timedelta(minutes=1)
    assert stack_deployed_it(STACK, described, resource, modified, T0, now=FINISHED + timedelta(minutes=30)) is not None
    assert stack_deployed_it(STACK, described, resource, modified, T0, now=FINISHED + timedelta(minutes=31)) is None


def test_a_stack_never_updated_is_dated_by_its_creation() -> None:
    described = {"StackName": STACK, "CreationTime": BEGAN, "StackStatus": "CREATE_COMPLETE"}
    resource = _resources("CREATE_COMPLETE", FINISHED)["StackResourceSummaries"][0]
    assert stack_deployed_it(STACK, described, resource, BEGAN + timedelta(minutes=1), T0, now=T0) is not None
    assert stack_deployed_it(STACK, {"StackName": STACK}, resource, BEGAN + timedelta(minutes=1), T0, now=T0) is None


def test_code_first_seen_long_after_a_settled_deploy_still_waits_its_own_grace() -> None:
    """A stack last deployed days ago does not make new code certain to be foreign at first sight: the heartbeat
    waits from when it first saw it."""
    carried: list[Finding] = []
    clock = _Clock(T0)
    guard, _ = _deploy_guard(_settled(T0 - timedelta(days=3)) * 2, clock, carried)

    assert "will be stopped at 12:30 UTC" in guard.changed_code(WORKER, "one=", "code changed")
    clock.now = T0 + timedelta(minutes=20)
    # other code again: its own first sight, its own grace
    assert "will be stopped at 12:50 UTC" in guard.changed_code(WORKER, "two=", "code changed")
    assert carried == []


@pytest.mark.parametrize(
    ("answers", "snapshots", "why"),
    [
        ([("describe_stacks", "AccessDenied")], _Snapshots(), "the stack iamwarden cannot be read (AccessDenied)"),
        ([("describe_stacks", {"Stacks": []})], _Snapshots(), "the stack iamwarden is not found"),
        (
            [
                ("describe_stacks", _stack("UPDATE_COMPLETE", T0 - timedelta(days=3))),
                ("list_stack_resources", "AccessDenied"),
            ],
            _Snapshots(),
            "the resources of the stack iamwarden cannot be listed (AccessDenied)",
        ),
        ([], None, "whether a deploy of the stack changed it cannot be checked here"),
    ],
)
def test_what_cannot_be_checked_leaves_changed_code_alerted_only(
    answers: list[Answer], snapshots: _Snapshots | None, why: str
) -> None:
    carried: list[Finding] = []
    guard, _ = _deploy_guard(answers, _Clock(T0 + timedelta(days=1)), carried, snapshots)
    if snapshots is None:
        guard.recorded = None

    assert guard.changed_code(WORKER, "new=", "code changed").startswith(f"code changed; not stopped yet: {why}")
    assert carried == []


class _Refusing(_Snapshots):
    """An audit table that refuses every read."""

    def snapshot(self, kind: str, arn: str) -> Snapshot | None:
        raise RuntimeError("AccessDeniedException")

    def remediations(self, arn: str) -> list[Any]:
        raise RuntimeError("AccessDeniedException")


def test_changed_code_whose_first_sight_cannot_be_read_is_alerted_only() -> None:
    carried: list[Finding] = []
    guard, _ = _deploy_guard([], _Clock(T0), carried, _Refusing())

    problem = guard.changed_code(WORKER, "new=", "code changed")

    assert problem.startswith("code changed; not stopped yet: when this code was first seen cannot be read or kept")
    assert carried == []


def test_a_url_whose_undo_history_cannot_be_read_is_left_and_said() -> None:
    """Review 15 finding 8's error path: whether an operator put the URL back is not known, so it is not deleted."""

    class _Lambda:
        def get_function_url_config(self, FunctionName: str) -> dict[str, Any]:
            return {"FunctionUrl": "https://x.lambda-url.us-east-1.on.aws/", "AuthType": "NONE", "CreationTime": "t"}

    carried: list[Finding] = []
    guard, _ = _deploy_guard([], _Clock(T0), carried, _Refusing())
    guard.lambda_client = _Lambda()

    [problem] = guard.url_problems("iamwarden-enforcer")

    assert problem.startswith("the remediation history of IAM Warden's function iamwarden-enforcer cannot be read")
    assert "its URL is not deleted now" in problem
    assert carried == []
