"""The samples' request shapes are the ones CloudTrail records, not ones built from API docs by hand.

CloudTrail writes ``requestParameters`` with the API's request members, each spelled as the API names it with
its first letter lower-cased (``Rule`` -> ``rule``, ``S3BucketName`` -> ``s3BucketName``, ``SAMLMetadataDocument``
-> ``sAMLMetadataDocument``), or, for a few members that start with an acronym, unchanged (SQS ``AddPermission``:
``AWSAccountIds``, the SQS Developer Guide's CloudTrail example). Published records checked against the samples:

* EventBridge ``PutRule``: the Amazon EventBridge User Guide's CloudTrail example (``name``, ``state``,
  ``eventPattern``, ``description``, ``scheduleExpression``; response ``ruleArn``).
* EventBridge ``PutTargets``: ``requestParameters.targets[].arn`` (Cloud Custodian issue #5984's CloudTrail-mode
  policy reads the target ARNs there); the members are botocore's ``Target`` (``id``, ``arn``, ``input``,
  ``inputTransformer``...).
* SQS ``AddPermission``/``RemovePermission``/``SetQueueAttributes``: the SQS Developer Guide's examples.
* Organizations ``CreateAccountResult``/``CloseAccountResult`` (service events): the Organizations User Guide.

No published record of EventBridge ``RemovePermission``/``DeleteEventBus``/``DisableRule``/``DeleteRule``/
``RemoveTargets`` or IAM ``DeletePolicyVersion`` was found (panther-analysis, stratus-red-team, cloud-custodian,
the AWS guides): their samples are held to botocore's request shapes by the test below, which names the member
that a hand-built sample would get wrong (``Targets`` for ``targets``, ``StatementId`` for ``statementId``).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape

from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import EVENTS_DIR, load_event

#: CloudTrail event sources whose requestParameters follow the API's request members (JSON and query protocols),
#: and botocore's name for each. S3, EC2 and RDS record their own shapes and are not held to this.
SERVICES = {
    "events.amazonaws.com": "events",
    "iam.amazonaws.com": "iam",
    "organizations.amazonaws.com": "organizations",
    "sns.amazonaws.com": "sns",
    "sqs.amazonaws.com": "sqs",
    "kms.amazonaws.com": "kms",
    "ssm.amazonaws.com": "ssm",
    "dynamodb.amazonaws.com": "dynamodb",
    "logs.amazonaws.com": "logs",
    "cloudtrail.amazonaws.com": "cloudtrail",
    "guardduty.amazonaws.com": "guardduty",
    "config.amazonaws.com": "config",
    "securityhub.amazonaws.com": "securityhub",
    "rolesanywhere.amazonaws.com": "rolesanywhere",
    "sso.amazonaws.com": "sso-admin",
    "identitystore.amazonaws.com": "identitystore",
    "secretsmanager.amazonaws.com": "secretsmanager",
    "ecr.amazonaws.com": "ecr",
    "monitoring.amazonaws.com": "cloudwatch",
    "lambda.amazonaws.com": "lambda",
}
#: Lambda's CloudTrail event names carry the API version (``AddPermission20150331v2``).
_API_VERSION = re.compile(r"\d{8}(v\d)?$")


@cache
def _service(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


def _operation(event_source: str, event_name: str) -> OperationModel:
    return _service(SERVICES[event_source]).operation_model(_API_VERSION.sub("", event_name))


def cloudtrail_spellings(member: str) -> tuple[str, ...]:
    """``Rule`` -> ``rule``; an acronym-led member either way (``AWSAccountIds``, ``sAMLMetadataDocument``)."""
    lowered = member[:1].lower() + member[1:]
    return (lowered, member) if member[:2].isalpha() and member[:2].isupper() else (lowered,)


def unknown_members(shape: Shape | None, value: Any, path: str = "requestParameters") -> list[str]:
    """Every key of ``value`` (recursively) that is no member of ``shape`` as CloudTrail spells members."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members = {spelling: item for name, item in shape.members.items() for spelling in cloudtrail_spellings(name)}
        found: list[str] = []
        for key, item in value.items():
            if key in members:
                found += unknown_members(members[key], item, f"{path}.{key}")
            else:
                found.append(f"{path}.{key}")
        return found
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [
            bad for index, item in enumerate(value) for bad in unknown_members(shape.member, item, f"{path}[{index}]")
        ]
    return []


def _api_call_samples() -> list[str]:
    names = []
    for path in sorted(EVENTS_DIR.glob("*.json")):
        try:
            event = json.loads(path.read_text())
            detail = event["detail"]
            source, name = detail["eventSource"], detail["eventName"]
        except (ValueError, KeyError, TypeError):
            continue  # the malformed-* samples
        if event.get("detail-type") == "AWS API Call via CloudTrail" and source in SERVICES and isinstance(name, str):
            names.append(path.name)
    return names


SAMPLES = _api_call_samples()


def test_the_samples_of_the_brief_are_among_those_checked() -> None:
    for name in (
        "tamper-put-targets.json",
        "tamper-remove-targets.json",
        "tamper-put-rule.json",
        "tamper-delete-rule.json",
        "tamper-disable-forwarder.json",
        "tamper-remove-bus-permission.json",
        "tamper-delete-central-bus.json",
        "event-bus-permission-public.json",
        "tamper-own-policy-version-deleted.json",
        "tamper-own-policy-deleted.json",
        "organizations-leave.json",
    ):
        assert name in SAMPLES


@pytest.mark.parametrize("sample", SAMPLES)
def test_request_parameters_are_the_apis_members_as_cloudtrail_spells_them(sample: str) -> None:
    detail = load_event(sample)["detail"]
    operation = _operation(detail["eventSource"], detail["eventName"])
    assert unknown_members(operation.input_shape, detail.get("requestParameters") or {}) == []


@pytest.mark.parametrize(
    ("sample", "key", "wrong"),
    [
        ("tamper-put-targets.json", "targets", "Targets"),
        ("tamper-remove-bus-permission.json", "statementId", "StatementId"),
        ("tamper-own-policy-version-deleted.json", "versionId", "versionID"),
        ("tamper-remove-targets.json", "ids", "targetIds"),
    ],
)
def test_a_hand_built_spelling_is_caught(sample: str, key: str, wrong: str) -> None:
    detail = copy.deepcopy(load_event(sample)["detail"])
    detail["requestParameters"][wrong] = detail["requestParameters"].pop(key)
    operation = _operation(detail["eventSource"], detail["eventName"])
    assert unknown_members(operation.input_shape, detail["requestParameters"]) == [f"requestParameters.{wrong}"]


def test_a_nested_member_is_checked_too() -> None:
    """PutTargets' targets are botocore's Target: ``inputTransformer`` and its ``inputTemplate``, not ``template``."""
    detail = copy.deepcopy(load_event("tamper-put-targets.json")["detail"])
    [target] = detail["requestParameters"]["targets"]
    assert {"id", "arn", "inputTransformer"} <= set(target)
    target["inputTransformer"]["template"] = target["inputTransformer"].pop("inputTemplate")
    operation = _operation(detail["eventSource"], detail["eventName"])
    assert unknown_members(operation.input_shape, detail["requestParameters"]) == [
        "requestParameters.targets[0].inputTransformer.template"
    ]


def test_put_rule_as_the_eventbridge_guide_records_it_is_judged_as_the_sample() -> None:
    """The guide's PutRule record also carries an empty ``description`` and ``scheduleExpression``."""
    sample = load_event("tamper-put-rule.json")
    documented = copy.deepcopy(sample)
    documented["detail"]["requestParameters"] |= {"description": "", "scheduleExpression": ""}
    assert set(documented["detail"]["requestParameters"]) == {
        "description",
        "name",
        "state",
        "eventPattern",
        "scheduleExpression",
    }
    assert set(sample["detail"]["responseElements"]) == {"ruleArn"}
    settings = Settings()
    direct, as_documented = judge_event(sample, settings), judge_event(documented, settings)
    assert (as_documented.verdict, as_documented.reason) == (direct.verdict, direct.reason)


def test_sqs_add_permission_keeps_aws_account_ids_as_the_sqs_guide_records_it() -> None:
    """The one acronym-led member CloudTrail leaves as the API spells it (SQS Developer Guide)."""
    request = load_event("sqs-add-permission-unknown-account.json")["detail"]["requestParameters"]
    assert set(request) == {"queueUrl", "label", "AWSAccountIds", "actions"}
    assert judge_event(load_event("sqs-add-permission-unknown-account.json"), Settings()).verdict is Verdict.VIOLATION
