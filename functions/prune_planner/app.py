"""Pruner planner Lambda (EventBridge schedule): one queue message per role in scope, bounded per run.

All logic lives in ``iamwarden.prune``; this only wires Powertools to it.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.alerts.prune_notices import build_prune_notice_sender
from iamwarden.aws.clients import ClientFactory
from iamwarden.prune.notices import FanOutNoticeSender, LogNoticeSender
from iamwarden.prune.runtime import PruneRuntime, read_settings

logger = Logger()
FACTORY = ClientFactory(member_role_name=os.environ.get("IAMWARDEN_MEMBER_ROLE", "iamwarden-pruner-member"))
PREFIX = os.environ.get("IAMWARDEN_SETTINGS_PREFIX", "/iamwarden")
_PROVIDER: SSMProvider | None = None


def _provider() -> SSMProvider:
    global _PROVIDER  # noqa: PLW0603 - one cached provider per container, built on first use
    if _PROVIDER is None:
        _PROVIDER = SSMProvider(boto3_client=FACTORY.home_client("ssm"))
    return _PROVIDER


RUNTIME = PruneRuntime(
    FACTORY,
    table=os.environ.get("IAMWARDEN_PRUNE_TABLE", "iamwarden-prune-state"),
    queue_url=os.environ.get("IAMWARDEN_PRUNE_QUEUE_URL"),
    # Every notice is logged and sent through the alert channels (security, and each owner team once).
    notices=FanOutNoticeSender(
        LogNoticeSender(logger),
        build_prune_notice_sender(
            FACTORY, parameters=lambda: _provider().get_multiple(PREFIX, recursive=True, max_age=60)
        ),
    ),
    settings=lambda: read_settings(_provider(), PREFIX),
)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = RUNTIME.plan_run()
    for problem in result.get("problems", []):
        logger.warning("invalid pruner setting", extra={"problem": problem})
    logger.info("pruner run planned", extra=result)
    return result
