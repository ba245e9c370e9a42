"""Slack: Block Kit rendering, and delivery through an incoming webhook.

Rendering builds ``slack_sdk.models.blocks`` objects, whose validators check
Slack's limits (header 150 characters, section 3000, 10 fields, 10 context
elements) before anything is sent; the few limits the models do not check
(2000 characters per field, 50 blocks per message) are checked here. Every
text is cut to its limit with a pointer to the full text, so Slack never
rejects an alert for its size, however large the policy that caused it.

Delivery uses ``slack_sdk.webhook.WebhookClient`` with slack_sdk's retry
handlers, subclassed so that their waits are bounded and injectable:

- 429: wait exactly ``Retry-After`` seconds, unless that is longer than
  ``RetryPolicy.max_retry_after``, in which case the delivery fails at once
  (and is kept for replay) instead of stalling the enforcer;
- 500, 502, 503, 504 and connection errors: exponential backoff;
- at most ``RetryPolicy.max_retries`` retries in all.

The webhook URL is a credential. It is read from Secrets Manager (the secret
is the URL itself, or a JSON object ``{"url": "https://hooks.slack.com/..."}``),
cached for ``max_age`` seconds, and never logged: slack_sdk's own logger,
which prints the URL at debug level and on retries, is silenced, and every
error message is scrubbed of it.

This module imports slack_sdk (about 100 ms); the dispatcher imports it only
when it first sends to Slack, so the enforcer's cold start does not pay for it.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.webhook import WebhookClient

from iamwarden.alerts.exceptions import (
    SLACK_PLACEHOLDER_PREFIX,
    DeliveryError,
    RenderError,
    SlackNotConfiguredError,
    WebhookSecretError,
)
from iamwarden.alerts.interactions import (
    ACTION_ACKNOWLEDGE,
    ACTION_REQUEST_EXCEPTION,
    ACTION_UNDO,
    ACTION_UNDO_WITH_EXCEPTION,
    ACTIONS_BLOCK_ID,
    UNDO_EXCEPTION_DAYS,
)
from iamwarden.alerts.message import AlertMessage, Fact, Section
from iamwarden.alerts.render import FULL_TEXT_WHERE, TRUNCATED

if TYPE_CHECKING:
    from iamwarden.adapters.clients import ClientFactory

logger = logging.getLogger(__name__)

HEADER_LIMIT = HeaderBlock.text_max_length  # 150
SECTION_LIMIT = SectionBlock.text_max_length  # 3000
FIELDS_PER_SECTION = SectionBlock.fields_max_length  # 10
CONTEXT_ELEMENTS = ContextBlock.elements_max_length  # 10
FIELD_LIMIT = 2000  # per field; not checked by slack_sdk's models
MAX_BLOCKS = 50  # per message; not checked by slack_sdk's models
FALLBACK_LIMIT = 500  # the notification text shown when blocks cannot be (keep it short)
CONTEXT_LIMIT = 300
RETRY_STATUSES = frozenset({500, 502, 503, 504})
#: Statuses meaning the webhook itself is gone or revoked: the cached URL is dropped so the next try re-reads it.
DEAD_WEBHOOK_STATUSES = frozenset({403, 404, 410})

# slack_sdk logs the request URL (the credential) at debug level and on every retry: give it a logger that
# never emits anything.
_TRANSPORT_LOGGER = logging.getLogger("iamwarden.alerts.slack_transport")
_TRANSPORT_LOGGER.setLevel(logging.CRITICAL + 10)
_TRANSPORT_LOGGER.propagate = False
_TRANSPORT_LOGGER.addHandler(logging.NullHandler())


# --------------------------------------------------------------------------- rendering


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control (mentions, links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int, where: str = FULL_TEXT_WHERE) -> str:
    """Escape ``text`` and cut it to ``limit`` characters with a pointer; never cuts an escape in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    pointer = "\n" + TRUNCATED.format(omitted=len(text), where=where)
    budget = max(limit - len(pointer), 0)
    kept = escaped[:budget]
    amp = kept.rfind("&", max(len(kept) - 5, 0))
    if amp != -1 and ";" not in kept[amp:]:
        kept = kept[:amp]
    omitted = len(text) - len(_unescape(kept))
    return (kept + "\n" + TRUNCATED.format(omitted=omitted, where=where))[:limit]


def render_slack(message: AlertMessage, *, interactive: bool = False) -> dict[str, Any]:
    """The webhook payload for ``message``: Block Kit blocks validated by slack_sdk, plus a fallback text.

    ``interactive`` adds the buttons (undo, request an exception, acknowledge):
    only for messages the Slack app posts with its bot token, whose clicks reach
    the interaction endpoint. If the full layout cannot be formed (a bug), a
    minimal one is sent instead, so an alert is never lost to its own formatting.
    """
    buttons = interaction_blocks(message) if interactive else []
    try:
        return _payload(message, [*_blocks(message), *buttons])
    except (SlackObjectFormationError, RenderError) as exc:
        logger.error("alert did not fit Slack's limits; sending the short form", extra={"error": str(exc)})
    try:
        return _payload(message, [*_minimal_blocks(message), *buttons])
    except (SlackObjectFormationError, RenderError) as exc:
        raise RenderError(f"cannot render the alert for Slack: {exc}") from exc


def _payload(message: AlertMessage, blocks: Sequence[Block]) -> dict[str, Any]:
    if len(blocks) > MAX_BLOCKS:
        raise RenderError(f"{len(blocks)} blocks, over Slack's {MAX_BLOCKS}")
    rendered = [block.to_dict() for block in blocks]  # to_dict() runs the models' validators
    for block in rendered:
        for field in block.get("fields", ()):
            if len(field["text"]) > FIELD_LIMIT:
                raise RenderError(f"a field of {len(field['text'])} characters, over Slack's {FIELD_LIMIT}")
    return {
        "text": fit(f"{message.header}: {message.summary}", FALLBACK_LIMIT),
        "blocks": rendered,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _blocks(message: AlertMessage) -> list[Block]:
    blocks: list[Block] = [_header(message), _section(message.summary)]
    facts = list(message.facts)
    for start in range(0, len(facts), FIELDS_PER_SECTION):
        fields = [MarkdownTextObject(text=_field(fact)) for fact in facts[start : start + FIELDS_PER_SECTION]]
        blocks.append(SectionBlock(fields=fields))
    blocks.extend(_section(_section_text(section)) for section in message.sections)
    if message.details:
        blocks.append(_details(message.details.heading, message.details.text))
    if message.audit:
        blocks.append(DividerBlock())
        elements = [
            MarkdownTextObject(text=fit(f"{fact.label} `{fact.value}`", CONTEXT_LIMIT))
            for fact in message.audit[:CONTEXT_ELEMENTS]
        ]
        blocks.append(ContextBlock(elements=elements))
    return blocks


_ACTED_OUTCOMES = ("remediated", "remediation_failed")
OPTION_VALUE_LIMIT = 150


def button_value(remediation_id: str, owner_team: str | None) -> str:
    """What every button carries: the audit record to act on and the owner team the alert was routed to.

    Slack returns it inside the signed interaction payload, so the endpoint can
    trust it came from this message; the audit record is still read for the facts.
    """
    value: dict[str, str] = {"r": remediation_id}
    if owner_team:
        value["team"] = owner_team
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def interaction_blocks(message: AlertMessage) -> list[Block]:
    """The buttons of a finding alert: *Undo* (remediated and undoable), *Request exception*, *Acknowledge*.

    Configuration, rejection and circuit-breaker messages, and alerts without an
    audit record, get none. Undo asks for confirmation; "Undo and exempt" is the
    approver's choice of a short exception, so the enforcer does not revert the undo.
    """
    record = message.record
    remediation_id = record.get("remediation_id") if isinstance(record, Mapping) else None
    if not isinstance(remediation_id, str) or not remediation_id or not record.get("finding"):
        return []
    owner = record.get("owner")
    team = owner.get("team") if isinstance(owner, Mapping) else None
    value = button_value(remediation_id, team if isinstance(team, str) else None)
    elements: list[Any] = []
    undo = record.get("undo")
    undoable = isinstance(undo, Mapping) and bool(undo.get("possible"))
    acted = record.get("outcome") in _ACTED_OUTCOMES and undoable
    if acted:
        elements.append(
            ButtonElement(
                text="Undo",
                action_id=ACTION_UNDO,
                value=value,
                style="danger",
                confirm=ConfirmObject(
                    title="Undo this remediation?",
                    text=f"IAM Warden puts back exactly what it changed ({remediation_id}). "
                    "The change it reverted may be flagged again.",
                    confirm="Undo",
                    deny="Cancel",
                ),
            )
        )
    # Only approvers may exempt, so the option needs no owner team; Slack caps an option's value at 150.
    if acted and len(f"{max(UNDO_EXCEPTION_DAYS)}|{remediation_id}") <= OPTION_VALUE_LIMIT:
        elements.append(
            StaticSelectElement(
                placeholder="Undo and exempt…",
                action_id=ACTION_UNDO_WITH_EXCEPTION,
                options=[
                    Option(text=f"Undo, exempt for {_days(days)}", value=f"{days}|{remediation_id}")
                    for days in UNDO_EXCEPTION_DAYS
                ],
                confirm=ConfirmObject(
                    title="Undo and exempt?",
                    text="IAM Warden puts back what it changed and approves a short exception for this rule "
                    "and resource, so the enforcer does not revert the undo. Approvers only.",
                    confirm="Undo and exempt",
                    deny="Cancel",
                ),
            )
        )
    if record.get("outcome") != "noteworthy":
        elements.append(ButtonElement(text="Request exception", action_id=ACTION_REQUEST_EXCEPTION, value=value))
    elements.append(ButtonElement(text="Acknowledge", action_id=ACTION_ACKNOWLEDGE, value=value))
    return [ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=elements)]


def _days(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def _minimal_blocks(message: AlertMessage) -> list[Block]:
    text = f"{message.summary}\n\nThis alert was too large to show here in full; " + FULL_TEXT_WHERE + " has it."
    return [_header(message), _section(text)]


def _header(message: AlertMessage) -> HeaderBlock:
    header = message.header
    if len(header) > HEADER_LIMIT:
        header = header[: HEADER_LIMIT - 1] + "…"
    return HeaderBlock(text=PlainTextObject(text=header, emoji=True))


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit(text, SECTION_LIMIT)))


def _section_text(section: Section) -> str:
    lines = [f"• {line}" if section.bullets else line for line in section.lines]
    return f"*{section.heading}*\n" + "\n".join(lines)


def _field(fact: Fact) -> str:
    value = fit(fact.value, 400)
    if fact.link:
        value = f"<{fact.link}|{value}>"
    text = f"*{escape(fact.label)}*\n{value}"
    if fact.literal:
        text += "\n" + fit("`" + fact.literal.replace("`", "'") + "`", FIELD_LIMIT - len(text) - 1)
    return text[:FIELD_LIMIT]


def _details(heading: str, text: str) -> SectionBlock:
    head = f"*{escape(heading)}*\n```\n"
    tail = "\n```"
    escaped = escape(text.replace("```", "'''"))
    room = SECTION_LIMIT - len(head) - len(tail)
    if len(escaped) <= room:
        return SectionBlock(text=MarkdownTextObject(text=head + escaped + tail))
    pointer = "\n_" + TRUNCATED.format(omitted=len(text), where=FULL_TEXT_WHERE) + "_"
    kept = escaped[: room - len(pointer)]
    newline = kept.rfind("\n")
    if newline > len(kept) * 0.8:
        kept = kept[:newline]
    amp = kept.rfind("&", max(len(kept) - 5, 0))
    if amp != -1 and ";" not in kept[amp:]:
        kept = kept[:amp]
    omitted = len(text) - len(_unescape(kept))
    pointer = "\n_" + TRUNCATED.format(omitted=omitted, where=FULL_TEXT_WHERE) + "_"
    # The block heading, "\nheading" and the fences make the whole shorter than room + pointer.
    body = f"*{escape(heading)} (truncated)*\n```\n{kept}{tail}{pointer}"
    return SectionBlock(text=MarkdownTextObject(text=body[:SECTION_LIMIT]))


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --------------------------------------------------------------------------- webhook URLs


class SecretsProviderLike(Protocol):
    """The part of Powertools' ``SecretsProvider`` used here."""

    def get(self, name: str, max_age: int | None = ..., transform: Any = ..., force_fetch: bool = ...) -> Any: ...


class WebhookUrls(Protocol):
    def url(self, secret_name: str) -> str: ...

    def invalidate(self, secret_name: str) -> None: ...


class SecretWebhookUrls:
    """Webhook URLs from Secrets Manager, cached ``max_age`` seconds by Powertools' ``SecretsProvider``.

    A secret holds the URL itself, or a JSON object ``{"url": "..."}``. A
    secret ARN is read in its own region; a name in ``region``.
    """

    def __init__(
        self,
        factory: ClientFactory | None = None,
        *,
        region: str | None = None,
        max_age: int = 300,
        provider: SecretsProviderLike | None = None,
    ) -> None:
        self._factory = factory
        self._region = region
        self._max_age = max_age
        self._providers: dict[str | None, SecretsProviderLike] = {}
        if provider is not None:
            self._providers[None] = provider
        self._stale: set[str] = set()

    def url(self, secret_name: str) -> str:
        provider = self._provider(_secret_region(secret_name))
        force = secret_name in self._stale
        try:
            value = provider.get(secret_name, max_age=self._max_age, force_fetch=force)
        except Exception as exc:  # GetParameterError wraps every SDK error; it never carries the value
            raise WebhookSecretError(f"cannot read Slack webhook secret {secret_name}: {_first_line(exc)}") from None
        self._stale.discard(secret_name)
        return _webhook_url(secret_name, value)

    def invalidate(self, secret_name: str) -> None:
        """Re-read this secret on its next use (its URL was refused: rotated or revoked)."""
        self._stale.add(secret_name)

    def _provider(self, region: str | None) -> SecretsProviderLike:
        if None in self._providers:
            return self._providers[None]
        if region not in self._providers:
            if self._factory is None:
                raise WebhookSecretError("no AWS client factory to read Slack webhook secrets with")
            client = self._factory.home_client("secretsmanager", region or self._region)
            self._providers[region] = SecretsProvider(boto3_client=client)
        return self._providers[region]


def _secret_region(secret: str) -> str | None:
    fields = secret.split(":")
    return fields[3] if secret.startswith("arn:") and len(fields) > 3 and fields[2] == "secretsmanager" else None


def _webhook_url(secret_name: str, value: Any) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookSecretError(f"Slack webhook secret {secret_name} is binary, not a URL") from None
    text = value.strip() if isinstance(value, str) else ""
    if not text or text.startswith(SLACK_PLACEHOLDER_PREFIX):
        raise SlackNotConfiguredError(
            f"Slack webhook secret {secret_name} holds no webhook URL yet (the placeholder): Slack is not set up"
        )
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise WebhookSecretError(f"Slack webhook secret {secret_name} starts with '{{' but is not JSON") from None
        text = parsed.get("url", "") if isinstance(parsed, dict) else ""
        if not isinstance(text, str) or not text:
            raise WebhookSecretError(f'Slack webhook secret {secret_name} is JSON without a "url" string')
        text = text.strip()
    parts = urlsplit(text)
    secure = parts.scheme == "https" and bool(parts.hostname)
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not (secure or local):
        # Say what is wrong without repeating the value (it may be a mistyped credential).
        raise WebhookSecretError(
            f"Slack webhook secret {secret_name} does not hold an https:// URL "
            '(store the webhook URL itself, or {"url": "https://hooks.slack.com/services/..."})'
        )
    return text


# --------------------------------------------------------------------------- retries


class RetryPolicy(NamedTuple):
    """Bounds on Slack delivery. ``sleep`` is injectable so tests never wait."""

    max_retries: int = 2
    #: A longer Retry-After fails the delivery (kept for replay) rather than holding the enforcer.
    max_retry_after: float = 10.0
    backoff: float = 0.5
    timeout: int = 5
    sleep: Callable[[float], None] = time.sleep


class Attempts:
    """What one delivery's retry handlers did: the waits, and why they stopped retrying."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.gave_up: str | None = None

    @property
    def count(self) -> int:
        return len(self.waits) + 1


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, waiting exactly Retry-After (bounded) through an injectable sleep."""

    def __init__(self, policy: RetryPolicy, attempts: Attempts) -> None:
        super().__init__(max_retry_count=policy.max_retries)
        self.policy = policy
        self.attempts = attempts

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        if wait > self.policy.max_retry_after:
            self.attempts.gave_up = (
                f"Slack asked to retry after {wait:g}s, longer than the {self.policy.max_retry_after:g}s bound"
            )
            return False
        return True

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = retry_after(response.headers) if response is not None else 1.0
        state.next_attempt_requested = True
        self.attempts.waits.append(wait)
        self.policy.sleep(wait)
        state.increment_current_attempt()


class BoundedServerErrorRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's server-error handler, for 500, 502, 503 and 504, with an injectable sleep."""

    def __init__(self, policy: RetryPolicy, attempts: Attempts) -> None:
        super().__init__(max_retry_count=policy.max_retries)
        self.policy = policy
        self.attempts = attempts

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in RETRY_STATUSES

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        _backoff(self.policy, self.attempts, state)


class BoundedConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """slack_sdk's connection-error handler (reset, refused, timeout), with an injectable sleep."""

    def __init__(self, policy: RetryPolicy, attempts: Attempts) -> None:
        super().__init__(max_retry_count=policy.max_retries)
        self.error_types_to_do_retries = [*self.error_types_to_do_retries, TimeoutError]
        self.policy = policy
        self.attempts = attempts

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        _backoff(self.policy, self.attempts, state)


def _backoff(policy: RetryPolicy, attempts: Attempts, state: RetryState) -> None:
    wait = policy.backoff * (2**state.current_attempt)
    state.next_attempt_requested = True
    attempts.waits.append(wait)
    policy.sleep(wait)
    state.increment_current_attempt()


def retry_handlers(policy: RetryPolicy, attempts: Attempts) -> list[RetryHandler]:
    return [
        BoundedRateLimitRetryHandler(policy, attempts),
        BoundedServerErrorRetryHandler(policy, attempts),
        BoundedConnectionErrorRetryHandler(policy, attempts),
    ]


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); 1 when absent or unreadable."""
    value: Any = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None:
        return 1.0
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return 1.0
        seconds = (when - datetime.now(UTC)).total_seconds() if when.tzinfo else 1.0
    if math.isnan(seconds):
        return 1.0
    return max(seconds, 0.0)


# --------------------------------------------------------------------------- delivery


class WebhookPoster(Protocol):
    def send_dict(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any: ...


def default_webhook_client(url: str, handlers: list[RetryHandler], timeout: int) -> WebhookPoster:
    return WebhookClient(url=url, timeout=timeout, retry_handlers=handlers, logger=_TRANSPORT_LOGGER)


class SlackWebhookSender:
    """Posts payloads to the webhook a secret names; raises ``DeliveryError`` (URL-free) when it cannot."""

    def __init__(
        self,
        urls: WebhookUrls,
        policy: RetryPolicy | None = None,
        *,
        client_factory: Callable[[str, list[RetryHandler], int], WebhookPoster] = default_webhook_client,
    ) -> None:
        self.urls = urls
        self.policy = policy or RetryPolicy()
        self._client_factory = client_factory

    def send(self, secret_name: str, payload: Mapping[str, Any]) -> None:
        url = self.urls.url(secret_name)
        attempts = Attempts()
        client = self._client_factory(url, retry_handlers(self.policy, attempts), self.policy.timeout)
        try:
            response = client.send_dict(dict(payload))
        except Exception as exc:  # urllib, socket and slack_sdk errors alike; their text may hold the URL
            detail = _scrub(f"{type(exc).__name__}: {_first_line(exc)}", url)
            raise DeliveryError(
                f"Slack webhook {secret_name}: {detail} ({_tries(attempts)}){_gave_up(attempts)}"
            ) from None
        status = int(getattr(response, "status_code", 0))
        if status == 200:
            return
        if status in DEAD_WEBHOOK_STATUSES:
            self.urls.invalidate(secret_name)
        body = _scrub(str(getattr(response, "body", "") or "")[:200], url)
        raise DeliveryError(
            f"Slack webhook {secret_name} answered HTTP {status} {body!r} ({_tries(attempts)}){_gave_up(attempts)}"
        )


def _tries(attempts: Attempts) -> str:
    return "1 attempt" if attempts.count == 1 else f"{attempts.count} attempts"


def _gave_up(attempts: Attempts) -> str:
    return f"; {attempts.gave_up}" if attempts.gave_up else ""


def _scrub(text: str, url: str) -> str:
    """Remove the webhook URL (and its secret path) from ``text``."""
    path = urlsplit(url).path
    text = text.replace(url, "<webhook URL>")
    if len(path) > 1:
        text = text.replace(path, "/<secret path>")
    return text


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
