"""A moto server on 127.0.0.1 over real HTTP, started and stopped by the tests that need it."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

MOTO_SERVER = Path(sys.executable).parent / "moto_server"
#: What werkzeug prints once the server is listening; with ``-p 0`` it names the port the kernel chose.
_LISTENING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


def _listening_port(log: Path, process: subprocess.Popen[bytes], deadline: float) -> int:
    while True:
        match = _LISTENING.search(log.read_text(errors="replace"))
        if match:
            return int(match[1])
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"moto_server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


@contextlib.contextmanager
def running_moto_server(log: Path) -> Iterator[str]:
    """The endpoint URL of a fresh moto server process (its own state), stopped on exit.

    The server binds port 0 and reports the port the kernel gave it, so servers
    started at once (pytest-xdist workers) never race for a port picked in advance.
    """
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
        )
    try:
        deadline = time.monotonic() + 30
        endpoint = f"http://127.0.0.1:{_listening_port(log, process, deadline)}"
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1).close()  # noqa: S310 - loopback
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not answer on {endpoint}") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    """Stop ``process``: SIGTERM, then SIGKILL if it has not exited within ``grace`` seconds.

    Under load (a shared two-core machine) moto_server's threads can take longer than the grace period to wind
    down; the server must still never outlive the test or the bench that started it.
    """
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh moto server on 127.0.0.1 for one test."""
    with running_moto_server(tmp_path_factory.mktemp("moto_server") / "server.log") as endpoint:
        yield endpoint
