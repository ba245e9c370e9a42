"""The pre-filter for an organisation's archive, run in Amazon Athena over its CloudTrail table.

Athena scans (and bills) only the date partitions named in the query, and
returns only the in-scope, non-read-only calls; those few rows are judged
locally like any other record. The table is the CloudTrail table Athena's
documentation and the CloudTrail console create (columns ``eventversion``,
``useridentity``, ... ``recipientaccountid``), ideally with partition
projection on a ``timestamp`` partition (``yyyy/MM/dd``): see the README.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, NamedTuple

from iamwarden.backtest.domain.records import (
    IN_SCOPE_NAMES,
    IN_SCOPE_SOURCES,
    RECORDS,
    DateRange,
    Event,
    Problem,
    Scan,
    new_scan,
    record_from_row,
    take,
)

#: On-demand Athena pricing: $5 per TB of data scanned (10 MB minimum per query).
DOLLARS_PER_TB = 5.0
COLUMNS = (
    "eventversion",
    "useridentity",
    "eventtime",
    "eventsource",
    "eventname",
    "awsregion",
    "sourceipaddress",
    "useragent",
    "errorcode",
    "errormessage",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "requestid",
    "eventid",
    "resources",
    "eventtype",
    "readonly",
    "recipientaccountid",
)
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")


class AthenaError(Exception):
    """The query could not be run or did not succeed."""


def _quoted(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise AthenaError(f"{what} {name!r} is not a plain Athena identifier (letters, digits, _)")
    return f'"{name}"'


def athena_sql(table: str, dates: DateRange, partition: str = "timestamp") -> str:
    """The pre-filter query: in-scope event names and sources, not read-only, only the days asked for.

    ``partition`` is the table's ``yyyy/MM/dd`` partition column (partition projection), so Athena reads only
    those days; with ``''`` the table is unpartitioned and only ``eventtime`` narrows it (Athena scans it all).
    """
    database, _, name = table.rpartition(".")
    source = f"{_quoted(database, 'database')}.{_quoted(name, 'table')}" if database else _quoted(name, "table")
    names = ", ".join(f"'{event}'" for event in IN_SCOPE_NAMES)
    sources = ", ".join(f"'{service}'" for service in IN_SCOPE_SOURCES)
    where = [f"eventname IN ({names})", f"eventsource IN ({sources})", "(readonly IS NULL OR readonly <> 'true')"]
    if dates.since is not None:
        if partition:
            where.append(f"{_quoted(partition, 'partition column')} >= '{dates.since:%Y/%m/%d}'")
        where.append(f"eventtime >= '{dates.since.isoformat()}T00:00:00Z'")
    if dates.until is not None:
        if partition:
            where.append(f"{_quoted(partition, 'partition column')} <= '{dates.until:%Y/%m/%d}'")
        where.append(f"eventtime < '{(dates.until + timedelta(days=1)).isoformat()}T00:00:00Z'")
    return f"SELECT {', '.join(COLUMNS)}\nFROM {source}\nWHERE " + "\n  AND ".join(where) + "\nORDER BY eventtime"


class AthenaQuery(NamedTuple):
    """A finished query: its id, the events to judge, the counts and problems, and what it scanned."""

    execution_id: str
    events: list[Event]
    counts: Counter[str]
    problems: list[Problem]
    scanned_bytes: int

    def describe_cost(self) -> str:
        dollars = max(self.scanned_bytes, 10 * 1024**2) / 1024**4 * DOLLARS_PER_TB
        return (
            f"scanned {self.scanned_bytes / 1024**3:,.2f} GB (about ${dollars:,.4f} at ${DOLLARS_PER_TB:g} per TB), "
            f"returned {self.counts[RECORDS]:,} rows"
        )


class AthenaHistory:
    """Runs the pre-filter query with one Athena client and reads its result pages."""

    def __init__(
        self,
        athena: Any,
        *,
        workgroup: str = "primary",
        output: str | None = None,
        poll_seconds: float = 1.0,
        timeout_seconds: float = 1800.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.athena = athena
        self.workgroup = workgroup
        self.output = output
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep

    def run(self, table: str, dates: DateRange, partition: str = "timestamp") -> AthenaQuery:
        sql = athena_sql(table, dates, partition)
        request: dict[str, Any] = {"QueryString": sql, "WorkGroup": self.workgroup}
        if self.output:
            request["ResultConfiguration"] = {"OutputLocation": self.output}
        try:
            execution_id = str(self.athena.start_query_execution(**request)["QueryExecutionId"])
        except Exception as exc:
            raise AthenaError(f"cannot start the Athena query: {exc}") from exc
        execution = self._wait(execution_id)
        scan = new_scan()
        for number, row in enumerate(self._rows(execution_id), 2):  # line 1 of the result is the header
            where = f"Athena query {execution_id}: row {number}"
            try:
                record = record_from_row(row)
            except ValueError as exc:
                scan.counts[RECORDS] += 1
                scan.problems.append(Problem(where, str(exc)))
                continue
            take(scan, where, record, dates)
        scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0))
        return _query(execution_id, scan, scanned)

    def _wait(self, execution_id: str) -> dict[str, Any]:
        waited = 0.0
        while True:
            execution: dict[str, Any] = self.athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            state = execution["Status"]["State"]
            if state == "SUCCEEDED":
                return execution
            if state in ("FAILED", "CANCELLED"):
                reason = execution["Status"].get("StateChangeReason") or state
                raise AthenaError(f"Athena query {execution_id} {state.lower()}: {reason}")
            if waited >= self.timeout_seconds:
                raise AthenaError(f"Athena query {execution_id} still {state} after {waited:.0f} s")
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds

    def _rows(self, execution_id: str) -> Iterator[dict[str, str | None]]:
        """Every result row as {column: text}; the header row (column names) is skipped."""
        paginator = self.athena.get_paginator("get_query_results")
        names: list[str] | None = None
        for page in paginator.paginate(QueryExecutionId=execution_id):
            result = page["ResultSet"]
            if names is None:
                names = [column["Name"] for column in result["ResultSetMetadata"]["ColumnInfo"]]
            for row in result["Rows"]:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                if values == names:
                    continue
                yield dict(zip(names, values, strict=False))


def _query(execution_id: str, scan: Scan, scanned: int) -> AthenaQuery:
    return AthenaQuery(execution_id, scan.events, scan.counts, scan.problems, scanned)
