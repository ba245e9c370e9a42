"""A document seen before costs one look-up, and is never served a verdict that is not its own.

``load_policy`` keeps parsed documents by content (the text CloudTrail gave, or an object's ``marshal``
serialisation) and checks the size limit from a cheap bound, counting exactly only when the bound cannot
clear it; ``judged_once`` keeps a document's whole verdict per judging context. Checked here: the exact
limit of each kind of size (just under, at, just over), the keys keeping apart what is different, a
document changed after it was judged, the live lookups never kept, and the bounds of every cache.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest

from iamwarden.domain import documents, judged
from iamwarden.domain.documents import _MAX_UTF8_BYTES, PolicyKind, _compact, document_size, load_policy
from iamwarden.domain.events import instant
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.exposure import Circumstances, NetworkOwner, TrustBoundary, exposure_of
from iamwarden.domain.judged import judged_once, traits
from iamwarden.domain.policy import parse_policy
from iamwarden.guardrails.bucket_policy import BUCKET_POLICY_RULE
from iamwarden.guardrails.kms_key_policy import KEY_POLICY_RULE
from iamwarden.guardrails.trust_policy import FederationBoundary, policy_problems, statement_problems

BOUNDARY = TrustBoundary("111122223333", frozenset({"444455556666"}))
AT = Circumstances("us-east-1", instant("2026-03-02T10:00:00Z"))


@pytest.fixture(autouse=True)
def _empty_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "_PARSED", {})
    monkeypatch.setattr(judged, "_JUDGED", {})


def _bucket_document(resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resource}],
    }


def _sized_object(size: int, filler: str = "a") -> dict[str, Any]:
    """A bucket policy object whose compact JSON is exactly ``size`` UTF-8 bytes (``filler``: one character)."""
    base = len(_compact(_bucket_document("arn:aws:s3:::b/")).encode())
    per = len(filler.encode())
    assert (size - base) % per == 0
    document = _bucket_document("arn:aws:s3:::b/" + filler * ((size - base) // per))
    assert len(_compact(document).encode()) == size
    return document


# --- the size limit, exact at the limit ---------------------------------------------------------------------


@pytest.mark.parametrize("filler", ["a", "é", "€", "😀"])  # 1, 2, 3 and 4 UTF-8 bytes
def test_a_bucket_policy_object_is_held_to_its_bytes_exactly(filler: str) -> None:
    limit = PolicyKind.BUCKET.limit
    per = len(filler.encode())
    at_limit = limit - (limit - len(_compact(_bucket_document("arn:aws:s3:::b/")).encode())) % per
    load_policy(_sized_object(at_limit - per, filler), PolicyKind.BUCKET, field="f")  # under
    load_policy(_sized_object(at_limit, filler), PolicyKind.BUCKET, field="f")  # at (or as close as it spells)
    with pytest.raises(InvalidEventError, match=rf"f is {at_limit + per} bytes, over AWS's {limit} limit"):
        load_policy(_sized_object(at_limit + per, filler), PolicyKind.BUCKET, field="f")  # over


@pytest.mark.parametrize("size", [20_479, 20_480, 20_481])
def test_a_bucket_policy_object_of_ascii_at_the_limit(size: int) -> None:
    document = _sized_object(size)
    if size <= PolicyKind.BUCKET.limit:
        assert load_policy(document, PolicyKind.BUCKET, field="f").statements[0].effect == "Allow"
    else:
        for _ in range(2):  # a refusal is not cached: the same object is refused again
            with pytest.raises(InvalidEventError, match="is 20481 bytes, over AWS's 20480 limit for a bucket policy"):
                load_policy(document, PolicyKind.BUCKET, field="f")


@pytest.mark.parametrize("size", [20_479, 20_480, 20_481])
def test_bucket_policy_text_counts_its_whitespace(size: int) -> None:
    text = _compact(_bucket_document("arn:aws:s3:::b/"))
    padded = text[:-1] + " " * (size - len(text)) + text[-1]  # whitespace counts for S3
    assert document_size(padded, PolicyKind.BUCKET) == size
    if size <= PolicyKind.BUCKET.limit:
        load_policy(padded, PolicyKind.BUCKET, field="f")
    else:
        with pytest.raises(InvalidEventError, match="is 20481 bytes"):
            load_policy(padded, PolicyKind.BUCKET, field="f")


@pytest.mark.parametrize("size", [4_095, 4_096, 4_097])
@pytest.mark.parametrize("whitespace", [" ", "\t", "\r", "\n"])
def test_trust_policy_text_does_not_count_whitespace_even_far_over_the_limit_in_length(
    size: int, whitespace: str
) -> None:
    text = _compact(_bucket_document("arn:aws:s3:::b/"))
    text = text.replace("b/", "b/" + "x" * (size - len(text)))
    assert document_size(text, PolicyKind.TRUST) == size
    padded = text.replace(",", "," + whitespace * 3_000)  # far longer than 4,096 characters, not one more counted
    assert len(padded) > 2 * PolicyKind.TRUST.limit
    assert document_size(padded, PolicyKind.TRUST) == size
    if size <= PolicyKind.TRUST.limit:
        load_policy(padded, PolicyKind.TRUST, field="f")
    else:
        with pytest.raises(InvalidEventError, match="is 4097 non-whitespace characters, over AWS's 4096 limit"):
            load_policy(padded, PolicyKind.TRUST, field="f")


def test_a_multibyte_trust_policy_counts_characters_not_bytes() -> None:
    text = _compact(_bucket_document("arn:aws:s3:::b/"))
    text = text.replace("b/", "b/" + "é" * (PolicyKind.TRUST.limit - len(text)))
    assert len(text.encode()) > PolicyKind.TRUST.limit
    load_policy(text, PolicyKind.TRUST, field="f")  # 4,096 characters: accepted, though more bytes
    with pytest.raises(InvalidEventError, match="is 4097 non-whitespace characters"):
        load_policy(text.replace("b/", "b/é"), PolicyKind.TRUST, field="f")


def test_the_byte_bound_is_taken_only_where_it_holds() -> None:
    # Four bytes per character at most; a lone surrogate (JSON "\ud800") is three.
    for text in ("a", "é", "€", "😀", "\ud800"):
        assert document_size(text, PolicyKind.BUCKET) <= _MAX_UTF8_BYTES * len(text)
    # Non-ASCII text just under a quarter of the limit is cleared by the bound, and what is over is counted.
    limit = PolicyKind.LOGS_DESTINATION.limit
    cleared = "€" * (limit // _MAX_UTF8_BYTES)
    assert document_size(cleared, PolicyKind.LOGS_DESTINATION) <= limit
    documents._check_size(cleared, PolicyKind.LOGS_DESTINATION, "f")
    over = "€" * (limit // 3 + 1)
    with pytest.raises(InvalidEventError, match=f"is {3 * (limit // 3 + 1)} bytes"):
        documents._check_size(over, PolicyKind.LOGS_DESTINATION, "f")


# --- the document cache: content, not identity ------------------------------------------------------------


def test_an_equal_object_is_the_same_document_and_a_changed_one_is_judged_afresh() -> None:
    document = _bucket_document("arn:aws:s3:::b/*")
    first = load_policy(document, PolicyKind.BUCKET, field="f")
    assert load_policy(copy.deepcopy(document), PolicyKind.BUCKET, field="f") is first
    assert BUCKET_POLICY_RULE.exposures(first, BOUNDARY, AT)[0].public

    document["Statement"][0]["Principal"] = {"AWS": "444455556666"}  # changed in place after it was judged
    changed = load_policy(document, PolicyKind.BUCKET, field="f")
    assert changed is not first
    assert changed.statements[0].principal is not None
    assert not changed.statements[0].principal.everyone
    assert BUCKET_POLICY_RULE.exposures(changed, BOUNDARY, AT)[0].safe

    document["Statement"][0]["Principal"] = "*"  # and back: the public verdict again
    assert BUCKET_POLICY_RULE.exposures(load_policy(document, PolicyKind.BUCKET, field="f"), BOUNDARY, AT)[0].public


def test_values_python_calls_equal_are_different_documents() -> None:
    # 1 == True == 1.0 in Python, but the documents say "1", "true" and "1.0": the key keeps them apart.
    spellings = [True, 1, 1.0, "true"]
    documents_ = [
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Condition": {"Bool": {"aws:SecureTransport": value}},
                }
            ]
        }
        for value in spellings
    ]
    assert all(document == documents_[0] for document in documents_[:3])
    values = [
        load_policy(document, PolicyKind.BUCKET, field="f").statements[0].conditions[0].values
        for document in documents_
    ]
    assert values == [("true",), ("1",), ("1.0",), ("true",)]
    assert len(documents._PARSED) == 4


def test_what_json_cannot_hold_is_refused_every_time_even_where_marshal_could_key_it() -> None:
    document = {**_bucket_document("arn:aws:s3:::b/*"), "Extra": {1, 2}}  # a set: marshal keys it, JSON cannot
    for _ in range(2):
        with pytest.raises(InvalidEventError, match="not a JSON policy document"):
            load_policy(document, PolicyKind.BUCKET, field="f")
    assert documents._PARSED == {}


class _Mapping(Mapping[str, Any]):
    """A read-only mapping that is not a dict (marshal cannot serialise it)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_a_mapping_that_is_not_a_dict_is_refused_as_json_refuses_it() -> None:
    # marshal cannot key it either: it falls back to the compact JSON, which says what is wrong, every time.
    for _ in range(2):
        with pytest.raises(InvalidEventError, match="not a JSON policy document: Object of type _Mapping"):
            load_policy(_Mapping(_bucket_document("arn:aws:s3:::b/*")), PolicyKind.BUCKET, field="f")
    assert documents._PARSED == {}


def test_a_too_deep_object_is_refused_as_before() -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(20_000):  # deeper than marshal (and the JSON encoder) will go
        inner["x"] = {}
        inner = inner["x"]
    with pytest.raises(InvalidEventError, match="not a JSON policy document"):
        load_policy({**_bucket_document("arn:aws:s3:::b/*"), "Deep": deep}, PolicyKind.BUCKET, field="f")


# --- whole-document verdicts ------------------------------------------------------------------------------


class _Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_verdict_is_kept_per_document_and_context() -> None:
    policy = parse_policy(_bucket_document("arn:aws:s3:::b/*"))
    judge = _Counting()
    assert judged_once(policy, "mine", AT, judge) == 1
    assert judged_once(policy, "mine", AT, judge) == 1  # one look-up, not judged again
    assert judged_once(policy, "partner", AT, judge) == 2  # another context
    assert judged_once(policy, "mine", Circumstances("eu-west-1", AT.at), judge) == 3  # another Region
    # Another event time does not matter to a document without a date condition.
    assert judged_once(policy, "mine", Circumstances("us-east-1", instant("2027-01-01T00:00:00Z")), judge) == 1
    assert judged_once(parse_policy(_bucket_document("arn:aws:s3:::b/*")), "mine", AT, judge) == 4  # another object


def test_a_dated_document_is_judged_at_each_event_time() -> None:
    policy = parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-06-01T00:00:00Z"}},
                }
            ]
        }
    )
    assert traits(policy).dated
    before = Circumstances("us-east-1", instant("2026-03-02T10:00:00Z"))
    after = Circumstances("us-east-1", instant("2026-07-01T00:00:00Z"))
    assert BUCKET_POLICY_RULE.exposures(policy, BOUNDARY, before)[0].public
    assert BUCKET_POLICY_RULE.exposures(policy, BOUNDARY, after)[0].void is not None  # the window had closed
    assert BUCKET_POLICY_RULE.exposures(policy, BOUNDARY, before)[0].public


class _DeniedOwners:
    def __init__(self) -> None:
        self.asked = 0

    def owner_of(self, network_id: str, account: str, region: str) -> NetworkOwner:
        self.asked += 1
        return NetworkOwner(None, "DescribeVpcEndpoints was denied")


class _NoIdentities:
    def __init__(self) -> None:
        self.asked = 0

    def identity_of(self, canonical_user: str, account: str) -> Any:
        from iamwarden.domain.exposure import OriginAccessIdentity

        self.asked += 1
        return OriginAccessIdentity(None, "ListCloudFrontOriginAccessIdentities was denied")


def test_a_verdict_resting_on_a_live_lookup_is_never_kept() -> None:
    networked = parse_policy(
        {
            "Statement": {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0ffee"}},
            }
        }
    )
    canonical = parse_policy(
        {"Statement": {"Effect": "Allow", "Principal": {"CanonicalUser": "ab" * 32}, "Action": "s3:GetObject"}}
    )
    assert traits(networked).networked
    assert traits(canonical).canonical_users
    owners, identities = _DeniedOwners(), _NoIdentities()
    live = Circumstances("us-east-1", None, owners, identities)
    for _ in range(2):
        BUCKET_POLICY_RULE.exposures(networked, BOUNDARY, live)
        BUCKET_POLICY_RULE.exposures(canonical, BOUNDARY, live)
    assert (owners.asked, identities.asked) == (2, 2)  # asked afresh: a denied lookup may succeed later
    # Offline (no lookup to ask) the same documents are kept.
    judge = _Counting()
    assert judged_once(networked, "c", AT, judge) == judged_once(networked, "c", AT, judge) == 1
    # A live lookup the document would never ask does not stop it being kept.
    plain = parse_policy(_bucket_document("arn:aws:s3:::b/*"))
    assert judged_once(plain, "c", live, judge) == judged_once(plain, "c", live, judge) == 2


def _dated_policy() -> Any:
    return parse_policy(
        {
            "Statement": {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-06-01T00:00:00Z"}},
            }
        }
    )


def test_a_first_sight_offline_reads_no_traits_and_keeps_the_verdict_under_the_key_it_always_had(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Offline, the first verdict is kept before the traits are read; the next look-up reads them once and files
    the verdict under the key an eager first sight gave it (the event time only for a dated document)."""
    read: list[int] = []

    def counting_traits(policy: Any) -> judged.Traits:
        read.append(id(policy))
        return traits(policy)

    monkeypatch.setattr(judged, "traits", counting_traits)
    later = Circumstances("us-east-1", instant("2026-03-03T10:00:00Z"))
    for policy, dated in ((parse_policy(_bucket_document("arn:aws:s3:::b/*")), False), (_dated_policy(), True)):
        judge = _Counting()
        assert judged_once(policy, "c", AT, judge) == 1
        assert read.count(id(policy)) == 0  # first sight: judged, no traits read
        assert judged_once(policy, "c", AT, judge) == 1  # kept
        assert read.count(id(policy)) == 1
        entry = judged._JUDGED[id(policy)]
        assert entry == (policy, traits(policy), {("c", "us-east-1", AT.at if dated else None): 1})
        # Another event time: the same verdict for an undated document, judged again for a dated one.
        assert judged_once(policy, "c", later, judge) == (2 if dated else 1)
        assert judged_once(policy, "c", AT, judge) == 1
        assert read.count(id(policy)) == 1  # read once, when the entry was settled


def test_a_dated_document_first_seen_offline_is_judged_again_at_another_time_only() -> None:
    policy = _dated_policy()
    judge = _Counting()
    after = Circumstances("us-east-1", instant("2026-07-01T00:00:00Z"))
    assert judged_once(policy, "c", after, judge) == 1
    assert judged_once(policy, "c", AT, judge) == 2
    assert judged_once(policy, "c", after, judge) == 1
    assert judged_once(policy, "other", after, judge) == 3


def test_a_document_first_seen_offline_is_asked_afresh_when_a_live_lookup_applies() -> None:
    networked = parse_policy(
        {
            "Statement": {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0ffee"}},
            }
        }
    )
    live = Circumstances("us-east-1", AT.at, _DeniedOwners(), None)
    judge = _Counting()
    assert judged_once(networked, "c", AT, judge) == 1  # offline: kept
    assert judged_once(networked, "c", live, judge) == 2  # a live lookup's answer may change: never served kept
    assert judged_once(networked, "c", live, judge) == 3
    assert judged_once(networked, "c", AT, judge) == 1  # the offline verdict is still kept


def _networked_document() -> dict[str, Any]:
    return {
        "Statement": {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0ffee"}},
        }
    }


def _canonical_document() -> dict[str, Any]:
    return {"Statement": {"Effect": "Allow", "Principal": {"CanonicalUser": "ab" * 32}, "Action": "s3:GetObject"}}


def test_a_canonical_user_document_first_seen_offline_is_asked_afresh_when_the_identity_lookup_applies() -> None:
    """The canonical-user twin of the networked case above: settling an offline entry reads that trait too, so a
    verdict kept offline is never served where a live origin-access-identity lookup would be asked."""
    canonical = parse_policy(_canonical_document())
    live = Circumstances("us-east-1", AT.at, None, _NoIdentities())
    judge = _Counting()
    assert judged_once(canonical, "c", AT, judge) == 1  # offline: kept
    assert judged_once(canonical, "c", live, judge) == 2  # a live lookup's answer may change: never served kept
    assert judged_once(canonical, "c", live, judge) == 3
    assert judged_once(canonical, "c", AT, judge) == 1  # the offline verdict is still kept
    # Through the rule: the identity lookup is asked on every live look-up after an offline first sight.
    document = parse_policy(_canonical_document())
    identities = _NoIdentities()
    offline = BUCKET_POLICY_RULE.exposures(document, BOUNDARY, AT)
    asked_live = Circumstances("us-east-1", AT.at, None, identities)
    for times in (1, 2):
        assert BUCKET_POLICY_RULE.exposures(document, BOUNDARY, asked_live) != offline
        assert identities.asked == times


def test_a_networked_verdict_judged_with_the_network_lookup_alone_is_never_kept() -> None:
    """Only the network lookup live (no identity lookup): a networked document's verdict rests on it, so a later
    offline look-up judges afresh rather than serving it."""
    owners = _DeniedOwners()
    networks_only = Circumstances("us-east-1", AT.at, owners, None)
    judge = _Counting()
    networked = parse_policy(_networked_document())
    assert judged_once(networked, "c", networks_only, judge) == 1
    assert judged_once(networked, "c", AT, judge) == 2  # judged afresh offline, then kept
    assert judged_once(networked, "c", AT, judge) == 2
    # Through the rule: the offline look-up gives the offline verdict, not the denied lookup's.
    offline = BUCKET_POLICY_RULE.exposures(parse_policy(_networked_document()), BOUNDARY, AT)
    document = parse_policy(_networked_document())
    asked = BUCKET_POLICY_RULE.exposures(document, BOUNDARY, networks_only)
    assert owners.asked == 1
    assert asked != offline
    assert BUCKET_POLICY_RULE.exposures(document, BOUNDARY, AT) == offline


def test_a_canonical_user_verdict_judged_with_the_identity_lookup_alone_is_never_kept() -> None:
    """Only the identity lookup live (no network lookup): a canonical-user document's verdict rests on it, so a
    later offline look-up judges afresh rather than serving it."""
    identities = _NoIdentities()
    identities_only = Circumstances("us-east-1", AT.at, None, identities)
    judge = _Counting()
    canonical = parse_policy(_canonical_document())
    assert judged_once(canonical, "c", identities_only, judge) == 1
    assert judged_once(canonical, "c", AT, judge) == 2  # judged afresh offline, then kept
    assert judged_once(canonical, "c", AT, judge) == 2
    # Through the rule: the offline look-up gives the offline verdict, not the denied lookup's.
    offline = BUCKET_POLICY_RULE.exposures(parse_policy(_canonical_document()), BOUNDARY, AT)
    document = parse_policy(_canonical_document())
    asked = BUCKET_POLICY_RULE.exposures(document, BOUNDARY, identities_only)
    assert identities.asked == 1
    assert asked != offline
    assert BUCKET_POLICY_RULE.exposures(document, BOUNDARY, AT) == offline


def test_the_verdict_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(judged, "JUDGED_CACHE_SIZE", 2)
    monkeypatch.setattr(judged, "CONTEXTS_PER_POLICY", 2)
    policies = [parse_policy(_bucket_document(f"arn:aws:s3:::b{index}/*")) for index in range(3)]
    judge = _Counting()
    for policy in policies:
        judged_once(policy, "c", AT, judge)
    assert len(judged._JUDGED) == 2
    assert id(policies[0]) not in judged._JUDGED  # the oldest went first
    for context in ("a", "b", "c"):
        judged_once(policies[2], context, AT, judge)
    assert len(judged._JUDGED[id(policies[2])][2]) <= 2
    judged.forget()
    assert judged._JUDGED == {}


def test_the_document_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "POLICY_CACHE_SIZE", 2)
    for index in range(3):
        load_policy(_bucket_document(f"arn:aws:s3:::b{index}/*"), PolicyKind.BUCKET, field="f")
    assert len(documents._PARSED) == 2


def test_the_rules_whole_document_verdicts_are_their_statement_verdicts() -> None:
    document = {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"},
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "Condition": {"StringEquals": {"kms:CallerAccount": "444455556666"}},
            },
            {"Effect": "Deny", "Principal": "*", "Action": "kms:*"},
        ]
    }
    policy = parse_policy(document)
    for rule in (BUCKET_POLICY_RULE, KEY_POLICY_RULE):
        expected = tuple(rule.exposure(statement, BOUNDARY, AT) for statement in policy.statements)
        assert rule.exposures(policy, BOUNDARY, AT) == expected
        assert rule.exposures(policy, BOUNDARY, AT) == expected  # kept
    # The key policy rule reads kms:CallerAccount as the caller's account: its own verdict, not the bucket rule's.
    assert KEY_POLICY_RULE.exposures(policy, BOUNDARY, AT)[1].safe
    assert not BUCKET_POLICY_RULE.exposures(policy, BOUNDARY, AT)[1].safe
    assert exposure_of(policy.statements[1], BOUNDARY, AT).public

    trust = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"}, "Action": "sts:*"},
            ]
        }
    )
    vendors, federation = ("999988887777",), FederationBoundary()
    expected_problems = tuple(
        p for s in trust.statements for p in statement_problems(s, BOUNDARY, vendors, AT, federation)
    )
    assert len(expected_problems) == 2
    assert policy_problems(trust, BOUNDARY, vendors, AT, federation) == expected_problems
    assert policy_problems(trust, BOUNDARY, (), AT, federation) != expected_problems  # other vendors, own verdict


def test_json_round_trip_of_the_samples_gives_the_same_documents() -> None:
    # What the warm side of the benchmark relies on: a fresh equal copy is the document seen before.
    document = _bucket_document("arn:aws:s3:::b/*")
    first = load_policy(document, PolicyKind.BUCKET, field="f")
    assert load_policy(json.loads(json.dumps(document)), PolicyKind.BUCKET, field="f") is first
    assert isinstance(AT.at, datetime)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}, (False, False, False)),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Condition": {"NumericLessThan": {"aws:EpochTime": "1700000000"}},
            },
            (True, False, False),
        ),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1", "aws:CurrentTime": "x"}},
            },
            (True, True, False),
        ),
        (
            {"Effect": "Allow", "NotPrincipal": {"CanonicalUser": "ab" * 32}, "Action": "s3:GetObject"},
            (False, False, True),
        ),
    ],
)
def test_traits_name_what_makes_a_verdict_depend_on_more_than_the_document(
    statement: dict[str, Any], expected: tuple[bool, bool, bool]
) -> None:
    plain = {"Effect": "Deny", "Principal": {"AWS": "444455556666"}, "Action": "s3:*"}
    assert tuple(traits(parse_policy({"Statement": [plain, statement]}))) == expected


def test_the_kept_policy_is_not_changed_by_changing_the_object_it_came_from() -> None:
    document = _bucket_document("arn:aws:s3:::b/*")
    original = copy.deepcopy(document)
    first = load_policy(document, PolicyKind.BUCKET, field="f")
    document["Statement"][0]["Resource"] = "arn:aws:s3:::other/*"  # the caller changes its object afterwards
    document["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "*"})
    again = load_policy(copy.deepcopy(original), PolicyKind.BUCKET, field="f")
    assert again is first
    assert again.raw == original  # what a plan would name is still the document as it was judged
    assert again.statements[0].raw == original["Statement"][0]
