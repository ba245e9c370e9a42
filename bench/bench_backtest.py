"""``iamwarden backtest`` throughput against just decompressing the same files (``gzip -dc > /dev/null``).

Generates a CloudTrail history of at least 1 GB uncompressed (demo.backtest.write_history: gzipped log
files as CloudTrail writes them, about 1.4 KB a record, over 95 % read-only noise) into a temporary
folder, deleted afterwards. Then, side by side on the same (cached) files, on one core and on all of
them: ``gzip -dc`` of every file to /dev/null, and ``iamwarden backtest`` of the folder. Reports MB/s
(uncompressed) and records/s per core; the target is a backtest within 2x of gzip's time.

    PYTHONPATH=layers/core:. .venv/bin/python bench/bench_backtest.py [--gb 1.0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from demo.backtest import write_history

ROOT = Path(__file__).resolve().parents[1]
IAMWARDEN = Path(sys.executable).parent / "iamwarden"
SETTINGS = ROOT / "events" / "settings.yaml"
RECORDS_PER_FILE = 520
FILES_PER_DAY = 25
REGIONS = ("us-east-1", "eu-west-1")
BYTES_PER_DAY_ESTIMATE = 1.38e3 * RECORDS_PER_FILE * FILES_PER_DAY * len(REGIONS)


def _one_day(job: tuple[str, int]) -> Counter[str]:
    root, offset = job
    return write_history(
        Path(root),
        start=date(2026, 10, 1) + timedelta(days=offset),
        days=1,
        regions=REGIONS,
        files_per_day=FILES_PER_DAY,
        records_per_file=RECORDS_PER_FILE,
        changes_per_file=0.5,
        seed=offset,
    )


def generate(root: Path, gigabytes: float, jobs: int) -> tuple[Counter[str], int]:
    days = max(1, int(gigabytes * 2**30 / BYTES_PER_DAY_ESTIMATE) + 1)  # GiB, so "1 GB" holds either way
    stats: Counter[str] = Counter()
    with ProcessPoolExecutor(jobs) as pool:
        for counts in pool.map(_one_day, [(str(root), offset) for offset in range(days)]):
            stats.update(counts)
    return stats, days


def gzip_seconds(files: list[Path], jobs: int) -> float:
    """``gzip -dc`` of every file to /dev/null, ``jobs`` gzip processes at a time (xargs -P)."""
    listing = "\0".join(str(path) for path in files).encode()
    started = time.perf_counter()
    subprocess.run(
        ["xargs", "-0", "-n", "64", "-P", str(jobs), "gzip", "-dc"],
        input=listing,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


def backtest_seconds(root: Path, jobs: int) -> tuple[float, str]:
    started = time.perf_counter()
    answer = subprocess.run(
        [str(IAMWARDEN), "backtest", str(root), "--config", str(SETTINGS), "--jobs", str(jobs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, answer.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="uncompressed size of the history (1.0)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="iamwarden-backtest-bench-"))
    try:
        started = time.perf_counter()
        stats, days = generate(folder, args.gb, cores)
        files = sorted(folder.rglob("*.json.gz"))
        megabytes = stats["bytes"] / 1e6
        print(
            f"backtest bench: {days} days, {len(files):,} log files, {stats['records']:,} records "
            f"({stats['read-only'] / stats['records']:.1%} read-only, {stats['changes']:,} changes a rule judges), "
            f"{megabytes:,.0f} MB uncompressed, "
            f"{stats['gzipped bytes'] / 1e6:,.0f} MB gzipped, {stats['bytes'] / stats['records']:,.0f} B a record; "
            f"generated in {time.perf_counter() - started:.0f} s"
        )
        gzip_seconds(files, cores)  # warm the page cache: both sides then read from memory
        _, summary = backtest_seconds(folder, cores)
        read_only = [line for line in summary.splitlines() if line.startswith("Read ")]
        print(f"  {read_only[0] if read_only else summary.splitlines()[:2]}")
        print(f"  {'':<22}{'seconds':>9}{'MB/s':>9}{'MB/s/core':>11}{'records/s/core':>16}{'vs gzip':>9}")
        ok = True
        for jobs in sorted({1, cores}):
            gzip_time = gzip_seconds(files, jobs)
            backtest_time, _ = backtest_seconds(folder, jobs)
            timings = ((f"gzip -dc, {jobs} core(s)", gzip_time), (f"backtest, {jobs} core(s)", backtest_time))
            for label, seconds in timings:
                rate = megabytes / seconds
                print(
                    f"  {label:<22}{seconds:>9.2f}{rate:>9.0f}{rate / jobs:>11.0f}"
                    f"{stats['records'] / seconds / jobs:>16,.0f}{seconds / gzip_time:>8.2f}x"
                )
            ok = ok and backtest_time <= 2 * gzip_time
        print(f"  target: backtest within 2x of gzip -dc: {'met' if ok else 'NOT met'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
