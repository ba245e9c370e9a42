"""What ``make demo`` prints: the summary table, the undo lines, and no moto noise in between."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from demo.deploy import unsupported_types, with_conditions_chosen, without_outputs_of_removed
from demo.run import StepResult, _print_step, summary_table
from demo.story import Check, Step


def _result(title: str, outcomes: dict[str, str], undoable: dict[str, str], *, ok: bool = True) -> StepResult:
    step = Step(title, "test", lambda: [], ("CreateUser",), "violation", outcomes, lambda: Check(True, "fine"))
    return StepResult(
        step,
        ["CreateUser"],
        "violation",
        outcomes,
        undoable,
        ["did a thing"] if undoable else [],
        len(outcomes),
        len(outcomes),
        Check(True, "fine"),
        [] if ok else ["diverged"],
    )


def test_the_summary_is_aligned_and_never_truncates_a_cell() -> None:
    results = [
        _result("a short change", {}, {}),
        _result(
            "create IAM user backdoor-admin with an access key, and a title longer than the old 62 columns",
            {"iam-user-created": "remediated", "access-key-created": "alerted", "third": "remediation_failed"},
            {"iam-user-created": "rem-1"},
            ok=False,
        ),
    ]

    header, ruler, *rows = summary_table(results)

    assert "remediated, alerted, remediation_failed" in rows[1]
    assert "and a title longer than the old 62 columns" in rows[1]
    starts = [header.index(name) for name in ("routed", "verdict", "outcome", "Slack+SNS", "ok")]
    for row in rows:  # every column starts where its header does
        cells = [row.index(cell, start) for cell, start in zip(("yes", "violation"), starts, strict=False)]
        assert cells == starts[:2]
        assert row[starts[2] - 2 : starts[2]] == "  "
    assert rows[1][starts[4] :] == "NO"
    assert set(ruler) == {"-"}
    assert len(ruler) == max(len(line) for line in [header, *rows])


def test_undo_is_printed_only_for_findings_that_changed_something() -> None:
    out = io.StringIO()
    result = _result(
        "create IAM user backdoor-admin with an access key",
        {"iam-user-created": "remediated", "access-key-created": "alerted"},
        {"iam-user-created": "rem-c0f03f79812e21ce7063"},
    )

    _print_step(out, 2, result)

    undo = [line for line in out.getvalue().splitlines() if "undo:" in line]
    assert undo == ["    undo:     iamwarden undo rem-c0f03f79812e21ce7063   (iam-user-created)"]


def test_moto_s_unsupported_type_warnings_stay_out_of_the_output(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    template = {"Resources": {"Alarm": {"Type": "AWS::CloudWatch::Alarm"}, "Table": {"Type": "AWS::DynamoDB::Table"}}}

    with caplog.at_level(logging.WARNING):
        unsupported = unsupported_types(template)

    assert unsupported == {"AWS::CloudWatch::Alarm"}
    assert "No Moto CloudFormation support" not in capfd.readouterr().err
    assert not [record for record in caplog.records if "No Moto CloudFormation support" in record.getMessage()]
    other = logging.getLogger("moto")
    with caplog.at_level(logging.WARNING):
        other.warning("something else moto says")
    assert "something else moto says" in caplog.text  # only that one message is filtered, and only during the call


def test_outputs_that_name_a_resource_left_out_are_dropped_and_the_rest_kept() -> None:
    """moto refuses a stack whose output names a missing resource (the Slack endpoint's function URL)."""
    template: dict[str, Any] = {
        "Resources": {"Kept": {}},
        "Outputs": {
            "ByGetAtt": {"Value": {"Fn::GetAtt": ["Gone", "FunctionUrl"]}},
            "ByDottedGetAtt": {"Value": {"Fn::GetAtt": "Gone.Arn"}},
            "ByRef": {"Value": {"Ref": "Gone"}},
            "BySub": {"Value": {"Fn::Sub": "https://${Gone.FunctionUrl}/x"}},
            "Kept": {"Value": {"Fn::GetAtt": ["Kept", "Arn"]}},
            "KeptSub": {"Value": {"Fn::Sub": "${Kept}-${GoneToo}"}},
        },
    }
    kept = without_outputs_of_removed(template, {"Gone"})
    assert set(kept["Outputs"]) == {"Kept", "KeptSub"}
    assert set(template["Outputs"]) == {"ByGetAtt", "ByDottedGetAtt", "ByRef", "BySub", "Kept", "KeptSub"}
    assert without_outputs_of_removed({"Resources": {}}, {"Gone"}) == {"Resources": {}}


def test_a_managed_policys_conditional_statements_are_chosen_as_cloudformation_would() -> None:
    template: dict[str, Any] = {
        "Parameters": {"UserRemediation": {"Default": "quarantine"}},
        "Conditions": {"AllowsUserDeletion": {"Fn::Equals": [{"Ref": "UserRemediation"}, "delete"]}},
    }
    document = {
        "Statement": [
            {"Sid": "Always", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"},
            {"Fn::If": ["AllowsUserDeletion", {"Sid": "Delete", "Action": "iam:DeleteUser"}, {"Ref": "AWS::NoValue"}]},
            {"Fn::If": ["AllowsUserDeletion", {"Sid": "No"}, {"Sid": "Otherwise"}]},
        ]
    }
    chosen = with_conditions_chosen(template, document)
    assert [statement["Sid"] for statement in chosen["Statement"]] == ["Always", "Otherwise"]
    template["Parameters"]["UserRemediation"]["Default"] = "delete"
    chosen = with_conditions_chosen(template, document)
    assert [statement["Sid"] for statement in chosen["Statement"]] == ["Always", "Delete", "No"]
