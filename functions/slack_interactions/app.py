"""Slack interaction Lambda, behind a function URL (AuthType NONE: Slack's request signature is the authentication).

Verifies, authorises, records and answers each click within Slack's three
seconds (``iamwarden.app.slack_interactions``); an undo is handed to the
enforcer asynchronously.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.app.config import EnforcerConfig
from iamwarden.app.exception_wiring import build_exception_desk
from iamwarden.app.slack_interactions import InteractionEndpoint, build_interaction_endpoint
from iamwarden.app.wiring import build_clients
from iamwarden.domain.rule_exceptions import ExceptionScope

logger = Logger()
_endpoint: InteractionEndpoint | None = None


def endpoint() -> InteractionEndpoint:
    global _endpoint  # noqa: PLW0603 - built once per container, on first use
    if _endpoint is None:
        config = EnforcerConfig.from_environment()
        clients = build_clients(config)
        _endpoint = build_interaction_endpoint(
            config, clients, exceptions=build_exception_desk(config, clients), scope_type=ExceptionScope
        )
    return _endpoint


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return endpoint().handle(event)
