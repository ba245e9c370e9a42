"""CloudFront origin access identities named in ``CanonicalUser`` form (issue 14 item 2).

The judgement is pure, with a fake lookup: an identity of the bucket's account is private, an id the lookup
does not know (or could not ask about) is a canonical user of unknown owner (alert-only, ``needs_context``), a
malformed id is never looked up. The live lookup (adapters/origin_access_identities.py) is driven through
botocore's Stubber: moto has no CloudFront origin access identities.
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.adapters.origin_access_identities import CLOUDFRONT_REGION, LiveOriginAccessIdentities
from iamwarden.domain.exceptions import AwsAccessError
from iamwarden.domain.exposure import OriginAccessIdentity
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

SAMPLE = "bucket-policy-cloudfront-oai-canonical-user.json"
ACCOUNT = "111122223333"
OAI_CANONICAL = "7484f72035b528db5217af113d13da06734212320103f8d6c520c58a7585a2f1"
OTHER_CANONICAL = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
RULE = "s3-bucket-policy-cross-account"


class FakeIdentities:
    """The account's origin access identities by canonical user id; records what it was asked."""

    def __init__(self, identities: dict[str, str], *, why: str | None = None) -> None:
        self.identities = identities
        self.why = why
        self.asked: list[tuple[str, str]] = []

    def identity_of(self, canonical_user: str, account: str) -> OriginAccessIdentity:
        self.asked.append((canonical_user, account))
        if self.why is not None:
            return OriginAccessIdentity(None, self.why)
        found = self.identities.get(canonical_user) if account == ACCOUNT else None
        return OriginAccessIdentity(found, "the fake says so" if found else f"the fake lists no {canonical_user}")


def _event(canonical: str = OAI_CANONICAL) -> dict[str, Any]:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["requestParameters"]["bucketPolicy"]["Statement"][0]["Principal"] = {"CanonicalUser": canonical}
    return event


def _judge(event: dict[str, Any], lookup: FakeIdentities | None, settings: Settings | None = None) -> Any:
    return judge_event(event, settings or Settings(), origin_access_identities=lookup)


def test_the_sample_is_an_origin_access_identity_of_the_bucket_account_when_the_lookup_knows_it() -> None:
    lookup = FakeIdentities({OAI_CANONICAL: "E3RHU1WBNHA9QZ"})

    judgement = _judge(load_event(SAMPLE), lookup)

    assert judgement.verdict.value == "compliant", judgement
    assert lookup.asked == [(OAI_CANONICAL, ACCOUNT)]


def test_an_id_in_upper_case_is_the_same_identity() -> None:
    lookup = FakeIdentities({OAI_CANONICAL: "E3RHU1WBNHA9QZ"})
    assert _judge(_event(OAI_CANONICAL.upper()), lookup).verdict.value == "compliant"


def test_an_id_the_lookup_does_not_know_is_a_canonical_user_of_unknown_owner() -> None:
    lookup = FakeIdentities({OAI_CANONICAL: "E3RHU1WBNHA9QZ"})

    judgement = _judge(_event(OTHER_CANONICAL), lookup)

    assert judgement.verdict.value == "violation"
    [finding] = judgement.findings
    assert finding.rule_id == RULE
    [fact] = finding.needs_context
    assert f"whose canonical user {OTHER_CANONICAL} is" in fact
    assert f"the fake lists no {OTHER_CANONICAL}" in fact


def test_a_lookup_that_could_not_ask_leaves_the_owner_unknown() -> None:
    lookup = FakeIdentities({}, why="ListCloudFrontOriginAccessIdentities failed in account 111122223333: denied")

    [finding] = _judge(load_event(SAMPLE), lookup).findings

    [fact] = finding.needs_context
    assert "ListCloudFrontOriginAccessIdentities failed in account 111122223333: denied" in fact


def test_a_malformed_id_is_never_looked_up_and_stays_unknown() -> None:
    lookup = FakeIdentities({"not-a-canonical-id": "E3RHU1WBNHA9QZ"})

    [finding] = _judge(_event("not-a-canonical-id"), lookup).findings

    assert lookup.asked == []
    [fact] = finding.needs_context
    assert "not a well-formed canonical user id" in fact


def test_offline_the_sample_needs_context_and_says_how_to_know() -> None:
    [finding] = _judge(load_event(SAMPLE), None).findings

    [fact] = finding.needs_context
    assert "offline IAM Warden cannot ask CloudFront" in fact
    assert "cloudfront_oai_canonical_ids" in fact


def test_offline_an_id_listed_in_the_settings_is_private() -> None:
    settings, problems = parse_settings({"cloudfront_oai_canonical_ids": [OAI_CANONICAL.upper()]})

    assert problems == []
    assert _judge(load_event(SAMPLE), None, settings).verdict.value == "compliant"
    assert _judge(_event(OTHER_CANONICAL), None, settings).verdict.value == "violation"


def test_a_listed_id_is_private_without_asking() -> None:
    settings, _ = parse_settings({"cloudfront_oai_canonical_ids": [OAI_CANONICAL]})
    lookup = FakeIdentities({})

    assert _judge(load_event(SAMPLE), lookup, settings).verdict.value == "compliant"
    assert lookup.asked == []


def test_a_setting_that_is_not_a_canonical_id_is_refused() -> None:
    settings, problems = parse_settings({"cloudfront_oai_canonical_ids": ["E3RHU1WBNHA9QZ"]})

    [problem] = problems
    assert problem.key == "cloudfront_oai_canonical_ids"
    assert "64 hexadecimal digits" in problem.message
    assert settings.cloudfront_oai_canonical_ids == frozenset()


def test_an_identity_never_clears_another_grantee_of_the_statement() -> None:
    event = _event()
    event["detail"]["requestParameters"]["bucketPolicy"]["Statement"][0]["Principal"] = {
        "CanonicalUser": OAI_CANONICAL,
        "AWS": "999988887777",
    }

    [finding] = _judge(event, FakeIdentities({OAI_CANONICAL: "E3RHU1WBNHA9QZ"})).findings

    assert "999988887777" in finding.reason
    assert finding.needs_context == ()


# --- the live lookup ------------------------------------------------------------------------------


class Clients:
    """One stubbed CloudFront client per account; an account without one cannot be acted in."""

    def __init__(self) -> None:
        self.stubbers: dict[str, Stubber] = {}
        self.asked: list[tuple[str, str, str]] = []

    def stub(self, account: str) -> Stubber:
        client = boto3.client(
            "cloudfront", region_name=CLOUDFRONT_REGION, aws_access_key_id="k", aws_secret_access_key="s"
        )
        stubber = Stubber(client)
        stubber.activate()
        self.stubbers[account] = stubber
        return stubber

    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
        self.asked.append((service, account, region))
        if account not in self.stubbers:
            raise AwsAccessError(f"could not assume iamwarden-remediator in {account}")
        return self.stubbers[account].client


def _page(*items: tuple[str, str], next_marker: str | None = None) -> dict[str, Any]:
    listing: dict[str, Any] = {
        "Marker": "",
        "MaxItems": 100,
        "IsTruncated": next_marker is not None,
        "Quantity": len(items),
        "Items": [{"Id": oai, "S3CanonicalUserId": canonical, "Comment": "website"} for oai, canonical in items],
    }
    if next_marker is not None:
        listing["NextMarker"] = next_marker
    return {"CloudFrontOriginAccessIdentityList": listing}


def test_the_live_lookup_reads_every_page_and_asks_once_per_account() -> None:
    clients = Clients()
    stubber = clients.stub(ACCOUNT)
    stubber.add_response(
        "list_cloud_front_origin_access_identities", _page(("E1AAAAAAAAAAAA", OTHER_CANONICAL), next_marker="m2"), {}
    )
    stubber.add_response(
        "list_cloud_front_origin_access_identities", _page(("E3RHU1WBNHA9QZ", OAI_CANONICAL)), {"Marker": "m2"}
    )
    lookup = LiveOriginAccessIdentities(clients)

    found = lookup.identity_of(OAI_CANONICAL.upper(), ACCOUNT)
    again = lookup.identity_of(OTHER_CANONICAL, ACCOUNT)

    assert found.identity == "E3RHU1WBNHA9QZ"
    assert "ListCloudFrontOriginAccessIdentities in account 111122223333" in found.how
    assert again.identity == "E1AAAAAAAAAAAA"
    stubber.assert_no_pending_responses()
    assert clients.asked == [("cloudfront", ACCOUNT, "us-east-1")]


def test_an_id_not_listed_is_listed_again_once_then_remembered() -> None:
    clients = Clients()
    stubber = clients.stub(ACCOUNT)
    stubber.add_response("list_cloud_front_origin_access_identities", _page(), {})
    stubber.add_response("list_cloud_front_origin_access_identities", _page(("E3RHU1WBNHA9QZ", OAI_CANONICAL)), {})
    lookup = LiveOriginAccessIdentities(clients)

    before = lookup.identity_of(OAI_CANONICAL, ACCOUNT)  # the first listing: the identity did not exist yet
    unknown = lookup.identity_of(OTHER_CANONICAL, ACCOUNT)  # a new id: listed afresh, finds the new identity
    unknown_again = lookup.identity_of(OTHER_CANONICAL, ACCOUNT)  # remembered: not listed a third time
    now = lookup.identity_of(OAI_CANONICAL, ACCOUNT)  # the later listing holds it: found beats an older absence

    assert before.identity is None
    assert "lists no origin access identity with canonical user" in before.how
    assert unknown.identity is None
    assert unknown_again.identity is None
    assert now.identity == "E3RHU1WBNHA9QZ"
    stubber.assert_no_pending_responses()


def test_a_denied_listing_is_unknown_and_asked_again() -> None:
    clients = Clients()
    stubber = clients.stub(ACCOUNT)
    stubber.add_client_error("list_cloud_front_origin_access_identities", "AccessDenied", "no", 403)
    stubber.add_response("list_cloud_front_origin_access_identities", _page(("E3RHU1WBNHA9QZ", OAI_CANONICAL)), {})
    lookup = LiveOriginAccessIdentities(clients)

    denied = lookup.identity_of(OAI_CANONICAL, ACCOUNT)
    later = lookup.identity_of(OAI_CANONICAL, ACCOUNT)

    assert denied.identity is None
    assert "ListCloudFrontOriginAccessIdentities failed in account 111122223333" in denied.how
    assert later.identity == "E3RHU1WBNHA9QZ"


def test_an_account_iam_warden_cannot_act_in_is_unknown() -> None:
    found = LiveOriginAccessIdentities(Clients()).identity_of(OAI_CANONICAL, "444455556666")

    assert found.identity is None
    assert "could not act in account 444455556666 to ask CloudFront" in found.how


def test_a_throttled_listing_is_raised_for_a_retry() -> None:
    clients = Clients()
    clients.stub(ACCOUNT).add_client_error("list_cloud_front_origin_access_identities", "Throttling", "slow", 400)

    with pytest.raises(TransientAwsError):
        LiveOriginAccessIdentities(clients).identity_of(OAI_CANONICAL, ACCOUNT)


def test_an_error_that_is_not_aws_s_is_not_swallowed() -> None:
    class Broken(Clients):
        def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
            raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        LiveOriginAccessIdentities(Broken()).identity_of(OAI_CANONICAL, ACCOUNT)
