"""Exception watch Lambda (hourly): reminds owners of exceptions that expire soon, and at expiry marks them
expired and judges their resources again (``iamwarden.app.exception_watch``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from iamwarden.app.config import EnforcerConfig
from iamwarden.app.exception_watch import ExceptionWatch
from iamwarden.app.exception_wiring import build_exception_watch

logger = Logger()
_watch: ExceptionWatch | None = None


def watch() -> ExceptionWatch:
    global _watch  # noqa: PLW0603 - built once per container, on first use
    if _watch is None:
        _watch = build_exception_watch(EnforcerConfig.from_environment())
    return _watch


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = watch().run()
    logger.info("exceptions watched", extra=report.to_dict())
    return report.to_dict()
