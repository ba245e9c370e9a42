"""iamwarden-tampered against moto: each restoration carried out by the real enforcer, recorded, and undone."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import zipfile
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.recorded import AuditRecorded, take_own_role_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain import declared_content
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import SAMPLE_OWN, load_event
from tests.functional.conftest import SSM_WRITERS, Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments
from tests.unit.test_tampering import rule_commands

RULE = "iamwarden-tampered"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
SETTING = "/iamwarden/rules/iam-user-created/mode"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


def create_function(account: Account, name: str = "iamwarden-enforcer") -> Any:
    iam = account.iam
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = f"arn:aws:iam::{HOME_ACCOUNT}:role/{name}-test-role"
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=f"{name}-test-role", AssumeRolePolicyDocument=json.dumps(trust))
    client = account.session.client("lambda", region_name=REGION)
    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
        client.delete_function(FunctionName=name)  # a fresh function each time (one test may build several)
    client.create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="app.lambda_handler", Code={"ZipFile": _zip()}
    )
    return client


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _alerts(notifier: RecordingNotifier) -> list[Any]:
    return [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]


def _reserved(client: Any, name: str = "iamwarden-enforcer") -> int | None:
    value: int | None = client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
    return value


# --- the enforcer's concurrency ---------------------------------------------------------------------------


def test_a_concurrency_of_zero_is_taken_off_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account)
    client.put_function_concurrency(FunctionName="iamwarden-enforcer", ReservedConcurrentExecutions=0)

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-concurrency-zero.json")))

    assert finding["outcome"] == "remediated"
    assert _reserved(client) is None  # the template reserves none (EnforcerReservedConcurrency 0)
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _reserved(client) == 0


def test_a_declared_reservation_is_put_back_to_its_declared_value(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account)
    client.put_function_concurrency(FunctionName="iamwarden-enforcer", ReservedConcurrentExecutions=0)
    enforcer.own = enforcer.own._replace(reserved_concurrency={"iamwarden-enforcer": 20})

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-concurrency-zero.json")))

    assert _reserved(client) == 20
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == ["put the reserved concurrency of iamwarden-enforcer back to 20 (it was 0)"]
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _reserved(client) == 0


def test_a_concurrency_already_put_back_is_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account)  # someone already removed the reservation: nothing to do, still alerted

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-concurrency-zero.json")))

    assert _reserved(client) is None
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert len(_alerts(notifier)) == 1


def test_an_own_functions_code_replaced_stops_it_and_undo_starts_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A pruner function's code replaced (audit s7 gap 0): its role writes IAM in every member account, unrouted."""
    client = create_function(account, "iamwarden-prune-worker")

    finding = _finding(enforcer.handle(load_event("tamper-prune-worker-code.json")))

    assert finding["outcome"] == "remediated"
    assert _reserved(client, "iamwarden-prune-worker") == 0
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    assert "it is stopped (reserved concurrency 0" in alert.finding.reason
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _reserved(client, "iamwarden-prune-worker") is None


def test_an_own_functions_configuration_changed_stops_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account, "iamwarden-prune-worker")
    event = load_event("tamper-prune-worker-code.json")
    event["detail"]["eventName"] = "UpdateFunctionConfiguration20150331v2"
    event["detail"]["requestParameters"]["environment"] = {"variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrap"}}

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _reserved(client, "iamwarden-prune-worker") == 0


def test_the_enforcers_code_replaced_is_alerted_never_stopped(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Stopping the enforcer would stop every remediation: it is alerted, and the heartbeat compares it each run."""
    client = create_function(account)

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-code.json")))

    assert finding["outcome"] == "alerted"
    assert _reserved(client) is None
    assert len(_alerts(notifier)) == 1


# --- its rules ------------------------------------------------------------------------------------------


def test_a_disabled_rule_on_the_central_bus_is_enabled_again_and_undo_disables_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    events = account.session.client("events", region_name=REGION)
    events.create_event_bus(Name="iamwarden-central")
    name = "iamwarden-iam-user-created"
    events.put_rule(Name=name, EventBusName="iamwarden-central", EventPattern=json.dumps({"source": ["aws.iam"]}))
    events.disable_rule(Name=name, EventBusName="iamwarden-central")
    event = copy.deepcopy(load_event("tamper-disable-forwarder.json"))
    event["detail"]["requestParameters"] = {"name": name, "eventBusName": "iamwarden-central"}

    finding = _finding(enforcer.handle(event))

    assert events.describe_rule(Name=name, EventBusName="iamwarden-central")["State"] == "ENABLED"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert events.describe_rule(Name=name, EventBusName="iamwarden-central")["State"] == "DISABLED"


def test_a_deleted_rule_is_alerted_with_what_to_run(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = copy.deepcopy(load_event("tamper-disable-forwarder.json"))
    event["detail"]["eventName"] = "DeleteRule"

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] in ("remediated", "alerted")
    [alert] = _alerts(notifier)
    assert alert.finding.plan == ()
    assert "detect-stack-drift --stack-name iamwarden" in alert.finding.reason


def _run_rule_commands(events: Any, reason: str) -> None:
    """Run the alert's ``aws events`` commands as the CLI would send them, its condition included."""
    given = rule_commands(reason)
    if "put-rule" in given:
        rule = given["put-rule"]
        bus = {"EventBusName": rule["event-bus-name"]} if "event-bus-name" in rule else {}
        events.put_rule(Name=rule["name"], EventPattern=rule["event-pattern"], State=rule["state"], **bus)
    if "remove-targets" in given:
        removal = given["remove-targets"]
        bus = {"EventBusName": removal["event-bus-name"]} if "event-bus-name" in removal else {}
        events.remove_targets(Rule=removal["rule"], Ids=removal["ids"].split(), **bus)
    if "put-targets" in given:
        targets = given["put-targets"]
        bus = {"EventBusName": targets["event-bus-name"]} if "event-bus-name" in targets else {}
        shorthand = dict(item.split("=", 1) for item in targets["targets"].split(","))
        live = events.list_targets_by_rule(Rule=targets["rule"], **bus)["Targets"]
        if "list-targets-by-rule" in reason and any(t["Arn"] == shorthand["Arn"] for t in live):
            return
        events.put_targets(Rule=targets["rule"], Targets=[{"Id": shorthand["Id"], "Arn": shorthand["Arn"]}], **bus)


def test_the_commands_an_untargeted_rules_alert_gives_put_it_back_as_declared(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The commands of the alert, run as the CLI would send them, leave the declared rule and its one target."""
    events = account.session.client("events", region_name=REGION)
    events.create_event_bus(Name="iamwarden-central")
    key = "iamwarden-central/iamwarden-iam-user-created"
    declared = declared_content.declared_rule(key, SAMPLE_OWN, "aws", REGION, HOME_ACCOUNT)
    assert declared is not None
    assert declared.pattern is not None
    events.put_rule(
        Name="iamwarden-iam-user-created", EventBusName="iamwarden-central", EventPattern=json.dumps(declared.pattern)
    )  # as the RemoveTargets left it: no target

    finding = _finding(enforcer.handle(load_event("tamper-remove-targets.json")))
    [alert] = _alerts(notifier)
    _run_rule_commands(events, alert.finding.reason)

    assert finding["outcome"] in ("remediated", "alerted")
    live = events.describe_rule(Name="iamwarden-iam-user-created", EventBusName="iamwarden-central")
    described = {"eventPattern": live["EventPattern"], "state": live["State"]}
    assert declared_content.rule_differences(described, declared) == []
    [target] = events.list_targets_by_rule(Rule="iamwarden-iam-user-created", EventBusName="iamwarden-central")[
        "Targets"
    ]
    assert target["Arn"] == declared.target
    assert target["Id"] == "EnforcerFunctionIamUserCreatedLambdaTarget"


OTHER_BUS = "arn:aws:events:us-east-1:999999999999:event-bus/default"
OTHER_QUEUE = "arn:aws:sqs:us-east-1:999999999999:exfil"


@pytest.mark.parametrize(
    ("before", "put"),
    [
        # review s15 probe1 "puttargets two targets": the declared id re-pointed, and a second target added
        ([], [("iamwarden-tampered-stack", OTHER_BUS), ("x2", OTHER_QUEUE)]),
        # probe1 "puttargets extra target": the declared target stays, another is added next to it
        ([("iamwarden-tampered-stack", None)], [("exfil", OTHER_QUEUE)]),
    ],
)
def test_the_commands_after_a_put_targets_leave_only_the_declared_target(
    account: Account,
    enforcer: EnforcerService,
    notifier: RecordingNotifier,
    before: list[tuple[str, str | None]],
    put: list[tuple[str, str]],
) -> None:
    events = account.session.client("events", region_name=REGION)
    key = "iamwarden-tampered-stack"
    declared = declared_content.declared_rule(key, SAMPLE_OWN, "aws", REGION, HOME_ACCOUNT)
    assert declared is not None
    assert declared.pattern is not None
    events.put_rule(Name=key, EventPattern=json.dumps(declared.pattern))
    initial: list[Any] = [{"Id": i, "Arn": arn or declared.target} for i, arn in before]
    events.put_targets(Rule=key, Targets=initial or [{"Id": key, "Arn": declared.target}])
    events.put_targets(Rule=key, Targets=[{"Id": i, "Arn": arn} for i, arn in put])  # the intruder's
    event = copy.deepcopy(load_event("tamper-put-targets.json"))
    event["detail"]["requestParameters"]["targets"] = [{"id": i, "arn": arn} for i, arn in put]

    _finding(enforcer.handle(event))
    [alert] = _alerts(notifier)
    _run_rule_commands(events, alert.finding.reason)

    [target] = events.list_targets_by_rule(Rule=key)["Targets"]
    assert target["Arn"] == declared.target


# --- its central bus's policy -----------------------------------------------------------------------------

ORGANIZATION = "o-a1b2c3d4e5"
BUS_STATEMENT = "OrganizationAccountsPutEvents"


def _central_bus(account: Account, enforcer: EnforcerService) -> Any:
    """The central bus with the statement the template declares, and an enforcer that knows the organisation."""
    events = account.session.client("events", region_name=REGION)
    events.create_event_bus(Name="iamwarden-central")
    events.put_permission(
        EventBusName="iamwarden-central",
        Action="events:PutEvents",
        Principal="*",
        StatementId=BUS_STATEMENT,
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": ORGANIZATION},
    )
    enforcer.own = enforcer.own._replace(organization_id=ORGANIZATION)
    return events


def _bus_statements(events: Any) -> list[dict[str, Any]]:
    policy = events.describe_event_bus(Name="iamwarden-central").get("Policy")
    return list(json.loads(policy)["Statement"]) if policy else []


def _only_declared(events: Any, declared: dict[str, Any]) -> bool:
    """Whether the bus's policy grants what the declared statement does and nothing else (EventBridge writes the
    declared ``Principal: "*"`` back as every account's root when the policy is put whole)."""
    from iamwarden.guardrails.tampering import bus_policy_differences

    return not bus_policy_differences({"Statement": _bus_statements(events)}, {"Statement": [declared]})


def test_a_removed_central_bus_statement_is_put_back_and_undo_removes_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    events = _central_bus(account, enforcer)
    [declared] = _bus_statements(events)
    events.remove_permission(EventBusName="iamwarden-central", StatementId=BUS_STATEMENT)

    finding = _finding(enforcer.handle(load_event("tamper-remove-bus-permission.json")))

    assert finding["outcome"] == "remediated"
    assert _only_declared(events, declared)
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _bus_statements(events) == []


def test_a_rewritten_central_bus_statement_is_put_back_and_undo_rewrites_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    events = _central_bus(account, enforcer)
    [declared] = _bus_statements(events)
    events.put_permission(
        EventBusName="iamwarden-central", Action="events:PutEvents", Principal="999988887777", StatementId=BUS_STATEMENT
    )
    [rewritten] = _bus_statements(events)
    event = copy.deepcopy(load_event("tamper-remove-bus-permission.json"))
    event["detail"]["eventName"] = "PutPermission"
    event["detail"]["requestParameters"].update(action="events:PutEvents", principal="999988887777")

    finding = _finding(enforcer.handle(event))

    assert _only_declared(events, declared)
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _bus_statements(events) == [rewritten]


def test_a_deny_beside_the_central_bus_statement_is_taken_off_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s8 section 2: the declared Allow kept, a Deny added by ``PutPermission --policy``."""
    events = _central_bus(account, enforcer)
    [declared] = _bus_statements(events)
    deny = {
        "Sid": "Maintenance",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "events:PutEvents",
        "Resource": declared["Resource"],
    }
    tampered = {"Version": "2012-10-17", "Statement": [declared, deny]}
    events.put_permission(EventBusName="iamwarden-central", Policy=json.dumps(tampered))
    event = copy.deepcopy(load_event("tamper-remove-bus-permission.json"))
    event["detail"]["eventName"] = "PutPermission"
    event["detail"]["requestParameters"] = {"eventBusName": "iamwarden-central", "policy": json.dumps(tampered)}

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _only_declared(events, declared)
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert [s["Sid"] for s in _bus_statements(events)] == [BUS_STATEMENT, "Maintenance"]


def test_undo_of_a_central_bus_policy_restore_refuses_once_the_policy_changed_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    events = _central_bus(account, enforcer)
    events.remove_permission(EventBusName="iamwarden-central", RemoveAllPermissions=True)
    finding = _finding(enforcer.handle(load_event("tamper-remove-bus-permission.json")))
    events.put_permission(
        EventBusName="iamwarden-central", Action="events:PutEvents", Principal="999988887777", StatementId="later"
    )

    from iamwarden.domain.exceptions import UndoError

    with pytest.raises(UndoError, match="changed since the restore"):
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert len(_bus_statements(events)) == 2


def test_a_central_bus_statement_already_put_back_is_left_alone_and_a_deleted_bus_alerted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    events = _central_bus(account, enforcer)
    [declared] = _bus_statements(events)

    finding = _finding(enforcer.handle(load_event("tamper-remove-bus-permission.json")))

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert _bus_statements(events) == [declared]
    events.delete_event_bus(Name="iamwarden-central")
    finding = _finding(enforcer.handle(load_event("tamper-delete-central-bus.json")))
    alert = _alerts(notifier)[-1]
    assert alert.finding.plan == ()
    assert "sam deploy --stack-name iamwarden" in alert.finding.reason


# --- its alert path ------------------------------------------------------------------------------------


#: The alert key as the template resolves in the tests (tests/aws_fixtures.py: ``AlertKey``).
ALERT_KEY_ID = "mrk-iamwarden-alerts"
ALERT_KEY_ARN = f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/{ALERT_KEY_ID}"


def create_heartbeat_alarm(account: Account, *, actions_enabled: bool = True) -> Any:
    """The stack's alarm iamwarden-heartbeat-missing, as the template declares it; the CloudWatch client."""
    cloudwatch = account.session.client("cloudwatch", region_name=REGION)
    cloudwatch.put_metric_alarm(
        AlarmName="iamwarden-heartbeat-missing",
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=3,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        ActionsEnabled=actions_enabled,
    )
    return cloudwatch


def create_alert_key(account: Account) -> str:
    """The alert key in moto under the id the template's grants name (moto picks a random one); its ARN."""
    from moto.kms.models import kms_backends

    backend = kms_backends[HOME_ACCOUNT][REGION]
    if ALERT_KEY_ID in backend.keys:
        return str(backend.keys[ALERT_KEY_ID].arn)
    kms = account.session.client("kms", region_name=REGION)
    key_id = kms.create_key(Description="IAM Warden alert topic encryption")["KeyMetadata"]["KeyId"]
    key = backend.keys.pop(key_id)
    key.id, key.arn = ALERT_KEY_ID, f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/{ALERT_KEY_ID}"
    backend.keys[ALERT_KEY_ID] = key
    return str(key.arn)


def declared_alert_key_policy() -> dict[str, Any]:
    """The alert key's policy as template.yaml declares it, in the tests' deployment."""
    own = SAMPLE_OWN._replace(
        home_account=HOME_ACCOUNT, alert_key=f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/{ALERT_KEY_ID}"
    )
    policy = declared_content.declared_alert_key_policy(own, "aws")
    assert policy is not None
    return policy


def _alert_key(account: Account, enforcer: EnforcerService) -> tuple[Any, str]:
    arn = create_alert_key(account)
    enforcer.own = enforcer.own._replace(alert_key=arn)
    return account.session.client("kms", region_name=REGION), arn


def _key_event(key_id: str, name: str = "DisableKey", **parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("tamper-disable-alert-key.json"))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = {"keyId": key_id, **parameters}
    return event


def _key_state(kms: Any, key_id: str) -> str:
    state: str = kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]
    return state


def test_a_disabled_alert_key_is_enabled_again_and_undo_disables_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    kms, key_id = _alert_key(account, enforcer)
    kms.disable_key(KeyId=key_id)

    finding = _finding(enforcer.handle(_key_event(key_id)))

    assert finding["outcome"] == "remediated"
    assert _key_state(kms, key_id) == "Enabled"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _key_state(kms, key_id) == "Disabled"


def test_an_alert_key_scheduled_for_deletion_is_kept_and_undo_schedules_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    kms, key_id = _alert_key(account, enforcer)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    finding = _finding(enforcer.handle(_key_event(key_id, "ScheduleKeyDeletion", pendingWindowInDays=7)))

    assert _key_state(kms, key_id) == "Enabled"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _key_state(kms, key_id) == "PendingDeletion"


def _key_policy_event(policy: dict[str, Any], key_id: str = ALERT_KEY_ARN) -> dict[str, Any]:
    event = copy.deepcopy(load_event("tamper-alert-key-policy-services-dropped.json"))
    event["detail"]["requestParameters"].update(keyId=key_id, policy=json.dumps(policy))
    return event


def _live_key_policy(kms: Any) -> Any:
    return json.loads(kms.get_key_policy(KeyId=ALERT_KEY_ARN, PolicyName="default")["Policy"])


def test_an_alert_key_policy_without_sns_is_put_back_as_declared_and_undo_puts_the_change_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    kms, _ = _alert_key(account, enforcer)
    declared = declared_alert_key_policy()
    changed = {"Version": "2012-10-17", "Statement": [declared["Statement"][0]]}
    kms.put_key_policy(KeyId=ALERT_KEY_ARN, PolicyName="default", Policy=json.dumps(changed))

    finding = _finding(enforcer.handle(_key_policy_event(changed)))

    assert finding["outcome"] == "remediated"
    assert _live_key_policy(kms) == declared
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _live_key_policy(kms) == changed


def test_an_alert_key_policy_changed_again_since_is_left_to_its_own_event(
    account: Account, enforcer: EnforcerService
) -> None:
    kms, _ = _alert_key(account, enforcer)
    declared = declared_alert_key_policy()
    changed = {"Version": "2012-10-17", "Statement": [declared["Statement"][0]]}
    later = {"Version": "2012-10-17", "Statement": [{**declared["Statement"][0], "Sid": "Later"}]}
    kms.put_key_policy(KeyId=ALERT_KEY_ARN, PolicyName="default", Policy=json.dumps(later))

    finding = _finding(enforcer.handle(_key_policy_event(changed)))

    assert account.audit().get(finding["remediation_id"]).done == []  # type: ignore[union-attr]
    assert _live_key_policy(kms) == later


def test_an_alert_key_policy_that_locks_iam_warden_out_is_alerted_and_nothing_is_tried(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    kms, _ = _alert_key(account, enforcer)
    locked = json.loads(load_event("tamper-alert-key-policy-locked.json")["detail"]["requestParameters"]["policy"])
    kms.put_key_policy(KeyId=ALERT_KEY_ARN, PolicyName="default", Policy=json.dumps(locked))

    finding = _finding(enforcer.handle(_key_policy_event(locked)))

    assert finding["outcome"] != "remediated"
    assert _live_key_policy(kms) == locked
    [alert] = _alerts(notifier)
    assert "IAM Warden cannot put it back" in alert.finding.reason


TOPIC = f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts"


def _data_protection_event() -> dict[str, Any]:
    event = copy.deepcopy(load_event("tamper-alert-topic-data-protection.json"))
    event["detail"]["requestParameters"]["resourceArn"] = TOPIC
    return event


def test_a_data_protection_policy_on_the_alert_topic_is_removed_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """moto has no SNS data protection: the calls and their parameters are checked, in order, with a Stubber."""
    from botocore.stub import Stubber

    enforcer.own = enforcer.own._replace(alert_topic=TOPIC)
    event = _data_protection_event()
    policy = event["detail"]["requestParameters"]["dataProtectionPolicy"]
    client = enforcer.executor.clients.client("sns", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        stubber.add_response("get_data_protection_policy", {"DataProtectionPolicy": policy}, {"ResourceArn": TOPIC})
        stubber.add_response("put_data_protection_policy", {}, {"ResourceArn": TOPIC, "DataProtectionPolicy": ""})
        finding = _finding(enforcer.handle(event))
        stubber.assert_no_pending_responses()
        stubber.add_response("get_data_protection_policy", {"DataProtectionPolicy": ""}, {"ResourceArn": TOPIC})
        stubber.add_response("put_data_protection_policy", {}, {"ResourceArn": TOPIC, "DataProtectionPolicy": policy})
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == "remediated"
    assert finding["done"] == [
        f"remove the data-protection policy put on IAM Warden's alert topic {TOPIC} (its template declares none)"
    ]
    assert list(undo.restored) == [f"put the data-protection policy of topic {TOPIC} back as the change left it"]
    assert len(_alerts(notifier)) == 1


def test_a_data_protection_policy_removed_meanwhile_is_left_alone_and_undo_refuses_a_new_one(
    account: Account, enforcer: EnforcerService
) -> None:
    from botocore.stub import Stubber

    from iamwarden.app.executor import AccountClients
    from iamwarden.domain.exceptions import UndoError
    from iamwarden.domain.findings import RemediationStep
    from iamwarden.guardrails.tampering import RemoveOwnTopicDataProtection

    enforcer.own = enforcer.own._replace(alert_topic=TOPIC)
    client = enforcer.executor.clients.client("sns", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        stubber.add_response("get_data_protection_policy", {"DataProtectionPolicy": ""}, {"ResourceArn": TOPIC})
        finding = _finding(enforcer.handle(_data_protection_event()))
        stubber.assert_no_pending_responses()
    assert finding["done"] == []

    action = RemoveOwnTopicDataProtection()
    policy = _data_protection_event()["detail"]["requestParameters"]["dataProtectionPolicy"]
    step = RemediationStep(action.action, TOPIC, {"topic_arn": TOPIC, "changed_to": policy}, "remove it")
    aws = AccountClients(enforcer.executor.clients, HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        stubber.add_response("get_data_protection_policy", {"DataProtectionPolicy": '{"x":1}'}, {"ResourceArn": TOPIC})
        with pytest.raises(UndoError, match="has a data-protection policy again"):
            action.undo(aws, step, {"exists": True, "policy": step.parameters["changed_to"]})


def test_an_alert_key_enabled_again_already_is_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _, key_id = _alert_key(account, enforcer)

    finding = _finding(enforcer.handle(_key_event(key_id)))

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert len(_alerts(notifier)) == 1


def test_disabled_alarm_actions_are_enabled_again_and_undo_disables_them(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    cloudwatch = create_heartbeat_alarm(account)
    cloudwatch.disable_alarm_actions(AlarmNames=["iamwarden-heartbeat-missing"])

    def enabled() -> bool:
        [alarm] = cloudwatch.describe_alarms(AlarmNames=["iamwarden-heartbeat-missing"])["MetricAlarms"]
        return bool(alarm["ActionsEnabled"])

    finding = _finding(enforcer.handle(load_event("tamper-disable-alarm-actions.json")))

    assert enabled()
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert not enabled()


# --- its settings ---------------------------------------------------------------------------------------


def _overwrite(account: Account, value: str) -> dict[str, Any]:
    """Overwrite the setting as an intruder would; the event carries the version SSM answered."""
    version = account.ssm.put_parameter(Name=SETTING, Value=value, Type="String", Overwrite=True)["Version"]
    event = copy.deepcopy(load_event("tamper-setting-changed.json"))
    event["detail"]["responseElements"]["version"] = version
    event["detail"]["eventID"] = f"setting-{version}-{value}"
    return event


def _setting(account: Account) -> str:
    return str(account.ssm.get_parameter(Name=SETTING)["Parameter"]["Value"])


def test_a_changed_setting_is_alerted_and_left_by_default(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _overwrite(account, "off")

    finding = _finding(enforcer.handle(event))

    assert _setting(account) == "off"
    assert finding["outcome"] in ("remediated", "alerted")
    [alert] = _alerts(notifier)
    assert alert.finding.plan == ()


def test_with_settings_guard_restore_the_previous_value_comes_back_and_undo_restores_the_change(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/settings_guard", "restore")
    event = _overwrite(account, "off")

    finding = _finding(enforcer.handle(event))

    assert _setting(account) == "alert"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _setting(account) == "off"


def test_a_setting_changed_again_since_is_left_to_its_own_event(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/settings_guard", "restore")
    event = _overwrite(account, "off")
    account.ssm.put_parameter(Name=SETTING, Value="remediate", Type="String", Overwrite=True)

    finding = _finding(enforcer.handle(event))

    assert _setting(account) == "remediate"
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []


def test_an_operators_change_is_accepted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/settings_guard", "restore")
    account.set(f"rules/{RULE}/operators", f"arn:aws:iam::{HOME_ACCOUNT}:role/developer")
    event = _overwrite(account, "off")

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant"
    assert _setting(account) == "off"
    assert _alerts(notifier) == []


# --- a settings write never approves itself (the settings before it judge it) ---------------------------

DEVELOPER = f"arn:aws:iam::{HOME_ACCOUNT}:role/developer"


def _write(account: Account, relative: str, value: str) -> dict[str, Any]:
    """The intruder (role/developer, as in the sample) writes one of IAM Warden's own settings."""
    name = f"/iamwarden/{relative}"
    version = account.ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)["Version"]
    event = copy.deepcopy(load_event("tamper-setting-changed.json"))
    event["detail"]["requestParameters"]["name"] = name
    event["detail"]["responseElements"]["version"] = version
    event["detail"]["eventID"] = f"self-approval-{relative}-{version}"
    return event


@pytest.mark.parametrize(
    ("relative", "value"),
    [
        (f"rules/{RULE}/mode", "off"),
        (f"rules/{RULE}/operators", DEVELOPER),
        (f"rules/{RULE}/allow_actors", DEVELOPER),
        (f"rules/{RULE}/allow_resources", "arn:aws:ssm:*"),
        ("managed_accounts", "999999999999"),
        ("break_glass_principals", DEVELOPER),
        (f"accounts/{HOME_ACCOUNT}/mode", "off"),
    ],
)
def test_a_settings_write_that_would_exempt_itself_is_judged_by_the_settings_before_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, relative: str, value: str
) -> None:
    account.set(f"rules/{RULE}/settings_guard", "restore")
    before = _value(account, relative)
    event = _write(account, relative, value)

    result = enforcer.handle(event)

    assert result["verdict"] == "violation", result["reason"]
    assert _finding(result)["outcome"] == "remediated"
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    assert _value(account, relative) == before  # put back (deleted when it did not exist before)


def _value(account: Account, relative: str) -> str | None:
    try:
        return str(account.ssm.get_parameter(Name=f"/iamwarden/{relative}")["Parameter"]["Value"])
    except account.ssm.exceptions.ParameterNotFound:
        return None


#: IAM Warden's enforcer (its restore): a version it wrote is known good (``settings_guard.known_good_version``).
ENFORCER_SESSION = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/iamwarden-enforcer-us-east-1/iamwarden-enforcer"


def test_a_write_by_an_operator_as_of_before_is_accepted_even_when_it_changes_the_operators(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/settings_guard", "restore")
    account.set(f"rules/{RULE}/operators", DEVELOPER, writer=ENFORCER_SESSION)
    event = _write(account, f"rules/{RULE}/operators", f"{DEVELOPER},{OPERATOR}")

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant", result["reason"]
    assert "is an operator" in result["reason"]
    assert _alerts(notifier) == []


def test_an_operator_who_removes_themself_is_still_judged_an_operator_of_before(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/operators", DEVELOPER, writer=ENFORCER_SESSION)
    event = _write(account, f"rules/{RULE}/operators", OPERATOR)

    assert enforcer.handle(event)["verdict"] == "compliant"


def test_a_former_operator_removed_before_the_write_is_no_operator(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/operators", DEVELOPER)
    account.set(f"rules/{RULE}/operators", OPERATOR)  # the operators as they now are: not the developer
    event = _write(account, "rules/iam-user-created/mode", "off")

    assert enforcer.handle(event)["verdict"] == "violation"
    assert len(_alerts(notifier)) == 1


def test_a_tampering_rule_already_off_before_still_judges_a_settings_write(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/mode", "off")
    event = _write(account, "rules/iam-user-created/mode", "off")

    result = enforcer.handle(event)

    assert result["verdict"] == "violation"
    assert _finding(result)["outcome"] == "alerted"  # off is judged in alert: reported, nothing put back


def test_a_deleted_operators_setting_is_judged_without_operators(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A deletion's previous value is gone with the parameter's history: the default (no operators) judges it."""
    account.set(f"rules/{RULE}/operators", DEVELOPER)
    account.ssm.delete_parameter(Name=f"/iamwarden/rules/{RULE}/operators")
    event = copy.deepcopy(load_event("tamper-setting-changed.json"))
    event["detail"]["eventName"] = "DeleteParameter"
    event["detail"]["requestParameters"] = {"name": f"/iamwarden/rules/{RULE}/operators"}
    event["detail"]["responseElements"] = None

    assert enforcer.handle(event)["verdict"] == "violation"


# --- a settings restore puts back only a known good version (audit s7 gap 3) -----------------------------

SECOPS_SESSION = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/SecOps/alice"
INTRUDER_SESSION = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/developer/dev@example.com"


def _written_by_intruder(account: Account, relative: str, value: str, time: str) -> dict[str, Any]:
    """The intruder (role/developer) writes a setting; the event carries its version and ``time``."""
    event = _write(account, relative, value)
    version = event["detail"]["responseElements"]["version"]
    SSM_WRITERS[(f"/iamwarden/{relative}", version)] = INTRUDER_SESSION
    event["detail"]["eventTime"] = time
    return event


def test_two_quick_writes_end_with_the_operators_value_never_the_intruders_first(
    account: Account, enforcer: EnforcerService
) -> None:
    """P6: v1 an operator's; the intruder writes v2 (themself as break-glass), then v3. v2's event finds v3 current
    (changed again since); v3's puts back v1, the newest version an operator wrote, never v2."""
    account.set(f"rules/{RULE}/operators", f"arn:aws:iam::{HOME_ACCOUNT}:role/SecOps", writer=ENFORCER_SESSION)
    account.set("break_glass_principals", "arn:aws:iam::*:role/BreakGlassAdmin", writer=SECOPS_SESSION)
    v2 = _written_by_intruder(account, "break_glass_principals", DEVELOPER, "2026-11-13T09:22:18Z")
    v3 = _written_by_intruder(account, "break_glass_principals", "arn:aws:iam::*:role/Other", "2026-11-13T09:22:20Z")

    first = _finding(enforcer.handle(v2))
    then = _finding(enforcer.handle(v3))

    assert first["done"] == []
    assert then["outcome"] == "remediated"
    assert _value(account, "break_glass_principals") == "arn:aws:iam::*:role/BreakGlassAdmin"
    record = account.audit().get(then["remediation_id"])
    assert record is not None
    assert "written by the operator" in record.plan[0]["summary"]


def test_a_guard_setting_whose_earlier_versions_are_all_unknown_goes_back_to_its_default(
    account: Account, enforcer: EnforcerService
) -> None:
    """Version 1 by someone unknown (not an operator, not IAM Warden, not the template's value) is no known good
    value; the history starts at it, so the parameter did not exist before: deleted, its default (no break-glass)
    applies. (With the first versions aged out of the history nothing is known: alert-only, the unit tests'.)"""
    account.set("break_glass_principals", "arn:aws:iam::*:role/Someone")  # LastModifiedUser "N/A"
    event = _written_by_intruder(account, "break_glass_principals", DEVELOPER, "2026-11-13T09:22:18Z")

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _value(account, "break_glass_principals") is None


def test_operators_written_twice_by_the_intruder_are_judged_by_the_settings_before_both(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """P7: v1 and v2 of operators by the intruder naming themself. v2 is judged by the settings before v1 (no
    operators), never by v1, so the intruder is no operator: critical, and the parameter is deleted (it did not
    exist before v1)."""
    relative = f"rules/{RULE}/operators"
    v1 = _written_by_intruder(account, relative, DEVELOPER, "2026-11-13T09:22:18Z")
    v2 = _written_by_intruder(account, relative, DEVELOPER, "2026-11-13T09:22:19Z")

    enforcer.handle(v1)
    result = enforcer.handle(v2)

    assert result["verdict"] == "violation", result["reason"]
    assert _finding(result)["outcome"] == "remediated"
    assert _value(account, relative) is None


def test_an_invalid_operators_value_written_twice_never_drops_the_guard_to_alert(
    account: Account, enforcer: EnforcerService
) -> None:
    """P8: an operators value validation refuses ("matches everything"), written twice. The tampering rule keeps
    remediating: a later DisableRule of an own rule is still put back."""
    relative = f"rules/{RULE}/operators"
    bad = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/developer/*"
    for second, event in enumerate(
        [_written_by_intruder(account, relative, bad, f"2026-11-13T09:22:1{n}Z") for n in (8, 9)]
    ):
        finding = _finding(enforcer.handle(event))
        assert finding["outcome"] == "remediated", second

    result = enforcer.handle(load_event("tamper-disable-forwarder.json"))

    assert [(f["rule"], f["outcome"]) for f in result["findings"]] == [(RULE, "remediated")]


# --- its roles ------------------------------------------------------------------------------------------


def test_a_policy_attached_to_the_enforcers_role_is_detached_and_undo_attaches_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    role = "iamwarden-enforcer-us-east-1"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    policy = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    account.iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    event = copy.deepcopy(load_event("tamper-attach-to-enforcer-role.json"))
    event["detail"]["requestParameters"]["policyArn"] = policy

    result = enforcer.handle(event)

    finding = _finding(result)
    attached = account.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert attached == []
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    attached = account.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy]


GRANT = "iamwarden-enforcer-remediations-1-us-east-1"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _enforcer_role_with_grant(account: Account, *, attached: bool) -> str:
    """The enforcer's role and its first remediation grant (as the stack creates them); the ARN of the grant."""
    account.iam.create_role(RoleName="iamwarden-enforcer-us-east-1", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}
    grant: str = account.iam.create_policy(PolicyName=GRANT, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    if attached:
        account.iam.attach_role_policy(RoleName="iamwarden-enforcer-us-east-1", PolicyArn=grant)
    return grant


def _attached(account: Account, role: str = "iamwarden-enforcer-us-east-1") -> list[str]:
    return [p["PolicyArn"] for p in account.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def test_a_grant_detached_from_the_enforcers_role_is_alerted_with_the_command_and_nothing_is_attached(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s15 F1 (probe test_probe_recreated.py): the policy now under the declared name holds Deny * *, as
    after detach -> DeletePolicy -> CreatePolicy of the same name. Attaching it would blind IAM Warden (or give its
    role the intruder's Allow): nothing is attached, the alert gives the command and says to check the policy."""
    grant = _enforcer_role_with_grant(account, attached=False)
    account.iam.delete_policy(PolicyArn=grant)
    deny_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    account.iam.create_policy(PolicyName=GRANT, PolicyDocument=json.dumps(deny_all))

    finding = _finding(enforcer.handle(load_event("tamper-detach-grant-from-enforcer-role.json")))

    assert finding["outcome"] != "remediated"
    assert _attached(account) == []
    [alert] = _alerts(notifier)
    assert alert.finding is not None
    assert alert.finding.severity.value == "critical"
    command = f"aws iam attach-role-policy --role-name iamwarden-enforcer-us-east-1 --policy-arn {grant}"
    assert command in alert.finding.reason


@pytest.mark.parametrize("role", ["iamwarden-enforcer-eu-west-1", "iamwarden-enforcer"])
def test_a_look_alike_role_is_judged_like_any_other_and_never_tampering(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, role: str
) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    event = copy.deepcopy(load_event("attach-admin-to-role.json"))
    event["detail"]["requestParameters"]["roleName"] = role
    account.set("rules/managed-policy-attached/mode", "remediate")

    result = enforcer.handle(event)

    assert {finding["rule"] for finding in result["findings"]} == {"managed-policy-attached"}
    assert account.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_a_boundary_put_on_the_enforcers_role_is_taken_off_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    role = "iamwarden-enforcer-us-east-1"
    account.iam.create_role(
        RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    account.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
    event = copy.deepcopy(load_event("tamper-boundary-on-enforcer-role.json"))
    event["detail"]["requestParameters"]["permissionsBoundary"] = boundary

    finding = _finding(enforcer.handle(event))

    assert "PermissionsBoundary" not in account.iam.get_role(RoleName=role)["Role"]
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert account.iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary


# --- the own roles' trust and inline policies (issue 15 item 2) --------------------------------------------

ENFORCER_ROLE = "iamwarden-enforcer-us-east-1"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": HOME_ACCOUNT}},
        }
    ],
}
INTRUDER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}
    ],
}
RUNTIME = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def _enforcer_role(account: Account, *, snapshot: bool) -> None:
    """The enforcer's role as the stack made it, and the heartbeat's snapshot of it (when ``snapshot``)."""
    account.iam.create_role(RoleName=ENFORCER_ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.put_role_policy(
        RoleName=ENFORCER_ROLE, PolicyName="enforcer-runtime", PolicyDocument=json.dumps(RUNTIME)
    )
    if snapshot:
        taken = take_own_role_snapshots(account.iam, [ENFORCER_ROLE], HOME_ACCOUNT, "2026-11-13T09:00:00Z")
        assert AuditRecorded(account.audit(), account.dynamodb).put_all(taken) == 1


def _trust(account: Account, role: str = ENFORCER_ROLE) -> Any:
    return account.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]


def _inline(account: Account, name: str) -> Any:
    return account.iam.get_role_policy(RoleName=ENFORCER_ROLE, PolicyName=name)["PolicyDocument"]


def _trust_event(role: str = ENFORCER_ROLE) -> dict[str, Any]:
    event = copy.deepcopy(load_event("trust-update-unknown-account.json"))
    event["detail"]["requestParameters"].update(roleName=role, policyDocument=json.dumps(INTRUDER_TRUST))
    return event


@pytest.mark.parametrize("snapshot", [True, False], ids=["from-the-snapshot", "as-the-template-declares"])
def test_an_own_roles_trust_policy_rewritten_is_put_back_and_undo_restores_the_intruders(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, snapshot: bool
) -> None:
    _enforcer_role(account, snapshot=snapshot)
    account.iam.update_assume_role_policy(RoleName=ENFORCER_ROLE, PolicyDocument=json.dumps(INTRUDER_TRUST))

    finding = _finding(enforcer.handle(_trust_event()))

    assert finding["outcome"] == "remediated"
    assert _trust(account) == LAMBDA_TRUST
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _trust(account) == INTRUDER_TRUST


def test_an_own_roles_inline_policy_overwritten_is_put_back_and_undo_restores_the_overwrite(
    account: Account, enforcer: EnforcerService
) -> None:
    _enforcer_role(account, snapshot=True)
    account.iam.put_role_policy(
        RoleName=ENFORCER_ROLE, PolicyName="enforcer-runtime", PolicyDocument=json.dumps(DENY_ALL)
    )

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-role-policy.json")))

    assert finding["outcome"] == "remediated"
    assert _inline(account, "enforcer-runtime") == RUNTIME
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _inline(account, "enforcer-runtime") == DENY_ALL


def test_an_own_roles_inline_policy_deleted_comes_back_from_the_snapshot(
    account: Account, enforcer: EnforcerService
) -> None:
    _enforcer_role(account, snapshot=True)
    account.iam.delete_role_policy(RoleName=ENFORCER_ROLE, PolicyName="enforcer-runtime")
    event = copy.deepcopy(load_event("tamper-enforcer-role-policy.json"))
    event["detail"]["eventName"] = "DeleteRolePolicy"
    del event["detail"]["requestParameters"]["policyDocument"]

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _inline(account, "enforcer-runtime") == RUNTIME
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert account.iam.list_role_policies(RoleName=ENFORCER_ROLE)["PolicyNames"] == []


def test_without_a_snapshot_an_overwritten_inline_policy_is_alerted_and_left(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _enforcer_role(account, snapshot=False)
    account.iam.put_role_policy(
        RoleName=ENFORCER_ROLE, PolicyName="enforcer-runtime", PolicyDocument=json.dumps(DENY_ALL)
    )

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-role-policy.json")))

    assert finding["outcome"] == "alerted"
    assert _inline(account, "enforcer-runtime") == DENY_ALL
    [alert] = _alerts(notifier)
    [missing] = alert.finding.needs_context
    assert "inline policy enforcer-runtime of IAM Warden's role" in missing


INTRUDER_TRUST_2 = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}
    ],
}


def _heartbeat_reads_own_roles(account: Account, at: str) -> None:
    """What the heartbeat's refresh stores when it runs at ``at`` (every 5 minutes, or whenever anyone invokes it)."""
    taken = take_own_role_snapshots(account.iam, [ENFORCER_ROLE], HOME_ACCOUNT, at)
    AuditRecorded(account.audit(), account.dynamodb).put_all(taken)


def test_a_rewritten_trust_read_by_the_heartbeat_after_the_change_is_still_put_back_as_declared(
    account: Account, enforcer: EnforcerService
) -> None:
    """Audit s7 gap 1, P1: the heartbeat read the intruder's trust after the change (10:01:49) and before its
    judgement; the template's document is put back, never that read."""
    _enforcer_role(account, snapshot=True)
    account.iam.update_assume_role_policy(RoleName=ENFORCER_ROLE, PolicyDocument=json.dumps(INTRUDER_TRUST))
    _heartbeat_reads_own_roles(account, "2026-11-22T10:02:30Z")

    finding = _finding(enforcer.handle(_trust_event()))

    assert finding["outcome"] == "remediated"
    assert finding["done"] == [
        f"put back the trust policy of IAM Warden's role {ENFORCER_ROLE} from the document its template declares"
    ]
    assert _trust(account) == LAMBDA_TRUST


def test_two_trust_rewrites_around_a_heartbeat_end_with_the_declared_trust_never_the_first_intruders(
    account: Account, enforcer: EnforcerService
) -> None:
    """Audit s7 gap 1, P2: T1, a heartbeat read of T1, T2. T1's event finds T2 live (changed again since: nothing
    done); T2's puts the declared trust back, not the snapshot of T1."""
    _enforcer_role(account, snapshot=True)
    account.iam.update_assume_role_policy(RoleName=ENFORCER_ROLE, PolicyDocument=json.dumps(INTRUDER_TRUST))
    _heartbeat_reads_own_roles(account, "2026-11-22T10:01:55Z")
    account.iam.update_assume_role_policy(RoleName=ENFORCER_ROLE, PolicyDocument=json.dumps(INTRUDER_TRUST_2))
    second = _trust_event()
    second["detail"].update(eventID="t2", eventTime="2026-11-22T10:02:10Z")
    second["detail"]["requestParameters"]["policyDocument"] = json.dumps(INTRUDER_TRUST_2)

    first = _finding(enforcer.handle(_trust_event()))
    assert first["done"] == []
    assert _trust(account) == INTRUDER_TRUST_2, "changed again since: left to its own event"
    then = _finding(enforcer.handle(second))

    assert then["outcome"] == "remediated"
    assert _trust(account) == LAMBDA_TRUST


def test_an_inline_policy_read_by_the_heartbeat_after_the_change_is_alerted_and_left(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The heartbeat read the intruder's inline policy after the change (09:22:18): that read is no "before"."""
    _enforcer_role(account, snapshot=True)
    account.iam.put_role_policy(
        RoleName=ENFORCER_ROLE, PolicyName="enforcer-runtime", PolicyDocument=json.dumps(DENY_ALL)
    )
    _heartbeat_reads_own_roles(account, "2026-11-13T09:25:00Z")

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-role-policy.json")))

    assert finding["outcome"] == "alerted"
    assert _inline(account, "enforcer-runtime") == DENY_ALL
    [alert] = _alerts(notifier)
    [missing] = alert.finding.needs_context
    assert "taken at 2026-11-13T09:25:00Z, not before the change at 2026-11-13T09:22:18Z" in missing


def test_an_inline_policy_changed_again_since_the_event_is_left_to_its_own_event(
    account: Account, enforcer: EnforcerService
) -> None:
    """A redeploy (or any later write) between the change and its judgement is never overwritten by the snapshot
    (audit s7 gap 15): the step acts only while the event's document is still live."""
    _enforcer_role(account, snapshot=True)
    later = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
    account.iam.put_role_policy(RoleName=ENFORCER_ROLE, PolicyName="enforcer-runtime", PolicyDocument=json.dumps(later))

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-role-policy.json")))

    assert finding["outcome"] == "remediated"
    assert finding["done"] == []
    assert _inline(account, "enforcer-runtime") == later
    assert enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR).status == AuditStatus.UNDO
    assert _inline(account, "enforcer-runtime") == later, "undo of nothing done changes nothing"


@pytest.mark.parametrize("role", ["iamwarden-enforcer-eu-west-1", "iamwarden-enforcer"])
def test_a_look_alike_roles_trust_policy_is_judged_as_an_ordinary_role(
    account: Account, enforcer: EnforcerService, role: str
) -> None:
    _enforcer_role(account, snapshot=True)
    account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(INTRUDER_TRUST))
    account.set("rules/trust-policy-untrusted/mode", "remediate")

    result = enforcer.handle(_trust_event(role))

    assert {finding["rule"] for finding in result["findings"]} == {"trust-policy-untrusted"}
    assert _trust(account) == LAMBDA_TRUST, "the own role is untouched"


# --- a function given an own role (audit 15 gap 1), a role created under an own name (gap 4) -------------------


@pytest.mark.parametrize("reserved", [None, 5])
def test_a_function_given_the_enforcers_role_is_stopped_and_undo_gives_its_concurrency_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, reserved: int | None
) -> None:
    client = create_function(account, "ops-helper")
    if reserved is not None:
        client.put_function_concurrency(FunctionName="ops-helper", ReservedConcurrentExecutions=reserved)

    finding = _finding(enforcer.handle(load_event("tamper-function-given-enforcer-role.json")))

    assert finding["outcome"] == "remediated"
    assert _reserved(client, "ops-helper") == 0
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    was = "unreserved" if reserved is None else str(reserved)
    assert record.done == [
        f"stopped function ops-helper (reserved concurrency 0, it was {was}): it runs as IAM Warden's role "
        f"arn:aws:iam::{HOME_ACCOUNT}:role/iamwarden-enforcer-us-east-1"
    ]
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _reserved(client, "ops-helper") == reserved


def test_a_function_stopped_already_or_gone_is_left_as_it_is(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account, "ops-helper")
    client.put_function_concurrency(FunctionName="ops-helper", ReservedConcurrentExecutions=0)
    stopped = _finding(enforcer.handle(load_event("tamper-function-given-enforcer-role.json")))
    gone = _finding(enforcer.handle(load_event("tamper-function-role-changed-to-enforcer.json")))  # no such function

    for finding in (stopped, gone):
        record = account.audit().get(finding["remediation_id"])
        assert record is not None
        assert record.done == []
    assert _reserved(client, "ops-helper") == 0
    assert len(_alerts(notifier)) == 2
    enforcer.executor.undo(stopped["remediation_id"], actor=OPERATOR)
    assert _reserved(client, "ops-helper") == 0  # it was 0 before IAM Warden: undo leaves it


def test_a_role_created_under_the_remediators_name_is_quarantined_and_undo_deletes_the_deny(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Probe p9a of the audit, in the security account's moto (the same IAM calls as in a member account)."""
    from iamwarden.guardrails.tampering import DENY_ALL

    event = load_event("trust-lambda-service.json")
    event["detail"]["requestParameters"]["roleName"] = "iamwarden-heartbeat-us-east-1"
    trust = event["detail"]["requestParameters"]["assumeRolePolicyDocument"]
    account.iam.create_role(RoleName="iamwarden-heartbeat-us-east-1", AssumeRolePolicyDocument=trust)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    document = account.iam.get_role_policy(RoleName="iamwarden-heartbeat-us-east-1", PolicyName="iamwarden-quarantine")
    assert document["PolicyDocument"] == DENY_ALL
    again = _finding(enforcer.handle({**event, "id": "again"} | {"detail": {**event["detail"], "eventID": "again"}}))
    record = account.audit().get(again["remediation_id"])
    assert record is not None
    assert record.done == []  # quarantined already: idempotent
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert account.iam.list_role_policies(RoleName="iamwarden-heartbeat-us-east-1")["PolicyNames"] == []


# --- an own role's maximum session (audit s6 gap 3) --------------------------------------------------------


def test_a_longer_maximum_session_of_the_enforcers_role_is_put_back_once_and_undo_restores_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.iam.create_role(RoleName=ENFORCER_ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.update_role(RoleName=ENFORCER_ROLE, MaxSessionDuration=43200)
    event = load_event("tamper-update-role-max-session-enforcer.json")

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert account.iam.get_role(RoleName=ENFORCER_ROLE)["Role"]["MaxSessionDuration"] == 3600
    assert len(_alerts(notifier)) == 1
    again = enforcer.handle(event)  # the same delivery again: done once
    assert account.iam.get_role(RoleName=ENFORCER_ROLE)["Role"]["MaxSessionDuration"] == 3600
    assert len(_alerts(notifier)) == 1, again
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert account.iam.get_role(RoleName=ENFORCER_ROLE)["Role"]["MaxSessionDuration"] == 43200


def test_a_maximum_session_changed_again_since_the_event_is_left_to_its_own_event(
    account: Account, enforcer: EnforcerService
) -> None:
    account.iam.create_role(RoleName=ENFORCER_ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.update_role(RoleName=ENFORCER_ROLE, MaxSessionDuration=7200)  # not what the event set (43200)

    finding = _finding(enforcer.handle(load_event("tamper-update-role-max-session-enforcer.json")))

    assert finding["outcome"] != "failed"
    assert account.iam.get_role(RoleName=ENFORCER_ROLE)["Role"]["MaxSessionDuration"] == 7200


# --- a stopped function started again (audit s6 gap 8) -----------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "restart"),
    [
        ("reversed-stopped-function-concurrency-deleted.json", None),
        ("reversed-stopped-function-concurrency-raised.json", 5),
    ],
)
def test_a_stopped_function_started_again_by_hand_is_stopped_again_and_undo_restarts_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, sample: str, restart: int | None
) -> None:
    client = create_function(account, "ops-helper")
    enforcer.handle(load_event("tamper-function-given-enforcer-role.json"))
    assert _reserved(client, "ops-helper") == 0
    if restart is None:
        client.delete_function_concurrency(FunctionName="ops-helper")
    else:
        client.put_function_concurrency(FunctionName="ops-helper", ReservedConcurrentExecutions=restart)

    result = enforcer.handle(load_event(sample))

    [finding] = [f for f in result["findings"] if f["rule"] == "remediation-reversed"]
    assert finding["outcome"] == "remediated"
    assert _reserved(client, "ops-helper") == 0
    alerts = [n.finding for n in notifier.sent]
    assert [a.severity.value for a in alerts if a is not None and a.rule_id == "remediation-reversed"] == ["critical"]
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _reserved(client, "ops-helper") == restart


def test_a_url_given_to_an_own_function_is_deleted_and_undo_creates_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s8 section 11: through a URL anyone could hand the enforcer forged events."""
    client = account.session.client("lambda", region_name=REGION)
    create_function(account, "iamwarden-enforcer")
    client.create_function_url_config(FunctionName="iamwarden-enforcer", AuthType="NONE")

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-function-url.json")))

    assert finding["outcome"] == "remediated", [a.finding.reason for a in _alerts(notifier)]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_url_config(FunctionName="iamwarden-enforcer")
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert client.get_function_url_config(FunctionName="iamwarden-enforcer")["AuthType"] == "NONE"


# --- an own function's event invoke config ------------------------------------------------------------------

DECLARED_INVOKE = {
    "MaximumRetryAttempts": 2,
    "MaximumEventAgeInSeconds": 21600,
    "DestinationConfig": {"OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:{HOME_ACCOUNT}:iamwarden-enforcer-dlq"}},
}


@pytest.fixture(autouse=False)
def put_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto appends a put config after the first (get keeps answering the first); Lambda replaces it."""
    from moto.awslambda.models import EventInvokeConfig, LambdaBackend

    def put(self: Any, function_name: str, config: dict[str, Any]) -> dict[str, Any]:
        fn = self.get_function(function_name)
        event_config = EventInvokeConfig(fn.function_arn, fn.last_modified, config)
        fn.event_invoke_config = [event_config]
        result: dict[str, Any] = event_config.response()
        return result

    monkeypatch.setattr(LambdaBackend, "put_function_event_invoke_config", put)


def _invoke_event(
    name: str, function: str = "iamwarden-enforcer", error: str | None = None, qualifier: str | None = None
) -> dict[str, Any]:
    event = copy.deepcopy(load_event("tamper-enforcer-concurrency-zero.json"))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = {"functionName": function, "maximumRetryAttempts": 0}
    if qualifier is not None:
        event["detail"]["requestParameters"]["qualifier"] = qualifier
    event["detail"]["responseElements"] = None
    if error is not None:
        event["detail"]["errorCode"] = error
    return event


def _invoke_config(client: Any, name: str = "iamwarden-enforcer") -> dict[str, Any] | None:
    try:
        answer = client.get_function_event_invoke_config(FunctionName=name)
    except client.exceptions.ResourceNotFoundException:
        return None
    return {
        key: answer[key]
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
        if answer.get(key) not in (None, {})
    }


@pytest.mark.usefixtures("put_replaces")
@pytest.mark.parametrize("name", ["PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig"])
def test_an_own_functions_invoke_config_changed_is_put_back_and_undo_restores_the_change(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, name: str
) -> None:
    client = create_function(account)
    client.put_function_event_invoke_config(FunctionName="iamwarden-enforcer", MaximumRetryAttempts=0)

    finding = _finding(enforcer.handle(_invoke_event(name)))

    assert finding["outcome"] == "remediated"
    assert _invoke_config(client) == DECLARED_INVOKE
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _invoke_config(client) == {"MaximumRetryAttempts": 0}


@pytest.mark.usefixtures("put_replaces")
def test_an_own_functions_invoke_config_deleted_is_put_back_and_undo_deletes_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account)

    finding = _finding(enforcer.handle(_invoke_event("DeleteFunctionEventInvokeConfig")))

    assert finding["outcome"] == "remediated"
    assert _invoke_config(client) == DECLARED_INVOKE
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _invoke_config(client) is None


@pytest.mark.usefixtures("put_replaces")
def test_an_invoke_config_already_as_declared_is_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account)
    client.put_function_event_invoke_config(FunctionName="iamwarden-enforcer", **DECLARED_INVOKE)

    finding = _finding(enforcer.handle(_invoke_event("PutFunctionEventInvokeConfig")))

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert _invoke_config(client) == DECLARED_INVOKE
    assert len(_alerts(notifier)) == 1


@pytest.mark.usefixtures("put_replaces")
def test_a_failed_invoke_config_call_changes_nothing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account)

    result = enforcer.handle(_invoke_event("PutFunctionEventInvokeConfig", error="AccessDenied"))

    assert [f for f in result["findings"] if f["rule"] == RULE] == []
    assert _invoke_config(client) is None


@pytest.mark.usefixtures("put_replaces")
def test_another_functions_invoke_config_is_not_this_rules(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account, "ops-helper")
    client.put_function_event_invoke_config(FunctionName="ops-helper", MaximumRetryAttempts=0)

    result = enforcer.handle(_invoke_event("PutFunctionEventInvokeConfig", function="ops-helper"))

    assert [f for f in result["findings"] if f["rule"] == RULE] == []
    assert _invoke_config(client, "ops-helper") == {"MaximumRetryAttempts": 0}


@pytest.mark.usefixtures("put_replaces")
def test_an_invoke_config_whose_destination_cannot_be_resolved_is_alerted_only(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iamwarden.domain import declared

    unresolved = '{"DestinationConfig": {"OnFailure": null}, "MaximumRetryAttempts": 2}'
    monkeypatch.setattr(declared, "INVOKE_CONFIG_CONTENT", {"iamwarden-enforcer": unresolved})
    client = create_function(account)
    client.put_function_event_invoke_config(FunctionName="iamwarden-enforcer", MaximumRetryAttempts=0)

    finding = _finding(enforcer.handle(_invoke_event("PutFunctionEventInvokeConfig")))

    assert finding["outcome"] != "remediated"
    assert _invoke_config(client) == {"MaximumRetryAttempts": 0}
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    assert "cannot be resolved from the template" in alert.finding.reason


@pytest.mark.usefixtures("put_replaces")
def test_an_invoke_config_on_a_qualifier_is_alerted_only_with_the_command(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = create_function(account)

    finding = _finding(enforcer.handle(_invoke_event("PutFunctionEventInvokeConfig", qualifier="live")))

    assert finding["outcome"] != "remediated"
    assert _invoke_config(client) is None
    [alert] = _alerts(notifier)
    assert "--qualifier live" in alert.finding.reason


@pytest.mark.usefixtures("put_replaces")
def test_an_invoke_config_changed_on_latest_is_put_back_as_the_unqualified_one(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """SAM deploys the declared config on ``$LATEST``, which is the unqualified config (review s16 invoke F1): a change
    there is put back, never answered with a command that would delete the enforcer's own dead-letter destination."""
    client = create_function(account)
    client.put_function_event_invoke_config(FunctionName="iamwarden-enforcer", MaximumRetryAttempts=0)

    finding = _finding(enforcer.handle(_invoke_event("PutFunctionEventInvokeConfig", qualifier="$LATEST")))

    assert finding["outcome"] == "remediated"
    assert _invoke_config(client) == DECLARED_INVOKE
    [alert] = _alerts(notifier)
    assert "delete-function-event-invoke-config" not in alert.finding.reason


@pytest.mark.usefixtures("put_replaces")
@pytest.mark.parametrize(
    "function",
    ["iamwarden-enforcer:live", f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer:live"],
)
def test_a_qualifier_in_the_function_name_is_alerted_only_never_reported_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, function: str
) -> None:
    """``NAME:alias`` or an ARN ending in the alias changes that alias's config, not the unqualified one: reporting
    the unqualified config put back would claim a remediation that did not happen (review s16 invoke F2)."""
    client = create_function(account)
    client.put_function_event_invoke_config(FunctionName="iamwarden-enforcer", **DECLARED_INVOKE)

    finding = _finding(enforcer.handle(_invoke_event("PutFunctionEventInvokeConfig", function=function)))

    assert finding["outcome"] != "remediated"
    [alert] = _alerts(notifier)
    assert "--qualifier live" in alert.finding.reason
