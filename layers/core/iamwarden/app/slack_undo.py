"""The enforcer's half of an undo from Slack: the same undo as ``iamwarden undo``, then the message updated.

The interaction endpoint verified, authorised and recorded the click, then
invoked the enforcer asynchronously with ``{"command": "iamwarden.slack-undo",
...}``: the undo's IAM calls take longer than Slack's three seconds, and only
the enforcer's role may make them. This never raises: a failed undo is recorded
by the executor (an audit item with status ``failed``) and told in Slack, and
Lambda does not retry it (a retry of a half-done undo is for a person to decide).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from iamwarden.adapters.audit import AuditRecord
from iamwarden.alerts.interactions import UNDO_COMMAND, escape, replaced_message

logger = logging.getLogger(__name__)


class Undoer(Protocol):
    def undo(self, remediation_id: str, *, actor: str | None = None) -> AuditRecord: ...


def is_slack_undo(event: Mapping[str, Any]) -> bool:
    return event.get("command") == UNDO_COMMAND


def run_slack_undo(
    command: Mapping[str, Any],
    executor: Undoer,
    respond: Callable[[str, Mapping[str, Any]], None],
) -> dict[str, Any]:
    """Undo ``command["remediation_id"]`` as ``command["by"]``; update the alert through its ``response_url``."""
    remediation_id = str(command.get("remediation_id") or "")
    by = str(command.get("by") or "slack:unknown")
    user = escape(str(command.get("user_id") or "someone"))
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
        if command.get("exception_id"):
            text += f" Exception `{escape(str(command['exception_id']))}` keeps the enforcer from reverting it."
    response_url = command.get("response_url")
    blocks = command.get("blocks")
    if isinstance(response_url, str) and response_url:
        try:
            respond(response_url, replaced_message(blocks if isinstance(blocks, list) else [], text[:2900]))
        except Exception as exc:  # the undo is done and recorded; the message is a courtesy
            logger.warning("cannot update the Slack message", extra={"error": str(exc)})
    logger.info(text, extra={"verdict": verdict, "remediation_id": remediation_id, "by": by})
    return {"verdict": verdict, "remediation_id": remediation_id, "by": by, "reason": text}
