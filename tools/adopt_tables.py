"""Adopt the tables a removed IAM Warden stack left behind into a new stack, so a redeploy keeps the trail.

``sam delete`` keeps the audit table and the pruner's state table
(``DeletionPolicy: Retain``): the record of what IAM Warden did, and the
before-state every applied prune plan needs for a rollback, outlive the stack.
Their names are fixed, so a plain redeploy would fail on "already exists".
CloudFormation's resource import adopts them instead: this script writes the
import template (exactly the retained tables of template.yaml, unchanged) and
the list of resources to import, and prints the commands; ``make deploy``
then adds everything else to the adopted stack.

    .venv/bin/python tools/adopt_tables.py [--stack-name iamwarden] [--region us-east-1]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".aws-sam" / "adopt"
CHANGE_SET = "adopt-retained-tables"


def retained_tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The DynamoDB tables a stack removal keeps, by logical id, as template.yaml declares them."""
    return {
        logical: resource
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table" and resource.get("DeletionPolicy") == "Retain"
    }


def import_template(template: dict[str, Any]) -> dict[str, Any]:
    """A template of only the retained tables, unchanged: what CloudFormation's IMPORT change set needs."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "IAM Warden: adopt the tables a removed stack kept (then make deploy adds the rest)",
        "Resources": retained_tables(template),
    }


def resources_to_import(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "ResourceType": "AWS::DynamoDB::Table",
            "LogicalResourceId": logical,
            "ResourceIdentifier": {"TableName": resource["Properties"]["TableName"]},
        }
        for logical, resource in retained_tables(template).items()
    ]


def commands(stack: str, region: str, template_file: Path, resources_file: Path) -> list[str]:
    base = f"aws cloudformation --region {shlex.quote(region)}"
    return [
        f"{base} create-change-set --stack-name {shlex.quote(stack)} --change-set-name {CHANGE_SET} "
        f"--change-set-type IMPORT --template-body file://{template_file} "
        f"--resources-to-import file://{resources_file}",
        f"{base} wait change-set-create-complete --stack-name {shlex.quote(stack)} --change-set-name {CHANGE_SET}",
        f"{base} execute-change-set --stack-name {shlex.quote(stack)} --change-set-name {CHANGE_SET}",
        f"{base} wait stack-import-complete --stack-name {shlex.quote(stack)}",
        "make deploy",
    ]


def main(argv: list[str] | None = None) -> int:
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415 - the SAM CLI's own YAML reader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default="iamwarden", help="the stack to create by import (default iamwarden)")
    parser.add_argument("--region", default="us-east-1", help="the stack's region (default us-east-1)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write the files (default {OUT})")
    args = parser.parse_args(argv)
    template: dict[str, Any] = yaml_parse((ROOT / "template.yaml").read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    template_file = args.out / "import-template.json"
    resources_file = args.out / "resources-to-import.json"
    template_file.write_text(json.dumps(import_template(template), indent=2) + "\n")
    resources_file.write_text(json.dumps(resources_to_import(template), indent=2) + "\n")
    names = ", ".join(item["ResourceIdentifier"]["TableName"] for item in resources_to_import(template))
    sys.stdout.write(f"Adopt {names} into stack {args.stack_name} ({args.region}), then deploy the rest:\n\n")
    sys.stdout.write("\n".join(commands(args.stack_name, args.region, template_file, resources_file)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
