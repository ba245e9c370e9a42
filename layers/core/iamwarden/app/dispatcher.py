"""The ``Notifier`` the enforcer calls: routes each alert to the security channel and the owning team.

Routing:

- the security channel (the central SNS topic and the security Slack webhook,
  from the enforcer's environment) gets every message;
- the owning team (resolved from tags, see ``owners.py``) gets it too, on the
  destinations ``alerts/teams/<team>/...`` gives it, once: a destination the
  security channel already has is not sent to twice;
- an unknown owner, or a team with no destinations, leaves the security
  channel alone with it, and the message says so;
- configuration errors go to the security channel only.

Delivery never blocks remediation: ``notify`` never raises. Each channel's
failure, after its retries (slack_sdk's handlers for Slack, botocore's for
SNS), becomes a failed ``Delivery`` naming the channel
(``slack:<secret name>``, ``sns:<topic arn>``), is logged, and is counted in
the ``AlertDeliveryFailed`` metric. The enforcer records failed deliveries on
the audit item; ``notify(notification, only=channels)`` replays exactly those.

The last-resort topic (``IAMWARDEN_ALERT_FALLBACK_TOPIC_ARN``, encrypted with the AWS-managed key an intruder cannot
lock IAM Warden out of) gets the same message whenever a publish to the security topic fails (its key refused, the
topic deleted, its policy rewritten), saying which topic refused it and why; the failed publish stays a failed
``Delivery``, kept for replay. It also gets, always, the alerts about the alert path itself (``alert_path``: the
security topic and its subscriptions, its key): a topic that accepts the publish but has lost its subscribers or its
key's use would deliver them to no one.
"""

import functools
import logging
import os
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.owners import OwnerResolver
from iamwarden.adapters.sns import SnsPublisher
from iamwarden.alerts.exceptions import SlackNotConfiguredError
from iamwarden.alerts.message import AlertMessage, Owner, build_message
from iamwarden.alerts.notifications import Notification
from iamwarden.alerts.settings import (
    DEFAULT_SLACK_BOT_SECRET,
    ENV_FALLBACK_TOPIC,
    ENV_SLACK_API_URL,
    ENV_SLACK_BOT_SECRET,
    ENV_SLACK_SECRET,
    ENV_TOPIC,
    SLACK_API_URL,
    AlertSettings,
    Destination,
    security_destination,
)
from iamwarden.domain.delivery import Delivery, DeliveryReport
from iamwarden.domain.findings import Finding, Outcome

if TYPE_CHECKING:
    from iamwarden.adapters.slack import RetryPolicy

logger = logging.getLogger(__name__)

SECURITY = "security"


class SlackChannel(Protocol):
    def send(self, secret_name: str, payload: Any) -> None: ...


class SnsChannel(Protocol):
    def publish(self, topic_arn: str, message: AlertMessage) -> str: ...


class OwnerLookup(Protocol):
    def owner_of(self, finding: Finding, tag_keys: tuple[str, ...]) -> Owner | None: ...

    def account_alias(self, account: str, region: str) -> str | None: ...


class MetricsSink(Protocol):
    """What the dispatcher needs of Powertools' ``Metrics``."""

    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class Route(NamedTuple):
    """One channel to deliver to, and the audience it serves (``security`` or ``team:<name>``).

    ``fallback`` is the webhook channel a ``slack-app:<channel id>`` route falls back to while the
    Slack app's bot token is not set up (the placeholder secret).
    """

    channel: str
    audience: str
    fallback: str | None = None

    @property
    def kind(self) -> str:
        return self.channel.partition(":")[0]

    @property
    def target(self) -> str:
        return self.channel.partition(":")[2]


class AlertDispatcher:
    """Renders each notification once per channel kind and delivers it to every route; never raises.

    Everything it talks to is injected: ``slack`` (``SlackWebhookSender``,
    created on first use when None), ``sns`` (``SnsPublisher``), ``owners``
    (``OwnerResolver``). ``remaining_seconds`` (e.g. from the Lambda context)
    lets it skip, and report for replay, deliveries it has no time left for.
    """

    def __init__(
        self,
        *,
        security: Destination,
        settings: AlertSettings | None = None,
        sns: SnsChannel | None = None,
        slack: SlackChannel | None = None,
        slack_factory: Callable[[], SlackChannel] | None = None,
        slack_app_factory: Callable[[], SlackChannel] | None = None,
        owners: OwnerLookup | None = None,
        metrics: MetricsSink | None = None,
        remaining_seconds: Callable[[], float] | None = None,
        min_seconds_left: float = 10.0,
        home_account: Callable[[], str] | None = None,
        fallback_topic: str | None = None,
        alert_path: Collection[str] = (),
    ) -> None:
        self.security = security
        #: The last-resort topic: what the security topic refuses, and every alert about the alert path itself.
        self.fallback_topic = fallback_topic
        #: The ARNs of the alert path (the security topic, its key): a finding on one of them, or on a subscription
        #: of the topic, goes to the fallback topic too.
        self.alert_path = tuple(arn for arn in alert_path if arn)
        self.settings = settings or AlertSettings()
        self._sns = sns
        self._slack = slack
        self._slack_factory = slack_factory
        self._slack_app: SlackChannel | None = None
        self._slack_app_factory = slack_app_factory
        self._owners = owners
        self._metrics = metrics
        self.remaining_seconds = remaining_seconds
        self._min_seconds_left = min_seconds_left
        self._home_account = home_account
        self._owner_cache: dict[str, Owner | None] = {}

    # ----------------------------------------------------------------- owners

    def owner_of(self, finding: Finding) -> Owner | None:
        """The owning team, looked up once per finding (call it before a remediation deletes the resource)."""
        key = finding.finding_id
        if key not in self._owner_cache:
            owner: Owner | None = None
            if self._owners is not None:
                try:
                    owner = self._owners.owner_of(finding, self.settings.owner_tag_keys)
                except Exception as exc:  # an owner lookup must never cost the alert
                    logger.warning("owner lookup failed", extra={"finding_id": key, "error": str(exc)})
            if len(self._owner_cache) > 256:
                self._owner_cache.clear()
            self._owner_cache[key] = owner
        return self._owner_cache[key]

    def routes(self, notification: Notification, owner: Owner | None) -> list[Route]:
        """Where ``notification`` goes: the security channel, then the owner's destinations not already listed."""
        routes = list(_routes(self.security, SECURITY))
        if notification.outcome is Outcome.CONFIGURATION_ERROR or owner is None:
            return routes
        destination = self.settings.destination_of(owner.team)
        if destination is None:
            return routes
        taken = {route.channel for route in routes}
        routes.extend(
            route for route in _routes(destination, f"team:{owner.team.lower()}") if route.channel not in taken
        )
        return routes

    # ----------------------------------------------------------------- delivery

    def message_for(self, notification: Notification) -> tuple[AlertMessage, Owner | None]:
        """The message (with alias and owner) for ``notification``; lookups that fail are left out."""
        finding = notification.finding
        if notification.outcome is Outcome.CONFIGURATION_ERROR or finding is None:
            return build_message(notification, account=self._account()), None
        owner = self.owner_of(finding)
        alias = None
        if self._owners is not None:
            try:
                alias = self._owners.account_alias(finding.account, finding.region)
            except Exception as exc:
                logger.warning("account alias lookup failed", extra={"account": finding.account, "error": str(exc)})
        routed = owner is not None and self.settings.destination_of(owner.team) is not None
        message = build_message(notification, account_alias=alias, owner=owner, owner_routed=routed)
        return message, owner

    def notify(self, notification: Notification, *, only: Collection[str] | None = None) -> DeliveryReport:
        """Deliver ``notification`` to its routes (or exactly the channels in ``only``, to replay); never raises."""
        try:
            message, owner = self.message_for(notification)
        except Exception as exc:  # a rendering bug must be reported, not crash the enforcer
            logger.exception("cannot build the alert message")
            return self._report([Delivery("render", ok=False, error=f"cannot build the alert: {exc}")])
        if only is not None:
            routes = [Route(channel, "replay") for channel in dict.fromkeys(only)]
        else:
            routes = self.routes(notification, owner)
        if not routes:
            logger.error("no alert channel is configured: the alert is lost unless the enforcer keeps it")
            return self._report([Delivery("none", ok=False, error="no alert channel is configured")])

        deliveries: list[Delivery] = []
        slack_payload: dict[str, Any] | None = None
        app_payload: dict[str, Any] | None = None
        for route in routes:
            if self._out_of_time():
                deliveries.append(
                    Delivery(route.channel, ok=False, error="skipped: the invocation is about to time out")
                )
                continue
            try:
                if route.kind == "sns" and route.target == self.security.sns_topic_arn and self.fallback_topic:
                    always = self._about_alert_path(notification)
                    deliveries.extend(self._publish_or_fall_back(route, message, self.fallback_topic, always=always))
                    continue
                if route.kind == "sns":
                    self._sns_channel().publish(route.target, message)
                elif route.kind == "slack":
                    if slack_payload is None:
                        from iamwarden.adapters.slack import render_slack  # noqa: PLC0415 - slack_sdk is slow to import

                        slack_payload = render_slack(message)
                    self._slack_channel().send(route.target, slack_payload)
                elif route.kind == "slack-app":
                    if app_payload is None:
                        from iamwarden.adapters.slack import render_slack  # noqa: PLC0415 - slack_sdk is slow to import

                        app_payload = render_slack(message, interactive=True)
                    try:
                        self._slack_app_channel().send(route.target, app_payload)
                    except SlackNotConfiguredError:
                        if route.fallback is None:
                            raise
                        # No bot token yet: the team's webhook, as before, without buttons.
                        deliveries.append(self._fallback(route.fallback, message, slack_payload))
                        continue
                else:
                    raise ValueError(f"unknown channel kind {route.kind!r}")
            except SlackNotConfiguredError:  # the shipped placeholder: Slack is optional, not failing
                logger.info("Slack is not set up (placeholder webhook secret); alert sent to the other channels")
            except Exception as exc:  # every channel failure becomes a failed Delivery; nothing escapes
                deliveries.append(Delivery(route.channel, ok=False, error=str(exc) or type(exc).__name__))
            else:
                deliveries.append(Delivery(route.channel, ok=True))
        return self._report(deliveries, message)

    # ----------------------------------------------------------------- helpers

    def _about_alert_path(self, notification: Notification) -> bool:
        """The finding is about the alert path itself (the security topic, a subscription of it, its key)."""
        finding = notification.finding
        if finding is None:
            return False
        arn = finding.resource_arn
        return any(arn == path or arn.startswith(path + ":") for path in self.alert_path)

    def _publish_or_fall_back(
        self, route: Route, message: AlertMessage, fallback: str, *, always: bool
    ) -> list[Delivery]:
        """Publish to the security topic; on failure (or ``always``) to the fallback topic as well, saying why.

        The security topic's failure stays a failed delivery (replayed later); the fallback's is its own.
        """
        deliveries: list[Delivery] = []
        refused: str | None = None
        try:
            self._sns_channel().publish(route.target, message)
        except Exception as exc:
            refused = str(exc) or type(exc).__name__
            deliveries.append(Delivery(route.channel, ok=False, error=refused))
        else:
            deliveries.append(Delivery(route.channel, ok=True))
        if refused is None and not always:
            return deliveries
        if refused is not None:
            logger.warning(
                "the alert topic refused the alert: sent to the fallback topic",
                extra={"topic": route.target, "fallback": fallback, "error": refused},
            )
        try:
            self._sns_channel().publish(fallback, _via_fallback(message, route.target, refused))
        except Exception as exc:
            deliveries.append(Delivery(f"sns:{fallback}", ok=False, error=str(exc) or type(exc).__name__))
        else:
            deliveries.append(Delivery(f"sns:{fallback}", ok=True))
        return deliveries

    def _fallback(self, channel: str, message: AlertMessage, payload: dict[str, Any] | None) -> Delivery:
        from iamwarden.adapters.slack import render_slack  # noqa: PLC0415 - slack_sdk is slow to import

        try:
            self._slack_channel().send(channel.partition(":")[2], payload or render_slack(message))
        except SlackNotConfiguredError:
            logger.info("Slack is not set up (placeholder secrets); alert sent to the other channels")
            return Delivery(channel, ok=True)
        except Exception as exc:
            return Delivery(channel, ok=False, error=str(exc) or type(exc).__name__)
        return Delivery(channel, ok=True)

    def _slack_app_channel(self) -> SlackChannel:
        if self._slack_app is None:
            if self._slack_app_factory is None:
                raise SlackNotConfiguredError("no Slack app (bot token) configured")
            self._slack_app = self._slack_app_factory()
        return self._slack_app

    def _report(self, deliveries: list[Delivery], message: AlertMessage | None = None) -> DeliveryReport:
        report = DeliveryReport(tuple(deliveries))
        for delivery in report.failed:
            logger.warning(
                "alert delivery failed; kept for replay",
                extra={
                    "channel": delivery.channel,
                    "error": delivery.error,
                    "rule": message.rule_id if message else None,
                    "outcome": message.outcome.value if message else None,
                },
            )
        if self._metrics is not None:
            try:
                delivered = len(report.deliveries) - len(report.failed)
                if delivered:
                    self._metrics.add_metric(name="AlertsDelivered", unit="Count", value=delivered)
                if report.failed:
                    self._metrics.add_metric(name="AlertDeliveryFailed", unit="Count", value=len(report.failed))
            except Exception:
                logger.exception("cannot count alert deliveries")
        return report

    def _out_of_time(self) -> bool:
        if self.remaining_seconds is None:
            return False
        try:
            return self.remaining_seconds() < self._min_seconds_left
        except Exception:
            return False

    def _account(self) -> str | None:
        if self._home_account is None:
            return None
        try:
            return self._home_account()
        except Exception:
            return None

    def _sns_channel(self) -> SnsChannel:
        if self._sns is None:
            raise RuntimeError("no SNS publisher configured")
        return self._sns

    def _slack_channel(self) -> SlackChannel:
        if self._slack is None:
            if self._slack_factory is None:
                raise RuntimeError("no Slack sender configured")
            self._slack = self._slack_factory()
        return self._slack


def _via_fallback(message: AlertMessage, topic: str, refused: str | None) -> AlertMessage:
    """``message`` as the fallback topic carries it: why it came that way, first, and in the record."""
    why = (
        f"Sent through IAM Warden's fallback topic: the alert topic {topic} refused it ({refused})."
        if refused is not None
        else f"Sent through IAM Warden's fallback topic as well: it is about the alert topic {topic} or its key."
    )
    record = {**message.record, "fallback": {"alert_topic": topic, "refused": refused}}
    return message._replace(summary=f"{why}\n{message.summary}", record=record)


def _routes(destination: Destination, audience: str) -> list[Route]:
    routes = []
    if destination.sns_topic_arn:
        routes.append(Route(f"sns:{destination.sns_topic_arn}", audience))
    webhook = f"slack:{destination.slack_webhook}" if destination.slack_webhook else None
    if destination.slack_channel:  # the Slack app posts it, with buttons; the webhook only while it has no token
        routes.append(Route(f"slack-app:{destination.slack_channel}", audience, fallback=webhook))
    elif webhook:
        routes.append(Route(webhook, audience))
    return routes


def build_alert_dispatcher(
    factory: ClientFactory,
    *,
    settings: AlertSettings | None = None,
    topic_arn: str | None = None,
    slack_secret: str | None = None,
    metrics: MetricsSink | None = None,
    remaining_seconds: Callable[[], float] | None = None,
    secret_max_age: int = 300,
    retry: "RetryPolicy | None" = None,
    environ: Mapping[str, str] | None = None,
    fallback_topic: str | None = None,
) -> AlertDispatcher:
    """The dispatcher the enforcer uses, wired to AWS through ``factory``.

    The security channel comes from ``topic_arn`` and ``slack_secret``, or
    from the environment variables ``IAMWARDEN_ALERT_TOPIC_ARN`` and
    ``IAMWARDEN_SLACK_WEBHOOK_SECRET``; the fallback topic from ``fallback_topic`` or
    ``IAMWARDEN_ALERT_FALLBACK_TOPIC_ARN``, the alert key from ``IAMWARDEN_ALERT_KEY_ARN``.
    Nothing is called until the first alert, and slack_sdk is imported with the first Slack message.
    """
    from_environment = security_destination(environ)
    security = Destination(
        slack_webhook=slack_secret or from_environment.slack_webhook,
        sns_topic_arn=topic_arn or from_environment.sns_topic_arn,
        slack_channel=from_environment.slack_channel,
    )
    if security.empty:
        logger.warning("no security alert channel configured (%s, %s)", ENV_TOPIC, ENV_SLACK_SECRET)

    def slack_factory() -> SlackChannel:
        from iamwarden.adapters.slack import SecretWebhookUrls, SlackWebhookSender  # noqa: PLC0415

        return SlackWebhookSender(SecretWebhookUrls(factory, max_age=secret_max_age), retry)

    env: Mapping[str, str] = os.environ if environ is None else environ
    fallback = fallback_topic or env.get(ENV_FALLBACK_TOPIC) or None
    bot_secret = env.get(ENV_SLACK_BOT_SECRET) or DEFAULT_SLACK_BOT_SECRET

    def slack_app_factory() -> SlackChannel:
        from iamwarden.adapters.slack_app import SlackAppSender, SlackWebApi, secret_text, secrets_provider  # noqa: PLC0415

        secrets = secrets_provider(factory.home_client("secretsmanager"))
        token = functools.partial(secret_text, secrets, bot_secret, "token", secret_max_age)
        return SlackAppSender(SlackWebApi(token, base_url=env.get(ENV_SLACK_API_URL) or SLACK_API_URL, policy=retry))

    return AlertDispatcher(
        security=security,
        settings=settings,
        sns=SnsPublisher(factory),
        slack_factory=slack_factory,
        slack_app_factory=slack_app_factory,
        owners=OwnerResolver(factory),
        metrics=metrics,
        remaining_seconds=remaining_seconds,
        home_account=lambda: factory.home_account,
        fallback_topic=fallback,
        alert_path=(security.sns_topic_arn or "", env.get("IAMWARDEN_ALERT_KEY_ARN") or ""),
    )
