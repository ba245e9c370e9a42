"""Errors of the alerting subsystem.

None of them ever escapes ``AlertDispatcher.notify``: each becomes a failed
``Delivery`` in the report, so delivery never blocks remediation. Their
messages never contain a webhook URL (the URL is a credential).
"""

from __future__ import annotations

from iamwarden.domain.exceptions import DeliveryError, IamWardenError

__all__ = ["DeliveryError", "RenderError", "WebhookSecretError"]


class WebhookSecretError(DeliveryError):
    """A Slack webhook secret is missing, unreadable, or does not hold a usable URL.

    The message names the secret, never its value.
    """


class RenderError(IamWardenError):
    """An alert could not be rendered for a channel (a bug: reported, never raised out of ``notify``)."""
