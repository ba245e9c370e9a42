"""Load: the 2,000-event burst of tests/integration/test_load.py, timed, against moto_server.

One warm container (the enforcer's handler module imported once) handles every routed
event in turn. Reported: events per second, and p50/p99 latency per event, both whole
and with moto_server's share taken out. moto's share is the wall time spent inside
HTTP requests to it (botocore's ``URLLib3Session.send``), which on real AWS would be
network and service time instead; what remains is the handler's own work.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' template helpers build the stack exactly as deployed

SIZE = int(os.environ.get("BENCH_BURST_SIZE", "2000"))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    import boto3
    import botocore.httpsession
    import pytest

    from tests.aws_fixtures import function_environment
    from tests.integration.burst import Burst, route
    from tests.integration.conftest import running_moto_server
    from tests.integration.test_load import LambdaContext, deploy_stack, load_handler

    in_http = [0.0]
    send = botocore.httpsession.URLLib3Session.send

    def timed_send(self: Any, request: Any) -> Any:
        start = time.perf_counter()
        try:
            return send(self, request)
        finally:
            in_http[0] += time.perf_counter() - start

    with tempfile.TemporaryDirectory() as work, running_moto_server(Path(work) / "moto.log") as endpoint:
        monkeypatch = pytest.MonkeyPatch()
        try:
            session, _ = deploy_stack(endpoint, monkeypatch)
            assert isinstance(session, boto3.Session)
            # With the audit table, the heartbeat reads the admin roles before their attaches (as the load test does):
            # without a record from before an attach, it is alerted only (it may have been there already).
            burst = Burst.build(
                session, SIZE, audit_table=function_environment("EnforcerFunction")["IAMWARDEN_AUDIT_TABLE"]
            )
            routed = route(burst.events)
            handler = load_handler()
            botocore.httpsession.URLLib3Session.send = timed_send  # type: ignore[method-assign]
            whole, own = [], []
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # the handler's logs and EMF metrics
                for event in routed:
                    in_http[0] = 0.0
                    start = time.perf_counter()
                    handler.lambda_handler(event, LambdaContext())
                    elapsed = time.perf_counter() - start
                    whole.append(elapsed)
                    own.append(elapsed - in_http[0])
            total = time.perf_counter() - started
            problems = burst.check(session)
        finally:
            botocore.httpsession.URLLib3Session.send = send  # type: ignore[method-assign]
            monkeypatch.undo()
    if problems:
        raise SystemExit(f"the burst left {len(problems)} resources wrong, e.g. {problems[:3]}")
    print(f"\nLoad: {len(routed)} routed events ({len(burst.events)} put), one warm container, moto_server")
    rows = [
        ("events per second", f"{len(routed) / total:.0f}", "whole, moto_server included"),
        ("latency p50 / p99 (ms)", f"{_percentile(whole, 0.5) * 1000:.1f} / {_percentile(whole, 0.99) * 1000:.1f}", ""),
        (
            "latency minus moto p50 / p99 (ms)",
            f"{_percentile(own, 0.5) * 1000:.1f} / {_percentile(own, 0.99) * 1000:.1f}",
            "time outside HTTP calls to moto_server",
        ),
        ("mean share of time in moto", f"{1 - statistics.fmean(own) / statistics.fmean(whole):.0%}", ""),
    ]
    for name, value, note in rows:
        print(f"  {name:<36} {value:>16}  {note}")


if __name__ == "__main__":
    main()
