"""KMS key policies and grants: event shapes, KMS's own account key, and the grant's record and undo.

The contract test runs the three rules end to end against moto; these cover the edges: keys named by id
or ARN, a key created with KMS's default policy, ``kms:CallerAccount`` naming an outside account, grants
to services, malformed events, and undo of a revoked grant when the same grant exists again.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.findings import RemediationStep, Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.kms_key_policy import RevokeGrant, default_key_policy, key_arn
from tests.conftest import load_event

ACCOUNT = "111122223333"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1f3c5a7e-2b4d-4e6f-8a0c-9d1e3f5a7b9c"


def _judge(event: dict[str, Any]) -> Any:
    return judge_event(event, Settings())


def test_keys_are_named_by_id_or_arn_never_by_alias() -> None:
    assert key_arn("aws", "eu-west-1", ACCOUNT, KEY.rsplit("/", 1)[-1]) == KEY
    assert key_arn("aws", "eu-west-1", ACCOUNT, KEY) == KEY
    with pytest.raises(InvalidEventError, match="does not name a KMS key"):
        key_arn("aws", "eu-west-1", ACCOUNT, "alias/orders")
    with pytest.raises(InvalidEventError, match="is not a KMS key ARN"):
        key_arn("aws", "eu-west-1", ACCOUNT, "arn:aws:kms:eu-west-1:111122223333:alias/orders")


def test_a_key_created_without_a_policy_gets_the_default_and_is_compliant() -> None:
    event = load_event("kms-create-key-caller-account.json")
    del event["detail"]["requestParameters"]["policy"]
    judgement = _judge(event)
    assert judgement.verdict is Verdict.COMPLIANT
    assert judgement.reason == "the change sets no policy on key 7e9a1c3b-5d7f-4a2c-8e4b-6f8a0c2e4d6b"


def test_create_key_without_the_new_keys_arn_is_invalid() -> None:
    event = load_event("kms-create-key-caller-account.json")
    event["detail"]["responseElements"] = {}
    assert "keyMetadata.arn" in _judge(event).reason


def test_kms_caller_account_of_an_outside_account_is_cross_account() -> None:
    event = load_event("kms-create-key-caller-account.json")
    request = event["detail"]["requestParameters"]
    request["policy"] = request["policy"].replace(
        '"kms:CallerAccount": "111122223333"', '"kms:CallerAccount": "999988887777"'
    )
    [finding] = _judge(event).findings
    assert finding.rule_id == "kms-key-policy-cross-account"
    assert finding.offending[0]["narrowed_by"] == ["aws:principalaccount"]


def test_the_default_key_policy_lets_in_the_owning_account_only() -> None:
    event = load_event("kms-put-key-policy-public.json")
    event["detail"]["requestParameters"]["policy"] = json.dumps(default_key_policy(KEY))
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_a_grant_to_a_service_principal_is_compliant() -> None:
    event = load_event("kms-create-grant-unknown-account.json")
    event["detail"]["requestParameters"]["granteePrincipal"] = "rds.eu-west-1.amazonaws.com"
    judgement = _judge(event)
    assert judgement.verdict is Verdict.COMPLIANT
    assert "is to the AWS service rds.eu-west-1.amazonaws.com" in judgement.reason


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"granteePrincipal": "somebody"}, "is not a principal"),
        ({"keyId": "alias/orders"}, "does not name a KMS key"),
    ],
)
def test_a_malformed_grant_event_is_invalid(change: dict[str, str], message: str) -> None:
    event = load_event("kms-create-grant-unknown-account.json")
    event["detail"]["requestParameters"].update(change)
    judgement = _judge(event)
    assert judgement.verdict is Verdict.INVALID
    assert message in judgement.reason


def test_a_grant_event_without_its_grant_id_is_invalid() -> None:
    event = load_event("kms-create-grant-unknown-account.json")
    event["detail"]["responseElements"] = None
    assert "grantId" in _judge(event).reason


GRANT = {
    "GrantId": "g-1",
    "GranteePrincipal": "arn:aws:iam::999988887777:role/etl",
    "Operations": ["Decrypt"],
    "Name": "",
}


class Kms:
    """A KMS client stub with one key's grants."""

    def __init__(self, grants: list[dict[str, Any]]) -> None:
        self.grants = grants
        self.created: list[dict[str, Any]] = []

    def client(self, service: str) -> Any:
        return self

    def get_paginator(self, operation: str) -> Any:
        grants = self.grants

        class Pages:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                return [{"Grants": grants}]

        return Pages()

    def create_grant(self, **kwargs: Any) -> dict[str, str]:
        self.created.append(kwargs)
        return {"GrantId": "g-2"}


STEP = RemediationStep(RevokeGrant.action, KEY, {"key": KEY, "grant_id": "g-1"}, "revoke")


def test_undo_creates_the_same_grant_once_and_not_again_when_it_exists() -> None:
    kms = Kms([])
    restored = RevokeGrant().undo(kms, STEP, {"grant": GRANT})  # type: ignore[arg-type]
    assert kms.created == [
        {"KeyId": KEY, "GranteePrincipal": GRANT["GranteePrincipal"], "Operations": ["Decrypt"], "Name": ""}
    ]
    assert restored == [
        "created grant g-2 on key 1f3c5a7e-2b4d-4e6f-8a0c-9d1e3f5a7b9c, the same as revoked grant g-1 "
        "(KMS gives a new grant a new id)"
    ]
    again = Kms([{**GRANT, "GrantId": "g-2"}])
    assert RevokeGrant().undo(again, STEP, {"grant": GRANT}) == []  # type: ignore[arg-type]
    assert again.created == []


def test_undo_of_a_grant_recorded_without_operations_is_refused() -> None:
    with pytest.raises(UndoError, match="recorded no operations"):
        RevokeGrant().undo(Kms([]), STEP, {"grant": {**GRANT, "Operations": []}})  # type: ignore[arg-type]


def test_a_grant_already_gone_is_not_revoked() -> None:
    before = RevokeGrant().capture(Kms([]), STEP)  # type: ignore[arg-type]
    done: list[str] = []
    RevokeGrant().apply(None, STEP, before, done)  # type: ignore[arg-type]
    assert (before, done) == ({"grant": None}, [])
