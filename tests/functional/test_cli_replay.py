"""``iamwarden replay`` against the template's dead-letter queue in moto.

moto's Lambda Invoke needs Docker, so the Lambda client is a botocore Stubber, which
checks every call and answer against the real Lambda model. SQS is moto: after each
run the queue itself is read back to see what was deleted and what was kept.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import Stubber
from moto.core import set_initial_no_auth_action_count

from iamwarden.adapters.clients import ClientFactory, retry_config
from iamwarden.app.cli import main
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account

CREATE_USER = load_event("create-user-backdoor-cli.json")
ATTACH_ADMIN = load_event("attach-admin-to-role.json")
ENFORCER = "iamwarden-enforcer"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def queue_url(account: Account) -> str:
    return account.queues["EnforcerDeadLetterQueue"]


def destination_record(event: dict[str, Any]) -> str:
    """What Lambda sends to the on-failure destination after the enforcer's last retry failed."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-11-21T10:00:00.000Z",
            "requestContext": {
                "requestId": "c2d1a6a3-7f0e-4a51-9f2e-0d6b8b3f1e11",
                "functionArn": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:{ENFORCER}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "DeleteLoginProfile failed", "errorType": "EnforcementFailedError"},
        }
    )


def send_destination_record(account: Account, event: dict[str, Any]) -> str:
    account.sqs.send_message(QueueUrl=queue_url(account), MessageBody=destination_record(event))
    return json.dumps(event)


def send_eventbridge_dead_letter(account: Account, event: dict[str, Any]) -> str:
    """What EventBridge sends when it could not deliver the event: the event, the reason in attributes."""
    body = json.dumps(event, indent=2)  # replayed byte for byte, whatever its formatting
    account.sqs.send_message(
        QueueUrl=queue_url(account),
        MessageBody=body,
        MessageAttributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": "NO_PERMISSIONS"},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": "Lambda function could not be invoked"},
            "RULE_ARN": {"DataType": "String", "StringValue": f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:rule/r"},
            "TARGET_ARN": {"DataType": "String", "StringValue": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:f"},
        },
    )
    return body


def bodies_in_queue(account: Account) -> list[str]:
    """Every message body now receivable (each hidden after reading, so none is read twice)."""
    bodies: list[str] = []
    while messages := account.sqs.receive_message(QueueUrl=queue_url(account), MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        bodies.extend(message["Body"] for message in messages)
    return bodies


def expect_invoke(stub: Stubber, payload: str, *, function: str = ENFORCER, status: int = 202) -> None:
    stub.add_response(
        "invoke",
        {"StatusCode": status},
        expected_params={"FunctionName": function, "InvocationType": "Event", "Payload": payload.encode()},
    )


class Clients:
    """The clients the CLI will be handed instead of new ones: a stubbed Lambda, optionally a hooked SQS."""

    def __init__(self, account: Account) -> None:
        self.lambda_client = account.session.client("lambda", config=retry_config())
        self.stub = Stubber(self.lambda_client)
        self.sqs: Any = None


@pytest.fixture
def clients(account: Account, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    overrides = Clients(account)
    home_client = ClientFactory.home_client

    def with_overrides(factory: ClientFactory, service: str, region: str | None = None) -> Any:
        if service == "lambda":
            return overrides.lambda_client
        if service == "sqs" and overrides.sqs is not None:
            return overrides.sqs
        return home_client(factory, service, region)

    monkeypatch.setattr(ClientFactory, "home_client", with_overrides)
    monkeypatch.setattr("iamwarden.adapters.dead_letters.RECEIVE_WAIT_SECONDS", 0)  # moto answers at once; no long poll
    with overrides.stub:
        yield overrides


@pytest.fixture
def stub(clients: Clients) -> Stubber:
    return clients.stub


# --- replay ---------------------------------------------------------------------------------------


def test_each_event_is_invoked_asynchronously_and_its_message_deleted(account: Account, stub: Stubber) -> None:
    from_lambda = send_destination_record(account, CREATE_USER)
    from_eventbridge = send_eventbridge_dead_letter(account, ATTACH_ADMIN)
    expect_invoke(stub, from_lambda)
    expect_invoke(stub, from_eventbridge)

    code, out, err = cli("replay")

    assert (code, err) == (0, "")
    stub.assert_no_pending_responses()
    assert bodies_in_queue(account) == []
    first, second, summary = out.splitlines()
    assert first.startswith(f"replayed      {CREATE_USER['detail']['eventID']}  CreateUser  message ")
    assert first.endswith(
        "failed before: RetriesExhausted after 3 attempt(s) - EnforcementFailedError: DeleteLoginProfile failed"
    )
    assert second.startswith(f"replayed      {ATTACH_ADMIN['detail']['eventID']}  AttachRolePolicy  message ")
    assert second.endswith("failed before: NO_PERMISSIONS: Lambda function could not be invoked")
    assert summary == f"2 replayed to {ENFORCER}."


def test_a_failed_invoke_keeps_its_message_and_exits_1(account: Account, stub: Stubber) -> None:
    kept = send_destination_record(account, CREATE_USER)
    replayed = send_eventbridge_dead_letter(account, ATTACH_ADMIN)
    stub.add_client_error(
        "invoke",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: lambda:InvokeFunction",
        http_status_code=403,
        expected_params={"FunctionName": ENFORCER, "InvocationType": "Event", "Payload": kept.encode()},
    )
    expect_invoke(stub, replayed)

    code, out, err = cli("replay")

    assert code == 1
    stub.assert_no_pending_responses()
    assert [json.loads(body)["requestPayload"] for body in bodies_in_queue(account)] == [CREATE_USER]
    assert f"KEPT          {CREATE_USER['detail']['eventID']}  CreateUser" in out
    assert (
        f"invoking {ENFORCER} failed: AccessDeniedException: not authorized to perform: lambda:InvokeFunction; "
        "kept in the queue" in out
    )
    assert out.splitlines()[-1] == f"1 replayed to {ENFORCER}, 1 kept in the queue."
    assert err == "iamwarden replay: 1 message(s) could not be replayed and are still in the queue\n"


def test_an_invoke_lambda_did_not_accept_keeps_its_message(account: Account, stub: Stubber) -> None:
    payload = send_destination_record(account, CREATE_USER)
    expect_invoke(stub, payload, status=200)

    code, out, _ = cli("replay")

    assert code == 1
    assert f"{ENFORCER} answered 200, not 202 (accepted); kept in the queue" in out
    assert len(bodies_in_queue(account)) == 1


def test_an_unrecognised_body_is_reported_and_kept(account: Account, stub: Stubber) -> None:
    account.sqs.send_message(QueueUrl=queue_url(account), MessageBody="an operator's test message")
    account.sqs.send_message(QueueUrl=queue_url(account), MessageBody=json.dumps({"requestContext": {}}))
    payload = send_destination_record(account, CREATE_USER)
    expect_invoke(stub, payload)

    code, out, err = cli("replay")

    assert code == 1
    stub.assert_no_pending_responses()
    assert sorted(bodies_in_queue(account)) == sorted(["an operator's test message", '{"requestContext": {}}'])
    kept = [line for line in out.splitlines() if line.startswith("KEPT")]
    assert len(kept) == 2
    assert "the body is not JSON" in kept[0]
    assert "a Lambda destination record without requestPayload" in kept[1]
    assert all(line.endswith("; kept in the queue") for line in kept)
    assert out.splitlines()[-1] == f"1 replayed to {ENFORCER}, 2 kept in the queue."
    assert "2 message(s) could not be replayed" in err


def test_dry_run_lists_and_changes_nothing(account: Account, stub: Stubber) -> None:
    bodies = [destination_record(CREATE_USER), send_eventbridge_dead_letter(account, ATTACH_ADMIN)]
    account.sqs.send_message(QueueUrl=queue_url(account), MessageBody=bodies[0])

    code, out, err = cli("replay", "--dry-run")

    assert (code, err) == (0, "")  # nothing was stubbed: any invoke would have been reported as failed
    lines = out.splitlines()
    assert f"would replay  {ATTACH_ADMIN['detail']['eventID']}  AttachRolePolicy" in lines[0]
    assert "failed before: NO_PERMISSIONS" in lines[0]
    assert f"would replay  {CREATE_USER['detail']['eventID']}  CreateUser" in lines[1]
    assert "failed before: RetriesExhausted after 3 attempt(s)" in lines[1]
    assert lines[2] == f"Dry run, nothing changed: 2 would be replayed to {ENFORCER}."
    assert sorted(bodies_in_queue(account)) == sorted(bodies)  # visible again at once


def test_dry_run_reports_an_unrecognised_body_and_exits_1(account: Account, stub: Stubber) -> None:
    account.sqs.send_message(QueueUrl=queue_url(account), MessageBody="[]")

    code, out, err = cli("replay", "--dry-run")

    assert code == 1
    assert out.splitlines()[0].startswith("KEPT          message ")
    assert "JSON but not an object" in out
    assert bodies_in_queue(account) == ["[]"]
    assert "1 message(s) could not be replayed" in err


def test_max_replays_at_most_n(account: Account, stub: Stubber) -> None:
    for name in ("CreateUser-1", "CreateUser-2", "CreateUser-3"):
        send_destination_record(account, {**CREATE_USER, "id": name})
    expect_invoke(stub, json.dumps({**CREATE_USER, "id": "CreateUser-1"}))
    expect_invoke(stub, json.dumps({**CREATE_USER, "id": "CreateUser-2"}))

    code, out, _ = cli("replay", "--max", "2")

    assert code == 0
    stub.assert_no_pending_responses()
    assert out.splitlines()[-1] == f"2 replayed to {ENFORCER}."
    assert [json.loads(body)["requestPayload"]["id"] for body in bodies_in_queue(account)] == ["CreateUser-3"]


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_max_must_be_a_positive_number(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli("replay", "--max", value)

    assert (code, out) == (2, "")
    assert "argument --max: must be" in capsys.readouterr().err  # argparse writes to sys.stderr


def test_queue_url_and_function_options_override_the_defaults(
    account: Account, stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = account.sqs.create_queue(QueueName="other-dlq")["QueueUrl"]
    account.sqs.send_message(QueueUrl=other, MessageBody=destination_record(CREATE_USER))
    send_destination_record(account, ATTACH_ADMIN)  # in the default queue: left alone
    monkeypatch.setenv("IAMWARDEN_ENFORCER_FUNCTION", "from-the-environment")
    expect_invoke(stub, json.dumps(CREATE_USER), function="arn:aws:lambda:us-east-1:111122223333:function:blue")

    code, _, _ = cli("replay", "--queue", other, "--function", "arn:aws:lambda:us-east-1:111122223333:function:blue")

    assert code == 0
    stub.assert_no_pending_responses()
    assert account.sqs.receive_message(QueueUrl=other).get("Messages", []) == []
    assert len(bodies_in_queue(account)) == 1


def test_the_function_name_comes_from_the_environment(
    account: Account, stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IAMWARDEN_ENFORCER_FUNCTION", "iamwarden-enforcer-blue")
    expect_invoke(stub, send_destination_record(account, CREATE_USER), function="iamwarden-enforcer-blue")

    assert cli("replay")[0] == 0
    stub.assert_no_pending_responses()


def test_an_empty_queue_says_so(account: Account, stub: Stubber) -> None:
    code, out, err = cli("replay")

    assert (code, err) == (0, "")
    assert out == f"The dead-letter queue {queue_url(account)} is empty: nothing to replay.\n"


def test_an_unknown_queue_is_one_line_and_exit_1(account: Account, stub: Stubber) -> None:
    code, out, err = cli("replay", "--queue", "no-such-dlq")

    assert (code, out) == (1, "")
    assert err == "iamwarden replay: no dead-letter queue named no-such-dlq in this account and region\n"


def _refuse_delete(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    error = {"Error": {"Code": "AccessDenied", "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
    return AWSResponse(f"https://sqs.{REGION}.amazonaws.com/", 403, HTTPHeaders(), None), error


def test_a_replayed_message_that_cannot_be_deleted_is_reported(
    account: Account, clients: Clients, stub: Stubber
) -> None:
    clients.sqs = account.session.client("sqs", config=retry_config())
    clients.sqs.meta.events.register("before-call.sqs.DeleteMessage", _refuse_delete)
    expect_invoke(stub, send_destination_record(account, CREATE_USER))

    code, out, err = cli("replay")

    assert code == 1
    assert "NOT DELETED" in out
    assert "could not be deleted (AccessDenied: injected)" in out
    assert "the enforcer will recognise the event as already handled" in out
    assert out.splitlines()[-1] == f"0 replayed to {ENFORCER}, 1 replayed but not deleted."
    assert "1 message(s) could not be replayed" in err
    assert len(bodies_in_queue(account)) == 1


def test_no_credentials_is_one_line_and_exit_2(
    account: Account, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    code, out, err = cli("replay", "--dry-run")

    assert (code, out) == (2, "")
    assert err.startswith("iamwarden replay: ")
    assert "credentials" in err
    assert err.count("\n") == 1


def _as_operator_who_may_only_find_the_queue(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    account.iam.create_user(UserName="intern")
    statement = {"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "sqs:GetQueueUrl"], "Resource": "*"}
    account.iam.put_user_policy(
        UserName="intern",
        PolicyName="look-only",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    key = account.iam.create_access_key(UserName="intern")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN")


def test_a_queue_that_cannot_be_read_is_one_line_and_exit_1(
    account: Account, stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    send_destination_record(account, CREATE_USER)
    _as_operator_who_may_only_find_the_queue(account, monkeypatch)
    run: Callable[[], tuple[int, str, str]] = set_initial_no_auth_action_count(0)(lambda: cli("replay"))

    code, out, err = run()

    assert code == 1
    assert out == ""
    assert err.startswith(f"iamwarden replay: cannot read the dead-letter queue {queue_url(account)}: ")
    assert "is not authorized to perform: sqs:ReceiveMessage" in err  # moto words AWS's AccessDenied so
    assert err.count("\n") == 1
