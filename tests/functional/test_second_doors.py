"""A resource policy set through the create or replicate call of a guarded resource kind (review s11 F2).

DynamoDB's ``CreateTable`` takes a ``ResourcePolicy`` and KMS's ``ReplicateKey`` a ``Policy`` for the replica:
the same documents ``PutResourcePolicy`` and ``PutKeyPolicy`` set, by a second door. Each is judged and
remediated like the first door, against the live resource (the replica in its own Region), and undone exactly.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = "arn:aws:iam::111122223333:user/secops"
PRIMARY, REPLICA = "eu-west-1", "eu-central-1"


def _replicated_key(account: Account) -> tuple[dict[str, Any], Any]:
    """A multi-Region key in eu-west-1 replicated to eu-central-1 with the sample's policy; the event of it."""
    event = copy.deepcopy(load_event("kms-replicate-key-public.json"))
    request = event["detail"]["requestParameters"]
    primary = account.session.client("kms", region_name=PRIMARY)
    key_id = primary.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    replica = primary.replicate_key(KeyId=key_id, ReplicaRegion=REPLICA, Policy=request["policy"])
    replica_kms = account.session.client("kms", region_name=REPLICA)
    # moto gives a replica its primary's policy whatever the call says; AWS gives it the call's: as AWS would have it.
    replica_kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=request["policy"])
    request["keyId"] = key_id
    event["detail"]["responseElements"]["replicaKeyMetadata"]["arn"] = replica["ReplicaKeyMetadata"]["Arn"]
    return event, replica_kms


def _statements(kms: Any, key_id: str) -> list[str]:
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    return [statement.get("Sid", "") for statement in policy["Statement"]]


def test_a_replica_opened_by_its_own_policy_is_closed_in_its_region_and_undone_exactly(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/kms-key-policy-public/mode", "remediate")
    event, replica_kms = _replicated_key(account)
    key_id = event["detail"]["requestParameters"]["keyId"]
    assert _statements(replica_kms, key_id) == ["Enable IAM User Permissions", "AnyoneEncrypts"]

    [finding] = enforcer.handle(event)["findings"]

    assert (finding["rule"], finding["outcome"]) == ("kms-key-policy-public", Outcome.REMEDIATED)
    [sent] = [n.finding for n in notifier.sent if n.finding]
    assert sent.region == REPLICA
    assert sent.resource_arn.startswith(f"arn:aws:kms:{REPLICA}:")
    assert _statements(replica_kms, key_id) == ["Enable IAM User Permissions"], "only the public statement goes"
    primary_policy = account.session.client("kms", region_name=PRIMARY).get_key_policy(
        KeyId=key_id, PolicyName="default"
    )["Policy"]
    assert "AnyoneEncrypts" not in primary_policy, "the primary's own policy was never the replica's"

    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _statements(replica_kms, key_id) == ["Enable IAM User Permissions", "AnyoneEncrypts"]


def test_a_replica_without_a_policy_of_its_own_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    event, _ = _replicated_key(account)
    del event["detail"]["requestParameters"]["policy"]

    result = enforcer.handle(event)

    assert result["findings"] == []
    assert "sets no policy" in result["reason"]


def _table_event(account: Account, *, policy: bool = True) -> dict[str, Any]:
    event = copy.deepcopy(load_event("dynamodb-create-table-public.json"))
    request = event["detail"]["requestParameters"]
    dynamodb = account.session.client("dynamodb", region_name=PRIMARY)
    dynamodb.create_table(
        TableName=request["tableName"],
        AttributeDefinitions=[{"AttributeName": "customerId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "customerId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = event["detail"]["responseElements"]["tableDescription"]["tableArn"]
    if policy:
        dynamodb.put_resource_policy(ResourceArn=arn, Policy=request["resourcePolicy"])
    else:
        del request["resourcePolicy"]
    return event


def test_a_table_born_public_loses_exactly_the_public_statement_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/dynamodb-resource-policy-public/mode", "remediate")
    event = _table_event(account)
    arn = event["detail"]["responseElements"]["tableDescription"]["tableArn"]
    dynamodb = account.session.client("dynamodb", region_name=PRIMARY)

    def sids() -> list[str]:
        policy = json.loads(dynamodb.get_resource_policy(ResourceArn=arn)["Policy"])
        return [statement["Sid"] for statement in policy["Statement"]]

    [finding] = enforcer.handle(event)["findings"]

    assert (finding["rule"], finding["outcome"]) == ("dynamodb-resource-policy-public", Outcome.REMEDIATED)
    assert sids() == ["OrdersService"]
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert sids() == ["OrdersService", "PublicRead"]


def test_a_table_created_without_a_policy_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    result = enforcer.handle(_table_event(account, policy=False))

    assert result["findings"] == []
    assert (
        "sets no policy on DynamoDB resource arn:aws:dynamodb:eu-west-1:111122223333:table/customers"
        in (result["reason"])
    )


def test_a_new_tables_policy_not_readable_yet_is_read_again_later_never_reported_remediated(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s11 W0: right after CreateTable a read may answer "no policy"; that is no proof it is gone."""
    import pytest

    from iamwarden.app.service import EnforcementFailedError

    account.set("rules/dynamodb-resource-policy-public/mode", "remediate")
    event = _table_event(account)
    arn = event["detail"]["responseElements"]["tableDescription"]["tableArn"]
    dynamodb = account.session.client("dynamodb", region_name=PRIMARY)
    dynamodb.delete_resource_policy(ResourceArn=arn)  # as the eventually consistent read answers a moment after

    with pytest.raises(EnforcementFailedError) as failed:
        enforcer.handle(event)

    record = account.audit().get(failed.value.failures[0].record.remediation_id)
    assert record is not None
    assert record.status == "failed"
    assert record.error == "could not read the live state, nothing was changed: call failed with NotYetReadable"
    assert list(record.done) == []
