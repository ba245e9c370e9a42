"""The servers tests and the bench start are stopped even when they ignore SIGTERM (conftest.stop_process)."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.integration.conftest import stop_process

_IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    process = subprocess.Popen([sys.executable, "-c", _IGNORES_SIGTERM], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"  # the handler is installed before we signal
    stop_process(process, grace=0.5)
    assert process.returncode == -signal.SIGKILL
    process.stdout.close()


def test_a_process_that_exits_on_sigterm_is_not_killed() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    stop_process(process, grace=30)
    assert process.returncode == -signal.SIGTERM
    process.stdout.close()
