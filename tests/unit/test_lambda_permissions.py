"""Lambda permissions and function URLs: the event shapes, the live read behind a URL, the edges of undo.

The contract test runs each rule end to end against moto; these cover what it does not: the statement
built from the request when the response lacks it, names given as partial or qualified ARNs, the
function URL judged with and without the live policy (and when reading it fails), and undo refusing
to overwrite a statement that took the same id since.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.findings import Verdict
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.lambda_permissions import (
    REMOVE_LAMBDA_PERMISSION,
    function_arn,
    layer_version_arn,
)
from tests.conftest import load_event

ACCOUNT = "111122223333"
ORDERS = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders-api"


class AwsError(Exception):
    """Shaped like botocore's ClientError (``adapters.errors`` reads it by shape)."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}


class Lambda:
    """A Lambda client stub: one function's policy statements, or an error for GetPolicy."""

    def __init__(self, statements: list[dict[str, Any]] | None = None, error: str | None = None) -> None:
        self.statements = statements or []
        self.error = error
        self.added: list[dict[str, Any]] = []

    def client(self, service: str) -> Any:
        return self

    def get_policy(self, **kwargs: Any) -> dict[str, Any]:
        if self.error:
            raise AwsError(self.error, 403 if self.error == "AccessDeniedException" else 404)
        if not self.statements:
            raise AwsError("ResourceNotFoundException", 404)
        return {"Policy": json.dumps({"Version": "2012-10-17", "Statement": self.statements})}

    def add_permission(self, **kwargs: Any) -> None:
        self.added.append(kwargs)


def _judge(event: dict[str, Any], live: Lambda | None = None, settings: Settings | None = None) -> Any:
    live_clients = (lambda account, region: live) if live is not None else None
    return judge_event(event, settings or Settings(), live_clients=live_clients)  # type: ignore[arg-type]


def test_functions_are_named_by_name_partial_arn_or_arn_with_a_qualifier() -> None:
    assert function_arn("aws", "eu-west-1", ACCOUNT, "orders-api") == ORDERS
    assert function_arn("aws", "eu-west-1", ACCOUNT, f"{ACCOUNT}:function:orders-api") == ORDERS
    assert function_arn("aws", "eu-west-1", ACCOUNT, "orders-api", "live") == f"{ORDERS}:live"
    assert function_arn("aws", "eu-west-1", ACCOUNT, f"{ORDERS}:7", "live") == f"{ORDERS}:7"
    # A name with its alias or version (review s11 F19: read as a partial ARN, the event was "invalid", unjudged).
    assert function_arn("aws", "eu-west-1", ACCOUNT, "orders-api:prod") == f"{ORDERS}:prod"
    assert function_arn("aws", "eu-west-1", ACCOUNT, "orders-api:7") == f"{ORDERS}:7"
    assert function_arn("aws", "eu-west-1", ACCOUNT, f"{ACCOUNT}:function:orders-api:prod") == f"{ORDERS}:prod"
    with pytest.raises(InvalidEventError, match="does not name a Lambda function"):
        function_arn("aws", "eu-west-1", ACCOUNT, "arn:aws:s3:::orders-api")
    assert layer_version_arn("aws", "eu-west-1", ACCOUNT, "libs", 3).endswith(f"{ACCOUNT}:layer:libs:3")
    with pytest.raises(InvalidEventError, match="versionNumber"):
        layer_version_arn("aws", "eu-west-1", ACCOUNT, "libs", True)


def test_without_the_response_the_statement_is_built_from_the_request() -> None:
    event = load_event("lambda-permission-public-url.json")
    event["detail"]["responseElements"] = None

    [finding] = _judge(event).findings

    assert finding.rule_id == "lambda-permission-public"
    [reference] = finding.plan[0].parameters["statements"]
    assert reference["statement"]["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert (reference["sid"], reference["match"]) == ("FunctionURLAllowPublicAccess", "sid")
    assert finding.plan[0].parameters["permission"] == {
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    }


def test_a_bare_account_principal_with_its_own_organisation_is_compliant_only_when_trusted() -> None:
    event = load_event("lambda-permission-unknown-account.json")
    event["detail"]["responseElements"] = None
    assert _judge(event).findings[0].rule_id == "lambda-permission-cross-account"
    assert _judge(event, settings=Settings(trusted_accounts=frozenset({"999988887777"}))).verdict is Verdict.COMPLIANT


def test_a_response_statement_that_is_not_json_is_invalid() -> None:
    event = load_event("lambda-permission-public-url.json")
    event["detail"]["responseElements"]["statement"] = "{not json"
    judgement = _judge(event)
    assert judgement.verdict is Verdict.INVALID
    assert "responseElements.statement does not parse as JSON" in judgement.reason


PUBLIC_URL = {
    "Sid": "FunctionURLAllowPublicAccess",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "lambda:InvokeFunctionUrl",
    "Resource": ORDERS,
    "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
}
ORG_URL = {**PUBLIC_URL, "Sid": "Org", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}


def test_offline_a_url_without_authentication_is_an_uncertain_finding() -> None:
    [finding] = _judge(load_event("lambda-function-url-auth-none.json")).findings
    assert not finding.certain
    assert "was not read" in finding.needs_context[0]
    assert finding.plan[0].summary == "set the auth type of the URL of function orders-api back to AWS_IAM"


def test_live_a_url_whose_policy_lets_everyone_in_is_a_certain_finding() -> None:
    [finding] = _judge(load_event("lambda-function-url-auth-none.json"), Lambda([PUBLIC_URL])).findings
    assert finding.certain
    assert "(statement 0 (FunctionURLAllowPublicAccess))" in finding.reason


@pytest.mark.parametrize("statements", [[], [ORG_URL]], ids=["no policy", "organisation only"])
def test_live_a_url_nobody_may_call_unsigned_is_compliant(statements: list[dict[str, Any]]) -> None:
    judgement = _judge(load_event("lambda-function-url-auth-none.json"), Lambda(statements))
    assert judgement.verdict is Verdict.COMPLIANT
    assert "no statement of the function's policy lets everyone call it" in judgement.reason


def test_a_policy_that_cannot_be_read_leaves_the_url_unjudged_and_alerted() -> None:
    judgement = _judge(load_event("lambda-function-url-auth-none.json"), Lambda(error="AccessDeniedException"))
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.reason.startswith("cannot judge: IAM Warden could not read")
    [unjudged] = judgement.unjudged
    assert unjudged.plan == ()


def test_undo_refuses_when_the_statement_id_holds_another_statement_now() -> None:
    [finding] = _judge(load_event("lambda-permission-public-url.json")).findings
    [step] = finding.plan
    before = {"statements": [PUBLIC_URL]}
    other = {**PUBLIC_URL, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Condition": {}}

    with pytest.raises(UndoError, match="now has a different statement FunctionURLAllowPublicAccess"):
        REMOVE_LAMBDA_PERMISSION.undo(Lambda([other]), step, before)  # type: ignore[arg-type]

    same = Lambda([PUBLIC_URL])
    assert REMOVE_LAMBDA_PERMISSION.undo(same, step, before) == []  # type: ignore[arg-type]
    assert same.added == []


def _endpoint_url_event(function: str, account: str = ACCOUNT) -> dict[str, Any]:
    event = load_event("lambda-function-url-auth-none.json")
    event["account"] = account
    event["detail"]["recipientAccountId"] = account
    event["detail"]["requestParameters"]["functionName"] = function
    return event


def test_iam_wardens_own_slack_endpoint_is_public_by_design_only_by_exact_name_in_its_home_account() -> None:
    """The Slack interaction endpoint authenticates by Slack's signature: its URL's auth type NONE is no finding.

    Only that function, by exact name, in the account the stack runs in: another own function (the enforcer), a
    look-alike name, or the same name in another account is judged as usual.
    """
    own = OwnIdentity(
        home_account=ACCOUNT,
        functions=frozenset({"iamwarden-enforcer", "iamwarden-slack-interactions"}),
        signed_url_functions=frozenset({"iamwarden-slack-interactions"}),
    )
    settings = Settings(own=own)
    public = Lambda([PUBLIC_URL])
    endpoint = _judge(_endpoint_url_event("iamwarden-slack-interactions"), public, settings)
    # Not lambda-function-url-public's; a person changing the endpoint's URL by hand is iamwarden-tampered's (alerted).
    assert [finding.rule_id for finding in endpoint.findings] == ["iamwarden-tampered"]
    assert endpoint.findings[0].plan == ()
    for function, account in (
        ("iamwarden-enforcer", ACCOUNT),
        ("iamwarden-slack-interactions-copy", ACCOUNT),
        ("iamwarden-slack-interactions", "444455556666"),
    ):
        judged = _judge(_endpoint_url_event(function, account), public, settings)
        assert judged.verdict is Verdict.VIOLATION, (function, account)
    # Named as a signed endpoint but not one of the stack's functions: not IAM Warden's.
    stranger = Settings(own=own._replace(functions=frozenset({"iamwarden-enforcer"})))
    judged = _judge(_endpoint_url_event("iamwarden-slack-interactions"), public, stranger)
    assert judged.verdict is Verdict.VIOLATION


def test_a_function_named_like_the_slack_endpoint_in_another_region_is_judged() -> None:
    """Review s11 F21: the exemption knew the account and name but not the Region the stack runs in."""
    own = OwnIdentity(
        home_account=ACCOUNT,
        functions=frozenset({"iamwarden-slack-interactions"}),
        signed_url_functions=frozenset({"iamwarden-slack-interactions"}),
    )
    event = _endpoint_url_event("iamwarden-slack-interactions")
    public = Lambda([PUBLIC_URL])
    home = _judge(event, public, Settings(own=own._replace(home_region=event["detail"]["awsRegion"])))
    assert "lambda-function-url-public" not in {finding.rule_id for finding in home.findings}

    elsewhere = _judge(event, public, Settings(own=own._replace(home_region="eu-north-1")))

    assert "lambda-function-url-public" in {finding.rule_id for finding in elsewhere.findings}
