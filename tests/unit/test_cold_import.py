"""What keeps the enforcer's cold import cheap (issue 12 item 6; the figures are in the README's Benchmarks).

What only some paths need is not imported at cold start: Powertools Parameters (settings are read by
``adapters.ssm_settings.SsmParameters``), difflib (a misspelt setting's hint), the Slack undo's modules, and what
only an alert needs: the alert dispatcher and its message model, renderers, SNS and owner adapters (built with the
first alert by ``wiring.FirstAlertDispatcher``); nor the exceptions' desk and watch (``app.exception_wiring``), nor
the iam_user guardrail (the withheld user deletion is named in ``app.config``).

The two exception records are NamedTuples, not frozen dataclasses: creating those two dataclasses cost ~12 M
instructions of every cold start.

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
from functools import cache
from typing import Any

from iamwarden.app.executor import EARLIER_SESSIONS
from iamwarden.domain.earlier_sessions import PREFIX
from tests.aws_fixtures import function_environment
from tests.conftest import ROOT

_PROBE = """
import gc, json, sys, typing
import app
cold = sorted(sys.modules)
from iamwarden.domain import own, variables
patterns = {"variable": variables.variable_pattern.cache_info().currsize, "region": own._region.cache_info().currsize}
collector = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
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
from iamwarden.alerts.interactions import UNDO_COMMAND
print(json.dumps({"forward": forward, "cold": cold, "all": sorted(sys.modules), "collector": collector,
                  "patterns": patterns, "undo_command": [app.SLACK_UNDO_COMMAND, UNDO_COMMAND]}))
"""

#: Modules only some paths need, and what each would cost every cold start.
NOT_AT_COLD_START = (
    "aws_lambda_powertools.utilities.parameters",
    "difflib",
    "iamwarden.alerts.interactions",
    "iamwarden.app.slack_undo",
    "iamwarden.adapters.slack_response",
    "slack_sdk",
    "aws_xray_sdk",
    "iamwarden.app.dispatcher",
    "iamwarden.alerts.message",
    "iamwarden.alerts.render",
    "iamwarden.adapters.sns",
    "iamwarden.adapters.owners",
    "iamwarden.app.exception_wiring",
    "iamwarden.app.exception_desk",
    "iamwarden.app.exception_watch",
    "iamwarden.guardrails.iam_user",
    "aws_lambda_powertools.utilities.idempotency",
    "iamwarden.app.breaker",
    "iamwarden.adapters.breaker",
    "iamwarden.domain.trails",
    # The escalation analysis (with its method catalogue and boundaries) and the held readings' combinations load
    # with the guardrails that judge a principal's power; the live directory reads held texts with ``held_texts``.
    "iamwarden.domain.escalation",
    "iamwarden.domain.escalation_methods",
    "iamwarden.domain.boundaries",
    "iamwarden.domain.held_readings",
    # A quarantine's session look-up loads with the iam_user guardrail; the executor spells its line prefix.
    "iamwarden.domain.earlier_sessions",
    # Session 16 (cold import): the attachments record loads with an undo or an event judged against the audit table;
    # the rule exceptions with the first approved exception read (``exception_store.APPROVED`` spells the status);
    # a quarantine's alert lines with the first remediation's alert; statements matched by meaning with a cut or a
    # restore; a delivery report with the first alert.
    "iamwarden.guardrails.attachments",
    "iamwarden.domain.rule_exceptions",
    "iamwarden.domain.quarantine",
    "iamwarden.domain.statement_meaning",
    # the own stack's declared grants and their comparison, with a CloudFormation exemption only (merge of s16).
    "iamwarden.domain.declared_content",
    "iamwarden.domain.canonical",
    "iamwarden.domain.delivery",
    # A notification is built on an alert's path only (``app.service`` imports it there), and the engine reads an
    # event's text every way (``domain.readings``) for a CreatePolicyVersion only; the handler names Powertools'
    # LambdaContext as a type only.
    "iamwarden.alerts.notifications",
    "iamwarden.domain.readings",
    "aws_lambda_powertools.utilities.typing",
    # The live directory parses a held text's readings with its first policy read; the audit reader digests an
    # inline document with the first one it holds.
    "iamwarden.domain.held_texts",
    "iamwarden.domain.canonical",
)


@cache
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


def test_modules_only_some_paths_need_are_not_imported_at_cold_start() -> None:
    result = _probe()

    assert "iamwarden.app.service" in result["cold"]
    assert [name for name in NOT_AT_COLD_START if name in result["cold"]] == []


def test_the_handler_import_leaves_the_collector_on_with_what_it_built_frozen() -> None:
    collector = _probe()["collector"]

    assert collector["enabled"] is True  # each event's garbage is still collected
    assert collector["frozen"] > 10_000  # the import's objects (boto3's, Powertools', the core's) are out of its walks


def test_the_executor_spells_the_earlier_sessions_prefix_as_the_session_lookup_writes_it() -> None:
    assert EARLIER_SESSIONS == PREFIX


def test_the_handler_import_compiles_no_pattern_only_some_texts_need() -> None:
    """A policy variable's and a region's pattern are compiled with the first text that needs one (~1.5 M
    instructions of every cold start otherwise, with ``documents``' and ``prune_tag``'s, now kept as strings)."""
    from iamwarden.domain import documents, prune_tag

    assert _probe()["patterns"] == {"variable": 0, "region": 0}
    assert all(type(p) is str for p in (documents._KEY_END, documents._KEY_END_AFTER_SPACE, prune_tag._DATE))


def test_the_exception_store_spells_the_approved_status_as_the_exceptions_model_does() -> None:
    from iamwarden.adapters.exception_store import APPROVED
    from iamwarden.domain.rule_exceptions import ExceptionStatus

    assert ExceptionStatus.APPROVED.value == APPROVED


def test_the_handler_recognises_the_slack_undo_command_the_interaction_endpoint_sends() -> None:
    handler_command, interactions_command = _probe()["undo_command"]
    assert handler_command == interactions_command


def test_the_alert_dispatcher_is_built_with_the_first_alert_with_the_latest_settings_and_deadline() -> None:
    """Settings parsed and a deadline set before the first alert reach the dispatcher it builds, and later ones too."""
    from iamwarden.adapters.clients import ClientFactory
    from iamwarden.alerts.notifications import Notification
    from iamwarden.app.wiring import FirstAlertDispatcher
    from iamwarden.domain.findings import Outcome

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 42_000

    alerts = FirstAlertDispatcher(ClientFactory("111122223333"))
    problems = alerts.configure({"alerts/owner_tag_keys": "team"})
    alerts.set_deadline(Context())
    assert problems == []
    assert alerts._dispatcher is None  # nothing built by settings or a deadline

    dispatcher = alerts.dispatcher()
    assert dispatcher.settings.owner_tag_keys == ("team",)
    assert dispatcher.remaining_seconds is not None
    assert dispatcher.remaining_seconds() == 42.0
    assert alerts.dispatcher() is dispatcher  # built once

    invalid = alerts.configure({"alerts/owner_tag_keys": "bad\ttab"})
    assert [problem.key for problem in invalid] == ["alerts/owner_tag_keys"]
    assert alerts.dispatcher().settings == alerts.settings  # the latest settings, whatever they are

    report = alerts.notify(Notification(Outcome.CONFIGURATION_ERROR, settings_prefix="/iamwarden"))
    assert [delivery.channel for delivery in report.failed] == ["none"]  # the dispatcher's answer: no channel here
