"""Issue 14 item 5: what a proportional remediation takes out of an identity policy, and what it keeps."""

from __future__ import annotations

from typing import Any

from iamwarden.domain.canonical import canonical
from iamwarden.domain.escalation import assess
from iamwarden.domain.policy import parse_policy
from iamwarden.guardrails.identity_policy import proportional_cut
from iamwarden.guardrails.remediation import without_offending

READ = {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
ADMIN = {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}


def _cut(*statements: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return proportional_cut(document, assess(parse_policy(document)))


def test_an_admin_statement_goes_whole_and_the_rest_stays() -> None:
    cuts, remaining = _cut(READ, ADMIN)

    assert cuts == [{"index": 1, "sid": "Admin", "statement": ADMIN}]
    assert remaining == {"Version": "2012-10-17", "Statement": [READ]}


def test_only_the_admin_entries_of_an_action_list_go() -> None:
    mixed = {"Effect": "Allow", "Action": ["s3:GetObject", "iam:*", "ec2:Describe*"], "Resource": "*"}

    cuts, remaining = _cut(mixed)

    assert [cut.get("actions") for cut in cuts] == [["iam:*"]]
    assert remaining == {"Version": "2012-10-17", "Statement": [{**mixed, "Action": ["s3:GetObject", "ec2:Describe*"]}]}


def test_notaction_goes_whole() -> None:
    spare = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}

    cuts, remaining = _cut(READ, spare)

    assert "actions" not in cuts[0]
    assert remaining == {"Version": "2012-10-17", "Statement": [READ]}


def test_an_escalation_loses_the_method_s_first_action_only() -> None:
    deploy = {"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]}
    deploy["Resource"] = "*"

    cuts, remaining = _cut(deploy)

    assert [cut["actions"] for cut in cuts] == [["iam:PassRole"]]
    assert remaining is not None
    assert remaining["Statement"] == [{**deploy, "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"]}]
    assert not assess(parse_policy(remaining)).risky


def test_nothing_legitimate_left_means_delete() -> None:
    assert _cut(ADMIN)[1] is None


def test_a_cut_that_leaves_a_risk_falls_back_to_whole_statements() -> None:
    """``iam:CreateAccessKey`` via a wildcard entry: the entry ``iam:Create*`` is the one that goes, and the
    result is judged again; nothing risky may remain whichever way the cut is made."""
    keys = {"Effect": "Allow", "Action": ["iam:Create*", "s3:GetObject"], "Resource": "*"}

    cuts, remaining = _cut(keys, READ)

    assert remaining is not None
    assert not assess(parse_policy(remaining)).risky
    assert READ in remaining["Statement"]
    assert cuts


def test_without_offending_matches_by_content_not_position_and_keeps_the_rest_untouched() -> None:
    statements = [READ, {**ADMIN, "Action": ["*"]}]
    reference = {"index": 7, "sid": "Admin", "statement": ADMIN}  # the position is stale; the content matches

    assert without_offending(statements, [reference]) == [READ]


def test_without_offending_drops_a_statement_left_with_no_action_and_whole_wins_over_partial() -> None:
    both = {"Effect": "Allow", "Action": ["iam:*", "s3:*"], "Resource": "*"}
    partial = {"index": 0, "sid": None, "statement": both, "actions": ["IAM:*"]}

    assert without_offending([both], [partial]) == [{**both, "Action": "s3:*"}]
    assert without_offending([both], [partial, {**partial, "actions": ["s3:*"]}]) == []
    assert without_offending([both], [partial, {"index": 0, "sid": None, "statement": both}]) == []
    assert canonical(without_offending([READ], [partial])) == canonical([READ])


def test_a_risk_that_names_nothing_of_the_document_deletes_it_whole() -> None:
    """A risk judged on the principal's whole power may rest on other policies' statements only."""
    other = {"Version": "2012-10-17", "Statement": [ADMIN]}
    document = {"Version": "2012-10-17", "Statement": [READ]}

    cuts, remaining = proportional_cut(document, assess(parse_policy(other)))

    assert (cuts, remaining) == ([{"index": 0, "sid": "Read", "statement": READ}], None)


# --- issue 13 item 7: the cut judged with the principal's other policies -------------------------------

PASS_AND_RUN = {"Sid": "Both", "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}


def test_the_cut_prefers_an_action_only_this_document_grants() -> None:
    """With ``source``, a path's grant named only by this document is cut before one an older policy holds too."""
    document = {"Version": "2012-10-17", "Statement": [PASS_AND_RUN, READ]}
    policy = parse_policy(document)
    [path] = [p for p in assess(policy).escalations if p.method.name == "CreateEC2WithExistingIP"]
    older = tuple(
        grant._replace(granted_by=(*grant.granted_by, "statement 0 (Pass) of inline app/old"))
        if grant.action == "iam:PassRole"
        else grant
        for grant in path.grants
    )
    risk = assess(policy)._replace(escalations=(path._replace(grants=older),))

    cuts, remaining = proportional_cut(document, risk, opens=lambda rest: False)

    assert [cut["actions"] for cut in cuts] == [["ec2:RunInstances"]]
    assert remaining is not None
    assert remaining["Statement"] == [{**PASS_AND_RUN, "Action": "iam:PassRole"}, READ]


def test_without_an_older_grant_the_method_s_first_action_is_cut_as_before() -> None:
    document = {"Version": "2012-10-17", "Statement": [PASS_AND_RUN, READ]}

    cuts, _ = proportional_cut(document, assess(parse_policy(document)), opens=lambda rest: False)

    assert [cut["actions"] for cut in cuts] == [["iam:PassRole"]]


def test_when_no_cut_closes_what_the_change_opened_the_whole_document_goes() -> None:
    """``opens`` says the principal still has the path with any part of the document left: delete the policy."""
    document = {"Version": "2012-10-17", "Statement": [PASS_AND_RUN, READ]}
    seen: list[int] = []

    def still_open(rest: Any) -> bool:
        seen.append(len(rest.statements))
        return True

    cuts, remaining = proportional_cut(document, assess(parse_policy(document)), opens=still_open)

    assert remaining is None
    assert [cut["index"] for cut in cuts] == [0, 1]
    assert seen == [2, 1]  # the fine cut, then the whole statement, each judged before giving up
