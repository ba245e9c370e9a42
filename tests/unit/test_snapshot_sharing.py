"""The judgements of ebs-snapshot-shared, ami-shared and rds-snapshot-shared, edge by edge (issue 18)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ORGANIZATION = "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"
OTHER_ORGANIZATION = "arn:aws:organizations::999988887777:organization/o-zz9y8x7w6v"
OWN_OU = "arn:aws:organizations::111122223333:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56"


def _settings(**values: Any) -> Settings:
    settings, problems = parse_settings(values)
    assert not problems
    return settings


TRUSTING = _settings(trusted_accounts=["444455556666"], organization_id="o-a1b2c3d4e5")


def _judge(sample: str, request: dict[str, Any], settings: Settings | None = None) -> Judgement:
    event = copy.deepcopy(load_event(sample))
    event["detail"]["requestParameters"] = request
    return judge_event(event, settings or Settings())


def _snapshot(items: list[dict[str, str]], operation: str = "add") -> dict[str, Any]:
    return {
        "snapshotId": "snap-0a1b2c3d4e5f67890",
        "createVolumePermission": {operation: {"items": items}},
        "attributeType": "CREATE_VOLUME_PERMISSION",
    }


def _image(items: list[dict[str, str]]) -> dict[str, Any]:
    return {"imageId": "ami-0c55b159cbfafe1f0", "launchPermission": {"add": {"items": items}}}


@pytest.mark.parametrize(
    ("items", "settings", "verdict", "severity"),
    [
        ([{"group": "all"}], Settings(), "violation", "critical"),
        ([{"group": "all"}], TRUSTING, "violation", "critical"),  # public is never trusted
        ([{"userId": "999988887777"}], TRUSTING, "violation", "high"),
        ([{"userId": "444455556666"}], Settings(), "violation", "high"),  # not trusted by default
        ([{"userId": "444455556666"}], TRUSTING, "compliant", None),
        ([{"userId": "111122223333"}], Settings(), "compliant", None),  # the owner itself
        ([{"userId": "444455556666"}, {"userId": "999988887777"}], TRUSTING, "violation", "high"),
    ],
)
def test_a_snapshot_share_is_judged_by_who_was_added(
    items: list[dict[str, str]], settings: Settings, verdict: str, severity: str | None
) -> None:
    judgement = _judge("snapshot-shared-public.json", _snapshot(items), settings)

    assert judgement.verdict.value == verdict, judgement.reason
    assert [f.severity.value for f in judgement.findings] == ([severity] if severity else [])


def test_only_the_untrusted_entries_are_planned_for_removal() -> None:
    items = [{"userId": "444455556666"}, {"userId": "999988887777"}, {"group": "all"}]
    judgement = _judge("snapshot-shared-public.json", _snapshot(items), TRUSTING)

    [finding] = judgement.findings
    [step] = finding.plan
    assert step.parameters == {"resource_id": "snap-0a1b2c3d4e5f67890", "grantees": ["999988887777", "all"]}
    assert step.target == "arn:aws:ec2:eu-west-1::snapshot/snap-0a1b2c3d4e5f67890"
    assert "public: every AWS account (and account 999988887777) can create volumes" in finding.reason


def test_removing_a_share_is_compliant() -> None:
    judgement = _judge("snapshot-share-removed.json", _snapshot([{"group": "all"}], operation="remove"))

    assert judgement.verdict is Verdict.COMPLIANT
    assert "owner only" in judgement.reason


def test_the_older_operation_type_form_is_read_too() -> None:
    request = {
        "snapshotId": "snap-0a1b2c3d4e5f67890",
        "attributeType": "CREATE_VOLUME_PERMISSION",
        "operationType": "add",
        "userGroup": {"items": [{"userGroup": "all"}]},
        "userId": {"items": [{"userId": "999988887777"}]},
    }

    judgement = _judge("snapshot-shared-public.json", request)

    [finding] = judgement.findings
    assert finding.plan[0].parameters["grantees"] == ["999988887777", "all"]


def test_another_attribute_is_not_a_share() -> None:
    request = {"imageId": "ami-0c55b159cbfafe1f0", "attributeType": "description", "description": {"value": "v2"}}

    judgement = _judge("ami-shared-public.json", request)

    assert judgement.verdict is Verdict.COMPLIANT
    assert "does not touch who it is shared with" in judgement.reason


@pytest.mark.parametrize(
    ("item", "verdict"),
    [
        ({"organizationArn": ORGANIZATION}, "compliant"),
        ({"organizationalUnitArn": OWN_OU}, "compliant"),
        ({"organizationArn": OTHER_ORGANIZATION}, "violation"),
        (
            {"organizationalUnitArn": "arn:aws:organizations::999988887777:ou/o-zz9y8x7w6v/ou-zz99-zz99zz99"},
            "violation",
        ),
    ],
)
def test_an_image_shared_with_an_organisation_is_trusted_only_for_our_own(item: dict[str, str], verdict: str) -> None:
    judgement = _judge("ami-shared-organization.json", _image([item]), TRUSTING)

    assert judgement.verdict.value == verdict, judgement.reason


def test_an_organisation_share_without_an_organisation_setting_is_untrusted() -> None:
    judgement = _judge("ami-shared-organization.json", _image([{"organizationArn": ORGANIZATION}]))

    [finding] = judgement.findings
    assert "organization o-a1b2c3d4e5, which this organisation does not trust" in finding.reason


@pytest.mark.parametrize(
    "request_parameters",
    [
        _snapshot([{"somethingElse": "x"}]),
        {"snapshotId": "snap-1", "createVolumePermission": "all"},
        {"snapshotId": "snap-1", "createVolumePermission": {"add": {"items": ["all"]}}},
        {"createVolumePermission": {"add": {"items": [{"group": "all"}]}}},
    ],
)
def test_an_unreadable_snapshot_share_is_invalid(request_parameters: dict[str, Any]) -> None:
    judgement = _judge("snapshot-shared-public.json", request_parameters)

    assert judgement.verdict is Verdict.INVALID


def test_a_db_snapshot_share_is_judged_on_the_restore_values() -> None:
    request = {"dBSnapshotIdentifier": "orders-db-2026-11-22", "attributeName": "restore", "valuesToAdd": ["all"]}

    judgement = _judge("rds-snapshot-shared-public.json", request, TRUSTING)

    [finding] = judgement.findings
    assert finding.resource_arn == "arn:aws:rds:eu-west-1:111122223333:snapshot:orders-db-2026-11-22"
    assert finding.plan[0].action == "remove_db_snapshot_share"


def test_a_db_snapshot_named_by_arn_is_named_by_its_identifier() -> None:
    arn = "arn:aws:rds:eu-west-1:111122223333:snapshot:orders-db-2026-11-22"
    request = {"dBSnapshotIdentifier": arn, "attributeName": "restore", "valuesToAdd": ["999988887777"]}

    judgement = _judge("rds-snapshot-shared-public.json", request)

    [finding] = judgement.findings
    assert finding.resource_arn == arn
    assert finding.plan[0].parameters["resource_id"] == "orders-db-2026-11-22"


def test_a_cluster_snapshot_share_plans_the_cluster_action() -> None:
    judgement = _judge(
        "rds-cluster-snapshot-shared-unknown-account.json",
        load_event("rds-cluster-snapshot-shared-unknown-account.json")["detail"]["requestParameters"],
    )

    [finding] = judgement.findings
    assert finding.resource_arn.endswith(":cluster-snapshot:billing-aurora-2026-11-22")
    assert finding.plan[0].action == "remove_db_cluster_snapshot_share"


@pytest.mark.parametrize(
    ("request_parameters", "verdict"),
    [
        ({"dBSnapshotIdentifier": "x", "attributeName": "restore", "valuesToRemove": ["all"]}, "compliant"),
        ({"dBSnapshotIdentifier": "x", "attributeName": "restore", "valuesToAdd": []}, "compliant"),
        ({"dBSnapshotIdentifier": "x", "attributeName": "other", "valuesToAdd": ["all"]}, "compliant"),
        ({"dBSnapshotIdentifier": "x", "attributeName": "restore", "valuesToAdd": "all"}, "invalid"),
        ({"attributeName": "restore", "valuesToAdd": ["all"]}, "invalid"),
    ],
)
def test_db_snapshot_edges(request_parameters: dict[str, Any], verdict: str) -> None:
    judgement = _judge("rds-snapshot-shared-public.json", request_parameters)

    assert judgement.verdict.value == verdict, judgement.reason
