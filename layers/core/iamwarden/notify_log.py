"""A notifier that only logs: for running the enforcer where no alert channel is configured."""

from __future__ import annotations

import logging

from iamwarden.notifications import Delivery, DeliveryReport, Notification

logger = logging.getLogger("iamwarden")


class LogNotifier:
    def notify(self, notification: Notification) -> DeliveryReport:
        finding = notification.finding
        logger.warning(
            "%s: %s",
            notification.outcome.value,
            finding.reason if finding else "; ".join(map(str, notification.problems)),
        )
        return DeliveryReport((Delivery("log", ok=True),))
