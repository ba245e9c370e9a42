"""The escalation catalogue: data with provenance, validated on load, each method found from its actions."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from iamwarden.domain.escalation import assess
from iamwarden.domain.escalation_methods import DATA, REACHES, CatalogueError, catalogue, load_catalogue
from iamwarden.domain.policy import parse_policy

RAW: dict[str, Any] = json.loads(DATA.read_text())


def _with(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(RAW)
    change(data)
    return data


def _load(tmp_path: Path, data: object) -> None:
    path = tmp_path / "methods.json"
    path.write_text(json.dumps(data))
    load_catalogue(path)


def test_the_shipped_catalogue_covers_the_public_sources() -> None:
    shipped = catalogue()
    assert set(shipped.sources) == {"cloudsplaining", "pathfinding.cloud", "pmapper", "iamwarden"}
    for source in shipped.sources.values():
        assert source.repo
        assert source.date
    assert shipped.sources["cloudsplaining"].commit
    assert shipped.sources["pmapper"].commit
    assert len(shipped.methods) >= 70
    cited = {p.source for method in shipped.methods for p in method.sources}
    assert cited == set(shipped.sources)
    assert {method.reach for method in shipped.methods} == REACHES


def test_every_cloudsplaining_method_is_in_the_catalogue() -> None:
    cited = {p.ref for method in catalogue().methods for p in method.sources if p.source == "cloudsplaining"}
    assert len(cited) == 59  # cloudsplaining 0.9.1: every one of its PRIVILEGE_ESCALATION_METHODS


@pytest.mark.parametrize(
    "actions",
    [
        ["ssm:SendCommand"],
        ["ssm:StartSession"],
        ["iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"],
        ["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"],
        ["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:CreateService"],
        ["iam:PassRole", "sagemaker:CreateNotebookInstance"],
        ["iam:PassRole", "sagemaker:CreateTrainingJob"],
        ["iam:PassRole", "sagemaker:CreateProcessingJob"],
        ["iam:PassRole", "glue:CreateJob", "glue:StartJobRun"],
        ["iam:PassRole", "glue:CreateDevEndpoint"],
        ["iam:PassRole", "cloudformation:CreateStack"],
        ["iam:PassRole", "cloudformation:UpdateStack"],
        ["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"],
        ["iam:PassRole", "cloudformation:CreateStackSet", "cloudformation:CreateStackInstances"],
        ["ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"],
        ["ec2-instance-connect:SendSSHPublicKey", "ec2:DescribeInstances"],
        ["lambda:UpdateFunctionCode"],
        ["iam:PassRole", "datapipeline:CreatePipeline"],
        ["iam:PassRole", "ec2:RequestSpotInstances"],
        ["iam:PassRole", "autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"],
        ["iam:PassRole", "lambda:CreateFunction", "lambda:AddPermission"],
        ["autoscaling:CreateAutoScalingGroup"],  # PMapper: an existing launch configuration's role
    ],
)
def test_the_pmapper_and_pathfinding_families_are_found(actions: list[str]) -> None:
    policy = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    )
    exact = {m.name for m in catalogue().methods if {a.lower() for a in m.actions} == {a.lower() for a in actions}}
    assert exact, f"no method needs exactly {actions}"
    assert exact <= {path.method.name for path in assess(policy).escalations}


#: Methods that remove a restraint need one to remove (tests/unit/test_escalation_restraints.py): a document alone
#: says nothing of the holder's Deny statements or boundary. A role's writes of a user who assumes it need that
#: role and user (tests/unit/test_escalation_assumer.py): a document alone holds the self method instead.
_ON_THEIR_OWN = [method for method in catalogue().methods if method.reach not in ("lifts-restraint", "writes-assumer")]


@pytest.mark.parametrize("method", _ON_THEIR_OWN, ids=lambda method: method.name)
def test_each_method_is_found_from_its_actions_and_not_without_one(method: Any) -> None:
    def found(actions: list[str]) -> bool:
        statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
        names = {path.method.name for path in assess(parse_policy({"Statement": [statement]})).escalations}
        return method.name in names

    actions = list(method.actions)
    assert found(actions)
    for missing in actions:
        assert not found([a for a in actions if a != missing]), missing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format=2), "format 1"),
        (lambda d: d.update(sources={}), "no sources"),
        (lambda d: d["sources"]["pmapper"].update(repo=""), "where it comes from"),
        (lambda d: d["sources"]["pmapper"].pop("commit"), "as strings"),
        (lambda d: d.update(methods=[]), "no methods"),
        (lambda d: d["methods"][0].update(name="Not A Name"), "needs a name"),
        (lambda d: d["methods"][0].update(description=""), "needs a description"),
        (lambda d: d["methods"][0].update(actions={}), "needs its actions"),
        (lambda d: d["methods"][0].update(actions={"iam:Create*": ""}), "not an exact action"),
        (lambda d: d["methods"][0].update(actions={"iamCreateAccessKey": ""}), "not an exact action"),
        (lambda d: d["methods"][0].update(actions={"iam:CreateAccessKey": "user/"}), "resource kind"),
        (lambda d: d["methods"][0].update(reach="somewhere"), "reach"),
        (lambda d: d["methods"][0].update(target="iam:PassRole"), "target"),
        (lambda d: d["methods"][0].update(same_resource=["s3:GetObject"]), "same_resource"),
        (lambda d: d["methods"][0].update(sources=[]), "cite its sources"),
        (lambda d: d["methods"][0].update(sources=[{"source": "elsewhere", "ref": "x"}]), "not one of"),
        (lambda d: d["methods"][0].update(link="http://insecure"), "https"),
        (lambda d: d["methods"].append(copy.deepcopy(d["methods"][0])), "appears twice"),
        (lambda d: d["methods"].append("CreateAccessKey"), "must be an object"),
    ],
)
def test_a_malformed_entry_fails_the_load(tmp_path: Path, change: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        _load(tmp_path, _with(change))


def test_an_unreadable_catalogue_fails_the_load(tmp_path: Path) -> None:
    path = tmp_path / "methods.json"
    path.write_text("{not json")
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(path)
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.json")


def test_the_refresh_script_reproduces_the_shipped_file(tmp_path: Path) -> None:
    """Regenerating from the recorded upstream methods (a minimal constants.py) keeps provenance and shape."""
    from tools.refresh_escalation_methods import main

    constants = tmp_path / "constants.py"
    constants.write_text(
        "PRIVILEGE_ESCALATION_METHODS = {\n"
        "    # 1. IAM Permissions on Other Users\n"
        '    "CreateAccessKey": ["iam:createaccesskey"],\n'
        "    # 4. iam:PassRole:*\n"
        '    "CreateEC2WithExistingIP": ["iam:passrole", "ec2:runinstances"],\n'
        "}\n"
        "PRIVILEGE_ESCALATION_GLOSSARY_URL = 'x'\n"
        "PRIVILEGE_ESCALATION_PATHFINDING_PATHS = {\n"
        '    "CreateAccessKey": "https://pathfinding.cloud/paths/iam-002",\n'
        '    "CreateEC2WithExistingIP": "https://pathfinding.cloud/paths/ec2-001",\n'
        "}\n"
    )
    output = tmp_path / "out.json"
    argv = ["--cloudsplaining", str(constants), "--cloudsplaining-commit", "abc", "--cloudsplaining-date", "2026-05-29"]
    assert main([*argv, "--output", str(output)]) == 0
    regenerated = load_catalogue(output)
    names = [method.name for method in regenerated.methods]
    assert names[:2] == ["CreateAccessKey", "CreateEC2WithExistingIP"]
    [ec2] = [m for m in regenerated.methods if m.name == "CreateEC2WithExistingIP"]
    assert ec2.reach == "passes-role"
    assert ec2.actions == {"iam:PassRole": "iam:role/", "ec2:RunInstances": ""}
    assert {p.source for p in ec2.sources} == {"cloudsplaining", "pathfinding.cloud", "pmapper"}
    assert regenerated.sources["cloudsplaining"].commit == "abc"


def test_importing_the_judgement_does_not_read_the_catalogue() -> None:
    """The enforcer's cold import is benchmarked: the file is read on the first judgement, not at import."""
    import subprocess
    import sys

    code = (
        "import iamwarden.guardrails.registry\n"
        "from iamwarden.domain.escalation_methods import catalogue\n"
        "print(catalogue.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
