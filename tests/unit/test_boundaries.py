"""domain.boundaries: whether a new permissions boundary allows anything the previous one did not."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.boundaries import pattern_covers, patterns_overlap, widened
from iamwarden.domain.policy import Policy, parse_policy


def _policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str | list[str] = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def _deny(action: str | list[str], resource: str | list[str] = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def _texts(previous: Policy, new: Policy) -> list[str]:
    return [widening.text for widening in widened(previous, new)]


@pytest.mark.parametrize(
    ("outer", "inner", "covers"),
    [
        ("s3:*", "s3:get*", True),
        ("s3:get*", "s3:*", False),
        ("*", "*", True),
        ("s3:getobject", "s3:get*", False),
        ("a?c", "abc", True),
        ("a?c", "a*c", False),  # ? takes one character, the star any run
        ("a*c", "a?c", True),
        ("*a*", "*a*a*", True),
        ("s3:get?bject", "s3:get?bject", True),
    ],
)
def test_a_pattern_covers_another_only_when_it_matches_all_it_matches(outer: str, inner: str, covers: bool) -> None:
    assert pattern_covers(outer, inner) is covers


@pytest.mark.parametrize(
    ("one", "other", "overlap"),
    [
        ("s3:get*", "s3:*object", True),
        ("s3:get*", "iam:*", False),
        ("a?c", "a*", True),
        ("abc", "abd", False),
        ("*", "x", True),
    ],
)
def test_two_patterns_overlap_when_some_string_matches_both(one: str, other: str, overlap: bool) -> None:
    assert patterns_overlap(one, other) is overlap


def test_a_narrower_boundary_is_no_wider() -> None:
    assert widened(_policy(_allow("s3:*")), _policy(_allow("s3:Get*"))) == ()
    assert widened(_policy(_allow(["s3:*", "dynamodb:*"])), _policy(_allow("dynamodb:GetItem"))) == ()


def test_an_action_the_previous_boundary_did_not_allow_is_named() -> None:
    texts = _texts(_policy(_allow(["s3:*", "dynamodb:*"])), _policy(_allow(["s3:*", "iam:*"])))

    assert texts == ["allows iam:* on * (statement 0)"]


def test_a_wider_resource_is_named() -> None:
    previous = _policy(_allow("s3:*", "arn:aws:s3:::app-*"))

    assert widened(previous, _policy(_allow("s3:*", "arn:aws:s3:::app-data/*"))) == ()
    assert _texts(previous, _policy(_allow("s3:*"))) == ["allows s3:* on * (statement 0)"]
    assert _texts(previous, _policy(_allow("s3:*", "arn:aws:s3:::*"))) == [
        "allows s3:* on arn:aws:s3:::* (statement 0)"
    ]


def test_a_dropped_deny_is_named_only_where_the_new_boundary_allows() -> None:
    previous = _policy(_allow("*"), _deny("iam:*"))

    assert _texts(previous, _policy(_allow("*"))) == ["no longer denies iam:* on * (previous boundary's statement 1)"]
    assert widened(previous, _policy(_allow("*"), _deny("iam:*"))) == ()
    assert widened(previous, _policy(_allow("*"), _deny(["iam:*", "organizations:*"]))) == ()
    assert widened(previous, _policy(_allow("s3:*"))) == ()  # nothing it allows was denied


def test_a_deny_kept_only_under_a_condition_is_dropped() -> None:
    previous = _policy(_allow("*"), _deny("iam:*"))
    condition = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}

    assert len(widened(previous, _policy(_allow("*"), _deny("iam:*", Condition=condition)))) == 1


def test_conditions_narrow_a_new_statement_but_never_widen_a_previous_one() -> None:
    condition = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    unconditioned = _policy(_allow("ec2:*"))
    conditioned = _policy(_allow("ec2:*", Condition=condition))

    assert widened(unconditioned, conditioned) == ()
    assert _texts(conditioned, unconditioned) == ["allows ec2:* on * (statement 0)"]


def test_not_action_statements_compare_by_what_they_leave_out() -> None:
    all_but_iam = _policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})

    assert widened(all_but_iam, _policy(_allow("s3:*"))) == ()
    assert _texts(all_but_iam, _policy(_allow("iam:PassRole"))) == ["allows iam:passrole on * (statement 0)"]
    assert widened(all_but_iam, _policy({"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"})) == ()
    assert _texts(all_but_iam, _policy({"Effect": "Allow", "NotAction": "iam:Create*", "Resource": "*"})) == [
        "allows everything but iam:create* on * (statement 0)"
    ]
    assert widened(_policy(_allow("*")), all_but_iam) == ()


def test_an_action_the_new_boundary_denies_outright_needs_no_cover() -> None:
    assert widened(_policy(_allow("s3:*")), _policy(_allow(["s3:*", "iam:*"]), _deny("iam:*"))) == ()


def test_what_only_several_previous_statements_cover_together_reads_as_wider() -> None:
    """Never "no wider" on a guess: a union cover is a human's call (documented)."""
    previous = _policy(_allow("s3:Get*"), _allow("s3:Put*"))

    assert widened(previous, _policy(_allow(["s3:GetObject", "s3:PutObject"]))) == ()
    assert _texts(previous, _policy(_allow("s3:*Object"))) == ["allows s3:*object on * (statement 0)"]
