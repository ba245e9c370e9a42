"""Wildcard matching: exact semantics, linear time on hostile patterns, ARNs matched field by field."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamwarden.domain.policy import action_matches
from iamwarden.domain.wildcards import arn_match, matches_any, wildcard_match


def reference(pattern: str, text: str) -> bool:
    """The same semantics through a regex: fine for short inputs, exponential on hostile ones."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


@given(st.text("ab*?:", max_size=8), st.text("ab:", max_size=10))
def test_agrees_with_a_regex_reference(pattern: str, text: str) -> None:
    assert wildcard_match(pattern, text) is reference(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("", "", True),
        ("*", "", True),
        ("?", "", False),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:?etObject", "s3:GetObject", True),
        ("*Object", "s3:GetObject", True),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "axxbyy", False),
        ("iamwarden-*", "iamwarden-enforcer", True),
        ("iamwarden-*", "dev-iamwarden-enforcer", False),
    ],
)
def test_wildcard_cases(pattern: str, text: str, expected: bool) -> None:
    assert wildcard_match(pattern, text) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "s3:" + "*" * 40 + "z",
        "s3:" + "*a" * 40 + "z",
        "*" * 200 + ":GetObject",
    ],
)
def test_hostile_patterns_are_answered_not_backtracked(pattern: str) -> None:
    # A backtracking regex needs years for these; the two-pointer match answers at once.
    assert action_matches(pattern, "s3:" + "a" * 60) is False
    assert action_matches(pattern, "s3:putbucketpolicy") is False


def test_arn_patterns_never_let_a_star_cross_fields() -> None:
    pattern = "arn:aws:iam::*:role/BreakGlassAdmin"
    assert arn_match(pattern, "arn:aws:iam::111122223333:role/BreakGlassAdmin")
    # An IAM path may contain ":"; the resource field must still match as a whole.
    assert not arn_match(pattern, "arn:aws:iam::111122223333:role/x:role/BreakGlassAdmin")
    assert not arn_match(pattern, "arn:aws:sts::111122223333:assumed-role/BreakGlassAdmin/s")
    assert arn_match("arn:aws:iam::*:role/app-*", "arn:aws:iam::111122223333:role/app-backend")
    assert not arn_match("arn:aws:iam::*:role/app-*", "not-an-arn")


def test_matches_any_takes_plain_and_arn_patterns() -> None:
    assert matches_any("arn:aws:iam::111122223333:user/alice", ["nobody", "arn:aws:iam::*:user/*"])
    assert not matches_any("arn:aws:iam::111122223333:user/alice", [])
