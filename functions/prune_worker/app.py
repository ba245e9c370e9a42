"""Pruner worker Lambda (SQS): one role per record, with partial batch responses.

A record whose role cannot be decided yet (Access Advisor job still running)
or that failed is reported in ``batchItemFailures``; the queue's visibility
timeout retries it, and its dead-letter queue keeps what never succeeds.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.prune.app.wiring import build_prune_runtime

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
RUNTIME = build_prune_runtime(logger)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    pruner, problems = RUNTIME.pruner()
    for problem in problems:
        logger.warning("invalid pruner setting", extra={"problem": str(problem)})

    def record_handler(record: SQSRecord) -> str:
        outcome = RUNTIME.process_message(record.body, pruner)
        logger.info(
            outcome.outcome, extra={"role": outcome.role_arn, "plan": outcome.plan_id, "detail": outcome.detail}
        )
        return outcome.outcome

    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
