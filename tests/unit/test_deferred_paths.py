"""The paths whose modules load on first use, not at the enforcer's cold start (README, Benchmarks, session 16).

``tests/unit/test_cold_import.py`` keeps the modules out of the cold import; these check that each path that now
imports them when it runs answers as it did when they were imported at module level.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from iamwarden.adapters.exception_store import APPROVED, CachedActiveExceptions, ExceptionStore, to_item
from iamwarden.alerts.notifications import Notification
from iamwarden.app.service import _safe_notify
from iamwarden.domain.delivery import Delivery, DeliveryReport
from iamwarden.domain.exceptions import ExceptionStoreError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus, RuleException
from iamwarden.domain.variables import names_own_user_only, only_variable, variable_pattern

APPROVED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EXCEPTION = RuleException(
    exception_id="exc-1",
    scope=ExceptionScope("s3-bucket-policy-public", "arn:aws:s3:::acme-invoices", None),
    reason="public website",
    requester="arn:aws:iam::111122223333:user/alice",
    requested_at=APPROVED_AT,
    days=7,
    status=ExceptionStatus.APPROVED,
    approver="arn:aws:iam::111122223333:user/bob",
    approved_at=APPROVED_AT,
    expires_at=datetime(2026, 12, 8, 9, 0, tzinfo=UTC),
)


class Paginator:
    def __init__(self, dynamodb: DynamoDb) -> None:
        self.dynamodb = dynamodb

    def paginate(self, **kwargs: Any) -> Iterator[Mapping[str, Any]]:
        self.dynamodb.queries.append(kwargs)
        if self.dynamodb.fail:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}, "Query")
        return iter([{"Items": list(self.dynamodb.items)}])


class DynamoDb:
    def __init__(self, items: tuple[dict[str, Any], ...] = (), *, fail: bool = False) -> None:
        self.items = items
        self.fail = fail
        self.queries: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> Paginator:
        assert name == "query"
        return Paginator(self)


def test_the_approved_exceptions_are_read_with_the_same_query_by_the_spelt_status_as_by_the_enum() -> None:
    by_enum, by_value = DynamoDb((to_item(EXCEPTION),)), DynamoDb((to_item(EXCEPTION),))

    assert ExceptionStore("iamwarden-exceptions", by_enum).with_status(ExceptionStatus.APPROVED) == [EXCEPTION]
    assert ExceptionStore("iamwarden-exceptions", by_value).with_status(APPROVED) == [EXCEPTION]
    assert by_enum.queries == by_value.queries
    assert by_value.queries[0]["ExpressionAttributeValues"] == {":status": {"S": "approved"}}
    assert type(by_value.queries[0]["ExpressionAttributeValues"][":status"]["S"]) is str


def test_the_enforcers_cache_reads_the_approved_exceptions() -> None:
    dynamodb = DynamoDb((to_item(EXCEPTION),))

    assert CachedActiveExceptions(ExceptionStore("iamwarden-exceptions", dynamodb), 60).current() == (EXCEPTION,)
    assert dynamodb.queries[0]["ExpressionAttributeValues"] == {":status": {"S": "approved"}}


@pytest.mark.parametrize("status", [ExceptionStatus.APPROVED, APPROVED])
def test_a_failed_read_names_the_status_as_before(status: ExceptionStatus | Literal["approved"]) -> None:
    store = ExceptionStore("iamwarden-exceptions", DynamoDb(fail=True))

    with pytest.raises(ExceptionStoreError, match=r"^cannot read the approved exceptions from table iamwarden-exc"):
        store.with_status(status)


def test_a_notifier_that_raises_is_recorded_as_a_failed_delivery() -> None:
    class Raising:
        def notify(self, notification: Notification) -> DeliveryReport:
            raise RuntimeError("boom")

    report = _safe_notify(Raising(), Notification(Outcome.CONFIGURATION_ERROR))

    assert report == DeliveryReport((Delivery("notifier", ok=False, error="RuntimeError: boom"),))
    assert report.failed == report.deliveries


VALUES = [
    "${aws:username}",
    " ${aws:PrincipalAccount} ",
    "${aws:username, 'x'}",
    "arn:aws:iam::*:user/${aws:username}",
    "arn:aws:iam::*:user/${aws:username}*",
    "arn:aws:iam::*:user/path/${aws:username}",
    "arn:aws:iam::*:user/bob",
    "arn:aws:s3:::bucket/${aws:username}",
    "$aws:username",
    "{aws:username}",
    "",
    "/",
]


@pytest.mark.parametrize("value", VALUES)
def test_a_value_with_no_variable_is_answered_as_the_pattern_would(value: str) -> None:
    """``only_variable`` and ``names_own_user_only`` skip the pattern for a text without ``${``: same answers."""
    match = variable_pattern().fullmatch(value.strip())
    assert only_variable(value) == (match.group(1).lower() if match is not None and match.group(2) is None else None)
    last = value.rpartition("/")[2]
    if variable_pattern().fullmatch(last.strip()) is None:
        assert names_own_user_only(value) is False


# Main's spelling of both functions, kept here as the reference the shortcuts must equal (review s16 coldimport F3).
_MAINS_VARIABLE = re.compile(r"\$\{\s*([^\s,'}]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?\}")
_MAINS_USER_RESOURCE = re.compile(r":user(?:/|$)", re.IGNORECASE)


def _mains_only_variable(value: str) -> str | None:
    match = _MAINS_VARIABLE.fullmatch(value.strip())
    return match.group(1).lower() if match is not None and match.group(2) is None else None


def _mains_names_own_user_only(resource: str) -> bool:
    head, slash, last = resource.rpartition("/")
    match = _MAINS_VARIABLE.fullmatch(last.strip())
    return (
        bool(slash)
        and match is not None
        and match.group(1).lower() == "aws:username"
        and _MAINS_USER_RESOURCE.search(head) is not None
        and ":iam:" in head.lower()
    )


_PIECES = st.sampled_from(
    [
        "$",
        "{",
        "}",
        "${",
        "$ {",
        "\\${",
        "aws:username",
        "AWS:UserName",
        "aws:PrincipalAccount",
        ",",
        "'",
        "''",
        " ",
        "\u00a0",
        "\u2028",
        "\uff04{",
        "arn:aws:iam::",
        "*",
        ":user",
        ":USER/",
        "/",
        "x",
        "\u0130",
        "\u00df",
        ":iam:",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=3), max_size=12).map("".join))
def test_the_shortcuts_answer_as_mains_pattern_on_any_text(text: str) -> None:
    assert only_variable(text) == _mains_only_variable(text)
    assert names_own_user_only(text) is _mains_names_own_user_only(text)
