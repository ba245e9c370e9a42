"""IAM Warden's own alarms, redefined (``PutMetricAlarm``) or deleted (``DeleteAlarms``), are written back as
template.yaml declares them (``declared.OWN_ALARM_DEFINITIONS``), their actions enabled; undo writes back what the
change left (moto's CloudWatch)."""

from __future__ import annotations

import copy
from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.declared_content import declared_alarm
from tests.aws_fixtures import REGION
from tests.conftest import SAMPLE_OWN, load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_tampering import OPERATOR, create_heartbeat_alarm

ALARM = "iamwarden-heartbeat-missing"


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == "iamwarden-tampered"]
    return dict(finding)


def _alarm(cloudwatch: Any, name: str = ALARM) -> dict[str, Any] | None:
    found = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(found[0]) if found else None


def _overwrite(cloudwatch: Any) -> None:
    """What the sample records: the threshold below anything, missing data not breaching, no actions."""
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        Dimensions=[{"Name": "FunctionName", "Value": "iamwarden-heartbeat"}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=3,
        Threshold=-1.0,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="notBreaching",
        ActionsEnabled=True,
        AlarmActions=[],
    )


def test_the_declared_definition_is_filled_in_for_the_stack() -> None:
    alarm = declared_alarm(SAMPLE_OWN, ALARM, "aws")
    assert alarm is not None
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:111122223333:iamwarden-alerts"]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "iamwarden-heartbeat"}]
    assert (alarm["Threshold"], alarm["TreatMissingData"]) == (1, "breaching")
    assert declared_alarm(SAMPLE_OWN, "someone-elses-alarm", "aws") is None


def test_an_overwritten_alarm_is_written_back_as_declared_and_undo_restores_the_overwrite(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    cloudwatch = create_heartbeat_alarm(account)
    _overwrite(cloudwatch)

    finding = _finding(enforcer.handle(load_event("tamper-heartbeat-alarm-overwritten.json")))

    assert finding["outcome"] == "remediated"
    alarm = _alarm(cloudwatch)
    assert alarm is not None
    assert (alarm["Threshold"], alarm["TreatMissingData"], alarm["ActionsEnabled"]) == (1.0, "breaching", True)
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:111122223333:iamwarden-alerts"]
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    undone = _alarm(cloudwatch)
    assert undone is not None
    assert (undone["Threshold"], undone["TreatMissingData"], undone.get("AlarmActions")) == (-1.0, "notBreaching", [])


def test_a_deleted_alarm_is_created_again_and_undo_deletes_it(account: Account, enforcer: EnforcerService) -> None:
    cloudwatch = create_heartbeat_alarm(account)
    cloudwatch.delete_alarms(AlarmNames=[ALARM])
    event = copy.deepcopy(load_event("tamper-disable-alarm-actions.json"))
    event["detail"]["eventName"] = "DeleteAlarms"

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    alarm = _alarm(cloudwatch)
    assert alarm is not None
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _alarm(cloudwatch) is None


def test_a_namesake_alarm_in_another_region_is_only_alerted(account: Account, enforcer: EnforcerService) -> None:
    event = copy.deepcopy(load_event("tamper-heartbeat-alarm-overwritten.json"))
    event["region"] = event["detail"]["awsRegion"] = "eu-west-1"
    finding = _finding(enforcer.handle(event))
    assert finding["outcome"] == "alerted"
    assert REGION == "us-east-1"
