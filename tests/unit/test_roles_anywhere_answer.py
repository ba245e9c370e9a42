"""roles-anywhere-trust-anchor names the resource from the answer only when the answer holds an ARN string."""

from __future__ import annotations

import copy

from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import SAMPLE_OWN, load_event


def test_a_profile_arn_that_is_no_string_falls_back_to_the_profile_id() -> None:
    """Found by test_properties' mutated samples: a dict in ``profileArn`` reached the own-role check and raised."""
    event = copy.deepcopy(load_event("rolesanywhere-create-profile.json"))
    profile = event["detail"]["responseElements"]["profile"]
    profile["profileArn"] = {"not": "an arn"}

    [finding] = judge_event(event, Settings(own=SAMPLE_OWN)).findings

    assert finding.resource_arn == f"arn:aws:rolesanywhere:eu-west-1:111122223333:profile/{profile['profileId']}"
