"""Pruner watch Lambda (EventBridge, AccessDenied): tells the owners of a recently pruned role how to roll back."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.prune.app.wiring import build_prune_runtime

logger = Logger()
RUNTIME = build_prune_runtime(logger)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    notice = RUNTIME.watch(event)
    return {"notified": notice is not None, "plan": notice.plan_id if notice else None}
