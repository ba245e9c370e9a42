"""prune-exemption-granted: the pruner's exempt tag set on a role by someone not an operator (issue 15).

Judged on ``events/prune-exemption-tagrole.json`` (role developer tags app-backend until 2027-06-30) and variants of
it: the key's case, other keys, a value that is no date, an operator's tag, a failed call.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.prune_tag import PRUNE_MODES
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.prune_exemption import EXEMPT_TAG, MAX_EXEMPT_DAYS, exempt_tag_set, tag_date
from iamwarden.prune.domain.settings import PruneMode, PruneSettings, parse_prune_settings
from tests.conftest import load_event

RULE = "prune-exemption-granted"
SAMPLE = "prune-exemption-tagrole.json"
ROLE_ARN = "arn:aws:iam::111122223333:role/app-backend"
DEVELOPER_ROLE = "arn:aws:iam::111122223333:role/developer"


def _event(tags: list[dict[str, str]] | None = None, **detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(SAMPLE))
    if tags is not None:
        event["detail"]["requestParameters"]["tags"] = tags
    event["detail"].update(detail)
    return event


def _judge(event: dict[str, Any], settings: Settings | None = None) -> Judgement:
    return judge_event(event, settings or Settings())


def _ours(judgement: Judgement) -> list[Any]:
    return [f for f in judgement.findings if f.rule_id == RULE]


def test_the_exempt_tag_set_by_someone_not_an_operator_is_a_medium_finding_that_says_who_what_and_until() -> None:
    judgement = _judge(_event())

    assert judgement.verdict is Verdict.VIOLATION
    [finding] = _ours(judgement)
    assert finding.severity is Severity.MEDIUM
    assert finding.resource_arn == ROLE_ARN
    # F1: a TagRole record does not say what the role held before: never remediated, the alert says why.
    assert finding.needs_context == (
        "the role's exemption tag before this call is unknown: removing it may remove an operator's exemption",
    )
    assert "developer" in finding.reason
    assert "exempted role app-backend from permission pruning until 2027-06-30" in finding.reason
    assert f"max_exempt_days ({MAX_EXEMPT_DAYS}" in finding.reason
    [step] = finding.plan
    assert step.action == "remove_role_tag"
    assert step.parameters == {"role_name": "app-backend", "key": EXEMPT_TAG, "value": "2027-06-30"}


def test_the_rule_starts_in_alert_mode() -> None:
    assert Settings().rule(RULE).mode.value == "alert"


@pytest.mark.parametrize("key", ["IAMWarden:Prune-Exempt-Until", "IAMWARDEN:PRUNE-EXEMPT-UNTIL"])
def test_a_key_in_another_case_is_a_low_note_that_claims_no_exemption(key: str) -> None:
    """The pruner reads the exact key (F3): another case exempts only if IAM kept the role's existing key's case."""
    [finding] = _ours(_judge(_event([{"key": key, "value": "2027-01-31"}])))

    assert finding.severity is Severity.LOW
    assert finding.plan == ()
    assert "exempted role" not in finding.reason
    assert "reads the key exactly" in finding.reason
    assert finding.needs_context


def test_a_key_in_another_case_on_a_new_role_exempts_nothing() -> None:
    judgement = _judge(_create_role([{"key": "IAMWarden:Prune-Exempt-Until", "value": "2027-01-31"}]))

    assert _ours(judgement) == []


@pytest.mark.parametrize("value", ["2020-01-01", "2026-11-20"])
def test_a_date_already_past_exempts_nothing(value: str) -> None:
    """The sample's call is on 2026-11-21: a date before it is no exemption for the pruner (F3)."""
    judgement = _judge(_event([{"key": EXEMPT_TAG, "value": value}]))

    assert _ours(judgement) == []
    assert judgement.verdict is Verdict.COMPLIANT


def test_the_call_day_itself_still_exempts() -> None:
    assert len(_ours(_judge(_event([{"key": EXEMPT_TAG, "value": "2026-11-21"}])))) == 1


def _create_role(tags: list[dict[str, str]], **detail: Any) -> dict[str, Any]:
    event = _event(eventName="CreateRole", **detail)
    event["detail"]["requestParameters"] = {
        "roleName": "app-backend",
        "assumeRolePolicyDocument": '{"Version":"2012-10-17","Statement":[]}',
        "tags": tags,
    }
    return event


def test_create_role_with_the_exempt_tag_is_a_finding_remediated_without_a_guess() -> None:
    """F2: a new role held no tag before, so removing the tag removes only what the change added."""
    [finding] = _ours(_judge(_create_role([{"key": EXEMPT_TAG, "value": "2027-06-30"}])))

    assert finding.severity is Severity.MEDIUM
    assert finding.needs_context == ()
    assert "created role app-backend exempt from permission pruning until 2027-06-30" in finding.reason
    [step] = finding.plan
    assert step.parameters == {"role_name": "app-backend", "key": EXEMPT_TAG, "value": "2027-06-30"}


def test_create_role_without_the_exempt_tag_is_not_ours() -> None:
    assert _ours(_judge(_create_role([{"key": "team", "value": "payments"}]))) == []


def test_cloudformation_gets_no_operator_pass() -> None:
    """F2: CloudFormation acts with whoever deployed any stack: an operator's deploy role is no operator there."""
    settings, problems = parse_settings({"rules": {"iamwarden-tampered": {"operators": [DEVELOPER_ROLE]}}})
    assert not problems
    event = _event()
    event["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"

    [finding] = _ours(_judge(event, settings))

    assert "through CloudFormation" in finding.reason
    assert finding.needs_context


def test_other_tag_keys_are_not_looked_at() -> None:
    judgement = _judge(_event([{"key": "team", "value": "payments"}, {"key": "prune-exempt-until", "value": "2027"}]))

    assert _ours(judgement) == []
    assert judgement.verdict is Verdict.COMPLIANT


@pytest.mark.parametrize("value", ["forever", "20271231", "2027-02-30", ""])
def test_a_value_that_is_no_date_exempts_nothing_and_is_compliant(value: str) -> None:
    judgement = _judge(_event([{"key": EXEMPT_TAG, "value": value}]))

    assert _ours(judgement) == []
    assert judgement.verdict is Verdict.COMPLIANT


def test_an_operator_may_exempt_a_role() -> None:
    settings, problems = parse_settings({"rules": {"iamwarden-tampered": {"operators": [DEVELOPER_ROLE]}}})
    assert not problems

    judgement = _judge(_event(), settings)

    assert _ours(judgement) == []
    assert judgement.verdict is Verdict.COMPLIANT


def test_operators_that_do_not_match_the_caller_leave_it_a_finding() -> None:
    settings, _ = parse_settings(
        {"rules": {"iamwarden-tampered": {"operators": ["arn:aws:iam::111122223333:role/secops"]}}}
    )

    assert len(_ours(_judge(_event(), settings))) == 1


def test_a_failed_tag_role_is_never_judged() -> None:
    judgement = _judge(_event(errorCode="AccessDenied", errorMessage="not authorized to perform iam:TagRole"))

    assert judgement.findings == ()
    assert judgement.verdict is Verdict.IGNORED


def test_exempt_tag_set_reads_only_well_formed_tags() -> None:
    assert exempt_tag_set({}) is None
    assert exempt_tag_set({"tags": "iamwarden:prune-exempt-until"}) is None
    assert exempt_tag_set({"tags": ["x", {"key": 1, "value": "2027-01-01"}]}) is None
    assert exempt_tag_set({"tags": [{"key": EXEMPT_TAG}]}) == (EXEMPT_TAG, "")


def test_tag_date_takes_only_yyyy_mm_dd() -> None:
    assert tag_date(" 2027-06-30 ") is not None
    assert tag_date("2027-W01-1") is None
    assert tag_date("2027-13-01") is None


def test_the_rule_reads_the_tag_with_the_pruners_own_parser() -> None:
    """One parser for the pruner and the rule (F3): they cannot drift apart."""
    from iamwarden.prune.domain import decide

    assert decide._tag_date is tag_date


def test_the_tag_and_cap_are_the_pruners_defaults() -> None:
    assert PruneSettings().exempt_tag == EXEMPT_TAG
    assert PruneSettings().max_exempt_days == MAX_EXEMPT_DAYS


# --- the operator's pruner settings (issue 15, session 14) ---------------------------------------------------------

CUSTOM_TAG = "acme:keep-permissions-until"
UNTAG_SAMPLE = "prune-exemption-untagrole.json"


def _with(prune: dict[str, Any]) -> Settings:
    settings, problems = parse_settings({"prune": prune})
    assert problems == []  # the pruner reports its own settings' problems, not the enforcer
    return settings


def test_a_custom_exempt_tag_is_watched_and_the_default_one_then_is_not() -> None:
    settings = _with({"exempt_tag": CUSTOM_TAG})

    [finding] = _ours(_judge(_event([{"key": CUSTOM_TAG, "value": "2027-01-10"}]), settings))
    default = _judge(_event(), settings)

    assert finding.severity is Severity.MEDIUM
    assert f"(tag {CUSTOM_TAG})" in finding.reason
    assert _ours(default) == []
    assert f"no {CUSTOM_TAG} tag set on role app-backend" in default.reason


def test_an_exemption_beyond_the_cap_is_told_until_when_it_really_holds() -> None:
    """Event day 2026-11-21, tag 2027-06-30, max_exempt_days 30: the pruner skips the role until about 2026-12-21."""
    [finding] = _ours(_judge(_event(), _with({"max_exempt_days": "30"})))

    assert "until about 2026-12-21 only, not 2027-06-30" in finding.reason
    assert "max_exempt_days (30)" in finding.reason
    assert finding.offending[0]["holds_until"] == "2026-12-21"
    assert finding.offending[0]["capped"] is True


def test_an_exemption_within_the_cap_holds_until_its_date_or_sooner() -> None:
    [finding] = _ours(_judge(_event([{"key": EXEMPT_TAG, "value": "2026-12-01"}]), _with({})))

    assert "skips it until 2026-12-01, or sooner" in finding.reason
    assert "only, not" not in finding.reason
    assert finding.offending[0] == {
        "role": "app-backend",
        "key": EXEMPT_TAG,
        "value": "2026-12-01",
        "until": "2026-12-01",
        "holds_until": "2026-12-01",
        "capped": False,
    }


def test_offline_without_settings_the_defaults_are_an_assumption_said_in_the_finding() -> None:
    [offline] = _ours(_judge(_event(), Settings()))
    [read] = _ours(_judge(_event(), _with({"enabled": "true"})))  # the stack always sets prune/enabled

    assert f"assumed: no pruner settings (prune/...) were read, so its defaults: exempt_tag {EXEMPT_TAG}" in (
        offline.reason
    )
    assert "(assumed:" not in read.reason
    assert "until about 2027-02-19 only" in read.reason  # 90 days from 2026-11-21


@pytest.mark.parametrize(
    ("values", "tag", "days"),
    [
        ({"exempt_tag": "  "}, EXEMPT_TAG, MAX_EXEMPT_DAYS),
        ({"exempt_tag": ["a", "b"]}, EXEMPT_TAG, MAX_EXEMPT_DAYS),
        ({"max_exempt_days": "ninety"}, EXEMPT_TAG, MAX_EXEMPT_DAYS),
        ({"max_exempt_days": "0"}, EXEMPT_TAG, MAX_EXEMPT_DAYS),
        ({"max_exempt_days": "401"}, EXEMPT_TAG, MAX_EXEMPT_DAYS),
        ({"max_exempt_days": True}, EXEMPT_TAG, MAX_EXEMPT_DAYS),
        ({"max_exempt_days": " 45 ", "exempt_tag": f" {CUSTOM_TAG} "}, CUSTOM_TAG, 45),
    ],
)
def test_an_invalid_pruner_setting_falls_back_as_the_pruner_falls_back(
    values: dict[str, Any], tag: str, days: int
) -> None:
    """The rule judges with what the pruner will use: the same readers, the same fallbacks (the pruner reports it)."""
    from iamwarden.prune.domain.settings import parse_prune_settings

    pruner, pruner_problems = parse_prune_settings({"prune": values})
    ours = _with(values).prune_tag

    assert (ours.exempt_tag, ours.max_exempt_days) == (pruner.exempt_tag, pruner.max_exempt_days) == (tag, days)
    assert ours.known
    assert bool(pruner_problems) == (days != 45)  # the pruner reports each invalid one


def test_a_new_role_with_a_custom_exempt_tag_is_alerted_but_not_untagged_by_a_grant_that_names_the_default() -> None:
    settings = _with({"exempt_tag": CUSTOM_TAG})

    [finding] = _ours(_judge(_create_role([{"key": CUSTOM_TAG, "value": "2027-01-10"}]), settings))

    assert finding.severity is Severity.MEDIUM
    assert finding.plan == ()
    assert f"Not removed (alert only): IAM Warden's grant lets it remove only the tag {EXEMPT_TAG}" in finding.reason
    assert "does not follow prune/exempt_tag" in finding.reason
    assert f"aws iam untag-role --role-name app-backend --tag-keys {CUSTOM_TAG}" in finding.reason


def test_a_new_role_with_the_default_exempt_tag_does_not_say_the_grant_stops_its_removal() -> None:
    [finding] = _ours(_judge(_create_role([{"key": EXEMPT_TAG, "value": "2027-01-10"}]), _with({})))

    assert len(finding.plan) == 1
    assert "Not removed" not in finding.reason
    assert "aws iam untag-role" not in finding.reason


# --- UntagRole of the exempt tag --------------------------------------------------------------------------------


def _untag(keys: list[Any] | None = None, **detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(UNTAG_SAMPLE))
    if keys is not None:
        event["detail"]["requestParameters"]["tagKeys"] = keys
    event["detail"].update(detail)
    return event


def test_removing_the_exempt_tag_tells_the_owners_the_pruner_may_act_again() -> None:
    judgement = _judge(_untag(), _with({"mode": "notify"}))

    [finding] = _ours(judgement)
    assert finding.severity is Severity.LOW
    assert finding.resource_arn == ROLE_ARN  # alerts go to the role's owners (its owner tags)
    assert finding.plan == ()
    assert finding.needs_context == ()
    assert (
        "removed tag iamwarden:prune-exempt-until from role app-backend: the pruner may now remove unused actions "
        "from app-backend on its next run, announced 7 days ahead"
    ) in finding.reason
    assert "developer" in finding.reason


def test_removing_the_exempt_tag_says_the_operators_notice_and_tag() -> None:
    settings = _with({"exempt_tag": CUSTOM_TAG, "notice_days": "3", "mode": "enforce"})

    [finding] = _ours(_judge(_untag(["team", CUSTOM_TAG.upper()]), settings))
    default = _judge(_untag([EXEMPT_TAG]), settings)

    assert "announced 3 days ahead" in finding.reason
    assert f"removed tag {CUSTOM_TAG.upper()} from role" in finding.reason
    assert _ours(default) == []


@pytest.mark.parametrize("keys", [["team"], [], ["owner", "cost-center"]])
def test_removing_other_tags_is_nothing(keys: list[str]) -> None:
    judgement = _judge(_untag(keys), _with({}))

    assert _ours(judgement) == []
    assert "no iamwarden:prune-exempt-until tag removed from role app-backend" in judgement.reason


def test_a_failed_untag_is_not_judged() -> None:
    judgement = _judge(_untag(errorCode="AccessDenied", errorMessage="not authorized to perform iam:UntagRole"))

    assert _ours(judgement) == []


def test_an_operator_removing_the_exempt_tag_is_compliant_but_not_through_cloudformation() -> None:
    settings, _ = parse_settings({"rules": {"iamwarden-tampered": {"operators": [DEVELOPER_ROLE]}}})
    cloudformation = _untag()
    cloudformation["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"

    assert _ours(_judge(_untag(), settings)) == []
    [finding] = _ours(_judge(cloudformation, settings))
    assert "through CloudFormation" in finding.reason


def test_offline_an_untag_says_the_notice_is_assumed() -> None:
    [finding] = _ours(_judge(_untag(), Settings()))

    assert "assumed: no pruner settings (prune/...) were read" in finding.reason


# --- review s14 F3: a tagKeys the rule cannot read is unknown, never compliant ------------------------------------


@pytest.mark.parametrize("keys", [EXEMPT_TAG, {"0": EXEMPT_TAG}, [7], ["team", None], None])
def test_an_untag_whose_keys_cannot_be_read_is_an_alert_that_says_what_is_unknown(keys: Any) -> None:
    event = _untag()
    if keys is None:
        del event["detail"]["requestParameters"]["tagKeys"]
    else:
        event["detail"]["requestParameters"]["tagKeys"] = keys

    judgement = _judge(event, _with({"mode": "notify"}))

    [finding] = _ours(judgement)
    assert finding.severity is Severity.LOW
    assert finding.plan == ()  # alert only
    assert finding.needs_context == ("which tag keys were removed: the record's tagKeys is no list of key names",)
    assert "does not list the removed tag keys in a form IAM Warden reads" in finding.reason
    assert "if one was iamwarden:prune-exempt-until, the pruner may now remove unused actions" in finding.reason


def test_an_exempt_key_among_keys_that_cannot_be_read_is_still_known_removed() -> None:
    keys: list[Any] = [7, EXEMPT_TAG]
    [finding] = _ours(_judge(_untag(keys), _with({})))

    assert finding.needs_context == ()
    assert f"removed tag {EXEMPT_TAG} from role app-backend" in finding.reason


def test_an_operator_removing_keys_that_cannot_be_read_is_compliant() -> None:
    settings, _ = parse_settings({"rules": {"iamwarden-tampered": {"operators": [DEVELOPER_ROLE]}}})

    assert _ours(_judge(_untag(EXEMPT_TAG), settings)) == []  # type: ignore[arg-type]


# --- review s14 F2: no alert when the pruner does not act on the account -----------------------------------------

HOME = "111122223333"  # the sample's account


def _home(prune: dict[str, Any], home: str | None = HOME) -> Settings:
    settings, _ = parse_settings({"prune": prune})
    return settings._replace(own=settings.own._replace(home_account=home))


@pytest.mark.parametrize(
    ("prune", "home", "why"),
    [
        ({"enabled": "false"}, HOME, "the pruner is off (prune/enabled)"),
        ({"enabled": "maybe"}, HOME, "the pruner is off (prune/enabled)"),  # the pruner's fallback: pulled
        ({"accounts": ["999988887777"]}, HOME, "the pruner does not manage account 111122223333 (prune/accounts)"),
        ({}, "999988887777", "the pruner does not manage account 111122223333 (prune/accounts)"),
    ],
)
def test_removing_the_tag_where_the_pruner_does_not_act_is_compliant_and_says_why(
    prune: dict[str, Any], home: str, why: str
) -> None:
    judgement = _judge(_untag(), _home(prune, home))

    assert _ours(judgement) == []
    assert why in judgement.reason


@pytest.mark.parametrize(
    "prune",
    [
        {"mode": "notify"},
        {"mode": "notify", "accounts": ["999988887777", HOME]},
        {"mode": "notify", "accounts": f"999988887777,{HOME}", "enabled": "true"},
    ],
)
def test_removing_the_tag_where_the_pruner_acts_is_the_alert(prune: dict[str, Any]) -> None:
    [finding] = _ours(_judge(_untag(), _home(prune)))

    assert "the pruner may now remove unused actions from app-backend" in finding.reason


def test_in_report_mode_the_alert_says_a_plan_is_recorded_and_nothing_announced() -> None:
    [report] = _ours(_judge(_untag(), _home({"mode": "report"})))
    [enforce] = _ours(_judge(_untag(), _home({"mode": "report", "modes": {HOME: "enforce"}})))

    assert "the pruner may now record a plan to remove unused actions from app-backend" in report.reason
    assert "report mode in account 111122223333: nothing is announced or removed" in report.reason
    assert "announced" not in report.reason.replace("nothing is announced", "")
    assert "announced 7 days ahead (enforce mode in account 111122223333" in enforce.reason


def test_the_alert_says_an_expired_tag_changes_nothing_as_the_record_holds_no_value() -> None:
    [finding] = _ours(_judge(_untag(), _home({})))

    assert "If the tag's date had already passed, nothing changes (the record does not hold its value)" in (
        finding.reason
    )


def test_the_rule_knows_the_pruners_modes() -> None:
    assert tuple(PruneMode) == PRUNE_MODES
    assert PRUNE_MODES[0] == PruneSettings().mode  # the default


@pytest.mark.parametrize(
    "prune",
    [
        {"enabled": "maybe"},
        {"enabled": "False "},
        {"accounts": ["12345"]},
        {"accounts": f"999988887777, {HOME}"},
        {"mode": "loud", "modes": {HOME: "enforce", "999988887777": "nope"}},
    ],
)
def test_where_and_how_the_pruner_acts_is_read_as_the_pruner_reads_it(prune: dict[str, Any]) -> None:
    pruner, _ = parse_prune_settings({"prune": prune})
    rule = _with_problems(prune).prune_tag

    assert (rule.enabled, rule.accounts, rule.mode) == (pruner.enabled, pruner.accounts, pruner.mode.value)
    assert dict(rule.account_modes) == {account: mode.value for account, mode in pruner.account_modes.items()}


def _with_problems(prune: dict[str, Any]) -> Settings:
    settings, _ = parse_settings({"prune": prune})
    return settings


@pytest.mark.parametrize("values", [{}, {"rules": {}}, {"prune": {}}, {"break_glass_principals": [DEVELOPER_ROLE]}])
def test_a_settings_file_without_a_pruner_section_says_the_default_tag_is_assumed(values: dict[str, Any]) -> None:
    """``iamwarden evaluate --config`` with a rules-only file: the pruner's tag is not known from it (review s14 F5)."""
    settings, _ = parse_settings(values)

    [finding] = _ours(_judge(_event(), settings))

    assert settings.prune_tag.known is False
    assert f"(assumed: no pruner settings (prune/...) were read, so its defaults: exempt_tag {EXEMPT_TAG}" in (
        finding.reason
    )


# --- session 15: TagRole / CreateRole honour prune/enabled and prune/accounts as UntagRole does ---------------------


IDLE = pytest.mark.parametrize(
    ("prune", "home", "why"),
    [
        ({"enabled": "false"}, HOME, "the pruner is off (prune/enabled)"),
        ({"enabled": "maybe"}, HOME, "the pruner is off (prune/enabled)"),
        ({"accounts": ["999988887777"]}, HOME, "the pruner does not manage account 111122223333 (prune/accounts)"),
        ({}, "999988887777", "the pruner does not manage account 111122223333 (prune/accounts)"),
    ],
)


@IDLE
@pytest.mark.parametrize(
    "event",
    [
        pytest.param(_event, id="TagRole"),
        pytest.param(lambda: _event([{"key": EXEMPT_TAG.upper(), "value": "2027-06-30"}]), id="TagRole-other-case"),
    ],
)
def test_a_tagrole_exemption_where_the_pruner_is_idle_is_a_low_alert_only_note(
    prune: dict[str, Any], home: str, why: str, event: Any
) -> None:
    """Review s15 R5: never compliant (the tag exempts the role once the pruner acts here, and this alert is the
    only record of who set it), but low and alert only: it exempts nothing now."""
    [finding] = _ours(_judge(event(), _home(prune, home)))

    assert finding.severity is Severity.LOW
    assert tuple(finding.plan) == ()
    assert why in finding.reason
    assert "the tag exempts the role from nothing now, but it will once the pruner acts here" in finding.reason
    assert "Alert only." in finding.reason


@IDLE
def test_a_new_roles_exemption_tag_is_removed_even_where_the_pruner_is_idle(
    prune: dict[str, Any], home: str, why: str
) -> None:
    """Review s15 R5: the tag a CreateRole added is removable exactly (the role held none), and would exempt the
    role once the pruner acts here: the finding and its plan stay, the reason says the pruner is idle."""
    [finding] = _ours(_judge(_create_role([{"key": EXEMPT_TAG, "value": "2027-06-30"}]), _home(prune, home)))

    assert finding.severity is Severity.MEDIUM
    [step] = finding.plan
    assert step.parameters["key"] == EXEMPT_TAG
    assert finding.needs_context == ()
    assert f"The pruner is idle here now ({why})" in finding.reason


@pytest.mark.parametrize(
    "prune",
    [
        {"enabled": "true"},
        {"accounts": ["999988887777", HOME]},
        {"accounts": f"999988887777,{HOME}", "enabled": "true"},
    ],
)
@pytest.mark.parametrize("created", [False, True])
def test_an_exempt_tag_where_the_pruner_acts_is_still_the_finding(prune: dict[str, Any], created: bool) -> None:
    event = _create_role([{"key": EXEMPT_TAG, "value": "2027-06-30"}]) if created else _event()

    [finding] = _ours(_judge(event, _home(prune)))

    assert finding.severity is Severity.MEDIUM
    assert len(finding.plan) == 1


def test_an_operator_tagging_where_the_pruner_is_off_is_told_as_the_operators_change() -> None:
    settings, _ = parse_settings(
        {"prune": {"enabled": "false"}, "rules": {"iamwarden-tampered": {"operators": [DEVELOPER_ROLE]}}}
    )

    judgement = _judge(_event(), settings)

    assert _ours(judgement) == []
    assert "is an operator" in judgement.reason
