"""Slack interactions: the buttons on an alert, verified, authorised, recorded, then acted on.

Slack posts every click to the interaction endpoint (a Lambda function URL, no
AWS auth: Slack cannot sign AWS requests, so Slack's own request signature is
the authentication). ``InteractionEndpoint.handle`` takes the function URL
event and, in this order:

1. checks the ``X-Slack-Signature`` (``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``
   with the signing secret, compared in constant time) and the
   ``X-Slack-Request-Timestamp`` (at most five minutes old) before reading the
   body at all: anything unsigned, badly signed or stale is answered 401;
2. rejects a replay: the signature is claimed once (a conditional put with a
   TTL), so a captured request sent again is answered 401;
3. parses the body (``application/x-www-form-urlencoded``, ``payload=<json>``):
   anything else is answered 400;
4. authorises the click (``slack/approvers`` may do anything; the owner team's
   ``slack_users`` may request exceptions and acknowledge, and undo when
   ``slack/owners_may_undo`` is on), records it in the audit table, allowed or
   refused, with the Slack team and user, and only then acts.

Every refusal is logged with its reason and changes nothing. The endpoint
answers within Slack's three seconds: an undo (cross-account IAM calls) is
handed to the enforcer as an asynchronous invocation; the enforcer runs the
same undo as ``iamwarden undo`` and updates the message (``app.slack_undo``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.slack_app import (
    BOT_TOKEN_SECRET,
    SIGNING_SECRET,
    AuditClicks,
    AuditRemediations,
    DynamoReplayGuard,
    LambdaUndoQueue,
    SlackWebApi,
    secret_text,
    secrets_provider,
)
from iamwarden.adapters.ssm_settings import LiveSettings, SsmSettingsSource, ssm_parameters
from iamwarden.alerts.interactions import (
    ACTION_APPROVE_EXCEPTION,
    ACTION_REQUEST_EXCEPTION,
    ACTION_UNDO,
    ACTION_UNDO_WITH_EXCEPTION,
    DEFAULT_EXCEPTION_DAYS,
    EXCEPTION_VIEW,
    SIGNATURE_WINDOW_SECONDS,
    UNDO_COMMAND,
    Click,
    ClickRecord,
    Permissions,
    Rejected,
    RemediationFacts,
    approval_message,
    click_of,
    escape,
    exception_view,
    payload_of,
    replaced_message,
    request_of,
    verify,
    without_actions,
)
from iamwarden.alerts.settings import SLACK_API_URL, AlertSettings, parse_alert_settings
from iamwarden.app.config import EnforcerConfig
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.settings import SlackSettings, parse_slack_settings

logger = logging.getLogger(__name__)

#: The environment template.yaml sets for the interaction function (each has a default).
ENV_SIGNING_SECRET = "IAMWARDEN_SLACK_SIGNING_SECRET"  # noqa: S105 - the variable's name
ENV_BOT_SECRET = "IAMWARDEN_SLACK_BOT_SECRET"  # noqa: S105
ENV_SLACK_API_URL = "IAMWARDEN_SLACK_API_URL"


# --------------------------------------------------------------------------- ports


class ReplayGuard(Protocol):
    def first_sight(self, signature: str, expires_at: int) -> bool:
        """Claim ``signature``; False when it was claimed before (a replay)."""
        ...


class ClickLog(Protocol):
    def record(self, click: ClickRecord) -> None: ...

    def request_undo(self, click: Click, facts: RemediationFacts, exception_id: str | None, at: str) -> str:
        """Leave the verified undo for the enforcer (it reads it, never its invoker's payload); its id."""
        ...


class UndoQueue(Protocol):
    def send(self, command: Mapping[str, Any]) -> None:
        """Hand an undo to the enforcer, asynchronously."""
        ...


class Remediations(Protocol):
    def facts(self, remediation_id: str) -> RemediationFacts | None: ...


class SlackApi(Protocol):
    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> None: ...

    def group_members(self, group_id: str) -> frozenset[str]: ...

    def respond(self, response_url: str, body: Mapping[str, Any]) -> None: ...


class ExceptionScopeLike(Protocol):
    rule_id: str
    resource_pattern: str | None
    actor_pattern: str | None


class ExceptionLike(Protocol):
    exception_id: str
    days: int


class ExceptionRequests(Protocol):
    """The part of the exception desk (``app.exception_desk.ExceptionDesk``) Slack uses."""

    def request(
        self,
        scope: Any,
        reason: str,
        requester: str,
        days: int | None = None,
        *,
        source_remediation_id: str | None = None,
    ) -> Any: ...

    def approve(self, exception_id: str, approver: str) -> Any: ...


@dataclass(frozen=True)
class RequestedScope:
    """An exception's scope as Slack asks for it; the lead wires the desk's own ``ExceptionScope`` instead."""

    rule_id: str
    resource_pattern: str | None = None
    actor_pattern: str | None = None
    literal: bool = False


class SettingsReader(Protocol):
    def current(self) -> tuple[SlackSettings, AlertSettings]: ...


# --------------------------------------------------------------------------- the endpoint


class InteractionEndpoint:
    """The interaction function's core: every collaborator is injected (tests use fakes and moto)."""

    def __init__(
        self,
        *,
        signing_secret: Callable[[], str],
        replays: ReplayGuard,
        settings: SettingsReader,
        clicks: ClickLog,
        remediations: Remediations,
        undo: UndoQueue,
        slack: SlackApi | None,
        exceptions: ExceptionRequests | None,
        scope_type: Callable[..., Any] = RequestedScope,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_secret = signing_secret
        self.replays = replays
        self.settings = settings
        self.clicks = clicks
        self.remediations = remediations
        self.undo = undo
        self.slack = slack
        self.exceptions = exceptions
        self.scope_type = scope_type
        self.clock = clock

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The function URL response for ``event``; never raises."""
        try:
            request = request_of(event)
            now = self.clock()
            signature = verify(request, self.signing_secret(), now)
            if not self.replays.first_sight(signature, int(now) + 2 * SIGNATURE_WINDOW_SECONDS):
                raise Rejected(401, "replayed request: this signature was seen before")
            click = click_of(payload_of(request))
        except Rejected as exc:
            logger.warning("Slack request rejected", extra={"status": exc.status, "reason": exc.reason})
            return _http(exc.status, {"error": exc.reason})
        except Exception as exc:  # the signing secret unreadable, the replay table down: refuse, act on nothing
            logger.exception("Slack request refused: the endpoint cannot verify it")
            return _http(500, {"error": f"cannot verify the request: {type(exc).__name__}"})
        try:
            return self._act(click)
        except Exception as exc:
            logger.exception("Slack interaction failed", extra={"action": click.action, "user": click.who})
            self._respond(click, f":warning: IAM Warden could not do that: {type(exc).__name__}. It is logged.")
            return _http(200, {})

    # ----------------------------------------------------------------- acting

    def _act(self, click: Click) -> dict[str, Any]:
        slack_settings, alert_settings = self.settings.current()
        facts = self.remediations.facts(click.remediation_id) if click.remediation_id else None
        permissions = Permissions(slack_settings, alert_settings, self.slack)
        allowed, why = permissions.may(click, facts.rule_id if facts else None)
        if not allowed:
            return self._refuse(click, why, facts)
        if click.remediation_id and facts is None:
            return self._refuse(click, f"there is no remediation {click.remediation_id} in the audit table", None)
        if click.action in (ACTION_UNDO, ACTION_UNDO_WITH_EXCEPTION):
            return self._undo(click, facts, why)
        if click.action == ACTION_REQUEST_EXCEPTION:
            return self._open_exception_form(click, facts, why)
        if click.action == EXCEPTION_VIEW:
            return self._request_exception(click, facts, why)
        if click.action == ACTION_APPROVE_EXCEPTION:
            return self._approve(click, why)
        self._record(click, True, f"acknowledged ({why})", facts)
        self._replace(click, f":eyes: Acknowledged by <@{click.user_id}>.")
        return _http(200, {})

    def _undo(self, click: Click, facts: RemediationFacts | None, why: str) -> dict[str, Any]:
        assert facts is not None  # noqa: S101 - _act refuses a click on an unknown remediation
        if facts.undone_by:
            return self._refuse(click, f"{facts.remediation_id} was already undone by {facts.undone_by}", facts)
        if facts.status not in ("remediated", "failed", "in_progress"):
            changed_nothing = f"{facts.remediation_id} changed nothing ({facts.status}): nothing to undo"
            return self._refuse(click, changed_nothing, facts)
        exception_id = None
        if click.action == ACTION_UNDO_WITH_EXCEPTION:
            if self.exceptions is None:
                return self._refuse(click, "exceptions are not configured", facts)
            try:
                requested = self.exceptions.request(
                    self.scope_type(facts.rule_id, resource_pattern=facts.resource_arn, literal=True),
                    f"undone from Slack by {click.who} ({click.user_name})",
                    click.who,
                    click.days,
                    source_remediation_id=facts.remediation_id,
                )
                exception_id = str(requested.exception_id)
                self.exceptions.approve(exception_id, click.who)
            except IamWardenError as exc:
                return self._refuse(click, str(exc), facts)
        at = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        request_id = self.clicks.request_undo(click, facts, exception_id, at)
        self.undo.send(
            {
                "command": UNDO_COMMAND,
                "request_id": request_id,
                "blocks": list(without_actions(click.message_blocks)),
            }
        )
        kept = f"; exception {exception_id} approved for {click.days} days" if exception_id else ""
        self._record(click, True, f"undo handed to the enforcer ({why}){kept}", facts)
        self._replace(click, f":hourglass_flowing_sand: Undo requested by <@{click.user_id}>{escape(kept)}.")
        return _http(200, {})

    def _open_exception_form(self, click: Click, facts: RemediationFacts | None, why: str) -> dict[str, Any]:
        assert facts is not None  # noqa: S101
        if self.slack is None or not click.trigger_id:
            return self._refuse(click, "the Slack app's bot token is not configured: cannot open the form", facts)
        meta = {"r": facts.remediation_id, "response_url": click.response_url or ""}
        if click.owner_team:
            meta["team"] = click.owner_team
        self.slack.open_view(click.trigger_id, exception_view(facts, json.dumps(meta, separators=(",", ":"))))
        self._record(click, True, f"exception form opened ({why})", facts)
        return _http(200, {})

    def _request_exception(self, click: Click, facts: RemediationFacts | None, why: str) -> dict[str, Any]:
        assert facts is not None  # noqa: S101
        form = click.form or {}
        reason = str(form.get("reason") or "").strip()
        days_text = str(form.get("days") or DEFAULT_EXCEPTION_DAYS).strip()
        errors: dict[str, str] = {}
        if not reason:
            errors["reason"] = "Say why the change is needed."
        if not days_text.isdigit() or int(days_text) < 1:
            errors["days"] = "A whole number of days, at least 1."
        scope_kind = form.get("scope") or "resource"
        if scope_kind == "actor" and not facts.actor_arn:
            errors["scope"] = "The audit record names no caller: exempt the resource instead."
        if errors:
            self._record(click, False, "exception form invalid: " + "; ".join(errors.values()), facts)
            return _http(200, {"response_action": "errors", "errors": errors})
        if self.exceptions is None:
            return self._refuse(click, "exceptions are not configured", facts, form_error=True)
        scope = (
            self.scope_type(facts.rule_id, actor_pattern=facts.actor_arn)
            if scope_kind == "actor"
            else self.scope_type(facts.rule_id, resource_pattern=facts.resource_arn, literal=True)
        )
        try:
            requested = self.exceptions.request(
                scope, reason, click.who, int(days_text), source_remediation_id=facts.remediation_id
            )
        except IamWardenError as exc:
            return self._refuse(click, str(exc), facts, form_error=True)
        exception_id = str(requested.exception_id)
        self._record(click, True, f"exception {exception_id} requested ({why})", facts)
        if click.response_url and self.slack is not None:
            self.slack.respond(click.response_url, approval_message(exception_id, click, facts, reason, scope_kind))
        return _http(200, {})

    def _approve(self, click: Click, why: str) -> dict[str, Any]:
        if not click.exception_id:
            return self._refuse(click, "an approval without an exception id", None)
        if self.exceptions is None:
            return self._refuse(click, "exceptions are not configured", None)
        try:
            approved = self.exceptions.approve(click.exception_id, click.who)
        except IamWardenError as exc:
            return self._refuse(click, str(exc), None)
        days = getattr(approved, "days", None)
        self._record(click, True, f"exception {click.exception_id} approved ({why})", None)
        self._replace(
            click,
            f":white_check_mark: Exception `{escape(click.exception_id)}` approved by <@{click.user_id}>"
            + (f" for {days} days." if days else "."),
        )
        return _http(200, {})

    # ----------------------------------------------------------------- answers

    def _refuse(
        self, click: Click, reason: str, facts: RemediationFacts | None, *, form_error: bool = False
    ) -> dict[str, Any]:
        logger.warning("Slack click refused", extra={"action": click.action, "user": click.who, "reason": reason})
        self._record(click, False, reason, facts)
        if form_error:
            return _http(200, {"response_action": "errors", "errors": {"reason": reason[:150]}})
        self._respond(click, f":no_entry: Not done: {escape(reason)}.")
        return _http(200, {})

    def _record(self, click: Click, allowed: bool, outcome: str, facts: RemediationFacts | None) -> None:
        self.clicks.record(ClickRecord(click, allowed, outcome, datetime.fromtimestamp(self.clock(), UTC), facts))

    def _respond(self, click: Click, text: str) -> None:
        """Tell only the clicker (an ephemeral message through the click's ``response_url``)."""
        if click.response_url and self.slack is not None:
            try:
                self.slack.respond(
                    click.response_url, {"response_type": "ephemeral", "replace_original": False, "text": text}
                )
            except Exception as exc:
                logger.warning("cannot answer the clicker", extra={"error": str(exc)})

    def _replace(self, click: Click, text: str) -> None:
        """Update the alert in place: its buttons give way to who did what."""
        if click.response_url and self.slack is not None:
            self.slack.respond(click.response_url, replaced_message(click.message_blocks, text))


def _http(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body) if body else "",
    }


# --------------------------------------------------------------------------- wiring


class SsmSlackSettings:
    """``slack/...`` and ``alerts/...`` from the live settings (cached by the settings source)."""

    def __init__(self, source: LiveSettingsSource) -> None:
        self.source = source

    def current(self) -> tuple[SlackSettings, AlertSettings]:
        values = self.source.current().values
        slack, problems = parse_slack_settings(values)
        alerts, alert_problems = parse_alert_settings(values)
        for problem in (*problems, *alert_problems):
            logger.warning("invalid setting ignored", extra={"problem": str(problem)})
        return slack, alerts


class LiveSettingsSource(Protocol):
    def current(self) -> LiveSettings: ...


def build_interaction_endpoint(
    config: EnforcerConfig,
    clients: ClientFactory,
    environ: Mapping[str, str] | None = None,
    *,
    exceptions: ExceptionRequests | None = None,
    scope_type: Callable[..., Any] = RequestedScope,
) -> InteractionEndpoint:
    """The endpoint, wired to AWS from the environment template.yaml sets.

    ``exceptions`` is the exception desk and ``scope_type`` its scope class (``ExceptionScope``); without a
    desk the endpoint answers "exceptions are not configured" to the buttons that need one.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    dynamodb = clients.home_client("dynamodb")
    audit = AuditLog(config.audit_table, dynamodb)
    secrets = secrets_provider(clients.home_client("secretsmanager"))
    signing_name = env.get(ENV_SIGNING_SECRET) or SIGNING_SECRET
    bot_name = env.get(ENV_BOT_SECRET) or BOT_TOKEN_SECRET
    api = SlackWebApi(
        lambda: secret_text(secrets, bot_name, "token"),
        base_url=env.get(ENV_SLACK_API_URL) or SLACK_API_URL,
    )
    source = SsmSettingsSource(
        config.settings_prefix, ssm_parameters(clients.home_client("ssm")), max_age=config.settings_max_age
    )
    return InteractionEndpoint(
        signing_secret=lambda: secret_text(secrets, signing_name, "signing_secret"),
        replays=DynamoReplayGuard(config.idempotency_table, dynamodb),
        settings=SsmSlackSettings(source),
        clicks=AuditClicks(audit),
        remediations=AuditRemediations(audit),
        undo=LambdaUndoQueue(config.enforcer_function, clients.home_client("lambda")),
        slack=api,
        exceptions=exceptions,
        scope_type=scope_type,
    )
