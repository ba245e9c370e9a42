"""The action catalogue ships only with the pruner worker; nothing else loads it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.integration.test_sam_build import _pins
from tests.sam_template import source_template


def test_only_the_worker_ships_the_catalogue_pinned_like_the_dev_lock() -> None:
    worker = _pins(ROOT / "functions" / "prune_worker" / "requirements.txt")
    dev = _pins(ROOT / "requirements-dev.txt")
    assert "policy-sentry" in worker
    assert {name: version for name, version in worker.items() if dev.get(name) != version} == {}
    for path in ("layers/core/requirements.txt", "functions/enforcer/requirements.txt"):
        assert "policy-sentry" not in _pins(ROOT / path), path
    resources = source_template()["Resources"]
    assert resources["PruneWorkerFunction"]["Properties"]["CodeUri"] == "functions/prune_worker/"


def test_the_pruner_imports_the_catalogue_only_when_it_expands_a_wildcard() -> None:
    code = (
        "import sys, iamwarden.prune.app.service, iamwarden.prune.app.runtime, iamwarden.prune.app.cli\n"
        "import iamwarden.guardrails.engine\n"
        "assert 'policy_sentry' not in sys.modules, 'catalogue loaded at import'\n"
        "import iamwarden.app.cli\n"
        "assert 'policy_sentry' not in sys.modules\n"
        "from iamwarden.prune.domain.catalogue import PolicySentryCatalogue\n"
        "assert PolicySentryCatalogue().actions('sts')\n"
        "assert 'policy_sentry' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT / "layers" / "core")


def test_the_enforcer_never_imports_the_pruner() -> None:
    code = (
        "import sys, runpy\n"
        "sys.path.insert(0, 'functions/enforcer')\n"
        "import app\n"
        "assert not [m for m in sys.modules if m.startswith('iamwarden.prune')], 'enforcer imports the pruner'\n"
    )
    env = {
        "POWERTOOLS_SERVICE_NAME": "iamwarden",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "PATH": "",
        "PYTHONPATH": "layers/core",
    }
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
