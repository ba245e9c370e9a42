"""Machine instructions a policy for ``bench_custodian.py``'s first-sight sides, counted by callgrind.

Wall-clock rates on a shared two-core machine swing by up to 2 x between runs of the same tree; an
instruction count does not. Run in ``.bench-venv`` (c7n is needed only for the Custodian side)::

    .bench-venv/bin/python bench/count_first_sight.py                 # every side, the table
    .bench-venv/bin/python bench/count_first_sight.py first judging   # some sides
    .bench-venv/bin/python bench/count_first_sight.py --run first 120  # one side, 120 rounds (what callgrind runs)

With no argument each side (first sight, loading alone, judging alone, Custodian's check) is run under
``valgrind --tool=callgrind`` twice, ``ROUNDS`` rounds and ``WARMUP`` rounds, with ``PYTHONHASHSEED=0`` and
garbage collection off; the difference of the two totals divided by the policies judged in the extra
rounds is the steady cost a policy, without start-up, imports and the first rounds' warm-up.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("COUNT_ROUNDS", "120"))
WARMUP = int(os.environ.get("COUNT_WARMUP", "20"))
SIDES = ("first", "loading", "judging", "custodian")


def run_side(side: str, rounds: int) -> None:
    """Run ``rounds`` rounds of one side over every sample policy (what callgrind counts)."""
    work, policies = prepare(side)
    gc.disable()
    work(rounds)
    print(policies)


def prepare(side: str) -> tuple[Callable[[int], None], int]:
    """The rounds of one side over every sample policy, and how many policies a round judges."""
    sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT / "bench")]
    bc = importlib.import_module("bench_custodian")  # its sample policies and cache clearing, as make bench runs them
    from c7n.filters.iamaccess import PolicyChecker

    from iamwarden.app.settings_file import load_settings_file
    from iamwarden.domain.documents import PolicyKind, load_policy
    from iamwarden.domain.events import instant
    from iamwarden.domain.exposure import Circumstances
    from iamwarden.guardrails.bucket_policy import BUCKET_POLICY_RULE
    from iamwarden.guardrails.trust_policy import TRUST_POLICY_UNTRUSTED, FederationBoundary, policy_problems

    settings = load_settings_file(ROOT / "events" / "settings.yaml")
    policies = bc.sample_policies()
    boundary = settings.boundary("111122223333")
    circumstances = Circumstances("us-east-1", instant("2026-03-02T10:00:00Z"))
    vendors = settings.rule(TRUST_POLICY_UNTRUSTED.id).patterns("third_party_accounts")
    federation = FederationBoundary(settings.github_owners, settings.cognito_identity_pools)
    field = "detail.requestParameters.policy"
    parsed = [(load_policy(value, kind, field=field), kind) for value, kind in policies]
    checker = PolicyChecker(
        {
            "allowed_accounts": {"111122223333", *settings.trusted_accounts},
            "allowed_orgid": [settings.organization_id] if settings.organization_id else [],
            "allowed_vpce": list(settings.trusted_networks),
        }
    )
    logging.disable(logging.WARNING)  # c7n logs every condition key it has no handler for
    forget = bc.forget_everything
    rule = BUCKET_POLICY_RULE
    problems = policy_problems
    bucket = PolicyKind.BUCKET
    trust = PolicyKind.TRUST

    def work(rounds: int) -> None:
        for _ in range(rounds):
            if side == "first":
                for value, kind in policies:
                    forget()
                    if kind is bucket:
                        rule.exposures(rule.decoded(value, field), boundary, circumstances)
                    else:
                        problems(load_policy(value, trust, field=field), boundary, vendors, circumstances, federation)
            elif side == "loading":
                for value, kind in policies:
                    forget()
                    load_policy(value, kind, field=field)
            elif side == "judging":
                for loaded, kind in parsed:
                    forget()
                    if kind is bucket:
                        rule.exposures(loaded, boundary, circumstances)
                    else:
                        problems(loaded, boundary, vendors, circumstances, federation)
            else:
                for value, _ in policies:
                    checker.check(value)

    return work, len(policies)


def count(side: str, rounds: int) -> tuple[int, int]:
    """Total instructions callgrind counts for one run of ``side``, and the number of policies."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--run",
                side,
                str(rounds),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        totals = re.search(r"^(?:summary|totals):\s*(\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise SystemExit(f"no total in callgrind's output for {side}")
        return int(totals.group(1)), int(done.stdout.split()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--run"]:
        run_side(sys.argv[2], int(sys.argv[3]))
        return
    sides = sys.argv[1:] or list(SIDES)
    figures: dict[str, float] = {}
    for side in sides:
        high, policies = count(side, ROUNDS)
        low, _ = count(side, WARMUP)
        figures[side] = (high - low) / ((ROUNDS - WARMUP) * policies)
        print(
            f"{side:<10} {figures[side]:>10,.0f} instructions a policy ({policies} policies, {ROUNDS}-{WARMUP} rounds)"
        )
    if "first" in figures and "custodian" in figures:
        print(f"first sight vs Custodian: {figures['custodian'] / figures['first']:.3f} x")


if __name__ == "__main__":
    main()
