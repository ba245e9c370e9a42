"""Pruner worker Lambda (SQS): one role per record, with partial batch responses.

A record whose role cannot be decided yet (Access Advisor job still running)
or that failed is reported in ``batchItemFailures``; the queue's visibility
timeout retries it, and its dead-letter queue keeps what never succeeds.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.alerts.prune_notices import build_prune_notice_sender
from iamwarden.aws.clients import ClientFactory
from iamwarden.prune.notices import FanOutNoticeSender, LogNoticeSender
from iamwarden.prune.runtime import PruneRuntime, read_settings

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
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
