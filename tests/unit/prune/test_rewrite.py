"""Rewrites keep every part of a policy's meaning except exactly what the rule removes."""

from __future__ import annotations

import json
from typing import Any

from iamwarden.domain.policy import parse_policy
from iamwarden.prune.domain.catalogue import PolicySentryCatalogue, StaticCatalogue
from iamwarden.prune.domain.decide import RemovalRule
from iamwarden.prune.domain.rewrite import rewrite_policy

CATALOGUE = StaticCatalogue(
    {
        "s3": ["GetObject", "GetBucketPolicy", "GetBucketTagging", "PutObject", "DeleteObject", "CreateBucket"],
        "ec2": ["DescribeInstances", "RunInstances", "TerminateInstances"],
        "sts": ["AssumeRole", "GetCallerIdentity", "TagSession"],
        "iam": ["PassRole", "GetRole", "CreateUser"],
        "dynamodb": ["GetItem", "PutItem"],
    }
)
KEEP = ("iam:PassRole", "sts:AssumeRole")


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def granted(document: dict[str, Any] | None, action: str) -> bool:
    """Whether some Allow statement grants ``action`` and no Deny takes it away (resources ignored)."""
    return bool(scopes(document, action))


def scopes(document: dict[str, Any] | None, action: str) -> set[str]:
    """The (Resource, Condition) scopes in which ``action`` is allowed and not denied (a Deny takes away its own
    scope, a Deny on every resource without a condition takes away all)."""
    if document is None:
        return set()
    policy = parse_policy(document)

    def scope(statement: Any) -> str:
        return json.dumps([statement.raw.get("Resource"), statement.raw.get("Condition")], sort_keys=True)

    denied = {scope(s) for s in policy.statements if not s.allows and s.grants_action(action)}
    if json.dumps(["*", None]) in denied:
        return set()
    return {scope(s) for s in policy.statements if s.allows and s.grants_action(action)} - denied


def every_action() -> list[str]:
    return [a for service in ("s3", "ec2", "sts", "iam", "dynamodb") for a in CATALOGUE.actions(service) or ()]


def test_a_complex_role_keeps_all_of_its_meaning_except_the_unused_part() -> None:
    condition = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    before = doc(
        {"Sid": "Storage", "Effect": "Allow", "Action": ["s3:Get*", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Condition": condition},
        {"Effect": "Allow", "NotAction": ["iam:*", "s3:*", "dynamodb:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:dynamodb:*:*:table/t"},
    )
    rule = RemovalRule(frozenset({"ec2"}), frozenset({"s3:getbuckettagging"}), KEEP)
    result = rewrite_policy(before, rule, CATALOGUE)
    after = result.document
    assert after is not None
    untouchable = json.dumps(["arn:aws:dynamodb:*:*:table/t", None])  # the `*` statement is never narrowed
    for action in every_action():
        expected = scopes(before, action)
        if rule.removes(action):
            expected &= {untouchable}
        assert scopes(after, action) == expected, action
    statements = after["Statement"]
    # Resource, Condition, Deny and the untouched wildcard statement are copied unchanged.
    assert statements[0]["Resource"] == "arn:aws:s3:::b/*"
    assert statements[0]["Action"] == ["s3:Get*", "s3:PutObject"]  # the wildcard stays (review s11 F12) ...
    assert statements[1] == {  # ... and a Deny over the same resources takes exactly the unused action
        "Sid": "IamWardenPruned0",
        "Effect": "Deny",
        "Action": ["s3:GetBucketTagging"],
        "Resource": "arn:aws:s3:::b/*",
    }
    assert all(s.get("Condition") != condition for s in statements)  # ec2:* went with its statement
    assert {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"} in statements
    assert statements[2]["NotAction"] == ["iam:*", "s3:*", "dynamodb:*", "ec2:*"]
    assert statements[-1] == before["Statement"][4]
    assert any("wildcard across services" in note for note in result.notes)


def test_a_whole_service_wildcard_goes_without_expansion_and_the_statement_with_it() -> None:
    before = doc(
        {"Effect": "Allow", "Action": ["ec2:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    )
    result = rewrite_policy(before, RemovalRule(frozenset({"ec2"}), frozenset()), CATALOGUE)
    assert result.document == doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    assert result.edits[0].dropped
    assert result.removed == ("ec2:*",)


def test_an_emptied_policy_is_none() -> None:
    before = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}}
    assert rewrite_policy(before, RemovalRule(frozenset({"ec2"}), frozenset()), CATALOGUE).document is None


def test_a_single_statement_object_stays_an_object_and_a_single_action_string_stays_a_string() -> None:
    before = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "ec2:RunInstances"], "Resource": "*"},
    }
    after = rewrite_policy(before, RemovalRule(frozenset({"ec2"}), frozenset()), CATALOGUE).document
    assert after == {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
    }
    single = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}}
    narrowed = rewrite_policy(
        single, RemovalRule(frozenset(), frozenset({"s3:getbuckettagging", "s3:getbucketpolicy"})), CATALOGUE
    )
    assert narrowed.document is not None
    assert narrowed.document["Statement"] == [
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
        {
            "Sid": "IamWardenPruned0",
            "Effect": "Deny",
            "Action": ["s3:GetBucketPolicy", "s3:GetBucketTagging"],
            "Resource": "*",
        },
    ]


def test_always_keep_survives_its_service_going() -> None:
    before = doc({"Effect": "Allow", "Action": ["sts:*", "iam:*"], "Resource": "*"})
    rule = RemovalRule(frozenset({"sts", "iam"}), frozenset(), KEEP)
    after = rewrite_policy(before, rule, CATALOGUE).document
    assert after == doc({"Effect": "Allow", "Action": ["sts:AssumeRole", "iam:PassRole"], "Resource": "*"})


def test_a_kept_action_named_exactly_is_never_removed() -> None:
    before = doc({"Effect": "Allow", "Action": ["iam:PassRole", "iam:GetRole"], "Resource": "*"})
    after = rewrite_policy(before, RemovalRule(frozenset({"iam"}), frozenset(), KEEP), CATALOGUE).document
    assert after == doc({"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"})


def test_untouched_services_and_unrelated_wildcards_are_left_alone() -> None:
    before = doc({"Effect": "Allow", "Action": ["s3:Get*", "dynamodb:*"], "Resource": "*"})
    result = rewrite_policy(before, RemovalRule(frozenset({"ec2"}), frozenset()), CATALOGUE)
    assert not result.changed
    assert result.document == before


def test_statements_with_the_exempt_sid_prefix_and_deny_statements_are_never_edited() -> None:
    before = doc(
        {"Sid": "NOPRUNEBreakGlass", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"},
    )
    assert not rewrite_policy(before, RemovalRule(frozenset({"ec2"}), frozenset()), CATALOGUE).changed


def test_recent_grants_are_kept_and_said_so() -> None:
    before = doc({"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:DescribeInstances"], "Resource": "*"})
    result = rewrite_policy(
        before, RemovalRule(frozenset({"ec2"}), frozenset()), CATALOGUE, recent=frozenset({"action:ec2:runinstances"})
    )
    assert result.document == doc({"Effect": "Allow", "Action": ["ec2:RunInstances"], "Resource": "*"})
    assert any("recent_days" in note for note in result.notes)


def test_a_service_the_catalogue_does_not_know_keeps_its_partial_wildcards_when_the_whole_service_goes() -> None:
    before = doc({"Effect": "Allow", "Action": ["newsvc:Get*"], "Resource": "*"})
    rule = RemovalRule(frozenset({"newsvc"}), frozenset(), ("newsvc:GetKept",))
    result = rewrite_policy(before, rule, CATALOGUE)
    assert not result.changed
    assert any("not in the IAM action catalogue" in note for note in result.notes)


def test_an_unused_tracked_action_of_a_service_the_catalogue_does_not_know_is_denied_exactly() -> None:
    before = doc({"Effect": "Allow", "Action": ["newsvc:Get*"], "Resource": "*"})
    result = rewrite_policy(before, RemovalRule(frozenset(), frozenset({"newsvc:getthing"})), CATALOGUE)
    assert not granted(result.document, "newsvc:GetThing")
    assert granted(result.document, "newsvc:GetOther")
    assert result.removed == ("newsvc:getthing (from newsvc:Get*)",)


def test_an_action_the_catalogue_lacks_survives_the_narrowing_of_its_wildcard() -> None:
    """Review s11 F12 (probe p14): s3:* losing s3:CreateBucket must not lose what the pinned catalogue lacks."""
    before = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    result = rewrite_policy(before, RemovalRule(frozenset(), frozenset({"s3:createbucket"})), CATALOGUE)
    assert not granted(result.document, "s3:CreateBucket")
    for action in ("s3:GetObjectFutureFeature", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject"):
        assert granted(result.document, action), action
    assert result.document is not None
    assert result.document["Statement"][0] == before["Statement"][0]


def test_a_deny_sid_already_taken_gets_a_free_one() -> None:
    before = doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "IamWardenPruned0", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
    )
    result = rewrite_policy(before, RemovalRule(frozenset(), frozenset({"s3:createbucket"})), CATALOGUE)
    assert result.document is not None
    assert [s.get("Sid") for s in result.document["Statement"]] == [None, "IamWardenPruned0n2", "IamWardenPruned0"]


def test_not_action_statements_already_excluding_the_service_are_unchanged() -> None:
    before = doc({"Effect": "Allow", "NotAction": "ec2:*", "Resource": "*"})
    assert not rewrite_policy(before, RemovalRule(frozenset({"ec2"}), frozenset()), CATALOGUE).changed


def test_not_action_with_a_kept_action_in_the_removed_service_lists_the_rest() -> None:
    before = doc({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"})
    result = rewrite_policy(before, RemovalRule(frozenset({"sts"}), frozenset({"ec2:runinstances"}), KEEP), CATALOGUE)
    assert result.document is not None
    assert result.document["Statement"][0]["NotAction"] == [
        "s3:*",
        "sts:GetCallerIdentity",
        "sts:TagSession",
        "ec2:RunInstances",
    ]


def test_the_real_catalogue_expands_a_wildcard_of_a_wholly_unused_service_to_what_is_kept() -> None:
    before = doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})
    rule = RemovalRule(frozenset({"iam"}), frozenset(), ("iam:PassRole", "iam:Get*"))
    result = rewrite_policy(before, rule, PolicySentryCatalogue())
    assert result.document is not None
    actions = result.document["Statement"][0]["Action"]
    assert "iam:PassRole" in actions
    assert "iam:GetRole" in actions
    assert "iam:CreateUser" not in actions
    assert all(action == "iam:PassRole" or action.startswith("iam:Get") for action in actions)
