"""How a trail's selectors and settings are read: what they leave out, and what a change weakens."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.trails import (
    logs_management_writes,
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


_MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


@pytest.mark.parametrize(
    ("field", "named"),
    [
        # Review s10 finding 7: a selector that keeps management events but filters them by who made them, which
        # call, or how the source is spelled keeps the intruder's own calls out of the record.
        (
            {"field": "userIdentity.arn", "notStartsWith": ["arn:aws:sts::111122223333:assumed-role/developer/"]},
            "userIdentity.arn NotStartsWith arn:aws:sts::111122223333:assumed-role/developer/",
        ),
        (
            {"Field": "eventName", "NotEquals": ["StopLogging", "PutRolePolicy"]},
            "eventName NotEquals StopLogging, PutRolePolicy",
        ),
        ({"Field": "eventType", "Equals": ["AwsServiceEvent"]}, "eventType Equals AwsServiceEvent"),
        ({"Field": "eventSource", "NotStartsWith": ["iam."]}, "eventSource NotStartsWith iam."),
        ({"Field": "eventSource", "NotEndsWith": ["amazonaws.com"]}, "eventSource NotEndsWith amazonaws.com"),
    ],
)
def test_a_management_selector_filtered_by_anything_else_is_a_critical_partial_loss(
    field: dict[str, Any], named: str
) -> None:
    found = selector_impairments(None, _advanced(_MANAGEMENT, field))
    assert [(i.what, i.critical, i.partial) for i in found] == [
        (f"every write management event but those matching {named}", True, True),
        (f"every read management event but those matching {named}", False, True),
    ]
    assert not trail_is_good({"logging": True, "advanced_event_selectors": _advanced(_MANAGEMENT, field)})
    # Some writes still reach the trail: IAM Warden is not told that no trail logs the account's writes.
    assert logs_management_writes({"IsLogging": True}, {"AdvancedEventSelectors": _advanced(_MANAGEMENT, field)})


def test_read_only_not_equals_false_keeps_reads_only() -> None:
    found = selector_impairments(None, _advanced(_MANAGEMENT, {"Field": "readOnly", "NotEquals": ["false"]}))
    assert [(i.what.split(" (")[0], i.critical) for i in found] == [("write management events", True)]
    found = selector_impairments(None, _advanced(_MANAGEMENT, {"Field": "readOnly", "NotEquals": ["true"]}))
    assert [i.what.split(" (")[0] for i in found] == ["read management events"]


def test_an_unfiltered_selector_beside_a_filtered_one_logs_everything() -> None:
    """Selectors are ORed: one that lets every management event in makes another's filter lose nothing."""
    selectors = _advanced(_MANAGEMENT, {"Field": "eventName", "Equals": ["PutObject"]}) + _advanced(_MANAGEMENT)
    assert selector_impairments(None, selectors) == []


def test_a_filter_on_reads_alone_leaves_writes_whole() -> None:
    selectors = _advanced(_MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}) + _advanced(
        _MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}, {"Field": "eventName", "NotEquals": ["GetObject"]}
    )
    assert [(i.what, i.critical) for i in selector_impairments(None, selectors)] == [
        ("every read management event but those matching eventName NotEquals GetObject", False)
    ]
