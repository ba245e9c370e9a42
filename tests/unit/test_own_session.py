"""Which sessions are IAM Warden's own (``OwnIdentity.own_session``): the exact session, never the role alone.

The routing patterns leave out exactly these sessions (``tools/generate.py own_sessions_excluded``); any other
session of an own role (a function given the role, anyone a widened trust lets assume it) reaches the code, and
the code must judge it too.
"""

from __future__ import annotations

import pytest

from iamwarden.domain.own import MEMBER_SESSION, MEMBER_SESSIONS, SNAPSHOT_SESSION
from tests.conftest import SAMPLE_HOME_ACCOUNT, SAMPLE_OWN

MEMBER = "444455556666"
ENFORCER = f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-enforcer-us-east-1"
PRUNER = f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-pruner-us-east-1"
REMEDIATOR = f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
PRUNER_MEMBER = f"arn:aws:iam::{MEMBER}:role/iamwarden-pruner-member"
SNAPSHOT_READER = f"arn:aws:iam::{MEMBER}:role/iamwarden-snapshot-reader"
ROLE_ID = "AROAREMEDIATOR000001"


def _known(arn: str) -> str | None:
    """The heartbeat's snapshot: every member role's RoleId read as ROLE_ID."""
    return ROLE_ID


def _never_read(arn: str) -> str | None:
    return None


@pytest.mark.parametrize(
    ("issuer", "session", "kind"),
    [
        (ENFORCER, "iamwarden-enforcer", "enforcer"),
        (PRUNER, "iamwarden-prune-worker", "pruner"),
        (PRUNER, "iamwarden-prune-planner", "pruner"),
        (PRUNER, "iamwarden-prune-watch", "pruner"),
    ],
)
def test_a_home_roles_session_named_after_its_own_function_is_own(issuer: str, session: str, kind: str) -> None:
    own = SAMPLE_OWN.own_session(issuer, f"AROAENFORCER00000001:{session}", SAMPLE_HOME_ACCOUNT, _never_read)
    assert own == kind


@pytest.mark.parametrize(
    ("issuer", "session"),
    [
        (ENFORCER, "attacker"),
        (ENFORCER, "iamwarden"),  # the member sessions' name, not a function's
        (ENFORCER, "iamwarden-prune-worker"),  # an own function, but not one that runs as this role
        (PRUNER, "iamwarden-enforcer"),
        (ENFORCER, ""),
    ],
)
def test_any_other_session_of_a_home_role_is_judged(issuer: str, session: str) -> None:
    principal = f"AROAENFORCER00000001:{session}" if session else "AROAENFORCER00000001"
    assert SAMPLE_OWN.own_session(issuer, principal, SAMPLE_HOME_ACCOUNT, _never_read) is None


@pytest.mark.parametrize(
    ("issuer", "session", "kind"),
    [
        (REMEDIATOR, MEMBER_SESSION, "remediator"),
        (PRUNER_MEMBER, MEMBER_SESSION, "pruner-member"),
        (SNAPSHOT_READER, SNAPSHOT_SESSION, "snapshot-reader"),
    ],
)
def test_a_member_roles_session_under_the_name_iam_warden_gives_it_is_own(issuer: str, session: str, kind: str) -> None:
    assert MEMBER_SESSIONS[kind] == session
    assert SAMPLE_OWN.own_session(issuer, f"{ROLE_ID}:{session}", MEMBER, _known) == kind


@pytest.mark.parametrize(
    ("issuer", "session"),
    [
        (REMEDIATOR, "attacker"),
        (REMEDIATOR, "iamwarden-enforcer"),
        (REMEDIATOR, SNAPSHOT_SESSION),  # the heartbeat's name, on a role the heartbeat never assumes
        (SNAPSHOT_READER, MEMBER_SESSION),
        (PRUNER_MEMBER, "iamwarden-prune-worker"),
    ],
)
def test_any_other_session_of_a_member_role_is_judged_even_with_its_role_id_known(issuer: str, session: str) -> None:
    assert SAMPLE_OWN.own_session(issuer, f"{ROLE_ID}:{session}", MEMBER, _known) is None


def test_a_member_roles_session_is_judged_without_a_snapshot_of_its_role_id() -> None:
    assert SAMPLE_OWN.own_session(REMEDIATOR, f"{ROLE_ID}:{MEMBER_SESSION}", MEMBER, _never_read) is None


def test_a_member_role_of_another_role_id_is_judged_under_the_right_session_name() -> None:
    principal = f"AROARECREATEDROLE001:{MEMBER_SESSION}"
    assert SAMPLE_OWN.own_session(REMEDIATOR, principal, MEMBER, _known) is None


def test_a_member_stack_role_that_no_function_assumes_has_no_own_session() -> None:
    """The member forwarder's role is used by EventBridge, never by IAM Warden's code: no session of it is own."""
    forwarder = f"arn:aws:iam::{MEMBER}:role/iamwarden-member-forwarder-us-east-1"
    assert "member-forwarder" not in MEMBER_SESSIONS
    assert SAMPLE_OWN.own_session(forwarder, f"{ROLE_ID}:{MEMBER_SESSION}", MEMBER, _known) is None
