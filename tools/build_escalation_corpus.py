"""Build the escalation regression corpus (tests/corpora/escalation/*.json) from public peers' test data.

Each case is one principal's policies as a peer published them, and what must be found: the
escalation methods (by IAM Warden's catalogue names), or nothing. Sources:

* BishopFox/iam-vulnerable: the Terraform of every privesc path and of the tool-testing cases
  (false positives fp1-fp5, the split-grant false negative fn1). ``--iam-vulnerable`` is a checkout;
  the policies are read from ``jsonencode({...})`` and ``aws_iam_policy_document`` blocks, the
  principals from the user/role/group attachments;
* DataDog/pathfinding.cloud: every path's required permissions (``--pathfinding`` data/paths).

cloudsplaining's and PMapper's test policies are few and written inline in their unit tests: they
are transcribed by hand into cloudsplaining.json and pmapper.json, each case citing its test.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpora" / "escalation"
ACCOUNT = "123456789012"

#: iam-vulnerable's path files and the method of IAM Warden's catalogue each must be found as.
IAM_VULNERABLE_METHODS = {
    "privesc1-CreateNewPolicyVersion": "CreateNewPolicyVersion",
    "privesc2-SetExistingDefaultPolicyVersion": "SetExistingDefaultPolicyVersion",
    "privesc3-CreateEC2WithExistingIP": "CreateEC2WithExistingIP",
    "privesc4-CreateAccessKey": "CreateAccessKey",
    "privesc5-CreateLoginProfile": "CreateLoginProfile",
    "privesc6-UpdateLoginProfile": "UpdateLoginProfile",
    "privesc7-AttachUserPolicy": "AttachUserPolicy",
    "privesc8-AttachGroupPolicy": "AttachGroupPolicy",
    "privesc9-AttachRolePolicy": "AttachRolePolicy",
    "privesc10-PutUserPolicy": "PutUserPolicy",
    "privesc11-PutGroupPolicy": "PutGroupPolicy",
    "privesc12-PutRolePolicy": "PutRolePolicy",
    "privesc13-AddUserToGroup": "AddUserToGroup",
    "privesc14-UpdatingAssumeRolePolicy": "UpdateRolePolicyToAssumeIt",
    "privesc15-PassExistingRoleToNewLambdaThenInvoke": "PassExistingRoleToNewLambdaThenInvoke",
    # iam-vulnerable's policy grants no dynamodb action: the variant with an existing table is what it opens.
    "privesc16-PassRoleToNewLambdaThenTriggerWithNewDynamo": "PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo",
    "privesc17-EditExistingLambdaFunctionWithRole": "EditExistingLambdaFunctionWithRole",
    "privesc18-PassExistingRoleToNewGlueDevEndpoint": "PassExistingRoleToNewGlueDevEndpoint",
    "privesc19-UpdateExistingGlueDevEndpoint": "UpdateExistingGlueDevEndpoint",
    "privesc20-PassExistingRoleToCloudFormation": "PassExistingRoleToCloudFormation",
    "privesc21-PassExistingRoleToNewDataPipeline": "PassExistingRoleToNewDataPipeline",
    "privesc-cloudFormationUpdateStack": "UpdateExistingCloudFormationStack",
    "privesc-codeBuildCreateProjectPassRole": "PassExistingRoleToNewCodeBuildProjectThenBuild",
    "privesc-ec2InstanceConnect": "EC2InstanceConnectSendSSHPublicKey",
    "privesc-sageMakerCreateNotebookPassRole": "PassExistingRoleToNewSageMakerNotebookInstance",
    "privesc-sageMakerCreatePresignedNotebookURL": "CreatePresignedSageMakerNotebookUrl",
    "privesc-sageMakerCreateProcessingJob": "PassExistingRoleToNewSageMakerProcessingJob",
    "privesc-sageMakerCreateTrainingJob": "PassExistingRoleToNewSageMakerTrainingJob",
    "privesc-ssmSendCommand": "SendCommandToExistingEC2Instance",
    "privesc-ssmStartSession": "StartSessionOnExistingEC2Instance",
    "fn1-privesc3-multiple-policies": "CreateEC2WithExistingIP",
    "fn2-ExploitableResourceConstraint": "CreateNewPolicyVersion",
    "fn3-ExploitableConditionConstraint": "CreateNewPolicyVersion",
    "fn4-ExploitableNotAction": {"user": "PutUserPolicy", "role": "PutRolePolicy"},
}
#: iam-vulnerable attaches each path's policy to a user and a role alike. A role cannot be the user or
#: group it writes permissions to, nor be added to a group, so these methods escalate only the user
#: (PMapper reads them the same way: only a principal changing its own permissions is admin).
USER_ONLY = {"AttachUserPolicy", "AttachGroupPolicy", "PutUserPolicy", "PutGroupPolicy", "AddUserToGroup"}
#: The principals a path escalates to, not from: they must be found admin-equivalent.
TARGETS = {"privesc-sre-role", "privesc-high-priv-service-role", "privesc-AssumeRole-ending-role"}
#: Files whose principals must not be flagged at all (no admin, no escalation).
IAM_VULNERABLE_CLEAN = (
    "fp1-allow-and-deny-same-policy",
    "fp2-allow-and-deny-multiple-policies",
    "fp3-deny",
    "fp4-NonExploitableResourceConstraint",
    "fp5-NonExploitableConditionConstraint",
)
#: What IAM Warden does not model, said where the case is.
IAM_VULNERABLE_GAPS = {
    "privesc-AssumeRole": "sts:AssumeRole chains are decided by the roles' trust policies, which the "
    "trust-policy guardrail judges; the catalogue has no sts:AssumeRole-only method (pathfinding.cloud sts-001)",
    "privesc-permissive-role-trust": "a trust policy trusting the whole account is the trust-policy guardrail's",
}
_ASSUME_ROLE_GAP = IAM_VULNERABLE_GAPS["privesc-AssumeRole"]


# --- a small HCL reader for iam-vulnerable's Terraform -------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(#[^\n]*|//[^\n]*)|("(?:[^"\\]|\\.)*")|([{}\[\](),=:])|([A-Za-z0-9_.\-*]+))')


def _tokens(text: str) -> list[str]:
    found: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                raise ValueError(f"cannot read HCL at {text[position : position + 40]!r}")
            break
        position = match.end()
        comment, string, punct, word = match.groups()
        if comment is None:
            found.append(string or punct or word)
    return found


def _value(tokens: list[str], index: int) -> tuple[Any, int]:
    piece = tokens[index]
    if piece == "{":
        obj: dict[str, Any] = {}
        index += 1
        while tokens[index] != "}":
            key = tokens[index].strip('"')
            if tokens[index + 1] not in ("=", ":"):
                raise ValueError(f"expected = after {key}")
            obj[key], index = _value(tokens, index + 2)
            if tokens[index] == ",":
                index += 1
        return obj, index + 1
    if piece == "[":
        items: list[Any] = []
        index += 1
        while tokens[index] != "]":
            item, index = _value(tokens, index)
            items.append(item)
            if tokens[index] == ",":
                index += 1
        return items, index + 1
    if piece.startswith('"'):
        return json.loads(piece), index + 1
    return piece, index + 1  # a reference such as var.x: kept as text


def _blocks(text: str, kind: str) -> dict[str, str]:
    """The bodies of ``resource "<kind>" "<name>" {...}`` (or ``data``) blocks, by name."""
    bodies: dict[str, str] = {}
    for match in re.finditer(rf'(?:resource|data) "{kind}" "([^"]+)" \{{', text):
        depth, position = 1, match.end()
        while depth:
            char = text[position]
            depth += {"{": 1, "}": -1}.get(char, 0)
            position += 1
        bodies[match.group(1)] = text[match.end() : position - 1]
    return bodies


def _jsonencode(body: str) -> dict[str, Any] | None:
    match = re.search(r"policy\s*=\s*jsonencode\(", body)
    if match is None:
        return None
    tokens = _tokens(body[match.end() :])
    document, _ = _value(tokens, 0)
    return dict(document)


def _policy_document(body: str) -> dict[str, Any]:
    """An ``aws_iam_policy_document`` data block as the JSON policy it renders."""
    statements = []
    for block in re.finditer(r"statement\s*\{", body):
        depth, position = 1, block.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(body[position], 0)
            position += 1
        inner = body[block.end() : position - 1]
        statement: dict[str, Any] = {}
        for key, field in (("actions", "Action"), ("resources", "Resource")):
            if found := re.search(rf"{key}\s*=\s*(\[[^\]]*\])", inner):
                statement[field], _ = _value(_tokens(found.group(1)), 0)
        effect = re.search(r'effect\s*=\s*"(\w+)"', inner)
        statement["Effect"] = effect.group(1) if effect else "Allow"
        for condition in re.finditer(r"condition\s*\{([^}]*)\}", inner):
            fields = dict(re.findall(r'(test|variable)\s*=\s*"([^"]+)"', condition.group(1)))
            values, _ = _value(_tokens(re.search(r"values\s*=\s*(\[[^\]]*\])", condition.group(1)).group(1)), 0)  # type: ignore[union-attr]
            statement.setdefault("Condition", {}).setdefault(fields["test"], {})[fields["variable"]] = values
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def _reference(body: str, field: str) -> str | None:
    match = re.search(rf"{field}\s*=\s*(?:aws_iam_\w+|data\.aws_iam_policy_document)\.([\w\-]+)\.\w+", body)
    return match.group(1) if match else None


def _iam_vulnerable(checkout: Path, commit: str) -> dict[str, Any]:
    files = sorted(
        [
            *checkout.glob("modules/free-resources/privesc-paths/*.tf"),
            *checkout.glob("modules/free-resources/tool-testing/*.tf"),
        ]
    )
    texts = {file: file.read_text() for file in files}
    policies: dict[str, dict[str, Any]] = {}
    for text in texts.values():
        documents = {name: _policy_document(body) for name, body in _blocks(text, "aws_iam_policy_document").items()}
        for name, body in _blocks(text, "aws_iam_policy").items():
            document = _jsonencode(body)
            if document is None and (data := _reference(body, "policy")):
                document = documents[data]
            if document is not None:
                policies[name] = document
    cases: list[dict[str, Any]] = []
    directory: dict[str, dict[str, Any]] = {}
    for file, text in texts.items():
        attached: dict[tuple[str, str], list[str]] = {}
        for kind in ("user", "role"):
            for body in _blocks(text, f"aws_iam_{kind}_policy_attachment").values():
                principal, policy = _reference(body, kind), _reference(body, "policy_arn")
                if principal and policy:
                    attached.setdefault((kind, principal), []).append(policy)
        groups: dict[str, list[str]] = {}
        for body in _blocks(text, "aws_iam_group_membership").values():
            group = _reference(body, "group")
            for user in re.findall(r"aws_iam_user\.([\w\-]+)\.name", body):
                groups.setdefault(user, []).append(group or "")
        stem = file.stem
        for (kind, principal), names in sorted(attached.items()):
            arn = f"arn:aws:iam::{ACCOUNT}:{kind}/{principal}"
            entry = {
                "principal": arn,
                "policies": [
                    {"source": f"arn:aws:iam::{ACCOUNT}:policy/{name}", "document": policies[name]} for name in names
                ]
                + [
                    {"source": f"group {group}: (no policies)", "document": {"Version": "2012-10-17", "Statement": []}}
                    for group in groups.get(principal, [])
                ],
            }
            directory[arn] = entry
            case: dict[str, Any] = {
                "name": f"{stem} ({kind} {principal})",
                "path": str(file.relative_to(checkout)),
                **entry,
            }
            method = IAM_VULNERABLE_METHODS.get(stem)
            if isinstance(method, dict):
                method = method[kind]
            if principal in TARGETS:
                case["expect"] = {"admin": True, "note": "the admin-equivalent principal a path leads to"}
            elif stem in IAM_VULNERABLE_CLEAN:
                case["expect"] = {"risky": False}
            elif method in USER_ONLY and kind == "role":
                case["expect"] = {
                    "risky": False,
                    "differs": f"{method} held by a role: a role cannot be the user or group it writes to",
                }
            elif method:
                case["expect"] = {"methods": [method]}
            else:
                raise SystemExit(f"no expectation for {case['name']}")
            cases.append(case)
    return {
        "source": {"repo": "BishopFox/iam-vulnerable", "commit": commit, "paths": "modules/free-resources/"},
        "directory": "every principal of these files is known to the RoleDirectory",
        "gaps": IAM_VULNERABLE_GAPS,
        "cases": cases,
    }


def _pathfinding(paths_dir: Path, commit: str, date: str) -> dict[str, Any]:
    cases = []
    for file in sorted(paths_dir.rglob("*.yaml")):
        data = yaml.safe_load(file.read_text())
        actions = [item["permission"] for item in data["permissions"]["required"]]
        expect: dict[str, Any] = {"found_from": actions}
        if data["id"] == "sts-001":
            expect = {"gap": _ASSUME_ROLE_GAP}
        cases.append(
            {
                "name": f"{data['id']}: {data['name']}",
                "path": str(file.relative_to(paths_dir.parent.parent)),
                "principal": None,  # pathfinding.cloud describes permissions, not a holder
                "policies": [
                    {
                        "source": f"inline pathfinder/{data['id']}",
                        "document": {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                        },
                    }
                ],
                "expect": expect,
            }
        )
    return {"source": {"repo": "DataDog/pathfinding.cloud", "commit": commit, "date": date}, "cases": cases}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iam-vulnerable", required=True, help="a checkout of BishopFox/iam-vulnerable")
    parser.add_argument("--iam-vulnerable-commit", required=True)
    parser.add_argument("--pathfinding", required=True, help="pathfinding.cloud's data/paths directory")
    parser.add_argument("--pathfinding-commit", required=True)
    parser.add_argument("--pathfinding-date", required=True)
    args = parser.parse_args(argv)
    CORPUS.mkdir(parents=True, exist_ok=True)
    vulnerable = _iam_vulnerable(Path(args.iam_vulnerable), args.iam_vulnerable_commit)
    (CORPUS / "iam-vulnerable.json").write_text(json.dumps(vulnerable, indent=1) + "\n")
    paths = _pathfinding(Path(args.pathfinding), args.pathfinding_commit, args.pathfinding_date)
    (CORPUS / "pathfinding-cloud.json").write_text(json.dumps(paths, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
