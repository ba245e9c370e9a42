"""Heartbeat Lambda: every 5 minutes checks that IAM Warden's loop is whole and alerts when it is not.

It also answers the stack's snapshot custom resource (``DeploySnapshot``), so the first snapshots exist at deploy.
Each run's member coverage (pairs watched, checked, the oldest check's age) is also EMF metrics.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.app.deploy_snapshot import is_custom_resource_request
from iamwarden.app.heartbeat import Heartbeat, build_deploy_snapshot, build_heartbeat

logger = Logger()
metrics = Metrics()

#: The member coverage's metrics (``app.member_coverage.Coverage``): name, unit, field of the run's answer.
COVERAGE_METRICS = (
    ("MemberPairsWatched", MetricUnit.Count, "pairs"),
    ("MemberPairsChecked", MetricUnit.Count, "checked"),
    ("MemberOldestCheckAge", MetricUnit.Seconds, "oldest_check_age_seconds"),
)


def record_coverage(result: dict[str, Any]) -> None:
    """The run's member coverage as metrics (none when no member account is watched)."""
    coverage = result.get("member_coverage")
    if coverage:
        for name, unit, field in COVERAGE_METRICS:
            metrics.add_metric(name=name, unit=unit, value=coverage[field])


@cache
def _heartbeat() -> Heartbeat:
    return build_heartbeat()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_custom_resource_request(event):
        answer = build_deploy_snapshot().handle(event)
        logger.info("answered CloudFormation", extra={"answer": answer})
        return answer
    result = _heartbeat().run()
    record_coverage(result)
    if not result["whole"]:
        logger.error("IAM Warden's loop is broken", extra={"problems": result["problems"]})
    return result
