"""The Slack app: posting with its bot token, its Web API calls, and the interaction endpoint's AWS stores.

A Slack app posts alerts with ``chat.postMessage`` (so they carry buttons and
can be updated in place), opens the exception form (``views.open``), reads
approver groups (``usergroups.users.list``) and answers clicks through their
``response_url``. Its two credentials live in Secrets Manager, never in the
template: the bot token (``iamwarden/slack/bot``, ``xoxb-…``) and the signing
secret (``iamwarden/slack/signing``). Each secret holds the value itself or a
JSON object (``{"token": …}`` / ``{"signing_secret": …}``); the template's
placeholder means "not set up".

This module imports slack_sdk's Web API client: the enforcer imports it only
when it first posts with the bot token, like ``adapters.slack``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.exceptions import BotoCoreError, ClientError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from iamwarden.adapters.audit import UNDO_REQUEST_KIND, AuditLog, AuditRecord, AuditStatus
from iamwarden.adapters.errors import describe, error_code
from iamwarden.adapters.slack import (
    _TRANSPORT_LOGGER,
    Attempts,
    RetryPolicy,
    SecretsProviderLike,
    retry_handlers,
)
from iamwarden.adapters.slack_response import respond
from iamwarden.alerts.exceptions import SLACK_PLACEHOLDER_PREFIX, DeliveryError, SlackNotConfiguredError
from iamwarden.alerts.interactions import Click, ClickRecord, RemediationFacts
from iamwarden.alerts.settings import DEFAULT_SLACK_BOT_SECRET, SLACK_API_URL

logger = logging.getLogger(__name__)

BOT_TOKEN_SECRET = DEFAULT_SLACK_BOT_SECRET
SIGNING_SECRET = "iamwarden/slack/signing"  # noqa: S105 - the secret's name, not a secret
#: Seconds a user group's members are cached (approver groups change rarely; a removal takes effect this late).
GROUP_CACHE_SECONDS = 300


def secret_text(provider: SecretsProviderLike, name: str, key: str, max_age: int = 300) -> str:
    """The credential in secret ``name`` (the value itself, or JSON ``{key: value}``); never logged."""
    try:
        value = provider.get(name, max_age=max_age)
    except Exception as exc:  # Powertools wraps every SDK error; it never carries the value
        raise SlackNotConfiguredError(f"cannot read Slack secret {name}: {type(exc).__name__}") from None
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
    text = text.strip()
    if not text or text.startswith(SLACK_PLACEHOLDER_PREFIX):
        raise SlackNotConfiguredError(f"Slack secret {name} holds the placeholder: the Slack app is not set up")
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise SlackNotConfiguredError(f"Slack secret {name} starts with '{{' but is not JSON") from None
        found = parsed.get(key) if isinstance(parsed, dict) else None
        if not isinstance(found, str) or not found.strip():
            raise SlackNotConfiguredError(f'Slack secret {name} is JSON without a "{key}" string')
        text = found.strip()
    return text


class SlackWebApi:
    """The Web API calls IAM Warden makes with the bot token; ``base_url`` points tests at a local server."""

    def __init__(
        self,
        token: Callable[[], str],
        *,
        base_url: str = SLACK_API_URL,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token = token
        self.base_url = base_url
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    def _client(self, attempts: Attempts) -> WebClient:
        return WebClient(
            token=self._token(),
            base_url=self.base_url,
            timeout=self.policy.timeout,
            retry_handlers=retry_handlers(self.policy, attempts),
            logger=_TRANSPORT_LOGGER,
        )

    def post_message(self, channel: str, payload: Mapping[str, Any]) -> tuple[str, str]:
        """``chat.postMessage``: the channel and ``ts`` of the posted message (for ``chat.update``)."""
        response = self._call("chat.postMessage", lambda client: client.chat_postMessage(channel=channel, **payload))
        return str(response.get("channel", channel)), str(response.get("ts", ""))

    def update_message(self, channel: str, ts: str, payload: Mapping[str, Any]) -> None:
        self._call("chat.update", lambda client: client.chat_update(channel=channel, ts=ts, **payload))

    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> None:
        self._call("views.open", lambda client: client.views_open(trigger_id=trigger_id, view=dict(view)))

    def group_members(self, group_id: str) -> frozenset[str]:
        """The members of user group ``group_id``, cached ``GROUP_CACHE_SECONDS``."""
        cached = self._groups.get(group_id)
        now = self._clock()
        if cached is not None and now - cached[0] < GROUP_CACHE_SECONDS:
            return cached[1]
        response = self._call("usergroups.users.list", lambda client: client.usergroups_users_list(usergroup=group_id))
        members = frozenset(str(user) for user in response.get("users", ()) or ())
        self._groups[group_id] = (now, members)
        return members

    def respond(self, response_url: str, body: Mapping[str, Any]) -> None:
        """Post to a click's ``response_url`` (no token: the URL is the click's own, valid 30 minutes)."""
        respond(response_url, body, timeout=self.policy.timeout)

    def _call(self, method: str, call: Callable[[WebClient], Any]) -> Any:
        attempts = Attempts()
        try:
            return call(self._client(attempts))
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown") if exc.response is not None else "unknown"
            raise DeliveryError(f"Slack {method} failed: {error}") from None
        except SlackNotConfiguredError:
            raise
        except Exception as exc:  # urllib and socket errors; their text never holds the token
            raise DeliveryError(f"Slack {method} failed: {type(exc).__name__}") from None


class SlackAppSender:
    """The dispatcher's ``slack-app:<channel>`` channel: alerts with buttons, posted with the bot token."""

    def __init__(self, api: SlackWebApi) -> None:
        self.api = api

    def send(self, channel: str, payload: Any) -> None:
        self.api.post_message(channel, payload)


# --------------------------------------------------------------------------- the endpoint's AWS stores


class DynamoReplayGuard:
    """Seen signatures in the idempotency table (its TTL attribute ``expiration`` removes them)."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def first_sight(self, signature: str, expires_at: int) -> bool:
        key = "slack-signature#" + hashlib.sha256(signature.encode()).hexdigest()
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item={"id": {"S": key}, "expiration": {"N": str(expires_at)}},
                ConditionExpression="attribute_not_exists(id)",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True


class AuditClicks:
    """Every Slack click as an audit item (kind ``slack_action``), allowed or refused, like a CLI action."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    def record(self, click: ClickRecord) -> None:
        facts = click.facts
        at = click.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        target = click.click.remediation_id or click.click.exception_id or "none"
        self.audit.put(
            AuditRecord(
                remediation_id=f"slack-{click.at.strftime('%Y%m%dT%H%M%S%f')}-{click.click.user_id}",
                kind="slack_action",
                status="allowed" if click.allowed else "refused",
                resource_arn=facts.resource_arn if facts else f"slack:{target}",
                event_id="",
                created_at=at,
                rule=facts.rule_id if facts else "",
                account="",
                region="",
                finding={
                    "action": click.click.action,
                    "slack_team": click.click.team_id,
                    "slack_user": click.click.user_id,
                    "slack_user_name": click.click.user_name,
                    "target": target,
                },
                done=(click.outcome,) if click.allowed else (),
                error=None if click.allowed else click.outcome,
                actor=click.click.who,
                undoes=click.click.remediation_id,
            )
        )

    def request_undo(self, click: Click, facts: RemediationFacts, exception_id: str | None, at: str) -> str:
        """Leave the verified undo click for the enforcer; the request's id, which the command names.

        The enforcer takes the remediation, the undoer and where to answer from this item, once
        (``AuditLog.claim_undo_request``), so a command invoked by anyone else undoes nothing.
        """
        request_id = f"slack-undo-{uuid.uuid4().hex}"
        self.audit.put(
            AuditRecord(
                remediation_id=request_id,
                kind=UNDO_REQUEST_KIND,
                status=AuditStatus.UNDO_REQUESTED,
                resource_arn=facts.resource_arn,
                event_id="",
                created_at=at,
                rule=facts.rule_id,
                account="",
                region="",
                finding={
                    "slack_user": click.user_id,
                    "response_url": click.response_url or "",
                    "exception_id": exception_id,
                },
                actor=click.who,
                undoes=facts.remediation_id,
            )
        )
        return request_id


class AuditRemediations:
    """The facts a button needs, from the audit record it names."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    def facts(self, remediation_id: str) -> RemediationFacts | None:
        record = self.audit.get(remediation_id)
        if record is None or record.kind != "remediation":
            return None
        actor = record.finding.get("actor") if isinstance(record.finding, Mapping) else None
        actor_arn = None
        if isinstance(actor, Mapping):
            actor_arn = actor.get("principal_arn") or actor.get("arn")
        return RemediationFacts(
            record.remediation_id,
            record.status,
            record.rule,
            record.resource_arn,
            str(actor_arn) if actor_arn else None,
            record.undone_by,
        )


class LambdaUndoQueue:
    """Hands an undo to the enforcer: an asynchronous (``Event``) invocation, answered at once."""

    def __init__(self, function_name: str, lambda_client: Any) -> None:
        self.function_name = function_name
        self._lambda = lambda_client

    def send(self, command: Mapping[str, Any]) -> None:
        try:
            self._lambda.invoke(
                FunctionName=self.function_name, InvocationType="Event", Payload=json.dumps(dict(command)).encode()
            )
        except (BotoCoreError, ClientError) as exc:
            raise DeliveryError(f"cannot hand the undo to {self.function_name}: {describe(exc)}") from None


def secrets_provider(secretsmanager: Any) -> SecretsProviderLike:
    """Powertools' Secrets Manager provider (cached reads) over one of IAM Warden's clients."""
    return SecretsProvider(boto3_client=secretsmanager)
