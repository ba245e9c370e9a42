"""Errors of the alerting subsystem.

None of them ever escapes ``AlertDispatcher.notify``: each becomes a failed
``Delivery`` in the report, so delivery never blocks remediation. Their
messages never contain a webhook URL (the URL is a credential).
"""

from __future__ import annotations

from iamwarden.domain.exceptions import DeliveryError, IamWardenError

__all__ = ["DeliveryError", "RenderError", "SlackNotConfiguredError", "WebhookSecretError"]


class WebhookSecretError(DeliveryError):
    """A Slack webhook secret is missing, unreadable, or does not hold a usable URL.

    The message names the secret, never its value.
    """


class SlackNotConfiguredError(WebhookSecretError):
    """The webhook secret still holds the shipped placeholder (or nothing): Slack is not set up yet.

    Not a failure: the alert goes to the other channels, and nothing is kept for
    redelivery, counted as failed, alarmed on or retried.
    """


#: What the template puts into a webhook secret until someone stores a URL (template.yaml).
SLACK_PLACEHOLDER_PREFIX = "REPLACE-ME"


class RenderError(IamWardenError):
    """An alert could not be rendered for a channel (a bug: reported, never raised out of ``notify``)."""
