"""IAM Warden's policy analysis side by side with Cloud Custodian's, and the whole-power judgement's rate.

Run by ``make bench`` in its own virtual environment (``.bench-venv``, with c7n installed: never a
runtime dependency of IAM Warden). Both sides run in this one process on the same policies, the
bucket and trust policies of the sample events, exactly as CloudTrail delivers them (S3's
``bucketPolicy`` as an object, IAM's trust policies as JSON text):

* Cloud Custodian: ``c7n.filters.iamaccess.PolicyChecker.check`` (the machinery of its
  ``cross-account`` filter), configured with the sample settings' trusted accounts, organisation
  and endpoint;
* IAM Warden: the very functions its rules call on a document, with the circumstances a rule has offline
  (the event's Region and time): the bucket-policy rule's ``decoded`` (``load_policy``: decode, size
  check, parse) and ``exposures`` (every statement's exposure, one verdict per document); the trust-policy
  rule's ``load_policy`` and ``policy_problems``. Once on first sight: every cache the analysis keeps
  (parsed documents, duplicate keys found, whole-document verdicts, statement exposures, condition operator
  spellings) is emptied before each policy, so no document, statement or operator has been seen before; once on a
  document seen before, as a warm enforcer container sees it: the same documents in new events, so each
  pass judges fresh equal copies (parsed from JSON again) and nothing is found by an object's identity.

Fifteen rounds (BENCH_ROUNDS) alternate the order of the sides, each side running BENCH_SECONDS in all;
the table gives the median policies per second of each and the ratio (Custodian's side reads the same
fresh copies). Two more sides split first sight: loading alone (``load_policy``: decode, size check,
parse, every cache emptied first) and judging alone (the rules' judgement of the parsed policies, every
cache emptied first); a rate is the inverse of a time, so the two rates compose as 1/a + 1/b = 1/first sight.
Then ``assess_principal`` on the escalation corpus's principals (iam-vulnerable, every
principal with its policies, PassRole resolved through a RoleDirectory over them): principals and
policies judged per second.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

from c7n.filters.iamaccess import PolicyChecker  # noqa: E402

from iamwarden.app.settings_file import load_settings_file  # noqa: E402
from iamwarden.domain import documents, escalation, exposure, judged, policy  # noqa: E402
from iamwarden.domain.documents import PolicyKind, load_policy  # noqa: E402
from iamwarden.domain.escalation import assess_principal  # noqa: E402
from iamwarden.domain.events import instant  # noqa: E402
from iamwarden.domain.exposure import Circumstances  # noqa: E402
from iamwarden.domain.policy import parse_policy  # noqa: E402
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies  # noqa: E402
from iamwarden.domain.wildcards import arn_match  # noqa: E402
from iamwarden.guardrails import registry  # noqa: E402, F401 - registers the rules the settings name
from iamwarden.guardrails.bucket_policy import BUCKET_POLICY_RULE  # noqa: E402
from iamwarden.guardrails.trust_policy import (  # noqa: E402
    TRUST_POLICY_UNTRUSTED,
    FederationBoundary,
    policy_problems,
)

COPIES = 64
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
_PARAMETERS = {
    "PutBucketPolicy": ("bucketPolicy", PolicyKind.BUCKET),
    "CreateRole": ("assumeRolePolicyDocument", PolicyKind.TRUST),
    "UpdateAssumeRolePolicy": ("policyDocument", PolicyKind.TRUST),
}


def sample_policies() -> list[tuple[Any, PolicyKind]]:
    """The bucket and trust policies of the sample events that both tools can read."""
    found: list[tuple[Any, PolicyKind]] = []
    for path in sorted((ROOT / "events").glob("*.json")):
        try:
            detail = json.loads(path.read_bytes())["detail"]
        except (ValueError, KeyError):
            continue
        parameter, kind = _PARAMETERS.get(detail.get("eventName"), (None, None))
        if parameter is None or kind is None or detail.get("errorCode"):
            continue
        value = (detail.get("requestParameters") or {}).get(parameter)
        try:
            load_policy(value, kind, field="bench")
        except Exception:  # noqa: S112 - the malformed samples: neither tool is timed on a document it rejects
            continue
        found.append((value, kind))
    return found


def per_second(work: Callable[[], int]) -> float:
    """Policies per second of one timed stretch of ``work`` (which returns how many it judged)."""
    count, start = 0, time.perf_counter()
    deadline = start + SECONDS / ROUNDS
    while time.perf_counter() < deadline:
        count += work()
    return count / (time.perf_counter() - start)


def main() -> None:
    logging.disable(logging.WARNING)  # c7n logs every condition key it has no handler for
    settings = load_settings_file(ROOT / "events" / "settings.yaml")
    policies = sample_policies()
    owner = "111122223333"
    boundary = settings.boundary(owner)
    checker = PolicyChecker(
        {
            "allowed_accounts": {owner, *settings.trusted_accounts},
            "allowed_orgid": [settings.organization_id] if settings.organization_id else [],
            "allowed_vpce": list(settings.trusted_networks),
        }
    )

    # A warm container sees the same documents again in new events: equal content, never the same objects.
    # Each pass of either side judges another of these copies, so nothing can be found by an object's identity.
    copies = [[(json.loads(json.dumps(value)), kind) for value, kind in policies] for _ in range(COPIES)]
    passes = iter(range(1 << 62))

    def custodian() -> int:
        for value, _ in copies[next(passes) % COPIES]:
            checker.check(value)
        return len(policies)

    # What RuleContext.circumstances() gives a rule offline: the event's Region and time, no network lookup.
    circumstances = Circumstances("us-east-1", instant("2026-03-02T10:00:00Z"))
    vendors = settings.rule(TRUST_POLICY_UNTRUSTED.id).patterns("third_party_accounts")
    federation = FederationBoundary(settings.github_owners, settings.cognito_identity_pools)
    field = "detail.requestParameters.policy"

    def judge(value: Any, kind: PolicyKind) -> None:
        """What the bucket-policy or trust-policy rule does with the document, short of wording a finding."""
        if kind is PolicyKind.BUCKET:
            BUCKET_POLICY_RULE.exposures(BUCKET_POLICY_RULE.decoded(value, field), boundary, circumstances)
        else:
            policy_problems(
                load_policy(value, PolicyKind.TRUST, field=field), boundary, vendors, circumstances, federation
            )

    def warden_warm() -> int:
        for value, kind in copies[next(passes) % COPIES]:
            judge(value, kind)
        return len(policies)

    def warden_cold() -> int:
        for value, kind in policies:
            forget_everything()
            judge(value, kind)
        return len(policies)

    # Where first sight goes: loading alone (decode, size check, parse), and judging alone (parsed already).
    parsed = [(load_policy(value, kind, field=field), kind) for value, kind in policies]

    def warden_cold_loading() -> int:
        for value, kind in policies:
            forget_everything()
            load_policy(value, kind, field=field)
        return len(policies)

    def warden_cold_judging() -> int:
        for loaded, kind in parsed:
            forget_everything()
            if kind is PolicyKind.BUCKET:
                BUCKET_POLICY_RULE.exposures(loaded, boundary, circumstances)
            else:
                policy_problems(loaded, boundary, vendors, circumstances, federation)
        return len(policies)

    sides: dict[str, Callable[[], int]] = {
        "Cloud Custodian PolicyChecker": custodian,
        "IAM Warden, first sight (caches cleared)": warden_cold,
        "  of which loading alone (decode, size check, parse)": warden_cold_loading,
        "  of which judging alone (already parsed)": warden_cold_judging,
        "IAM Warden, document seen before": warden_warm,
    }
    rates: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_index in range(ROUNDS):  # interleaved, the order rotating so drift hits every side alike
        for name in names[round_index % len(names) :] + names[: round_index % len(names)]:
            rates[name].append(per_second(sides[name]))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    custodian_rate = medians["Cloud Custodian PolicyChecker"]

    principals, directory = corpus_principals()
    policy_count = sum(len(p.policies) for p in principals)

    def whole_power() -> int:
        escalation._ASSESSED.clear()
        for principal in principals:
            assess_principal(principal, directory)
        return len(principals)

    principal_rates = [per_second(whole_power) for _ in range(ROUNDS)]
    principal_rate = statistics.median(principal_rates)

    rows = [
        ("bucket and trust policies (sample events)", f"{len(policies)}", "in-process, same documents"),
        *(
            (f"{name}: policies/s (median of {ROUNDS})", f"{rate:,.0f}", f"{rate / custodian_rate:.2f} x Custodian")
            for name, rate in medians.items()
        ),
        ("assess_principal: principals/s (iam-vulnerable corpus)", f"{principal_rate:,.0f}", f"{len(principals)}"),
        (
            "assess_principal: policies/s",
            f"{principal_rate * policy_count / len(principals):,.0f}",
            "PassRole resolved via RoleDirectory",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'measure':<{width}}  {'value':>12}  note")
    print(f"{'-' * width}  {'-' * 12}  {'-' * 24}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")


def forget_everything() -> None:
    """Empty every cache the policy analysis keeps, so the next document is judged on first sight."""
    documents._PARSED.clear()
    documents._REFUSED.clear()
    documents._DUPLICATES.clear()
    documents._READINGS.clear()
    exposure._EXPOSURES.clear()
    exposure._BY_POLICY.clear()
    policy._OPERATORS.clear()
    judged.forget()


class _Directory:
    def __init__(self, known: dict[str, PrincipalPolicies]) -> None:
        self.known = known

    def principal(self, principal_arn: str) -> PrincipalPolicies | None:
        return self.known.get(principal_arn)

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        return tuple(arn for arn in self.known if ":role/" in arn and arn_match(pattern, arn))

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        return None


def corpus_principals() -> tuple[list[PrincipalPolicies], _Directory]:
    data = json.loads((ROOT / "tests" / "corpora" / "escalation" / "iam-vulnerable.json").read_text())
    principals = [
        PrincipalPolicies(
            case["principal"],
            tuple(NamedPolicy(item["source"], parse_policy(item["document"])) for item in case["policies"]),
        )
        for case in data["cases"]
    ]
    return principals, _Directory({p.principal_arn: p for p in principals})


if __name__ == "__main__":
    main()
