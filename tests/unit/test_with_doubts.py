"""``with_doubts`` (domain/escalation.py): what a principal's admin grant or escalation path rests on, drawn only from
what the principal held besides the change (review s11 findings 1 and 3)."""

from __future__ import annotations

from typing import Any

from iamwarden.domain.escalation import PolicyRisk, assess_principal, with_doubts
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

ROLE = "arn:aws:iam::111122223333:role/app-backend"
CHANGED = "arn:aws:iam::111122223333:policy/app-deploy"
OWN = "inline app-backend/own"
NEVER = {"StringEquals": {"aws:RequestedRegion": "xx-none-1"}}


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _doubts(
    changed_doc: dict[str, Any], own_doc: dict[str, Any] | None = None, boundary: dict[str, Any] | None = None
) -> tuple[PolicyRisk, PolicyRisk]:
    """The risk of the role holding ``changed_doc`` (the change) and ``own_doc``: doubted without, then with
    ``changed`` named."""
    policies = [NamedPolicy(CHANGED, parse_policy(changed_doc))]
    if own_doc is not None:
        policies.append(NamedPolicy(OWN, parse_policy(own_doc)))
    principal = PrincipalPolicies(ROLE, tuple(policies), parse_policy(boundary) if boundary is not None else None)
    risk = assess_principal(principal, None)
    assert risk.risky
    return with_doubts(principal, risk), with_doubts(principal, risk, changed=(CHANGED,))


def test_a_conditional_deny_the_change_wrote_is_no_doubt() -> None:
    allow = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    noop = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": NEVER}

    unnamed, named = _doubts(_doc(allow, noop))

    assert any("conditional Deny" in fact for fact in unnamed.unknown)  # the parameter is what changes it
    assert not any("conditional Deny" in fact for fact in named.unknown)
    assert all(grant.unknown == () for grant in named.admin)


def test_a_condition_on_the_change_s_own_grant_is_no_doubt() -> None:
    allow = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}

    unnamed, named = _doubts(_doc(allow))

    assert any("whether the condition of statement 0" in fact for fact in unnamed.unknown)
    assert not any("whether the condition" in fact for fact in named.unknown)
    assert all(grant.unknown == () for grant in named.admin)


def test_a_conditional_deny_the_holder_held_besides_is_still_a_doubt() -> None:
    allow = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    guard = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": NEVER}

    _, named = _doubts(_doc(allow), _doc(guard))

    assert any(f"conditional Deny statement 0 of {OWN}" in fact for fact in named.unknown)


def test_a_notaction_boundary_is_no_condition() -> None:
    keys = {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}
    boundary = _doc({"Effect": "Allow", "NotAction": "organizations:*", "Resource": "*"})

    _, named = _doubts(_doc(keys), boundary=boundary)

    assert named.escalations
    assert not any("permissions boundary" in fact for fact in named.unknown)


def test_a_boundary_that_admits_the_action_only_under_a_condition_is_a_doubt() -> None:
    keys = {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}
    boundary = _doc({"Effect": "Allow", "NotAction": "organizations:*", "Resource": "*", "Condition": NEVER})

    _, named = _doubts(_doc(keys), boundary=boundary)

    assert any("condition of the permissions boundary" in fact for fact in named.unknown)
