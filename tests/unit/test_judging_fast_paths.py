"""The judging hot path's shortcuts say exactly what the plain reading said (``make bench``'s throughput work).

Each shortcut is checked against the reading it replaced, spelled out here the slow way: ``parse_event``'s inline
field reads against the reader-per-field parse (same change, same error, on every sample event and on each
field of it made missing, empty or of the wrong type); ``wildcard_match``'s split-at-stars match against a
regex; ``catalogue_actions_covered`` against ``action_matches`` per catalogue action; ``_grants_part_of_a_method``
against its per-action reading; ``is_break_glass``'s cache against ``matches_any``. The caches are bounded.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamwarden.domain import arns, escalation, policy, settings, wildcards
from iamwarden.domain.escalation import cancelled_actions, catalogue_actions_covered
from iamwarden.domain.escalation_methods import catalogue
from iamwarden.domain.events import (
    _CONSOLE_AGENTS,
    AWS_SERVICE_EVENT,
    CLOUDTRAIL_API_CALL,
    CLOUDTRAIL_DETAIL_TYPES,
    CLOUDTRAIL_SERVICE_EVENT,
    Actor,
    CloudTrailChange,
    _load_json,
    _mapping,
    _required_text,
    _text,
    json_type_name,
    parse_event,
)
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import Policy, action_matches, parse_policy
from iamwarden.domain.settings import Settings
from iamwarden.domain.wildcards import matches_any, wildcard_match
from iamwarden.guardrails.identity_policy import _discovers, _grants_part_of_a_method

EVENTS = Path(__file__).parents[2] / "events"


# --- parse_event ----------------------------------------------------------------------------------------------
# The parse as it was before the inline reads: one checking reader per field.


def reference_parse_event(raw: str | bytes | Mapping[str, Any]) -> CloudTrailChange:
    """Parse an EventBridge "AWS API Call via CloudTrail" or "AWS Service Event via CloudTrail" event.

    ``raw`` is the JSON text of the event or the dict Lambda passes to a handler. A service event's record must
    say so too (``eventType`` ``AwsServiceEvent``), so an API call cannot pass for one by its envelope alone.
    """
    envelope = _load_json(raw)
    detail_type = envelope.get("detail-type")
    if "detail" not in envelope:
        raise InvalidEventError("event has no 'detail': it is not an EventBridge event carrying a CloudTrail record")
    if detail_type not in CLOUDTRAIL_DETAIL_TYPES:
        raise InvalidEventError(
            f"event detail-type is {detail_type!r}, not {CLOUDTRAIL_API_CALL!r}: not a CloudTrail API-call event"
            f" (nor {CLOUDTRAIL_SERVICE_EVENT!r})"
        )
    detail = envelope["detail"]
    if not isinstance(detail, dict):
        raise InvalidEventError(f"event 'detail' must be a JSON object, got {json_type_name(detail)}")
    service_event = detail_type == CLOUDTRAIL_SERVICE_EVENT
    event_type = _text(detail, "eventType", "detail")
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
    details = _mapping(detail, "serviceEventDetails", "detail") if service_event else {}

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
        actor=_reference_actor(identity, detail),
        request_parameters=request or {},
        response_elements=response,
        error_code=_text(detail, "errorCode", "detail"),
        error_message=_text(detail, "errorMessage", "detail"),
        read_only=read_only,
        recipient_account_id=_text(detail, "recipientAccountId", "detail"),
        resources=tuple(resources),
        service_event=service_event,
        service_event_details=MappingProxyType(dict(details)),
    )


def _reference_actor(identity: dict[str, Any], detail: dict[str, Any]) -> Actor:
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


def _samples() -> Iterator[tuple[str, Any]]:
    for path in sorted(EVENTS.glob("*.json")):
        try:
            yield path.name, json.loads(path.read_bytes())
        except ValueError:
            yield path.name, path.read_bytes()


SAMPLES = dict(_samples())
#: What a field is made into: missing, empty, null, or of another JSON type.
BROKEN: tuple[Any, ...] = (..., "", None, 7, True, [], {}, ["x"], {"a": "b"})


def _outcome(parse: Any, raw: Any) -> tuple[str, Any]:
    try:
        return "change", parse(raw)
    except InvalidEventError as exc:
        return "error", str(exc)


def _fields(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path into the envelope, its detail and the identity (not into request/response bodies)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            if key in ("detail", "userIdentity", "sessionContext", "sessionIssuer", "attributes"):
                yield from _fields(item, (*path, key))


def _broken(event: dict[str, Any], path: tuple[Any, ...], replacement: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    if replacement is ...:
        del holder[path[-1]]
    else:
        holder[path[-1]] = replacement
    return changed


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_parse_event_reads_every_sample_as_the_reader_per_field_parse_did(name: str) -> None:
    raw = SAMPLES[name]
    assert _outcome(parse_event, raw) == _outcome(reference_parse_event, raw)
    if isinstance(raw, bytes):
        return
    assert _outcome(parse_event, json.dumps(raw)) == _outcome(reference_parse_event, json.dumps(raw))
    for path in _fields(raw):
        for replacement in BROKEN:
            broken = _broken(raw, path, replacement)
            assert _outcome(parse_event, broken) == _outcome(reference_parse_event, broken), (path, replacement)


def test_parse_event_takes_mappings_and_dict_subclasses_as_before() -> None:
    class Detail(dict[str, Any]):
        pass

    raw = SAMPLES["put-role-policy-admin-star.json"]
    assert isinstance(raw, dict)
    event = {**raw, "detail": Detail(raw["detail"])}
    assert _outcome(parse_event, event) == _outcome(reference_parse_event, event)
    assert _outcome(parse_event, event)[0] == "change"


# --- wildcard_match -------------------------------------------------------------------------------------------


def _regex(pattern: str, text: str) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


@given(st.text("ab*:", max_size=12), st.text("ab:", max_size=16))
def test_star_patterns_split_at_their_stars_agree_with_a_regex(pattern: str, text: str) -> None:
    assert wildcard_match(pattern, text) is _regex(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("a*a", "a", False),  # head and tail may not share the text's one character
        ("a*a", "aa", True),
        ("ab*ba", "aba", False),
        ("*a*", "", False),
        ("**", "", True),
        ("a**b", "ab", True),
        ("*ab*ab*", "abab", True),
        ("*ab*ab*", "aab", False),
        ("iam:*role*", "iam:passrole", True),
        ("iam:*role*", "iam:passrol", False),
    ],
)
def test_star_segments_edge_cases(pattern: str, text: str, expected: bool) -> None:
    assert wildcard_match(pattern, text) is expected


# --- catalogue_actions_covered and _grants_part_of_a_method ---------------------------------------------------

CATALOGUE_ACTIONS = sorted({action.lower() for method in catalogue().methods for action in method.actions})
#: Pieces of Action entries: whole actions, services, and wildcard spellings of both.
PATTERNS = st.one_of(
    st.sampled_from(CATALOGUE_ACTIONS),
    st.sampled_from(["*", "iam:*", "s3:*", "*:*", "iam:pass*", "iam:*policy", "i?m:passrole", "*:create*", "ec2:run*"]),
    st.sampled_from(CATALOGUE_ACTIONS).map(lambda action: action[: len(action) // 2] + "*"),
    st.sampled_from(CATALOGUE_ACTIONS).map(lambda action: "*" + action[len(action) // 2 :]),
)


@given(st.lists(PATTERNS, max_size=4), st.booleans())
def test_catalogue_actions_covered_is_action_matches_per_catalogue_action(patterns: list[str], negated: bool) -> None:
    listed = tuple(patterns)
    covered = catalogue_actions_covered(None, listed) if negated else catalogue_actions_covered(listed, None)
    expected = {
        action
        for action in CATALOGUE_ACTIONS
        if any(action_matches(pattern, action) for pattern in listed) is not negated
    }
    assert covered == expected


def _reference_grants_part(document_policy: Policy) -> bool:
    """``_grants_part_of_a_method`` as it read before: every catalogue action asked of every statement (less the
    actions the document's own unconditional Deny cancels, ``cancelled_actions``, tested on its own elsewhere)."""
    cancelled = cancelled_actions(document_policy)

    def allows(action: str, *, own_user: bool) -> bool:
        return action.lower() not in cancelled and any(
            s.allows
            and s.grants_action(action)
            and (own_user or s.resources is None or any("${aws:username}" not in r.lower() for r in s.resources))
            for s in document_policy.statements
        )

    methods = catalogue().methods
    every = frozenset(action for method in methods for action in method.actions)
    granted = {action for action in every if allows(action, own_user=True)}
    if not granted:
        return False
    sets = [frozenset(method.actions) for method in methods if method.reach != "assumes-role"]
    for method in methods:
        needed = frozenset(method.actions)
        mine = {action for action in needed & granted if not _discovers(action)}
        if method.reach == "becomes-other":
            mine = {action for action in mine if allows(action, own_user=False)}
        rest = needed - mine
        if mine and rest and not any(other <= rest for other in sets):
            return True
    return False


STATEMENTS = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Deny"]),
        "Action": st.lists(PATTERNS, min_size=1, max_size=3),
        "Resource": st.sampled_from(
            ["*", "arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::111122223333:role/app-*", "arn:aws:s3:::b/*"]
        ),
    }
)


@given(st.lists(STATEMENTS, min_size=1, max_size=4))
def test_grants_part_of_a_method_reads_as_before(statements: list[dict[str, Any]]) -> None:
    document_policy = parse_policy({"Version": "2012-10-17", "Statement": statements})
    assert _grants_part_of_a_method(document_policy) is _reference_grants_part(document_policy)


def _identity_documents() -> Iterator[dict[str, Any]]:
    for name, raw in SAMPLES.items():
        if not isinstance(raw, dict):
            continue
        detail = raw.get("detail")
        request = detail.get("requestParameters") if isinstance(detail, dict) else None
        text = request.get("policyDocument") if isinstance(request, dict) else None
        if isinstance(text, str) and name.split("-")[0] in ("put", "create", "tamper"):
            try:
                yield json.loads(text)
            except ValueError:
                continue


@pytest.mark.parametrize("document", list(_identity_documents()))
def test_grants_part_of_a_method_reads_every_sample_document_as_before(document: dict[str, Any]) -> None:
    try:
        document_policy = parse_policy(document)
    except InvalidEventError:
        pytest.skip("not a policy document")
    assert _grants_part_of_a_method(document_policy) is _reference_grants_part(document_policy)


# --- is_break_glass -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("patterns", [("arn:aws:iam::*:role/BreakGlassAdmin",), ["arn:aws:iam::111122223333:role/*"]])
def test_is_break_glass_answers_as_matches_any_for_each_arn_and_account(patterns: Any) -> None:
    chosen = Settings(break_glass_principals=patterns)
    arns_asked = [
        "arn:aws:iam::111122223333:role/BreakGlassAdmin",
        "arn:aws:iam::999988887777:role/BreakGlassAdmin",
        "arn:aws:iam::111122223333:role/app",
        "arn:aws:sts::111122223333:assumed-role/BreakGlassAdmin/s",
    ]
    for _ in range(2):  # the second round answers from the cache
        for arn in arns_asked:
            expected = arn if matches_any(arn, patterns) else None
            assert chosen.is_break_glass(None, arn) == expected
    assert Settings().is_break_glass(arns_asked[0]) is None


# --- the caches are bounded -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cached",
    [
        wildcards._segments,
        escalation.catalogue_actions_covered,
        policy._any_matches,
        settings._any_pattern_matches,
        arns.parse_role_arn,
    ],
)
def test_every_cache_the_hot_path_keeps_is_bounded(cached: Any) -> None:
    maxsize = cached.cache_info().maxsize
    assert maxsize is not None
    assert maxsize <= 8192
