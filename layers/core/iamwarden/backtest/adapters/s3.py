"""CloudTrail log files under an S3 prefix, listed only for the days asked for.

CloudTrail writes ``<prefix>/AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz``.
With a date range, the accounts and regions are found by listing with a
delimiter (common prefixes only, no objects), and then each day's prefix is
listed: no object outside the range is listed or read. Without a range,
everything under the given prefix is listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from iamwarden.backtest.domain.records import DateRange, Problem, iter_days

_ACCOUNT = re.compile(r"^\d{12}$")
_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
_DATE_PARTS = (re.compile(r"^\d{4}$"), re.compile(r"^\d{2}$"), re.compile(r"^\d{2}$"))
_KEY_DAY = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")
LOG_SUFFIXES = (".json.gz", ".json", ".gz", ".csv", ".jsonl")


class S3Object(NamedTuple):
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix); ``ValueError`` if it is not one."""
    if not url.startswith("s3://"):
        raise ValueError(f"{url}: not an s3:// URL")
    bucket, _, prefix = url[5:].partition("/")
    if not bucket:
        raise ValueError(f"{url}: names no bucket")
    return bucket, prefix


class S3History:
    """Lists and reads CloudTrail log files with one S3 client (ListObjectsV2 and GetObject only)."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def objects(self, url: str, dates: DateRange, problems: list[Problem]) -> Iterator[S3Object]:
        """The log files under ``url`` in ``dates``; a listing that fails is a problem, and the rest goes on."""
        bucket, prefix = parse_s3_url(url)
        if prefix and not prefix.endswith("/") and prefix.lower().endswith(LOG_SUFFIXES):
            yield S3Object(bucket, prefix)  # one object named directly: GetObject says if it is missing
            return
        try:
            for day_prefix in self.prefixes(bucket, prefix, dates):
                for key in self._keys(bucket, day_prefix):
                    if (
                        key.lower().endswith(LOG_SUFFIXES)
                        and "/CloudTrail-Digest/" not in key
                        and _in_range(key, dates)
                    ):
                        yield S3Object(bucket, key)
        except Exception as exc:
            problems.append(Problem(url, f"cannot list: {_describe(exc)}"))

    def prefixes(self, bucket: str, prefix: str, dates: DateRange) -> Iterator[str]:
        """The prefixes to list: one per day and region when the range is closed, else ``prefix`` itself."""
        if dates.since is None:
            yield prefix
            return
        closed = DateRange(dates.since, dates.until or datetime.now(UTC).date())
        yield from self._expand(bucket, prefix, closed)

    def _expand(self, bucket: str, prefix: str, dates: DateRange) -> Iterator[str]:
        parts = [part for part in prefix.split("/") if part]
        if "AWSLogs" not in parts:
            yield from self._expand(bucket, "/".join([*parts, "AWSLogs"]) + "/", dates)
            return
        after = parts[parts.index("AWSLogs") + 1 :]
        base = "/".join(parts) + "/"
        if not after or (len(after) == 1 and _ORG.match(after[0])):
            for child in self._children(bucket, base):
                name = child.rstrip("/").rsplit("/", 1)[-1]
                if _ACCOUNT.match(name) or _ORG.match(name):
                    yield from self._expand(bucket, child, dates)
            return
        account_at = 1 if _ORG.match(after[0]) else 0
        tail = after[account_at + 1 :]
        if not tail:
            yield from self._expand(bucket, base + "CloudTrail/", dates)
            return
        if tail[0] != "CloudTrail":
            return  # CloudTrail-Digest, CloudTrail-Insight: not log files of API calls
        if len(tail) == 1:
            for child in self._children(bucket, base):
                yield from self._expand(bucket, child, dates)
            return
        given = tail[2:]  # after the region: YYYY, MM, DD as far as given
        if len(given) > 3 or not all(pattern.match(part) for pattern, part in zip(_DATE_PARTS, given, strict=False)):
            return
        region_prefix = "/".join(parts[: len(parts) - len(given)]) + "/"
        for day in iter_days(dates):
            stamp = [f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"]
            if stamp[: len(given)] == given:
                yield region_prefix + "/".join(stamp) + "/"

    def _children(self, bucket: str, prefix: str) -> Iterator[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                yield common["Prefix"]

    def _keys(self, bucket: str, prefix: str) -> Iterator[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def read(self, item: S3Object) -> bytes:
        """The object's bytes; raises the client's error (the caller makes it a problem)."""
        body: bytes = self.s3.get_object(Bucket=item.bucket, Key=item.key)["Body"].read()
        return body


def _log_file(key: str) -> bool:
    return key.lower().endswith(LOG_SUFFIXES) and "/CloudTrail-Digest/" not in key


def _in_range(key: str, dates: DateRange) -> bool:
    match = _KEY_DAY.search(key)
    if match is None:
        return True
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return True
    return dates.contains_day(day.isoformat())


def _describe(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code = error.get("Code") or "error"
        if code in ("NoSuchKey", "404"):
            return "no such object (NoSuchKey): it was deleted, or the key is wrong"
        return f"{code}: {error.get('Message') or exc}"
    return str(exc) or type(exc).__name__


def describe_error(exc: BaseException) -> str:
    """One line for an S3 error, as problems show it."""
    return _describe(exc)
