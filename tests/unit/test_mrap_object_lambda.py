"""Multi-Region and Object Lambda access point policies: the judgement, and the remediation against botocore's Stubber.

The Stubber checks every call's parameters (and each stubbed answer) against the real S3 Control model, so
the calls here have the shapes AWS accepts. What these tests add to the contract cases (moto, emulation):
the pending ``Proposed`` policy, the owner-only stand-in when nothing remains (there is no delete call), the
asynchronous request token, the us-west-2 Region, and the record shapes the readers accept.

No published CloudTrail record of these calls was found (issue 18): the samples in events/ are the API's XML
bodies as CloudTrail records S3 Control bodies (see ``iamwarden.guardrails.access_point_policy``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.domain.findings import Finding, Judgement, RemediationStep, Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.multi_region_access_point_policy import (
    MRAP_CONTROL_REGION,
    OWNER_ONLY_SID,
    REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS,
)
from iamwarden.guardrails.object_lambda_access_point_policy import REMOVE_OBJECT_LAMBDA_ACCESS_POINT_POLICY_STATEMENTS
from iamwarden.guardrails.remediation import AuditEntry
from tests.conftest import load_event

ACCOUNT = "111122223333"
MRAP_ARN = f"arn:aws:s3::{ACCOUNT}:accesspoint/mfzwi23gnjvgw.mrap"
OBJECT_LAMBDA_ARN = f"arn:aws:s3-object-lambda:eu-west-1:{ACCOUNT}:accesspoint/redacted-reports"
TOKEN = f"arn:aws:s3:us-west-2:{ACCOUNT}:async-request/mrap/put-policy/b5e5ffbd4f0a4d9c8a3f"


def _judge(sample: str, event: dict[str, Any] | None = None) -> Judgement:
    return judge_event(event or load_event(sample), Settings())


def _only_finding(sample: str, event: dict[str, Any] | None = None) -> Finding:
    [finding] = _judge(sample, event).findings
    return finding


class StubbedClients:
    """One S3 Control client with a Stubber: every call must be one the test expects, in the model's shape."""

    account = ACCOUNT
    iam: Any = None
    s3: Any = None

    def __init__(self, region: str) -> None:
        self.s3control = boto3.client(
            "s3control", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.stub = Stubber(self.s3control)

    def client(self, service: str) -> Any:
        assert service == "s3control"
        return self.s3control

    def root_task_client(self, service: str, task_policy_arn: str) -> Any:
        raise AssertionError("not used")

    def renew_session(self) -> None:
        return None

    def history(self, resource_arn: str) -> Sequence[AuditEntry]:
        return ()


class Run:
    def __init__(self, aws: StubbedClients) -> None:
        self.aws = aws
        self.finding_id = "f-1"
        self.now = "2026-12-04T00:00:00+00:00"


@pytest.fixture
def mrap() -> Iterator[StubbedClients]:
    aws = StubbedClients(MRAP_CONTROL_REGION)
    with aws.stub:
        yield aws
        aws.stub.assert_no_pending_responses()


def _sample_policy(sample: str) -> dict[str, Any]:
    request = load_event(sample)["detail"]["requestParameters"]
    body = request.get("PutMultiRegionAccessPointPolicyRequest")
    text = body["Details"]["Policy"] if body else request["PutAccessPointPolicyForObjectLambdaRequest"]["Policy"]
    document: dict[str, Any] = json.loads(text)
    return document


def _mrap_policy_answer(established: dict[str, Any] | None, proposed: dict[str, Any] | None = None) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    if established is not None:
        policy["Established"] = {"Policy": json.dumps(established)}
    if proposed is not None:
        policy["Proposed"] = {"Policy": json.dumps(proposed)}
    return {"Policy": policy}


def _get_mrap(aws: StubbedClients, answer: dict[str, Any]) -> None:
    aws.stub.add_response(
        "get_multi_region_access_point_policy", answer, {"AccountId": ACCOUNT, "Name": "orders-global"}
    )


def _put_mrap(aws: StubbedClients, document: dict[str, Any]) -> None:
    aws.stub.add_response(
        "put_multi_region_access_point_policy",
        {"RequestTokenARN": TOKEN},
        {"AccountId": ACCOUNT, "Details": {"Name": "orders-global", "Policy": json.dumps(document)}},
    )


# --- judgement -------------------------------------------------------------------------------------------


def test_a_public_mrap_policy_is_judged_in_us_west_2_and_named_by_its_alias() -> None:
    finding = _only_finding("mrap-policy-public.json")

    assert finding.rule_id == "s3-multi-region-access-point-policy-public"
    assert (finding.region, finding.resource_arn) == ("us-west-2", MRAP_ARN)
    [step] = finding.plan
    assert step.parameters["multi_region_access_point"] == "orders-global"
    assert [s["sid"] for s in step.parameters["statements"]] == ["PublicRead"]


def test_an_mrap_recorded_in_another_region_is_still_remediated_from_us_west_2() -> None:
    event = copy.deepcopy(load_event("mrap-policy-unknown-account.json"))
    event["region"] = event["detail"]["awsRegion"] = "eu-west-1"

    finding = _only_finding("", event)

    assert (finding.rule_id, finding.region) == ("s3-multi-region-access-point-policy-cross-account", "us-west-2")


def test_an_mrap_policy_that_names_no_alias_is_named_by_the_mrap_name() -> None:
    event = copy.deepcopy(load_event("mrap-policy-public.json"))
    details = event["detail"]["requestParameters"]["PutMultiRegionAccessPointPolicyRequest"]["Details"]
    document = json.loads(details["Policy"])
    for statement in document["Statement"]:
        statement["Resource"] = "*"
    details["Policy"] = json.dumps(document)

    assert _only_finding("", event).resource_arn == f"arn:aws:s3::{ACCOUNT}:accesspoint/orders-global"


@pytest.mark.parametrize("missing", ["Name", "Policy"])
def test_an_mrap_record_without_its_name_or_policy_is_not_judged(missing: str) -> None:
    event = copy.deepcopy(load_event("mrap-policy-public.json"))
    del event["detail"]["requestParameters"]["PutMultiRegionAccessPointPolicyRequest"]["Details"][missing]

    judgement = _judge("", event)

    assert (judgement.verdict, judgement.findings) == (Verdict.IGNORED, ())
    assert "carries no Multi-Region Access Point name or policy" in judgement.reason


def test_an_mrap_body_that_is_not_an_object_is_invalid() -> None:
    event = copy.deepcopy(load_event("mrap-policy-public.json"))
    event["detail"]["requestParameters"]["PutMultiRegionAccessPointPolicyRequest"] = "<xml/>"

    assert _judge("", event).verdict is Verdict.INVALID


def test_an_mrap_of_another_account_is_rejected() -> None:
    event = copy.deepcopy(load_event("mrap-policy-public.json"))
    event["detail"]["requestParameters"]["x-amz-account-id"] = "999988887777"

    judgement = _judge("", event)

    assert judgement.verdict is Verdict.INVALID
    assert judgement.rejected


def test_the_own_role_mrap_policy_is_compliant() -> None:
    assert _judge("mrap-policy-own-role.json").verdict is Verdict.COMPLIANT


def test_a_public_object_lambda_policy_is_a_finding_named_by_its_arn() -> None:
    finding = _only_finding("object-lambda-policy-public.json")

    assert (finding.rule_id, finding.resource_arn) == ("s3-object-lambda-access-point-policy-public", OBJECT_LAMBDA_ARN)
    assert "S3 Object Lambda access point redacted-reports" in finding.reason
    [step] = finding.plan
    assert step.parameters["object_lambda_access_point_arn"] == OBJECT_LAMBDA_ARN


def test_an_object_lambda_record_without_a_policy_is_not_judged() -> None:
    event = copy.deepcopy(load_event("object-lambda-policy-public.json"))
    del event["detail"]["requestParameters"]["PutAccessPointPolicyForObjectLambdaRequest"]

    judgement = _judge("", event)

    assert (judgement.verdict, judgement.findings) == (Verdict.IGNORED, ())


def test_an_object_lambda_record_named_only_in_its_resources_and_host_is_read() -> None:
    """The URI's name and the account header may be absent: the resources' ARN and the host carry them."""
    event = copy.deepcopy(load_event("object-lambda-policy-unknown-account.json"))
    request = event["detail"]["requestParameters"]
    del request["name"], request["x-amz-account-id"]
    request["host"] = [request.pop("Host")]
    event["detail"]["resources"] = [
        {"accountId": ACCOUNT, "type": "AWS::S3ObjectLambda::AccessPoint", "ARN": OBJECT_LAMBDA_ARN}
    ]

    finding = _only_finding("", event)

    assert (finding.rule_id, finding.resource_arn) == (
        "s3-object-lambda-access-point-policy-cross-account",
        OBJECT_LAMBDA_ARN,
    )


def test_an_access_point_named_only_in_its_resources_is_read() -> None:
    event = copy.deepcopy(load_event("access-point-policy-public.json"))
    request = event["detail"]["requestParameters"]
    del request["name"]
    arn = f"arn:aws:s3:eu-west-1:{ACCOUNT}:accesspoint/finance-ap"
    event["detail"]["resources"] = [{"accountId": ACCOUNT, "type": "AWS::S3::AccessPoint", "ARN": arn}]

    assert _only_finding("", event).resource_arn == arn


def test_an_access_point_record_with_no_name_anywhere_is_invalid() -> None:
    event = copy.deepcopy(load_event("access-point-policy-public.json"))
    del event["detail"]["requestParameters"]["name"]

    assert _judge("", event).verdict is Verdict.INVALID


def test_the_account_comes_from_the_host_when_the_header_is_absent() -> None:
    event = copy.deepcopy(load_event("access-point-policy-public.json"))
    request = event["detail"]["requestParameters"]
    del request["x-amz-account-id"]
    request["Host"] = "999988887777.s3-control.eu-west-1.amazonaws.com"

    judgement = _judge("", event)

    assert judgement.verdict is Verdict.INVALID  # another account's access point: rejected, never acted on
    assert judgement.rejected


# --- remediation and undo, against the S3 Control model -------------------------------------------------


def _step(sample: str) -> RemediationStep:
    [step] = _only_finding(sample).plan
    return step


def test_the_mrap_remediation_rewrites_the_proposed_policy_and_records_the_token(mrap: StubbedClients) -> None:
    step = _step("mrap-policy-public.json")
    action = REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS
    document = _sample_policy("mrap-policy-public.json")
    established = {"Version": "2012-10-17", "Statement": [document["Statement"][0]]}
    _get_mrap(mrap, _mrap_policy_answer(established, proposed=document))  # the offending change is still pending
    _put_mrap(mrap, {**document, "Statement": [document["Statement"][0]]})

    before = action.capture(mrap, step)
    done: list[str] = []
    action.apply(Run(mrap), step, before, done)

    assert json.loads(before["policy"]) == document
    assert done == [
        "removed 1 statement(s) from the policy of S3 Multi-Region Access Point orders-global; kept 1 "
        f"(S3 applies it asynchronously: request {TOKEN})"
    ]


def test_a_retry_finds_the_statement_already_gone_and_writes_nothing(mrap: StubbedClients) -> None:
    step = _step("mrap-policy-public.json")
    action = REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS
    document = _sample_policy("mrap-policy-public.json")
    kept = {**document, "Statement": [document["Statement"][0]]}
    _get_mrap(mrap, _mrap_policy_answer(document, proposed=kept))

    done: list[str] = []
    action.apply(Run(mrap), step, action.capture(mrap, step), done)

    assert done == []


def test_when_every_statement_offends_an_owner_only_policy_stands_in(mrap: StubbedClients) -> None:
    step = _step("mrap-policy-public.json")
    action = REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS
    public = _sample_policy("mrap-policy-public.json")["Statement"][1]
    only_public = {"Version": "2012-10-17", "Statement": [public]}
    _get_mrap(mrap, _mrap_policy_answer(only_public))
    mrap.stub.add_response(
        "get_multi_region_access_point",
        {"AccessPoint": {"Name": "orders-global", "Alias": "mfzwi23gnjvgw.mrap", "Status": "READY"}},
        {"AccountId": ACCOUNT, "Name": "orders-global"},
    )
    owner_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": OWNER_ONLY_SID,
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "s3:*",
                "Resource": [MRAP_ARN, f"{MRAP_ARN}/object/*"],
            }
        ],
    }
    _put_mrap(mrap, owner_only)
    # Undo reads the stand-in back as no policy and puts the removed statement back alone.
    _get_mrap(mrap, _mrap_policy_answer(owner_only))
    _put_mrap(mrap, only_public)

    before = action.capture(mrap, step)
    done: list[str] = []
    action.apply(Run(mrap), step, before, done)
    restored = action.undo(mrap, step, before)

    assert done[0].startswith("deleted the policy of S3 Multi-Region Access Point orders-global")
    assert TOKEN in done[0]
    assert restored == [
        "restored 1 statement(s) into the current policy of S3 Multi-Region Access Point orders-global "
        f"(S3 applies it asynchronously: request {TOKEN})"
    ]


def test_an_mrap_without_a_policy_is_left_alone(mrap: StubbedClients) -> None:
    step = _step("mrap-policy-public.json")
    action = REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS
    mrap.stub.add_client_error(
        "get_multi_region_access_point_policy", "NoSuchMultiRegionAccessPointPolicy", http_status_code=404
    )

    before = action.capture(mrap, step)
    done: list[str] = []
    action.apply(Run(mrap), step, before, done)

    assert (before, done) == ({"exists": True, "policy": None}, [])


def test_undo_of_a_deleted_mrap_is_refused(mrap: StubbedClients) -> None:
    from iamwarden.domain.exceptions import UndoError

    step = _step("mrap-policy-public.json")
    action = REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS
    mrap.stub.add_client_error(
        "get_multi_region_access_point_policy", "NoSuchMultiRegionAccessPoint", http_status_code=404
    )

    with pytest.raises(UndoError, match="no longer exists"):
        action.undo(mrap, step, {"exists": True, "policy": json.dumps(_sample_policy("mrap-policy-public.json"))})


def test_a_failed_mrap_read_is_raised_not_taken_for_no_policy(mrap: StubbedClients) -> None:
    from botocore.exceptions import ClientError

    mrap.stub.add_client_error("get_multi_region_access_point_policy", "AccessDenied", http_status_code=403)

    with pytest.raises(ClientError):
        REMOVE_MULTI_REGION_ACCESS_POINT_POLICY_STATEMENTS.capture(mrap, _step("mrap-policy-public.json"))


def test_the_object_lambda_remediation_deletes_an_all_offending_policy_and_undo_puts_it_back() -> None:
    aws = StubbedClients("eu-west-1")
    step = _step("object-lambda-policy-public.json")
    action = REMOVE_OBJECT_LAMBDA_ACCESS_POINT_POLICY_STATEMENTS
    public = _sample_policy("object-lambda-policy-public.json")
    only_public = {**public, "Statement": [public["Statement"][1]]}
    named = {"AccountId": ACCOUNT, "Name": "redacted-reports"}
    with aws.stub:
        aws.stub.add_response("get_access_point_policy_for_object_lambda", {"Policy": json.dumps(only_public)}, named)
        aws.stub.add_response("delete_access_point_policy_for_object_lambda", {}, named)
        aws.stub.add_client_error(
            "get_access_point_policy_for_object_lambda", "NoSuchAccessPointPolicy", http_status_code=404
        )
        aws.stub.add_response(
            "put_access_point_policy_for_object_lambda", {}, {**named, "Policy": json.dumps(only_public)}
        )

        before = action.capture(aws, step)
        done: list[str] = []
        action.apply(Run(aws), step, before, done)
        restored = action.undo(aws, step, before)

        aws.stub.assert_no_pending_responses()
    assert done == [
        f"deleted the policy of S3 Object Lambda access point {OBJECT_LAMBDA_ARN}: every statement in it was offending"
    ]
    assert restored == [
        f"restored 1 statement(s) into the current policy of S3 Object Lambda access point {OBJECT_LAMBDA_ARN}"
    ]
