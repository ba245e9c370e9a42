"""``readings.decide``: the findings on a policy text read more than one way (review s14, the lead's decision).

Readings are compared by what they open (admin-equivalent access, methods) and whether that is certain, never by
rule or severity; a certain reading is acted on (when its plan may run on an ambiguous text), uncertain ones are
alerted with the worst severity, none: nothing.
"""

from __future__ import annotations

from typing import Any

from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.events import parse_event
from iamwarden.domain.findings import Finding, RemediationStep, StepAction
from iamwarden.domain.readings import ADMIN, NO_WRITE, READ_TWO_WAYS, Reading, decide, opened
from tests.conftest import load_event

CHANGE = parse_event(load_event("attach-customer-managed.json"))
WHERE = "the text of version v1 of arn:aws:iam::111122223333:policy/p"


def _finding(
    rule: str = "privilege-escalation",
    severity: Severity = Severity.CRITICAL,
    *,
    opens: tuple[str, ...] = (),
    admin: bool = False,
    unknown: tuple[str, ...] = (),
    plan: tuple[Any, ...] = (),
) -> Finding:
    offending: list[dict[str, Any]] = [{"method": name} for name in opens]
    if admin:
        offending.append({"index": 0, "why": "allows *", "statement": {}})
    return Finding(
        rule_id=rule,
        severity=severity,
        resource_arn="arn:aws:iam::111122223333:role/app",
        account=CHANGE.account,
        region=CHANGE.region,
        actor=CHANGE.actor,
        event_id=CHANGE.event_id,
        event_name=CHANGE.event_name,
        reason="why.",
        mode=Mode.REMEDIATE,
        plan=plan,
        offending=tuple(offending),
        needs_context=unknown,
    )


def test_admin_is_all_a_reading_opens_and_a_holders_items_count() -> None:
    assert opened([_finding(opens=("PassRole",), admin=True)]) == (ADMIN,)
    holder = _finding()._replace(offending=({"holder": "role app", "items": [{"method": "CreateAccessKey"}]},))
    assert opened([holder, _finding(opens=("PassRole", "CreateAccessKey"))]) == ("CreateAccessKey", "PassRole")


def test_readings_that_open_the_same_stand_as_the_first() -> None:
    first = [_finding(opens=("PassRole",))]
    other = [_finding("policy-version-admin", severity=Severity.HIGH, opens=("PassRole",))]
    assert decide([Reading("with each key's last value", first), Reading("another way", other)], WHERE) == first


def test_a_certain_reading_wins_and_the_reason_says_which_reading_grants_what() -> None:
    harmless = Reading("with each key's last value", [])
    method = Reading("another way (reading 2)", [_finding(severity=Severity.HIGH, opens=("CreateAccessKey",))])
    admin = Reading("another way (reading 3)", [_finding("policy-version-admin", admin=True)])
    [finding] = decide([harmless, method, admin], WHERE)
    assert finding.rule_id == "policy-version-admin"  # the worst certain reading: admin, critical
    assert finding.certain
    assert finding.reason == (
        "why. This policy can be read three ways: the text of version v1 of arn:aws:iam::111122223333:policy/p names "
        "a key twice with different values, and AWS documents no reading of it. Read with each key's last value, it "
        "opens nothing IAM Warden guards against; another way (reading 2), it opens CreateAccessKey; another way "
        "(reading 3), it opens admin-equivalent access. A policy that can be read two ways is a defect by itself: "
        "IAM Warden acts on the reading that opens the most (rewrite the policy with each key once)."
    )


def test_a_certain_reading_whose_plan_may_not_run_on_an_ambiguous_text_is_alerted() -> None:
    readings = [Reading("with each key's last value", []), Reading("another way", [_finding(admin=True)])]
    [finding] = decide(readings, WHERE, acts=lambda finding: False)
    assert not finding.certain
    assert finding.needs_context[-1].endswith(
        "(alerted only: the policy reads two ways; IAM Warden will not write a version from either reading; its plan "
        "would write one)"
    )


def test_only_uncertain_readings_are_alerted_with_the_worst_severity() -> None:
    high = _finding(severity=Severity.HIGH, unknown=("the group's members",))
    critical = _finding(severity=Severity.CRITICAL, opens=("PassRole",), unknown=("the role behind it",))
    [finding] = decide(
        [Reading("with each key's last value", []), Reading("a", [high]), Reading("b", [critical])], WHERE
    )
    assert finding.severity is Severity.CRITICAL
    assert finding.needs_context[0] == "the role behind it"
    assert finding.needs_context[1].startswith("this policy can be read three ways: ")
    assert finding.needs_context[1].endswith("(alerted only: rewrite the policy with each key once)")
    assert "it may open PassRole (it rests on what IAM Warden could not know)" in finding.needs_context[1]


def test_no_reading_offending_is_nothing_and_no_reading_is_nothing() -> None:
    assert decide([Reading("a", []), Reading("b", [])], WHERE) == []
    assert decide([], WHERE) == []


def test_a_long_list_of_methods_is_cut_short() -> None:
    many = tuple(f"M{number}" for number in range(8))
    [finding] = decide([Reading("with each key's last value", []), Reading("b", [_finding(opens=many)])], WHERE)
    assert "it opens M0, M1, M2, M3, M4 and 3 more methods." in finding.reason


def test_a_whole_service_on_every_resource_is_not_admin() -> None:
    whole = _finding()._replace(offending=({"why": "allows every action of s3 on every resource", "statement": {}},))
    assert opened([whole]) == ("every action of s3 on every resource",)
    assert opened([whole, _finding(admin=True)]) == (ADMIN,)


# --- a policy-version plan on a text read two ways (review 2 of s14, F1) ---------------------------------------

_RESTORE = StepAction("restore_default_policy_version", ())


def _version_plan(**extra: Any) -> tuple[RemediationStep, ...]:
    parameters = {"policy_arn": "p", "version_id": "v2", "delete_version": False, "statements": [], **extra}
    return (RemediationStep(_RESTORE, "p", parameters),)


def test_a_known_safe_previous_default_is_restored_and_the_plan_is_marked_for_the_executor() -> None:
    readings = [
        Reading("with each key's last value", []),
        Reading("another way", [_finding(admin=True, plan=_version_plan(previous_version="v1"))]),
    ]
    [finding] = decide(readings, WHERE)
    assert finding.certain
    [step] = finding.plan
    assert step.parameters[READ_TWO_WAYS] == WHERE
    assert step.parameters["previous_version"] == "v1"


def test_an_unsafe_previous_default_leaves_a_certain_reading_alerted_saying_why() -> None:
    plan = _version_plan(previous_version="v1", previous_unsafe="the previous default v1 is not safe either")
    readings = [Reading("with each key's last value", []), Reading("another way", [_finding(admin=True, plan=plan)])]
    [finding] = decide(readings, WHERE)
    assert not finding.certain
    assert finding.needs_context[-1].endswith(f"(alerted only: {NO_WRITE}; the previous default v1 is not safe either)")
    assert READ_TWO_WAYS not in finding.plan[0].parameters


def test_readings_that_agree_are_alerted_when_undoing_would_write_a_version() -> None:
    first = [_finding(admin=True, plan=_version_plan())]
    [finding] = decide([Reading("with each key's last value", first), Reading("another way", first)], WHERE)
    assert not finding.certain
    assert finding.needs_context[-1].endswith(
        f"(alerted only: {NO_WRITE}; which version was the default before is not known)"
    )


def test_readings_that_agree_and_detach_stand_unmarked() -> None:
    detach = (RemediationStep(StepAction("detach_role_policy", ()), "r", {"role_name": "app"}),)
    first = [_finding(admin=True, plan=detach)]
    assert decide([Reading("with each key's last value", first), Reading("another way", first)], WHERE) == first
