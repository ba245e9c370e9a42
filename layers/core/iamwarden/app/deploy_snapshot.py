"""The snapshot at deploy: a CloudFormation custom resource whose provider is the heartbeat function.

Restores of trails, boundaries and IAM Warden's own roles read last-known-good snapshots (issue 15 item 3: "a
snapshot taken at deploy and refreshed by the heartbeat"). Without this, the first snapshot exists only after the
heartbeat's first run, up to 5 minutes after deploy. The template's ``DeploySnapshot`` resource
(``AWS::CloudFormation::CustomResource``) sends a Create (and an Update when its properties change); the
heartbeat function takes the same snapshots its schedule takes and answers CloudFormation with a PUT to the
request's presigned ``ResponseURL`` (crpg-ref-requests / crpg-ref-responses in the CloudFormation user guide).

What it answers, and why:

* Create / Update: SUCCESS, even when a snapshot could not be taken. A failed snapshot must not roll back the guard
  itself: restores already fall back to alerting when there is no snapshot, and the heartbeat retries every 5
  minutes. The problem is in ``Reason`` and ``Data`` (visible in the stack's events) and in the heartbeat's critical
  alert to the security topic.
* Delete: SUCCESS without any call (the snapshots are audit items; the audit table's own lifecycle keeps them).
* A request with no known ``RequestType``: FAILED with the reason (CloudFormation never sends one; answering at all
  keeps a stack from waiting for ``ServiceTimeout``). A request with no ``ResponseURL`` cannot be answered: it is
  logged, nothing is taken.
* A request CloudFormation did not send for the own stack (``refuse``: another ``StackId``, or the stack not
  being deployed, ``*_IN_PROGRESS``): logged, nothing taken, nothing answered. Anyone allowed to invoke the
  heartbeat could otherwise make it record their version of the own policies as the deployed one (audit s7 gap 2).

The answer body stays under CloudFormation's 4096-byte limit (the reason is cut to fit).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from iamwarden.adapters.errors import error_code

logger = logging.getLogger(__name__)

#: CloudFormation rejects a response body above this size.
MAX_BODY = 4096
REQUEST_TYPES = ("Create", "Update", "Delete")


class SnapshotTaker(Protocol):
    def refresh(self) -> tuple[int, list[str]]: ...


class Alerter(Protocol):
    def alert_problems(self, problems: list[str]) -> None: ...


def is_custom_resource_request(event: Mapping[str, Any]) -> bool:
    """A CloudFormation custom-resource request (the schedule's events carry ``source``/``detail-type`` instead)."""
    return "RequestType" in event or "ResponseURL" in event


def put_response(url: str, body: bytes, timeout: float = 10.0) -> None:
    """PUT the answer to the presigned S3 URL (an empty content type, as the URL is signed without one)."""
    request = urllib.request.Request(  # noqa: S310 - the URL is CloudFormation's presigned S3 URL
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        answer.read()


class DeploySnapshot:
    """Answers the stack's snapshot custom resource: takes the snapshots, then always tells CloudFormation."""

    def __init__(
        self,
        build: Callable[[], tuple[SnapshotTaker | None, Alerter | None]],
        *,
        physical_id: str,
        put: Callable[[str, bytes], None] = put_response,
        refuse: Callable[[Mapping[str, Any]], str | None] | None = None,
    ) -> None:
        #: Why a request is not CloudFormation's for the own stack (None: it is); None: every request is taken.
        self.refuse = refuse
        #: Builds the snapshot taker and the alerter lazily, so a broken configuration is an answer, not a hang.
        self.build = build
        self.physical_id = physical_id
        self.put = put

    def handle(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Act on the request and PUT the answer; returns the answer (``answered`` False when there was no URL)."""
        url = request.get("ResponseURL")
        refused = self.refuse(request) if self.refuse is not None else None
        if refused is not None:
            # Anyone who may invoke the heartbeat can send this shape: taking snapshots for it would record their
            # state as the deployed one (audit s7 gap 2), and answering would PUT to their URL. Nothing is done.
            logger.error("refused a custom-resource request CloudFormation did not send: %s", refused)
            return {"Status": "REFUSED", "Reason": refused, "answered": False}
        if not isinstance(url, str) or not url:
            logger.error("a custom-resource request without a ResponseURL cannot be answered: nothing taken")
            return {"Status": "REFUSED", "Reason": "no ResponseURL: nothing taken", "answered": False}
        answer = self.answer(request)
        self.put(url, _body(answer))  # a failed PUT raises: Lambda retries the asynchronous invocation
        return {**answer, "answered": True}

    def answer(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The response object for ``request`` (Status, Reason, PhysicalResourceId, the echoed ids, Data)."""
        kind = request.get("RequestType")
        echoed = {
            "StackId": str(request.get("StackId", "")),
            "RequestId": str(request.get("RequestId", "")),
            "LogicalResourceId": str(request.get("LogicalResourceId", "")),
            # Identical for every response of the resource: the one CloudFormation holds, else ours.
            "PhysicalResourceId": str(request.get("PhysicalResourceId") or self.physical_id),
        }
        if kind not in REQUEST_TYPES:
            return {"Status": "FAILED", "Reason": f"not a CloudFormation request type: {kind!r}", **echoed}
        if kind == "Delete":
            return {"Status": "SUCCESS", "Reason": "nothing to delete: snapshots stay in the audit table", **echoed}
        stored, problems = self._snapshot()
        if problems:
            reason = "deployed, but the first snapshots are incomplete (the heartbeat retries): " + "; ".join(problems)
        else:
            reason = f"{stored} snapshots taken"
        data = {"Snapshots": str(stored), "Problems": str(len(problems))}
        return {"Status": "SUCCESS", "Reason": reason, **echoed, "Data": data}

    def _snapshot(self) -> tuple[int, list[str]]:
        try:
            taker, alerter = self.build()
        except Exception as exc:
            return 0, [f"the heartbeat cannot be built ({exc}): no snapshot at deploy"]
        if taker is None:
            problems = ["the heartbeat's environment names no audit table: no snapshot at deploy"]
            stored = 0
        else:
            try:
                stored, problems = taker.refresh()
            except Exception as exc:
                stored, problems = 0, [f"the snapshots at deploy failed ({error_code(exc) or exc})"]
        if problems and alerter is not None:
            try:
                alerter.alert_problems(problems)
            except Exception as exc:
                problems.append(f"the alert about it could not be published ({error_code(exc) or exc})")
        return stored, problems


def _body(answer: Mapping[str, Any]) -> bytes:
    """The JSON body, its reason shortened until the whole fits CloudFormation's limit."""
    reason = str(answer.get("Reason", ""))
    body = json.dumps(answer).encode()
    while len(body) > MAX_BODY and reason:
        reason = reason[: max(0, len(reason) - (len(body) - MAX_BODY) - 16)]
        body = json.dumps({**answer, "Reason": reason + " ... (cut)"}).encode()
    return body
