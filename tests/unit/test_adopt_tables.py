"""``make adopt-tables``: a redeploy after ``sam delete`` adopts the retained tables by resource import."""

from __future__ import annotations

import importlib.util
import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT
from tests.sam_template import source_template


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("adopt_tables", ROOT / "tools" / "adopt_tables.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


adopt_tables = _tool()


def test_the_import_template_is_exactly_the_retained_tables_unchanged() -> None:
    template = source_template()
    imported = adopt_tables.import_template(template)["Resources"]
    assert sorted(imported) == ["AuditTable", "ExceptionsTable", "PruneStateTable"]
    for logical, resource in imported.items():
        assert resource == template["Resources"][logical]  # an import must match the stack's template
        assert resource["DeletionPolicy"] == "Retain"  # CloudFormation imports only resources that declare one
    assert "IdempotencyTable" not in imported  # deleted with the stack: nothing to adopt


def test_the_resources_to_import_are_named_by_their_table_names(tmp_path: Path) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert adopt_tables.main(["--stack-name", "iamwarden", "--region", "eu-west-1", "--out", str(tmp_path)]) == 0

    resources = json.loads((tmp_path / "resources-to-import.json").read_text())
    assert resources == [
        {
            "ResourceType": "AWS::DynamoDB::Table",
            "LogicalResourceId": "AuditTable",
            "ResourceIdentifier": {"TableName": "iamwarden-audit"},
        },
        {
            "ResourceType": "AWS::DynamoDB::Table",
            "LogicalResourceId": "ExceptionsTable",
            "ResourceIdentifier": {"TableName": "iamwarden-exceptions"},
        },
        {
            "ResourceType": "AWS::DynamoDB::Table",
            "LogicalResourceId": "PruneStateTable",
            "ResourceIdentifier": {"TableName": "iamwarden-prune-state"},
        },
    ]
    lines = out.getvalue().splitlines()
    assert (
        lines[0]
        == "Adopt iamwarden-audit, iamwarden-exceptions, iamwarden-prune-state into stack iamwarden (eu-west-1), "
        "then deploy the rest:"
    )
    assert "--change-set-type IMPORT" in lines[2]
    assert f"--resources-to-import file://{tmp_path / 'resources-to-import.json'}" in lines[2]
    assert lines[-1] == "make deploy"
