"""AWS-managed attachments judged offline against a peer's own authorization details (issue 13 items 3, 5).

``tests/corpora/authorization-details/cloudsplaining-example-authz-details.json`` is cloudsplaining's test fixture
(its ``_source`` says which commit and path), unfiltered ``get-account-authorization-details`` output whose
``Policies`` list holds the AWS-managed policies in use, as ``iamwarden evaluate --authorization-details`` reads it.
Its role MyRole may pass any role and create and fill instance profiles; role OverprivilegedEC2 trusts EC2, is in an
instance profile and may create access keys for any user (a further escalation).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from iamwarden.app.cli import main
from tests.conftest import load_event

DETAILS = Path(__file__).resolve().parents[1] / "corpora" / "authorization-details"
CLOUDSPLAINING = DETAILS / "cloudsplaining-example-authz-details.json"
ACCOUNT = "012345678901"
_ATTACH = {"role": "AttachRolePolicy", "user": "AttachUserPolicy", "group": "AttachGroupPolicy"}


def _event(kind: str, name: str, policy: str) -> dict[str, Any]:
    """The sample AttachRolePolicy record, moved to the fixture's account and pointed at ``name`` and ``policy``."""
    event = copy.deepcopy(load_event("attach-admin-to-role.json"))
    event["account"] = event["detail"]["recipientAccountId"] = ACCOUNT
    event["detail"]["eventName"] = _ATTACH[kind]
    event["detail"]["requestParameters"] = {f"{kind}Name": name, "policyArn": f"arn:aws:iam::aws:policy/{policy}"}
    return event


def _evaluate(tmp_path: Path, event: dict[str, Any], *, managed: str = "off") -> list[dict[str, Any]]:
    """``iamwarden evaluate --authorization-details`` on one event; managed-policy-attached as ``managed``."""
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"rules": {"managed-policy-attached": {"mode": managed}}}))
    out, err = io.StringIO(), io.StringIO()
    argv = ["evaluate", "--config", str(config), "--authorization-details", str(CLOUDSPLAINING), str(event_file)]
    assert main(argv, out, err) == 0, err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_fixture_cites_its_source_and_holds_aws_managed_policies() -> None:
    data = json.loads(CLOUDSPLAINING.read_text())
    assert data["_source"]["repo"] == "salesforce/cloudsplaining"
    assert len(data["_source"]["commit"]) == 40
    assert any(policy["Arn"].startswith("arn:aws:iam::aws:policy/") for policy in data["Policies"])


def _methods(line: dict[str, Any]) -> set[str]:
    return {str(item["method"]) for item in line["offending"] if "method" in item}


def test_ec2_full_access_on_a_role_that_may_pass_roles_leads_to_the_instance_profiles_role(tmp_path: Path) -> None:
    [line] = _evaluate(tmp_path, _event("role", "MyRole", "AmazonEC2FullAccess"))
    assert (line["rule"], line["severity"]) == ("privilege-escalation", "critical")
    assert "CreateEC2WithExistingIP" in _methods(line)
    assert "That leads to role OverprivilegedEC2, which can escalate further (CreateAccessKey)." in line["reason"]
    assert "iam:PassRole on * (statement 0 (VisualEditor0) of inline MyRole/EC2-IAM-example)" in line["reason"]
    # The details list every attachment before the event: it was not there, so the plan detaches only it.
    assert [step["parameters"]["policy_arn"] for step in line["plan"]] == [
        "arn:aws:iam::aws:policy/AmazonEC2FullAccess"
    ]
    assert line["needs_context"] == []


def test_iam_full_access_on_a_role_is_an_escalation_of_its_own(tmp_path: Path) -> None:
    [line] = _evaluate(tmp_path, _event("role", "MyOtherRole", "IAMFullAccess"))
    assert line["rule"] == "privilege-escalation"
    assert {"CreateAccessKey", "PutRolePolicy", "AttachRolePolicy"} <= _methods(line)


def test_iam_full_access_with_the_name_rule_on_is_one_alert(tmp_path: Path) -> None:
    lines = _evaluate(tmp_path, _event("role", "MyOtherRole", "IAMFullAccess"), managed="alert")
    assert [line["rule"] for line in lines] == ["managed-policy-attached"]


@pytest.mark.parametrize(
    ("kind", "name", "policy"),
    [
        ("role", "MyRole", "AmazonS3ReadOnlyAccess"),  # reads opens nothing
        ("user", "userwithlotsofpermissions", "AmazonEC2FullAccess"),  # an administrator already, by its group
    ],
)
def test_attachments_that_open_nothing_new_are_compliant(tmp_path: Path, kind: str, name: str, policy: str) -> None:
    [line] = _evaluate(tmp_path, _event(kind, name, policy))
    assert line["verdict"] == "compliant"
    assert f"opens no known privilege-escalation method that {kind} {name} did not already have" in line["reason"]


def test_a_policy_the_details_lack_cannot_be_judged_and_says_why(tmp_path: Path) -> None:
    [line] = _evaluate(tmp_path, _event("user", "biden", "AmazonS3FullAccess"))
    assert line["verdict"] == "ignored"
    assert "AWS-managed policies are there only when the file was made without --filter" in line["reason"]
