"""A typed view of one CloudTrail API call delivered by EventBridge.

EventBridge wraps the CloudTrail record in an envelope whose ``detail-type`` is
"AWS API Call via CloudTrail" and whose ``detail`` is the record itself (see
the CloudTrail record contents reference). ``parse_event`` turns either the
raw JSON text or the dict Lambda hands over into a ``CloudTrailChange``, and
raises ``InvalidEventError`` (never KeyError/TypeError/JSON traces) otherwise.
"""

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from iamwarden.domain.exceptions import InvalidEventError

CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail"
#: EventBridge rejects entries over 256 KB, so a larger "event" cannot be genuine.
MAX_EVENT_BYTES = 256 * 1024

_CONSOLE_AGENTS = frozenset({"aws internal", "console.amazonaws.com", "signin.amazonaws.com"})


class Actor(NamedTuple):
    """Who made the call, from CloudTrail's ``userIdentity`` and the request context."""

    type: str
    arn: str | None
    account_id: str | None
    principal_id: str | None
    user_name: str | None
    session_issuer_arn: str | None
    session_issuer_type: str | None
    invoked_by: str | None
    mfa_authenticated: bool
    source_ip: str | None
    user_agent: str | None
    console: bool

    @property
    def principal_arn(self) -> str | None:
        """The ARN that identifies the principal for allowlists: the role behind a session."""
        return self.session_issuer_arn or self.arn

    @property
    def channel(self) -> str:
        """How the call was made, in words: console, cli, terraform, sdk or an AWS service."""
        if self.type == "AWSService":
            return "aws-service"
        if self.console:
            return "console"
        agent = (self.user_agent or "").lower().lstrip("[")  # S3 records bracket the agent: "[aws-cli/2.22.4 ...]"
        if agent.startswith("aws-cli/"):
            return "cli"
        if "terraform" in agent:
            return "terraform"
        if agent.startswith(("aws-cdk", "cloudformation.amazonaws.com")):
            return "cloudformation"
        return "sdk" if agent else "unknown"

    @property
    def display(self) -> str:
        """The best human identifier available for this actor."""
        if self.type == "AWSService":
            return self.invoked_by or "an AWS service"
        return self.arn or self.principal_id or self.type


class CloudTrailChange(NamedTuple):
    """One CloudTrail API call: what was asked, by whom, where, and how it ended."""

    event_id: str
    envelope_id: str | None
    time: str
    account: str
    region: str
    event_source: str
    event_name: str
    actor: Actor
    request_parameters: Mapping[str, Any]
    response_elements: Mapping[str, Any] | None
    error_code: str | None
    error_message: str | None
    read_only: bool
    recipient_account_id: str | None
    resources: tuple[Mapping[str, Any], ...]

    @property
    def failed(self) -> bool:
        """A call with an errorCode changed nothing and must never be remediated."""
        return self.error_code is not None


def parse_event(raw: str | bytes | Mapping[str, Any]) -> CloudTrailChange:
    """Parse an EventBridge "AWS API Call via CloudTrail" event.

    ``raw`` is the JSON text of the event or the dict Lambda passes to a handler.
    """
    envelope = _load_json(raw)
    detail_type = envelope.get("detail-type")
    if "detail" not in envelope:
        raise InvalidEventError("event has no 'detail': it is not an EventBridge event carrying a CloudTrail record")
    if detail_type != CLOUDTRAIL_API_CALL:
        raise InvalidEventError(
            f"event detail-type is {detail_type!r}, not {CLOUDTRAIL_API_CALL!r}: not a CloudTrail API-call event"
        )
    detail = envelope["detail"]
    if not isinstance(detail, dict):
        raise InvalidEventError(f"event 'detail' must be a JSON object, got {json_type_name(detail)}")

    event_name = _required_text(detail, "eventName", "detail")
    event_source = _required_text(detail, "eventSource", "detail")
    event_id = _required_text(detail, "eventID", "detail")
    account = _text(envelope, "account", "event") or _text(detail, "recipientAccountId", "detail")
    if not account:
        account = _text(_mapping(detail, "userIdentity", "detail"), "accountId", "detail.userIdentity")
    if not account:
        raise InvalidEventError("event names no account: neither 'account' nor detail.recipientAccountId is set")
    region = _text(envelope, "region", "event") or _text(detail, "awsRegion", "detail")
    if not region:
        raise InvalidEventError("event names no region: neither 'region' nor detail.awsRegion is set")

    identity = detail.get("userIdentity")
    if not isinstance(identity, dict):
        raise InvalidEventError(f"detail.userIdentity must be a JSON object, got {json_type_name(identity)}")

    request = detail.get("requestParameters")
    if request is not None and not isinstance(request, dict):
        raise InvalidEventError(
            f"detail.requestParameters must be a JSON object or null, got {json_type_name(request)}"
        )
    response = detail.get("responseElements")
    if response is not None and not isinstance(response, dict):
        raise InvalidEventError(
            f"detail.responseElements must be a JSON object or null, got {json_type_name(response)}"
        )
    resources = detail.get("resources") or []
    if not isinstance(resources, list) or not all(isinstance(item, dict) for item in resources):
        raise InvalidEventError("detail.resources must be a list of JSON objects")

    read_only = detail.get("readOnly", False)
    if isinstance(read_only, str):
        read_only = read_only.lower() == "true"
    elif not isinstance(read_only, bool):
        raise InvalidEventError(f"detail.readOnly must be true or false, got {json_type_name(read_only)}")

    return CloudTrailChange(
        event_id=event_id,
        envelope_id=_text(envelope, "id", "event"),
        time=_text(detail, "eventTime", "detail") or _text(envelope, "time", "event") or "",
        account=account,
        region=region,
        event_source=event_source,
        event_name=event_name,
        actor=_parse_actor(identity, detail),
        request_parameters=request or {},
        response_elements=response,
        error_code=_text(detail, "errorCode", "detail"),
        error_message=_text(detail, "errorMessage", "detail"),
        read_only=read_only,
        recipient_account_id=_text(detail, "recipientAccountId", "detail"),
        resources=tuple(resources),
    )


def _parse_actor(identity: dict[str, Any], detail: dict[str, Any]) -> Actor:
    where = "detail.userIdentity"
    session = _mapping(identity, "sessionContext", where)
    issuer = _mapping(session, "sessionIssuer", f"{where}.sessionContext")
    attributes = _mapping(session, "attributes", f"{where}.sessionContext")
    mfa = attributes.get("mfaAuthenticated", False)
    user_agent = _text(detail, "userAgent", "detail")
    from_console = detail.get("sessionCredentialFromConsole")
    console = from_console is True or (isinstance(from_console, str) and from_console.lower() == "true")
    console = console or (user_agent or "").lower() in _CONSOLE_AGENTS
    return Actor(
        type=_text(identity, "type", where) or "Unknown",
        arn=_text(identity, "arn", where),
        account_id=_text(identity, "accountId", where),
        principal_id=_text(identity, "principalId", where),
        user_name=_text(identity, "userName", where),
        session_issuer_arn=_text(issuer, "arn", f"{where}.sessionContext.sessionIssuer"),
        session_issuer_type=_text(issuer, "type", f"{where}.sessionContext.sessionIssuer"),
        invoked_by=_text(identity, "invokedBy", where),
        mfa_authenticated=mfa is True or (isinstance(mfa, str) and mfa.lower() == "true"),
        source_ip=_text(detail, "sourceIPAddress", "detail"),
        user_agent=user_agent,
        console=console,
    )


def _load_json(raw: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    if not isinstance(raw, str | bytes | bytearray):
        raise InvalidEventError(f"event must be JSON text or a JSON object, got {json_type_name(raw)}")
    size = len(raw)
    if isinstance(raw, str) and size <= MAX_EVENT_BYTES:
        size = len(raw.encode("utf-8", "surrogatepass"))  # the limit is in UTF-8 bytes, not characters
    if size > MAX_EVENT_BYTES:
        raise InvalidEventError(
            f"event is {size} bytes, over EventBridge's {MAX_EVENT_BYTES}-byte limit: it cannot be genuine"
        )
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidEventError(f"event is not JSON: {_first_line(exc)}") from exc
    if not isinstance(value, dict):
        raise InvalidEventError(f"event must be a JSON object, got {json_type_name(value)}")
    return value


def _required_text(source: Mapping[str, Any], key: str, where: str) -> str:
    value = _text(source, key, where)
    if value is None:
        raise InvalidEventError(f"{where}.{key} is missing")
    return value


def _text(source: Mapping[str, Any], key: str, where: str) -> str | None:
    value = source.get(key)
    if type(value) is str:  # the common case first: this runs ~18 times per event
        return value or None
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEventError(f"{where}.{key} must be a string, got {json_type_name(value)}")
    return value


def _mapping(source: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = source.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidEventError(f"{where}.{key} must be a JSON object, got {json_type_name(value)}")
    return value


def json_type_name(value: object) -> str:
    """Name a JSON value's type the way an operator reading the event would."""
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case dict():
            return "an object"
    return type(value).__name__


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
