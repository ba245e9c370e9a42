"""iamwarden-tampered: a CloudFormation change is exempt only when its content is what the template declares.

A name is no identity: another stack (or an update of IAM Warden's with another template) can put a declared rule
with a pattern that matches nothing, a target with a constant input, a reserved concurrency of 0 or another value in
a setting. Each content is compared with ``declared`` (generated from template.yaml); the member StackSet's
operations are judged like the stack's own.
"""

from __future__ import annotations

import copy
import json
from typing import Any, cast

import pytest

from iamwarden.domain import declared
from iamwarden.domain.catalog import Severity
from iamwarden.domain.declared_content import declared_rule, fill
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.remediation import AccountClients
from tests.conftest import SAMPLE_OWN, load_event
from tests.member_patterns import by_stack_sets, member_instance

RULE = "iamwarden-tampered"
HOME = "111122223333"
MEMBER = "444455556666"
#: The Slack secrets as the template's !Ref gives them (full ARNs, Secrets Manager's suffix).
OWN = SAMPLE_OWN._replace(
    secrets=frozenset(
        {
            f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:iamwarden/slack/security-AbCdEf",
            f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:iamwarden/slack/bot-GhIjKl",
            f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:iamwarden/slack/signing-MnOpQr",
        }
    )
)


def by_cloudformation(file: str, /, **parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(file))
    event["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    event["detail"]["requestParameters"].update(parameters)
    return event


def judge(event: dict[str, Any], own: Any = OWN, **kwargs: Any) -> Any:
    return judge_event(event, Settings(own=own), **kwargs)


def tampering(judgement: Any) -> list[Any]:
    return [finding for finding in judgement.findings if finding.rule_id == RULE]


def put_rule(key: str, **parameters: Any) -> dict[str, Any]:
    bus, _, name = key.rpartition("/")
    rule = declared_rule(key, OWN, "aws", "us-east-1", HOME)
    assert rule is not None, key
    request: dict[str, Any] = {"name": name, "state": rule.state}
    if bus:
        request["eventBusName"] = bus
    if rule.pattern is not None:
        request["eventPattern"] = json.dumps(rule.pattern)
    else:
        request["scheduleExpression"] = rule.schedule
    event = by_cloudformation("tamper-put-rule.json")
    event["detail"]["requestParameters"] = {**request, **parameters}
    return event


@pytest.mark.parametrize("key", sorted(declared.OWN_RULE_CONTENT))
def test_cloudformation_putting_an_own_rule_as_declared_is_exempt(key: str) -> None:
    judgement = judge(put_rule(key))
    assert tampering(judgement) == [], key
    assert "as its template declares" in judgement.reason


def test_the_declared_pattern_matches_whatever_the_order_of_keys_and_values() -> None:
    rule = declared_rule("iamwarden-central/iamwarden-iam-user-created", OWN, "aws", "us-east-1", HOME)
    assert rule is not None
    pattern = dict(reversed(list(rule.pattern.items())))
    pattern["source"] = list(reversed(pattern["source"]))
    event = put_rule("iamwarden-central/iamwarden-iam-user-created", eventPattern=json.dumps(pattern))
    assert tampering(judge(event)) == []


def test_the_filled_in_pattern_names_the_deployed_roles_and_secrets() -> None:
    rule = declared_rule("iamwarden-tampered-stack", OWN, "aws", "us-east-1", HOME)
    assert rule is not None
    text = json.dumps(rule.pattern)
    # Own calls are left out by their exact session (the enforcer's role under its function's name).
    assert f"arn:aws:sts::{HOME}:assumed-role/iamwarden-enforcer-us-east-1/iamwarden-enforcer" in text
    assert f"arn:aws:secretsmanager:us-east-1:{HOME}:secret:iamwarden/slack/security-AbCdEf" in text
    assert "${" not in text
    assert rule.target == f"arn:aws:lambda:us-east-1:{HOME}:function:iamwarden-enforcer"
    assert fill("${role:enforcer} ${member-role:remediator}", OWN, "aws", "us-east-1", HOME) == (
        "iamwarden-enforcer-us-east-1 iamwarden-remediator"
    )


def test_fill_knows_the_member_templates_role_parameters_and_leaves_nothing_to_a_guess() -> None:
    text = "${AWS::Partition}:${AWS::AccountId}:${MemberRoleName}/${PrunerMemberRoleName}"
    assert fill(text, OWN, "aws", "us-east-1", MEMBER) == f"aws:{MEMBER}:iamwarden-remediator/iamwarden-pruner-member"
    assert fill(text, OWN._replace(member_roles={"remediator": "r"}), "aws", "us-east-1", MEMBER) is None
    # A region not known fills neither the region nor a secret (its ARN is per region); an unknown token, nothing.
    assert fill("${AWS::Region}", OWN, "aws", None, HOME) is None
    assert fill("${secret:iamwarden/slack/bot}", OWN, "aws", None, HOME) is None
    assert fill("${SomeParameter}", OWN, "aws", "us-east-1", HOME) is None
    assert fill("no placeholder", OWN._replace(member_roles={}), "aws", None, HOME) == "no placeholder"


def test_a_lookalike_pattern_under_a_declared_name_is_critical_tampering() -> None:
    """The audit's probe p6b: same rule name, a pattern that matches nothing."""
    [finding] = tampering(judge(load_event("tamper-put-rule-by-cloudformation.json")))
    assert finding.severity is Severity.CRITICAL
    assert finding.certain
    assert "another event pattern than the template declares" in finding.reason
    assert "detect-stack-drift" in finding.reason


@pytest.mark.parametrize(
    ("key", "parameters", "said"),
    [
        ("iamwarden-heartbeat", {"scheduleExpression": "rate(1 day)"}, "the schedule 'rate(1 day)'"),
        ("iamwarden-heartbeat", {"eventPattern": '{"source": ["aws.events"]}'}, "an event pattern where"),
        ("iamwarden-forward-own-events", {"eventPattern": None}, "no event pattern"),
        ("iamwarden-forward-own-events", {"scheduleExpression": "rate(1 day)"}, "a schedule ('rate(1 day)')"),
    ],
)
def test_each_content_difference_of_a_rule_is_named(key: str, parameters: dict[str, Any], said: str) -> None:
    event = put_rule(key)
    for field, value in parameters.items():
        if value is None:
            event["detail"]["requestParameters"].pop(field, None)
        else:
            event["detail"]["requestParameters"][field] = value
    [finding] = tampering(judge(event))
    assert said in finding.reason
    assert finding.severity is Severity.CRITICAL


def test_a_rule_put_disabled_is_enabled_again_whoever_puts_it() -> None:
    [finding] = tampering(judge(put_rule("iamwarden-forward-own-events", state="DISABLED")))
    assert "the state DISABLED, not ENABLED" in finding.reason
    [step] = finding.plan
    assert step.action == "enable_own_rule"
    assert step.parameters == {"rule_name": "iamwarden-forward-own-events", "event_bus_name": "default"}


def test_a_rule_whose_declared_content_cannot_be_filled_in_is_alert_only() -> None:
    """Without the Slack secrets' ARNs the enforcer cannot know the tampered-stack pattern: never exempt, never
    remediated on a guess."""
    event = put_rule("iamwarden-tampered-stack")
    [finding] = tampering(judge(event, own=OWN._replace(secrets=frozenset())))
    assert finding.needs_context
    assert finding.plan == ()
    assert "what the template declares for rule iamwarden-tampered-stack" in finding.needs_context[0]


def put_targets(**target: Any) -> dict[str, Any]:
    event = by_cloudformation("tamper-put-targets.json")
    event["detail"]["requestParameters"] = {
        "rule": "iamwarden-heartbeat",
        "targets": [
            {
                "id": "HeartbeatFunctionEvery5MinutesLambdaTarget",
                "arn": f"arn:aws:lambda:us-east-1:{HOME}:function:iamwarden-heartbeat",
                **target,
            }
        ],
    }
    return event


def test_cloudformation_putting_the_declared_target_is_exempt() -> None:
    assert tampering(judge(put_targets())) == []


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ({"inputTransformer": {"inputPathsMap": {}, "inputTemplate": "{}"}}, "inputTransformer replacing the event"),
        ({"input": "{}"}, "input replacing the event"),
        ({"arn": f"arn:aws:lambda:us-east-1:{HOME}:function:attacker"}, "function:attacker, not the template's"),
    ],
)
def test_a_target_unlike_the_declared_one_is_critical(target: dict[str, Any], said: str) -> None:
    [finding] = tampering(judge(put_targets(**target)))
    assert said in finding.reason
    assert finding.severity is Severity.CRITICAL


def concurrency(function: str, value: int | None) -> dict[str, Any]:
    event = by_cloudformation("tamper-enforcer-concurrency-zero.json", functionName=function)
    if value is None:
        event["detail"]["eventName"] = "DeleteFunctionConcurrency20171031"
        del event["detail"]["requestParameters"]["reservedConcurrentExecutions"]
    else:
        event["detail"]["requestParameters"]["reservedConcurrentExecutions"] = value
    return event


def test_cloudformation_setting_the_declared_concurrency_is_exempt() -> None:
    assert tampering(judge(concurrency("iamwarden-slack-interactions", 5))) == []
    assert tampering(judge(concurrency("iamwarden-enforcer", None))) == []  # the template reserves none for it


def test_a_concurrency_unlike_the_declared_one_is_put_back() -> None:
    """The audit's probe p6d: the enforcer at 0 through CloudFormation."""
    [finding] = tampering(judge(concurrency("iamwarden-enforcer", 0)))
    assert "a reserved concurrency of 0 for iamwarden-enforcer, not the template's none" in finding.reason
    assert finding.plan[0].parameters == {"function_name": "iamwarden-enforcer", "declared": None}
    [finding] = tampering(judge(concurrency("iamwarden-slack-interactions", 0)))
    assert finding.plan[0].parameters == {"function_name": "iamwarden-slack-interactions", "declared": 5}
    [finding] = tampering(judge(concurrency("iamwarden-slack-interactions", None)))
    assert "no reserved concurrency for iamwarden-slack-interactions" in finding.reason


def test_an_own_function_given_another_role_through_cloudformation_is_tampering() -> None:
    event = by_cloudformation(
        "tamper-function-role-changed-to-enforcer.json",
        functionName="iamwarden-heartbeat",
        role=OWN.home_roles["enforcer"],
    )
    [finding] = tampering(judge(event))
    assert f"not its own {OWN.home_roles['heartbeat']}" in finding.reason
    event["detail"]["requestParameters"]["role"] = OWN.home_roles["heartbeat"]
    assert tampering(judge(event)) == []


class History:
    """An SSM client answering ``GetParameterHistory`` (one page), or failing."""

    def __init__(self, entries: list[dict[str, Any]] | Exception) -> None:
        self.entries = entries

    def get_parameter_history(self, **_: Any) -> dict[str, Any]:
        if isinstance(self.entries, Exception):
            raise self.entries
        return {"Parameters": self.entries}


class Clients:
    def __init__(self, ssm: History) -> None:
        self.ssm = ssm

    def client(self, service: str) -> Any:
        assert service == "ssm"
        return self.ssm


def setting(entries: list[dict[str, Any]] | Exception, **values: Any) -> Any:
    event = load_event("tamper-setting-by-cloudformation.json")  # version 3 of rules/iam-user-created/mode
    return judge_event(
        event,
        load_settings(values)._replace(own=OWN),
        live_clients=lambda account, region: cast("AccountClients", Clients(History(entries))),
    )


def entry(version: int, value: str) -> dict[str, Any]:
    return {"Name": "/iamwarden/rules/iam-user-created/mode", "Version": version, "Value": value, "Type": "String"}


def test_cloudformation_writing_the_default_or_the_value_before_is_exempt() -> None:
    assert tampering(setting([entry(1, "alert"), entry(2, "remediate"), entry(3, "alert")])) == []  # the default
    assert tampering(setting([entry(1, "alert"), entry(2, "remediate"), entry(3, "remediate")])) == []  # as before


def test_cloudformation_writing_another_value_is_high_and_put_back_with_restore() -> None:
    """The audit's probe p6e: the setting switched off through another stack."""
    history = [entry(1, "alert"), entry(2, "remediate"), entry(3, "off")]
    [finding] = tampering(setting(history))
    assert finding.severity is Severity.HIGH
    assert finding.certain
    assert "the value 'off' in /iamwarden/rules/iam-user-created/mode" in finding.reason
    assert "default ('alert') nor the value before ('remediate')" in finding.reason
    assert finding.plan == ()  # settings_guard: alert
    [finding] = tampering(setting(history, rules={RULE: {"settings_guard": "restore"}}))
    [step] = finding.plan
    assert (step.action, step.parameters["version"]) == ("restore_setting", 3)


def test_a_setting_whose_written_value_cannot_be_read_is_alert_only() -> None:
    [finding] = tampering(setting(RuntimeError("throttled")))
    assert finding.needs_context
    assert "its history: throttled" in finding.needs_context[0]
    [finding] = tampering(setting([entry(1, "alert")]))
    assert "version 3 is not in its history" in finding.needs_context[0]
    assert finding.plan == ()


def member_put_rule(name: str, pattern: Any, **parameters: Any) -> dict[str, Any]:
    event = put_rule("iamwarden-forward-own-events")
    event["detail"]["requestParameters"] = {"name": name, "eventPattern": json.dumps(pattern), **parameters}
    moved: dict[str, Any] = json.loads(json.dumps(event).replace(HOME, MEMBER))
    return by_stack_sets(moved, MEMBER)


def declared_member_pattern(name: str) -> Any:
    text = fill(declared.MEMBER_RULE_PATTERNS[name], OWN, "aws", "us-east-1", MEMBER)
    assert text is not None, name
    return member_instance(json.loads(text))


def test_a_member_forwarding_rule_put_by_cloudformation_is_judged_by_the_member_template() -> None:
    pattern = declared_member_pattern("iamwarden-forward-s3")
    assert tampering(judge(member_put_rule("iamwarden-forward-s3", pattern, state="ENABLED"))) == []
    pattern["source"] = ["aws.none"]
    [finding] = tampering(judge(member_put_rule("iamwarden-forward-s3", pattern, state="ENABLED")))
    assert "another event pattern than the template declares" in finding.reason
    assert "update-stack-instances" in finding.reason  # a member account's rule: the StackSet puts it back


def test_a_member_guard_rule_whose_stack_set_is_not_known_is_alert_only() -> None:
    """The guard rules name the member StackSet's instance: without the StackSet's name the pattern is not known,
    never guessed."""
    pattern = declared_member_pattern("iamwarden-forward-guard-a")
    event = member_put_rule("iamwarden-forward-guard-a", pattern, state="ENABLED")
    assert tampering(judge(event)) == []
    [finding] = tampering(judge(event, own=OWN._replace(stack_set_name=None)))
    assert finding.plan == ()
    assert finding.needs_context == ("what the member template declares for rule iamwarden-forward-guard-a",)


def test_a_member_forwarder_put_back_to_exclude_the_roles_by_name_is_judged_unlike_the_template() -> None:
    """Excluding the member roles by name lets a re-created look-alike's calls go unforwarded (audit s8 finding 3)."""
    pattern = declared_member_pattern("iamwarden-forward-iam")
    pattern["detail"]["userIdentity"] = {
        "arn": [{"anything-but": [f"arn:aws:sts::{MEMBER}:assumed-role/iamwarden-remediator/iamwarden"]}]
    }
    [finding] = tampering(judge(member_put_rule("iamwarden-forward-iam", pattern, state="ENABLED")))
    assert "another event pattern than the template declares" in finding.reason


def test_a_member_forwarding_target_must_be_the_central_bus() -> None:
    event = by_stack_sets(json.loads(json.dumps(put_targets()).replace(HOME, MEMBER)), MEMBER)
    event["detail"]["requestParameters"] = {
        "rule": "iamwarden-forward-iam",
        "targets": [{"id": "central-bus", "arn": f"arn:aws:events:us-east-1:{HOME}:event-bus/iamwarden-central"}],
    }
    assert tampering(judge(event)) == []
    event["detail"]["requestParameters"]["targets"][0]["arn"] = f"arn:aws:events:us-east-1:{MEMBER}:event-bus/default"
    [finding] = tampering(judge(event))
    assert "not the central bus iamwarden-central" in finding.reason


# --- the member StackSet ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_name", "severity"),
    [
        ("DeleteStackInstances", Severity.CRITICAL),
        ("UpdateStackSet", Severity.CRITICAL),
        ("UpdateStackInstances", Severity.CRITICAL),
        ("DeleteStackSet", Severity.CRITICAL),
        ("CreateStackInstances", Severity.HIGH),
    ],
)
def test_the_member_stack_sets_operations_by_anyone_but_operators_are_alerted(
    event_name: str, severity: Severity
) -> None:
    event = copy.deepcopy(load_event("tamper-stack-set-instances-deleted.json"))
    event["detail"]["eventName"] = event_name
    [finding] = tampering(judge(event))
    assert finding.severity is severity
    assert finding.plan == ()  # no API puts a deleted instance or an earlier template back as it was
    assert "aws cloudformation" in finding.reason
    assert "--call-as DELEGATED_ADMIN" in finding.reason
    operator = judge_event(
        event,
        load_settings({"rules": {RULE: {"operators": [f"arn:aws:iam::{HOME}:role/developer"]}}})._replace(own=OWN),
    )
    assert operator.verdict is Verdict.COMPLIANT
    assert "is an operator" in operator.reason


def test_deleted_instances_are_alerted_with_the_command_that_creates_them_again() -> None:
    [finding] = tampering(judge(load_event("tamper-stack-set-instances-deleted.json")))
    assert (
        "aws cloudformation create-stack-instances --stack-set-name iamwarden-member --call-as DELEGATED_ADMIN "
        "--deployment-targets OrganizationalUnitIds=ou-abcd-11112222 --regions us-east-1 eu-west-1"
    ) in finding.reason
    assert "organisational units ou-abcd-11112222 (regions us-east-1, eu-west-1)" in finding.reason


def test_an_update_is_alerted_with_the_member_template_to_put_back() -> None:
    [finding] = tampering(judge(load_event("tamper-stack-set-updated.json")))
    assert "update-stack-set --stack-set-name iamwarden-member --call-as DELEGATED_ADMIN" in finding.reason
    assert "file://member/template.yaml" in finding.reason


@pytest.mark.parametrize(
    "name",
    [
        "iamwarden-member:4a3e5f9c-1b2d-4c6e-8f0a-1b2c3d4e5f60",
        "arn:aws:cloudformation:us-east-1:111122223333:stackset/iamwarden-member:4a3e5f9c-1b2d-4c6e-8f0a-1b2c3d4e5f60",
    ],
)
def test_the_stack_set_is_known_by_its_id_and_arn_too(name: str) -> None:
    event = copy.deepcopy(load_event("tamper-stack-set-updated.json"))
    event["detail"]["requestParameters"]["stackSetName"] = name
    assert tampering(judge(event))


def test_another_stack_set_or_none_configured_is_not_iam_wardens() -> None:
    event = copy.deepcopy(load_event("tamper-stack-set-updated.json"))
    event["detail"]["requestParameters"]["stackSetName"] = "iamwarden-member-lookalike"
    assert tampering(judge(event)) == []
    assert tampering(judge(load_event("tamper-stack-set-updated.json"), own=OWN._replace(stack_set_name=None))) == []
