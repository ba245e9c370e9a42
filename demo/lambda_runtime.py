"""Runs the ``sam build`` output of a function as Lambda does: one warm container, one event at a time.

The handler runs in its own interpreter with ``python -S`` and only the
built function and layer on its path, with the environment CloudFormation
resolved for the function, credentials of the function's own role (from
sts:AssumeRole), a Lambda context, and boto3 pointed at the emulated AWS by
``AWS_ENDPOINT_URL``. Its logs go to a file; each answer comes back as one
JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

# Inside the container: logs (fd 1, where Powertools writes) go to stderr; answers go to the original stdout.
_BOOTSTRAP = """
import json, os, sys, time, uuid
answers = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
import app

class Context:
    def __init__(self, timeout):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ["DEMO_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = "demo"
        self._deadline = time.monotonic() + timeout
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

for line in sys.stdin:
    event = json.loads(line)
    try:
        answer = {"result": app.lambda_handler(event, Context(int(os.environ["DEMO_TIMEOUT"])))}
    except Exception as exc:
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    answers.write(json.dumps(answer) + "\\n")
    answers.flush()
"""


class LambdaContainer:
    """A warm container of one function; ``invoke`` hands it an event and returns the handler's answer."""

    def __init__(
        self,
        *,
        function_dir: Path,
        layer_dir: Path,
        configuration: Mapping[str, Any],
        credentials: dict[str, str],
        endpoint: str,
        region: str,
        log_path: Path,
    ) -> None:
        variables = {key: str(value) for key, value in configuration["Environment"]["Variables"].items()}
        self.environment = {
            **variables,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": configuration["FunctionName"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration["MemorySize"]),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{configuration['FunctionName']}",
            "DEMO_FUNCTION_ARN": configuration["FunctionArn"],
            "DEMO_TIMEOUT": str(configuration["Timeout"]),
            # No X-Ray daemon here: Tracer would only warn about each segment it cannot send.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONPATH": f"{function_dir}:{layer_dir}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.log_path = log_path
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-S", "-c", _BOOTSTRAP],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=self.environment,
            text=True,
            start_new_session=True,
        )

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise RuntimeError("the Lambda container is not running")
        process.stdin.write(json.dumps(event) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Lambda container exited (code {process.poll()}); see {self.log_path}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
