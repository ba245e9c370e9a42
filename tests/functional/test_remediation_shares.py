"""Removing snapshot, image and database-snapshot shares against moto: exactly the offending entries, undo exact.

The contract test (test_guardrail_contract.py) runs each rule end to end; these are the edges: a share
someone removed since, a resource deleted before or after the remediation, an entry put back by hand.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.executor import AccountClients, StepRun
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.registry import ACTIONS
from tests.aws_fixtures import HOME_ACCOUNT
from tests.functional.conftest import Account

REGION = "eu-west-1"
PARTNER = "444455556666"
OUTSIDER = "999988887777"
NOW = "2026-11-23T09:15:00.000+00:00"


@pytest.fixture
def aws(account: Account) -> AccountClients:
    return AccountClients(ClientFactory(HOME_ACCOUNT, session=account.session), HOME_ACCOUNT, REGION)


def _image(aws: AccountClients, *shares: dict[str, str]) -> str:
    ec2 = aws.client("ec2")
    image = str(ec2.register_image(Name="orders-api")["ImageId"])
    if shares:
        ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": list(shares)})
    return image


def _image_shares(aws: AccountClients, image: str) -> list[dict[str, str]]:
    answer = aws.client("ec2").describe_image_attribute(ImageId=image, Attribute="launchPermission")
    return sorted(answer["LaunchPermissions"], key=str)


def _step(action: StepAction, identifier: str, *grantees: str) -> RemediationStep:
    return RemediationStep(
        action, f"arn:aws:ec2:{REGION}::image/{identifier}", {"resource_id": identifier, "grantees": list(grantees)}
    )


def _run(aws: AccountClients, step: RemediationStep) -> tuple[dict[str, Any], list[str]]:
    action = ACTIONS[step.action]
    before = action.capture(aws, step)
    done: list[str] = []
    action.apply(StepRun(aws, "f-1", NOW), step, before, done)
    return before, done


def test_only_the_offending_entries_go_and_undo_puts_exactly_them_back(aws: AccountClients) -> None:
    image = _image(aws, {"Group": "all"}, {"UserId": PARTNER}, {"UserId": OUTSIDER})
    step = _step(StepAction.REMOVE_IMAGE_SHARE, image, "all", OUTSIDER)

    before, done = _run(aws, step)

    assert before == {"exists": True, "shared_with": sorted(["all", PARTNER, OUTSIDER])}
    assert _image_shares(aws, image) == [{"UserId": PARTNER}]
    assert done == [
        f"removed every AWS account and account {OUTSIDER} from the share list of AMI {image}; kept 1 other entry"
    ]
    restored = ACTIONS[step.action].undo(aws, step, before)
    assert restored == [f"shared AMI {image} again with every AWS account and account {OUTSIDER}"]
    assert _image_shares(aws, image) == sorted([{"Group": "all"}, {"UserId": PARTNER}, {"UserId": OUTSIDER}], key=str)


def test_a_share_removed_since_is_never_touched(aws: AccountClients) -> None:
    image = _image(aws, {"UserId": PARTNER})
    step = _step(StepAction.REMOVE_IMAGE_SHARE, image, "all")

    before, done = _run(aws, step)

    assert done == []
    assert _image_shares(aws, image) == [{"UserId": PARTNER}]
    assert ACTIONS[step.action].undo(aws, step, before) == [], "nothing was removed, so nothing is put back"


def test_a_share_put_back_by_hand_is_not_added_twice(aws: AccountClients) -> None:
    image = _image(aws, {"Group": "all"})
    step = _step(StepAction.REMOVE_IMAGE_SHARE, image, "all")
    before, _ = _run(aws, step)
    aws.client("ec2").modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]})

    assert ACTIONS[step.action].undo(aws, step, before) == []


def _public_snapshot(aws: AccountClients) -> tuple[str, RemediationStep]:
    ec2 = aws.client("ec2")
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    snapshot = str(ec2.create_snapshot(VolumeId=volume)["SnapshotId"])
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    step = RemediationStep(
        StepAction.REMOVE_SNAPSHOT_SHARE,
        f"arn:aws:ec2:{REGION}::snapshot/{snapshot}",
        {"resource_id": snapshot, "grantees": ["all"]},
    )
    return snapshot, step


def test_undo_of_a_deleted_snapshot_is_refused(aws: AccountClients) -> None:
    snapshot, step = _public_snapshot(aws)
    before, done = _run(aws, step)
    assert done, "the public share was removed"
    aws.client("ec2").delete_snapshot(SnapshotId=snapshot)

    with pytest.raises(UndoError, match="no longer exists"):
        ACTIONS[step.action].undo(aws, step, before)


def test_a_db_snapshot_deleted_before_the_remediation_is_done(aws: AccountClients) -> None:
    step = RemediationStep(
        StepAction.REMOVE_DB_SNAPSHOT_SHARE,
        f"arn:aws:rds:{REGION}:{HOME_ACCOUNT}:snapshot:gone",
        {"resource_id": "gone", "grantees": ["all"]},
    )

    before, done = _run(aws, step)

    assert (before, done) == ({"exists": False, "shared_with": None}, [])


def test_a_snapshot_deleted_before_the_remediation_is_done(aws: AccountClients) -> None:
    step = RemediationStep(
        StepAction.REMOVE_SNAPSHOT_SHARE,
        f"arn:aws:ec2:{REGION}::snapshot/snap-0123456789abcdef0",
        {"resource_id": "snap-0123456789abcdef0", "grantees": ["all"]},
    )

    before, done = _run(aws, step)

    assert (before, done) == ({"exists": False, "shared_with": None}, [])


def test_access_denied_is_not_taken_for_gone(aws: AccountClients) -> None:
    image = _image(aws, {"Group": "all"})
    ec2 = aws.client("ec2")

    def refused(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "injected"}}, "DescribeImageAttribute")

    ec2.meta.events.register("before-call.ec2.DescribeImageAttribute", refused)

    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        _run(aws, _step(StepAction.REMOVE_IMAGE_SHARE, image, "all"))
