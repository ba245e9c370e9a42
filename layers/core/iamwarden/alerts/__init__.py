"""Alerts: one channel-neutral message per finding and outcome (pure).

``message`` builds the model, ``render`` turns it into text and Markdown, and
``settings`` reads the ``alerts/...`` parameters. The senders live in
``iamwarden.adapters`` (``sns``, ``slack``, ``owners``) and the dispatcher that
routes a message to the owning team in ``iamwarden.app.dispatcher``.
"""

from __future__ import annotations

from iamwarden.alerts.message import AlertMessage, Owner, build_message
from iamwarden.alerts.settings import AlertSettings, Destination, alert_settings_from_parameters, parse_alert_settings

__all__ = [
    "AlertMessage",
    "AlertSettings",
    "Destination",
    "Owner",
    "alert_settings_from_parameters",
    "build_message",
    "parse_alert_settings",
]
