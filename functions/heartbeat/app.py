"""Heartbeat Lambda (every 5 minutes): checks that IAM Warden's loop is whole and alerts when it is not."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.app.heartbeat import build_heartbeat

logger = Logger()
HEARTBEAT = build_heartbeat()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = HEARTBEAT.run()
    if not result["whole"]:
        logger.error("IAM Warden's loop is broken", extra={"problems": result["problems"]})
    return result
