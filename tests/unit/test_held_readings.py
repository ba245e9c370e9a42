"""A principal's held policies read every way when a change is judged on its whole power (issue 13, item 3).

A held policy (inline, attached, a group's, the permissions boundary) whose text names a key twice with different
values has no documented reading: the change is judged on every combination of readings (``held_readings``). What
every combination reaches with certainty stays certain; what some reach only is alerted, naming the ambiguous held
policy; a principal read one way is judged exactly as before. Judged here through ``judge_event`` with a
hand-built ``StaticDirectory`` and with an ``--authorization-details`` file (the offline reader).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from iamwarden.app.cli import main
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.directory import group_source, inline_source
from iamwarden.domain.escalation import AdminGrant, PolicyRisk, assess, assess_principal
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.held_readings import (
    BOUNDARY,
    MAX_COMBINATIONS,
    combinations,
    merged,
    parsed_readings,
    read_alike,
)
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from tests.conftest import ROOT
from tests.unit.test_identity_policy_context import (
    ACCOUNT,
    LAMBDA,
    PASS_ANY,
    RUNNER,
    _allow,
    _deploy_admin,
    _directory,
    _judge,
    _put_role_policy,
)
from tests.unit.test_identity_policy_context import (
    _doc as _doc_of,
)

HELD = inline_source("build-runner", "pass-any-role")


def _statement_text(body: str) -> str:
    return '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",' + body + ',"Resource":"*"}]}'


#: Read with each key's last value it passes nothing; read with the first, it passes any role.
PASS_FIRST = _statement_text('"Action":"iam:PassRole","Action":"s3:GetObject"')
#: The other way round: boto3's reading passes any role.
PASS_LAST = _statement_text('"Action":"s3:GetObject","Action":"iam:PassRole"')
#: Every reading passes a role (on ``*`` or on every role of the account).
PASS_EVERY_WAY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole",'
    f'"Resource":"arn:aws:iam::{ACCOUNT}:role/*","Resource":"*"}}]}}'
)


def _as_main(principal: PrincipalPolicies) -> PrincipalPolicies:
    """The principal as main reads it: every held text on each key's last value (its other readings dropped)."""
    return principal._replace(
        policies=tuple(named._replace(readings=()) for named in principal.policies), boundary_readings=()
    )


#: A text read two ways (a string, then a list of it) that are one document in meaning.
SAME_MEANING = _statement_text('"Action":"s3:Get1","Action":["s3:Get1"]')


def _held(source: str, text: str) -> NamedPolicy:
    return NamedPolicy(source, parse_policy(json.loads(text)), parsed_readings(text, source))


def _runner(*held: NamedPolicy, boundary: str | None = None) -> PrincipalPolicies:
    limit = None if boundary is None else _held(BOUNDARY, boundary)
    return PrincipalPolicies(
        RUNNER,
        held,
        None if limit is None else limit.policy,
        boundary_readings=() if limit is None else limit.readings,
    )


def _put_lambda(runner: PrincipalPolicies) -> Judgement:
    return _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), _directory(runner, _deploy_admin()))


# --- the readings of a held text -------------------------------------------------------------------------------


def test_a_text_with_one_reading_has_no_other_and_a_decoded_document_none() -> None:
    assert parsed_readings(json.dumps(PASS_ANY), "p") == ()
    assert parsed_readings(PASS_ANY, "p") == ()  # a dict has lost whatever its text named twice
    [other] = parsed_readings(quote(PASS_FIRST), "p")  # IAM answers URL-encoded text
    assert other.statements[0].actions == ("iam:passrole",)


def test_a_reading_that_does_not_parse_is_dropped() -> None:
    # IAM accepted the policy, so a reading it would have refused is not AWS's.
    assert parsed_readings(_statement_text('"Action":"s3:GetObject","Effect":"Bogus","Effect":"Allow"'), "p") == ()


# --- the combinations ---------------------------------------------------------------------------------------------


def test_a_principal_read_one_way_is_one_combination_itself() -> None:
    runner = _runner(NamedPolicy(HELD, parse_policy(PASS_ANY)))
    read = combinations(runner, changed="inline build-runner/deploy-functions")
    assert [(c.principal, c.label) for c in read.combinations] == [(runner, "")]
    assert read.ambiguous == ()
    assert merged([assess_principal(runner)], read) == assess_principal(runner)


def test_each_reading_of_an_ambiguous_held_policy_is_a_combination_the_last_wins_one_first() -> None:
    read = combinations(_runner(_held(HELD, PASS_FIRST)), changed="inline build-runner/deploy-functions")
    assert read.ambiguous == (HELD,)
    assert [c.label for c in read.combinations] == ["", f"{HELD} read another way (reading 2)"]
    assert [c.principal.policies[0].policy.statements[0].actions for c in read.combinations] == [
        ("s3:getobject",),
        ("iam:passrole",),
    ]
    assert all(not c.principal.policies[0].readings for c in read.combinations)


def test_the_changed_source_is_left_to_its_rule() -> None:
    read = combinations(_runner(_held(HELD, PASS_FIRST)), changed=HELD)
    assert len(read.combinations) == 1


def test_one_text_held_twice_is_read_the_same_way_in_both_places() -> None:
    shared = _held(f"arn:aws:iam::{ACCOUNT}:policy/shared", PASS_FIRST)
    through_group = shared._replace(source=group_source("builders", shared.source))
    read = combinations(_runner(shared, through_group), changed="x")
    assert len(read.combinations) == 2
    for combination in read.combinations:
        first, second = combination.principal.policies
        assert first.policy == second.policy


def test_a_boundary_read_two_ways_is_combined_with_the_policies() -> None:
    boundary = _statement_text('"Action":"*","Action":"s3:*"')
    read = combinations(_runner(_held(HELD, PASS_FIRST), boundary=boundary), changed="x")
    assert read.ambiguous == (HELD, BOUNDARY)
    assert len(read.combinations) == 4
    assert {c.principal.boundary.statements[0].actions for c in read.combinations if c.principal.boundary} == {
        ("*",),
        ("s3:*",),
    }


def test_beyond_the_cap_only_the_last_values_are_read() -> None:
    held = [
        _held(inline_source("build-runner", f"p{n}"), PASS_FIRST.replace("s3:GetObject", f"s3:Get{n}"))
        for n in range(4)
    ]
    read = combinations(_runner(*held), changed="x")
    assert MAX_COMBINATIONS < 2**4
    assert read.partial
    [only] = read.combinations  # the last-wins one: judged as before held texts were read every way
    assert only.principal == _as_main(_runner(*held))
    assert "judged on each key's last value only" in read.fact()


# --- merging the verdicts -----------------------------------------------------------------------------------------


def _admin_risk(*, unknown: tuple[str, ...] = ()) -> PolicyRisk:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    grant = AdminGrant(policy.statements[0], "allows every action on every resource", True, "p", unknown)
    return PolicyRisk((grant,), ())


def test_what_every_combination_reaches_with_certainty_stays_certain() -> None:
    read = combinations(_runner(_held(HELD, PASS_FIRST)), changed="x")
    [grant] = merged([_admin_risk(), _admin_risk()], read).admin
    assert grant.certain


def test_what_some_combinations_reach_only_names_the_ambiguous_policy() -> None:
    read = combinations(_runner(_held(HELD, PASS_FIRST)), changed="x")
    for risks in ([PolicyRisk((), ()), _admin_risk()], [_admin_risk(), _admin_risk(unknown=("u",))]):
        risk = merged(risks, read)
        [grant] = risk.admin
        assert not grant.certain
        assert grant.unknown[-1] == read.fact()
        assert read.fact() in risk.unknown
        assert HELD in read.fact()


def test_what_every_combination_reaches_uncertain_alike_keeps_its_own_unknown() -> None:
    read = combinations(_runner(_held(HELD, PASS_FIRST)), changed="x")
    [grant] = merged([_admin_risk(unknown=("u",)), _admin_risk(unknown=("v",))], read).admin
    assert grant.unknown == ("u",)


# --- judged on the whole principal (a hand-built directory) --------------------------------------------------------


def test_a_method_the_held_policy_completes_in_another_reading_only_is_alerted_naming_it() -> None:
    # main: compliant (the held policy read with its last value passes nothing).
    judgement = _put_lambda(_runner(_held(HELD, PASS_FIRST)))
    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert finding.rule_id == "privilege-escalation"
    assert not finding.certain
    assert "PassExistingRoleToNewLambdaThenInvoke" in finding.reason
    assert finding.needs_context[-1].startswith(f"which way AWS reads {HELD}: it names a key twice")
    assert finding.needs_context[-1].endswith("what this change opens is reached in some of its readings only")


def test_a_method_the_held_policy_completes_in_its_last_value_only_is_no_longer_certain() -> None:
    # main: certain (boto3's reading passes any role); another reading does not.
    [finding] = _put_lambda(_runner(_held(HELD, PASS_LAST))).findings
    assert not finding.certain
    assert HELD in finding.needs_context[-1]


def test_a_method_every_reading_completes_is_certain_as_on_a_text_read_one_way() -> None:
    [ambiguous] = _put_lambda(_runner(_held(HELD, PASS_EVERY_WAY))).findings
    [plain] = _put_lambda(_runner(NamedPolicy(HELD, parse_policy(PASS_ANY)))).findings
    assert ambiguous.certain
    assert plain.certain
    assert (ambiguous.rule_id, ambiguous.severity, ambiguous.plan) == (plain.rule_id, plain.severity, plain.plan)


def test_a_same_value_duplicate_changes_nothing() -> None:
    same = _statement_text('"Action":"iam:PassRole","Action":"iam:PassRole"')
    twice = _put_lambda(_runner(_held(HELD, same)))
    once = _put_lambda(_runner(NamedPolicy(HELD, parse_policy(PASS_ANY))))
    assert (twice.verdict, twice.reason, twice.findings) == (once.verdict, once.reason, once.findings)


@pytest.mark.parametrize("boundary", ['"Action":"*","Action":"s3:*"', '"Action":"s3:*","Action":"*"'])
def test_a_boundary_read_two_ways_that_cuts_the_method_in_one_reading_is_uncertain(boundary: str) -> None:
    runner = _runner(NamedPolicy(HELD, parse_policy(PASS_ANY)), boundary=_statement_text(boundary))
    [finding] = _put_lambda(runner).findings
    assert not finding.certain
    assert f"which way AWS reads {BOUNDARY}" in finding.needs_context[-1]


def test_a_boundary_that_cuts_the_method_in_every_reading_leaves_it_compliant() -> None:
    runner = _runner(
        NamedPolicy(HELD, parse_policy(PASS_ANY)), boundary=_statement_text('"Action":"s3:*","Action":"ec2:*"')
    )
    assert _put_lambda(runner).verdict is Verdict.COMPLIANT


def _judged_apart(n: int) -> str:
    """A held text the judgement reads two ways (its first reading allows ``s3:GetObject``, a catalogue action)."""
    return _statement_text(f'"Action":"s3:GetObject","Action":"s3:List{n}"')


def _harmless(n: int) -> str:
    """A held text read two ways that no reading makes matter: neither names an action of the catalogue."""
    return _statement_text(f'"Action":"s3:Get{n}","Action":"s3:Put{n}"')


def test_beyond_the_cap_nothing_found_is_never_silent() -> None:
    # Four held texts read two ways each (16 combinations): each one's readings judged alone find nothing, but the
    # change grants part of a method, and two of them read another way together might complete it.
    held = [_held(inline_source("build-runner", f"p{n}"), _judged_apart(n)) for n in range(4)]
    judgement = _put_lambda(_runner(*held))
    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert not finding.certain
    assert "may be missed" in finding.needs_context[-1]


def test_beyond_the_cap_a_method_found_is_judged_as_on_the_last_values() -> None:
    # Fix round 2: beyond the cap the verdict is exactly the one on the last values, never weakened by planted texts.
    held = [
        _held(
            inline_source("build-runner", f"p{n}"),
            PASS_EVERY_WAY if n == 0 else _judged_apart(n),
        )
        for n in range(5)
    ]
    judgement = _put_lambda(_runner(*held))
    [finding] = judgement.findings
    assert (finding.certain, finding.needs_context) == (True, ())
    assert _outcome(judgement) == _outcome(_put_lambda(_as_main(_runner(*held))))


# --- offline: an --authorization-details file ---------------------------------------------------------------------


def _details(document: Any) -> dict[str, Any]:
    role = {
        "RoleName": "build-runner",
        "Arn": RUNNER,
        "RolePolicyList": [{"PolicyName": "pass-any-role", "PolicyDocument": document}],
        "AttachedManagedPolicies": [],
        "InstanceProfileList": [],
    }
    admin = {
        "RoleName": "deploy-admin",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/deploy-admin",
        "RolePolicyList": [
            {
                "PolicyName": "all",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                },
            }
        ],
        "AttachedManagedPolicies": [],
        "InstanceProfileList": [],
    }
    return {"RoleDetailList": [role, admin], "UserDetailList": [], "GroupDetailList": [], "Policies": []}


def test_offline_a_held_inline_text_that_names_a_key_twice_is_read_every_way() -> None:
    directory = authorization_details_directory(_details(quote(PASS_FIRST)))
    [finding] = _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), directory).findings
    assert not finding.certain
    assert HELD in finding.needs_context[-1]


def test_offline_a_held_managed_default_and_boundary_keep_their_readings() -> None:
    details = _details({"Version": "2012-10-17", "Statement": []})
    policy = f"arn:aws:iam::{ACCOUNT}:policy/shared"
    details["Policies"] = [
        {
            "PolicyName": "shared",
            "Arn": policy,
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": quote(PASS_FIRST)}],
        }
    ]
    details["RoleDetailList"][0]["AttachedManagedPolicies"] = [{"PolicyName": "shared", "PolicyArn": policy}]
    details["RoleDetailList"][0]["PermissionsBoundary"] = {
        "PermissionsBoundaryArn": policy,
        "PermissionsBoundaryType": "Policy",
    }
    directory = authorization_details_directory(details)
    runner = directory.principal(RUNNER)
    assert runner is not None
    [shared] = [named for named in runner.policies if named.source == policy]
    assert [reading.statements[0].actions for reading in shared.readings] == [("iam:passrole",)]
    assert runner.boundary_readings == shared.readings


def test_offline_a_decoded_document_has_lost_its_duplicates_and_is_judged_as_read() -> None:
    directory = authorization_details_directory(_details(json.loads(PASS_FIRST)))
    assert _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), directory).verdict is Verdict.COMPLIANT
    assert assess(parse_policy(json.loads(PASS_FIRST))).escalations == ()


# --- differential: readings that grant the same change nothing ------------------------------------------------


def _corpus_documents() -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "tests" / "corpora" / "escalation").glob("*.json")):
        for case in json.loads(path.read_text())["cases"]:
            for item in case.get("policies", []):
                found.setdefault(json.dumps(item["document"], sort_keys=True), item["document"])
    return list(found.values())


def _outcome(judgement: Judgement) -> list[Any]:
    return [
        judgement.verdict,
        judgement.reason,
        [(f.rule_id, f.severity, f.certain, f.reason, f.plan, f.needs_context) for f in judgement.findings],
    ]


def test_every_corpus_document_is_judged_the_same_when_the_held_readings_all_grant_the_same() -> None:
    # Held policies and a boundary each carrying two other readings of the same content (nine combinations that all
    # agree) must give exactly the verdict of the principal read one way: the combination machinery adds nothing.
    documents = _corpus_documents()
    assert len(documents) > 100
    boundary = parse_policy(
        _doc_of({"Effect": "Allow", "Action": ["s3:*", "lambda:*", "iam:PassRole"], "Resource": "*"})
    )
    passes = parse_policy(PASS_ANY)
    # Readings that differ (so each is combined, in its own place) but grant the same: an action outside the
    # catalogue added to the held policy and to the boundary (which no corpus document is judged on).
    extra = ("sqs:ListQueues", "cloudwatch:GetMetricData")
    held_readings = tuple(parse_policy(_doc_of(_allow(["iam:PassRole", action]))) for action in extra)
    boundary_readings = tuple(
        parse_policy(_doc_of({"Effect": "Allow", "Action": ["s3:*", "lambda:*", "iam:PassRole", a], "Resource": "*"}))
        for a in extra
    )
    one_way = PrincipalPolicies(RUNNER, (NamedPolicy(HELD, passes),), boundary)
    every_way = PrincipalPolicies(
        RUNNER,
        (NamedPolicy(HELD, passes, held_readings),),
        boundary,
        boundary_readings=boundary_readings,
    )
    assert len(combinations(every_way, changed="x").combinations) == MAX_COMBINATIONS
    for document in documents:
        event = _put_role_policy("build-runner", "deploy-functions", document)
        plain = _judge(event, _directory(one_way, _deploy_admin()))
        read = _judge(event, _directory(every_way, _deploy_admin()))
        assert _outcome(read) == _outcome(plain), document


@pytest.mark.parametrize("text", [PASS_FIRST, PASS_LAST])
def test_iamwarden_evaluate_with_authorization_details_reads_a_held_text_every_way(text: str, tmp_path: Path) -> None:
    # The sample split escalation (events/put-role-policy-split-escalation.json): with the fixture's details its
    # finding is certain; with build-runner's pass-any-role given as a text that passes any role in one reading
    # only, it is alerted only, naming that policy.
    details = json.loads((ROOT / "events" / "context" / "authorization-details.json").read_text())
    [runner] = [role for role in details["RoleDetailList"] if role["RoleName"] == "build-runner"]
    [held] = [policy for policy in runner["RolePolicyList"] if policy["PolicyName"] == "pass-any-role"]
    held["PolicyDocument"] = quote(text)
    path = tmp_path / "details.json"
    path.write_text(json.dumps(details))
    out, err = io.StringIO(), io.StringIO()
    event = str(ROOT / "events" / "put-role-policy-split-escalation.json")

    code = main(["evaluate", "--authorization-details", str(path), event], stdout=out, stderr=err)

    assert (code, err.getvalue()) == (0, "")
    [finding] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (finding["verdict"], finding["rule"], finding["certain"]) == ("violation", "privilege-escalation", False)
    assert finding["needs_context"][-1].startswith(f"which way AWS reads {HELD}: it names a key twice")


# --- fix round (review of whole-s15): readings that cannot matter, the cap, the replaced document --------------------


def _benign_runner(*plain: NamedPolicy, count: int = 4) -> PrincipalPolicies:
    return _runner(*plain, *(_held(inline_source("build-runner", f"b{n}"), _harmless(n)) for n in range(count)))


def test_held_readings_the_same_in_meaning_are_one_and_name_nothing() -> None:
    # Fix round 2: only readings that are the same document in meaning (a Sid apart) are one.
    text = SAME_MEANING
    assert parsed_readings(text, "s")  # it does read two ways
    read = combinations(_runner(*(_held(inline_source("build-runner", f"s{n}"), text) for n in range(4))), changed="x")
    assert (len(read.combinations), read.ambiguous, read.partial) == (1, (), False)


def test_held_readings_that_differ_in_anything_but_a_sid_count_however_harmless() -> None:
    # Fix round 2 (review 2, R3): a reading the escalation judgement seems not to use is still another reading.
    read = combinations(_benign_runner(count=2), changed="x")
    assert (len(read.combinations), read.partial) == (4, False)


def test_a_reading_that_differs_in_a_catalogue_action_is_still_combined() -> None:
    read = combinations(_runner(_held(HELD, _judged_apart(0))), changed="x")
    assert (len(read.combinations), read.ambiguous) == (2, (HELD,))


@pytest.mark.parametrize(
    ("document", "rule"),
    [(_doc_of(_allow("*")), "inline-policy-admin"), (_doc_of(_allow("iam:*")), "inline-policy-admin")],
)
def test_an_admin_put_stays_certain_whatever_harmless_texts_the_principal_holds(document: Any, rule: str) -> None:
    # Review F1: four planted texts that name a key twice no longer make an admin put alert-only.
    event = _put_role_policy("build-runner", "x", document)
    plain = _judge(event, _directory(_runner(), _deploy_admin()))
    planted = _judge(event, _directory(_benign_runner(), _deploy_admin()))
    [finding] = planted.findings
    assert (finding.rule_id, finding.certain, finding.needs_context) == (rule, True, ())
    assert _outcome(planted) == _outcome(plain)


def test_the_split_escalation_stays_certain_whatever_harmless_texts_the_principal_holds() -> None:
    plain = _put_lambda(_runner(NamedPolicy(HELD, parse_policy(PASS_ANY))))
    planted = _put_lambda(_benign_runner(NamedPolicy(HELD, parse_policy(PASS_ANY))))
    assert planted.findings[0].certain
    assert _outcome(planted) == _outcome(plain)


def test_beyond_the_cap_an_admin_put_no_reading_can_cancel_stays_certain() -> None:
    # Four texts the judgement reads apart (16 combinations, capped), none differing in a Deny, no boundary: the
    # change's own admin grant is the same in every combination, read or not.
    held = [_held(inline_source("build-runner", f"p{n}"), _judged_apart(n)) for n in range(4)]
    assert combinations(_runner(*held), changed="x").partial
    [finding] = _judge(_put_role_policy("build-runner", "x", _doc_of(_allow("*"))), _directory(_runner(*held))).findings
    assert (finding.certain, finding.needs_context) == (True, ())


def test_beyond_the_cap_a_method_the_change_reaches_alone_stays_certain_when_no_reading_can_cancel_it() -> None:
    held = [_held(inline_source("build-runner", f"p{n}"), _judged_apart(n)) for n in range(4)]
    event = _put_role_policy("build-runner", "x", _doc_of(_allow("iam:AttachRolePolicy")))
    plain = _judge(event, _directory(_runner(), _deploy_admin()))
    [finding] = _judge(event, _directory(_runner(*held), _deploy_admin())).findings
    assert plain.findings[0].certain
    assert (finding.rule_id, finding.certain, finding.needs_context) == ("privilege-escalation", True, ())


def _denying(n: int, action: str) -> str:
    """A held Deny that denies ``action`` with its last value, nothing the catalogue names with its first."""
    return (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny",'
        f'"Action":"s3:Nothing{n}","Action":"{action}","Resource":"*"}}]}}'
    )


@pytest.mark.parametrize("action", ["iam:UpdateAssumeRolePolicy", "iam:AttachUserPolicy"])
def test_held_denies_that_read_away_together_alert_naming_them(action: str) -> None:
    # Review p3b: two Denies that cancel the method only with their last value: all four combinations are read and
    # the one opening it alerts, naming both.
    held = [_held(inline_source("build-runner", f"d{n}"), _denying(n, action)) for n in range(2)]
    runner = _runner(*held)
    assert len(combinations(runner, changed="x").combinations) == 4
    event = _put_role_policy("build-runner", "x", _doc_of(_allow(action)))
    [finding] = _judge(event, _directory(runner, _deploy_admin())).findings
    assert (finding.rule_id, finding.certain) == ("privilege-escalation", False)
    assert "which way AWS reads inline build-runner/d0, inline build-runner/d1" in finding.needs_context[-1]


@pytest.mark.parametrize("action", ["iam:UpdateAssumeRolePolicy", "iam:AttachUserPolicy"])
def test_held_denies_that_read_away_together_beyond_the_cap_alert_that_a_method_may_be_missed(action: str) -> None:
    # The same two Denies and two harmless texts (16 combinations, capped): judged on the last values the Denies
    # cancel the method (compliant there, as before), but the change grants a catalogue action: alerted, not silent.
    held = [_held(inline_source("build-runner", f"d{n}"), _denying(n, action)) for n in range(2)]
    runner = _benign_runner(*held, count=2)
    assert combinations(runner, changed="x").partial
    event = _put_role_policy("build-runner", "x", _doc_of(_allow(action)))
    assert _judge(event, _directory(_as_main(runner), _deploy_admin())).verdict is Verdict.COMPLIANT
    [finding] = _judge(event, _directory(runner, _deploy_admin())).findings
    assert (finding.rule_id, finding.certain) == ("privilege-escalation", False)
    assert "inline build-runner/d0" in finding.needs_context[-1]
    assert "may be missed" in finding.needs_context[-1]


@pytest.mark.parametrize("action", ["iam:UpdateAssumeRolePolicy", "iam:AttachUserPolicy"])
def test_beyond_the_cap_a_change_granting_a_whole_method_is_never_silent(action: str) -> None:
    # Review F3: four held Denies that cancel the method only with their last value (16 combinations, capped):
    # each judged alone leaves three Denies, so nothing is found; the change is alerted, not compliant.
    held = [_held(inline_source("build-runner", f"d{n}"), _denying(n, action)) for n in range(4)]
    assert combinations(_runner(*held), changed="x").partial
    judgement = _judge(_put_role_policy("build-runner", "x", _doc_of(_allow(action))), _directory(_runner(*held)))
    [finding] = judgement.findings
    assert (judgement.verdict, finding.certain) == (Verdict.VIOLATION, False)
    assert "may be missed" in finding.needs_context[-1]


def test_beyond_the_cap_a_change_granting_nothing_of_the_catalogue_stays_compliant() -> None:
    held = [_held(inline_source("build-runner", f"d{n}"), _denying(n, "iam:UpdateAssumeRolePolicy")) for n in range(4)]
    event = _put_role_policy("build-runner", "x", _doc_of(_allow("sqs:ListQueues")))
    assert _judge(event, _directory(_runner(*held))).verdict is Verdict.COMPLIANT


def test_merged_counts_a_method_once_per_combination() -> None:
    # Review F5: a combination holding the same method twice does not stand in for one that lacks it.
    [path] = [p for p in assess(parse_policy(_doc_of(_allow("iam:AttachRolePolicy")))).escalations if p.certain]
    read = combinations(_runner(_held(HELD, PASS_FIRST)), changed="x")
    [kept] = merged([PolicyRisk((), (path, path)), PolicyRisk((), ())], read).escalations
    assert not kept.certain
    assert kept.unknown[-1] == read.fact()


#: The document a put replaces, read two ways: its first reading already grants the Lambda method's actions.
REPLACED_FIRST = _statement_text('"Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Action":"s3:GetObject"')


def test_a_put_replacing_a_document_read_two_ways_is_alerted_only() -> None:
    # Review F2: if AWS kept the first value, the put added nothing, and putting back boto3's reading would remove
    # Lambda grants that predated it: alerted only, naming the replaced document.
    replaced = _held(inline_source("build-runner", "x"), REPLACED_FIRST)
    runner = _runner(NamedPolicy(HELD, parse_policy(PASS_ANY)), replaced)
    judgement = _judge(_put_role_policy("build-runner", "x", LAMBDA), _directory(runner, _deploy_admin()))
    [finding] = judgement.findings
    assert (finding.rule_id, finding.certain) == ("privilege-escalation", False)
    assert finding.needs_context[-1].startswith(
        "which way AWS read the document inline policy x of role build-runner held before this put"
    )


def test_a_put_replacing_a_document_whose_readings_are_the_same_in_meaning_is_as_on_main() -> None:
    # Fix round 2 (review 2, R2/R5): only a replaced text whose readings are one document in meaning (a Sid apart)
    # is put back as certain; the old version of this test pinned a restore of s3:Put1 where AWS may hold s3:Get1.
    text = SAME_MEANING
    assert parsed_readings(text, "x")
    runner = _runner(NamedPolicy(HELD, parse_policy(PASS_ANY)), _held(inline_source("build-runner", "x"), text))
    plain = _runner(
        NamedPolicy(HELD, parse_policy(PASS_ANY)),
        NamedPolicy(inline_source("build-runner", "x"), parse_policy(json.loads(text))),
    )
    event = _put_role_policy("build-runner", "x", LAMBDA)
    read = _judge(event, _directory(runner, _deploy_admin()))
    assert read.findings[0].certain
    assert _outcome(read) == _outcome(_judge(event, _directory(plain, _deploy_admin())))


def test_iamwarden_evaluate_an_admin_attach_stays_certain_whatever_harmless_texts_are_held(tmp_path: Path) -> None:
    # Review p1c: four harmless held inline texts naming a key twice (URL-encoded, as the file gives them) and an
    # AttachRolePolicy of a customer-managed Allow * policy: certain, as with none.
    details = _details(PASS_ANY)
    details["RoleDetailList"][0]["RolePolicyList"].extend(
        {"PolicyName": f"b{n}", "PolicyDocument": quote(_harmless(n))} for n in range(4)
    )
    arn = f"arn:aws:iam::{ACCOUNT}:policy/all"
    everything = quote(json.dumps(_doc_of(_allow("*"))))
    details["Policies"] = [
        {
            "PolicyName": "all",
            "Arn": arn,
            "DefaultVersionId": "v1",
            "AttachmentCount": 0,
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": everything}],
        }
    ]
    event = json.loads((ROOT / "events" / "attach-customer-managed.json").read_text())
    event["detail"]["requestParameters"] = {"roleName": "build-runner", "policyArn": arn}
    (tmp_path / "details.json").write_text(json.dumps(details))
    (tmp_path / "event.json").write_text(json.dumps(event))
    out, err = io.StringIO(), io.StringIO()

    args = ["evaluate", "--authorization-details", str(tmp_path / "details.json"), str(tmp_path / "event.json")]
    code = main(args, stdout=out, stderr=err)

    assert (code, err.getvalue()) == (0, "")
    [finding] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (finding["verdict"], finding["rule"], finding["certain"]) == ("violation", "privilege-escalation", True)


def _left_by(plan_parameters: dict[str, Any]) -> dict[str, Any]:
    """The inline document a rewrite step leaves: its statements less those it cuts (whole, or some actions)."""
    cuts = {cut["index"]: cut.get("actions") for cut in plan_parameters["statements"]}
    kept = []
    for index, statement in enumerate(plan_parameters["document"]["Statement"]):
        if index not in cuts:
            kept.append(statement)
        elif cuts[index] is not None:
            actions = [a for a in statement["Action"] if a not in cuts[index]]
            if actions:
                kept.append({**statement, "Action": actions})
    return _doc_of(*kept)


@pytest.mark.parametrize("held_action", ["lambda:CreateFunction", "lambda:InvokeFunction"])
def test_a_certain_finding_is_cut_so_that_the_method_closes_in_every_reading(held_action: str) -> None:
    # Review F4: a held text granting one of the Lambda actions in its first reading only. Every reading reaches the
    # method (certain); the cut must close it in each, not only in boto3's (cutting lambda:CreateFunction leaves it
    # open when the held text grants it).
    amb = _held(
        inline_source("build-runner", "amb"), _statement_text(f'"Action":"{held_action}","Action":"s3:GetObject"')
    )
    runner = _runner(NamedPolicy(HELD, parse_policy(PASS_ANY)), amb)
    [finding] = _put_lambda(runner).findings
    assert finding.certain
    [step] = finding.plan
    left = parse_policy(_left_by(dict(step.parameters)))
    for reading in (amb.policy, *amb.readings):
        principal = PrincipalPolicies(
            RUNNER,
            (
                NamedPolicy(HELD, parse_policy(PASS_ANY)),
                NamedPolicy(amb.source, reading),
                NamedPolicy(inline_source("build-runner", "deploy-functions"), left),
            ),
        )
        methods = [path.method.name for path in assess_principal(principal).escalations]
        assert "PassExistingRoleToNewLambdaThenInvoke" not in methods, reading


# --- fix round 2 (second review of whole-s15): probes q2-q8 give main's verdict, or alert-only where it guessed ----


def _filler(source: str, first: str, last: str) -> NamedPolicy:
    return _held(inline_source("build-runner", source), _statement_text(f'"Action":"{first}","Action":"{last}"'))


def _deny_filler(n: int) -> NamedPolicy:
    """A held Deny of nothing any rule reads, that reads two ways (review 2, q5)."""
    text = _statement_text(f'"Action":"sqs:A{n}","Action":"sqs:B{n}"').replace('"Allow"', '"Deny"')
    return _held(inline_source("build-runner", f"d{n}"), text)


_CHANGES = [
    pytest.param((), _doc_of(_allow("*")), id="admin-put"),
    pytest.param((), _doc_of(_allow("iam:*")), id="iam-star-put"),
    pytest.param((), _doc_of(_allow("iam:AttachRolePolicy")), id="attach-role-policy-put"),
    pytest.param((NamedPolicy(HELD, parse_policy(PASS_ANY)),), LAMBDA, id="split-passrole-lambda"),
]


@pytest.mark.parametrize(("plain", "document"), _CHANGES)
@pytest.mark.parametrize("count", [2, 4])
def test_planted_deny_fillers_never_weaken_a_certain_finding(
    plain: tuple[NamedPolicy, ...], document: Any, count: int
) -> None:
    # Review 2, R0 (q5): 2 Deny fillers are 4 combinations (each read), 4 are 16 (capped): main's verdict either way.
    runner = _runner(*plain, *(_deny_filler(n) for n in range(count)))
    event = _put_role_policy("build-runner", "x", document)
    judgement = _judge(event, _directory(runner, _deploy_admin()))
    assert judgement.findings[0].certain
    assert _outcome(judgement) == _outcome(_judge(event, _directory(_as_main(runner), _deploy_admin())))


def test_a_boundary_filler_beyond_the_cap_never_weakens_an_admin_put() -> None:
    # Review 2, R0 (q8): a boundary read two ways (sqs:A / sqs:B) and three catalogue fillers: capped, main's verdict.
    boundary = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},'
        '{"Effect":"Allow","Action":"sqs:A","Action":"sqs:B","Resource":"*"}]}'
    )
    runner = _runner(
        *(_held(inline_source("build-runner", f"f{n}"), _judged_apart(n)) for n in range(3)), boundary=boundary
    )
    assert combinations(runner, changed="x").partial
    event = _put_role_policy("build-runner", "x", _doc_of(_allow("*")))
    judgement = _judge(event, _directory(runner, _deploy_admin()))
    assert (judgement.findings[0].certain, judgement.findings[0].needs_context) == (True, ())
    assert _outcome(judgement) == _outcome(_judge(event, _directory(_as_main(runner), _deploy_admin())))


@pytest.mark.parametrize("count", [0, 2, 3, 4])
def test_catalogue_fillers_never_weaken_a_split_escalation(count: int) -> None:
    # Review 2, R4 (q6): fillers differing in s3:GetObject (a catalogue action completing nothing here): under the
    # cap every combination holds the split method with certainty, beyond it the last values decide: certain always.
    runner = _runner(
        NamedPolicy(HELD, parse_policy(PASS_ANY)),
        *(_filler(f"f{n}", "s3:GetObject", f"s3:List{n}") for n in range(count)),
    )
    judgement = _put_lambda(runner)
    assert judgement.findings[0].certain
    assert _outcome(judgement) == _outcome(_put_lambda(_as_main(runner)))


_JOINT = [
    ("d0", "iam:AttachRolePolicy", "iam:ListRoles"),
    ("d1", "iam:UpdateAssumeRolePolicy", "iam:ListRoles"),
    ("f2", "glue:StartJobRun", "glue:CreateTrigger"),
    ("f3", "codebuild:StartBuild", "codebuild:CreateProject"),
    ("f4", "sagemaker:StartNotebookInstance", "sagemaker:StopNotebookInstance"),
]


@pytest.mark.parametrize("count", [2, 3, 4, 5])
def test_a_method_two_held_texts_may_already_hold_is_alerted_under_the_cap_and_as_before_beyond_it(count: int) -> None:
    # Review 2, R1 (q2): read with their first values, d0 and d1 together already hold the method the change adds.
    # Under the cap that combination is read: alert-only, naming them. Beyond it, the verdict is main's (last values:
    # certain), the known limit the README states.
    runner = _runner(*(_filler(*held) for held in _JOINT[:count]))
    event = _put_role_policy(
        "build-runner", "x", _doc_of(_allow(["iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"]))
    )
    judgement = _judge(event, _directory(runner, _deploy_admin()))
    [finding] = judgement.findings
    if combinations(runner, changed=inline_source("build-runner", "x")).partial:
        assert _outcome(judgement) == _outcome(_judge(event, _directory(_as_main(runner), _deploy_admin())))
    else:
        assert (finding.rule_id, finding.certain) == ("privilege-escalation", False)
        assert "inline build-runner/d0" in finding.needs_context[-1]


@pytest.mark.parametrize(
    "replaced",
    [
        pytest.param(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue",'
            f'"Resource":"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app-*","Resource":"*"}}]}}',
            id="resource",
        ),
        pytest.param(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue",'
            f'"Resource":"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app-*",'
            '"Condition":{"StringEquals":{"aws:ResourceTag/team":"x"}},"Condition":{}}]}',
            id="condition",
        ),
        pytest.param(_statement_text('"Action":"s3:Get1","Action":"s3:Put1"'), id="action"),
    ],
)
def test_a_put_replacing_a_text_whose_readings_differ_outside_the_catalogue_is_never_put_back_as_certain(
    replaced: str,
) -> None:
    # Review 2, R2 (q3): putting back the last-wins reading may grant what AWS never held (a Resource *, a dropped
    # Condition, s3:Put1 for s3:Get1): the finding is alerted only, naming the replaced document.
    runner = _runner(NamedPolicy(HELD, parse_policy(PASS_ANY)), _held(inline_source("build-runner", "x"), replaced))
    event = _put_role_policy("build-runner", "x", _doc_of(_allow(["lambda:CreateFunction", "lambda:InvokeFunction"])))
    [finding] = _judge(event, _directory(runner, _deploy_admin())).findings
    assert (finding.rule_id, finding.certain) == ("privilege-escalation", False)
    assert finding.needs_context[-1].startswith(
        "which way AWS read the document inline policy x of role build-runner held before this put"
    )


_GUARD = NamedPolicy(
    inline_source("build-runner", "guard"),
    parse_policy(_doc_of({"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*"})),
)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_statement_text('"Action":"s3:PutObject","Action":"?3:Put*"'), id="last-value-admin"),
        pytest.param(_statement_text('"Action":"?3:Put*","Action":"s3:PutObject"'), id="first-value-admin"),
    ],
)
def test_a_held_admin_grant_outside_the_catalogue_read_one_way_only_makes_a_lift_alert_only(text: str) -> None:
    # Review 2, R3 (q4): the change lets the role delete the Deny that keeps a wildcard-service grant in check. Held
    # plainly, ``?3:Put*`` makes that certain and ``s3:PutObject`` compliant: read two ways, alerted, naming it.
    event = _put_role_policy("build-runner", "x", _doc_of(_allow("iam:DeleteRolePolicy")))
    amb = _held(inline_source("build-runner", "amb"), text)
    runner = _runner(_GUARD, amb)
    assert len(combinations(runner, changed="x").combinations) == 2
    judgement = _judge(event, _directory(runner, _deploy_admin()))
    [finding] = judgement.findings
    assert (finding.rule_id, finding.certain) == ("privilege-escalation", False)
    assert "inline build-runner/amb" in finding.needs_context[-1]


def test_readings_that_differ_only_in_version_are_not_read_alike() -> None:
    """``Version`` decides whether ``${aws:username}`` is a variable (2012-10-17) or literal text (2008-10-17): a
    replaced text whose readings differ there is not the same document (review3 whole-s15 N2)."""
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"}
    last = parse_policy({"Version": "2012-10-17", "Statement": [statement]})
    other = parse_policy({"Version": "2008-10-17", "Statement": [statement]})
    same = parse_policy({"Version": "2012-10-17", "Statement": [{**statement, "Sid": "Home"}]})

    assert not read_alike(last, [other])
    assert read_alike(last, [same])
