"""The least-privilege checker (tests/least_privilege.py) fails when it should: the proof of the pruner's and
the heartbeat's roles (tests/functional/test_prune_permissions.py) is only as good as this."""

from __future__ import annotations

from typing import Any

from tests.least_privilege import Call, Grant, check, grants_of

ROLE = "arn:aws:iam::111122223333:role/app"
TABLE = "arn:aws:dynamodb:us-east-1:111122223333:table/iamwarden-prune-state"


def _policies() -> dict[str, list[dict[str, Any]]]:
    return {
        "runtime": [
            {"Sid": "State", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": TABLE},
            {
                "Sid": "Prune",
                "Effect": "Allow",
                "Action": "iam:PutRolePolicy",
                "Resource": "arn:aws:iam::111122223333:role/*",
            },
            {
                "Sid": "Never",
                "Effect": "Deny",
                "Action": "iam:PutRolePolicy",
                "Resource": "arn:aws:iam::111122223333:role/iamwarden-*",
            },
            {
                "Sid": "Members",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": "arn:aws:iam::*:role/iamwarden-pruner-member",
                "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-a1b2c3d4e5"}},
            },
        ]
    }


CALLS = [
    Call("dynamodb:GetItem", TABLE),
    Call("dynamodb:PutItem", TABLE),
    Call("iam:PutRolePolicy", ROLE),
    Call(
        "sts:AssumeRole",
        "arn:aws:iam::444455556666:role/iamwarden-pruner-member",
        {"aws:ResourceOrgID": "o-a1b2c3d4e5"},
    ),
]


def test_calls_that_use_every_grant_hold() -> None:
    report = check(CALLS, _policies(), {})
    assert report.holds, str(report)


def test_a_removed_grant_fails_the_call_that_needed_it() -> None:
    policies = _policies()
    policies["runtime"][0]["Action"] = ["dynamodb:GetItem"]  # PutItem taken away

    report = check(CALLS, policies, {})

    assert not report.holds
    assert [str(call) for call in report.denied] == [f"dynamodb:PutItem on {TABLE}"]


def test_a_call_without_a_grant_fails() -> None:
    report = check([*CALLS, Call("iam:DeleteRolePolicy", ROLE)], _policies(), {})
    assert [call.action for call in report.denied] == ["iam:DeleteRolePolicy"]


def test_a_deny_wins_over_the_allow() -> None:
    report = check(
        [*CALLS, Call("iam:PutRolePolicy", "arn:aws:iam::111122223333:role/iamwarden-enforcer")], _policies(), {}
    )
    assert [call.resource for call in report.denied] == ["arn:aws:iam::111122223333:role/iamwarden-enforcer"]


def test_a_condition_the_call_does_not_meet_denies_it() -> None:
    outside = Call(
        "sts:AssumeRole",
        "arn:aws:iam::999988887777:role/iamwarden-pruner-member",
        {"aws:ResourceOrgID": "o-zzzzzzzzzz"},
    )
    assert check([*CALLS, outside], _policies(), {}).denied == (outside,)


def test_a_grant_no_call_uses_fails_unless_listed_with_why() -> None:
    unused = Grant("runtime", "State", "dynamodb:PutItem", TABLE)
    calls = [call for call in CALLS if call.action != "dynamodb:PutItem"]

    assert check(calls, _policies(), {}).unused == (unused,)
    assert check(calls, _policies(), {unused: "only the rollback step writes it"}).holds


def test_a_listed_grant_that_is_used_or_no_longer_granted_is_stale() -> None:
    used = Grant("runtime", "State", "dynamodb:GetItem", TABLE)
    gone = Grant("runtime", "State", "dynamodb:Query", TABLE)

    report = check(CALLS, _policies(), {used: "why", gone: "why"})

    assert set(report.stale) == {used, gone}


def test_grants_are_each_action_on_each_resource_of_the_allow_statements() -> None:
    grants = grants_of(_policies())
    assert len(grants) == 4
    assert all(grant.sid != "Never" for grant in grants)
