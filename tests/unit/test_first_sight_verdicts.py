"""First sight's cost cuts change no answer: every document, loaded and judged, against the answers recorded before.

Every policy document the repository holds (the sample events' and the corpora's, ``tests.policy_corpus``) is loaded
as a bucket policy (an object, as S3 gives it) and as a trust policy (JSON text, as IAM gives it), and judged by the
bucket-policy rule's ``exposures`` and the trust rule's ``policy_problems`` under the sample settings' boundary and
another, with no circumstances, a Region and time, and live lookups (``test_fresh_exposure.CIRCUMSTANCES``): on
first sight (every cache emptied, as the benchmark does) and again (the kept verdict). Each document's answers,
written canonically (sets sorted), are hashed and compared with ``tests/snapshots/first_sight/verdicts.json``,
recorded by this module on main before the changes (``python -m tests.unit.test_first_sight_verdicts --record``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iamwarden.app.settings_file import load_settings_file
from iamwarden.domain import documents, exposure, judged, policy
from iamwarden.domain.documents import PolicyKind, load_policy
from iamwarden.domain.exposure import TrustBoundary
from iamwarden.domain.policy import Statement
from iamwarden.guardrails import registry  # noqa: F401 - registers the rules the settings name
from iamwarden.guardrails.bucket_policy import BUCKET_POLICY_RULE
from iamwarden.guardrails.trust_policy import TRUST_POLICY_UNTRUSTED, FederationBoundary, policy_problems
from tests.conftest import ROOT
from tests.policy_corpus import corpus_documents
from tests.unit.test_fresh_exposure import CIRCUMSTANCES

RECORDED = ROOT / "tests" / "snapshots" / "first_sight" / "verdicts.json"
FIELD = "detail.requestParameters.policy"


def _forget() -> None:
    """Every cache the policy analysis keeps emptied (``bench_custodian.forget_everything``): a first sight."""
    documents._PARSED.clear()
    documents._DUPLICATES.clear()
    documents._READINGS.clear()
    exposure._EXPOSURES.clear()
    exposure._BY_POLICY.clear()
    policy._OPERATORS.clear()
    judged.forget()


def _canonical(value: Any, *, statements_by_position: bool = False) -> Any:
    """``value`` as JSON can hold it whatever the hash seed: named tuples by type and fields, sets sorted; in a
    verdict a statement by its position (its content is the loaded policy's, checked with it)."""
    if isinstance(value, Statement) and statements_by_position:
        return ["Statement", value.position]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        fields = [_canonical(item, statements_by_position=statements_by_position) for item in value]
        return [type(value).__name__, *fields]
    if isinstance(value, (set, frozenset)):
        return sorted(json.dumps(_canonical(item), sort_keys=True) for item in value)
    if isinstance(value, (tuple, list)):
        return [_canonical(item, statements_by_position=statements_by_position) for item in value]
    if isinstance(value, Mapping):
        return {repr(key): _canonical(item) for key, item in value.items()}
    return repr(value)


def _answers(document: dict[str, Any]) -> list[Any]:
    """Every answer for ``document``: its load as each kind (or the error), then every verdict of the load."""
    settings = load_settings_file(ROOT / "events" / "settings.yaml")
    boundaries = (settings.boundary("111122223333"), TrustBoundary("999988887777"))
    vendors = settings.rule(TRUST_POLICY_UNTRUSTED.id).patterns("third_party_accounts")
    federation = FederationBoundary(settings.github_owners, settings.cognito_identity_pools)
    answers: list[Any] = []
    for kind, value in ((PolicyKind.BUCKET, copy.deepcopy(document)), (PolicyKind.TRUST, json.dumps(document))):
        _forget()
        try:
            loaded = load_policy(value, kind, field=FIELD)
        except Exception as exc:  # the refusal is an answer too
            answers.append(["error", type(exc).__name__, str(exc)])
            continue
        answers.append(_canonical(loaded))
        for boundary in boundaries:
            for circumstances in CIRCUMSTANCES:
                for _ in ("first sight", "seen before"):
                    if _ == "first sight":
                        _forget()
                    try:
                        if kind is PolicyKind.BUCKET:
                            verdict: Any = BUCKET_POLICY_RULE.exposures(loaded, boundary, circumstances)
                        else:
                            verdict = policy_problems(loaded, boundary, vendors, circumstances, federation)
                    except Exception as exc:  # so is a judgement's failure
                        verdict = ["error", type(exc).__name__, str(exc)]
                    answers.append(_canonical(verdict, statements_by_position=True))
    return answers


def _digests() -> list[str]:
    return [
        hashlib.sha256(json.dumps(_answers(document), sort_keys=True).encode()).hexdigest()[:16]
        for document in corpus_documents()
    ]


def test_every_document_loads_and_is_judged_as_recorded_before_the_changes() -> None:
    recorded = json.loads(RECORDED.read_text())
    found = _digests()
    assert len(found) == len(recorded["digests"]) > 300
    differing = [
        index for index, (now, before) in enumerate(zip(found, recorded["digests"], strict=True)) if now != before
    ]
    assert not differing, f"documents {differing[:20]} (corpus order) answer otherwise than recorded"


def test_the_comparison_can_fail() -> None:
    """A changed answer changes the digest: the recorded file is not a tautology."""
    document = {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}}
    other = {"Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject"}}
    assert _answers(document) != _answers(other)


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    target = Path(sys.argv[0]).resolve().parents[2] / "tests" / "snapshots" / "first_sight" / "verdicts.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"digests": _digests()}, indent=0) + "\n")
