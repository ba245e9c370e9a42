"""The enforcer's half of an undo from Slack: the same undo as ``iamwarden undo``, then the message updated.

The interaction endpoint verified, authorised and recorded the click, left an
undo request in the audit table, then invoked the enforcer asynchronously with
``{"command": "iamwarden.slack-undo", "request_id": ...}``: the undo's IAM calls
take longer than Slack's three seconds, and only the enforcer's role may make
them. Anyone allowed to invoke the enforcer can hand it such a command, so the
command proves nothing (review s11 F20): the remediation, the undoer and where
to answer come from the request, taken once (``claim_undo_request``); a command
naming no waiting request is refused and undoes nothing. This never raises: a
failed undo is recorded by the executor (an audit item with status ``failed``)
and told in Slack, and Lambda does not retry it (a retry of a half-done undo is
for a person to decide).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from iamwarden.adapters.audit import AuditRecord
from iamwarden.alerts.interactions import UNDO_COMMAND, escape, replaced_message

logger = logging.getLogger(__name__)


class Undoer(Protocol):
    def undo(self, remediation_id: str, *, actor: str | None = None) -> AuditRecord: ...


#: How long a verified undo request waits for the enforcer (Lambda's asynchronous queue delivers in seconds; a
#: throttled one retries for minutes): after that it has lapsed, and the click must be made again.
UNDO_REQUEST_TTL = timedelta(hours=1)


class UndoRequests(Protocol):
    def claim_undo_request(self, request_id: str, not_before: str) -> AuditRecord | None:
        """The waiting request ``request_id`` written since ``not_before``, taken; None when there is none (forged,
        lapsed, or already taken)."""
        ...


def is_slack_undo(event: Mapping[str, Any]) -> bool:
    return event.get("command") == UNDO_COMMAND


def run_slack_undo(
    command: Mapping[str, Any],
    executor: Undoer,
    respond: Callable[[str, Mapping[str, Any]], None],
    requests: UndoRequests,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Undo what the request ``command["request_id"]`` names, as its clicker; update the alert through its
    ``response_url``. Nothing else in ``command`` is believed but the message's blocks (what Slack shows)."""
    request_id = str(command.get("request_id") or "")
    try:
        not_before = (clock() - UNDO_REQUEST_TTL).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        request = requests.claim_undo_request(request_id, not_before) if request_id else None
    except Exception as exc:  # the audit table unreadable: nothing is undone on a command alone
        reason = f"cannot read Slack undo request {request_id}: {exc}; nothing was undone"
        logger.error(reason, extra={"verdict": "undo_failed", "request_id": request_id})
        return {"verdict": "undo_failed", "remediation_id": None, "by": None, "reason": reason}
    if request is None or not request.undoes or not request.actor:
        reason = (
            f"refused an undo command naming no waiting Slack undo request ({request_id or 'none'}): it was not "
            "handed over by IAM Warden's Slack endpoint, was run already, or lapsed; nothing was undone"
        )
        logger.error(reason, extra={"verdict": "refused", "request_id": request_id})
        return {"verdict": "refused", "remediation_id": None, "by": None, "reason": reason}
    remediation_id, by = request.undoes, request.actor
    facts = request.finding
    user = escape(str(facts.get("slack_user") or "someone"))
    try:
        record = executor.undo(remediation_id, actor=by)
    except Exception as exc:  # UndoError and AWS failures alike: told, recorded by the executor, not retried
        logger.warning("undo from Slack failed", extra={"remediation_id": remediation_id, "by": by, "error": str(exc)})
        verdict = "undo_failed"
        text = f":warning: Undo of `{escape(remediation_id)}` requested by <@{user}> failed: {escape(str(exc))}"
    else:
        verdict = "undone"
        restored = "; ".join(record.restored) or "nothing: the live state already matched"
        text = (
            f":leftwards_arrow_with_hook: Undone by <@{user}> (`{escape(record.remediation_id)}`). "
            f"Restored: {escape(restored)}"
        )
        if facts.get("exception_id"):
            text += f" Exception `{escape(str(facts['exception_id']))}` keeps the enforcer from reverting it."
    response_url = facts.get("response_url")
    blocks = command.get("blocks")
    if isinstance(response_url, str) and response_url:
        try:
            respond(response_url, replaced_message(blocks if isinstance(blocks, list) else [], text[:2900]))
        except Exception as exc:  # the undo is done and recorded; the message is a courtesy
            logger.warning("cannot update the Slack message", extra={"error": str(exc)})
    logger.info(text, extra={"verdict": verdict, "remediation_id": remediation_id, "by": by})
    return {"verdict": verdict, "remediation_id": remediation_id, "by": by, "reason": text}
