"""The heartbeat's configuration and alert, without AWS (its checks run against moto in test_attacker.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from iamwarden.app.heartbeat import DeclaredRoute, Heartbeat, HeartbeatConfig, SnapshotRefresh, route_problems
from iamwarden.domain import declared
from iamwarden.domain.exceptions import ConfigurationError
from iamwarden.domain.recorded import OWN_ROLE, Snapshot

ENVIRONMENT = {
    "IAMWARDEN_OWN_RULES": "iamwarden-forward-own-events, iamwarden-central/iamwarden-acl-changed,",
    "IAMWARDEN_ENFORCER_ARN": "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer",
    "IAMWARDEN_CENTRAL_BUS_ARN": "arn:aws:events:us-east-1:111122223333:event-bus/iamwarden-central",
    "IAMWARDEN_ENFORCER_ROLE_NAME": "iamwarden-enforcer-us-east-1",
    "IAMWARDEN_ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:iamwarden-alerts",
    "IAMWARDEN_STACK_NAME": "security-iamwarden",
}


def test_the_configuration_comes_from_the_template_environment() -> None:
    config = HeartbeatConfig.from_environment(ENVIRONMENT)
    assert config.rules == ("iamwarden-forward-own-events", "iamwarden-central/iamwarden-acl-changed")
    assert config.stack_name == "security-iamwarden"


@pytest.mark.parametrize("missing", sorted(set(ENVIRONMENT) - {"IAMWARDEN_STACK_NAME", "IAMWARDEN_OWN_RULES"}))
def test_a_heartbeat_that_would_check_nothing_refuses_to_start(missing: str) -> None:
    with pytest.raises(ConfigurationError, match=missing):
        HeartbeatConfig.from_environment({k: v for k, v in ENVIRONMENT.items() if k != missing})


class _Topic:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **request: Any) -> None:
        self.published.append(request)


def test_the_alert_names_every_problem_and_the_way_back_and_is_filterable_like_any_alert() -> None:
    topic = _Topic()
    heartbeat = Heartbeat(HeartbeatConfig.from_environment(ENVIRONMENT), None, None, None, topic)
    heartbeat.problems = lambda: ["the rule a is disabled", "the rule b is gone"]  # type: ignore[method-assign]

    result = heartbeat.run()

    assert result == {"whole": False, "problems": ["the rule a is disabled", "the rule b is gone"]}
    [request] = topic.published
    assert request["TopicArn"] == ENVIRONMENT["IAMWARDEN_ALERT_TOPIC_ARN"]
    assert "- the rule a is disabled\n- the rule b is gone" in request["Message"]
    assert "detect-stack-drift --stack-name security-iamwarden" in request["Message"]
    attributes = {key: value["StringValue"] for key, value in request["MessageAttributes"].items()}
    assert attributes == {"rule": "iamwarden-tampered", "severity": "critical", "outcome": "heartbeat_failed"}


def test_a_whole_loop_publishes_nothing() -> None:
    topic = _Topic()
    heartbeat = Heartbeat(HeartbeatConfig.from_environment(ENVIRONMENT), None, None, None, topic)
    heartbeat.problems = lambda: []  # type: ignore[method-assign]
    assert heartbeat.run() == {"whole": True, "problems": []}
    assert topic.published == []


PLANNER = "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-prune-planner"
WATCH = "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-prune-watch"


class _Rules:
    """EventBridge's answers for the default bus: rule name -> (state, target ARNs); absent: gone."""

    def __init__(self, rules: dict[str, tuple[str, list[str]]]) -> None:
        self.rules = rules

    def describe_rule(self, Name: str, **_: Any) -> dict[str, Any]:
        if Name not in self.rules:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}}, "DescribeRule")
        return {"Name": Name, "State": self.rules[Name][0]}

    def list_targets_by_rule(self, Rule: str, **_: Any) -> dict[str, Any]:
        return {"Targets": [{"Arn": arn} for arn in self.rules[Rule][1]]}


class _OneRule:
    """EventBridge's answers for one rule: what DescribeRule returns (or raises) and its targets."""

    def __init__(self, rule: dict[str, Any] | Exception, targets: list[dict[str, Any]] | None = None) -> None:
        self.rule, self.targets = rule, targets or []

    def describe_rule(self, Name: str, **_: Any) -> dict[str, Any]:
        if isinstance(self.rule, Exception):
            raise self.rule
        return self.rule

    def list_targets_by_rule(self, Rule: str, **_: Any) -> dict[str, Any]:
        return {"Targets": self.targets}


BUS = "arn:aws:events:us-east-1:111122223333:event-bus/iamwarden-central"
ROUTE = DeclaredRoute(what="the rule r", template="the template", target=BUS, role="arn:aws:iam::1:role/forwarder")


def test_a_rule_that_cannot_be_read_is_one_problem_saying_why() -> None:
    from botocore.exceptions import ClientError

    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeRule")
    assert route_problems(_OneRule(denied), "r", "", ROUTE) == ["the rule r cannot be read (AccessDeniedException)"]


def test_a_declared_pattern_not_known_differs_from_whatever_the_rule_has() -> None:
    """Never taken as a match: the member patterns name roles; unknown, the rule is said to differ."""
    rule = {"State": "ENABLED", "EventPattern": json.dumps({"source": ["aws.iam"]})}
    unknown = ROUTE._replace(target=None, pattern_compared=True, pattern=None)
    assert route_problems(_OneRule(rule), "r", "", unknown) == [
        "the rule r has another pattern than the template declares"
    ]
    known = unknown._replace(pattern={"source": ["aws.iam"]})
    assert route_problems(_OneRule(rule), "r", "", known) == []


def test_a_target_without_its_role_and_with_a_constant_input_is_named() -> None:
    target = {"Id": "t", "Arn": BUS, "Input": "{}"}
    assert route_problems(_OneRule({"State": "DISABLED"}, [target]), "r", "", ROUTE) == [
        "the rule r is disabled",
        "the rule r passes Input instead of the event (target t): what it routes never reaches IAM Warden as it "
        "happened",
        "the rule r forwards through no role, not the template's arn:aws:iam::1:role/forwarder (target t)",
    ]


def _pruner_heartbeat(rules: dict[str, tuple[str, list[str]]]) -> Heartbeat:
    environment = {
        **ENVIRONMENT,
        "IAMWARDEN_OWN_RULES": "iamwarden-prune-schedule,iamwarden-prune-watch",
        "IAMWARDEN_PRUNE_PLANNER_ARN": PLANNER,
        "IAMWARDEN_PRUNE_WATCH_ARN": WATCH,
    }
    return Heartbeat(HeartbeatConfig.from_environment(environment), _Rules(rules), None, None, _Topic())


def test_the_pruners_rules_are_checked_against_their_own_functions() -> None:
    whole = {"iamwarden-prune-schedule": ("ENABLED", [PLANNER]), "iamwarden-prune-watch": ("ENABLED", [WATCH])}
    heartbeat = _pruner_heartbeat(whole)
    assert [problem for key in heartbeat.config.rules for problem in heartbeat._rule_problems(key)] == []


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            {"iamwarden-prune-schedule": ("DISABLED", [PLANNER]), "iamwarden-prune-watch": ("ENABLED", [WATCH])},
            ["the rule iamwarden-prune-schedule is disabled"],
        ),
        (
            {"iamwarden-prune-schedule": ("ENABLED", [PLANNER]), "iamwarden-prune-watch": ("ENABLED", [])},
            [f"the rule iamwarden-prune-watch no longer targets {WATCH}"],
        ),
        (
            {"iamwarden-prune-watch": ("ENABLED", [WATCH])},
            ["the rule iamwarden-prune-schedule is gone"],
        ),
    ],
    ids=["schedule-disabled", "watch-target-removed", "schedule-deleted"],
)
def test_a_pruner_rule_disabled_untargeted_or_deleted_is_a_problem(
    rules: dict[str, tuple[str, list[str]]], expected: list[str]
) -> None:
    heartbeat = _pruner_heartbeat(rules)
    assert [problem for key in heartbeat.config.rules for problem in heartbeat._rule_problems(key)] == expected


def test_the_template_names_the_pruners_rules_and_tells_the_heartbeat_their_targets() -> None:
    from tests.sam_template import translated_template

    resources = translated_template()["Resources"]
    targets = {
        resource["Properties"].get("Name"): [target["Arn"] for target in resource["Properties"]["Targets"]]
        for resource in resources.values()
        if resource["Type"] == "AWS::Events::Rule"
    }
    assert targets["iamwarden-prune-schedule"] == [{"Fn::GetAtt": ["PrunePlannerFunction", "Arn"]}]
    assert targets["iamwarden-prune-watch"] == [{"Fn::GetAtt": ["PruneWatchFunction", "Arn"]}]
    variables = resources["HeartbeatFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["IAMWARDEN_PRUNE_PLANNER_ARN"] == {"Fn::GetAtt": ["PrunePlannerFunction", "Arn"]}
    assert variables["IAMWARDEN_PRUNE_WATCH_ARN"] == {"Fn::GetAtt": ["PruneWatchFunction", "Arn"]}
    assert "IAMWARDEN_OWN_RULES" not in variables  # generated with the code: the 4 KB of variables is too little
    checked = set(HeartbeatConfig.from_environment({**ENVIRONMENT, "IAMWARDEN_OWN_RULES": ""}).rules)
    assert checked == declared.OWN_RULES
    assert {"iamwarden-prune-schedule", "iamwarden-prune-watch"} <= checked


def test_the_exception_watchs_rule_is_checked_against_its_own_function() -> None:
    """An hourly rule that no longer runs the exception watch would let exceptions outlive their expiry."""
    exception_watch = "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-exception-watch"
    environment = {
        **ENVIRONMENT,
        "IAMWARDEN_OWN_RULES": "iamwarden-exception-watch",
        "IAMWARDEN_EXCEPTION_WATCH_ARN": exception_watch,
    }
    config = HeartbeatConfig.from_environment(environment)
    for rules, expected in (
        ({"iamwarden-exception-watch": ("ENABLED", [exception_watch])}, []),
        (
            {"iamwarden-exception-watch": ("ENABLED", [PLANNER])},
            [
                f"the rule iamwarden-exception-watch no longer targets {exception_watch}",
                f"the rule iamwarden-exception-watch also targets {PLANNER}, which its template does not",
            ],
        ),
        (
            {"iamwarden-exception-watch": ("DISABLED", [exception_watch])},
            ["the rule iamwarden-exception-watch is disabled"],
        ),
        ({}, ["the rule iamwarden-exception-watch is gone"]),
    ):
        heartbeat = Heartbeat(config, _Rules(rules), None, None, _Topic())
        assert heartbeat._rule_problems("iamwarden-exception-watch") == expected


def test_the_template_tells_the_heartbeat_the_exception_watchs_target() -> None:
    from tests.sam_template import translated_template

    resources = translated_template()["Resources"]
    environment = resources["HeartbeatFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["IAMWARDEN_EXCEPTION_WATCH_ARN"] == {"Fn::GetAtt": ["ExceptionWatchFunction", "Arn"]}
    rule = resources["ExceptionWatchFunctionHourly"]["Properties"]
    assert rule["Name"] == "iamwarden-exception-watch"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ExceptionWatchFunction", "Arn"]}


DECLARED = (
    "arn:aws:iam::111122223333:policy/iamwarden-enforcer-remediations-1-us-east-1",
    "arn:aws:iam::111122223333:policy/iamwarden-enforcer-remediations-2-us-east-1",
)


class _Concurrency:
    def get_function_concurrency(self, FunctionName: str) -> dict[str, Any]:
        return {}


class _AttachedPolicies:
    """IAM's answer for the enforcer's role: these managed policies are attached."""

    def __init__(self, attached: list[str]) -> None:
        self.attached = attached

    def get_paginator(self, name: str) -> Any:
        assert name == "list_attached_role_policies"
        attached = self.attached

        class _Pages:
            def paginate(self, RoleName: str) -> list[dict[str, Any]]:
                assert RoleName == ENVIRONMENT["IAMWARDEN_ENFORCER_ROLE_NAME"]
                return [{"AttachedPolicies": [{"PolicyArn": arn} for arn in attached]}]

        return _Pages()


def _enforcer_problems(attached: list[str]) -> list[str]:
    environment = {**ENVIRONMENT, "IAMWARDEN_ENFORCER_POLICY_ARNS": ", ".join(DECLARED)}
    config = HeartbeatConfig.from_environment(environment)
    assert config.enforcer_policy_arns == DECLARED
    heartbeat = Heartbeat(config, None, _Concurrency(), _AttachedPolicies(attached), _Topic())
    return heartbeat._enforcer_problems()


def test_the_remediation_policies_the_template_attaches_are_no_problem() -> None:
    assert _enforcer_problems(list(DECLARED)) == []


def test_a_policy_attached_beyond_the_templates_is_a_problem() -> None:
    [problem] = _enforcer_problems([*DECLARED, "arn:aws:iam::aws:policy/ReadOnlyAccess"])
    assert problem.endswith(
        "has policies attached that its template does not: ['arn:aws:iam::aws:policy/ReadOnlyAccess']"
    )


def test_a_remediation_policy_detached_from_the_enforcers_role_is_a_problem() -> None:
    [problem] = _enforcer_problems([DECLARED[0]])
    assert "lacks the policies its template attaches" in problem
    assert DECLARED[1] in problem
    assert DECLARED[0] not in problem


def test_the_template_tells_the_heartbeat_exactly_the_managed_policies_on_the_enforcers_role() -> None:
    from tests.sam_template import managed_policies_of, translated_template

    template = translated_template()
    variables = template["Resources"]["HeartbeatFunction"]["Properties"]["Environment"]["Variables"]
    separator, refs = variables["IAMWARDEN_ENFORCER_POLICY_ARNS"]["Fn::Join"]
    assert separator == ","
    assert [ref["Ref"] for ref in refs] == sorted(managed_policies_of(template, "EnforcerRole"))


def test_the_enforcer_is_created_only_once_its_role_holds_the_remediation_policies() -> None:
    from tests.sam_template import managed_policies_of, translated_template

    template = translated_template()
    function = template["Resources"]["EnforcerFunction"]
    # CloudFormation creates a resource after every resource it names with Ref (or lists in DependsOn).
    named = set(function.get("DependsOn", [])) | set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', json.dumps(function)))
    assert set(managed_policies_of(template, "EnforcerRole")) <= named


class _Bus:
    """EventBridge's DescribeEventBus for the central bus: a policy, or an error code."""

    def __init__(self, policy: dict[str, Any] | None = None, error: str | None = None) -> None:
        self.policy, self.error, self.calls = policy, error, 0

    def describe_event_bus(self, Name: str) -> dict[str, Any]:
        self.calls += 1
        if self.error:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "DescribeEventBus")
        return {"Name": Name, **({"Policy": json.dumps(self.policy)} if self.policy else {})}


def _bus_problems(bus: _Bus, organization: str | None = "o-a1b2c3d4e5") -> list[str]:
    config = HeartbeatConfig.from_environment(ENVIRONMENT)._replace(organization_id=organization)
    return Heartbeat(config, bus, None, None, _Topic())._bus_policy_problems()


DECLARED_BUS_STATEMENT = {
    "Sid": "OrganizationAccountsPutEvents",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "events:PutEvents",
    "Resource": ENVIRONMENT["IAMWARDEN_CENTRAL_BUS_ARN"],
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
}


def test_the_central_bus_policy_must_be_the_declared_one_whole() -> None:
    whole = {"Version": "2012-10-17", "Statement": [DECLARED_BUS_STATEMENT]}
    assert _bus_problems(_Bus(whole)) == []
    other_organization = {
        **DECLARED_BUS_STATEMENT,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-other1234"}},
    }
    for policy in (None, {"Version": "2012-10-17", "Statement": [other_organization]}):
        [problem] = _bus_problems(_Bus(policy))
        assert "the statement OrganizationAccountsPutEvents is missing or changed" in problem
    # The declared statement kept and a Deny beside it (review s8 section 2): every forwarder's events refused.
    deny = {"Sid": "Maintenance", "Effect": "Deny", "Principal": "*", "Action": "events:PutEvents"}
    [problem] = _bus_problems(_Bus({"Version": "2012-10-17", "Statement": [DECLARED_BUS_STATEMENT, deny]}))
    assert "an undeclared Deny statement Maintenance" in problem
    allow = {"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "events:PutEvents"}
    [problem] = _bus_problems(_Bus({"Version": "2012-10-17", "Statement": [DECLARED_BUS_STATEMENT, allow]}))
    assert "an undeclared Allow statement (no Sid)" in problem


def test_a_central_bus_gone_or_unreadable_is_a_problem_and_without_an_organisation_nothing_is_read() -> None:
    assert _bus_problems(_Bus(error="ResourceNotFoundException")) == ["the central bus iamwarden-central is gone"]
    [problem] = _bus_problems(_Bus(error="AccessDeniedException"))
    assert problem.startswith("the central bus iamwarden-central cannot be read")
    bus = _Bus(error="AccessDeniedException")
    assert _bus_problems(bus, organization=None) == []
    assert bus.calls == 0


# --- the RoleId of an own role is the one first read (audit 15 gap 4) -------------------------------------------


class _RoleSnapshots:
    """An audit table holding own-role snapshots (what ``SnapshotRefresh.same_roles`` reads)."""

    def __init__(self, *snapshots: Any) -> None:
        self.items = {(s.kind, s.resource_arn): s for s in snapshots}

    def put_all(self, snapshots: Any) -> int:
        return 0

    def snapshot(self, kind: str, resource_arn: str) -> Any:
        return self.items.get((kind, resource_arn))


#: A member role's trust as the member template declares it: the security account only.
STACK_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}
    ],
}


def _member_refresh(*snapshots: Any) -> SnapshotRefresh:
    return SnapshotRefresh(
        _RoleSnapshots(*snapshots), None, None, "444455556666", region="us-east-1", home_account="111122223333"
    )


def test_a_role_created_again_under_an_own_name_keeps_the_first_snapshot_and_is_reported() -> None:
    arn = "arn:aws:iam::444455556666:role/iamwarden-remediator"
    data = {"trust_policy": STACK_TRUST, "inline": {}}
    first = Snapshot(OWN_ROLE, arn, "2026-12-01T00:00:00Z", {**data, "role_id": "AROAFIRST"})
    other = "arn:aws:iam::444455556666:role/iamwarden-pruner-member"
    refresh = _member_refresh(first)
    again = first._replace(taken_at="2026-12-05T00:00:00Z", data={**first.data, "role_id": "AROAATTACKER"})
    same = first._replace(taken_at="2026-12-05T00:00:00Z")
    new = Snapshot(OWN_ROLE, other, "2026-12-05T00:00:00Z", {**data, "role_id": "AROANEW"})
    refresh.replaced_roles = []

    assert refresh.same_roles([again, new]) == [new]  # never a snapshot of the role created again
    [problem] = refresh.replaced_roles
    assert f"role {arn} is not the one IAM Warden knows (RoleId AROAATTACKER, not AROAFIRST)" in problem
    assert f"snapshot#{OWN_ROLE}#{arn}" in problem
    refresh.replaced_roles = []
    assert refresh.same_roles([same]) == [same]
    assert refresh.replaced_roles == []


def test_an_own_role_whose_trust_lets_in_more_than_the_stack_is_never_snapshotted_and_is_reported() -> None:
    """Audit s7 gap 1: a snapshot is a restore's known good state; a trust that lets in another account (the
    intruder's, read right after their change) never becomes one. The earlier snapshot stays; the heartbeat says so."""
    arn = "arn:aws:iam::444455556666:role/iamwarden-remediator"
    first = Snapshot(OWN_ROLE, arn, "2026-12-01T00:00:00Z", {"trust_policy": STACK_TRUST, "inline": {}})
    intruder = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "*"}],
    }
    read = first._replace(taken_at="2026-12-05T00:00:00Z", data={"trust_policy": intruder, "inline": {}})

    for refresh, kept in (
        (_member_refresh(first), "its snapshot of 2026-12-01T00:00:00Z is kept"),
        (_member_refresh(), "no snapshot is taken"),
    ):
        refresh.replaced_roles = []
        assert refresh.same_roles([read]) == []
        [problem] = refresh.replaced_roles
        assert f"role {arn} has a trust policy that lets in more than IAM Warden's security account" in problem
        assert kept in problem


# --- the alert path as declared (AlertPathCheck: audit s6 gaps 1 and 7) ------------------------------------------

KEY = "arn:aws:kms:us-east-1:111122223333:key/mrk-iamwarden-alerts"
ROLES = (
    "enforcer=arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1,"
    "pruner=arn:aws:iam::111122223333:role/iamwarden-pruner-us-east-1"
)


class _Answers:
    """One fake client per service: each method answers from ``answers`` or raises what it holds."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> Any:
            answer = self.answers[name]
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def _alert_path(key_policy: Any, data_protection: str = "", bus: dict[str, Any] | None = None) -> list[str]:
    from iamwarden.app.heartbeat import AlertPathCheck

    config = HeartbeatConfig.from_environment(
        {**ENVIRONMENT, "IAMWARDEN_ALERT_KEY_ARN": KEY, "IAMWARDEN_OWN_ROLE_ARNS": ROLES}
    )
    kms = _Answers(get_key_policy=key_policy)
    sns = _Answers(get_data_protection_policy={"DataProtectionPolicy": data_protection})
    events = _Answers(describe_event_bus=bus or {"Name": "iamwarden-central"})
    return AlertPathCheck(config, kms, sns, events).problems()


def _declared_policy() -> dict[str, Any]:
    from iamwarden.app.heartbeat import AlertPathCheck

    config = HeartbeatConfig.from_environment(
        {**ENVIRONMENT, "IAMWARDEN_ALERT_KEY_ARN": KEY, "IAMWARDEN_OWN_ROLE_ARNS": ROLES}
    )
    policy = AlertPathCheck(config, None, None, None).declared_key_policy()
    assert policy is not None
    return policy


def test_the_alert_path_as_declared_has_no_problem_whatever_the_one_item_lists() -> None:
    declared_policy = _declared_policy()
    listed = json.loads(json.dumps(declared_policy))
    listed["Statement"][0]["Action"] = ["kms:*"]  # KMS may give back a one-item list for a string
    assert _alert_path({"Policy": json.dumps(listed)}) == []


def test_an_alert_key_policy_unlike_the_declared_one_is_a_problem() -> None:
    declared_policy = _declared_policy()
    without_sns = {**declared_policy, "Statement": declared_policy["Statement"][:1]}
    [problem] = _alert_path({"Policy": json.dumps(without_sns)})
    assert problem.startswith(f"the policy of the alert key {KEY} is not the one its template declares")


def test_an_alert_key_policy_that_cannot_be_read_is_a_problem() -> None:
    from botocore.exceptions import ClientError

    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetKeyPolicy")
    [problem] = _alert_path(denied)
    assert "cannot be read (AccessDeniedException)" in problem


def test_a_data_protection_policy_on_the_alert_topic_is_a_problem() -> None:
    [problem] = _alert_path({"Policy": json.dumps(_declared_policy())}, data_protection='{"Statement": []}')
    assert "has a data-protection policy, which its template does not declare" in problem


def test_the_central_bus_with_a_key_or_dead_letter_queue_is_a_problem() -> None:
    bus: dict[str, Any] = {
        "Name": "iamwarden-central",
        "KmsKeyIdentifier": "arn:aws:kms:us-east-1:111122223333:key/other",
    }
    [problem] = _alert_path({"Policy": json.dumps(_declared_policy())}, bus=bus)
    assert "has the KMS key arn:aws:kms:us-east-1:111122223333:key/other" in problem
    bus = {"Name": "iamwarden-central", "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:111122223333:q"}}
    [problem] = _alert_path({"Policy": json.dumps(_declared_policy())}, bus=bus)
    assert "the dead-letter queue arn:aws:sqs:us-east-1:111122223333:q" in problem


FALLBACK = "arn:aws:sns:us-east-1:111122223333:iamwarden-alerts-fallback"
OWN_ROLES = (
    "enforcer=arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1,"
    "pruner=arn:aws:iam::111122223333:role/iamwarden-pruner-us-east-1,"
    "heartbeat=arn:aws:iam::111122223333:role/iamwarden-heartbeat-us-east-1"
)


class _FallbackTopic:
    """SNS's answers about the fallback topic: its attributes (or a refusal) and its subscriptions."""

    def __init__(self, attributes: dict[str, str] | None = None, error: Exception | None = None) -> None:
        self.attributes = attributes or {}
        self.error = error

    def get_topic_attributes(self, TopicArn: str) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return {"Attributes": self.attributes}

    def get_paginator(self, name: str) -> Any:
        assert name == "list_subscriptions_by_topic"
        return self

    def paginate(self, TopicArn: str, **_: Any) -> list[dict[str, Any]]:
        return [{"Subscriptions": [{"SubscriptionArn": f"{TopicArn}:1"}]}]


def _fallback_heartbeat(sns: Any) -> Heartbeat:
    environment = {**ENVIRONMENT, "IAMWARDEN_ALERT_FALLBACK_TOPIC_ARN": FALLBACK, "IAMWARDEN_OWN_ROLE_ARNS": OWN_ROLES}
    return Heartbeat(HeartbeatConfig.from_environment(environment), None, None, None, sns)


def _declared_fallback_policy() -> str:
    from iamwarden.domain.declared_content import declared_fallback_topic_policy
    from iamwarden.domain.own import OwnIdentity, parse_own_roles

    own = OwnIdentity(home_roles=parse_own_roles(OWN_ROLES), alert_fallback_topic=FALLBACK)
    return json.dumps(declared_fallback_topic_policy(own, "aws"))


def test_the_fallback_topic_as_declared_is_no_problem_and_another_policy_is() -> None:
    whole = {"KmsMasterKeyId": "alias/aws/sns", "Policy": _declared_fallback_policy()}
    assert _fallback_heartbeat(_FallbackTopic(whole)).fallback_topic_problems() == []
    closed = {**whole, "Policy": json.dumps({"Statement": [{"Effect": "Deny", "Action": "sns:Publish"}]})}
    [problem] = _fallback_heartbeat(_FallbackTopic(closed)).fallback_topic_problems()
    assert problem.startswith(f"the policy of the fallback alert topic {FALLBACK} is not the one its template declares")


def test_a_fallback_topic_that_cannot_be_read_is_one_problem_saying_why() -> None:
    class Refused(Exception):
        response = {"Error": {"Code": "AuthorizationError"}}  # noqa: RUF012 - botocore's shape

    [problem] = _fallback_heartbeat(_FallbackTopic(error=Refused("denied"))).fallback_topic_problems()
    assert problem == f"the fallback alert topic {FALLBACK} cannot be read (AuthorizationError)"


def test_without_a_fallback_topic_nothing_is_checked() -> None:
    heartbeat = Heartbeat(HeartbeatConfig.from_environment(ENVIRONMENT), None, None, None, _FallbackTopic())
    assert heartbeat.fallback_topic_problems() == []
