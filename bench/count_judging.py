"""Machine instructions a pass of `bench/bench.py`'s first rows (every sample judged in rotation), by callgrind.

``bench/bench.py`` judges every sample in turn, again and again; its rate on a shared, loaded machine swings with the
load, an instruction count does not. Each run is made under ``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0``,
``HIGH`` passes and ``LOW`` passes; the difference of the two totals over ``HIGH - LOW`` is the steady cost of a pass,
without start-up, imports and the first passes' warm-up. Any tree and any sample set can be counted (the tree is the
``iamwarden`` on ``PYTHONPATH``, the samples a directory of ``*.json`` with its ``settings.yaml``)::

    .venv/bin/python bench/count_judging.py                       # this tree, events/, dicts and raw JSON
    PYTHONPATH=/tmp/old/layers/core .venv/bin/python bench/count_judging.py --events /tmp/old/events dicts
    .venv/bin/python bench/count_judging.py --per-sample dicts    # also each sample's share of a steady pass
    .venv/bin/python bench/count_judging.py --caches              # no valgrind: bounded caches that churn

``--per-sample`` runs one more pass with a dump before each sample (``--dump-before=getppid``: the marker is
``os.getppid()``), so each sample's instructions in rotation are read from its dump. ``--caches`` runs the passes
natively and reports, for every module-level cache of ``iamwarden``, the keys that came in during the steady passes
(a bounded cache smaller than the rotation's working set evicts and refills on every pass).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HIGH = int(os.environ.get("COUNT_HIGH", "8"))
LOW = int(os.environ.get("COUNT_LOW", "3"))


def samples(events: Path, form: str) -> tuple[list[str], list[bytes | dict[str, Any]]]:
    """The sample names and inputs as ``bench/bench.py`` builds them (dicts: the not-JSON sample stays raw)."""
    paths = sorted(events.glob("*.json"))
    inputs: list[bytes | dict[str, Any]] = []
    for path in paths:
        data = path.read_bytes()
        if form == "raw":
            inputs.append(data)
            continue
        try:
            inputs.append(json.loads(data))
        except ValueError:
            inputs.append(data)
    return [path.name for path in paths], inputs


def run(events: Path, form: str, passes: int, mark: bool) -> None:
    """``passes`` passes over the samples (what callgrind counts); with ``mark``, one marked pass after them."""
    from iamwarden.app.settings_file import load_settings_file
    from iamwarden.guardrails.engine import judge_event

    settings = load_settings_file(events / "settings.yaml")
    _, inputs = samples(events, form)
    for _ in range(passes):
        for raw in inputs:
            judge_event(raw, settings)
    if mark:
        marker = os.getppid
        for raw in inputs:
            marker()
            judge_event(raw, settings)
        marker()


def cache_churn(events: Path, form: str) -> None:
    """Keys that enter each module-level cache of ``iamwarden`` during steady passes (evictions and refills)."""
    from iamwarden.app.settings_file import load_settings_file
    from iamwarden.guardrails.engine import judge_event

    settings = load_settings_file(events / "settings.yaml")
    _, inputs = samples(events, form)

    def caches() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, module in list(sys.modules.items()):
            if not name.startswith("iamwarden"):
                continue
            for attribute, value in vars(module).items():
                if isinstance(value, dict) and attribute.startswith("_") and attribute.upper() == attribute:
                    found[f"{name}.{attribute}"] = value
                elif hasattr(value, "cache_info") and getattr(value, "__module__", None) == name:
                    found[f"{name}.{attribute}()"] = value
        return found

    for _ in range(LOW):
        for raw in inputs:
            judge_event(raw, settings)
    before: dict[str, Any] = {}
    for name, cache in caches().items():
        before[name] = cache.cache_info() if hasattr(cache, "cache_info") else set(cache)
    steady = HIGH - LOW
    for _ in range(steady):
        for raw in inputs:
            judge_event(raw, settings)
    for name, cache in sorted(caches().items()):
        if hasattr(cache, "cache_info"):
            info = cache.cache_info()
            old = before.get(name)
            misses = info.misses - (old.misses if old else 0)
            if misses:
                print(f"{name:<70} {misses / steady:>8,.1f} misses a pass  size {info.currsize}/{info.maxsize}")
        else:
            new = len(set(cache) - before.get(name, set()))
            if new:
                print(f"{name:<70} {new / steady:>8,.1f} new keys a pass  size {len(cache)}")


def count(events: Path, form: str, passes: int, mark: bool, scratch: Path) -> Path:
    """Run ``passes`` passes under callgrind; the output file (with ``mark``, the base name of the dumps)."""
    out = scratch / f"callgrind.{form}.{passes}.out"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no"]
    if mark:
        command.append("--dump-before=getppid")
    command += [sys.executable, __file__, "--run", form, str(passes), "--events", str(events)]
    if mark:
        command.append("--mark")
    subprocess.run(command, env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True)
    return out


def total(path: Path) -> int:
    """The instruction total of one callgrind output file."""
    found = re.search(r"^(?:summary|totals):\s*(\d+)", path.read_text(), re.MULTILINE)
    if found is None:
        raise SystemExit(f"no total in {path}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("forms", nargs="*", choices=["dicts", "raw"])
    parser.add_argument("--events", type=Path, default=ROOT / "events")
    parser.add_argument("--run", nargs=2, metavar=("FORM", "PASSES"))
    parser.add_argument("--mark", action="store_true")
    parser.add_argument("--per-sample", action="store_true")
    parser.add_argument("--caches", action="store_true")
    arguments = parser.parse_args()
    if arguments.run:
        run(arguments.events, arguments.run[0], int(arguments.run[1]), arguments.mark)
        return
    for form in arguments.forms or ["dicts", "raw"]:
        if arguments.caches:
            print(f"{form}: caches with keys coming in during passes {LOW + 1}-{HIGH}")
            cache_churn(arguments.events, form)
            continue
        names, _ = samples(arguments.events, form)
        with tempfile.TemporaryDirectory() as directory:
            scratch = Path(directory)
            high = total(count(arguments.events, form, HIGH, False, scratch))
            low = total(count(arguments.events, form, LOW, False, scratch))
            per_pass = (high - low) / (HIGH - LOW)
            print(
                f"{form:<5} {per_pass:>14,.0f} instructions a pass of {len(names)} samples, "
                f"{per_pass / len(names):>9,.0f} an event (passes {LOW + 1}-{HIGH})"
            )
            if arguments.per_sample:
                base = count(arguments.events, form, LOW, True, scratch)
                dumps = sorted(
                    (int(path.name.rsplit(".", 1)[1]), path)
                    for path in scratch.glob(base.name + ".*")
                    if path.name.rsplit(".", 1)[1].isdigit()
                )
                # Dump 1 ends at the first marker (start-up and the passes before); dump k + 1 is sample k.
                shares = [total(path) for _, path in dumps[1 : len(names) + 1]]
                for name, share in sorted(zip(names, shares, strict=True), key=lambda pair: -pair[1]):
                    print(f"  {share:>12,} {name}")


if __name__ == "__main__":
    main()
