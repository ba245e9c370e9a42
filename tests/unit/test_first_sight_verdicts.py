"""First sight's cost cuts change no answer: every document, loaded and judged, against the answers recorded before.

Every policy document the repository holds (the sample events' and the corpora's, ``tests.policy_corpus``) is loaded
as a bucket policy (an object, as S3 gives it) and as a trust policy (JSON text, as IAM gives it), and judged by the
bucket-policy rule's ``exposures`` and the trust rule's ``policy_problems`` under the sample settings' boundary and
another, with no circumstances, a Region and time, and live lookups (``test_fresh_exposure.CIRCUMSTANCES``): on
first sight (every cache emptied, as the benchmark does) and again (the kept verdict); then once more over every
boundary and circumstances, interleaved and with no cache emptied in between, so that a verdict kept under a key
missing part of its context (the rules build ``judged_once``'s key themselves) is answered for another context and
differs. Besides the corpus, ``REFUSALS`` holds documents for the error paths the corpus barely reaches. Each
document's answers, written canonically (sets sorted), are hashed and compared with
``tests/snapshots/first_sight/verdicts.json``, recorded by this module on main before the changes (copied into a
checkout of main 59ce4a9: ``python -m tests.unit.test_first_sight_verdicts --record``).
"""

from __future__ import annotations

import ast
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
from iamwarden.domain.exposure import Circumstances, TrustBoundary
from iamwarden.domain.policy import Policy, Statement
from iamwarden.guardrails import registry  # noqa: F401 - registers the rules the settings name
from iamwarden.guardrails.bucket_policy import BUCKET_POLICY_RULE
from iamwarden.guardrails.trust_policy import TRUST_POLICY_UNTRUSTED, FederationBoundary, policy_problems
from tests.conftest import ROOT
from tests.policy_corpus import corpus_documents
from tests.unit.test_fresh_exposure import CIRCUMSTANCES

RECORDED = ROOT / "tests" / "snapshots" / "first_sight" / "verdicts.json"
FIELD = "detail.requestParameters.policy"
_ALLOW = {"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "s3:GetObject", "Resource": "*"}
#: Documents for the refusals and the size proof's paths (``documents._parse_object``), which the corpus barely
#: reaches: objects JSON cannot spell (at the top, inside a statement, as a key), statement-level refusals,
#: ``Statement`` as an object, elements ``_only_parsed_elements`` rejects while under its 6x bound, oversize ones.
REFUSALS: tuple[dict[Any, Any], ...] = (
    {"Version": "2012-10-17", "Statement": [_ALLOW], "Extra": b"bytes"},
    {"Version": "2012-10-17", "Statement": [{**_ALLOW, "Sid": b"bytes"}]},
    {"Version": "2012-10-17", "Statement": [{**_ALLOW, "Action": b"s3:GetObject"}]},
    {"Statement": [{**_ALLOW, "Condition": {"StringEquals": {"aws:SourceVpce": b"vpce-1"}}}]},
    {"Statement": [{**_ALLOW, "Condition": {"StringEquals": {("aws", "SourceVpce"): "vpce-1"}}}]},
    {"Statement": [{**_ALLOW, "Condition": {"StringEquals": {7: "vpce-1"}}}]},
    {"Statement": [_ALLOW], ("not", "a string"): "key"},
    {"Statement": [_ALLOW], 7: "key"},
    {"Statement": [{**_ALLOW, "Effect": "Maybe"}]},
    {"Statement": [{**_ALLOW, "Action": 7}]},
    {"Statement": [{**_ALLOW, "Principal": {"AWS": ["999988887777", 7]}}]},
    {"Statement": [{**_ALLOW, "Condition": {"StringEquals": "aws:SourceVpce"}}]},
    {"Statement": [_ALLOW, "not a statement"]},
    {"Statement": "not a statement"},
    {"Statement": dict(_ALLOW)},
    {"Statement": {**_ALLOW, "Principal": "*"}},
    {"Version": "2012-10-17"},
    {"Statement": []},
    {"Statement": [_ALLOW], "Id": 7},
    {"Statement": [_ALLOW], "Id": "named", "Extra": {"nested": ["list"]}},
    {"Statement": [_ALLOW], "Extra": None},
    {"Statement": [{**_ALLOW, "Unknown": ["element"]}]},
    {"Statement": [{**_ALLOW, "Unknown": "element"}]},
    {"Statement": [{**_ALLOW, "Principal": "*", "Resource": ["arn:aws:s3:::b/" + "k" * 60] * 40}]},
    {"Statement": [{**_ALLOW, "Principal": "*", "Resource": ["arn:aws:s3:::b/" + "k" * 60] * 400}]},
    {"Statement": [{**_ALLOW, "Principal": "*", "Sid": "s" * 21000}]},
    {"Statement": [{**_ALLOW, "Principal": "*", "Sid": "\u00e9" * 1500}]},
    {"Statement": [{**_ALLOW, "Principal": "*", "Action": "s3:GetObject", "Extra": b"x" * 30000}]},
)


def _forget() -> None:
    """Every cache the policy analysis keeps emptied (``bench_custodian.forget_everything``, which cannot be
    imported without Custodian: ``test_forget_empties_what_the_benchmark_empties`` holds the two equal): a first
    sight."""
    documents._PARSED.clear()
    documents._REFUSED.clear()
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
    for kind in (PolicyKind.BUCKET, PolicyKind.TRUST):
        _forget()
        try:
            value = copy.deepcopy(document) if kind is PolicyKind.BUCKET else json.dumps(document)
            loaded = load_policy(value, kind, field=FIELD)
        except Exception as exc:  # the refusal is an answer too (and JSON's, for a trust policy it cannot spell)
            answers.append(["error", type(exc).__name__, str(exc)])
            continue
        answers.append(_canonical(loaded))

        def judge(
            boundary: TrustBoundary,
            circumstances: Circumstances | None,
            loaded: Policy = loaded,
            kind: PolicyKind = kind,
        ) -> Any:
            """The verdict for one context: the bucket rule's for a bucket policy, else the trust rule's."""
            try:
                if kind is PolicyKind.BUCKET:
                    verdict: Any = BUCKET_POLICY_RULE.exposures(loaded, boundary, circumstances)
                else:
                    verdict = policy_problems(loaded, boundary, vendors, circumstances, federation)
            except Exception as exc:  # so is a judgement's failure
                verdict = ["error", type(exc).__name__, str(exc)]
            return _canonical(verdict, statements_by_position=True)

        for boundary in boundaries:
            for circumstances in CIRCUMSTANCES:
                _forget()
                answers.append(judge(boundary, circumstances))  # first sight
                answers.append(judge(boundary, circumstances))  # seen before: the kept verdict
        # Every context in turn with nothing forgotten, circumstances outermost then boundary outermost: each
        # context's verdict is asked right after another's was kept, whichever part of the key that one lacks.
        _forget()
        for circumstances in CIRCUMSTANCES:
            for boundary in boundaries:
                answers.append(judge(boundary, circumstances))
        for boundary in reversed(boundaries):
            for circumstances in reversed(CIRCUMSTANCES):
                answers.append(judge(boundary, circumstances))
    return answers


def _digests() -> list[str]:
    return [
        hashlib.sha256(json.dumps(_answers(document), sort_keys=True).encode()).hexdigest()[:16]
        for document in (*corpus_documents(), *REFUSALS)
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


def test_forget_empties_what_the_benchmark_empties() -> None:
    """``_forget`` is a first sight exactly as the benchmark's is: its body is ``forget_everything``'s."""

    def body(source: str, name: str) -> list[str]:
        found = next(node for node in ast.walk(ast.parse(source)) if getattr(node, "name", None) == name)
        assert isinstance(found, ast.FunctionDef)
        return [ast.unparse(statement) for statement in found.body[1:]]  # after the docstring

    bench = body((ROOT / "bench" / "bench_custodian.py").read_text(), "forget_everything")
    assert bench == body(Path(__file__).read_text(), "_forget")
    assert len(bench) >= 7


def test_the_refusals_are_refused() -> None:
    """``REFUSALS`` reaches the error paths it is there for: most of its documents are refused as some kind."""
    refused = [answers for answers in map(_answers, REFUSALS) if ["error"] in [answer[:1] for answer in answers]]
    assert len(refused) > len(REFUSALS) // 2


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    target = Path(sys.argv[0]).resolve().parents[2] / "tests" / "snapshots" / "first_sight" / "verdicts.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"digests": _digests()}, indent=0) + "\n")
