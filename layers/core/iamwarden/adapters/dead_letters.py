"""Hand dead-lettered events back to the enforcer (``iamwarden replay``).

The enforcer's dead-letter queue receives two kinds of message:

* Lambda's on-failure destination record, after the function failed every retry:
  ``{"version", "timestamp", "requestContext": {"requestId", "functionArn", "condition",
  "approximateInvokeCount"}, "requestPayload": <the event>, "responseContext", "responsePayload"}``;
* EventBridge's dead letter, when the rule could not deliver the event at all: the body
  is the event itself, and the reason is in the message attributes ``ERROR_CODE`` and
  ``ERROR_MESSAGE`` (with ``RULE_ARN`` and ``TARGET_ARN``).

Each event is invoked asynchronously (``InvocationType=Event``), exactly as EventBridge
would deliver it, so it gets Lambda's retries and lands here again if it fails again.
A message is deleted only after Lambda accepted the invoke (202). A message that cannot
be read or replayed is never deleted: it is made visible again at the end of the run,
so nothing is lost and a later run can retry it. The enforcer is idempotent on the
CloudTrail event id, so an event replayed twice still acts once.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import describe, error_code
from iamwarden.domain.exceptions import ReplayError

#: Seconds a received message stays hidden while this run works on it; kept ones are released at the end.
HIDE_SECONDS = 300
#: Long polling asks every SQS server, so an empty answer means the queue is drained (short polling samples).
RECEIVE_WAIT_SECONDS = 1
#: SQS returns at most ten messages per receive and takes at most ten entries per batch call.
_SQS_BATCH = 10
#: Lambda answers an accepted asynchronous invoke with 202.
_ACCEPTED = 202
#: Enough of the function's error to recognise it; the full text is in the message.
_REASON_CHARS = 300


class MessageShape(enum.StrEnum):
    LAMBDA_DESTINATION = "lambda-destination"
    EVENTBRIDGE_DLQ = "eventbridge-dlq"


class ReplayStatus(enum.StrEnum):
    REPLAYED = "replayed"  # invoke accepted, message deleted
    WOULD_REPLAY = "would-replay"  # --dry-run: nothing changed
    INVOKE_FAILED = "invoke-failed"  # kept in the queue
    NOT_DELETED = "replayed-not-deleted"  # invoke accepted, delete failed: it will be delivered again
    UNRECOGNISED = "unrecognised"  # neither shape: kept in the queue


#: Outcomes that leave work for the operator (the command exits 2).
PROBLEMS = frozenset({ReplayStatus.INVOKE_FAILED, ReplayStatus.NOT_DELETED, ReplayStatus.UNRECOGNISED})


def _is_eventbridge_event(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("detail"), dict) and "detail-type" in value


def _shape(body: str, message_id: str) -> tuple[MessageShape, dict[str, Any]]:
    """The message's shape and its decoded body; ReplayError (naming the message) for anything else."""
    try:
        decoded = json.loads(body)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ReplayError(f"message {message_id}: the body is not JSON ({exc})") from exc
    if not isinstance(decoded, dict):
        raise ReplayError(f"message {message_id}: the body is JSON but not an object")
    if isinstance(decoded.get("requestContext"), dict):
        payload = decoded.get("requestPayload")
        if payload is None:
            raise ReplayError(
                f"message {message_id}: a Lambda destination record without requestPayload "
                "(Lambda leaves the event out of records that are too large); find the event in CloudTrail"
            )
        if not isinstance(payload, dict):
            raise ReplayError(f"message {message_id}: the requestPayload of the Lambda record is not a JSON object")
        return MessageShape.LAMBDA_DESTINATION, decoded
    if _is_eventbridge_event(decoded):
        return MessageShape.EVENTBRIDGE_DLQ, decoded
    raise ReplayError(
        f"message {message_id}: neither a Lambda destination record (requestContext, requestPayload) "
        "nor an EventBridge event (detail-type, detail)"
    )


def original_event(body: str, message_id: str = "(unknown)") -> dict[str, Any]:
    """The event the enforcer failed on, from either message shape; ReplayError names the message otherwise."""
    shape, decoded = _shape(body, message_id)
    if shape is MessageShape.LAMBDA_DESTINATION:
        event: dict[str, Any] = decoded["requestPayload"]
        return event
    return decoded


def failure_reason(body: str, attributes: Mapping[str, Any] | None = None) -> str | None:
    """Why the event was dead-lettered, as far as the message says (None when it does not)."""
    try:
        decoded = json.loads(body)
    except (json.JSONDecodeError, TypeError):
        return None
    if isinstance(decoded, dict) and isinstance(decoded.get("requestContext"), dict):
        context = decoded["requestContext"]
        parts = [str(context.get("condition") or "failed")]
        if context.get("approximateInvokeCount") is not None:
            parts.append(f"after {context['approximateInvokeCount']} attempt(s)")
        response = decoded.get("responsePayload")
        if isinstance(response, dict) and (response.get("errorType") or response.get("errorMessage")):
            error = ": ".join(str(response[k]) for k in ("errorType", "errorMessage") if response.get(k))
            parts.append(f"- {error}")
        elif isinstance(decoded.get("responseContext"), dict) and decoded["responseContext"].get("functionError"):
            parts.append(f"- {decoded['responseContext']['functionError']} function error")
        return _one_line(" ".join(parts))
    values = {name: _attribute(attributes, name) for name in ("ERROR_CODE", "ERROR_MESSAGE")}
    if not any(values.values()):
        return None
    return _one_line(": ".join(value for value in values.values() if value))


def _attribute(attributes: Mapping[str, Any] | None, name: str) -> str | None:
    value = (attributes or {}).get(name)
    if isinstance(value, Mapping):
        text = value.get("StringValue")
        return str(text) if text else None
    return None


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _REASON_CHARS else flat[: _REASON_CHARS - 1] + "…"


class DeadLetter(NamedTuple):
    """One received message and the event in it."""

    message_id: str
    receipt_handle: str
    shape: MessageShape
    event: dict[str, Any]
    #: What is invoked: EventBridge's body verbatim, or the record's requestPayload re-serialised.
    payload: bytes
    failure: str | None

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> DeadLetter:
        message_id = str(message.get("MessageId", "(no id)"))
        body = message.get("Body", "")
        shape, decoded = _shape(body, message_id)
        if shape is MessageShape.LAMBDA_DESTINATION:
            event = decoded["requestPayload"]
            payload = json.dumps(event).encode()
        else:
            event, payload = decoded, body.encode()
        return cls(
            message_id,
            str(message.get("ReceiptHandle", "")),
            shape,
            event,
            payload,
            failure_reason(body, message.get("MessageAttributes")),
        )


def event_id_of(event: Mapping[str, Any]) -> str | None:
    """The CloudTrail event id (the enforcer's idempotency key), else EventBridge's own id."""
    detail = event.get("detail")
    if isinstance(detail, Mapping) and detail.get("eventID"):
        return str(detail["eventID"])
    return str(event["id"]) if event.get("id") else None


def event_name_of(event: Mapping[str, Any]) -> str | None:
    detail = event.get("detail")
    return str(detail["eventName"]) if isinstance(detail, Mapping) and detail.get("eventName") else None


class ReplayOutcome(NamedTuple):
    message_id: str
    status: ReplayStatus
    event_id: str | None = None
    event_name: str | None = None
    #: Why the event was dead-lettered in the first place, if the message says.
    failure: str | None = None
    #: Why this run could not replay it (or delete it).
    problem: str | None = None


class ReplayReport(NamedTuple):
    queue_url: str
    function: str
    dry_run: bool
    outcomes: tuple[ReplayOutcome, ...]
    #: A failure that stopped the run early (reading the queue), or that left messages hidden.
    errors: tuple[str, ...] = ()

    def count(self, status: ReplayStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status is status)

    @property
    def ok(self) -> bool:
        """Every message was replayed (or would be), and the run was not cut short."""
        return not self.errors and not any(outcome.status in PROBLEMS for outcome in self.outcomes)


class DeadLetterReplayer:
    """Reads the dead-letter queue and invokes the enforcer once per event; clients are injected."""

    def __init__(
        self,
        sqs: Any,
        lambda_client: Any,
        *,
        queue: str,
        function: str,
        wait_seconds: int | None = None,
        hide_seconds: int = HIDE_SECONDS,
    ) -> None:
        self._sqs = sqs
        self._lambda = lambda_client
        self._queue = queue
        self.function = function
        self._wait_seconds = RECEIVE_WAIT_SECONDS if wait_seconds is None else wait_seconds
        self._hide_seconds = hide_seconds

    def queue_url(self) -> str:
        """The queue's URL: given as one, or looked up by name."""
        if self._queue.startswith(("https://", "http://")):
            return self._queue

        try:
            return str(self._sqs.get_queue_url(QueueName=self._queue)["QueueUrl"])
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                raise ReplayError(f"no dead-letter queue named {self._queue} in this account and region") from exc
            raise ReplayError(f"cannot find the dead-letter queue {self._queue}: {describe(exc)}") from exc

    def replay(self, *, max_messages: int | None = None, dry_run: bool = False) -> ReplayReport:
        """Replay up to ``max_messages`` (all when None); with ``dry_run`` only list what would be replayed."""
        url = self.queue_url()
        outcomes: list[ReplayOutcome] = []
        keep: list[tuple[str, str]] = []  # (message id, receipt handle) to make visible again
        errors: list[str] = []
        try:
            for message in self._receive(url, max_messages):
                outcome = self._handle(url, message, dry_run)
                outcomes.append(outcome)
                if outcome.status is not ReplayStatus.REPLAYED and "ReceiptHandle" in message:
                    keep.append((outcome.message_id, str(message["ReceiptHandle"])))
        except ReplayError as exc:
            errors.append(str(exc))
        errors.extend(self._release(url, keep))
        return ReplayReport(url, self.function, dry_run, tuple(outcomes), tuple(errors))

    def _receive(self, url: str, max_messages: int | None) -> Iterator[Mapping[str, Any]]:
        """Each message once, until the queue is drained or ``max_messages`` were received."""
        seen: set[str] = set()
        received = 0
        while max_messages is None or received < max_messages:
            wanted = _SQS_BATCH if max_messages is None else min(_SQS_BATCH, max_messages - received)
            try:
                answer = self._sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=wanted,
                    WaitTimeSeconds=self._wait_seconds,
                    VisibilityTimeout=self._hide_seconds,
                    MessageAttributeNames=["All"],
                    MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
                )
            except (BotoCoreError, ClientError) as exc:
                raise ReplayError(f"cannot read the dead-letter queue {url}: {describe(exc)}") from exc
            fresh = 0
            for message in answer.get("Messages", []):
                message_id = str(message.get("MessageId"))
                if message_id in seen:
                    continue  # SQS delivers at least once: a copy this run has already handled
                seen.add(message_id)
                fresh += 1
                received += 1
                yield message
            if not fresh:
                return  # drained, or only messages this run has already handled came back

    def _handle(self, url: str, message: Mapping[str, Any], dry_run: bool) -> ReplayOutcome:
        try:
            letter = DeadLetter.from_message(message)
        except ReplayError as exc:
            return ReplayOutcome(
                str(message.get("MessageId", "(no id)")), ReplayStatus.UNRECOGNISED, problem=f"{exc}; kept in the queue"
            )
        listed = ReplayOutcome(
            letter.message_id,
            ReplayStatus.WOULD_REPLAY,
            event_id_of(letter.event),
            event_name_of(letter.event),
            letter.failure,
        )
        if dry_run:
            return listed
        problem = self._invoke(letter)
        if problem is not None:
            return listed._replace(status=ReplayStatus.INVOKE_FAILED, problem=f"{problem}; kept in the queue")
        problem = self._delete(url, letter)
        if problem is not None:
            return listed._replace(status=ReplayStatus.NOT_DELETED, problem=problem)
        return listed._replace(status=ReplayStatus.REPLAYED)

    def _invoke(self, letter: DeadLetter) -> str | None:
        """None when Lambda accepted the event, else why not."""
        try:
            answer = self._lambda.invoke(FunctionName=self.function, InvocationType="Event", Payload=letter.payload)
        except (BotoCoreError, ClientError) as exc:
            return f"invoking {self.function} failed: {describe(exc)}"
        status = answer.get("StatusCode")
        if status != _ACCEPTED:
            return f"{self.function} answered {status}, not {_ACCEPTED} (accepted)"
        return None

    def _delete(self, url: str, letter: DeadLetter) -> str | None:
        try:
            self._sqs.delete_message(QueueUrl=url, ReceiptHandle=letter.receipt_handle)
        except (BotoCoreError, ClientError) as exc:
            return (
                f"replayed, but the message could not be deleted ({describe(exc)}); it will be delivered "
                "again, and the enforcer will recognise the event as already handled"
            )
        return None

    def _release(self, url: str, keep: Sequence[tuple[str, str]]) -> list[str]:
        """Make the kept messages visible again now rather than after ``hide_seconds``."""
        problems: list[str] = []
        for start in range(0, len(keep), _SQS_BATCH):
            chunk = keep[start : start + _SQS_BATCH]
            entries = [
                {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for index, (_, handle) in enumerate(chunk)
            ]
            try:
                answer = self._sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                problems.append(
                    f"{len(chunk)} kept message(s) stay hidden for up to {self._hide_seconds}s: {describe(exc)}"
                )
                continue
            for failed in answer.get("Failed", []):
                message_id = chunk[int(failed["Id"])][0]
                problems.append(
                    f"message {message_id} stays hidden for up to {self._hide_seconds}s: "
                    f"{failed.get('Code', 'error')} {failed.get('Message', '')}".rstrip()
                )
        return problems
