"""Enforcer Lambda: wires Powertools to the iamwarden core, nothing more.

It judges each EventBridge CloudTrail event and records the verdict. Acting on
findings (alert, remediate) arrives with the enforcer issue; until then the
plan is logged, never executed.

Tracing is Lambda's own (``Tracing: Active`` in template.yaml; Powertools adds
the X-Ray trace id to every log line). Powertools Tracer is left out on
purpose: the X-Ray SDK builds a botocore client at import and doubles the
handler's cold import (measured by ``make bench``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.engine import judge_event
from iamwarden.findings import Judgement, Verdict
from iamwarden.settings import Settings

logger = Logger()
metrics = Metrics()
SETTINGS = Settings()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    judgement = judge_event(event, SETTINGS)
    return record(judgement)


def record(judgement: Judgement) -> dict[str, Any]:
    """Log the verdict with the event id and rule as keys; count verdicts, and findings per rule."""
    change = judgement.change
    logger.append_keys(event_id=change.event_id if change else None, rule=",".join(judgement.rule_ids) or None)
    metrics.add_metric(name=judgement.verdict.value.capitalize(), unit=MetricUnit.Count, value=1)
    for finding in judgement.findings:
        with single_metric(name="Findings", unit=MetricUnit.Count, value=1) as metric:
            metric.add_dimension(name="rule", value=finding.rule_id)
        logger.warning("guardrail finding", extra={"finding": finding.to_dict()})
    # An event that could not be judged is never acted on: make it stand out in the logs.
    log = logger.warning if judgement.verdict is Verdict.INVALID else logger.info
    log(judgement.reason, extra={"verdict": judgement.verdict.value, "resource": judgement.resource_arn})
    return {
        "verdict": judgement.verdict.value,
        "reason": judgement.reason,
        "findings": [finding.to_dict() for finding in judgement.findings],
    }
