"""What keeps the enforcer's cold import cheap (issue 12 item 6; the figures are in the README's Benchmarks).

A ``typing.NamedTuple`` whose field annotations are strings (``from __future__ import annotations``)
compiles a ``ForwardRef`` for every field when the class is created: about 350 small ``compile`` calls
over the modules the enforcer imports, some 37 M of the handler's ~250 M instructions (valgrind). So the
modules the handler and its guardrails import that define NamedTuples evaluate their annotations (no
``from __future__ import annotations``); a forward reference is quoted where it is needed, e.g.
``-> "Finding"`` on a class method.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from tests.aws_fixtures import function_environment
from tests.conftest import ROOT

_PROBE = """
import json, sys, typing
import app
cold = sorted(sys.modules)
from iamwarden.guardrails import registry
registry.load_all()

forward = []
for name, module in sorted(sys.modules.items()):
    if not name.startswith("iamwarden"):
        continue
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == name and hasattr(value, "_fields"):
            fields = getattr(value, "__annotations__", {})
            forward += [f"{name}.{value.__name__}.{f}" for f, t in fields.items() if isinstance(t, typing.ForwardRef)]
print(json.dumps({"forward": forward, "cold": cold, "all": sorted(sys.modules)}))
"""


def _probe() -> dict[str, Any]:
    """Import the enforcer handler in a fresh interpreter (template environment), then every guardrail module."""
    env = {
        **function_environment("EnforcerFunction"),
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "enforcer"), str(ROOT / "layers" / "core")]),
    }
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def test_no_namedtuple_the_enforcer_imports_has_string_field_annotations() -> None:
    result = _probe()

    assert "iamwarden.domain.findings" in result["cold"]  # the probe saw the handler's imports
    assert "iamwarden.guardrails.identity_policy" in result["all"]  # and the guardrails'
    assert result["forward"] == [], "remove `from __future__ import annotations` there (see this test's docstring)"
