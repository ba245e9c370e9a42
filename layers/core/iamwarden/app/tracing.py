"""X-Ray SDK tracing is opt-in: the handlers get Powertools Tracer only when the template asks for it.

Importing the X-Ray SDK builds a botocore client, which doubled the enforcer's cold
import (see the README's Benchmarks); Powertools imports the SDK even for
``Tracer(disabled=True)``. Lambda's active tracing records each invocation without
the SDK, so by default a handler gets ``NoTracer``: Tracer's decorators and calls,
doing nothing. ``XRaySdkTracing=true`` (template parameter, environment variable
below) brings back Tracer's subsegments for the handler and each AWS call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol, overload

from aws_lambda_powertools import Tracer  # the class only: Powertools loads the X-Ray SDK when one is built

from iamwarden.domain.exceptions import IamWardenError

XRAY_SDK_TRACING = "IAMWARDEN_XRAY_SDK_TRACING"
_CHOICES = {"true": True, "false": False, "": False}


def xray_sdk_tracing(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for X-Ray SDK tracing ("true" or "false", as the template allows; unset is off)."""
    raw = (os.environ if environ is None else environ).get(XRAY_SDK_TRACING, "")
    try:
        return _CHOICES[raw.strip().lower()]
    except KeyError:
        raise IamWardenError(f"{XRAY_SDK_TRACING} must be true or false, got {raw!r}") from None


class HandlerTracer(Protocol):
    """What a handler uses of Powertools Tracer; ``Tracer`` and ``NoTracer`` both are one."""

    def capture_lambda_handler(
        self, lambda_handler: Any = None, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Callable[..., Any]: ...

    def capture_method(
        self, method: Any = None, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Any: ...

    def put_annotation(self, key: str, value: Any) -> None: ...

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None: ...


class NoTracer:
    """Stands in for Powertools Tracer when X-Ray SDK tracing is off: the same decorators, returning what they wrap."""

    disabled = True

    @overload
    def capture_lambda_handler[Decorated: Callable[..., Any]](
        self, lambda_handler: Decorated, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Decorated: ...

    @overload
    def capture_lambda_handler[Decorated: Callable[..., Any]](
        self, lambda_handler: None = None, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Callable[[Decorated], Decorated]: ...

    def capture_lambda_handler[Decorated: Callable[..., Any]](
        self,
        lambda_handler: Decorated | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Decorated | Callable[[Decorated], Decorated]:
        """``@tracer.capture_lambda_handler`` and ``@tracer.capture_lambda_handler(capture_response=False)`` alike."""
        return _identity if lambda_handler is None else lambda_handler

    @overload
    def capture_method[Decorated: Callable[..., Any]](
        self, method: Decorated, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Decorated: ...

    @overload
    def capture_method[Decorated: Callable[..., Any]](
        self, method: None = None, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Callable[[Decorated], Decorated]: ...

    def capture_method[Decorated: Callable[..., Any]](
        self,
        method: Decorated | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Decorated | Callable[[Decorated], Decorated]:
        return _identity if method is None else method

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        return None


def _identity[Decorated: Callable[..., Any]](function: Decorated) -> Decorated:
    return function


def tracer_from_environment(environ: Mapping[str, str] | None = None) -> HandlerTracer:
    """Powertools Tracer (which imports the X-Ray SDK) if ``IAMWARDEN_XRAY_SDK_TRACING`` is true, else ``NoTracer``."""
    return Tracer() if xray_sdk_tracing(environ) else NoTracer()
