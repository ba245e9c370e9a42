"""Read a history in parallel and judge every in-scope event exactly as the enforcer would; act on nothing.

Each file is read, decompressed, pre-filtered and judged in one worker process
(one per core): a worker returns only the rows of its findings and its counts,
so little crosses between processes. S3 objects are fetched by threads in the
parent and handed to the workers as bytes. With one job everything runs in
this process (tests, and moto's in-process S3).
"""

from __future__ import annotations

import copyreg
import multiprocessing
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, TextIO

from iamwarden.backtest.adapters.s3 import S3History, S3Object, describe_error
from iamwarden.backtest.domain.authorization import AuthorizationDetails
from iamwarden.backtest.domain.records import (
    BYTES,
    FILES,
    MALFORMED_FILES,
    MALFORMED_RECORDS,
    DateRange,
    Event,
    Problem,
    Scan,
    new_scan,
    scan_content,
)
from iamwarden.backtest.domain.report import Row, rows_of
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event

_PATH_DAY = re.compile(r"[/\\](\d{4})[/\\](\d{2})[/\\](\d{2})(?:[/\\]|$)")
_READABLE = (".gz", ".json", ".csv", ".jsonl", ".ndjson")


class Judging(NamedTuple):
    """What every worker needs to judge: the settings (and the other settings to compare), context, dates."""

    settings: Settings
    other: Settings | None = None
    documents: AuthorizationDetails | None = None
    dates: DateRange = DateRange()


class Result(NamedTuple):
    """What one file (or the whole run, once merged) gave."""

    counts: Counter[str]
    verdicts: Counter[str]
    rows: list[Row]
    other_rows: list[Row]
    problems: list[Problem]

    @classmethod
    def empty(cls) -> Result:
        return cls(Counter(), Counter(), [], [], [])

    def merge(self, other: Result) -> None:
        self.counts.update(other.counts)
        self.verdicts.update(other.verdicts)
        self.rows.extend(other.rows)
        self.other_rows.extend(other.other_rows)
        self.problems.extend(other.problems)


def judge_scan(scan: Scan, judging: Judging) -> Result:
    """Judge every event of a scan with the enforcer's ``judge_event`` (and again with the other settings)."""
    result = Result(scan.counts, Counter(), [], [], list(scan.problems))
    for event in scan.events:
        documents = _documents_for(event, judging.documents)
        judgement = judge_event(event.event, judging.settings, documents)
        result.verdicts[judgement.verdict.value] += 1
        if judgement.verdict is Verdict.INVALID and not judgement.rejected:
            result.counts[MALFORMED_RECORDS] += 1
            result.problems.append(Problem(event.where, f"not a valid CloudTrail event: {judgement.reason}"))
            continue
        result.rows.extend(rows_of(event.where, judgement))
        if judging.other is not None:
            result.other_rows.extend(rows_of(event.where, judge_event(event.event, judging.other, documents)))
    return result


def _documents_for(event: Event, details: AuthorizationDetails | None) -> AuthorizationDetails | None:
    """The snapshot, for an event of an account it describes; otherwise none (the rule says it cannot judge)."""
    if details is None or not isinstance(event.event, Mapping):
        return None
    return details if event.event.get("account") in details.accounts else None


def judge_file(path: str, judging: Judging) -> Result:
    """Read and judge one local file; an unreadable file is a problem, never an exception."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        scan = new_scan()
        scan.counts[FILES] += 1
        scan.counts[MALFORMED_FILES] += 1
        scan.problems.append(Problem(path, f"cannot read: {exc.strerror or exc}"))
        return judge_scan(scan, judging)
    return judge_scan(scan_content(path, data, judging.dates), judging)


def judge_bytes(name: str, data: bytes, judging: Judging) -> Result:
    return judge_scan(scan_content(name, data, judging.dates), judging)


def read_only(values: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(values)


def _proxy_copy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return read_only, (dict(proxy),)


# Settings hold read-only mappings (mappingproxy), which pickle cannot send to a worker by itself: send a copy.
copyreg.pickle(MappingProxyType, _proxy_copy)

# Worker processes get the judging once (initializer), not with every file.
_WORKER: Judging | None = None


def _init_worker(judging: Judging) -> None:
    global _WORKER  # noqa: PLW0603 - one per worker process, set before any task runs
    _WORKER = judging


def _worker_file(path: str) -> Result:
    assert _WORKER is not None  # noqa: S101 - set by the pool's initializer
    return judge_file(path, _WORKER)


def _worker_bytes(name: str, data: bytes) -> Result:
    assert _WORKER is not None  # noqa: S101 - set by the pool's initializer
    return judge_bytes(name, data, _WORKER)


# --- sources ----------------------------------------------------------------------------------


def local_files(source: str, dates: DateRange) -> Iterator[str]:
    """The readable files of a file or folder tree, sorted; day folders (YYYY/MM/DD) outside the range are skipped."""
    path = Path(source)
    if path.is_file():
        yield str(path)
        return
    for folder, subfolders, names in os.walk(path):
        subfolders.sort()
        subfolders[:] = [name for name in subfolders if name != "CloudTrail-Digest"]
        if not _folder_in_range(folder, dates):
            subfolders[:] = []
            continue
        for name in sorted(names):
            if name.lower().endswith(_READABLE):
                yield os.path.join(folder, name)


def _folder_in_range(folder: str, dates: DateRange) -> bool:
    match = _PATH_DAY.search(folder)
    return match is None or dates.contains_day(f"{match[1]}-{match[2]}-{match[3]}")


class Progress:
    """A one-line progress bar on a terminal: files, data read and its rate."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._shown = 0.0

    def step(self, result: Result) -> None:
        self.done += 1
        self.bytes += result.counts[BYTES]
        now = time.monotonic()
        if now - self._shown >= 0.1 or self.done == self.total:
            self._shown = now
            width = 30
            filled = width * self.done // max(self.total, 1)
            rate = self.bytes / max(now - self.started, 1e-6) / 1e6
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} files, "
                f"{self.bytes / 1e6:,.0f} MB, {rate:,.0f} MB/s "
            )
            self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class Source(NamedTuple):
    """One file to judge: a local path, or an S3 object."""

    name: str
    s3: S3Object | None = None


def judge_sources(
    sources: Sequence[Source],
    judging: Judging,
    *,
    jobs: int,
    history: S3History | None = None,
    progress: Progress | None = None,
) -> Result:
    """Judge every source, ``jobs`` processes at a time; S3 objects are fetched by threads here."""
    total = Result.empty()

    def add(result: Result) -> None:
        total.merge(result)
        if progress is not None:
            progress.step(result)

    jobs = min(jobs, len(sources))  # a few files are judged here: starting workers would cost more
    if jobs <= 1:
        for source in sources:
            add(_judge_here(source, judging, history))
        return total
    # fork starts workers fastest, but only a single-threaded parent may fork safely; S3 sources are fetched by
    # threads here (and tests run moto's), so then the workers come from a forkserver.
    remote = [source for source in sources if source.s3 is not None]
    single = threading.active_count() == 1 and not remote
    context = multiprocessing.get_context("fork" if single else "forkserver")
    with ProcessPoolExecutor(jobs, context, initializer=_init_worker, initargs=(judging,)) as pool:
        futures: list[Future[Result]] = [
            pool.submit(_worker_file, source.name) for source in sources if source.s3 is None
        ]
        if remote and history is not None:
            with ThreadPoolExecutor(max_workers=8) as threads:
                for source, fetched in zip(remote, threads.map(lambda s: _fetch(history, s), remote), strict=True):
                    if isinstance(fetched, Result):
                        add(fetched)
                    else:
                        futures.append(pool.submit(_worker_bytes, source.name, fetched))
        for future in as_completed(futures):
            add(future.result())
    return total


def _judge_here(source: Source, judging: Judging, history: S3History | None) -> Result:
    if source.s3 is None:
        return judge_file(source.name, judging)
    assert history is not None  # noqa: S101 - S3 sources come with their reader
    fetched = _fetch(history, source)
    return fetched if isinstance(fetched, Result) else judge_bytes(source.name, fetched, judging)


def _fetch(history: S3History, source: Source) -> bytes | Result:
    assert source.s3 is not None  # noqa: S101
    try:
        return history.read(source.s3)
    except Exception as exc:  # any client error: the object is a problem, the run goes on
        result = Result.empty()
        result.counts[FILES] += 1
        result.counts[MALFORMED_FILES] += 1
        result.problems.append(Problem(source.name, f"cannot read: {describe_error(exc)}"))
        return result


def judge_events(events: Iterable[Event], judging: Judging) -> Result:
    """Judge events already in memory (Athena results)."""
    scan = new_scan()
    scan.events.extend(events)
    return judge_scan(scan, judging)


def default_jobs() -> int:
    return os.cpu_count() or 1


def show_progress(requested: bool, stream: TextIO = sys.stderr) -> bool:
    """A progress bar when asked for, or when stderr is a terminal."""
    return requested or stream.isatty()
