"""The code each own function runs, against what its stack deployed (audit s7 gap 0, moto).

The enforcer keeps ``OWN_CODE`` from CloudFormation's own ``UpdateFunctionCode``/``CreateFunction`` of an own function
(``responseElements.codeSha256``: Lambda's ``FunctionConfiguration`` answer as CloudTrail records it), never from
anyone else's; the deploy's snapshot records the live code where nothing is recorded yet (the first deploy); the
heartbeat compares each function's live ``CodeSha256`` with the record, and says once when there is none.
"""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import Heartbeat, HeartbeatConfig, OwnFunctionCheck
from iamwarden.app.service import EnforcerService
from iamwarden.domain.recorded import OWN_CODE, Snapshot
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.functional.test_tampering import create_function

ENFORCER = f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer"


def _code_event(sha: str, *, by_cloudformation: bool, name: str = "UpdateFunctionCode20150331v2") -> dict[str, Any]:
    event = copy.deepcopy(load_event("tamper-enforcer-code.json"))
    event["detail"]["eventName"] = name
    event["detail"]["responseElements"]["codeSha256"] = sha
    if by_cloudformation:
        event["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    return event


def _recorded(account: Account) -> AuditRecorded:
    return AuditRecorded(account.audit(), account.dynamodb)


def test_cloudformations_code_update_is_the_record_and_an_intruders_never_is(
    account: Account, enforcer: EnforcerService
) -> None:
    enforcer.handle(_code_event("c3RhY2s=", by_cloudformation=True))
    record = _recorded(account).snapshot(OWN_CODE, ENFORCER)
    assert record is not None
    assert record.data["code_sha256"] == "c3RhY2s="
    assert record.data["source"] == "CloudFormation's UpdateFunctionCode20150331v2"

    later = _code_event("aW50cnVkZXI=", by_cloudformation=False)
    later["detail"]["eventTime"] = later["time"] = "2026-11-13T10:00:00Z"
    enforcer.handle(later)
    kept = _recorded(account).snapshot(OWN_CODE, ENFORCER)
    assert kept is not None
    assert kept.data["code_sha256"] == "c3RhY2s="


def test_a_code_event_without_its_hash_records_nothing(account: Account, enforcer: EnforcerService) -> None:
    event = _code_event("x", by_cloudformation=True)
    del event["detail"]["responseElements"]["codeSha256"]
    enforcer.handle(event)
    assert _recorded(account).snapshot(OWN_CODE, ENFORCER) is None


class _Topic:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **request: Any) -> None:
        self.published.append(request)


def _check(account: Account) -> tuple[OwnFunctionCheck, Any]:
    client = create_function(account)
    config = HeartbeatConfig.from_environment(
        {
            "IAMWARDEN_ENFORCER_ARN": ENFORCER,
            "IAMWARDEN_CENTRAL_BUS_ARN": f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
            "IAMWARDEN_ENFORCER_ROLE_NAME": "iamwarden-enforcer",
            "IAMWARDEN_ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts",
        }
    )
    return OwnFunctionCheck(config, client, _recorded(account), clock=lambda: "2026-12-05T10:00:00.000+00:00"), client


def _noop() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return {'verdict': 'compliant'}\n")
    return buffer.getvalue()


def test_the_heartbeat_finds_code_its_stack_did_not_deploy(account: Account) -> None:
    check, client = _check(account)
    deployed = client.get_function_configuration(FunctionName="iamwarden-enforcer")
    _recorded(account).put(
        Snapshot(OWN_CODE, ENFORCER, "2026-12-05T09:00:00.000+00:00", {"code_sha256": deployed["CodeSha256"]})
    )
    assert check.code_problems("iamwarden-enforcer", deployed) == []

    client.update_function_code(FunctionName="iamwarden-enforcer", ZipFile=_noop())
    live = client.get_function_configuration(FunctionName="iamwarden-enforcer")
    [problem] = check.code_problems("iamwarden-enforcer", live)
    assert f"runs code its stack did not deploy (CodeSha256 {live['CodeSha256']}" in problem
    assert deployed["CodeSha256"] in problem


def test_no_record_yet_is_said_once_and_never_as_a_problem(account: Account) -> None:
    check, client = _check(account)
    live = client.get_function_configuration(FunctionName="iamwarden-enforcer")
    assert check.code_problems("iamwarden-enforcer", live) == []
    [notice] = check.notices
    assert "code hash of IAM Warden's function iamwarden-enforcer is not yet known" in notice

    check.notices = []
    assert check.code_problems("iamwarden-enforcer", live) == []
    assert check.notices == []  # said once


def test_the_heartbeat_publishes_the_notice_apart_from_the_critical_alert(account: Account) -> None:
    check, client = _check(account)
    live = client.get_function_configuration(FunctionName="iamwarden-enforcer")

    class _OneFunction(OwnFunctionCheck):
        def problems(self) -> list[str]:
            self.notices = []
            return self.code_problems("iamwarden-enforcer", live)

    functions = _OneFunction(check.config, client, check.recorded, clock=check.clock)
    topic = _Topic()

    class _Whole(Heartbeat):
        def problems(self) -> list[str]:
            return functions.problems()

    heartbeat = _Whole(check.config, None, client, account.iam, topic, functions=functions)
    result = heartbeat.run()
    assert result["whole"] is True
    [published] = topic.published
    assert published["MessageAttributes"]["severity"]["StringValue"] == "low"
    assert "not yet known" in published["Message"]
    assert heartbeat.run() == {"whole": True, "problems": []}
    assert len(topic.published) == 1


def test_the_first_deploy_records_the_live_code_and_never_overwrites_a_record(account: Account) -> None:
    check, client = _check(account)
    # The other own functions do not exist here: nothing is recorded for them (the heartbeat says they are gone).
    assert check.record_first() == (1, [])
    live = client.get_function_configuration(FunctionName="iamwarden-enforcer")
    record = _recorded(account).snapshot(OWN_CODE, ENFORCER)
    assert record is not None
    assert record.data == {"code_sha256": live["CodeSha256"], "source": "the deploy's snapshot"}

    client.update_function_code(FunctionName="iamwarden-enforcer", ZipFile=_noop())
    assert check.record_first()[0] == 0  # code changed before a deploy that did not touch it stays a difference
    again = _recorded(account).snapshot(OWN_CODE, ENFORCER)
    assert again is not None
    assert again.data["code_sha256"] == live["CodeSha256"]


def test_an_unreadable_record_is_a_problem(account: Account) -> None:
    check, client = _check(account)

    class _Broken:
        def snapshot(self, kind: str, arn: str) -> None:
            raise RuntimeError("table gone")

    check.recorded = _Broken()
    live = client.get_function_configuration(FunctionName="iamwarden-enforcer")
    [problem] = check.code_problems("iamwarden-enforcer", live)
    assert "cannot be read (table gone)" in problem


def test_a_function_that_cannot_be_read_at_deploy_is_a_problem_of_the_deploy(account: Account) -> None:
    check, _ = _check(account)

    class _Refused:
        def get_function_configuration(self, FunctionName: str) -> Any:
            raise RuntimeError("AccessDenied")

    check.lambda_client = _Refused()
    stored, problems = check.record_first()
    assert stored == 0
    assert problems
    assert all("cannot be recorded (AccessDenied)" in problem for problem in problems)
