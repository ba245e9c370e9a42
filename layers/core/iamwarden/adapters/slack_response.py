"""Answer a Slack click through its ``response_url``: one JSON POST, no token, no slack_sdk.

A click's ``response_url`` (``https://hooks.slack.com/actions/…``, valid for 30
minutes and five uses) updates or replaces the message the button is on. The
enforcer answers an undo this way; plain ``urllib`` keeps slack_sdk out of its
imports.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from iamwarden.alerts.exceptions import DeliveryError


def respond(response_url: str, body: Mapping[str, Any], timeout: float = 5.0) -> None:
    """POST ``body`` to ``response_url``; ``DeliveryError`` (without the URL, a credential) if Slack refuses."""
    parts = urlsplit(response_url)
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme != "https" and not local:
        raise DeliveryError("Slack response_url is not an https:// URL")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        response_url,
        data=json.dumps(dict(body)).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"Slack response_url: {type(exc).__name__}") from None
    if status != 200:
        raise DeliveryError(f"Slack response_url answered HTTP {status}")
