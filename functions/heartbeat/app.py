"""Heartbeat Lambda: every 5 minutes checks that IAM Warden's loop is whole and alerts when it is not.

It also answers the stack's snapshot custom resource (``DeploySnapshot``), so the first snapshots exist at deploy.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.app.deploy_snapshot import is_custom_resource_request
from iamwarden.app.heartbeat import Heartbeat, build_deploy_snapshot, build_heartbeat

logger = Logger()


@cache
def _heartbeat() -> Heartbeat:
    return build_heartbeat()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_custom_resource_request(event):
        answer = build_deploy_snapshot().handle(event)
        logger.info("answered CloudFormation", extra={"answer": answer})
        return answer
    result = _heartbeat().run()
    if not result["whole"]:
        logger.error("IAM Warden's loop is broken", extra={"problems": result["problems"]})
    return result
