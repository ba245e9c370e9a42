"""Issue 14 item 6: trust boundaries the organisation states, ``github_owners`` and ``cognito_identity_pools``.

The trust policies follow the documented shapes: GitHub's "Configuring OpenID Connect in Amazon Web Services"
(``repo:octo-org/octo-repo:*``) and the AWS IAM User Guide's GitHub example; the Amazon Cognito Developer Guide,
"Role trust and permissions" (``cognito-identity.amazonaws.com:aud`` with ``ForAnyValue:StringLike`` on ``amr``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

GITHUB = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"
AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
COGNITO = "cognito-identity.amazonaws.com"
OUR_POOL = "us-east-1:8d2b6f3a-5c1e-4f7a-9b0d-2e6c4a1f3b57"
OTHER_POOL = "eu-west-1:4c7e2a9d-1f3b-4e6a-8c5d-0b9f7e3a1d26"
AUTHENTICATED = {"ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"}}


def _settings(**values: Any) -> Settings:
    settings, problems = parse_settings(values)
    assert not problems
    return settings


OURS = _settings(github_owners="acme,Acme-Labs", cognito_identity_pools=OUR_POOL)


def _judge(statement: dict[str, Any], settings: Settings = OURS) -> tuple[str, str]:
    event = copy.deepcopy(load_event("trust-update-unknown-account.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}
    )
    judgement = judge_event(event, settings)
    return judgement.verdict.value, judgement.reason


def _github(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Federated": GITHUB},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }


def _cognito(condition: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": COGNITO},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


@pytest.mark.parametrize(
    ("condition", "verdict"),
    [
        ({"StringEquals": {**AUD, SUB: "repo:acme/payments:ref:refs/heads/main"}}, "compliant"),
        ({"StringLike": {SUB: "repo:acme/*"}}, "compliant"),
        ({"StringLike": {SUB: "repo:acme-labs/tools:*"}}, "compliant"),  # owners compare case-insensitively
        ({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}, "violation"),
        ({"StringEquals": {SUB: "repo:octo-org/octo-repo:ref:refs/heads/main"}}, "violation"),
        ({"StringLike": {SUB: ["repo:acme/app:*", "repo:octo-org/app:*"]}}, "violation"),  # values are ORed
        # Conditions are ANDed: one that admits only our owner bounds the statement.
        ({"StringLike": {SUB: "repo:octo-org/*"}, "StringEquals": {SUB: "repo:acme/app:env:prod"}}, "compliant"),
        ({"StringLike": {SUB: "repo:*"}}, "violation"),  # unrestricted, as before
        ({"StringEquals": AUD}, "violation"),  # no subject at all, as before
        # A customised subject claim names no owner in the repo:OWNER/ form: it is not checked against the list.
        ({"StringEquals": {SUB: "repository_owner_id:42:environment:prod"}}, "compliant"),
    ],
)
def test_github_subjects_against_the_organisation_s_owners(condition: dict[str, Any], verdict: str) -> None:
    assert _judge(_github(condition))[0] == verdict


def test_another_owner_is_named_in_the_reason() -> None:
    verdict, reason = _judge(_github({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}))

    assert verdict == "violation"
    assert "lets GitHub Actions of the owner octo-org assume it" in reason
    assert "outside github_owners (Acme-Labs, acme)" in reason


def test_without_github_owners_another_owner_is_not_checked() -> None:
    assert _judge(_github({"StringLike": {SUB: "repo:octo-org/octo-repo:*"}}), Settings())[0] == "compliant"


@pytest.mark.parametrize(
    ("condition", "verdict"),
    [
        ({"StringEquals": {f"{COGNITO}:aud": OUR_POOL}, **AUTHENTICATED}, "compliant"),
        ({"StringEquals": {f"{COGNITO}:aud": OTHER_POOL}, **AUTHENTICATED}, "violation"),
        ({"StringEquals": {f"{COGNITO}:aud": [OUR_POOL, OTHER_POOL]}}, "violation"),
        ({"StringLike": {f"{COGNITO}:aud": "us-east-1:*"}}, "violation"),  # a pattern is not a listed pool
        ({"StringEqualsIfExists": {f"{COGNITO}:aud": OUR_POOL}}, "violation"),  # holds without the key
        (AUTHENTICATED, "violation"),  # no aud: any pool
        (None, "violation"),
        # ANDed: one condition naming only our pool bounds the statement.
        ({"StringLike": {f"{COGNITO}:aud": "*"}, "StringEquals": {f"{COGNITO}:aud": OUR_POOL}}, "compliant"),
    ],
)
def test_cognito_pools_against_the_organisation_s_pools(condition: dict[str, Any] | None, verdict: str) -> None:
    assert _judge(_cognito(condition))[0] == verdict


def test_an_unlisted_pool_is_named_in_the_reason() -> None:
    _, reason = _judge(_cognito({"StringEquals": {f"{COGNITO}:aud": OTHER_POOL}}))

    assert f"lets identities of the Cognito identity pool {OTHER_POOL} assume it" in reason
    assert f"not among cognito_identity_pools ({OUR_POOL})" in reason


def test_without_listed_pools_any_bound_pool_passes_as_before() -> None:
    condition = {"StringEquals": {f"{COGNITO}:aud": OTHER_POOL}}
    assert _judge(_cognito(condition), Settings())[0] == "compliant"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("github_owners", "*", "'*' matches everything"),
        ("github_owners", "acme,*", "'*' matches everything"),
        ("github_owners", "acme*", "must be GitHub owner names like acme (no wildcards), got 'acme*'"),
        ("github_owners", "repo:acme", "must be GitHub owner names"),
        ("github_owners", "-acme", "must be GitHub owner names"),
        ("cognito_identity_pools", "*", "'*' matches everything"),
        ("cognito_identity_pools", "us-east-1:*", "'us-east-1:*' matches everything"),
        ("cognito_identity_pools", "my-pool", "must be Cognito identity pool ids"),
    ],
)
def test_settings_that_would_open_the_boundary_are_refused(key: str, value: str, message: str) -> None:
    settings, problems = parse_settings({key: value})

    [problem] = problems
    assert (problem.key, message in problem.message) == (key, True)
    assert getattr(settings, key) == frozenset()  # falls back to "not stated", and the configuration alert says why


def test_settings_take_lists_as_the_ssm_stringlist_or_a_yaml_list() -> None:
    assert _settings(github_owners="acme, acme-labs").github_owners == {"acme", "acme-labs"}
    assert _settings(cognito_identity_pools=[OUR_POOL]).cognito_identity_pools == {OUR_POOL}


# --- proportional: the plan names only the outsider's principal of a shared statement ------------------


def _plan_statements(statement: dict[str, Any]) -> list[dict[str, Any]]:
    event = copy.deepcopy(load_event("trust-update-unknown-account.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}
    )
    # A principal of the account let in is privilege-escalation's too (alert-only here, without details).
    [finding] = [f for f in judge_event(event, Settings()).findings if f.rule_id == "trust-policy-untrusted"]
    [step] = finding.plan
    return list(step.parameters["statements"])


def test_an_outsider_sharing_a_statement_with_our_role_is_cut_alone() -> None:
    statement = {
        "Sid": "Deployers",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111122223333:role/ci", "999988887777"]},
        "Action": "sts:AssumeRole",
    }

    [cut] = _plan_statements(statement)

    assert cut["principals"] == {"AWS": ["999988887777"]}


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "arn:aws:iam::999988887777:root"},  # nothing else would be left
        {"AWS": ["arn:aws:iam::111122223333:role/ci", "*"]},  # public: the statement goes whole
        {"AWS": "arn:aws:iam::999988887777:root", "Federated": GITHUB},  # and any GitHub repository: two problems
    ],
)
def test_otherwise_the_whole_statement_goes(principal: dict[str, Any]) -> None:
    actions = ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]
    statement = {"Effect": "Allow", "Principal": principal, "Action": actions}

    [cut] = _plan_statements(statement)

    assert "principals" not in cut
