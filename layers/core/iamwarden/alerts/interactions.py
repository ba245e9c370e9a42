"""Slack interactions, pure: verify a request, read its click, decide who may do it, shape the answers.

The interaction endpoint (``iamwarden.app.slack_interactions``) runs these in
order, before it acts on anything: ``request_of`` (the function URL event),
``verify`` (Slack's ``v0`` signature and five-minute window, compared in
constant time, before the body is read), ``payload_of`` and ``click_of`` (the
form body and its JSON payload), then ``Permissions.may``. Everything that does
not fit raises ``Rejected`` with the HTTP status and the reason to log.
"""

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from urllib.parse import parse_qs

from iamwarden.alerts.settings import AlertSettings
from iamwarden.domain.rule_exceptions import OPERATOR_APPROVED_RULES
from iamwarden.domain.settings import SLACK_GROUP_ID, SlackSettings

logger = logging.getLogger(__name__)

#: Slack's replay window: a request older (or newer) than this is refused.
SIGNATURE_WINDOW_SECONDS = 300
#: The ``action_id`` of each interactive element; the interaction endpoint dispatches on them.
ACTION_UNDO = "iamwarden_undo"
ACTION_UNDO_WITH_EXCEPTION = "iamwarden_undo_with_exception"
ACTION_REQUEST_EXCEPTION = "iamwarden_request_exception"
ACTION_ACKNOWLEDGE = "iamwarden_acknowledge"
ACTION_APPROVE_EXCEPTION = "iamwarden_approve_exception"
#: The block holding the buttons: replaced by who-did-what once someone acts.
ACTIONS_BLOCK_ID = "iamwarden_actions"
#: Days an undo's exception may last when the approver picks one in the undo menu.
UNDO_EXCEPTION_DAYS = (1, 3, 7)
#: The modal of an exception request (``view_submission``'s ``callback_id``).
EXCEPTION_VIEW = "iamwarden_exception_request"
#: The command the enforcer recognises in an asynchronous invocation (``app.slack_undo``).
UNDO_COMMAND = "iamwarden.slack-undo"
DEFAULT_EXCEPTION_DAYS = 7


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control (mentions, links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Rejected(Exception):
    """The request is refused before anything is read from it: the HTTP status and the logged reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RemediationFacts(NamedTuple):
    """What an audit record says about the finding a button is on."""

    remediation_id: str
    status: str
    rule_id: str
    resource_arn: str
    actor_arn: str | None
    undone_by: str | None = None


class GroupDirectory(Protocol):
    def group_members(self, group_id: str) -> frozenset[str]: ...


# --------------------------------------------------------------------------- the request


class SlackRequest(NamedTuple):
    headers: Mapping[str, str]
    body: str


def request_of(event: Mapping[str, Any]) -> SlackRequest:
    """The headers (lower-cased) and raw body of a Lambda function URL event; 400 if it is not one."""
    headers = event.get("headers")
    body = event.get("body")
    if not isinstance(headers, Mapping) or not isinstance(body, str | None):
        raise Rejected(400, "not a function URL request: no headers or no body")
    text = body or ""
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Rejected(400, "the body is not valid base64-encoded UTF-8") from None
    return SlackRequest({str(key).lower(): str(value) for key, value in headers.items()}, text)


def verify(request: SlackRequest, signing_secret: str, now: float) -> str:
    """The request's signature if Slack signed it within the window; ``Rejected`` (401) otherwise."""
    timestamp = request.headers.get("x-slack-request-timestamp")
    signature = request.headers.get("x-slack-signature")
    if not timestamp or not signature:
        missing = [name for name, value in (("timestamp", timestamp), ("signature", signature)) if not value]
        raise Rejected(401, f"unsigned request: no X-Slack-Request-{'/'.join(missing)} header")
    try:
        sent = int(timestamp)
    except ValueError:
        raise Rejected(401, "the X-Slack-Request-Timestamp header is not a number") from None
    if abs(now - sent) > SIGNATURE_WINDOW_SECONDS:
        raise Rejected(401, f"stale request: signed {int(now - sent)} s ago, outside the 300 s window")
    expected = (
        "v0=" + hmac.new(signing_secret.encode(), f"v0:{timestamp}:{request.body}".encode(), hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Rejected(401, "bad signature: the request was not signed with this app's signing secret")
    return signature


def payload_of(request: SlackRequest) -> dict[str, Any]:
    """The interaction payload (``payload=<json>`` in a form body); ``Rejected`` (400) if malformed."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        raise Rejected(400, f"unexpected content type {content_type[:80]!r}")
    try:
        form = parse_qs(request.body, strict_parsing=True, max_num_fields=4)
    except ValueError:
        raise Rejected(400, "the body is not a form") from None
    values = form.get("payload", [])
    if len(values) != 1:
        raise Rejected(400, "the form has no single payload field")
    try:
        payload = json.loads(values[0])
    except ValueError:
        raise Rejected(400, "the payload is not JSON") from None
    if not isinstance(payload, dict):
        raise Rejected(400, "the payload is not a JSON object")
    return payload


# --------------------------------------------------------------------------- clicks


class Click(NamedTuple):
    """One interaction, read from the payload."""

    action: str
    user_id: str
    user_name: str
    team_id: str
    #: The audit record the button is on (``r`` in its value), and the team the alert was routed to.
    remediation_id: str | None = None
    owner_team: str | None = None
    exception_id: str | None = None
    days: int | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    message_blocks: tuple[Mapping[str, Any], ...] = ()
    form: Mapping[str, Any] | None = None

    @property
    def who(self) -> str:
        """The requester/approver name the desk and the audit trail record: ``slack:<team>/<user>``."""
        return f"slack:{self.team_id}/{self.user_id}"


class ClickRecord(NamedTuple):
    """What the audit table records of a click, allowed or refused."""

    click: Click
    allowed: bool
    outcome: str
    at: datetime
    facts: RemediationFacts | None = None


def click_of(payload: Mapping[str, Any]) -> Click:
    """The click in a ``block_actions`` or ``view_submission`` payload; ``Rejected`` (400) if malformed."""
    user = payload.get("user")
    team = payload.get("team")
    if not isinstance(user, Mapping) or not isinstance(user.get("id"), str):
        raise Rejected(400, "the payload names no user")
    user_id = str(user["id"])
    team_id = str(team.get("id")) if isinstance(team, Mapping) and team.get("id") else str(user.get("team_id", "?"))
    user_name = str(user.get("username") or user.get("name") or user_id)
    kind = payload.get("type")
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], Mapping):
            raise Rejected(400, "a block_actions payload without exactly one action")
        action = actions[0]
        action_id = str(action.get("action_id", ""))
        message = payload.get("message")
        blocks = message.get("blocks", []) if isinstance(message, Mapping) else []
        common: dict[str, Any] = {
            "user_id": user_id,
            "user_name": user_name,
            "team_id": team_id,
            "response_url": _str(payload.get("response_url")),
            "trigger_id": _str(payload.get("trigger_id")),
            "message_blocks": tuple(block for block in blocks if isinstance(block, Mapping)),
        }
        if action_id == ACTION_UNDO_WITH_EXCEPTION:
            selected = action.get("selected_option")
            raw = selected.get("value") if isinstance(selected, Mapping) else None
            days_text, _, remediation_id = str(raw or "").partition("|")
            if not days_text.isdigit() or not remediation_id:
                raise Rejected(400, "an undo-and-exempt choice without days and remediation id")
            return Click(action_id, remediation_id=remediation_id, days=int(days_text), **common)
        if action_id == ACTION_APPROVE_EXCEPTION:
            return Click(action_id, exception_id=_str(action.get("value")), **common)
        if action_id in (ACTION_UNDO, ACTION_REQUEST_EXCEPTION, ACTION_ACKNOWLEDGE):
            value = _button_value(action.get("value"))
            return Click(action_id, remediation_id=value.get("r"), owner_team=value.get("team"), **common)
        raise Rejected(400, f"unknown action {action_id[:60]!r}")
    if kind == "view_submission":
        view = payload.get("view")
        if not isinstance(view, Mapping) or view.get("callback_id") != EXCEPTION_VIEW:
            raise Rejected(400, "a view submission of an unknown view")
        meta = _button_value(view.get("private_metadata"))
        state = view.get("state")
        values = state.get("values") if isinstance(state, Mapping) else None
        return Click(
            EXCEPTION_VIEW,
            user_id,
            user_name,
            team_id,
            remediation_id=meta.get("r"),
            owner_team=meta.get("team"),
            response_url=meta.get("response_url"),
            form=_form(values if isinstance(values, Mapping) else {}),
        )
    raise Rejected(400, f"unsupported interaction type {str(kind)[:40]!r}")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _button_value(raw: Any) -> dict[str, str]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("r"), str):
        raise Rejected(400, "a button value that IAM Warden did not write")
    return {str(key): str(item) for key, item in value.items() if isinstance(item, str)}


def _form(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{block_id: {action_id: element state}}`` flattened to ``{action_id: value}``."""
    form: dict[str, Any] = {}
    for block in values.values():
        if not isinstance(block, Mapping):
            continue
        for action_id, element in block.items():
            if not isinstance(element, Mapping):
                continue
            selected = element.get("selected_option")
            form[str(action_id)] = selected.get("value") if isinstance(selected, Mapping) else element.get("value")
    return form


# --------------------------------------------------------------------------- who may do what


class Permissions:
    """Approvers (users, or members of user groups) and owner teams' Slack users, per the settings."""

    def __init__(self, slack: SlackSettings, alerts: AlertSettings, api: GroupDirectory | None) -> None:
        self.slack = slack
        self.alerts = alerts
        self.api = api

    def is_approver(self, user_id: str) -> bool:
        if user_id in self.slack.approvers:
            return True
        for group in sorted(item for item in self.slack.approvers if re.fullmatch(SLACK_GROUP_ID, item)):
            if self.api is None:
                continue
            try:
                if user_id in self.api.group_members(group):
                    return True
            except Exception as exc:  # a group we cannot read grants nothing
                logger.warning("cannot read Slack user group", extra={"group": group, "error": str(exc)})
        return False

    def owns(self, user_id: str, team: str | None) -> bool:
        return self.alerts.team_of_slack_user(user_id, team)

    def may(self, click: Click, rule_id: str | None = None) -> tuple[bool, str]:
        """Whether ``click``'s user may do its action, and why (or why not).

        The owner team comes from tags the person who made the change may have set (review s11 F5): an owner may
        undo an everyday remediation of its own resource, never one of the rules where an undo is what an
        intruder wants (``OWNER_UNDO_REFUSED``: persistence, escalation, evasion, IAM Warden's own guard).
        """
        if self.is_approver(click.user_id):
            return True, "approver"
        owner = self.owns(click.user_id, click.owner_team)
        if click.action in (ACTION_APPROVE_EXCEPTION, ACTION_UNDO_WITH_EXCEPTION):
            return False, "only approvers (slack/approvers) may approve exceptions"
        if click.action == ACTION_UNDO:
            if not owner:
                return False, "only approvers and the resource's owner team may undo"
            if not self.slack.owners_may_undo:
                return False, "owner teams may not undo (slack/owners_may_undo is off); ask an approver"
            if rule_id is None or rule_id in OWNER_UNDO_REFUSED:
                return False, f"only approvers may undo a remediation of {rule_id or 'an unknown rule'}"
            return True, f"owner team {click.owner_team}"
        if owner:
            return True, f"owner team {click.owner_team}"
        return False, "only approvers and the resource's owner team may act on this alert"


#: Rules whose remediations only an approver may undo, whatever ``slack/owners_may_undo`` says: the owner team is
#: read from tags the changer can set, and undoing these is what an intruder wants (review s11 F5).
OWNER_UNDO_REFUSED = OPERATOR_APPROVED_RULES | frozenset(
    {
        "iamwarden-tampered",
        "trust-policy-untrusted",
        "inline-policy-admin",
        "policy-version-admin",
        "managed-policy-attached",
        "restraint-removed",
        "instance-profile-escalation",
        "user-credential-created",
    }
)


def replaced_message(blocks: Sequence[Mapping[str, Any]], text: str) -> dict[str, Any]:
    """The alert's blocks without its buttons, plus a context line saying who did what."""
    kept = list(without_actions(blocks))
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    return {"replace_original": True, "text": text, "blocks": kept}


def without_actions(blocks: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    return [block for block in blocks if block.get("block_id") != ACTIONS_BLOCK_ID]


def exception_view(facts: RemediationFacts, private_metadata: str) -> dict[str, Any]:
    """The modal asking for an exception: reason, days, and whether it covers the resource or the caller."""
    scopes = [
        {"text": {"type": "plain_text", "text": "This resource (exactly this ARN)"}, "value": "resource"},
    ]
    if facts.actor_arn:
        scopes.append({"text": {"type": "plain_text", "text": "This caller"}, "value": "actor"})
    return {
        "type": "modal",
        "callback_id": EXCEPTION_VIEW,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Request an exception"},
        "submit": {"type": "plain_text", "text": "Request"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Rule `{escape(facts.rule_id)}` on `{escape(facts.resource_arn)}`",
                },
            },
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why is this change needed?"},
                "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True, "max_length": 500},
            },
            {
                "type": "input",
                "block_id": "days",
                "label": {"type": "plain_text", "text": "For how many days?"},
                "element": {
                    "type": "number_input",
                    "action_id": "days",
                    "is_decimal_allowed": False,
                    "min_value": "1",
                    "initial_value": str(DEFAULT_EXCEPTION_DAYS),
                },
            },
            {
                "type": "input",
                "block_id": "scope",
                "label": {"type": "plain_text", "text": "Exempt"},
                "element": {
                    "type": "radio_buttons",
                    "action_id": "scope",
                    "initial_option": scopes[0],
                    "options": scopes,
                },
            },
        ],
    }


def approval_message(
    exception_id: str, click: Click, facts: RemediationFacts, reason: str, scope_kind: str
) -> dict[str, Any]:
    """Posted in the channel after a request: what was asked, and an *Approve* button for the approvers."""
    target = facts.actor_arn if scope_kind == "actor" else facts.resource_arn
    # A resource scope from the remediation names that one resource exactly (review s11 F15): say so, so the
    # approver does not read a `*` in an object key as "every object".
    exactly = "" if scope_kind == "actor" else " exactly (`*` and `?` in it are no wildcards)"
    text = (
        f":raising_hand: <@{click.user_id}> requests exception `{escape(exception_id)}` for rule "
        f"`{escape(facts.rule_id)}` on `{escape(target or '')}`{exactly}: {escape(reason)}"
    )
    return {
        "response_type": "in_channel",
        "replace_original": False,
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
            {
                "type": "actions",
                "block_id": ACTIONS_BLOCK_ID,
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Approve exception"},
                        "action_id": ACTION_APPROVE_EXCEPTION,
                        "value": exception_id,
                        "style": "primary",
                    }
                ],
            },
        ],
    }
