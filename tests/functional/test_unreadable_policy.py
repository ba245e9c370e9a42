"""A customer-managed policy the enforcer cannot read: a denial is recorded and alerted, a blip is retried.

The enforcer's IAM client is made to fail ``GetPolicy`` through botocore's ``before-call`` hook: with an
AccessDenied answer (permanent), or by raising the error botocore raises once its own retries are spent
(transient). Offline, ``iamwarden evaluate`` still says the document is read live.
"""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.errors import TransientAwsError
from iamwarden.app.cli import main
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import EVENTS_DIR, load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments

ESCALATING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:PutRolePolicy", "sts:AssumeRole"], "Resource": "*"}],
}
SAMPLE = "attach-customer-managed.json"


def _attached_escalating_policy(account: Account) -> str:
    account.set("rules/privilege-escalation/mode", "remediate")
    arn: str = account.iam.create_policy(PolicyName="app-s3-read", PolicyDocument=json.dumps(ESCALATING))["Policy"][
        "Arn"
    ]
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument="{}")
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn=arn)
    return arn


def _attached(account: Account) -> list[str]:
    return [p["PolicyArn"] for p in account.iam.list_attached_role_policies(RoleName="app-backend")["AttachedPolicies"]]


def _enforcer_iam(enforcer: EnforcerService) -> Any:
    return enforcer.executor.clients.client("iam", HOME_ACCOUNT, REGION)


def _deny_get_policy(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    error = {
        "Error": {"Code": "AccessDenied", "Message": "not authorized to perform: iam:GetPolicy"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    return AWSResponse("https://iam.amazonaws.com/", 403, {}, None), error  # type: ignore[arg-type]


def test_a_policy_that_cannot_be_read_is_recorded_and_alerted_and_never_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _attached_escalating_policy(account)
    _enforcer_iam(enforcer).meta.events.register("before-call.iam.GetPolicy", _deny_get_policy)
    event = copy.deepcopy(load_event(SAMPLE))

    result = enforcer.handle(event)  # no exception: retrying will not make the policy readable

    assert result["verdict"] == "ignored"
    assert "AccessDenied" in result["reason"]
    assert arn in result["reason"]
    [finding] = result["findings"]
    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "noteworthy")
    assert _attached(account) == [arn], "never remediated on a guess"
    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert record.status == AuditStatus.ALERTED
    assert record.rule == "privilege-escalation"
    assert not record.before
    assert "GetPolicy: AccessDenied" in record.finding["reason"]
    [alert] = notifier.sent
    assert alert.outcome is Outcome.NOTEWORTHY
    assert alert.finding is not None
    assert alert.finding.resource_arn == arn
    assert not alert.finding.plan
    assert "could not read" in alert.finding.reason
    assert "GetPolicy: AccessDenied" in alert.finding.reason
    assert "IAM Warden's role may read it" in alert.finding.reason


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://iam.amazonaws.com/"),
        ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "GetPolicy"),
    ],
    ids=["no-answer", "throttled"],
)
def test_a_transient_read_failure_fails_the_event_so_lambda_retries_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, error: Exception
) -> None:
    arn = _attached_escalating_policy(account)
    iam = _enforcer_iam(enforcer)

    def fail(**_: Any) -> None:
        raise error  # what botocore raises once its own retries are spent

    iam.meta.events.register("before-call.iam.GetPolicy", fail, unique_id="fail")
    event = copy.deepcopy(load_event(SAMPLE))

    with pytest.raises(TransientAwsError, match="GetPolicy") as raised:
        enforcer.handle(event)

    assert raised.value.__cause__ is error
    assert account.audit().for_event(event["detail"]["eventID"]) == []
    assert notifier.sent == []
    assert _attached(account) == [arn]

    iam.meta.events.unregister("before-call.iam.GetPolicy", unique_id="fail")
    [finding] = enforcer.handle(event)["findings"]  # Lambda's retry, once IAM answers again

    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "remediated")
    assert _attached(account) == []


def test_offline_evaluate_still_says_the_document_is_read_live() -> None:
    out, err = io.StringIO(), io.StringIO()

    code = main(["evaluate", "--format", "json", str(EVENTS_DIR / SAMPLE)], stdout=out, stderr=err)

    [line] = [json.loads(text) for text in out.getvalue().splitlines()]
    assert (code, line["verdict"]) == (0, "ignored")
    assert "the enforcer reads its default version live" in line["reason"]
