"""Policy variables in restricting conditions, read by meaning (review s10, finding 1).

IAM substitutes a variable with the request's value before the test ("IAM policy elements: Variables and
tags", IAM User Guide), so ``aws:PrincipalAccount = ${aws:PrincipalAccount}`` holds for every signed request:
it bounds nothing, and never "can never hold". The documented same-account idiom
``aws:ResourceAccount = ${aws:PrincipalAccount}`` admits only the resource's own account. The rows are the
review's probe tables (``/tmp/rs10/p22.py``, ``p22b.py``, ``p22c.py``, ``p22d.py``, ``p23.py``, ``p24.py``).
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.exposure import TrustBoundary, exposure_of, never_holds
from iamwarden.domain.findings import Verdict
from iamwarden.domain.policy import Statement, parse_policy
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.trust_policy import web_identity_problem
from tests.conftest import load_event

OWN = "111122223333"
ORG = "o-a1b2c3d4e5"
BOUNDARY = TrustBoundary(OWN, frozenset(), ORG)
NO_ORG = TrustBoundary(OWN)
GITHUB = f"arn:aws:iam::{OWN}:oidc-provider/token.actions.githubusercontent.com"


def statement(condition: dict[str, Any], principal: Any = "*") -> Statement:
    raw = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme/*"}
    (parsed,) = parse_policy({"Version": "2012-10-17", "Statement": [raw | {"Condition": condition}]}).statements
    return parsed


# --- the caller's own key compared with itself bounds nothing ------------------------------------------------

SELF_COMPARISONS = {
    "account": {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}},
    "organisation": {"StringEquals": {"aws:PrincipalOrgID": "${aws:PrincipalOrgID}"}},
    "organisation paths": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "${aws:PrincipalOrgPaths}"}},
    "arn in the caller's account": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:*"}},
    "endpoint": {"StringEquals": {"aws:SourceVpce": "${aws:SourceVpce}"}},
    "account from a tag the caller sets": {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalTag/account}"}},
    "a real id beside the variable": {"StringEquals": {"aws:PrincipalAccount": [OWN, "${aws:PrincipalAccount}"]}},
    "a real org beside the variable": {"StringEquals": {"aws:PrincipalOrgID": [ORG, "${aws:PrincipalOrgID}"]}},
}


@pytest.mark.parametrize("condition", SELF_COMPARISONS.values(), ids=SELF_COMPARISONS.keys())
def test_a_caller_side_variable_leaves_a_public_statement_public(condition: dict[str, Any]) -> None:
    found = exposure_of(statement(condition), BOUNDARY)
    assert found.void is None
    assert found.public
    assert found.unknown == (), "the caller sets these values itself: certain, not unknown"


@pytest.mark.parametrize(
    ("key", "variable"),
    [
        ("aws:PrincipalAccount", "${aws:PrincipalAccount}"),
        ("aws:PrincipalOrgID", "${aws:PrincipalOrgID}"),
        ("aws:SourceAccount", "${aws:SourceAccount}"),
        ("aws:ResourceAccount", "${aws:PrincipalAccount}"),
        ("aws:PrincipalAccount", "${aws:PrincipalTag/acct, '111'}"),
    ],
)
def test_a_variable_is_never_an_impossible_value(key: str, variable: str) -> None:
    (parsed,) = statement({"StringEquals": {key: variable}}).conditions
    assert never_holds((parsed,), None) is None


def test_a_malformed_literal_still_can_never_hold() -> None:
    """The control: only a literal that no id can be voids the statement."""
    (parsed,) = statement({"StringEquals": {"aws:PrincipalAccount": "12345"}}).conditions
    assert never_holds((parsed,), None) is not None


# --- the resource's own account or organisation bounds -------------------------------------------------------

SAME_ACCOUNT = {
    "resource account = principal account": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
    "principal account = resource account": {"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}},
    "principal arn in the resource's account": {
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:ResourceAccount}:role/*"}
    },
    "resource org = principal org": {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
    "principal org = resource org": {"StringEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}},
}


@pytest.mark.parametrize("condition", SAME_ACCOUNT.values(), ids=SAME_ACCOUNT.keys())
def test_the_same_account_or_organisation_idiom_admits_only_the_own(condition: dict[str, Any]) -> None:
    found = exposure_of(statement(condition), BOUNDARY)
    assert found.safe
    assert found.void is None, "trusted because it names the resource's own, not because it 'can never hold'"
    assert found.narrowed_by


def test_the_same_organisation_idiom_without_a_known_organisation_is_alerted_with_what_is_unknown() -> None:
    found = exposure_of(statement({"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}), NO_ORG)
    assert not found.public
    assert found.untrusted == frozenset({f"organization of account {OWN}"})
    assert any("organization_id is not set" in fact for fact in found.unknown)


def test_a_variable_only_the_resource_knows_is_unknown() -> None:
    """``${aws:ResourceTag/account}``: the resource's owner sets it; IAM Warden does not know it (alert-only)."""
    found = exposure_of(statement({"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceTag/account}"}}), BOUNDARY)
    assert found.public
    assert any("${aws:resourcetag/account}" in fact for fact in found.unknown)


# --- the rules, as the review's probes judged them ------------------------------------------------------------


def _bucket_event(condition: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("bucket-policy-org-condition.json"))
    event["detail"]["eventID"] = str(uuid.uuid4())
    event["detail"]["requestParameters"]["bucketPolicy"]["Statement"][0]["Condition"] = condition
    return event


@pytest.mark.parametrize(
    "condition",
    [SELF_COMPARISONS["account"], SELF_COMPARISONS["organisation"], SELF_COMPARISONS["arn in the caller's account"]],
    ids=["account", "organisation", "arn"],
)
def test_a_public_bucket_policy_behind_a_self_comparison_is_public(
    example_settings: Settings, condition: dict[str, Any]
) -> None:
    result = judge_event(_bucket_event(condition), example_settings)
    [finding] = result.findings
    assert finding.rule_id == "s3-bucket-policy-public"
    assert finding.severity is Severity.CRITICAL
    assert finding.needs_context == ()


@pytest.mark.parametrize("key", ["aws:ResourceAccount", "aws:ResourceOrgID"])
def test_the_same_account_idiom_on_a_bucket_stays_compliant(example_settings: Settings, key: str) -> None:
    variable = "${aws:PrincipalAccount}" if key == "aws:ResourceAccount" else "${aws:PrincipalOrgID}"
    result = judge_event(_bucket_event({"StringEquals": {key: variable}}), example_settings)
    assert result.verdict is Verdict.COMPLIANT
    assert "grants nothing" not in result.reason


def test_a_queue_policy_open_to_every_organisation_is_public(example_settings: Settings) -> None:
    event = copy.deepcopy(load_event("sqs-policy-org-condition.json"))
    attributes = event["detail"]["requestParameters"]["attributes"]
    policy = json.loads(attributes["Policy"])
    policy["Statement"][0]["Condition"] = SELF_COMPARISONS["organisation"]
    attributes["Policy"] = json.dumps(policy)
    [finding] = judge_event(event, example_settings).findings
    assert finding.rule_id == "sqs-queue-policy-public"


def test_a_key_policy_open_to_every_account_is_public(example_settings: Settings) -> None:
    event = copy.deepcopy(load_event("kms-put-key-policy-public.json"))
    parameters = event["detail"]["requestParameters"]
    policy = json.loads(parameters["policy"])
    for item in policy["Statement"]:
        if item.get("Principal") in ("*", {"AWS": "*"}):
            item["Condition"] = SELF_COMPARISONS["account"]
    parameters["policy"] = json.dumps(policy)
    [finding] = judge_event(event, example_settings).findings
    assert finding.rule_id == "kms-key-policy-public"
    assert finding.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    "condition",
    [SELF_COMPARISONS["account"], SELF_COMPARISONS["organisation"], SELF_COMPARISONS["a real id beside the variable"]],
    ids=["account", "organisation", "mixed"],
)
def test_a_trust_policy_open_to_every_account_behind_a_self_comparison_is_untrusted(
    example_settings: Settings, condition: dict[str, Any]
) -> None:
    event = copy.deepcopy(load_event("update-assume-role-policy-account-root.json"))
    trust = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": condition}
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    result = judge_event(event, example_settings)
    assert "trust-policy-untrusted" in [finding.rule_id for finding in result.findings]


# --- web identity: a claim compared with itself ----------------------------------------------------------------


def _web_identity(subject: str, operator: str = "StringEquals") -> str | None:
    conditions: dict[str, dict[str, str]] = {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
    }
    conditions.setdefault(operator, {})["token.actions.githubusercontent.com:sub"] = subject
    raw = {"Effect": "Allow", "Principal": {"Federated": GITHUB}, "Action": "sts:AssumeRoleWithWebIdentity"}
    (parsed,) = parse_policy({"Version": "2012-10-17", "Statement": [raw | {"Condition": conditions}]}).statements
    return web_identity_problem(GITHUB, parsed.conditions)


def test_a_subject_compared_with_its_own_claim_lets_any_repository_in() -> None:
    problem = _web_identity("${token.actions.githubusercontent.com:sub}")
    assert problem is not None
    assert "any GitHub repository" in problem


def test_a_subject_whose_owner_is_the_tokens_own_lets_any_repository_in() -> None:
    problem = _web_identity("repo:${token.actions.githubusercontent.com:repository_owner}/*", "StringLike")
    assert problem is not None


def test_a_named_repository_with_a_variable_branch_stays_bound() -> None:
    assert _web_identity("repo:acme/app:ref:refs/heads/${aws:PrincipalTag/branch}") is None
    assert _web_identity("repo:acme/app:ref:refs/heads/main") is None


# --- review engine s10, finding 2: a caller's variable after a literal account still bounds to that account -----
# (probes /tmp/rv-engine-probes/e1.py A1-A5, t1.py T1/T2: compliant on main, certain public on engine-fix-s10)

LITERALLY_BOUNDED = {
    "per-team role prefix": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/${{aws:PrincipalTag/team}}-*"}},
    "own user": {"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:user/${{aws:username}}"}},
    "resource tag after the account": {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/${{aws:ResourceTag/owner}}"}
    },
    "OU path below the own organisation": {
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/${{aws:PrincipalTag/ou}}/*"}
    },
    "a literal star": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/${{*}}"}},
}


@pytest.mark.parametrize("condition", LITERALLY_BOUNDED.values(), ids=LITERALLY_BOUNDED.keys())
def test_a_variable_after_a_literal_own_account_stays_bounded(condition: dict[str, Any]) -> None:
    found = exposure_of(statement(condition), BOUNDARY)
    assert not found.public
    assert found.untrusted == frozenset()


def test_a_variable_after_another_literal_account_admits_that_account() -> None:
    condition = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/${aws:PrincipalTag/team}-*"}}
    found = exposure_of(statement(condition), BOUNDARY)
    assert not found.public
    assert found.untrusted == frozenset({"999999999999"})


UNBOUNDED_BY_POSITION = {
    "account field": "arn:aws:iam::${aws:PrincipalTag/a}:role/x",
    "partition field": f"arn:${{aws:PrincipalTag/p}}:iam::{OWN}:role/x",
    "account field from the resource's tag": "arn:aws:iam::${aws:ResourceTag/a}:role/x",
}


@pytest.mark.parametrize("value", UNBOUNDED_BY_POSITION.values(), ids=UNBOUNDED_BY_POSITION.keys())
def test_a_variable_before_or_in_the_account_field_bounds_nothing(value: str) -> None:
    """A substituted value may hold ``:``, so a variable before the account field may move it: unbounded."""
    assert exposure_of(statement({"ArnLike": {"aws:PrincipalArn": value}}), BOUNDARY).public


def test_a_variable_in_the_organisation_id_of_a_path_bounds_nothing() -> None:
    condition = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-${aws:PrincipalTag/o}/r-ab12/*"}}
    assert exposure_of(statement(condition), BOUNDARY).public


@pytest.mark.parametrize(
    "condition",
    [LITERALLY_BOUNDED["per-team role prefix"], LITERALLY_BOUNDED["own user"]],
    ids=["per-team role prefix", "own user"],
)
def test_a_bucket_policy_bounded_by_a_literal_own_account_is_compliant(
    example_settings: Settings, condition: dict[str, Any]
) -> None:
    result = judge_event(_bucket_event(condition), example_settings)
    assert result.verdict is Verdict.COMPLIANT
    assert result.findings == ()


def test_a_trust_policy_bounded_by_a_literal_own_account_is_not_untrusted(example_settings: Settings) -> None:
    event = copy.deepcopy(load_event("update-assume-role-policy-account-root.json"))
    condition = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/${{aws:PrincipalTag/team}}-deployer"}}
    trust = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": condition}
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    result = judge_event(event, example_settings)
    assert "trust-policy-untrusted" not in [finding.rule_id for finding in result.findings]
