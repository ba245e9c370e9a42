"""Edges of the access point, DynamoDB and EFS policy rules that the shared resource-policy tests do not reach."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event


def _judge(sample: str, change: dict[str, Any]) -> Judgement:
    event = copy.deepcopy(load_event(sample))
    event["detail"]["requestParameters"].update(change)
    return judge_event(event, Settings())


def test_an_access_point_record_without_a_policy_is_not_judged() -> None:
    event = copy.deepcopy(load_event("access-point-policy-public.json"))
    del event["detail"]["requestParameters"]["PutAccessPointPolicyRequest"]

    judgement = judge_event(event, Settings())

    assert (judgement.verdict, judgement.findings) == (Verdict.IGNORED, ())
    assert "carries no policy" in judgement.reason


def test_an_access_point_policy_at_the_top_level_is_read_too() -> None:
    event = copy.deepcopy(load_event("access-point-policy-public.json"))
    request = event["detail"]["requestParameters"]
    request["policy"] = request.pop("PutAccessPointPolicyRequest")["Policy"]

    judgement = judge_event(event, Settings())

    assert [f.rule_id for f in judgement.findings] == ["s3-access-point-policy-public"]


def test_an_access_point_of_another_account_is_rejected() -> None:
    judgement = _judge("access-point-policy-public.json", {"x-amz-account-id": "999988887777"})

    assert judgement.verdict is Verdict.INVALID
    assert judgement.rejected


def test_an_access_point_body_that_is_not_an_object_is_invalid() -> None:
    judgement = _judge("access-point-policy-public.json", {"PutAccessPointPolicyRequest": "<xml/>"})

    assert judgement.verdict is Verdict.INVALID


def test_the_access_point_plan_names_it_by_arn() -> None:
    judgement = judge_event(load_event("access-point-policy-unknown-account.json"), Settings())

    [finding] = judgement.findings
    [step] = finding.plan
    assert step.parameters["access_point_arn"] == "arn:aws:s3:eu-west-1:111122223333:accesspoint/finance-ap"
    assert [s["sid"] for s in step.parameters["statements"]] == ["Auditor"]


def test_a_dynamodb_policy_of_another_accounts_table_is_rejected() -> None:
    arn = "arn:aws:dynamodb:eu-west-1:999988887777:table/orders"
    event = copy.deepcopy(load_event("dynamodb-policy-public.json"))
    event["detail"]["requestParameters"]["resourceArn"] = arn
    event["detail"]["resources"] = []

    judgement = judge_event(event, Settings())

    assert judgement.verdict is Verdict.INVALID
    assert judgement.rejected


@pytest.mark.parametrize(
    ("sample", "key", "limit"),
    [("dynamodb-policy-public.json", "policy", 20_480), ("efs-policy-public.json", "policy", 20_000)],
)
def test_a_policy_larger_than_aws_allows_is_invalid(sample: str, key: str, limit: int) -> None:
    document = json.loads(load_event(sample)["detail"]["requestParameters"][key])
    document["Statement"][0]["Sid"] = "x" * limit

    judgement = _judge(sample, {key: json.dumps(document)})

    assert judgement.verdict is Verdict.INVALID
    assert str(limit) in judgement.reason


def test_a_dynamodb_stream_policy_is_judged_on_the_stream() -> None:
    stream = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders/stream/2026-11-23T09:14:27.000"
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetRecords", "Resource": stream}],
    }

    judgement = _judge("dynamodb-policy-public.json", {"resourceArn": stream, "policy": json.dumps(document)})

    [finding] = judgement.findings
    assert finding.resource_arn == stream
    assert "read the change stream" in finding.reason


def test_an_opensearch_change_without_an_access_policy_is_compliant() -> None:
    judgement = judge_event(load_event("opensearch-config-no-policy.json"), Settings())

    assert judgement.verdict is Verdict.COMPLIANT
    assert "sets no access policy" in judgement.reason


@pytest.mark.parametrize("event_name", ["CreateDomain", "CreateElasticsearchDomain", "UpdateElasticsearchDomainConfig"])
def test_every_opensearch_event_that_carries_a_policy_is_judged(event_name: str) -> None:
    event = copy.deepcopy(load_event("opensearch-policy-public.json"))
    event["detail"]["eventName"] = event_name

    judgement = judge_event(event, Settings())

    assert [f.rule_id for f in judgement.findings] == ["opensearch-access-policy-public"]
    assert judgement.findings[0].resource_arn == "arn:aws:es:eu-west-1:111122223333:domain/orders-search"


def test_the_opensearch_action_declares_update_once() -> None:
    from iamwarden.guardrails.opensearch_policy import REMOVE_DOMAIN_POLICY_STATEMENTS

    assert REMOVE_DOMAIN_POLICY_STATEMENTS.permissions == ("es:DescribeDomainConfig", "es:UpdateDomainConfig")
    assert REMOVE_DOMAIN_POLICY_STATEMENTS.action.permissions == REMOVE_DOMAIN_POLICY_STATEMENTS.permissions
