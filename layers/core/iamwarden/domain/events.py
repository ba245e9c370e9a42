"""A typed view of one CloudTrail management event delivered by EventBridge.

EventBridge wraps the CloudTrail record in an envelope whose ``detail`` is the
record itself (see the CloudTrail record contents reference) and whose
``detail-type`` says what it records: "AWS API Call via CloudTrail" for an API
call (``eventType`` ``AwsApiCall``), "AWS Service Event via CloudTrail" for an
event a service records without a public API call (``eventType``
``AwsServiceEvent``: Organizations' ``AccountDepartedOrganization`` in the
management account). A service event is judged only by a rule whose spec names
it in ``RuleSpec.service_events``. ``parse_event`` turns either the raw JSON
text or the dict Lambda hands over into a ``CloudTrailChange``, and raises
``InvalidEventError`` (never KeyError/TypeError/JSON traces) otherwise.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, cast

from iamwarden.domain.exceptions import InvalidEventError

CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail"
CLOUDTRAIL_SERVICE_EVENT = "AWS Service Event via CloudTrail"
#: Every detail-type ``parse_event`` accepts.
CLOUDTRAIL_DETAIL_TYPES = (CLOUDTRAIL_API_CALL, CLOUDTRAIL_SERVICE_EVENT)
#: The record's ``eventType`` a service event must carry (its envelope and its record must agree).
AWS_SERVICE_EVENT = "AwsServiceEvent"
#: Partner event sources (SaaS integrations) are named ``aws.partner/<partner>/...``: a third party writes their
#: ``detail-type`` and ``detail`` (``PutPartnerEvents``), so a record under one is no CloudTrail record, whatever it
#: says. Every AWS service's own source is ``aws.<service>``, and ``PutEvents`` callers may send no ``aws.`` source.
PARTNER_SOURCE_PREFIX = "aws.partner/"
#: EventBridge rejects entries over 256 KB, so a larger "event" cannot be genuine.
MAX_EVENT_BYTES = 256 * 1024

_CONSOLE_AGENTS = frozenset({"aws internal", "console.amazonaws.com", "signin.amazonaws.com"})


class _TupleNew(Protocol):
    def __call__[T](self, cls: type[T], fields: tuple[object, ...], /) -> T: ...


#: ``tuple.__new__``: a NamedTuple from all its fields, in its order, built in C without the Python-level ``__new__``
#: its class generates (as ``domain.policy`` builds its statements). Every event builds an ``Actor``, a
#: ``CloudTrailChange``, a ``RuleContext`` and a ``Judgement``; keywords cost a NamedTuple five times as much.
new_tuple = cast(_TupleNew, tuple.__new__)


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

    @classmethod
    def of_iamwarden(cls, kind: str, principal_id: str, arn: str | None = None) -> "Actor":
        """IAM Warden itself as the actor of a finding it makes without a CloudTrail record (a watch, a notice)."""
        return cls(kind, arn, None, principal_id, None, None, None, None, False, None, None, False)

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
        if self.arn is None and self.principal_id is None and self.invoked_by:
            return self.invoked_by  # a service event's identity: the account and the service, no principal
        return self.arn or self.principal_id or self.type


class CloudTrailChange(NamedTuple):
    """One CloudTrail API call or service event: what was asked (or happened), by whom, where, how it ended."""

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
    #: An AWS service event ("AWS Service Event via CloudTrail"), not an API call: no request, and no caller but
    #: the service (``actor.invoked_by``); what happened is in ``service_event_details``.
    service_event: bool = False
    service_event_details: Mapping[str, Any] = MappingProxyType({})

    @property
    def failed(self) -> bool:
        """A call that changed nothing must never be remediated: an errorCode, or a batch whose every entry failed.

        Batch calls (``events:PutTargets``/``RemoveTargets``, ``ssm:DeleteParameters``) report the entries
        that failed in their response, not in ``errorCode``.
        """
        return self.error_code is not None or self.every_entry_failed

    @property
    def every_entry_failed(self) -> bool:
        """True when a batch call's response says none of its entries took effect."""
        response = self.response_elements
        if not response:
            return False
        if self.event_name in _FAILED_ENTRY_BATCHES:
            requested = self.request_parameters.get(_FAILED_ENTRY_BATCHES[self.event_name])
            count = response.get("failedEntryCount")
            return (
                isinstance(requested, list)
                and isinstance(count, int)
                and not isinstance(count, bool)
                and count >= len(requested) > 0
            )
        if self.event_name == "DeleteParameters":
            deleted = response.get("deletedParameters")
            return isinstance(deleted, list) and not deleted
        return False

    def succeeded_entries(self, field: str) -> tuple[Any, ...] | None:
        """The names a batch call acted on, as its response reports them; None if it reports nothing.

        ``ssm:DeleteParameters`` lists ``deletedParameters`` (``invalidParameters`` were not deleted).
        """
        response = self.response_elements or {}
        value = response.get(field)
        return tuple(value) if isinstance(value, list) else None


#: Batch calls whose response counts failed entries (``failedEntryCount``), and the request list they count.
_FAILED_ENTRY_BATCHES = {"PutTargets": "targets", "RemoveTargets": "ids"}


def parse_event(raw: str | bytes | Mapping[str, Any]) -> CloudTrailChange:
    """Parse an EventBridge "AWS API Call via CloudTrail" or "AWS Service Event via CloudTrail" event.

    ``raw`` is the JSON text of the event or the dict Lambda passes to a handler. A service event's record must
    say so too (``eventType`` ``AwsServiceEvent``), so an API call cannot pass for one by its envelope alone.
    """
    # The hot path of every event: each field is read inline when it has the usual shape (a non-empty string),
    # and through the checking readers (``_text`` and friends, which raise the precise error) otherwise.
    envelope = raw if type(raw) is dict else _load_json(raw)
    detail_type = envelope.get("detail-type")
    if "detail" not in envelope:
        raise InvalidEventError("event has no 'detail': it is not an EventBridge event carrying a CloudTrail record")
    if detail_type not in CLOUDTRAIL_DETAIL_TYPES:
        raise InvalidEventError(
            f"event detail-type is {detail_type!r}, not {CLOUDTRAIL_API_CALL!r}: not a CloudTrail API-call event"
            f" (nor {CLOUDTRAIL_SERVICE_EVENT!r})"
        )
    source = envelope.get("source")
    # a rule that matches any AWS source (review s11 F8) also matches a partner's: refuse what no AWS service sent
    # (review s12 F3); an envelope without a source (a replayed record) says nothing either way
    if source is not None and (
        not isinstance(source, str) or not source.startswith("aws.") or source.startswith(PARTNER_SOURCE_PREFIX)
    ):
        raise InvalidEventError(
            f"event source is {source!r}, not an AWS service's (aws.<service>, no aws.partner/): a CloudTrail record "
            "comes from AWS only"
        )
    detail = envelope["detail"]
    if not isinstance(detail, dict):
        raise InvalidEventError(f"event 'detail' must be a JSON object, got {json_type_name(detail)}")
    get = detail.get
    service_event = detail_type == CLOUDTRAIL_SERVICE_EVENT
    value = get("eventType")
    event_type = value if type(value) is str and value else _text(detail, "eventType", "detail")
    if service_event and event_type != AWS_SERVICE_EVENT:
        raise InvalidEventError(
            f"event detail-type is {CLOUDTRAIL_SERVICE_EVENT!r} but detail.eventType is {event_type!r}, "
            f"not {AWS_SERVICE_EVENT!r}"
        )
    if not service_event and event_type == AWS_SERVICE_EVENT:
        raise InvalidEventError(
            f"detail.eventType is {AWS_SERVICE_EVENT!r} but the event's detail-type is {detail_type!r}, "
            f"not {CLOUDTRAIL_SERVICE_EVENT!r}"
        )
    details = _mapping(detail, "serviceEventDetails", "detail") if service_event else None

    value = get("eventName")
    event_name = value if type(value) is str and value else _required_text(detail, "eventName", "detail")
    value = get("eventSource")
    event_source = value if type(value) is str and value else _required_text(detail, "eventSource", "detail")
    value = get("eventID")
    event_id = value if type(value) is str and value else _required_text(detail, "eventID", "detail")
    value = envelope.get("account")
    account = (
        value
        if type(value) is str and value
        else _text(envelope, "account", "event") or _text(detail, "recipientAccountId", "detail")
    )
    if not account:
        account = _text(_mapping(detail, "userIdentity", "detail"), "accountId", "detail.userIdentity")
    if not account:
        raise InvalidEventError("event names no account: neither 'account' nor detail.recipientAccountId is set")
    value = envelope.get("region")
    region = (
        value
        if type(value) is str and value
        else _text(envelope, "region", "event") or _text(detail, "awsRegion", "detail")
    )
    if not region:
        raise InvalidEventError("event names no region: neither 'region' nor detail.awsRegion is set")

    identity = get("userIdentity")
    if not isinstance(identity, dict):
        raise InvalidEventError(f"detail.userIdentity must be a JSON object, got {json_type_name(identity)}")

    request = get("requestParameters")
    if request is not None and not isinstance(request, dict):
        raise InvalidEventError(
            f"detail.requestParameters must be a JSON object or null, got {json_type_name(request)}"
        )
    response = get("responseElements")
    if response is not None and not isinstance(response, dict):
        raise InvalidEventError(
            f"detail.responseElements must be a JSON object or null, got {json_type_name(response)}"
        )
    resources = get("resources")
    if not resources:  # most records name none: no generator to build for them
        resources = ()
    elif not isinstance(resources, list) or not all(isinstance(item, dict) for item in resources):
        raise InvalidEventError("detail.resources must be a list of JSON objects")

    read_only = get("readOnly", False)
    if isinstance(read_only, str):
        read_only = read_only.lower() == "true"
    elif not isinstance(read_only, bool):
        raise InvalidEventError(f"detail.readOnly must be true or false, got {json_type_name(read_only)}")

    value = envelope.get("id")
    envelope_id = value if type(value) is str and value else _text(envelope, "id", "event")
    value = get("eventTime")
    time = value if type(value) is str and value else _checked_time(envelope, detail)
    actor = _parse_actor(identity, detail)
    value = get("errorCode")
    error_code = None if value is None else _text(detail, "errorCode", "detail")
    value = get("errorMessage")
    error_message = None if value is None else _text(detail, "errorMessage", "detail")
    value = get("recipientAccountId")
    recipient = value if type(value) is str and value else _text(detail, "recipientAccountId", "detail")
    return new_tuple(
        CloudTrailChange,
        (
            event_id,
            envelope_id,
            time,
            account,
            region,
            event_source,
            event_name,
            actor,
            request or {},
            response,
            error_code,
            error_message,
            read_only,
            recipient,
            resources if type(resources) is tuple else tuple(resources),
            service_event,
            _NO_DETAILS if details is None else MappingProxyType(dict(details)),
        ),
    )


def _checked_time(envelope: Mapping[str, Any], detail: Mapping[str, Any]) -> str:
    """``event_time`` of an event whose record has no ``eventTime`` text, raising for a time of the wrong type."""
    _text(detail, "eventTime", "detail") or _text(envelope, "time", "event")
    return event_time(envelope)


def event_time(event: Mapping[str, Any]) -> str:
    """The time an EventBridge CloudTrail event records, as ``parse_event`` keeps it in ``CloudTrailChange.time``:
    the record's ``eventTime``, else the envelope's ``time`` (EventBridge sets it from the record); "" when
    neither is a non-empty string. Never raises: the cache's invalidation reads events not yet judged."""
    detail = event.get("detail")
    value = detail.get("eventTime") if isinstance(detail, Mapping) else None
    if isinstance(value, str) and value:
        return value
    value = event.get("time")
    return value if isinstance(value, str) and value else ""


def instant(value: object) -> datetime | None:
    """An event's or a record's time (ISO 8601, or epoch seconds as a condition's date may be) as an aware
    datetime; None when it does not read. A time without a zone is UTC: CloudTrail (``eventTime``, always ``Z``)
    and the audit table write UTC, and reading one as the machine's local time would move it by hours."""
    if type(value) is not str:
        return None
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def event_instant(event: "CloudTrailChange | Mapping[str, Any]") -> datetime | None:
    """When an event happened (``event_time`` of a raw event, ``time`` of a parsed one) as an aware datetime, or
    None when it names no readable time: the one reading of an event's time (the enforcer's checks, the snapshots'
    order and the live directory's cache horizon all use it, so none can read a time another does not)."""
    return instant(event.time if isinstance(event, CloudTrailChange) else event_time(event))


#: An API call's (empty) ``service_event_details``: one read-only mapping for them all.
_NO_DETAILS: Mapping[str, Any] = MappingProxyType({})


def _parse_actor(identity: dict[str, Any], detail: dict[str, Any]) -> Actor:
    where = "detail.userIdentity"
    session = identity.get("sessionContext")
    session = session if type(session) is dict else _mapping(identity, "sessionContext", where)
    issuer = session.get("sessionIssuer")
    issuer = issuer if type(issuer) is dict else _mapping(session, "sessionIssuer", f"{where}.sessionContext")
    attributes = session.get("attributes")
    attributes = attributes if type(attributes) is dict else _mapping(session, "attributes", f"{where}.sessionContext")
    mfa = attributes.get("mfaAuthenticated", False)
    user_agent = detail.get("userAgent")
    user_agent = user_agent if type(user_agent) is str and user_agent else _text(detail, "userAgent", "detail")
    from_console = detail.get("sessionCredentialFromConsole")
    console = from_console is True or (isinstance(from_console, str) and from_console.lower() == "true")
    console = console or (user_agent or "").lower() in _CONSOLE_AGENTS
    get = identity.get
    kind = get("type")
    arn = get("arn")
    account_id = get("accountId")
    principal_id = get("principalId")
    user_name = get("userName")
    invoked_by = get("invokedBy")
    issuer_arn = issuer.get("arn")
    issuer_type = issuer.get("type")
    source_ip = detail.get("sourceIPAddress")
    issuer_where = "detail.userIdentity.sessionContext.sessionIssuer"
    # Each read inline when it is a non-empty string or absent, through ``_text`` (which raises) otherwise.
    return new_tuple(
        Actor,
        (
            (kind if type(kind) is str and kind else None if kind is None else _text(identity, "type", where))
            or "Unknown",
            arn if type(arn) is str and arn else None if arn is None else _text(identity, "arn", where),
            account_id
            if type(account_id) is str and account_id
            else None
            if account_id is None
            else _text(identity, "accountId", where),
            principal_id
            if type(principal_id) is str and principal_id
            else None
            if principal_id is None
            else _text(identity, "principalId", where),
            user_name
            if type(user_name) is str and user_name
            else None
            if user_name is None
            else _text(identity, "userName", where),
            issuer_arn
            if type(issuer_arn) is str and issuer_arn
            else None
            if issuer_arn is None
            else _text(issuer, "arn", issuer_where),
            issuer_type
            if type(issuer_type) is str and issuer_type
            else None
            if issuer_type is None
            else _text(issuer, "type", issuer_where),
            invoked_by
            if type(invoked_by) is str and invoked_by
            else None
            if invoked_by is None
            else _text(identity, "invokedBy", where),
            mfa is True or (isinstance(mfa, str) and mfa.lower() == "true"),
            source_ip
            if type(source_ip) is str and source_ip
            else None
            if source_ip is None
            else _text(detail, "sourceIPAddress", "detail"),
            user_agent,
            console,
        ),
    )


def _load_json(raw: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    raw_type = type(raw)
    # Text, the usual case, is told by its exact type first: ``isinstance`` against ``Mapping`` is an ABC check.
    if raw_type is not bytes and raw_type is not str:
        if isinstance(raw, Mapping):
            return raw
        if not isinstance(raw, str | bytes | bytearray):
            raise InvalidEventError(f"event must be JSON text or a JSON object, got {json_type_name(raw)}")
    text = cast(str | bytes | bytearray, raw)
    size = len(text)
    if isinstance(text, str) and size <= MAX_EVENT_BYTES and not text.isascii():
        # The limit is in UTF-8 bytes, not characters (ASCII text has one byte a character: ``isascii`` is a flag).
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_EVENT_BYTES:
        raise InvalidEventError(
            f"event is {size} bytes, over EventBridge's {MAX_EVENT_BYTES}-byte limit: it cannot be genuine"
        )
    value = _object_read_quickly(text)
    if value is None:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise InvalidEventError(f"event is not JSON: {_first_line(exc)}") from exc
    if not isinstance(value, dict):
        raise InvalidEventError(f"event must be a JSON object, got {json_type_name(value)}")
    return value


#: The C scanner ``json.loads`` ends in, as a default ``JSONDecoder`` builds it (``strict``, float, int, the
#: constants NaN/Infinity): called directly it skips ``loads``' Python layers (the encoding detection, ``decode``'s
#: two whitespace matches, ``raw_decode``): about a seventh of what ``json.loads`` takes on a sample event.
_scan_once: Any = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009 - set in __init__
#: The whitespace JSON allows after a value (``json.decoder.WHITESPACE``).
_JSON_WHITESPACE = " \t\n\r"


def _object_read_quickly(raw: str | bytes | bytearray) -> dict[str, Any] | None:
    """The object ``json.loads(raw)`` reads, when ``raw`` is the usual event: UTF-8 text that starts with ``{``
    and holds one object, and nothing after it but whitespace. None for anything else (and for whatever the
    scanner refuses), which ``json.loads`` then reads or refuses, with its own words: the answer is never another.

    Bytes starting ``{`` are UTF-8 to ``json.detect_encoding`` (no BOM starts ``{``), which ``loads`` decodes with
    ``surrogatepass``, as here, unless a NUL comes second (UTF-16/32 little-endian): no JSON text in UTF-8 has one
    there, so the scanner refuses it and ``loads`` reads it as it always did. Text starting ``{`` has no BOM and
    no whitespace for ``loads`` to skip, so the scanner starts where ``loads``' would.
    """
    if type(raw) is bytes:
        if raw[:1] != b"{":
            return None
        try:
            text = raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return None
    elif type(raw) is str and raw[:1] == "{":
        text = raw
    else:
        return None
    try:
        value, end = _scan_once(text, 0)
    except Exception:  # StopIteration, JSONDecodeError, RecursionError: json.loads reads it again and words it
        return None
    if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
        return None  # extra data after the object
    return value  # type: ignore[no-any-return]


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
