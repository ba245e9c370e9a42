"""Alerts: one message per finding and outcome, sent to SNS and Slack and routed to the owning team.

The enforcer builds the dispatcher once per container and calls ``notify``
for every finding, outcome and configuration error::

    from iamwarden.alerts import build_alert_dispatcher

    alerts = build_alert_dispatcher(factory, settings=alert_settings, metrics=metrics)
    report = alerts.notify(notification)  # never raises; report.failed lists what to replay

Modules: ``message`` (the channel-neutral model, pure), ``render`` (text and
Markdown), ``slack`` (Block Kit and the webhook; imports slack_sdk, so it is
loaded only when the first Slack alert is sent), ``sns``, ``owners`` (owning
team from tags), ``settings`` (``alerts/...`` parameters) and ``dispatcher``.
"""

from __future__ import annotations

from iamwarden.alerts.dispatcher import AlertDispatcher, build_alert_dispatcher
from iamwarden.alerts.message import AlertMessage, Owner, build_message
from iamwarden.alerts.settings import AlertSettings, Destination, alert_settings_from_parameters, parse_alert_settings

__all__ = [
    "AlertDispatcher",
    "AlertMessage",
    "AlertSettings",
    "Destination",
    "Owner",
    "alert_settings_from_parameters",
    "build_alert_dispatcher",
    "build_message",
    "parse_alert_settings",
]
