"""Enforcer Lambda: wires Powertools to the iamwarden core, nothing more.

Each EventBridge CloudTrail event goes to ``EnforcerService.handle`` (judge,
act per mode, record, alert). Logger carries the event id and rule on every
line, Metrics counts findings, remediations and failures per rule as EMF, and
Tracer traces the invocation and the AWS calls when X-Ray SDK tracing is on
(``iamwarden.app.tracing``: off by default, as the SDK doubles the cold import).
Everything else, from the
clients to the idempotency store, is built once per container by
``iamwarden.app.wiring`` from the environment template.yaml sets.
"""

from __future__ import annotations

import gc

# The cyclic garbage collector is off while the handler's imports run, and what they built is frozen after (below):
# the imports allocate hundreds of thousands of objects (modules, classes, functions) that live as long as the
# container and free almost none of them, so every collection during the import walked them for nothing (about
# 9 M instructions on top of boto3, ~13 M more when boto3 is imported here, as Lambda does; README, Benchmarks).
gc.disable()

from typing import TYPE_CHECKING, Any  # noqa: E402 - after gc.disable(), on purpose

from aws_lambda_powertools import Logger, Metrics  # noqa: E402
from aws_lambda_powertools.metrics import MetricUnit, single_metric  # noqa: E402

from iamwarden.adapters.audit import AuditLog  # noqa: E402
from iamwarden.app.config import EnforcerConfig  # noqa: E402
from iamwarden.app.service import EnforcerService  # noqa: E402
from iamwarden.app.tracing import tracer_from_environment  # noqa: E402
from iamwarden.app.wiring import build_clients, build_enforcer_service, build_executor  # noqa: E402

if TYPE_CHECKING:
    # A type only (annotations are strings here): Powertools' typing package is ~2 M instructions of a cold start.
    from aws_lambda_powertools.utilities.typing import LambdaContext

#: ``alerts.interactions.UNDO_COMMAND``, which a unit test keeps equal: the undo's modules load only for it.
SLACK_UNDO_COMMAND = "iamwarden.slack-undo"

logger = Logger()
metrics = Metrics()
tracer = tracer_from_environment()
_service: EnforcerService | None = None

# Everything imported so far lives as long as the container: moved out of the collector's generations, no later
# collection walks it again (``gc.freeze``), and the collector is on again for what each event allocates.
gc.freeze()
gc.enable()


class PowertoolsTelemetry:
    """Counts per rule as EMF (one ``rule`` dimension), and log keys through Logger."""

    def count(self, metric: str, rule: str | None = None) -> None:
        if rule is None:
            metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
            return
        with single_metric(name=metric, unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as one:
            one.add_dimension(name="rule", value=rule)

    def bind(self, **keys: str | None) -> None:
        logger.append_keys(**keys)


def enforcer() -> EnforcerService:
    global _service  # noqa: PLW0603 - built once per container, on first use
    if _service is None:
        _service = build_enforcer_service(
            EnforcerConfig.from_environment(), telemetry=PowertoolsTelemetry(), metrics=metrics
        )
    return _service


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("command") == SLACK_UNDO_COMMAND:  # from the Slack interaction function, which verified the click
        # Imported on this path only: the Slack interaction model and response poster are ~5 M instructions
        # of every cold start otherwise (README, Benchmarks); tests/unit/test_cold_import.py keeps them out.
        from iamwarden.adapters.slack_response import respond  # noqa: PLC0415
        from iamwarden.app.slack_undo import run_slack_undo  # noqa: PLC0415

        config = EnforcerConfig.from_environment()
        clients = build_clients(config)
        requests = AuditLog(config.audit_table, clients.home_client("dynamodb"))
        return run_slack_undo(event, build_executor(config, clients), respond, requests)
    result = enforcer().handle(event, context)
    logger.info(result["reason"], extra={"verdict": result["verdict"], "findings": result["findings"]})
    return result
