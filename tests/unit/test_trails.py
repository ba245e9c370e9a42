"""How a trail's selectors and settings are read: what they leave out, and what a change weakens."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.trails import (
    request_settings,
    selector_impairments,
    setting_impairments,
    trail_is_good,
    unknown_changes,
)


def _what(found: list[Any]) -> list[str]:
    return [impairment.what.split(" (")[0] for impairment in found]


@pytest.mark.parametrize(
    ("selectors", "dropped"),
    [
        (None, []),
        ([{"readWriteType": "All", "includeManagementEvents": True}], []),
        ([{"ReadWriteType": "All"}], []),  # IncludeManagementEvents defaults to true
        ([{"readWriteType": "ReadOnly", "includeManagementEvents": True}], ["write management events"]),
        ([{"readWriteType": "WriteOnly", "includeManagementEvents": True}], ["read management events"]),
        (
            [{"readWriteType": "All", "includeManagementEvents": False}],
            ["write management events", "read management events"],
        ),
        (
            [
                {"readWriteType": "ReadOnly", "includeManagementEvents": True},
                {"readWriteType": "WriteOnly", "includeManagementEvents": True},
            ],
            [],
        ),
        (
            [{"readWriteType": "All", "excludeManagementEventSources": ["kms.amazonaws.com"]}],
            ["management events of kms.amazonaws.com"],
        ),
    ],
)
def test_basic_selectors(selectors: Any, dropped: list[str]) -> None:
    assert _what(selector_impairments(selectors, None)) == dropped


def _advanced(*fields: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Name": "selector", "FieldSelectors": list(fields)}]


@pytest.mark.parametrize(
    ("advanced", "dropped"),
    [
        (_advanced({"Field": "eventCategory", "Equals": ["Management"]}), []),
        (
            _advanced({"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}),
            ["write management events"],
        ),
        (
            _advanced({"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["x"]}),
            ["write management events", "read management events"],
        ),
        (
            _advanced(
                {"field": "eventCategory", "equals": ["Management"]},
                {"field": "eventSource", "notEquals": ["iam.amazonaws.com"]},
            ),
            ["management events of iam.amazonaws.com"],
        ),
    ],
)
def test_advanced_selectors(advanced: Any, dropped: list[str]) -> None:
    assert _what(selector_impairments(None, advanced)) == dropped


def test_an_update_is_judged_against_the_snapshot() -> None:
    previous = {"S3BucketName": "acme-cloudtrail-logs", "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True}
    changed = request_settings({"name": "t", "s3BucketName": "exfil", "isMultiRegionTrail": False})

    found = setting_impairments(changed, previous)

    assert [(i.what, i.critical) for i in found] == [
        ("S3BucketName changed from 'acme-cloudtrail-logs' to 'exfil'", True),
        ("IsMultiRegionTrail switched off", True),
    ]
    assert setting_impairments({"S3BucketName": "acme-cloudtrail-logs"}, previous) == []
    assert setting_impairments({"EnableLogFileValidation": True}, previous) == []


def test_without_a_snapshot_only_a_flag_switched_off_is_known_and_the_rest_is_named_unknown() -> None:
    changed = request_settings({"name": "t", "s3BucketName": "exfil", "includeGlobalServiceEvents": False})

    assert _what(setting_impairments(changed, None)) == ["IncludeGlobalServiceEvents switched off"]
    assert unknown_changes(changed) == ["S3BucketName"]


def test_a_flag_already_off_in_the_snapshot_is_no_new_impairment() -> None:
    assert setting_impairments({"EnableLogFileValidation": False}, {"EnableLogFileValidation": False}) == []


def test_only_a_logging_trail_with_every_management_event_is_good() -> None:
    every = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    assert trail_is_good({"logging": True, "event_selectors": every})
    assert not trail_is_good({"logging": False, "event_selectors": every})
    assert not trail_is_good({"logging": True, "event_selectors": [{"ReadWriteType": "ReadOnly"}]})
