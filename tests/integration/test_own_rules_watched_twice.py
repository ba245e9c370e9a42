"""Every change to one of the security account's own rules reaches the enforcer by a path that does not pass
through that rule (audit s7 gap 18), through the template's real patterns (moto's EventBridge pattern engine).

``iamwarden-tampered-stack`` routes the changes to the stack's rules on the default bus; re-patterned to match
nothing (``PutRule``), its own change would have had no other route. ``iamwarden-tampered-own-rules`` on the central
bus gets them a second time through the forwarder ``iamwarden-forward-own-events``: so each rule's change has two
routes, and at least one of them does not pass through the rule changed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from iamwarden.domain import declared
from tests.aws_fixtures import enforcer_rules, resolve
from tests.conftest import load_event
from tests.sam_template import translated_template

FORWARDER = "iamwarden-forward-own-events"


def _routes(event: dict[str, Any]) -> list[frozenset[str]]:
    """Each path by which ``event`` (on the security account's default bus) reaches the enforcer: the rules on it."""
    forwarder = resolve(translated_template()["Resources"]["OwnEventsToCentralBus"]["Properties"]["EventPattern"])
    forwarded = EventPattern.load(json.dumps(forwarder)).matches_event(event)  # type: ignore[arg-type]
    paths = []
    for rule in enforcer_rules().values():
        properties = rule["Properties"]
        central = "EventBusName" in properties
        if central and not forwarded:
            continue
        if EventPattern.load(json.dumps(resolve(properties["EventPattern"]))).matches_event(event):  # type: ignore[arg-type]
            paths.append(frozenset({properties["Name"], *([FORWARDER] if central else [])}))
    return paths


def _change(key: str, event_name: str) -> dict[str, Any]:
    """``event_name`` on own rule ``key`` (``bus/name``, bare on the default bus), by someone else."""
    event = copy.deepcopy(load_event("tamper-disable-forwarder.json"))
    bus, _, name = key.rpartition("/")
    event["detail"]["eventName"] = event_name
    parameter = "rule" if event_name in ("RemoveTargets", "PutTargets") else "name"
    event["detail"]["requestParameters"] = {parameter: name, **({"eventBusName": bus} if bus else {})}
    return event


@pytest.mark.parametrize("event_name", ["PutRule", "DisableRule", "RemoveTargets"])
@pytest.mark.parametrize("key", sorted(declared.OWN_RULES))
def test_each_own_rules_change_has_two_routes_and_one_that_does_not_pass_through_it(key: str, event_name: str) -> None:
    name = key.rpartition("/")[2]

    paths = _routes(_change(key, event_name))

    assert len(paths) >= 2, f"{event_name} on {key}: {paths}"
    assert any(name not in path for path in paths), f"{event_name} on {key}: every route passes through it"


def test_the_tampering_rules_themselves_are_watched_by_each_other() -> None:
    stack = _routes(_change("iamwarden-tampered-stack", "PutRule"))
    own = _routes(_change("iamwarden-central/iamwarden-tampered-own-rules", "PutRule"))

    assert frozenset({FORWARDER, "iamwarden-tampered-own-rules"}) in stack
    assert frozenset({"iamwarden-tampered-stack"}) in own


def test_another_accounts_rule_of_an_own_name_is_not_routed_a_second_time() -> None:
    """The second route is the security account's own rules only: a member account's changes come through its own
    guard rules (``iamwarden-tampered-member-rules``)."""
    event = _change("iamwarden-tampered-stack", "PutRule")
    event["account"] = "444455556666"

    assert frozenset({FORWARDER, "iamwarden-tampered-own-rules"}) not in _routes(event)
