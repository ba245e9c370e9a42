"""Policy variables as IAM substitutes them ("IAM policy elements: Variables and tags", IAM User Guide):
``${key}``, ``${key, 'default'}`` (a quote in the default doubled, spaces around the parts ignored, key names
case-insensitive), ``${$}`` for a literal ``$``."""

from __future__ import annotations

import pytest

from iamwarden.domain.variables import is_caller_side, names_own_user_only, only_variable, resolve, variables_in


def test_variables_are_found_with_their_defaults() -> None:
    text = "arn:aws:s3:::b/${aws:PrincipalTag/team, 'it''s'}/${ aws:username }/${*}/${$}"
    assert variables_in(text) == (("aws:principaltag/team", "it's"), ("aws:username", None))


def test_resolve_replaces_each_variable_by_what_lookup_says() -> None:
    asked: list[tuple[str, str | None]] = []

    def lookup(key: str, default: str | None) -> str | None:
        asked.append((key, default))
        return {"aws:principalaccount": "111122223333"}.get(key, default)

    resolved = resolve("arn:aws:iam::${AWS:PrincipalAccount}:role/${aws:PrincipalTag/x, 'app'}-${$}", lookup)
    assert resolved == "arn:aws:iam::111122223333:role/app-$"
    assert asked == [("aws:principalaccount", None), ("aws:principaltag/x", "app")]


def test_resolve_says_none_when_a_variable_cannot_be_replaced() -> None:
    assert resolve("role/${aws:PrincipalTag/x}", lambda key, default: None) is None


def test_text_without_variables_is_returned_as_is() -> None:
    assert resolve("arn:aws:iam::111122223333:role/*", lambda key, default: None) == "arn:aws:iam::111122223333:role/*"


def test_an_unclosed_variable_is_text() -> None:
    assert resolve("role/${aws:username", lambda key, default: "x") == "role/${aws:username"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("${aws:PrincipalAccount}", "aws:principalaccount"),
        (" ${aws:PrincipalOrgID} ", "aws:principalorgid"),
        ("${aws:PrincipalAccount, '1'}", None),
        ("x${aws:PrincipalAccount}", None),
        ("111122223333", None),
    ],
)
def test_only_variable_names_a_value_that_is_one_variable_and_nothing_else(value: str, key: str | None) -> None:
    assert only_variable(value) == key


@pytest.mark.parametrize(
    ("key", "caller"),
    [
        ("aws:principalaccount", True),
        ("aws:principaltag/team", True),
        ("aws:sourcevpce", True),
        ("token.actions.githubusercontent.com:sub", True),
        ("aws:resourceaccount", False),
        ("aws:resourcetag/owner", False),
        ("s3:prefix", False),
    ],
)
def test_the_caller_side_keys_are_those_the_caller_sets_or_brings(key: str, caller: bool) -> None:
    assert is_caller_side(key) is caller


@pytest.mark.parametrize(
    ("resource", "own"),
    [
        ("arn:aws:iam::111122223333:user/${aws:username}", True),
        ("arn:aws:iam::*:user/${aws:username}", True),
        ("arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}", True),
        ("arn:aws:iam::111122223333:user/dev/${AWS:UserName}", True),
        ("arn:aws:iam::111122223333:user/${aws:username}*", False),
        ("arn:aws:iam::111122223333:user/${aws:username}-*", False),
        ("arn:aws:iam::111122223333:user/*${aws:username}", False),
        ("arn:aws:iam::111122223333:role/${aws:username}", False),
        ("arn:aws:s3:::home/${aws:username}", False),
        ("${aws:username}", False),
    ],
)
def test_only_a_name_part_that_is_exactly_the_username_names_the_own_user_alone(resource: str, own: bool) -> None:
    assert names_own_user_only(resource) is own
