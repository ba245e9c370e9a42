"""parse_event: every userIdentity variant becomes the right Actor; malformed input is an InvalidEventError."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from iamwarden.domain.events import MAX_EVENT_BYTES, Actor, CloudTrailChange, parse_event
from iamwarden.domain.exceptions import InvalidEventError

EVENTS = Path(__file__).parents[2] / "events"
#: The three ways an event reaches parse_event: Lambda's dict, or the JSON text as str or bytes.
FORMS: dict[str, Callable[[str], Any]] = {"dict": json.loads, "str": str, "bytes": str.encode}


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def make_event(identity: dict[str, Any] | None = None, **detail: Any) -> dict[str, Any]:
    """A minimal well-formed CreateUser event; ``detail`` keys override (a value of ... deletes the key)."""
    body: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity
        if identity is not None
        else {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "eventTime": "2026-11-21T09:14:07Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "awsRegion": "us-east-1",
        "userAgent": "aws-cli/2.22.4",
        "requestParameters": {"userName": "bob"},
        "responseElements": None,
        "eventID": "9672be1a-7fed-4bb9-a92f-a271dbc52933",
        "readOnly": False,
        "recipientAccountId": "111122223333",
    }
    for key, value in detail.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return {
        "version": "0",
        "id": "c44a66f4-cf25-4346-9cbe-4f50bdbcda98",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": "111122223333",
        "time": "2026-11-21T09:14:07Z",
        "region": "us-east-1",
        "resources": [],
        "detail": body,
    }


def actor_of(**detail: Any) -> Actor:
    return parse_event(make_event(**detail)).actor


# --- userIdentity variants ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "create-user-backdoor-cli.json",
            {
                "type": "IAMUser",
                "arn": "arn:aws:iam::111122223333:user/alice",
                "account_id": "111122223333",
                "user_name": "alice",
                "session_issuer_arn": None,
                "mfa_authenticated": False,
                "console": False,
                "channel": "cli",
                "principal_arn": "arn:aws:iam::111122223333:user/alice",
            },
        ),
        (
            "create-user-console-sso.json",
            {
                "type": "AssumedRole",
                "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef"
                "/jane@example.com",
                "account_id": "111122223333",
                "session_issuer_arn": "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
                "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
                "session_issuer_type": "Role",
                "mfa_authenticated": True,
                "console": True,
                "channel": "console",
                # the role behind the session, not the session (whose name the caller chooses)
                "principal_arn": "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
                "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
            },
        ),
        (
            "create-user-by-root.json",
            {
                "type": "Root",
                "arn": "arn:aws:iam::111122223333:root",
                "account_id": "111122223333",
                "principal_id": "111122223333",
                "session_issuer_arn": None,  # sessionIssuer is {}
                "mfa_authenticated": True,
                "console": True,
                "channel": "console",
            },
        ),
        (
            "bucket-policy-by-aws-service.json",
            {
                "type": "AWSService",
                "arn": None,
                "account_id": None,
                "invoked_by": "elasticloadbalancing.amazonaws.com",
                "session_issuer_arn": None,
                "mfa_authenticated": False,
                "console": False,
                "channel": "aws-service",
                "display": "elasticloadbalancing.amazonaws.com",
            },
        ),
        (
            "create-user-federated.json",
            {
                "type": "FederatedUser",
                "arn": "arn:aws:sts::111122223333:federated-user/bob",
                "account_id": "111122223333",
                "session_issuer_arn": "arn:aws:iam::111122223333:user/bob-federator",
                "session_issuer_type": "IAMUser",
                "mfa_authenticated": False,  # "false" as a string
                "console": True,  # sessionCredentialFromConsole "true"
                "channel": "console",
            },
        ),
        (
            "attach-lambda-basic-execution.json",
            {
                "type": "AssumedRole",
                "session_issuer_arn": "arn:aws:iam::111122223333:role/terraform-deployer",
                "console": False,
                "channel": "terraform",
            },
        ),
        ("bucket-policy-public-read.json", {"channel": "cli"}),  # S3 brackets the agent: "[aws-cli/2.22.4 ...]"
        ("create-user-by-warden.json", {"channel": "sdk"}),  # Boto3
        ("bucket-policy-cloudtrail-service.json", {"channel": "console"}),
    ],
)
@pytest.mark.parametrize("form", FORMS)
def test_actor_fields_for_each_identity_variant(name: str, expected: dict[str, Any], form: str) -> None:
    text = (EVENTS / name).read_text()
    raw = FORMS[form](text)
    actor = parse_event(raw).actor
    assert {field: getattr(actor, field) for field in expected} == expected


@pytest.mark.parametrize(
    ("user_agent", "channel"),
    [
        ("aws-cli/2.22.4 md/awscrt#0.22.0", "cli"),
        ("APN/1.0 HashiCorp/1.0 Terraform/1.9.8", "terraform"),
        ("Boto3/1.35.0 md/Botocore#1.35.0", "sdk"),
        ("aws-sdk-go-v2/1.32.4", "sdk"),
        ("aws-cdk/2.160.0", "cloudformation"),
        ("cloudformation.amazonaws.com", "cloudformation"),
        ("console.amazonaws.com", "console"),
        ("signin.amazonaws.com", "console"),
        ("AWS Internal", "console"),
        (..., "unknown"),
    ],
)
def test_channel_follows_the_user_agent(user_agent: Any, channel: str) -> None:
    assert actor_of(userAgent=user_agent).channel == channel


def test_console_session_wins_over_the_user_agent() -> None:
    assert actor_of(sessionCredentialFromConsole=True).channel == "console"
    assert actor_of(sessionCredentialFromConsole="TRUE").console is True
    assert actor_of(sessionCredentialFromConsole="false").console is False


def test_aws_service_is_a_service_whatever_its_agent() -> None:
    identity = {"type": "AWSService", "invokedBy": "sso.amazonaws.com"}
    actor = actor_of(identity=identity, userAgent="aws-cli/2.0", sessionCredentialFromConsole="true")
    assert actor.channel == "aws-service"
    assert actor.display == "sso.amazonaws.com"
    assert actor_of(identity={"type": "AWSService"}).display == "an AWS service"


@pytest.mark.parametrize(
    ("mfa", "expected"),
    [(True, True), ("true", True), ("True", True), (False, False), ("false", False), ("yes", False), (1, False)],
)
def test_mfa_accepts_booleans_and_strings_only(mfa: Any, expected: bool) -> None:
    identity = {
        "type": "AssumedRole",
        "arn": "arn:aws:sts::111122223333:assumed-role/dev/s",
        "sessionContext": {"attributes": {"mfaAuthenticated": mfa}},
    }
    assert actor_of(identity=identity).mfa_authenticated is expected


def test_identity_without_type_or_arn_is_unknown_but_parsed() -> None:
    actor = actor_of(identity={"principalId": "AIDAEXAMPLE"})
    assert actor.type == "Unknown"
    assert actor.arn is None
    assert actor.display == "AIDAEXAMPLE"
    assert actor_of(identity={}).display == "Unknown"


# --- input forms ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["create-user-console-sso.json", "bucket-policy-public-read.json"])
def test_str_bytes_and_dict_parse_to_the_same_change(name: str) -> None:
    text = (EVENTS / name).read_text()
    from_dict = parse_event(json.loads(text))
    assert isinstance(from_dict, CloudTrailChange)
    assert parse_event(text) == from_dict
    assert parse_event(text.encode()) == from_dict


def test_change_fields_come_from_envelope_and_record() -> None:
    change = parse_event(sample("create-user-backdoor-cli.json"))
    assert change.event_id == "9672be1a-7fed-4bb9-a92f-a271dbc52933"
    assert change.envelope_id == "c44a66f4-cf25-4346-9cbe-4f50bdbcda98"
    assert change.event_source == "iam.amazonaws.com"
    assert change.event_name == "CreateUser"
    assert change.account == "111122223333"
    assert change.region == "us-east-1"
    assert change.time == "2026-11-21T09:14:07Z"
    assert change.request_parameters == {"userName": "backdoor-admin"}
    assert change.response_elements is not None
    assert change.response_elements["user"]["userName"] == "backdoor-admin"
    assert change.actor.source_ip == "198.51.100.23"
    assert (change.error_code, change.error_message, change.read_only, change.failed) == (None, None, False, False)


def test_account_and_region_fall_back_to_the_record() -> None:
    raw = make_event()
    del raw["account"], raw["region"]
    change = parse_event(raw)
    assert (change.account, change.region) == ("111122223333", "us-east-1")
    raw["detail"].pop("recipientAccountId")
    assert parse_event(raw).account == "111122223333"  # from userIdentity.accountId


def test_s3_record_resources_are_kept() -> None:
    change = parse_event(sample("bucket-policy-by-aws-service.json"))
    assert change.resources == (
        {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-alb-logs"},
    )
    assert change.response_elements is None


def test_error_code_and_message_are_captured() -> None:
    change = parse_event(sample("create-user-access-denied.json"))
    assert change.error_code == "AccessDenied"
    assert change.error_message is not None
    assert "not authorized" in change.error_message
    assert change.failed is True
    built = parse_event(make_event(errorCode="NoSuchEntityException", errorMessage="The role cannot be found."))
    assert (built.error_code, built.error_message) == ("NoSuchEntityException", "The role cannot be found.")


@pytest.mark.parametrize(
    ("read_only", "expected"),
    [(True, True), (False, False), ("true", True), ("TRUE", True), ("false", False), (..., False)],
)
def test_read_only_is_captured(read_only: Any, expected: bool) -> None:
    assert parse_event(make_event(readOnly=read_only)).read_only is expected


def test_read_only_sample() -> None:
    assert parse_event(sample("get-bucket-policy-read-only.json")).read_only is True


def test_null_request_parameters_become_empty() -> None:
    assert parse_event(make_event(requestParameters=None)).request_parameters == {}
    assert parse_event(make_event(requestParameters=...)).request_parameters == {}


def test_event_of_exactly_the_size_limit_is_accepted() -> None:
    text = json.dumps(make_event())
    padded = text + " " * (MAX_EVENT_BYTES - len(text))
    assert len(padded.encode()) == MAX_EVENT_BYTES
    assert parse_event(padded).event_name == "CreateUser"
    assert parse_event(padded.encode()).event_name == "CreateUser"


# --- malformed input ------------------------------------------------------------------------------


def _with(path: str, value: Any, *more: tuple[str, Any]) -> dict[str, Any]:
    """make_event() with dotted paths set (a value of ``...`` deletes the key)."""
    raw = copy.deepcopy(make_event())
    for dotted, new in ((path, value), *more):
        *parents, leaf = dotted.split(".")
        node = raw
        for key in parents:
            node = node[key]
        if new is ...:
            del node[leaf]
        else:
            node[leaf] = new
    return raw


MALFORMED: list[tuple[str, Any, str]] = [
    ("not JSON", "this is not json", r"^event is not JSON"),
    ("truncated JSON", (EVENTS / "malformed-not-json.json").read_text(), r"^event is not JSON"),
    ("empty text", "", r"^event is not JSON"),
    ("invalid UTF-8 bytes", b'{"detail": "\xff\xfe"}', r"^event is not JSON"),
    ("JSON list", "[1, 2, 3]", r"^event must be a JSON object, got a list"),
    ("JSON number", "42", r"^event must be a JSON object, got a number"),
    ("JSON string", '"event"', r"^event must be a JSON object, got a string"),
    ("JSON null", "null", r"^event must be a JSON object, got null"),
    ("a Python list", [make_event()], r"^event must be JSON text or a JSON object, got a list"),
    ("None", None, r"^event must be JSON text or a JSON object, got null"),
    ("an int", 7, r"^event must be JSON text or a JSON object, got a number"),
    ("no detail", _with("detail", ...), r"has no 'detail'"),
    ("no detail (sample)", (EVENTS / "malformed-no-detail.json").read_bytes(), r"has no 'detail'"),
    (
        "wrong detail-type",
        _with("detail-type", "EC2 Instance State-change Notification"),
        r"detail-type is 'EC2 Instance",
    ),
    ("no detail-type", _with("detail-type", ...), r"detail-type is None, not 'AWS API Call via CloudTrail'"),
    # a partner event source (PutPartnerEvents: a third party writes detail-type and detail) is no CloudTrail record,
    # even though a rule matching any aws. source lets it through (review s12 F3)
    ("partner source", _with("source", "aws.partner/example.com/1234/forged"), r"^event source is 'aws\.partner/"),
    ("custom source", _with("source", "acme.identitystore"), r"^event source is 'acme\.identitystore', not an AWS"),
    ("source a number", _with("source", 7), r"^event source is 7, not an AWS service's"),
    ("detail a list", _with("detail", [1]), r"'detail' must be a JSON object, got a list"),
    ("detail a string", _with("detail", "{}"), r"'detail' must be a JSON object, got a string"),
    ("detail null", _with("detail", None), r"'detail' must be a JSON object, got null"),
    ("no eventName", _with("detail.eventName", ...), r"^detail\.eventName is missing$"),
    ("empty eventName", _with("detail.eventName", ""), r"^detail\.eventName is missing$"),
    ("eventName a number", _with("detail.eventName", 1), r"^detail\.eventName must be a string, got a number$"),
    ("no eventSource", _with("detail.eventSource", ...), r"^detail\.eventSource is missing$"),
    ("no eventID", _with("detail.eventID", ...), r"^detail\.eventID is missing$"),
    ("eventID a list", _with("detail.eventID", ["x"]), r"^detail\.eventID must be a string, got a list$"),
    ("no userIdentity", _with("detail.userIdentity", ...), r"^detail\.userIdentity must be a JSON object, got null$"),
    (
        "userIdentity a list",
        _with("detail.userIdentity", []),
        r"detail\.userIdentity must be a JSON object, got a list",
    ),
    ("userIdentity a string", _with("detail.userIdentity", "alice"), r"detail\.userIdentity must be a JSON object"),
    (
        "userIdentity.type a number",
        _with("detail.userIdentity.type", 3),
        r"detail\.userIdentity\.type must be a string",
    ),
    ("sessionContext a list", _with("detail.userIdentity.sessionContext", []), r"userIdentity\.sessionContext must be"),
    (
        "requestParameters a list",
        _with("detail.requestParameters", ["userName"]),
        r"requestParameters must be a JSON object or null, got a list",
    ),
    (
        "requestParameters a string",
        _with("detail.requestParameters", "x"),
        r"requestParameters must be a JSON object or null",
    ),
    (
        "responseElements a list",
        _with("detail.responseElements", []),
        r"responseElements must be a JSON object or null",
    ),
    (
        "resources not a list",
        _with("detail.resources", {"ARN": "x"}),
        r"detail\.resources must be a list of JSON objects",
    ),
    (
        "resources of strings",
        _with("detail.resources", ["arn:aws:s3:::b"]),
        r"detail\.resources must be a list of JSON objects",
    ),
    ("readOnly a number", _with("detail.readOnly", 1), r"^detail\.readOnly must be true or false, got a number$"),
    ("readOnly null", _with("detail.readOnly", None), r"^detail\.readOnly must be true or false, got null$"),
    ("readOnly a list", _with("detail.readOnly", [True]), r"^detail\.readOnly must be true or false, got a list$"),
    ("errorCode a number", _with("detail.errorCode", 403), r"^detail\.errorCode must be a string, got a number$"),
    ("account a number", _with("account", 111122223333), r"^event\.account must be a string, got a number$"),
    (
        "no account anywhere",
        _with("account", ..., ("detail.recipientAccountId", ...), ("detail.userIdentity", {"type": "IAMUser"})),
        r"event names no account",
    ),
    ("no region anywhere", _with("region", ..., ("detail.awsRegion", ...)), r"event names no region"),
]


@pytest.mark.parametrize(
    ("raw", "message"), [(raw, message) for _, raw, message in MALFORMED], ids=[case for case, _, _ in MALFORMED]
)
def test_malformed_input_raises_invalid_event_error_naming_the_problem(raw: Any, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        parse_event(raw)


def test_json_decoder_error_is_chained_not_leaked() -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_event("{")
    assert isinstance(caught.value.__cause__, json.JSONDecodeError)


@pytest.mark.parametrize("form", [str, str.encode])
def test_event_over_the_eventbridge_limit_is_rejected(form: Any) -> None:
    text = json.dumps(make_event())
    oversized = text + " " * (MAX_EVENT_BYTES + 1 - len(text))
    with pytest.raises(
        InvalidEventError,
        match=rf"^event is {MAX_EVENT_BYTES + 1} bytes, over EventBridge's {MAX_EVENT_BYTES}-byte limit",
    ):
        parse_event(form(oversized))


def test_event_over_the_limit_in_utf8_bytes_but_not_in_characters_is_rejected() -> None:
    raw = make_event(requestParameters={"userName": "é" * 140_000})
    text = json.dumps(raw, ensure_ascii=False)
    assert len(text) < MAX_EVENT_BYTES < len(text.encode())
    with pytest.raises(InvalidEventError, match="over EventBridge's"):
        parse_event(text)
    with pytest.raises(InvalidEventError, match="over EventBridge's"):
        parse_event(text.encode())


def test_huge_input_is_rejected_before_parsing() -> None:
    with pytest.raises(InvalidEventError, match="over EventBridge's"):
        parse_event("[" * (MAX_EVENT_BYTES * 4))


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000,
        "{" * 100_000,
        '{"a":' * 50_000,
        b"[" * 100_000,
        '{"detail-type": "AWS API Call via CloudTrail", "detail": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["lists", "braces", "objects", "bytes", "inside-detail"],
)
def test_deeply_nested_json_is_invalid_not_a_recursion_error(raw: str | bytes) -> None:
    with pytest.raises(InvalidEventError, match=r"^event is not JSON"):
        parse_event(raw)


def test_lone_surrogates_in_text_are_handled() -> None:
    raw = make_event(requestParameters={"userName": "\ud800"})
    change = parse_event(json.dumps(raw, ensure_ascii=False))
    assert change.request_parameters == {"userName": "\ud800"}


@pytest.mark.parametrize("source", ["aws.iam", "aws.identitystore", "aws.sso-directory", "aws.cloudtrail", ...])
def test_an_aws_service_source_or_none_is_accepted(source: Any) -> None:
    """Any AWS service's source passes (SCIM and sso-directory records have no documented one, review s11 F8); an
    envelope without a source (a replayed record) is judged on its record."""
    assert parse_event(_with("source", source)).event_name == "CreateUser"


# --- the actor's texts (review s13 D2: one read of the nine, the checking reads only when one is unusual) ---------

_ACTOR_FIELDS = [
    ("detail.userIdentity.type", "type"),
    ("detail.userIdentity.arn", "arn"),
    ("detail.userIdentity.accountId", "account_id"),
    ("detail.userIdentity.principalId", "principal_id"),
    ("detail.userIdentity.userName", "user_name"),
    ("detail.userIdentity.sessionContext.sessionIssuer.arn", "session_issuer_arn"),
    ("detail.userIdentity.sessionContext.sessionIssuer.type", "session_issuer_type"),
    ("detail.userIdentity.invokedBy", "invoked_by"),
    ("detail.sourceIPAddress", "source_ip"),
]


def _full_identity_event() -> dict[str, Any]:
    """Every one of the nine texts set, each to a value of its own."""
    return make_event(
        identity={
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/deployer/ci",
            "accountId": "111122223333",
            "principalId": "AROAEXAMPLE:ci",
            "userName": "deployer-user",
            "invokedBy": "cloudformation.amazonaws.com",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/deployer"},
                "attributes": {"mfaAuthenticated": "false"},
            },
        },
        sourceIPAddress="203.0.113.7",
    )


@pytest.mark.parametrize(("path", "field"), _ACTOR_FIELDS, ids=[path for path, _ in _ACTOR_FIELDS])
@pytest.mark.parametrize("form", [json.dumps, lambda raw: json.dumps(raw).encode(), lambda raw: raw])
def test_each_actor_text_reads_empty_as_absent_and_refuses_another_type_naming_it(
    path: str, field: str, form: Callable[[dict[str, Any]], Any]
) -> None:
    """Each of the nine, in each form: the usual value kept in its own field; "" read as absent (the others kept in
    theirs, so the checking reads keep the order of the usual one); a number refused, naming that field."""
    raw = _full_identity_event()
    usual = parse_event(form(raw)).actor
    *parents, leaf = path.split(".")
    node: Any = raw
    for key in parents:
        node = node[key]
    expected = node[leaf]
    assert getattr(usual, field) == expected

    node[leaf] = ""
    emptied = parse_event(form(raw)).actor
    assert getattr(emptied, field) == ("Unknown" if field == "type" else None)
    assert emptied._replace(**{field: getattr(usual, field)}) == usual

    node[leaf] = 7
    with pytest.raises(InvalidEventError, match=rf"^{path.replace('.', '[.]')} must be a string, got a number$"):
        parse_event(form(raw))
