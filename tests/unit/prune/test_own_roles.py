"""The pruner knows IAM Warden's own roles by exact identity, never by name (review s11 F4, issue 15 item 1).

Before: any role named ``iamwarden-*`` at path ``/``, in any account, was "one of IAM Warden's own roles" and never
pruned, so an intruder's dormant admin role called ``iamwarden-backdoor`` survived for ever. Now only the home
stack's roles (exact ARN) and the member stack's (name at ``/`` in a member account) are skipped; any other role
named like them is judged, and its plan says it is a look-alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from iamwarden.domain.own import OwnIdentity
from iamwarden.prune.app.runtime import settings_from_values
from iamwarden.prune.app.service import RoleSummary, look_alike_notes, select_roles
from iamwarden.prune.domain.decide import skip_reason
from iamwarden.prune.domain.model import PolicySource, RoleFacts, RolePolicy
from iamwarden.prune.domain.settings import PruneSettings, parse_prune_settings

NOW = datetime(2026, 12, 5, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
HOME = "111122223333"
MEMBER = "444455556666"
OWN = OwnIdentity(
    home_account=HOME,
    home_roles=MappingProxyType(
        {
            "enforcer": f"arn:aws:iam::{HOME}:role/iamwarden-enforcer-us-east-1",
            "pruner": f"arn:aws:iam::{HOME}:role/iamwarden-pruner-us-east-1",
        }
    ),
    member_roles=MappingProxyType(
        {"remediator": "iamwarden-remediator", "member-forwarder": "iamwarden-member-forwarder-{region}"}
    ),
)
SETTINGS = PruneSettings(own=OWN)
DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _role(account: str, name: str, path: str = "/") -> RoleFacts:
    return RoleFacts(
        f"arn:aws:iam::{account}:role{path}{name}",
        account,
        name,
        path,
        OLD,
        policies=(RolePolicy(PolicySource.INLINE, "main", DOC),),
    )


@pytest.mark.parametrize(
    ("account", "name"),
    [
        (HOME, "iamwarden-enforcer-us-east-1"),
        (HOME, "iamwarden-pruner-us-east-1"),
        (MEMBER, "iamwarden-remediator"),
        (MEMBER, "iamwarden-member-forwarder-eu-west-1"),
        # The member stack in the security account's other regions (review s11 R6): its forwarder is own there too.
        (HOME, "iamwarden-member-forwarder-eu-west-1"),
    ],
)
def test_iam_wardens_own_roles_are_skipped(account: str, name: str) -> None:
    assert skip_reason(_role(account, name), SETTINGS, NOW) == "one of IAM Warden's own roles"


@pytest.mark.parametrize(
    ("account", "name", "path"),
    [
        (MEMBER, "iamwarden-backdoor", "/"),  # the review's probe
        (HOME, "iamwarden-backdoor", "/"),
        (MEMBER, "iamwarden-enforcer-us-east-1", "/"),  # a home role's name in another account
        (HOME, "iamwarden-remediator", "/"),  # a member role's name in the home account
        (MEMBER, "iamwarden-remediator", "/dev/"),  # another path
        (MEMBER, "iamwarden-member-forwarder-anything", "/"),  # not a region where the template has {region}
        (HOME, "iamwarden-member-forwarder-anything", "/"),
    ],
)
def test_a_look_alike_is_judged_and_named_in_its_plan(account: str, name: str, path: str) -> None:
    role = _role(account, name, path)

    assert skip_reason(role, SETTINGS, NOW) is None
    notes = look_alike_notes(role, SETTINGS)
    if path == "/":
        assert notes == (
            f"role {name} is named like IAM Warden's roles but is not one of them (a look-alike): it is judged like "
            "any other role",
        )
    else:
        assert notes == ()  # named like none of them at /: not even a look-alike


def test_an_ordinary_role_gets_no_look_alike_note() -> None:
    assert look_alike_notes(_role(MEMBER, "ci-deployer"), SETTINGS) == ()


def test_the_planner_sends_look_alikes_and_never_its_own_roles() -> None:
    summaries = [
        RoleSummary(f"arn:aws:iam::{MEMBER}:role/{name}", name, "/", OLD)
        for name in ("iamwarden-remediator", "iamwarden-backdoor", "ci-deployer")
    ]

    chosen = select_roles(SETTINGS._replace(min_role_age_days=0), {MEMBER: summaries}, {}, NOW)

    assert sorted(arn.rsplit("/", 1)[1] for _, arn in chosen) == ["ci-deployer", "iamwarden-backdoor"]


def test_with_no_identity_known_a_role_named_like_its_own_is_never_pruned() -> None:
    """``iamwarden prune`` run without the stack's environment: the safe side is not to prune such a role."""
    assert skip_reason(_role(MEMBER, "iamwarden-backdoor"), PruneSettings(), NOW) == "one of IAM Warden's own roles"


def test_the_settings_carry_the_identity_from_the_stacks_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMWARDEN_HOME_ACCOUNT", HOME)
    monkeypatch.setenv("IAMWARDEN_OWN_ROLE_ARNS", f"pruner=arn:aws:iam::{HOME}:role/iamwarden-pruner-us-east-1")
    monkeypatch.setenv("IAMWARDEN_MEMBER_ROLE_NAMES", "remediator=iamwarden-remediator")

    settings, problems = settings_from_values({})

    assert problems == []
    assert settings.is_own_role(f"arn:aws:iam::{HOME}:role/iamwarden-pruner-us-east-1", HOME)
    assert not settings.is_own_role(f"arn:aws:iam::{MEMBER}:role/iamwarden-backdoor", MEMBER)
    parsed, _ = parse_prune_settings({}, own=OWN)
    assert parsed.own == OWN
