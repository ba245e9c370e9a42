"""The regression corpus: public peers' own escalation cases (tests/corpora/escalation/), each citing its source.

Every escalation path they publish is found; every case they publish as not escalating is not flagged.
Where IAM Warden reads a case differently from the peer, the case says why (``differs``); what it does
not model is listed as a gap and pinned here, so a change in either shows up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iamwarden.domain.escalation import PolicyRisk, assess, assess_principal
from iamwarden.domain.escalation_methods import catalogue
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.wildcards import arn_match

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "escalation"
SOURCES = {path.stem: json.loads(path.read_text()) for path in sorted(CORPUS.glob("*.json"))}


def _principal(case: dict[str, Any]) -> PrincipalPolicies:
    """A case's principal: its policies, boundary, a role's trust policy (when the case gives it), and a user's
    groups (each listed as a ``group <name>: ...`` source, also one without policies)."""
    policies = tuple(NamedPolicy(item["source"], parse_policy(item["document"])) for item in case["policies"])
    boundary = parse_policy(case["boundary"]) if "boundary" in case else None
    trust = parse_policy(case["trust"]) if "trust" in case else None
    arn = case["principal"]
    groups = None
    if ":user/" in arn:
        prefix = arn.split(":user/", 1)[0]
        names = dict.fromkeys(
            i["source"][6:].split(":", 1)[0] for i in case["policies"] if i["source"].startswith("group ")
        )
        groups = tuple(f"{prefix}:group/{name}" for name in names)
    profiles = tuple(case["instance_profiles"]) if "instance_profiles" in case else None
    return PrincipalPolicies(arn, policies, boundary, trust, groups=groups, instance_profiles=profiles)


class CorpusDirectory:
    """The principals of one source, as a RoleDirectory; what runs behind resources is not known."""

    def __init__(self, cases: list[dict[str, Any]]) -> None:
        self.known = {case["principal"]: _principal(case) for case in cases if case["principal"]}

    def principal(self, principal_arn: str) -> PrincipalPolicies | None:
        return self.known.get(principal_arn)

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        return tuple(arn for arn in self.known if ":role/" in arn and arn_match(pattern, arn))

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        return None


def _cases() -> list[Any]:
    return [
        pytest.param(source, case, id=f"{source}: {case['name']}")
        for source, data in SOURCES.items()
        for case in data["cases"]
    ]


def _risk(source: str, case: dict[str, Any]) -> PolicyRisk:
    if case["principal"] is None:
        [item] = case["policies"]
        return assess(parse_policy(item["document"]))
    known = "directory" in SOURCES[source] or case.get("directory") is True
    directory = CorpusDirectory(SOURCES[source]["cases"]) if known else None
    return assess_principal(_principal(case), directory)


def test_every_source_is_cited() -> None:
    assert set(SOURCES) == {"cloudsplaining", "iam-vulnerable", "pathfinding-cloud", "pmapper"}
    for data in SOURCES.values():
        assert data["source"]["repo"]
        assert len(data["source"]["commit"]) == 40
        for case in data["cases"]:
            assert case["path"], case["name"]


@pytest.mark.parametrize(("source", "case"), _cases())
def test_the_corpus_case(source: str, case: dict[str, Any]) -> None:
    expect = case["expect"]
    if expect.get("every_cloudsplaining_method"):
        for method in catalogue().methods:
            if any(p.source == "cloudsplaining" for p in method.sources):
                statement = {"Effect": "Allow", "Action": list(method.actions), "Resource": "*"}
                detected = assess(parse_policy({"Statement": [statement]})).escalations
                assert method.name in {path.method.name for path in detected}
        return
    risk = _risk(source, case)
    paths = {path.method.name: path for path in risk.escalations}
    found = set(paths)
    for method in expect.get("methods", ()):
        assert method in found, (method, sorted(found))
        if paths[method].method.reach == "passes-role" and source == "iam-vulnerable":
            assert paths[method].certain, paths[method].unknown  # PassRole * reaches the admin roles of the lab
            assert paths[method].leads_to
    if expect.get("risky") is False:
        assert not risk.risky, (sorted(found), [grant.why for grant in risk.admin])
    if expect.get("admin"):
        assert any(grant.critical for grant in risk.admin)
    if "found_from" in expect:
        path_id = case["name"].split(":", 1)[0]
        citing = {m.name for m in catalogue().methods if any(p.ref == path_id for p in m.sources)}
        assert citing, f"no method of the catalogue cites {path_id}"
        assert citing & found, (path_id, sorted(found))
    if "gap" in expect:
        assert not risk.escalations  # pinned: a gap that closes should update the corpus


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    counts = {source: len(data["cases"]) for source, data in SOURCES.items()}
    assert counts["iam-vulnerable"] >= 80
    assert counts["pathfinding-cloud"] >= 60
    clean = [c for data in SOURCES.values() for c in data["cases"] if c["expect"].get("risky") is False]
    assert len(clean) >= 15
