"""Pruner planner Lambda (EventBridge schedule): one queue message per role in scope, bounded per run.

All logic lives in ``iamwarden.prune``; this only wires Powertools to it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.prune.app.runtime import planned_log
from iamwarden.prune.app.wiring import build_prune_runtime

logger = Logger()
RUNTIME = build_prune_runtime(logger)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = RUNTIME.plan_run()
    for problem in result.get("problems", []):
        logger.warning("invalid pruner setting", extra={"problem": problem})
    logger.info("pruner run planned", extra=planned_log(result))  # the exempted list bounded
    return result
